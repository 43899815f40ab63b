/* The runner: computes the facts once (per-table kube-proxy figures, mode
 * and backend, no-endpoint lists, inventory, service-rule traffic), then calls each enabled
 * check from the table below, in id order. */
#include "checks_internal.h"
#include "service_traffic.h"

#include <stdlib.h>
#include <string.h>

static const struct {
  enum kp_check_id id;
  int (*fn)(struct kp_check_ctx *ctx);
} checks[] = {
    {KP_CHECK_MODE, kp_check_mode},
    {KP_CHECK_CHAINS, kp_check_chains},
    {KP_CHECK_HOOKS, kp_check_hooks},
    {KP_CHECK_ACTIVITY, kp_check_activity},
    {KP_CHECK_MASQUERADE, kp_check_masquerade},
    {KP_CHECK_POD_RULES, kp_check_pod_rules},
    {KP_CHECK_ENDPOINTS, kp_check_endpoints},
    {KP_CHECK_STALE, kp_check_stale},
    {KP_CHECK_BACKENDS, kp_check_backends},
    {KP_CHECK_CANARY, kp_check_canary},
    {KP_CHECK_PROCESS, kp_check_process},
    {KP_CHECK_SYNC, kp_check_sync},
};

static void facts_free(struct kp_check_ctx *ctx) {
  free(ctx->kube);
  ctx->kube = NULL;
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    kp_no_endpoints_free(&ctx->no_endpoints[f]);
}

/* Everything the checks and the values share, computed once. -1 on OOM. */
static int facts_compute(struct kp_check_ctx *ctx, struct kp_inventory *inv) {
  const struct kp_snapshot *snap = ctx->snap;
  ctx->kube = calloc(snap->tables.count ? snap->tables.count : 1, sizeof(*ctx->kube));
  if (ctx->kube == NULL)
    return -1;
  for (size_t i = 0; i < snap->tables.count; i++)
    kp_table_kube_stats(snap->tables.items[i], &ctx->kube[i]);
  kp_ctx_detect(ctx);
  if (kp_no_endpoints_collect(ctx) != 0)
    return -1;
  memset(inv, 0, sizeof(*inv));
  kp_inventory_fill(ctx, inv);
  return kp_service_rules_compute(ctx, inv);
}

int kp_checks_run(const struct kp_snapshot *snap, const struct kp_check_config *cfg,
                  struct kp_check_state *state, struct kp_report *out) {
  memset(out, 0, sizeof(*out));
  struct kp_check_ctx ctx = {.snap = snap, .cfg = cfg, .state = state, .report = out};
  int rc = facts_compute(&ctx, &out->inventory);
  if (rc == 0)
    rc = kp_service_traffic_collect(&ctx);
  out->mode = ctx.mode;
  out->backend = ctx.backend;
  for (size_t i = 0; rc == 0 && i < sizeof(checks) / sizeof(checks[0]); i++)
    if (cfg->enabled[checks[i].id])
      rc = checks[i].fn(&ctx);
  facts_free(&ctx);
  if (rc != 0)
    kp_report_free(out);
  return rc;
}

enum kp_mode kp_detect_mode(const struct kp_snapshot *snap, enum kp_backend *backend) {
  struct kp_check_ctx ctx = {.snap = snap};
  struct kp_inventory inv;
  enum kp_mode mode = KP_MODE_NONE;
  if (facts_compute(&ctx, &inv) == 0)
    mode = ctx.mode;
  if (backend != NULL)
    *backend = ctx.backend;
  facts_free(&ctx);
  return mode;
}

void kp_inventory_compute(const struct kp_snapshot *snap, enum kp_mode mode,
                          struct kp_inventory *inv) {
  struct kp_check_ctx ctx = {.snap = snap};
  memset(inv, 0, sizeof(*inv));
  ctx.kube = calloc(snap->tables.count ? snap->tables.count : 1, sizeof(*ctx.kube));
  if (ctx.kube != NULL) {
    for (size_t i = 0; i < snap->tables.count; i++)
      kp_table_kube_stats(snap->tables.items[i], &ctx.kube[i]);
    kp_ctx_detect(&ctx);
    ctx.mode = mode;
    if (kp_no_endpoints_collect(&ctx) == 0) {
      kp_inventory_fill(&ctx, inv);
      kp_service_rules_compute(&ctx, inv);
    }
  }
  facts_free(&ctx);
}
