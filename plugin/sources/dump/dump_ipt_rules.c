/* iptables -S output into the snapshot. The listing does not name its
 * table: it is told from the built-in chains once the listing is complete;
 * without its -P lines (grep'd, -S of some chains) it is a fragment and
 * goes through the save parser's headerless path. */
#include "dump_ipt_internal.h"
#include "dump_parsers.h"

#include <stdio.h>
#include <string.h>

#define PENDING_TABLE "(pending)" /* name known only at the listing's end */

struct rules_state {
  struct kp_snapshot *snap;
  const char *source;
  struct kp_dump_error *err;
  enum kp_backend backend;
  struct kp_table *table; /* the current listing, named at its end */
  unsigned builtins;
  bool nat_hint, ipv6, saw_non_policy;
  bool guess_nat; /* a rule kube-proxy puts in nat (used for fragments only) */
  bool gap;       /* lines left out ("--", "...") */
  size_t listings, first_line, last_line;
};

static int rules_finish(struct rules_state *st) {
  struct kp_table *t = st->table;
  if (t == NULL)
    return 0;
  bool whole = kp_ipt_builtins_whole(st->builtins);
  t->name = kp_ipt_infer_table(st->builtins, st->nat_hint || (!whole && st->guess_nat));
  t->family = st->ipv6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  st->table = NULL;
  if (st->gap) {
    st->gap = false;
    t->partial = true;
    for (size_t c = 0; c < t->chains.count; c++)
      ((struct kp_chain *)t->chains.items[c])->cut = true;
    return kp_ipt_note(st->snap, KP_NOTE_FRAGMENT, st->source, st->first_line, t,
                       "lines left out (\"--\" or \"...\")", st->err);
  }
  /* `iptables -S CHAIN`: not every built-in chain of the table. */
  if (whole) {
    const char *empty = kp_ipt_mark_trailing_cut(t);
    char why[320];
    snprintf(why, sizeof(why), "%.200s shows fewer rules than kube-proxy writes there", empty);
    return empty == NULL
               ? 0
               : kp_ipt_note(st->snap, KP_NOTE_CUT, st->source, st->last_line, t, why, st->err);
  }
  t->partial = true;
  if (kp_ipt_note(st->snap, KP_NOTE_FRAGMENT, st->source, st->first_line, t,
                  "a listing of some chains only", st->err) != 0 ||
      kp_ipt_note(st->snap, KP_NOTE_TABLE_GUESSED, st->source, st->first_line, t, NULL, st->err) !=
          0)
    return -1;
  return 0;
}

static int rules_start(struct rules_state *st, size_t lineno) {
  if (rules_finish(st) != 0)
    return -1;
  st->first_line = lineno;
  st->table = kp_snapshot_table(st->snap, KP_FAMILY_IPV4, st->backend, PENDING_TABLE, true);
  if (st->table == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  st->table->source = st->source;
  st->builtins = 0;
  st->nat_hint = st->ipv6 = st->saw_non_policy = st->guess_nat = false;
  st->listings++;
  return 0;
}

static int rules_line(void *arg, const char *line, size_t n, size_t lineno) {
  struct rules_state *st = arg;
  char cmd[8], name[256];
  size_t pos = 0;
  if (n == 0 || line[0] == '#')
    return 0;
  if ((n == 2 && memcmp(line, "--", 2) == 0) || (n == 3 && memcmp(line, "...", 3) == 0)) {
    /* grep's "--", a "...": lines left out; the listing is then only
     * part of its table, each chain may miss rules */
    if (st->table != NULL)
      st->gap = true;
    return 0;
  }
  st->last_line = lineno;
  if (kp_ipt_take_word(line, n, &pos, cmd, sizeof(cmd)) != 0 ||
      kp_ipt_take_word(line, n, &pos, name, sizeof(name)) != 0)
    return kp_dump_fail(st->err, st->source, lineno, "not an iptables -S line");
  bool policy = strcmp(cmd, "-P") == 0, create = strcmp(cmd, "-N") == 0;
  if (!policy && !create && strcmp(cmd, "-A") != 0)
    return kp_dump_fail(st->err, st->source, lineno, "expected -P, -N or -A");
  /* A second listing concatenated: policies again, or a chain seen twice. */
  if (st->table == NULL || (policy && st->saw_non_policy) ||
      ((policy || create) && kp_table_chain(st->table, name) != NULL))
    if (rules_start(st, lineno) != 0)
      return -1;
  struct kp_chain *chain = kp_table_add_chain(st->snap, st->table, name);
  if (chain == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  st->nat_hint |= kp_ipt_is_nat_name(name);
  if (policy) {
    char pol[32], c[4], p[32], b[32];
    bool s1, s2;
    if (kp_ipt_take_word(line, n, &pos, pol, sizeof(pol)) != 0)
      return kp_dump_fail(st->err, st->source, lineno, "-P needs a policy");
    chain->builtin = true;
    struct kp_chain_ext *cx = kp_chain_ext_mut(st->snap, chain);
    if (cx == NULL)
      return kp_dump_oom(st->err, st->source, lineno);
    cx->policy = kp_arena_strdup(&st->snap->arena, pol);
    st->builtins |= kp_ipt_builtin_bit(name);
    if (kp_ipt_take_word(line, n, &pos, c, sizeof(c)) == 0) { /* -S -v: "-c p b" */
      if (strcmp(c, "-c") != 0 || kp_ipt_take_word(line, n, &pos, p, sizeof(p)) != 0 ||
          kp_ipt_take_word(line, n, &pos, b, sizeof(b)) != 0 ||
          kp_ipt_parse_count(p, strlen(p), &cx->policy_counters.packets, &s1) != 0 ||
          kp_ipt_parse_count(b, strlen(b), &cx->policy_counters.bytes, &s2) != 0 || s1 || s2)
        return kp_dump_fail(st->err, st->source, lineno, "malformed policy counters");
      cx->policy_counters.present = true;
    }
    return 0;
  }
  st->saw_non_policy = true;
  if (create) {
    if (kp_ipt_skip_blanks(line, n, pos) != n)
      return kp_dump_fail(st->err, st->source, lineno, "trailing text after -N");
    return 0;
  }
  struct kp_rule *rule = NULL;
  if (kp_ipt_add_rule(st->snap, chain, line, n, pos, -1, NULL, st->source, lineno, st->err,
                      &rule) != 0)
    return -1;
  st->ipv6 |= kp_ipt_rule_is_ipv6(rule);
  if (rule->target_name != NULL)
    st->nat_hint |= kp_ipt_is_nat_name(rule->target_name);
  /* `-S PREROUTING` of nat: where kube-proxy's jump lives tells the table */
  const char *guess = kp_ipt_guess_table(name, line + pos, n - pos);
  st->guess_nat |= guess != NULL && strcmp(guess, "nat") == 0;
  return 0;
}

int kp_parse_ipt_rules(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                       struct kp_dump_error *err) {
  struct rules_state st = {.snap = snap, .err = err};
  st.source = kp_arena_strdup(&snap->arena, source ? source : "");
  if (st.source == NULL)
    return kp_dump_oom(err, source, 0);
  /* Without its -P lines (grep'd, or -S of one chain) the listing is a
   * fragment of rule lines: placed line by line, as headerless save. */
  const char *first = buf, *end = buf + len;
  for (;;) { /* the first line that is not blank or a comment (iptables' warning) */
    while (first < end && (*first == '\n' || *first == ' ' || *first == '\r'))
      first++;
    if (first == end || *first != '#')
      break;
    const char *nl = memchr(first, '\n', (size_t)(end - first));
    first = nl != NULL ? nl + 1 : end;
  }
  if ((size_t)(end - first) < 3 || memcmp(first, "-P ", 3) != 0)
    return kp_parse_ipt_save(snap, source, buf, len, err);
  if (kp_ipt_note_other_backend(snap, st.source, buf, len, &st.backend, err) != 0)
    return -1;
  int rc = kp_ipt_each_line(buf, len, source, err, rules_line, &st);
  /* iptables ends every line with a newline: a last line without one was
   * cut there, and the -N and -A lines that follow the policies in -S
   * order are not in the input. A cut line that does not parse is that
   * cut, not a broken dump. */
  size_t cut_line = kp_ipt_unterminated_line(buf, len);
  struct kp_table *cut_table = cut_line != 0 ? st.table : NULL;
  if (rc != 0 && cut_table != NULL && err->line == cut_line &&
      strstr(err->message, "out of memory") == NULL) {
    memset(err, 0, sizeof(*err));
    rc = 0;
  }
  size_t notes_before = snap->notes.count;
  if (rules_finish(&st) != 0 || rc != 0)
    return -1;
  if (cut_table != NULL) {
    cut_table->partial = true;
    /* (finishing it may have said the cut already, from an empty chain) */
    if (snap->notes.count == notes_before &&
        kp_ipt_note(snap, KP_NOTE_CUT, st.source, cut_line, cut_table,
                    "last line without its newline: the listing was cut there", err) != 0)
      return -1;
  }
  if (st.listings == 0)
    return kp_dump_fail(err, source, 0, "no -P/-N/-A line: not iptables -S output");
  return 0;
}
