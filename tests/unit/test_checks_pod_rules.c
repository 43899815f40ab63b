/* pod-rules check: exact address matches, not substrings or comments. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(found_dnat_and_source) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  const char *ips[] = {"10.0.0.10", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_POD_RULES), 1);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  /* KUBE-SEP-...A1: "-s 10.0.0.10/32 -j KUBE-MARK-MASQ" and the DNAT */
  ck_assert_str_eq(r->message, "Found 2 iptables rule(s) for pod IP 10.0.0.10 (service rules "
                               "present)");
  ck_assert_int_eq(tsb_detail(r, "dnat_rules")->num, 1);
  ck_assert_int_eq(tsb_detail(r, "source_rules")->num, 1);
  ck_assert(tsb_list_has(r, "chains", "KUBE-SEP-AAAAAAAAAAAAAAA1"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* 10.0.0.1 is a prefix of 10.0.0.10 and 10.0.0.100, both in the rules. */
START_TEST(substring_trap) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  /* and a comment naming it, which must not count either */
  tsb_rule(snap, "nat", "KUBE-SVC-AAAAAAAAAAAAAAAA",
           "-m comment --comment \"ns1/svc1:p80 -> 10.0.0.1:8080\" -j KUBE-SEP-AAAAAAAAAAAAAAA1");
  const char *ips[] = {"10.0.0.1", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "No iptables rules found for pod IP 10.0.0.1 ("));
  ck_assert_str_eq(tsb_detail(r, "pod_ip")->str, "10.0.0.1");
  ck_assert_ptr_nonnull(tsb_detail(r, "searched"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(negated_source_and_destination_do_not_count) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_rule(snap, "nat", "KUBE-SERVICES", "! -s 10.9.9.9/32 -d 172.30.0.50/32 -j KUBE-MARK-MASQ");
  tsb_rule(snap, "filter", "FORWARD", "-d 10.9.9.9/32 -j ACCEPT");
  const char *ips[] = {"10.9.9.9", "10.0.0.100", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_POD_RULES), 2);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert(tsb_list_has(r, "other_chains", "FORWARD"));
  const struct kp_result *r2 = r + 1;
  ck_assert_int_eq(r2->check, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r2->severity, KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(r2->message, "10.0.0.100"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(no_comments_needed_large_cluster) {
  struct kp_snapshot *snap = tsb_new();
  tsb_rule(snap, "nat", "PREROUTING", "-j KUBE-SERVICES");
  tsb_rule(snap, "nat", "KUBE-SERVICES",
           "-d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A");
  tsb_rule(snap, "nat", "KUBE-SVC-A", "-j KUBE-SEP-A");
  tsb_rule(snap, "nat", "KUBE-SEP-A", "-p tcp -m tcp -j DNAT --to-destination 10.4.198.175:80");
  const char *ips[] = {"10.4.198.175", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message, "Found 1 iptables rule(s) for pod IP 10.4.198.175 (service rules "
                               "present)");
  ck_assert_str_eq(r->chain, "KUBE-SEP-A");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nftables_endpoint_chain) {
  struct kp_snapshot *snap = tsb_new();
  tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  const char *ips[] = {"10.0.0.10", "10.0.0.1", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(r->message, "Found 2 nftables rule(s)"));
  ck_assert_int_eq((r + 1)->severity, KP_SEV_WARN);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(ipvs_mode_info) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipvs_healthy(snap);
  const char *ips[] = {"10.0.0.10", NULL};
  struct kp_report rep = tsb_check(snap, ips);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_POD_RULES)->severity, KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(config_rejects_bad_ips) {
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  ck_assert_int_eq(kp_check_config_add_pod_ip(&cfg, "10.0.0.1"), 0);
  ck_assert_int_eq(kp_check_config_add_pod_ip(&cfg, "fd00::1"), 0);
  ck_assert_int_ne(kp_check_config_add_pod_ip(&cfg, "10.0.0.0/8"), 0);
  ck_assert_int_ne(kp_check_config_add_pod_ip(&cfg, "not-an-ip"), 0);
  ck_assert_int_ne(kp_check_config_add_pod_ip(&cfg, ""), 0);
  ck_assert_int_eq(cfg.n_pod_ips, 2);
  ck_assert_str_eq(cfg.pod_ip_texts[1], "fd00::1");
  ck_assert_int_eq(cfg.activity_intervals, 5);
  kp_check_config_free(&cfg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_pod_rules");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, found_dnat_and_source);
  tcase_add_test(tc, substring_trap);
  tcase_add_test(tc, negated_source_and_destination_do_not_count);
  tcase_add_test(tc, no_comments_needed_large_cluster);
  tcase_add_test(tc, nftables_endpoint_chain);
  tcase_add_test(tc, ipvs_mode_info);
  tcase_add_test(tc, config_rejects_bad_ips);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
