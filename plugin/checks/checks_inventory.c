/* What the rules say is deployed: services, endpoints, rules, chains, and
 * the traffic into the key chains (the sum over the rules jumping there,
 * which keep their counters across kube-proxy syncs). */
#include "checks_internal.h"

#include <string.h>

static void add_traffic(const struct kp_chain *chain, struct kp_traffic *traffic) {
  if (chain == NULL)
    return;
  for (size_t i = 0; i < chain->referrers.count; i++) {
    const struct kp_rule *rule = chain->referrers.items[i];
    if (!rule->counters.present)
      continue;
    traffic->present = true;
    traffic->packets += rule->counters.packets;
    traffic->bytes += rule->counters.bytes;
  }
}

static void count_chains(const struct kp_table *t, bool nft, struct kp_inventory *inv) {
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (!chain->declared)
      continue;
    const char *n = chain->name;
    if (nft ? kp_is_nft_svc_chain(n, "service-")
            : kp_name_has_prefix(n, "KUBE-SVC-") || kp_name_has_prefix(n, "KUBE-SVL-"))
      inv->services++;
    else if (nft ? kp_is_nft_svc_chain(n, "endpoint-") : kp_name_has_prefix(n, "KUBE-SEP-"))
      inv->endpoints++;
  }
}

void kp_inventory_fill(const struct kp_check_ctx *ctx, struct kp_inventory *inv) {
  const struct kp_snapshot *snap = ctx->snap;
  enum kp_mode mode = ctx->mode;
  inv->rules = kp_snapshot_rule_count(snap);
  inv->chains = kp_snapshot_chain_count(snap);
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    bool kube_table = t->native_nft && strcmp(t->name, "kube-proxy") == 0;
    for (size_t c = 0; c < t->chains.count; c++) {
      const struct kp_chain *chain = t->chains.items[c];
      if (kube_table || kp_name_has_prefix(chain->name, "KUBE-"))
        inv->kube_rules += chain->rules.count;
    }
  }
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    if (mode == KP_MODE_NFTABLES) {
      const struct kp_table *t = kp_ctx_nft_table(ctx, (enum kp_family)f);
      if (t != NULL)
        count_chains(t, true, inv);
      continue;
    }
    const struct kp_table *nat = kp_ctx_table(ctx, (enum kp_family)f, "nat");
    if (nat == NULL)
      continue;
    count_chains(nat, false, inv);
    struct kp_family_traffic *ft = &inv->traffic[f];
    ft->present = true;
    add_traffic(kp_chain_present(nat, "KUBE-SERVICES"), &ft->services);
    add_traffic(kp_chain_present(nat, "KUBE-NODEPORTS"), &ft->nodeports);
    add_traffic(kp_chain_present(nat, "KUBE-POSTROUTING"), &ft->postrouting);
  }
  /* Per family, like the service chains above: a dual-stack service port
   * counts once per family (the finding's name list merges them). A
   * service port without endpoints gets no service chain, only its REJECT
   * rule / no-endpoint map element: it counts as a service too. */
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    const struct kp_no_endpoints *ne = &ctx->no_endpoints[f];
    inv->services_without_endpoints += ne->none.count;
    inv->services_without_local_endpoints += ne->local.count;
    inv->services += ne->none.count;
  }
}
