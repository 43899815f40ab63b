/* collectd's config file syntax (liboconfig's scanner.l and parser.y, as
 * in collectd 5.12), read into the neutral tree with line numbers:
 *   Key value...                options, one or more values, end of line
 *   <Key value...> ... </Key>   blocks (the closing name as opened)
 *   "quoted"                    backslash takes the next character as is;
 *                               backslash-newline inside joins the next line
 *                               (its leading blanks dropped)
 *   12 -3 0x1f 017 1.5 .5e+3    numbers (strtod, as collectd)
 *   true yes on false no off    booleans (lower case; other words are strings)
 *   word 10.0.0.1 fd00::1       unquoted strings (words of [0-9A-Za-z_],
 *                               IPv4/IPv6 addresses, optional :port)
 *   # ...                       comments; backslash-newline continues a line
 * The first syntax error stops the parse, as it stops collectd. */
#include "kp/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { T_EOF, T_EOL, T_OPEN, T_CLOSE, T_SLASH, T_WORD, T_STRING, T_NUMBER, T_BOOL };

struct token {
  enum tok_kind kind;
  char *text; /* WORD, STRING: NUL-terminated copy in the arena */
  double number;
  bool boolean;
  unsigned line;
};

struct parser {
  struct kp_cfg_tree *tree;
  const char *p, *end;
  unsigned line;
  kp_cfg_error_fn on_error;
  void *ctx;
  char why[160];
  bool failed;
};

static int syntax(struct parser *ps, unsigned line, const char *fmt, const char *arg) {
  if (ps->failed)
    return -1;
  ps->failed = true;
  snprintf(ps->why, sizeof(ps->why), fmt, arg != NULL ? arg : "");
  struct kp_cfg_error e = {.kind = KP_CFG_SYNTAX, .line = line, .why = ps->why};
  if (ps->on_error != NULL)
    ps->on_error(ps->ctx, &e);
  return -1;
}

static bool at_eol(const struct parser *ps, const char *q) {
  return q < ps->end && (*q == '\n' || (*q == '\r' && q + 1 < ps->end && q[1] == '\n'));
}
static size_t eol_len(const char *q) {
  return *q == '\r' ? 2 : 1;
}
static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\b' || c == '\r'; /* a lone CR: collectd skips it too */
}
static bool is_word_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
/* Characters an address or a signed/fractional number may hold. */
static bool is_run_char(char c) {
  return is_word_char(c) || c == '.' || c == ':' || c == '+' || c == '-' || c == '[' || c == ']';
}

/* "...": the body up to the closing quote, unescaped. */
static int lex_string(struct parser *ps, struct token *t) {
  size_t cap = 64, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return syntax(ps, t->line, "out of memory%s", NULL);
  const char *q = ps->p + 1;
  int rc = -1;
  for (;;) {
    if (q >= ps->end) {
      syntax(ps, t->line, "quoted string not closed%s", NULL);
      break;
    }
    char c = *q;
    if (c == '"') {
      q++;
      rc = 0;
      break;
    }
    if (c == '\\' && at_eol(ps, q + 1)) { /* joins the next line, leading blanks dropped */
      q += 1 + eol_len(q + 1);
      ps->line++;
      while (q < ps->end && (*q == ' ' || *q == '\t' || *q == '\b'))
        q++;
      continue;
    }
    if (c == '\\') {
      if (q + 1 >= ps->end) {
        syntax(ps, t->line, "quoted string not closed%s", NULL);
        break;
      }
      c = *++q;
    }
    if (c == '\n')
      ps->line++;
    if (n + 2 > cap) {
      char *grown = realloc(buf, cap *= 2);
      if (grown == NULL) {
        syntax(ps, t->line, "out of memory%s", NULL);
        break;
      }
      buf = grown;
    }
    buf[n++] = c;
    q++;
  }
  if (rc == 0) {
    buf[n] = '\0';
    t->kind = T_STRING;
    t->text = kp_arena_strndup(&ps->tree->arena, buf, n);
    if (t->text == NULL)
      rc = syntax(ps, t->line, "out of memory%s", NULL);
  }
  free(buf);
  ps->p = q;
  return rc;
}

static bool full_match_number(const char *s) {
  const char *q = s;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { /* 0[xX][0-9a-fA-F]+ */
    q = s + 2;
    if (*q == '\0')
      return false;
    for (; *q; q++)
      if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')))
        return false;
    return true;
  }
  if (*q == '+' || *q == '-')
    q++;
  const char *digits = q;
  while (*q >= '0' && *q <= '9')
    q++;
  if (*q == '\0') /* [+-]?[0-9]+ (and octal, a subset) */
    return q > digits;
  if (*q != '.') /* [+-]?[0-9]*\.[0-9]+([eE][+-][0-9]+)? */
    return false;
  const char *frac = ++q;
  while (*q >= '0' && *q <= '9')
    q++;
  if (q == frac)
    return false;
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q != '+' && *q != '-')
      return false;
    const char *exp = ++q;
    while (*q >= '0' && *q <= '9')
      q++;
    if (q == exp)
      return false;
  }
  return *q == '\0';
}

/* 10.0.0.1[:port], fd00::1, [fd00::1][:port]: unquoted strings in collectd. */
static bool is_address(const char *s) {
  char buf[64];
  unsigned char addr[16];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof(buf))
    return false;
  memcpy(buf, s, n + 1);
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      return false;
    *close = '\0';
    return inet_pton(AF_INET6, buf + 1, addr) == 1;
  }
  if (inet_pton(AF_INET6, buf, addr) == 1)
    return true;
  char *colon = strchr(buf, ':');
  if (colon != NULL)
    *colon = '\0';
  return strchr(buf, '.') != NULL && inet_pton(AF_INET, buf, addr) == 1;
}

static int lex_run(struct parser *ps, struct token *t) {
  const char *q = ps->p;
  while (q < ps->end && is_run_char(*q))
    q++;
  char *text = kp_arena_strndup(&ps->tree->arena, ps->p, (size_t)(q - ps->p));
  ps->p = q;
  if (text == NULL)
    return syntax(ps, t->line, "out of memory%s", NULL);
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  for (size_t i = 0; i < 3; i++)
    if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
      t->kind = T_BOOL;
      t->boolean = strcmp(text, yes[i]) == 0;
      return 0;
    }
  if (full_match_number(text)) {
    t->kind = T_NUMBER;
    t->number = strtod(text, NULL);
    return 0;
  }
  bool word = true;
  for (const char *c = text; *c; c++)
    word = word && is_word_char(*c);
  if (word || is_address(text)) {
    t->kind = T_WORD;
    t->text = text;
    return 0;
  }
  return syntax(ps, t->line, "cannot read \"%s\" (quote it)", text);
}

static int next(struct parser *ps, struct token *t) {
  memset(t, 0, sizeof(*t));
  for (;;) {
    while (ps->p < ps->end && is_blank(*ps->p) && !at_eol(ps, ps->p))
      ps->p++;
    if (ps->p < ps->end && *ps->p == '#')
      while (ps->p < ps->end && *ps->p != '\n')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '\\' && at_eol(ps, ps->p + 1)) { /* continued line */
      ps->p += 1 + eol_len(ps->p + 1);
      ps->line++;
      continue;
    }
    break;
  }
  t->line = ps->line;
  if (ps->p >= ps->end) {
    t->kind = T_EOF;
    return 0;
  }
  char c = *ps->p;
  if (at_eol(ps, ps->p)) {
    ps->p += eol_len(ps->p);
    ps->line++;
    t->kind = T_EOL;
    return 0;
  }
  if (c == '<' || c == '>' || c == '/') {
    ps->p++;
    t->kind = c == '<' ? T_OPEN : c == '>' ? T_CLOSE : T_SLASH;
    return 0;
  }
  if (c == '"')
    return lex_string(ps, t);
  if (is_run_char(c))
    return lex_run(ps, t);
  char shown[8];
  snprintf(shown, sizeof(shown), (unsigned char)c < 0x20 || c == 0x7f ? "\\x%02x" : "%c",
           (unsigned char)c);
  return syntax(ps, ps->line, "unexpected character '%s'", shown);
}

static bool is_identifier(const struct token *t) {
  if (t->kind != T_WORD)
    return false;
  for (const char *c = t->text; *c; c++)
    if (!is_word_char(*c))
      return false;
  return true;
}

/* Values until the end of the line (or '>' in a block header). */
static int values(struct parser *ps, struct kp_cfg_item *item, struct token *t) {
  for (;;) {
    if (next(ps, t) != 0)
      return -1;
    struct kp_cfg_value v = {.type = KP_CFG_STRING};
    if (t->kind == T_WORD || t->kind == T_STRING)
      v.string = t->text;
    else if (t->kind == T_NUMBER)
      v = (struct kp_cfg_value){.type = KP_CFG_NUMBER, .number = t->number};
    else if (t->kind == T_BOOL)
      v = (struct kp_cfg_value){.type = KP_CFG_BOOLEAN, .boolean = t->boolean};
    else
      return 0;
    if (kp_cfg_item_add_value(ps->tree, item, &v) != 0)
      return syntax(ps, t->line, "out of memory%s", NULL);
  }
}

static int expect_eol(struct parser *ps, const char *after) {
  struct token t;
  if (next(ps, &t) != 0)
    return -1;
  if (t.kind == T_EOF)
    return syntax(ps, t.line, "no newline after %s at the end of the file", after);
  if (t.kind != T_EOL)
    return syntax(ps, t.line, "expected the end of the line after %s", after);
  return 0;
}

/* Statements until </close> (close NULL: until the end of the file). */
static int statements(struct parser *ps, struct kp_cfg_item *parent, const char *close,
                      unsigned open_line) {
  struct token t;
  for (;;) {
    if (next(ps, &t) != 0)
      return -1;
    if (t.kind == T_EOL)
      continue;
    if (t.kind == T_EOF) {
      if (close == NULL)
        return 0;
      char what[96];
      snprintf(what, sizeof(what), "<%.60s> (line %u)", close, open_line);
      return syntax(ps, t.line, "%s is not closed", what);
    }
    if (is_identifier(&t)) { /* Key value... EOL */
      struct kp_cfg_item *item = kp_cfg_item_add(ps->tree, parent, t.text, t.line);
      if (item == NULL)
        return syntax(ps, t.line, "out of memory%s", NULL);
      if (values(ps, item, &t) != 0)
        return -1;
      if (t.kind == T_OPEN || t.kind == T_CLOSE || t.kind == T_SLASH)
        return syntax(ps, t.line, "%s: unexpected '<', '>' or '/' (quote a path)", item->key);
      if (item->n_values == 0)
        return syntax(ps, item->line, "%s: an option needs a value", item->key);
      if (t.kind == T_EOF)
        return syntax(ps, t.line, "no newline after %s at the end of the file", item->key);
      continue;
    }
    if (t.kind != T_OPEN)
      return syntax(ps, t.line, "expected an option name or a <Block>%s", NULL);
    unsigned line = t.line;
    if (next(ps, &t) != 0)
      return -1;
    if (t.kind == T_SLASH) { /* </Name> */
      if (next(ps, &t) != 0)
        return -1;
      if (!is_identifier(&t))
        return syntax(ps, t.line, "expected a block name after '</'%s", NULL);
      if (close == NULL || strcmp(t.text, close) != 0)
        return syntax(ps, line, "</%s> closes no open block of that name", t.text);
      struct token gt;
      if (next(ps, &gt) != 0)
        return -1;
      if (gt.kind != T_CLOSE)
        return syntax(ps, gt.line, "expected '>' after </%s", close);
      return expect_eol(ps, "a block's end");
    }
    if (!is_identifier(&t))
      return syntax(ps, t.line, "expected a block name after '<'%s", NULL);
    struct kp_cfg_item *block = kp_cfg_item_add(ps->tree, parent, t.text, line);
    if (block == NULL)
      return syntax(ps, t.line, "out of memory%s", NULL);
    if (values(ps, block, &t) != 0)
      return -1;
    if (t.kind != T_CLOSE)
      return syntax(ps, t.line, "<%s: expected '>'", block->key);
    if (expect_eol(ps, "a block's start") != 0 || statements(ps, block, block->key, line) != 0)
      return -1;
  }
}

int kp_cfg_parse_text(struct kp_cfg_tree *tree, const char *text, size_t len,
                      kp_cfg_error_fn on_error, void *ctx) {
  struct parser ps = {
      .tree = tree, .p = text, .end = text + len, .line = 1, .on_error = on_error, .ctx = ctx};
  return statements(&ps, &tree->root, NULL, 0) == 0 ? 0 : 1;
}

int kp_cfg_parse_file(struct kp_cfg_tree *tree, const char *path, kp_cfg_error_fn on_error,
                      void *ctx) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  errno = 0;
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      char *grown = cap < (64u << 20) ? realloc(text, cap = cap ? cap * 2 : 4096) : NULL;
      if (grown == NULL) { /* a collectd config is not 64 MiB */
        free(text);
        fclose(f);
        errno = EFBIG;
        return -1;
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  int read_errno = ferror(f) ? (errno != 0 ? errno : EIO) : 0; /* EISDIR for a directory */
  fclose(f);
  if (read_errno != 0) {
    free(text);
    errno = read_errno;
    return -1;
  }
  int rc = kp_cfg_parse_text(tree, text, len, on_error, ctx);
  free(text);
  return rc;
}
