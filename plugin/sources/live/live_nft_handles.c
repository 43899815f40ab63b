/* What the change follower (live_nft_follow.c) records of a kept table, a
 * leaf the full read and the follower both fill: handle -> object maps
 * (rule handles to the kept rules, chain handles to the kept chains;
 * nf_tables hands out handles from 1 per table, so 0 marks a free slot;
 * linear probing with backward-shift deletion, no tombstones) and the key
 * types and flags of the table's sets. */
#include "live_nft_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct kp_nft_handles *h, uint64_t key) {
  return (size_t)(key * 0x9E3779B97F4A7C15ull >> 17) & (h->capacity - 1);
}

static int grow(struct kp_nft_handles *h) {
  size_t capacity = h->capacity ? h->capacity * 2 : 256;
  struct kp_nft_handle_slot *old = h->slots;
  size_t old_capacity = h->capacity;
  h->slots = calloc(capacity, sizeof(*h->slots));
  if (h->slots == NULL) {
    h->slots = old;
    return errno = ENOMEM, -1;
  }
  h->capacity = capacity;
  h->count = 0;
  for (size_t i = 0; i < old_capacity; i++)
    if (old[i].key != 0)
      kp_nft_handles_put(h, old[i].key, old[i].value);
  free(old);
  return 0;
}

int kp_nft_handles_put(struct kp_nft_handles *h, uint64_t key, void *value) {
  if (key == 0)
    return errno = EINVAL, -1;
  if ((h->count + 1) * 2 > h->capacity && grow(h) != 0)
    return -1;
  size_t mask = h->capacity - 1, i = slot_of(h, key);
  while (h->slots[i].key != 0 && h->slots[i].key != key)
    i = (i + 1) & mask;
  if (h->slots[i].key == 0)
    h->count++;
  h->slots[i].key = key;
  h->slots[i].value = value;
  return 0;
}

static size_t find(const struct kp_nft_handles *h, uint64_t key) {
  if (h->capacity == 0 || key == 0)
    return SIZE_MAX;
  size_t mask = h->capacity - 1;
  for (size_t i = slot_of(h, key); h->slots[i].key != 0; i = (i + 1) & mask)
    if (h->slots[i].key == key)
      return i;
  return SIZE_MAX;
}

void *kp_nft_handles_get(const struct kp_nft_handles *h, uint64_t key) {
  size_t i = find(h, key);
  return i == SIZE_MAX ? NULL : h->slots[i].value;
}

void *kp_nft_handles_del(struct kp_nft_handles *h, uint64_t key) {
  size_t i = find(h, key);
  if (i == SIZE_MAX)
    return NULL;
  void *value = h->slots[i].value;
  size_t mask = h->capacity - 1;
  /* Shift back the entries of the run after i that may move into the hole. */
  for (size_t j = (i + 1) & mask; h->slots[j].key != 0; j = (j + 1) & mask) {
    size_t home = slot_of(h, h->slots[j].key);
    bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      h->slots[i] = h->slots[j];
      i = j;
    }
  }
  h->slots[i].key = 0;
  h->slots[i].value = NULL;
  h->count--;
  return value;
}

void kp_nft_handles_free(struct kp_nft_handles *h) {
  free(h->slots);
  *h = (struct kp_nft_handles){0};
}

/* ---- a kept table's sets ------------------------------------------------------ */

int kp_nft_ftable_add_set(struct kp_nft_ftable *ft, struct kp_set *set, uint32_t key_type,
                          uint32_t flags) {
  if (ft->n_sets == ft->cap_sets) {
    size_t cap = ft->cap_sets ? ft->cap_sets * 2 : 16;
    struct kp_nft_set_meta *sets = realloc(ft->sets, cap * sizeof(*sets));
    if (sets == NULL)
      return errno = ENOMEM, -1;
    ft->sets = sets;
    ft->cap_sets = cap;
  }
  ft->sets[ft->n_sets++] = (struct kp_nft_set_meta){set, key_type, flags};
  return 0;
}

struct kp_nft_set_meta *kp_nft_ftable_set(struct kp_nft_ftable *ft, const char *name) {
  for (size_t i = 0; i < ft->n_sets; i++)
    if (strcmp(ft->sets[i].set->name, name) == 0)
      return &ft->sets[i];
  return NULL;
}

void kp_nft_ftable_del_set(struct kp_nft_ftable *ft, struct kp_nft_set_meta *meta) {
  size_t i = (size_t)(meta - ft->sets);
  memmove(&ft->sets[i], &ft->sets[i + 1], (ft->n_sets - i - 1) * sizeof(*meta));
  ft->n_sets--;
}

void kp_nft_ftable_clear(struct kp_nft_ftable *ft) {
  kp_nft_handles_free(&ft->rules);
  kp_nft_handles_free(&ft->chains);
  free(ft->sets);
  *ft = (struct kp_nft_ftable){0};
}
