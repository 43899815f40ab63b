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

#include <stdbool.h>
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

/* What a walk of the copy meets, in the kernel's order: each chain's
 * start (its ERROR entry for a user chain, its hook entry for a built-in),
 * its rules, and its end (policy name and counters for a built-in, NULL
 * for a user chain; offset: the policy entry, or a user chain's RETURN
 * tail). Offsets are from the first entry. A callback returning non-zero
 * stops the walk. */
struct kp_iptc_visitor {
  int (*chain_start)(void *arg, const char *name, bool builtin, size_t offset);
  int (*rule)(void *arg, const unsigned char *entry, size_t len, size_t offset);
  int (*chain_end)(void *arg, const char *policy, const struct kp_counters *c, size_t offset);
  void *arg;
};
/* 0 at the table's end marker; -1 when the copy does not parse the way
 * libiptc parses it (or a callback failed). */
int kp_iptc_blob_walk(const struct kp_iptc_blob *blob, enum kp_family family,
                      const struct kp_iptc_visitor *v);
/* "ACCEPT", "DROP", "QUEUE", "RETURN" for a standard verdict below 0
 * (libiptc's names), NULL for any other value. */
const char *kp_iptc_verdict_name(int verdict);

/* Reads table into blob (its buffer, mmap'ed, reused across reads and
 * grown when too small; kp_iptc_blob_free unmaps it). 0, or -1 with
 * errno. */
int kp_iptc_blob_read(struct kp_iptc_blob *blob, enum kp_family family, const char *table);
void kp_iptc_blob_free(struct kp_iptc_blob *blob);
/* The structure hash of the copy. 0, or -1 when it does not parse. */
int kp_iptc_blob_hash(const struct kp_iptc_blob *blob, enum kp_family family, uint64_t *hash);
/* Copies the copy's counters into table's rules and policies, chain by
 * chain; -1 (table partly updated) when a chain or rule count differs. */
int kp_iptc_blob_counters(const struct kp_iptc_blob *blob, enum kp_family family,
                          struct kp_table *table);

/* ---- decoding: live_iptc.c's rule decoder, shared with the copy's ---- */

struct kp_xt_ctx;
/* The table name of family, empty, replacing any snap had (source
 * "kernel"). NULL on OOM. */
struct kp_table *kp_iptc_new_table(struct kp_snapshot *snap, enum kp_family family,
                                   const char *name);
/* A built-in chain's policy ("ACCEPT", ...; NULL: none) and counters. 0 / -1 OOM. */
int kp_iptc_set_policy(struct kp_snapshot *snap, struct kp_chain *chain, const char *policy,
                       uint64_t packets, uint64_t bytes);
/* Appends entry (an ipt_entry / ip6t_entry of ctx's family) to chain,
 * decoded; verdict as iptc_get_target() names it ("" for no target), jump
 * the table's chain of that name when the caller knows it (else NULL).
 * 0 / -1 OOM. */
int kp_iptc_add_rule(struct kp_xt_ctx *ctx, struct kp_chain *chain, const void *entry,
                     const char *verdict, struct kp_chain *jump);

/* live_iptc_blob_decode.c: the copy decoded into snap's table of that name
 * (replacing it), chains in libiptc's order, each rule as libiptc's walk
 * hands it over. 0; -1 with errno ENOMEM when out of memory, EINVAL when
 * the copy does not parse the way libiptc parses it (snap then has no such
 * table). */
int kp_iptc_blob_decode(const struct kp_iptc_blob *blob, enum kp_family family, const char *name,
                        struct kp_snapshot *snap);

#endif
