/* The legacy tables a kept source (the plugin's) holds between reads: one
 * snapshot per table, lent to each read's snapshot. A read first takes the
 * kernel's copy of the table (IPT_SO_GET_INFO + GET_ENTRIES): when its
 * structure hash is the kept table's, only the counters are copied over;
 * otherwise the table is decoded afresh from that copy
 * (live_iptc_blob_decode.c), or by libiptc when the copy fails. */
#include "live_internal.h"
#include "live_iptc_blob.h"

#include <errno.h>

void kp_iptc_cache_free(struct kp_iptc_cache *cache) {
  kp_snapshot_free(cache->owner); /* lives on while a read's snapshot holds it */
  cache->owner = NULL;
}

static int lend(struct kp_iptc_cache *cache, struct kp_snapshot *snap, enum kp_family family,
                const char *name, struct kp_live_error *err) {
  struct kp_table *old = kp_snapshot_table(snap, family, KP_BACKEND_LEGACY, name, false);
  if (old != NULL)
    kp_snapshot_drop_table(snap, old);
  if (kp_snapshot_share_table(snap, cache->owner, cache->owner->tables.items[0]) != 0)
    return kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", name);
  return 0;
}

/* A fresh snapshot holding the table: decoded from the kernel's copy when
 * there is one (the copy just taken: no second copy, no libiptc parse),
 * else, or when the copy does not parse as libiptc would, read by libiptc
 * (which says why a table cannot be read). *hash: the structure hash of
 * what was decoded. */
static struct kp_snapshot *read_fresh(const struct kp_iptc_blob *blob, bool have_copy,
                                      uint64_t copy_hash, const struct kp_snapshot *snap,
                                      enum kp_family family, const char *name,
                                      struct kp_live_error *err, uint64_t *hash) {
  struct kp_snapshot *fresh = kp_snapshot_new();
  if (fresh == NULL) {
    kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", name);
    return NULL;
  }
  fresh->rule_text = snap->rule_text;
  int rc = -1;
  if (have_copy) {
    rc = kp_iptc_blob_decode(blob, family, name, fresh);
    *hash = copy_hash;
    if (rc != 0 && errno == ENOMEM) {
      kp_snapshot_free(fresh);
      kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", name);
      return NULL;
    }
  }
  if (rc != 0 && kp_iptc_read_table_hash(fresh, family, name, err, hash) != 0) {
    kp_snapshot_free(fresh);
    return NULL;
  }
  return fresh;
}

int kp_iptc_cache_read(struct kp_iptc_cache *cache, struct kp_snapshot *snap, enum kp_family family,
                       const char *name, struct kp_live_error *err, bool *hit) {
  *hit = false;
  struct kp_iptc_blob blob = {0};
  uint64_t copy_hash = 0, hash = 0;
  bool have_copy = kp_iptc_blob_read(&blob, family, name) == 0 &&
                   kp_iptc_blob_hash(&blob, family, &copy_hash) == 0;
  /* The kept table, its counters refreshed from the copy, when the rules
   * are the same (and no earlier read's snapshot still holds it). */
  if (have_copy && cache->owner != NULL && !kp_snapshot_lent(cache->owner) &&
      cache->rule_text == snap->rule_text && copy_hash == cache->hash &&
      kp_iptc_blob_counters(&blob, family, cache->owner->tables.items[0]) == 0) {
    kp_iptc_blob_free(&blob); /* not kept: it is the size of the table */
    *hit = true;
    return lend(cache, snap, family, name, err);
  }
  struct kp_snapshot *fresh =
      read_fresh(&blob, have_copy, copy_hash, snap, family, name, err, &hash);
  kp_iptc_blob_free(&blob);
  if (fresh == NULL) {
    kp_iptc_cache_free(cache);
    return -1;
  }
  if (kp_snapshot_finalize(fresh) != 0) {
    kp_snapshot_free(fresh);
    return kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", name);
  }
  kp_iptc_cache_free(cache);
  cache->owner = fresh;
  cache->hash = hash;
  cache->rule_text = fresh->rule_text;
  return lend(cache, snap, family, name, err);
}
