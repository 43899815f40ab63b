/* masquerade check: mark bit set by KUBE-MARK-MASQ vs the one KUBE-POSTROUTING
 * masquerades on, both rule forms, and nftables mode. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct kp_snapshot *base(void) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  return snap;
}

static const struct kp_result *masq(struct kp_snapshot *snap, struct kp_report *rep) {
  tsb_finalize(snap);
  tsb_run(snap, NULL, NULL, rep);
  ck_assert_int_eq(tsb_count(rep, KP_CHECK_MASQUERADE), 1);
  return tsb_result(rep, KP_CHECK_MASQUERADE);
}

START_TEST(three_rule_form_ok) {
  struct kp_snapshot *snap = base();
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(r->message, "0x4000"));
  ck_assert_str_eq(tsb_detail(r, "mark")->str, "0x4000");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(old_single_rule_form_ok) {
  struct kp_snapshot *snap = base();
  for (int i = 0; i < 3; i++)
    tsb_delete_rule(snap, "nat", "KUBE-POSTROUTING", 0);
  tsb_rule(snap, "nat", "KUBE-POSTROUTING",
           "-m comment --comment \"kubernetes service traffic requiring SNAT\" -m mark --mark "
           "0x4000/0x4000 -j MASQUERADE");
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(or_mark_form_and_other_bit_ok) {
  struct kp_snapshot *snap = tsb_new();
  tsb_rule(snap, "nat", "PREROUTING", "-j KUBE-SERVICES");
  tsb_rule(snap, "nat", "POSTROUTING", "-j KUBE-POSTROUTING");
  tsb_chain(snap, "nat", "KUBE-SERVICES");
  tsb_chain(snap, "nat", "KUBE-NODEPORTS");
  tsb_rule(snap, "nat", "KUBE-MARK-MASQ", "-j MARK --or-mark 0x10000");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-m mark ! --mark 0x10000/0x10000 -j RETURN");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-j MARK --xor-mark 0x10000");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-j MASQUERADE");
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(tsb_detail(r, "mark")->str, "0x10000");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(masquerade_rule_removed_fails) {
  struct kp_snapshot *snap = base();
  tsb_delete_rule(snap, "nat", "KUBE-POSTROUTING", 2);
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "no masquerade rule for mark 0x4000"));
  ck_assert_str_eq(r->chain, "KUBE-POSTROUTING");
  ck_assert_str_eq(tsb_detail(r, "mark")->str, "0x4000");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(mark_bits_disagree_fails) {
  struct kp_snapshot *snap = base();
  tsb_delete_rule(snap, "nat", "KUBE-MARK-MASQ", 0);
  tsb_rule(snap, "nat", "KUBE-MARK-MASQ", "-j MARK --set-xmark 0x8000/0x8000");
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "mismatch"));
  ck_assert_ptr_nonnull(strstr(r->message, "sets 0x8000"));
  ck_assert_ptr_nonnull(strstr(r->message, "on 0x4000"));
  ck_assert_str_eq(tsb_detail(r, "mark")->str, "0x8000");
  ck_assert_str_eq(tsb_detail(r, "postrouting_mark")->str, "0x4000");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(mark_masq_without_mark_rule_fails) {
  struct kp_snapshot *snap = base();
  tsb_delete_rule(snap, "nat", "KUBE-MARK-MASQ", 0);
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "sets no mark"));
  ck_assert_str_eq(r->chain, "KUBE-MARK-MASQ");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* IPVS: the KUBE-LOOP-BACK hairpin MASQUERADE alone is not the mark rule. */
START_TEST(ipvs_loopback_masquerade_only_fails) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipvs_healthy(snap);
  for (int i = 0; i < 3; i++)
    tsb_delete_rule(snap, "nat", "KUBE-POSTROUTING", 1);
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nftables_ok_and_mismatch) {
  struct kp_snapshot *snap = tsb_new();
  struct kp_table *t = tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  struct kp_report rep;
  const struct kp_result *r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(tsb_detail(r, "mark")->str, "0x4000");
  kp_report_free(&rep);
  /* masquerading now checks another bit */
  struct kp_rule *guard = kp_table_chain(t, "masquerading")->rules.items[0];
  tsb_ext(snap, guard)->mark.mask = 0x2000;
  r = masq(snap, &rep);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_ptr_nonnull(strstr(r->message, "mismatch"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_masquerade");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, three_rule_form_ok);
  tcase_add_test(tc, old_single_rule_form_ok);
  tcase_add_test(tc, or_mark_form_and_other_bit_ok);
  tcase_add_test(tc, masquerade_rule_removed_fails);
  tcase_add_test(tc, mark_bits_disagree_fails);
  tcase_add_test(tc, mark_masq_without_mark_rule_fails);
  tcase_add_test(tc, ipvs_loopback_masquerade_only_fails);
  tcase_add_test(tc, nftables_ok_and_mismatch);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
