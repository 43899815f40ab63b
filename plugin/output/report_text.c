/* The CLI's human output: one "[SEV] message" line per finding, the lists
 * a person acts on under it (as many items as the JSON holds), a summary,
 * and the exit status derived from the worst finding. */
#include "kp/report.h"

#include <inttypes.h>
#include <string.h>

int kp_report_exit_code(const struct kp_report *report) {
  switch (kp_report_worst(report)) {
  case KP_SEV_FAIL:
    return 2;
  case KP_SEV_WARN:
    return 1;
  default:
    return 0;
  }
}

/* List details printed under their finding, one item a line. */
static const struct {
  enum kp_check_id check;
  const char *key, *label;
} listed[] = {
    {KP_CHECK_ENDPOINTS, "services_without_endpoints", "no endpoints"},
    {KP_CHECK_ENDPOINTS, "services_without_local_endpoints", "no local endpoints"},
};

static const struct kp_detail *find_detail(const struct kp_result *result, const char *key) {
  for (size_t i = 0; i < result->n_details; i++)
    if (strcmp(result->details[i].key, key) == 0)
      return &result->details[i];
  return NULL;
}

static void write_lists(FILE *out, const struct kp_result *result) {
  char line[1024], total_key[128];
  for (size_t l = 0; l < sizeof(listed) / sizeof(listed[0]); l++) {
    if (listed[l].check != result->check)
      continue;
    const struct kp_detail *d = find_detail(result, listed[l].key);
    if (d == NULL || d->type != KP_DETAIL_LIST)
      continue;
    for (size_t i = 0; i < d->n_items; i++) {
      kp_sanitize_line(d->items[i], line, sizeof(line));
      fprintf(out, "    %s: %s\n", listed[l].label, line);
    }
    snprintf(total_key, sizeof(total_key), "%s_total", listed[l].key);
    const struct kp_detail *total = find_detail(result, total_key);
    if (total != NULL && total->type == KP_DETAIL_INT && total->num > (int64_t)d->n_items)
      fprintf(out, "    %s: ... and %" PRId64 " more\n", listed[l].label,
              total->num - (int64_t)d->n_items);
  }
}

int kp_report_write_text(FILE *out, const struct kp_report *report) {
  size_t per_severity[KP_SEV_FAIL + 1] = {0};
  char line[2048];
  for (size_t i = 0; i < report->n_results; i++) {
    const struct kp_result *result = &report->results[i];
    kp_sanitize_line(result->message, line, sizeof(line));
    fprintf(out, "[%s] %s\n", kp_severity_name(result->severity), line);
    write_lists(out, result);
    per_severity[result->severity]++;
  }
  const struct kp_inventory *inv = &report->inventory;
  fprintf(out,
          "Summary: mode %s, backend %s, %zu service(s), %zu endpoint(s), %zu rule(s): "
          "%zu OK, %zu INFO, %zu WARN, %zu FAIL\n",
          kp_mode_name(report->mode), kp_backend_name(report->backend), inv->services,
          inv->endpoints, inv->rules, per_severity[KP_SEV_OK], per_severity[KP_SEV_INFO],
          per_severity[KP_SEV_WARN], per_severity[KP_SEV_FAIL]);
  return ferror(out) ? -1 : 0;
}
