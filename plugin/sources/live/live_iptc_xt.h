/* Private to the libiptc source: decoding of the x_tables match and target
 * payloads of one rule (shared by the IPv4 and IPv6 walkers), the cheap
 * iptables-save-like text builder, and the ipset index -> name cache. */
#ifndef KP_LIVE_IPTC_XT_H
#define KP_LIVE_IPTC_XT_H

#include "kp/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rule text as iptables-save would print it (close enough to read). */
struct kp_iptc_text {
  char buf[1536];
  size_t len;
};

void kp_iptc_text_add(struct kp_iptc_text *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ipset names by index, looked up once per table read over SO_IP_SET. */
#define KP_IPTC_SET_CACHE 64 /* IPVS mode uses about 20 sets */
struct kp_iptc_sets {
  int fd; /* -1: not opened yet; -2: ipset not available */
  unsigned version;
  size_t count;
  struct {
    uint16_t index;
    const char *name; /* in the snapshot arena */
  } items[KP_IPTC_SET_CACHE];
};

/* What one table read carries along while decoding rules. */
struct kp_iptc_ctx {
  struct kp_snapshot *snap;
  struct kp_table *table;
  enum kp_family family;
  struct kp_iptc_sets sets;
  const char *last_comment; /* the previous rule's, to share equal copies */
};

void kp_iptc_ctx_init(struct kp_iptc_ctx *ctx, struct kp_snapshot *snap, struct kp_table *table,
                      enum kp_family family);
void kp_iptc_ctx_done(struct kp_iptc_ctx *ctx);

/* Decodes the matches in elems[0 .. len) (the bytes between the entry header
 * and target_offset). Bounds-checked: a malformed match stops the walk.
 * 0, or -1 when out of memory. */
int kp_iptc_decode_matches(struct kp_iptc_ctx *ctx, struct kp_rule *rule,
                           const unsigned char *elems, size_t len, struct kp_iptc_text *text);

/* Decodes the target of an entry. target points at the xt_entry_target,
 * avail is how many bytes of the entry are left from there; verdict_name is
 * what iptc_get_target() returned; is_goto the entry's goto flag.
 * 0, or -1 when out of memory. */
int kp_iptc_decode_target(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const void *target,
                          size_t avail, const char *verdict_name, bool is_goto,
                          struct kp_iptc_text *text);

#endif
