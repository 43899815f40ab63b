/* The address family of iptables rules that do not say it: a restore
 * input or fragment without an ip6tables header is IPv4 until its rules'
 * addresses say otherwise. */
#include "dump_ipt_internal.h"

#include <string.h>

bool kp_ipt_rule_is_ipv6(const struct kp_rule *rule) {
  return rule->src.kind == KP_ADDR_IPV6 || rule->dst.kind == KP_ADDR_IPV6;
}

void kp_ipt_guess_family(struct kp_snapshot *snap, struct kp_table *t, const char *source) {
  bool v4 = false, v6 = false;
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    for (size_t r = 0; r < chain->rules.count; r++) {
      const struct kp_rule *rule = chain->rules.items[r];
      v6 |= kp_ipt_rule_is_ipv6(rule);
      v4 |= rule->src.kind == KP_ADDR_IPV4 || rule->dst.kind == KP_ADDR_IPV4;
    }
  }
  if (!v6 || v4 || kp_snapshot_table(snap, KP_FAMILY_IPV6, t->backend, t->name, false) != NULL)
    return;
  t->family = KP_FAMILY_IPV6;
  for (size_t i = 0; i < snap->notes.count; i++) {
    struct kp_note *note = snap->notes.items[i];
    if (note->kind == KP_NOTE_TABLE_GUESSED && note->table != NULL && note->source != NULL &&
        source != NULL && strcmp(note->source, source) == 0 && strcmp(note->table, t->name) == 0)
      note->family = KP_FAMILY_IPV6;
  }
}
