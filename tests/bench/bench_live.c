/* Times one plugin read of the iptables-legacy tables in a namespace against
 * what it is made of:
 *   floor     iptc_init of filter, nat, mangle (the kernel's copy of the
 *             tables; nothing can read them for less)
 *   walk      floor + libiptc's own walk over every chain and rule with
 *             its counters (no decoding)
 *   ours      kp_live_read (legacy) + finalize + every check
 * Prints "name median_ms" lines; tests/bench/bench.sh prints the ratios.
 *   bench_live /run/netns/NAME [RUNS] */
#include "kp/checks.h"
#include "kp/live.h"
#include "live_internal.h"

#include <libiptc/libiptc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_RUNS 100

static const char *const tables[] = {"filter", "nat", "mangle"};

struct job {
  int runs;
  double floor_ms[MAX_RUNS], walk_ms[MAX_RUNS], ours_ms[MAX_RUNS];
  size_t rules;
};

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

/* Runs inside the namespace (kp_netns_run's thread). */
static int measure(void *arg) {
  struct job *job = arg;
  for (int i = -1; i < job->runs; i++) { /* i == -1: warm-up, not kept */
    double t0 = now_ms();
    for (size_t t = 0; t < 3; t++) {
      struct xtc_handle *h = iptc_init(tables[t]);
      if (h != NULL)
        iptc_free(h);
    }
    double t1 = now_ms();
    uint64_t sink = 0;
    for (size_t t = 0; t < 3; t++) {
      struct xtc_handle *h = iptc_init(tables[t]);
      if (h == NULL)
        continue;
      for (const char *c = iptc_first_chain(h); c; c = iptc_next_chain(h))
        for (const struct ipt_entry *e = iptc_first_rule(c, h); e; e = iptc_next_rule(e, h))
          sink += e->counters.pcnt + (uint64_t)iptc_get_target(e, h)[0];
      iptc_free(h);
    }
    double t2 = now_ms();
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_live_options opt = {.backend = KP_BACKEND_LEGACY};
    struct kp_live_error err;
    struct kp_check_config cfg;
    struct kp_report report;
    kp_check_config_init(&cfg);
    if (kp_live_read(snap, &opt, &err) != 0) {
      fprintf(stderr, "bench_live: %s\n", err.message);
      return -1;
    }
    kp_snapshot_finalize(snap);
    kp_checks_run(snap, &cfg, NULL, &report);
    double t3 = now_ms();
    job->rules = kp_snapshot_rule_count(snap) + (sink == 1); /* keep the walk */
    kp_report_free(&report);
    kp_check_config_free(&cfg);
    kp_snapshot_free(snap);
    if (i < 0)
      continue;
    job->floor_ms[i] = t1 - t0;
    job->walk_ms[i] = t2 - t1;
    job->ours_ms[i] = t3 - t2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_live /run/netns/NAME [RUNS]\n");
    return 64;
  }
  static struct job job;
  job.runs = argc > 2 ? atoi(argv[2]) : 5;
  if (job.runs < 1 || job.runs > MAX_RUNS)
    job.runs = 5;
  struct kp_live_error err;
  if (kp_netns_run(argv[1], measure, &job, &err) != 0) {
    fprintf(stderr, "bench_live: %s\n", err.message);
    return 1;
  }
  printf("rules %zu\nfloor_ms %.3f\nwalk_ms %.3f\nours_ms %.3f\n", job.rules,
         median(job.floor_ms, job.runs), median(job.walk_ms, job.runs),
         median(job.ours_ms, job.runs));
  return 0;
}
