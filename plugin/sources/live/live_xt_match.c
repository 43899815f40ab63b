/* The x_tables matches kube-proxy uses (comment, tcp/udp, mark, addrtype,
 * set, conntrack/state, statistic), decoded from the payloads libiptc hands
 * back and iptables-nft's `match` expressions carry. Every payload is
 * size-checked against match_size and copied into a local struct before it
 * is read. */
#include "kp/names.h"
#include "live_xt.h"
#include "live_xt_payload.h"

#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <stdio.h>
#include <string.h>

void kp_xt_ctx_init(struct kp_xt_ctx *ctx, struct kp_snapshot *snap, struct kp_table *table,
                    enum kp_family family) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->snap = snap;
  ctx->table = table;
  ctx->family = family;
  kp_ipset_names_init(&ctx->sets);
}

void kp_xt_ctx_done(struct kp_xt_ctx *ctx) {
  kp_ipset_names_done(&ctx->sets);
}

/* ---- matches ---------------------------------------------------------------- */

static int match_comment(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                         struct kp_rule_text *text) {
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
  kp_rule_text_add(text, " -m comment --comment \"%.*s\"", (int)n, (const char *)p->data);
  return 0;
}

static void ports(struct kp_port_range *out, const uint16_t pts[2], bool inv, const char *opt,
                  struct kp_rule_text *text) {
  if (pts[0] == 0 && pts[1] == 0xffff)
    return;
  out->present = true;
  out->negated = inv;
  out->lo = pts[0];
  out->hi = pts[1];
  if (pts[0] == pts[1])
    kp_rule_text_add(text, "%s --%s %u", inv ? " !" : "", opt, pts[0]);
  else
    kp_rule_text_add(text, "%s --%s %u:%u", inv ? " !" : "", opt, pts[0], pts[1]);
}

static int match_tcpudp(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                        bool tcp, struct kp_rule_text *text) {
  uint16_t spts[2], dpts[2];
  uint8_t inv;
  kp_rule_text_add(text, " -m %s", tcp ? "tcp" : "udp");
  if (tcp) {
    struct xt_tcp info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    memcpy(spts, info.spts, sizeof(spts));
    memcpy(dpts, info.dpts, sizeof(dpts));
    inv = info.invflags;
  } else {
    struct xt_udp info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    memcpy(spts, info.spts, sizeof(spts));
    memcpy(dpts, info.dpts, sizeof(dpts));
    inv = info.invflags;
  }
  struct kp_port_range sport = {0};
  ports(&sport, spts, inv & XT_TCP_INV_SRCPT, "sport", text);
  ports(&rule->dport, dpts, inv & XT_TCP_INV_DSTPT, "dport", text);
  if (!sport.present)
    return 0; /* kube-proxy matches destination ports only: no extension */
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  ext->sport = sport;
  return 0;
}

static int match_mark(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                      struct kp_rule_text *text) {
  struct xt_mark_mtinfo1 info;
  if (p->revision != 1 || !KP_XT_FITS(p, info)) {
    kp_rule_text_add(text, " -m mark");
    return 0;
  }
  memcpy(&info, p->data, sizeof(info));
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  ext->mark.present = true;
  ext->mark.negated = info.invert != 0;
  ext->mark.value = info.mark;
  ext->mark.mask = info.mask;
  if (info.mask == 0xffffffffu)
    kp_rule_text_add(text, " -m mark%s --mark 0x%x", info.invert ? " !" : "", info.mark);
  else
    kp_rule_text_add(text, " -m mark%s --mark 0x%x/0x%x", info.invert ? " !" : "", info.mark,
                     info.mask);
  return 0;
}

/* Route type bits (1 << RTN_*), comma-joined in bit order as iptables
 * prints them. */
static void addrtype_text(char *out, size_t len, unsigned bits) {
  size_t used = 0;
  out[0] = '\0';
  for (unsigned i = 0; i < KP_ADDRTYPE_COUNT; i++) {
    if (!(bits & (1u << i)))
      continue;
    int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", kp_addrtype_name(i));
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
}

static int addrtype_one(struct kp_xt_ctx *ctx, uint16_t bits, bool inv, const char **out,
                        bool *negated, const char *opt, struct kp_rule_text *text) {
  if (bits == 0)
    return 0;
  char names[160];
  addrtype_text(names, sizeof(names), bits);
  *out = kp_arena_strdup(&ctx->snap->arena, names);
  *negated = inv;
  kp_rule_text_add(text, "%s --%s %s", inv ? " !" : "", opt, names);
  return *out == NULL ? -1 : 0;
}

static int match_addrtype(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                          const struct kp_xt_payload *p, struct kp_rule_text *text) {
  uint16_t src, dst;
  bool inv_src, inv_dst;
  if (p->revision == 0) {
    struct xt_addrtype_info info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    src = info.source, dst = info.dest;
    inv_src = info.invert_source != 0, inv_dst = info.invert_dest != 0;
  } else {
    struct xt_addrtype_info_v1 info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    src = info.source, dst = info.dest;
    inv_src = info.flags & XT_ADDRTYPE_INVERT_SOURCE;
    inv_dst = info.flags & XT_ADDRTYPE_INVERT_DEST;
  }
  kp_rule_text_add(text, " -m addrtype");
  if (src == 0 && dst == 0)
    return 0;
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL ||
      addrtype_one(ctx, src, inv_src, &ext->src_type, &ext->src_type_negated, "src-type", text) ||
      addrtype_one(ctx, dst, inv_dst, &ext->dst_type, &ext->dst_type_negated, "dst-type", text))
    return -1;
  return 0;
}

static int match_set(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                     struct kp_rule_text *text) {
  uint16_t index;
  bool inv;
  char flags[64] = "";
  size_t used = 0;
  if (p->revision == 0) {
    struct xt_set_info_match_v0 info;
    if (!KP_XT_FITS(p, info))
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
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    index = info.match_set.index;
    inv = info.match_set.flags & IPSET_INV_MATCH;
    unsigned dim = info.match_set.dim > IPSET_DIM_MAX ? IPSET_DIM_MAX : info.match_set.dim;
    for (unsigned i = 1; i <= dim; i++)
      used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s", i > 1 ? "," : "",
                               info.match_set.flags & (1u << i) ? "src" : "dst");
  }
  const char *name = kp_ipset_name(&ctx->sets, &ctx->snap->arena, index);
  if (kp_rule_ext(rule)->match_set == NULL) {
    struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
    if (ext == NULL)
      return -1;
    ext->match_set = name;
    ext->match_set_flags = kp_arena_strdup(&ctx->snap->arena, flags);
    ext->match_set_negated = inv;
    if (name == NULL || ext->match_set_flags == NULL)
      return -1;
  }
  kp_rule_text_add(text, " -m set%s --match-set %s %s", inv ? " !" : "", name ? name : "?", flags);
  return 0;
}

/* ctstate is kept as text; a negated match is stored with a leading "!"
 * (kp_ctstate_format's layout), the rule text puts "!" before the option. */
static int set_ctstate(struct kp_xt_ctx *ctx, struct kp_rule *rule, unsigned mask, bool inv,
                       bool conntrack, bool alias, struct kp_rule_text *text) {
  char stored[100];
  kp_ctstate_format(stored, sizeof(stored), mask, conntrack, inv);
  const char *names = inv ? stored + 1 : stored;
  kp_rule_text_add(text, alias ? " -m state%s --state %s" : " -m conntrack%s --ctstate %s",
                   inv ? " !" : "", names);
  if (kp_rule_ext(rule)->ctstate != NULL)
    return 0;
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  ext->ctstate = kp_arena_strdup(&ctx->snap->arena, stored);
  return ext->ctstate == NULL ? -1 : 0;
}

static int match_conntrack(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                           const struct kp_xt_payload *p, struct kp_rule_text *text) {
  unsigned mask, match_flags, invert_flags;
  if (p->revision == 1) {
    struct xt_conntrack_mtinfo1 info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    mask = info.state_mask, match_flags = info.match_flags, invert_flags = info.invert_flags;
  } else if (p->revision == 2 || p->revision == 3) {
    /* mtinfo3 extends mtinfo2; the state fields sit at the same place. */
    struct xt_conntrack_mtinfo2 info;
    if (!KP_XT_FITS(p, info))
      return 0;
    memcpy(&info, p->data, sizeof(info));
    mask = info.state_mask, match_flags = info.match_flags, invert_flags = info.invert_flags;
  } else {
    kp_rule_text_add(text, " -m conntrack");
    return 0;
  }
  if (!(match_flags & XT_CONNTRACK_STATE)) {
    kp_rule_text_add(text, " -m conntrack");
    return 0;
  }
  /* iptables >= 1.8 writes "-m state" as a conntrack match with this flag. */
  bool alias = match_flags & XT_CONNTRACK_STATE_ALIAS;
  return set_ctstate(ctx, rule, mask, invert_flags & XT_CONNTRACK_STATE, true, alias, text);
}

static int match_state(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                       struct kp_rule_text *text) {
  struct xt_state_info info;
  if (!KP_XT_FITS(p, info))
    return 0;
  memcpy(&info, p->data, sizeof(info));
  return set_ctstate(ctx, rule, info.statemask, false, false, true, text);
}

static int match_statistic(struct kp_xt_ctx *ctx, struct kp_rule *rule,
                           const struct kp_xt_payload *p, struct kp_rule_text *text) {
  struct xt_statistic_info info;
  if (!KP_XT_FITS(p, info))
    return 0;
  memcpy(&info, p->data, sizeof(info));
  const char *inv = (info.flags & XT_STATISTIC_INVERT) ? " !" : "";
  if (info.mode == XT_STATISTIC_MODE_NTH) {
    kp_rule_text_add(text, " -m statistic --mode nth%s --every %u --packet %u", inv,
                     info.u.nth.every + 1, info.u.nth.packet);
    return 0;
  }
  /* iptables prints probability / 2^31 with 11 decimals ("0.50000000000").
   * kube-proxy repeats a handful of values: their texts are shared. */
  const size_t slots = sizeof(ctx->probabilities) / sizeof(ctx->probabilities[0]);
  const char *shown = NULL;
  for (size_t i = 0; i < slots && shown == NULL; i++)
    if (ctx->probabilities[i].text != NULL &&
        ctx->probabilities[i].value == info.u.random.probability)
      shown = ctx->probabilities[i].text;
  if (shown == NULL) {
    char prob[32];
    snprintf(prob, sizeof(prob), "%.11f", (double)info.u.random.probability / 2147483648.0);
    if ((shown = kp_arena_strdup(&ctx->snap->arena, prob)) == NULL)
      return -1;
    size_t slot = ctx->next_probability++ % slots;
    ctx->probabilities[slot].value = info.u.random.probability;
    ctx->probabilities[slot].text = shown;
  }
  kp_rule_text_add(text, " -m statistic --mode random%s --probability %s", inv, shown);
  if (rule->probability == NULL)
    rule->probability = shown;
  return 0;
}

static int match_tcp(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                     struct kp_rule_text *text) {
  return match_tcpudp(ctx, rule, p, true, text);
}

static int match_udp(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                     struct kp_rule_text *text) {
  return match_tcpudp(ctx, rule, p, false, text);
}

static int match_mark_fn(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                         struct kp_rule_text *text) {
  return match_mark(ctx, rule, p, text);
}

/* The matches decoded, by extension name; any other only shows in the text. */
static const struct {
  const char *name;
  int (*decode)(struct kp_xt_ctx *ctx, struct kp_rule *rule, const struct kp_xt_payload *p,
                struct kp_rule_text *text);
} matches[] = {
    {"comment", match_comment},     {"tcp", match_tcp},           {"udp", match_udp},
    {"mark", match_mark_fn},        {"addrtype", match_addrtype}, {"set", match_set},
    {"conntrack", match_conntrack}, {"state", match_state},       {"statistic", match_statistic},
};

static int decode_match(struct kp_xt_ctx *ctx, struct kp_rule *rule, const char *name,
                        const struct kp_xt_payload *p, struct kp_rule_text *text) {
  for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
    if (strcmp(name, matches[i].name) == 0)
      return matches[i].decode(ctx, rule, p, text);
  kp_rule_text_add(text, " -m %s", name);
  return 0;
}

int kp_xt_decode_matches(struct kp_xt_ctx *ctx, struct kp_rule *rule, const unsigned char *elems,
                         size_t len, struct kp_rule_text *text) {
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
    struct kp_xt_payload p = {elems + off + head, size - head, m.u.user.revision};
    if (decode_match(ctx, rule, name, &p, text) != 0)
      return -1;
    off += size;
  }
  return 0;
}
