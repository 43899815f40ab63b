/* Shared by the real-input check tests (test_checks_real_*.c): cut and
 * filtered copies of fixture files, and running every check on a text.
 * Names prefixed tri_. */
#ifndef TESTS_SUPPORT_REAL_INPUTS_H
#define TESTS_SUPPORT_REAL_INPUTS_H

#include "kp/checks.h"
#include "kp/report.h"

#include <stddef.h>

/* The file's first n lines (all when 0), NUL-terminated, malloc'd. */
char *tri_head(const char *file, size_t n);
/* The lines of file from line `from` (1-based) on, without those that
 * start with any of the prefixes (NULL-ended) or contain `drop`. malloc'd. */
char *tri_lines_without(const char *file, size_t from, const char *const *prefixes,
                        const char *drop);
/* Lines first..last (1-based, inclusive) of file for each pair of ranges
 * (ended by a 0), concatenated. malloc'd. */
char *tri_line_ranges(const char *file, const size_t *ranges);
/* Parses text as the file `name` (format detected), runs every check. */
struct kp_report tri_run(const char *name, const char *text, struct kp_snapshot **out);
/* The first result of check id with this severity, NULL when none. */
const struct kp_result *tri_with(const struct kp_report *rep, enum kp_check_id id,
                                 enum kp_severity sev);
/* Asserts the report's worst severity (dumps the report when not). */
void tri_worst_is(const struct kp_report *rep, enum kp_severity sev);
/* The file cut after n whole lines: no FAIL, no WARN. */
void tri_cut_fails_nothing(const char *file, size_t n);
/* Frees what a test made. */
void tri_done(struct kp_report *rep, struct kp_snapshot *snap, char *text);

#endif
