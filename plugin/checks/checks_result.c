/* Building results: the report, its results and their details, and the
 * worst severity per check. */
#include "checks_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
