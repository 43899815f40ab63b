/* Listings cut between two whole lines, the cut nobody marks: iptables -S
 * and -L output of the captured nodes (tests/fixtures/captured) cut after
 * n lines, and a cut `nft list ruleset`. Every expectation was worked out
 * by hand from the fixture's lines named in each test: FAIL/WARN only for
 * what the part shown holds. */
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

START_TEST(save_S_cut_between_lines) {
  /* nat-S.txt: -P lines 1-4, -N lines 5-23, -A lines 24-66, rules in the
   * chains' order. Cut after line 10 (-N only), 24 (PREROUTING's jump, not
   * OUTPUT's), 29/30 (in the KUBE-MARK-MASQ/NODEPORTS rules, the KUBE-SVC
   * chains declared but not reached), 50 (inside the KUBE-SEP rules): each
   * time a chain
   * kube-proxy never leaves empty shows no rules after the last chain that
   * has some. Cut after 65 (inside the last chain, KUBE-SVC-XQW6..., after
   * its first endpoint's jump, which has a probability): kube-proxy ends
   * such a chain with a jump without one. (After 64, its masq rule only,
   * -S cannot tell the cut from a stale leftover: stale WARNs.) Was: FAIL
   * missing KUBE-SERVICES, OUTPUT does not jump to
   * KUBE-SERVICES, KUBE-NODEPORTS dead, KUBE-MARK-MASQ sets no mark, WARN
   * stale chains, WARN canary missing. */
  static const size_t cuts[] = {5, 8, 10, 19, 24, 29, 30, 50, 65};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
    tri_cut_fails_nothing(HEALTHY "nat-S.txt", cuts[i]);
}
END_TEST

START_TEST(listing_cut_at_a_service_chain_header) {
  /* nat-L-n-v.txt cut after line 107, the header of the last chain
   * KUBE-SVC-XQW6G4JP7X6Y57U2: its rules are not in the input (was: WARN
   * service chain without endpoint chains) */
  tri_cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 107);
  /* ... after 109, 110: its masq rule, then its first endpoint's jump */
  tri_cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 109);
  tri_cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 110);
}
END_TEST

START_TEST(listing_cut_at_the_kube_services_header) {
  /* a node without NodePort services (the healthy listing without the
   * KUBE-EXT chain, lines 16-20, and KUBE-NODEPORTS' one rule, line 30)
   * cut after line 81, the header of nat KUBE-SERVICES: its rules, the
   * last of them the jump to KUBE-NODEPORTS, are not in the input; no rule
   * shown jumps to a chain not listed (was: FAIL KUBE-NODEPORTS is dead) */
  static const size_t keep[] = {1, 15, 21, 29, 31, 81, 0};
  char *text = tri_line_ranges(HEALTHY "nat-L-n-v.txt", keep);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("nat.txt", text, &snap);
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_MODE, KP_SEV_INFO)); /* the note naming the cut */
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(S_listing_cut_mid_line) {
  /* nat-S.txt's first 4 lines, the -P lines, the last one cut after
   * "-P POSTROUTING ACC" with no newline: the -N and -A lines come after
   * the policies in -S order, so nothing of kube-proxy's is in the input
   * (was: WARN mode none, FAIL no kube-proxy chains found) */
  char *text = tri_head(HEALTHY "nat-S.txt", 4);
  char *end = strstr(text, "POSTROUTING ACCEPT\n");
  ck_assert_ptr_nonnull(end);
  strcpy(end, "POSTROUTING ACC");
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("nat-S.txt", text, &snap);
  bool named = false; /* an INFO naming the file and the line it ends on */
  for (size_t i = 0; i < rep.n_results; i++)
    named |= strstr(rep.results[i].message, "nat-S.txt line 4 nat: input cut short") != NULL;
  ck_assert_msg(named, "no INFO names the cut at line 4");
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_CHAINS, KP_SEV_INFO));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
  /* the same 4 lines whole: the table is shown complete, without a single
   * user chain: kube-proxy's chains really are not there */
  text = tri_head(HEALTHY "nat-S.txt", 4);
  rep = tri_run("nat-S.txt", text, &snap);
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_CHAINS, KP_SEV_FAIL));
  tri_done(&rep, snap, text);
  /* cut inside line 24, PREROUTING's jump, "... -j KUBE-SERV": parsed up
   * to the cut, not refused (was: exit 3, "not an iptables -S line") */
  text = tri_head(HEALTHY "nat-S.txt", 24);
  end = strstr(text, "-j KUBE-SERVICES\n");
  ck_assert_ptr_nonnull(end);
  strcpy(end, "-j KUBE-SERV");
  rep = tri_run("nat-S.txt", text, &snap);
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_MODE, KP_SEV_OK));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(whole_S_listing_still_fails_an_empty_mark_chain) {
  /* the whole nat -S with KUBE-MARK-MASQ's one rule removed: the chain is
   * declared (line 7), rules follow in later chains, so nothing is cut:
   * the masquerade FAIL stands */
  static const char *const none[] = {"-A KUBE-MARK-MASQ ", NULL};
  char *text = tri_lines_without(HEALTHY "nat-S.txt", 1, none, NULL);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("nat-S.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_FAIL);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(ipvs_listing_cut_inside_kube_services) {
  /* an IPVS-mode node's nat -S (tests/fixtures/captured/ipvs) cut after
   * line 22 or 23, inside KUBE-SERVICES (lines 22-25), the last chain: its
   * jump to KUBE-NODE-PORT (24) and the closing ACCEPT on the KUBE-CLUSTER-IP
   * set (25) are not in it; and the same node's nat -L -n -v cut after
   * line 43 or 44 (KUBE-SERVICES' rules are 43-46). Was: FAIL nat
   * KUBE-NODE-PORT is dead */
  static const char *const files[] = {"nat-S.txt", "nat-S.txt", "nat-L-n-v.txt", "nat-L-n-v.txt"};
  static const size_t cuts[] = {22, 23, 43, 44};
  for (size_t i = 0; i < 4; i++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/fixtures/captured/ipvs/legacy/%s", KP_SOURCE_DIR,
             files[i]);
    tri_cut_fails_nothing(path, cuts[i]);
  }
}
END_TEST

START_TEST(nft_ruleset_cut_short) {
  /* the healthy node's `nft list ruleset` (iptables-nft tables) pasted
   * cut: after line 40 (in table ip filter's FORWARD chain: nothing of nat
   * or of filter's KUBE-SERVICES seen) and after line 120 (filter whole,
   * lines 31-83, with the REJECT for 172.30.0.21:80 at line 81: that WARN
   * is shown; nat cut). Was: exit 3, "chain block opened here is not
   * closed". */
  static const size_t cuts[] = {40, 120};
  static const enum kp_severity worst[] = {KP_SEV_INFO, KP_SEV_WARN};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    char *text = tri_head(KP_SOURCE_DIR "/tests/fixtures/captured/healthy/nft/nft-list-ruleset.txt",
                          cuts[i]);
    struct kp_snapshot *snap;
    struct kp_report rep = tri_run("ruleset.txt", text, &snap);
    const struct kp_result *note = tri_with(&rep, KP_CHECK_MODE, KP_SEV_INFO);
    ck_assert_ptr_nonnull(note);
    ck_assert_ptr_nonnull(strstr(note->message, "input cut short"));
    tri_worst_is(&rep, worst[i]);
    if (worst[i] == KP_SEV_WARN)
      ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_WARN);
    tri_done(&rep, snap, text);
  }
}
END_TEST

START_TEST(listing_cut_inside_kube_services) {
  /* nat-L-n-v.txt lines 1-84: KUBE-SERVICES (line 81) shows its first two
   * rules, each line whole; its last rule, the jump to KUBE-NODEPORTS
   * (line 87), is cut off, as are the KUBE-SVC chains it jumps to. */
  char *text = tri_head(HEALTHY "nat-L-n-v.txt", 84);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("nat.txt", text, &snap);
  /* was: FAIL nat KUBE-NODEPORTS is dead: nothing jumps to it */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  const struct kp_result *r = tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_INFO);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_nonnull(strstr(r->message, "nat KUBE-SERVICES"));
  /* the two service rules shown have packets (2 and 2) */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ACTIVITY)->severity, KP_SEV_OK);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_real_cuts");
  TCase *tc = tcase_create("cuts");
  tcase_add_test(tc, save_S_cut_between_lines);
  tcase_add_test(tc, listing_cut_at_a_service_chain_header);
  tcase_add_test(tc, listing_cut_at_the_kube_services_header);
  tcase_add_test(tc, S_listing_cut_mid_line);
  tcase_add_test(tc, whole_S_listing_still_fails_an_empty_mark_chain);
  tcase_add_test(tc, ipvs_listing_cut_inside_kube_services);
  tcase_add_test(tc, nft_ruleset_cut_short);
  tcase_add_test(tc, listing_cut_inside_kube_services);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
