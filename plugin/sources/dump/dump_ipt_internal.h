/* Private to the iptables text parsers (dump_ipt_*.c): line reading, error
 * reporting, counters, protocols, ports, marks and table inference shared by
 * the -L, save and -S parsers. Not part of the public dump interface. */
#ifndef KP_DUMP_IPT_INTERNAL_H
#define KP_DUMP_IPT_INTERNAL_H

#include "kp/dump.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_IPT_MAX_LINE 65536 /* longer lines are rejected as not a dump */

/* A bounded line cursor over a buffer that need not be NUL-terminated. */
struct kp_ipt_lines {
  const char *buf;
  size_t len, pos, lineno;
};

void kp_ipt_lines_init(struct kp_ipt_lines *it, const char *buf, size_t len);
/* 1: line and n hold the next line (no '\n', trailing blanks and '\r' cut);
 * 0: end of input; -1: NUL byte or over-long line (err filled). */
int kp_ipt_next_line(struct kp_ipt_lines *it, const char **line, size_t *n, const char *source,
                     struct kp_dump_error *err);

/* Feeds every line of buf to line_fn(state, line, n, lineno) until one
 * fails. 0 when all were taken; -1 when a line could not be read (err
 * filled) or line_fn failed (it filled err). */
int kp_ipt_each_line(const char *buf, size_t len, const char *source, struct kp_dump_error *err,
                     int (*line_fn)(void *state, const char *line, size_t n, size_t lineno),
                     void *state);
/* iptables-nft prints "# Warning: iptables-legacy tables present, use
 * iptables-legacy to see them" when legacy tables exist too: such a listing
 * itself came through nf_tables (*backend = nft, else unknown), and the
 * other backend holds tables it does not show: one KP_NOTE_OTHER_BACKEND
 * note per file, carrying the line. 0, or -1 on OOM. */
int kp_ipt_note_other_backend(struct kp_snapshot *snap, const char *source, const char *buf,
                              size_t len, enum kp_backend *backend, struct kp_dump_error *err);

/* Copies at most cap-1 bytes of s, with non-printable bytes as '?', for
 * quoting input in error messages. */
void kp_ipt_excerpt(const char *s, size_t n, char *out, size_t cap);

/* "1234", "2675K", "167M" (x1000 per step, as xtables print_num). text_out
 * is set to true when a suffix made the value approximate. 0 or -1. */
int kp_ipt_parse_count(const char *s, size_t n, uint64_t *value, bool *suffixed);
/* Decimal or 0x hex 32-bit number, the whole span. 0 or -1. */
int kp_ipt_parse_u32(const char *s, size_t n, uint32_t *out);
/* "0x4000" or "0x4000/0x4000"; mask defaults to 0xffffffff. 0 or -1. */
int kp_ipt_parse_mark(const char *s, size_t n, uint32_t *value, uint32_t *mask);
/* Protocol name or number; "all"/"0" gives *present=false. -1 when unknown. */
int kp_ipt_parse_proto(const char *s, size_t n, bool *present, uint8_t *proto);
/* "80", "80:90", ":90", "80:", "80-90" (sep is ':' for matches, '-' for NAT)
 * or a few well-known service names. 0 or -1. */
int kp_ipt_parse_ports(const char *s, size_t n, char sep, struct kp_port_range *out);
/* DNAT/SNAT "to" text: "10.1.1.1:80", "[fd00::1]:80", "10.0.0.1-10.0.0.3".
 * Fills nat_addr (first address of a range) and nat_ports. */
void kp_ipt_parse_nat_to(struct kp_snapshot *snap, struct kp_rule *rule, const char *s, size_t n);

/* Built-in chain bits, for telling the table of a dump that does not say. */
enum {
  KP_IPT_PREROUTING = 1,
  KP_IPT_INPUT = 2,
  KP_IPT_FORWARD = 4,
  KP_IPT_OUTPUT = 8,
  KP_IPT_POSTROUTING = 16,
};
unsigned kp_ipt_builtin_bit(const char *name);
/* True for chain or target names only the nat table has (KUBE-SVC-*,
 * KUBE-SEP-*, KUBE-MARK-MASQ, KUBE-POSTROUTING, DNAT, MASQUERADE, ...). */
bool kp_ipt_is_nat_name(const char *name);
/* nat: PREROUTING+POSTROUTING without FORWARD; mangle: all five; raw:
 * PREROUTING+OUTPUT; filter: INPUT/FORWARD/OUTPUT; without built-ins the
 * nat hint decides between nat and filter. */
const char *kp_ipt_infer_table(unsigned builtin_mask, bool nat_hint);

/* True when mask holds every built-in chain of some table (nat, filter,
 * mangle, raw): a listing with fewer shows only part of its table. */
bool kp_ipt_builtins_whole(unsigned builtin_mask);
/* Headerless rules ("-A CHAIN ..." with no *table line): the table
 * kube-proxy (or kubelet) puts CHAIN in, told by the chain name and, for
 * names both tables have (KUBE-SERVICES, KUBE-NODEPORTS, OUTPUT), by the
 * rule's target; args is the text after the chain name (may be empty).
 * NULL when nothing tells. */
const char *kp_ipt_guess_table(const char *chain, const char *args, size_t n);
/* The number of the last line when the input ends without a newline (0
 * when it ends with one): a rule that does not parse there was cut short,
 * not malformed. */
size_t kp_ipt_unterminated_line(const char *buf, size_t len);
/* A listing that may end early though every line is whole: a chain
 * kube-proxy never leaves empty (per-service chains, KUBE-MARK-MASQ,
 * KUBE-POSTROUTING, nat KUBE-SERVICES) without rules after the last chain that has some.
 * Or that last chain is a KUBE-SVC/SVL chain or nat KUBE-SERVICES not
 * ending as kube-proxy ends one. Then the table is partial, that last chain and all after it
 * are cut, and the chain's name is returned; NULL otherwise (dump_ipt_cut.c). */
const char *kp_ipt_mark_trailing_cut(struct kp_table *t);
/* A KUBE- chain some rule of t jumps to that t does not hold (a whole -L
 * listing shows every chain of its table); NULL when none. */
const char *kp_ipt_unlisted_jump(const struct kp_table *t);
/* dump_ipt_list_extra.c: the text after an -L rule line's address
 * columns (comment, matches, target options) into rule. */
void kp_ipt_list_extra(struct kp_snapshot *snap, struct kp_rule *rule, const char *s, size_t n);
/* dump_ipt_list_cols.c: the columns of an -L rule line without its
 * column header (a grep'd listing): *num (--line-numbers), *counters
 * (-v: pkts, bytes and the in/out columns). False when the line does not
 * look like a rule line. */
bool kp_ipt_list_columns(const char *line, size_t n, bool *num, bool *counters);
/* Coverage notes (kp/model.h); -1 with err set on OOM. */
int kp_ipt_note(struct kp_snapshot *snap, enum kp_note_kind kind, const char *source, size_t line,
                const struct kp_table *table, const char *detail, struct kp_dump_error *err);

/* Words of a save / -S line: blanks skipped from i; the next word into out
 * (NUL-terminated), *pos past it, -1 when none or too long. */
size_t kp_ipt_skip_blanks(const char *s, size_t n, size_t i);
int kp_ipt_take_word(const char *s, size_t n, size_t *pos, char *out, size_t cap);
bool kp_ipt_rule_is_ipv6(const struct kp_rule *rule);
/* A table placed without a header (IPv4) becomes IPv6 when its rules hold
 * IPv6 addresses and no IPv4 one, unless source already has that IPv6
 * table; its TABLE_GUESSED note follows. */
void kp_ipt_guess_family(struct kp_snapshot *snap, struct kp_table *t, const char *source);
/* dump_ipt_add_rule.c: adds the rule whose arguments start at args_at of
 * line to chain;
 * insert_at >= 0 inserts there (-I, 0-based). A rule that does not parse
 * is not kept. 0, or -1 with err set. */
int kp_ipt_add_rule(struct kp_snapshot *snap, struct kp_chain *chain, const char *line, size_t n,
                    size_t args_at, long insert_at, const struct kp_counters *counters,
                    const char *source, size_t lineno, struct kp_dump_error *err,
                    struct kp_rule **out);

/* Arena copy of the first n bytes; NULL on OOM. */
char *kp_ipt_strndup(struct kp_snapshot *snap, const char *s, size_t n);

/* Parses the iptables-save / -S rule arguments ("-s 10.0.0.1/32 -p tcp -m
 * comment --comment \"x\" -j DNAT --to-destination 10.1.1.1:80") into rule.
 * Shared by the save and -S parsers. 0 or -1 with err->message set. */
int kp_parse_ipt_rule_args(struct kp_snapshot *snap, struct kp_rule *rule, const char *args,
                           size_t len, struct kp_dump_error *err);

#endif
