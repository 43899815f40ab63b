/* Check ids and names, severity and mode names, the configuration and the
 * state carried between live reads. */
#include "checks_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const check_names[KP_CHECK_COUNT] = {
    "mode",      "chains", "hooks",    "activity", "masquerade", "pod-rules",
    "endpoints", "stale",  "backends", "canary",   "process",    "sync",
};

const char *kp_check_name(enum kp_check_id id) {
  return (unsigned)id < KP_CHECK_COUNT ? check_names[id] : "unknown";
}

int kp_check_from_name(const char *name) {
  if (name == NULL)
    return -1;
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    if (strcmp(check_names[i], name) == 0)
      return i;
  return -1;
}

const char *kp_severity_name(enum kp_severity sev) {
  static const char *const names[] = {"OK", "INFO", "WARN", "FAIL"};
  return (unsigned)sev <= KP_SEV_FAIL ? names[sev] : "UNKNOWN";
}

const char *kp_mode_name(enum kp_mode mode) {
  static const char *const names[] = {"none", "iptables", "ipvs", "nftables"};
  return (unsigned)mode <= KP_MODE_NFTABLES ? names[mode] : "unknown";
}

/* ---- config and state ----------------------------------------------------- */

void kp_check_config_init(struct kp_check_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    cfg->enabled[i] = true;
  cfg->activity_intervals = 5;
}

void kp_check_config_free(struct kp_check_config *cfg) {
  if (cfg == NULL)
    return;
  for (size_t i = 0; i < cfg->n_pod_ips; i++)
    free(cfg->pod_ip_texts[i]);
  free(cfg->pod_ip_texts);
  free(cfg->pod_ips);
  cfg->pod_ips = NULL;
  cfg->pod_ip_texts = NULL;
  cfg->n_pod_ips = 0;
}

int kp_check_config_add_pod_ip(struct kp_check_config *cfg, const char *text) {
  struct kp_addr addr;
  if (text == NULL || kp_addr_parse(NULL, text, &addr) != 0 || addr.negated ||
      (addr.kind != KP_ADDR_IPV4 && addr.kind != KP_ADDR_IPV6) || !kp_addr_is_host(&addr))
    return -1;
  struct kp_addr *ips = realloc(cfg->pod_ips, (cfg->n_pod_ips + 1) * sizeof(*ips));
  if (ips == NULL)
    return -1;
  cfg->pod_ips = ips;
  char **texts = realloc(cfg->pod_ip_texts, (cfg->n_pod_ips + 1) * sizeof(*texts));
  if (texts == NULL)
    return -1;
  cfg->pod_ip_texts = texts;
  char *copy = strdup(text);
  if (copy == NULL)
    return -1;
  ips[cfg->n_pod_ips] = addr;
  texts[cfg->n_pod_ips] = copy;
  cfg->n_pod_ips++;
  return 0;
}

void kp_check_state_init(struct kp_check_state *state) {
  memset(state, 0, sizeof(*state));
}

void kp_check_state_free(struct kp_check_state *state) {
  if (state == NULL)
    return;
  struct kp_process_state process = state->process;
  free(state->rule_counts);
  kp_check_state_init(state);
  state->process = process;
}
