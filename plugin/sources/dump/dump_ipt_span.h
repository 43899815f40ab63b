/* Private to the iptables -L parser (dump_ipt_list.c,
 * dump_ipt_list_extra.c): words of a listing line as spans. */
#ifndef KP_DUMP_IPT_SPAN_H
#define KP_DUMP_IPT_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct span {
  const char *p;
  size_t n;
};

static inline bool sp_is(struct span s, const char *w) {
  return strlen(w) == s.n && memcmp(s.p, w, s.n) == 0;
}

static inline bool sp_starts(struct span s, const char *prefix) {
  size_t k = strlen(prefix);
  return s.n >= k && memcmp(s.p, prefix, k) == 0;
}

static inline bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/* Splits up to max blank-separated words; returns how many. */
static inline size_t split(const char *s, size_t n, struct span *out, size_t max) {
  size_t count = 0, i = 0;
  while (count < max) {
    while (i < n && is_blank(s[i]))
      i++;
    if (i >= n)
      break;
    size_t b = i;
    while (i < n && !is_blank(s[i]))
      i++;
    out[count].p = s + b;
    out[count].n = i - b;
    count++;
  }
  return count;
}

#endif
