/* Verdicts on inputs people really have: pastes from public issue threads
 * (tests/fixtures/real/, sources in its README) and the shapes they come
 * in (a listing cut inside a chain, `grep -A` output, a single table, an
 * ipvsadm listing alone). Every expectation was worked out by hand from
 * the input text: FAIL/WARN only for what it shows, INFO for the rest. */
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REAL KP_SOURCE_DIR "/tests/fixtures/real/"
#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

START_TEST(grep_context_output_is_a_fragment) {
  /* `iptables -t nat -L -n -v | grep -A4 '^Chain KUBE-MARK-MASQ\|^Chain
   * KUBE-POSTROUTING'`: grep puts "--" between the groups. Both chains are
   * whole (mark 0x4000 set, masqueraded on 0x4000). */
  const char *text =
      "Chain KUBE-MARK-MASQ (13 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK or 0x4000\n"
      "\n"
      "Chain KUBE-NODEPORTS (1 references)\n"
      "--\n"
      "Chain KUBE-POSTROUTING (1 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    2   120 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "mark match ! 0x4000/0x4000\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK xor 0x4000\n"
      "    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "/* kubernetes service traffic requiring SNAT */ random-fully\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("grep.txt", copy, &snap); /* was: "too few columns", exit 3 */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, copy);
}
END_TEST

START_TEST(grep_context_output_still_fails_a_broken_masquerade) {
  /* the same grep where KUBE-POSTROUTING masquerades on 0x8000 */
  const char *text =
      "Chain KUBE-MARK-MASQ (13 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK or 0x4000\n"
      "--\n"
      "Chain KUBE-POSTROUTING (1 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    2   120 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "mark match ! 0x8000/0x8000\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK xor 0x8000\n"
      "    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "/* kubernetes service traffic requiring SNAT */ random-fully\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("grep.txt", copy, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_FAIL);
  tri_done(&rep, snap, copy);
}
END_TEST

START_TEST(restore_input_cut_inside_its_nat_table) {
  /* kubernetes/kubernetes#34006: kube-proxy's restore input, its rules in
   * kube-proxy's order (KUBE-SERVICES, KUBE-SVC, KUBE-SEP interleaved), cut
   * inside a KUBE-SEP rule before the nat COMMIT: KUBE-SERVICES' last rule
   * (the jump to KUBE-NODEPORTS) is not in it. The filter part shows two
   * "has no endpoints" REJECT rules. */
  char *text = tri_head(REAL "k8s-34006-restore-input-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("restore.txt", text, &snap);
  /* was: FAIL nat KUBE-NODEPORTS is dead */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  const struct kp_result *ep = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(ep->severity, KP_SEV_WARN); /* shown: the REJECT rules */
  ck_assert(tsb_list_has(ep, "services_without_endpoints", "kube-system/kube-dns:dns"));
  ck_assert(tsb_list_has(ep, "services_without_endpoints", "kube-system/kube-dns:dns-tcp"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  tri_worst_is(&rep, KP_SEV_WARN);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(mangle_listing_alone) {
  /* `iptables -t mangle -L -n -v` of a Docker-Desktop node: five empty
   * built-in chains and the two canaries. kube-proxy's rules are in nat and
   * filter, which the input does not show. */
  const char *text =
      "Chain PREROUTING (policy ACCEPT 168M packets, 114G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain INPUT (policy ACCEPT 167M packets, 113G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain FORWARD (policy ACCEPT 1538K packets, 775M bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain OUTPUT (policy ACCEPT 93M packets, 34G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain POSTROUTING (policy ACCEPT 94M packets, 34G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-KUBELET-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-PROXY-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("mangle.txt", copy, &snap);
  /* was: WARN mode none (only kubelet chains), FAIL no kube-proxy chains found */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_MODE)->message, "nat"));
  const struct kp_result *chains = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(chains->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(chains->message, "nat"));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, copy);
}
END_TEST

START_TEST(mangle_listing_without_kube_proxy_still_warns) {
  /* the same listing with kubelet's canary only: nothing of kube-proxy,
   * the old verdict stands */
  const char *text =
      "Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-KUBELET-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("mangle.txt", copy, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_WARN);
  tri_done(&rep, snap, copy);
}
END_TEST

START_TEST(ipvsadm_listing_alone) {
  /* kubernetes/community#692: `ipvsadm -L -n`, one virtual server; no
   * iptables or nft table in the input at all */
  char *text = tri_head(REAL "community-692-ipvsadm-L-n.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("ipvsadm.txt", text, &snap);
  /* was: WARN mode none (no netfilter tables), FAIL no kube-proxy chains found */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CHAINS)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_CHAINS)->message, "not in the input"));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(legacy_warning_over_a_whole_nft_listing) {
  /* iptables-nft -t nat -S of the healthy node: the whole nat table, and
   * iptables-nft's first line saying legacy tables exist. Those tables are
   * not in the input; the nft rules are all there and healthy. */
  char *body = tri_head(HEALTHY "nat-S.txt", 0);
  const char *warn = "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n";
  char *text = malloc(strlen(warn) + strlen(body) + 1);
  ck_assert_ptr_nonnull(text);
  strcpy(text, warn);
  strcat(text, body);
  free(body);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("nat-S.txt", text, &snap);
  const struct kp_result *b = tsb_result(&rep, KP_CHECK_BACKENDS);
  ck_assert_int_eq(b->severity, KP_SEV_INFO); /* was: WARN */
  ck_assert_ptr_nonnull(strstr(b->message, "nat-S.txt line 1: "));
  ck_assert_ptr_nonnull(strstr(b->message, "iptables-legacy-save -c"));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(restore_input_holds_no_canary) {
  /* kube-proxy's iptables-restore input (what it logs when a restore
   * fails, and what its unit tests assert): filter and nat, no built-in
   * chains, no jump rules, no canary (kube-proxy creates the canary and
   * the jumps with separate iptables calls). Made from the healthy node's
   * input.restore by removing exactly those. */
  static const char *const builtins[] = {
      ":PREROUTING ",   ":INPUT ",         ":FORWARD ",   ":OUTPUT ",
      ":POSTROUTING ",  "-A INPUT ",       "-A FORWARD ", "-A OUTPUT ",
      "-A PREROUTING ", "-A POSTROUTING ", NULL};
  char *text = tri_lines_without(KP_SOURCE_DIR "/tests/fixtures/captured/healthy/input.restore", 11,
                                 builtins, "CANARY");
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("restore.txt", text, &snap);
  const struct kp_result *c = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(c->severity, KP_SEV_INFO); /* was: WARN missing, something flushed */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_CANARY, KP_SEV_WARN));
  ck_assert(tsb_list_has(c, "not_in_input", "nat"));
  ck_assert(tsb_list_has(c, "not_in_input", "filter"));
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(stale_on_a_filter_listing_alone) {
  /* the healthy node's filter -L -n -v alone: the per-service chains are in
   * nat, which the input does not show */
  char *text = tri_head(HEALTHY "filter-L-n-v.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("filter.txt", text, &snap);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->severity, KP_SEV_INFO); /* was: OK no stale service chains (0 checked) */
  ck_assert_ptr_nonnull(strstr(r->message, "nat"));
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(k3s_listing_cut_before_kube_services) {
  /* k3s-io/k3s#7096: nat -L -n -v, PREROUTING (44 packets) and OUTPUT jump
   * to KUBE-SERVICES, POSTROUTING to KUBE-POSTROUTING; the paste ends
   * inside KUBE-MARK-DROP, before any kube-proxy section */
  char *text = tri_head(REAL "k3s-7096-nat-L-n-v-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("k3s.txt", text, &snap);
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES); /* the jumps prove it */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_OK);
  /* no service chain in what it shows: nothing judged (was: OK "0 checked") */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_STALE, KP_SEV_INFO));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(stale_judges_nothing_a_cut_save_leaves_open) {
  /* kubernetes/kubernetes#34563: iptables-save of nat cut in KUBE-NODEPORTS'
   * first rule: the 12 KUBE-SVC/SEP chains are declared, none of their
   * rules nor KUBE-SERVICES' jumps to them are in the input */
  char *text = tri_head(REAL "k8s-34563-iptables-save-nat-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("save.txt", text, &snap);
  /* was: OK "no stale service chains (12 checked)" beside INFO "12 ... not judged" */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  const struct kp_result *r = tri_with(&rep, KP_CHECK_STALE, KP_SEV_INFO);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(tsb_detail(r, "not_judged")->num, 12);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(ipvs_nat_lines_stay_in_nat) {
  /* kubernetes/kubeadm#1461: `-A` lines of an IPVS-mode node's nat table
   * (no *nat line), Calico's chains after them, the last line cut. All
   * KUBE-SERVICES rules are nat's, the ACCEPT on the KUBE-CLUSTER-IP set
   * too (filter's KUBE-SERVICES holds REJECT/DROP, never that set). */
  char *text = tri_head(REAL "kubeadm-1461-ipvs-nat-lines-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("ipvs.txt", text, &snap);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  /* was: the ACCEPT rule placed in a filter table of its own */
  for (size_t i = 0; i < snap->tables.count; i++)
    ck_assert_str_ne(((struct kp_table *)snap->tables.items[i])->name, "filter");
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_real_inputs");
  TCase *tc = tcase_create("real");
  tcase_add_test(tc, grep_context_output_is_a_fragment);
  tcase_add_test(tc, grep_context_output_still_fails_a_broken_masquerade);
  tcase_add_test(tc, restore_input_cut_inside_its_nat_table);
  tcase_add_test(tc, mangle_listing_alone);
  tcase_add_test(tc, mangle_listing_without_kube_proxy_still_warns);
  tcase_add_test(tc, ipvsadm_listing_alone);
  tcase_add_test(tc, legacy_warning_over_a_whole_nft_listing);
  tcase_add_test(tc, restore_input_holds_no_canary);
  tcase_add_test(tc, stale_on_a_filter_listing_alone);
  tcase_add_test(tc, stale_judges_nothing_a_cut_save_leaves_open);
  tcase_add_test(tc, k3s_listing_cut_before_kube_services);
  tcase_add_test(tc, ipvs_nat_lines_stay_in_nat);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
