/* chains and hooks checks. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(chains_healthy_with_empty_nodeports_and_no_mark_drop) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  struct kp_report rep = tsb_check(snap, NULL);
  ck_assert_ptr_null(kp_table_chain(tsb_table(snap, "nat"), "KUBE-MARK-DROP"));
  ck_assert_int_eq(kp_table_chain(tsb_table(snap, "nat"), "KUBE-NODEPORTS")->rules.count, 0);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_CHAINS), 1);
  /* 4 nat + 3 filter */
  ck_assert_int_eq(tsb_detail(r, "present")->num, 7);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chains_missing_postrouting_fails) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_chain(snap, "nat", "KUBE-POSTROUTING");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "nat KUBE-POSTROUTING"));
  ck_assert(tsb_list_has(r, "missing", "nat KUBE-POSTROUTING"));
  ck_assert_str_eq(r->table, "nat");
  ck_assert_str_eq(r->chain, "KUBE-POSTROUTING");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chains_nat_only_dump_info_for_filter) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  kp_snapshot_drop_table(snap, tsb_table(snap, "filter"));
  struct kp_report rep = tsb_check(snap, NULL);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_CHAINS), KP_SEV_INFO);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_CHAINS), 2);
  const struct kp_result *info = &rep.results[0];
  for (size_t i = 0; i < rep.n_results; i++)
    if (rep.results[i].check == KP_CHECK_CHAINS && rep.results[i].severity == KP_SEV_INFO)
      info = &rep.results[i];
  ck_assert(tsb_list_has(info, "tables_not_seen", "filter"));
  ck_assert_int_le(kp_report_check_severity(&rep, KP_CHECK_HOOKS), KP_SEV_OK);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chains_ipvs_no_nodeports_alarm) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipvs_healthy(snap);
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CHAINS);
  if (r->severity != KP_SEV_OK)
    tsb_dump(&rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_HOOKS), KP_SEV_OK);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_MASQUERADE), KP_SEV_OK);
  ck_assert_int_le(kp_report_worst(&rep), KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chains_ipvs_missing_node_port_fails) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipvs_healthy(snap);
  tsb_delete_chain(snap, "nat", "KUBE-NODE-PORT");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert(tsb_list_has(r, "missing", "nat KUBE-NODE-PORT"));
  ck_assert(!tsb_list_has(r, "missing", "nat KUBE-NODEPORTS"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chains_nftables_missing_masquerading) {
  struct kp_snapshot *snap = tsb_new();
  struct kp_table *t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  (void)t;
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CHAINS)->severity, KP_SEV_OK);
  kp_report_free(&rep);
  kp_snapshot_free(snap);

  snap = tsb_new();
  t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  struct kp_chain *c = kp_table_chain(t, "masquerading");
  c->declared = false;
  c->rules.count = 0;
  rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert(tsb_list_has(r, "missing", "ip kube-proxy masquerading"));
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_MASQUERADE), KP_SEV_FAIL);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(hooks_healthy) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert(tsb_list_has(r, "jumps", "nat PREROUTING -> KUBE-SERVICES"));
  ck_assert(tsb_list_has(r, "jumps", "nat POSTROUTING -> KUBE-POSTROUTING"));
  ck_assert(tsb_list_has(r, "jumps", "filter FORWARD -> KUBE-FORWARD"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(hooks_prerouting_no_longer_jumps) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_rule(snap, "nat", "PREROUTING", 0);
  struct kp_report rep = tsb_check(snap, NULL);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_HOOKS), 1);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_str_eq(r->message, "nat PREROUTING does not jump to KUBE-SERVICES");
  ck_assert_str_eq(r->chain, "PREROUTING");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(hooks_dead_chain) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_rule(snap, "nat", "PREROUTING", 0);
  tsb_delete_rule(snap, "nat", "OUTPUT", 0);
  struct kp_report rep = tsb_check(snap, NULL);
  /* one finding for the dead chain, not one per missing edge */
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_HOOKS), 1);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "nat KUBE-SERVICES is dead"));
  ck_assert_str_eq(r->chain, "KUBE-SERVICES");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(hooks_postrouting_missing) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_rule(snap, "nat", "POSTROUTING", 0);
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "KUBE-POSTROUTING is dead"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(hooks_nftables) {
  struct kp_snapshot *snap = tsb_new();
  struct kp_table *t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  /* base chain loses its hook (e.g. recreated as a regular chain) */
  struct kp_chain *c = kp_table_chain(t, "nat-output");
  c->builtin = false;
  tsb_chain_ext(snap, c)->hook = NULL;
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "nat-output is not attached"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);

  snap = tsb_new();
  t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  c = kp_table_chain(t, "nat-postrouting");
  c->rules.count = 0;
  rep = tsb_check(snap, NULL);
  r = tsb_result(&rep, KP_CHECK_HOOKS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "masquerading is dead"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_structure");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, chains_healthy_with_empty_nodeports_and_no_mark_drop);
  tcase_add_test(tc, chains_missing_postrouting_fails);
  tcase_add_test(tc, chains_nat_only_dump_info_for_filter);
  tcase_add_test(tc, chains_ipvs_no_nodeports_alarm);
  tcase_add_test(tc, chains_ipvs_missing_node_port_fails);
  tcase_add_test(tc, chains_nftables_missing_masquerading);
  tcase_add_test(tc, hooks_healthy);
  tcase_add_test(tc, hooks_prerouting_no_longer_jumps);
  tcase_add_test(tc, hooks_dead_chain);
  tcase_add_test(tc, hooks_postrouting_missing);
  tcase_add_test(tc, hooks_nftables);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
