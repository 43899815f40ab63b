/* Decodes one nft rule (its statement tokens) into the kp_rule fields the
 * checks use: one handler per statement keyword (a table, as libnftnl keeps
 * its expression ops), the matches in dump_nft_match.c, the verdicts and
 * actions in dump_nft_verdict.c. Statements it does not know are skipped
 * and stay visible in rule->text. */
#include "dump_nft_rule.h"

#include "kp/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Index just past the brace block opening at i. */
size_t kp_nft_skip_block(const struct kp_nft_rule_cursor *c, size_t i) {
  size_t depth = 0;
  for (; i < c->n; i++) {
    if (c->t[i].type == KP_NFT_TOK_LBRACE)
      depth++;
    else if (c->t[i].type == KP_NFT_TOK_RBRACE && depth > 0 && --depth == 0)
      return i + 1;
  }
  return c->n;
}

/* A value position: skips "==", notes "!=". Returns false when what follows
 * is not a value (a concatenation "." or a map lookup). */
bool kp_nft_value_start(const struct kp_nft_rule_cursor *c, size_t *i, bool *negated) {
  *negated = false;
  if (kp_nft_at(c, *i, "==")) {
    (*i)++;
  } else if (kp_nft_at(c, *i, "!=")) {
    *negated = true;
    (*i)++;
  }
  if (*i >= c->n)
    return false;
  if (c->t[*i].type == KP_NFT_TOK_LBRACE)
    return true;
  return kp_nft_is_word(c, *i) && !kp_nft_at(c, *i, ".") && !kp_nft_at(c, *i, "vmap") &&
         !kp_nft_at(c, *i, "map");
}

/* The single element of "{ x }", or the word itself. Advances past the
 * value. False for a set of several elements, a named set or a concatenation. */
bool kp_nft_single_value(const struct kp_nft_rule_cursor *c, size_t *i, char *out, size_t cap) {
  bool ok = false;
  if (c->t[*i].type == KP_NFT_TOK_LBRACE) {
    size_t end = kp_nft_skip_block(c, *i);
    if (end == *i + 3 && kp_nft_is_word(c, *i + 1)) {
      kp_nft_tok_copy(&c->t[*i + 1], out, cap);
      ok = true;
    }
    *i = end;
  } else {
    kp_nft_tok_copy(&c->t[*i], out, cap);
    ok = out[0] != '@';
    (*i)++;
  }
  if (*i < c->n && kp_nft_at(c, *i, "."))
    ok = false; /* part of a concatenation */
  size_t len = strlen(out);
  if (len > 0 && out[len - 1] == ',')
    out[len - 1] = '\0';
  return ok;
}

int kp_nft_dup_word(struct kp_nft_rule_cursor *c, size_t i, const char **out) {
  char *s = kp_nft_tok_dup(&c->snap->arena, &c->t[i]);
  if (s == NULL)
    return -1;
  size_t len = strlen(s);
  if (len > 0 && s[len - 1] == ',')
    s[len - 1] = '\0';
  *out = s;
  return 0;
}

char *kp_nft_upper_dup(struct kp_arena *arena, const char *s, bool negated) {
  size_t len = strlen(s);
  char *out = kp_arena_alloc(arena, len + 2);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  if (negated)
    out[o++] = '!';
  for (size_t k = 0; k < len; k++)
    out[o++] = (char)toupper((unsigned char)s[k]);
  return out;
}

bool kp_nft_parse_u32(const char *s, uint32_t *out) {
  char *end;
  if (*s == '\0')
    return false;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end != '\0' || v > 0xffffffffULL)
    return false;
  *out = (uint32_t)v;
  return true;
}

bool kp_nft_parse_ports(const char *s, struct kp_port_range *out) {
  char *end;
  unsigned long lo = strtoul(s, &end, 10);
  unsigned long hi = lo;
  if (end == s || lo > 65535)
    return false;
  if (*end == '-') {
    const char *h = end + 1;
    hi = strtoul(h, &end, 10);
    if (end == h || hi > 65535 || hi < lo)
      return false;
  }
  if (*end != '\0')
    return false;
  out->present = true;
  out->lo = (uint16_t)lo;
  out->hi = (uint16_t)hi;
  return true;
}

void kp_nft_set_proto(struct kp_nft_rule_cursor *c, const char *name, bool negated) {
  int proto = kp_proto_from_nft_name(name, strlen(name));
  if (proto < 0)
    return;
  c->rule->proto_present = true;
  c->rule->proto_negated = negated;
  c->rule->proto = (uint8_t)proto;
}

static int stmt_mark(struct kp_nft_rule_cursor *c) {
  c->i = kp_nft_parse_mark(c, c->i);
  return 0;
}

static int stmt_comment(struct kp_nft_rule_cursor *c) {
  if (c->i + 1 >= c->n) {
    c->i++;
    return 0;
  }
  int rc = kp_nft_dup_word(c, c->i + 1, &c->rule->comment);
  c->i += 2;
  return rc;
}

static const struct {
  const char *keyword;
  int (*parse)(struct kp_nft_rule_cursor *c);
} statements[] = {
    {"counter", kp_nft_stmt_counter},
    {"ip", kp_nft_stmt_ip},
    {"ip6", kp_nft_stmt_ip},
    {"tcp", kp_nft_stmt_l4},
    {"udp", kp_nft_stmt_l4},
    {"sctp", kp_nft_stmt_l4},
    {"th", kp_nft_stmt_l4},
    {"meta", kp_nft_stmt_meta},
    {"mark", stmt_mark},
    {"iifname", kp_nft_stmt_ifname},
    {"oifname", kp_nft_stmt_ifname},
    {"ct", kp_nft_stmt_ct},
    {"fib", kp_nft_stmt_fib},
    {"vmap", kp_nft_stmt_vmap},
    {"xt", kp_nft_stmt_xt},
    {"comment", stmt_comment},
    {"accept", kp_nft_stmt_simple_verdict},
    {"drop", kp_nft_stmt_simple_verdict},
    {"return", kp_nft_stmt_simple_verdict},
    {"jump", kp_nft_stmt_jump},
    {"goto", kp_nft_stmt_jump},
    {"reject", kp_nft_stmt_reject},
    {"masquerade", kp_nft_stmt_masquerade},
    {"fully-random", kp_nft_stmt_random_fully},
    {"random-fully", kp_nft_stmt_random_fully},
    {"dnat", kp_nft_stmt_nat},
    {"snat", kp_nft_stmt_nat},
};

int kp_nft_parse_rule(struct kp_snapshot *snap, struct kp_rule *rule,
                      const struct kp_nft_token *toks, size_t n) {
  struct kp_nft_rule_cursor c = {snap, rule, toks, n, 0};
  while (c.i < c.n) {
    const struct kp_nft_token *k = &c.t[c.i];
    size_t before = c.i;
    int rc = 0;
    if (k->type == KP_NFT_TOK_LBRACE) {
      c.i = kp_nft_skip_block(&c, c.i);
    } else if (k->type != KP_NFT_TOK_WORD) {
      c.i++;
    } else {
      size_t s = 0;
      while (s < sizeof(statements) / sizeof(statements[0]) &&
             !kp_nft_tok_is(k, statements[s].keyword))
        s++;
      if (s < sizeof(statements) / sizeof(statements[0]))
        rc = statements[s].parse(&c);
      else
        c.i++; /* a statement this decoder does not need */
    }
    if (rc < 0)
      return -1;
    if (c.i <= before)
      c.i = before + 1; /* always progress, whatever the input */
  }
  return 0;
}
