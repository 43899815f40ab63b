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
  return kp_dump_fail(st->cur.err, NULL, 0, fmt, what);
}

static int oom(struct args_state *st) {
  return kp_dump_oom(st->cur.err, NULL, 0);
}

/* Every arena copy goes through here: NULL is out of memory. */
static int keep(struct args_state *st, const char **out, const char *copy) {
  if (copy == NULL)
    return oom(st);
  *out = copy;
  return 0;
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
  if (addr->kind == KP_ADDR_NAME && kp_addr_name(addr) == NULL)
    return oom(st);
  if (st->negate)
    addr->negated = true;
  return 0;
}

static int opt_iface(struct args_state *st, const char *opt, const char **out) {
  char buf[64];
  if (value(st, opt, buf + 1, sizeof(buf) - 1, NULL) != 0)
    return -1;
  buf[0] = '!'; /* the model has no negation flag for interfaces: keep the '!' */
  return keep(st, out, kp_arena_strdup(&st->snap->arena, st->negate ? buf : buf + 1));
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
  if (*out != NULL) /* the first one wins (a rule with two comments) */
    return 0;
  return keep(st, out, tok_arena(st->snap, &t));
}

/* One handler per option of the table below; opt is the spelling used. */
typedef int (*option_fn)(struct args_state *st, const char *opt);

static int on_src(struct args_state *st, const char *opt) {
  return opt_addr(st, opt, &st->rule->src);
}

static int on_dst(struct args_state *st, const char *opt) {
  return opt_addr(st, opt, &st->rule->dst);
}

static int on_proto(struct args_state *st, const char *opt) {
  char buf[256];
  struct kp_rule *rule = st->rule;
  if (value(st, opt, buf, sizeof(buf), NULL) != 0)
    return -1;
  if (kp_ipt_parse_proto(buf, strlen(buf), &rule->proto_present, &rule->proto) != 0)
    return 0; /* an unusual protocol name: left in the text */
  rule->proto_negated = st->negate;
  return 0;
}

static int on_in_iface(struct args_state *st, const char *opt) {
  return opt_iface(st, opt, &st->rule->ext->in_iface);
}

static int on_out_iface(struct args_state *st, const char *opt) {
  return opt_iface(st, opt, &st->rule->ext->out_iface);
}

static int on_match(struct args_state *st, const char *opt) {
  struct tok t;
  if (value(st, opt, NULL, 0, &t) != 0)
    return -1;
  if (tok_text(&t, st->module, sizeof(st->module)) < 0)
    snprintf(st->module, sizeof(st->module), "?"); /* no match we model has a long name */
  return 0;
}

/* "-j KUBE-POSTROUTI        NG": a terminal wrapped the line inside the
 * name (kubernetes/kubernetes#61944). iptables writes no word after a
 * target without options: one last plain word there is the name's end. */
static const char *wrapped_target(struct args_state *st, const struct tok *t) {
  struct cursor save = st->cur;
  struct tok tail, more;
  if (t->special || next_tok(&st->cur, &tail) != 1 || tail.special || is_option(&tail) ||
      tok_is(&tail, "!") || next_tok(&st->cur, &more) != 0) {
    st->cur = save;
    return tok_arena(st->snap, t);
  }
  char name[256];
  snprintf(name, sizeof(name), "%.*s%.*s", (int)t->n, t->raw, (int)tail.n, tail.raw);
  return kp_arena_strdup(&st->snap->arena, name);
}

static int opt_target(struct args_state *st, const char *opt, bool go) {
  struct tok t;
  if (value(st, opt, NULL, 0, &t) != 0)
    return -1;
  struct kp_rule *rule = st->rule;
  if (keep(st, &rule->target_name, wrapped_target(st, &t)) != 0)
    return -1;
  rule->target = go ? KP_TARGET_GOTO : kp_target_kind_from_name(rule->target_name);
  st->module[0] = '\0';
  return 0;
}

static int on_jump(struct args_state *st, const char *opt) {
  return opt_target(st, opt, false);
}

static int on_goto(struct args_state *st, const char *opt) {
  return opt_target(st, opt, true);
}

static int on_counters(struct args_state *st, const char *opt) {
  char b1[256], b2[32];
  bool s1, s2;
  struct kp_counters c = {true, 0, 0};
  if (value(st, opt, b1, sizeof(b1), NULL) != 0 || value(st, opt, b2, sizeof(b2), NULL) != 0)
    return -1;
  if (kp_ipt_parse_count(b1, strlen(b1), &c.packets, &s1) != 0 ||
      kp_ipt_parse_count(b2, strlen(b2), &c.bytes, &s2) != 0 || s1 || s2)
    return fail(st, "bad counters after %s", opt);
  kp_rule_set_counters(st->rule, &c);
  return 0;
}

static int on_flag(struct args_state *st, const char *opt) {
  (void)st, (void)opt; /* -f: an option without a value the model does not hold */
  return 0;
}

static int on_comment(struct args_state *st, const char *opt) {
  return opt_string(st, opt, &st->rule->comment);
}

static int on_dport(struct args_state *st, const char *opt) {
  return opt_ports(st, opt, &st->rule->dport);
}

static int on_sport(struct args_state *st, const char *opt) {
  return opt_ports(st, opt, &st->rule->ext->sport);
}

static int on_mark(struct args_state *st, const char *opt) {
  char buf[256];
  struct kp_rule *rule = st->rule;
  if (value(st, opt, buf, sizeof(buf), NULL) != 0)
    return -1;
  if (kp_ipt_parse_mark(buf, strlen(buf), &rule->ext->mark.value, &rule->ext->mark.mask) != 0)
    return fail(st, "bad mark value for %s", opt);
  rule->ext->mark.present = true;
  rule->ext->mark.negated = st->negate;
  return 0;
}

static int on_addrtype(struct args_state *st, const char *opt) {
  char buf[256];
  struct kp_rule_ext *x = st->rule->ext;
  bool src = opt[2] == 's';
  if (value(st, opt, buf, sizeof(buf), NULL) != 0 ||
      keep(st, src ? &x->src_type : &x->dst_type, kp_arena_strdup(&st->snap->arena, buf)))
    return -1;
  *(src ? &x->src_type_negated : &x->dst_type_negated) = st->negate;
  return 0;
}

static int on_match_set(struct args_state *st, const char *opt) {
  char buf[256], flags[64];
  struct kp_rule *rule = st->rule;
  if (value(st, opt, buf, sizeof(buf), NULL) != 0 ||
      value(st, opt, flags, sizeof(flags), NULL) != 0 ||
      keep(st, &rule->ext->match_set, kp_arena_strdup(&st->snap->arena, buf)) != 0 ||
      keep(st, &rule->ext->match_set_flags, kp_arena_strdup(&st->snap->arena, flags)) != 0)
    return -1;
  rule->ext->match_set_negated = st->negate;
  return 0;
}

static int on_ctstate(struct args_state *st, const char *opt) {
  char buf[256];
  if (value(st, opt, buf + 1, sizeof(buf) - 1, NULL) != 0)
    return -1;
  buf[0] = '!';                       /* no negation flag in the model: "!RELATED,ESTABLISHED" */
  if (st->rule->ext->ctstate != NULL) /* the first one wins, as for comments */
    return 0;
  return keep(st, &st->rule->ext->ctstate,
              kp_arena_strdup(&st->snap->arena, st->negate ? buf : buf + 1));
}

static int on_probability(struct args_state *st, const char *opt) {
  return opt_string(st, opt, &st->rule->probability);
}

static int on_nat_to(struct args_state *st, const char *opt) {
  struct tok t;
  struct kp_rule_ext *x = st->rule->ext;
  if (value(st, opt, NULL, 0, &t) != 0 || keep(st, &x->nat_text, tok_arena(st->snap, &t)) != 0)
    return -1;
  kp_ipt_parse_nat_to(st->snap, st->rule, x->nat_text, strlen(x->nat_text));
  return 0;
}

static int on_mark_target(struct args_state *st, const char *opt) {
  char buf[64];
  uint32_t v, m;
  if (value(st, opt, buf, sizeof(buf), NULL) != 0)
    return -1;
  size_t n = strlen(buf);
  struct kp_rule *rule = st->rule;
  if (strcmp(opt, "--set-xmark") == 0 || strcmp(opt, "--set-mark") == 0) {
    if (kp_ipt_parse_mark(buf, n, &v, &m) != 0)
      return fail(st, "bad mark value for %s", opt);
    rule->ext->xmark_value = v;
    /* libxt_MARK: --set-mark v/m is xmark v/(v|m) */
    rule->ext->xmark_mask = strcmp(opt, "--set-mark") == 0 ? (m | v) : m;
  } else {
    if (kp_ipt_parse_u32(buf, n, &v) != 0)
      return fail(st, "bad mark value for %s", opt);
    if (strcmp(opt, "--or-mark") == 0) {
      rule->ext->xmark_value = v;
      rule->ext->xmark_mask = v;
    } else if (strcmp(opt, "--xor-mark") == 0) {
      rule->ext->xmark_value = v;
      rule->ext->xmark_mask = 0;
    } else { /* --and-mark */
      rule->ext->xmark_value = 0;
      rule->ext->xmark_mask = ~v;
    }
  }
  rule->ext->mark_target = true;
  return 0;
}

static int on_random_fully(struct args_state *st, const char *opt) {
  (void)opt;
  st->rule->random_fully = true;
  return 0;
}

static int on_reject_with(struct args_state *st, const char *opt) {
  return opt_string(st, opt, &st->rule->ext->reject_with);
}

/* When an option belongs to what came before it: any time, after its -m
 * match (or before any, as for --comment and ports), after its -j target. */
enum option_scope { ANYWHERE, IN_MATCH, IN_MATCH_OR_NONE, IN_PORT_MATCH, AFTER_TARGET };

static const struct option_spec {
  const char *spellings[3];
  enum option_scope scope;
  const char *owner; /* the match or target the scope names */
  option_fn parse;
} options[] = {
    {{"-s", "--source", "--src"}, ANYWHERE, NULL, on_src},
    {{"-d", "--destination", "--dst"}, ANYWHERE, NULL, on_dst},
    {{"-p", "--protocol"}, ANYWHERE, NULL, on_proto},
    {{"-i", "--in-interface"}, ANYWHERE, NULL, on_in_iface},
    {{"-o", "--out-interface"}, ANYWHERE, NULL, on_out_iface},
    {{"-m", "--match"}, ANYWHERE, NULL, on_match},
    {{"-j", "--jump"}, ANYWHERE, NULL, on_jump},
    {{"-g", "--goto"}, ANYWHERE, NULL, on_goto},
    {{"-c", "--set-counters"}, ANYWHERE, NULL, on_counters},
    {{"-f", "--fragment"}, ANYWHERE, NULL, on_flag},
    {{"--comment"}, IN_MATCH_OR_NONE, "comment", on_comment},
    {{"--dport", "--destination-port"}, IN_PORT_MATCH, NULL, on_dport},
    {{"--sport", "--source-port"}, IN_PORT_MATCH, NULL, on_sport},
    {{"--mark"}, IN_MATCH, "mark", on_mark},
    {{"--src-type", "--dst-type"}, IN_MATCH, "addrtype", on_addrtype},
    {{"--match-set"}, IN_MATCH, "set", on_match_set},
    {{"--ctstate"}, IN_MATCH, "conntrack", on_ctstate},
    {{"--state"}, IN_MATCH, "state", on_ctstate},
    {{"--probability"}, IN_MATCH, "statistic", on_probability},
    {{"--to-destination"}, AFTER_TARGET, "DNAT", on_nat_to},
    {{"--to-source"}, AFTER_TARGET, "SNAT", on_nat_to},
    {{"--set-xmark", "--set-mark"}, AFTER_TARGET, "MARK", on_mark_target},
    {{"--or-mark", "--xor-mark", "--and-mark"}, AFTER_TARGET, "MARK", on_mark_target},
    {{"--random-fully"}, ANYWHERE, NULL, on_random_fully},
    {{"--reject-with"}, AFTER_TARGET, "REJECT", on_reject_with},
};

static bool in_scope(const struct args_state *st, const struct option_spec *spec) {
  switch (spec->scope) {
  case IN_MATCH:
    return module_is(st, spec->owner);
  case IN_MATCH_OR_NONE:
    return module_is(st, spec->owner) || st->module[0] == '\0';
  case IN_PORT_MATCH:
    return port_module(st);
  case AFTER_TARGET:
    return target_is(st->rule, spec->owner);
  case ANYWHERE:
  default:
    return true;
  }
}

static const struct option_spec *find_option(const struct args_state *st, const char *opt) {
  for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
    for (size_t k = 0; k < 3 && options[i].spellings[k] != NULL; k++)
      if (strcmp(opt, options[i].spellings[k]) == 0 && in_scope(st, &options[i]))
        return &options[i];
  return NULL;
}

static int one_option(struct args_state *st, const struct tok *opt_tok) {
  char opt[40];
  if (tok_text(opt_tok, opt, sizeof(opt)) < 0)
    return skip_values(st);
  const struct option_spec *spec = find_option(st, opt);
  return spec != NULL ? spec->parse(st, opt) : skip_values(st);
}

int kp_parse_ipt_rule_args(struct kp_snapshot *snap, struct kp_rule *rule, const char *args,
                           size_t len, struct kp_dump_error *err) {
  struct args_state st = {.snap = snap, .rule = rule, .cur = {args, args + len, err}};
  /* A dump's rule always has its extension: the options write into it. */
  if (kp_rule_ext_mut(snap, rule) == NULL ||
      (rule->ext->text == NULL && (rule->ext->text = kp_ipt_strndup(snap, args, len)) == NULL))
    return oom(&st);
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
