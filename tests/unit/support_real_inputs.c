/* Helpers of the real-input check tests (support_real_inputs.h). */
#include "support_real_inputs.h"

#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file's first n lines (all when 0), NUL-terminated, malloc'd. */
char *tri_head(const char *file, size_t n) {
  size_t len;
  char *all = tdi_slurp(file, &len);
  ck_assert_msg(all != NULL, "cannot read %s", file);
  size_t end = 0, line = 0;
  while (end < len && (n == 0 || line < n)) {
    const char *nl = memchr(all + end, '\n', len - end);
    end = nl ? (size_t)(nl - all) + 1 : len;
    line++;
  }
  char *out = malloc(end + 1);
  ck_assert_ptr_nonnull(out);
  memcpy(out, all, end);
  out[end] = '\0';
  free(all);
  return out;
}

struct kp_report tri_run(const char *name, const char *text, struct kp_snapshot **out) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  int rc = kp_dump_parse_buffer(snap, name, text, strlen(text), &err);
  ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  struct kp_report rep = tsb_check(snap, NULL);
  *out = snap;
  return rep;
}

const struct kp_result *tri_with(const struct kp_report *rep, enum kp_check_id id,
                                 enum kp_severity sev) {
  for (size_t i = 0; i < rep->n_results; i++)
    if (rep->results[i].check == id && rep->results[i].severity == sev)
      return &rep->results[i];
  return NULL;
}

void tri_worst_is(const struct kp_report *rep, enum kp_severity sev) {
  if (kp_report_worst(rep) != sev)
    tsb_dump(rep);
  ck_assert_int_eq(kp_report_worst(rep), sev);
}

void tri_done(struct kp_report *rep, struct kp_snapshot *snap, char *text) {
  kp_report_free(rep);
  kp_snapshot_free(snap);
  free(text);
}

/* The lines of file (lineno 1-based, each with its newline) that keep()
 * accepts, concatenated. malloc'd. */
static char *filter_lines(const char *file,
                          bool (*keep)(const char *line, size_t n, size_t lineno, const void *arg),
                          const void *arg) {
  char *all = tri_head(file, 0);
  char *out = malloc(strlen(all) + 1);
  ck_assert_ptr_nonnull(out);
  size_t o = 0, lineno = 1;
  for (char *p = all; *p != '\0'; lineno++) {
    char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
    if (keep(p, n, lineno, arg)) {
      memcpy(out + o, p, n);
      o += n;
    }
    p += n;
  }
  out[o] = '\0';
  free(all);
  return out;
}

struct without {
  size_t from;
  const char *const *prefixes;
  const char *drop;
};

static bool keep_without(const char *line, size_t n, size_t lineno, const void *arg) {
  const struct without *w = arg;
  if (lineno < w->from || (w->drop != NULL && memmem(line, n, w->drop, strlen(w->drop)) != NULL))
    return false;
  for (size_t i = 0; w->prefixes[i] != NULL; i++)
    if (strncmp(line, w->prefixes[i], strlen(w->prefixes[i])) == 0)
      return false;
  return true;
}

/* The lines of file from line `from` (1-based) on, without those that
 * start with any of the prefixes or contain `drop`. malloc'd. */
char *tri_lines_without(const char *file, size_t from, const char *const *prefixes,
                        const char *drop) {
  const struct without w = {from, prefixes, drop};
  return filter_lines(file, keep_without, &w);
}

static bool keep_in_ranges(const char *line, size_t n, size_t lineno, const void *arg) {
  (void)line;
  (void)n;
  const size_t *ranges = arg;
  for (size_t i = 0; ranges[i] != 0; i += 2)
    if (lineno >= ranges[i] && lineno <= ranges[i + 1])
      return true;
  return false;
}

/* Lines first..last (1-based, inclusive) of file for each pair of ranges
 * (ended by a 0), concatenated. malloc'd. */
char *tri_line_ranges(const char *file, const size_t *ranges) {
  return filter_lines(file, keep_in_ranges, ranges);
}

/* The healthy node's nat -S (or -L) cut after n whole lines: no FAIL, no
 * WARN but the ones the whole file gets (the whole nat -S: none). */
void tri_cut_fails_nothing(const char *file, size_t n) {
  char *text = tri_head(file, n);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("cut.txt", text, &snap);
  if (kp_report_worst(&rep) > KP_SEV_INFO) {
    fprintf(stderr, "%s cut after line %zu:\n", file, n);
    tsb_dump(&rep);
  }
  ck_assert_int_le(kp_report_worst(&rep), KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
