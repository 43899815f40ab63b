/* Decodes one nft rule (its statement tokens) into the kp_rule fields the
 * checks use: one handler per statement keyword (a table, as libnftnl keeps
 * its expression ops), the matches in dump_nft_match.c, the verdicts and
 * actions in dump_nft_verdict.c, the value helpers they share in
 * dump_nft_value.c. Statements it does not know are skipped and stay
 * visible in rule->text. */
#include "dump_nft_rule.h"

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
    {"mark", kp_nft_stmt_mark},
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
  /* A dump's rule always has its extension: the statements write into it. */
  if (kp_rule_ext_mut(snap, rule) == NULL)
    return -1;
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
