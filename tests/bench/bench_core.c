/* Times the core's phases on one dump: parse, finalize (indexes), checks.
 * Prints "phase median_ms" lines; tests/bench/bench.sh turns them into
 * ratios against the baselines. Usage: bench_core FILE [RUNS] [POD_IP] */
#include "kp/checks.h"
#include "kp/dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_core FILE [RUNS] [POD_IP]\n");
    return 64;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  if (runs < 1 || runs > 1000)
    runs = 5;
  double parse[1000], finalize[1000], checks[1000];
  size_t rules = 0, chains = 0, arena = 0;
  for (int i = 0; i < runs; i++) {
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    memset(&err, 0, sizeof(err));
    struct kp_check_config cfg;
    kp_check_config_init(&cfg);
    if (argc > 3)
      kp_check_config_add_pod_ip(&cfg, argv[3]);
    double t0 = now_ms();
    if (kp_dump_parse_file(snap, argv[1], &err) != 0) {
      fprintf(stderr, "bench_core: %s:%zu: %s\n", err.file, err.line, err.message);
      return 3;
    }
    double t1 = now_ms();
    kp_snapshot_finalize(snap);
    double t2 = now_ms();
    struct kp_report report;
    kp_checks_run(snap, &cfg, NULL, &report);
    double t3 = now_ms();
    parse[i] = t1 - t0;
    finalize[i] = t2 - t1;
    checks[i] = t3 - t2;
    rules = kp_snapshot_rule_count(snap);
    chains = kp_snapshot_chain_count(snap);
    arena = snap->arena.bytes_used;
    kp_report_free(&report);
    kp_check_config_free(&cfg);
    kp_snapshot_free(snap);
  }
  printf("rules %zu\nchains %zu\narena_bytes %zu\n", rules, chains, arena);
  printf("parse_ms %.3f\nfinalize_ms %.3f\nchecks_ms %.3f\n", median(parse, runs),
         median(finalize, runs), median(checks, runs));
  return 0;
}
