/* Private to the live nf_tables source (live_nft_*.c). Who calls whom, one
 * way only:
 *   reader (kp_nft_read)  -> follow, cache, table -> dump, sets -> session
 *   follow (notifications) -> monitor, apply -> table, dump, expr, sets, reuse
 *   (table, dump, sets and apply record into handles: the follower's leaf)
 *   dump (rule dumps)     -> expr (rule decoder) -> nft_xt -> xt decoders
 * The session and the monitor are the leaves: they talk to the kernel and
 * call nothing here. */
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
  /* With tolerate_intr, a rule or chain dump interrupted by a ruleset
   * change (NLM_F_DUMP_INTR) is read to its end and only noted here: each
   * message is self-consistent, and the reader checks through the change
   * notifications that the changes did not touch what it dumped
   * (kp_nft_follow_quiet, kp_nft_follow_catch_up). */
  bool tolerate_intr;
  bool rules_interrupted, chains_interrupted;
};
#define KP_NFT_BUF (1u << 16)

/* Builds the request payload into nlh (may be NULL: header only). */
typedef void (*kp_nft_build_fn)(struct nlmsghdr *nlh, void *arg);

/* Sends one request of type NFT_MSG_* for family (NFPROTO_*) with flags
 * (NLM_F_DUMP or NLM_F_ACK) and runs cb on every reply. 0, or -1 with errno
 * (EINTR when a dump was interrupted by a ruleset change). */
int kp_nft_nl_query(struct kp_nft_nl *nl, uint16_t type, uint16_t family, uint16_t flags,
                    kp_nft_build_fn build, void *build_arg, mnl_cb_t cb, void *cb_arg);
/* Clears the interruption notes and sets tolerate_intr. */
void kp_nft_nl_tolerate(struct kp_nft_nl *nl, bool tolerate);
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
  uint64_t handle;
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
struct kp_nft_ftable;

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
  struct kp_nft_ftable *follow; /* non-NULL: record handles and set types here */
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
                      const struct kp_nft_chain_list *chains, struct kp_nft_read_stats *stats,
                      struct kp_nft_ftable *follow);
/* A chain as a full read sets it up from its listing. */
int kp_nft_chain_setup(struct kp_snapshot *snap, struct kp_chain *chain,
                       const struct kp_nft_chain_info *ci); /* 0 / -1 ENOMEM */

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
 * When the ruleset changed meanwhile and follow (may be NULL) follows the
 * kept tables: they are caught up; -1 with errno ESTALE when that changed
 * them (refresh again), 0 when it changed other tables only. -1 with
 * errno EAGAIN on any other failure: the cache is then empty (read it
 * fully), *why the catch-up's fallback or KP_NFT_FULL_COUNT. */
struct kp_nft_follow;
int kp_nft_cache_read(struct kp_nft_cache *cache, struct kp_nft_nl *nl, struct kp_snapshot *snap,
                      bool ipv6, struct kp_nft_read_stats *stats, struct kp_nft_follow *follow,
                      enum kp_nft_fallback *why);
/* Removes the tables from index first on (a failed attempt's). */
void kp_nft_drop_tables(struct kp_snapshot *snap, size_t first);

/* ---- live_nft_expr.c: decodes one dumped or notified rule, its message
 * read by kp_nft_rule_msg_parse (live_nft_attr.h), into rule (matches,
 * target, counters, comment from userdata, display text). 0 / -1 out of
 * memory. */
struct kp_nft_rule_msg;
int kp_nft_decode_rule(struct kp_nft_table_ctx *ctx, const struct kp_nft_rule_msg *msg,
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
struct nftnl_set;
/* The set s describes (a dumped or notified set, without elements): found
 * or made, its type set; recorded in ctx->follow. NULL out of memory. */
struct kp_set *kp_nft_set_define(struct kp_nft_table_ctx *ctx, struct nftnl_set *s);
/* Adds the elements s carries to set (keys of key_type); anonymous sets
 * are kept in key order. 0 / -1 out of memory. */
int kp_nft_set_add_elems(struct kp_nft_table_ctx *ctx, struct nftnl_set *s, struct kp_set *set,
                         uint32_t key_type, bool anonymous);
/* Removes them. 0, or -1 with errno ENOENT (an element the set lacks). */
int kp_nft_set_del_elems(struct nftnl_set *s, struct kp_set *set, uint32_t key_type);

/* ---- live_nft_handles.c: handle -> object maps (0 is no handle). */
struct kp_nft_handle_slot {
  uint64_t key;
  void *value;
};
struct kp_nft_handles {
  struct kp_nft_handle_slot *slots;
  size_t count, capacity;
};
int kp_nft_handles_put(struct kp_nft_handles *h, uint64_t key, void *value); /* 0 / -1 */
void *kp_nft_handles_get(const struct kp_nft_handles *h, uint64_t key);
void *kp_nft_handles_del(struct kp_nft_handles *h, uint64_t key); /* the value, or NULL */
void kp_nft_handles_free(struct kp_nft_handles *h);

/* ---- live_nft_monitor.c: the NFNLGRP_NFTABLES subscription. */
struct kp_nft_monitor {
  struct mnl_socket *sock;
  char *dgram; /* one received datagram */
  char *tx;    /* the messages of the transaction not ended yet */
  size_t tx_len, tx_cap;
  bool damaged; /* messages were lost before the next NEWGEN */
};
/* One whole transaction: its messages (nlmsghdr after nlmsghdr, each
 * NLMSG_ALIGNed), and the generation its NEWGEN named. damaged: some of
 * its messages were lost. 0, or -1 to stop the drain. */
typedef int (*kp_nft_tx_fn)(const char *msgs, size_t len, uint32_t gen, bool damaged, void *arg);
int kp_nft_monitor_open(struct kp_nft_monitor *m); /* subscribed; 0 / -1 */
/* Hands every transaction received whole to fn, without blocking (waiting
 * at most wait_ms for the first datagram). 0, or -1 with errno (ENOBUFS:
 * the kernel dropped messages), or fn's -1. */
int kp_nft_monitor_drain(struct kp_nft_monitor *m, int wait_ms, kp_nft_tx_fn fn, void *arg);
/* Drops everything pending: before a full read, whose generation id comes
 * later, every pending notification is of a change that read will see. */
void kp_nft_monitor_discard(struct kp_nft_monitor *m);
void kp_nft_monitor_close(struct kp_nft_monitor *m);

/* ---- What a full read records per table (kp_nft_read_table) for the
 * follower; the kp_nft_ftable_* functions are in live_nft_handles.c. */
struct kp_nft_set_meta {
  struct kp_set *set;
  uint32_t key_type, flags; /* NFTNL_SET_KEY_TYPE, NFTNL_SET_FLAGS */
};
struct kp_nft_ftable {
  struct kp_table *table;       /* in the cache's owner; NULL: not there */
  struct kp_nft_handles rules;  /* rule handle -> struct kp_rule * */
  struct kp_nft_handles chains; /* chain handle -> struct kp_chain * */
  struct kp_nft_set_meta *sets; /* named and anonymous */
  size_t n_sets, cap_sets;
  struct kp_nft_anon anon; /* a native table's anonymous sets */
};
int kp_nft_ftable_add_set(struct kp_nft_ftable *ft, struct kp_set *set, uint32_t key_type,
                          uint32_t flags);
struct kp_nft_set_meta *kp_nft_ftable_set(struct kp_nft_ftable *ft, const char *name);
void kp_nft_ftable_del_set(struct kp_nft_ftable *ft, struct kp_nft_set_meta *meta);

/* ---- live_nft_follow.c: the kept tables followed through the change
 * notifications. */
struct kp_nft_follow {
  struct kp_nft_monitor mon;
  bool valid; /* tables[] describe the cache's owner */
  bool ipv6;
  struct kp_nft_ftable tables[2][KP_NFT_XT_TABLES + 1]; /* as kp_nft_table_list */
  size_t owner_bytes;      /* the owner's arena right after its full read */
  struct kp_chain **dirty; /* chains whose rules have holes (deleted rules) */
  size_t n_dirty, cap_dirty;
  uint64_t tombstones;        /* deleted chains renamed so far */
  struct kp_nft_reuse *reuse; /* this catch-up's deleted rules; NULL: decode all */
  size_t applied;             /* messages applied by the last catch-up */
  size_t touched;             /* its transactions that touched the kept tables */
  /* the decoders' contexts of one catch-up, made on first use */
  struct kp_nft_table_ctx ctx[2][KP_NFT_XT_TABLES + 1];
  bool ctx_on[2][KP_NFT_XT_TABLES + 1];
};
void kp_nft_ftable_clear(struct kp_nft_ftable *ft);
void kp_nft_follow_reset(struct kp_nft_follow *f); /* forget the tables */
void kp_nft_follow_free(struct kp_nft_follow *f);
/* After a full read kept as the cache's owner. */
void kp_nft_follow_kept(struct kp_nft_follow *f, struct kp_snapshot *owner, bool ipv6);
/* Brings the cache's owner from cache->gen to the kernel's generation *gen
 * (GETGEN's, updated when newer changes arrived meanwhile) by applying the
 * notified transactions. 0, or -1 with *why (the tables are then
 * inconsistent: clear the cache). */
int kp_nft_follow_catch_up(struct kp_nft_follow *f, struct kp_nft_cache *cache,
                           struct kp_nft_nl *nl, uint32_t *gen, enum kp_nft_fallback *why);

/* After dumps from generation from to *to (GETGEN's after them): 0 when
 * every transaction notified since from, in order up to *to at least, left
 * what was dumped alone (kp_nft_msg_touches false); *to is then the newest
 * one seen, a generation the dumps describe. -1 otherwise (also without
 * the subscription). Consumes the notifications: for a read that keeps
 * nothing yet. */
int kp_nft_follow_quiet(struct kp_nft_follow *f, uint32_t from, uint32_t *to, bool ipv6,
                        bool chain_lists);

/* ---- live_nft_reuse.c: deleted rules by their notified content (counter
 * values aside), for the rules a catch-up adds back unchanged. */
struct kp_nft_reuse;
struct kp_nft_reuse *kp_nft_reuse_new(void);
void kp_nft_reuse_clear(struct kp_nft_reuse *r); /* forget the rules kept */
void kp_nft_reuse_free(struct kp_nft_reuse *r);
/* Keeps rule (deleted by the DELRULE nlh). 0 / -1 out of memory. */
int kp_nft_reuse_keep(struct kp_nft_reuse *r, const struct nlmsghdr *nlh, struct kp_rule *rule);
/* A kept rule with the content of the NEWRULE nlh, or NULL. */
const struct kp_rule *kp_nft_reuse_find(struct kp_nft_reuse *r, const struct nlmsghdr *nlh);
/* live_nft_dump.c: the first counter of a rule message. */
void kp_nft_rule_counters(const struct nlmsghdr *nlh, struct kp_counters *c);

/* ---- live_nft_apply.c: one notification applied to the kept tables.
 * 0, or -1 with errno (ENOENT: names a table, chain, rule or set the kept
 * tables lack; ENOMEM). */
int kp_nft_apply_msg(struct kp_nft_follow *f, struct kp_snapshot *owner,
                     const struct nlmsghdr *nlh);
/* Whether a notification can change what the reader keeps or dumped: one
 * about a table it reads, in a family it reads (IPv6 with ipv6), or with
 * chain_lists a chain added or deleted in any table of such a family (it
 * moves a family-wide chain dump's place in the kernel's list). An
 * unreadable one does. */
bool kp_nft_msg_touches(const struct nlmsghdr *nlh, bool ipv6, bool chain_lists);
/* live_nft_apply_sets.c: NEWSET, DELSET, NEWSETELEM, DELSETELEM. */
int kp_nft_apply_set_msg(struct kp_nft_ftable *ft, struct kp_nft_table_ctx *ctx, uint16_t type,
                         const struct nlmsghdr *nlh);
/* Before the first message of a catch-up / after the last one. */
int kp_nft_apply_begin(struct kp_nft_follow *f, struct kp_snapshot *owner);
int kp_nft_apply_end(struct kp_nft_follow *f, struct kp_snapshot *owner);

#endif
