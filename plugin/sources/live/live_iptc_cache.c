/* The legacy tables a kept source (the plugin's) holds between reads: one
 * snapshot per table, lent to each read's snapshot. A read first takes the
 * kernel's copy of the table (IPT_SO_GET_INFO + GET_ENTRIES): when its
 * structure hash is the kept table's, only the counters are copied over;
 * otherwise libiptc reads the table afresh. */
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

/* The kept table, its counters refreshed from the kernel's copy, when the
 * rules are the same; false when they are not (or the copy failed: the
 * full read reports why). */
static bool refresh(struct kp_iptc_cache *cache, enum kp_family family, const char *name) {
  struct kp_iptc_blob blob = {0};
  uint64_t hash;
  bool same = kp_iptc_blob_read(&blob, family, name) == 0 &&
              kp_iptc_blob_hash(&blob, family, &hash) == 0 && hash == cache->hash &&
              kp_iptc_blob_counters(&blob, family, cache->owner->tables.items[0]) == 0;
  kp_iptc_blob_free(&blob); /* not kept: it is the size of the table */
  return same;
}

int kp_iptc_cache_read(struct kp_iptc_cache *cache, struct kp_snapshot *snap, enum kp_family family,
                       const char *name, struct kp_live_error *err, bool *hit) {
  *hit = false;
  if (cache->owner != NULL && !kp_snapshot_lent(cache->owner) &&
      cache->rule_text == snap->rule_text && refresh(cache, family, name)) {
    *hit = true;
    return lend(cache, snap, family, name, err);
  }
  struct kp_snapshot *fresh = kp_snapshot_new();
  if (fresh == NULL)
    return kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "reading legacy table %s: out of memory", name);
  fresh->rule_text = snap->rule_text;
  uint64_t hash;
  if (kp_iptc_read_table_hash(fresh, family, name, err, &hash) != 0) {
    kp_snapshot_free(fresh);
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
