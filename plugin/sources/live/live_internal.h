/* Private to the live sources (plugin/sources/live): the per-backend table
 * readers and the namespace thread kp_live_read is built from. */
#ifndef KP_LIVE_INTERNAL_H
#define KP_LIVE_INTERNAL_H

#include "kp/live.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* live_error.c: fills err (when not NULL) with fault, err_no and the
 * message; returns -1 so that a failing path can `return kp_live_fail(...)`.
 * Out of memory is KP_LIVE_OTHER with ENOMEM. */
int kp_live_fail(struct kp_live_error *err, enum kp_live_fault fault, int err_no, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

/* libiptc (iptables-legacy): one iptc_init per table; family IPv4 or IPv6.
 * A table that does not exist returns -1 with KP_LIVE_NO_TABLE. */
int kp_iptc_read_table(struct kp_snapshot *snap, enum kp_family family, const char *table,
                       struct kp_live_error *err);
/* The same, and the table's structure hash (live_iptc_blob.h) into *hash. */
int kp_iptc_read_table_hash(struct kp_snapshot *snap, enum kp_family family, const char *table,
                            struct kp_live_error *err, uint64_t *hash);

/* live_iptc_cache.c: one legacy table kept between reads (a snapshot of
 * its own, lent to each read's snapshot) and its structure hash. */
struct kp_iptc_cache {
  struct kp_snapshot *owner; /* NULL: nothing kept; holds the one table */
  uint64_t hash;
  bool rule_text;
};
/* Like kp_iptc_read_table, through the cache: *hit when the rules were
 * unchanged and only the counters were re-read. */
int kp_iptc_cache_read(struct kp_iptc_cache *cache, struct kp_snapshot *snap, enum kp_family family,
                       const char *name, struct kp_live_error *err, bool *hit);
void kp_iptc_cache_free(struct kp_iptc_cache *cache);

/* How many legacy tables the source's last read took from its cache. */
size_t kp_live_source_legacy_hits(const struct kp_live_source *source);

/* Runs fn(arg) on a dedicated thread that has entered the network namespace
 * at path (the calling thread never changes namespace). Returns fn's
 * result, or -1 with err when the namespace cannot be entered. With a NULL
 * path fn runs directly. */
int kp_netns_run(const char *path, int (*fn)(void *arg), void *arg, struct kp_live_error *err);

#endif
