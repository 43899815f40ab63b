/* A growable list of borrowed strings, with de-duplication by hash. */
#include "checks_internal.h"

#include "kp/names.h"

#include <stdlib.h>
#include <string.h>

void kp_strlist_free(struct kp_strlist *list) {
  free(list->items);
  free(list->slots);
  memset(list, 0, sizeof(*list));
}

int kp_strlist_add(struct kp_strlist *list, const char *item) {
  if (list->count == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 16;
    const char **grown = realloc(list->items, cap * sizeof(*grown));
    if (grown == NULL)
      return -1;
    list->items = grown;
    list->capacity = cap;
  }
  list->items[list->count++] = item;
  return 0;
}

static size_t str_hash(const char *s) {
  return (size_t)kp_hash_bytes(s, strlen(s));
}

static int strlist_rehash(struct kp_strlist *list, size_t n_slots) {
  size_t *slots = calloc(n_slots, sizeof(*slots));
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < list->count; i++) {
    size_t s = str_hash(list->items[i]) & (n_slots - 1);
    while (slots[s] != 0)
      s = (s + 1) & (n_slots - 1);
    slots[s] = i + 1;
  }
  free(list->slots);
  list->slots = slots;
  list->n_slots = n_slots;
  return 0;
}

int kp_strlist_add_unique(struct kp_strlist *list, const char *item) {
  if ((list->count + 1) * 2 > list->n_slots &&
      strlist_rehash(list, list->n_slots ? list->n_slots * 2 : 32) != 0)
    return -1;
  size_t s = str_hash(item) & (list->n_slots - 1);
  while (list->slots[s] != 0) {
    if (strcmp(list->items[list->slots[s] - 1], item) == 0)
      return 0;
    s = (s + 1) & (list->n_slots - 1);
  }
  if (kp_strlist_add(list, item) != 0)
    return -1;
  list->slots[s] = list->count;
  return 0;
}
