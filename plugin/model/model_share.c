/* Tables shared between snapshots without a copy: a live source keeps the
 * decoded tables of an unchanged ruleset in a snapshot of its own and lends
 * them to each read's snapshot (kp_snapshot_share_table). */
#include "model_share.h"

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

void kp_snapshot_unshare(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->lenders.count; i++) {
    struct kp_snapshot *owner = snap->lenders.items[i];
    if (--owner->borrowers == 0 && owner->released) {
      owner->released = false;
      kp_snapshot_free(owner);
    }
  }
  snap->lenders.count = 0;
}
