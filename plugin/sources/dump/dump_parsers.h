/* Private to the dump source (plugin/sources/dump): one parser per text
 * format, called by kp_dump_parse_buffer after kp_dump_detect (and by the
 * unit tests and fuzzers). */
#ifndef KP_DUMP_PARSERS_H
#define KP_DUMP_PARSERS_H

#include "kp/dump.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

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
/* `nft -j list ruleset` (jansson): the same model as kp_parse_nft. */
int kp_parse_nft_json(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err);
/* An `ipvsadm -L` body line of the plain columns that cannot be anything
 * else: a virtual server ("TCP  10.96.0.1:443 rr", a known scheduler) or
 * a real server ("  -> 10.244.0.5:8443  Masq  1  0  0"). For a paste
 * without the header line (dump_detect.c). */
bool kp_ipvs_body_line(const char *line, size_t n);

/* `ipvsadm -Ln [--stats|--rate]` into snap->ipvs. */
int kp_parse_ipvsadm(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                     struct kp_dump_error *err);

/* dump_paste.c: a shell prompt line ("root@node:~# cmd", "$ cmd", a bare
 * "user@host:~#"), a markdown fence or a "> " line; p/n without the line's
 * leading blanks. And a copy of a pasted dump without what pasting added
 * (prompts, typed commands, fences, a "> " quote on every line, the
 * indentation of every line; iptables' legacy-tables warning gets its
 * "# "), every line at its place: malloc'd, NUL-terminated, *out_len set;
 * NULL when nothing needs to change (or no memory: parse the original). */
bool kp_dump_is_prompt(const char *p, size_t n);
char *kp_dump_unpaste(const char *buf, size_t len, size_t *out_len);
/* Where a few lines of prose after an iptables dump start (a comment's
 * text after the paste): their offset and *first_line; len when none. */
size_t kp_dump_trailing_prose(const char *buf, size_t len, size_t *first_line);

/* dump_detect.c: several command outputs pasted into one file (`iptables
 * -t nat -S`, then `ipvsadm -Ln`): the offset where a dump of another
 * format than the first one starts, len when none does. */
size_t kp_dump_part_end(const char *buf, size_t len);

/* dump_input.c, for dump_bundle.c: at most limit bytes of path in a
 * malloc'd buffer (*truncated when there was more; NULL with err filled);
 * whether the head of a file is a dump of a known format; the IPv6 family
 * for the tables from index first_table on when the file name says
 * ip6tables. */
char *kp_dump_read_file(const char *path, size_t limit, size_t *len, bool *truncated,
                        struct stat *st, struct kp_dump_error *err);
bool kp_dump_looks_like_dump(const char *path);
void kp_dump_family_from_name(struct kp_snapshot *snap, const char *path, size_t first_table);

#endif
