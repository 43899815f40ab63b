/* The live nf_tables reader: netlink session, generation id, table and
 * chain listing, chain-by-chain rule dumps, and the decoded-table cache
 * reused while the ruleset generation does not change. */
#include "live_nft_internal.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kp_nft_reader {
  struct kp_nft_nl nl;
  struct kp_snapshot *cache; /* decoded tables of generation cache_gen */
  uint32_t cache_gen;
  bool cache_ipv6;
  struct kp_nft_read_stats stats;
};

/* Tables iptables-nft writes, in the order the snapshot lists them. */
static const char *const xt_tables[] = {"filter", "nat", "mangle", "raw"};
static const char native_table[] = "kube-proxy";

/* ---- netlink ---------------------------------------------------------------- */

static void nl_close(struct kp_nft_nl *nl) {
  if (nl->sock != NULL)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

static int nl_open(struct kp_nft_nl *nl) {
  if (nl->sock != NULL)
    return 0;
  if (nl->buf == NULL && (nl->buf = malloc(KP_NFT_BUF)) == NULL)
    return errno = ENOMEM, -1;
  nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl->sock == NULL)
    return -1;
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    nl_close(nl);
    return errno = saved, -1;
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  return 0;
}

int kp_nft_nl_query(struct kp_nft_nl *nl, uint16_t type, uint16_t family, uint16_t flags,
                    kp_nft_build_fn build, void *build_arg, mnl_cb_t cb, void *cb_arg) {
  if (nl_open(nl) != 0)
    return -1;
  uint32_t seq = ++nl->seq;
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nl->buf, type, family, flags, seq);
  if (build != NULL)
    build(nlh, build_arg);
  if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
    int saved = errno;
    nl_close(nl);
    return errno = saved, -1;
  }
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, KP_NFT_BUF);
    if (n < 0)
      break;
    int ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, cb_arg);
    if (ret == MNL_CB_STOP)
      return 0;
    if (ret < 0)
      break;
  }
  /* Leftover replies of a failed request would confuse the next one. */
  int saved = errno != 0 ? errno : EIO;
  nl_close(nl);
  return errno = saved, -1;
}

static int gen_cb(const struct nlmsghdr *nlh, void *arg) {
  struct nftnl_gen *gen = nftnl_gen_alloc();
  if (gen == NULL)
    return MNL_CB_ERROR;
  if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
    *(uint32_t *)arg = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
  nftnl_gen_free(gen);
  return MNL_CB_OK;
}

static int get_gen(struct kp_nft_nl *nl, uint32_t *gen) {
  return kp_nft_nl_query(nl, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, NULL, NULL, gen_cb, gen);
}

/* ---- listings ----------------------------------------------------------------- */

struct table_list {
  bool present[2][sizeof(xt_tables) / sizeof(xt_tables[0]) + 1]; /* [v6][table]; last = native */
};

static int table_cb(const struct nlmsghdr *nlh, void *arg) {
  struct table_list *list = arg;
  struct nftnl_table *t = nftnl_table_alloc();
  if (t == NULL)
    return MNL_CB_ERROR;
  if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
    uint32_t family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
    const char *name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
    size_t n = sizeof(xt_tables) / sizeof(xt_tables[0]);
    if (name != NULL && (family == NFPROTO_IPV4 || family == NFPROTO_IPV6)) {
      bool v6 = family == NFPROTO_IPV6;
      for (size_t i = 0; i < n; i++)
        if (strcmp(name, xt_tables[i]) == 0)
          list->present[v6][i] = true;
      if (strcmp(name, native_table) == 0)
        list->present[v6][n] = true;
    }
  }
  nftnl_table_free(t);
  return MNL_CB_OK;
}

struct chain_info {
  char *name;
  bool base;
  uint32_t hooknum, policy;
  bool counters;
  uint64_t packets, bytes;
};

struct chain_list {
  const char *table; /* keep only this table's chains */
  struct chain_info *items;
  size_t count, capacity;
};

static void chain_list_free(struct chain_list *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i].name);
  free(list->items);
  list->items = NULL;
  list->count = list->capacity = 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg) {
  struct chain_list *list = arg;
  struct nftnl_chain *c = nftnl_chain_alloc();
  if (c == NULL)
    return MNL_CB_ERROR;
  int rc = MNL_CB_OK;
  /* The kernel does not filter chain dumps by table: the list does. */
  if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) &&
      nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE) &&
      strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), list->table) == 0) {
    if (list->count == list->capacity) {
      size_t cap = list->capacity ? list->capacity * 2 : 64;
      struct chain_info *items = realloc(list->items, cap * sizeof(*items));
      if (items == NULL) {
        nftnl_chain_free(c);
        return MNL_CB_ERROR;
      }
      list->items = items;
      list->capacity = cap;
    }
    struct chain_info *ci = &list->items[list->count];
    memset(ci, 0, sizeof(*ci));
    ci->name = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
    ci->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
    ci->hooknum = ci->base ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : 0;
    ci->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
                     ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
                     : NF_ACCEPT;
    ci->counters = nftnl_chain_is_set(c, NFTNL_CHAIN_PACKETS);
    if (ci->counters) {
      ci->packets = nftnl_chain_get_u64(c, NFTNL_CHAIN_PACKETS);
      ci->bytes = nftnl_chain_get_u64(c, NFTNL_CHAIN_BYTES);
    }
    if (ci->name == NULL)
      rc = MNL_CB_ERROR;
    else
      list->count++;
  }
  nftnl_chain_free(c);
  return rc;
}

static void build_chain(struct nlmsghdr *nlh, void *arg) {
  nftnl_chain_nlmsg_build_payload(nlh, arg);
}

/* table's chains (dump filtered by table), or one chain when name != NULL. */
static int list_chains(struct kp_nft_nl *nl, uint16_t nfproto, const char *table, const char *name,
                       struct chain_list *list) {
  struct nftnl_chain *req = nftnl_chain_alloc();
  if (req == NULL)
    return errno = ENOMEM, -1;
  nftnl_chain_set_str(req, NFTNL_CHAIN_TABLE, table);
  list->table = table;
  if (name != NULL)
    nftnl_chain_set_str(req, NFTNL_CHAIN_NAME, name);
  int rc = kp_nft_nl_query(nl, NFT_MSG_GETCHAIN, nfproto, name ? NLM_F_ACK : NLM_F_DUMP,
                           build_chain, req, chain_cb, list);
  nftnl_chain_free(req);
  return rc;
}

/* iptables' order: built-in chains by hook, then user chains by name. */
static int chain_order(const void *a, const void *b) {
  const struct chain_info *x = a, *y = b;
  if (x->base != y->base)
    return x->base ? -1 : 1;
  if (x->base)
    return x->hooknum < y->hooknum ? -1 : x->hooknum > y->hooknum;
  return strcmp(x->name, y->name);
}

static const char *hook_name(uint32_t hook) {
  static const char *const names[] = {"prerouting", "input", "forward", "output", "postrouting"};
  return hook < sizeof(names) / sizeof(names[0]) ? names[hook] : "?";
}

/* ---- rules ---------------------------------------------------------------------- */

struct rule_dump {
  struct kp_nft_table_ctx *ctx;
  struct kp_chain *chain;
  bool counters_only; /* refresh: update the counters of the rule at index */
  size_t index;
  size_t decoded;
  int err;
};

static int counter_expr_cb(struct nftnl_expr *e, void *arg) {
  struct kp_counters *c = arg;
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name != NULL && strcmp(name, "counter") == 0) {
    c->present = true;
    c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
    c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
  }
  return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg) {
  struct rule_dump *rd = arg;
  struct nftnl_rule *nr = nftnl_rule_alloc();
  if (nr == NULL) {
    rd->err = ENOMEM;
    return MNL_CB_ERROR;
  }
  int rc = MNL_CB_OK;
  if (nftnl_rule_nlmsg_parse(nlh, nr) == 0) {
    if (rd->counters_only) {
      if (rd->index >= rd->chain->rules.count) {
        rd->err = EAGAIN; /* the chain changed under an unchanged generation */
        rc = MNL_CB_ERROR;
      } else {
        struct kp_rule *rule = rd->chain->rules.items[rd->index];
        struct kp_counters c = {0};
        nftnl_expr_foreach(nr, counter_expr_cb, &c);
        rule->counters = c;
      }
      rd->index++;
    } else {
      struct kp_rule *rule = kp_chain_add_rule(rd->ctx->snap, rd->chain);
      if (rule == NULL || kp_nft_decode_rule(rd->ctx, nr, rule) != 0) {
        rd->err = ENOMEM;
        rc = MNL_CB_ERROR;
      }
      rd->decoded++;
    }
  }
  nftnl_rule_free(nr);
  return rc;
}

static void build_rule(struct nlmsghdr *nlh, void *arg) {
  nftnl_rule_nlmsg_build_payload(nlh, arg);
}

/* One chain's rules: NFT_MSG_GETRULE dump filtered by table and chain. */
static int dump_chain(struct kp_nft_nl *nl, struct rule_dump *rd) {
  struct nftnl_rule *req = nftnl_rule_alloc();
  if (req == NULL)
    return errno = ENOMEM, -1;
  nftnl_rule_set_str(req, NFTNL_RULE_TABLE, rd->ctx->table->name);
  nftnl_rule_set_str(req, NFTNL_RULE_CHAIN, rd->chain->name);
  int rc = kp_nft_nl_query(nl, NFT_MSG_GETRULE, rd->ctx->nfproto, NLM_F_DUMP, build_rule, req,
                           rule_cb, rd);
  nftnl_rule_free(req);
  if (rc != 0 && rd->err != 0)
    errno = rd->err;
  return rc;
}

/* ---- full read ---------------------------------------------------------------------- */

static int read_table(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool v6,
                      const char *name, bool native) {
  uint16_t nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
  struct chain_list chains = {0};
  if (list_chains(&reader->nl, nfproto, name, NULL, &chains) != 0) {
    int saved = errno;
    chain_list_free(&chains);
    return errno = saved, -1;
  }
  if (!native)
    qsort(chains.items, chains.count, sizeof(chains.items[0]), chain_order);
  enum kp_family family = v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  struct kp_table *table = kp_snapshot_table(snap, family, KP_BACKEND_NFT, name, true);
  if (table == NULL) {
    chain_list_free(&chains);
    return errno = ENOMEM, -1;
  }
  table->native_nft = native;
  table->source = "kernel";
  int rc = 0;
  for (size_t i = 0; i < chains.count && rc == 0; i++) {
    const struct chain_info *ci = &chains.items[i];
    struct kp_chain *chain = kp_table_add_chain(snap, table, ci->name);
    if (chain == NULL) {
      rc = -1;
      errno = ENOMEM;
      break;
    }
    chain->builtin = ci->base;
    chain->dump_references = -1;
    if (ci->base) {
      chain->policy = ci->policy == NF_DROP ? "DROP" : "ACCEPT";
      chain->hook = native ? hook_name(ci->hooknum) : NULL;
      chain->policy_counters.present = ci->counters;
      chain->policy_counters.packets = ci->packets;
      chain->policy_counters.bytes = ci->bytes;
    }
  }
  chain_list_free(&chains);
  if (rc != 0)
    return -1;

  struct kp_nft_table_ctx ctx = {
      .snap = snap, .table = table, .family = family, .nfproto = nfproto, .native = native};
  kp_iptc_ctx_init(&ctx.xt, snap, table, family);
  if (native)
    rc = kp_nft_read_sets(&reader->nl, &ctx);
  for (size_t i = 0; i < table->chains.count && rc == 0; i++) {
    struct rule_dump rd = {.ctx = &ctx, .chain = table->chains.items[i]};
    rc = dump_chain(&reader->nl, &rd);
    reader->stats.chains_dumped++;
    reader->stats.rules_decoded += rd.decoded;
  }
  int saved = errno;
  kp_iptc_ctx_done(&ctx.xt);
  errno = saved;
  return rc;
}

static int read_all(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6) {
  struct table_list list;
  memset(&list, 0, sizeof(list));
  if (kp_nft_nl_query(&reader->nl, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, NULL, NULL,
                      table_cb, &list) != 0)
    return -1;
  size_t n = sizeof(xt_tables) / sizeof(xt_tables[0]);
  for (int v6 = 0; v6 <= (ipv6 ? 1 : 0); v6++)
    for (size_t i = 0; i <= n; i++)
      if (list.present[v6][i] &&
          read_table(reader, snap, v6, i < n ? xt_tables[i] : native_table, i == n) != 0)
        return -1;
  return 0;
}

/* ---- cache ------------------------------------------------------------------------------ */

/* Chains whose counters a cached read refreshes. */
static bool refreshed(const struct kp_table *table, const struct kp_chain *chain) {
  if (chain->builtin)
    return true;
  if (table->native_nft)
    return false;
  if (strcmp(table->name, "nat") == 0)
    return strcmp(chain->name, "KUBE-SERVICES") == 0 ||
           strcmp(chain->name, "KUBE-NODEPORTS") == 0 ||
           strcmp(chain->name, "KUBE-POSTROUTING") == 0;
  return strcmp(table->name, "filter") == 0 && strcmp(chain->name, "KUBE-SERVICES") == 0;
}

/* Copies src's tables of the wanted families into dst; with stale_counters,
 * rules outside the refreshed chains lose their (old) counters. */
static int copy_tables(struct kp_snapshot *dst, const struct kp_snapshot *src, bool ipv6,
                       bool stale_counters) {
  for (size_t t = 0; t < src->tables.count; t++) {
    const struct kp_table *st = src->tables.items[t];
    if (st->family == KP_FAMILY_IPV6 && !ipv6)
      continue;
    if (kp_snapshot_copy_table(dst, st, stale_counters ? refreshed : NULL) != 0)
      return -1;
  }
  return 0;
}

/* Re-reads the counters of the refreshed chains of snap's nft tables. */
static int refresh_counters(struct kp_nft_reader *reader, struct kp_snapshot *snap) {
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_table *table = snap->tables.items[t];
    if (table->backend != KP_BACKEND_NFT)
      continue;
    enum kp_family family = table->family;
    uint16_t nfproto = family == KP_FAMILY_IPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    struct kp_nft_table_ctx ctx = {.snap = snap,
                                   .table = table,
                                   .family = family,
                                   .nfproto = nfproto,
                                   .native = table->native_nft};
    for (size_t c = 0; c < table->chains.count; c++) {
      struct kp_chain *chain = table->chains.items[c];
      if (!refreshed(table, chain))
        continue;
      if (chain->builtin && chain->policy_counters.present) {
        struct chain_list one = {0};
        int rc = list_chains(&reader->nl, nfproto, table->name, chain->name, &one);
        if (rc == 0 && one.count == 1) {
          chain->policy_counters.packets = one.items[0].packets;
          chain->policy_counters.bytes = one.items[0].bytes;
        }
        chain_list_free(&one);
        if (rc != 0)
          return -1;
      }
      if (chain->rules.count == 0)
        continue;
      struct rule_dump rd = {.ctx = &ctx, .chain = chain, .counters_only = true};
      if (dump_chain(&reader->nl, &rd) != 0)
        return -1;
      reader->stats.chains_dumped++;
      if (rd.index != chain->rules.count)
        return errno = EAGAIN, -1;
    }
  }
  return 0;
}

/* ---- API ---------------------------------------------------------------------------------- */

struct kp_nft_reader *kp_nft_reader_new(void) {
  return calloc(1, sizeof(struct kp_nft_reader));
}

void kp_nft_reader_free(struct kp_nft_reader *reader) {
  if (reader == NULL)
    return;
  nl_close(&reader->nl);
  free(reader->nl.buf);
  kp_snapshot_free(reader->cache);
  free(reader);
}

void kp_nft_last_stats(const struct kp_nft_reader *reader, struct kp_nft_read_stats *stats) {
  *stats = reader->stats;
}

static int fail(struct kp_live_error *err, const char *what) {
  int e = errno;
  if (err == NULL)
    return -1;
  memset(err, 0, sizeof(*err));
  err->err_no = e;
  if (e == EPERM || e == EACCES) {
    err->fault = KP_LIVE_NO_PRIVILEGE;
    snprintf(err->message, sizeof(err->message), "nf_tables %s: %s (needs CAP_NET_ADMIN)", what,
             strerror(e));
  } else if (e == EPROTONOSUPPORT || e == EAFNOSUPPORT) {
    err->fault = KP_LIVE_UNSUPPORTED;
    snprintf(err->message, sizeof(err->message), "nf_tables %s: %s (no nf_tables in this kernel)",
             what, strerror(e));
  } else {
    err->fault = KP_LIVE_OTHER;
    snprintf(err->message, sizeof(err->message), "nf_tables %s: %s", what, strerror(e));
  }
  return -1;
}

static void add_source(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->sources.count; i++)
    if (strcmp(snap->sources.items[i], "kernel") == 0)
      return;
  kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel");
}

/* Removes the nft tables a failed attempt added (the arena keeps the bytes). */
static void drop_nft_tables(struct kp_snapshot *snap, size_t first) {
  while (snap->tables.count > first)
    kp_snapshot_drop_table(snap, snap->tables.items[snap->tables.count - 1]);
}

static void cache_store(struct kp_nft_reader *reader, const struct kp_snapshot *snap, size_t first,
                        uint32_t gen, bool ipv6) {
  kp_snapshot_free(reader->cache);
  reader->cache = kp_snapshot_new();
  if (reader->cache == NULL)
    return;
  /* Only the tables this read added (the caller may have put others in snap). */
  struct kp_snapshot view = *snap;
  view.tables.items = snap->tables.items != NULL ? snap->tables.items + first : NULL;
  view.tables.count = snap->tables.count - first;
  if (copy_tables(reader->cache, &view, true, false) != 0) {
    kp_snapshot_free(reader->cache);
    reader->cache = NULL;
    return;
  }
  reader->cache_gen = gen;
  reader->cache_ipv6 = ipv6;
}

static int cached_read(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6,
                       uint32_t gen) {
  size_t first = snap->tables.count;
  if (copy_tables(snap, reader->cache, ipv6, true) != 0)
    return errno = ENOMEM, -1;
  struct kp_snapshot view = *snap;
  view.tables.items = snap->tables.items != NULL ? snap->tables.items + first : NULL;
  view.tables.count = snap->tables.count - first;
  uint32_t after = gen;
  if (refresh_counters(reader, &view) != 0 || get_gen(&reader->nl, &after) != 0 || after != gen) {
    drop_nft_tables(snap, first);
    return errno = EAGAIN, -1;
  }
  reader->stats.cached = true;
  return 0;
}

int kp_nft_read(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6,
                struct kp_live_error *err) {
  memset(&reader->stats, 0, sizeof(reader->stats));
  if (err != NULL)
    memset(err, 0, sizeof(*err));
  uint32_t gen = 0;
  if (get_gen(&reader->nl, &gen) != 0)
    return fail(err, "generation id");
  reader->stats.generation = gen;
  add_source(snap);
  if (reader->cache != NULL && reader->cache_gen == gen && (reader->cache_ipv6 || !ipv6)) {
    if (cached_read(reader, snap, ipv6, gen) == 0)
      return 0;
    if (errno != EAGAIN && errno != EINTR && errno != ENOENT)
      return fail(err, "counter refresh");
    memset(&reader->stats, 0, sizeof(reader->stats));
  }
  /* A ruleset change during the dumps (EINTR, ENOENT, a new generation)
   * would mix two versions: read again, at most three times. */
  size_t first = snap->tables.count;
  for (int attempt = 0;; attempt++) {
    reader->stats.chains_dumped = reader->stats.rules_decoded = 0;
    int rc = read_all(reader, snap, ipv6);
    int saved = errno;
    uint32_t after = gen;
    bool stable = rc == 0 && get_gen(&reader->nl, &after) == 0 && after == gen;
    if (stable) {
      reader->stats.generation = gen;
      cache_store(reader, snap, first, gen, ipv6);
      return 0;
    }
    bool retry = rc == 0 || saved == EINTR || saved == ENOENT;
    if (!retry || attempt == 2) {
      if (rc == 0)
        return 0; /* consistent enough to use, but not cached */
      drop_nft_tables(snap, first);
      errno = saved;
      return fail(err, "rule dump");
    }
    drop_nft_tables(snap, first);
    gen = after;
    if (rc != 0 && get_gen(&reader->nl, &gen) != 0)
      return fail(err, "generation id");
  }
}

int kp_nft_has_wrapper_hint(struct kp_nft_reader *reader, bool *hint, struct kp_live_error *err) {
  *hint = false;
  if (err != NULL)
    memset(err, 0, sizeof(*err));
  const uint16_t families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
  for (size_t f = 0; f < 2 && !*hint; f++) {
    struct chain_list list = {0};
    if (list_chains(&reader->nl, families[f], "mangle", NULL, &list) != 0) {
      int saved = errno;
      chain_list_free(&list);
      if (saved == ENOENT)
        continue; /* no such table */
      errno = saved;
      return fail(err, "mangle chain list");
    }
    for (size_t i = 0; i < list.count; i++)
      if (strcmp(list.items[i].name, "KUBE-IPTABLES-HINT") == 0 ||
          strcmp(list.items[i].name, "KUBE-KUBELET-CANARY") == 0)
        *hint = true;
    chain_list_free(&list);
  }
  return 0;
}
