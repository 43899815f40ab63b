/* Private to the native nf_tables expression decoder (live_nft_expr*.c,
 * live_nft_spelling.c): the register model one rule is decoded with, and
 * the two spellings of the rule text.
 *
 * Expressions work on registers: a load (payload, meta, fib, ct, numgen,
 * immediate) fills one, bitwise rewrites it, and cmp / range / lookup / nat /
 * meta set consume it. The decoder follows that data flow with a small model
 * of the 16 32-bit register slots, which is all iptables-nft and kube-proxy
 * write. */
#ifndef KP_LIVE_NFT_EXPR_H
#define KP_LIVE_NFT_EXPR_H

#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* How a table's rules are printed: iptables-save's words for iptables-nft
 * tables, nft's for kube-proxy's own. Chosen once per table
 * (kp_nft_table_ctx.spell); the decoder never asks which one it has. */
struct kp_nft_spelling {
  void (*rule_head)(struct kp_rule_text *t, const char *chain);
  void (*addr)(struct kp_rule_text *t, bool v6, bool src, bool neg, const char *addr,
               unsigned prefix);
  void (*proto)(struct kp_rule_text *t, bool neg, const char *name);
  /* opt: "sport" / "dport"; lo == hi for one port */
  void (*port)(struct kp_rule_text *t, const char *opt, bool neg, unsigned lo, unsigned hi);
  void (*addrtype)(struct kp_rule_text *t, bool saddr, bool neg, const char *type);
  void (*ct_state)(struct kp_rule_text *t, const char *states); /* "!" first when negated */
  void (*mark)(struct kp_rule_text *t, bool neg, uint32_t value, uint32_t mask);
  void (*jump)(struct kp_rule_text *t, bool is_goto, const char *chain);
  /* a verdict or a target without options: iptables' name, nft's word */
  void (*verdict)(struct kp_rule_text *t, const char *iptables, const char *nft);
  void (*counter)(struct kp_rule_text *t);
  void (*nat)(struct kp_rule_text *t, bool snat); /* followed by the address text */
  void (*masquerade)(struct kp_rule_text *t);
  void (*random_fully)(struct kp_rule_text *t); /* after the ports */
  void (*set_xmark)(struct kp_rule_text *t, uint32_t value, uint32_t mask);
};

extern const struct kp_nft_spelling kp_nft_spelling_iptables;
extern const struct kp_nft_spelling kp_nft_spelling_nft;

enum kp_nft_reg_src {
  KP_REG_NONE = 0,
  KP_REG_PAYLOAD,
  KP_REG_META,
  KP_REG_FIB,
  KP_REG_CT,
  KP_REG_NUMGEN,
  KP_REG_IMM
};

struct kp_nft_reg {
  enum kp_nft_reg_src src;
  uint32_t base, offset, len; /* payload */
  uint32_t key;               /* meta / ct key, fib flags */
  uint32_t fib_result;
  uint8_t data[16]; /* immediate */
  uint32_t data_len;
  bool bitwise;
  uint8_t mask[16], xor_[16];
};

#define KP_NFT_SLOTS 16

/* One rule being decoded. */
struct kp_nft_dec {
  struct kp_nft_table_ctx *ctx;
  const struct kp_nft_spelling *spell;
  struct kp_rule *rule;
  struct kp_rule_text *text; /* NULL: the snapshot keeps no rule text */
  struct kp_nft_reg regs[KP_NFT_SLOTS];
  int rc; /* -1 once out of memory */
};

/* The rule's extension (kp_rule_ext_mut), for the fields few rules have.
 * Out of memory: rc = -1 (the rule fails) and a scratch record that the
 * caller's writes go to unseen. */
static inline struct kp_rule_ext *kp_nft_ext(struct kp_nft_dec *d) {
  static _Thread_local struct kp_rule_ext scratch;
  struct kp_rule_ext *ext = kp_rule_ext_mut(d->ctx->snap, d->rule);
  if (ext != NULL)
    return ext;
  d->rc = -1;
  return &scratch;
}

/* NFT_REG_1..4 are 16-byte registers = 4 slots each; NFT_REG32_00.. one slot. */
static inline struct kp_nft_reg *kp_nft_slot(struct kp_nft_dec *d, uint32_t reg) {
  if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
    return &d->regs[(reg - NFT_REG_1) * 4];
  if (reg >= NFT_REG32_00 && reg < NFT_REG32_00 + KP_NFT_SLOTS)
    return &d->regs[reg - NFT_REG32_00];
  return NULL;
}

/* Loads tmpl into the register named by e's attribute dreg_attr. */
static inline void kp_nft_load(struct kp_nft_dec *d, const struct kp_nft_expr *e,
                               uint16_t dreg_attr, const struct kp_nft_reg *tmpl) {
  uint32_t reg;
  if (!kp_nft_attr_u32(e, dreg_attr, &reg))
    return;
  struct kp_nft_reg *r = kp_nft_slot(d, reg);
  if (r != NULL)
    *r = *tmpl;
}

/* The register named by attribute attr of e, or NULL when unset/invalid. */
static inline struct kp_nft_reg *kp_nft_reg_attr(struct kp_nft_dec *d, const struct kp_nft_expr *e,
                                                 uint16_t attr) {
  uint32_t reg;
  return kp_nft_attr_u32(e, attr, &reg) ? kp_nft_slot(d, reg) : NULL;
}

static inline uint32_t kp_nft_u32(const uint8_t *data, uint32_t len) {
  uint32_t v = 0;
  memcpy(&v, data, len < 4 ? len : 4);
  return v;
}

static inline uint16_t kp_nft_port(const uint8_t *data) {
  return (uint16_t)(data[0] << 8 | data[1]);
}

/* An arena copy; NULL and d->rc = -1 when out of memory. */
static inline const char *kp_nft_dup(struct kp_nft_dec *d, const char *s) {
  const char *out = kp_arena_strdup(&d->ctx->snap->arena, s);
  if (out == NULL)
    d->rc = -1;
  return out;
}

/* The expression handlers, by file. */
void kp_nft_expr_cmp(struct kp_nft_dec *d, const struct kp_nft_expr *e); /* live_nft_expr_match.c */
void kp_nft_expr_range(struct kp_nft_dec *d,
                       const struct kp_nft_expr *e); /* live_nft_expr_match.c */
void kp_nft_expr_immediate(struct kp_nft_dec *d, const struct kp_nft_expr *e); /* _target.c */
void kp_nft_expr_counter(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_nat(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_masq(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_meta_set(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_lookup(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_match(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_target(struct kp_nft_dec *d, const struct kp_nft_expr *e);
void kp_nft_expr_reject(struct kp_nft_dec *d, const struct kp_nft_expr *e);

#endif
