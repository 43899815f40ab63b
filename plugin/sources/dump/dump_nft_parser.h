/* Private to the nft text parser (dump_nft.c, dump_nft_cursor.c,
 * dump_nft_blocks.c, dump_nft_sets.c, dump_nft_script.c): the parser state
 * and the helpers its parts share. The calls go one way: dump_nft.c ->
 * script -> blocks -> sets -> cursor. */
#ifndef KP_DUMP_NFT_PARSER_H
#define KP_DUMP_NFT_PARSER_H

#include "dump_nft_internal.h"

#define KP_NFT_MAX_TOKENS ((size_t)1 << 20) /* per statement; the rest is skipped */

struct kp_nft_parser {
  struct kp_snapshot *snap;
  const char *source; /* arena copy, also the identity of "this file" */
  struct kp_dump_error *err;
  struct kp_nft_lexer lx;
  struct kp_nft_token pushed;
  bool has_pushed;
  struct kp_nft_token *toks; /* the current statement */
  size_t ntoks, cap;
  struct kp_nft_token lbrace; /* the '{' that ended the last collect() */
  bool open_at_eof;           /* collect() hit the end inside braces */
  bool failed;
  /* tables this file listed a "table F N { ... }" block of: another block
   * of one is a second listing (two `nft list ruleset` pasted) */
  struct kp_table *listed[16];
  size_t n_listed;
};

/* dump_nft_cursor.c */
/* The first failure fills p->err (through kp_dump_vfail); later ones are
 * ignored. Both return -1. */
int kp_nftp_fail(struct kp_nft_parser *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kp_nftp_oom(struct kp_nft_parser *p);

struct kp_nft_token kp_nftp_next(struct kp_nft_parser *p);
/* Appends a token to the current statement. 0, or -1 on OOM. */
int kp_nftp_store(struct kp_nft_parser *p, struct kp_nft_token t);
/* Appends the tokens of one statement to p->toks: up to a newline or ';'
 * outside braces, a '}' closing the enclosing block (pushed back), or, with
 * stop_at_lbrace, a '{' opening a block (consumed). depth > 0 continues
 * inside an already opened brace. Returns the terminating token type. */
enum kp_nft_tok_type kp_nftp_collect(struct kp_nft_parser *p, bool stop_at_lbrace, size_t depth);
/* Consumes up to and including the '}' closing an opened block. False at
 * the end of input. */
bool kp_nftp_skip_block(struct kp_nft_parser *p);
bool kp_nftp_tok(const struct kp_nft_parser *p, size_t i, const char *word);
char *kp_nftp_dup(struct kp_nft_parser *p, size_t i);

/* Optional family word at toks[*i]: the family, or -1 for one the model
 * does not hold (arp, bridge, netdev). */
int kp_nftp_take_family(struct kp_nft_parser *p, size_t *i);

/* dump_nft_blocks.c */
/* This file's table of that family (-1: none) and name. NULL (not an
 * error) for family -1; NULL after kp_nftp_oom on OOM. */
struct kp_table *kp_nftp_table_named(struct kp_nft_parser *p, int family, const char *name);
struct kp_table *kp_nftp_table_from(struct kp_nft_parser *p, size_t *i);
struct kp_chain *kp_nftp_chain_from(struct kp_nft_parser *p, struct kp_table *table, size_t i);
/* A rule made of toks[from..ntoks); prepend for "insert rule". */
int kp_nftp_add_rule(struct kp_nft_parser *p, struct kp_chain *chain, size_t from, bool prepend);
/* Inside "chain X { ... }" / "table ip X { ... }" after the '{'. */
int kp_nftp_chain_body(struct kp_nft_parser *p, struct kp_chain *chain, size_t open_line);
int kp_nftp_table_body(struct kp_nft_parser *p, struct kp_table *table, size_t open_line);

/* dump_nft_sets.c */
struct kp_set *kp_nftp_set_from(struct kp_nft_parser *p, struct kp_table *table, size_t i,
                                bool is_map);
int kp_nftp_set_body(struct kp_nft_parser *p, struct kp_set *set, size_t open_line);
/* A "..." (or grep's "--") statement where a paste left lines out: the
 * chain (when inside one) is cut, the table partial, one note per table.
 * 0, or -1 on OOM. */
int kp_nftp_gap(struct kp_nft_parser *p, struct kp_table *table, struct kp_chain *chain,
                size_t line);
/* True when the collected statement is such a "..." or "--". */
bool kp_nftp_is_gap(const struct kp_nft_parser *p);
/* The input ends inside a table's block (a paste cut short): what came
 * before is kept, the table is partial, one note names the file, the last
 * line and the block (chain, or a phrase such as "set cluster-ips"); the
 * chain being read, if any, is cut. 0, -1 on OOM. */
int kp_nftp_cut_at_end(struct kp_nft_parser *p, struct kp_table *table, struct kp_chain *chain,
                       const char *block);
/* Elements in toks[a..b): "172.30.0.41 . tcp . 80 comment "x" : goto c, ..." */
int kp_nftp_elements(struct kp_nft_parser *p, struct kp_set *set, size_t a, size_t b);

/* dump_nft_script.c: "add|create|insert|replace ..." and "flush ...". */
int kp_nftp_command(struct kp_nft_parser *p, enum kp_nft_tok_type end, size_t line);
int kp_nftp_flush(struct kp_nft_parser *p, enum kp_nft_tok_type end, size_t line);

#endif
