/* The <Plugin kube_proxy> block: every key of docs/collectd-kube_proxy.5.
 * Unknown keys and bad values are errors naming the key and the value; the
 * config callback then fails and collectd refuses to start. */
#include "kube_proxy_glue.h"

#include "collectd/core/utils/common/common.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void kpg_config_init(struct kpg_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->backend = KP_BACKEND_UNKNOWN;
  kp_check_config_init(&cfg->checks);
  cfg->max_services = KPG_DEFAULT_MAX_SERVICES;
  cfg->kube_proxy_metrics = strdup(KPG_DEFAULT_KUBE_PROXY_METRICS);
  cfg->kube_proxy_healthz = strdup(KPG_DEFAULT_KUBE_PROXY_HEALTHZ);
}

void kpg_config_free(struct kpg_config *cfg) {
  free(cfg->netns_path);
  free(cfg->kube_proxy_metrics);
  free(cfg->kube_proxy_healthz);
  kp_check_config_free(&cfg->checks);
  if (cfg->has_service_filter)
    regfree(&cfg->service_filter);
  free(cfg->service_filter_text);
  memset(cfg, 0, sizeof(*cfg));
}

/* The values as written, for error messages: `"foo" 3 true`. */
static void kpg_format_values(const oconfig_item_t *ci, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < ci->values_num && used < len; i++) {
    const oconfig_value_t *v = &ci->values[i];
    int n;
    const char *sep = i > 0 ? " " : "";
    if (v->type == OCONFIG_TYPE_STRING)
      n = snprintf(buf + used, len - used, "%s\"%s\"", sep, v->value.string);
    else if (v->type == OCONFIG_TYPE_NUMBER &&
             v->value.number == (double)(long long)v->value.number)
      n = snprintf(buf + used, len - used, "%s%lld", sep, (long long)v->value.number);
    else if (v->type == OCONFIG_TYPE_NUMBER) /* all digits: "1e+06" would read as in range */
      n = snprintf(buf + used, len - used, "%s%.17g", sep, v->value.number);
    else
      n = snprintf(buf + used, len - used, "%s%s", sep, v->value.boolean ? "true" : "false");
    if (n < 0)
      break;
    used += (size_t)n;
  }
  if (ci->values_num == 0)
    snprintf(buf, len, "(no value)");
}

static int kpg_bad_value(const oconfig_item_t *ci, const char *why) {
  char values[256];
  kpg_format_values(ci, values, sizeof(values));
  ERROR(KPG_PLUGIN " plugin: invalid value %s for option \"%s\": %s", values, ci->key, why);
  return -1;
}

/* A whole number within [min, max]. Checked as a double first: handing
 * 1e10 to cf_util_get_int would be an out-of-range conversion. */
static int kpg_get_unsigned(const oconfig_item_t *ci, unsigned min, unsigned max, unsigned *out) {
  char why[96];
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
    snprintf(why, sizeof(why), "expected one whole number from %u to %u", min, max);
    return kpg_bad_value(ci, why);
  }
  double v = ci->values[0].value.number;
  if (!(v >= (double)min && v <= (double)max)) { /* also NaN */
    snprintf(why, sizeof(why), "must be from %u to %u", min, max);
    return kpg_bad_value(ci, why);
  }
  if (v != (double)(unsigned)v) {
    snprintf(why, sizeof(why), "expected one whole number from %u to %u", min, max);
    return kpg_bad_value(ci, why);
  }
  *out = (unsigned)v;
  return 0;
}

static int kpg_get_bool(const oconfig_item_t *ci, bool *out) {
  if (ci->values_num != 1 || ci->values[0].type == OCONFIG_TYPE_NUMBER ||
      cf_util_get_boolean(ci, out) != 0)
    return kpg_bad_value(ci, "expected true or false");
  return 0;
}

static int kpg_get_string(const oconfig_item_t *ci, char **out) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING)
    return kpg_bad_value(ci, "expected one quoted string");
  char *s = NULL;
  if (cf_util_get_string(ci, &s) != 0)
    return kpg_bad_value(ci, "expected one quoted string");
  if (s[0] == '\0') {
    free(s);
    return kpg_bad_value(ci, "must not be empty");
  }
  free(*out);
  *out = s;
  return 0;
}

static int kpg_config_backend(struct kpg_config *cfg, const oconfig_item_t *ci) {
  char *name = NULL;
  if (kpg_get_string(ci, &name) != 0)
    return -1;
  int rc = 0;
  if (strcasecmp(name, "auto") == 0)
    cfg->backend = KP_BACKEND_UNKNOWN;
  else if (strcasecmp(name, "legacy") == 0)
    cfg->backend = KP_BACKEND_LEGACY;
  else if (strcasecmp(name, "nft") == 0)
    cfg->backend = KP_BACKEND_NFT; /* the live source says when it is not built in */
  else
    rc = kpg_bad_value(ci, "use auto, legacy or nft");
  free(name);
  return rc;
}

static int kpg_config_pod_ip(struct kpg_config *cfg, const oconfig_item_t *ci) {
  if (ci->values_num < 1)
    return kpg_bad_value(ci, "expected one or more quoted IP addresses");
  for (int i = 0; i < ci->values_num; i++) {
    if (ci->values[i].type != OCONFIG_TYPE_STRING)
      return kpg_bad_value(ci, "expected quoted IP addresses");
    if (kp_check_config_add_pod_ip(&cfg->checks, ci->values[i].value.string) != 0) {
      char why[160];
      snprintf(why, sizeof(why), "\"%s\" is not an IPv4 or IPv6 address",
               ci->values[i].value.string);
      return kpg_bad_value(ci, why);
    }
  }
  return 0;
}

/* Check "<id>" false|true */
static int kpg_config_check(struct kpg_config *cfg, const oconfig_item_t *ci) {
  if (ci->values_num != 2 || ci->values[0].type != OCONFIG_TYPE_STRING ||
      ci->values[1].type != OCONFIG_TYPE_BOOLEAN)
    return kpg_bad_value(ci, "expected a check id and true or false, e.g. Check \"sync\" false");
  int id = kp_check_from_name(ci->values[0].value.string);
  if (id < 0) {
    char why[320];
    size_t used = (size_t)snprintf(why, sizeof(why), "unknown check; known:");
    for (int i = 0; i < KP_CHECK_COUNT && used < sizeof(why); i++)
      used += (size_t)snprintf(why + used, sizeof(why) - used, " %s",
                               kp_check_name((enum kp_check_id)i));
    return kpg_bad_value(ci, why);
  }
  cfg->checks.enabled[id] = ci->values[1].value.boolean != 0;
  return 0;
}

static int kpg_config_service_filter(struct kpg_config *cfg, const oconfig_item_t *ci) {
  char *text = NULL;
  if (kpg_get_string(ci, &text) != 0)
    return -1;
  regex_t re;
  int rc = regcomp(&re, text, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[200] = "not a regular expression: ";
    size_t used = strlen(why);
    regerror(rc, &re, why + used, sizeof(why) - used);
    free(text);
    return kpg_bad_value(ci, why);
  }
  if (cfg->has_service_filter)
    regfree(&cfg->service_filter);
  free(cfg->service_filter_text);
  cfg->service_filter = re;
  cfg->has_service_filter = true;
  cfg->service_filter_text = text;
  return 0;
}

/* "host:port" of one of kube-proxy's HTTP endpoints, or "none". */
static int kpg_config_endpoint(const oconfig_item_t *ci, char **out) {
  char *text = NULL;
  if (kpg_get_string(ci, &text) != 0)
    return -1;
  if (strcasecmp(text, "none") == 0) {
    free(text);
    free(*out);
    *out = NULL;
    return 0;
  }
  const char *colon = strrchr(text, ':');
  char *end = NULL;
  long port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
  if (colon == NULL || colon == text || *end != '\0' || port < 1 || port > 65535) {
    free(text);
    return kpg_bad_value(ci, "expected \"host:port\" (e.g. \"127.0.0.1:10249\") or \"none\"");
  }
  free(*out);
  *out = text;
  return 0;
}

/* One row per key of the block. single: the key takes one value, so a
 * second line with it is an error (which one was meant?). */
struct kpg_key {
  const char *name;
  bool single;
  int (*apply)(struct kpg_config *cfg, const oconfig_item_t *ci, const struct kpg_key *key);
  size_t offset;     /* the field, for the generic kinds below */
  unsigned min, max; /* whole numbers */
};

#define KPG_FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

static int kpg_key_string(struct kpg_config *cfg, const oconfig_item_t *ci,
                          const struct kpg_key *key) {
  return kpg_get_string(ci, KPG_FIELD(cfg, key, char *));
}
static int kpg_key_endpoint(struct kpg_config *cfg, const oconfig_item_t *ci,
                            const struct kpg_key *key) {
  return kpg_config_endpoint(ci, KPG_FIELD(cfg, key, char *));
}
static int kpg_key_bool(struct kpg_config *cfg, const oconfig_item_t *ci,
                        const struct kpg_key *key) {
  return kpg_get_bool(ci, KPG_FIELD(cfg, key, bool));
}
static int kpg_key_unsigned(struct kpg_config *cfg, const oconfig_item_t *ci,
                            const struct kpg_key *key) {
  return kpg_get_unsigned(ci, key->min, key->max, KPG_FIELD(cfg, key, unsigned));
}
static int kpg_key_backend(struct kpg_config *cfg, const oconfig_item_t *ci,
                           const struct kpg_key *key) {
  (void)key;
  return kpg_config_backend(cfg, ci);
}
static int kpg_key_pod_ip(struct kpg_config *cfg, const oconfig_item_t *ci,
                          const struct kpg_key *key) {
  (void)key;
  return kpg_config_pod_ip(cfg, ci);
}
static int kpg_key_check(struct kpg_config *cfg, const oconfig_item_t *ci,
                         const struct kpg_key *key) {
  (void)key;
  return kpg_config_check(cfg, ci);
}
static int kpg_key_service_filter(struct kpg_config *cfg, const oconfig_item_t *ci,
                                  const struct kpg_key *key) {
  (void)key;
  return kpg_config_service_filter(cfg, ci);
}

#define KPG_AT(field) offsetof(struct kpg_config, field)
static const struct kpg_key kpg_keys[] = {
    {"Backend", true, kpg_key_backend, 0, 0, 0},
    {"NetNS", true, kpg_key_string, KPG_AT(netns_path), 0, 0},
    {"KubeProxyMetrics", true, kpg_key_endpoint, KPG_AT(kube_proxy_metrics), 0, 0},
    {"KubeProxyHealthz", true, kpg_key_endpoint, KPG_AT(kube_proxy_healthz), 0, 0},
    {"IPv6", true, kpg_key_bool, KPG_AT(ipv6), 0, 0},
    {"PodIP", false, kpg_key_pod_ip, 0, 0, 0},
    {"ActivityIntervals", true, kpg_key_unsigned, KPG_AT(checks.activity_intervals), 1, 100000},
    {"Check", false, kpg_key_check, 0, 0, 0},
    {"CollectServices", true, kpg_key_bool, KPG_AT(checks.service_traffic), 0, 0},
    {"ServiceFilter", true, kpg_key_service_filter, 0, 0, 0},
    {"MaxServices", true, kpg_key_unsigned, KPG_AT(max_services), 1, 100000},
    {"RepeatNotification", true, kpg_key_unsigned, KPG_AT(repeat_notification), 0, 1000000},
};

static const struct kpg_key *kpg_key_find(const char *name) {
  for (size_t i = 0; i < sizeof(kpg_keys) / sizeof(kpg_keys[0]); i++)
    if (strcasecmp(name, kpg_keys[i].name) == 0)
      return &kpg_keys[i];
  return NULL;
}

/* A single-valued key seen earlier in the same block. */
static bool kpg_duplicate(const oconfig_item_t *ci, int index, const struct kpg_key *key) {
  if (!key->single)
    return false;
  for (int i = 0; i < index; i++)
    if (strcasecmp(ci->children[i].key, key->name) == 0)
      return true;
  return false;
}

int kpg_config_parse(struct kpg_config *cfg, const oconfig_item_t *ci) {
  int failed = 0;
  /* Report every bad key, not just the first. */
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *c = &ci->children[i];
    const struct kpg_key *key = kpg_key_find(c->key);
    char values[256];
    if (key == NULL) {
      kpg_format_values(c, values, sizeof(values));
      ERROR(KPG_PLUGIN " plugin: unknown option \"%s\" (value %s); see collectd-kube_proxy(5)",
            c->key, values);
      failed = 1;
    } else if (kpg_duplicate(ci, i, key)) {
      kpg_format_values(c, values, sizeof(values));
      ERROR(KPG_PLUGIN " plugin: option \"%s\" given twice (again with %s); it takes one value",
            c->key, values);
      failed = 1;
    } else if (key->apply(cfg, c, key) != 0) {
      failed = 1;
    }
  }
  return failed ? -1 : 0;
}
