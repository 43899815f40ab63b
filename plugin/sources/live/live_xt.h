/* Private to the live sources: the x_tables match and target decoders both
 * live backends share (libiptc hands the payloads over as they are; the
 * iptables-nft `match` / `target` expressions carry the same bytes), the
 * iptables-save-like rule text they write, and the ipset names the set
 * match needs. */
#ifndef KP_LIVE_XT_H
#define KP_LIVE_XT_H

#include "kp/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* live_rule_text.c: the rule text as iptables-save (or nft) would print it,
 * close enough to read. A NULL text is allowed everywhere and ignored (the
 * snapshot does not keep rule text). */
struct kp_rule_text {
  char buf[1536];
  size_t len;
};

void kp_rule_text_add(struct kp_rule_text *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* live_ipset_names.c: ipset names by index, asked once per table read over
 * SO_IP_SET on a raw socket of the calling thread's namespace. */
#define KP_IPSET_NAMES 64 /* IPVS mode uses about 20 sets */
struct kp_ipset_names {
  int fd; /* -1: not opened yet; -2: ipset not available */
  unsigned version;
  size_t count;
  struct {
    uint16_t index;
    const char *name; /* in the snapshot arena */
  } items[KP_IPSET_NAMES];
};

void kp_ipset_names_init(struct kp_ipset_names *sets);
void kp_ipset_names_done(struct kp_ipset_names *sets);
/* The set's name, or "(index N)" when ipset cannot name it. NULL on OOM. */
const char *kp_ipset_name(struct kp_ipset_names *sets, struct kp_arena *arena, uint16_t index);

/* What one table read carries along while decoding rules. */
struct kp_xt_ctx {
  struct kp_snapshot *snap;
  struct kp_table *table;
  enum kp_family family;
  struct kp_ipset_names sets;
  const char *last_comment; /* the previous rule's, to share equal copies */
  /* statistic match: the last few values and their text, shared by every
   * rule with the value (kube-proxy alternates a handful: 1/3, 1/2, ...) */
  struct {
    uint32_t value;
    const char *text;
  } probabilities[8];
  unsigned next_probability; /* the slot the next new value replaces */
  /* The chain the next target's verdict name jumps to, when the caller
   * already knows it (libiptc's reader, the kernel copy's): spares a
   * lookup by name per jump. NULL: looked up. */
  struct kp_chain *jump_hint;
};

void kp_xt_ctx_init(struct kp_xt_ctx *ctx, struct kp_snapshot *snap, struct kp_table *table,
                    enum kp_family family);
void kp_xt_ctx_done(struct kp_xt_ctx *ctx);

/* live_xt_match.c: decodes the matches in elems[0 .. len) (the bytes between
 * the entry header and target_offset). Bounds-checked: a malformed match
 * stops the walk. 0, or -1 when out of memory. */
int kp_xt_decode_matches(struct kp_xt_ctx *ctx, struct kp_rule *rule, const unsigned char *elems,
                         size_t len, struct kp_rule_text *text);

/* live_xt_target.c: decodes the target of an entry. target points at the
 * xt_entry_target, avail is how many bytes of the entry are left from there;
 * verdict_name is what iptc_get_target() returned; is_goto the entry's goto
 * flag. 0, or -1 when out of memory. */
int kp_xt_decode_target(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *target,
                        size_t avail, const char *verdict_name, bool is_goto,
                        struct kp_rule_text *text);

#endif
