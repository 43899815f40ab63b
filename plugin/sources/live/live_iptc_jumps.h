/* From libiptc's chain name pointers to the table's chains, for the jumps
 * of one libiptc walk (live_iptc_jumps.c). */
#ifndef KP_LIVE_IPTC_JUMPS_H
#define KP_LIVE_IPTC_JUMPS_H

#include "kp/model.h"

#include <stddef.h>
#include <stdint.h>

struct kp_iptc_jumps {
  const char **names;       /* the caller's names[] */
  struct kp_chain **chains; /* the table's, in names[] order */
  uint32_t *slots;          /* 1 + a position in names[]; 0 empty. NULL: no map */
  size_t mask;
};

/* names[i] (libiptc's, in the order the chains were added, kept by the
 * caller while the map is used) to table's chains[i]. */
void kp_iptc_jumps_build(struct kp_iptc_jumps *map, const char **names, size_t n,
                         const struct kp_table *table);
/* The chain whose libiptc name is this very pointer, or NULL. */
struct kp_chain *kp_iptc_jumps_find(const struct kp_iptc_jumps *map, const char *name);
void kp_iptc_jumps_free(struct kp_iptc_jumps *map);

#endif
