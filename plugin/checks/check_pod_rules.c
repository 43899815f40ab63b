/* `pod-rules`: for each configured pod IP, the rules that DNAT to it or
 * match it as source (the endpoint chain's hairpin rule). Exact host match
 * through the snapshot's address index: 10.0.0.1 is not 10.0.0.10, and
 * comments are not needed (kube-proxy drops them in large clusters). */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

static bool targets_pod(const struct kp_rule *rule, const struct kp_addr *ip) {
  if ((rule->target == KP_TARGET_DNAT || rule->nat_addr.kind != KP_ADDR_ANY) &&
      kp_addr_same_host(&rule->nat_addr, ip))
    return true;
  return !rule->src.negated && kp_addr_same_host(&rule->src, ip);
}

static int one_ip(struct kp_check_ctx *ctx, const struct kp_addr *ip, const char *text) {
  const char *kind = ctx->mode == KP_MODE_NFTABLES ? "nftables" : "iptables";
  struct kp_result *r;
  if (ctx->mode == KP_MODE_IPVS)
    return kp_ipvs_check_pod_ip(ctx, ip, text);
  const struct kp_ptrvec *rules = kp_snapshot_rules_for_addr(ctx->snap, ip);
  struct kp_strlist chains = {0}, other = {0};
  size_t matched = 0, dnat = 0, source = 0;
  const struct kp_rule *first = NULL;
  int rc = -1;
  for (size_t i = 0; i < rules->count; i++) {
    const struct kp_rule *rule = rules->items[i];
    if (!targets_pod(rule, ip)) {
      if (kp_strlist_add_unique(&other, rule->chain->name) != 0)
        goto out;
      continue;
    }
    matched++;
    if (kp_addr_same_host(&rule->nat_addr, ip))
      dnat++;
    else
      source++;
    if (first == NULL)
      first = rule;
    if (kp_strlist_add_unique(&chains, rule->chain->name) != 0)
      goto out;
  }
  if (matched > 0) {
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_OK,
                      "Found %zu %s rule(s) for pod IP %s (service rules present)", matched, kind,
                      text);
    if (r == NULL || kp_result_set_where(r, first->chain->table->name, first->chain->name) != 0 ||
        kp_result_add_int(r, "dnat_rules", (int64_t)dnat) != 0 ||
        kp_result_add_int(r, "source_rules", (int64_t)source) != 0)
      goto out;
  } else if (kp_ctx_partial(ctx)) {
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_INFO,
                      "No %s rules for pod IP %s in the input, which shows its tables only in "
                      "part: not judged",
                      kind, text);
    if (r == NULL || kp_result_add_capped_list(r, "other_chains", other.items, other.count) != 0)
      goto out;
  } else {
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_WARN,
                      "No %s rules found for pod IP %s (not an endpoint of any service, or its "
                      "service rules are missing)",
                      kind, text);
    const char *searched = ctx->mode == KP_MODE_NFTABLES
                               ? "endpoint-* chains: dnat to, ip saddr"
                               : "KUBE-SEP-* chains: DNAT --to-destination, -s";
    if (r == NULL || kp_result_add_str(r, "searched", searched) != 0 ||
        kp_result_add_capped_list(r, "other_chains", other.items, other.count) != 0)
      goto out;
  }
  if (kp_result_add_str(r, "pod_ip", text) != 0 ||
      kp_result_add_capped_list(r, "chains", chains.items, chains.count) != 0)
    goto out;
  rc = 0;
out:
  kp_strlist_free(&chains);
  kp_strlist_free(&other);
  return rc;
}

int kp_check_pod_rules(struct kp_check_ctx *ctx) {
  for (size_t i = 0; i < ctx->cfg->n_pod_ips; i++) {
    const char *text = ctx->cfg->pod_ip_texts ? ctx->cfg->pod_ip_texts[i] : "?";
    if (one_ip(ctx, &ctx->cfg->pod_ips[i], text) != 0)
      return -1;
  }
  return 0;
}
