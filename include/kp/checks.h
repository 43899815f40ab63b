/* The check engine: pure functions of (snapshot, config, carried state).
 * It knows nothing of collectd or of where the snapshot came from. */
#ifndef KP_CHECKS_H
#define KP_CHECKS_H

#include "kp/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kp_check_id {
  KP_CHECK_MODE = 0,
  KP_CHECK_CHAINS,
  KP_CHECK_HOOKS,
  KP_CHECK_ACTIVITY,
  KP_CHECK_MASQUERADE,
  KP_CHECK_POD_RULES,
  KP_CHECK_ENDPOINTS,
  KP_CHECK_STALE,
  KP_CHECK_BACKENDS,
  KP_CHECK_CANARY,
  KP_CHECK_PROCESS,
  KP_CHECK_SYNC,
  KP_CHECK_COUNT
};

/* Stable ids: "mode", "chains", "hooks", "activity", "masquerade",
 * "pod-rules", "endpoints", "stale", "backends", "canary", "process", "sync". */
const char *kp_check_name(enum kp_check_id id);
int kp_check_from_name(const char *name); /* -1 when unknown */

enum kp_severity { KP_SEV_OK = 0, KP_SEV_INFO, KP_SEV_WARN, KP_SEV_FAIL };
const char *kp_severity_name(enum kp_severity sev); /* "OK", "INFO", "WARN", "FAIL" */

enum kp_mode { KP_MODE_NONE = 0, KP_MODE_IPTABLES, KP_MODE_IPVS, KP_MODE_NFTABLES };
const char *kp_mode_name(enum kp_mode mode); /* "none", "iptables", "ipvs", "nftables" */

/* Structured details of a finding, rendered as a JSON object and as
 * collectd notification meta data. */
enum kp_detail_type { KP_DETAIL_STR, KP_DETAIL_INT, KP_DETAIL_BOOL, KP_DETAIL_LIST };

struct kp_detail {
  char *key;
  enum kp_detail_type type;
  char *str;    /* STR */
  int64_t num;  /* INT, BOOL (0/1) */
  char **items; /* LIST of strings */
  size_t n_items;
};

struct kp_result {
  enum kp_check_id check;
  enum kp_severity severity;
  char *message; /* one line, without the "[OK] " prefix */
  char *table;   /* table/chain the finding is about, may be NULL */
  char *chain;
  struct kp_detail *details;
  size_t n_details;
};

/* Packets and bytes counted by a set of rules. */
struct kp_traffic {
  bool present; /* some of the rules carried counters */
  uint64_t packets, bytes;
};

/* Traffic entering kube-proxy's key nat chains in one family: the sum over
 * the rules that jump there (the built-in chains' jumps keep their
 * counters across kube-proxy syncs). Values, not the activity check. */
struct kp_family_traffic {
  bool present; /* the family holds kube-proxy's rules in the input */
  struct kp_traffic services, nodeports, postrouting;
};

/* Per-service traffic (only when kp_check_config.service_traffic): the
 * rules that send this service port to its service chain (cluster,
 * external and load-balancer IPs added up), grouped by "ns/name:port". */
struct kp_service_traffic {
  char *name; /* "ns/name:port" */
  enum kp_family family;
  uint64_t packets, bytes;
};

/* What the rules say is deployed: the one place values and the JSON report
 * take their figures from (the collectd glue computes nothing itself). */
struct kp_inventory {
  size_t services;  /* service ports with rules */
  size_t endpoints; /* endpoint (SEP / endpoint-) chains */
  size_t services_without_endpoints;
  size_t services_without_local_endpoints;
  size_t rules, chains; /* all tables in the snapshot */
  size_t kube_rules;    /* rules in KUBE-* / kube-proxy chains */
  struct kp_family_traffic traffic[KP_FAMILY_COUNT];
  /* What the activity check watches: the service rules (a rule matching a
   * service's cluster, external or load-balancer IP or node port, or an
   * endpoint DNAT). */
  size_t service_rules;              /* such rules in the input */
  size_t service_rules_with_traffic; /* of them, with a non-zero packet counter */
  uint64_t service_packets;          /* their packets, summed */
  uint64_t service_sample_packets;   /* the largest single counter among them */
  const char *service_sample_text;   /* its text as the dump showed it ("2675K"), or NULL */
  size_t service_rules_counted;      /* of them, with counters in the input */
  /* Live (a carried state and a previous read): packets the service rules
   * handled since the last read, each rule's rise (a rule that is new or
   * whose counter fell was rewritten: its whole count is new), the larger
   * of the two layers (service dispatch, endpoint DNAT), never their sum. */
  bool service_delta_known;
  uint64_t service_new_packets;
};

struct kp_report {
  enum kp_mode mode;
  enum kp_backend backend; /* backend holding the kube-proxy rules */
  struct kp_inventory inventory;
  struct kp_service_traffic *service_traffic; /* service_traffic config only */
  size_t n_service_traffic;
  struct kp_result *results;
  size_t n_results;
  size_t capacity;
};

/* Pod IPs and tunables. */
struct kp_check_config {
  bool enabled[KP_CHECK_COUNT];
  struct kp_addr *pod_ips;
  char **pod_ip_texts; /* as the user wrote them, for messages */
  size_t n_pod_ips;
  unsigned activity_intervals; /* live: intervals without new packets before WARN */
  bool service_traffic;        /* fill report->service_traffic (per-service values) */
};

void kp_check_config_init(struct kp_check_config *cfg); /* all on, 5 intervals */
void kp_check_config_free(struct kp_check_config *cfg);
/* Adds a pod IP; -1 when the text is not an IPv4/IPv6 address. */
int kp_check_config_add_pod_ip(struct kp_check_config *cfg, const char *text);

/* What other collectd plugins said about the kube-proxy process. */
struct kp_process_state {
  bool known;
  enum kp_severity severity;
  char message[256];
  char source[128]; /* "processes/kube-proxy" */
  double time;
};

/* Carried between live reads (owned by the caller, zero-initialised with
 * kp_check_state_init). Offline runs pass NULL: activity then judges the
 * counters as they are. */
/* One service rule's packet counter at the last read, by a hash of what
 * the rule matches (its place and match, not its position or counters). */
struct kp_rule_count {
  uint64_t key, packets;
  uint8_t layer; /* 0 service dispatch, 1 endpoint DNAT */
};

struct kp_check_state {
  bool have_previous;
  uint64_t previous_packets;         /* service-rule packets at the last read */
  struct kp_rule_count *rule_counts; /* sorted by key; kp_check_state_free */
  size_t n_rule_counts;
  unsigned idle_intervals; /* consecutive reads without new packets */
  unsigned reads;
  uint64_t window_packets; /* packets seen over the current window */
  struct kp_process_state process;
};

void kp_check_state_init(struct kp_check_state *state);
/* Releases the per-rule memory (the state stays usable, as after init). */
void kp_check_state_free(struct kp_check_state *state);

/* Runs every enabled check. out is initialised here; free with
 * kp_report_free. Returns 0, -1 on OOM. */
int kp_checks_run(const struct kp_snapshot *snap, const struct kp_check_config *cfg,
                  struct kp_check_state *state, struct kp_report *out);
void kp_report_free(struct kp_report *report);

/* Mode and the backend holding kube-proxy's rules. */
enum kp_mode kp_detect_mode(const struct kp_snapshot *snap, enum kp_backend *backend);
void kp_inventory_compute(const struct kp_snapshot *snap, enum kp_mode mode,
                          struct kp_inventory *inv);

/* Worst severity per check (OK when the check produced nothing). */
enum kp_severity kp_report_check_severity(const struct kp_report *report, enum kp_check_id id);
enum kp_severity kp_report_worst(const struct kp_report *report);

/* Building results (used by the checks; exposed for tests and the plugin's
 * process check). Message is printf-formatted. Return NULL on OOM. */
struct kp_result *kp_report_add(struct kp_report *report, enum kp_check_id id, enum kp_severity sev,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int kp_result_set_where(struct kp_result *result, const char *table, const char *chain);
int kp_result_add_str(struct kp_result *result, const char *key, const char *value);
int kp_result_add_int(struct kp_result *result, const char *key, int64_t value);
int kp_result_add_bool(struct kp_result *result, const char *key, bool value);
int kp_result_add_list(struct kp_result *result, const char *key, const char *const *items,
                       size_t n_items);

#endif
