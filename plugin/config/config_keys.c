/* The <Plugin kube_proxy> keys: one table (name, single-valued flag, how
 * the value is read), applied to a block of the neutral config tree. Every
 * bad key is reported (not only the first), naming the key and the value;
 * the collectd glue then fails its config callback and the CLI exits 1. */
#include "kp/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct apply_ctx {
  kp_cfg_error_fn on_error;
  void *ctx;
  size_t errors;
};

static int report(struct apply_ctx *a, enum kp_cfg_error_kind kind, const struct kp_cfg_item *it,
                  const char *why) {
  char values[256];
  kp_cfg_format_values(it, values, sizeof(values));
  struct kp_cfg_error e = {
      .kind = kind, .line = it->line, .key = it->key, .values = values, .why = why};
  a->errors++;
  if (a->on_error != NULL)
    a->on_error(a->ctx, &e);
  return -1;
}

static int bad(struct apply_ctx *a, const struct kp_cfg_item *it, const char *why) {
  return report(a, KP_CFG_BAD_VALUE, it, why);
}

static bool one_of(const struct kp_cfg_item *it, enum kp_cfg_type type) {
  return it->n_values == 1 && it->values[0].type == type;
}

/* A whole number within [min, max]. Checked as a double first: 1e10 does
 * not fit an unsigned. */
static int get_unsigned(struct apply_ctx *a, const struct kp_cfg_item *it, unsigned min,
                        unsigned max, unsigned *out) {
  char why[96];
  if (!one_of(it, KP_CFG_NUMBER)) {
    snprintf(why, sizeof(why), "expected one whole number from %u to %u", min, max);
    return bad(a, it, why);
  }
  double v = it->values[0].number;
  if (!(v >= (double)min && v <= (double)max)) { /* also NaN */
    snprintf(why, sizeof(why), "must be from %u to %u", min, max);
    return bad(a, it, why);
  }
  if (v != (double)(unsigned)v) {
    snprintf(why, sizeof(why), "expected one whole number from %u to %u", min, max);
    return bad(a, it, why);
  }
  *out = (unsigned)v;
  return 0;
}

/* An unquoted boolean, or (collectd's cf_util_get_boolean convention) the
 * strings true/yes/on and false/no/off in any case. */
static int get_bool(struct apply_ctx *a, const struct kp_cfg_item *it, bool *out) {
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  if (one_of(it, KP_CFG_BOOLEAN)) {
    *out = it->values[0].boolean;
    return 0;
  }
  if (one_of(it, KP_CFG_STRING))
    for (size_t i = 0; i < 3; i++) {
      if (strcasecmp(it->values[0].string, yes[i]) == 0)
        return *out = true, 0;
      if (strcasecmp(it->values[0].string, no[i]) == 0)
        return *out = false, 0;
    }
  return bad(a, it, "expected true or false");
}

/* One non-empty quoted string, copied (the old one freed). */
static int get_string(struct apply_ctx *a, const struct kp_cfg_item *it, char **out) {
  if (!one_of(it, KP_CFG_STRING))
    return bad(a, it, "expected one quoted string");
  if (it->values[0].string[0] == '\0')
    return bad(a, it, "must not be empty");
  char *s = strdup(it->values[0].string);
  if (s == NULL)
    return bad(a, it, "out of memory");
  free(*out);
  *out = s;
  return 0;
}

struct key;
typedef int (*apply_fn)(struct apply_ctx *a, struct kp_plugin_config *cfg,
                        const struct kp_cfg_item *it, const struct key *key);

/* One row per key. single: it takes one value, so a second line with it in
 * the same block is an error (which one was meant?). */
struct key {
  const char *name;
  bool single;
  apply_fn apply;
  size_t offset;     /* the field, for the generic kinds */
  unsigned min, max; /* whole numbers */
};

#define FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

static int key_string(struct apply_ctx *a, struct kp_plugin_config *cfg,
                      const struct kp_cfg_item *it, const struct key *key) {
  return get_string(a, it, FIELD(cfg, key, char *));
}

static int key_bool(struct apply_ctx *a, struct kp_plugin_config *cfg, const struct kp_cfg_item *it,
                    const struct key *key) {
  return get_bool(a, it, FIELD(cfg, key, bool));
}

static int key_unsigned(struct apply_ctx *a, struct kp_plugin_config *cfg,
                        const struct kp_cfg_item *it, const struct key *key) {
  return get_unsigned(a, it, key->min, key->max, FIELD(cfg, key, unsigned));
}

static int key_backend(struct apply_ctx *a, struct kp_plugin_config *cfg,
                       const struct kp_cfg_item *it, const struct key *key) {
  (void)key;
  static const struct {
    const char *name;
    enum kp_backend backend;
  } names[] = {
      {"auto", KP_BACKEND_UNKNOWN}, {"legacy", KP_BACKEND_LEGACY}, {"nft", KP_BACKEND_NFT}};
  if (!one_of(it, KP_CFG_STRING))
    return bad(a, it, "expected one quoted string");
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcasecmp(it->values[0].string, names[i].name) == 0) {
      cfg->backend = names[i].backend; /* the live source says when nft is not built in */
      return 0;
    }
  return bad(a, it, "use auto, legacy or nft");
}

/* "IP:port" of one of kube-proxy's HTTP endpoints, or "none". The probe
 * resolves no name (kp_endpoint_parse): "localhost:10249" could never be
 * asked, so it is refused here rather than read as a silent kube-proxy. */
static int key_endpoint(struct apply_ctx *a, struct kp_plugin_config *cfg,
                        const struct kp_cfg_item *it, const struct key *key) {
  char **out = FIELD(cfg, key, char *);
  if (!one_of(it, KP_CFG_STRING))
    return bad(a, it, "expected one quoted string");
  const char *text = it->values[0].string;
  if (strcasecmp(text, "none") == 0) {
    free(*out);
    *out = NULL;
    return 0;
  }
  struct kp_addr addr;
  uint16_t port;
  if (kp_endpoint_parse(text, &addr, &port) != 0)
    return bad(a, it,
               "expected IP:PORT (e.g. \"127.0.0.1:10249\" or \"[::1]:10249\"; names are not "
               "resolved) or \"none\"");
  return get_string(a, it, out);
}

static int key_pod_ip(struct apply_ctx *a, struct kp_plugin_config *cfg,
                      const struct kp_cfg_item *it, const struct key *key) {
  (void)key;
  if (it->n_values < 1)
    return bad(a, it, "expected one or more quoted IP addresses");
  for (size_t i = 0; i < it->n_values; i++) {
    if (it->values[i].type != KP_CFG_STRING)
      return bad(a, it, "expected quoted IP addresses");
    if (kp_check_config_add_pod_ip(&cfg->checks, it->values[i].string) != 0) {
      char why[160];
      snprintf(why, sizeof(why), "\"%s\" is not an IPv4 or IPv6 address", it->values[i].string);
      return bad(a, it, why);
    }
  }
  return 0;
}

/* Check "<id>" false|true */
static int key_check(struct apply_ctx *a, struct kp_plugin_config *cfg,
                     const struct kp_cfg_item *it, const struct key *key) {
  (void)key;
  if (it->n_values != 2 || it->values[0].type != KP_CFG_STRING ||
      it->values[1].type != KP_CFG_BOOLEAN)
    return bad(a, it, "expected a check id and true or false, e.g. Check \"sync\" false");
  int id = kp_check_from_name(it->values[0].string);
  if (id < 0) {
    char why[320];
    size_t used = (size_t)snprintf(why, sizeof(why), "unknown check; known:");
    for (int i = 0; i < KP_CHECK_COUNT && used < sizeof(why); i++)
      used += (size_t)snprintf(why + used, sizeof(why) - used, " %s",
                               kp_check_name((enum kp_check_id)i));
    return bad(a, it, why);
  }
  cfg->checks.enabled[id] = it->values[1].boolean;
  return 0;
}

static int key_service_filter(struct apply_ctx *a, struct kp_plugin_config *cfg,
                              const struct kp_cfg_item *it, const struct key *key) {
  (void)key;
  char *text = NULL;
  if (get_string(a, it, &text) != 0)
    return -1;
  regex_t re;
  int rc = regcomp(&re, text, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[200] = "not a regular expression: ";
    size_t used = strlen(why);
    regerror(rc, &re, why + used, sizeof(why) - used);
    free(text);
    return bad(a, it, why);
  }
  if (cfg->has_service_filter)
    regfree(&cfg->service_filter);
  free(cfg->service_filter_text);
  cfg->service_filter = re;
  cfg->has_service_filter = true;
  cfg->service_filter_text = text;
  return 0;
}

#define AT(field) offsetof(struct kp_plugin_config, field)
static const struct key keys[] = {
    {"Backend", true, key_backend, 0, 0, 0},
    {"NetNS", true, key_string, AT(netns_path), 0, 0},
    {"KubeProxyMetrics", true, key_endpoint, AT(kube_proxy_metrics), 0, 0},
    {"KubeProxyHealthz", true, key_endpoint, AT(kube_proxy_healthz), 0, 0},
    {"IPv6", true, key_bool, AT(ipv6), 0, 0},
    {"PodIP", false, key_pod_ip, 0, 0, 0},
    {"ActivityIntervals", true, key_unsigned, AT(checks.activity_intervals), 1, 100000},
    {"Check", false, key_check, 0, 0, 0},
    {"CollectServices", true, key_bool, AT(checks.service_traffic), 0, 0},
    {"ServiceFilter", true, key_service_filter, 0, 0, 0},
    {"MaxServices", true, key_unsigned, AT(max_services), 1, 100000},
    {"RepeatNotification", true, key_unsigned, AT(repeat_notification), 0, 1000000},
};

static const struct key *key_find(const char *name) {
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    if (strcasecmp(name, keys[i].name) == 0)
      return &keys[i];
  return NULL;
}

int kp_plugin_config_init(struct kp_plugin_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->backend = KP_BACKEND_UNKNOWN;
  kp_check_config_init(&cfg->checks);
  cfg->max_services = KP_PLUGIN_DEFAULT_MAX_SERVICES;
  cfg->kube_proxy_metrics = strdup(KP_PLUGIN_DEFAULT_KUBE_PROXY_METRICS);
  cfg->kube_proxy_healthz = strdup(KP_PLUGIN_DEFAULT_KUBE_PROXY_HEALTHZ);
  return cfg->kube_proxy_metrics != NULL && cfg->kube_proxy_healthz != NULL ? 0 : -1;
}

void kp_plugin_config_free(struct kp_plugin_config *cfg) {
  free(cfg->netns_path);
  free(cfg->kube_proxy_metrics);
  free(cfg->kube_proxy_healthz);
  kp_check_config_free(&cfg->checks);
  if (cfg->has_service_filter)
    regfree(&cfg->service_filter);
  free(cfg->service_filter_text);
  memset(cfg, 0, sizeof(*cfg));
}

/* A single-valued key seen earlier in the same block. */
static bool duplicate(const struct kp_cfg_item *block, size_t index, const struct key *key) {
  if (!key->single)
    return false;
  for (size_t i = 0; i < index; i++) {
    const struct kp_cfg_item *before = block->children.items[i];
    if (strcasecmp(before->key, key->name) == 0)
      return true;
  }
  return false;
}

size_t kp_plugin_config_apply(struct kp_plugin_config *cfg, const struct kp_cfg_item *block,
                              kp_cfg_error_fn on_error, void *ctx) {
  struct apply_ctx a = {.on_error = on_error, .ctx = ctx};
  for (size_t i = 0; i < block->children.count; i++) {
    const struct kp_cfg_item *it = block->children.items[i];
    const struct key *key = key_find(it->key);
    if (key == NULL)
      report(&a, KP_CFG_UNKNOWN_KEY, it, "unknown key; see collectd-kube_proxy(5)");
    else if (it->children.count > 0)
      bad(&a, it, "takes no block");
    else if (duplicate(block, i, key))
      report(&a, KP_CFG_DUPLICATE_KEY, it, "given twice; it takes one value");
    else
      key->apply(&a, cfg, it, key);
  }
  return a.errors;
}

bool kp_cfg_is_plugin_block(const struct kp_cfg_item *item) {
  return item->key != NULL && strcasecmp(item->key, "Plugin") == 0 && item->n_values >= 1 &&
         item->values[0].type == KP_CFG_STRING &&
         strcasecmp(item->values[0].string, "kube_proxy") == 0;
}
