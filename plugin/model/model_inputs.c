/* What the sources add beside tables: coverage notes about the inputs and
 * IPVS virtual servers (model.h). */
#include "kp/model.h"

static const char *arena_copy_or_null(struct kp_snapshot *snap, const char *s, bool *oom) {
  if (s == NULL)
    return NULL;
  const char *copy = kp_arena_strdup(&snap->arena, s);
  if (copy == NULL)
    *oom = true;
  return copy;
}

struct kp_note *kp_snapshot_add_note(struct kp_snapshot *snap, enum kp_note_kind kind,
                                     const char *source, size_t line, const char *table,
                                     enum kp_family family, const char *detail) {
  struct kp_note *note = kp_arena_alloc(&snap->arena, sizeof(*note));
  bool oom = note == NULL;
  if (oom)
    return NULL;
  note->kind = kind;
  note->line = line;
  note->family = family;
  note->source = arena_copy_or_null(snap, source, &oom);
  note->table = arena_copy_or_null(snap, table, &oom);
  note->detail = arena_copy_or_null(snap, detail, &oom);
  if (oom || kp_ptrvec_push(&snap->arena, &snap->notes, note) != 0)
    return NULL;
  return note;
}

struct kp_ipvs_service *kp_snapshot_add_ipvs_service(struct kp_snapshot *snap) {
  struct kp_ipvs_service *svc = kp_arena_alloc(&snap->arena, sizeof(*svc));
  if (svc == NULL || kp_ptrvec_push(&snap->arena, &snap->ipvs, svc) != 0)
    return NULL;
  return svc;
}

struct kp_ipvs_real *kp_ipvs_add_real(struct kp_snapshot *snap, struct kp_ipvs_service *svc) {
  struct kp_ipvs_real *real = kp_arena_alloc(&snap->arena, sizeof(*real));
  if (real == NULL || kp_ptrvec_push(&snap->arena, &svc->reals, real) != 0)
    return NULL;
  return real;
}
