/* `nft list ruleset` / `nft list table|chain` text and `nft -f` scripts
 * (`add table ...`, `add rule ...`, as kube-proxy's nftables mode writes
 * them) into the snapshot. The structure (tables, chains, sets, maps,
 * script commands) is parsed here; rule statements in dump_nft_rule.c.
 *
 * Tables: family ip -> IPv4, ip6 -> IPv6, inet -> IPv4 (an inet table
 * serves both; the model has no dual-family table, and kube-proxy's own
 * tables are ip/ip6). arp/bridge/netdev tables are read and skipped.
 * filter/nat/mangle/raw/security are the iptables-nft tables; any other
 * name is a native nft table (native_nft=true). Backend is always nft.
 * Sets and maps are in dump_nft_sets.c, `nft -f` script commands in
 * dump_nft_script.c. */
#include "dump_nft_parser.h"
#include "dump_parsers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool kp_nft_is_iptables_table(const char *name) {
  static const char *const names[] = {"filter", "nat", "mangle", "raw", "security"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

int kp_nft_family(const char *word, size_t n, int *family) {
  static const struct {
    const char *word;
    int family;
  } families[] = {{"ip", KP_FAMILY_IPV4},   {"ip6", KP_FAMILY_IPV6},
                  {"inet", KP_FAMILY_IPV4}, {"arp", -1},
                  {"bridge", -1},           {"netdev", -1}};
  for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++)
    if (strlen(families[k].word) == n && memcmp(word, families[k].word, n) == 0) {
      *family = families[k].family;
      return 0;
    }
  return -1;
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

/* This file's table of that family and name; a table of the same name from
 * another file stays a separate table, for kp_dump_reconcile. */
static struct kp_table *get_table(struct kp_nft_parser *p, int family, const char *name) {
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
  return get_table(p, family, name);
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
  if (rule == NULL)
    return kp_nftp_oom(p);
  memmove(p->toks, p->toks + from, (p->ntoks - from) * sizeof(*p->toks));
  p->ntoks -= from;
  rule->source = p->source;
  rule->line = p->toks[0].line;
  if ((rule->text = statement_text(p)) == NULL ||
      kp_nft_parse_rule(p->snap, rule, p->toks, p->ntoks) != 0)
    return kp_nftp_oom(p);
  if (prepend && chain->rules.count > 1) {
    void **items = chain->rules.items;
    memmove(items + 1, items, (chain->rules.count - 1) * sizeof(void *));
    items[0] = rule;
    for (size_t k = 0; k < chain->rules.count; k++)
      ((struct kp_rule *)items[k])->index = k;
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
      if ((chain->hook = kp_nftp_dup(p, i + 1)) == NULL)
        return kp_nftp_oom(p);
    } else if (kp_nftp_tok(p, i, "policy")) {
      char *policy = kp_nftp_dup(p, i + 1);
      if (policy == NULL)
        return kp_nftp_oom(p);
      upper(policy);
      chain->policy = policy;
    }
  }
  return 0;
}

/* The input ends inside a table's block (a paste cut short): what came
 * before is kept, the table is partial, one note names the file and the
 * last line; the chain being read, if any, is cut. */
static int cut_at_end(struct kp_nft_parser *p, struct kp_table *table, struct kp_chain *chain) {
  if (chain != NULL)
    chain->cut = true;
  if (table == NULL || table->partial)
    return 0;
  table->partial = true;
  char why[320];
  snprintf(why, sizeof(why), "no closing brace for table %.100s%s%.100s", table->name,
           chain != NULL ? ", chain " : "", chain != NULL ? chain->name : "");
  if (kp_snapshot_add_note(p->snap, KP_NOTE_CUT, p->source, p->lx.line, table->name, table->family,
                           why) == NULL)
    return kp_nftp_oom(p);
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
      return cut_at_end(p, chain != NULL ? chain->table : NULL, chain);
    if (p->ntoks > 0) {
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
      } else if (!kp_nftp_skip_block(p)) {
        rc = kp_nftp_fail(p, line, "unexpected end of input: block opened here is not closed");
      }
      if (rc != 0)
        return -1;
      continue;
    }
    if (end == KP_NFT_TOK_RBRACE) {
      kp_nftp_next(p);
      return 0;
    }
    if (end == KP_NFT_TOK_EOF)
      return cut_at_end(p, table, NULL);
  }
}

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
  return get_table(p, v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4, nat ? "nat" : "filter");
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
      return kp_nftp_table_body(p, table, line);
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
    if (p.ntoks > 0 && top_statement(&p, end) != 0)
      break;
    if (end == KP_NFT_TOK_RBRACE)
      kp_nftp_next(&p); /* a stray '}': tolerated */
    else if (end == KP_NFT_TOK_EOF)
      break;
  }
  free(p.toks);
  return p.failed ? -1 : 0;
}
