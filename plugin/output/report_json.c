/* The CLI's machine output: one JSON object per run. */
#include "kp/report.h"

#include <inttypes.h>

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  kp_json_escape(out, s);
  fputc('"', out);
}

static void json_detail_value(FILE *out, const struct kp_detail *detail) {
  switch (detail->type) {
  case KP_DETAIL_STR:
    json_string(out, detail->str);
    break;
  case KP_DETAIL_INT:
    fprintf(out, "%" PRId64, detail->num);
    break;
  case KP_DETAIL_BOOL:
    fputs(detail->num ? "true" : "false", out);
    break;
  case KP_DETAIL_LIST:
    fputc('[', out);
    for (size_t i = 0; i < detail->n_items; i++) {
      if (i)
        fputc(',', out);
      json_string(out, detail->items[i]);
    }
    fputc(']', out);
    break;
  }
}

static void json_result(FILE *out, const struct kp_result *result) {
  fputs("{\"check\":", out);
  json_string(out, kp_check_name(result->check));
  fputs(",\"severity\":", out);
  json_string(out, kp_severity_name(result->severity));
  fputs(",\"message\":", out);
  json_string(out, result->message);
  if (result->table) {
    fputs(",\"table\":", out);
    json_string(out, result->table);
  }
  if (result->chain) {
    fputs(",\"chain\":", out);
    json_string(out, result->chain);
  }
  fputs(",\"details\":{", out);
  for (size_t i = 0; i < result->n_details; i++) {
    if (i)
      fputc(',', out);
    json_string(out, result->details[i].key);
    fputc(':', out);
    json_detail_value(out, &result->details[i]);
  }
  fputs("}}", out);
}

/* The families added up (per-family figures are in report->inventory.traffic). */
static void json_inventory(FILE *out, const struct kp_inventory *inv) {
  struct kp_traffic sum[3] = {{0}};
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    const struct kp_traffic *t[3] = {&inv->traffic[f].services, &inv->traffic[f].nodeports,
                                     &inv->traffic[f].postrouting};
    for (int i = 0; i < 3; i++) {
      sum[i].present |= t[i]->present;
      sum[i].packets += t[i]->packets;
      sum[i].bytes += t[i]->bytes;
    }
  }
  bool has_counters = sum[0].present || sum[1].present || sum[2].present;
  fprintf(out,
          "{\"services\":%zu,\"endpoints\":%zu,\"services_without_endpoints\":%zu,"
          "\"services_without_local_endpoints\":%zu,\"rules\":%zu,\"chains\":%zu,"
          "\"kube_rules\":%zu,\"has_counters\":%s",
          inv->services, inv->endpoints, inv->services_without_endpoints,
          inv->services_without_local_endpoints, inv->rules, inv->chains, inv->kube_rules,
          has_counters ? "true" : "false");
  if (has_counters)
    fprintf(out,
            ",\"traffic\":{\"KUBE-SERVICES\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
            "},\"KUBE-NODEPORTS\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
            "},\"KUBE-POSTROUTING\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}}",
            sum[0].packets, sum[0].bytes, sum[1].packets, sum[1].bytes, sum[2].packets,
            sum[2].bytes);
  fputc('}', out);
}

int kp_report_write_json(FILE *out, const struct kp_report *report) {
  fputs("{\"mode\":", out);
  json_string(out, kp_mode_name(report->mode));
  fputs(",\"backend\":", out);
  json_string(out, kp_backend_name(report->backend));
  fputs(",\"inventory\":", out);
  json_inventory(out, &report->inventory);
  fputs(",\"results\":[", out);
  for (size_t i = 0; i < report->n_results; i++) {
    if (i)
      fputc(',', out);
    json_result(out, &report->results[i]);
  }
  fputs("]}\n", out);
  return ferror(out) ? -1 : 0;
}
