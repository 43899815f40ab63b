/* One collectd read: the live tables into a fresh snapshot, the checks
 * (with the state carried from the last read), then values and
 * notifications. A source fault is logged once, and every read until the
 * cause goes away dispatches read-failed 1 and nothing else; then the
 * recovery is logged once. The callback never returns an error: collectd
 * would stretch the interval of a failing read (up to MaxReadInterval) and
 * values would come back long after the cause went away. */
#include "kube_proxy_glue.h"

#include <string.h>

static void kpg_complain(struct kpg_plugin *p, const struct kp_live_error *err) {
  char msg[sizeof(err->message)];
  kpg_clean(err->message[0] != '\0' ? err->message : "unknown error", msg, sizeof(msg));
  if (err->fault != p->last_fault) /* a new cause deserves its own line */
    C_COMPLAIN_INIT(&p->complaint);
  p->last_fault = err->fault;
  const char *hint = "";
  if (err->fault == KP_LIVE_NO_PRIVILEGE && strstr(msg, "CAP_") == NULL)
    hint = " (collectd needs CAP_NET_ADMIN to read the netfilter tables)";
  else if (err->fault == KP_LIVE_NO_NETNS)
    hint = " (check the NetNS option)";
  c_complain_once(LOG_ERR, &p->complaint,
                  KPG_PLUGIN " plugin: cannot read the netfilter tables: %s%s; will retry "
                             "every interval and log again when it works",
                  msg, hint);
}

int kpg_read(struct kpg_plugin *p) {
  cdtime_t start = cdtime();
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap == NULL) {
    ERROR(KPG_PLUGIN " plugin: out of memory");
    kpg_dispatch_read_failed(true);
    return 0;
  }
  /* kube-proxy's endpoints are asked only for the sync check: with it off,
   * no probe (each is a connection through nat OUTPUT of the namespace). */
  bool probe = p->cfg.checks.enabled[KP_CHECK_SYNC];
  struct kp_live_options opt = {
      .backend = p->cfg.backend,
      .ipv6 = p->cfg.ipv6,
      .netns_path = p->cfg.netns_path,
      .kube_proxy_metrics = probe ? p->cfg.kube_proxy_metrics : NULL,
      .kube_proxy_healthz = probe ? p->cfg.kube_proxy_healthz : NULL,
  };
  struct kp_live_error err;
  memset(&err, 0, sizeof(err));
  if (p->source(p->source_ctx, snap, &opt, &err) != 0) {
    if (err.fault == KP_LIVE_OK)
      err.fault = KP_LIVE_OTHER;
    kpg_complain(p, &err);
    kp_snapshot_free(snap);
    kpg_dispatch_read_failed(true);
    return 0;
  }
  if (kp_snapshot_finalize(snap) != 0) {
    ERROR(KPG_PLUGIN " plugin: out of memory while indexing the snapshot");
    kp_snapshot_free(snap);
    kpg_dispatch_read_failed(true);
    return 0;
  }
  c_release(LOG_INFO, &p->complaint,
            KPG_PLUGIN " plugin: reading the netfilter tables works again");
  p->last_fault = KP_LIVE_OK;

  /* What other plugins last said about the kube-proxy process. */
  pthread_mutex_lock(&p->process_lock);
  p->state.process = p->process;
  pthread_mutex_unlock(&p->process_lock);

  struct kp_report report;
  if (kp_checks_run(snap, &p->cfg.checks, &p->state, &report) != 0) {
    ERROR(KPG_PLUGIN " plugin: out of memory while running the checks");
    kp_report_free(&report);
    kp_snapshot_free(snap);
    kpg_dispatch_read_failed(true);
    return 0;
  }
  cdtime_t duration = cdtime() - start;
  kpg_dispatch_values(&p->cfg, &report, duration);
  if (p->source_full_reads != NULL && p->cfg.backend != KP_BACKEND_LEGACY) {
    uint64_t counts[KP_NFT_FULL_COUNT];
    p->source_full_reads(p->source_ctx, counts);
    kpg_dispatch_full_reads(counts);
  }
  kpg_notify_checks(&p->notified, &p->cfg, &report, &p->state.process);
  kp_report_free(&report);
  kp_snapshot_free(snap);
  return 0;
}
