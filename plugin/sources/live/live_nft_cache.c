/* The nf_tables reader's cache: the decoded tables of one ruleset
 * generation, in a snapshot of their own (the owner). While the generation
 * id is unchanged, a read re-reads only the counters the checks and values
 * use (the refreshed chains below) into the kept tables and lends them to
 * the new snapshot: nothing is decoded or copied. Every other rule of such a
 * read has counters.present=false. When the previous read's snapshot still
 * holds the tables, the read copies them instead. */
#include "live_nft_internal.h"

#include <errno.h>
#include <string.h>

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

/* A built-in chain's policy counters, from a one-chain listing. */
static int refresh_policy(struct kp_nft_nl *nl, const struct kp_nft_table_ctx *ctx,
                          struct kp_chain *chain) {
  struct kp_nft_chain_list one = {0};
  int rc = kp_nft_list_chains(nl, ctx->nfproto, ctx->table->name, chain->name, &one);
  /* a chain with a policy has its extension since the full read set it */
  if (rc == 0 && one.count == 1 && chain->ext != NULL) {
    chain->ext->policy_counters.packets = one.items[0].packets;
    chain->ext->policy_counters.bytes = one.items[0].bytes;
  }
  kp_nft_chain_list_free(&one);
  return rc;
}

/* Re-reads the counters of the refreshed chains of one table. */
static int refresh_table(struct kp_nft_nl *nl, struct kp_snapshot *snap, struct kp_table *table,
                         struct kp_nft_read_stats *stats) {
  struct kp_nft_table_ctx ctx;
  kp_nft_table_ctx_init(&ctx, snap, table);
  int rc = 0;
  for (size_t c = 0; c < table->chains.count && rc == 0; c++) {
    struct kp_chain *chain = table->chains.items[c];
    if (!refreshed(table, chain))
      continue;
    if (chain->builtin && kp_chain_ext(chain)->policy_counters.present &&
        refresh_policy(nl, &ctx, chain) != 0)
      rc = -1;
    if (rc != 0 || chain->rules.count == 0)
      continue;
    struct kp_nft_rule_dump rd = {.ctx = &ctx, .chain = chain, .counters_only = true};
    rc = kp_nft_dump_chain(nl, &rd);
    stats->chains_dumped++;
    if (rc == 0 && rd.index != chain->rules.count)
      rc = (errno = EAGAIN, -1);
  }
  int saved = errno;
  kp_nft_table_ctx_done(&ctx);
  errno = saved;
  return rc;
}

void kp_nft_drop_tables(struct kp_snapshot *snap, size_t first) {
  while (snap->tables.count > first)
    kp_snapshot_drop_table(snap, snap->tables.items[snap->tables.count - 1]);
}

void kp_nft_cache_clear(struct kp_nft_cache *cache) {
  kp_snapshot_free(cache->owner); /* lives on while a read's snapshot holds its tables */
  cache->owner = NULL;
}

int kp_nft_cache_lend(struct kp_nft_cache *cache, struct kp_snapshot *snap, bool ipv6) {
  for (size_t t = 0; t < cache->owner->tables.count; t++) {
    struct kp_table *table = cache->owner->tables.items[t];
    if ((table->family != KP_FAMILY_IPV6 || ipv6) &&
        kp_snapshot_share_table(snap, cache->owner, table) != 0)
      return errno = ENOMEM, -1;
  }
  return 0;
}

void kp_nft_cache_store(struct kp_nft_cache *cache, struct kp_snapshot *owner, uint32_t gen,
                        bool ipv6) {
  kp_nft_cache_clear(cache);
  cache->owner = owner;
  cache->gen = gen;
  cache->ipv6 = ipv6;
  cache->rule_text = owner->rule_text;
  cache->trimmed = false;
}

/* The rules outside the refreshed chains keep the counters of the read that
 * decoded them: once the first reader is done, they are dropped. */
static void trim_counters(struct kp_snapshot *owner) {
  for (size_t t = 0; t < owner->tables.count; t++) {
    struct kp_table *table = owner->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      struct kp_chain *chain = table->chains.items[c];
      if (refreshed(table, chain))
        continue;
      for (size_t r = 0; r < chain->rules.count; r++)
        memset(&((struct kp_rule *)chain->rules.items[r])->counters, 0,
               sizeof(struct kp_rule_counters));
    }
  }
}

/* The kept tables are lent to no one: refresh their counters in place and
 * lend them to snap. */
static int refresh_in_place(struct kp_nft_cache *cache, struct kp_nft_nl *nl,
                            struct kp_snapshot *snap, bool ipv6, struct kp_nft_read_stats *stats) {
  if (!cache->trimmed) {
    trim_counters(cache->owner);
    cache->trimmed = true;
  }
  struct kp_snapshot *owner = cache->owner;
  for (size_t t = 0; t < owner->tables.count; t++) {
    struct kp_table *table = owner->tables.items[t];
    if ((table->family != KP_FAMILY_IPV6 || ipv6) && refresh_table(nl, owner, table, stats) != 0)
      return -1;
  }
  return kp_nft_cache_lend(cache, snap, ipv6);
}

/* Someone still holds the kept tables (a snapshot not freed yet): copy them
 * into snap and refresh the copy. */
static int refresh_copy(struct kp_nft_cache *cache, struct kp_nft_nl *nl, struct kp_snapshot *snap,
                        bool ipv6, struct kp_nft_read_stats *stats) {
  size_t first = snap->tables.count;
  if (copy_tables(snap, cache->owner, ipv6, true) != 0)
    return errno = ENOMEM, -1;
  for (size_t t = first; t < snap->tables.count; t++)
    if (refresh_table(nl, snap, snap->tables.items[t], stats) != 0)
      return -1;
  return 0;
}

int kp_nft_cache_read(struct kp_nft_cache *cache, struct kp_nft_nl *nl, struct kp_snapshot *snap,
                      bool ipv6, struct kp_nft_read_stats *stats, struct kp_nft_follow *follow,
                      enum kp_nft_fallback *why) {
  size_t first = snap->tables.count;
  bool in_place = !kp_snapshot_lent(cache->owner);
  *why = KP_NFT_FULL_COUNT;
  if (follow != NULL && (!follow->valid || follow->mon.sock == NULL))
    follow = NULL;
  kp_nft_nl_tolerate(nl, follow != NULL);
  int rc = in_place ? refresh_in_place(cache, nl, snap, ipv6, stats)
                    : refresh_copy(cache, nl, snap, ipv6, stats);
  bool interrupted = nl->rules_interrupted;
  int saved = errno;
  kp_nft_nl_tolerate(nl, false);
  uint32_t after = cache->gen;
  bool got_gen = kp_nft_get_gen(nl, &after) == 0;
  if (rc == 0 && got_gen && after == cache->gen && !interrupted)
    goto done;
  bool changed = rc == 0 || saved == EAGAIN || saved == EINTR || saved == ENOENT;
  if (follow != NULL && got_gen && changed) {
    /* The ruleset changed during the refresh: follow it. The counters
     * refreshed hold when the changes were all to other tables (a chain's
     * rules in the kept order, also through an interrupted dump). */
    if (in_place)
      kp_nft_drop_tables(snap, first); /* the kept tables may change now */
    if (kp_nft_follow_catch_up(follow, cache, nl, &after, why) != 0) {
      kp_nft_drop_tables(snap, first);
      kp_nft_cache_clear(cache);
      return errno = EAGAIN, -1;
    }
    if (rc == 0 && follow->touched == 0 && (!in_place || kp_nft_cache_lend(cache, snap, ipv6) == 0))
      goto done;
    kp_nft_drop_tables(snap, first);
    return errno = ESTALE, -1; /* the kept tables moved on: refresh them again */
  }
  kp_nft_drop_tables(snap, first);
  kp_nft_cache_clear(cache); /* counters half refreshed, or a new ruleset */
  return errno = EAGAIN, -1;
done:
  stats->cached = true;
  stats->shared = in_place;
  return 0;
}
