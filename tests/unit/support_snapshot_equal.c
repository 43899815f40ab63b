/* Snapshot comparison for tests (support_snapshot_equal.h). */
#include "support_snapshot_equal.h"

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
  if (!str_eq(a->in_iface, b->in_iface) || !str_eq(a->out_iface, b->out_iface))
    return "iface";
  if (!ports_eq(&a->sport, &b->sport) || !ports_eq(&a->dport, &b->dport))
    return "port";
  if (a->mark.present != b->mark.present || a->mark.negated != b->mark.negated ||
      a->mark.value != b->mark.value || a->mark.mask != b->mark.mask)
    return "mark";
  if (!str_eq(a->comment, b->comment))
    return "comment";
  if (!str_eq(a->src_type, b->src_type) || !str_eq(a->dst_type, b->dst_type) ||
      a->src_type_negated != b->src_type_negated || a->dst_type_negated != b->dst_type_negated)
    return "addrtype";
  if (!str_eq(a->match_set, b->match_set) || !str_eq(a->match_set_flags, b->match_set_flags) ||
      a->match_set_negated != b->match_set_negated)
    return "match_set";
  if (!str_eq(a->ctstate, b->ctstate) || !str_eq(a->probability, b->probability))
    return "ctstate/probability";
  if (a->target != b->target || !str_eq(a->target_name, b->target_name))
    return "target";
  if (!addr_eq(&a->nat_addr, &b->nat_addr) || !ports_eq(&a->nat_ports, &b->nat_ports) ||
      !str_eq(a->nat_text, b->nat_text))
    return "nat";
  if (a->mark_target != b->mark_target || a->xmark_value != b->xmark_value ||
      a->xmark_mask != b->xmark_mask || a->random_fully != b->random_fully ||
      !str_eq(a->reject_with, b->reject_with))
    return "target options";
  if (a->n_vmap_chains != b->n_vmap_chains || !str_eq(a->vmap_set, b->vmap_set))
    return "verdict map";
  for (size_t i = 0; i < a->n_vmap_chains; i++)
    if (!str_eq(a->vmap_chains[i], b->vmap_chains[i]))
      return "verdict map chain";
  if (a->text != NULL && b->text != NULL && strcmp(a->text, b->text) != 0)
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
      !str_eq(a->policy, b->policy) || !str_eq(a->hook, b->hook) ||
      a->rules.count != b->rules.count || a->referrers.count != b->referrers.count ||
      a->set_referrers != b->set_referrers) {
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
               ra->text ? ra->text : "?", rb->text ? rb->text : "?");
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
