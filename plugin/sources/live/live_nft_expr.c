/* Native nf_tables expressions of one rule -> struct kp_rule.
 *
 * Expressions work on registers: a load (payload, meta, fib, ct, numgen,
 * immediate) fills one, bitwise rewrites it, and cmp / range / lookup / nat /
 * meta set consume it. The decoder follows that data flow with a small model
 * of the 16 32-bit register slots, which is all iptables-nft and kube-proxy
 * write. Anything not understood goes into the rule text only. */
#include "live_nft_internal.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

enum reg_src { SRC_NONE = 0, SRC_PAYLOAD, SRC_META, SRC_FIB, SRC_CT, SRC_NUMGEN, SRC_IMM };

struct reg {
  enum reg_src src;
  uint32_t base, offset, len; /* payload */
  uint32_t key;               /* meta / ct key, fib flags */
  uint32_t fib_result;
  uint8_t data[16]; /* immediate */
  uint32_t data_len;
  bool bitwise;
  uint8_t mask[16], xor_[16];
};

#define SLOTS 16

struct dec {
  struct kp_nft_table_ctx *ctx;
  struct kp_rule *rule;
  struct kp_iptc_text text;
  struct reg regs[SLOTS];
  int rc;
};

/* NFT_REG_1..4 are 16-byte registers = 4 slots each; NFT_REG32_00.. one slot. */
static struct reg *slot(struct dec *d, uint32_t reg) {
  if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
    return &d->regs[(reg - NFT_REG_1) * 4];
  if (reg >= NFT_REG32_00 && reg < NFT_REG32_00 + SLOTS)
    return &d->regs[reg - NFT_REG32_00];
  return NULL;
}

static const void *get_data(const struct nftnl_expr *e, uint16_t attr, uint32_t *len) {
  *len = 0;
  if (!nftnl_expr_is_set(e, attr))
    return NULL;
  return nftnl_expr_get(e, attr, len);
}

static uint32_t u32_of(const uint8_t *data, uint32_t len) {
  uint32_t v = 0;
  memcpy(&v, data, len < 4 ? len : 4);
  return v;
}

static uint16_t port_of(const uint8_t *data) {
  return (uint16_t)(data[0] << 8 | data[1]);
}

static const char *sdup(struct dec *d, const char *s) {
  const char *out = kp_arena_strdup(&d->ctx->snap->arena, s);
  if (out == NULL)
    d->rc = -1;
  return out;
}

/* ---- loads ---------------------------------------------------------------- */

static void load(struct dec *d, const struct nftnl_expr *e, uint16_t dreg_attr, struct reg *tmpl) {
  if (!nftnl_expr_is_set(e, dreg_attr))
    return;
  struct reg *r = slot(d, nftnl_expr_get_u32(e, dreg_attr));
  if (r != NULL)
    *r = *tmpl;
}

static void expr_payload(struct dec *d, const struct nftnl_expr *e) {
  struct reg r = {.src = SRC_PAYLOAD};
  r.base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
  r.offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
  r.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
  load(d, e, NFTNL_EXPR_PAYLOAD_DREG, &r);
}

static void expr_bitwise(struct dec *d, const struct nftnl_expr *e) {
  struct reg *src = slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
  struct reg *dst = slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
  if (src == NULL || dst == NULL)
    return;
  if (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
      nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL) {
    dst->src = SRC_NONE; /* shifts: not used by the rules we read */
    return;
  }
  uint32_t mlen, xlen;
  const uint8_t *mask = get_data(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
  const uint8_t *xr = get_data(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
  struct reg out = *src;
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

/* ---- matches --------------------------------------------------------------- */

static uint8_t prefix_of(const struct reg *r, uint32_t len) {
  if (!r->bitwise)
    return (uint8_t)(len * 8);
  unsigned bits = 0;
  for (uint32_t i = 0; i < len; i++) {
    uint8_t m = r->mask[i];
    while (m & 0x80) {
      bits++;
      m = (uint8_t)(m << 1);
    }
    if (r->mask[i] != 0xff)
      break;
  }
  return (uint8_t)bits;
}

static void set_addr(struct dec *d, struct kp_addr *a, const struct reg *r, const uint8_t *data,
                     uint32_t len, bool neg, const char *opt) {
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  a->kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
  a->negated = neg;
  memset(a->bytes, 0, sizeof(a->bytes));
  memcpy(a->bytes, data, len > 16 ? 16 : len);
  a->prefix_len = prefix_of(r, len);
  char buf[64];
  inet_ntop(v6 ? AF_INET6 : AF_INET, a->bytes, buf, sizeof(buf));
  if (d->ctx->native)
    kp_iptc_text_add(&d->text, " ip%s %s %s%s/%u", v6 ? "6" : "", opt[1] == 's' ? "saddr" : "daddr",
                     neg ? "!= " : "", buf, a->prefix_len);
  else
    kp_iptc_text_add(&d->text, "%s %s %s/%u", neg ? " !" : "", opt, buf, a->prefix_len);
}

static const char *proto_name(uint8_t p, char *buf, size_t len) {
  switch (p) {
  case IPPROTO_TCP:
    return "tcp";
  case IPPROTO_UDP:
    return "udp";
  case IPPROTO_SCTP:
    return "sctp";
  case IPPROTO_ICMP:
    return "icmp";
  case IPPROTO_ICMPV6:
    return "ipv6-icmp";
  default:
    snprintf(buf, len, "%u", p);
    return buf;
  }
}

static void set_proto(struct dec *d, uint8_t p, bool neg) {
  struct kp_rule *rule = d->rule;
  rule->proto_present = true;
  rule->proto = p;
  rule->proto_negated = neg;
  char buf[8];
  kp_iptc_text_add(&d->text, d->ctx->native ? " meta l4proto %s%s" : "%s -p %s",
                   d->ctx->native ? (neg ? "!= " : "") : (neg ? " !" : ""),
                   proto_name(p, buf, sizeof(buf)));
}

/* Port match by op: eq/neq a single port, gte/lte one end of a range. */
static void port_cmp(struct dec *d, struct kp_port_range *pr, uint32_t op, uint16_t port,
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
  if (op == NFT_CMP_EQ || op == NFT_CMP_NEQ || op == NFT_CMP_LTE || op == NFT_CMP_LT) {
    if (pr->lo == pr->hi)
      kp_iptc_text_add(&d->text, d->ctx->native ? " th %s %s%u" : "%s --%s %u",
                       d->ctx->native ? opt : (pr->negated ? " !" : ""),
                       d->ctx->native ? (pr->negated ? "!= " : "") : opt, pr->lo);
    else
      kp_iptc_text_add(&d->text, d->ctx->native ? " th %s %u-%u" : " --%s %u:%u", opt, pr->lo,
                       pr->hi);
  }
}

static void iface(struct dec *d, const char **out, const uint8_t *data, uint32_t len, bool neg,
                  const char *opt) {
  char name[IFNAMSIZ + 2];
  size_t n = strnlen((const char *)data, len < IFNAMSIZ ? len : IFNAMSIZ);
  memcpy(name, data, n);
  /* iptables-nft compares only the prefix for "eth+": no terminating NUL. */
  if (n == len && n < IFNAMSIZ)
    name[n++] = '+';
  name[n] = '\0';
  *out = sdup(d, name);
  kp_iptc_text_add(&d->text, "%s %s %s", neg ? " !" : "", opt, name);
}

static const char *const rtn_names[] = {
    "UNSPEC",    "UNICAST",     "LOCAL",    "BROADCAST", "ANYCAST", "MULTICAST",
    "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",     "NAT",     "XRESOLVE",
};

static void fib_cmp(struct dec *d, const struct reg *r, uint32_t value, bool neg) {
  if (r->fib_result != NFT_FIB_RESULT_ADDRTYPE)
    return;
  const char *name = value < sizeof(rtn_names) / sizeof(rtn_names[0]) ? rtn_names[value] : "?";
  bool saddr = r->key & NFTA_FIB_F_SADDR;
  struct kp_rule *rule = d->rule;
  if (saddr) {
    rule->src_type = name;
    rule->src_type_negated = neg;
  } else {
    rule->dst_type = name;
    rule->dst_type_negated = neg;
  }
  if (d->ctx->native)
    kp_iptc_text_add(&d->text, " fib %s type %s%s", saddr ? "saddr" : "daddr", neg ? "!= " : "",
                     name);
  else
    kp_iptc_text_add(&d->text, " -m addrtype%s --%s-type %s", neg ? " !" : "",
                     saddr ? "src" : "dst", name);
}

/* ct state bits (NF_CT_STATE_BIT) in iptables' print order. */
static void ct_state(struct dec *d, uint32_t bits, bool neg) {
  static const struct {
    uint32_t bit;
    const char *name;
  } states[] = {{1u, "INVALID"},
                {1u << 3, "NEW"},
                {1u << 2, "RELATED"},
                {1u << 1, "ESTABLISHED"},
                {1u << 6, "UNTRACKED"}};
  char buf[80] = "";
  size_t used = 0;
  if (neg)
    buf[used++] = '!';
  buf[used] = '\0';
  for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
    if (bits & states[i].bit)
      used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
                               used > (neg ? 1u : 0u) ? "," : "", states[i].name);
  if (d->rule->ctstate == NULL)
    d->rule->ctstate = sdup(d, buf);
  kp_iptc_text_add(&d->text, d->ctx->native ? " ct state %s" : " -m conntrack --ctstate %s", buf);
}

static void expr_cmp(struct dec *d, const struct nftnl_expr *e) {
  struct reg *r = slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
  uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len;
  const uint8_t *data = get_data(e, NFTNL_EXPR_CMP_DATA, &len);
  if (r == NULL || data == NULL)
    return;
  bool neg = op == NFT_CMP_NEQ;
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  struct kp_rule *rule = d->rule;
  switch (r->src) {
  case SRC_PAYLOAD:
    if (r->base == NFT_PAYLOAD_NETWORK_HEADER) {
      uint32_t saddr = v6 ? 8 : 12, daddr = v6 ? 24 : 16, proto = v6 ? 6 : 9;
      if (r->offset == saddr && len <= (v6 ? 16u : 4u))
        set_addr(d, &rule->src, r, data, len, neg, "-s");
      else if (r->offset == daddr && len <= (v6 ? 16u : 4u))
        set_addr(d, &rule->dst, r, data, len, neg, "-d");
      else if (r->offset == proto && len == 1)
        set_proto(d, data[0], neg);
      else
        kp_iptc_text_add(&d->text, " [payload nh+%u]", r->offset);
    } else if (r->base == NFT_PAYLOAD_TRANSPORT_HEADER && len == 2 &&
               (r->offset == 0 || r->offset == 2)) {
      port_cmp(d, r->offset == 0 ? &rule->sport : &rule->dport, op, port_of(data),
               r->offset == 0 ? "sport" : "dport");
    } else {
      kp_iptc_text_add(&d->text, " [payload %u+%u]", r->base, r->offset);
    }
    break;
  case SRC_META:
    switch (r->key) {
    case NFT_META_L4PROTO:
    case NFT_META_PROTOCOL:
      if (r->key == NFT_META_L4PROTO)
        set_proto(d, data[0], neg);
      break;
    case NFT_META_IIFNAME:
      iface(d, &rule->in_iface, data, len, neg, "-i");
      break;
    case NFT_META_OIFNAME:
      iface(d, &rule->out_iface, data, len, neg, "-o");
      break;
    case NFT_META_MARK:
      rule->mark.present = true;
      rule->mark.negated = neg;
      rule->mark.value = u32_of(data, len);
      rule->mark.mask = r->bitwise ? u32_of(r->mask, 4) : 0xffffffffu;
      if (d->ctx->native)
        kp_iptc_text_add(&d->text, " mark and 0x%x %s 0x%x", rule->mark.mask,
                         neg ? "!=" : "==", rule->mark.value);
      else
        kp_iptc_text_add(&d->text, " -m mark%s --mark 0x%x/0x%x", neg ? " !" : "", rule->mark.value,
                         rule->mark.mask);
      break;
    default:
      kp_iptc_text_add(&d->text, " [meta %u]", r->key);
      break;
    }
    break;
  case SRC_FIB:
    fib_cmp(d, r, u32_of(data, len), neg);
    break;
  case SRC_CT:
    if (r->key == NFT_CT_STATE) {
      uint32_t v = u32_of(data, len);
      if (r->bitwise && v == 0) /* ct state & bits != 0 */
        ct_state(d, u32_of(r->mask, 4), op == NFT_CMP_EQ);
      else
        ct_state(d, v, neg);
    } else {
      kp_iptc_text_add(&d->text, " [ct %u]", r->key);
    }
    break;
  default:
    break;
  }
}

static void expr_range(struct dec *d, const struct nftnl_expr *e) {
  struct reg *r = slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG));
  uint32_t flen, tlen;
  const uint8_t *from = get_data(e, NFTNL_EXPR_RANGE_FROM_DATA, &flen);
  const uint8_t *to = get_data(e, NFTNL_EXPR_RANGE_TO_DATA, &tlen);
  if (r == NULL || from == NULL || to == NULL || r->src != SRC_PAYLOAD ||
      r->base != NFT_PAYLOAD_TRANSPORT_HEADER || flen != 2 || tlen != 2)
    return;
  struct kp_port_range *pr = r->offset == 0 ? &d->rule->sport : &d->rule->dport;
  pr->present = true;
  pr->negated = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ;
  pr->lo = port_of(from);
  pr->hi = port_of(to);
  kp_iptc_text_add(&d->text, "%s --%s %u:%u", pr->negated ? " !" : "",
                   r->offset == 0 ? "sport" : "dport", pr->lo, pr->hi);
}

/* ---- targets ----------------------------------------------------------------- */

static void set_target(struct dec *d, enum kp_target_kind kind, const char *name) {
  d->rule->target = kind;
  d->rule->target_name = name;
}

static void expr_immediate(struct dec *d, const struct nftnl_expr *e) {
  uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
  if (dreg != NFT_REG_VERDICT) {
    struct reg r = {.src = SRC_IMM};
    uint32_t len;
    const uint8_t *data = get_data(e, NFTNL_EXPR_IMM_DATA, &len);
    if (data != NULL) {
      r.data_len = len > 16 ? 16 : len;
      memcpy(r.data, data, r.data_len);
    }
    load(d, e, NFTNL_EXPR_IMM_DREG, &r);
    return;
  }
  int32_t verdict = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
  const char *native = NULL;
  switch (verdict) {
  case NF_ACCEPT:
    set_target(d, KP_TARGET_ACCEPT, "ACCEPT");
    native = "accept";
    break;
  case NF_DROP:
    set_target(d, KP_TARGET_DROP, "DROP");
    native = "drop";
    break;
  case NFT_RETURN:
    set_target(d, KP_TARGET_RETURN, "RETURN");
    native = "return";
    break;
  case NFT_JUMP:
  case NFT_GOTO: {
    const char *chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
    if (chain == NULL)
      return;
    const struct kp_chain *c = kp_table_chain(d->ctx->table, chain);
    bool go = verdict == NFT_GOTO;
    set_target(d, go ? KP_TARGET_GOTO : KP_TARGET_JUMP, c != NULL ? c->name : sdup(d, chain));
    kp_iptc_text_add(&d->text, d->ctx->native ? " %s %s" : " -%s %s",
                     d->ctx->native ? (go ? "goto" : "jump") : (go ? "g" : "j"), chain);
    return;
  }
  default:
    return;
  }
  kp_iptc_text_add(&d->text, d->ctx->native ? " %s" : " -j %s",
                   d->ctx->native ? native : d->rule->target_name);
}

static void expr_counter(struct dec *d, const struct nftnl_expr *e) {
  d->rule->counters.present = true;
  d->rule->counters.packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
  d->rule->counters.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
  if (d->ctx->native)
    kp_iptc_text_add(&d->text, " counter");
}

static void nat_text(struct dec *d, const struct reg *addr, const struct reg *port,
                     const struct reg *port_max) {
  struct kp_rule *rule = d->rule;
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  char buf[96] = "", ip[INET6_ADDRSTRLEN];
  size_t used = 0;
  if (addr != NULL && addr->src == SRC_IMM) {
    rule->nat_addr.kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
    rule->nat_addr.prefix_len = v6 ? 128 : 32;
    memcpy(rule->nat_addr.bytes, addr->data, v6 ? 16 : 4);
    inet_ntop(v6 ? AF_INET6 : AF_INET, addr->data, ip, sizeof(ip));
    bool bracket = v6 && port != NULL;
    used = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", bracket ? "[" : "", ip, bracket ? "]" : "");
  }
  if (port != NULL && port->src == SRC_IMM && port->data_len >= 2) {
    rule->nat_ports.present = true;
    rule->nat_ports.lo = rule->nat_ports.hi = port_of(port->data);
    if (port_max != NULL && port_max->src == SRC_IMM && port_max->data_len >= 2)
      rule->nat_ports.hi = port_of(port_max->data);
    if (rule->nat_ports.lo == rule->nat_ports.hi)
      snprintf(buf + used, sizeof(buf) - used, ":%u", rule->nat_ports.lo);
    else
      snprintf(buf + used, sizeof(buf) - used, ":%u-%u", rule->nat_ports.lo, rule->nat_ports.hi);
  }
  if (buf[0] != '\0') {
    const char *t = rule->target == KP_TARGET_MASQUERADE && buf[0] == ':' ? buf + 1 : buf;
    rule->nat_text = sdup(d, t);
    kp_iptc_text_add(&d->text, " %s", t);
  }
}

static struct reg *reg_attr(struct dec *d, const struct nftnl_expr *e, uint16_t attr) {
  return nftnl_expr_is_set(e, attr) ? slot(d, nftnl_expr_get_u32(e, attr)) : NULL;
}

static void expr_nat(struct dec *d, const struct nftnl_expr *e) {
  bool snat = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_SNAT;
  set_target(d, snat ? KP_TARGET_SNAT : KP_TARGET_DNAT, snat ? "SNAT" : "DNAT");
  kp_iptc_text_add(&d->text, d->ctx->native ? " %s to" : " -j %s --to",
                   d->ctx->native ? (snat ? "snat" : "dnat") : (snat ? "SNAT" : "DNAT"));
  nat_text(d, reg_attr(d, e, NFTNL_EXPR_NAT_REG_ADDR_MIN),
           reg_attr(d, e, NFTNL_EXPR_NAT_REG_PROTO_MIN),
           reg_attr(d, e, NFTNL_EXPR_NAT_REG_PROTO_MAX));
  if (nftnl_expr_is_set(e, NFTNL_EXPR_NAT_FLAGS))
    d->rule->random_fully =
        (nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FLAGS) & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
}

static void expr_masq(struct dec *d, const struct nftnl_expr *e) {
  set_target(d, KP_TARGET_MASQUERADE, "MASQUERADE");
  uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_FLAGS)
                       ? nftnl_expr_get_u32(e, NFTNL_EXPR_MASQ_FLAGS)
                       : 0;
  d->rule->random_fully = (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
  kp_iptc_text_add(&d->text, d->ctx->native ? " masquerade" : " -j MASQUERADE");
  nat_text(d, NULL, reg_attr(d, e, NFTNL_EXPR_MASQ_REG_PROTO_MIN),
           reg_attr(d, e, NFTNL_EXPR_MASQ_REG_PROTO_MAX));
  if (d->rule->random_fully)
    kp_iptc_text_add(&d->text, d->ctx->native ? " fully-random" : " --random-fully");
}

/* meta mark set <reg>: the register holds (mark & M) ^ X, or a constant. */
static void meta_set(struct dec *d, const struct nftnl_expr *e) {
  uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
  struct reg *r = slot(d, nftnl_expr_get_u32(e, NFTNL_EXPR_META_SREG));
  if (key != NFT_META_MARK || r == NULL) {
    kp_iptc_text_add(&d->text, " meta %u set", key);
    return;
  }
  struct kp_rule *rule = d->rule;
  if (r->src == SRC_META && r->key == NFT_META_MARK) {
    rule->xmark_mask = r->bitwise ? ~u32_of(r->mask, 4) : 0;
    rule->xmark_value = r->bitwise ? u32_of(r->xor_, 4) : 0;
  } else if (r->src == SRC_IMM) {
    rule->xmark_mask = 0xffffffffu;
    rule->xmark_value = u32_of(r->data, r->data_len);
  } else {
    return;
  }
  rule->mark_target = true;
  set_target(d, KP_TARGET_MARK, "MARK");
  kp_iptc_text_add(&d->text,
                   d->ctx->native ? " meta mark set xmark 0x%x/0x%x"
                                  : " -j MARK --set-xmark 0x%x/0x%x",
                   rule->xmark_value, rule->xmark_mask);
}

static void expr_meta(struct dec *d, const struct nftnl_expr *e) {
  if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) {
    meta_set(d, e);
    return;
  }
  struct reg r = {.src = SRC_META, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)};
  load(d, e, NFTNL_EXPR_META_DREG, &r);
}

static void expr_lookup(struct dec *d, const struct nftnl_expr *e) {
  const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
  if (set == NULL)
    return;
  bool vmap = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
              nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT;
  bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
             (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
  const struct kp_set *anon = kp_nft_anon_set(d->ctx, set);
  if (!vmap) {
    kp_iptc_text_add(&d->text, " %s@%s", inv ? "!= " : "", set);
    return;
  }
  if (anon == NULL) {
    char name[300];
    snprintf(name, sizeof(name), "@%s", set);
    d->rule->vmap_set = sdup(d, name);
    kp_iptc_text_add(&d->text, " vmap @%s", set);
    return;
  }
  kp_iptc_text_add(&d->text, " vmap {");
  for (size_t i = 0; i < anon->elems.count; i++) {
    const struct kp_set_elem *el = anon->elems.items[i];
    kp_iptc_text_add(&d->text, "%s %s : %s%s%s", i ? "," : "", el->key ? el->key : "?",
                     el->verdict ? el->verdict : "", el->chain ? " " : "",
                     el->chain ? el->chain : "");
    if (el->chain != NULL && kp_rule_add_vmap_chain(d->ctx->snap, d->rule, el->chain) != 0)
      d->rc = -1;
  }
  kp_iptc_text_add(&d->text, " }");
}

static void expr_xt(struct dec *d, const struct nftnl_expr *e, bool target) {
  uint16_t name_attr = target ? NFTNL_EXPR_TG_NAME : NFTNL_EXPR_MT_NAME;
  uint16_t rev_attr = target ? NFTNL_EXPR_TG_REV : NFTNL_EXPR_MT_REV;
  uint16_t info_attr = target ? NFTNL_EXPR_TG_INFO : NFTNL_EXPR_MT_INFO;
  const char *name = nftnl_expr_get_str(e, name_attr);
  if (name == NULL)
    return;
  uint32_t len;
  const void *info = get_data(e, info_attr, &len);
  uint32_t rev = nftnl_expr_get_u32(e, rev_attr);
  int rc = target ? kp_nft_xt_target(d->ctx, d->rule, name, rev, info, info ? len : 0, &d->text)
                  : kp_nft_xt_match(d->ctx, d->rule, name, rev, info, info ? len : 0, &d->text);
  if (rc != 0)
    d->rc = -1;
}

static int expr_cb(struct nftnl_expr *e, void *arg) {
  struct dec *d = arg;
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name == NULL)
    return 0;
  if (strcmp(name, "payload") == 0) {
    expr_payload(d, e);
  } else if (strcmp(name, "cmp") == 0) {
    expr_cmp(d, e);
  } else if (strcmp(name, "bitwise") == 0) {
    expr_bitwise(d, e);
  } else if (strcmp(name, "meta") == 0) {
    expr_meta(d, e);
  } else if (strcmp(name, "immediate") == 0) {
    expr_immediate(d, e);
  } else if (strcmp(name, "counter") == 0) {
    expr_counter(d, e);
  } else if (strcmp(name, "match") == 0 || strcmp(name, "target") == 0) {
    expr_xt(d, e, name[0] == 't');
  } else if (strcmp(name, "lookup") == 0) {
    expr_lookup(d, e);
  } else if (strcmp(name, "nat") == 0) {
    expr_nat(d, e);
  } else if (strcmp(name, "masq") == 0) {
    expr_masq(d, e);
  } else if (strcmp(name, "range") == 0) {
    expr_range(d, e);
  } else if (strcmp(name, "fib") == 0) {
    struct reg r = {.src = SRC_FIB,
                    .key = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS),
                    .fib_result = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT)};
    load(d, e, NFTNL_EXPR_FIB_DREG, &r);
  } else if (strcmp(name, "ct") == 0) {
    struct reg r = {.src = SRC_CT, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY)};
    load(d, e, NFTNL_EXPR_CT_DREG, &r);
  } else if (strcmp(name, "numgen") == 0) {
    struct reg r = {.src = SRC_NUMGEN};
    load(d, e, NFTNL_EXPR_NG_DREG, &r);
    kp_iptc_text_add(&d->text, " numgen random mod %u",
                     nftnl_expr_get_u32(e, NFTNL_EXPR_NG_MODULUS));
  } else if (strcmp(name, "reject") == 0) {
    set_target(d, KP_TARGET_REJECT, "REJECT");
    kp_iptc_text_add(&d->text, d->ctx->native ? " reject" : " -j REJECT");
  } else if (strcmp(name, "objref") == 0) {
    const char *obj = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
    kp_iptc_text_add(&d->text, " objref %s", obj ? obj : "?");
  } else {
    kp_iptc_text_add(&d->text, " %s", name);
  }
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
  struct dec d;
  memset(&d, 0, sizeof(d));
  d.ctx = ctx;
  d.rule = rule;
  rule->line = 0;
  if (!ctx->native)
    kp_iptc_text_add(&d.text, "-A %s", rule->chain->name);
  else
    kp_iptc_text_add(&d.text, "%s", "");
  nftnl_expr_foreach((struct nftnl_rule *)nr, expr_cb, &d);
  if (d.rc != 0)
    return -1;
  if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)) {
    uint32_t len;
    const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
    const char *comment = NULL;
    nftnl_udata_parse(ud, len, udata_comment_cb, &comment);
    if (comment != NULL) {
      kp_iptc_text_add(&d.text, " comment \"%s\"", comment);
      if (rule->comment == NULL && (rule->comment = sdup(&d, comment)) == NULL)
        return -1;
    }
  }
  if (!ctx->snap->rule_text)
    return 0;
  const char *text = d.text.buf[0] == ' ' ? d.text.buf + 1 : d.text.buf;
  rule->text = kp_arena_strdup(&ctx->snap->arena, text);
  return rule->text == NULL ? -1 : 0;
}
