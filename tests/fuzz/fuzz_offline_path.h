/* The rest of the offline path after the parsers, shared by every fuzz
 * target and by test_fuzz_regress: reconcile, finalize, run all checks with
 * pod IPs, check the report's shape, and (KP_FUZZ_WRITE) write both reports
 * into memory and check their properties (fuzz_output_check.h).
 *
 * The parser targets do not write: the writers see nothing of a snapshot but
 * the report's strings and numbers, and fuzz_report feeds them reports whose
 * every field is arbitrary bytes, a superset of what any parse can produce.
 * Writing and validating both outputs was two thirds of an execution
 * (fuzz_nft at -max_len=1024: 1,254 executions/s with, 3,579 without).
 * test_fuzz_regress still runs every regression input through the writers.
 * Header-only: static functions. */
#ifndef KP_FUZZ_OFFLINE_PATH_H
#define KP_FUZZ_OFFLINE_PATH_H

#include "fuzz_output_check.h"
#include "kp/checks.h"
#include "kp/dump.h"
#include "kp/report.h"

#include "dump_metrics.h"
#include "dump_parsers.h"

#include <stdio.h>
#include <stdlib.h>

/* Splits a bundle input into files on NUL bytes (a dump never holds one, so
 * the separator cannot collide with content) and parses each with
 * kp_dump_parse_buffer into snap, as `--file a --file b` would, except that
 * a file that fails does not stop the others. At most max_files pieces. */
static inline void kp_fuzz_parse_bundle(struct kp_snapshot *snap, const char *data, size_t size,
                                        size_t max_files) {
  static const char *const names[] = {"node_iptables_filter.txt", "node_iptables_nat.txt",
                                      "node_iptables_mangle.txt", "nft-list-ruleset.txt",
                                      "ip6tables-save.txt",       "metrics.txt"};
  size_t start = 0, n = 0;
  while (start <= size && n < max_files) {
    const char *nul = start < size ? memchr(data + start, '\0', size - start) : NULL;
    size_t end = nul != NULL ? (size_t)(nul - data) : size;
    struct kp_dump_error err;
    (void)kp_dump_parse_buffer(snap, names[n % (sizeof(names) / sizeof(names[0]))], data + start,
                               end - start, &err);
    n++;
    if (nul == NULL)
      break;
    start = end + 1;
  }
}

enum kp_fuzz_outputs { KP_FUZZ_REPORT_ONLY, KP_FUZZ_WRITE };

/* What every report must hold whatever the input: known check ids and
 * severities, a message, well-formed details. NULL when fine. */
static inline const char *kp_fuzz_report_shape(const struct kp_report *report) {
  if (report->n_results == 0)
    return "report: no result at all";
  for (size_t i = 0; i < report->n_results; i++) {
    const struct kp_result *r = &report->results[i];
    if ((unsigned)r->check >= KP_CHECK_COUNT || (unsigned)r->severity > KP_SEV_FAIL)
      return "report: unknown check id or severity";
    if (r->message == NULL || (r->n_details > 0 && r->details == NULL))
      return "report: result without message or details";
    for (size_t d = 0; d < r->n_details; d++) {
      const struct kp_detail *det = &r->details[d];
      if (det->key == NULL || (det->type == KP_DETAIL_STR && det->str == NULL) ||
          (det->type == KP_DETAIL_LIST && det->n_items > 0 && det->items == NULL))
        return "report: detail without key or value";
      for (size_t k = 0; det->type == KP_DETAIL_LIST && k < det->n_items; k++)
        if (det->items[k] == NULL)
          return "report: list detail with a NULL item";
    }
  }
  int code = kp_report_exit_code(report);
  if (code < 0 || code > 2)
    return "report: exit code outside 0..2";
  return NULL;
}

/* The check configuration every run uses, built once: pod IPs of both
 * families (10.180.0.4 is a pod of the generated fixtures; the IPv6 one
 * exercises the other family's index). NULL if it cannot be built. */
static struct kp_check_config kp_fuzz_cfg;
static int kp_fuzz_cfg_state; /* 0 not built, 1 built, -1 failed */

static inline const struct kp_check_config *kp_fuzz_check_config(void) {
  if (kp_fuzz_cfg_state == 0) {
    kp_check_config_init(&kp_fuzz_cfg);
    bool ok = kp_check_config_add_pod_ip(&kp_fuzz_cfg, "10.180.0.4") == 0 &&
              kp_check_config_add_pod_ip(&kp_fuzz_cfg, "fd00:10:180::4") == 0;
    kp_fuzz_cfg_state = ok ? 1 : -1;
  }
  return kp_fuzz_cfg_state == 1 ? &kp_fuzz_cfg : NULL;
}

/* For the unit tests, which run under valgrind's leak check. */
static inline void kp_fuzz_check_config_release(void) {
  if (kp_fuzz_cfg_state != 0)
    kp_check_config_free(&kp_fuzz_cfg);
  kp_fuzz_cfg_state = 0;
}

/* Returns NULL when every step held its contract, else what failed. */
static inline const char *kp_fuzz_offline_path(struct kp_snapshot *snap,
                                               enum kp_fuzz_outputs outputs) {
  if (kp_dump_reconcile(snap) != 0 || kp_snapshot_finalize(snap) != 0)
    return NULL; /* OOM only: nothing to judge */
  const struct kp_check_config *cfg = kp_fuzz_check_config();
  if (cfg == NULL)
    return "config: pod IP rejected";
  struct kp_report report;
  memset(&report, 0, sizeof(report));
  const char *problem = NULL;
  if (kp_checks_run(snap, cfg, NULL, &report) == 0) {
    problem = kp_fuzz_report_shape(&report);
    if (problem == NULL && outputs == KP_FUZZ_WRITE)
      problem = kp_fuzz_write_outputs(&report);
  }
  kp_report_free(&report);
  return problem;
}

typedef int (*kp_fuzz_parser)(struct kp_snapshot *, const char *, const char *, size_t,
                              struct kp_dump_error *);

/* One fuzz iteration: parse (parser NULL: kp_dump_parse_buffer with
 * detection), then the offline path; abort() on a broken property so
 * libFuzzer records the input. */
static inline int kp_fuzz_run(kp_fuzz_parser parser, const uint8_t *data, size_t size) {
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap == NULL)
    return 0;
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  const char *buf = (const char *)data;
  int rc = parser != NULL ? parser(snap, "fuzz.txt", buf, size, &err)
                          : kp_dump_parse_buffer(snap, "fuzz.txt", buf, size, &err);
  const char *problem = NULL;
  if (rc != 0 && (err.message[0] == '\0' || memchr(err.message, '\0', sizeof(err.message)) == NULL))
    problem = "parser failed without an error message";
  if (problem == NULL)
    problem = kp_fuzz_offline_path(snap, KP_FUZZ_REPORT_ONLY);
  kp_snapshot_free(snap);
  if (problem != NULL) {
    fprintf(stderr, "fuzz property broken: %s\n", problem);
    abort();
  }
  return 0;
}

#endif
