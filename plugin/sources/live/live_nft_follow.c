/* Following the ruleset instead of re-reading it: the reader's kept tables
 * (the cache's owner) are brought from their generation to the kernel's by
 * applying the transactions nf_tables notified meanwhile (live_nft_apply.c),
 * a transaction at a time, each one exactly once: one whose generation is
 * not newer than the kept tables' is already in them (the notifications of
 * the full read's own time), the next one is applied, and any other (a
 * generation skipped), a damaged one (the socket overran) or one that does
 * not apply means a full read, its cause counted by the reader. */
#include "live_nft_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Catching up waits this often this long for notifications the kernel
 * committed (its generation says so) but had not delivered yet. */
#define KP_NFT_BEHIND_TRIES 5
#define KP_NFT_BEHIND_WAIT_MS 20
#define KP_NFT_COMPACT_MIN (16u << 20)

void kp_nft_follow_reset(struct kp_nft_follow *f) {
  for (int v6 = 0; v6 < 2; v6++)
    for (int i = 0; i <= KP_NFT_XT_TABLES; i++) {
      /* A catch-up that failed half-way left its decoder contexts open on
       * the kept tables, which go now: the next catch-up makes new ones. */
      if (f->ctx_on[v6][i])
        kp_nft_table_ctx_done(&f->ctx[v6][i]);
      f->ctx_on[v6][i] = false;
      kp_nft_ftable_clear(&f->tables[v6][i]);
    }
  f->valid = false;
  f->n_dirty = 0;
  kp_nft_reuse_clear(f->reuse); /* the deleted rules of the old tables */
}

void kp_nft_follow_free(struct kp_nft_follow *f) {
  kp_nft_follow_reset(f);
  kp_nft_monitor_close(&f->mon);
  kp_nft_reuse_free(f->reuse);
  f->reuse = NULL;
  free(f->dirty);
  f->dirty = NULL;
  f->cap_dirty = 0;
}

void kp_nft_follow_kept(struct kp_nft_follow *f, struct kp_snapshot *owner, bool ipv6) {
  f->valid = f->mon.sock != NULL;
  f->ipv6 = ipv6;
  f->owner_bytes = owner->arena.bytes_used;
}

/* What one catch-up carries through the transactions. */
struct catch_up {
  struct kp_nft_follow *f;
  struct kp_nft_cache *cache;
  bool began;
  enum kp_nft_fallback why;
};

static int on_transaction(const char *msgs, size_t len, uint32_t gen, bool damaged, void *arg) {
  struct catch_up *cu = arg;
  struct kp_nft_cache *cache = cu->cache;
  if ((int32_t)(gen - cache->gen) <= 0)
    return 0; /* already in the kept tables */
  if (damaged) {
    cu->why = KP_NFT_FULL_OVERRUN;
    return -1;
  }
  if (gen != cache->gen + 1) {
    cu->why = KP_NFT_FULL_GAP;
    return -1;
  }
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)msgs;
  int left = (int)len;
  bool touches = false;
  for (; !touches && mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
    touches = kp_nft_msg_touches(nlh, cu->f->ipv6, false);
  if (!touches) {
    cache->gen = gen; /* another table's change: nothing to apply */
    return 0;
  }
  cu->f->touched++;
  if (kp_snapshot_lent(cache->owner)) {
    cu->why = KP_NFT_FULL_HELD; /* the kept tables must not change under a reader */
    return -1;
  }
  if (!cu->began) {
    cu->began = true;
    if (kp_nft_apply_begin(cu->f, cache->owner) != 0) {
      cu->why = KP_NFT_FULL_UNAPPLIED;
      return -1;
    }
  }
  nlh = (const struct nlmsghdr *)msgs;
  left = (int)len;
  for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
    if (kp_nft_apply_msg(cu->f, cache->owner, nlh) != 0) {
      cu->why = KP_NFT_FULL_UNAPPLIED;
      return -1;
    }
    cu->f->applied++;
  }
  cache->gen = gen;
  return 0;
}

int kp_nft_follow_catch_up(struct kp_nft_follow *f, struct kp_nft_cache *cache,
                           struct kp_nft_nl *nl, uint32_t *gen, enum kp_nft_fallback *why) {
  struct catch_up cu = {.f = f, .cache = cache, .why = KP_NFT_FULL_COUNT};
  f->applied = f->touched = 0;
  if (!f->valid || f->mon.sock == NULL)
    return *why = KP_NFT_FULL_GAP, -1;
  /* Deleted rules and old decodes stay in the owner's arena until the next
   * full read: that read comes once they weigh as much as the tables (and
   * at least KP_NFT_COMPACT_MIN: small rulesets are cheap to keep). */
  size_t used = cache->owner->arena.bytes_used;
  if (used > 2 * f->owner_bytes && used - f->owner_bytes > KP_NFT_COMPACT_MIN)
    return *why = KP_NFT_FULL_COMPACT, -1;
  for (int tries = 0;; tries++) {
    int wait = tries > 0 && (int32_t)(*gen - cache->gen) > 0 ? KP_NFT_BEHIND_WAIT_MS : 0;
    if (kp_nft_monitor_drain(&f->mon, wait, on_transaction, &cu) != 0) {
      *why = cu.why != KP_NFT_FULL_COUNT ? cu.why
             : errno == ENOBUFS          ? KP_NFT_FULL_OVERRUN
                                         : KP_NFT_FULL_UNAPPLIED;
      return -1;
    }
    if (cache->gen == *gen)
      break;
    if (tries == KP_NFT_BEHIND_TRIES)
      return *why = KP_NFT_FULL_BEHIND, -1;
    /* Newer changes came in after GETGEN: the kernel's generation now. */
    if ((int32_t)(cache->gen - *gen) > 0 && kp_nft_get_gen(nl, gen) != 0)
      return *why = KP_NFT_FULL_BEHIND, -1;
  }
  if (cu.began && kp_nft_apply_end(f, cache->owner) != 0)
    return *why = KP_NFT_FULL_UNAPPLIED, -1;
  cache->trimmed = false; /* notified rules came with counters */
  return 0;
}

/* What one quiet check carries through the transactions. */
struct quiet {
  uint32_t last; /* the newest generation seen in order */
  bool ipv6, chain_lists;
};

static int on_quiet(const char *msgs, size_t len, uint32_t gen, bool damaged, void *arg) {
  struct quiet *q = arg;
  if ((int32_t)(gen - q->last) <= 0)
    return 0; /* before the dumps began */
  if (damaged || gen != q->last + 1)
    return -1;
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)msgs;
  int left = (int)len;
  for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
    if (kp_nft_msg_touches(nlh, q->ipv6, q->chain_lists))
      return -1;
  q->last = gen;
  return 0;
}

int kp_nft_follow_quiet(struct kp_nft_follow *f, uint32_t from, uint32_t *to, bool ipv6,
                        bool chain_lists) {
  struct quiet q = {.last = from, .ipv6 = ipv6, .chain_lists = chain_lists};
  if (f->mon.sock == NULL)
    return -1;
  for (int tries = 0;; tries++) {
    int wait = tries > 0 ? KP_NFT_BEHIND_WAIT_MS : 0;
    if (kp_nft_monitor_drain(&f->mon, wait, on_quiet, &q) != 0)
      return -1;
    if ((int32_t)(q.last - *to) >= 0)
      break;
    if (tries == KP_NFT_BEHIND_TRIES)
      return -1;
  }
  *to = q.last;
  return 0;
}
