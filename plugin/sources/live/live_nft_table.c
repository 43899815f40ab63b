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

/* The chains of the list into table, with their policies and counters. */
static int add_chains(struct kp_snapshot *snap, struct kp_table *table,
                      const struct kp_nft_chain_list *chains) {
  for (size_t i = 0; i < chains->count; i++) {
    const struct kp_nft_chain_info *ci = &chains->items[i];
    struct kp_chain *chain = kp_table_add_chain(snap, table, ci->name);
    if (chain == NULL)
      return errno = ENOMEM, -1;
    chain->builtin = ci->base;
    chain->dump_references = -1;
    if (ci->base) {
      chain->policy = ci->policy == NF_DROP ? "DROP" : "ACCEPT";
      chain->hook = table->native_nft ? kp_nft_hook_name(ci->hooknum) : NULL;
      chain->policy_counters.present = ci->counters;
      chain->policy_counters.packets = ci->packets;
      chain->policy_counters.bytes = ci->bytes;
    }
  }
  return 0;
}

int kp_nft_read_table(struct kp_nft_nl *nl, struct kp_snapshot *snap, bool v6, const char *name,
                      bool native, struct kp_nft_read_stats *stats) {
  uint16_t nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
  struct kp_nft_chain_list chains = {0};
  if (kp_nft_list_chains(nl, nfproto, name, NULL, &chains) != 0) {
    int saved = errno;
    kp_nft_chain_list_free(&chains);
    return errno = saved, -1;
  }
  if (!native)
    qsort(chains.items, chains.count, sizeof(chains.items[0]), kp_nft_chain_order);
  enum kp_family family = v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  struct kp_table *table = kp_snapshot_table(snap, family, KP_BACKEND_NFT, name, true);
  int rc = table == NULL ? (errno = ENOMEM, -1) : 0;
  if (rc == 0) {
    table->native_nft = native;
    table->source = "kernel";
    rc = add_chains(snap, table, &chains);
  }
  kp_nft_chain_list_free(&chains);
  if (rc != 0)
    return -1;

  struct kp_nft_table_ctx ctx;
  kp_nft_table_ctx_init(&ctx, snap, table);
  if (native)
    rc = kp_nft_read_sets(nl, &ctx);
  for (size_t i = 0; i < table->chains.count && rc == 0; i++) {
    struct kp_nft_rule_dump rd = {.ctx = &ctx, .chain = table->chains.items[i]};
    rc = kp_nft_dump_chain(nl, &rd);
    stats->chains_dumped++;
    stats->rules_decoded += rd.decoded;
  }
  int saved = errno;
  kp_nft_table_ctx_done(&ctx);
  errno = saved;
  return rc;
}
