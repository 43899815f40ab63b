/* Mode detection (iptables, ipvs, nftables, none) and the backend holding
 * kube-proxy's rules, plus the `mode` check. Chains kubelet creates on its
 * own (canary, KUBE-FIREWALL, KUBE-MARK-DROP, the hint) never count as
 * kube-proxy evidence: a node without kube-proxy has them too. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const kubelet_chains[] = {"KUBE-KUBELET-CANARY", "KUBE-FIREWALL",
                                             "KUBE-MARK-DROP", "KUBE-IPTABLES-HINT"};

bool kp_is_kubelet_chain(const char *name) {
  for (size_t i = 0; i < sizeof(kubelet_chains) / sizeof(kubelet_chains[0]); i++)
    if (strcmp(name, kubelet_chains[i]) == 0)
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

static bool is_ipvs_chain(const char *name) {
  return strcmp(name, "KUBE-NODE-PORT") == 0 || strcmp(name, "KUBE-LOAD-BALANCER") == 0 ||
         strcmp(name, "KUBE-IPVS-FILTER") == 0 || strcmp(name, "KUBE-IPVS-OUT-FILTER") == 0 ||
         strcmp(name, "KUBE-SOURCE-RANGES-FIREWALL") == 0;
}

static bool is_ipt_top_chain(const char *name) {
  return strcmp(name, "KUBE-SERVICES") == 0 || strcmp(name, "KUBE-NODEPORTS") == 0 ||
         strcmp(name, "KUBE-EXTERNAL-SERVICES") == 0;
}

/* IPVS mode's KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset; the chain is
 * short there, so looking at its first rules is enough. */
static bool services_match_cluster_ip_set(const struct kp_chain *chain) {
  size_t n = chain->rules.count < 64 ? chain->rules.count : 64;
  for (size_t i = 0; i < n; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    if (rule->match_set != NULL && (strcmp(rule->match_set, "KUBE-CLUSTER-IP") == 0 ||
                                    strcmp(rule->match_set, "KUBE-6-CLUSTER-IP") == 0))
      return true;
  }
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

/* kubelet's marker that iptables-wrapper looks for in a backend's mangle table. */
static bool wrapper_hint(const struct kp_snapshot *snap, enum kp_backend backend) {
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (kp_snapshot_chain(snap, (enum kp_family)f, backend, "mangle", "KUBE-IPTABLES-HINT") ||
        kp_snapshot_chain(snap, (enum kp_family)f, backend, "mangle", "KUBE-KUBELET-CANARY"))
      return true;
  return false;
}

struct backend_tally {
  bool ipt, ipvs;
  size_t svc_chains, rules, chains;
};

void kp_ctx_detect(struct kp_check_ctx *ctx) {
  const struct kp_snapshot *snap = ctx->snap;
  ctx->mode = KP_MODE_NONE;
  ctx->backend = KP_BACKEND_UNKNOWN;
  memset(ctx->families, 0, sizeof(ctx->families));

  struct backend_tally tally[KP_BACKEND_COUNT];
  memset(tally, 0, sizeof(tally));
  bool nft_mode = false;
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    struct kp_table_kube k;
    kp_table_kube_stats(t, &k);
    if (k.nft_evidence) {
      nft_mode = true;
      ctx->families[t->family] = true;
      continue;
    }
    if (!k.ipt_evidence && !k.ipvs_evidence)
      continue;
    struct backend_tally *b = &tally[t->backend < KP_BACKEND_COUNT ? t->backend : 0];
    b->ipt |= k.ipt_evidence;
    b->ipvs |= k.ipvs_evidence;
    b->svc_chains += k.svc_chains;
    b->rules += k.kube_rules;
    b->chains += k.kube_chains;
  }
  if (nft_mode) {
    ctx->mode = KP_MODE_NFTABLES;
    ctx->backend = KP_BACKEND_NFT;
    return;
  }

  /* As kube-proxy's iptables-wrapper chooses: the backend whose mangle
   * table holds kubelet's KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY (nft
   * first), when kube-proxy's rules are there; else the backend with the
   * most kube-proxy rules, a known backend winning a tie. */
  int best = -1;
  static const enum kp_backend hint_order[] = {KP_BACKEND_NFT, KP_BACKEND_LEGACY};
  for (size_t h = 0; h < 2 && best < 0; h++) {
    enum kp_backend b = hint_order[h];
    if ((tally[b].ipt || tally[b].ipvs) && wrapper_hint(snap, b))
      best = (int)b;
  }
  bool hinted = best >= 0;
  for (int b = KP_BACKEND_COUNT - 1; b >= 0 && !hinted; b--) {
    if (!tally[b].ipt && !tally[b].ipvs)
      continue;
    if (best < 0 || tally[b].rules + tally[b].chains > tally[best].rules + tally[best].chains)
      best = b;
  }
  if (best < 0)
    return;
  ctx->backend = (enum kp_backend)best;
  if (tally[best].ipvs && tally[best].svc_chains == 0)
    ctx->mode = KP_MODE_IPVS;
  else
    ctx->mode = KP_MODE_IPTABLES;
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    if (t->backend != ctx->backend || t->native_nft)
      continue;
    struct kp_table_kube k;
    kp_table_kube_stats(t, &k);
    if (k.ipt_evidence || k.ipvs_evidence)
      ctx->families[t->family] = true;
  }
}

enum kp_mode kp_detect_mode(const struct kp_snapshot *snap, enum kp_backend *backend) {
  struct kp_check_ctx ctx = {.snap = snap};
  kp_ctx_detect(&ctx);
  if (backend != NULL)
    *backend = ctx.backend;
  return ctx.mode;
}

/* ---- the `mode` check ------------------------------------------------------ */

static int add_families(struct kp_result *r, const struct kp_check_ctx *ctx) {
  const char *fams[KP_FAMILY_COUNT];
  size_t n = 0;
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (ctx->families[f])
      fams[n++] = kp_family_name((enum kp_family)f);
  return kp_result_add_list(r, "families", fams, n);
}

static int report_none(struct kp_check_ctx *ctx) {
  struct kp_strlist seen = {0};
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    for (size_t k = 0; k < sizeof(kubelet_chains) / sizeof(kubelet_chains[0]); k++)
      if (kp_chain_present(t, kubelet_chains[k]) != NULL &&
          kp_strlist_add_unique(&seen, kubelet_chains[k]) != 0) {
        kp_strlist_free(&seen);
        return -1;
      }
  }
  struct kp_result *r;
  if (ctx->snap->tables.count == 0)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (no netfilter tables in the input)");
  else if (seen.count > 0)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (only kubelet chains found, no kube-proxy rules)");
  else
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (no kube-proxy chains found)");
  int rc = r == NULL || kp_result_add_str(r, "mode", "none") != 0 ||
                   kp_result_add_list(r, "kubelet_chains", seen.items, seen.count) != 0
               ? -1
               : 0;
  kp_strlist_free(&seen);
  return rc;
}

int kp_check_mode(struct kp_check_ctx *ctx) {
  if (ctx->mode == KP_MODE_NONE)
    return report_none(ctx);
  struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_OK, "kube-proxy mode: %s",
                                      kp_mode_name(ctx->mode));
  if (r == NULL)
    return -1;
  int rc = ctx->mode == KP_MODE_NFTABLES ? kp_result_set_where(r, "kube-proxy", NULL)
                                         : kp_result_set_where(r, "nat", "KUBE-SERVICES");
  if (rc != 0 || kp_result_add_str(r, "mode", kp_mode_name(ctx->mode)) != 0 ||
      kp_result_add_str(r, "backend", kp_backend_name(ctx->backend)) != 0 ||
      add_families(r, ctx) != 0)
    return -1;
  return 0;
}
