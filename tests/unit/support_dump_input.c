/* See support_dump_input.h. */
#include "support_dump_input.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tdi_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(size ? (size_t)size : 1))) {
      *len = fread(buf, 1, (size_t)size, f);
      if (*len != (size_t)size) {
        free(buf);
        buf = NULL;
      }
    }
  }
  fclose(f);
  return buf;
}

void tdi_every_prefix(const char *path, tdi_parser parser, size_t *parsed, size_t *failed) {
  size_t len = 0;
  char *full = tdi_slurp(path, &len);
  ck_assert_msg(full != NULL, "cannot read %s", path);
  *parsed = *failed = 0;
  for (size_t cut = 0; cut <= len; cut++) {
    char *part = malloc(cut ? cut : 1);
    ck_assert_ptr_nonnull(part);
    memcpy(part, full, cut);
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    memset(&err, 0, sizeof(err));
    int rc = parser(snap, "cut", part, cut, &err);
    ck_assert_msg(rc == 0 || rc == -1, "%s cut at %zu: rc %d", path, cut, rc);
    if (rc == 0) {
      (*parsed)++;
    } else {
      ck_assert_msg(err.message[0] != '\0', "%s cut at %zu: no message", path, cut);
      (*failed)++;
    }
    kp_snapshot_free(snap);
    free(part);
  }
  free(full);
}
