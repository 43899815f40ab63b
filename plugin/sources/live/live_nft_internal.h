/* Private to the live nf_tables source (live_nft_*.c). Who calls whom, one
 * way only:
 *   reader (kp_nft_read)  -> cache, table -> dump, sets -> session
 *   dump (rule dumps)     -> expr (rule decoder) -> nft_xt -> xt decoders
 * The session is the leaf: it talks to the kernel and calls nothing here. */
#ifndef KP_LIVE_NFT_INTERNAL_H
#define KP_LIVE_NFT_INTERNAL_H

#include "live_internal.h"
#include "live_nft.h"
#include "live_xt.h"

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* ---- live_nft_session.c: one netlink socket, opened lazily in the calling
 * thread's namespace. */
struct kp_nft_nl {
  struct mnl_socket *sock;
  uint32_t portid;
  uint32_t seq;
  char *buf; /* KP_NFT_BUF bytes: request, then each received batch */
};
#define KP_NFT_BUF (1u << 16)

/* Builds the request payload into nlh (may be NULL: header only). */
typedef void (*kp_nft_build_fn)(struct nlmsghdr *nlh, void *arg);

/* Sends one request of type NFT_MSG_* for family (NFPROTO_*) with flags
 * (NLM_F_DUMP or NLM_F_ACK) and runs cb on every reply. 0, or -1 with errno
 * (EINTR when a dump was interrupted by a ruleset change). */
int kp_nft_nl_query(struct kp_nft_nl *nl, uint16_t type, uint16_t family, uint16_t flags,
                    kp_nft_build_fn build, void *build_arg, mnl_cb_t cb, void *cb_arg);
/* NFT_MSG_GETGEN: the ruleset generation id. 0 / -1 with errno. */
int kp_nft_get_gen(struct kp_nft_nl *nl, uint32_t *gen);
void kp_nft_nl_close(struct kp_nft_nl *nl);
void kp_nft_nl_free(struct kp_nft_nl *nl); /* close and release the buffer */

/* ---- live_nft_dump.c: listings and rule dumps. */

/* Tables iptables-nft writes, in the order the snapshot lists them, and
 * kube-proxy's own nftables-mode table. */
#define KP_NFT_XT_TABLES 4
extern const char *const kp_nft_xt_tables[KP_NFT_XT_TABLES];
extern const char kp_nft_native_table[];

struct kp_nft_table_list {
  bool present[2][KP_NFT_XT_TABLES + 1]; /* [v6][table]; last = native */
};
int kp_nft_list_tables(struct kp_nft_nl *nl, struct kp_nft_table_list *list);

struct kp_nft_chain_info {
  char *name;
  int table; /* with a NULL list table: index as in kp_nft_table_list.present */
  bool base;
  uint32_t hooknum, policy;
  bool counters;
  uint64_t packets, bytes;
};

struct kp_nft_chain_list {
  const char *table; /* keep only this table's chains */
  struct kp_nft_chain_info *items;
  size_t count, capacity;
};

/* table's chains (dump filtered by table), one chain when name != NULL, or
 * with table NULL the chains of every table we read (one dump for all).
 * Free the list with kp_nft_chain_list_free, also after a failure. */
int kp_nft_list_chains(struct kp_nft_nl *nl, uint16_t nfproto, const char *table, const char *name,
                       struct kp_nft_chain_list *list);
void kp_nft_chain_list_free(struct kp_nft_chain_list *list);
/* qsort order of iptables: built-in chains by hook, then user chains by name. */
int kp_nft_chain_order(const void *a, const void *b);
const char *kp_nft_hook_name(uint32_t hook); /* "prerouting", ... */

/* Anonymous sets of a native table (verdict maps of "numgen ... vmap {}"):
 * kept out of table->sets, looked up by the rule decoder. */
struct kp_nft_anon {
  struct kp_set **items;
  size_t count, capacity;
};

struct kp_nft_spelling;

/* What one table read carries along. */
struct kp_nft_table_ctx {
  struct kp_snapshot *snap;
  struct kp_table *table;
  enum kp_family family;
  uint16_t nfproto;                    /* NFPROTO_IPV4 / NFPROTO_IPV6 */
  bool native;                         /* kube-proxy's own table: nft-style rule text */
  const struct kp_nft_spelling *spell; /* chosen once per table from native */
  struct kp_xt_ctx xt;                 /* for the xtables-compat match/target payloads */
  struct kp_nft_anon anon;
};

/* Sets ctx up for one table (spelling chosen from table->native_nft). */
void kp_nft_table_ctx_init(struct kp_nft_table_ctx *ctx, struct kp_snapshot *snap,
                           struct kp_table *table);
void kp_nft_table_ctx_done(struct kp_nft_table_ctx *ctx);

/* One chain's rules (NFT_MSG_GETRULE dump filtered by table and chain):
 * decoded and appended to chain, or with counters_only the counters of the
 * chain's existing rules refreshed in order (EAGAIN when the chain has more
 * rules than the snapshot). */
struct kp_nft_rule_dump {
  struct kp_nft_table_ctx *ctx;
  struct kp_chain *chain;
  bool counters_only;
  size_t index;   /* counters_only: rules seen */
  size_t decoded; /* rules decoded */
  int err;
};
int kp_nft_dump_chain(struct kp_nft_nl *nl, struct kp_nft_rule_dump *rd);

/* ---- live_nft_table.c: one whole table into the snapshot: table is an
 * index as in kp_nft_table_list.present, chains the family's chain list
 * (kp_nft_list_chains with table NULL). */
int kp_nft_read_table(struct kp_nft_nl *nl, struct kp_snapshot *snap, bool v6, int table,
                      const struct kp_nft_chain_list *chains, struct kp_nft_read_stats *stats);

/* ---- live_nft_cache.c: the decoded tables of one generation, in a
 * snapshot of their own, lent to each read while the generation holds. */
struct kp_nft_cache {
  struct kp_snapshot *owner; /* NULL: nothing kept; finalized */
  uint32_t gen;
  bool ipv6, rule_text;
  bool trimmed; /* counters outside the refreshed chains dropped */
};
/* Keeps owner (finalized; the cache takes it over) as generation gen. */
void kp_nft_cache_store(struct kp_nft_cache *cache, struct kp_snapshot *owner, uint32_t gen,
                        bool ipv6);
void kp_nft_cache_clear(struct kp_nft_cache *cache);
/* Adds the kept tables of the wanted families to snap (shared). 0 / -1. */
int kp_nft_cache_lend(struct kp_nft_cache *cache, struct kp_snapshot *snap, bool ipv6);
/* A read from the kept tables: the counters the checks use re-read, the
 * tables lent (or, while another snapshot holds them, copied) into snap.
 * -1 with errno EAGAIN when the ruleset changed meanwhile (the cache is
 * then empty: read it fully), ENOMEM. */
int kp_nft_cache_read(struct kp_nft_cache *cache, struct kp_nft_nl *nl, struct kp_snapshot *snap,
                      bool ipv6, struct kp_nft_read_stats *stats);
/* Removes the tables from index first on (a failed attempt's). */
void kp_nft_drop_tables(struct kp_snapshot *snap, size_t first);

/* ---- live_nft_expr.c: decodes one dumped rule into rule (matches, target,
 * counters, comment from userdata, display text). 0 / -1 out of memory. */
int kp_nft_decode_rule(struct kp_nft_table_ctx *ctx, const struct nftnl_rule *nr,
                       struct kp_rule *rule);

/* ---- live_nft_xt.c: an xtables-compat `match` / `target` expression,
 * decoded like libiptc's payloads. 0 / -1 out of memory. */
int kp_nft_xt_match(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                    uint32_t rev, const void *info, size_t len, struct kp_rule_text *text);
int kp_nft_xt_target(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                     uint32_t rev, const void *info, size_t len, struct kp_rule_text *text);

/* ---- live_nft_sets.c: reads the sets/maps (with elements) of a native
 * table; named ones into table->sets, anonymous ones into ctx->anon.
 * 0, or -1 with errno. */
int kp_nft_read_sets(struct kp_nft_nl *nl, struct kp_nft_table_ctx *ctx);
const struct kp_set *kp_nft_anon_set(const struct kp_nft_table_ctx *ctx, const char *name);

#endif
