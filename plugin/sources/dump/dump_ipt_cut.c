/* A listing cut between two whole lines (iptables -S, -L) leaves no mark
 * in the text; the one trace is a chain kube-proxy never leaves empty
 * shown without rules after the last chain that has some (the rules come
 * in the chains' order). */
#include "dump_ipt_internal.h"

#include <string.h>

static bool never_empty(const char *name, const char *table) {
  /* nat's ends with the jump to KUBE-NODEPORTS (filter's may be empty) */
  if (strcmp(name, "KUBE-SERVICES") == 0)
    return table != NULL && strcmp(table, "nat") == 0;
  static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-",
                                         "KUBE-EXT-", "KUBE-FW-",  "KUBE-XLB-"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return strcmp(name, "KUBE-MARK-MASQ") == 0 || strcmp(name, "KUBE-POSTROUTING") == 0;
}

/* kube-proxy ends a KUBE-SVC/SVL chain with its last endpoint's jump to a
 * KUBE-SEP chain, the one without a probability (corpus STRUCTURE.md
 * 1.2). A last rule with a probability means the rest was cut off; one
 * without a KUBE-SEP target too, where the -L header says something jumps
 * to the chain (an unreferenced one with only its masq rule is a stale
 * leftover, the `stale` check's finding). */
static bool service_chain_unfinished(const struct kp_chain *chain, const char *table) {
  const struct kp_rule *last = chain->rules.items[chain->rules.count - 1];
  /* nat KUBE-SERVICES ends with the jump to KUBE-NODEPORTS ("this must be
   * the last rule"), in IPVS mode with the ACCEPT on the cluster-IP set */
  if (strcmp(chain->name, "KUBE-SERVICES") == 0 && table != NULL && strcmp(table, "nat") == 0)
    return last->target_name == NULL || (strcmp(last->target_name, "KUBE-NODEPORTS") != 0 &&
                                         strcmp(last->target_name, "ACCEPT") != 0);
  if (strncmp(chain->name, "KUBE-SVC-", 9) != 0 && strncmp(chain->name, "KUBE-SVL-", 9) != 0)
    return false;
  if (kp_rule_ext(last)->text != NULL && strstr(kp_rule_ext(last)->text, "statistic") != NULL)
    return true;
  return chain->dump_references > 0 &&
         (last->target_name == NULL || strncmp(last->target_name, "KUBE-SEP-", 9) != 0);
}

const char *kp_ipt_mark_trailing_cut(struct kp_table *t) {
  size_t from = 0; /* the first chain after the last one with rules */
  for (size_t c = 0; c < t->chains.count; c++)
    if (((struct kp_chain *)t->chains.items[c])->rules.count > 0)
      from = c + 1;
  const char *empty = NULL;
  for (size_t c = from; c < t->chains.count && empty == NULL; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (chain->declared && never_empty(chain->name, t->name))
      empty = chain->name;
  }
  if (empty == NULL && from > 0 && service_chain_unfinished(t->chains.items[from - 1], t->name))
    empty = ((struct kp_chain *)t->chains.items[from - 1])->name;
  if (empty == NULL)
    return NULL;
  t->partial = true;
  for (size_t c = from > 0 ? from - 1 : 0; c < t->chains.count; c++)
    ((struct kp_chain *)t->chains.items[c])->cut = true;
  return empty;
}

/* See dump_ipt_internal.h. */
const char *kp_ipt_unlisted_jump(const struct kp_table *t) {
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    for (size_t r = 0; r < chain->rules.count; r++) {
      const struct kp_rule *rule = chain->rules.items[r];
      if (rule->target_name != NULL && strncmp(rule->target_name, "KUBE-", 5) == 0 &&
          kp_table_chain(t, rule->target_name) == NULL)
        return rule->target_name;
    }
  }
  return NULL;
}
