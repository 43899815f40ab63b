/* The CLI's human output: one "[SEV] message" line per finding, a summary,
 * and the exit status derived from the worst finding. */
#include "kp/report.h"

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

int kp_report_write_text(FILE *out, const struct kp_report *report) {
  size_t per_severity[KP_SEV_FAIL + 1] = {0};
  char line[2048];
  for (size_t i = 0; i < report->n_results; i++) {
    const struct kp_result *result = &report->results[i];
    kp_sanitize_line(result->message, line, sizeof(line));
    fprintf(out, "[%s] %s\n", kp_severity_name(result->severity), line);
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
