/* Saved-dump source: text from a support bundle into a snapshot.
 * The format is detected from the content, never from the file name. */
#ifndef KP_DUMP_H
#define KP_DUMP_H

#include "kp/model.h"

#include <stdarg.h>
#include <stddef.h>

enum kp_dump_format {
  KP_DUMP_UNKNOWN = 0,
  KP_DUMP_IPT_LIST,  /* iptables -L [-n] [-v] [-x] */
  KP_DUMP_IPT_SAVE,  /* iptables-save [-c], iptables-restore input */
  KP_DUMP_IPT_RULES, /* iptables -S */
  KP_DUMP_NFT,       /* nft list ruleset / nft list chain / nft -f script */
  KP_DUMP_METRICS,   /* kube-proxy /metrics (Prometheus text), /livez, /proxyMode */
  KP_DUMP_NFT_JSON,  /* nft -j list ruleset */
  KP_DUMP_IPVS,      /* ipvsadm -Ln [--stats|--rate] */
};

const char *kp_dump_format_name(enum kp_dump_format format);
enum kp_dump_format kp_dump_detect(const char *buf, size_t len);

struct kp_dump_error {
  char file[256];
  size_t line; /* 1-based; 0 when not about one line */
  char message[256];
};

/* The one setter of a kp_dump_error, for every dump and proxy parser: fills
 * err (when not NULL; file NULL leaves err->file as it is) and returns -1. */
int kp_dump_fail(struct kp_dump_error *err, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int kp_dump_vfail(struct kp_dump_error *err, const char *file, size_t line, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));
/* The one out-of-memory report (an arena copy or malloc failed). -1. */
int kp_dump_oom(struct kp_dump_error *err, const char *file, size_t line);

/* Parses one dump held in memory into snap. source_name is used for error
 * messages and rule provenance. Returns 0, or -1 with err filled (the
 * snapshot may hold part of the input then). Never reads past len; buf need
 * not be NUL-terminated. */
int kp_dump_parse_buffer(struct kp_snapshot *snap, const char *source_name, const char *buf,
                         size_t len, struct kp_dump_error *err);
/* Reads a file (bounded size) and parses it. */
int kp_dump_parse_file(struct kp_snapshot *snap, const char *path, struct kp_dump_error *err);
/* Every regular file of a support-bundle directory whose content is a dump
 * (files of unknown format are skipped, not errors; no dump at all is). */
int kp_dump_parse_dir(struct kp_snapshot *snap, const char *dir, struct kp_dump_error *err);

/* After all files are in: an iptables table seen both through an nft text
 * dump (backend nft) and an undeclared-backend dump (-L, save) with the same
 * kube-proxy chains and rules is one copy seen twice: the second is dropped
 * and the table counts as nft. Different rules stay as two backends
 * (unknown ones become legacy), which the `backends` check reports. */
int kp_dump_reconcile(struct kp_snapshot *snap);

#endif
