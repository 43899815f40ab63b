/* Deep copies of tables between snapshots (each snapshot owns its arena):
 * the nft reader's generation cache is made of these. */
#include "kp/model.h"

#include <string.h>

static const char *cp(struct kp_arena *arena, const char *s, int *rc) {
  if (s == NULL)
    return NULL;
  const char *out = kp_arena_strdup(arena, s);
  if (out == NULL)
    *rc = -1;
  return out;
}

static void cp_addr(struct kp_arena *arena, struct kp_addr *a, int *rc) {
  if (kp_addr_name(a) != NULL)
    kp_addr_set_name(a, cp(arena, kp_addr_name(a), rc));
}

/* The extension's strings and vectors, into dst's arena. */
static int copy_ext(struct kp_snapshot *dst, struct kp_rule *r, const struct kp_rule_ext *src) {
  struct kp_arena *a = &dst->arena;
  struct kp_rule_ext *x = kp_arena_alloc(a, sizeof(*x));
  if (x == NULL)
    return -1;
  *x = *src;
  r->ext = x;
  int rc = 0;
  x->counter_texts.packets = cp(a, src->counter_texts.packets, &rc);
  x->counter_texts.bytes = cp(a, src->counter_texts.bytes, &rc);
  x->in_iface = cp(a, src->in_iface, &rc);
  x->out_iface = cp(a, src->out_iface, &rc);
  x->src_type = cp(a, src->src_type, &rc);
  x->dst_type = cp(a, src->dst_type, &rc);
  x->match_set = cp(a, src->match_set, &rc);
  x->match_set_flags = cp(a, src->match_set_flags, &rc);
  x->ctstate = cp(a, src->ctstate, &rc);
  x->nat_text = cp(a, src->nat_text, &rc);
  x->reject_with = cp(a, src->reject_with, &rc);
  x->vmap_set = cp(a, src->vmap_set, &rc);
  x->text = cp(a, src->text, &rc);
  x->source = NULL; /* the copy's table's, as for every copied rule */
  x->vmap_chains = NULL;
  x->n_vmap_chains = 0;
  for (size_t i = 0; i < src->n_vmap_chains && rc == 0; i++)
    rc = kp_rule_add_vmap_chain(dst, r, src->vmap_chains[i]);
  return rc;
}

static int copy_rule(struct kp_snapshot *dst, struct kp_chain *chain, const struct kp_rule *src,
                     bool keep_counters) {
  struct kp_rule *r = kp_chain_add_rule(dst, chain);
  if (r == NULL)
    return -1;
  uint32_t index = r->index;
  *r = *src;
  r->chain = chain;
  r->index = index;
  r->ext = NULL;
  struct kp_arena *a = &dst->arena;
  int rc = 0;
  if (!keep_counters)
    memset(&r->counters, 0, sizeof(r->counters));
  cp_addr(a, &r->src, &rc);
  cp_addr(a, &r->dst, &rc);
  cp_addr(a, &r->nat_addr, &rc);
  r->comment = cp(a, r->comment, &rc);
  r->probability = cp(a, r->probability, &rc);
  const struct kp_chain *target = kp_rule_jumps(src) && src->target_name
                                      ? kp_table_chain(chain->table, src->target_name)
                                      : NULL;
  r->target_name = target != NULL ? target->name : cp(a, r->target_name, &rc);
  if (rc == 0 && src->ext != NULL)
    rc = copy_ext(dst, r, src->ext);
  if (rc == 0 && !keep_counters && r->ext != NULL)
    r->ext->counter_texts = (struct kp_counter_texts){NULL, NULL};
  return rc;
}

static int copy_set(struct kp_snapshot *dst, struct kp_table *table, const struct kp_set *src) {
  struct kp_set *set = kp_table_add_set(dst, table, src->name);
  if (set == NULL)
    return -1;
  int rc = 0;
  set->type = cp(&dst->arena, src->type, &rc);
  set->is_map = src->is_map;
  for (size_t i = 0; i < src->elems.count && rc == 0; i++) {
    const struct kp_set_elem *se = src->elems.items[i];
    struct kp_set_elem *el = kp_set_add_elem(dst, set);
    if (el == NULL)
      return -1;
    el->key = cp(&dst->arena, se->key, &rc);
    el->verdict = cp(&dst->arena, se->verdict, &rc);
    el->chain = cp(&dst->arena, se->chain, &rc);
    el->comment = cp(&dst->arena, se->comment, &rc);
  }
  return rc;
}

int kp_snapshot_copy_table(struct kp_snapshot *dst, const struct kp_table *st,
                           bool (*keep_counters)(const struct kp_table *table,
                                                 const struct kp_chain *chain)) {
  struct kp_table *table = kp_snapshot_table(dst, st->family, st->backend, st->name, true);
  if (table == NULL)
    return -1;
  int rc = 0;
  table->native_nft = st->native_nft;
  table->source = cp(&dst->arena, st->source, &rc);
  for (size_t c = 0; c < st->chains.count && rc == 0; c++) {
    const struct kp_chain *sc = st->chains.items[c];
    struct kp_chain *chain = kp_table_add_chain(dst, table, sc->name);
    if (chain == NULL)
      return -1;
    chain->builtin = sc->builtin;
    chain->declared = sc->declared;
    chain->dump_references = sc->dump_references;
    if (sc->ext == NULL)
      continue;
    struct kp_chain_ext *x = kp_chain_ext_mut(dst, chain);
    if (x == NULL)
      return -1;
    x->hook = cp(&dst->arena, sc->ext->hook, &rc);
    x->policy = cp(&dst->arena, sc->ext->policy, &rc);
    x->policy_counters = sc->ext->policy_counters;
    x->policy_counter_texts.packets = cp(&dst->arena, sc->ext->policy_counter_texts.packets, &rc);
    x->policy_counter_texts.bytes = cp(&dst->arena, sc->ext->policy_counter_texts.bytes, &rc);
  }
  for (size_t c = 0; c < st->chains.count && rc == 0; c++) {
    const struct kp_chain *sc = st->chains.items[c];
    struct kp_chain *chain = kp_table_chain(table, sc->name);
    bool keep = keep_counters == NULL || keep_counters(table, chain);
    for (size_t r = 0; r < sc->rules.count; r++)
      if (copy_rule(dst, chain, sc->rules.items[r], keep) != 0)
        return -1;
  }
  for (size_t s = 0; s < st->sets.count && rc == 0; s++)
    if (copy_set(dst, table, st->sets.items[s]) != 0)
      return -1;
  return rc;
}
