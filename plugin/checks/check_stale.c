/* `stale`: per-service chains nothing references (left behind by a failed
 * or partial sync) and service chains that reach no endpoint chain.
 * iptables mode: KUBE-SVC/SVL/SEP/EXT/FW/XLB in nat; nftables mode:
 * service-/endpoint-/external-/firewall- chains, referenced by rules,
 * vmaps or map elements. Chains only named by a jump (a partial restore)
 * are not declared and not judged. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

static bool is_nft_service_chain(const char *name) {
  return kp_is_nft_svc_chain(name, "service-") || kp_is_nft_svc_chain(name, "endpoint-") ||
         kp_is_nft_svc_chain(name, "external-") || kp_is_nft_svc_chain(name, "firewall-");
}

static bool reaches_endpoint(const struct kp_chain *chain, const char *ep_prefix) {
  for (size_t i = 0; i < chain->rules.count; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    if (kp_rule_jumps(rule) && kp_name_has_prefix(rule->target_name, ep_prefix))
      return true;
    for (size_t v = 0; v < kp_rule_ext(rule)->n_vmap_chains; v++)
      if (kp_name_has_prefix(kp_rule_ext(rule)->vmap_chains[v], ep_prefix))
        return true;
  }
  return false;
}

struct stale_scan {
  struct kp_strlist stale, empty;
  size_t unjudged; /* in a table the input shows only in part */
  size_t checked;
  const struct kp_table *first_table;
};

static int scan_table(const struct kp_table *t, bool nft, struct stale_scan *s) {
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (!chain->declared)
      continue;
    if (nft ? !is_nft_service_chain(chain->name) : !kp_is_service_chain_name(chain->name))
      continue;
    s->checked++;
    /* "(N references)" of a -L header counts referrers outside the input too */
    bool referenced =
        chain->referrers.count > 0 || chain->set_referrers > 0 || chain->dump_references > 0;
    if (!referenced && t->partial) {
      s->unjudged++; /* its referrer may be in the part not shown */
      continue;
    }
    if (!referenced) {
      if (s->first_table == NULL)
        s->first_table = t;
      if (kp_strlist_add(&s->stale, chain->name) != 0)
        return -1;
      continue;
    }
    bool is_svc = nft ? kp_is_nft_svc_chain(chain->name, "service-")
                      : kp_name_has_prefix(chain->name, "KUBE-SVC-") ||
                            kp_name_has_prefix(chain->name, "KUBE-SVL-");
    if (is_svc && (chain->cut || t->partial) &&
        !reaches_endpoint(chain, nft ? "endpoint-" : "KUBE-SEP-")) {
      s->unjudged++;
      continue;
    }
    if (is_svc && !reaches_endpoint(chain, nft ? "endpoint-" : "KUBE-SEP-")) {
      if (s->first_table == NULL)
        s->first_table = t;
      if (kp_strlist_add(&s->empty, chain->name) != 0)
        return -1;
    }
  }
  return 0;
}

int kp_check_stale(struct kp_check_ctx *ctx) {
  struct kp_result *r;
  if (ctx->mode == KP_MODE_NONE)
    return 0;
  if (ctx->mode == KP_MODE_IPVS) {
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_INFO,
                      "IPVS mode has no per-service chains: nothing to check");
    return r == NULL ? -1 : 0;
  }
  bool nft = ctx->mode == KP_MODE_NFTABLES;
  struct stale_scan s;
  memset(&s, 0, sizeof(s));
  int rc = -1;
  size_t scanned = 0;
  bool partial = false;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    const struct kp_table *t = nft ? kp_ctx_nft_table(ctx, (enum kp_family)f)
                                   : kp_ctx_table(ctx, (enum kp_family)f, "nat");
    if (t != NULL && scan_table(t, nft, &s) != 0)
      goto out;
    scanned += t != NULL;
    partial |= t != NULL && t->partial;
  }
  if (scanned == 0) { /* e.g. a filter listing alone: the service chains are in nat */
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_INFO,
                      "nat table not in the input: stale service chains not checked");
    rc = r == NULL ? -1 : 0;
    goto out;
  }
  s.checked -= s.unjudged; /* "checked" counts the chains judged */
  if (s.stale.count == 0 && s.empty.count == 0 && s.checked == 0 && s.unjudged > 0) {
    r = NULL; /* none judged: the INFO below says so */
  } else if (s.checked == 0 && partial) {
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_INFO,
                      "no service chain in the input, which shows the nat table only in part: "
                      "stale chains not judged");
    rc = r == NULL ? -1 : 0;
    goto out;
  } else if (s.stale.count == 0 && s.empty.count == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_OK,
                      "no stale service chains (%zu checked)", s.checked);
    if (r == NULL)
      goto out;
  } else {
    const char *example = s.stale.count ? s.stale.items[0] : s.empty.items[0];
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_WARN,
                      "%zu stale chain(s) nothing references, %zu service chain(s) without "
                      "endpoint chains (e.g. %s)",
                      s.stale.count, s.empty.count, example);
    if (r == NULL || kp_result_set_where(r, s.first_table->name, example) != 0)
      goto out;
  }
  if (r != NULL &&
      (kp_result_add_int(r, "checked", (int64_t)s.checked) != 0 ||
       kp_result_add_capped_list(r, "unreferenced", s.stale.items, s.stale.count) != 0 ||
       kp_result_add_capped_list(r, "without_endpoints", s.empty.items, s.empty.count) != 0))
    goto out;
  if (s.unjudged > 0) {
    r = kp_report_add(ctx->report, KP_CHECK_STALE, KP_SEV_INFO,
                      "%zu service chain(s) without a referrer or endpoint chain in the input, "
                      "which shows the table only in part: not judged",
                      s.unjudged);
    if (r == NULL || kp_result_add_int(r, "not_judged", (int64_t)s.unjudged) != 0)
      goto out;
  }
  rc = 0;
out:
  kp_strlist_free(&s.stale);
  kp_strlist_free(&s.empty);
  return rc;
}
