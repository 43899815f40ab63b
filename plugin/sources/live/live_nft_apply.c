/* One nf_tables notification applied to the kept tables (the cache's
 * owner): tables, chains and rules here, sets and elements in
 * live_nft_apply_sets.c. A rule is decoded by the same decoder as a dumped
 * one (kp_nft_decode_rule); its place comes from NFTA_RULE_POSITION (the
 * handle of the rule before it, as the kernel's list stood at commit) or,
 * without one, the end of the chain (NLM_F_APPEND) or its start. Deleted
 * rules leave holes that kp_nft_apply_end closes. Chains are kept in the
 * full read's order: iptables' for iptables-nft's tables, the kernel's
 * (creation order) for kube-proxy's own. Anything naming what the kept
 * tables lack is an error: the reader then reads everything again. */
#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <endian.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kp_nft_table_ctx *ctx_of(struct kp_nft_follow *f, struct kp_snapshot *owner, int v6,
                                       int which) {
  struct kp_nft_table_ctx *ctx = &f->ctx[v6][which];
  if (!f->ctx_on[v6][which]) {
    kp_nft_table_ctx_init(ctx, owner, f->tables[v6][which].table);
    ctx->anon = f->tables[v6][which].anon;
    ctx->follow = &f->tables[v6][which];
    f->ctx_on[v6][which] = true;
  }
  return ctx;
}

static void ctx_close(struct kp_nft_follow *f, int v6, int which) {
  if (!f->ctx_on[v6][which])
    return;
  f->tables[v6][which].anon = f->ctx[v6][which].anon;
  kp_nft_table_ctx_done(&f->ctx[v6][which]);
  f->ctx_on[v6][which] = false;
}

/* ---- tables ------------------------------------------------------------------ */

static int table_rank(const struct kp_table *t) {
  int which = KP_NFT_XT_TABLES;
  for (int i = 0; i < KP_NFT_XT_TABLES; i++)
    if (strcmp(t->name, kp_nft_xt_tables[i]) == 0)
      which = i;
  return (t->family == KP_FAMILY_IPV6) * (KP_NFT_XT_TABLES + 1) + which;
}

/* A new table goes where a full read would have put it. */
static int new_table(struct kp_nft_ftable *ft, struct kp_snapshot *owner, int v6, int which) {
  const char *name = which == KP_NFT_XT_TABLES ? kp_nft_native_table : kp_nft_xt_tables[which];
  struct kp_table *table =
      kp_snapshot_table(owner, v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4, KP_BACKEND_NFT, name, true);
  if (table == NULL)
    return errno = ENOMEM, -1;
  table->native_nft = which == KP_NFT_XT_TABLES;
  table->source = "kernel";
  void **items = owner->tables.items;
  size_t n = owner->tables.count, at = 0;
  while (at < n - 1 && table_rank(items[at]) < table_rank(table))
    at++;
  memmove(&items[at + 1], &items[at], (n - 1 - at) * sizeof(void *));
  items[at] = table;
  ft->table = table;
  return 0;
}

/* ---- chains ------------------------------------------------------------------ */

static int hook_rank(const char *name) {
  static const char *const hooks[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  for (int i = 0; i < 5; i++)
    if (strcmp(name, hooks[i]) == 0)
      return i;
  return 5;
}

/* kp_nft_chain_order on kept chains: built-in by hook, then by name. */
static bool before(const struct kp_chain *a, const struct kp_chain *b) {
  if (a->builtin != b->builtin)
    return a->builtin;
  if (a->builtin)
    return hook_rank(a->name) < hook_rank(b->name);
  return strcmp(a->name, b->name) < 0;
}

static void remove_item(struct kp_ptrvec *vec, const void *item) {
  for (size_t i = 0; i < vec->count; i++)
    if (vec->items[i] == item) {
      memmove(&vec->items[i], &vec->items[i + 1], (vec->count - i - 1) * sizeof(void *));
      vec->count--;
      return;
    }
}

/* A chain out of its table. The table's name index (model.c) cannot drop
 * an entry: the chain is renamed to a name no lookup asks for, so the
 * index no longer finds it and a chain of the same name can come back. */
static int bury_chain(struct kp_nft_follow *f, struct kp_snapshot *owner, struct kp_chain *chain) {
  char grave[32];
  snprintf(grave, sizeof(grave),
           "\x7f"
           "deleted-%llu",
           (unsigned long long)++f->tombstones);
  const char *name = kp_arena_strdup(&owner->arena, grave);
  if (name == NULL)
    return errno = ENOMEM, -1;
  remove_item(&chain->table->chains, chain);
  chain->name = name;
  return 0;
}

static int new_chain(struct kp_nft_ftable *ft, struct kp_snapshot *owner,
                     const struct nlmsghdr *nlh) {
  struct nftnl_chain *c = nftnl_chain_alloc();
  if (c == NULL)
    return errno = ENOMEM, -1;
  int rc = -1;
  errno = EBADMSG;
  if (nftnl_chain_nlmsg_parse(nlh, c) < 0 || !nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) ||
      !nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE))
    goto out;
  struct kp_nft_chain_info ci = {
      .name = (char *)nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
      .base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM),
      .counters = nftnl_chain_is_set(c, NFTNL_CHAIN_PACKETS),
      .policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
                    ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
                    : NF_ACCEPT,
      .handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE),
  };
  ci.hooknum = ci.base ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : 0;
  if (ci.counters) {
    ci.packets = nftnl_chain_get_u64(c, NFTNL_CHAIN_PACKETS);
    ci.bytes = nftnl_chain_get_u64(c, NFTNL_CHAIN_BYTES);
  }
  struct kp_table *table = ft->table;
  struct kp_chain *known = kp_nft_handles_get(&ft->chains, ci.handle);
  struct kp_chain *chain = kp_table_chain(table, ci.name);
  if (known != chain) { /* a rename (iptables -E), or a handle we never saw */
    errno = ENOENT;
    goto out;
  }
  if (chain == NULL) {
    if ((chain = kp_table_add_chain(owner, table, ci.name)) == NULL ||
        kp_nft_handles_put(&ft->chains, ci.handle, chain) != 0) {
      errno = ENOMEM;
      goto out;
    }
    if (!table->native_nft) { /* into iptables' order */
      void **items = table->chains.items;
      size_t n = table->chains.count, at = 0;
      while (at < n - 1 && !before(chain, items[at]))
        at++;
      memmove(&items[at + 1], &items[at], (n - 1 - at) * sizeof(void *));
      items[at] = chain;
    }
  }
  if (kp_nft_chain_setup(owner, chain, &ci) != 0) /* an update of a known chain, too */
    goto out;
  rc = 0;
out:
  nftnl_chain_free(c);
  return rc;
}

/* ---- rules: the few attributes a deletion needs ------------------------------- */

struct rule_ids {
  const char *chain;
  uint64_t handle, position;
  bool has_position;
};

static int rule_ids_cb(const struct nlattr *attr, void *data) {
  struct rule_ids *ids = data;
  int type = mnl_attr_get_type(attr);
  if (type == NFTA_RULE_CHAIN && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
    ids->chain = mnl_attr_get_str(attr);
  else if (type == NFTA_RULE_HANDLE && mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
    ids->handle = be64toh(mnl_attr_get_u64(attr));
  else if (type == NFTA_RULE_POSITION && mnl_attr_validate(attr, MNL_TYPE_U64) == 0) {
    ids->position = be64toh(mnl_attr_get_u64(attr));
    ids->has_position = true;
  }
  return MNL_CB_OK;
}

static int rule_ids(const struct nlmsghdr *nlh, struct rule_ids *ids) {
  memset(ids, 0, sizeof(*ids));
  if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_ids_cb, ids) < 0 || ids->chain == NULL)
    return errno = EBADMSG, -1;
  return 0;
}

static int mark_dirty(struct kp_nft_follow *f, struct kp_chain *chain) {
  if (f->n_dirty > 0 && f->dirty[f->n_dirty - 1] == chain)
    return 0;
  if (f->n_dirty == f->cap_dirty) {
    size_t cap = f->cap_dirty ? f->cap_dirty * 2 : 64;
    struct kp_chain **dirty = realloc(f->dirty, cap * sizeof(*dirty));
    if (dirty == NULL)
      return errno = ENOMEM, -1;
    f->dirty = dirty;
    f->cap_dirty = cap;
  }
  f->dirty[f->n_dirty++] = chain;
  return 0;
}

static int del_rule(struct kp_nft_follow *f, struct kp_nft_ftable *ft, const struct nlmsghdr *nlh) {
  struct rule_ids ids;
  if (rule_ids(nlh, &ids) != 0)
    return -1;
  struct kp_rule *rule = kp_nft_handles_del(&ft->rules, ids.handle);
  if (rule == NULL || strcmp(rule->chain->name, ids.chain) != 0 ||
      rule->chain->rules.items[rule->index] != rule)
    return errno = ENOENT, -1;
  rule->chain->rules.items[rule->index] = NULL;
  if (f->reuse != NULL && !ft->table->native_nft && kp_nft_reuse_keep(f->reuse, nlh, rule) != 0)
    return -1;
  return mark_dirty(f, rule->chain);
}

/* Moves the chain's last rule (just added) to position at. */
static void place_rule(struct kp_chain *chain, size_t at) {
  void **items = chain->rules.items;
  size_t last = chain->rules.count - 1;
  if (at >= last)
    return;
  void *rule = items[last];
  memmove(&items[at + 1], &items[at], (last - at) * sizeof(void *));
  items[at] = rule;
  for (size_t i = at; i <= last; i++)
    if (items[i] != NULL)
      ((struct kp_rule *)items[i])->index = i;
}

/* A rule added back as it was deleted: the deleted one's decoded fields. */
static int reused_rule(struct kp_nft_ftable *ft, struct kp_chain *chain, const struct kp_rule *old,
                       uint64_t handle, const struct nlmsghdr *nlh, struct kp_snapshot *owner) {
  struct kp_rule *rule = kp_chain_add_rule(owner, chain);
  if (rule == NULL)
    return errno = ENOMEM, -1;
  struct kp_rule fresh = *old;
  fresh.chain = chain;
  fresh.index = rule->index;
  *rule = fresh;
  struct kp_counters c;
  kp_nft_rule_counters(nlh, &c);
  kp_rule_set_counters(rule, &c);
  return kp_nft_handles_put(&ft->rules, handle, rule);
}

static int new_rule(struct kp_nft_follow *f, struct kp_nft_ftable *ft, struct kp_nft_table_ctx *ctx,
                    const struct nlmsghdr *nlh) {
  struct rule_ids ids;
  if (rule_ids(nlh, &ids) != 0)
    return -1;
  struct kp_chain *chain = kp_table_chain(ft->table, ids.chain);
  if (chain == NULL || kp_nft_handles_get(&ft->rules, ids.handle) != NULL)
    return errno = ENOENT, -1;
  size_t at = (nlh->nlmsg_flags & NLM_F_APPEND) ? SIZE_MAX : 0;
  if (ids.has_position) {
    const struct kp_rule *prev = kp_nft_handles_get(&ft->rules, ids.position);
    if (prev == NULL || prev->chain != chain)
      return errno = ENOENT, -1;
    at = prev->index + 1;
  }
  const struct kp_rule *old =
      f->reuse != NULL && !ft->table->native_nft ? kp_nft_reuse_find(f->reuse, nlh) : NULL;
  if (old != NULL) {
    if (reused_rule(ft, chain, old, ids.handle, nlh, ctx->snap) != 0)
      return -1;
    place_rule(chain, at);
    return 0;
  }
  struct kp_nft_rule_msg msg;
  if (kp_nft_rule_msg_parse(nlh, &msg) != 0)
    return errno = EBADMSG, -1;
  struct kp_rule *rule = kp_chain_add_rule(ctx->snap, chain);
  if (rule == NULL || kp_nft_decode_rule(ctx, &msg, rule) != 0 ||
      kp_nft_handles_put(&ft->rules, ids.handle, rule) != 0)
    return errno = ENOMEM, -1;
  place_rule(chain, at);
  return 0;
}

static int del_chain(struct kp_nft_follow *f, struct kp_nft_ftable *ft, struct kp_snapshot *owner,
                     const struct nlmsghdr *nlh) {
  struct nftnl_chain *c = nftnl_chain_alloc();
  if (c == NULL)
    return errno = ENOMEM, -1;
  struct kp_chain *chain = NULL;
  if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_NAME))
    chain = kp_table_chain(ft->table, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
  uint64_t handle =
      nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE) ? nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE) : 0;
  nftnl_chain_free(c);
  if (chain == NULL || kp_nft_handles_get(&ft->chains, handle) != chain)
    return errno = ENOENT, -1;
  for (size_t r = 0; r < chain->rules.count; r++)
    if (chain->rules.items[r] != NULL) /* the kernel deletes them first, and says so */
      return errno = ENOENT, -1;
  kp_nft_handles_del(&ft->chains, handle);
  return bury_chain(f, owner, chain);
}

/* ---- dispatch -------------------------------------------------------------------- */

/* Attribute 1 of every table-scoped message is its table's name. */
static int table_name_cb(const struct nlattr *attr, void *data) {
  if (mnl_attr_get_type(attr) == 1 && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
    *(const char **)data = mnl_attr_get_str(attr);
    return MNL_CB_STOP;
  }
  return MNL_CB_OK;
}

static int table_index(const char *name) {
  for (int i = 0; i < KP_NFT_XT_TABLES; i++)
    if (strcmp(name, kp_nft_xt_tables[i]) == 0)
      return i;
  return strcmp(name, kp_nft_native_table) == 0 ? KP_NFT_XT_TABLES : -1;
}

/* The kept table a message is about: 1 with *v6 and *which, 0 another
 * family's or table's (*which -1 for another table of a family we read),
 * -1 with errno EBADMSG. */
static int msg_table(const struct nlmsghdr *nlh, bool ipv6, int *v6, int *which) {
  *which = -1;
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
    return errno = EBADMSG, -1;
  const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
  *v6 = nfg->nfgen_family == NFPROTO_IPV6;
  if ((nfg->nfgen_family != NFPROTO_IPV4 && !*v6) || (*v6 && !ipv6))
    return *v6 = -1, 0; /* a family the kept tables do not hold */
  const char *name = NULL;
  if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), table_name_cb, &name) < 0 || name == NULL)
    return errno = EBADMSG, -1;
  *which = table_index(name);
  return *which >= 0;
}

bool kp_nft_msg_touches(const struct nlmsghdr *nlh, bool ipv6, bool chain_lists) {
  int v6, which;
  int rc = msg_table(nlh, ipv6, &v6, &which);
  if (rc != 0)
    return true;
  uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  return chain_lists && v6 >= 0 && (type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN);
}

int kp_nft_apply_msg(struct kp_nft_follow *f, struct kp_snapshot *owner,
                     const struct nlmsghdr *nlh) {
  int v6, which;
  int known = msg_table(nlh, f->ipv6, &v6, &which);
  if (known <= 0)
    return known;
  struct kp_nft_ftable *ft = &f->tables[v6][which];
  uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (type == NFT_MSG_NEWTABLE)
    return ft->table != NULL ? 0 : new_table(ft, owner, v6, which);
  if (ft->table == NULL)
    return errno = ENOENT, -1;
  switch (type) {
  case NFT_MSG_DELTABLE:
    ctx_close(f, v6, which);
    kp_snapshot_drop_table(owner, ft->table);
    kp_nft_ftable_clear(ft);
    return 0;
  case NFT_MSG_NEWCHAIN:
    return new_chain(ft, owner, nlh);
  case NFT_MSG_DELCHAIN:
    return del_chain(f, ft, owner, nlh);
  case NFT_MSG_NEWRULE:
    return new_rule(f, ft, ctx_of(f, owner, v6, which), nlh);
  case NFT_MSG_DELRULE:
    return del_rule(f, ft, nlh);
  case NFT_MSG_NEWSET:
  case NFT_MSG_DELSET:
  case NFT_MSG_NEWSETELEM:
  case NFT_MSG_DELSETELEM:
    return kp_nft_apply_set_msg(ft, ctx_of(f, owner, v6, which), type, nlh);
  default:
    return 0; /* objects, flowtables: not in the snapshot */
  }
}

/* Chains a finalize made for dangling jumps go: the next finalize makes
 * the ones still needed, at the end of the table, as after a full read. */
int kp_nft_apply_begin(struct kp_nft_follow *f, struct kp_snapshot *owner) {
  f->n_dirty = 0;
  if (f->reuse == NULL)
    f->reuse = kp_nft_reuse_new(); /* NULL: every added rule decoded */
  kp_nft_reuse_clear(f->reuse);
  for (size_t t = 0; t < owner->tables.count; t++) {
    struct kp_table *table = owner->tables.items[t];
    while (table->chains.count > 0 &&
           !((struct kp_chain *)table->chains.items[table->chains.count - 1])->declared)
      if (bury_chain(f, owner, table->chains.items[table->chains.count - 1]) != 0)
        return -1;
  }
  return 0;
}

int kp_nft_apply_end(struct kp_nft_follow *f, struct kp_snapshot *owner) {
  for (int v6 = 0; v6 < 2; v6++)
    for (int i = 0; i <= KP_NFT_XT_TABLES; i++)
      ctx_close(f, v6, i);
  for (size_t d = 0; d < f->n_dirty; d++) {
    struct kp_chain *chain = f->dirty[d];
    size_t n = 0;
    for (size_t r = 0; r < chain->rules.count; r++) {
      struct kp_rule *rule = chain->rules.items[r];
      if (rule == NULL)
        continue;
      rule->index = n;
      chain->rules.items[n++] = rule;
    }
    chain->rules.count = n;
  }
  f->n_dirty = 0;
  kp_nft_reuse_clear(f->reuse);
  return kp_snapshot_finalize(owner) == 0 ? 0 : (errno = ENOMEM, -1);
}
