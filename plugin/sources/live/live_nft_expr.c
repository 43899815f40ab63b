/* Native nf_tables expressions of one rule -> struct kp_rule: one handler
 * per expression name (as libnftnl's expression ops), the register loads
 * here, the matches in live_nft_expr_match.c, the verdicts and targets in
 * live_nft_expr_target.c. Anything not understood goes into the rule text
 * only. */
#include "live_nft_expr.h"

#include <libnftnl/udata.h>
#include <stdio.h>
#include <string.h>

/* ---- loads ---------------------------------------------------------------- */

static void expr_payload(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_PAYLOAD};
  r.base = kp_nft_attr_get_u32(e, NFTA_PAYLOAD_BASE);
  r.offset = kp_nft_attr_get_u32(e, NFTA_PAYLOAD_OFFSET);
  r.len = kp_nft_attr_get_u32(e, NFTA_PAYLOAD_LEN);
  kp_nft_load(d, e, NFTA_PAYLOAD_DREG, &r);
}

static void expr_bitwise(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg *src = kp_nft_slot(d, kp_nft_attr_get_u32(e, NFTA_BITWISE_SREG));
  struct kp_nft_reg *dst = kp_nft_slot(d, kp_nft_attr_get_u32(e, NFTA_BITWISE_DREG));
  if (src == NULL || dst == NULL)
    return;
  uint32_t op;
  if (kp_nft_attr_u32(e, NFTA_BITWISE_OP, &op) && op != NFT_BITWISE_BOOL) {
    dst->src = KP_REG_NONE; /* shifts: not used by the rules we read */
    return;
  }
  uint32_t mlen, xlen;
  const uint8_t *mask = kp_nft_attr_data(e, NFTA_BITWISE_MASK, &mlen);
  const uint8_t *xr = kp_nft_attr_data(e, NFTA_BITWISE_XOR, &xlen);
  struct kp_nft_reg out = *src;
  if (!out.bitwise) {
    memset(out.mask, 0xff, sizeof(out.mask));
    memset(out.xor_, 0, sizeof(out.xor_));
  }
  /* ((x & m1) ^ x1) & m2 ^ x2 = x & (m1 & m2) ^ ((x1 & m2) ^ x2) */
  for (size_t i = 0; i < 16; i++) {
    uint8_t m2 = mask != NULL && i < mlen ? mask[i] : 0xff;
    uint8_t x2 = xr != NULL && i < xlen ? xr[i] : 0;
    out.mask[i] &= m2;
    out.xor_[i] = (uint8_t)((out.xor_[i] & m2) ^ x2);
  }
  out.bitwise = true;
  *dst = out;
}

static void expr_meta(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  uint32_t sreg;
  if (kp_nft_attr_u32(e, NFTA_META_SREG, &sreg)) {
    kp_nft_expr_meta_set(d, e);
    return;
  }
  struct kp_nft_reg r = {.src = KP_REG_META, .key = kp_nft_attr_get_u32(e, NFTA_META_KEY)};
  kp_nft_load(d, e, NFTA_META_DREG, &r);
}

static void expr_fib(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_FIB,
                         .key = kp_nft_attr_get_u32(e, NFTA_FIB_FLAGS),
                         .fib_result = kp_nft_attr_get_u32(e, NFTA_FIB_RESULT)};
  kp_nft_load(d, e, NFTA_FIB_DREG, &r);
}

static void expr_ct(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_CT, .key = kp_nft_attr_get_u32(e, NFTA_CT_KEY)};
  kp_nft_load(d, e, NFTA_CT_DREG, &r);
}

static void expr_numgen(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_NUMGEN};
  kp_nft_load(d, e, NFTA_NG_DREG, &r);
  kp_rule_text_add(d->text, " numgen random mod %u", kp_nft_attr_get_u32(e, NFTA_NG_MODULUS));
}

static void expr_objref(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  const char *obj = kp_nft_attr_str(e, NFTA_OBJREF_IMM_NAME);
  kp_rule_text_add(d->text, " objref %s", obj ? obj : "?");
}

/* ---- dispatch --------------------------------------------------------------- */

/* By name; the length is compared before the bytes, so a lookup costs a
 * few integer compares and at most a memcmp or two. */
#define EXPR(name, fn)                                                                             \
  { name, sizeof(name) - 1, fn }
static const struct {
  const char *name;
  uint16_t len;
  void (*decode)(struct kp_nft_dec *d, const struct kp_nft_expr *e);
} exprs[] = {
    EXPR("payload", expr_payload),
    EXPR("cmp", kp_nft_expr_cmp),
    EXPR("bitwise", expr_bitwise),
    EXPR("meta", expr_meta),
    EXPR("immediate", kp_nft_expr_immediate),
    EXPR("counter", kp_nft_expr_counter),
    EXPR("match", kp_nft_expr_match),
    EXPR("target", kp_nft_expr_target),
    EXPR("lookup", kp_nft_expr_lookup),
    EXPR("nat", kp_nft_expr_nat),
    EXPR("masq", kp_nft_expr_masq),
    EXPR("range", kp_nft_expr_range),
    EXPR("fib", expr_fib),
    EXPR("ct", expr_ct),
    EXPR("numgen", expr_numgen),
    EXPR("reject", kp_nft_expr_reject),
    EXPR("objref", expr_objref),
};
#undef EXPR

static void decode_expr(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
    if (exprs[i].len == e->name_len && memcmp(exprs[i].name, e->name, e->name_len) == 0) {
      exprs[i].decode(d, e);
      return;
    }
  kp_rule_text_add(d->text, " %s", e->name);
}

/* ---- rule ------------------------------------------------------------------------ */

int kp_nft_decode_rule(struct kp_nft_table_ctx *ctx, const struct kp_nft_rule_msg *msg,
                       struct kp_rule *rule) {
  struct kp_rule_text text;
  struct kp_nft_dec d;
  memset(&d, 0, sizeof(d));
  d.ctx = ctx;
  d.spell = ctx->spell;
  d.rule = rule;
  if (ctx->snap->rule_text) {
    text.len = 0;
    text.buf[0] = '\0';
    d.text = &text;
  }
  d.spell->rule_head(d.text, rule->chain->name);
  struct kp_nft_expr e;
  if (msg->n_exprs <= KP_NFT_RULE_EXPRS) {
    for (size_t i = 0; i < msg->n_exprs && d.rc == 0; i++) {
      kp_nft_expr_view(&msg->expr[i], &e);
      decode_expr(&d, &e);
    }
  } else { /* a long rule: the kept elements are only its first ones */
    const struct nlattr *elem;
    struct kp_nft_expr_ref ref;
    kp_nft_for_each_nested(elem, msg->exprs) {
      if (d.rc != 0)
        break;
      if (kp_nft_expr_ref(elem, &ref) == 0) {
        kp_nft_expr_view(&ref, &e);
        decode_expr(&d, &e);
      }
    }
  }
  if (d.rc != 0)
    return -1;
  if (msg->userdata != NULL) {
    const char *comment =
        kp_nft_udata_str(msg->userdata, msg->userdata_len, NFTNL_UDATA_RULE_COMMENT);
    if (comment != NULL) {
      kp_rule_text_add(d.text, " comment \"%s\"", comment);
      if (rule->comment == NULL && (rule->comment = kp_nft_dup(&d, comment)) == NULL)
        return -1;
    }
  }
  if (d.text == NULL)
    return 0;
  const char *start = text.buf[0] == ' ' ? text.buf + 1 : text.buf;
  struct kp_rule_ext *ext = kp_nft_ext(&d);
  ext->text = kp_arena_strndup(&ctx->snap->arena, start, text.len - (size_t)(start - text.buf));
  return d.rc != 0 || ext->text == NULL ? -1 : 0;
}
