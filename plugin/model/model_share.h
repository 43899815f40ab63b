/* Private to the model: the sharing side of kp_snapshot_free. */
#ifndef KP_MODEL_SHARE_H
#define KP_MODEL_SHARE_H

#include "kp/model.h"

/* Drops the references snap holds on other snapshots' tables (freeing a
 * lender its owner has already freed, once nobody holds its tables). */
void kp_snapshot_unshare(struct kp_snapshot *snap);

#endif
