/* `nft -f` script commands, as kube-proxy's nftables mode writes them:
 * "add|create|insert|replace OBJECT ...", "flush chain ...". */
#include "dump_nft_parser.h"

#include <string.h>

/* "add|create|insert|replace OBJECT ..." script commands. */
int kp_nftp_command(struct kp_nft_parser *p, enum kp_nft_tok_type end, size_t line) {
  size_t i = 2;
  bool insert = kp_nftp_tok(p, 0, "insert");
  if (kp_nftp_tok(p, 1, "table")) {
    struct kp_table *table = kp_nftp_table_from(p, &i);
    if (p->failed)
      return -1;
    return end == KP_NFT_TOK_LBRACE ? kp_nftp_table_body(p, table, line) : 0;
  }
  if (kp_nftp_tok(p, 1, "chain")) {
    struct kp_table *table = kp_nftp_table_from(p, &i);
    struct kp_chain *chain = p->failed ? NULL : kp_nftp_chain_from(p, table, i);
    if (p->failed)
      return -1;
    return end == KP_NFT_TOK_LBRACE ? kp_nftp_chain_body(p, chain, line) : 0;
  }
  if (kp_nftp_tok(p, 1, "set") || kp_nftp_tok(p, 1, "map")) {
    bool is_map = kp_nftp_tok(p, 1, "map");
    struct kp_table *table = kp_nftp_table_from(p, &i);
    struct kp_set *set = p->failed ? NULL : kp_nftp_set_from(p, table, i, is_map);
    if (p->failed)
      return -1;
    return end == KP_NFT_TOK_LBRACE ? kp_nftp_set_body(p, set, line) : 0;
  }
  if (kp_nftp_tok(p, 1, "element")) {
    struct kp_table *table = kp_nftp_table_from(p, &i);
    struct kp_set *set = p->failed ? NULL : kp_nftp_set_from(p, table, i, false);
    if (p->failed || end != KP_NFT_TOK_LBRACE)
      return p->failed ? -1 : 0;
    p->ntoks = 0;
    if (kp_nftp_collect(p, false, 1) == KP_NFT_TOK_EOF && p->open_at_eof && !p->failed)
      return kp_nftp_fail(p, line,
                          "unexpected end of input: element block opened here is not closed");
    size_t b = p->ntoks;
    if (b > 0 && p->toks[b - 1].type == KP_NFT_TOK_RBRACE)
      b--;
    return p->failed || set == NULL ? (p->failed ? -1 : 0) : kp_nftp_elements(p, set, 0, b);
  }
  if (kp_nftp_tok(p, 1, "rule") && !kp_nftp_tok(p, 0, "replace")) {
    if (end == KP_NFT_TOK_LBRACE) { /* the rule goes on: "... vmap { ... }" */
      if (kp_nftp_store(p, p->lbrace) != 0)
        return kp_nftp_oom(p);
      kp_nftp_collect(p, false, 1);
      if (p->failed)
        return -1;
      if (p->open_at_eof)
        return kp_nftp_fail(p, line,
                            "unexpected end of input: rule block opened here is not closed");
    }
    struct kp_table *table = kp_nftp_table_from(p, &i);
    struct kp_chain *chain = p->failed ? NULL : kp_nftp_chain_from(p, table, i++);
    if (p->failed)
      return -1;
    while ((kp_nftp_tok(p, i, "position") || kp_nftp_tok(p, i, "index") ||
            kp_nftp_tok(p, i, "handle")) &&
           i + 1 < p->ntoks)
      i += 2;
    return kp_nftp_add_rule(p, chain, i, insert);
  }
  if (end == KP_NFT_TOK_LBRACE && !kp_nftp_skip_block(p)) /* counter, quota, flowtable, ... */
    return kp_nftp_fail(p, line, "unexpected end of input: block opened here is not closed");
  return 0;
}

/* "flush chain ip t c": the chain is about to be refilled. Other flush and
 * delete commands are accepted and ignored. */
int kp_nftp_flush(struct kp_nft_parser *p, enum kp_nft_tok_type end, size_t line) {
  if (kp_nftp_tok(p, 0, "flush") && kp_nftp_tok(p, 1, "chain")) {
    size_t i = 2;
    int family = kp_nftp_take_family(p, &i);
    if (i + 1 < p->ntoks && family >= 0) {
      char name[512];
      kp_nft_tok_copy(&p->toks[i], name, sizeof(name));
      for (size_t k = 0; k < p->snap->tables.count; k++) {
        struct kp_table *t = p->snap->tables.items[k];
        if ((int)t->family != family || t->source != p->source || strcmp(t->name, name) != 0)
          continue;
        kp_nft_tok_copy(&p->toks[i + 1], name, sizeof(name));
        struct kp_chain *chain = kp_table_chain(t, name);
        if (chain != NULL)
          chain->rules.count = 0;
        break;
      }
    }
  }
  if (end == KP_NFT_TOK_LBRACE && !kp_nftp_skip_block(p))
    return kp_nftp_fail(p, line, "unexpected end of input: block opened here is not closed");
  return 0;
}
