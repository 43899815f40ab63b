/* Private to the nft text parser (dump_nft*.c): the tokenizer and the rule
 * statement decoder. Not part of the public dump interface. */
#ifndef KP_DUMP_NFT_INTERNAL_H
#define KP_DUMP_NFT_INTERNAL_H

#include "kp/dump.h"

#include <stdbool.h>
#include <stddef.h>

enum kp_nft_tok_type {
  KP_NFT_TOK_EOF = 0,
  KP_NFT_TOK_WORD,
  KP_NFT_TOK_STRING, /* p/n is the text between the quotes, escapes still in it */
  KP_NFT_TOK_LBRACE,
  KP_NFT_TOK_RBRACE,
  KP_NFT_TOK_SEMI,
  KP_NFT_TOK_NL
};

struct kp_nft_token {
  enum kp_nft_tok_type type;
  const char *p;
  size_t n;
  size_t line;
};

/* A bounded cursor over a buffer that need not be NUL-terminated. Copying
 * the struct gives free look-ahead. */
struct kp_nft_lexer {
  const char *buf;
  size_t len, pos, line;
};

void kp_nft_lex_init(struct kp_nft_lexer *lx, const char *buf, size_t len);
struct kp_nft_token kp_nft_lex_next(struct kp_nft_lexer *lx);

bool kp_nft_tok_is(const struct kp_nft_token *t, const char *word);
/* Token text as a NUL-terminated string in out (truncated to cap-1);
 * strings are unescaped. Returns the length written. */
size_t kp_nft_tok_copy(const struct kp_nft_token *t, char *out, size_t cap);
/* Same, into the arena (no length limit). NULL on OOM. */
char *kp_nft_tok_dup(struct kp_arena *arena, const struct kp_nft_token *t);

/* Decodes the statement tokens toks[0..n) into the match/target fields of
 * rule (text, line and source are the caller's). 0, or -1 on OOM. */
int kp_nft_parse_rule(struct kp_snapshot *snap, struct kp_rule *rule,
                      const struct kp_nft_token *toks, size_t n);

/* Shared by the text and JSON nft parsers (dump_nft_names.c): the tables
 * iptables-nft writes (any other name is a native nft table), and the
 * family of "ip", "ip6", "inet" (IPv4: the model has no dual-family table),
 * "arp", "bridge", "netdev" (-1: not held). 0, or -1 for another word. */
bool kp_nft_is_iptables_table(const char *name);
int kp_nft_family(const char *word, size_t n, int *family);

#endif
