/* `mode`: the mode and backend the runner detected, or why none: no
 * tables, or only kubelet's chains. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

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
    for (size_t k = 0; k < kp_n_kubelet_chains; k++)
      if (kp_chain_present(t, kp_kubelet_chains[k]) != NULL &&
          kp_strlist_add_unique(&seen, kp_kubelet_chains[k]) != 0) {
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
