/* Snapshot comparison for tests (support_snapshot_equal.h). */
#include "support_snapshot_equal.h"
#include "support_snapshot_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool str_eq(const char *a, const char *b) {
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool addr_eq(const struct kp_addr *a, const struct kp_addr *b) {
  size_t n = a->kind == KP_ADDR_IPV6 ? 16 : 4;
  return a->kind == b->kind && a->negated == b->negated &&
         (a->kind == KP_ADDR_ANY ||
          (a->prefix_len == b->prefix_len && memcmp(a->bytes, b->bytes, n) == 0));
}

static bool ports_eq(const struct kp_port_range *a, const struct kp_port_range *b) {
  return a->present == b->present &&
         (!a->present || (a->negated == b->negated && a->lo == b->lo && a->hi == b->hi));
}

const char *tse_rule_diff(const struct kp_rule *a, const struct kp_rule *b, bool counters) {
  if (!addr_eq(&a->src, &b->src) || !addr_eq(&a->dst, &b->dst))
    return "address";
  if (a->proto_present != b->proto_present || a->proto != b->proto ||
      a->proto_negated != b->proto_negated)
    return "proto";
  if (!str_eq(kp_rule_ext(a)->in_iface, kp_rule_ext(b)->in_iface) ||
      !str_eq(kp_rule_ext(a)->out_iface, kp_rule_ext(b)->out_iface))
    return "iface";
  if (!ports_eq(&kp_rule_ext(a)->sport, &kp_rule_ext(b)->sport) || !ports_eq(&a->dport, &b->dport))
    return "port";
  if (kp_rule_ext(a)->mark.present != kp_rule_ext(b)->mark.present ||
      kp_rule_ext(a)->mark.negated != kp_rule_ext(b)->mark.negated ||
      kp_rule_ext(a)->mark.value != kp_rule_ext(b)->mark.value ||
      kp_rule_ext(a)->mark.mask != kp_rule_ext(b)->mark.mask)
    return "mark";
  if (!str_eq(a->comment, b->comment))
    return "comment";
  if (!str_eq(kp_rule_ext(a)->src_type, kp_rule_ext(b)->src_type) ||
      !str_eq(kp_rule_ext(a)->dst_type, kp_rule_ext(b)->dst_type) ||
      kp_rule_ext(a)->src_type_negated != kp_rule_ext(b)->src_type_negated ||
      kp_rule_ext(a)->dst_type_negated != kp_rule_ext(b)->dst_type_negated)
    return "addrtype";
  if (!str_eq(kp_rule_ext(a)->match_set, kp_rule_ext(b)->match_set) ||
      !str_eq(kp_rule_ext(a)->match_set_flags, kp_rule_ext(b)->match_set_flags) ||
      kp_rule_ext(a)->match_set_negated != kp_rule_ext(b)->match_set_negated)
    return "match_set";
  if (!str_eq(kp_rule_ext(a)->ctstate, kp_rule_ext(b)->ctstate) ||
      !str_eq(a->probability, b->probability))
    return "ctstate/probability";
  if (a->target != b->target || !str_eq(a->target_name, b->target_name))
    return "target";
  if (!addr_eq(&a->nat_addr, &b->nat_addr) || !ports_eq(&a->nat_ports, &b->nat_ports) ||
      !str_eq(tsb_nat_text(a), tsb_nat_text(b)))
    return "nat";
  if (kp_rule_ext(a)->mark_target != kp_rule_ext(b)->mark_target ||
      kp_rule_ext(a)->xmark_value != kp_rule_ext(b)->xmark_value ||
      kp_rule_ext(a)->xmark_mask != kp_rule_ext(b)->xmark_mask ||
      a->random_fully != b->random_fully ||
      !str_eq(kp_rule_ext(a)->reject_with, kp_rule_ext(b)->reject_with))
    return "target options";
  if (kp_rule_ext(a)->n_vmap_chains != kp_rule_ext(b)->n_vmap_chains ||
      !str_eq(kp_rule_ext(a)->vmap_set, kp_rule_ext(b)->vmap_set))
    return "verdict map";
  for (size_t i = 0; i < kp_rule_ext(a)->n_vmap_chains; i++)
    if (!str_eq(kp_rule_ext(a)->vmap_chains[i], kp_rule_ext(b)->vmap_chains[i]))
      return "verdict map chain";
  if (kp_rule_ext(a)->text != NULL && kp_rule_ext(b)->text != NULL &&
      strcmp(kp_rule_ext(a)->text, kp_rule_ext(b)->text) != 0)
    return "text";
  if (counters &&
      (a->counters.present != b->counters.present || a->counters.packets != b->counters.packets ||
       a->counters.bytes != b->counters.bytes))
    return "counters";
  return NULL;
}

static int elem_cmp(const void *x, const void *y) {
  const struct kp_set_elem *a = *(const struct kp_set_elem *const *)x;
  const struct kp_set_elem *b = *(const struct kp_set_elem *const *)y;
  return strcmp(a->key, b->key);
}

static bool set_equal(const struct kp_set *a, const struct kp_set *b, char *out, size_t len) {
  if (strcmp(a->name, b->name) != 0 || !str_eq(a->type, b->type) || a->is_map != b->is_map ||
      a->elems.count != b->elems.count) {
    snprintf(out, len, "set %s (%s, %zu elements) vs %s (%s, %zu)", a->name, a->type,
             a->elems.count, b->name, b->type, b->elems.count);
    return false;
  }
  size_t n = a->elems.count;
  const struct kp_set_elem **ea = malloc((n + 1) * sizeof(*ea)),
                           **eb = malloc((n + 1) * sizeof(*eb));
  if (ea == NULL || eb == NULL)
    abort();
  if (n > 0) { /* an empty set's items may be NULL */
    memcpy(ea, a->elems.items, n * sizeof(*ea));
    memcpy(eb, b->elems.items, n * sizeof(*eb));
  }
  qsort(ea, n, sizeof(*ea), elem_cmp);
  qsort(eb, n, sizeof(*eb), elem_cmp);
  bool same = true;
  for (size_t i = 0; i < n && same; i++)
    if (strcmp(ea[i]->key, eb[i]->key) != 0 || !str_eq(ea[i]->verdict, eb[i]->verdict) ||
        !str_eq(ea[i]->chain, eb[i]->chain) || !str_eq(ea[i]->comment, eb[i]->comment)) {
      snprintf(out, len, "set %s element %s : %s %s vs %s : %s %s", a->name, ea[i]->key,
               ea[i]->verdict ? ea[i]->verdict : "-", ea[i]->chain ? ea[i]->chain : "-", eb[i]->key,
               eb[i]->verdict ? eb[i]->verdict : "-", eb[i]->chain ? eb[i]->chain : "-");
      same = false;
    }
  free(ea);
  free(eb);
  return same;
}

static bool chain_equal(const struct kp_table *t, const struct kp_chain *a,
                        const struct kp_chain *b, bool counters, char *out, size_t len) {
  if (strcmp(a->name, b->name) != 0 || a->builtin != b->builtin || a->declared != b->declared ||
      !str_eq(kp_chain_ext(a)->policy, kp_chain_ext(b)->policy) ||
      !str_eq(kp_chain_ext(a)->hook, kp_chain_ext(b)->hook) || a->rules.count != b->rules.count ||
      a->referrers.count != b->referrers.count || a->set_referrers != b->set_referrers) {
    snprintf(out, len,
             "%s: chain %s (%zu rules, %zu referrers, %zu from sets%s) vs %s (%zu, %zu, %zu%s)",
             t->name, a->name, a->rules.count, a->referrers.count, a->set_referrers,
             a->declared ? "" : ", undeclared", b->name, b->rules.count, b->referrers.count,
             b->set_referrers, b->declared ? "" : ", undeclared");
    return false;
  }
  for (size_t r = 0; r < a->rules.count; r++) {
    const struct kp_rule *ra = a->rules.items[r], *rb = b->rules.items[r];
    const char *field = tse_rule_diff(ra, rb, counters);
    if (field == NULL && ra->index != r)
      field = "index";
    if (field != NULL) {
      snprintf(out, len, "%s %s rule %zu: %s\n  %s\n  %s", t->name, a->name, r, field,
               kp_rule_ext(ra)->text ? kp_rule_ext(ra)->text : "?",
               kp_rule_ext(rb)->text ? kp_rule_ext(rb)->text : "?");
      return false;
    }
  }
  return true;
}

bool tse_snapshots_equal(const struct kp_snapshot *a, const struct kp_snapshot *b, bool counters,
                         char *out, size_t len) {
  if (a->tables.count != b->tables.count) {
    snprintf(out, len, "%zu vs %zu tables", a->tables.count, b->tables.count);
    return false;
  }
  for (size_t t = 0; t < a->tables.count; t++) {
    const struct kp_table *ta = a->tables.items[t], *tb = b->tables.items[t];
    if (ta->family != tb->family || ta->backend != tb->backend || strcmp(ta->name, tb->name) != 0 ||
        ta->native_nft != tb->native_nft || ta->chains.count != tb->chains.count ||
        ta->sets.count != tb->sets.count) {
      snprintf(out, len, "table #%zu: %s/%s (%zu chains, %zu sets) vs %s/%s (%zu, %zu)", t,
               kp_family_name(ta->family), ta->name, ta->chains.count, ta->sets.count,
               kp_family_name(tb->family), tb->name, tb->chains.count, tb->sets.count);
      for (size_t c = 0; c < ta->chains.count || c < tb->chains.count; c++) {
        const struct kp_chain *ca = c < ta->chains.count ? ta->chains.items[c] : NULL;
        const struct kp_chain *cb = c < tb->chains.count ? tb->chains.items[c] : NULL;
        if (ca == NULL || cb == NULL || strcmp(ca->name, cb->name) != 0) {
          size_t used = strlen(out);
          snprintf(out + used, len - used, "; first other chain #%zu: %s vs %s", c,
                   ca ? ca->name : "(none)", cb ? cb->name : "(none)");
          break;
        }
      }
      return false;
    }
    for (size_t c = 0; c < ta->chains.count; c++)
      if (!chain_equal(ta, ta->chains.items[c], tb->chains.items[c], counters, out, len))
        return false;
    for (size_t s = 0; s < ta->sets.count; s++)
      if (!set_equal(ta->sets.items[s], tb->sets.items[s], out, len))
        return false;
  }
  return true;
}
