/* A full read of one nf_tables table: its chains in iptables' order (or the
 * kernel's, for kube-proxy's own table), a native table's sets and maps,
 * then every chain's rules, dumped chain by chain (a whole-table rule dump
 * grows quadratically in the kernel). */
#include "live_nft_expr.h"
#include "live_nft_internal.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>

void kp_nft_table_ctx_init(struct kp_nft_table_ctx *ctx, struct kp_snapshot *snap,
                           struct kp_table *table) {
  *ctx = (struct kp_nft_table_ctx){
      .snap = snap,
      .table = table,
      .family = table->family,
      .nfproto = table->family == KP_FAMILY_IPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4,
      .native = table->native_nft,
      .spell = table->native_nft ? &kp_nft_spelling_nft : &kp_nft_spelling_iptables,
  };
  kp_xt_ctx_init(&ctx->xt, snap, table, table->family);
}

void kp_nft_table_ctx_done(struct kp_nft_table_ctx *ctx) {
  kp_xt_ctx_done(&ctx->xt);
}

int kp_nft_chain_setup(struct kp_snapshot *snap, struct kp_chain *chain,
                       const struct kp_nft_chain_info *ci) {
  chain->builtin = ci->base;
  chain->dump_references = -1;
  if (ci->base) {
    struct kp_chain_ext *cx = kp_chain_ext_mut(snap, chain);
    if (cx == NULL)
      return errno = ENOMEM, -1;
    cx->policy = ci->policy == NF_DROP ? "DROP" : "ACCEPT";
    cx->hook = chain->table->native_nft ? kp_nft_hook_name(ci->hooknum) : NULL;
    cx->policy_counters.present = ci->counters;
    cx->policy_counters.packets = ci->packets;
    cx->policy_counters.bytes = ci->bytes;
  }
  return 0;
}

/* The chains of the list in table index `which` into table, with their
 * policies and counters; in iptables' order for iptables-nft's tables. */
static int add_chains(struct kp_snapshot *snap, struct kp_table *table,
                      const struct kp_nft_chain_list *chains, int which,
                      struct kp_nft_ftable *follow) {
  struct kp_nft_chain_info *mine = malloc((chains->count ? chains->count : 1) * sizeof(*mine));
  if (mine == NULL)
    return errno = ENOMEM, -1;
  size_t n = 0;
  for (size_t i = 0; i < chains->count; i++)
    if (chains->items[i].table == which)
      mine[n++] = chains->items[i]; /* names stay owned by the list */
  if (!table->native_nft)
    qsort(mine, n, sizeof(mine[0]), kp_nft_chain_order);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const struct kp_nft_chain_info *ci = &mine[i];
    struct kp_chain *chain = kp_table_add_chain(snap, table, ci->name);
    if (chain == NULL) {
      rc = (errno = ENOMEM, -1);
      break;
    }
    if (kp_nft_chain_setup(snap, chain, ci) != 0 ||
        (follow != NULL && kp_nft_handles_put(&follow->chains, ci->handle, chain) != 0))
      rc = -1;
  }
  free(mine);
  return rc;
}

int kp_nft_read_table(struct kp_nft_nl *nl, struct kp_snapshot *snap, bool v6, int which,
                      const struct kp_nft_chain_list *chains, struct kp_nft_read_stats *stats,
                      struct kp_nft_ftable *follow) {
  bool native = which == KP_NFT_XT_TABLES;
  const char *name = native ? kp_nft_native_table : kp_nft_xt_tables[which];
  enum kp_family family = v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  struct kp_table *table = kp_snapshot_table(snap, family, KP_BACKEND_NFT, name, true);
  if (table == NULL)
    return errno = ENOMEM, -1;
  table->native_nft = native;
  table->source = "kernel";
  if (follow != NULL)
    follow->table = table;
  if (add_chains(snap, table, chains, which, follow) != 0)
    return -1;

  int rc = 0;
  struct kp_nft_table_ctx ctx;
  kp_nft_table_ctx_init(&ctx, snap, table);
  ctx.follow = follow;
  if (native)
    rc = kp_nft_read_sets(nl, &ctx);
  for (size_t i = 0; i < table->chains.count && rc == 0; i++) {
    struct kp_nft_rule_dump rd = {.ctx = &ctx, .chain = table->chains.items[i]};
    rc = kp_nft_dump_chain(nl, &rd);
    stats->chains_dumped++;
    stats->rules_decoded += rd.decoded;
  }
  int saved = errno;
  if (follow != NULL)
    follow->anon = ctx.anon; /* in snap's arena: lives as long as the tables */
  kp_nft_table_ctx_done(&ctx);
  errno = saved;
  return rc;
}
