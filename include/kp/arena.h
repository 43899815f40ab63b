/* Bump allocator: a snapshot owns one arena and frees it in one call. */
#ifndef KP_ARENA_H
#define KP_ARENA_H

#include <stddef.h>

struct kp_arena_block;

struct kp_arena {
  struct kp_arena_block *head;
  struct kp_arena_block *strings; /* kp_arena_strdup's, packed without alignment */
  size_t bytes_used;              /* payload handed out, for memory accounting */
};

void kp_arena_init(struct kp_arena *arena);
void kp_arena_free(struct kp_arena *arena);

/* Zeroed, 8-byte aligned. Returns NULL only when malloc fails. */
void *kp_arena_alloc(struct kp_arena *arena, size_t size);
/* Strings are packed byte after byte in blocks of their own (aligning
 * each to 8 bytes cost 0.5 MB at 10k services: chain names, comments). */
char *kp_arena_strdup(struct kp_arena *arena, const char *s);
char *kp_arena_strndup(struct kp_arena *arena, const char *s, size_t n);

/* Growable array of pointers kept in the arena (old storage is abandoned on
 * growth, which the arena reclaims at free). */
struct kp_ptrvec {
  void **items;
  size_t count;
  size_t capacity;
};

int kp_ptrvec_push(struct kp_arena *arena, struct kp_ptrvec *vec, void *item);
/* Room for capacity items without growing (a known count: no abandoned
 * copies). 0 / -1 OOM. */
int kp_ptrvec_reserve(struct kp_arena *arena, struct kp_ptrvec *vec, size_t capacity);

#endif
