/* `endpoints`: the services without endpoints and without local endpoints
 * the runner collected (checks_no_endpoints.c), as one finding. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

int kp_check_endpoints(struct kp_check_ctx *ctx) {
  struct kp_result *r;
  if (ctx->mode == KP_MODE_NONE)
    return 0;
  if (ctx->mode == KP_MODE_IPVS)
    return kp_ipvs_check_endpoints(ctx);
  /* both families in one list: a dual-stack service port is named once */
  struct kp_no_endpoints ne;
  memset(&ne, 0, sizeof(ne));
  int rc = -1;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    const struct kp_no_endpoints *one = &ctx->no_endpoints[f];
    ne.filter_seen |= one->filter_seen;
    ne.filter_partial |= one->filter_partial;
    for (size_t i = 0; i < one->none.count; i++)
      if (kp_strlist_add_unique(&ne.none, one->none.items[i]) != 0)
        goto out;
    for (size_t i = 0; i < one->local.count; i++)
      if (kp_strlist_add_unique(&ne.local, one->local.items[i]) != 0)
        goto out;
  }
  bool nft = ctx->mode == KP_MODE_NFTABLES;
  if (!ne.filter_seen) {
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_INFO,
                      "filter table not in the input: services without endpoints not checked");
    rc = r == NULL ? -1 : 0;
    goto out;
  }
  if (ne.none.count == 0 && ne.local.count == 0 && ne.filter_partial) {
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_INFO,
                      "no service without endpoints in the input, which shows the filter table "
                      "only in part: not judged");
  } else if (ne.none.count == 0 && ne.local.count == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_OK, "no service without endpoints");
  } else {
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_WARN,
                      "%zu service(s) without endpoints, %zu without local endpoints%s%s",
                      ne.none.count, ne.local.count, ne.none.count ? ": " : "",
                      ne.none.count ? ne.none.items[0] : "");
  }
  if (r == NULL ||
      kp_result_set_where(r, nft ? "kube-proxy" : "filter",
                          nft ? "service-endpoints-check" : "KUBE-SERVICES") != 0 ||
      kp_result_add_int(r, "no_endpoints", (int64_t)ne.none.count) != 0 ||
      kp_result_add_int(r, "no_local_endpoints", (int64_t)ne.local.count) != 0 ||
      kp_result_add_capped_list(r, "services_without_endpoints", ne.none.items, ne.none.count) !=
          0 ||
      kp_result_add_capped_list(r, "services_without_local_endpoints", ne.local.items,
                                ne.local.count) != 0)
    goto out;
  rc = 0;
out:
  kp_strlist_free(&ne.none);
  kp_strlist_free(&ne.local);
  return rc;
}
