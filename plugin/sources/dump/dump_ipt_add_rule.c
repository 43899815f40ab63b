/* Adds one rule line of an iptables save or -S listing to its chain: the
 * rule's text and counters, its arguments decoded by dump_ipt_args.c, the
 * -I position. Kept out of the value helpers (dump_ipt_util.c): the
 * argument decoder calls those, so they must not call it back. */
#include "dump_ipt_internal.h"

#include <stdio.h>
#include <string.h>

/* Adds the rule "args" (whole line in line/n) to chain; index>=0 inserts
 * (iptables -I, 0-based). */
int kp_ipt_add_rule(struct kp_snapshot *snap, struct kp_chain *chain, const char *line, size_t n,
                    size_t args_at, long insert_at, const struct kp_counters *counters,
                    const char *source, size_t lineno, struct kp_dump_error *err,
                    struct kp_rule **out) {
  struct kp_rule *rule = kp_chain_add_rule(snap, chain);
  if (rule == NULL)
    return kp_dump_oom(err, source, lineno);
  rule->line = lineno;
  rule->source = chain->table->source;
  rule->text = kp_ipt_strndup(snap, line, n);
  if (counters != NULL)
    rule->counters = *counters;
  if (rule->text == NULL)
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
      ((struct kp_rule *)items[i])->index = i;
  }
  if (out != NULL)
    *out = rule;
  return 0;
}
