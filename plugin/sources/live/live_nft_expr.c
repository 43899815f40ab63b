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

static void expr_payload(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_PAYLOAD};
  r.base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
  r.offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
  r.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
  kp_nft_load(d, e, NFTNL_EXPR_PAYLOAD_DREG, &r);
}

static void expr_bitwise(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  struct kp_nft_reg *src = kp_nft_slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
  struct kp_nft_reg *dst = kp_nft_slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
  if (src == NULL || dst == NULL)
    return;
  if (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
      nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL) {
    dst->src = KP_REG_NONE; /* shifts: not used by the rules we read */
    return;
  }
  uint32_t mlen, xlen;
  const uint8_t *mask = kp_nft_data(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
  const uint8_t *xr = kp_nft_data(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
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

static void expr_meta(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) {
    kp_nft_expr_meta_set(d, e);
    return;
  }
  struct kp_nft_reg r = {.src = KP_REG_META, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)};
  kp_nft_load(d, e, NFTNL_EXPR_META_DREG, &r);
}

static void expr_fib(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_FIB,
                         .key = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS),
                         .fib_result = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT)};
  kp_nft_load(d, e, NFTNL_EXPR_FIB_DREG, &r);
}

static void expr_ct(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_CT, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY)};
  kp_nft_load(d, e, NFTNL_EXPR_CT_DREG, &r);
}

static void expr_numgen(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  struct kp_nft_reg r = {.src = KP_REG_NUMGEN};
  kp_nft_load(d, e, NFTNL_EXPR_NG_DREG, &r);
  kp_rule_text_add(d->text, " numgen random mod %u", nftnl_expr_get_u32(e, NFTNL_EXPR_NG_MODULUS));
}

static void expr_objref(struct kp_nft_dec *d, const struct nftnl_expr *e) {
  const char *obj = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
  kp_rule_text_add(d->text, " objref %s", obj ? obj : "?");
}

/* ---- dispatch --------------------------------------------------------------- */

static const struct {
  const char *name;
  void (*decode)(struct kp_nft_dec *d, const struct nftnl_expr *e);
} exprs[] = {
    {"payload", expr_payload},
    {"cmp", kp_nft_expr_cmp},
    {"bitwise", expr_bitwise},
    {"meta", expr_meta},
    {"immediate", kp_nft_expr_immediate},
    {"counter", kp_nft_expr_counter},
    {"match", kp_nft_expr_match},
    {"target", kp_nft_expr_target},
    {"lookup", kp_nft_expr_lookup},
    {"nat", kp_nft_expr_nat},
    {"masq", kp_nft_expr_masq},
    {"range", kp_nft_expr_range},
    {"fib", expr_fib},
    {"ct", expr_ct},
    {"numgen", expr_numgen},
    {"reject", kp_nft_expr_reject},
    {"objref", expr_objref},
};

static int expr_cb(struct nftnl_expr *e, void *arg) {
  struct kp_nft_dec *d = arg;
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name == NULL)
    return 0;
  size_t i = 0, n = sizeof(exprs) / sizeof(exprs[0]);
  while (i < n && strcmp(name, exprs[i].name) != 0)
    i++;
  if (i < n)
    exprs[i].decode(d, e);
  else
    kp_rule_text_add(d->text, " %s", name);
  return d->rc == 0 ? 0 : -1;
}

/* ---- rule ------------------------------------------------------------------------ */

static int udata_comment_cb(const struct nftnl_udata *attr, void *data) {
  if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
    const char *value = nftnl_udata_get(attr);
    uint8_t len = nftnl_udata_len(attr);
    if (len > 0 && value[len - 1] == '\0')
      *(const char **)data = value;
  }
  return 0;
}

int kp_nft_decode_rule(struct kp_nft_table_ctx *ctx, const struct nftnl_rule *nr,
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
  rule->line = 0;
  d.spell->rule_head(d.text, rule->chain->name);
  nftnl_expr_foreach((struct nftnl_rule *)nr, expr_cb, &d);
  if (d.rc != 0)
    return -1;
  if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)) {
    uint32_t len;
    const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
    const char *comment = NULL;
    nftnl_udata_parse(ud, len, udata_comment_cb, &comment);
    if (comment != NULL) {
      kp_rule_text_add(d.text, " comment \"%s\"", comment);
      if (rule->comment == NULL && (rule->comment = kp_nft_dup(&d, comment)) == NULL)
        return -1;
    }
  }
  if (d.text == NULL)
    return 0;
  const char *start = text.buf[0] == ' ' ? text.buf + 1 : text.buf;
  rule->text = kp_arena_strndup(&ctx->snap->arena, start, text.len - (size_t)(start - text.buf));
  return rule->text == NULL ? -1 : 0;
}
