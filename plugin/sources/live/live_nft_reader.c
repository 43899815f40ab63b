/* The live nf_tables reader (live_nft.h): the generation id decides between
 * the cache (unchanged ruleset, or changes followed through the
 * notifications) and a full read of every table, retried when the ruleset
 * changes under the dumps. */
#include "live_nft_internal.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

/* Counter refreshes one read tries while changes to the kept tables keep
 * overtaking them, before it reads everything again. */
#define KP_NFT_REFRESH_ROUNDS 3

struct kp_nft_reader {
  struct kp_nft_nl nl;
  struct kp_nft_cache cache;
  struct kp_nft_read_stats stats;
  struct kp_nft_follow follow;
  uint64_t full_reads[KP_NFT_FULL_COUNT];
};

const char *kp_nft_fallback_name(enum kp_nft_fallback why) {
  static const char *const names[KP_NFT_FULL_COUNT] = {"overrun", "gap",  "unapplied",
                                                       "behind",  "held", "compact"};
  return (unsigned)why < KP_NFT_FULL_COUNT ? names[why] : "?";
}

int kp_nft_monitor_fd(const struct kp_nft_reader *reader) {
  return reader->follow.mon.sock != NULL ? mnl_socket_get_fd(reader->follow.mon.sock) : -1;
}

void kp_nft_full_reads(const struct kp_nft_reader *reader, uint64_t counts[KP_NFT_FULL_COUNT]) {
  memcpy(counts, reader->full_reads, sizeof(reader->full_reads));
}

struct kp_nft_reader *kp_nft_reader_new(void) {
  return calloc(1, sizeof(struct kp_nft_reader));
}

void kp_nft_reader_free(struct kp_nft_reader *reader) {
  if (reader == NULL)
    return;
  kp_nft_nl_free(&reader->nl);
  kp_nft_cache_clear(&reader->cache);
  kp_nft_follow_free(&reader->follow);
  free(reader);
}

void kp_nft_last_stats(const struct kp_nft_reader *reader, struct kp_nft_read_stats *stats) {
  *stats = reader->stats;
}

/* err from errno, for the step named by what. */
static int fail(struct kp_live_error *err, const char *what) {
  int e = errno;
  if (e == EPERM || e == EACCES)
    return kp_live_fail(err, KP_LIVE_NO_PRIVILEGE, e, "nf_tables %s: %s (needs CAP_NET_ADMIN)",
                        what, strerror(e));
  if (e == EPROTONOSUPPORT || e == EAFNOSUPPORT)
    return kp_live_fail(err, KP_LIVE_UNSUPPORTED, e,
                        "nf_tables %s: %s (no nf_tables in this kernel)", what, strerror(e));
  return kp_live_fail(err, KP_LIVE_OTHER, e, "nf_tables %s: %s", what, strerror(e));
}

static void add_source(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->sources.count; i++)
    if (strcmp(snap->sources.items[i], "kernel") == 0)
      return;
  kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel");
}

/* Every iptables-nft table and kube-proxy's own, of the wanted families:
 * one chain list per family for all of them, then table by table. */
static int read_all(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6) {
  struct kp_nft_table_list list;
  if (kp_nft_list_tables(&reader->nl, &list) != 0)
    return -1;
  for (int v6 = 0; v6 <= (ipv6 ? 1 : 0); v6++) {
    bool any = false;
    for (int i = 0; i <= KP_NFT_XT_TABLES; i++)
      any |= list.present[v6][i];
    if (!any)
      continue;
    struct kp_nft_chain_list chains = {0};
    int rc = kp_nft_list_chains(&reader->nl, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, NULL, NULL, &chains);
    for (int i = 0; i <= KP_NFT_XT_TABLES && rc == 0; i++)
      if (list.present[v6][i])
        rc = kp_nft_read_table(&reader->nl, snap, v6, i, &chains, &reader->stats,
                               &reader->follow.tables[v6][i]);
    int saved = errno;
    kp_nft_chain_list_free(&chains);
    if (rc != 0)
      return errno = saved, -1;
  }
  return 0;
}

int kp_nft_read(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6,
                struct kp_live_error *err) {
  memset(&reader->stats, 0, sizeof(reader->stats));
  if (err != NULL)
    memset(err, 0, sizeof(*err));
  /* Subscribed before the first generation id: no change after it is
   * missed. Without the subscription, every change is a full read. */
  if (reader->follow.mon.sock == NULL)
    (void)kp_nft_monitor_open(&reader->follow.mon);
  uint32_t gen = 0;
  if (kp_nft_get_gen(&reader->nl, &gen) != 0)
    return fail(err, "generation id");
  reader->stats.generation = gen;
  add_source(snap);
  struct kp_nft_cache *cache = &reader->cache;
  bool usable =
      cache->owner != NULL && (cache->ipv6 || !ipv6) && cache->rule_text == snap->rule_text;
  if (usable && cache->gen != gen && reader->follow.mon.sock != NULL) {
    enum kp_nft_fallback why;
    if (kp_nft_follow_catch_up(&reader->follow, cache, &reader->nl, &gen, &why) == 0) {
      reader->stats.followed = true;
      reader->stats.notifications = reader->follow.applied;
      reader->stats.generation = gen;
    } else {
      reader->full_reads[why]++;
      kp_nft_cache_clear(cache);
      kp_nft_follow_reset(&reader->follow);
      usable = false;
    }
  }
  /* A refresh the ruleset's changes overtook follows them and refreshes
   * again, a few times. */
  for (int round = 0; usable && cache->gen == gen; round++) {
    enum kp_nft_fallback why;
    struct kp_nft_follow *follow = round < KP_NFT_REFRESH_ROUNDS ? &reader->follow : NULL;
    if (kp_nft_cache_read(cache, &reader->nl, snap, ipv6, &reader->stats, follow, &why) == 0) {
      reader->stats.cached = !reader->stats.followed;
      reader->stats.generation = cache->gen;
      return 0;
    }
    if (errno == ESTALE) {
      reader->stats.followed = true;
      reader->stats.notifications += reader->follow.applied;
      gen = cache->gen;
      continue;
    }
    /* Followed tables the kernel's counters disagree with (rule counts). */
    if (why != KP_NFT_FULL_COUNT)
      reader->full_reads[why]++;
    else if (reader->stats.followed)
      reader->full_reads[KP_NFT_FULL_UNAPPLIED]++;
    memset(&reader->stats, 0, sizeof(reader->stats));
    break;
  }
  kp_nft_follow_reset(&reader->follow);
  /* The tables are read into a snapshot of the reader's own, kept for the
   * next reads and lent to snap. A ruleset change during the dumps (EINTR,
   * ENOENT, a new generation) would mix two versions, unless the change
   * notifications say that it touched none of what was dumped (another
   * table's commit): read again, at most three times. */
  for (int attempt = 0;; attempt++) {
    struct kp_snapshot *fresh = kp_snapshot_new();
    if (fresh == NULL)
      return errno = ENOMEM, fail(err, "rule dump");
    fresh->rule_text = snap->rule_text;
    reader->stats.chains_dumped = reader->stats.rules_decoded = 0;
    kp_nft_follow_reset(&reader->follow);
    /* Every pending notification is of a change before gen. */
    bool subscribed = reader->follow.mon.sock != NULL;
    kp_nft_monitor_discard(&reader->follow.mon);
    if (kp_nft_get_gen(&reader->nl, &gen) != 0) {
      kp_snapshot_free(fresh);
      return fail(err, "generation id");
    }
    kp_nft_nl_tolerate(&reader->nl, subscribed);
    int rc = read_all(reader, fresh, ipv6);
    bool interrupted = reader->nl.rules_interrupted || reader->nl.chains_interrupted;
    bool chains_interrupted = reader->nl.chains_interrupted;
    kp_nft_nl_tolerate(&reader->nl, false);
    if (rc == 0 && kp_snapshot_finalize(fresh) != 0)
      rc = (errno = ENOMEM, -1);
    int saved = errno;
    uint32_t after = gen;
    bool got_gen = rc == 0 && kp_nft_get_gen(&reader->nl, &after) == 0;
    bool stable = got_gen && after == gen && !interrupted;
    if (got_gen && !stable && subscribed)
      stable = kp_nft_follow_quiet(&reader->follow, gen, &after, ipv6, chains_interrupted) == 0;
    if (stable)
      gen = after; /* what the dumps describe: the changes since were elsewhere */
    bool retry = !stable && (rc == 0 || saved == EINTR || saved == ENOENT) && attempt < 2;
    if (stable || (rc == 0 && !retry)) {
      /* Kept when stable; else consistent enough to use, but not kept. */
      struct kp_nft_cache once = {0};
      struct kp_nft_cache *keep = stable ? cache : &once;
      kp_nft_cache_store(keep, fresh, gen, ipv6);
      if (stable)
        kp_nft_follow_kept(&reader->follow, fresh, ipv6);
      else
        kp_nft_follow_reset(&reader->follow);
      rc = kp_nft_cache_lend(keep, snap, ipv6);
      kp_nft_cache_clear(&once);
      if (rc != 0)
        return fail(err, "rule dump");
      reader->stats.generation = gen;
      return 0;
    }
    kp_snapshot_free(fresh);
    if (!retry && rc != 0 && (saved == EINTR || saved == ENOENT))
      /* "Interrupted system call" would say nothing to whoever reads it. */
      return kp_live_fail(err, KP_LIVE_OTHER, saved,
                          "nf_tables ruleset changed during each of %d reads (%s): something "
                          "rewrites it without pause",
                          attempt + 1, strerror(saved));
    if (!retry) {
      errno = saved;
      return fail(err, "rule dump");
    }
  }
}
