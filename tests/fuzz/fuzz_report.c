/* libFuzzer target: the two report writers (text, JSON) on reports built
 * from arbitrary bytes, then their output properties (fuzz_output_check.h).
 * The writers see nothing of a snapshot but the report, so every field here
 * comes from the input: mode, backend, the inventory's figures and sample
 * text, and any number of results with any check id, severity, message,
 * table, chain and details (strings of any bytes but NUL, numbers of any
 * value, lists of any length). The parser targets stop at the report's
 * shape; this one covers what any parse could hand the writers.
 *
 * Input layout (every read past the end gives zeros, so any input decodes):
 *   mode, backend: one byte each
 *   inventory: 8 sizes of 8 bytes; per family and key chain a presence
 *              byte and two 8-byte counters; 4 more 8-byte figures; a string
 *   results: a count byte (mod 32), then per result: check, severity, message,
 *            a where byte (bit 0 table, bit 1 chain) and those strings,
 *            a details count byte, per detail: a key (by index into the
 *            checks' keys), type byte and the value
 *   string: a length byte (255: the next two bytes are the length), then
 *           that many bytes; a NUL byte ends the string early */
#include "fuzz_output_check.h"
#include "kp/checks.h"
#include "kp/report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
  const uint8_t *p;
  size_t left;
};

static uint8_t take_byte(struct input *in) {
  if (in->left == 0)
    return 0;
  in->left--;
  return *in->p++;
}

static uint64_t take_u64(struct input *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | take_byte(in);
  return v;
}

/* A fresh NUL-terminated string (caller frees), NULL on OOM. */
static char *take_string(struct input *in) {
  size_t len = take_byte(in);
  if (len == 255)
    len = (size_t)take_byte(in) << 8 | take_byte(in);
  if (len > in->left)
    len = in->left;
  char *s = malloc(len + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, in->p, len);
  s[len] = '\0';
  in->p += len;
  in->left -= len;
  return s;
}

/* Detail keys are the checks' own constants, never input (the checks'
 * kp_result_add_* calls, and the "_total" keys the text writer looks for):
 * a key made of input bytes could collide with another once invalid UTF-8
 * became U+FFFD, which no real report can do. */
static const char *const known_keys[] = {
    "backend",
    "chains",
    "checked",
    "dnat_rules",
    "evidence",
    "families",
    "family",
    "file",
    "first_virtual_server",
    "from",
    "idle_intervals",
    "jumps",
    "kubelet_chains",
    "last_queued_ts",
    "last_sync_ts",
    "legacy_rules",
    "legacy_tables",
    "line",
    "mark",
    "masquerade_rules",
    "missing",
    "mode",
    "new_packets",
    "nft_rules",
    "nft_sync_failures",
    "nft_tables",
    "no_endpoints",
    "no_local_endpoints",
    "not_in_input",
    "not_judged",
    "not_seen",
    "note",
    "other_backend_note",
    "other_chains",
    "pod_ip",
    "postrouting_mark",
    "present",
    "proxy_mode",
    "restore_failures",
    "rules_checked",
    "rules_mode",
    "rules_with_counters",
    "rules_with_traffic",
    "sample_chain",
    "searched",
    "service_packets",
    "services_without_endpoints",
    "services_without_local_endpoints",
    "snat_to",
    "source",
    "source_rules",
    "tables",
    "tables_not_seen",
    "time",
    "to",
    "unreachable",
    "unreferenced",
    "virtual_servers",
    "without_endpoints",
    "services_without_endpoints_total",
    "services_without_local_endpoints_total",
};
#define N_KNOWN_KEYS (sizeof(known_keys) / sizeof(known_keys[0]))

static bool has_key(const struct kp_result *r, const char *key) {
  for (size_t i = 0; i < r->n_details; i++)
    if (strcmp(r->details[i].key, key) == 0)
      return true;
  return false;
}

/* One detail; a key the result already holds is skipped (a real report
 * never repeats one, and the JSON check refuses duplicates). 0, -1 on OOM. */
static int add_detail(struct input *in, struct kp_result *r) {
  const char *key = known_keys[take_byte(in) % N_KNOWN_KEYS];
  uint8_t type = take_byte(in) % 4;
  int rc = 0;
  char *str = NULL;
  char **items = NULL;
  size_t n_items = 0;
  switch (type) {
  case 0:
    str = take_string(in);
    rc = str == NULL ? -1 : has_key(r, key) ? 0 : kp_result_add_str(r, key, str);
    break;
  case 1: {
    int64_t num = (int64_t)take_u64(in);
    rc = has_key(r, key) ? 0 : kp_result_add_int(r, key, num);
    break;
  }
  case 2: {
    bool b = take_byte(in) & 1;
    rc = has_key(r, key) ? 0 : kp_result_add_bool(r, key, b);
    break;
  }
  default:
    n_items = take_byte(in) % 32;
    items = calloc(n_items + 1, sizeof(*items));
    for (size_t i = 0; items != NULL && i < n_items && rc == 0; i++)
      rc = (items[i] = take_string(in)) == NULL ? -1 : 0;
    if (items == NULL)
      rc = -1;
    if (rc == 0 && !has_key(r, key))
      rc = kp_result_add_list(r, key, (const char *const *)items, n_items);
    break;
  }
  for (size_t i = 0; items != NULL && i < n_items; i++)
    free(items[i]);
  free(items);
  free(str);
  return rc;
}

static int add_result(struct input *in, struct kp_report *report) {
  enum kp_check_id check = (enum kp_check_id)(take_byte(in) % KP_CHECK_COUNT);
  enum kp_severity sev = (enum kp_severity)(take_byte(in) % (KP_SEV_FAIL + 1));
  char *message = take_string(in);
  if (message == NULL)
    return -1;
  struct kp_result *r = kp_report_add(report, check, sev, "%s", message);
  free(message);
  if (r == NULL)
    return -1;
  uint8_t where = take_byte(in);
  char *table = where & 1 ? take_string(in) : NULL;
  char *chain = where & 2 ? take_string(in) : NULL;
  int rc = (where & 1 && table == NULL) || (where & 2 && chain == NULL)
               ? -1
               : kp_result_set_where(r, table, chain);
  free(table);
  free(chain);
  size_t n_details = take_byte(in) % 16;
  for (size_t i = 0; i < n_details && rc == 0; i++)
    rc = add_detail(in, r);
  return rc;
}

static void take_inventory(struct input *in, struct kp_inventory *inv) {
  size_t *sizes[] = {&inv->services,
                     &inv->endpoints,
                     &inv->services_without_endpoints,
                     &inv->services_without_local_endpoints,
                     &inv->rules,
                     &inv->chains,
                     &inv->kube_rules,
                     &inv->service_rules};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    *sizes[i] = (size_t)take_u64(in);
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    struct kp_traffic *t[] = {&inv->traffic[f].services, &inv->traffic[f].nodeports,
                              &inv->traffic[f].postrouting};
    inv->traffic[f].present = take_byte(in) & 1;
    for (size_t i = 0; i < 3; i++) {
      t[i]->present = take_byte(in) & 1;
      t[i]->packets = take_u64(in);
      t[i]->bytes = take_u64(in);
    }
  }
  inv->service_rules_with_traffic = (size_t)take_u64(in);
  inv->service_packets = take_u64(in);
  inv->service_sample_packets = take_u64(in);
  inv->service_new_packets = take_u64(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct input in = {data, size};
  struct kp_report report;
  memset(&report, 0, sizeof(report));
  report.mode = (enum kp_mode)(take_byte(&in) % 4);
  report.backend = (enum kp_backend)(take_byte(&in) % KP_BACKEND_COUNT);
  take_inventory(&in, &report.inventory);
  char *sample = take_string(&in);
  report.inventory.service_sample_text = sample;
  size_t n_results = take_byte(&in) % 32;
  int rc = sample == NULL ? -1 : 0;
  for (size_t i = 0; i < n_results && rc == 0; i++)
    rc = add_result(&in, &report);
  /* OOM while building: nothing to judge. */
  const char *problem = rc == 0 ? kp_fuzz_write_outputs(&report) : NULL;
  kp_report_free(&report);
  free(sample);
  if (problem != NULL) {
    fprintf(stderr, "fuzz property broken: %s\n", problem);
    abort();
  }
  return 0;
}
