/* IPVS mode reads the virtual servers of `ipvsadm -Ln` (snap->ipvs) for two
 * checks: `endpoints` (a virtual server without real servers is a service
 * without endpoints) and `pod-rules` (a pod IP that is a real server).
 * Without ipvsadm output in the input, both say INFO and name it. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

/* "TCP 172.30.0.21:80", "TCP [fd00::1]:443", "FWM 100". */
static void service_label(const struct kp_ipvs_service *svc, char *buf, size_t len) {
  char addr[64];
  if (svc->addr.kind == KP_ADDR_ANY) {
    snprintf(buf, len, "%s %u", svc->proto != NULL ? svc->proto : "?", (unsigned)svc->fwmark);
    return;
  }
  kp_addr_format(&svc->addr, addr, sizeof(addr));
  bool v6 = svc->addr.kind == KP_ADDR_IPV6;
  snprintf(buf, len, "%s %s%s%s:%u", svc->proto != NULL ? svc->proto : "?", v6 ? "[" : "", addr,
           v6 ? "]" : "", (unsigned)svc->port);
}

int kp_ipvs_check_endpoints(struct kp_check_ctx *ctx) {
  const struct kp_ptrvec *services = &ctx->snap->ipvs;
  struct kp_result *r;
  if (services->count == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_INFO,
                      "IPVS mode: services without endpoints are not visible in the rules "
                      "(see ipvsadm -Ln)");
    return r == NULL ? -1 : 0;
  }
  char labels[KP_DETAIL_LIST_MAX][80];
  const char *names[KP_DETAIL_LIST_MAX];
  size_t empty = 0, unseen = 0;
  char unseen_label[80] = "";
  for (size_t i = 0; i < services->count; i++) {
    const struct kp_ipvs_service *svc = services->items[i];
    if (svc->reals.count > 0)
      continue;
    /* where the listing ends or skips: its real servers may be past it */
    if (svc->cut) {
      if (unseen++ == 0)
        service_label(svc, unseen_label, sizeof(unseen_label));
      continue;
    }
    if (empty < KP_DETAIL_LIST_MAX) {
      service_label(svc, labels[empty], sizeof(labels[0]));
      names[empty] = labels[empty];
    }
    empty++;
  }
  size_t listed = empty < KP_DETAIL_LIST_MAX ? empty : KP_DETAIL_LIST_MAX;
  if (empty == 0 && unseen > 0)
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_INFO,
                      "%zu IPVS virtual server(s) show no real servers where the listing ends or "
                      "skips lines (e.g. %s): not judged; %zu other(s) have real servers",
                      unseen, unseen_label, services->count - unseen);
  else if (empty == 0)
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_OK,
                      "every IPVS virtual server has real servers (%zu checked)", services->count);
  else
    r = kp_report_add(ctx->report, KP_CHECK_ENDPOINTS, KP_SEV_WARN,
                      "%zu IPVS virtual server(s) without real servers (services without "
                      "endpoints): %s",
                      empty, names[0]);
  if (r == NULL || kp_result_add_int(r, "virtual_servers", (int64_t)services->count) != 0 ||
      kp_result_add_int(r, "no_endpoints", (int64_t)empty) != 0 ||
      kp_result_add_capped_list(r, "services_without_endpoints", names, listed) != 0)
    return -1;
  return 0;
}

/* Whether a listing ends or skips lines after one of them, or is only a
 * part of one (a fragment note on its file: no header, lines not read):
 * real servers (a pod's) may be in what it does not show. */
static bool any_cut(const struct kp_snapshot *snap) {
  const struct kp_ptrvec *services = &snap->ipvs;
  for (size_t i = 0; i < services->count; i++)
    if (((const struct kp_ipvs_service *)services->items[i])->cut)
      return true;
  for (size_t n = 0; n < snap->notes.count; n++) {
    const struct kp_note *note = snap->notes.items[n];
    for (size_t i = 0;
         note->kind == KP_NOTE_FRAGMENT && note->source != NULL && i < services->count; i++) {
      const struct kp_ipvs_service *svc = services->items[i];
      if (svc->source != NULL && strcmp(svc->source, note->source) == 0)
        return true;
    }
  }
  return false;
}

int kp_ipvs_check_pod_ip(struct kp_check_ctx *ctx, const struct kp_addr *ip, const char *text) {
  const struct kp_ptrvec *services = &ctx->snap->ipvs;
  struct kp_result *r;
  if (services->count == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_INFO,
                      "IPVS mode: pod IP %s is an IPVS real server, not an iptables rule "
                      "(see ipvsadm -Ln)",
                      text);
    return r == NULL || kp_result_add_str(r, "pod_ip", text) != 0 ? -1 : 0;
  }
  char first[80] = "";
  size_t servers = 0;
  for (size_t i = 0; i < services->count; i++) {
    const struct kp_ipvs_service *svc = services->items[i];
    for (size_t k = 0; k < svc->reals.count; k++) {
      const struct kp_ipvs_real *real = svc->reals.items[k];
      if (!kp_addr_same_host(&real->addr, ip))
        continue;
      if (servers++ == 0)
        service_label(svc, first, sizeof(first));
      break;
    }
  }
  if (servers > 0)
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_OK,
                      "Found pod IP %s as real server of %zu IPVS virtual server(s) (service "
                      "rules present)",
                      text, servers);
  else if (any_cut(ctx->snap))
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_INFO,
                      "Pod IP %s is not a real server of the IPVS virtual servers the input "
                      "shows, and the listing ends or skips lines: not judged",
                      text);
  else
    r = kp_report_add(ctx->report, KP_CHECK_POD_RULES, KP_SEV_WARN,
                      "Pod IP %s is not a real server of any IPVS virtual server (not an endpoint "
                      "of any service, or its IPVS entries are missing)",
                      text);
  if (r == NULL || kp_result_add_str(r, "pod_ip", text) != 0 ||
      kp_result_add_int(r, "virtual_servers", (int64_t)servers) != 0 ||
      (servers > 0 && kp_result_add_str(r, "first_virtual_server", first) != 0))
    return -1;
  return 0;
}
