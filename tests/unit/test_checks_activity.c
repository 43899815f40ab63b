/* activity check: offline counters and live deltas with counter resets. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A minimal iptables-mode nat table with given counters on the built-in
 * jump rules and the rules of KUBE-SERVICES. */
static struct kp_snapshot *node(uint64_t pre, uint64_t out, uint64_t svc) {
  struct kp_snapshot *snap = tsb_new();
  tsb_counters(tsb_rule(snap, "nat", "PREROUTING", "-j KUBE-SERVICES"), pre, pre * 60);
  tsb_counters(tsb_rule(snap, "nat", "OUTPUT", "-j KUBE-SERVICES"), out, out * 60);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 172.30.0.41/32 -j KUBE-SVC-A"), svc, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SVC-A", "-j KUBE-SEP-A"), svc, 0);
  tsb_rule(snap, "nat", "KUBE-SEP-A", "-p tcp -j DNAT --to-destination 10.0.0.10:80");
  tsb_finalize(snap);
  return snap;
}

START_TEST(offline_traffic_ok_seed_wording) {
  struct kp_snapshot *snap = node(0, 2675000, 12);
  /* as `iptables -L -v` shows it */
  struct kp_rule *out = kp_table_chain(tsb_table(snap, "nat"), "OUTPUT")->rules.items[0];
  out->counters.packets_text = "2675K";
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  /* OUTPUT (2675K) and the KUBE-SERVICES rule (12); PREROUTING's zero is no traffic */
  ck_assert_str_eq(r->message,
                   "KUBE-SERVICES chain active (2 rule(s) with traffic, sample: 2675K packets)");
  ck_assert_str_eq(r->chain, "KUBE-SERVICES");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(offline_all_zero_warns) {
  struct kp_snapshot *snap = node(0, 0, 0);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_str_eq(r->message, "KUBE-SERVICES chain has no packet counts (kube-proxy may not be "
                               "processing traffic)");
  ck_assert_int_eq(tsb_detail(r, "rules_with_traffic")->num, 0);
  ck_assert_int_eq(tsb_detail(r, "rules_with_counters")->num, 3);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(offline_no_counters_info) {
  struct kp_snapshot *snap = node(5, 5, 5);
  tsb_strip_counters(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "cannot be judged"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nftables_mode_info) {
  struct kp_snapshot *snap = tsb_new();
  tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "nftables mode"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

static enum kp_severity live_read(struct kp_check_state *st, unsigned intervals, uint64_t pre,
                                  uint64_t out, char *msg, size_t len) {
  struct kp_snapshot *snap = node(pre, out, 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  cfg.activity_intervals = intervals;
  struct kp_report rep;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, st, &rep), 0);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_ptr_nonnull(r);
  enum kp_severity sev = r->severity;
  snprintf(msg, len, "%s", r->message);
  kp_report_free(&rep);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
  return sev;
}

START_TEST(live_collecting_then_active_then_idle) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  ck_assert_int_eq(live_read(&st, 3, 100, 50, msg, sizeof(msg)), KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(msg, "collecting"));
  ck_assert_int_eq(live_read(&st, 3, 110, 50, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(msg, "10 new packet(s)"));
  /* three reads with no new packets: WARN only on the third */
  ck_assert_int_eq(live_read(&st, 3, 110, 50, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_int_eq(live_read(&st, 3, 110, 50, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_int_eq(live_read(&st, 3, 110, 50, msg, sizeof(msg)), KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(msg, "no new packets for 3 read(s)"));
  /* traffic again clears it */
  ck_assert_int_eq(live_read(&st, 3, 111, 50, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_int_eq(st.idle_intervals, 0);
  ck_assert_int_eq(st.reads, 6);
}
END_TEST

START_TEST(live_counter_reset_is_not_negative) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  live_read(&st, 2, 1000, 1000, msg, sizeof(msg));
  /* the jump rules were re-created with fresh counters: 7 packets since */
  ck_assert_int_eq(live_read(&st, 2, 4, 3, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(msg, "7 new packet(s)"));
  ck_assert_int_eq(st.previous_packets, 7);
  /* a reset to zero with nothing since is an idle read, not traffic */
  ck_assert_int_eq(live_read(&st, 2, 0, 0, msg, sizeof(msg)), KP_SEV_OK);
  ck_assert_int_eq(st.idle_intervals, 1);
  ck_assert_int_eq(live_read(&st, 2, 0, 0, msg, sizeof(msg)), KP_SEV_WARN);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_activity");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, offline_traffic_ok_seed_wording);
  tcase_add_test(tc, offline_all_zero_warns);
  tcase_add_test(tc, offline_no_counters_info);
  tcase_add_test(tc, nftables_mode_info);
  tcase_add_test(tc, live_collecting_then_active_then_idle);
  tcase_add_test(tc, live_counter_reset_is_not_negative);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
