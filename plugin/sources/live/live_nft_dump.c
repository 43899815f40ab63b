/* What the nf_tables reader asks the kernel for: the table list, a table's
 * chains (or one chain), and one chain's rules, decoded or counters only. */
#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <endian.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

const char *const kp_nft_xt_tables[KP_NFT_XT_TABLES] = {"filter", "nat", "mangle", "raw"};
const char kp_nft_native_table[] = "kube-proxy";

static int table_cb(const struct nlmsghdr *nlh, void *arg);

static void build_table(struct nlmsghdr *nlh, void *arg) {
  nftnl_table_nlmsg_build_payload(nlh, arg);
}

/* Each of our tables asked for by name: unlike a dump of all tables, a
 * request for one is never interrupted by a commit elsewhere. */
int kp_nft_list_tables(struct kp_nft_nl *nl, struct kp_nft_table_list *list) {
  memset(list, 0, sizeof(*list));
  struct nftnl_table *req = nftnl_table_alloc();
  if (req == NULL)
    return errno = ENOMEM, -1;
  int rc = 0;
  for (int v6 = 0; v6 < 2 && rc == 0; v6++)
    for (int i = 0; i <= KP_NFT_XT_TABLES && rc == 0; i++) {
      nftnl_table_set_str(req, NFTNL_TABLE_NAME,
                          i < KP_NFT_XT_TABLES ? kp_nft_xt_tables[i] : kp_nft_native_table);
      rc = kp_nft_nl_query(nl, NFT_MSG_GETTABLE, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, NLM_F_ACK,
                           build_table, req, table_cb, list);
      if (rc != 0 && errno == ENOENT)
        rc = 0; /* no such table */
    }
  int saved = errno;
  nftnl_table_free(req);
  errno = saved;
  return rc;
}

/* ---- listings ----------------------------------------------------------------- */

static int table_cb(const struct nlmsghdr *nlh, void *arg) {
  struct kp_nft_table_list *list = arg;
  struct nftnl_table *t = nftnl_table_alloc();
  if (t == NULL)
    return MNL_CB_ERROR;
  if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
    uint32_t family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
    const char *name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
    size_t n = KP_NFT_XT_TABLES;
    if (name != NULL && (family == NFPROTO_IPV4 || family == NFPROTO_IPV6)) {
      bool v6 = family == NFPROTO_IPV6;
      for (size_t i = 0; i < n; i++)
        if (strcmp(name, kp_nft_xt_tables[i]) == 0)
          list->present[v6][i] = true;
      if (strcmp(name, kp_nft_native_table) == 0)
        list->present[v6][n] = true;
    }
  }
  nftnl_table_free(t);
  return MNL_CB_OK;
}

void kp_nft_chain_list_free(struct kp_nft_chain_list *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i].name);
  free(list->items);
  list->items = NULL;
  list->count = list->capacity = 0;
}

/* Which of the wanted tables a chain is in: list->table, or (NULL) any of
 * ours (kp_nft_xt_tables, then the native one). -1: not wanted. */
static int table_index(const struct kp_nft_chain_list *list, const char *table) {
  if (list->table != NULL)
    return strcmp(table, list->table) == 0 ? 0 : -1;
  for (int i = 0; i < KP_NFT_XT_TABLES; i++)
    if (strcmp(table, kp_nft_xt_tables[i]) == 0)
      return i;
  return strcmp(table, kp_nft_native_table) == 0 ? KP_NFT_XT_TABLES : -1;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg) {
  struct kp_nft_chain_list *list = arg;
  struct nftnl_chain *c = nftnl_chain_alloc();
  if (c == NULL)
    return MNL_CB_ERROR;
  int rc = MNL_CB_OK;
  /* The kernel does not filter chain dumps by table: the list does. */
  int table = -1;
  if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) &&
      nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE))
    table = table_index(list, nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
  if (table >= 0) {
    if (list->count == list->capacity) {
      size_t cap = list->capacity ? list->capacity * 2 : 64;
      struct kp_nft_chain_info *items = realloc(list->items, cap * sizeof(*items));
      if (items == NULL) {
        nftnl_chain_free(c);
        return MNL_CB_ERROR;
      }
      list->items = items;
      list->capacity = cap;
    }
    struct kp_nft_chain_info *ci = &list->items[list->count];
    memset(ci, 0, sizeof(*ci));
    ci->name = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
    ci->table = table;
    ci->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
    ci->hooknum = ci->base ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : 0;
    ci->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
                     ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
                     : NF_ACCEPT;
    ci->handle =
        nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE) ? nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE) : 0;
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
int kp_nft_list_chains(struct kp_nft_nl *nl, uint16_t nfproto, const char *table, const char *name,
                       struct kp_nft_chain_list *list) {
  struct nftnl_chain *req = nftnl_chain_alloc();
  if (req == NULL)
    return errno = ENOMEM, -1;
  if (table != NULL)
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
int kp_nft_chain_order(const void *a, const void *b) {
  const struct kp_nft_chain_info *x = a, *y = b;
  if (x->base != y->base)
    return x->base ? -1 : 1;
  if (x->base)
    return x->hooknum < y->hooknum ? -1 : x->hooknum > y->hooknum;
  return strcmp(x->name, y->name);
}

const char *kp_nft_hook_name(uint32_t hook) {
  static const char *const names[] = {"prerouting", "input", "forward", "output", "postrouting"};
  return hook < sizeof(names) / sizeof(names[0]) ? names[hook] : "?";
}

/* ---- rules ---------------------------------------------------------------------- */

/* The first counter expression of a rule message, read straight from the
 * netlink attributes (NFTA_RULE_EXPRESSIONS > NFTA_LIST_ELEM > NFTA_EXPR_NAME
 * "counter", NFTA_EXPR_DATA > NFTA_COUNTER_*): a counters-only refresh
 * builds no libnftnl rule. */
void kp_nft_rule_counters(const struct nlmsghdr *nlh, struct kp_counters *c) {
  memset(c, 0, sizeof(*c));
  const struct nlattr *attr;
  kp_nft_msg_for_each_attr(attr, nlh) {
    if (kp_nft_attr_type(attr) != NFTA_RULE_EXPRESSIONS)
      continue;
    const struct nlattr *elem;
    kp_nft_for_each_nested(elem, attr) {
      const struct nlattr *name = NULL, *data = NULL, *a;
      kp_nft_for_each_nested(a, elem) {
        if (kp_nft_attr_type(a) == NFTA_EXPR_NAME)
          name = a;
        else if (kp_nft_attr_type(a) == NFTA_EXPR_DATA)
          data = a;
      }
      if (name == NULL || data == NULL || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0 ||
          strcmp(mnl_attr_get_str(name), "counter") != 0)
        continue;
      kp_nft_for_each_nested(a, data) {
        if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
          continue;
        if (kp_nft_attr_type(a) == NFTA_COUNTER_PACKETS)
          c->packets = be64toh(mnl_attr_get_u64(a));
        else if (kp_nft_attr_type(a) == NFTA_COUNTER_BYTES)
          c->bytes = be64toh(mnl_attr_get_u64(a));
      }
      c->present = true;
      return;
    }
  }
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg) {
  struct kp_nft_rule_dump *rd = arg;
  if (rd->counters_only) {
    if (rd->index >= rd->chain->rules.count) {
      rd->err = EAGAIN; /* the chain changed under an unchanged generation */
      return MNL_CB_ERROR;
    }
    struct kp_rule *rule = rd->chain->rules.items[rd->index++];
    struct kp_counters c;
    kp_nft_rule_counters(nlh, &c);
    kp_rule_set_counters(rule, &c);
    return MNL_CB_OK;
  }
  struct kp_nft_rule_msg msg;
  if (kp_nft_rule_msg_parse(nlh, &msg) != 0)
    return MNL_CB_OK; /* not a rule libnftnl would take either: skipped */
  struct kp_rule *rule = kp_chain_add_rule(rd->ctx->snap, rd->chain);
  rd->decoded++;
  if (rule == NULL || kp_nft_decode_rule(rd->ctx, &msg, rule) != 0 ||
      (rd->ctx->follow != NULL &&
       kp_nft_handles_put(&rd->ctx->follow->rules, msg.handle, rule) != 0)) {
    rd->err = ENOMEM;
    return MNL_CB_ERROR;
  }
  return MNL_CB_OK;
}

static void build_rule(struct nlmsghdr *nlh, void *arg) {
  nftnl_rule_nlmsg_build_payload(nlh, arg);
}

/* One chain's rules: NFT_MSG_GETRULE dump filtered by table and chain. */
int kp_nft_dump_chain(struct kp_nft_nl *nl, struct kp_nft_rule_dump *rd) {
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
