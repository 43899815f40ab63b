/* Private to the libiptc source: the table's own kernel copy
 * (IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES, what iptc_init starts with), read
 * to tell cheaply whether a table's rules changed since the last read, and
 * to refresh the counters of the kept tables when they did not.
 *
 * The structure hash covers every rule's bytes except its counters, chain
 * by chain (chain name, rules in order, policy), summed over the chains so
 * that libiptc's chain order (built-ins, then user chains by name) and the
 * kernel's give the same value: live_iptc.c computes it from libiptc's walk
 * (whose rule entries are the kernel's bytes), this file from the copy. */
#ifndef KP_LIVE_IPTC_BLOB_H
#define KP_LIVE_IPTC_BLOB_H

#include "kp/model.h"

#include <stddef.h>
#include <stdint.h>

/* One chain's share of the structure hash. */
struct kp_iptc_chain_hash {
  uint64_t h;
};
void kp_iptc_hash_chain(struct kp_iptc_chain_hash *ch, const char *name);
/* entry: a whole ipt_entry / ip6t_entry of len bytes (next_offset). */
void kp_iptc_hash_rule(struct kp_iptc_chain_hash *ch, enum kp_family family, const void *entry,
                       size_t len);
/* "ACCEPT", "DROP", ... of a built-in chain; NULL for a user chain. */
void kp_iptc_hash_policy(struct kp_iptc_chain_hash *ch, const char *policy);
/* The table's hash: the chains' shares summed (order does not matter). */
static inline void kp_iptc_hash_add(uint64_t *table, const struct kp_iptc_chain_hash *ch) {
  *table += ch->h;
}

/* The kernel's copy of one table. */
struct kp_iptc_blob {
  unsigned char *buf; /* entries */
  size_t size, capacity;
  unsigned valid_hooks;
  unsigned hook_entry[5], underflow[5];
};

/* Reads table into blob (its buffer reused across reads). 0, or -1 with
 * errno. */
int kp_iptc_blob_read(struct kp_iptc_blob *blob, enum kp_family family, const char *table);
void kp_iptc_blob_free(struct kp_iptc_blob *blob);
/* The structure hash of the copy. 0, or -1 when it does not parse. */
int kp_iptc_blob_hash(const struct kp_iptc_blob *blob, enum kp_family family, uint64_t *hash);
/* Copies the copy's counters into table's rules and policies, chain by
 * chain; -1 (table partly updated) when a chain or rule count differs. */
int kp_iptc_blob_counters(const struct kp_iptc_blob *blob, enum kp_family family,
                          struct kp_table *table);

#endif
