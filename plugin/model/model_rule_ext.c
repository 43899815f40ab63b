/* The cold parts of rules and chains (struct kp_rule_ext, kp_chain_ext)
 * and what is derived
 * instead of stored: the file a rule came from, a live rule's NAT text. */
#include "kp/model.h"

#include <arpa/inet.h>
#include <stdio.h>

const struct kp_rule_ext kp_rule_ext_none;
const struct kp_chain_ext kp_chain_ext_none;

struct kp_chain_ext *kp_chain_ext_mut(struct kp_snapshot *snap, struct kp_chain *chain) {
  if (chain->ext == NULL)
    chain->ext = kp_arena_alloc(&snap->arena, sizeof(*chain->ext));
  return chain->ext;
}

struct kp_rule_ext *kp_rule_ext_mut(struct kp_snapshot *snap, struct kp_rule *rule) {
  if (rule->ext == NULL)
    rule->ext = kp_arena_alloc(&snap->arena, sizeof(*rule->ext));
  return rule->ext;
}

const char *kp_rule_source(const struct kp_rule *rule) {
  if (rule->ext != NULL && rule->ext->source != NULL)
    return rule->ext->source;
  return rule->chain != NULL && rule->chain->table != NULL ? rule->chain->table->source : NULL;
}

/* As the live decoders wrote it when they kept it: the address (in
 * brackets for IPv6 with a port), ":lo" or ":lo-hi", and for MASQUERADE
 * the ports without the colon. */
static const char *format_nat(const struct kp_rule *rule, char *buf, size_t len) {
  size_t used = 0;
  const struct kp_addr *a = &rule->nat_addr;
  bool ports = rule->nat_ports.present;
  if (a->kind == KP_ADDR_IPV4 || a->kind == KP_ADDR_IPV6) {
    bool v6 = a->kind == KP_ADDR_IPV6;
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, a->bytes, ip, sizeof(ip));
    int n = snprintf(buf, len, "%s%s%s", v6 && ports ? "[" : "", ip, v6 && ports ? "]" : "");
    used = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
  }
  if (ports) {
    const char *colon = rule->target == KP_TARGET_MASQUERADE && used == 0 ? "" : ":";
    if (rule->nat_ports.lo == rule->nat_ports.hi)
      snprintf(buf + used, len - used, "%s%u", colon, rule->nat_ports.lo);
    else
      snprintf(buf + used, len - used, "%s%u-%u", colon, rule->nat_ports.lo, rule->nat_ports.hi);
  } else if (used == 0) {
    return NULL;
  }
  return buf;
}

const char *kp_rule_nat_text(const struct kp_rule *rule, char *buf, size_t len) {
  if (rule->ext != NULL && rule->ext->nat_text != NULL)
    return rule->ext->nat_text;
  if (!rule->nat_text_format || len == 0)
    return NULL;
  return format_nat(rule, buf, len);
}
