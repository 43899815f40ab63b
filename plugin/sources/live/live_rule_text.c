/* The rule text builder both live backends write into (kp_rule_text). */
#include "live_xt.h"

#include <stdarg.h>
#include <stdio.h>

void kp_rule_text_add(struct kp_rule_text *text, const char *fmt, ...) {
  if (text == NULL || text->len >= sizeof(text->buf) - 1)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text->buf + text->len, sizeof(text->buf) - text->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  text->len += (size_t)n;
  if (text->len >= sizeof(text->buf))
    text->len = sizeof(text->buf) - 1; /* truncated: display only */
}
