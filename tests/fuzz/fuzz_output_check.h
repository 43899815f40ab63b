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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..len), 0 when invalid; written
 * independently of report_escape.c so the two can disagree. */
static inline size_t kp_check_utf8_seq(const unsigned char *s, size_t len, uint32_t *cp) {
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
static inline const char *kp_check_text_output(const char *buf, size_t len, size_t n_results) {
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

struct kp_json_cursor {
  const unsigned char *s;
  size_t len, pos;
  unsigned depth;
};

static inline void kp_json_ws(struct kp_json_cursor *c) {
  while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' ||
                             c->s[c->pos] == '\r'))
    c->pos++;
}

static inline bool kp_json_lit(struct kp_json_cursor *c, const char *word) {
  size_t n = strlen(word);
  if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
    return false;
  c->pos += n;
  return true;
}

static inline bool kp_json_hex4(struct kp_json_cursor *c, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++, c->pos++) {
    if (c->pos >= c->len)
      return false;
    unsigned char h = c->s[c->pos];
    uint32_t d;
    if (h >= '0' && h <= '9')
      d = h - '0';
    else if (h >= 'a' && h <= 'f')
      d = h - 'a' + 10u;
    else if (h >= 'A' && h <= 'F')
      d = h - 'A' + 10u;
    else
      return false;
    *v = (*v << 4) | d;
  }
  return true;
}

static inline bool kp_json_string(struct kp_json_cursor *c) {
  if (c->pos >= c->len || c->s[c->pos] != '"')
    return false;
  c->pos++;
  while (c->pos < c->len) {
    unsigned char ch = c->s[c->pos];
    if (ch == '"') {
      c->pos++;
      return true;
    }
    if (ch < 0x20)
      return false;
    if (ch == '\\') {
      c->pos++;
      if (c->pos >= c->len)
        return false;
      ch = c->s[c->pos++];
      if (ch == 'u') {
        uint32_t v;
        if (!kp_json_hex4(c, &v))
          return false;
        if (v >= 0xd800 && v <= 0xdbff) { /* a high surrogate needs its low half */
          uint32_t lo;
          if (!kp_json_lit(c, "\\u") || !kp_json_hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return false;
        } else if (v >= 0xdc00 && v <= 0xdfff) {
          return false;
        }
      } else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0') {
        return false;
      }
      continue;
    }
    uint32_t cp;
    size_t n = kp_check_utf8_seq(c->s + c->pos, c->len - c->pos, &cp);
    if (n == 0)
      return false;
    c->pos += n;
  }
  return false;
}

static inline bool kp_json_number(struct kp_json_cursor *c) {
  size_t start = c->pos;
  if (c->pos < c->len && c->s[c->pos] == '-')
    c->pos++;
  if (c->pos >= c->len)
    return false;
  if (c->s[c->pos] == '0') {
    c->pos++;
  } else if (c->s[c->pos] >= '1' && c->s[c->pos] <= '9') {
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
      c->pos++;
  } else {
    return false;
  }
  if (c->pos < c->len && c->s[c->pos] == '.') {
    c->pos++;
    size_t digits = c->pos;
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
      c->pos++;
    if (c->pos == digits)
      return false;
  }
  if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
    c->pos++;
    if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
      c->pos++;
    size_t digits = c->pos;
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
      c->pos++;
    if (c->pos == digits)
      return false;
  }
  return c->pos > start;
}

static inline bool kp_json_value(struct kp_json_cursor *c);

static inline bool kp_json_container(struct kp_json_cursor *c, unsigned char close, bool object) {
  if (++c->depth > 64)
    return false;
  c->pos++; /* the opening bracket */
  kp_json_ws(c);
  if (c->pos < c->len && c->s[c->pos] == close) {
    c->pos++;
    c->depth--;
    return true;
  }
  for (;;) {
    kp_json_ws(c);
    if (object) {
      if (!kp_json_string(c))
        return false;
      kp_json_ws(c);
      if (c->pos >= c->len || c->s[c->pos] != ':')
        return false;
      c->pos++;
    }
    if (!kp_json_value(c))
      return false;
    kp_json_ws(c);
    if (c->pos >= c->len)
      return false;
    if (c->s[c->pos] == ',') {
      c->pos++;
      continue;
    }
    if (c->s[c->pos] != close)
      return false;
    c->pos++;
    c->depth--;
    return true;
  }
}

static inline bool kp_json_value(struct kp_json_cursor *c) {
  kp_json_ws(c);
  if (c->pos >= c->len)
    return false;
  switch (c->s[c->pos]) {
  case '{':
    return kp_json_container(c, '}', true);
  case '[':
    return kp_json_container(c, ']', false);
  case '"':
    return kp_json_string(c);
  case 't':
    return kp_json_lit(c, "true");
  case 'f':
    return kp_json_lit(c, "false");
  case 'n':
    return kp_json_lit(c, "null");
  default:
    return kp_json_number(c);
  }
}

static inline const char *kp_check_json_output(const char *buf, size_t len) {
  struct kp_json_cursor c = {(const unsigned char *)buf, len, 0, 0};
  if (!kp_json_value(&c))
    return "json: not a valid JSON value";
  kp_json_ws(&c);
  if (c.pos != len)
    return "json: trailing bytes after the value";
  return NULL;
}

#endif
