/* The native nf_tables expressions that match (cmp, range) on what a load
 * put in a register: addresses, protocol, ports, interfaces, mark, fib
 * address type, conntrack state. */
#include "kp/names.h"
#include "live_nft_expr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static uint8_t prefix_of(const struct kp_nft_reg *r, uint32_t len) {
  return r->bitwise ? kp_mask_prefix_len(r->mask, len) : (uint8_t)(len * 8);
}

static void set_addr(struct kp_nft_dec *d, struct kp_addr *a, const struct kp_nft_reg *r,
                     const uint8_t *data, uint32_t len, bool neg, bool src) {
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  a->kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
  a->negated = neg;
  memset(a->bytes, 0, sizeof(a->bytes));
  memcpy(a->bytes, data, len > 16 ? 16 : len);
  a->prefix_len = prefix_of(r, len);
  if (d->text == NULL)
    return;
  char buf[64];
  inet_ntop(v6 ? AF_INET6 : AF_INET, a->bytes, buf, sizeof(buf));
  d->spell->addr(d->text, v6, src, neg, buf, a->prefix_len);
}

static void set_proto(struct kp_nft_dec *d, uint8_t p, bool neg) {
  struct kp_rule *rule = d->rule;
  rule->proto_present = true;
  rule->proto = p;
  rule->proto_negated = neg;
  if (d->text == NULL)
    return;
  char number[8];
  const char *name = kp_proto_name(p);
  if (name == NULL) {
    snprintf(number, sizeof(number), "%u", p);
    name = number;
  }
  d->spell->proto(d->text, neg, name);
}

/* Port match by op: eq/neq a single port, gte/lte one end of a range. */
static void port_cmp(struct kp_nft_dec *d, struct kp_port_range *pr, uint32_t op, uint16_t port,
                     const char *opt) {
  if (!pr->present) {
    pr->present = true;
    pr->lo = 0;
    pr->hi = 0xffff;
  }
  switch (op) {
  case NFT_CMP_EQ:
  case NFT_CMP_NEQ:
    pr->lo = pr->hi = port;
    pr->negated = op == NFT_CMP_NEQ;
    break;
  case NFT_CMP_GTE:
    pr->lo = port;
    break;
  case NFT_CMP_GT:
    pr->lo = (uint16_t)(port + 1);
    break;
  case NFT_CMP_LTE:
    pr->hi = port;
    break;
  case NFT_CMP_LT:
    pr->hi = (uint16_t)(port - 1);
    break;
  default:
    break;
  }
  /* A range is printed once, at its upper end. */
  if (op == NFT_CMP_EQ || op == NFT_CMP_NEQ || op == NFT_CMP_LTE || op == NFT_CMP_LT)
    d->spell->port(d->text, opt, pr->negated, pr->lo, pr->hi);
}

static void iface(struct kp_nft_dec *d, const char **out, const uint8_t *data, uint32_t len,
                  bool neg, const char *opt) {
  char name[IFNAMSIZ + 2];
  size_t n = strnlen((const char *)data, len < IFNAMSIZ ? len : IFNAMSIZ);
  memcpy(name, data, n);
  /* iptables-nft compares only the prefix for "eth+": no terminating NUL. */
  if (n == len && n < IFNAMSIZ)
    name[n++] = '+';
  name[n] = '\0';
  *out = kp_nft_dup(d, name);
  kp_rule_text_add(d->text, "%s %s %s", neg ? " !" : "", opt, name);
}

static void fib_cmp(struct kp_nft_dec *d, const struct kp_nft_reg *r, uint32_t value, bool neg) {
  if (r->fib_result != NFT_FIB_RESULT_ADDRTYPE)
    return;
  const char *name = kp_addrtype_name(value);
  bool saddr = r->key & NFTA_FIB_F_SADDR;
  if (saddr) {
    kp_nft_ext(d)->src_type = name;
    kp_nft_ext(d)->src_type_negated = neg;
  } else {
    kp_nft_ext(d)->dst_type = name;
    kp_nft_ext(d)->dst_type_negated = neg;
  }
  d->spell->addrtype(d->text, saddr, neg, name);
}

/* ct state bits (NF_CT_STATE_BIT); stored as text, "!" first when negated. */
static void ct_state(struct kp_nft_dec *d, uint32_t bits, bool neg) {
  char buf[80];
  kp_ctstate_format(buf, sizeof(buf), bits, false, neg);
  if (kp_rule_ext(d->rule)->ctstate == NULL)
    kp_nft_ext(d)->ctstate = kp_nft_dup(d, buf);
  d->spell->ct_state(d->text, buf);
}

static void payload_cmp(struct kp_nft_dec *d, const struct kp_nft_reg *r, uint32_t op,
                        const uint8_t *data, uint32_t len) {
  bool neg = op == NFT_CMP_NEQ;
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  struct kp_rule *rule = d->rule;
  if (r->base == NFT_PAYLOAD_NETWORK_HEADER) {
    uint32_t saddr = v6 ? 8 : 12, daddr = v6 ? 24 : 16, proto = v6 ? 6 : 9;
    if (r->offset == saddr && len <= (v6 ? 16u : 4u))
      set_addr(d, &rule->src, r, data, len, neg, true);
    else if (r->offset == daddr && len <= (v6 ? 16u : 4u))
      set_addr(d, &rule->dst, r, data, len, neg, false);
    else if (r->offset == proto && len == 1)
      set_proto(d, data[0], neg);
    else
      kp_rule_text_add(d->text, " [payload nh+%u]", r->offset);
  } else if (r->base == NFT_PAYLOAD_TRANSPORT_HEADER && len == 2 &&
             (r->offset == 0 || r->offset == 2)) {
    port_cmp(d, r->offset == 0 ? &kp_nft_ext(d)->sport : &rule->dport, op, kp_nft_port(data),
             r->offset == 0 ? "sport" : "dport");
  } else {
    kp_rule_text_add(d->text, " [payload %u+%u]", r->base, r->offset);
  }
}

static void meta_cmp(struct kp_nft_dec *d, const struct kp_nft_reg *r, bool neg,
                     const uint8_t *data, uint32_t len) {
  struct kp_rule *rule = d->rule;
  switch (r->key) {
  case NFT_META_L4PROTO:
    set_proto(d, data[0], neg);
    break;
  case NFT_META_PROTOCOL:
    break; /* the table's family already says it */
  case NFT_META_IIFNAME:
    iface(d, &kp_nft_ext(d)->in_iface, data, len, neg, "-i");
    break;
  case NFT_META_OIFNAME:
    iface(d, &kp_nft_ext(d)->out_iface, data, len, neg, "-o");
    break;
  case NFT_META_MARK:
    kp_nft_ext(d)->mark.present = true;
    kp_nft_ext(d)->mark.negated = neg;
    kp_nft_ext(d)->mark.value = kp_nft_u32(data, len);
    kp_nft_ext(d)->mark.mask = r->bitwise ? kp_nft_u32(r->mask, 4) : 0xffffffffu;
    d->spell->mark(d->text, neg, kp_rule_ext(rule)->mark.value, kp_rule_ext(rule)->mark.mask);
    break;
  default:
    kp_rule_text_add(d->text, " [meta %u]", r->key);
    break;
  }
}

void kp_nft_expr_cmp(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg *r = kp_nft_slot(d, kp_nft_attr_get_u32(e, NFTA_CMP_SREG));
  uint32_t op = kp_nft_attr_get_u32(e, NFTA_CMP_OP), len;
  const uint8_t *data = kp_nft_attr_data(e, NFTA_CMP_DATA, &len);
  if (r == NULL || data == NULL)
    return;
  bool neg = op == NFT_CMP_NEQ;
  switch (r->src) {
  case KP_REG_PAYLOAD:
    payload_cmp(d, r, op, data, len);
    break;
  case KP_REG_META:
    meta_cmp(d, r, neg, data, len);
    break;
  case KP_REG_FIB:
    fib_cmp(d, r, kp_nft_u32(data, len), neg);
    break;
  case KP_REG_CT:
    if (r->key == NFT_CT_STATE) {
      uint32_t v = kp_nft_u32(data, len);
      if (r->bitwise && v == 0) /* ct state & bits != 0 */
        ct_state(d, kp_nft_u32(r->mask, 4), op == NFT_CMP_EQ);
      else
        ct_state(d, v, neg);
    } else {
      kp_rule_text_add(d->text, " [ct %u]", r->key);
    }
    break;
  default:
    break;
  }
}

void kp_nft_expr_range(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  struct kp_nft_reg *r = kp_nft_slot(d, kp_nft_attr_get_u32(e, NFTA_RANGE_SREG));
  uint32_t flen, tlen;
  const uint8_t *from = kp_nft_attr_data(e, NFTA_RANGE_FROM_DATA, &flen);
  const uint8_t *to = kp_nft_attr_data(e, NFTA_RANGE_TO_DATA, &tlen);
  if (r == NULL || from == NULL || to == NULL || r->src != KP_REG_PAYLOAD ||
      r->base != NFT_PAYLOAD_TRANSPORT_HEADER || flen != 2 || tlen != 2)
    return;
  struct kp_port_range *pr = r->offset == 0 ? &kp_nft_ext(d)->sport : &d->rule->dport;
  pr->present = true;
  pr->negated = kp_nft_attr_get_u32(e, NFTA_RANGE_OP) == NFT_RANGE_NEQ;
  pr->lo = kp_nft_port(from);
  pr->hi = kp_nft_port(to);
  kp_rule_text_add(d->text, "%s --%s %u:%u", pr->negated ? " !" : "",
                   r->offset == 0 ? "sport" : "dport", pr->lo, pr->hi);
}
