/* The one place that fills a struct kp_dump_error (kp/dump.h). */
#include "kp/dump.h"

#include <stdio.h>

int kp_dump_vfail(struct kp_dump_error *err, const char *file, size_t line, const char *fmt,
                  va_list ap) {
  if (err == NULL)
    return -1;
  if (file != NULL)
    snprintf(err->file, sizeof(err->file), "%s", file);
  err->line = line;
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  return -1;
}

int kp_dump_fail(struct kp_dump_error *err, const char *file, size_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kp_dump_vfail(err, file, line, fmt, ap);
  va_end(ap);
  return -1;
}

int kp_dump_oom(struct kp_dump_error *err, const char *file, size_t line) {
  return kp_dump_fail(err, file, line, "out of memory");
}
