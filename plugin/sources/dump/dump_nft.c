/* `nft list ruleset` / `nft list table|chain` text and `nft -f` scripts
 * (`add table ...`, `add rule ...`, as kube-proxy's nftables mode writes
 * them) into the snapshot. The structure (tables, chains, sets, maps,
 * script commands) is parsed here; rule statements in dump_nft_rule.c.
 *
 * Tables: family ip -> IPv4, ip6 -> IPv6, inet -> IPv4 (an inet table
 * serves both; the model has no dual-family table, and kube-proxy's own
 * tables are ip/ip6). arp/bridge/netdev tables are read and skipped.
 * filter/nat/mangle/raw/security are the iptables-nft tables; any other
 * name is a native nft table (native_nft=true). Backend is always nft. */
#include "dump_nft_internal.h"
#include "dump_parsers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFT_MAX_TOKENS ((size_t)1 << 20) /* per statement; the rest is skipped */

struct nft_parser {
  struct kp_snapshot *snap;
  const char *source; /* arena copy, also the identity of "this file" */
  struct kp_dump_error *err;
  struct nft_lexer lx;
  struct nft_token pushed;
  bool has_pushed;
  struct nft_token *toks; /* the current statement */
  size_t ntoks, cap;
  struct nft_token lbrace; /* the '{' that ended the last collect() */
  bool open_at_eof;        /* collect() hit the end inside braces */
  bool failed;
};

static int fail(struct nft_parser *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct nft_parser *p, size_t line, const char *fmt, ...) {
  if (p->failed)
    return -1;
  p->failed = true;
  snprintf(p->err->file, sizeof(p->err->file), "%s", p->source);
  p->err->line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
  va_end(ap);
  return -1;
}

static int oom(struct nft_parser *p) {
  return fail(p, 0, "out of memory");
}

static struct nft_token next_tok(struct nft_parser *p) {
  if (p->has_pushed) {
    p->has_pushed = false;
    return p->pushed;
  }
  return nft_lex_next(&p->lx);
}

static void push_back(struct nft_parser *p, struct nft_token t) {
  p->pushed = t;
  p->has_pushed = true;
}

static int store(struct nft_parser *p, struct nft_token t) {
  if (p->ntoks == p->cap) {
    if (p->cap >= NFT_MAX_TOKENS)
      return 0; /* absurdly long statement: keep its head */
    size_t cap = p->cap ? p->cap * 2 : 256;
    struct nft_token *toks = realloc(p->toks, cap * sizeof(*toks));
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
static enum nft_tok_type collect(struct nft_parser *p, bool stop_at_lbrace, size_t depth) {
  for (;;) {
    struct nft_token t = next_tok(p);
    switch (t.type) {
    case NFT_EOF:
      p->open_at_eof = depth > 0;
      return NFT_EOF;
    case NFT_NL:
    case NFT_SEMI:
      if (depth == 0)
        return NFT_NL;
      continue;
    case NFT_LBRACE:
      if (depth == 0 && stop_at_lbrace) {
        p->lbrace = t;
        return NFT_LBRACE;
      }
      depth++;
      break;
    case NFT_RBRACE:
      if (depth == 0) {
        push_back(p, t);
        return NFT_RBRACE;
      }
      depth--;
      break;
    default:
      break;
    }
    if (store(p, t) != 0)
      return oom(p), NFT_EOF;
  }
}

/* Consumes up to and including the '}' that closes an already opened block.
 * False at end of input. */
static bool skip_block(struct nft_parser *p) {
  size_t depth = 1;
  for (;;) {
    struct nft_token t = next_tok(p);
    if (t.type == NFT_EOF)
      return false;
    if (t.type == NFT_LBRACE)
      depth++;
    else if (t.type == NFT_RBRACE && --depth == 0)
      return true;
  }
}

static bool tok(const struct nft_parser *p, size_t i, const char *word) {
  return i < p->ntoks && nft_tok_is(&p->toks[i], word);
}

static char *dup_tok(struct nft_parser *p, size_t i) {
  return nft_tok_dup(&p->snap->arena, &p->toks[i]);
}

static bool is_iptables_table(const char *name) {
  static const char *const names[] = {"filter", "nat", "mangle", "raw", "security"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

/* Optional family word at toks[*i]. Returns the family, or -1 for a family
 * the model does not hold (arp, bridge, netdev). */
static int take_family(struct nft_parser *p, size_t *i) {
  static const struct {
    const char *word;
    int family;
  } families[] = {{"ip", KP_FAMILY_IPV4},   {"ip6", KP_FAMILY_IPV6},
                  {"inet", KP_FAMILY_IPV4}, {"arp", -1},
                  {"bridge", -1},           {"netdev", -1}};
  /* "add table ip" alone names a table called "ip" in family ip. */
  if (*i + 1 >= p->ntoks)
    return KP_FAMILY_IPV4;
  for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
    if (tok(p, *i, families[k].word)) {
      (*i)++;
      return families[k].family;
    }
  }
  return KP_FAMILY_IPV4;
}

/* This file's table of that family and name; a table of the same name from
 * another file stays a separate table, for kp_dump_reconcile. */
static struct kp_table *get_table(struct nft_parser *p, int family, const char *name) {
  if (family < 0 || name == NULL)
    return NULL;
  struct kp_table *t =
      kp_snapshot_source_table(p->snap, (enum kp_family)family, KP_BACKEND_NFT, name, p->source);
  if (t == NULL)
    return oom(p), NULL;
  t->native_nft = !is_iptables_table(name);
  return t;
}

static struct kp_table *table_from(struct nft_parser *p, size_t *i) {
  int family = take_family(p, i);
  if (*i >= p->ntoks)
    return NULL;
  char *name = dup_tok(p, (*i)++);
  if (name == NULL)
    return oom(p), NULL;
  return get_table(p, family, name);
}

static struct kp_chain *chain_from(struct nft_parser *p, struct kp_table *table, size_t i) {
  if (table == NULL || i >= p->ntoks)
    return NULL;
  char name[512];
  nft_tok_copy(&p->toks[i], name, sizeof(name));
  struct kp_chain *chain = kp_table_add_chain(p->snap, table, name);
  if (chain == NULL)
    oom(p);
  return chain;
}

static void upper(char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z')
      *s = (char)(*s - 'a' + 'A');
}

/* The raw text of toks[0..n), newlines and tabs turned into spaces. */
static char *statement_text(struct nft_parser *p) {
  const struct nft_token *first = &p->toks[0], *last = &p->toks[p->ntoks - 1];
  const char *start = first->type == NFT_STRING ? first->p - 1 : first->p;
  const char *end = last->p + last->n;
  if (last->type == NFT_STRING && end < p->lx.buf + p->lx.len && *end == '"')
    end++;
  char *text = kp_arena_strndup(&p->snap->arena, start, (size_t)(end - start));
  if (text != NULL)
    for (char *c = text; *c; c++)
      if (*c == '\n' || *c == '\t' || *c == '\r')
        *c = ' ';
  return text;
}

/* A rule made of toks[from..ntoks). prepend: "insert rule". */
static int add_rule(struct nft_parser *p, struct kp_chain *chain, size_t from, bool prepend) {
  if (chain == NULL || from >= p->ntoks)
    return 0;
  struct kp_rule *rule = kp_chain_add_rule(p->snap, chain);
  if (rule == NULL)
    return oom(p);
  memmove(p->toks, p->toks + from, (p->ntoks - from) * sizeof(*p->toks));
  p->ntoks -= from;
  rule->source = p->source;
  rule->line = p->toks[0].line;
  if ((rule->text = statement_text(p)) == NULL ||
      nft_parse_rule(p->snap, rule, p->toks, p->ntoks) != 0)
    return oom(p);
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
static int chain_property(struct nft_parser *p, struct kp_chain *chain) {
  if (chain == NULL)
    return 0;
  for (size_t i = 0; i + 1 < p->ntoks; i++) {
    if (tok(p, i, "hook")) {
      chain->builtin = true;
      if ((chain->hook = dup_tok(p, i + 1)) == NULL)
        return oom(p);
    } else if (tok(p, i, "policy")) {
      char *policy = dup_tok(p, i + 1);
      if (policy == NULL)
        return oom(p);
      upper(policy);
      chain->policy = policy;
    }
  }
  return 0;
}

/* Inside "chain X { ... }" after the '{'. */
static int chain_body(struct nft_parser *p, struct kp_chain *chain, size_t open_line) {
  for (;;) {
    p->ntoks = 0;
    enum nft_tok_type end = collect(p, false, 0);
    if (p->failed)
      return -1;
    if (p->ntoks > 0) {
      if (tok(p, 0, "type") || tok(p, 0, "policy")) {
        if (chain_property(p, chain) != 0)
          return -1;
      } else if (!tok(p, 0, "comment") && !tok(p, 0, "devices") && !tok(p, 0, "device")) {
        if (add_rule(p, chain, 0, false) != 0)
          return -1;
      }
    }
    if (end == NFT_RBRACE) {
      next_tok(p);
      return 0;
    }
    if (end == NFT_EOF)
      return fail(p, open_line, "unexpected end of input: chain block opened here is not closed");
  }
}

/* Joins toks[a..b) with single spaces, a trailing ',' of the last dropped. */
static char *join(struct nft_parser *p, size_t a, size_t b) {
  size_t len = 0;
  for (size_t i = a; i < b; i++)
    len += p->toks[i].n + 1;
  char *out = kp_arena_alloc(&p->snap->arena, len + 1);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = a; i < b; i++) {
    if (o > 0)
      out[o++] = ' ';
    o += nft_tok_copy(&p->toks[i], out + o, len + 1 - o);
  }
  if (o > 0 && out[o - 1] == ',')
    out[--o] = '\0';
  return out;
}

static bool ends_with_comma(const struct nft_token *t) {
  return t->type == NFT_WORD && t->n > 0 && t->p[t->n - 1] == ',';
}

/* Set/map elements in toks[a..b):
 * "172.30.0.41 . tcp . 80 comment "ns/svc:p" : goto chain, ..." */
static int elements(struct nft_parser *p, struct kp_set *set, size_t a, size_t b) {
  size_t i = a;
  while (i < b) {
    if (tok(p, i, ",") || p->toks[i].type != NFT_WORD) {
      i++;
      continue;
    }
    size_t key_start = i;
    bool done = false;
    while (i < b && !done && p->toks[i].type == NFT_WORD && !tok(p, i, "comment") &&
           !tok(p, i, ":") && !tok(p, i, "timeout") && !tok(p, i, "expires") &&
           !tok(p, i, "counter") && !tok(p, i, ","))
      done = ends_with_comma(&p->toks[i++]);
    struct kp_set_elem *elem = kp_set_add_elem(p->snap, set);
    if (elem == NULL || (elem->key = join(p, key_start, i)) == NULL)
      return oom(p);
    while (i < b && !done) {
      if (tok(p, i, ",")) {
        done = true;
      } else if (tok(p, i, "comment") && i + 1 < b) {
        if ((elem->comment = dup_tok(p, ++i)) == NULL)
          return oom(p);
      } else if (tok(p, i, ":") && i + 1 < b) {
        i++;
        if ((tok(p, i, "goto") || tok(p, i, "jump")) && i + 1 < b) {
          elem->verdict = tok(p, i, "goto") ? "goto" : "jump";
          i++;
          if ((elem->chain = join(p, i, i + 1)) == NULL)
            return oom(p);
        } else if (set->is_map || p->toks[i].type == NFT_WORD) {
          char *verdict = join(p, i, i + 1);
          if (verdict == NULL)
            return oom(p);
          static const char *const plain[] = {"drop", "accept", "return", "continue"};
          for (size_t k = 0; k < sizeof(plain) / sizeof(plain[0]); k++)
            if (strcmp(verdict, plain[k]) == 0)
              elem->verdict = plain[k];
        }
      } else if (p->toks[i].type == NFT_LBRACE) {
        size_t depth = 0;
        for (; i < b; i++) { /* unexpected nested block: skip it */
          if (p->toks[i].type == NFT_LBRACE)
            depth++;
          else if (p->toks[i].type == NFT_RBRACE && --depth == 0)
            break;
        }
      }
      done = done || (i < b && ends_with_comma(&p->toks[i]));
      i++;
    }
  }
  return 0;
}

/* One statement inside "set X { ... }" / "map X { ... }". */
static int set_property(struct nft_parser *p, struct kp_set *set) {
  if (set == NULL || p->ntoks == 0)
    return 0;
  if ((tok(p, 0, "type") || tok(p, 0, "typeof")) && p->ntoks > 1) {
    if ((set->type = join(p, 1, p->ntoks)) == NULL)
      return oom(p);
    for (size_t i = 1; i < p->ntoks; i++)
      set->is_map = set->is_map || tok(p, i, ":");
  } else if (tok(p, 0, "elements")) {
    size_t a = 1;
    while (a < p->ntoks && p->toks[a].type != NFT_LBRACE)
      a++;
    size_t b = p->ntoks;
    if (b > a + 1 && p->toks[b - 1].type == NFT_RBRACE)
      b--;
    return elements(p, set, a + 1, b);
  }
  return 0;
}

static int set_body(struct nft_parser *p, struct kp_set *set, size_t open_line) {
  for (;;) {
    p->ntoks = 0;
    enum nft_tok_type end = collect(p, false, 0);
    if (p->failed || set_property(p, set) != 0)
      return -1;
    if (end == NFT_RBRACE) {
      next_tok(p);
      return 0;
    }
    if (end == NFT_EOF)
      return fail(p, open_line, "unexpected end of input: set block opened here is not closed");
  }
}

static struct kp_set *set_from(struct nft_parser *p, struct kp_table *table, size_t i,
                               bool is_map) {
  if (table == NULL || i >= p->ntoks)
    return NULL;
  char name[512];
  nft_tok_copy(&p->toks[i], name, sizeof(name));
  struct kp_set *set = kp_table_add_set(p->snap, table, name);
  if (set == NULL)
    return oom(p), NULL;
  set->table = table;
  set->is_map = set->is_map || is_map;
  return set;
}

/* Inside "table ip X { ... }" after the '{'. */
static int table_body(struct nft_parser *p, struct kp_table *table, size_t open_line) {
  for (;;) {
    p->ntoks = 0;
    enum nft_tok_type end = collect(p, true, 0);
    if (p->failed)
      return -1;
    size_t line = p->ntoks ? p->toks[0].line : p->lx.line;
    if (end == NFT_LBRACE) {
      int rc = 0;
      if (tok(p, 0, "chain") && p->ntoks >= 2) {
        struct kp_chain *chain = chain_from(p, table, 1);
        rc = p->failed ? -1 : chain_body(p, chain, line);
      } else if ((tok(p, 0, "set") || tok(p, 0, "map")) && p->ntoks >= 2) {
        struct kp_set *set = set_from(p, table, 1, tok(p, 0, "map"));
        rc = p->failed ? -1 : set_body(p, set, line);
      } else if (!skip_block(p)) {
        rc = fail(p, line, "unexpected end of input: block opened here is not closed");
      }
      if (rc != 0)
        return -1;
      continue;
    }
    if (end == NFT_RBRACE) {
      next_tok(p);
      return 0;
    }
    if (end == NFT_EOF)
      return fail(p, open_line, "unexpected end of input: table block opened here is not closed");
  }
}

/* Table for a bare "chain KUBE-SERVICES {" with no table around it (a
 * `nft list chain` fragment): nat when the content is NAT work, else
 * filter; IPv6 when it matches ip6 fields. Looks ahead without consuming. */
static struct kp_table *table_for_bare_chain(struct nft_parser *p, const char *chain) {
  static const char *const nat_words[] = {"KUBE-SVC-",        "KUBE-SEP-",  "KUBE-EXT-",
                                          "KUBE-FW-",         "KUBE-XLB-",  "KUBE-MARK-MASQ",
                                          "KUBE-POSTROUTING", "PREROUTING", "POSTROUTING"};
  static const char *const nat_stmts[] = {"dnat", "snat", "masquerade", "redirect"};
  bool nat = false, v6 = false;
  struct nft_lexer look = p->lx;
  size_t depth = 1;
  for (size_t k = 0; k < sizeof(nat_words) / sizeof(nat_words[0]); k++)
    nat = nat || strncmp(chain, nat_words[k], strlen(nat_words[k])) == 0;
  for (;;) {
    struct nft_token t = nft_lex_next(&look);
    if (t.type == NFT_EOF || (t.type == NFT_RBRACE && --depth == 0))
      break;
    if (t.type == NFT_LBRACE)
      depth++;
    if (t.type != NFT_WORD)
      continue;
    v6 = v6 || nft_tok_is(&t, "ip6");
    for (size_t k = 0; k < sizeof(nat_words) / sizeof(nat_words[0]) && !nat; k++)
      nat = t.n >= strlen(nat_words[k]) && memcmp(t.p, nat_words[k], strlen(nat_words[k])) == 0;
    for (size_t k = 0; k < sizeof(nat_stmts) / sizeof(nat_stmts[0]) && !nat; k++)
      nat = nft_tok_is(&t, nat_stmts[k]);
  }
  return get_table(p, v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4, nat ? "nat" : "filter");
}

/* "add|create|insert|replace OBJECT ..." script commands. */
static int command(struct nft_parser *p, enum nft_tok_type end, size_t line) {
  size_t i = 2;
  bool insert = tok(p, 0, "insert");
  if (tok(p, 1, "table")) {
    struct kp_table *table = table_from(p, &i);
    if (p->failed)
      return -1;
    return end == NFT_LBRACE ? table_body(p, table, line) : 0;
  }
  if (tok(p, 1, "chain")) {
    struct kp_table *table = table_from(p, &i);
    struct kp_chain *chain = p->failed ? NULL : chain_from(p, table, i);
    if (p->failed)
      return -1;
    return end == NFT_LBRACE ? chain_body(p, chain, line) : 0;
  }
  if (tok(p, 1, "set") || tok(p, 1, "map")) {
    bool is_map = tok(p, 1, "map");
    struct kp_table *table = table_from(p, &i);
    struct kp_set *set = p->failed ? NULL : set_from(p, table, i, is_map);
    if (p->failed)
      return -1;
    return end == NFT_LBRACE ? set_body(p, set, line) : 0;
  }
  if (tok(p, 1, "element")) {
    struct kp_table *table = table_from(p, &i);
    struct kp_set *set = p->failed ? NULL : set_from(p, table, i, false);
    if (p->failed || end != NFT_LBRACE)
      return p->failed ? -1 : 0;
    p->ntoks = 0;
    if (collect(p, false, 1) == NFT_EOF && p->open_at_eof && !p->failed)
      return fail(p, line, "unexpected end of input: element block opened here is not closed");
    size_t b = p->ntoks;
    if (b > 0 && p->toks[b - 1].type == NFT_RBRACE)
      b--;
    return p->failed || set == NULL ? (p->failed ? -1 : 0) : elements(p, set, 0, b);
  }
  if (tok(p, 1, "rule") && !tok(p, 0, "replace")) {
    if (end == NFT_LBRACE) { /* the rule goes on: "... vmap { ... }" */
      if (store(p, p->lbrace) != 0)
        return oom(p);
      collect(p, false, 1);
      if (p->failed)
        return -1;
      if (p->open_at_eof)
        return fail(p, line, "unexpected end of input: rule block opened here is not closed");
    }
    struct kp_table *table = table_from(p, &i);
    struct kp_chain *chain = p->failed ? NULL : chain_from(p, table, i++);
    if (p->failed)
      return -1;
    while ((tok(p, i, "position") || tok(p, i, "index") || tok(p, i, "handle")) && i + 1 < p->ntoks)
      i += 2;
    return add_rule(p, chain, i, insert);
  }
  if (end == NFT_LBRACE && !skip_block(p)) /* counter, quota, flowtable, ... */
    return fail(p, line, "unexpected end of input: block opened here is not closed");
  return 0;
}

/* "flush chain ip t c": the chain is about to be refilled. Other flush and
 * delete commands are accepted and ignored. */
static int flush(struct nft_parser *p, enum nft_tok_type end, size_t line) {
  if (tok(p, 0, "flush") && tok(p, 1, "chain")) {
    size_t i = 2;
    int family = take_family(p, &i);
    if (i + 1 < p->ntoks && family >= 0) {
      char name[512];
      nft_tok_copy(&p->toks[i], name, sizeof(name));
      for (size_t k = 0; k < p->snap->tables.count; k++) {
        struct kp_table *t = p->snap->tables.items[k];
        if ((int)t->family != family || t->source != p->source || strcmp(t->name, name) != 0)
          continue;
        nft_tok_copy(&p->toks[i + 1], name, sizeof(name));
        struct kp_chain *chain = kp_table_chain(t, name);
        if (chain != NULL)
          chain->rules.count = 0;
        break;
      }
    }
  }
  if (end == NFT_LBRACE && !skip_block(p))
    return fail(p, line, "unexpected end of input: block opened here is not closed");
  return 0;
}

static int top_statement(struct nft_parser *p, enum nft_tok_type end) {
  size_t line = p->toks[0].line;
  static const char *const ignored[] = {"flush",    "delete",   "destroy", "list",
                                        "reset",    "rename",   "include", "define",
                                        "undefine", "redefine", "monitor", "describe"};
  if (tok(p, 0, "table")) {
    size_t i = 1;
    struct kp_table *table = table_from(p, &i);
    if (p->failed)
      return -1;
    if (end == NFT_LBRACE)
      return table_body(p, table, line);
    return 0;
  }
  if (tok(p, 0, "chain") && end == NFT_LBRACE) {
    struct kp_table *table;
    size_t name_at = 1;
    if (p->ntoks >= 4) { /* "chain ip nat KUBE-SERVICES {" */
      size_t i = 1;
      table = table_from(p, &i);
      name_at = i;
    } else {
      char name[512];
      nft_tok_copy(&p->toks[1 < p->ntoks ? 1 : 0], name, sizeof(name));
      table = table_for_bare_chain(p, name);
      if (table != NULL && !table->partial &&
          kp_snapshot_add_note(p->snap, KP_NOTE_TABLE_GUESSED, p->source, line, table->name,
                               table->family, NULL) == NULL)
        return fail(p, line, "out of memory");
    }
    /* `nft list chain`: a chain block outside its table is a fragment */
    if (table != NULL && !table->partial &&
        kp_snapshot_add_note(p->snap, KP_NOTE_FRAGMENT, p->source, line, table->name, table->family,
                             "nft list chain") == NULL)
      return fail(p, line, "out of memory");
    if (table != NULL)
      table->partial = true;
    struct kp_chain *chain = p->failed ? NULL : chain_from(p, table, name_at);
    return p->failed ? -1 : chain_body(p, chain, line);
  }
  if (tok(p, 0, "add") || tok(p, 0, "create") || tok(p, 0, "insert") || tok(p, 0, "replace"))
    return command(p, end, line);
  for (size_t k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
    if (tok(p, 0, ignored[k]))
      return flush(p, end, line);
  char word[64];
  nft_tok_copy(&p->toks[0], word, sizeof(word));
  return fail(p, line, "unexpected '%s' (not nft syntax)", word);
}

int kp_parse_nft(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                 struct kp_dump_error *err) {
  struct kp_dump_error scratch;
  struct nft_parser p = {.snap = snap, .err = err != NULL ? err : &scratch};
  memset(p.err, 0, sizeof(*p.err));
  p.source = kp_arena_strdup(&snap->arena, source != NULL ? source : "-");
  if (p.source == NULL) {
    p.source = "-";
    return oom(&p);
  }
  nft_lex_init(&p.lx, buf, buf != NULL ? len : 0);
  for (;;) {
    p.ntoks = 0;
    enum nft_tok_type end = collect(&p, true, 0);
    if (p.failed)
      break;
    if (p.ntoks > 0 && top_statement(&p, end) != 0)
      break;
    if (end == NFT_RBRACE)
      next_tok(&p); /* a stray '}': tolerated */
    else if (end == NFT_EOF)
      break;
  }
  free(p.toks);
  return p.failed ? -1 : 0;
}
