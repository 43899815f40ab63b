/* The kernel's copy of an iptables-legacy table (live_iptc_blob.h) decoded
 * into the snapshot, for a kept source whose table changed: the copy taken
 * to tell whether it changed is the table at one instant, so decoding it
 * spares the second kernel copy (and libiptc's parse) a libiptc read would
 * make. The result is what libiptc's walk gives (live_iptc.c; the rules go
 * through the same decoder):
 *  - chains in libiptc's order: built-ins as the kernel lays them out, then
 *    user chains sorted by strcmp (libiptc sorts them as it parses);
 *  - each rule's verdict named as iptc_get_target() names it: a standard
 *    verdict below 0 by libiptc's names, a verdict that is the next entry's
 *    offset "" (a rule without a target), any other offset the user chain
 *    whose span [ERROR entry, RETURN tail] holds it; an extension target
 *    by its name.
 * A copy libiptc would refuse (a jump into no chain, an unknown verdict, a
 * short standard target) is EINVAL: the caller then reads the table with
 * libiptc, which reports it. */
#include "live_iptc_blob.h"
#include "live_xt.h"

/* netinet/in.h before the kernel headers, as libiptc.h has it. */
#include <netinet/in.h>

#include <errno.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>

/* One chain as the first walk finds it. */
struct span {
  char name[XT_FUNCTION_MAXNAMELEN + 1];
  size_t start, end; /* offsets: ERROR entry (hook entry) .. RETURN tail (policy) */
  bool builtin;
  const char *policy; /* a literal of kp_iptc_verdict_name, or "?" */
  struct kp_counters policy_counters;
  struct kp_chain *chain; /* once created */
};

struct decode {
  enum kp_family family;
  struct span *spans; /* in the kernel's order: ascending offsets */
  size_t count, capacity, next;
  struct kp_xt_ctx ctx;
  int error; /* ENOMEM or EINVAL once a callback failed */
};

static int fail(struct decode *d, int error) {
  d->error = error;
  return -1;
}

/* ---- walk 1: the chains and their spans --------------------------------- */

static int span_start(void *arg, const char *name, bool builtin, size_t offset) {
  struct decode *d = arg;
  if (d->count == d->capacity) {
    size_t capacity = d->capacity ? d->capacity * 2 : 64;
    struct span *spans = realloc(d->spans, capacity * sizeof(*spans));
    if (spans == NULL)
      return fail(d, ENOMEM);
    d->spans = spans, d->capacity = capacity;
  }
  struct span *s = &d->spans[d->count++];
  memset(s, 0, sizeof(*s));
  strncpy(s->name, name, XT_FUNCTION_MAXNAMELEN);
  s->start = s->end = offset;
  s->builtin = builtin;
  return 0;
}

static int span_rule(void *arg, const unsigned char *entry, size_t len, size_t offset) {
  (void)arg, (void)entry, (void)len, (void)offset;
  return 0;
}

static int span_end(void *arg, const char *policy, const struct kp_counters *c, size_t offset) {
  struct decode *d = arg;
  struct span *s = &d->spans[d->count - 1];
  s->end = offset;
  if (s->builtin) {
    s->policy = policy;
    if (c != NULL)
      s->policy_counters = *c;
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(const struct span *const *)a)->name, (*(const struct span *const *)b)->name);
}

/* The chains into the table in libiptc's order. */
static int add_chains(struct decode *d) {
  struct span **order = malloc((d->count ? d->count : 1) * sizeof(*order));
  if (order == NULL)
    return fail(d, ENOMEM);
  size_t n = 0;
  for (size_t i = 0; i < d->count; i++)
    if (d->spans[i].builtin)
      order[n++] = &d->spans[i];
  size_t builtins = n;
  for (size_t i = 0; i < d->count; i++)
    if (!d->spans[i].builtin)
      order[n++] = &d->spans[i];
  qsort(order + builtins, n - builtins, sizeof(*order), by_name);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct span *s = order[i];
    if (kp_table_chain(d->ctx.table, s->name) != NULL)
      rc = fail(d, EINVAL); /* the same chain twice */
    else if ((s->chain = kp_table_add_chain(d->ctx.snap, d->ctx.table, s->name)) == NULL ||
             (s->builtin &&
              kp_iptc_set_policy(d->ctx.snap, s->chain, s->policy, s->policy_counters.packets,
                                 s->policy_counters.bytes) != 0))
      rc = fail(d, ENOMEM);
  }
  free(order);
  return rc;
}

/* ---- walk 2: the rules ---------------------------------------------------- */

/* The user chain whose span holds offset, as libiptc resolves a jump. */
static struct kp_chain *jump_chain(const struct decode *d, size_t offset) {
  size_t lo = 0, hi = d->count; /* the last span starting at or before offset */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->spans[mid].start <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return NULL;
  const struct span *s = &d->spans[lo - 1];
  return !s->builtin && offset <= s->end ? s->chain : NULL;
}

/* What iptc_get_target() returns for the entry at offset, and *jump the
 * chain when it is a jump; NULL when libiptc would not have parsed it. */
static const char *verdict_of(const struct decode *d, const unsigned char *entry, size_t len,
                              size_t offset, char name[XT_EXTENSION_MAXNAMELEN + 1],
                              struct kp_chain **jump) {
  *jump = NULL;
  uint16_t toff;
  memcpy(&toff,
         entry + (d->family == KP_FAMILY_IPV6 ? offsetof(struct ip6t_entry, target_offset)
                                              : offsetof(struct ipt_entry, target_offset)),
         sizeof(toff));
  struct xt_standard_target t; /* the walk checked that the target head fits */
  size_t avail = len - toff;
  memcpy(&t, entry + toff, avail < sizeof(t) ? sizeof(t.target) : sizeof(t));
  memcpy(name, t.target.u.user.name, XT_EXTENSION_MAXNAMELEN);
  name[XT_EXTENSION_MAXNAMELEN] = '\0';
  if (name[0] != '\0' && strcmp(name, XT_STANDARD_TARGET) != 0)
    return name; /* an extension target */
  if (avail < sizeof(t) || t.target.u.user.target_size < sizeof(t))
    return NULL;
  if (t.verdict < 0)
    return kp_iptc_verdict_name(t.verdict);
  if ((size_t)t.verdict == offset + len)
    return ""; /* falls through: no target */
  *jump = jump_chain(d, (size_t)t.verdict);
  return *jump != NULL ? (*jump)->name : NULL;
}

static int rule_start(void *arg, const char *name, bool builtin, size_t offset) {
  struct decode *d = arg;
  (void)name, (void)builtin, (void)offset;
  return d->next < d->count ? (d->next++, 0) : fail(d, EINVAL);
}

static int rule_add(void *arg, const unsigned char *entry, size_t len, size_t offset) {
  struct decode *d = arg;
  char name[XT_EXTENSION_MAXNAMELEN + 1];
  struct kp_chain *jump;
  const char *verdict = verdict_of(d, entry, len, offset, name, &jump);
  if (verdict == NULL)
    return fail(d, EINVAL);
  if (kp_iptc_add_rule(&d->ctx, d->spans[d->next - 1].chain, entry, verdict, jump) != 0)
    return fail(d, ENOMEM);
  return 0;
}

static int rule_end(void *arg, const char *policy, const struct kp_counters *c, size_t offset) {
  (void)arg, (void)policy, (void)c, (void)offset;
  return 0;
}

int kp_iptc_blob_decode(const struct kp_iptc_blob *blob, enum kp_family family, const char *name,
                        struct kp_snapshot *snap) {
  struct kp_table *table = kp_iptc_new_table(snap, family, name);
  if (table == NULL)
    return errno = ENOMEM, -1;
  struct decode d = {.family = family};
  kp_xt_ctx_init(&d.ctx, snap, table, family);
  const struct kp_iptc_visitor spans = {span_start, span_rule, span_end, &d};
  const struct kp_iptc_visitor rules = {rule_start, rule_add, rule_end, &d};
  int rc = kp_iptc_blob_walk(blob, family, &spans);
  if (rc == 0)
    rc = add_chains(&d);
  if (rc == 0)
    rc = kp_iptc_blob_walk(blob, family, &rules);
  kp_xt_ctx_done(&d.ctx);
  free(d.spans);
  if (rc != 0) {
    kp_snapshot_drop_table(snap, table);
    return errno = d.error ? d.error : EINVAL, -1;
  }
  return 0;
}
