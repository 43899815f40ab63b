/* Per-service traffic for the per-service values (report->service_traffic),
 * filled once per run by the check runner when kp_check_config.service_traffic
 * asks for it. Private to the check engine. */
#ifndef KP_SERVICE_TRAFFIC_H
#define KP_SERVICE_TRAFFIC_H

#include "checks_internal.h"

/* Fills ctx->report->service_traffic (nothing unless ctx->cfg->service_traffic).
 * 0, or -1 on OOM; kp_report_free frees it. */
int kp_service_traffic_collect(struct kp_check_ctx *ctx);

#endif
