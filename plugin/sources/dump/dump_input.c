/* Dump entry points: a buffer (format detected, dispatched to its parser),
 * a file (bounded size), a support-bundle directory (every regular file
 * that is a dump, in name order). */
#include "kp/dump.h"

#include "dump_metrics.h"
#include "dump_parsers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUMP_MAX_BYTES ((size_t)256 << 20)
#define DETECT_HEAD_BYTES ((size_t)1 << 20) /* enough to tell a dump in a directory */

static size_t line_of(const char *buf, size_t offset) {
  size_t line = 1;
  for (const char *p = buf; (p = memchr(p, '\n', offset - (size_t)(p - buf))) != NULL; p++)
    line++;
  return line;
}

int kp_dump_parse_buffer(struct kp_snapshot *snap, const char *source_name, const char *buf,
                         size_t len, struct kp_dump_error *err) {
  struct kp_dump_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  const char *name = source_name != NULL ? source_name : "-";
  if (buf == NULL && len > 0)
    return kp_dump_fail(err, name, 0, "no data");
  const char *nul = len > 0 ? memchr(buf, '\0', len) : NULL;
  if (nul != NULL)
    return kp_dump_fail(err, name, line_of(buf, (size_t)(nul - buf)),
                        "binary data (NUL byte at offset %zu), not a text dump",
                        (size_t)(nul - buf));
  enum kp_dump_format format = kp_dump_detect(buf, len);
  int (*parse)(struct kp_snapshot *, const char *, const char *, size_t, struct kp_dump_error *) =
      NULL;
  switch (format) {
  case KP_DUMP_IPT_LIST:
    parse = kp_parse_ipt_list;
    break;
  case KP_DUMP_IPT_SAVE:
    parse = kp_parse_ipt_save;
    break;
  case KP_DUMP_IPT_RULES:
    parse = kp_parse_ipt_rules;
    break;
  case KP_DUMP_NFT:
    parse = kp_parse_nft;
    break;
  case KP_DUMP_METRICS:
    parse = kp_parse_metrics;
    break;
  case KP_DUMP_UNKNOWN:
  default:
    return kp_dump_fail(err, name, 0, "not a recognised iptables/nft dump");
  }
  char *kept = kp_arena_strdup(&snap->arena, name);
  if (kept == NULL || kp_ptrvec_push(&snap->arena, &snap->sources, kept) != 0)
    return kp_dump_oom(err, name, 0);
  if (parse(snap, kept, buf, len, err) == 0)
    return 0;
  if (err->file[0] == '\0' || err->message[0] == '\0') {
    char message[sizeof(err->message)];
    if (err->message[0] != '\0')
      snprintf(message, sizeof(message), "%s", err->message);
    else
      snprintf(message, sizeof(message), "cannot parse %s dump", kp_dump_format_name(format));
    kp_dump_fail(err, err->file[0] == '\0' ? name : NULL, err->line, "%s", message);
  }
  return -1;
}

/* Reads at most limit bytes of path into a malloc'd buffer. *truncated says
 * whether there was more. */
static char *read_file(const char *path, size_t limit, size_t *len, bool *truncated,
                       struct stat *st, struct kp_dump_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    kp_dump_fail(err, path, 0, "cannot open: %s", strerror(errno));
    return NULL;
  }
  if (fstat(fd, st) != 0) {
    kp_dump_fail(err, path, 0, "cannot stat: %s", strerror(errno));
    close(fd);
    return NULL;
  }
  if (S_ISDIR(st->st_mode)) {
    kp_dump_fail(err, path, 0, "is a directory (use the directory option)");
    close(fd);
    return NULL;
  }
  size_t cap =
      S_ISREG(st->st_mode) && (size_t)st->st_size < limit ? (size_t)st->st_size + 1 : 65536;
  char *buf = malloc(cap);
  *len = 0;
  *truncated = false;
  while (buf != NULL) {
    if (*len == cap) {
      if (cap > limit) {
        *truncated = true;
        break;
      }
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + *len, cap - *len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      kp_dump_fail(err, path, 0, "read error: %s", strerror(errno));
      free(buf);
      close(fd);
      return NULL;
    }
    if (n == 0)
      break;
    *len += (size_t)n;
  }
  close(fd);
  if (buf == NULL)
    kp_dump_oom(err, path, 0);
  if (buf != NULL && *len > limit) {
    *len = limit;
    *truncated = true;
  }
  return buf;
}

int kp_dump_parse_file(struct kp_snapshot *snap, const char *path, struct kp_dump_error *err) {
  struct kp_dump_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  struct stat st;
  size_t len;
  bool truncated;
  char *buf = read_file(path, DUMP_MAX_BYTES, &len, &truncated, &st, err);
  if (buf == NULL)
    return -1;
  if (truncated) {
    free(buf);
    return kp_dump_fail(err, path, 0, "file is larger than the %zu MiB limit",
                        DUMP_MAX_BYTES >> 20);
  }
  int rc = kp_dump_parse_buffer(snap, path, buf, len, err);
  /* Metrics without their own clock (a /livez currentTime) count as taken
   * when the file was written. */
  if (rc == 0 && kp_dump_detect(buf, len) == KP_DUMP_METRICS && snap->proxy.scrape_ts == 0)
    snap->proxy.scrape_ts = (double)st.st_mtime;
  free(buf);
  return rc;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when the head of the file is a dump of a known format. */
static bool looks_like_dump(const char *path) {
  struct kp_dump_error ignored;
  struct stat st;
  size_t len;
  bool truncated;
  char *head = read_file(path, DETECT_HEAD_BYTES, &len, &truncated, &st, &ignored);
  if (head == NULL)
    return false;
  bool dump = memchr(head, '\0', len) == NULL && kp_dump_detect(head, len) != KP_DUMP_UNKNOWN;
  free(head);
  return dump;
}

int kp_dump_parse_dir(struct kp_snapshot *snap, const char *dir, struct kp_dump_error *err) {
  struct kp_dump_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  DIR *d = opendir(dir);
  if (d == NULL)
    return kp_dump_fail(err, dir, 0, "cannot open directory: %s", strerror(errno));
  char **names = NULL;
  size_t count = 0, cap = 0;
  int rc = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
      continue;
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      char **more = realloc(names, ncap * sizeof(*names));
      if (more == NULL) {
        rc = kp_dump_oom(err, dir, 0);
        break;
      }
      names = more;
      cap = ncap;
    }
    if ((names[count] = strdup(ent->d_name)) == NULL) {
      rc = kp_dump_oom(err, dir, 0);
      break;
    }
    count++;
  }
  closedir(d);
  if (count > 0)
    qsort(names, count, sizeof(*names), compare_names);
  size_t parsed = 0;
  for (size_t i = 0; i < count && rc == 0; i++) {
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
      continue;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !looks_like_dump(path))
      continue; /* not a dump: a bundle holds other files too */
    rc = kp_dump_parse_file(snap, path, err);
    parsed++;
  }
  for (size_t i = 0; i < count; i++)
    free(names[i]);
  free(names);
  if (rc == 0 && parsed == 0)
    rc = kp_dump_fail(err, dir, 0, "no iptables, nft or kube-proxy metrics dump in this directory");
  return rc;
}
