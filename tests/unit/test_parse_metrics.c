/* kube-proxy /metrics, /livez and /proxyMode bodies into snap->proxy. */
#include "dump_metrics.h"
#include "kp/dump.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES KP_SOURCE_DIR "/tests/fixtures/parse/"

static struct kp_snapshot *load(const char *name, int expect_rc, struct kp_dump_error *err) {
  char path[512];
  snprintf(path, sizeof(path), FIXTURES "%s", name);
  struct kp_snapshot *snap = kp_snapshot_new();
  int rc = kp_dump_parse_file(snap, path, err);
  ck_assert_msg(rc == expect_rc, "%s: rc %d: %s:%zu: %s", name, rc, err->file, err->line,
                err->message);
  return snap;
}

START_TEST(prometheus_text) {
  struct kp_dump_error err;
  struct kp_snapshot *snap = load("metrics-kube-proxy.txt", 0, &err);
  const struct kp_proxy_status *p = &snap->proxy;
  ck_assert(p->has_metrics);
  ck_assert(!p->has_livez);
  ck_assert(fabs(p->last_sync_ts - 1700000000.5) < 1e-3); /* 1.7000000005e+09 */
  ck_assert(p->has_last_queued);
  ck_assert(fabs(p->last_queued_ts - 1700000010.0) < 1e-3); /* 1.70000001e+09 */
  ck_assert(fabs(p->restore_failures - 5.0) < 1e-9);        /* 3 + 2 over ip_family */
  ck_assert(fabs(p->nft_sync_failures) < 1e-9);
  ck_assert(p->scrape_ts > 0); /* file mtime: no clock in the body */
  ck_assert_ptr_nonnull(strstr(p->source, "metrics-kube-proxy.txt"));
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(livez_bodies) {
  struct kp_dump_error err;
  struct kp_snapshot *snap = load("metrics-livez-healthy.txt", 0, &err);
  ck_assert(snap->proxy.has_livez);
  ck_assert(snap->proxy.livez_healthy); /* lastUpdated == currentTime */
  /* 2024-05-01 10:00:00.5 UTC: date -u -d '2024-05-01 10:00:00' +%s = 1714557600 */
  ck_assert(fabs(snap->proxy.scrape_ts - 1714557600.5) < 1e-3);
  kp_snapshot_free(snap);

  snap = load("metrics-livez-unhealthy-http.txt", 0, &err);
  ck_assert(snap->proxy.has_livez);
  ck_assert(!snap->proxy.livez_healthy); /* HTTP 503 */
  /* 10:00:00 +0200 = 08:00:00 UTC = 1714550400 */
  ck_assert(fabs(snap->proxy.scrape_ts - 1714550400.0) < 1e-3);
  kp_snapshot_free(snap);

  snap = kp_snapshot_new();
  const char *old = "{\"lastUpdated\": \"2024-05-01 09:00:00 +0000 UTC\","
                    "\"currentTime\": \"2024-05-01 10:00:00 +0000 UTC\"}";
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "livez", old, strlen(old), &err), 0);
  ck_assert(snap->proxy.has_livez);
  ck_assert(!snap->proxy.livez_healthy); /* an hour behind, no status line */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(proxy_mode_and_errors) {
  struct kp_dump_error err;
  struct kp_snapshot *snap = load("metrics-proxymode.txt", 0, &err);
  ck_assert_str_eq(snap->proxy.proxy_mode, "nftables");
  ck_assert(!snap->proxy.has_metrics);
  kp_snapshot_free(snap);

  snap = load("metrics-broken.txt", -1, &err);
  ck_assert_uint_eq(err.line, 3);
  ck_assert_ptr_nonnull(strstr(err.file, "metrics-broken.txt"));
  kp_snapshot_free(snap);

  snap = kp_snapshot_new();
  const char *bad = "{\"lastUpdated\": 12}";
  ck_assert_int_eq(kp_parse_metrics(snap, "x", bad, strlen(bad), &err), -1);
  ck_assert_ptr_nonnull(strstr(err.message, "lastUpdated"));
  kp_snapshot_free(snap);
}
END_TEST

/* Every prefix of the metrics fixture parses or fails with a message. */
/* A body that stops parsing leaves snap->proxy as it was: kube-proxy
 * prints last_queued before last_timestamp, so the samples before a bad
 * line would read as a sync hung since 1970. What an earlier body gave
 * (here /livez and its source) stays. */
START_TEST(failure_keeps_nothing) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  static const char livez[] = "{\"lastUpdated\": \"2024-05-01 10:00:00 +0000 UTC\","
                              "\"currentTime\": \"2024-05-01 10:00:00 +0000 UTC\"}";
  ck_assert_int_eq(kp_parse_metrics(snap, "livez", livez, strlen(livez), &err), 0);
  const struct kp_proxy_status before = snap->proxy;
  ck_assert(before.has_livez && before.livez_healthy);
  static const char *const bodies[] = {
      "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.7e9\n"
      "kubeproxy_sync_proxy_rules_iptables_restore_failures_total 4\n"
      "kubeproxy_sync_bogus not-a-number\n"
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9\n",
      "HTTP/1.1 200 OK\r\n\r\nkubeproxy_sync_proxy_rules_last_timestamp_seconds 5\n{x\n",
      "{\"currentTime\": \"2024-05-01 10:00:00 +0000 UTC\"}", /* livez without lastUpdated */
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    ck_assert_int_eq(kp_parse_metrics(snap, "metrics", bodies[i], strlen(bodies[i]), &err), -1);
    const struct kp_proxy_status *p = &snap->proxy;
    ck_assert_msg(!p->has_metrics && !p->has_last_queued, "body %zu: samples kept", i);
    ck_assert(p->last_sync_ts == 0 && p->last_queued_ts == 0 && p->restore_failures == 0);
    ck_assert(p->has_livez == before.has_livez && p->livez_healthy == before.livez_healthy);
    ck_assert(p->scrape_ts == before.scrape_ts);
    ck_assert_ptr_eq(p->source, before.source);
    ck_assert_str_eq(p->source, "livez");
    ck_assert_ptr_null(p->proxy_mode);
  }
  /* and a first body that fails sets no source either */
  struct kp_snapshot *fresh = kp_snapshot_new();
  ck_assert_int_eq(kp_parse_metrics(fresh, "metrics", bodies[0], strlen(bodies[0]), &err), -1);
  ck_assert_ptr_null(fresh->proxy.source);
  ck_assert(!fresh->proxy.has_last_queued);
  kp_snapshot_free(fresh);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(truncation) {
  FILE *f = fopen(FIXTURES "metrics-kube-proxy.txt", "rb");
  ck_assert_ptr_nonnull(f);
  char buf[4096];
  size_t len = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  for (size_t cut = 0; cut <= len; cut++) {
    char *part = malloc(cut ? cut : 1);
    memcpy(part, buf, cut);
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    if (kp_parse_metrics(snap, "cut", part, cut, &err) != 0)
      ck_assert(err.message[0] != '\0');
    kp_snapshot_free(snap);
    free(part);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_metrics");
  TCase *tc = tcase_create("metrics");
  tcase_add_test(tc, prometheus_text);
  tcase_add_test(tc, livez_bodies);
  tcase_add_test(tc, proxy_mode_and_errors);
  tcase_add_test(tc, truncation);
  tcase_add_test(tc, failure_keeps_nothing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
