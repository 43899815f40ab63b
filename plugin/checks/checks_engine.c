/* The check engine: ids and names, configuration, carried state, building
 * results, and kp_checks_run which runs every enabled check in id order. */
#include "checks_internal.h"
#include "service_traffic.h"

#include <stdarg.h>
#include <stdio.h>
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
  switch (sev) {
  case KP_SEV_OK:
    return "OK";
  case KP_SEV_INFO:
    return "INFO";
  case KP_SEV_WARN:
    return "WARN";
  case KP_SEV_FAIL:
    return "FAIL";
  }
  return "UNKNOWN";
}

const char *kp_mode_name(enum kp_mode mode) {
  switch (mode) {
  case KP_MODE_NONE:
    return "none";
  case KP_MODE_IPTABLES:
    return "iptables";
  case KP_MODE_IPVS:
    return "ipvs";
  case KP_MODE_NFTABLES:
    return "nftables";
  }
  return "unknown";
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

/* ---- results -------------------------------------------------------------- */

static void detail_free(struct kp_detail *d) {
  free(d->key);
  free(d->str);
  for (size_t i = 0; i < d->n_items; i++)
    free(d->items[i]);
  free(d->items);
}

static void result_free(struct kp_result *r) {
  free(r->message);
  free(r->table);
  free(r->chain);
  for (size_t i = 0; i < r->n_details; i++)
    detail_free(&r->details[i]);
  free(r->details);
}

void kp_report_free(struct kp_report *report) {
  if (report == NULL)
    return;
  for (size_t i = 0; i < report->n_results; i++)
    result_free(&report->results[i]);
  free(report->results);
  kp_service_traffic_free(report);
  memset(report, 0, sizeof(*report));
}

struct kp_result *kp_report_add(struct kp_report *report, enum kp_check_id id, enum kp_severity sev,
                                const char *fmt, ...) {
  if (report->n_results == report->capacity) {
    size_t cap = report->capacity ? report->capacity * 2 : 16;
    struct kp_result *grown = realloc(report->results, cap * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    report->results = grown;
    report->capacity = cap;
  }
  va_list ap;
  va_start(ap, fmt);
  char *message = NULL;
  int n = vasprintf(&message, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  struct kp_result *r = &report->results[report->n_results++];
  memset(r, 0, sizeof(*r));
  r->check = id;
  r->severity = sev;
  r->message = message;
  return r;
}

int kp_result_set_where(struct kp_result *result, const char *table, const char *chain) {
  char *t = table ? strdup(table) : NULL;
  char *c = chain ? strdup(chain) : NULL;
  if ((table && !t) || (chain && !c)) {
    free(t);
    free(c);
    return -1;
  }
  free(result->table);
  free(result->chain);
  result->table = t;
  result->chain = c;
  return 0;
}

static struct kp_detail *detail_new(struct kp_result *result, const char *key,
                                    enum kp_detail_type type) {
  struct kp_detail *grown =
      realloc(result->details, (result->n_details + 1) * sizeof(*result->details));
  if (grown == NULL)
    return NULL;
  result->details = grown;
  struct kp_detail *d = &grown[result->n_details];
  memset(d, 0, sizeof(*d));
  d->key = strdup(key);
  if (d->key == NULL)
    return NULL;
  d->type = type;
  result->n_details++;
  return d;
}

int kp_result_add_str(struct kp_result *result, const char *key, const char *value) {
  struct kp_detail *d = detail_new(result, key, KP_DETAIL_STR);
  if (d == NULL)
    return -1;
  d->str = strdup(value ? value : "");
  return d->str ? 0 : -1;
}

int kp_result_add_int(struct kp_result *result, const char *key, int64_t value) {
  struct kp_detail *d = detail_new(result, key, KP_DETAIL_INT);
  if (d == NULL)
    return -1;
  d->num = value;
  return 0;
}

int kp_result_add_bool(struct kp_result *result, const char *key, bool value) {
  struct kp_detail *d = detail_new(result, key, KP_DETAIL_BOOL);
  if (d == NULL)
    return -1;
  d->num = value ? 1 : 0;
  return 0;
}

int kp_result_add_list(struct kp_result *result, const char *key, const char *const *items,
                       size_t n_items) {
  struct kp_detail *d = detail_new(result, key, KP_DETAIL_LIST);
  if (d == NULL)
    return -1;
  if (n_items == 0)
    return 0;
  d->items = calloc(n_items, sizeof(char *));
  if (d->items == NULL)
    return -1;
  for (size_t i = 0; i < n_items; i++) {
    d->items[i] = strdup(items[i] ? items[i] : "");
    if (d->items[i] == NULL)
      return -1;
    d->n_items++;
  }
  return 0;
}

int kp_result_add_capped_list(struct kp_result *result, const char *key, const char *const *items,
                              size_t n_items) {
  size_t n = n_items < KP_DETAIL_LIST_MAX ? n_items : KP_DETAIL_LIST_MAX;
  if (kp_result_add_list(result, key, items, n) != 0)
    return -1;
  if (n_items > n) {
    char total_key[128];
    snprintf(total_key, sizeof(total_key), "%s_total", key);
    return kp_result_add_int(result, total_key, (int64_t)n_items);
  }
  return 0;
}

enum kp_severity kp_report_check_severity(const struct kp_report *report, enum kp_check_id id) {
  enum kp_severity worst = KP_SEV_OK;
  for (size_t i = 0; i < report->n_results; i++)
    if (report->results[i].check == id && report->results[i].severity > worst)
      worst = report->results[i].severity;
  return worst;
}

enum kp_severity kp_report_worst(const struct kp_report *report) {
  enum kp_severity worst = KP_SEV_OK;
  for (size_t i = 0; i < report->n_results; i++)
    if (report->results[i].severity > worst)
      worst = report->results[i].severity;
  return worst;
}

/* ---- shared helpers --------------------------------------------------------- */

bool kp_name_has_prefix(const char *name, const char *prefix) {
  return name != NULL && strncmp(name, prefix, strlen(prefix)) == 0;
}

bool kp_is_nft_svc_chain(const char *name, const char *prefix) {
  return kp_name_has_prefix(name, prefix) && strchr(name, '/') != NULL;
}

const struct kp_table *kp_ctx_table(const struct kp_check_ctx *ctx, enum kp_family family,
                                    const char *name) {
  const struct kp_table *any = NULL;
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (t->family != family || t->native_nft || strcmp(t->name, name) != 0)
      continue;
    if (t->backend == ctx->backend)
      return t;
    if (any == NULL)
      any = t;
  }
  return any;
}

const struct kp_table *kp_ctx_nft_table(const struct kp_check_ctx *ctx, enum kp_family family) {
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (t->family == family && t->native_nft && strcmp(t->name, "kube-proxy") == 0)
      return t;
  }
  return NULL;
}

const struct kp_chain *kp_chain_present(const struct kp_table *table, const char *name) {
  if (table == NULL)
    return NULL;
  const struct kp_chain *chain = kp_table_chain(table, name);
  return chain != NULL && chain->declared ? chain : NULL;
}

void kp_table_label(const struct kp_table *table, char *buf, size_t len) {
  if (table->native_nft)
    snprintf(buf, len, "%s %s", table->family == KP_FAMILY_IPV6 ? "ip6" : "ip", table->name);
  else if (table->family == KP_FAMILY_IPV6)
    snprintf(buf, len, "ip6 %s", table->name);
  else
    snprintf(buf, len, "%s", table->name);
}

/* ---- string list ---------------------------------------------------------- */

void kp_strlist_free(struct kp_strlist *list) {
  free(list->items);
  free(list->slots);
  memset(list, 0, sizeof(*list));
}

int kp_strlist_add(struct kp_strlist *list, const char *item) {
  if (list->count == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 16;
    const char **grown = realloc(list->items, cap * sizeof(*grown));
    if (grown == NULL)
      return -1;
    list->items = grown;
    list->capacity = cap;
  }
  list->items[list->count++] = item;
  return 0;
}

static size_t str_hash(const char *s) {
  size_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static int strlist_rehash(struct kp_strlist *list, size_t n_slots) {
  size_t *slots = calloc(n_slots, sizeof(*slots));
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < list->count; i++) {
    size_t s = str_hash(list->items[i]) & (n_slots - 1);
    while (slots[s] != 0)
      s = (s + 1) & (n_slots - 1);
    slots[s] = i + 1;
  }
  free(list->slots);
  list->slots = slots;
  list->n_slots = n_slots;
  return 0;
}

int kp_strlist_add_unique(struct kp_strlist *list, const char *item) {
  if ((list->count + 1) * 2 > list->n_slots &&
      strlist_rehash(list, list->n_slots ? list->n_slots * 2 : 32) != 0)
    return -1;
  size_t s = str_hash(item) & (list->n_slots - 1);
  while (list->slots[s] != 0) {
    if (strcmp(list->items[list->slots[s] - 1], item) == 0)
      return 0;
    s = (s + 1) & (list->n_slots - 1);
  }
  if (kp_strlist_add(list, item) != 0)
    return -1;
  list->slots[s] = list->count;
  return 0;
}

/* ---- run ------------------------------------------------------------------ */

typedef int (*check_fn)(struct kp_check_ctx *ctx);

static const check_fn check_fns[KP_CHECK_COUNT] = {
    [KP_CHECK_MODE] = kp_check_mode,
    [KP_CHECK_CHAINS] = kp_check_chains,
    [KP_CHECK_HOOKS] = kp_check_hooks,
    [KP_CHECK_ACTIVITY] = kp_check_activity,
    [KP_CHECK_MASQUERADE] = kp_check_masquerade,
    [KP_CHECK_POD_RULES] = kp_check_pod_rules,
    [KP_CHECK_ENDPOINTS] = kp_check_endpoints,
    [KP_CHECK_STALE] = kp_check_stale,
    [KP_CHECK_BACKENDS] = kp_check_backends,
    [KP_CHECK_CANARY] = kp_check_canary,
    [KP_CHECK_PROCESS] = kp_check_process,
    [KP_CHECK_SYNC] = kp_check_sync,
};

int kp_checks_run(const struct kp_snapshot *snap, const struct kp_check_config *cfg,
                  struct kp_check_state *state, struct kp_report *out) {
  memset(out, 0, sizeof(*out));
  struct kp_check_ctx ctx = {.snap = snap, .cfg = cfg, .state = state, .report = out};
  kp_ctx_detect(&ctx);
  out->mode = ctx.mode;
  out->backend = ctx.backend;
  kp_inventory_compute(snap, ctx.mode, &out->inventory);
  if (kp_service_traffic_collect(&ctx) != 0) {
    kp_report_free(out);
    return -1;
  }
  for (int id = 0; id < KP_CHECK_COUNT; id++) {
    if (!cfg->enabled[id])
      continue;
    if (check_fns[id](&ctx) != 0) {
      kp_report_free(out);
      return -1;
    }
  }
  return 0;
}
