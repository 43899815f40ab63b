/* Times kp_nft_read in a network namespace: one full read (new reader),
 * then cached reads (unchanged generation) with the same reader.
 *   bench_nft /run/netns/NAME [cached-reads]
 * Build: cc -Iinclude -D_GNU_SOURCE -O2 tests/bench/bench_nft.c BUILD/libkpcore.a \
 *        -lip4tc -lip6tc -lnftnl -lmnl -lpthread */
#include "kp/live.h"
#include "live_internal.h"
#include "live_nft.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct bench {
  int reads;
  double full_ms, cached_ms;
  size_t rules;
  size_t full_chains, cached_chains;
  int cached_ok;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(void *arg) {
  struct bench *b = arg;
  struct kp_nft_reader *reader = kp_nft_reader_new();
  struct kp_live_error err;
  struct kp_nft_read_stats st;
  if (reader == NULL)
    return -1;
  double t0 = now_ms();
  struct kp_snapshot *snap = kp_snapshot_new();
  if (kp_nft_read(reader, snap, true, &err) != 0) {
    fprintf(stderr, "read: %s\n", err.message);
    return -1;
  }
  b->full_ms = now_ms() - t0;
  b->rules = kp_snapshot_rule_count(snap);
  kp_nft_last_stats(reader, &st);
  b->full_chains = st.chains_dumped;
  kp_snapshot_free(snap);
  b->cached_ok = 1;
  t0 = now_ms();
  for (int i = 0; i < b->reads; i++) {
    snap = kp_snapshot_new();
    if (kp_nft_read(reader, snap, true, &err) != 0)
      return -1;
    kp_nft_last_stats(reader, &st);
    b->cached_ok &= st.cached;
    b->cached_chains = st.chains_dumped;
    kp_snapshot_free(snap);
  }
  b->cached_ms = (now_ms() - t0) / b->reads;
  kp_nft_reader_free(reader);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_nft /run/netns/NAME [cached-reads]\n");
    return 2;
  }
  struct bench b = {.reads = argc > 2 ? atoi(argv[2]) : 5};
  if (b.reads < 1)
    b.reads = 1;
  struct kp_live_error err;
  if (kp_netns_run(argv[1], run, &b, &err) != 0) {
    fprintf(stderr, "bench_nft: %s\n", err.message);
    return 1;
  }
  printf("rules %zu  full %.1f ms (%zu chain dumps)  cached %.1f ms (%zu chain dumps, %s)\n",
         b.rules, b.full_ms, b.full_chains, b.cached_ms, b.cached_chains,
         b.cached_ok ? "cache hit" : "CACHE MISS");
  return 0;
}
