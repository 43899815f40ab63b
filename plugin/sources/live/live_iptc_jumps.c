/* libiptc's chain names by address: for a jump, iptc_get_target() returns
 * the very string iptc_first_chain() / iptc_next_chain() gave for that
 * chain (its name in libiptc's chain head), so a jump finds its chain by
 * pointer instead of a lookup by name (7 % of a read at 10k services).
 * Any other verdict ("ACCEPT", an extension's name) is not found. */
#include "live_iptc_jumps.h"

#include <stdint.h>
#include <stdlib.h>

static size_t jump_slot(const struct kp_iptc_jumps *map, const char *name) {
  return (size_t)(((uintptr_t)name >> 3) * 0x9E3779B97F4A7C15ULL >> 20) & map->mask;
}

/* libiptc allocates its chain heads in the kernel blob's order, which is
 * its list order but for the built-in chains: the names' addresses are
 * almost sorted, and an insertion sort of their positions (4 bytes each,
 * 160 KB at 10k services instead of a 1 MB hash map at the read's peak)
 * costs a few moves. Gives up past a budget of moves (another libiptc). */
static bool sort_positions(struct kp_iptc_jumps *map, const char **names, size_t n) {
  if (n > UINT32_MAX || (map->order = malloc(n * sizeof(*map->order))) == NULL)
    return false;
  size_t budget = 16 * n + 1024;
  for (size_t i = 0; i < n; i++) {
    uint32_t pos = (uint32_t)i;
    size_t j = i;
    for (; j > 0 && (uintptr_t)names[map->order[j - 1]] > (uintptr_t)names[pos]; j--) {
      if (budget-- == 0) {
        free(map->order);
        map->order = NULL;
        return false;
      }
      map->order[j] = map->order[j - 1];
    }
    map->order[j] = pos;
  }
  return true;
}

static bool hash_map(struct kp_iptc_jumps *map, const char **names, size_t n) {
  size_t size = 16;
  while (size * 3 < n * 4) /* at most 3/4 full */
    size *= 2;
  map->names = calloc(size, sizeof(*map->names));
  map->slots = calloc(size, sizeof(*map->slots));
  if (map->names == NULL || map->slots == NULL)
    return false;
  map->mask = size - 1;
  for (size_t i = 0; i < n; i++) {
    size_t slot = jump_slot(map, names[i]);
    while (map->names[slot] != NULL)
      slot = (slot + 1) & map->mask;
    map->names[slot] = names[i];
    map->slots[slot] = map->chains[i];
  }
  return true;
}

void kp_iptc_jumps_build(struct kp_iptc_jumps *map, const char **names, size_t n,
                         const struct kp_table *table) {
  *map = (struct kp_iptc_jumps){0};
  if (n == 0 || n != table->chains.count)
    return; /* a name came twice: no map, jumps are looked up by name */
  map->names_in_order = names;
  map->chains = (struct kp_chain **)table->chains.items;
  map->n = n;
  if (!sort_positions(map, names, n) && !hash_map(map, names, n))
    kp_iptc_jumps_free(map); /* no memory: looked up by name */
}

struct kp_chain *kp_iptc_jumps_find(const struct kp_iptc_jumps *map, const char *name) {
  if (map->order != NULL) {
    size_t lo = 0, hi = map->n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if ((uintptr_t)map->names_in_order[map->order[mid]] < (uintptr_t)name)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < map->n && map->names_in_order[map->order[lo]] == name)
      return map->chains[map->order[lo]];
    return NULL;
  }
  if (map->mask == 0)
    return NULL;
  for (size_t slot = jump_slot(map, name); map->names[slot] != NULL; slot = (slot + 1) & map->mask)
    if (map->names[slot] == name)
      return map->slots[slot];
  return NULL;
}

void kp_iptc_jumps_free(struct kp_iptc_jumps *map) {
  free(map->order);
  free(map->names);
  free(map->slots);
  *map = (struct kp_iptc_jumps){0};
}
