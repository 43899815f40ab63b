/* Making untrusted text (chain names, comments, messages built from them)
 * safe for a terminal, a log line, a notification and JSON. */
#include "kp/report.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid or
 * truncated; the code point goes to *cp. Overlongs and surrogates are invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp) {
  unsigned char c = s[0];
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, min = 0x80, *cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, min = 0x800, *cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL terminator */
      return 0;
    *cp = (*cp << 6) | (s[i] & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
    return 0;
  return len;
}

/* C0, DEL and C1 controls start terminal escape sequences. */
static bool is_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

void kp_sanitize_line(const char *in, char *out, size_t out_len) {
  static const char hex[] = "0123456789abcdef";
  if (out_len == 0)
    return;
  const unsigned char *s = (const unsigned char *)(in ? in : "");
  size_t o = 0;
  while (*s) {
    uint32_t cp;
    size_t len = utf8_decode(s, &cp);
    if (len == 0 || is_control(cp)) {
      /* each byte of an invalid sequence or control as \xNN */
      size_t n = len ? len : 1;
      for (size_t i = 0; i < n; i++) {
        if (o + 4 >= out_len)
          goto done;
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[s[i] >> 4];
        out[o++] = hex[s[i] & 0xf];
      }
      s += n;
      continue;
    }
    if (o + len >= out_len)
      break;
    memcpy(out + o, s, len);
    o += len;
    s += len;
  }
done:
  out[o] = '\0';
}

void kp_json_escape(FILE *out, const char *in) {
  const unsigned char *s = (const unsigned char *)(in ? in : "");
  while (*s) {
    uint32_t cp;
    size_t len = utf8_decode(s, &cp);
    if (len == 0) {
      fputs("\\ufffd", out); /* invalid byte: JSON must be valid UTF-8 */
      s++;
      continue;
    }
    switch (cp) {
    case '"':
      fputs("\\\"", out);
      break;
    case '\\':
      fputs("\\\\", out);
      break;
    case '\n':
      fputs("\\n", out);
      break;
    case '\r':
      fputs("\\r", out);
      break;
    case '\t':
      fputs("\\t", out);
      break;
    default:
      if (is_control(cp))
        fprintf(out, "\\u%04x", (unsigned)cp);
      else
        fwrite(s, 1, len, out);
    }
    s += len;
  }
}
