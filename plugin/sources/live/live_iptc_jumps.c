/* libiptc's chain names by address: for a jump, iptc_get_target() returns
 * the very string iptc_first_chain() / iptc_next_chain() gave for that
 * chain (its name in libiptc's chain head), so a jump finds its chain by
 * pointer instead of a lookup by name (7 % of a read at 10k services).
 * Any other verdict ("ACCEPT", an extension's name) is not found.
 *
 * The map holds positions in names[] (4 bytes a slot, at most 3/4 full:
 * 256 KB at 10k services, where a map of pointer pairs at half load was
 * 2 MB at the read's peak). */
#include "live_iptc_jumps.h"

#include <stdint.h>
#include <stdlib.h>

static size_t jump_slot(const struct kp_iptc_jumps *map, const char *name) {
  return (size_t)(((uintptr_t)name >> 3) * 0x9E3779B97F4A7C15ULL >> 32) & map->mask;
}

void kp_iptc_jumps_build(struct kp_iptc_jumps *map, const char **names, size_t n,
                         const struct kp_table *table) {
  *map = (struct kp_iptc_jumps){0};
  if (n == 0 || n != table->chains.count || n >= UINT32_MAX)
    return; /* a name came twice: no map, jumps are looked up by name */
  size_t size = 16;
  while (size * 3 < n * 4)
    size *= 2;
  if ((map->slots = calloc(size, sizeof(*map->slots))) == NULL)
    return; /* no memory: looked up by name */
  map->names = names;
  map->chains = (struct kp_chain **)table->chains.items;
  map->mask = size - 1;
  for (size_t i = 0; i < n; i++) {
    size_t slot = jump_slot(map, names[i]);
    while (map->slots[slot] != 0)
      slot = (slot + 1) & map->mask;
    map->slots[slot] = (uint32_t)(i + 1);
  }
}

struct kp_chain *kp_iptc_jumps_find(const struct kp_iptc_jumps *map, const char *name) {
  if (map->slots == NULL)
    return NULL;
  for (size_t slot = jump_slot(map, name); map->slots[slot] != 0; slot = (slot + 1) & map->mask) {
    size_t i = map->slots[slot] - 1;
    if (map->names[i] == name)
      return map->chains[i];
  }
  return NULL;
}

void kp_iptc_jumps_free(struct kp_iptc_jumps *map) {
  free(map->slots);
  *map = (struct kp_iptc_jumps){0};
}
