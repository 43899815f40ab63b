/* Properties every report output must have, whatever the input: shared by
 * the fuzz targets (which abort on a violation, so libFuzzer records it as a
 * crash) and the Check tests (test_hostile_names, test_fuzz_regress).
 *
 *   text: no byte < 0x20 but '\n', no 0x7f, no C1 control (U+0080..U+009F,
 *         as bytes 0xc2 0x80..0x9f) and no raw 8-bit CSI/C1 byte (0x80..0x9f
 *         outside a valid UTF-8 sequence); valid UTF-8; one line per finding
 *         plus the summary line.
 *   json: one strict RFC 8259 value (no trailing garbage but whitespace),
 *         valid UTF-8, no raw control characters inside strings.
 *
 * Header-only (static functions) so it links into both worlds without a
 * library of its own. Returns NULL when fine, else what is wrong. */
#ifndef KP_FUZZ_OUTPUT_CHECK_H
#define KP_FUZZ_OUTPUT_CHECK_H

#include "kp/report.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fuzzer's coverage feedback should come from the code under test, not
 * from this checker walking every output byte (clang only). */
#if defined(__clang__)
#define KP_CHECKER_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define KP_CHECKER_NO_COVERAGE
#endif

/* Length of the valid UTF-8 sequence at s[0..len), 0 when invalid; written
 * independently of report_escape.c so the two can disagree. */
KP_CHECKER_NO_COVERAGE static inline size_t kp_check_utf8_seq(const unsigned char *s, size_t len,
                                                              uint32_t *cp) {
  unsigned char c = s[0];
  size_t n;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (len < n)
    return 0;
  uint32_t v = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    v = (v << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
      (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return n;
}

/* One line per finding plus the summary; a finding's list items follow it
 * on lines indented by four spaces (not counted). */
KP_CHECKER_NO_COVERAGE static inline const char *kp_check_text_output(const char *buf, size_t len,
                                                                      size_t n_results) {
  const unsigned char *s = (const unsigned char *)buf;
  size_t lines = 0, line_begin = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t n = kp_check_utf8_seq(s + i, len - i, &cp);
    if (n == 0)
      return "text: invalid UTF-8 byte";
    if (cp == '\n') {
      bool item = i - line_begin > 4 && memcmp(s + line_begin, "    ", 4) == 0;
      if (item && lines == 0)
        return "text: list item before any finding";
      lines += item ? 0 : 1;
      line_begin = i + 1;
    } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
      return "text: raw control character";
    i += n;
  }
  if (len == 0 || s[len - 1] != '\n')
    return "text: does not end with a newline";
  if (lines != n_results + 1)
    return "text: not one line per finding plus the summary";
  return NULL;
}

/* ---- strict JSON -------------------------------------------------------- */

/* jansson's decoder is strict RFC 8259: one value (JSON_DECODE_ANY), nothing
 * but whitespace after it, valid UTF-8, no raw control character or lone
 * surrogate escape in a string, no "\u0000"; duplicate keys are refused too.
 * Integers are read as doubles: a counter from a dump may be any uint64,
 * which RFC 8259 allows and jansson's int64 would refuse.
 * It is a separate library, so it also disagrees with report_json.c
 * independently, and it is not compiled with coverage: validating the output
 * costs the fuzzer no feedback noise. */
static inline const char *kp_check_json_output(const char *buf, size_t len) {
  json_error_t error;
  json_t *value = json_loadb(
      buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &error);
  if (value == NULL)
    return "json: not one strict JSON value";
  json_decref(value);
  return NULL;
}

/* Both writers into memory, then their output properties. */
static inline const char *kp_fuzz_write_outputs(const struct kp_report *report) {
  const char *problem = NULL;
  char *text = NULL, *json = NULL;
  size_t text_len = 0, json_len = 0;
  FILE *t = open_memstream(&text, &text_len);
  FILE *j = open_memstream(&json, &json_len);
  if (t != NULL && j != NULL) {
    int rt = kp_report_write_text(t, report);
    int rj = kp_report_write_json(j, report);
    fclose(t);
    fclose(j);
    t = j = NULL;
    if (rt != 0 || rj != 0)
      problem = "report writer failed on a memory stream";
    if (problem == NULL)
      problem = kp_check_text_output(text, text_len, report->n_results);
    if (problem == NULL)
      problem = kp_check_json_output(json, json_len);
  }
  if (t != NULL)
    fclose(t);
  if (j != NULL)
    fclose(j);
  free(text);
  free(json);
  return problem;
}

#endif
