/* What model.c shares with model_finalize.c: the address index. */
#ifndef KP_MODEL_INTERNAL_H
#define KP_MODEL_INTERNAL_H

#include "kp/model.h"

/* An empty index in arena. NULL on OOM. */
struct kp_addr_index *kp_addr_index_new(struct kp_arena *arena);
/* rule names addr (a single host). 0 / -1 OOM. */
int kp_addr_index_add(struct kp_arena *arena, struct kp_addr_index *index,
                      const struct kp_addr *addr, struct kp_rule *rule);

#endif
