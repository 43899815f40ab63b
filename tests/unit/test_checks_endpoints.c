/* endpoints and stale checks. */
#include "support_snapshot_builder.h"

#include "kp/report.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(endpoints_all_ok) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(rep.inventory.services_without_endpoints, 0);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(endpoints_reject_and_drop) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_rule(snap, "filter", "KUBE-SERVICES",
           "-d 172.30.0.46/32 -p tcp -m comment --comment \"ns6/svc6:p80 has no endpoints\" -m "
           "tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable");
  /* the same service through its external IP: one service, not two */
  tsb_rule(snap, "filter", "KUBE-EXTERNAL-SERVICES",
           "-d 192.168.99.46/32 -p tcp -m comment --comment \"ns6/svc6:p80 has no endpoints\" -m "
           "tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable");
  tsb_rule(snap, "filter", "KUBE-EXTERNAL-SERVICES",
           "-d 1.2.3.4/32 -p tcp -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m "
           "tcp --dport 80 -j DROP");
  /* a listing without comments (nft list of iptables-nft) */
  tsb_rule(snap, "filter", "KUBE-SERVICES", "-d 172.30.0.47/32 -p udp -m udp --dport 53 -j REJECT");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_int_eq(tsb_detail(r, "no_endpoints")->num, 2);
  ck_assert_int_eq(tsb_detail(r, "no_local_endpoints")->num, 1);
  ck_assert(tsb_list_has(r, "services_without_endpoints", "ns6/svc6:p80"));
  ck_assert(tsb_list_has(r, "services_without_endpoints", "172.30.0.47:53/udp"));
  ck_assert(tsb_list_has(r, "services_without_local_endpoints", "ns2/svc2:p80"));
  ck_assert_str_eq(r->table, "filter");
  ck_assert_int_eq(rep.inventory.services_without_endpoints, 2);
  ck_assert_int_eq(rep.inventory.services_without_local_endpoints, 1);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(endpoints_nat_only_info) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  kp_snapshot_drop_table(snap, tsb_table(snap, "filter"));
  struct kp_report rep = tsb_check(snap, NULL);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(endpoints_nftables_maps) {
  struct kp_snapshot *snap = tsb_new();
  struct kp_table *t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  tsb_nft_elem(snap, t, "no-endpoint-services", "172.30.0.46 . tcp . 80", "goto", "reject-chain",
               "ns6/svc6:p80");
  tsb_nft_elem(snap, t, "no-endpoint-services", "1.2.3.4 . tcp . 80", "drop", NULL, "ns2/svc2:p80");
  tsb_nft_elem(snap, t, "no-endpoint-nodeports", "tcp . 3001", "drop", NULL, "ns2/svc2:p80");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_int_eq(tsb_detail(r, "no_endpoints")->num, 1);
  ck_assert_int_eq(tsb_detail(r, "no_local_endpoints")->num, 1);
  ck_assert(tsb_list_has(r, "services_without_endpoints", "ns6/svc6:p80"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(stale_ok) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_detail(r, "checked")->num, 4);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(stale_unreferenced_and_empty_service) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  /* left behind: nothing jumps to it */
  tsb_rule(snap, "nat", "KUBE-SEP-ORPHANORPHAN0001",
           "-p tcp -j DNAT --to-destination 10.0.0.77:80");
  /* a service chain reaching no endpoint chain */
  tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 172.30.0.60/32 -j KUBE-SVC-EMPTYEMPTYEMPTY1");
  tsb_chain(snap, "nat", "KUBE-SVC-EMPTYEMPTYEMPTY1");
  /* only named by a jump (partial restore): not judged */
  tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 172.30.0.61/32 -j KUBE-SVC-UNDECLARED0000001");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert(tsb_list_has(r, "unreferenced", "KUBE-SEP-ORPHANORPHAN0001"));
  ck_assert(tsb_list_has(r, "without_endpoints", "KUBE-SVC-EMPTYEMPTYEMPTY1"));
  ck_assert(!tsb_list_has(r, "without_endpoints", "KUBE-SVC-UNDECLARED0000001"));
  ck_assert_str_eq(r->table, "nat");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(stale_nftables) {
  struct kp_snapshot *snap = tsb_new();
  struct kp_table *t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  struct kp_report rep = tsb_check(snap, NULL);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_STALE)->severity, KP_SEV_OK);
  ck_assert_int_eq(rep.inventory.services, 1);
  ck_assert_int_eq(rep.inventory.endpoints, 1);
  kp_report_free(&rep);
  tsb_nft_jump(snap, t, "endpoint-XXXXXXXX-ns9/old/tcp/p80__10.0.0.99/80", "mark-for-masquerade",
               false);
  rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert(tsb_list_has(r, "unreferenced", "endpoint-XXXXXXXX-ns9/old/tcp/p80__10.0.0.99/80"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* The text report of a node with n services without endpoints
 * ("ns/svcK:p80", K = 0..n-1) and one without local endpoints. */
static char *text_with_no_endpoint_services(int n) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  for (int k = 0; k < n; k++) {
    char args[256];
    snprintf(args, sizeof(args),
             "-d 172.30.1.%d/32 -p tcp -m comment --comment \"ns/svc%d:p80 has no endpoints\" "
             "-m tcp --dport 80 -j REJECT",
             k + 1, k);
    tsb_rule(snap, "filter", "KUBE-SERVICES", args);
  }
  tsb_rule(snap, "filter", "KUBE-EXTERNAL-SERVICES",
           "-d 1.2.3.4/32 -p tcp -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m "
           "tcp --dport 80 -j DROP");
  struct kp_report rep = tsb_check(snap, NULL);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(kp_report_write_text(out, &rep), 0);
  fclose(out);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  return text;
}

START_TEST(text_lists_every_service_without_endpoints) {
  char *text = text_with_no_endpoint_services(3);
  ck_assert_ptr_nonnull(strstr(text, "[WARN] 3 service(s) without endpoints, 1 without local "
                                     "endpoints: ns/svc0:p80\n"));
  /* each one on its own line, not only the first */
  ck_assert_ptr_nonnull(strstr(text, "\n    no endpoints: ns/svc0:p80\n"));
  ck_assert_ptr_nonnull(strstr(text, "\n    no endpoints: ns/svc1:p80\n"));
  ck_assert_ptr_nonnull(strstr(text, "\n    no endpoints: ns/svc2:p80\n"));
  ck_assert_ptr_nonnull(strstr(text, "\n    no local endpoints: ns2/svc2:p80\n"));
  free(text);
}
END_TEST

START_TEST(text_lists_up_to_the_cap_like_json) {
  char *text = text_with_no_endpoint_services(25);
  /* the JSON keeps 20 names and services_without_endpoints_total 25 */
  ck_assert_ptr_nonnull(strstr(text, "\n    no endpoints: ns/svc19:p80\n"));
  ck_assert_ptr_null(strstr(text, "ns/svc20:p80"));
  ck_assert_ptr_nonnull(strstr(text, "\n    no endpoints: ... and 5 more\n"));
  free(text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_endpoints");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, endpoints_all_ok);
  tcase_add_test(tc, endpoints_reject_and_drop);
  tcase_add_test(tc, endpoints_nat_only_info);
  tcase_add_test(tc, text_lists_every_service_without_endpoints);
  tcase_add_test(tc, text_lists_up_to_the_cap_like_json);
  tcase_add_test(tc, endpoints_nftables_maps);
  tcase_add_test(tc, stale_ok);
  tcase_add_test(tc, stale_unreferenced_and_empty_service);
  tcase_add_test(tc, stale_nftables);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
