/* `sync`: kube-proxy's own view (snap->proxy): /livez, the last queued vs
 * last applied sync timestamps (queued far ahead = hung), restore failures,
 * and /proxyMode against the mode the rules show. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

/* healthTimeout default: 2 x syncPeriod (30 s). */
#define HUNG_SECONDS 60.0

/* Metric values are untrusted doubles: clamp before converting. */
static int64_t whole(double v) {
  if (!(v > -9.2e18))
    return v != v ? 0 : INT64_MIN;
  if (v > 9.2e18)
    return INT64_MAX;
  return (int64_t)v;
}

/* The WARN for each probe fault: "<lead>: <source: why><tail>". */
struct probe_words {
  const char *name; /* the result's probe_fault detail */
  const char *lead, *tail;
};
static const struct probe_words probe_words[KP_PROXY_FAULT_COUNT] = {
    [KP_PROXY_FAULT_NONE] = {"unknown", "kube-proxy's endpoint could not be read", ""},
    [KP_PROXY_NO_ANSWER] = {"no-answer", "kube-proxy does not answer",
                            " (not running, or its metrics/healthz address differs)"},
    [KP_PROXY_BAD_ADDRESS] = {"bad-address", "kube-proxy's endpoint cannot be asked", ""},
    [KP_PROXY_HTTP_ERROR] = {"http-error", "kube-proxy answered with an HTTP error",
                             " (its sync state is not known)"},
    [KP_PROXY_UNPARSED] = {"unparsed", "kube-proxy's answer does not parse",
                           " (none of it is used: its sync state is not known)"},
    [KP_PROXY_TOO_BIG] = {"too-big", "kube-proxy's answer is too big to read",
                          " (its sync state is not known)"},
};

int kp_check_sync(struct kp_check_ctx *ctx) {
  const struct kp_proxy_status *p = &ctx->snap->proxy;
  struct kp_report *rep = ctx->report;
  struct kp_result *r;
  const char *src = p->source ? p->source : "kube-proxy";
  if (p->unreachable != NULL) {
    /* Live: one of kube-proxy's own endpoints could not be read. Say what
     * happened: a silent port, an error page and a body that does not parse
     * send an SRE to different places. */
    enum kp_proxy_fault fault = p->fault < KP_PROXY_FAULT_COUNT ? p->fault : KP_PROXY_FAULT_NONE;
    const struct probe_words *w = &probe_words[fault];
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_WARN, "%s: %s%s", w->lead, p->unreachable,
                      w->tail);
    if (r == NULL || kp_result_add_str(r, "unreachable", p->unreachable) != 0 ||
        kp_result_add_str(r, "probe_fault", w->name) != 0)
      return -1;
  }
  if (!p->has_metrics && !p->has_livez && p->proxy_mode == NULL) {
    if (p->unreachable != NULL)
      return 0;
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_INFO, "no kube-proxy metrics in the input");
    return r == NULL ? -1 : 0;
  }
  size_t before = rep->n_results;
  if (p->has_livez && !p->livez_healthy) {
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_FAIL,
                      "kube-proxy /livez unhealthy (a queued rule update was not applied in time)");
    if (r == NULL || kp_result_add_str(r, "source", src) != 0)
      return -1;
  }
  if (p->has_metrics && p->has_last_queued && p->last_queued_ts - p->last_sync_ts > HUNG_SECONDS) {
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_FAIL,
                      "kube-proxy sync hung: an update was queued %.0f s after the last applied "
                      "sync",
                      p->last_queued_ts - p->last_sync_ts);
    if (r == NULL || kp_result_add_int(r, "last_sync_ts", whole(p->last_sync_ts)) != 0 ||
        kp_result_add_int(r, "last_queued_ts", whole(p->last_queued_ts)) != 0)
      return -1;
  }
  if (p->has_metrics && (p->restore_failures > 0 || p->nft_sync_failures > 0)) {
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_WARN,
                      "kube-proxy rule syncs failed %.0f time(s) (iptables-restore %.0f, nftables "
                      "%.0f)",
                      p->restore_failures + p->nft_sync_failures, p->restore_failures,
                      p->nft_sync_failures);
    if (r == NULL || kp_result_add_int(r, "restore_failures", whole(p->restore_failures)) != 0 ||
        kp_result_add_int(r, "nft_sync_failures", whole(p->nft_sync_failures)) != 0)
      return -1;
  }
  if (p->proxy_mode != NULL && strcmp(p->proxy_mode, kp_mode_name(ctx->mode)) != 0) {
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_FAIL,
                      "kube-proxy reports mode %s but the rules show mode %s", p->proxy_mode,
                      kp_mode_name(ctx->mode));
    if (r == NULL || kp_result_add_str(r, "proxy_mode", p->proxy_mode) != 0 ||
        kp_result_add_str(r, "rules_mode", kp_mode_name(ctx->mode)) != 0)
      return -1;
  }
  if (rep->n_results > before)
    return 0;
  if (p->has_metrics && p->scrape_ts > 0 && p->last_sync_ts > 0)
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_OK, "kube-proxy syncing (last sync %.0f s ago)",
                      p->scrape_ts - p->last_sync_ts);
  else
    r = kp_report_add(rep, KP_CHECK_SYNC, KP_SEV_OK, "kube-proxy reports healthy");
  if (r == NULL || kp_result_add_str(r, "source", src) != 0)
    return -1;
  return 0;
}
