/* Shared by the dump parser tests: reading a fixture, and feeding a parser
 * every prefix of one. Linked into every test binary (names prefixed tdi_). */
#ifndef TESTS_SUPPORT_DUMP_INPUT_H
#define TESTS_SUPPORT_DUMP_INPUT_H

#include "kp/dump.h"

#include <stddef.h>

/* The whole file in a malloc'd buffer of exactly its size (not
 * NUL-terminated, so ASan sees any read past it); NULL when unreadable. */
char *tdi_slurp(const char *path, size_t *len);

typedef int (*tdi_parser)(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                          struct kp_dump_error *err);

/* Every prefix of the fixture at path, each in a buffer of exactly its size,
 * through parser: each must return 0, or -1 with a message (asserted here).
 * Counts the outcomes. */
void tdi_every_prefix(const char *path, tdi_parser parser, size_t *parsed, size_t *failed);

#endif
