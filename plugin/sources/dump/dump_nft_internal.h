/* Private to the nft text parser (dump_nft*.c): the tokenizer and the rule
 * statement decoder. Not part of the public dump interface. */
#ifndef KP_DUMP_NFT_INTERNAL_H
#define KP_DUMP_NFT_INTERNAL_H

#include "kp/dump.h"

#include <stdbool.h>
#include <stddef.h>

enum nft_tok_type {
  NFT_EOF = 0,
  NFT_WORD,
  NFT_STRING, /* p/n is the text between the quotes, escapes still in it */
  NFT_LBRACE,
  NFT_RBRACE,
  NFT_SEMI,
  NFT_NL
};

struct nft_token {
  enum nft_tok_type type;
  const char *p;
  size_t n;
  size_t line;
};

/* A bounded cursor over a buffer that need not be NUL-terminated. Copying
 * the struct gives free look-ahead. */
struct nft_lexer {
  const char *buf;
  size_t len, pos, line;
};

void nft_lex_init(struct nft_lexer *lx, const char *buf, size_t len);
struct nft_token nft_lex_next(struct nft_lexer *lx);

bool nft_tok_is(const struct nft_token *t, const char *word);
/* Token text as a NUL-terminated string in out (truncated to cap-1);
 * strings are unescaped. Returns the length written. */
size_t nft_tok_copy(const struct nft_token *t, char *out, size_t cap);
/* Same, into the arena (no length limit). NULL on OOM. */
char *nft_tok_dup(struct kp_arena *arena, const struct nft_token *t);

/* Decodes the statement tokens toks[0..n) into the match/target fields of
 * rule (text, line and source are the caller's). 0, or -1 on OOM. */
int nft_parse_rule(struct kp_snapshot *snap, struct kp_rule *rule, const struct nft_token *toks,
                   size_t n);

#endif
