/* `nft list ruleset` / `nft list table|chain` text and `nft -f` scripts
 * (`add table ...`, `add rule ...`, as kube-proxy's nftables mode writes
 * them) into the snapshot. This file holds the top-level statement loop
 * and the bare `nft list chain` fragment; table and chain blocks are in
 * dump_nft_blocks.c, the token cursor in dump_nft_cursor.c, rule
 * statements in dump_nft_rule.c.
 *
 * Tables: family ip -> IPv4, ip6 -> IPv6, inet -> IPv4 (an inet table
 * serves both; the model has no dual-family table, and kube-proxy's own
 * tables are ip/ip6). arp/bridge/netdev tables are read and skipped.
 * filter/nat/mangle/raw/security are the iptables-nft tables; any other
 * name is a native nft table (native_nft=true). Backend is always nft.
 * Sets and maps are in dump_nft_sets.c, `nft -f` script commands in
 * dump_nft_script.c. */
#include "dump_nft_parser.h"

#include <stdlib.h>
#include <string.h>

/* Table for a bare "chain KUBE-SERVICES {" with no table around it (a
 * `nft list chain` fragment): nat when the content is NAT work, else
 * filter; IPv6 when it matches ip6 fields. Looks ahead without consuming. */
static struct kp_table *table_for_bare_chain(struct kp_nft_parser *p, const char *chain) {
  static const char *const nat_words[] = {"KUBE-SVC-",        "KUBE-SEP-",  "KUBE-EXT-",
                                          "KUBE-FW-",         "KUBE-XLB-",  "KUBE-MARK-MASQ",
                                          "KUBE-POSTROUTING", "PREROUTING", "POSTROUTING"};
  static const char *const nat_stmts[] = {"dnat", "snat", "masquerade", "redirect"};
  bool nat = false, v6 = false;
  struct kp_nft_lexer look = p->lx;
  size_t depth = 1;
  for (size_t k = 0; k < sizeof(nat_words) / sizeof(nat_words[0]); k++)
    nat = nat || strncmp(chain, nat_words[k], strlen(nat_words[k])) == 0;
  for (;;) {
    struct kp_nft_token t = kp_nft_lex_next(&look);
    if (t.type == KP_NFT_TOK_EOF || (t.type == KP_NFT_TOK_RBRACE && --depth == 0))
      break;
    if (t.type == KP_NFT_TOK_LBRACE)
      depth++;
    if (t.type != KP_NFT_TOK_WORD)
      continue;
    v6 = v6 || kp_nft_tok_is(&t, "ip6");
    for (size_t k = 0; k < sizeof(nat_words) / sizeof(nat_words[0]) && !nat; k++)
      nat = t.n >= strlen(nat_words[k]) && memcmp(t.p, nat_words[k], strlen(nat_words[k])) == 0;
    for (size_t k = 0; k < sizeof(nat_stmts) / sizeof(nat_stmts[0]) && !nat; k++)
      nat = kp_nft_tok_is(&t, nat_stmts[k]);
  }
  return kp_nftp_table_named(p, v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4, nat ? "nat" : "filter");
}

/* A second "table ip nat { ... }" block of the same table in one file:
 * two `nft list ruleset` outputs pasted one after the other (before and
 * after). Its own table, not rules added to the first (kp_dump_reconcile
 * keeps one). (An `nft -f` file may split a table in blocks; kube-proxy's
 * own scripts use `add` commands.) NULL on OOM. */
static struct kp_table *listed_again(struct kp_nft_parser *p, struct kp_table *table) {
  if (table == NULL)
    return NULL;
  bool again = false;
  for (size_t k = 0; k < p->n_listed; k++)
    again |= p->listed[k] == table;
  if (again) {
    const char *name = table->name;
    bool native = table->native_nft;
    table = kp_snapshot_source_table(p->snap, table->family, KP_BACKEND_NFT, "(again)", p->source);
    if (table == NULL || (table->name = kp_arena_strdup(&p->snap->arena, name)) == NULL)
      return kp_nftp_oom(p), NULL;
    table->native_nft = native;
  }
  if (p->n_listed < sizeof(p->listed) / sizeof(p->listed[0]))
    p->listed[p->n_listed++] = table;
  return table;
}

static int top_statement(struct kp_nft_parser *p, enum kp_nft_tok_type end) {
  size_t line = p->toks[0].line;
  static const char *const ignored[] = {"flush",    "delete",   "destroy", "list",
                                        "reset",    "rename",   "include", "define",
                                        "undefine", "redefine", "monitor", "describe"};
  if (kp_nftp_tok(p, 0, "table")) {
    size_t i = 1;
    struct kp_table *table = kp_nftp_table_from(p, &i);
    if (p->failed)
      return -1;
    if (end == KP_NFT_TOK_LBRACE)
      return (table = listed_again(p, table)) == NULL ? -1 : kp_nftp_table_body(p, table, line);
    return 0;
  }
  if (kp_nftp_tok(p, 0, "chain") && end == KP_NFT_TOK_LBRACE) {
    struct kp_table *table;
    size_t name_at = 1;
    if (p->ntoks >= 4) { /* "chain ip nat KUBE-SERVICES {" */
      size_t i = 1;
      table = kp_nftp_table_from(p, &i);
      name_at = i;
    } else {
      char name[512];
      kp_nft_tok_copy(&p->toks[1 < p->ntoks ? 1 : 0], name, sizeof(name));
      table = table_for_bare_chain(p, name);
      if (table != NULL && !table->partial &&
          kp_snapshot_add_note(p->snap, KP_NOTE_TABLE_GUESSED, p->source, line, table->name,
                               table->family, NULL) == NULL)
        return kp_nftp_oom(p);
    }
    /* `nft list chain`: a chain block outside its table is a fragment */
    if (table != NULL && !table->partial &&
        kp_snapshot_add_note(p->snap, KP_NOTE_FRAGMENT, p->source, line, table->name, table->family,
                             "nft list chain") == NULL)
      return kp_nftp_oom(p);
    if (table != NULL)
      table->partial = true;
    struct kp_chain *chain = p->failed ? NULL : kp_nftp_chain_from(p, table, name_at);
    return p->failed ? -1 : kp_nftp_chain_body(p, chain, line);
  }
  if (kp_nftp_tok(p, 0, "add") || kp_nftp_tok(p, 0, "create") || kp_nftp_tok(p, 0, "insert") ||
      kp_nftp_tok(p, 0, "replace"))
    return kp_nftp_command(p, end, line);
  for (size_t k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
    if (kp_nftp_tok(p, 0, ignored[k]))
      return kp_nftp_flush(p, end, line);
  char word[64];
  kp_nft_tok_copy(&p->toks[0], word, sizeof(word));
  return kp_nftp_fail(p, line, "unexpected '%s' (not nft syntax)", word);
}

/* A top-level statement that did not parse, on the last line and without
 * its newline ("chain KUBE-SVC-PUNXD" where a paste stops): cut there, what
 * came before is kept (every table it touched may miss more). */
static void cut_statement(struct kp_nft_parser *p, enum kp_nft_tok_type end, const char *buf,
                          size_t len) {
  size_t line = p->toks[0].line;
  if (end != KP_NFT_TOK_EOF || len == 0 || buf[len - 1] == '\n' ||
      memchr(p->toks[0].p, '\n', (size_t)(buf + len - p->toks[0].p)) != NULL ||
      strstr(p->err->message, "out of memory") != NULL || p->snap->tables.count == 0)
    return;
  p->failed = false;
  memset(p->err, 0, sizeof(*p->err));
  for (size_t i = 0; i < p->snap->tables.count; i++) {
    struct kp_table *t = p->snap->tables.items[i];
    if (t->source == p->source || (t->source != NULL && strcmp(t->source, p->source) == 0))
      t->partial = true;
  }
  if (kp_snapshot_add_note(p->snap, KP_NOTE_CUT, p->source, line, NULL, KP_FAMILY_IPV4,
                           "last line cut mid-statement") == NULL)
    kp_nftp_oom(p);
}

int kp_parse_nft(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                 struct kp_dump_error *err) {
  struct kp_dump_error scratch;
  struct kp_nft_parser p = {.snap = snap, .err = err != NULL ? err : &scratch};
  memset(p.err, 0, sizeof(*p.err));
  p.source = kp_arena_strdup(&snap->arena, source != NULL ? source : "-");
  if (p.source == NULL) {
    p.source = "-";
    return kp_nftp_oom(&p);
  }
  kp_nft_lex_init(&p.lx, buf, buf != NULL ? len : 0);
  for (;;) {
    p.ntoks = 0;
    enum kp_nft_tok_type end = kp_nftp_collect(&p, true, 0);
    if (p.failed)
      break;
    if (p.ntoks > 0 && top_statement(&p, end) != 0) {
      cut_statement(&p, end, buf, len);
      break;
    }
    if (end == KP_NFT_TOK_RBRACE)
      kp_nftp_next(&p); /* a stray '}': tolerated */
    else if (end == KP_NFT_TOK_EOF)
      break;
  }
  free(p.toks);
  return p.failed ? -1 : 0;
}
