/* iptables-legacy source: one libiptc (or libip6tc) snapshot per table per
 * read, walked chain by chain into the snapshot model. libiptc takes no
 * lock (never /run/xtables.lock) and forks nothing; the kernel copy it makes
 * in iptc_init() is the whole table at one instant.
 *
 * Note: libiptc keeps one global (the last function called, for
 * iptc_strerror()), so two reads racing in one process could garble an error
 * message; the rule data itself is per handle. */
#include "kp/names.h"
#include "live_internal.h"
#include "live_iptc_blob.h"
#include "live_iptc_jumps.h"
#include "live_xt.h"

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one walker for both families: the libiptc calls behind pointers ---- */

struct iptc_ops {
  enum kp_family family;
  struct xtc_handle *(*init)(const char *table);
  void (*free)(struct xtc_handle *h);
  const char *(*first_chain)(struct xtc_handle *h);
  const char *(*next_chain)(struct xtc_handle *h);
  const void *(*first_rule)(const char *chain, struct xtc_handle *h);
  const void *(*next_rule)(const void *prev, struct xtc_handle *h);
  const char *(*get_target)(const void *e, struct xtc_handle *h);
  int (*builtin)(const char *chain, struct xtc_handle *const h);
  const char *(*get_policy)(const char *chain, struct xt_counters *c, struct xtc_handle *h);
  const char *(*strerror)(int err);
  int (*decode)(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *e, const char *verdict,
                struct kp_rule_text *text);
};

static const void *first_rule4(const char *chain, struct xtc_handle *h) {
  return iptc_first_rule(chain, h);
}
static const void *next_rule4(const void *prev, struct xtc_handle *h) {
  return iptc_next_rule(prev, h);
}
static const char *get_target4(const void *e, struct xtc_handle *h) {
  return iptc_get_target(e, h);
}
static const void *first_rule6(const char *chain, struct xtc_handle *h) {
  return ip6tc_first_rule(chain, h);
}
static const void *next_rule6(const void *prev, struct xtc_handle *h) {
  return ip6tc_next_rule(prev, h);
}
static const char *get_target6(const void *e, struct xtc_handle *h) {
  return ip6tc_get_target(e, h);
}

/* ---- the fixed IP header part of an entry ---------------------------------- */

static void set_addr(struct kp_addr *out, const void *addr, const void *mask, size_t len,
                     bool negated, char opt, struct kp_rule_text *text) {
  uint8_t prefix = kp_mask_prefix_len(mask, len);
  if (prefix == 0)
    return; /* 0.0.0.0/0: no match on this field */
  out->kind = len == 4 ? KP_ADDR_IPV4 : KP_ADDR_IPV6;
  out->prefix_len = prefix;
  out->negated = negated;
  memcpy(out->bytes, addr, len);
  if (text == NULL)
    return; /* no rule text kept: nothing to format */
  char buf[80];
  kp_addr_format(out, buf, sizeof(buf));
  /* kp_addr_format puts "!" first; iptables-save writes "! -s X". */
  bool has_bang = buf[0] == '!';
  kp_rule_text_add(text, "%s -%c %s", negated ? " !" : "", opt, has_bang ? buf + 1 : buf);
  if (prefix == len * 8)
    kp_rule_text_add(text, "/%u", prefix); /* iptables-save always shows the prefix */
}

/* "eth0", "veth+" (iptables keeps the '+' in the name and masks it out),
 * "!eth0" when negated (the model keeps interfaces as text). */
static int set_iface(struct kp_xt_ctx *ctx, struct kp_rule *rule, const char *name, bool negated,
                     char opt, struct kp_rule_text *text) {
  size_t len = strnlen(name, IFNAMSIZ);
  if (len == 0)
    return 0;
  struct kp_rule_ext *ext = kp_rule_ext_mut(ctx->snap, rule);
  if (ext == NULL)
    return -1;
  char buf[IFNAMSIZ + 2];
  snprintf(buf, sizeof(buf), "%s%.*s", negated ? "!" : "", (int)len, name);
  const char **out = opt == 'i' ? &ext->in_iface : &ext->out_iface;
  *out = kp_arena_strdup(&ctx->snap->arena, buf);
  kp_rule_text_add(text, "%s -%c %s", negated ? " !" : "", opt, negated ? buf + 1 : buf);
  return *out == NULL ? -1 : 0;
}

static void set_proto(struct kp_rule *rule, unsigned proto, bool negated,
                      struct kp_rule_text *text) {
  if (proto == 0)
    return;
  rule->proto_present = true;
  rule->proto_negated = negated;
  rule->proto = (uint8_t)proto;
  const char *name = kp_proto_name((uint8_t)proto);
  if (name != NULL)
    kp_rule_text_add(text, "%s -p %s", negated ? " !" : "", name);
  else
    kp_rule_text_add(text, "%s -p %u", negated ? " !" : "", proto);
}

static void set_counters(struct kp_rule *rule, const struct xt_counters *c) {
  rule->counters.present = true;
  rule->counters.packets = c->pcnt;
  rule->counters.bytes = c->bcnt;
}

/* Shared tail of both decoders: matches between the header and
 * target_offset, then the target; offsets checked against next_offset. */
static int decode_body(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *entry,
                       size_t header, size_t target_offset, size_t next_offset, const char *verdict,
                       bool is_goto, struct kp_rule_text *text) {
  const unsigned char *base = entry;
  if (target_offset < header || target_offset > next_offset)
    return 0; /* malformed: keep the header fields only */
  if (kp_xt_decode_matches(ctx, rule, base + header, target_offset - header, text) != 0)
    return -1;
  return kp_xt_decode_target(ctx, rule, base + target_offset, next_offset - target_offset, verdict,
                             is_goto, text);
}

static int decode4(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *entry,
                   const char *verdict, struct kp_rule_text *text) {
  const struct ipt_entry *e = entry;
  const struct ipt_ip *ip = &e->ip;
  set_counters(rule, &e->counters);
  set_addr(&rule->src, &ip->src, &ip->smsk, 4, ip->invflags & IPT_INV_SRCIP, 's', text);
  set_addr(&rule->dst, &ip->dst, &ip->dmsk, 4, ip->invflags & IPT_INV_DSTIP, 'd', text);
  if (set_iface(ctx, rule, ip->iniface, ip->invflags & IPT_INV_VIA_IN, 'i', text) != 0 ||
      set_iface(ctx, rule, ip->outiface, ip->invflags & IPT_INV_VIA_OUT, 'o', text) != 0)
    return -1;
  set_proto(rule, ip->proto, ip->invflags & IPT_INV_PROTO, text);
  if (ip->flags & IPT_F_FRAG)
    kp_rule_text_add(text, "%s -f", (ip->invflags & IPT_INV_FRAG) ? " !" : "");
  return decode_body(ctx, rule, e, sizeof(*e), e->target_offset, e->next_offset, verdict,
                     ip->flags & IPT_F_GOTO, text);
}

static int decode6(struct kp_xt_ctx *ctx, struct kp_rule *rule, const void *entry,
                   const char *verdict, struct kp_rule_text *text) {
  const struct ip6t_entry *e = entry;
  const struct ip6t_ip6 *ip = &e->ipv6;
  set_counters(rule, &e->counters);
  set_addr(&rule->src, &ip->src, &ip->smsk, 16, ip->invflags & IP6T_INV_SRCIP, 's', text);
  set_addr(&rule->dst, &ip->dst, &ip->dmsk, 16, ip->invflags & IP6T_INV_DSTIP, 'd', text);
  if (set_iface(ctx, rule, ip->iniface, ip->invflags & IP6T_INV_VIA_IN, 'i', text) != 0 ||
      set_iface(ctx, rule, ip->outiface, ip->invflags & IP6T_INV_VIA_OUT, 'o', text) != 0)
    return -1;
  set_proto(rule, ip->proto, ip->invflags & IP6T_INV_PROTO, text);
  return decode_body(ctx, rule, e, sizeof(*e), e->target_offset, e->next_offset, verdict,
                     ip->flags & IP6T_F_GOTO, text);
}

static const struct iptc_ops ops4 = {
    KP_FAMILY_IPV4, iptc_init,   iptc_free,    iptc_first_chain, iptc_next_chain, first_rule4,
    next_rule4,     get_target4, iptc_builtin, iptc_get_policy,  iptc_strerror,   decode4,
};

static const struct iptc_ops ops6 = {
    KP_FAMILY_IPV6, ip6tc_init,  ip6tc_free,    ip6tc_first_chain, ip6tc_next_chain, first_rule6,
    next_rule6,     get_target6, ip6tc_builtin, ip6tc_get_policy,  ip6tc_strerror,   decode6,
};

/* ---- errors -------------------------------------------------------------- */

static int init_error(struct kp_live_error *err, const struct iptc_ops *ops, const char *table,
                      int e) {
  const char *fam = ops->family == KP_FAMILY_IPV6 ? "ip6 " : "";
  switch (e) {
  case EPERM:
  case EACCES:
    /* libiptc opens a raw socket (CAP_NET_RAW) before it asks for the
     * table (CAP_NET_ADMIN); the error cannot tell which one was missing. */
    return kp_live_fail(err, KP_LIVE_NO_PRIVILEGE, e,
                        "reading %stable %s needs CAP_NET_ADMIN and CAP_NET_RAW (%s)", fam, table,
                        strerror(e));
  case ENOENT:
  case ENOPROTOOPT:
  case EINVAL:
  case EAFNOSUPPORT:
    /* The table (or the whole ip_tables / ip6_tables module) is not there. */
    return kp_live_fail(err, KP_LIVE_NO_TABLE, e, "legacy %stable %s is not available (%s)", fam,
                        table, ops->strerror(e));
  default:
    return kp_live_fail(err, KP_LIVE_OTHER, e, "reading legacy %stable %s failed (%s)", fam, table,
                        e ? ops->strerror(e) : "libiptc version mismatch");
  }
}

static int oom_error(struct kp_live_error *err, const char *table) {
  return kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", table);
}

/* ---- the walk -------------------------------------------------------------- */

static const char *policy_literal(struct kp_snapshot *snap, const char *policy) {
  if (strcmp(policy, "ACCEPT") == 0)
    return "ACCEPT";
  if (strcmp(policy, "DROP") == 0)
    return "DROP";
  return kp_arena_strdup(&snap->arena, policy);
}

static size_t entry_size(enum kp_family family, const void *e) {
  return family == KP_FAMILY_IPV6 ? ((const struct ip6t_entry *)e)->next_offset
                                  : ((const struct ipt_entry *)e)->next_offset;
}

int kp_iptc_set_policy(struct kp_snapshot *snap, struct kp_chain *chain, const char *policy,
                       uint64_t packets, uint64_t bytes) {
  chain->builtin = true;
  if (policy == NULL)
    return 0;
  struct kp_chain_ext *cx = kp_chain_ext_mut(snap, chain);
  if (cx == NULL || (cx->policy = policy_literal(snap, policy)) == NULL)
    return -1;
  cx->policy_counters.present = true;
  cx->policy_counters.packets = packets;
  cx->policy_counters.bytes = bytes;
  return 0;
}

int kp_iptc_add_rule(struct kp_xt_ctx *ctx, struct kp_chain *chain, const void *entry,
                     const char *verdict, struct kp_chain *jump) {
  const struct iptc_ops *ops = ctx->family == KP_FAMILY_IPV6 ? &ops6 : &ops4;
  struct kp_snapshot *snap = ctx->snap;
  struct kp_rule *rule = kp_chain_add_rule(snap, chain);
  if (rule == NULL)
    return -1;
  ctx->jump_hint = jump;
  if (!snap->rule_text) {
    int rc = ops->decode(ctx, rule, entry, verdict, NULL);
    ctx->jump_hint = NULL;
    return rc;
  }
  struct kp_rule_text text;
  text.len = 0;
  text.buf[0] = '\0';
  kp_rule_text_add(&text, "-A %s", chain->name);
  int rc = ops->decode(ctx, rule, entry, verdict, &text);
  ctx->jump_hint = NULL;
  if (rc != 0)
    return -1;
  struct kp_rule_ext *ext = kp_rule_ext_mut(snap, rule);
  return ext == NULL || (ext->text = kp_arena_strndup(&snap->arena, text.buf, text.len)) == NULL
             ? -1
             : 0;
}

/* Only a hook's name can be a built-in chain: asking libiptc about every
 * chain (a name lookup each, 40k chains at 10k services) was 4 % of a read. */
static bool hook_name(const char *name) {
  static const char *const hooks[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
    if (strcmp(name, hooks[i]) == 0)
      return true;
  return false;
}

/* hash (when not NULL): the structure hash of what was read
 * (live_iptc_blob.h), so that the next read can tell from the kernel's copy
 * alone whether anything but the counters changed. */
static int walk_chains(struct kp_xt_ctx *ctx, const struct iptc_ops *ops, struct xtc_handle *h,
                       uint64_t *hash) {
  struct kp_snapshot *snap = ctx->snap;
  const char **names = NULL; /* libiptc's, for the jump map */
  size_t n_names = 0, cap = 0;
  struct kp_iptc_jumps map = {0};
  int rc = -1;
  /* The chains counted first (a walk of libiptc's list): the table's
   * vector and name index are sized once, without the copies that
   * doubling leaves in the arena (2 MB at 10k services). */
  for (const char *name = ops->first_chain(h); name != NULL; name = ops->next_chain(h))
    cap++;
  if (kp_table_reserve_chains(snap, ctx->table, cap) != 0 ||
      (cap > 0 && (names = malloc(cap * sizeof(*names))) == NULL))
    goto out;
  /* Pass 1: every chain first, so that jump targets resolve to the chain's
   * own name string and the chain order is libiptc's (built-ins, then user
   * chains sorted by name, as iptables-save prints them). */
  for (const char *name = ops->first_chain(h); name != NULL; name = ops->next_chain(h)) {
    struct kp_chain *chain = kp_table_add_chain(snap, ctx->table, name);
    if (chain == NULL)
      goto out;
    if (hook_name(name) && ops->builtin(name, h)) {
      struct xt_counters c = {0, 0};
      const char *policy = ops->get_policy(name, &c, h);
      if (kp_iptc_set_policy(snap, chain, policy, c.pcnt, c.bcnt) != 0)
        goto out;
    }
    if (n_names == cap)
      goto out; /* libiptc's list changed under us: cannot happen in one handle */
    names[n_names++] = name;
  }
  kp_iptc_jumps_build(&map, names, n_names, ctx->table);
  /* Pass 2: the rules. */
  rc = 0;
  for (size_t i = 0; i < ctx->table->chains.count && rc == 0; i++) {
    struct kp_chain *chain = ctx->table->chains.items[i];
    struct kp_iptc_chain_hash ch;
    if (hash != NULL)
      kp_iptc_hash_chain(&ch, chain->name);
    for (const void *e = ops->first_rule(chain->name, h); e != NULL && rc == 0;
         e = ops->next_rule(e, h)) {
      if (hash != NULL)
        kp_iptc_hash_rule(&ch, ops->family, e, entry_size(ops->family, e));
      const char *verdict = ops->get_target(e, h);
      rc = kp_iptc_add_rule(ctx, chain, e, verdict, kp_iptc_jumps_find(&map, verdict));
    }
    if (hash != NULL) {
      kp_iptc_hash_policy(&ch, chain->builtin ? kp_chain_ext(chain)->policy : NULL);
      kp_iptc_hash_add(hash, &ch);
    }
  }
out:
  kp_iptc_jumps_free(&map);
  free(names);
  return rc;
}

struct kp_table *kp_iptc_new_table(struct kp_snapshot *snap, enum kp_family family,
                                   const char *name) {
  /* Reading a table again replaces what the snapshot had of it. */
  struct kp_table *old = kp_snapshot_table(snap, family, KP_BACKEND_LEGACY, name, false);
  if (old != NULL)
    kp_snapshot_drop_table(snap, old);
  struct kp_table *t = kp_snapshot_table(snap, family, KP_BACKEND_LEGACY, name, true);
  if (t != NULL)
    t->source = "kernel";
  return t;
}

int kp_iptc_read_table(struct kp_snapshot *snap, enum kp_family family, const char *table,
                       struct kp_live_error *err) {
  return kp_iptc_read_table_hash(snap, family, table, err, NULL);
}

int kp_iptc_read_table_hash(struct kp_snapshot *snap, enum kp_family family, const char *table,
                            struct kp_live_error *err, uint64_t *hash) {
  const struct iptc_ops *ops = family == KP_FAMILY_IPV6 ? &ops6 : &ops4;
  errno = 0;
  struct xtc_handle *h = ops->init(table);
  if (h == NULL)
    return init_error(err, ops, table, errno);
  struct kp_table *t = kp_iptc_new_table(snap, family, table);
  if (t == NULL) {
    ops->free(h);
    return oom_error(err, table);
  }
  struct kp_xt_ctx ctx;
  kp_xt_ctx_init(&ctx, snap, t, family);
  if (hash != NULL)
    *hash = 0;
  int rc = walk_chains(&ctx, ops, h, hash);
  kp_xt_ctx_done(&ctx);
  ops->free(h);
  if (rc != 0) {
    kp_snapshot_drop_table(snap, t);
    return oom_error(err, table);
  }
  return 0;
}
