/* Private to the live nf_tables source (live_nft*.c): the netlink session,
 * what one table read carries along, and the decoders' entry points. */
#ifndef KP_LIVE_NFT_INTERNAL_H
#define KP_LIVE_NFT_INTERNAL_H

#include "live_iptc_xt.h"
#include "live_nft.h"

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* One netlink socket, opened lazily in the calling thread's namespace. */
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

/* Anonymous sets of a native table (verdict maps of "numgen ... vmap {}"):
 * kept out of table->sets, looked up by the rule decoder. */
struct kp_nft_anon {
  struct kp_set **items;
  size_t count, capacity;
};

/* What one table read carries along. */
struct kp_nft_table_ctx {
  struct kp_snapshot *snap;
  struct kp_table *table;
  enum kp_family family;
  uint16_t nfproto;      /* NFPROTO_IPV4 / NFPROTO_IPV6 */
  bool native;           /* kube-proxy's own table: nft-style rule text */
  struct kp_iptc_ctx xt; /* for the xtables-compat match/target payloads */
  struct kp_nft_anon anon;
};

/* live_nft_expr.c: decodes one dumped rule into rule (matches, target,
 * counters, comment from userdata, display text). 0 / -1 out of memory. */
int kp_nft_decode_rule(struct kp_nft_table_ctx *ctx, const struct nftnl_rule *nr,
                       struct kp_rule *rule);

/* live_nft_xt.c: an xtables-compat `match` / `target` expression, decoded
 * like libiptc's payloads. 0 / -1 out of memory. */
int kp_nft_xt_match(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                    uint32_t rev, const void *info, size_t len, struct kp_iptc_text *text);
int kp_nft_xt_target(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                     uint32_t rev, const void *info, size_t len, struct kp_iptc_text *text);

/* live_nft_native.c: reads the sets/maps (with elements) of a native table;
 * named ones into table->sets, anonymous ones into ctx->anon.
 * 0, or -1 with errno. */
int kp_nft_read_sets(struct kp_nft_nl *nl, struct kp_nft_table_ctx *ctx);
const struct kp_set *kp_nft_anon_set(const struct kp_nft_table_ctx *ctx, const char *name);

#endif
