/* mode, backends and canary checks on snapshots built in memory. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kp_snapshot *healthy(void) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_finalize(snap);
  return snap;
}

START_TEST(healthy_iptables_mode) {
  struct kp_snapshot *snap = healthy();
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_MODE);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message, "kube-proxy mode: iptables");
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  ck_assert_int_eq(rep.backend, KP_BACKEND_LEGACY);
  ck_assert(tsb_list_has(r, "families", "ipv4"));
  if (kp_report_worst(&rep) > KP_SEV_INFO)
    tsb_dump(&rep);
  ck_assert_int_le(kp_report_worst(&rep), KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* A node without kube-proxy (e.g. a CNI replacing it): kubelet still makes
 * its canary, KUBE-FIREWALL, KUBE-MARK-DROP and the hint chain. */
START_TEST(kubelet_only_is_mode_none) {
  struct kp_snapshot *snap = tsb_new();
  tsb_chain(snap, "mangle", "KUBE-IPTABLES-HINT");
  tsb_chain(snap, "mangle", "KUBE-KUBELET-CANARY");
  tsb_chain(snap, "nat", "KUBE-KUBELET-CANARY");
  tsb_rule(snap, "nat", "KUBE-MARK-DROP", "-j MARK --set-xmark 0x8000/0x8000");
  tsb_rule(snap, "filter", "INPUT", "-j KUBE-FIREWALL");
  tsb_rule(snap, "filter", "KUBE-FIREWALL",
           "-m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark "
           "--mark 0x8000/0x8000 -j DROP");
  tsb_finalize(snap);
  enum kp_backend backend = KP_BACKEND_NFT;
  ck_assert_int_eq(kp_detect_mode(snap, &backend), KP_MODE_NONE);
  ck_assert_int_eq(backend, KP_BACKEND_UNKNOWN);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_MODE);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "none"));
  ck_assert(tsb_list_has(r, "kubelet_chains", "KUBE-KUBELET-CANARY"));
  r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_str_eq(r->message, "no kube-proxy chains found");
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_CANARY), 0);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(ipvs_mode_detected) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipvs_healthy(snap);
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: ipvs");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* Only the ipset match tells IPVS apart when KUBE-NODE-PORT is not there. */
START_TEST(ipvs_mode_from_match_set) {
  struct kp_snapshot *snap = tsb_new();
  tsb_rule(snap, "nat", "PREROUTING", "-j KUBE-SERVICES");
  tsb_rule(snap, "nat", "KUBE-SERVICES", "-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT");
  tsb_finalize(snap);
  ck_assert_int_eq(kp_detect_mode(snap, NULL), KP_MODE_IPVS);
  /* the same chain with KUBE-SVC chains is iptables mode */
  tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 10.96.0.1/32 -j KUBE-SVC-XYZ");
  tsb_chain(snap, "nat", "KUBE-SVC-XYZ");
  tsb_finalize(snap);
  ck_assert_int_eq(kp_detect_mode(snap, NULL), KP_MODE_IPTABLES);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nftables_mode_detected) {
  struct kp_snapshot *snap = tsb_new();
  tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  /* kubelet's iptables-nft chains beside it do not make it iptables mode */
  tsb_chain(snap, "nft:mangle", "KUBE-KUBELET-CANARY");
  tsb_chain(snap, "nft:filter", "KUBE-FIREWALL");
  /* as a live read, which lists both backends */
  ck_assert_int_eq(kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel"), 0);
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.mode, KP_MODE_NFTABLES);
  ck_assert_int_eq(rep.backend, KP_BACKEND_NFT);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: nftables");
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_OK);
  if (kp_report_worst(&rep) > KP_SEV_INFO)
    tsb_dump(&rep);
  ck_assert_int_le(kp_report_worst(&rep), KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(backend_nft_for_iptables_nft) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "nft:");
  /* as a live read, which lists both backends */
  ck_assert_int_eq(kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel"), 0);
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  ck_assert_int_eq(rep.backend, KP_BACKEND_NFT);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message, "kube-proxy rules in one backend: nft");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(both_backends_fail) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "nft:");
  /* a stale legacy copy of one service */
  tsb_rule(snap, "legacy:nat", "PREROUTING", "-j KUBE-SERVICES");
  tsb_rule(snap, "legacy:nat", "KUBE-SERVICES", "-d 172.30.0.41/32 -j KUBE-SVC-OLD");
  tsb_rule(snap, "legacy:nat", "KUBE-SVC-OLD", "-j KUBE-SEP-OLD");
  tsb_rule(snap, "legacy:nat", "KUBE-SEP-OLD", "-p tcp -j DNAT --to-destination 10.0.0.9:80");
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.backend, KP_BACKEND_NFT); /* more rules there */
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "iptables-legacy"));
  ck_assert_ptr_nonnull(strstr(r->message, "nft"));
  ck_assert(tsb_list_has(r, "legacy_tables", "nat"));
  ck_assert(tsb_list_has(r, "nft_tables", "nat"));
  ck_assert_str_eq(r->table, "nat");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* iptables-wrapper's choice wins over rule counts: kubelet's hint sits only
 * in the legacy mangle table, so kube-proxy writes legacy even though the
 * stale nft copy is the larger one. */
START_TEST(wrapper_hint_chooses_backend) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "legacy:");
  char target[64];
  for (int i = 0; i < 200; i++) {
    snprintf(target, sizeof(target), "-d 172.31.%d.%d/32 -j KUBE-SVC-OLD", i / 200, i % 200);
    tsb_rule(snap, "nft:nat", "KUBE-SERVICES", target);
  }
  tsb_rule(snap, "nft:nat", "PREROUTING", "-j KUBE-SERVICES");
  tsb_rule(snap, "nft:nat", "KUBE-SVC-OLD", "-j KUBE-SEP-OLD");
  tsb_rule(snap, "nft:nat", "KUBE-SEP-OLD", "-p tcp -j DNAT --to-destination 10.0.0.9:80");
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.backend, KP_BACKEND_LEGACY);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_FAIL);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* Only kubelet's chains in the other backend: not kube-proxy rules. */
START_TEST(kubelet_chains_in_other_backend_fine) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "nft:");
  tsb_chain(snap, "legacy:mangle", "KUBE-KUBELET-CANARY");
  tsb_chain(snap, "legacy:nat", "KUBE-MARK-DROP");
  tsb_chain(snap, "legacy:filter", "KUBE-FIREWALL");
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_OK);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(unknown_backend_is_info) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "unknown:");
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(rep.backend, KP_BACKEND_UNKNOWN);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_INFO);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(canary_present_ok) {
  struct kp_snapshot *snap = healthy();
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert(tsb_list_has(r, "present", "mangle"));
  ck_assert(tsb_list_has(r, "present", "nat"));
  ck_assert(tsb_list_has(r, "present", "filter"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(canary_missing_warns) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_chain(snap, "nat", "KUBE-PROXY-CANARY");
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "something flushed the tables"));
  ck_assert(tsb_list_has(r, "missing", "nat"));
  ck_assert(!tsb_list_has(r, "missing", "filter"));
  ck_assert_str_eq(r->table, "nat");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* A nat-only dump: no mangle seen, so no mangle canary is required. */
START_TEST(canary_nat_only_dump) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  kp_snapshot_drop_table(snap, tsb_table(snap, "mangle"));
  kp_snapshot_drop_table(snap, tsb_table(snap, "filter"));
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert(tsb_list_has(r, "present", "nat"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(disabled_check_not_run) {
  struct kp_snapshot *snap = healthy();
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  cfg.enabled[KP_CHECK_MODE] = false;
  struct kp_report rep;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &rep), 0);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_MODE), 0);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_CHAINS), 1);
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES); /* still detected for the others */
  kp_report_free(&rep);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(names_round_trip) {
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    ck_assert_int_eq(kp_check_from_name(kp_check_name((enum kp_check_id)i)), i);
  ck_assert_int_eq(kp_check_from_name("pod-rules"), KP_CHECK_POD_RULES);
  ck_assert_int_eq(kp_check_from_name("nope"), -1);
  ck_assert_str_eq(kp_severity_name(KP_SEV_WARN), "WARN");
  ck_assert_str_eq(kp_mode_name(KP_MODE_NFTABLES), "nftables");
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_mode");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, healthy_iptables_mode);
  tcase_add_test(tc, kubelet_only_is_mode_none);
  tcase_add_test(tc, ipvs_mode_detected);
  tcase_add_test(tc, ipvs_mode_from_match_set);
  tcase_add_test(tc, nftables_mode_detected);
  tcase_add_test(tc, backend_nft_for_iptables_nft);
  tcase_add_test(tc, both_backends_fail);
  tcase_add_test(tc, wrapper_hint_chooses_backend);
  tcase_add_test(tc, kubelet_chains_in_other_backend_fine);
  tcase_add_test(tc, unknown_backend_is_info);
  tcase_add_test(tc, canary_present_ok);
  tcase_add_test(tc, canary_missing_warns);
  tcase_add_test(tc, canary_nat_only_dump);
  tcase_add_test(tc, disabled_check_not_run);
  tcase_add_test(tc, names_round_trip);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
