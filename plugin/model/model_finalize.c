/* kp_snapshot_finalize: jumps resolved to chains (undeclared ones made for
 * dangling jumps), referrers, the address index. */
#include "kp/model.h"
#include "model_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Chains by their name string's address: a decoded jump's target_name is
 * its chain's own name (a dump's may be a copy: looked up by name). Built
 * per table with malloc, after a live source freed its libiptc handle, so
 * the read's peak does not grow; the lookups by name were 5 % of a
 * legacy read at 10k services. Without memory, every lookup is by name. */
struct kp_chain_names {
  struct kp_chain **slots;
  size_t mask;
};

static size_t names_slot(const struct kp_chain_names *m, const char *name) {
  return (size_t)(((uintptr_t)name >> 3) * 0x9E3779B97F4A7C15ULL >> 32) & m->mask;
}

static void kp_chain_names_build(struct kp_chain_names *m, const struct kp_table *table) {
  size_t size = 16;
  while (size < 2 * table->chains.count)
    size *= 2;
  m->mask = 0;
  if ((m->slots = calloc(size, sizeof(*m->slots))) == NULL)
    return;
  m->mask = size - 1;
  for (size_t i = 0; i < table->chains.count; i++) {
    struct kp_chain *chain = table->chains.items[i];
    size_t slot = names_slot(m, chain->name);
    while (m->slots[slot] != NULL)
      slot = (slot + 1) & m->mask;
    m->slots[slot] = chain;
  }
}

static struct kp_chain *kp_chain_names_find(const struct kp_chain_names *m, const char *name) {
  if (m->slots == NULL)
    return NULL;
  for (size_t slot = names_slot(m, name); m->slots[slot] != NULL; slot = (slot + 1) & m->mask)
    if (m->slots[slot]->name == name)
      return m->slots[slot];
  return NULL;
}

static void kp_chain_names_free(struct kp_chain_names *m) {
  free(m->slots);
  m->slots = NULL;
}

/* The chain a jump names, created (declared=false) when the dump never
 * declared it, so dangling references stay visible to the checks. */
static struct kp_chain *jump_target(struct kp_snapshot *snap, struct kp_table *table,
                                    const char *name, struct kp_chain_names *names) {
  struct kp_chain *chain = kp_chain_names_find(names, name);
  if (chain != NULL)
    return chain;
  chain = kp_table_chain(table, name);
  if (chain == NULL && (chain = kp_table_add_chain(snap, table, name)) != NULL)
    chain->declared = false;
  return chain;
}

/* A named target that is not an extension: a chain of the table, or one
 * that looks like a chain (x_tables targets are upper-case and none starts
 * with KUBE-), so a jump to a chain the dump lacks is still a jump. */
static bool names_chain(const struct kp_table *table, const char *name) {
  if (kp_table_chain(table, name) != NULL || strncmp(name, "KUBE-", 5) == 0)
    return true;
  for (const char *p = name; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      return true;
  return false;
}

static int link_rule(struct kp_snapshot *snap, struct kp_table *table, struct kp_rule *rule,
                     struct kp_chain_names *names) {
  if (rule->target == KP_TARGET_OTHER && rule->target_name != NULL &&
      names_chain(table, rule->target_name))
    rule->target = KP_TARGET_JUMP;
  if (kp_rule_jumps(rule) && rule->target_name != NULL) {
    struct kp_chain *target = jump_target(snap, table, rule->target_name, names);
    if (target == NULL || kp_ptrvec_push(&snap->arena, &target->referrers, rule) != 0)
      return -1;
  }
  for (size_t i = 0; i < kp_rule_ext(rule)->n_vmap_chains; i++) {
    struct kp_chain *target = jump_target(snap, table, kp_rule_ext(rule)->vmap_chains[i], names);
    if (target == NULL || kp_ptrvec_push(&snap->arena, &target->referrers, rule) != 0)
      return -1;
  }
  const struct kp_addr *addrs[] = {&rule->src, &rule->dst, &rule->nat_addr};
  for (size_t i = 0; i < 3; i++) {
    const struct kp_addr *a = addrs[i];
    if (i < 2 && a->negated)
      continue;
    if (kp_addr_is_host(a) && kp_addr_index_add(&snap->arena, snap->addr_index, a, rule) != 0)
      return -1;
  }
  return 0;
}

static int link_sets(struct kp_snapshot *snap, struct kp_table *table,
                     struct kp_chain_names *names) {
  for (size_t s = 0; s < table->sets.count; s++) {
    struct kp_set *set = table->sets.items[s];
    for (size_t e = 0; e < set->elems.count; e++) {
      struct kp_set_elem *elem = set->elems.items[e];
      if (elem->chain == NULL)
        continue;
      struct kp_chain *target = jump_target(snap, table, elem->chain, names);
      if (target == NULL)
        return -1;
      target->set_referrers++;
    }
  }
  return 0;
}

int kp_snapshot_finalize(struct kp_snapshot *snap) {
  snap->addr_index = kp_addr_index_new(&snap->arena);
  if (snap->addr_index == NULL)
    return -1;
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      struct kp_chain *chain = table->chains.items[c];
      chain->referrers.count = 0;
      chain->set_referrers = 0;
    }
  }
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_table *table = snap->tables.items[t];
    /* Chains created for dangling jumps are appended while we walk; they
     * have no rules, so walking only the original ones is enough. */
    size_t n_chains = table->chains.count;
    struct kp_chain_names names;
    kp_chain_names_build(&names, table);
    for (size_t c = 0; c < n_chains; c++) {
      struct kp_chain *chain = table->chains.items[c];
      for (size_t r = 0; r < chain->rules.count; r++)
        if (link_rule(snap, table, chain->rules.items[r], &names) != 0)
          return kp_chain_names_free(&names), -1;
    }
    int rc = link_sets(snap, table, &names);
    kp_chain_names_free(&names);
    if (rc != 0)
      return -1;
  }
  snap->finalized = true;
  return 0;
}
