/* Dump entry points: a buffer (format detected, dispatched to its parser)
 * and a file (bounded size). Directories: dump_bundle.c. */
#include "kp/dump.h"

#include "dump_metrics.h"
#include "dump_parsers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUMP_MAX_BYTES ((size_t)256 << 20)
#define DETECT_HEAD_BYTES ((size_t)1 << 20) /* enough to tell a dump in a directory */
#define MAX_PARTS 16 /* dumps of different formats in one file, read one by one */

static int parse_detected(struct kp_snapshot *snap, const char *name, const char *buf, size_t len,
                          struct kp_dump_error *err);
static int parse_parts(struct kp_snapshot *snap, const char *name, const char *buf, size_t len,
                       struct kp_dump_error *err);

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
  /* a paste's prompts, fences, quote marks and indentation go first */
  size_t clean_len = 0, prose_line = 0;
  char *clean = kp_dump_unpaste(buf, len, &clean_len);
  const char *text = clean != NULL ? clean : buf;
  size_t text_len = clean != NULL ? clean_len : len;
  /* and the text after it */
  size_t end = kp_dump_trailing_prose(text, text_len, &prose_line);
  int rc = parse_parts(snap, name, text, end, err);
  free(clean);
  if (rc == 0 && end < text_len &&
      kp_snapshot_add_note(snap, KP_NOTE_SKIPPED, name, prose_line, NULL, KP_FAMILY_IPV4,
                           "text after the dump, not part of it") == NULL)
    return kp_dump_oom(err, name, prose_line);
  return rc;
}

/* Each dump of a file holding several (outputs of different commands
 * pasted one after the other) by its own parser; the lines before a part
 * stay as empty lines, so that messages name the file's lines. */
static int parse_parts(struct kp_snapshot *snap, const char *name, const char *buf, size_t len,
                       struct kp_dump_error *err) {
  size_t end = kp_dump_part_end(buf, len);
  if (end == len)
    return parse_detected(snap, name, buf, len, err);
  char *part = malloc(len + 1);
  if (part == NULL)
    return kp_dump_oom(err, name, 0);
  int rc = 0;
  /* (each part is copied after its empty lines: at most MAX_PARTS) */
  for (size_t start = 0, lines = 0, parts = 1; rc == 0 && start < len; parts++) {
    size_t n = parts < MAX_PARTS ? kp_dump_part_end(buf + start, len - start) : len - start;
    memset(part, '\n', lines);
    memcpy(part + lines, buf + start, n);
    rc = parse_detected(snap, name, part, lines + n, err);
    for (size_t i = start; i < start + n; i++)
      lines += buf[i] == '\n';
    start += n;
  }
  free(part);
  return rc;
}

static int parse_detected(struct kp_snapshot *snap, const char *name, const char *buf, size_t len,
                          struct kp_dump_error *err) {
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
  case KP_DUMP_NFT_JSON:
    parse = kp_parse_nft_json;
    break;
  case KP_DUMP_IPVS:
    parse = kp_parse_ipvsadm;
    break;
  case KP_DUMP_UNKNOWN:
  default:
    return kp_dump_fail(err, name, 0, "not a recognised iptables/nft/ipvsadm dump");
  }
  /* (the parts of one file are one source) */
  const char *last = snap->sources.count > 0 ? snap->sources.items[snap->sources.count - 1] : NULL;
  char *kept =
      last != NULL && strcmp(last, name) == 0 ? (char *)last : kp_arena_strdup(&snap->arena, name);
  if (kept == NULL || (kept != last && kp_ptrvec_push(&snap->arena, &snap->sources, kept) != 0))
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

char *kp_dump_read_file(const char *path, size_t limit, size_t *len, bool *truncated,
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
  char *buf = kp_dump_read_file(path, DUMP_MAX_BYTES, &len, &truncated, &st, err);
  if (buf == NULL)
    return -1;
  if (truncated) {
    free(buf);
    return kp_dump_fail(err, path, 0, "file is larger than the %zu MiB limit",
                        DUMP_MAX_BYTES >> 20);
  }
  size_t tables_before = snap->tables.count;
  int rc = kp_dump_parse_buffer(snap, path, buf, len, err);
  if (rc == 0)
    kp_dump_family_from_name(snap, path, tables_before);
  /* Metrics without their own clock (a /livez currentTime) count as taken
   * when the file was written. */
  if (rc == 0 && kp_dump_detect(buf, len) == KP_DUMP_METRICS && snap->proxy.scrape_ts == 0)
    snap->proxy.scrape_ts = (double)st.st_mtime;
  free(buf);
  return rc;
}

bool kp_dump_looks_like_dump(const char *path) {
  struct kp_dump_error ignored;
  struct stat st;
  size_t len;
  bool truncated;
  char *head = kp_dump_read_file(path, DETECT_HEAD_BYTES, &len, &truncated, &st, &ignored);
  if (head == NULL)
    return false;
  bool dump = memchr(head, '\0', len) == NULL && kp_dump_detect(head, len) != KP_DUMP_UNKNOWN;
  free(head);
  return dump;
}

/* `ip6tables -L` of a table without IPv6 addresses in it (an empty one, or
 * only interface matches) reads like IPv4: the name says (sos's
 * ip6tables_-t_nat_-nvL, ip6tables_-vnxL, ip6tables-save; any file whose
 * name starts with ip6tables). The content still wins where it says IPv6. */
void kp_dump_family_from_name(struct kp_snapshot *snap, const char *path, size_t first_table) {
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  if (strncmp(base, "ip6tables", 9) != 0)
    return;
  for (size_t i = first_table; i < snap->tables.count; i++) {
    struct kp_table *t = snap->tables.items[i];
    if (!t->native_nft && t->family == KP_FAMILY_IPV4)
      t->family = KP_FAMILY_IPV6;
  }
  snap->finalized = false;
}
