/* The rest of the offline path after the parsers, shared by every fuzz
 * target and by test_fuzz_regress: reconcile, finalize, run all checks with
 * a pod IP, write both reports into memory and check their properties
 * (fuzz_output_check.h). Header-only: static functions. */
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

/* Returns NULL when every step held its contract, else what failed. */
static inline const char *kp_fuzz_offline_path(struct kp_snapshot *snap) {
  const char *problem = NULL;
  if (kp_dump_reconcile(snap) != 0 || kp_snapshot_finalize(snap) != 0)
    return NULL; /* OOM only: nothing to judge */
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  /* 10.180.0.4 is a pod of the generated fixtures; the IPv6 one exercises
   * the other family's index. */
  if (kp_check_config_add_pod_ip(&cfg, "10.180.0.4") != 0 ||
      kp_check_config_add_pod_ip(&cfg, "fd00:10:180::4") != 0) {
    kp_check_config_free(&cfg);
    return "config: pod IP rejected";
  }
  struct kp_report report;
  memset(&report, 0, sizeof(report));
  if (kp_checks_run(snap, &cfg, NULL, &report) == 0) {
    char *text = NULL, *json = NULL;
    size_t text_len = 0, json_len = 0;
    FILE *t = open_memstream(&text, &text_len);
    FILE *j = open_memstream(&json, &json_len);
    if (t != NULL && j != NULL) {
      int rt = kp_report_write_text(t, &report);
      int rj = kp_report_write_json(j, &report);
      fclose(t);
      fclose(j);
      t = j = NULL;
      if (rt != 0 || rj != 0)
        problem = "report writer failed on a memory stream";
      if (problem == NULL)
        problem = kp_check_text_output(text, text_len, report.n_results);
      if (problem == NULL)
        problem = kp_check_json_output(json, json_len);
      (void)kp_report_exit_code(&report);
    }
    if (t != NULL)
      fclose(t);
    if (j != NULL)
      fclose(j);
    free(text);
    free(json);
  }
  kp_report_free(&report);
  kp_check_config_free(&cfg);
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
    problem = kp_fuzz_offline_path(snap);
  kp_snapshot_free(snap);
  if (problem != NULL) {
    fprintf(stderr, "fuzz property broken: %s\n", problem);
    abort();
  }
  return 0;
}

#endif
