/* After every dump file is in: one iptables table seen twice (through nft
 * text and through -L/save, or twice through the same kind of dump) is one
 * table; two tables that disagree stay, and the one that is not nft
 * becomes legacy so the `backends` check can report the split. */
#include "kp/dump.h"

#include <stdio.h>
#include <string.h>

static bool kube_chain(const struct kp_chain *chain) {
  return chain->declared && strncmp(chain->name, "KUBE-", 5) == 0;
}

static size_t chain_count(const struct kp_table *table, bool kube_only) {
  size_t n = 0;
  for (size_t i = 0; i < table->chains.count; i++) {
    const struct kp_chain *chain = table->chains.items[i];
    n += chain->declared && (!kube_only || kube_chain(chain));
  }
  return n;
}

/* Targets naming a chain compare by name: before finalize a -L jump is
 * still OTHER, and -L does not tell a goto from a jump. */
static bool same_target(const struct kp_rule *a, const struct kp_rule *b) {
  bool a_named =
      a->target == KP_TARGET_JUMP || a->target == KP_TARGET_GOTO || a->target == KP_TARGET_OTHER;
  bool b_named =
      b->target == KP_TARGET_JUMP || b->target == KP_TARGET_GOTO || b->target == KP_TARGET_OTHER;
  if (a_named || b_named)
    return a_named && b_named && a->target_name != NULL && b->target_name != NULL &&
           strcmp(a->target_name, b->target_name) == 0;
  return a->target == b->target;
}

/* Same KUBE-* chains (all chains when neither has any), each with the same
 * number of rules and the same target sequence. */
static bool same_copy(const struct kp_table *a, const struct kp_table *b) {
  bool kube_only = chain_count(a, true) > 0 || chain_count(b, true) > 0;
  if (chain_count(a, kube_only) != chain_count(b, kube_only))
    return false;
  for (size_t i = 0; i < a->chains.count; i++) {
    const struct kp_chain *ca = a->chains.items[i];
    if (!ca->declared || (kube_only && !kube_chain(ca)))
      continue;
    const struct kp_chain *cb = kp_table_chain(b, ca->name);
    if (cb == NULL || !cb->declared || cb->rules.count != ca->rules.count)
      return false;
    for (size_t r = 0; r < ca->rules.count; r++)
      if (!same_target(ca->rules.items[r], cb->rules.items[r]))
        return false;
  }
  return true;
}

/* Rules with counters (exact ones count more than "2675K") or comments:
 * what a copy adds beyond structure. */
static size_t information(const struct kp_table *table) {
  size_t score = 0;
  for (size_t i = 0; i < table->chains.count; i++) {
    const struct kp_chain *chain = table->chains.items[i];
    for (size_t r = 0; r < chain->rules.count; r++) {
      const struct kp_rule *rule = chain->rules.items[r];
      score += rule->counters.present +
               (rule->counters.present && kp_rule_ext(rule)->counter_texts.packets == NULL) +
               (rule->comment != NULL);
    }
  }
  return score;
}

/* nft does not print the xt comment match of iptables-nft rules: take the
 * comments from the other copy of the same rules. */
static void copy_comments(struct kp_table *to, const struct kp_table *from) {
  for (size_t i = 0; i < to->chains.count; i++) {
    struct kp_chain *chain = to->chains.items[i];
    const struct kp_chain *other = kp_table_chain(from, chain->name);
    if (other == NULL || other->rules.count != chain->rules.count)
      continue;
    for (size_t r = 0; r < chain->rules.count; r++) {
      struct kp_rule *rule = chain->rules.items[r];
      const struct kp_rule *twin = other->rules.items[r];
      if (rule->comment == NULL && twin->comment != NULL && same_target(rule, twin))
        rule->comment = twin->comment;
    }
  }
}

static size_t rule_count(const struct kp_table *table) {
  size_t n = 0;
  for (size_t i = 0; i < table->chains.count; i++)
    n += ((const struct kp_chain *)table->chains.items[i])->rules.count;
  return n;
}

static bool same_slot(const struct kp_table *a, const struct kp_table *b) {
  return a != b && a->family == b->family && strcmp(a->name, b->name) == 0;
}

static size_t first_rule_line(const struct kp_table *table) {
  size_t first = 0;
  for (size_t i = 0; i < table->chains.count; i++) {
    const struct kp_chain *chain = table->chains.items[i];
    for (size_t r = 0; r < chain->rules.count; r++) {
      size_t line = kp_rule_ext(chain->rules.items[r])->line;
      first = line > 0 && (first == 0 || line < first) ? line : first;
    }
  }
  return first;
}

/* One file holding the same table twice: two dumps pasted one after the
 * other (before and after a change, a pod's view then the host's). Judging
 * both at once mixes two states, so one is kept: the copy with kube-proxy's
 * chains, the later one when both (or neither) have them; a note names the
 * copy not judged. True when one was dropped. */
static bool drop_repeated_one(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    struct kp_table *a = snap->tables.items[i];
    for (size_t j = i + 1; j < snap->tables.count; j++) {
      struct kp_table *b = snap->tables.items[j];
      /* (an -L or -S listing does not say its backend: in one file next
       * to a save of the same table, it is that table again) */
      bool backend = a->backend == b->backend || a->backend == KP_BACKEND_UNKNOWN ||
                     b->backend == KP_BACKEND_UNKNOWN;
      if (!same_slot(a, b) || !backend || a->native_nft != b->native_nft || a->source == NULL ||
          b->source == NULL || strcmp(a->source, b->source) != 0)
        continue;
      bool kube_a = chain_count(a, true) > 0, kube_b = chain_count(b, true) > 0;
      struct kp_table *drop = kube_a && !kube_b ? b : a, *keep = drop == a ? b : a;
      /* "the file shows nat more than once; judged: the later copy, from
       * line 138" */
      char detail[200], from[48] = "";
      size_t kept_line = first_rule_line(keep);
      if (kept_line > 0)
        snprintf(from, sizeof(from), ", from line %zu", kept_line);
      snprintf(detail, sizeof(detail), "the file shows %s%s more than once; judged: %s%s",
               a->family == KP_FAMILY_IPV6 ? "ip6 " : "", a->name,
               kube_a != kube_b ? "the copy holding kube-proxy's chains" : "the later copy", from);
      if (kp_snapshot_add_note(snap, KP_NOTE_SKIPPED, drop->source, first_rule_line(drop),
                               drop->name, drop->family, detail) == NULL)
        return false;
      kp_snapshot_drop_table(snap, drop);
      return true;
    }
  }
  return false;
}

/* Same (family, name, backend) from two files. True when one was dropped. */
static bool dedupe_one(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    struct kp_table *a = snap->tables.items[i];
    for (size_t j = i + 1; j < snap->tables.count; j++) {
      struct kp_table *b = snap->tables.items[j];
      if (!same_slot(a, b) || a->backend != b->backend || a->native_nft != b->native_nft)
        continue;
      /* An empty listing (a table nothing uses in this family) never stands
       * in for a copy with rules. */
      size_t rules_a = rule_count(a), rules_b = rule_count(b);
      if ((rules_a == 0) != (rules_b == 0)) {
        kp_snapshot_drop_table(snap, rules_a == 0 ? a : b);
        return true;
      }
      /* Two unknown-backend copies that differ may be legacy and nft: keep both. */
      if (a->backend == KP_BACKEND_UNKNOWN && !same_copy(a, b))
        continue;
      bool keep_a = information(a) >= information(b);
      struct kp_table *keep = keep_a ? a : b, *drop = keep_a ? b : a;
      if (same_copy(a, b))
        copy_comments(keep, drop);
      kp_snapshot_drop_table(snap, drop);
      return true;
    }
  }
  return false;
}

/* An unknown-backend table against the nft copy of the same table. */
static bool resolve_one(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    struct kp_table *unknown = snap->tables.items[i];
    if (unknown->backend != KP_BACKEND_UNKNOWN)
      continue;
    for (size_t j = 0; j < snap->tables.count; j++) {
      struct kp_table *nft = snap->tables.items[j];
      if (!same_slot(unknown, nft) || nft->backend != KP_BACKEND_NFT || nft->native_nft)
        continue;
      if (same_copy(nft, unknown)) {
        copy_comments(nft, unknown);
        kp_snapshot_drop_table(snap, unknown);
      } else {
        unknown->backend = KP_BACKEND_LEGACY;
        snap->finalized = false;
      }
      return true;
    }
  }
  return false;
}

/* Two files that show the same table differently, neither saying its
 * backend (-L, -S, a save without nft's marks): both stay, since one may
 * be legacy's and the other nft's, but the checks judge one (kp_ctx_table
 * takes the first): the first copy holding kube-proxy's chains, else the
 * one read first. It is moved first; a note on each other copy names the
 * judged one and why. 0, or -1 on OOM. */
static bool unknown_copy(const struct kp_table *t) {
  return t->backend == KP_BACKEND_UNKNOWN && !t->native_nft;
}

/* A not-judged note on this copy already (kp_dump_reconcile run again). */
static bool noted(const struct kp_snapshot *snap, const struct kp_table *t) {
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *n = snap->notes.items[i];
    if (n->kind == KP_NOTE_NOT_JUDGED && n->family == t->family && n->source != NULL &&
        t->source != NULL && strcmp(n->source, t->source) == 0 && n->table != NULL &&
        strcmp(n->table, t->name) == 0)
      return true;
  }
  return false;
}

static int note_unjudged(struct kp_snapshot *snap) {
  void **items = snap->tables.items;
  for (size_t i = 0; i < snap->tables.count; i++) {
    bool first = unknown_copy(items[i]);
    for (size_t j = 0; first && j < i; j++)
      first = !(unknown_copy(items[j]) && same_slot(items[i], items[j]));
    if (!first)
      continue; /* (noted with the first copy of its slot) */
    size_t best = i;
    for (size_t k = i; k < snap->tables.count && chain_count(items[best], true) == 0; k++)
      if (unknown_copy(items[k]) && (k == i || same_slot(items[i], items[k])) &&
          chain_count(items[k], true) > 0)
        best = k;
    void *judged_item = items[best];
    items[best] = items[i];
    items[i] = judged_item;
    const struct kp_table *judged = judged_item;
    bool kube = chain_count(judged, true) > 0;
    for (size_t k = i + 1; k < snap->tables.count; k++) {
      const struct kp_table *other = items[k];
      if (!unknown_copy(other) || !same_slot(judged, other) || noted(snap, other))
        continue;
      char detail[320];
      snprintf(detail, sizeof(detail),
               "%s%s is also in %s, differently, and neither says its backend (legacy and "
               "nft, or two moments?); judged: the copy in %s, %s",
               judged->family == KP_FAMILY_IPV6 ? "ip6 " : "", judged->name,
               judged->source != NULL ? judged->source : "another file",
               judged->source != NULL ? judged->source : "the other file",
               kube && chain_count(other, true) == 0 ? "the one holding kube-proxy's chains"
                                                     : "the file read first");
      if (kp_snapshot_add_note(snap, KP_NOTE_NOT_JUDGED, other->source, first_rule_line(other),
                               other->name, other->family, detail) == NULL)
        return -1;
    }
  }
  return 0;
}

int kp_dump_reconcile(struct kp_snapshot *snap) {
  if (snap == NULL)
    return -1;
  while (drop_repeated_one(snap))
    ;
  while (dedupe_one(snap))
    ;
  while (resolve_one(snap))
    ;
  return note_unjudged(snap);
}
