/* The values of one read (docs/metrics.md lists them): built-in types only,
 * so every server receiving them already knows the data sets. */
#include "kube_proxy_glue.h"

#include "collectd/core/utils/common/common.h"

#include <stdlib.h>
#include <string.h>

static void kpg_dispatch(const char *plugin_instance, const char *type, const char *type_instance,
                         value_t value) {
  value_list_t vl = VALUE_LIST_INIT;
  vl.values = &value;
  vl.values_len = 1;
  /* time, interval and host left 0/empty: the daemon fills them in */
  sstrncpy(vl.plugin, KPG_PLUGIN, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, plugin_instance, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  sstrncpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

static void kpg_dispatch_traffic(const char *plugin_instance, const char *chain_or_service,
                                 uint64_t packets, uint64_t bytes) {
  kpg_dispatch(plugin_instance, "ipt_packets", chain_or_service,
               (value_t){.derive = (derive_t)packets});
  kpg_dispatch(plugin_instance, "ipt_bytes", chain_or_service,
               (value_t){.derive = (derive_t)bytes});
}

static void kpg_dispatch_count(const char *what, size_t n) {
  kpg_dispatch("", "count", what, (value_t){.gauge = (gauge_t)n});
}

/* Packets/bytes entering a nat chain: the sum over the rules that jump
 * there (kube-proxy rewrites its own chains with zeroed counters; the jump
 * rules in the built-in chains keep theirs). false when no counters. */
static bool kpg_chain_entry(const struct kp_chain *chain, uint64_t *packets, uint64_t *bytes) {
  bool any = false;
  *packets = *bytes = 0;
  for (size_t i = 0; i < chain->referrers.count; i++) {
    const struct kp_rule *r = chain->referrers.items[i];
    if (!r->counters.present)
      continue;
    any = true;
    *packets += r->counters.packets;
    *bytes += r->counters.bytes;
  }
  return any;
}

struct kpg_service_sum {
  char spn[DATA_MAX_NAME_LEN];
  uint64_t packets, bytes;
};

void kpg_service_instance(const char *spn, char *buf, size_t len) {
  size_t j = 0;
  for (size_t i = 0; spn[i] != '\0' && j + 1 < len; i++) {
    char c = spn[i];
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.';
    buf[j++] = keep ? c : '_';
  }
  buf[j] = '\0';
}

static bool kpg_is_service_target(const char *name) {
  static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-",
                                         "KUBE-XLB-"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return false;
}

/* Per-service traffic: the rules of nat KUBE-SERVICES that jump to a
 * service chain, grouped by the "ns/name:port" that starts their comment
 * (cluster IP, external IP and load-balancer IP rules add up). */
static void kpg_dispatch_services(const struct kpg_config *cfg, const struct kp_chain *services,
                                  const char *plugin_instance) {
  struct kpg_service_sum *sums = calloc(cfg->max_services, sizeof(*sums));
  if (sums == NULL)
    return;
  size_t n = 0;
  bool capped = false;
  for (size_t i = 0; i < services->rules.count; i++) {
    const struct kp_rule *r = services->rules.items[i];
    if (!kp_rule_jumps(r) || r->target_name == NULL || !kpg_is_service_target(r->target_name) ||
        r->comment == NULL || !r->counters.present)
      continue;
    char spn[DATA_MAX_NAME_LEN];
    size_t len = strcspn(r->comment, " ");
    if (len == 0 || len >= sizeof(spn))
      continue;
    memcpy(spn, r->comment, len);
    spn[len] = '\0';
    if (cfg->has_service_filter && regexec(&cfg->service_filter, spn, 0, NULL, 0) != 0)
      continue;
    size_t k = 0;
    while (k < n && strcmp(sums[k].spn, spn) != 0)
      k++;
    if (k == n) {
      if (n == cfg->max_services) {
        capped = true;
        continue;
      }
      memcpy(sums[n].spn, spn, len + 1);
      n++;
    }
    sums[k].packets += r->counters.packets;
    sums[k].bytes += r->counters.bytes;
  }
  for (size_t k = 0; k < n; k++) {
    char instance[DATA_MAX_NAME_LEN];
    kpg_service_instance(sums[k].spn, instance, sizeof(instance));
    kpg_dispatch_traffic(plugin_instance, instance, sums[k].packets, sums[k].bytes);
  }
  if (capped) {
    DEBUG(KPG_PLUGIN " plugin: more than %u services match; MaxServices caps the series",
          cfg->max_services);
  }
  free(sums);
}

static void kpg_dispatch_family(const struct kpg_config *cfg, const struct kp_snapshot *snap,
                                enum kp_backend backend, enum kp_family family) {
  static const char *const chains[] = {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING"};
  const char *fam = kp_family_name(family);
  for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
    const struct kp_chain *c = kp_snapshot_chain(snap, family, backend, "nat", chains[i]);
    uint64_t packets, bytes;
    if (c != NULL && c->declared && kpg_chain_entry(c, &packets, &bytes))
      kpg_dispatch_traffic(fam, chains[i], packets, bytes);
  }
  if (!cfg->collect_services)
    return;
  const struct kp_chain *svc = kp_snapshot_chain(snap, family, backend, "nat", "KUBE-SERVICES");
  if (svc != NULL) {
    char pinst[DATA_MAX_NAME_LEN];
    ssnprintf(pinst, sizeof(pinst), "%s-" KPG_SERVICES_INSTANCE, fam);
    kpg_dispatch_services(cfg, svc, pinst);
  }
}

static gauge_t kpg_severity_gauge(enum kp_severity sev) {
  return sev == KP_SEV_FAIL ? 2 : sev == KP_SEV_WARN ? 1 : 0;
}

void kpg_dispatch_values(const struct kpg_config *cfg, const struct kp_snapshot *snap,
                         const struct kp_report *report, cdtime_t duration) {
  /* The backend holding kube-proxy's rules; any when the report cannot tell. */
  enum kp_backend backend =
      report->backend == KP_BACKEND_UNKNOWN ? KP_BACKEND_COUNT : report->backend;
  kpg_dispatch_family(cfg, snap, backend, KP_FAMILY_IPV4);
  if (cfg->ipv6)
    kpg_dispatch_family(cfg, snap, backend, KP_FAMILY_IPV6);

  const struct kp_inventory *inv = &report->inventory;
  kpg_dispatch_count("services", inv->services);
  kpg_dispatch_count("endpoints", inv->endpoints);
  kpg_dispatch_count("services_without_endpoints", inv->services_without_endpoints);
  kpg_dispatch_count("rules", inv->rules);
  kpg_dispatch_count("chains", inv->chains);

  for (int id = 0; id < KP_CHECK_COUNT; id++) {
    if (!cfg->checks.enabled[id])
      continue;
    char instance[DATA_MAX_NAME_LEN];
    ssnprintf(instance, sizeof(instance), "check-%s", kp_check_name((enum kp_check_id)id));
    gauge_t g = kpg_severity_gauge(kp_report_check_severity(report, (enum kp_check_id)id));
    kpg_dispatch("", "gauge", instance, (value_t){.gauge = g});
  }
  kpg_dispatch("", "duration", "read", (value_t){.gauge = CDTIME_T_TO_DOUBLE(duration)});
}
