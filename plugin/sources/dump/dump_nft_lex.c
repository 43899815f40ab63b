/* Tokenizer for nft text (`nft list ruleset`, `nft -f` scripts): words,
 * quoted strings, braces, `;` and newlines; `#` starts a comment outside
 * strings (this also drops the `# handle N` suffixes of `nft -a`). Never
 * reads past len. */
#include "dump_nft_internal.h"

#include <string.h>

void kp_nft_lex_init(struct kp_nft_lexer *lx, const char *buf, size_t len) {
  lx->buf = buf;
  lx->len = len;
  lx->pos = 0;
  lx->line = 1;
}

static bool is_word_char(char c) {
  switch (c) {
  case ' ':
  case '\t':
  case '\r':
  case '\n':
  case '\v':
  case '\f':
  case '{':
  case '}':
  case ';':
  case '"':
  case '#':
    return false;
  default:
    return true;
  }
}

struct kp_nft_token kp_nft_lex_next(struct kp_nft_lexer *lx) {
  struct kp_nft_token t = {KP_NFT_TOK_EOF, NULL, 0, lx->line};
  const char *b = lx->buf;
  for (;;) {
    if (lx->pos >= lx->len) {
      t.line = lx->line;
      t.p = b + lx->len;
      return t;
    }
    char c = b[lx->pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      lx->pos++;
      continue;
    }
    if (c == '#') {
      while (lx->pos < lx->len && b[lx->pos] != '\n')
        lx->pos++;
      continue;
    }
    break;
  }
  t.line = lx->line;
  t.p = b + lx->pos;
  char c = b[lx->pos];
  switch (c) {
  case '\n':
    t.type = KP_NFT_TOK_NL;
    t.n = 1;
    lx->pos++;
    lx->line++;
    return t;
  case '{':
    t.type = KP_NFT_TOK_LBRACE;
    t.n = 1;
    lx->pos++;
    return t;
  case '}':
    t.type = KP_NFT_TOK_RBRACE;
    t.n = 1;
    lx->pos++;
    return t;
  case ';':
    t.type = KP_NFT_TOK_SEMI;
    t.n = 1;
    lx->pos++;
    return t;
  case '"': {
    /* An unterminated string ends at the end of its line. */
    size_t start = ++lx->pos;
    while (lx->pos < lx->len && b[lx->pos] != '"' && b[lx->pos] != '\n') {
      if (b[lx->pos] == '\\' && lx->pos + 1 < lx->len && b[lx->pos + 1] != '\n')
        lx->pos++;
      lx->pos++;
    }
    t.type = KP_NFT_TOK_STRING;
    t.p = b + start;
    t.n = lx->pos - start;
    if (lx->pos < lx->len && b[lx->pos] == '"')
      lx->pos++;
    return t;
  }
  default:
    break;
  }
  size_t start = lx->pos;
  while (lx->pos < lx->len && is_word_char(b[lx->pos]))
    lx->pos++;
  t.type = KP_NFT_TOK_WORD;
  t.n = lx->pos - start;
  return t;
}

bool kp_nft_tok_is(const struct kp_nft_token *t, const char *word) {
  size_t n = strlen(word);
  return t->type == KP_NFT_TOK_WORD && t->n == n && memcmp(t->p, word, n) == 0;
}

/* Copies src[0..n) dropping the backslash of escapes when unescape is set. */
static size_t copy_text(char *out, size_t cap, const char *src, size_t n, bool unescape) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < cap; i++) {
    if (unescape && src[i] == '\\' && i + 1 < n)
      i++;
    out[o++] = src[i];
  }
  out[o] = '\0';
  return o;
}

size_t kp_nft_tok_copy(const struct kp_nft_token *t, char *out, size_t cap) {
  if (cap == 0)
    return 0;
  return copy_text(out, cap, t->p, t->n, t->type == KP_NFT_TOK_STRING);
}

char *kp_nft_tok_dup(struct kp_arena *arena, const struct kp_nft_token *t) {
  char *out = kp_arena_alloc(arena, t->n + 1);
  if (out != NULL)
    copy_text(out, t->n + 1, t->p, t->n, t->type == KP_NFT_TOK_STRING);
  return out;
}
