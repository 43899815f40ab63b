/* The one setter of struct kp_live_error for every live source. */
#include "live_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kp_live_fail(struct kp_live_error *err, enum kp_live_fault fault, int err_no, const char *fmt,
                 ...) {
  if (err == NULL)
    return -1;
  memset(err, 0, sizeof(*err));
  err->fault = fault;
  err->err_no = err_no;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  return -1;
}
