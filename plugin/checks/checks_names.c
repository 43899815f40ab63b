/* Names that tell whose a chain is: kube-proxy's per-service chains,
 * kubelet's own chains (never evidence of kube-proxy: a node without
 * kube-proxy has them too), IPVS-mode chains; and the per-table figures
 * built from them. */
#include "checks_internal.h"

#include <string.h>

bool kp_name_has_prefix(const char *name, const char *prefix) {
  return name != NULL && strncmp(name, prefix, strlen(prefix)) == 0;
}

bool kp_is_nft_svc_chain(const char *name, const char *prefix) {
  return kp_name_has_prefix(name, prefix) && strchr(name, '/') != NULL;
}

const char *const kp_kubelet_chains[] = {"KUBE-KUBELET-CANARY", "KUBE-FIREWALL", "KUBE-MARK-DROP",
                                         "KUBE-IPTABLES-HINT"};
const size_t kp_n_kubelet_chains = sizeof(kp_kubelet_chains) / sizeof(kp_kubelet_chains[0]);

bool kp_is_kubelet_chain(const char *name) {
  for (size_t i = 0; i < kp_n_kubelet_chains; i++)
    if (strcmp(name, kp_kubelet_chains[i]) == 0)
      return true;
  return false;
}

bool kp_is_service_chain_name(const char *name) {
  static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-",
                                         "KUBE-SEP-", "KUBE-FW-",  "KUBE-XLB-"};
  if (strncmp(name, "KUBE-", 5) != 0)
    return false;
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (kp_name_has_prefix(name, prefixes[i]))
      return true;
  return false;
}

static bool name_in(const char *name, const char *const *names) {
  for (size_t i = 0; names[i] != NULL; i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

static bool is_ipvs_chain(const char *name) {
  static const char *const names[] = {
      "KUBE-NODE-PORT",       "KUBE-LOAD-BALANCER",          "KUBE-IPVS-FILTER",
      "KUBE-IPVS-OUT-FILTER", "KUBE-SOURCE-RANGES-FIREWALL", NULL};
  return name_in(name, names);
}

static bool is_ipt_top_chain(const char *name) {
  static const char *const names[] = {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES",
                                      NULL};
  return name_in(name, names);
}

/* IPVS mode's KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset; the chain is
 * short there, so looking at its first rules is enough. */
static bool services_match_cluster_ip_set(const struct kp_chain *chain) {
  size_t n = chain->rules.count < 64 ? chain->rules.count : 64;
  for (size_t i = 0; i < n; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    if (kp_rule_ext(rule)->match_set != NULL &&
        (strcmp(kp_rule_ext(rule)->match_set, "KUBE-CLUSTER-IP") == 0 ||
         strcmp(kp_rule_ext(rule)->match_set, "KUBE-6-CLUSTER-IP") == 0))
      return true;
  }
  return false;
}

static bool jumped_from_builtin(const struct kp_chain *chain) {
  for (size_t i = 0; i < chain->referrers.count; i++)
    if (((const struct kp_rule *)chain->referrers.items[i])->chain->builtin)
      return true;
  return false;
}

void kp_table_kube_stats(const struct kp_table *table, struct kp_table_kube *out) {
  memset(out, 0, sizeof(*out));
  if (table->native_nft) {
    if (strcmp(table->name, "kube-proxy") != 0)
      return;
    for (size_t c = 0; c < table->chains.count; c++) {
      const struct kp_chain *chain = table->chains.items[c];
      if (!chain->declared)
        continue;
      out->kube_chains++;
      out->kube_rules += chain->rules.count;
    }
    out->nft_evidence = out->kube_chains > 0;
    return;
  }
  for (size_t c = 0; c < table->chains.count; c++) {
    const struct kp_chain *chain = table->chains.items[c];
    const char *name = chain->name;
    if (!chain->declared && is_ipt_top_chain(name) && jumped_from_builtin(chain)) {
      /* a built-in chain jumps there: it exists, its rules are not in the input */
      out->kube_chains++;
      out->ipt_evidence = true;
      continue;
    }
    if (!chain->declared || strncmp(name, "KUBE-", 5) != 0 || kp_is_kubelet_chain(name) ||
        strcmp(name, "KUBE-PROXY-CANARY") == 0)
      continue;
    out->kube_chains++;
    out->kube_rules += chain->rules.count;
    if (kp_is_service_chain_name(name)) {
      out->svc_chains++;
      out->ipt_evidence = true;
    } else if (is_ipvs_chain(name)) {
      out->ipvs_evidence = true;
    } else if (is_ipt_top_chain(name)) {
      out->ipt_evidence = true;
      if (strcmp(name, "KUBE-SERVICES") == 0 && services_match_cluster_ip_set(chain))
        out->ipvs_evidence = true;
    }
  }
}
