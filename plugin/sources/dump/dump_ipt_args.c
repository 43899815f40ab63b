/* iptables-save / iptables -S rule arguments into a kp_rule. Tokens follow
 * iptables-restore: blanks separate, double quotes group, a backslash escapes
 * the next byte. Options the model has no field for are skipped (they stay
 * in rule->text); only broken known options are errors. */
#include "dump_ipt_internal.h"

#include <stdio.h>
#include <string.h>

struct tok {
  const char *raw; /* as written, quotes and escapes included */
  size_t n;
  bool special; /* quotes or backslashes inside: unescape before use */
};

struct cursor {
  const char *p, *end;
  struct kp_dump_error *err;
};

/* 1 token, 0 end, -1 unterminated quote / dangling backslash. */
static int next_tok(struct cursor *c, struct tok *t) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
    c->p++;
  if (c->p >= c->end)
    return 0;
  const char *start = c->p;
  bool quoted = false;
  t->special = false;
  while (c->p < c->end) {
    char ch = *c->p;
    if (ch == '\\') {
      if (c->p + 1 >= c->end)
        return -1;
      t->special = true;
      c->p += 2;
      continue;
    }
    if (ch == '"') {
      quoted = !quoted;
      t->special = true;
    } else if (!quoted && (ch == ' ' || ch == '\t')) {
      break;
    }
    c->p++;
  }
  if (quoted)
    return -1;
  t->raw = start;
  t->n = (size_t)(c->p - start);
  return 1;
}

/* Unescaped text into out (cap bytes incl. NUL). Returns length or -1 when
 * it does not fit. */
static long tok_text(const struct tok *t, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < t->n; i++) {
    char ch = t->raw[i];
    if (t->special && ch == '"')
      continue;
    if (t->special && ch == '\\' && i + 1 < t->n)
      ch = t->raw[++i];
    if (o + 1 >= cap)
      return -1;
    out[o++] = ch;
  }
  out[o] = '\0';
  return (long)o;
}

static const char *tok_arena(struct kp_snapshot *snap, const struct tok *t) {
  char *s = kp_arena_alloc(&snap->arena, t->n + 1);
  if (s != NULL)
    tok_text(t, s, t->n + 1);
  return s;
}

static bool tok_is(const struct tok *t, const char *word) {
  return !t->special && strlen(word) == t->n && memcmp(t->raw, word, t->n) == 0;
}

static bool is_option(const struct tok *t) {
  return !t->special && t->n >= 2 && t->raw[0] == '-';
}

struct args_state {
  struct kp_snapshot *snap;
  struct kp_rule *rule;
  struct cursor cur;
  char module[32]; /* the current -m match, "" before any */
  bool negate;     /* a "!" before the option */
};

static int fail(struct args_state *st, const char *fmt, const char *what) {
  if (st->cur.err != NULL)
    snprintf(st->cur.err->message, sizeof(st->cur.err->message), fmt, what);
  return -1;
}

/* The option's value into buf; "!" after the option (old syntax) negates. */
static int value(struct args_state *st, const char *opt, char *buf, size_t cap, struct tok *t_out) {
  struct tok t;
  int r = next_tok(&st->cur, &t);
  if (r > 0 && tok_is(&t, "!")) {
    st->negate = true;
    r = next_tok(&st->cur, &t);
  }
  if (r < 0)
    return fail(st, "unterminated quote in %s", "rule");
  if (r == 0)
    return fail(st, "option %s needs a value", opt);
  if (t_out != NULL)
    *t_out = t;
  if (buf != NULL && tok_text(&t, buf, cap) < 0)
    return fail(st, "value of %s too long", opt);
  return 0;
}

static bool module_is(const struct args_state *st, const char *name) {
  return strcmp(st->module, name) == 0;
}

static bool port_module(const struct args_state *st) {
  return st->module[0] == '\0' || module_is(st, "tcp") || module_is(st, "udp") ||
         module_is(st, "sctp") || module_is(st, "udplite") || module_is(st, "dccp");
}

static bool target_is(const struct kp_rule *rule, const char *name) {
  return rule->target_name != NULL && strcmp(rule->target_name, name) == 0;
}

/* Skips an unknown option's values: the following tokens up to the next
 * option or "!". */
static int skip_values(struct args_state *st) {
  for (;;) {
    struct cursor save = st->cur;
    struct tok t;
    int r = next_tok(&st->cur, &t);
    if (r < 0)
      return fail(st, "unterminated quote in %s", "rule");
    if (r == 0 || is_option(&t) || tok_is(&t, "!")) {
      st->cur = save;
      return 0;
    }
  }
}

static int opt_addr(struct args_state *st, const char *opt, struct kp_addr *addr) {
  char buf[256];
  struct tok t;
  if (value(st, opt, NULL, 0, &t) != 0)
    return -1;
  if (tok_text(&t, buf, sizeof(buf)) < 0 || kp_addr_parse(&st->snap->arena, buf, addr) != 0)
    return fail(st, "bad address for %s", opt);
  if (st->negate)
    addr->negated = true;
  return 0;
}

static int opt_iface(struct args_state *st, const char *opt, const char **out) {
  char buf[64];
  if (value(st, opt, buf + 1, sizeof(buf) - 1, NULL) != 0)
    return -1;
  buf[0] = '!'; /* the model has no negation flag for interfaces: keep the '!' */
  *out = kp_arena_strdup(&st->snap->arena, st->negate ? buf : buf + 1);
  return 0;
}

static int opt_ports(struct args_state *st, const char *opt, struct kp_port_range *range) {
  char buf[64];
  if (value(st, opt, buf, sizeof(buf), NULL) != 0)
    return -1;
  if (kp_ipt_parse_ports(buf, strlen(buf), ':', range) != 0)
    return fail(st, "bad port for %s", opt);
  if (st->negate)
    range->negated = true;
  return 0;
}

static int opt_string(struct args_state *st, const char *opt, const char **out) {
  struct tok t;
  if (value(st, opt, NULL, 0, &t) != 0)
    return -1;
  if (*out == NULL) /* the first one wins (a rule with two comments) */
    *out = tok_arena(st->snap, &t);
  return 0;
}

static int opt_mark_target(struct args_state *st, const char *opt) {
  char buf[64];
  uint32_t v, m;
  if (value(st, opt, buf, sizeof(buf), NULL) != 0)
    return -1;
  size_t n = strlen(buf);
  struct kp_rule *rule = st->rule;
  if (strcmp(opt, "--set-xmark") == 0 || strcmp(opt, "--set-mark") == 0) {
    if (kp_ipt_parse_mark(buf, n, &v, &m) != 0)
      return fail(st, "bad mark value for %s", opt);
    rule->xmark_value = v;
    /* libxt_MARK: --set-mark v/m is xmark v/(v|m) */
    rule->xmark_mask = strcmp(opt, "--set-mark") == 0 ? (m | v) : m;
  } else {
    if (kp_ipt_parse_u32(buf, n, &v) != 0)
      return fail(st, "bad mark value for %s", opt);
    if (strcmp(opt, "--or-mark") == 0) {
      rule->xmark_value = v;
      rule->xmark_mask = v;
    } else if (strcmp(opt, "--xor-mark") == 0) {
      rule->xmark_value = v;
      rule->xmark_mask = 0;
    } else { /* --and-mark */
      rule->xmark_value = 0;
      rule->xmark_mask = ~v;
    }
  }
  rule->mark_target = true;
  return 0;
}

static int opt_target(struct args_state *st, const char *opt, bool go) {
  struct tok t;
  if (value(st, opt, NULL, 0, &t) != 0)
    return -1;
  struct kp_rule *rule = st->rule;
  rule->target_name = tok_arena(st->snap, &t);
  if (rule->target_name == NULL)
    return fail(st, "out of memory%s", "");
  rule->target = go ? KP_TARGET_GOTO : kp_target_kind_from_name(rule->target_name);
  st->module[0] = '\0';
  return 0;
}

static int one_option(struct args_state *st, const struct tok *opt_tok) {
  char opt[40];
  struct kp_rule *rule = st->rule;
  char buf[256];
  if (tok_text(opt_tok, opt, sizeof(opt)) < 0)
    return skip_values(st);
  if (!strcmp(opt, "-s") || !strcmp(opt, "--source") || !strcmp(opt, "--src"))
    return opt_addr(st, opt, &rule->src);
  if (!strcmp(opt, "-d") || !strcmp(opt, "--destination") || !strcmp(opt, "--dst"))
    return opt_addr(st, opt, &rule->dst);
  if (!strcmp(opt, "-p") || !strcmp(opt, "--protocol")) {
    if (value(st, opt, buf, sizeof(buf), NULL) != 0)
      return -1;
    if (kp_ipt_parse_proto(buf, strlen(buf), &rule->proto_present, &rule->proto) != 0)
      return 0; /* an unusual protocol name: left in the text */
    rule->proto_negated = st->negate;
    return 0;
  }
  if (!strcmp(opt, "-i") || !strcmp(opt, "--in-interface"))
    return opt_iface(st, opt, &rule->in_iface);
  if (!strcmp(opt, "-o") || !strcmp(opt, "--out-interface"))
    return opt_iface(st, opt, &rule->out_iface);
  if (!strcmp(opt, "-m") || !strcmp(opt, "--match")) {
    struct tok t;
    if (value(st, opt, NULL, 0, &t) != 0)
      return -1;
    if (tok_text(&t, st->module, sizeof(st->module)) < 0)
      snprintf(st->module, sizeof(st->module), "?"); /* no match we model has a long name */
    return 0;
  }
  if (!strcmp(opt, "-j") || !strcmp(opt, "--jump"))
    return opt_target(st, opt, false);
  if (!strcmp(opt, "-g") || !strcmp(opt, "--goto"))
    return opt_target(st, opt, true);
  if (!strcmp(opt, "-c") || !strcmp(opt, "--set-counters")) {
    char b2[32];
    bool s1, s2;
    if (value(st, opt, buf, sizeof(buf), NULL) != 0 || value(st, opt, b2, sizeof(b2), NULL) != 0)
      return -1;
    if (kp_ipt_parse_count(buf, strlen(buf), &rule->counters.packets, &s1) != 0 ||
        kp_ipt_parse_count(b2, strlen(b2), &rule->counters.bytes, &s2) != 0 || s1 || s2)
      return fail(st, "bad counters after %s", opt);
    rule->counters.present = true;
    return 0;
  }
  if (!strcmp(opt, "-f") || !strcmp(opt, "--fragment"))
    return 0;
  if (!strcmp(opt, "--comment") && (module_is(st, "comment") || st->module[0] == '\0'))
    return opt_string(st, opt, &rule->comment);
  if ((!strcmp(opt, "--dport") || !strcmp(opt, "--destination-port")) && port_module(st))
    return opt_ports(st, opt, &rule->dport);
  if ((!strcmp(opt, "--sport") || !strcmp(opt, "--source-port")) && port_module(st))
    return opt_ports(st, opt, &rule->sport);
  if (!strcmp(opt, "--mark") && module_is(st, "mark")) {
    if (value(st, opt, buf, sizeof(buf), NULL) != 0)
      return -1;
    if (kp_ipt_parse_mark(buf, strlen(buf), &rule->mark.value, &rule->mark.mask) != 0)
      return fail(st, "bad mark value for %s", opt);
    rule->mark.present = true;
    rule->mark.negated = st->negate;
    return 0;
  }
  if ((!strcmp(opt, "--src-type") || !strcmp(opt, "--dst-type")) && module_is(st, "addrtype")) {
    bool src = opt[2] == 's';
    if (value(st, opt, buf, sizeof(buf), NULL) != 0)
      return -1;
    *(src ? &rule->src_type : &rule->dst_type) = kp_arena_strdup(&st->snap->arena, buf);
    *(src ? &rule->src_type_negated : &rule->dst_type_negated) = st->negate;
    return 0;
  }
  if (!strcmp(opt, "--match-set") && module_is(st, "set")) {
    char flags[64];
    if (value(st, opt, buf, sizeof(buf), NULL) != 0 ||
        value(st, opt, flags, sizeof(flags), NULL) != 0)
      return -1;
    rule->match_set = kp_arena_strdup(&st->snap->arena, buf);
    rule->match_set_flags = kp_arena_strdup(&st->snap->arena, flags);
    rule->match_set_negated = st->negate;
    return 0;
  }
  if ((!strcmp(opt, "--ctstate") && module_is(st, "conntrack")) ||
      (!strcmp(opt, "--state") && module_is(st, "state"))) {
    if (value(st, opt, buf + 1, sizeof(buf) - 1, NULL) != 0)
      return -1;
    buf[0] = '!';              /* no negation flag in the model: "!RELATED,ESTABLISHED" */
    if (rule->ctstate == NULL) /* the first one wins, as for comments */
      rule->ctstate = kp_arena_strdup(&st->snap->arena, st->negate ? buf : buf + 1);
    return 0;
  }
  if (!strcmp(opt, "--probability") && module_is(st, "statistic"))
    return opt_string(st, opt, &rule->probability);
  if ((!strcmp(opt, "--to-destination") && target_is(rule, "DNAT")) ||
      (!strcmp(opt, "--to-source") && target_is(rule, "SNAT"))) {
    struct tok t;
    if (value(st, opt, NULL, 0, &t) != 0)
      return -1;
    rule->nat_text = tok_arena(st->snap, &t);
    if (rule->nat_text != NULL)
      kp_ipt_parse_nat_to(st->snap, rule, rule->nat_text, strlen(rule->nat_text));
    return 0;
  }
  if (target_is(rule, "MARK") &&
      (!strcmp(opt, "--set-xmark") || !strcmp(opt, "--set-mark") || !strcmp(opt, "--or-mark") ||
       !strcmp(opt, "--xor-mark") || !strcmp(opt, "--and-mark")))
    return opt_mark_target(st, opt);
  if (!strcmp(opt, "--random-fully")) {
    rule->random_fully = true;
    return 0;
  }
  if (!strcmp(opt, "--reject-with") && target_is(rule, "REJECT"))
    return opt_string(st, opt, &rule->reject_with);
  return skip_values(st);
}

int kp_parse_ipt_rule_args(struct kp_snapshot *snap, struct kp_rule *rule, const char *args,
                           size_t len, struct kp_dump_error *err) {
  struct args_state st = {.snap = snap, .rule = rule, .cur = {args, args + len, err}};
  if (rule->text == NULL) {
    rule->text = kp_ipt_strndup(snap, args, len);
    if (rule->text == NULL)
      return fail(&st, "out of memory%s", "");
  }
  for (;;) {
    struct tok t;
    int r = next_tok(&st.cur, &t);
    if (r < 0)
      return fail(&st, "unterminated quote or trailing backslash in %s", "rule");
    if (r == 0)
      return 0;
    if (tok_is(&t, "!")) {
      st.negate = true;
      continue;
    }
    if (is_option(&t) && one_option(&st, &t) != 0)
      return -1;
    /* A stray word (not after an option) is ignored, like the options the
     * model does not know. */
    st.negate = false;
  }
}
