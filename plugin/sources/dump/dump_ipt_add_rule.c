/* Line helpers of the iptables-save and -S parsers (dump_ipt_save.c,
 * dump_ipt_rules.c): words of a line, and adding a parsed rule to its
 * chain. */
#include "dump_ipt_internal.h"

#include <stdio.h>
#include <string.h>

size_t kp_ipt_skip_blanks(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  return i;
}

static size_t word_end(const char *s, size_t n, size_t i) {
  while (i < n && s[i] != ' ' && s[i] != '\t')
    i++;
  return i;
}

/* The next blank-separated word as a NUL-terminated string in out; *pos
 * moves past it. -1 when there is none or it does not fit. */
int kp_ipt_take_word(const char *s, size_t n, size_t *pos, char *out, size_t cap) {
  size_t b = kp_ipt_skip_blanks(s, n, *pos), e = word_end(s, n, b);
  if (e == b || e - b >= cap)
    return -1;
  memcpy(out, s + b, e - b);
  out[e - b] = '\0';
  *pos = e;
  return 0;
}

/* Adds the rule "args" (whole line in line/n) to chain; index>=0 inserts
 * (iptables -I, 0-based). */
int kp_ipt_add_rule(struct kp_snapshot *snap, struct kp_chain *chain, const char *line, size_t n,
                    size_t args_at, long insert_at, const struct kp_counters *counters,
                    const char *source, size_t lineno, struct kp_dump_error *err,
                    struct kp_rule **out) {
  struct kp_rule *rule = kp_chain_add_rule(snap, chain);
  if (rule == NULL)
    return kp_dump_oom(err, source, lineno);
  struct kp_rule_ext *ext = kp_rule_ext_mut(snap, rule);
  if (ext == NULL)
    return kp_dump_oom(err, source, lineno);
  ext->line = lineno;
  ext->text = kp_ipt_strndup(snap, line, n);
  if (counters != NULL)
    kp_rule_set_counters(rule, counters);
  if (ext->text == NULL)
    return kp_dump_oom(err, source, lineno);
  if (kp_parse_ipt_rule_args(snap, rule, line + args_at, n - args_at, err) != 0) {
    chain->rules.count--; /* a rule that did not parse is not kept */
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    return kp_dump_fail(err, source, lineno, "%s", msg);
  }
  if (insert_at >= 0 && (size_t)insert_at < chain->rules.count - 1) {
    void **items = chain->rules.items;
    size_t last = chain->rules.count - 1;
    memmove(items + insert_at + 1, items + insert_at, (last - (size_t)insert_at) * sizeof(*items));
    items[insert_at] = rule;
    for (size_t i = (size_t)insert_at; i <= last; i++)
      ((struct kp_rule *)items[i])->index = (uint32_t)i;
  }
  if (out != NULL)
    *out = rule;
  return 0;
}
