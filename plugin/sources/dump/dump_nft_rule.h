/* Private to the nft rule decoder (dump_nft_rule.c, dump_nft_match.c,
 * dump_nft_verdict.c, dump_nft_value.c): the cursor over one rule's tokens,
 * the value helpers, and one handler per statement keyword. Each handler starts at
 * c->t[c->i] (the keyword), fills c->rule and moves c->i past what it
 * read; 0, or -1 on OOM. */
#ifndef KP_DUMP_NFT_RULE_H
#define KP_DUMP_NFT_RULE_H

#include "dump_nft_internal.h"

#include <stdint.h>

struct kp_nft_rule_cursor {
  struct kp_snapshot *snap;
  struct kp_rule *rule;
  const struct kp_nft_token *t;
  size_t n;
  size_t i;
};

static inline bool kp_nft_at(const struct kp_nft_rule_cursor *c, size_t i, const char *word) {
  return i < c->n && kp_nft_tok_is(&c->t[i], word);
}

static inline bool kp_nft_is_word(const struct kp_nft_rule_cursor *c, size_t i) {
  return i < c->n && (c->t[i].type == KP_NFT_TOK_WORD || c->t[i].type == KP_NFT_TOK_STRING);
}

/* dump_nft_value.c */
/* Index just past the brace block opening at i. */
size_t kp_nft_skip_block(const struct kp_nft_rule_cursor *c, size_t i);
/* A value position: skips "==", notes "!=". False when what follows is not
 * a value (a concatenation "." or a map lookup). */
bool kp_nft_value_start(const struct kp_nft_rule_cursor *c, size_t *i, bool *negated);
/* The single element of "{ x }", or the word itself, into out; advances
 * past the value. False for several elements, a named set or a
 * concatenation. */
bool kp_nft_single_value(const struct kp_nft_rule_cursor *c, size_t *i, char *out, size_t cap);
/* Arena copy of token i without a trailing ','. 0, or -1 on OOM. */
int kp_nft_dup_word(struct kp_nft_rule_cursor *c, size_t i, const char **out);
/* Arena copy in upper case, "!" first when negated. NULL on OOM. */
char *kp_nft_upper_dup(struct kp_arena *arena, const char *s, bool negated);
bool kp_nft_parse_u32(const char *s, uint32_t *out);
/* "80" or "80-90". */
bool kp_nft_parse_ports(const char *s, struct kp_port_range *out);
/* Protocol by nft's name or number; unknown names leave the rule as is. */
void kp_nft_set_proto(struct kp_nft_rule_cursor *c, const char *name, bool negated);

/* dump_nft_match.c */
int kp_nft_stmt_ip(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_l4(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_mark(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_meta(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_ifname(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_ct(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_fib(struct kp_nft_rule_cursor *c);
/* dump_nft_verdict.c */
int kp_nft_stmt_counter(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_vmap(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_xt(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_simple_verdict(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_jump(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_reject(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_masquerade(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_random_fully(struct kp_nft_rule_cursor *c);
int kp_nft_stmt_nat(struct kp_nft_rule_cursor *c);

#endif
