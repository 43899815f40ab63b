/* `process`: what other collectd plugins (processes thresholds, PUTNOTIF)
 * said about the kube-proxy process; the collectd glue fills
 * state->process from its notification callback. Offline: not reported. */
#include "checks_internal.h"

int kp_check_process(struct kp_check_ctx *ctx) {
  if (ctx->state == NULL)
    return 0;
  const struct kp_process_state *p = &ctx->state->process;
  struct kp_result *r;
  if (!p->known) {
    r = kp_report_add(ctx->report, KP_CHECK_PROCESS, KP_SEV_INFO,
                      "no process information (configure the processes plugin)");
    return r == NULL ? -1 : 0;
  }
  r = kp_report_add(ctx->report, KP_CHECK_PROCESS, p->severity, "%s",
                    p->message[0] ? p->message : "kube-proxy process state reported");
  if (r == NULL || kp_result_add_str(r, "source", p->source) != 0 ||
      kp_result_add_int(r, "time", (int64_t)p->time) != 0)
    return -1;
  return 0;
}
