/* The nft text parser's cursor over its token stream, shared by the
 * top-level loop (dump_nft.c), the table and chain blocks
 * (dump_nft_blocks.c), the sets (dump_nft_sets.c) and the script commands
 * (dump_nft_script.c): the one error setter, next token and push-back, one
 * statement's tokens, skipping a block, token tests and copies, the
 * optional family word, the note of an input cut short. It calls none of them, so none of them
 * closes a call loop through another. */
#include "dump_nft_parser.h"
#include "dump_parsers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int kp_nftp_fail(struct kp_nft_parser *p, size_t line, const char *fmt, ...) {
  if (p->failed)
    return -1;
  p->failed = true;
  va_list ap;
  va_start(ap, fmt);
  kp_dump_vfail(p->err, p->source, line, fmt, ap);
  va_end(ap);
  return -1;
}

int kp_nftp_oom(struct kp_nft_parser *p) {
  return kp_nftp_fail(p, 0, "out of memory");
}

struct kp_nft_token kp_nftp_next(struct kp_nft_parser *p) {
  if (p->has_pushed) {
    p->has_pushed = false;
    return p->pushed;
  }
  return kp_nft_lex_next(&p->lx);
}

static void push_back(struct kp_nft_parser *p, struct kp_nft_token t) {
  p->pushed = t;
  p->has_pushed = true;
}

int kp_nftp_store(struct kp_nft_parser *p, struct kp_nft_token t) {
  if (p->ntoks == p->cap) {
    if (p->cap >= KP_NFT_MAX_TOKENS)
      return 0; /* absurdly long statement: keep its head */
    size_t cap = p->cap ? p->cap * 2 : 256;
    struct kp_nft_token *toks = realloc(p->toks, cap * sizeof(*toks));
    if (toks == NULL)
      return -1;
    p->toks = toks;
    p->cap = cap;
  }
  p->toks[p->ntoks++] = t;
  return 0;
}

/* Appends the tokens of one statement to p->toks: up to a newline or ';'
 * outside braces, a '}' closing the enclosing block (pushed back), or, with
 * stop_at_lbrace, a '{' opening a block (consumed). depth > 0 continues
 * inside an already opened brace. Returns the terminating token type. */
enum kp_nft_tok_type kp_nftp_collect(struct kp_nft_parser *p, bool stop_at_lbrace, size_t depth) {
  for (;;) {
    struct kp_nft_token t = kp_nftp_next(p);
    switch (t.type) {
    case KP_NFT_TOK_EOF:
      p->open_at_eof = depth > 0;
      return KP_NFT_TOK_EOF;
    case KP_NFT_TOK_NL:
    case KP_NFT_TOK_SEMI:
      if (depth == 0)
        return KP_NFT_TOK_NL;
      continue;
    case KP_NFT_TOK_LBRACE:
      if (depth == 0 && stop_at_lbrace) {
        p->lbrace = t;
        return KP_NFT_TOK_LBRACE;
      }
      depth++;
      break;
    case KP_NFT_TOK_RBRACE:
      if (depth == 0) {
        push_back(p, t);
        return KP_NFT_TOK_RBRACE;
      }
      depth--;
      break;
    default:
      break;
    }
    if (kp_nftp_store(p, t) != 0)
      return kp_nftp_oom(p), KP_NFT_TOK_EOF;
  }
}

/* Consumes up to and including the '}' that closes an already opened block.
 * False at end of input. */
bool kp_nftp_skip_block(struct kp_nft_parser *p) {
  size_t depth = 1;
  for (;;) {
    struct kp_nft_token t = kp_nftp_next(p);
    if (t.type == KP_NFT_TOK_EOF)
      return false;
    if (t.type == KP_NFT_TOK_LBRACE)
      depth++;
    else if (t.type == KP_NFT_TOK_RBRACE && --depth == 0)
      return true;
  }
}

bool kp_nftp_tok(const struct kp_nft_parser *p, size_t i, const char *word) {
  return i < p->ntoks && kp_nft_tok_is(&p->toks[i], word);
}

char *kp_nftp_dup(struct kp_nft_parser *p, size_t i) {
  return kp_nft_tok_dup(&p->snap->arena, &p->toks[i]);
}

/* Optional family word at toks[*i]. Returns the family, or -1 for a family
 * the model does not hold (arp, bridge, netdev). */
int kp_nftp_take_family(struct kp_nft_parser *p, size_t *i) {
  /* "add table ip" alone names a table called "ip" in family ip. */
  int family;
  if (*i + 1 >= p->ntoks || p->toks[*i].type != KP_NFT_TOK_WORD ||
      kp_nft_family(p->toks[*i].p, p->toks[*i].n, &family) != 0)
    return KP_FAMILY_IPV4;
  (*i)++;
  return family;
}

int kp_nftp_cut_at_end(struct kp_nft_parser *p, struct kp_table *table, struct kp_chain *chain,
                       const char *block) {
  if (chain != NULL)
    chain->cut = true;
  if (table == NULL || table->partial)
    return 0;
  table->partial = true;
  char why[320];
  const char *inside = chain != NULL ? chain->name : block;
  snprintf(why, sizeof(why), "no closing brace for table %.100s%s%.100s", table->name,
           inside != NULL ? (chain != NULL ? ", chain " : ", ") : "", inside != NULL ? inside : "");
  /* the last line read: the lexer stands after its newline, if it had one */
  size_t line = p->lx.line;
  if (line > 1 && p->lx.len > 0 && p->lx.buf[p->lx.len - 1] == '\n')
    line--;
  if (kp_snapshot_add_note(p->snap, KP_NOTE_CUT, p->source, line, table->name, table->family,
                           why) == NULL)
    return kp_nftp_oom(p);
  return 0;
}

bool kp_nftp_is_gap(const struct kp_nft_parser *p) {
  return p->ntoks == 1 && (kp_nftp_tok(p, 0, "...") || kp_nftp_tok(p, 0, "--"));
}

int kp_nftp_gap(struct kp_nft_parser *p, struct kp_table *table, struct kp_chain *chain,
                size_t line) {
  if (chain != NULL)
    chain->cut = true;
  if (table == NULL || table->partial)
    return 0; /* (a fragment or cut table has its note) */
  table->partial = true;
  if (kp_snapshot_add_note(p->snap, KP_NOTE_FRAGMENT, p->source, line, table->name, table->family,
                           "lines left out (\"...\" or \"--\")") == NULL)
    return kp_nftp_oom(p);
  return 0;
}
