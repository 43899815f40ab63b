/* nft table and chain blocks: "table ip X { ... }" (its chains, sets and
 * maps), "chain X { ... }" (type/hook/policy and rules), the tables and
 * chains named by statements, and the rules added to them (statements
 * decoded in dump_nft_rule.c). Used by the top-level loop (dump_nft.c) and
 * the script commands (dump_nft_script.c). */
#include "dump_nft_parser.h"

#include <string.h>

/* This file's table of that family and name; a table of the same name from
 * another file stays a separate table, for kp_dump_reconcile. */
struct kp_table *kp_nftp_table_named(struct kp_nft_parser *p, int family, const char *name) {
  if (family < 0 || name == NULL)
    return NULL;
  struct kp_table *t =
      kp_snapshot_source_table(p->snap, (enum kp_family)family, KP_BACKEND_NFT, name, p->source);
  if (t == NULL)
    return kp_nftp_oom(p), NULL;
  t->native_nft = !kp_nft_is_iptables_table(name);
  return t;
}

struct kp_table *kp_nftp_table_from(struct kp_nft_parser *p, size_t *i) {
  int family = kp_nftp_take_family(p, i);
  if (*i >= p->ntoks)
    return NULL;
  char *name = kp_nftp_dup(p, (*i)++);
  if (name == NULL)
    return kp_nftp_oom(p), NULL;
  return kp_nftp_table_named(p, family, name);
}

struct kp_chain *kp_nftp_chain_from(struct kp_nft_parser *p, struct kp_table *table, size_t i) {
  if (table == NULL || i >= p->ntoks)
    return NULL;
  char name[512];
  kp_nft_tok_copy(&p->toks[i], name, sizeof(name));
  struct kp_chain *chain = kp_table_add_chain(p->snap, table, name);
  if (chain == NULL)
    kp_nftp_oom(p);
  return chain;
}

static void upper(char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z')
      *s = (char)(*s - 'a' + 'A');
}

/* The raw text of toks[0..n), newlines and tabs turned into spaces. */
static char *statement_text(struct kp_nft_parser *p) {
  const struct kp_nft_token *first = &p->toks[0], *last = &p->toks[p->ntoks - 1];
  const char *start = first->type == KP_NFT_TOK_STRING ? first->p - 1 : first->p;
  const char *end = last->p + last->n;
  if (last->type == KP_NFT_TOK_STRING && end < p->lx.buf + p->lx.len && *end == '"')
    end++;
  char *text = kp_arena_strndup(&p->snap->arena, start, (size_t)(end - start));
  if (text != NULL)
    for (char *c = text; *c; c++)
      if (*c == '\n' || *c == '\t' || *c == '\r')
        *c = ' ';
  return text;
}

/* A rule made of toks[from..ntoks). prepend: "insert rule". */
int kp_nftp_add_rule(struct kp_nft_parser *p, struct kp_chain *chain, size_t from, bool prepend) {
  if (chain == NULL || from >= p->ntoks)
    return 0;
  struct kp_rule *rule = kp_chain_add_rule(p->snap, chain);
  struct kp_rule_ext *ext = rule != NULL ? kp_rule_ext_mut(p->snap, rule) : NULL;
  if (ext == NULL)
    return kp_nftp_oom(p);
  memmove(p->toks, p->toks + from, (p->ntoks - from) * sizeof(*p->toks));
  p->ntoks -= from;
  ext->source = p->source;
  ext->line = p->toks[0].line;
  if ((ext->text = statement_text(p)) == NULL ||
      kp_nft_parse_rule(p->snap, rule, p->toks, p->ntoks) != 0)
    return kp_nftp_oom(p);
  if (prepend && chain->rules.count > 1) {
    void **items = chain->rules.items;
    memmove(items + 1, items, (chain->rules.count - 1) * sizeof(void *));
    items[0] = rule;
    for (size_t k = 0; k < chain->rules.count; k++)
      ((struct kp_rule *)items[k])->index = (uint32_t)k;
  }
  return 0;
}

/* "type nat hook prerouting priority dstnat" / "policy accept". */
static int chain_property(struct kp_nft_parser *p, struct kp_chain *chain) {
  if (chain == NULL)
    return 0;
  for (size_t i = 0; i + 1 < p->ntoks; i++) {
    if (kp_nftp_tok(p, i, "hook")) {
      chain->builtin = true;
      struct kp_chain_ext *cx = kp_chain_ext_mut(p->snap, chain);
      if (cx == NULL || (cx->hook = kp_nftp_dup(p, i + 1)) == NULL)
        return kp_nftp_oom(p);
    } else if (kp_nftp_tok(p, i, "policy")) {
      char *policy = kp_nftp_dup(p, i + 1);
      if (policy == NULL)
        return kp_nftp_oom(p);
      upper(policy);
      struct kp_chain_ext *cx = kp_chain_ext_mut(p->snap, chain);
      if (cx == NULL)
        return kp_nftp_oom(p);
      cx->policy = policy;
    }
  }
  return 0;
}

/* Inside "chain X { ... }" after the '{'. */
int kp_nftp_chain_body(struct kp_nft_parser *p, struct kp_chain *chain, size_t open_line) {
  (void)open_line;
  for (;;) {
    p->ntoks = 0;
    enum kp_nft_tok_type end = kp_nftp_collect(p, false, 0);
    if (p->failed)
      return -1;
    if (end == KP_NFT_TOK_EOF) /* a last line without its newline is half a rule */
      return kp_nftp_cut_at_end(p, chain != NULL ? chain->table : NULL, chain, NULL);
    if (p->ntoks > 0 && kp_nftp_is_gap(p)) {
      if (kp_nftp_gap(p, chain != NULL ? chain->table : NULL, chain, p->toks[0].line) != 0)
        return -1;
    } else if (p->ntoks > 0) {
      if (kp_nftp_tok(p, 0, "type") || kp_nftp_tok(p, 0, "policy")) {
        if (chain_property(p, chain) != 0)
          return -1;
      } else if (!kp_nftp_tok(p, 0, "comment") && !kp_nftp_tok(p, 0, "devices") &&
                 !kp_nftp_tok(p, 0, "device")) {
        if (kp_nftp_add_rule(p, chain, 0, false) != 0)
          return -1;
      }
    }
    if (end == KP_NFT_TOK_RBRACE) {
      kp_nftp_next(p);
      return 0;
    }
  }
}

/* Inside "table ip X { ... }" after the '{'. */
int kp_nftp_table_body(struct kp_nft_parser *p, struct kp_table *table, size_t open_line) {
  (void)open_line;
  for (;;) {
    p->ntoks = 0;
    enum kp_nft_tok_type end = kp_nftp_collect(p, true, 0);
    if (p->failed)
      return -1;
    size_t line = p->ntoks ? p->toks[0].line : p->lx.line;
    if (end == KP_NFT_TOK_LBRACE) {
      int rc = 0;
      if (kp_nftp_tok(p, 0, "chain") && p->ntoks >= 2) {
        struct kp_chain *chain = kp_nftp_chain_from(p, table, 1);
        rc = p->failed ? -1 : kp_nftp_chain_body(p, chain, line);
      } else if ((kp_nftp_tok(p, 0, "set") || kp_nftp_tok(p, 0, "map")) && p->ntoks >= 2) {
        struct kp_set *set = kp_nftp_set_from(p, table, 1, kp_nftp_tok(p, 0, "map"));
        rc = p->failed ? -1 : kp_nftp_set_body(p, set, line);
      } else if (!kp_nftp_skip_block(p)) { /* a flowtable, counter, ... cut short */
        return p->failed ? -1 : kp_nftp_cut_at_end(p, table, NULL, "inside a block");
      }
      if (rc != 0)
        return -1;
      continue;
    }
    if (kp_nftp_is_gap(p) && kp_nftp_gap(p, table, NULL, line) != 0)
      return -1;
    if (end == KP_NFT_TOK_RBRACE) {
      kp_nftp_next(p);
      return 0;
    }
    if (end == KP_NFT_TOK_EOF)
      return kp_nftp_cut_at_end(p, table, NULL, NULL);
  }
}
