/* What pasting a dump into a terminal log, an issue comment or a mail adds
 * around it: shell prompts and the commands typed ("root@node:~# iptables
 * -t nat -S", "$ sudo iptables-save", a bare prompt at the end), markdown
 * code fences, a "> " quote on every line, an indentation common to every
 * line, iptables' "Warning: iptables-legacy tables present" without its
 * "# ", a UTF-8 byte order mark, a kernel-console timestamp on each line
 * ("[12345.678901] " of dmesg, "[   14.414142] : " of a serial console
 * log). A cleaned copy keeps every line where it
 * was (removed lines become empty), so errors and coverage notes still
 * name the file's own lines. */
#include "dump_parsers.h"

#include <stdlib.h>
#include <string.h>

static bool starts(const char *p, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(p, prefix, k) == 0;
}

static size_t indent_of(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  return i;
}

/* The commands people type before a dump; no dump line starts with one.
 * A word with a dash ("iptables-save", "ip6tables-legacy") may stand alone;
 * a bare word needs arguments ("iptables" alone is a /proxyMode body). */
static bool is_command(const char *p, size_t n) {
  static const struct {
    const char *word;
    bool dashed; /* "iptables-..." variants too */
  } commands[] = {
      {"iptables", true}, {"ip6tables", true}, {"nft", false},        {"ipvsadm", false},
      {"sudo", false},    {"kubectl", false},  {"ipset", false},      {"conntrack", false},
      {"curl", false},    {"cat", false},      {"crictl", false},     {"docker", false},
      {"ssh", false},     {"bash", false},     {"journalctl", false},
  };
  size_t w = 0;
  while (w < n && p[w] != ' ' && p[w] != '\t')
    w++;
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    size_t k = strlen(commands[i].word);
    if (w < k || memcmp(p, commands[i].word, k) != 0)
      continue;
    if (w == k && w < n)
      return true;
    if (w > k && commands[i].dashed && p[k] == '-')
      return true;
  }
  return false;
}

/* The length of a kernel-console timestamp at the start of a line
 * ("[  14.414142] ", "[12345.678901] : "), 0 when there is none. No dump
 * line starts with '[' digits '.' (iptables-save -c's "[0:0]" has a ':'). */
static size_t console_stamp(const char *p, size_t n) {
  size_t i = indent_of(p, n), digits = 0, fraction = 0;
  if (i >= n || p[i++] != '[')
    return 0;
  while (i < n && p[i] == ' ')
    i++;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
    digits++;
  if (digits == 0 || i >= n || p[i++] != '.')
    return 0;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
    fraction++;
  if (fraction == 0 || i >= n || p[i++] != ']')
    return 0;
  if (i + 1 < n && p[i] == ' ' && p[i + 1] == ':' && (i + 2 == n || p[i + 2] == ' '))
    i += 2; /* a serial console log's "] : " */
  if (i < n && p[i] == ' ')
    i++;
  return i;
}

struct paste_line {
  const char *p;
  size_t n;     /* without the newline and trailing '\r' */
  bool nl;      /* ends with a newline */
  bool stamped; /* a console timestamp was taken off */
  bool drop;    /* a prompt, command or fence: becomes empty */
  bool warn;    /* "Warning: ip...tables-legacy tables present": gets "# " */
  bool blank;   /* nothing but blanks */
};

static struct paste_line line_at(const char *buf, size_t len, size_t pos) {
  struct paste_line l = {.p = buf + pos};
  const char *nl = memchr(buf + pos, '\n', len - pos);
  l.n = nl != NULL ? (size_t)(nl - l.p) : len - pos;
  l.nl = nl != NULL;
  return l;
}

/* The quote marker of a mail / markdown quote, when every non-empty line
 * has one ("> -A ...", ">"). */
static bool all_quoted(const char *buf, size_t len) {
  bool any = false;
  for (size_t pos = 0; pos < len;) {
    struct paste_line l = line_at(buf, len, pos);
    pos += l.n + l.nl;
    size_t b = indent_of(l.p, l.n);
    if (b == l.n || (l.n - b == 1 && l.p[b] == '\r'))
      continue;
    if (l.p[b] != '>')
      return false;
    any = true;
  }
  return any;
}

static void classify(struct paste_line *l, bool quoted) {
  if (quoted) {
    size_t b = indent_of(l->p, l->n);
    if (b < l->n && l->p[b] == '>') {
      l->p += b + 1;
      l->n -= b + 1;
      if (l->n > 0 && l->p[0] == ' ')
        l->p++, l->n--;
    }
  }
  size_t stamp = console_stamp(l->p, l->n);
  if (stamp > 0) {
    l->p += stamp;
    l->n -= stamp;
    l->stamped = true;
  }
  size_t b = indent_of(l->p, l->n), e = l->n;
  while (e > b && (l->p[e - 1] == '\r' || l->p[e - 1] == ' ' || l->p[e - 1] == '\t'))
    e--;
  l->blank = e == b;
  if (l->blank)
    return;
  const char *t = l->p + b;
  size_t tn = e - b;
  l->drop = kp_dump_is_prompt(t, tn) || is_command(t, tn);
  l->warn = starts(t, tn, "Warning: ip") && memmem(t, tn, "tables-legacy tables present", 28);
}

/* A few lines of prose before the dump ("here is the output of the
 * command:"): the dump starts at the first line the format is known from.
 * Only when the text as it is has no known format; the lines skipped
 * become empty. */
#define PROSE_LINES 8

static char *skip_prose(const char *buf, size_t len, char *out, size_t *out_len) {
  const char *text = out != NULL ? out : buf;
  size_t n = out != NULL ? *out_len : len, start = 0, lines = 0;
  while (kp_dump_detect(text + start, n - start) == KP_DUMP_UNKNOWN) {
    const char *nl = memchr(text + start, '\n', n - start);
    if (nl == NULL || lines == PROSE_LINES)
      return out;
    start = (size_t)(nl - text) + 1;
    lines++;
  }
  if (lines == 0)
    return out;
  if (out == NULL && (out = malloc(len + 1)) == NULL)
    return NULL;
  memmove(out + lines, text + start, n - start);
  memset(out, '\n', lines);
  *out_len = lines + n - start;
  out[*out_len] = '\0';
  return out;
}

static char *unpaste_decorations(const char *buf, size_t len, size_t *out_len) {
  if (buf == NULL || len == 0)
    return NULL;
  /* a UTF-8 byte order mark (a file saved by a Windows editor) */
  bool bom = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0;
  if (bom)
    buf += 3, len -= 3;
  bool quoted = all_quoted(buf, len), change = quoted || bom;
  size_t indent = (size_t)-1, warnings = 0;
  for (size_t pos = 0; pos < len;) {
    struct paste_line l = line_at(buf, len, pos);
    pos += l.n + l.nl;
    classify(&l, quoted);
    change |= l.drop || l.stamped;
    warnings += l.warn;
    if (!l.blank && !l.drop) {
      size_t b = indent_of(l.p, l.n);
      indent = b < indent ? b : indent;
    }
  }
  if (indent == (size_t)-1)
    indent = 0;
  if (!change && indent == 0 && warnings == 0)
    return skip_prose(buf, len, NULL, out_len);
  char *out = malloc(len + 2 * warnings + 1);
  if (out == NULL)
    return NULL; /* parsed as it is */
  size_t o = 0;
  for (size_t pos = 0; pos < len;) {
    struct paste_line l = line_at(buf, len, pos);
    pos += l.n + l.nl;
    classify(&l, quoted);
    if (!l.drop && !l.blank) {
      size_t skip = indent < l.n ? indent : l.n;
      if (l.warn) {
        memcpy(out + o, "# ", 2);
        o += 2;
        skip = indent_of(l.p, l.n);
      }
      memcpy(out + o, l.p + skip, l.n - skip);
      o += l.n - skip;
    }
    if (l.nl)
      out[o++] = '\n';
  }
  out[o] = '\0';
  *out_len = o;
  return skip_prose(buf, len, out, out_len);
}

/* A line of prose ("but when using iptables trace, I can see..."): three
 * words or more, the first of letters only and not all capitals (an
 * iptables target is), none an option, an opt column ("--") or holding a
 * '/' (an address, a comment). Only iptables -L, -S and save text is
 * looked at: nft rules read like words. */
static bool is_prose(const char *p, size_t n) {
  size_t words = 0, i = 0;
  bool lower = false;
  while (i < n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (i >= n)
      break;
    size_t b = i;
    while (i < n && p[i] != ' ' && p[i] != '\t')
      i++;
    const char *w = p + b;
    size_t wn = i - b;
    if (w[0] == '-' || memchr(w, '/', wn) != NULL || (wn == 2 && w[1] == 'f'))
      return false;
    for (size_t k = 0; words == 0 && k < wn; k++) {
      if (!((w[k] >= 'a' && w[k] <= 'z') || (w[k] >= 'A' && w[k] <= 'Z')))
        return false;
      lower |= w[k] >= 'a' && w[k] <= 'z';
    }
    words++;
  }
  /* (-L's column header line: "pkts bytes target prot opt ... destination") */
  bool header = memmem(p, n, "target", 6) != NULL && memmem(p, n, "destination", 11) != NULL;
  return words >= 3 && lower && !header && !(n >= 6 && memcmp(p, "Chain ", 6) == 0);
}

#define PROSE_AFTER 20 /* lines of text after a dump that are dropped */

size_t kp_dump_trailing_prose(const char *buf, size_t len, size_t *first_line) {
  enum kp_dump_format f = kp_dump_detect(buf, len);
  if (f != KP_DUMP_IPT_LIST && f != KP_DUMP_IPT_SAVE && f != KP_DUMP_IPT_RULES)
    return len;
  size_t end = len, cut = len, dropped = 0;
  while (end > 0 && dropped <= PROSE_AFTER) {
    size_t start = end;
    if (start > 0 && buf[start - 1] == '\n')
      start--;
    while (start > 0 && buf[start - 1] != '\n')
      start--;
    size_t b = indent_of(buf + start, end - start), e = end - start;
    while (e > b && (buf[start + e - 1] == '\n' || buf[start + e - 1] == '\r' ||
                     buf[start + e - 1] == ' ' || buf[start + e - 1] == '\t'))
      e--;
    if (e > b && !is_prose(buf + start + b, e - b))
      break;
    if (e > b) {
      cut = start;
      dropped++;
    }
    end = start;
  }
  if (cut == len || dropped > PROSE_AFTER || cut == 0)
    return len;
  size_t line = 1;
  for (size_t i = 0; i < cut; i++)
    line += buf[i] == '\n';
  *first_line = line;
  return cut;
}

/* ---- a terminal's hard wrap of iptables-save / -S lines ---------------------
 * Copied out of a terminal (or a mail) a rule longer than the terminal is
 * wide comes as two lines or more: "-A KUBE-SEP-X ... -j DNAT --to-destin"
 * then "ation 10.0.0.1:6443". The wrap is at the width W, the longest line:
 * a line of exactly W characters that is a rule or # line (or its continuation)
 * goes on in the next line when that one does not start a save line and is
 * not prose. Joined as they were (a wrap adds nothing); each continuation
 * line's place stays as an empty line, so later lines keep their numbers. */
#define WRAP_MIN_WIDTH 60

static size_t text_len_of(const char *p, size_t n) {
  while (n > 0 && p[n - 1] == '\r')
    n--;
  return n;
}

static bool is_rule_line(const char *p, size_t n) {
  if (n > 0 && p[0] == '[') { /* "[0:0] -A ..." of save -c */
    const char *close = memchr(p, ']', n);
    if (close == NULL)
      return false;
    n -= (size_t)(close + 1 - p);
    p = close + 1;
    if (n > 0 && p[0] == ' ')
      p++, n--;
  }
  return starts(p, n, "-A ") || starts(p, n, "-I ");
}

/* What a line of iptables-save or -S starts with. */
static bool starts_save_line(const char *p, size_t n) {
  static const char *const commands[] = {"-A ", "-I ", "-N ", "-P ", "-X ",
                                         "-F ", "-D ", "-R ", "-Z ", "COMMIT"};
  if (n == 0 || p[0] == '#' || is_rule_line(p, n))
    return true;
  if (p[0] == '*') /* "*nat" */
    return memchr(p, ' ', n) == NULL;
  if (p[0] == ':') { /* ":KUBE-SERVICES - [0:0]", ":INPUT ACCEPT [3:180]"; not ":http\" -j" */
    const char *sp = memchr(p, ' ', n);
    size_t rest = sp != NULL ? n - (size_t)(sp + 1 - p) : 0;
    return sp != NULL && (starts(sp + 1, rest, "- ") || starts(sp + 1, rest, "ACCEPT") ||
                          starts(sp + 1, rest, "DROP"));
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (starts(p, n, commands[i]))
      return true;
  return false;
}

static char *unwrap(const char *buf, size_t len, size_t *out_len) {
  enum kp_dump_format f = kp_dump_detect(buf, len);
  if (f != KP_DUMP_IPT_SAVE && f != KP_DUMP_IPT_RULES)
    return NULL;
  size_t width = 0;
  for (size_t pos = 0; pos < len;) {
    struct paste_line l = line_at(buf, len, pos);
    pos += l.n + l.nl;
    size_t n = text_len_of(l.p, l.n);
    width = n > width ? n : width;
  }
  if (width < WRAP_MIN_WIDTH)
    return NULL;
  char *out = NULL;
  size_t o = 0, pending = 0, prev_n = 0, prev_cr = 0;
  bool prev_rule = false, first = true, open_quote = false;
  for (size_t pos = 0; pos < len;) {
    struct paste_line l = line_at(buf, len, pos);
    pos += l.n + l.nl;
    size_t n = text_len_of(l.p, l.n);
    /* inside an open quote (a comment) it goes on whatever it reads like */
    bool cont = !first && prev_rule && prev_n == width && n > 0 && !starts_save_line(l.p, n) &&
                (open_quote || !is_prose(l.p, n));
    if (cont && out == NULL) { /* the first wrap: copy what came before */
      if ((out = malloc(len + 1)) == NULL)
        return NULL;
      memcpy(out, buf, o);
    }
    if (cont) /* the wrapped line's "\r" (a Windows terminal's CRLF) is no part of the rule */
      o -= prev_cr;
    if (!cont && !first) {
      if (out != NULL)
        memset(out + o, '\n', 1 + pending);
      o += 1 + pending;
      pending = 0;
    }
    if (out != NULL)
      memcpy(out + o, l.p, l.n);
    o += l.n;
    pending += cont;
    prev_rule = cont || is_rule_line(l.p, n) || (n > 0 && l.p[0] == '#'); /* "# Generated by" */
    if (!cont)
      open_quote = false;
    for (size_t i = 0; i < n; i++)
      if (l.p[i] == '"' && (i == 0 || l.p[i - 1] != '\\'))
        open_quote = !open_quote;
    prev_n = n;
    prev_cr = l.n - n;
    first = false;
  }
  if (out == NULL)
    return NULL;
  size_t tail = pending + (len > 0 && buf[len - 1] == '\n');
  memset(out + o, '\n', tail);
  o += tail;
  out[o] = '\0';
  *out_len = o;
  return out;
}

/* Wraps are joined before the decorations go (a continuation line may
 * read like one: "> 10.180.0.4:53\" -m statistic ..." is no mail quote),
 * and again after (a quoted or indented paste that was wrapped too). */
char *kp_dump_unpaste(const char *buf, size_t len, size_t *out_len) {
  size_t joined_len = 0;
  char *joined = unwrap(buf, len, &joined_len);
  const char *text = joined != NULL ? joined : buf;
  size_t text_len = joined != NULL ? joined_len : len;
  char *clean = unpaste_decorations(text, text_len, out_len);
  if (clean == NULL) {
    *out_len = text_len;
    return joined;
  }
  free(joined);
  char *again = unwrap(clean, *out_len, out_len);
  if (again == NULL)
    return clean;
  free(clean);
  return again;
}
