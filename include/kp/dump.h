/* Saved-dump source: text from a support bundle into a snapshot.
 * The format is detected from the content, never from the file name. */
#ifndef KP_DUMP_H
#define KP_DUMP_H

#include "kp/model.h"

#include <stddef.h>

enum kp_dump_format {
  KP_DUMP_UNKNOWN = 0,
  KP_DUMP_IPT_LIST,  /* iptables -L [-n] [-v] [-x] */
  KP_DUMP_IPT_SAVE,  /* iptables-save [-c], iptables-restore input */
  KP_DUMP_IPT_RULES, /* iptables -S */
  KP_DUMP_NFT,       /* nft list ruleset / nft list chain / nft -f script */
  KP_DUMP_METRICS,   /* kube-proxy /metrics (Prometheus text), /livez, /proxyMode */
};

const char *kp_dump_format_name(enum kp_dump_format format);
enum kp_dump_format kp_dump_detect(const char *buf, size_t len);

struct kp_dump_error {
  char file[256];
  size_t line; /* 1-based; 0 when not about one line */
  char message[256];
};

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

/* Per-format parsers, used by kp_dump_parse_buffer and by tests. Each gets
 * the whole buffer; same contract as kp_dump_parse_buffer. */
int kp_parse_ipt_list(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err);
int kp_parse_ipt_save(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err);
int kp_parse_ipt_rules(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                       struct kp_dump_error *err);
int kp_parse_nft(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                 struct kp_dump_error *err);
int kp_parse_metrics(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                     struct kp_dump_error *err);

/* Parses the iptables-save / -S rule arguments ("-s 10.0.0.1/32 -p tcp -m
 * comment --comment \"x\" -j DNAT --to-destination 10.1.1.1:80") into rule.
 * Shared by the save and -S parsers. 0 or -1 with err->message set. */
int kp_parse_ipt_rule_args(struct kp_snapshot *snap, struct kp_rule *rule, const char *args,
                           size_t len, struct kp_dump_error *err);

#endif
