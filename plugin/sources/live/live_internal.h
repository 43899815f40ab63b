/* Private to the live sources (plugin/sources/live): the per-backend table
 * readers and the namespace thread kp_live_read is built from. */
#ifndef KP_LIVE_INTERNAL_H
#define KP_LIVE_INTERNAL_H

#include "kp/live.h"

/* live_error.c: fills err (when not NULL) with fault, err_no and the
 * message; returns -1 so that a failing path can `return kp_live_fail(...)`.
 * Out of memory is KP_LIVE_OTHER with ENOMEM. */
int kp_live_fail(struct kp_live_error *err, enum kp_live_fault fault, int err_no, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

/* libiptc (iptables-legacy): one iptc_init per table; family IPv4 or IPv6.
 * A table that does not exist returns -1 with KP_LIVE_NO_TABLE. */
int kp_iptc_read_table(struct kp_snapshot *snap, enum kp_family family, const char *table,
                       struct kp_live_error *err);

/* Runs fn(arg) on a dedicated thread that has entered the network namespace
 * at path (the calling thread never changes namespace). Returns fn's
 * result, or -1 with err when the namespace cannot be entered. With a NULL
 * path fn runs directly. */
int kp_netns_run(const char *path, int (*fn)(void *arg), void *arg, struct kp_live_error *err);

#endif
