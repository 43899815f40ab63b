/* Snapshot construction, lookups and the indexes the checks rely on. */
#include "kp/model.h"
#include "kp/names.h"
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string-keyed chain index (open addressing, arena-backed) ---------- */

struct kp_chain_index {
  size_t capacity; /* power of two */
  size_t count;
  struct kp_chain **slots;
};

static int chain_index_insert(struct kp_arena *arena, struct kp_chain_index *index,
                              struct kp_chain *chain);

/* At most 3/4 full: a live nat table has 40k chains at 10k services, and
 * every slot is 8 bytes of the read's peak. */
static bool chain_index_full(const struct kp_chain_index *index, size_t count) {
  return count * 4 > index->capacity * 3;
}

static int chain_index_grow(struct kp_arena *arena, struct kp_chain_index *index, size_t capacity) {
  struct kp_chain **old = index->slots;
  size_t old_capacity = index->capacity;
  index->slots = kp_arena_alloc(arena, capacity * sizeof(*index->slots));
  if (index->slots == NULL) {
    index->slots = old;
    return -1;
  }
  index->capacity = capacity;
  index->count = 0;
  for (size_t i = 0; i < old_capacity; i++)
    if (old[i] != NULL)
      chain_index_insert(arena, index, old[i]);
  return 0;
}

static int chain_index_insert(struct kp_arena *arena, struct kp_chain_index *index,
                              struct kp_chain *chain) {
  if (chain_index_full(index, index->count + 1) &&
      chain_index_grow(arena, index, index->capacity ? index->capacity * 2 : 64) != 0)
    return -1;
  size_t mask = index->capacity - 1;
  size_t slot = kp_hash_bytes(chain->name, strlen(chain->name)) & mask;
  while (index->slots[slot] != NULL)
    slot = (slot + 1) & mask;
  index->slots[slot] = chain;
  index->count++;
  return 0;
}

struct kp_chain *kp_table_chain(const struct kp_table *table, const char *name) {
  const struct kp_chain_index *index = table->index;
  if (index == NULL || index->capacity == 0 || name == NULL)
    return NULL;
  size_t mask = index->capacity - 1;
  size_t slot = kp_hash_bytes(name, strlen(name)) & mask;
  while (index->slots[slot] != NULL) {
    if (strcmp(index->slots[slot]->name, name) == 0)
      return index->slots[slot];
    slot = (slot + 1) & mask;
  }
  return NULL;
}

/* ---- address index: single host address -> rules naming it ------------- */

struct addr_entry {
  uint8_t kind;
  uint8_t bytes[16];
  struct kp_ptrvec rules;
};

struct kp_addr_index {
  size_t capacity;
  size_t count;
  struct addr_entry **slots;
};

static const struct kp_ptrvec empty_rules;

static size_t addr_len(uint8_t kind) {
  return kind == KP_ADDR_IPV6 ? 16 : 4;
}

static uint64_t addr_hash(uint8_t kind, const uint8_t *bytes) {
  return kp_hash_bytes(bytes, addr_len(kind)) ^ kind;
}

static struct addr_entry **addr_slot(struct kp_addr_index *index, uint8_t kind,
                                     const uint8_t *bytes) {
  size_t mask = index->capacity - 1;
  size_t slot = addr_hash(kind, bytes) & mask;
  while (index->slots[slot] != NULL) {
    struct addr_entry *e = index->slots[slot];
    if (e->kind == kind && memcmp(e->bytes, bytes, addr_len(kind)) == 0)
      break;
    slot = (slot + 1) & mask;
  }
  return &index->slots[slot];
}

static int addr_index_grow(struct kp_arena *arena, struct kp_addr_index *index) {
  size_t capacity = index->capacity ? index->capacity * 2 : 256;
  struct addr_entry **old = index->slots;
  size_t old_capacity = index->capacity;
  struct addr_entry **slots = kp_arena_alloc(arena, capacity * sizeof(*slots));
  if (slots == NULL)
    return -1;
  index->slots = slots;
  index->capacity = capacity;
  for (size_t i = 0; i < old_capacity; i++)
    if (old[i] != NULL)
      *addr_slot(index, old[i]->kind, old[i]->bytes) = old[i];
  return 0;
}

struct kp_addr_index *kp_addr_index_new(struct kp_arena *arena) {
  return kp_arena_alloc(arena, sizeof(struct kp_addr_index));
}

int kp_addr_index_add(struct kp_arena *arena, struct kp_addr_index *index,
                      const struct kp_addr *addr, struct kp_rule *rule) {
  if ((index->count + 1) * 2 > index->capacity && addr_index_grow(arena, index) != 0)
    return -1;
  struct addr_entry **slot = addr_slot(index, addr->kind, addr->bytes);
  if (*slot == NULL) {
    struct addr_entry *entry = kp_arena_alloc(arena, sizeof(*entry));
    if (entry == NULL)
      return -1;
    entry->kind = addr->kind;
    memcpy(entry->bytes, addr->bytes, addr_len(addr->kind));
    *slot = entry;
    index->count++;
  }
  struct kp_ptrvec *rules = &(*slot)->rules;
  /* A rule naming the address twice (-s X ... DNAT to X) is listed once. */
  if (rules->count && rules->items[rules->count - 1] == rule)
    return 0;
  return kp_ptrvec_push(arena, rules, rule);
}

const struct kp_ptrvec *kp_snapshot_rules_for_addr(const struct kp_snapshot *snap,
                                                   const struct kp_addr *host) {
  struct kp_addr_index *index = snap->addr_index;
  if (index == NULL || index->capacity == 0 || !kp_addr_is_host(host))
    return &empty_rules;
  struct addr_entry **slot = addr_slot(index, host->kind, host->bytes);
  return *slot ? &(*slot)->rules : &empty_rules;
}

/* ---- names --------------------------------------------------------------- */

const char *kp_family_name(enum kp_family family) {
  return family == KP_FAMILY_IPV6 ? "ipv6" : "ipv4";
}

const char *kp_backend_name(enum kp_backend backend) {
  switch (backend) {
  case KP_BACKEND_LEGACY:
    return "legacy";
  case KP_BACKEND_NFT:
    return "nft";
  default:
    return "unknown";
  }
}

enum kp_target_kind kp_target_kind_from_name(const char *name) {
  static const struct {
    const char *name;
    enum kp_target_kind kind;
  } known[] = {
      {"ACCEPT", KP_TARGET_ACCEPT},         {"DROP", KP_TARGET_DROP}, {"RETURN", KP_TARGET_RETURN},
      {"REJECT", KP_TARGET_REJECT},         {"DNAT", KP_TARGET_DNAT}, {"SNAT", KP_TARGET_SNAT},
      {"MASQUERADE", KP_TARGET_MASQUERADE}, {"MARK", KP_TARGET_MARK},
  };
  if (name == NULL || name[0] == '\0')
    return KP_TARGET_NONE;
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strcmp(name, known[i].name) == 0)
      return known[i].kind;
  return KP_TARGET_OTHER;
}

bool kp_rule_jumps(const struct kp_rule *rule) {
  return rule->target == KP_TARGET_JUMP || rule->target == KP_TARGET_GOTO;
}

/* ---- snapshot ------------------------------------------------------------ */

static bool same_source(const char *a, const char *b) {
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct kp_table *find_table(struct kp_snapshot *snap, enum kp_family family,
                                   enum kp_backend backend, const char *name, bool any_source,
                                   const char *source) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    struct kp_table *table = snap->tables.items[i];
    if (table->family == family && table->backend == backend && strcmp(table->name, name) == 0 &&
        (any_source || same_source(table->source, source)))
      return table;
  }
  return NULL;
}

static struct kp_table *new_table(struct kp_snapshot *snap, enum kp_family family,
                                  enum kp_backend backend, const char *name) {
  struct kp_table *table = kp_arena_alloc(&snap->arena, sizeof(*table));
  if (table == NULL)
    return NULL;
  table->family = family;
  table->backend = backend;
  table->name = kp_arena_strdup(&snap->arena, name);
  table->index = kp_arena_alloc(&snap->arena, sizeof(*table->index));
  if (table->name == NULL || table->index == NULL ||
      kp_ptrvec_push(&snap->arena, &snap->tables, table) != 0)
    return NULL;
  snap->finalized = false;
  return table;
}

struct kp_table *kp_snapshot_table(struct kp_snapshot *snap, enum kp_family family,
                                   enum kp_backend backend, const char *name, bool create) {
  struct kp_table *table = find_table(snap, family, backend, name, true, NULL);
  if (table == NULL && create)
    table = new_table(snap, family, backend, name);
  return table;
}

struct kp_table *kp_snapshot_source_table(struct kp_snapshot *snap, enum kp_family family,
                                          enum kp_backend backend, const char *name,
                                          const char *source) {
  struct kp_table *table = find_table(snap, family, backend, name, false, source);
  if (table == NULL && (table = new_table(snap, family, backend, name)) != NULL)
    table->source = source;
  return table;
}

void kp_snapshot_drop_table(struct kp_snapshot *snap, struct kp_table *table) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    if (snap->tables.items[i] != table)
      continue;
    memmove(&snap->tables.items[i], &snap->tables.items[i + 1],
            (snap->tables.count - i - 1) * sizeof(void *));
    snap->tables.count--;
    snap->finalized = false;
    return;
  }
}

struct kp_chain *kp_table_add_chain(struct kp_snapshot *snap, struct kp_table *table,
                                    const char *name) {
  struct kp_chain *chain = kp_table_chain(table, name);
  if (chain != NULL)
    return chain;
  chain = kp_arena_alloc(&snap->arena, sizeof(*chain));
  if (chain == NULL)
    return NULL;
  chain->name = kp_arena_strdup(&snap->arena, name);
  chain->table = table;
  chain->declared = true;
  chain->dump_references = -1;
  if (chain->name == NULL || kp_ptrvec_push(&snap->arena, &table->chains, chain) != 0 ||
      chain_index_insert(&snap->arena, table->index, chain) != 0)
    return NULL;
  return chain;
}

int kp_table_reserve_chains(struct kp_snapshot *snap, struct kp_table *table, size_t count) {
  size_t capacity = table->index->capacity ? table->index->capacity : 64;
  while (chain_index_full(&(struct kp_chain_index){capacity, 0, NULL}, count))
    capacity *= 2;
  if (capacity > table->index->capacity &&
      chain_index_grow(&snap->arena, table->index, capacity) != 0)
    return -1;
  return kp_ptrvec_reserve(&snap->arena, &table->chains, count);
}

struct kp_rule *kp_chain_add_rule(struct kp_snapshot *snap, struct kp_chain *chain) {
  struct kp_rule *rule = kp_arena_alloc(&snap->arena, sizeof(*rule));
  if (rule == NULL)
    return NULL;
  rule->chain = chain;
  rule->index = (uint32_t)chain->rules.count;
  if (kp_ptrvec_push(&snap->arena, &chain->rules, rule) != 0)
    return NULL;
  return rule;
}

struct kp_set *kp_table_set(const struct kp_table *table, const char *name) {
  for (size_t i = 0; i < table->sets.count; i++) {
    struct kp_set *set = table->sets.items[i];
    if (strcmp(set->name, name) == 0)
      return set;
  }
  return NULL;
}

struct kp_set *kp_table_add_set(struct kp_snapshot *snap, struct kp_table *table,
                                const char *name) {
  struct kp_set *set = kp_table_set(table, name);
  if (set != NULL)
    return set;
  set = kp_arena_alloc(&snap->arena, sizeof(*set));
  if (set == NULL)
    return NULL;
  set->name = kp_arena_strdup(&snap->arena, name);
  set->table = table;
  if (set->name == NULL || kp_ptrvec_push(&snap->arena, &table->sets, set) != 0)
    return NULL;
  return set;
}

struct kp_set_elem *kp_set_add_elem(struct kp_snapshot *snap, struct kp_set *set) {
  struct kp_set_elem *elem = kp_arena_alloc(&snap->arena, sizeof(*elem));
  if (elem == NULL || kp_ptrvec_push(&snap->arena, &set->elems, elem) != 0)
    return NULL;
  return elem;
}

int kp_rule_add_vmap_chain(struct kp_snapshot *snap, struct kp_rule *rule, const char *chain) {
  struct kp_rule_ext *ext = kp_rule_ext_mut(snap, rule);
  if (ext == NULL)
    return -1;
  const char **chains = kp_arena_alloc(&snap->arena, (ext->n_vmap_chains + 1) * sizeof(char *));
  const char *copy = kp_arena_strdup(&snap->arena, chain);
  if (chains == NULL || copy == NULL)
    return -1;
  if (ext->n_vmap_chains)
    memcpy(chains, ext->vmap_chains, ext->n_vmap_chains * sizeof(char *));
  chains[ext->n_vmap_chains++] = copy;
  ext->vmap_chains = chains;
  return 0;
}

/* ---- queries ------------------------------------------------------------- */

struct kp_chain *kp_snapshot_chain(const struct kp_snapshot *snap, enum kp_family family,
                                   enum kp_backend backend, const char *table_name,
                                   const char *chain_name) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *table = snap->tables.items[i];
    if (table->family != family || strcmp(table->name, table_name) != 0)
      continue;
    if (backend != KP_BACKEND_COUNT && table->backend != backend)
      continue;
    struct kp_chain *chain = kp_table_chain(table, chain_name);
    if (chain != NULL)
      return chain;
  }
  return NULL;
}

size_t kp_snapshot_rule_count(const struct kp_snapshot *snap) {
  size_t n = 0;
  for (size_t t = 0; t < snap->tables.count; t++) {
    const struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++)
      n += ((const struct kp_chain *)table->chains.items[c])->rules.count;
  }
  return n;
}

size_t kp_snapshot_chain_count(const struct kp_snapshot *snap) {
  size_t n = 0;
  for (size_t t = 0; t < snap->tables.count; t++) {
    const struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++)
      n += ((const struct kp_chain *)table->chains.items[c])->declared ? 1 : 0;
  }
  return n;
}

void kp_counter_format(uint64_t value, const char *text, char *buf, size_t len) {
  if (text != NULL)
    snprintf(buf, len, "%s", text);
  else
    snprintf(buf, len, "%llu", (unsigned long long)value);
}
