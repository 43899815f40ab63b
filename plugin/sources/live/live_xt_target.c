/* The x_tables targets kube-proxy uses (the standard verdict or jump, DNAT,
 * SNAT, MASQUERADE, MARK, REJECT), decoded from the payloads libiptc hands
 * back and iptables-nft's `target` expressions carry. Every payload is
 * size-checked against target_size and copied out before it is read. */
#include "live_xt.h"
#include "live_xt_payload.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The first range of a NAT target, whatever the struct revision. */
struct nat_range {
  unsigned flags;
  uint8_t min_addr[16], max_addr[16];
  uint16_t min_port, max_port; /* host order */
};

static bool nat_range_read(const struct kp_xt_ctx *ctx, const struct kp_xt_payload *p,
                           struct nat_range *out) {
  memset(out, 0, sizeof(*out));
  if (ctx->family == KP_FAMILY_IPV4 && p->revision == 0) {
    struct nf_nat_ipv4_multi_range_compat info;
    if (!KP_XT_FITS(p, info))
      return false;
    memcpy(&info, p->data, sizeof(info));
    out->flags = info.range[0].flags;
    memcpy(out->min_addr, &info.range[0].min_ip, 4);
    memcpy(out->max_addr, &info.range[0].max_ip, 4);
    out->min_port = ntohs(info.range[0].min.all);
    out->max_port = ntohs(info.range[0].max.all);
    return true;
  }
  /* nf_nat_range (revision 1, and IPv6 MASQUERADE revision 0) is a prefix of
   * nf_nat_range2 (revision 2). */
  struct nf_nat_range info;
  if (!KP_XT_FITS(p, info))
    return false;
  memcpy(&info, p->data, sizeof(info));
  out->flags = info.flags;
  memcpy(out->min_addr, &info.min_addr, 16);
  memcpy(out->max_addr, &info.max_addr, 16);
  out->min_port = ntohs(info.min_proto.all);
  out->max_port = ntohs(info.max_proto.all);
  return true;
}

/* Decimal digits of v at out; returns the end. */
static char *put_uint(char *out, unsigned v) {
  char digits[10];
  size_t n = 0;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0)
    *out++ = digits[--n];
  return out;
}

/* An address as inet_ntop writes it; IPv4 by hand (inet_ntop4 is a
 * sprintf: with the port's, 5 % of a read at 10k services, one DNAT rule
 * per endpoint). */
static char *put_addr(char *out, bool v6, const uint8_t *addr) {
  if (v6) {
    inet_ntop(AF_INET6, addr, out, INET6_ADDRSTRLEN);
    return out + strlen(out);
  }
  for (int i = 0; i < 4; i++) {
    if (i > 0)
      *out++ = '.';
    out = put_uint(out, addr[i]);
  }
  return out;
}

static int target_nat(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                      const char *opt, struct kp_rule_text *text) {
  struct nat_range r;
  if (!nat_range_read(ctx, p, &r))
    return 0;
  bool v6 = ctx->family == KP_FAMILY_IPV6;
  size_t alen = v6 ? 16 : 4;
  /* "[lo-hi]:lo-hi": two addresses, two ports, the brackets and dashes */
  char buf[2 * INET6_ADDRSTRLEN + 16];
  char *end = buf;
  if (r.flags & NF_NAT_RANGE_MAP_IPS) {
    rule->nat_addr.kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
    rule->nat_addr.prefix_len = (uint8_t)(alen * 8);
    memcpy(rule->nat_addr.bytes, r.min_addr, alen);
    bool bracket = v6 && (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED);
    if (bracket)
      *end++ = '[';
    end = put_addr(end, v6, r.min_addr);
    if (memcmp(r.min_addr, r.max_addr, alen) != 0) {
      *end++ = '-';
      end = put_addr(end, v6, r.max_addr);
    }
    if (bracket)
      *end++ = ']';
  }
  if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    rule->nat_ports.present = true;
    rule->nat_ports.lo = r.min_port;
    rule->nat_ports.hi = r.max_port;
    *end++ = ':';
    end = put_uint(end, r.min_port);
    if (r.min_port != r.max_port) {
      *end++ = '-';
      end = put_uint(end, r.max_port);
    }
  }
  *end = '\0';
  rule->random_fully = (r.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
  const char *ports_only = buf[0] == ':' ? buf + 1 : buf; /* MASQUERADE --to-ports 1-2 */
  if (buf[0] != '\0') {
    const char *nat_text = rule->target == KP_TARGET_MASQUERADE ? ports_only : buf;
    /* kp_rule_nat_text() formats it from the fields when they hold it all:
     * one address (an address range is kept as text) */
    if ((r.flags & NF_NAT_RANGE_MAP_IPS) && memcmp(r.min_addr, r.max_addr, alen) != 0) {
      struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
      if (ext == NULL || (ext->nat_text = kp_arena_strdup(&ctx->snap->arena, nat_text)) == NULL)
        return -1;
    } else {
      rule->nat_text_format = true;
    }
    kp_rule_text_add(text, " --%s %s", opt, nat_text);
  }
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM)
    kp_rule_text_add(text, " --random");
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY)
    kp_rule_text_add(text, " --random-fully");
  if (r.flags & NF_NAT_RANGE_PERSISTENT)
    kp_rule_text_add(text, " --persistent");
  return 0;
}

static int target_mark(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                       struct kp_rule_text *text) {
  struct xt_mark_tginfo2 info;
  if (p->revision != 2 || !KP_XT_FITS(p, info))
    return 0; /* revisions 0/1 predate Linux 2.6.25 */
  memcpy(&info, p->data, sizeof(info));
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  ext->mark_target = true;
  ext->xmark_value = info.mark;
  ext->xmark_mask = info.mask;
  kp_rule_text_add(text, " --set-xmark 0x%x/0x%x", info.mark, info.mask);
  return 0;
}

static int target_reject(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                         struct kp_rule_text *text) {
  static const char *const v4[] = {
      [IPT_ICMP_NET_UNREACHABLE] = "icmp-net-unreachable",
      [IPT_ICMP_HOST_UNREACHABLE] = "icmp-host-unreachable",
      [IPT_ICMP_PROT_UNREACHABLE] = "icmp-proto-unreachable",
      [IPT_ICMP_PORT_UNREACHABLE] = "icmp-port-unreachable",
      [IPT_ICMP_ECHOREPLY] = "echo-reply",
      [IPT_ICMP_NET_PROHIBITED] = "icmp-net-prohibited",
      [IPT_ICMP_HOST_PROHIBITED] = "icmp-host-prohibited",
      [IPT_TCP_RESET] = "tcp-reset",
      [IPT_ICMP_ADMIN_PROHIBITED] = "icmp-admin-prohibited",
  };
  static const char *const v6[] = {
      [IP6T_ICMP6_NO_ROUTE] = "icmp6-no-route",
      [IP6T_ICMP6_ADM_PROHIBITED] = "icmp6-adm-prohibited",
      [IP6T_ICMP6_NOT_NEIGHBOUR] = "icmp6-not-neighbour",
      [IP6T_ICMP6_ADDR_UNREACH] = "icmp6-addr-unreachable",
      [IP6T_ICMP6_PORT_UNREACH] = "icmp6-port-unreachable",
      [IP6T_ICMP6_ECHOREPLY] = "echo-reply",
      [IP6T_TCP_RESET] = "tcp-reset",
      [IP6T_ICMP6_POLICY_FAIL] = "icmp6-policy-fail",
      [IP6T_ICMP6_REJECT_ROUTE] = "icmp6-reject-route",
  };
  uint32_t with;
  if (p->len < sizeof(with))
    return 0;
  memcpy(&with, p->data, sizeof(with)); /* both structs are one 32-bit field */
  bool is6 = ctx->family == KP_FAMILY_IPV6;
  size_t n = is6 ? sizeof(v6) / sizeof(v6[0]) : sizeof(v4) / sizeof(v4[0]);
  const char *reject_with = with < n ? (is6 ? v6 : v4)[with] : NULL;
  if (reject_with == NULL)
    return 0;
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  ext->reject_with = reject_with;
  kp_rule_text_add(text, " --reject-with %s", reject_with);
  return 0;
}

static bool verdict_kind(const char *name, enum kp_target_kind *kind, const char **literal) {
  static const struct {
    const char *name;
    enum kp_target_kind kind;
  } verdicts[] = {{"ACCEPT", KP_TARGET_ACCEPT},
                  {"DROP", KP_TARGET_DROP},
                  {"RETURN", KP_TARGET_RETURN},
                  {"QUEUE", KP_TARGET_OTHER}};
  for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
    if (strcmp(name, verdicts[i].name) == 0) {
      *kind = verdicts[i].kind;
      *literal = verdicts[i].name;
      return true;
    }
  return false;
}

static int target_dnat(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                       struct kp_rule_text *text) {
  return target_nat(ctx, rule, p, "to-destination", text);
}
static int target_snat(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                       struct kp_rule_text *text) {
  return target_nat(ctx, rule, p, "to-source", text);
}
static int target_masquerade(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                             const struct kp_xt_payload *p, struct kp_rule_text *text) {
  return target_nat(ctx, rule, p, "to-ports", text);
}
static int target_mark_fn(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                          const struct kp_xt_payload *p, struct kp_rule_text *text) {
  return target_mark(ctx, rule, p, text);
}
static int target_reject_fn(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                            const struct kp_xt_payload *p, struct kp_rule_text *text) {
  return target_reject(ctx, rule, p, text);
}

/* The extension targets decoded, by kind: their name is kept as a literal
 * (most rules use one of these); any other target keeps a copy of its name. */
static const struct {
  enum kp_target_kind kind;
  const char *literal;
  int (*decode)(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                struct kp_rule_text *text);
} targets[] = {
    {KP_TARGET_DNAT, "DNAT", target_dnat},
    {KP_TARGET_SNAT, "SNAT", target_snat},
    {KP_TARGET_MASQUERADE, "MASQUERADE", target_masquerade},
    {KP_TARGET_MARK, "MARK", target_mark_fn},
    {KP_TARGET_REJECT, "REJECT", target_reject_fn},
};

int kp_xt_decode_target(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *target,
                        size_t avail, const char *verdict_name, bool is_goto,
                        struct kp_rule_text *text) {
  const size_t head = sizeof(struct xt_entry_target);
  struct xt_entry_target t;
  if (avail < head)
    return 0;
  memcpy(&t, target, head);
  size_t size = t.u.user.target_size;
  if (size < head || size > avail)
    return 0;
  char name[XT_EXTENSION_MAXNAMELEN + 1];
  memcpy(name, t.u.user.name, XT_EXTENSION_MAXNAMELEN);
  name[XT_EXTENSION_MAXNAMELEN] = '\0';
  if (verdict_name == NULL)
    verdict_name = "";

  /* The standard target ("" in the kernel): a verdict, a jump, or nothing. */
  if (name[0] == '\0' || strcmp(name, XT_STANDARD_TARGET) == 0) {
    /* A hint is only ever given for a chain's name: no need to read the
     * name (libiptc's, a cache miss per jump) to know it is a jump. */
    if (ctx->jump_hint != NULL) {
      rule->target = is_goto ? KP_TARGET_GOTO : KP_TARGET_JUMP;
      rule->target_name = ctx->jump_hint->name;
      kp_rule_text_add(text, " -%c %s", is_goto ? 'g' : 'j', verdict_name);
      return 0;
    }
    if (verdict_name[0] == '\0') {
      rule->target = KP_TARGET_NONE;
      return 0;
    }
    enum kp_target_kind kind;
    if (verdict_kind(verdict_name, &kind, &rule->target_name)) {
      rule->target = (uint8_t)kind;
      kp_rule_text_add(text, " -j %s", verdict_name);
      return 0;
    }
    rule->target = is_goto ? KP_TARGET_GOTO : KP_TARGET_JUMP;
    struct kp_chain *chain = kp_table_chain(ctx->table, verdict_name);
    rule->target_name =
        chain != NULL ? chain->name : kp_arena_strdup(&ctx->snap->arena, verdict_name);
    kp_rule_text_add(text, " -%c %s", is_goto ? 'g' : 'j', verdict_name);
    return rule->target_name == NULL ? -1 : 0;
  }

  rule->target = kp_target_kind_from_name(name);
  struct kp_xt_payload p = {(const unsigned char *)target + head, size - head, t.u.user.revision};
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
    if (targets[i].kind == rule->target) {
      rule->target_name = targets[i].literal;
      kp_rule_text_add(text, " -j %s", name);
      return targets[i].decode(ctx, rule, &p, text);
    }
  if ((rule->target_name = kp_arena_strdup(&ctx->snap->arena, name)) == NULL)
    return -1;
  kp_rule_text_add(text, " -j %s", name);
  return 0;
}
