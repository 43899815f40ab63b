/* Decodes the x_tables match and target payloads libiptc hands back, for the
 * handful of extensions kube-proxy uses. Every payload is size-checked
 * against match_size/target_size and copied into a local struct before it is
 * read (libiptc's copies carry no alignment promise). */
#include "live_iptc_xt.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- text ---------------------------------------------------------------- */

void kp_iptc_text_add(struct kp_iptc_text *text, const char *fmt, ...) {
  if (text == NULL || text->len >= sizeof(text->buf) - 1)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text->buf + text->len, sizeof(text->buf) - text->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  text->len += (size_t)n;
  if (text->len >= sizeof(text->buf))
    text->len = sizeof(text->buf) - 1; /* truncated: display only */
}

/* Names of a 16-bit bitmask, comma-joined, in bit order. */
static void join_bits(char *out, size_t len, unsigned bits, const char *const *names,
                      size_t n_names) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n_names; i++) {
    if (!(bits & (1u << i)) || names[i] == NULL)
      continue;
    int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", names[i]);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
}

/* ---- ipset names ------------------------------------------------------------ */

void kp_iptc_ctx_init(struct kp_iptc_ctx *ctx, struct kp_snapshot *snap, struct kp_table *table,
                      enum kp_family family) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->snap = snap;
  ctx->table = table;
  ctx->family = family;
  ctx->sets.fd = -1;
}

void kp_iptc_ctx_done(struct kp_iptc_ctx *ctx) {
  if (ctx->sets.fd >= 0)
    close(ctx->sets.fd);
  ctx->sets.fd = -1;
}

/* Same protocol as iptables' libxt_set: IP_SET_OP_VERSION, then
 * IP_SET_OP_GET_BYINDEX on a raw socket of the current namespace. NULL when
 * the kernel cannot say. */
static const char *set_name_query(struct kp_iptc_ctx *ctx, uint16_t index) {
  struct kp_iptc_sets *sets = &ctx->sets;
  if (sets->fd == -2)
    return NULL;
  if (sets->fd == -1) {
    sets->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    struct ip_set_req_version req = {.op = IP_SET_OP_VERSION};
    socklen_t size = sizeof(req);
    if (sets->fd < 0 || getsockopt(sets->fd, SOL_IP, SO_IP_SET, &req, &size) != 0) {
      if (sets->fd >= 0)
        close(sets->fd);
      sets->fd = -2;
      return NULL;
    }
    sets->version = req.version;
  }
  struct ip_set_req_get_set req = {.op = IP_SET_OP_GET_BYINDEX, .version = sets->version};
  req.set.index = index;
  socklen_t size = sizeof(req);
  if (getsockopt(sets->fd, SOL_IP, SO_IP_SET, &req, &size) != 0 || size != sizeof(req) ||
      req.set.name[0] == '\0')
    return NULL;
  return kp_arena_strndup(&ctx->snap->arena, req.set.name, strnlen(req.set.name, IPSET_MAXNAMELEN));
}

/* The set's name, or "(index N)" when ipset cannot name it; cached per read. */
static const char *set_name(struct kp_iptc_ctx *ctx, uint16_t index) {
  struct kp_iptc_sets *sets = &ctx->sets;
  for (size_t i = 0; i < sets->count; i++)
    if (sets->items[i].index == index)
      return sets->items[i].name;
  const char *name = set_name_query(ctx, index);
  if (name == NULL) {
    char fallback[32];
    snprintf(fallback, sizeof(fallback), "(index %u)", (unsigned)index);
    if ((name = kp_arena_strdup(&ctx->snap->arena, fallback)) == NULL)
      return NULL;
  }
  if (sets->count < KP_IPTC_SET_CACHE) {
    sets->items[sets->count].index = index;
    sets->items[sets->count].name = name;
    sets->count++;
  }
  return name;
}

/* ---- matches ---------------------------------------------------------------- */

struct payload {
  const unsigned char *data;
  size_t len;
  uint8_t revision;
};

#define FITS(p, type) ((p)->len >= sizeof(type))

static int match_comment(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                         struct kp_iptc_text *text) {
  size_t max = p->len < XT_MAX_COMMENT_LEN ? p->len : XT_MAX_COMMENT_LEN;
  size_t n = strnlen((const char *)p->data, max);
  if (rule->comment == NULL) {
    /* kube-proxy repeats a comment on neighbouring rules: share the copy. */
    const char *last = ctx->last_comment;
    if (last != NULL && strncmp(last, (const char *)p->data, n) == 0 && last[n] == '\0')
      rule->comment = last;
    else
      rule->comment = kp_arena_strndup(&ctx->snap->arena, (const char *)p->data, n);
    if (rule->comment == NULL)
      return -1;
    ctx->last_comment = rule->comment;
  }
  kp_iptc_text_add(text, " -m comment --comment \"%.*s\"", (int)n, (const char *)p->data);
  return 0;
}

static void ports(struct kp_port_range *out, const uint16_t pts[2], bool inv, const char *opt,
                  struct kp_iptc_text *text) {
  if (pts[0] == 0 && pts[1] == 0xffff)
    return;
  out->present = true;
  out->negated = inv;
  out->lo = pts[0];
  out->hi = pts[1];
  if (pts[0] == pts[1])
    kp_iptc_text_add(text, "%s --%s %u", inv ? " !" : "", opt, pts[0]);
  else
    kp_iptc_text_add(text, "%s --%s %u:%u", inv ? " !" : "", opt, pts[0], pts[1]);
}

static void match_tcpudp(struct kp_rule *rule, const struct payload *p, bool tcp,
                         struct kp_iptc_text *text) {
  uint16_t spts[2], dpts[2];
  uint8_t inv;
  kp_iptc_text_add(text, " -m %s", tcp ? "tcp" : "udp");
  if (tcp) {
    struct xt_tcp info;
    if (!FITS(p, info))
      return;
    memcpy(&info, p->data, sizeof(info));
    memcpy(spts, info.spts, sizeof(spts));
    memcpy(dpts, info.dpts, sizeof(dpts));
    inv = info.invflags;
  } else {
    struct xt_udp info;
    if (!FITS(p, info))
      return;
    memcpy(&info, p->data, sizeof(info));
    memcpy(spts, info.spts, sizeof(spts));
    memcpy(dpts, info.dpts, sizeof(dpts));
    inv = info.invflags;
  }
  ports(&rule->sport, spts, inv & XT_TCP_INV_SRCPT, "sport", text);
  ports(&rule->dport, dpts, inv & XT_TCP_INV_DSTPT, "dport", text);
}

static void match_mark(struct kp_rule *rule, const struct payload *p, struct kp_iptc_text *text) {
  struct xt_mark_mtinfo1 info;
  if (p->revision != 1 || !FITS(p, info)) {
    kp_iptc_text_add(text, " -m mark");
    return;
  }
  memcpy(&info, p->data, sizeof(info));
  rule->mark.present = true;
  rule->mark.negated = info.invert != 0;
  rule->mark.value = info.mark;
  rule->mark.mask = info.mask;
  if (info.mask == 0xffffffffu)
    kp_iptc_text_add(text, " -m mark%s --mark 0x%x", info.invert ? " !" : "", info.mark);
  else
    kp_iptc_text_add(text, " -m mark%s --mark 0x%x/0x%x", info.invert ? " !" : "", info.mark,
                     info.mask);
}

static const char *const addrtype_names[] = {
    "UNSPEC",    "UNICAST",     "LOCAL",    "BROADCAST", "ANYCAST", "MULTICAST",
    "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",     "NAT",     "XRESOLVE",
};

static int addrtype_one(struct kp_iptc_ctx *ctx, uint16_t bits, bool inv, const char **out,
                        bool *negated, const char *opt, struct kp_iptc_text *text) {
  if (bits == 0)
    return 0;
  char names[160];
  join_bits(names, sizeof(names), bits, addrtype_names,
            sizeof(addrtype_names) / sizeof(addrtype_names[0]));
  *out = kp_arena_strdup(&ctx->snap->arena, names);
  *negated = inv;
  kp_iptc_text_add(text, "%s --%s %s", inv ? " !" : "", opt, names);
  return *out == NULL ? -1 : 0;
}

static int match_addrtype(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                          struct kp_iptc_text *text) {
  uint16_t src, dst;
  bool inv_src, inv_dst;
  if (p->revision == 0) {
    struct xt_addrtype_info info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    src = info.source, dst = info.dest;
    inv_src = info.invert_source != 0, inv_dst = info.invert_dest != 0;
  } else {
    struct xt_addrtype_info_v1 info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    src = info.source, dst = info.dest;
    inv_src = info.flags & XT_ADDRTYPE_INVERT_SOURCE;
    inv_dst = info.flags & XT_ADDRTYPE_INVERT_DEST;
  }
  kp_iptc_text_add(text, " -m addrtype");
  if (addrtype_one(ctx, src, inv_src, &rule->src_type, &rule->src_type_negated, "src-type", text) ||
      addrtype_one(ctx, dst, inv_dst, &rule->dst_type, &rule->dst_type_negated, "dst-type", text))
    return -1;
  return 0;
}

static int match_set(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                     struct kp_iptc_text *text) {
  uint16_t index;
  bool inv;
  char flags[64] = "";
  size_t used = 0;
  if (p->revision == 0) {
    struct xt_set_info_match_v0 info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    index = info.match_set.index;
    inv = info.match_set.u.flags[0] & IPSET_MATCH_INV;
    for (int i = 0; i < IPSET_DIM_MAX && info.match_set.u.flags[i]; i++)
      used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s", i ? "," : "",
                               info.match_set.u.flags[i] & IPSET_SRC ? "src" : "dst");
  } else {
    /* Revisions 1..4 all start with struct xt_set_info. */
    struct xt_set_info_match_v1 info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    index = info.match_set.index;
    inv = info.match_set.flags & IPSET_INV_MATCH;
    unsigned dim = info.match_set.dim > IPSET_DIM_MAX ? IPSET_DIM_MAX : info.match_set.dim;
    for (unsigned i = 1; i <= dim; i++)
      used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s", i > 1 ? "," : "",
                               info.match_set.flags & (1u << i) ? "src" : "dst");
  }
  const char *name = set_name(ctx, index);
  if (rule->match_set == NULL) {
    rule->match_set = name;
    rule->match_set_flags = kp_arena_strdup(&ctx->snap->arena, flags);
    rule->match_set_negated = inv;
    if (name == NULL || rule->match_set_flags == NULL)
      return -1;
  }
  kp_iptc_text_add(text, " -m set%s --match-set %s %s", inv ? " !" : "", name ? name : "?", flags);
  return 0;
}

/* Order as iptables prints them; bit positions as the kernel defines them. */
static void ctstate_text(char *out, size_t len, unsigned mask, bool conntrack) {
  const struct {
    unsigned bit;
    const char *name;
  } states[] = {
      {XT_STATE_INVALID, "INVALID"},
      {XT_STATE_BIT(IP_CT_NEW), "NEW"},
      {XT_STATE_BIT(IP_CT_RELATED), "RELATED"},
      {XT_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
      {conntrack ? XT_CONNTRACK_STATE_UNTRACKED : XT_STATE_UNTRACKED, "UNTRACKED"},
      {conntrack ? XT_CONNTRACK_STATE_SNAT : 0, "SNAT"},
      {conntrack ? XT_CONNTRACK_STATE_DNAT : 0, "DNAT"},
  };
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
    if (states[i].bit == 0 || !(mask & states[i].bit))
      continue;
    int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", states[i].name);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
}

/* ctstate is kept as text; a negated match is stored with a leading "!". */
static int set_ctstate(struct kp_iptc_ctx *ctx, struct kp_rule *rule, unsigned mask, bool inv,
                       bool conntrack, bool alias, struct kp_iptc_text *text) {
  char names[96];
  ctstate_text(names, sizeof(names), mask, conntrack);
  kp_iptc_text_add(text, alias ? " -m state%s --state %s" : " -m conntrack%s --ctstate %s",
                   inv ? " !" : "", names);
  if (rule->ctstate != NULL)
    return 0;
  char stored[100];
  snprintf(stored, sizeof(stored), "%s%s", inv ? "!" : "", names);
  rule->ctstate = kp_arena_strdup(&ctx->snap->arena, stored);
  return rule->ctstate == NULL ? -1 : 0;
}

static int match_conntrack(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                           struct kp_iptc_text *text) {
  unsigned mask, match_flags, invert_flags;
  if (p->revision == 1) {
    struct xt_conntrack_mtinfo1 info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    mask = info.state_mask, match_flags = info.match_flags, invert_flags = info.invert_flags;
  } else if (p->revision == 2 || p->revision == 3) {
    /* mtinfo3 extends mtinfo2; the state fields sit at the same place. */
    struct xt_conntrack_mtinfo2 info;
    if (!FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    mask = info.state_mask, match_flags = info.match_flags, invert_flags = info.invert_flags;
  } else {
    kp_iptc_text_add(text, " -m conntrack");
    return 0;
  }
  if (!(match_flags & XT_CONNTRACK_STATE)) {
    kp_iptc_text_add(text, " -m conntrack");
    return 0;
  }
  /* iptables >= 1.8 writes "-m state" as a conntrack match with this flag. */
  bool alias = match_flags & XT_CONNTRACK_STATE_ALIAS;
  return set_ctstate(ctx, rule, mask, invert_flags & XT_CONNTRACK_STATE, true, alias, text);
}

static int match_state(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                       struct kp_iptc_text *text) {
  struct xt_state_info info;
  if (!FITS(p, info))
    return 0;
  memcpy(&info, p->data, sizeof(info));
  return set_ctstate(ctx, rule, info.statemask, false, false, true, text);
}

static int match_statistic(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                           struct kp_iptc_text *text) {
  struct xt_statistic_info info;
  if (!FITS(p, info))
    return 0;
  memcpy(&info, p->data, sizeof(info));
  const char *inv = (info.flags & XT_STATISTIC_INVERT) ? " !" : "";
  if (info.mode == XT_STATISTIC_MODE_NTH) {
    kp_iptc_text_add(text, " -m statistic --mode nth%s --every %u --packet %u", inv,
                     info.u.nth.every + 1, info.u.nth.packet);
    return 0;
  }
  /* iptables prints probability / 2^31 with 11 decimals ("0.50000000000"). */
  char prob[32];
  snprintf(prob, sizeof(prob), "%.11f", (double)info.u.random.probability / 2147483648.0);
  kp_iptc_text_add(text, " -m statistic --mode random%s --probability %s", inv, prob);
  if (rule->probability == NULL)
    rule->probability = kp_arena_strdup(&ctx->snap->arena, prob);
  return rule->probability == NULL ? -1 : 0;
}

static int decode_match(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const char *name,
                        const struct payload *p, struct kp_iptc_text *text) {
  if (strcmp(name, "comment") == 0)
    return match_comment(ctx, rule, p, text);
  if (strcmp(name, "tcp") == 0 || strcmp(name, "udp") == 0) {
    match_tcpudp(rule, p, name[0] == 't', text);
    return 0;
  }
  if (strcmp(name, "mark") == 0) {
    match_mark(rule, p, text);
    return 0;
  }
  if (strcmp(name, "addrtype") == 0)
    return match_addrtype(ctx, rule, p, text);
  if (strcmp(name, "set") == 0)
    return match_set(ctx, rule, p, text);
  if (strcmp(name, "conntrack") == 0)
    return match_conntrack(ctx, rule, p, text);
  if (strcmp(name, "state") == 0)
    return match_state(ctx, rule, p, text);
  if (strcmp(name, "statistic") == 0)
    return match_statistic(ctx, rule, p, text);
  kp_iptc_text_add(text, " -m %s", name);
  return 0;
}

int kp_iptc_decode_matches(struct kp_iptc_ctx *ctx, struct kp_rule *rule,
                           const unsigned char *elems, size_t len, struct kp_iptc_text *text) {
  const size_t head = sizeof(struct xt_entry_match);
  size_t off = 0;
  while (len - off >= head) {
    struct xt_entry_match m;
    memcpy(&m, elems + off, head);
    size_t size = m.u.user.match_size;
    if (size < head || size > len - off)
      break; /* malformed: stop rather than read past the entry */
    char name[XT_EXTENSION_MAXNAMELEN + 1];
    memcpy(name, m.u.user.name, XT_EXTENSION_MAXNAMELEN);
    name[XT_EXTENSION_MAXNAMELEN] = '\0';
    struct payload p = {elems + off + head, size - head, m.u.user.revision};
    if (decode_match(ctx, rule, name, &p, text) != 0)
      return -1;
    off += size;
  }
  return 0;
}

/* ---- targets ------------------------------------------------------------------ */

/* The first range of a NAT target, whatever the struct revision. */
struct nat_range {
  unsigned flags;
  uint8_t min_addr[16], max_addr[16];
  uint16_t min_port, max_port; /* host order */
};

static bool nat_range_read(const struct kp_iptc_ctx *ctx, const struct payload *p,
                           struct nat_range *out) {
  memset(out, 0, sizeof(*out));
  if (ctx->family == KP_FAMILY_IPV4 && p->revision == 0) {
    struct nf_nat_ipv4_multi_range_compat info;
    if (!FITS(p, info))
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
  if (!FITS(p, info))
    return false;
  memcpy(&info, p->data, sizeof(info));
  out->flags = info.flags;
  memcpy(out->min_addr, &info.min_addr, 16);
  memcpy(out->max_addr, &info.max_addr, 16);
  out->min_port = ntohs(info.min_proto.all);
  out->max_port = ntohs(info.max_proto.all);
  return true;
}

static int target_nat(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                      const char *opt, struct kp_iptc_text *text) {
  struct nat_range r;
  if (!nat_range_read(ctx, p, &r))
    return 0;
  bool v6 = ctx->family == KP_FAMILY_IPV6;
  size_t alen = v6 ? 16 : 4;
  char buf[128] = "", lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
  size_t used = 0;
  if (r.flags & NF_NAT_RANGE_MAP_IPS) {
    rule->nat_addr.kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
    rule->nat_addr.prefix_len = (uint8_t)(alen * 8);
    memcpy(rule->nat_addr.bytes, r.min_addr, alen);
    inet_ntop(v6 ? AF_INET6 : AF_INET, r.min_addr, lo, sizeof(lo));
    inet_ntop(v6 ? AF_INET6 : AF_INET, r.max_addr, hi, sizeof(hi));
    bool range = memcmp(r.min_addr, r.max_addr, alen) != 0;
    bool bracket = v6 && (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED);
    used += (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s%s", bracket ? "[" : "", lo,
                             range ? "-" : "", range ? hi : "", bracket ? "]" : "");
  }
  if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    rule->nat_ports.present = true;
    rule->nat_ports.lo = r.min_port;
    rule->nat_ports.hi = r.max_port;
    if (r.min_port == r.max_port)
      snprintf(buf + used, sizeof(buf) - used, ":%u", r.min_port);
    else
      snprintf(buf + used, sizeof(buf) - used, ":%u-%u", r.min_port, r.max_port);
  }
  rule->random_fully = (r.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
  const char *ports_only = buf[0] == ':' ? buf + 1 : buf; /* MASQUERADE --to-ports 1-2 */
  if (buf[0] != '\0') {
    rule->nat_text =
        kp_arena_strdup(&ctx->snap->arena, rule->target == KP_TARGET_MASQUERADE ? ports_only : buf);
    if (rule->nat_text == NULL)
      return -1;
    kp_iptc_text_add(text, " --%s %s", opt, rule->nat_text);
  }
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM)
    kp_iptc_text_add(text, " --random");
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY)
    kp_iptc_text_add(text, " --random-fully");
  if (r.flags & NF_NAT_RANGE_PERSISTENT)
    kp_iptc_text_add(text, " --persistent");
  return 0;
}

static void target_mark(struct kp_rule *rule, const struct payload *p, struct kp_iptc_text *text) {
  struct xt_mark_tginfo2 info;
  if (p->revision != 2 || !FITS(p, info))
    return; /* revisions 0/1 predate Linux 2.6.25 */
  memcpy(&info, p->data, sizeof(info));
  rule->mark_target = true;
  rule->xmark_value = info.mark;
  rule->xmark_mask = info.mask;
  kp_iptc_text_add(text, " --set-xmark 0x%x/0x%x", info.mark, info.mask);
}

static void target_reject(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const struct payload *p,
                          struct kp_iptc_text *text) {
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
    return;
  memcpy(&with, p->data, sizeof(with)); /* both structs are one 32-bit field */
  bool is6 = ctx->family == KP_FAMILY_IPV6;
  size_t n = is6 ? sizeof(v6) / sizeof(v6[0]) : sizeof(v4) / sizeof(v4[0]);
  rule->reject_with = with < n ? (is6 ? v6 : v4)[with] : NULL;
  if (rule->reject_with != NULL)
    kp_iptc_text_add(text, " --reject-with %s", rule->reject_with);
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

/* Extension target names kept as literals (most rules use one of these). */
static const char *known_target_literal(enum kp_target_kind kind) {
  switch (kind) {
  case KP_TARGET_REJECT:
    return "REJECT";
  case KP_TARGET_DNAT:
    return "DNAT";
  case KP_TARGET_SNAT:
    return "SNAT";
  case KP_TARGET_MASQUERADE:
    return "MASQUERADE";
  case KP_TARGET_MARK:
    return "MARK";
  default:
    return NULL;
  }
}

int kp_iptc_decode_target(struct kp_iptc_ctx *ctx, struct kp_rule *rule, const void *target,
                          size_t avail, const char *verdict_name, bool is_goto,
                          struct kp_iptc_text *text) {
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
    if (verdict_name[0] == '\0') {
      rule->target = KP_TARGET_NONE;
      return 0;
    }
    if (verdict_kind(verdict_name, &rule->target, &rule->target_name)) {
      kp_iptc_text_add(text, " -j %s", verdict_name);
      return 0;
    }
    rule->target = is_goto ? KP_TARGET_GOTO : KP_TARGET_JUMP;
    struct kp_chain *chain = kp_table_chain(ctx->table, verdict_name);
    rule->target_name =
        chain != NULL ? chain->name : kp_arena_strdup(&ctx->snap->arena, verdict_name);
    kp_iptc_text_add(text, " -%c %s", is_goto ? 'g' : 'j', verdict_name);
    return rule->target_name == NULL ? -1 : 0;
  }

  rule->target = kp_target_kind_from_name(name);
  rule->target_name = known_target_literal(rule->target);
  if (rule->target_name == NULL &&
      (rule->target_name = kp_arena_strdup(&ctx->snap->arena, name)) == NULL)
    return -1;
  kp_iptc_text_add(text, " -j %s", name);
  struct payload p = {(const unsigned char *)target + head, size - head, t.u.user.revision};
  switch (rule->target) {
  case KP_TARGET_DNAT:
    return target_nat(ctx, rule, &p, "to-destination", text);
  case KP_TARGET_SNAT:
    return target_nat(ctx, rule, &p, "to-source", text);
  case KP_TARGET_MASQUERADE:
    return target_nat(ctx, rule, &p, "to-ports", text);
  case KP_TARGET_MARK:
    target_mark(rule, &p, text);
    return 0;
  case KP_TARGET_REJECT:
    target_reject(ctx, rule, &p, text);
    return 0;
  default:
    return 0;
  }
}
