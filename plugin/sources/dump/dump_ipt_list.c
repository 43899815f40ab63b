/* `iptables -L [-n] [-v] [-x] [--line-numbers]` output into the snapshot.
 * The listing does not name its table: it is inferred from the built-in
 * chains (and kube-proxy's nat-only names) once the listing is complete. A
 * chain name seen twice starts the next listing of a concatenated file. */
#include "dump_ipt_internal.h"
#include "dump_ipt_span.h"
#include "dump_parsers.h"

#include <stdio.h>
#include <string.h>

#define PENDING_TABLE "(pending)"
#define MAX_COLS 11

struct list_state {
  struct kp_snapshot *snap;
  const char *source;
  struct kp_dump_error *err;
  enum kp_backend backend;
  struct kp_table *table; /* the current listing, named at its end */
  unsigned builtins;
  bool nat_hint, ipv6;
  bool guess_nat; /* a rule kube-proxy puts in nat (used for fragments only) */
  size_t listings, first_line, last_line;
  struct kp_chain *chain;
  bool have_header, has_num, has_counters, has_iface;
  size_t gap_line;                /* the first "--" / "..." of the current listing, 0 when none */
  bool filtered;                  /* rule lines without a header line: a grep'd listing */
  size_t unplaced, unplaced_line; /* rule lines before any Chain line */
};

static int listing_finish(struct list_state *st) {
  struct kp_table *t = st->table;
  if (t == NULL)
    return 0;
  bool whole = kp_ipt_builtins_whole(st->builtins);
  t->name = kp_ipt_infer_table(st->builtins, st->nat_hint || (!whole && st->guess_nat));
  t->family = st->ipv6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  struct kp_chain *last = st->chain;
  st->table = NULL;
  st->chain = NULL;
  if (st->gap_line != 0 && kp_ipt_note(st->snap, KP_NOTE_FRAGMENT, st->source, st->gap_line, t,
                                       "lines left out (\"--\" or \"...\")", st->err) != 0)
    return -1;
  st->gap_line = 0;
  if (st->filtered) {
    st->filtered = false;
    t->partial = true;
    for (size_t c = 0; c < t->chains.count; c++)
      ((struct kp_chain *)t->chains.items[c])->cut = true;
    if (kp_ipt_note(st->snap, KP_NOTE_FRAGMENT, st->source, st->first_line, t,
                    "no column header line: a filtered listing (grep)", st->err) != 0)
      return -1;
  }
  const char *missing = kp_ipt_unlisted_jump(t);
  const char *empty = whole && missing == NULL ? kp_ipt_mark_trailing_cut(t) : NULL;
  if (empty != NULL) {
    char why[320];
    snprintf(why, sizeof(why), "%.200s shows fewer rules than kube-proxy writes there", empty);
    return kp_ipt_note(st->snap, KP_NOTE_CUT, st->source, st->last_line, t, why, st->err);
  }
  if (whole && missing == NULL)
    return 0;
  /* chains are missing: where the listing stops, its last chain may be
   * missing rules too (a cut between two whole lines leaves no trace) */
  if (missing != NULL && last != NULL)
    last->cut = true;
  char why[320];
  if (missing != NULL) /* the line: where the listing ends */
    snprintf(why, sizeof(why), "chain %.200s is jumped to but not listed", missing);
  else
    snprintf(why, sizeof(why), "a listing of some chains only");
  t->partial = true;
  if (kp_ipt_note(st->snap, KP_NOTE_FRAGMENT, st->source, missing ? st->last_line : st->first_line,
                  t, why, st->err) != 0 ||
      (!whole && kp_ipt_note(st->snap, KP_NOTE_TABLE_GUESSED, st->source, st->first_line, t, NULL,
                             st->err) != 0))
    return -1;
  return 0;
}

static int listing_start(struct list_state *st, size_t lineno) {
  if (listing_finish(st) != 0)
    return -1;
  st->first_line = lineno;
  st->guess_nat = false;
  st->table = kp_snapshot_table(st->snap, KP_FAMILY_IPV4, st->backend, PENDING_TABLE, true);
  if (st->table == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  st->table->source = st->source;
  st->builtins = 0;
  st->nat_hint = st->ipv6 = false;
  st->listings++;
  return 0;
}

static int parse_counter(struct list_state *st, struct span s, uint64_t *value, const char **text) {
  bool suffixed;
  if (kp_ipt_parse_count(s.p, s.n, value, &suffixed) != 0)
    return -1;
  *text = NULL;
  if (suffixed && (*text = kp_ipt_strndup(st->snap, s.p, s.n)) == NULL)
    return -1;
  return 0;
}

/* "Chain NAME (policy ACCEPT 0 packets, 0 bytes)", "(policy DROP)",
 * "(3 references)". */
static int chain_line(struct list_state *st, const char *line, size_t n, size_t lineno) {
  struct span w[8];
  size_t count = split(line, n, w, 8);
  if (count < 3 || w[2].p[0] != '(' || line[n - 1] != ')')
    return kp_dump_fail(st->err, st->source, lineno, "malformed Chain line");
  char name[256];
  if (w[1].n >= sizeof(name))
    return kp_dump_fail(st->err, st->source, lineno, "chain name too long");
  memcpy(name, w[1].p, w[1].n);
  name[w[1].n] = '\0';
  if (st->table == NULL || kp_table_chain(st->table, name) != NULL)
    if (listing_start(st, lineno) != 0)
      return -1;
  struct kp_chain *chain = kp_table_add_chain(st->snap, st->table, name);
  if (chain == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  st->chain = chain;
  st->have_header = false;
  st->nat_hint |= kp_ipt_is_nat_name(name);
  /* The words inside the parentheses, without them. */
  const char *in = w[2].p + 1;
  size_t in_n = (size_t)(line + n - 1 - in);
  count = split(in, in_n, w, 8);
  if (count >= 2 && sp_is(w[0], "policy") && (count == 2 || count == 6)) {
    chain->builtin = true;
    struct kp_chain_ext *cx = kp_chain_ext_mut(st->snap, chain);
    if (cx == NULL)
      return kp_dump_oom(st->err, st->source, lineno);
    cx->policy = kp_ipt_strndup(st->snap, w[1].p, w[1].n);
    st->builtins |= kp_ipt_builtin_bit(name);
    if (count == 6) {
      if (!sp_is(w[3], "packets,") || !sp_is(w[5], "bytes") ||
          parse_counter(st, w[2], &cx->policy_counters.packets,
                        &cx->policy_counter_texts.packets) != 0 ||
          parse_counter(st, w[4], &cx->policy_counters.bytes, &cx->policy_counter_texts.bytes) != 0)
        return kp_dump_fail(st->err, st->source, lineno, "malformed policy counters");
      cx->policy_counters.present = true;
    }
    return 0;
  }
  uint32_t refs;
  if (count == 2 && (sp_is(w[1], "references") || sp_is(w[1], "reference")) &&
      kp_ipt_parse_u32(w[0].p, w[0].n, &refs) == 0 && refs <= 0x7fffffff) {
    chain->dump_references = (int)refs;
    return 0;
  }
  return kp_dump_fail(st->err, st->source, lineno, "malformed Chain line");
}

static int header_line(struct list_state *st, const char *line, size_t n, size_t lineno) {
  struct span w[16];
  size_t count = split(line, n, w, 16);
  bool target = false, source = false, dest = false;
  st->has_num = st->has_counters = st->has_iface = false;
  for (size_t i = 0; i < count; i++) {
    st->has_num |= i == 0 && sp_is(w[i], "num");
    st->has_counters |= sp_is(w[i], "pkts");
    st->has_iface |= sp_is(w[i], "in");
    target |= sp_is(w[i], "target");
    source |= sp_is(w[i], "source");
    dest |= sp_is(w[i], "destination");
  }
  if (!target || !source || !dest)
    return kp_dump_fail(st->err, st->source, lineno, "expected the column header line");
  st->have_header = true;
  return 0;
}

/* A rule line where the header should be: a grep'd listing (`-L | grep
 * kube`). Its columns are told from the line; every chain may miss rules
 * the grep left out. True when so (then the line is a rule line). */
static bool headerless_row(struct list_state *st, const char *line, size_t n) {
  bool num, counters;
  /* a grep shows itself: rule lines before any Chain line, or the header
   * missing under a KUBE- chain (a built-in chain's listing has it) */
  bool grep = st->unplaced > 0 || st->filtered || strncmp(st->chain->name, "KUBE-", 5) == 0;
  if (!grep || !kp_ipt_list_columns(line, n, &num, &counters))
    return false;
  st->has_num = num;
  st->has_counters = st->has_iface = counters;
  st->have_header = st->filtered = true;
  return true;
}

/* The opt column: "--", "-f", "!f" (blank for ip6tables). */
static bool is_opt(struct span s) {
  return s.n == 2 && (s.p[0] == '-' || s.p[0] == '!') && (s.p[1] == '-' || s.p[1] == 'f');
}

static int row_addr(struct list_state *st, struct span s, struct kp_addr *addr) {
  char buf[256];
  if (s.n >= sizeof(buf))
    return -1;
  memcpy(buf, s.p, s.n);
  buf[s.n] = '\0';
  if (kp_addr_parse(&st->snap->arena, buf, addr) != 0)
    return -1;
  /* "::/0" is ip6tables' "anywhere": IPv6 too, though no host address */
  st->ipv6 |= addr->kind == KP_ADDR_IPV6 || memchr(s.p, ':', s.n) != NULL;
  return 0;
}

static const char *row_iface(struct list_state *st, struct span s) {
  return sp_is(s, "*") ? NULL : kp_ipt_strndup(st->snap, s.p, s.n);
}

static int row_line(struct list_state *st, const char *line, size_t n, size_t lineno) {
  struct span t[MAX_COLS];
  size_t count = split(line, n, t, MAX_COLS);
  size_t k = (st->has_num ? 1 : 0) + (st->has_counters ? 2 : 0);
  if (count < k + 3)
    return kp_dump_fail(st->err, st->source, lineno, "rule line with too few columns");
  /* An empty target leaves a blank column: find it by the opt column, or
   * for ip6tables (blank opt) by the width of the gap before prot. */
  bool has_target, has_opt = true;
  if (is_opt(t[k + 1])) {
    has_target = false;
  } else if (count > k + 2 && is_opt(t[k + 2])) {
    has_target = true;
  } else {
    size_t prev_end = k ? (size_t)(t[k - 1].p + t[k - 1].n - line) : 0;
    size_t gap = (size_t)(t[k].p - line) - prev_end;
    size_t expected = st->has_counters ? 1 : k ? (t[0].n < 4 ? 5 - t[0].n : 1) : 0;
    has_target = gap <= expected + 4;
    has_opt = false;
  }
  size_t need = k + (has_target ? 1 : 0) + 1 + (has_opt ? 1 : 0) + (st->has_iface ? 2 : 0) + 2;
  if (count < need)
    return kp_dump_fail(st->err, st->source, lineno, "rule line with too few columns");
  struct kp_rule *rule = kp_chain_add_rule(st->snap, st->chain);
  struct kp_rule_ext *ext = rule != NULL ? kp_rule_ext_mut(st->snap, rule) : NULL;
  if (ext == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  ext->line = lineno;
  ext->source = st->source;
  ext->text = kp_ipt_strndup(st->snap, line, n);
  size_t i = st->has_num ? 1 : 0;
  if (st->has_counters) {
    struct kp_counters c = {true, 0, 0};
    if (parse_counter(st, t[i], &c.packets, &ext->counter_texts.packets) != 0 ||
        parse_counter(st, t[i + 1], &c.bytes, &ext->counter_texts.bytes) != 0)
      return kp_dump_fail(st->err, st->source, lineno, "malformed counter");
    kp_rule_set_counters(rule, &c);
  }
  i = k;
  if (has_target) {
    rule->target_name = kp_ipt_strndup(st->snap, t[i].p, t[i].n);
    if (rule->target_name == NULL)
      return kp_dump_oom(st->err, st->source, lineno);
    rule->target = kp_target_kind_from_name(rule->target_name);
    st->nat_hint |= kp_ipt_is_nat_name(rule->target_name);
    char args[300];
    int an = snprintf(args, sizeof(args), "-j %.*s", (int)t[i].n, t[i].p);
    /* snprintf returns what it would have written: a long target is cut */
    size_t args_len = an < 0 ? 0 : (size_t)an < sizeof(args) ? (size_t)an : sizeof(args) - 1;
    const char *guess = kp_ipt_guess_table(st->chain->name, args, args_len);
    st->guess_nat |= guess != NULL && strcmp(guess, "nat") == 0;
    i++;
  }
  struct span prot = t[i++];
  if (prot.n > 1 && prot.p[0] == '!') {
    rule->proto_negated = true;
    prot.p++;
    prot.n--;
  }
  kp_ipt_parse_proto(prot.p, prot.n, &rule->proto_present, &rule->proto);
  if (has_opt)
    i++;
  if (st->has_iface) {
    rule->ext->in_iface = row_iface(st, t[i++]);
    rule->ext->out_iface = row_iface(st, t[i++]);
  }
  if (row_addr(st, t[i], &rule->src) != 0 || row_addr(st, t[i + 1], &rule->dst) != 0)
    return kp_dump_fail(st->err, st->source, lineno, "malformed address column");
  i += 2;
  if (i < count) {
    size_t at = (size_t)(t[i].p - line);
    kp_ipt_list_extra(st->snap, rule, line + at, n - at);
  }
  return 0;
}

/* A rule line before any Chain line (a grep left its Chain line out):
 * counted for a note, not placed. */
static bool unplaced_row(struct list_state *st, const char *line, size_t n, size_t lineno) {
  bool num, counters;
  if (!kp_ipt_list_columns(line, n, &num, &counters))
    return false;
  if (st->unplaced++ == 0)
    st->unplaced_line = lineno;
  return true;
}

static int list_line(void *arg, const char *line, size_t n, size_t lineno) {
  struct list_state *st = arg;
  size_t b = 0;
  while (b < n && is_blank(line[b]))
    b++;
  if (b == n || line[b] == '#')
    return 0;
  if ((n - b == 2 && memcmp(line + b, "--", 2) == 0) ||
      (n - b == 3 && memcmp(line + b, "...", 3) == 0)) {
    /* grep -A/-B/-C's group separator (or a "..."): lines were left out
     * after it, so the chain it ends may be missing rules */
    if (st->chain != NULL)
      st->chain->cut = true;
    if (st->table != NULL)
      st->table->partial = true;
    if (st->table != NULL && st->gap_line == 0)
      st->gap_line = lineno;
    return 0;
  }
  int rc;
  if (n >= 6 && memcmp(line, "Chain ", 6) == 0)
    rc = chain_line(st, line, n, lineno);
  else if (st->chain == NULL && unplaced_row(st, line, n, lineno))
    rc = 0; /* its chain is not shown */
  else if (st->chain == NULL)
    rc = kp_dump_fail(st->err, st->source, lineno, "line before any Chain line");
  else if (!st->have_header && headerless_row(st, line, n))
    rc = row_line(st, line, n, lineno);
  else if (!st->have_header)
    rc = header_line(st, line, n, lineno);
  else
    rc = row_line(st, line, n, lineno);
  st->last_line = lineno; /* after: a Chain line of the next listing ends this one before it */
  return rc;
}

int kp_parse_ipt_list(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err) {
  struct list_state st = {.snap = snap, .err = err};
  st.source = kp_arena_strdup(&snap->arena, source ? source : "");
  if (st.source == NULL)
    return kp_dump_oom(err, source, 0);
  if (kp_ipt_note_other_backend(snap, st.source, buf, len, &st.backend, err) != 0)
    return -1;
  int rc = kp_ipt_each_line(buf, len, source, err, list_line, &st);
  if (rc != 0 && st.chain != NULL && err != NULL &&
      err->line == kp_ipt_unterminated_line(buf, len) &&
      strstr(err->message, "out of memory") == NULL) {
    /* the last line, without its newline, cut mid-rule: the listing so
     * far is kept */
    size_t cut_line = err->line;
    memset(err, 0, sizeof(*err));
    struct kp_chain *chain = st.chain;
    if (chain->rules.count > 0 &&
        kp_rule_ext(chain->rules.items[chain->rules.count - 1])->line == cut_line)
      chain->rules.count--; /* half read */
    chain->cut = true;
    st.table->partial = true;
    char why[320];
    snprintf(why, sizeof(why), "last line cut mid-rule in chain %.200s", chain->name);
    rc = kp_ipt_note(snap, KP_NOTE_CUT, st.source, cut_line, NULL, why, err);
  }
  if (listing_finish(&st) != 0 || rc != 0)
    return -1;
  if (st.listings == 0)
    return kp_dump_fail(err, source, st.unplaced_line, "no Chain line: not iptables -L output");
  if (st.unplaced > 0) {
    char why[96];
    snprintf(why, sizeof(why), "%zu rule line(s) before any Chain line", st.unplaced);
    return kp_ipt_note(snap, KP_NOTE_SKIPPED, st.source, st.unplaced_line, NULL, why, err);
  }
  return 0;
}
