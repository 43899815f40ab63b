/* A snapshot's lifetime: made, freed, and its tables shared with other
 * snapshots without a copy (a live source keeps the decoded tables of an
 * unchanged ruleset in a snapshot of its own and lends them to each read's
 * snapshot, kp_snapshot_share_table): the owner is freed with the last
 * snapshot holding its tables. */
#include "kp/model.h"

#include <stdlib.h>

static void kp_snapshot_unshare(struct kp_snapshot *snap);

struct kp_snapshot *kp_snapshot_new(void) {
  struct kp_snapshot *snap = calloc(1, sizeof(*snap));
  if (snap != NULL)
    kp_arena_init(&snap->arena);
  return snap;
}

void kp_snapshot_free(struct kp_snapshot *snap) {
  if (snap == NULL)
    return;
  if (snap->borrowers > 0) {
    snap->released = true; /* freed with the last snapshot holding its tables */
    return;
  }
  kp_snapshot_unshare(snap);
  kp_arena_free(&snap->arena);
  free(snap);
}

int kp_snapshot_share_table(struct kp_snapshot *snap, struct kp_snapshot *owner,
                            struct kp_table *table) {
  if (kp_ptrvec_push(&snap->arena, &snap->lenders, owner) != 0)
    return -1;
  if (kp_ptrvec_push(&snap->arena, &snap->tables, table) != 0) {
    snap->lenders.count--;
    return -1;
  }
  owner->borrowers++;
  snap->finalized = false;
  return 0;
}

bool kp_snapshot_lent(const struct kp_snapshot *snap) {
  return snap->borrowers > 0;
}

/* Drops the references snap holds on other snapshots' tables. */
static void kp_snapshot_unshare(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->lenders.count; i++) {
    struct kp_snapshot *owner = snap->lenders.items[i];
    if (--owner->borrowers == 0 && owner->released) {
      owner->released = false;
      kp_snapshot_free(owner);
    }
  }
  snap->lenders.count = 0;
}
