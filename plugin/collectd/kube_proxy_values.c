/* The values of one read (docs/metrics.md lists them): the report's figures
 * mapped to value lists, built-in types only, so every server receiving
 * them already knows the data sets. Nothing is computed here: the core
 * fills the report (inventory, traffic, per-service traffic, check states);
 * this file only names, filters (ServiceFilter, MaxServices) and sanitises
 * for collectd's identifiers. */
#include "kube_proxy_glue.h"

#include "collectd/core/utils/common/common.h"

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
  kpg_dispatch("", "objects", what, (value_t){.gauge = (gauge_t)n});
}

/* Full reads the nf_tables reader made of a changed ruleset instead of
 * following its change notifications, by cause: rising values mean the
 * follower keeps losing track (a too small socket buffer shows as overrun). */
void kpg_dispatch_full_reads(const uint64_t counts[KP_NFT_FULL_COUNT]) {
  for (int i = 0; i < KP_NFT_FULL_COUNT; i++) {
    char instance[DATA_MAX_NAME_LEN];
    ssnprintf(instance, sizeof(instance), "nft_full_reads-%s",
              kp_nft_fallback_name((enum kp_nft_fallback)i));
    kpg_dispatch("", "operations", instance, (value_t){.derive = (derive_t)counts[i]});
  }
}

void kpg_dispatch_read_failed(bool failed) {
  kpg_dispatch("", "bool", KPG_READ_FAILED, (value_t){.gauge = failed ? 1 : 0});
}

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

/* The key chains' entry traffic per family (the names are the series'). */
static void kpg_dispatch_key_chains(enum kp_family family, const struct kp_family_traffic *ft) {
  const struct {
    const char *name;
    const struct kp_traffic *traffic;
  } chains[] = {
      {"KUBE-SERVICES", &ft->services},
      {"KUBE-NODEPORTS", &ft->nodeports},
      {"KUBE-POSTROUTING", &ft->postrouting},
  };
  for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
    if (chains[i].traffic->present)
      kpg_dispatch_traffic(kp_family_name(family), chains[i].name, chains[i].traffic->packets,
                           chains[i].traffic->bytes);
}

/* Per-service series of one family: the names ServiceFilter keeps, at most
 * MaxServices of them, in the report's order. A name longer than a collectd
 * identifier would be cut into a different series: skipped. */
static void kpg_dispatch_services(const struct kp_plugin_config *cfg,
                                  const struct kp_report *report, enum kp_family family) {
  char pinst[DATA_MAX_NAME_LEN];
  ssnprintf(pinst, sizeof(pinst), "%s-" KPG_SERVICES_INSTANCE, kp_family_name(family));
  unsigned sent = 0;
  for (size_t i = 0; i < report->n_service_traffic; i++) {
    const struct kp_service_traffic *st = &report->service_traffic[i];
    if (st->family != family || strlen(st->name) >= DATA_MAX_NAME_LEN)
      continue;
    if (cfg->has_service_filter && regexec(&cfg->service_filter, st->name, 0, NULL, 0) != 0)
      continue;
    if (sent == cfg->max_services) {
      DEBUG(KPG_PLUGIN " plugin: more than %u services match; MaxServices caps the series",
            cfg->max_services);
      break;
    }
    char instance[DATA_MAX_NAME_LEN];
    kpg_service_instance(st->name, instance, sizeof(instance));
    kpg_dispatch_traffic(pinst, instance, st->packets, st->bytes);
    sent++;
  }
}

static gauge_t kpg_severity_gauge(enum kp_severity sev) {
  return sev == KP_SEV_FAIL ? 2 : sev == KP_SEV_WARN ? 1 : 0;
}

void kpg_dispatch_values(const struct kp_plugin_config *cfg, const struct kp_report *report,
                         cdtime_t duration) {
  const struct kp_inventory *inv = &report->inventory;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!inv->traffic[f].present)
      continue;
    kpg_dispatch_key_chains((enum kp_family)f, &inv->traffic[f]);
    if (cfg->checks.service_traffic)
      kpg_dispatch_services(cfg, report, (enum kp_family)f);
  }

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
    kpg_dispatch("", "health", instance, (value_t){.gauge = g});
  }
  kpg_dispatch("", "duration", "read", (value_t){.gauge = CDTIME_T_TO_DOUBLE(duration)});
  kpg_dispatch_read_failed(false);
}
