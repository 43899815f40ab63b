/* Inputs that leave lines out without saying so in their format: a
 * paste cut mid-line, "..." where someone elided lines, grep's "--" group
 * separator, a grep of iptables-save that starts with its declarations.
 * What such input does not show is INFO, never a FAIL or WARN. Sources of
 * the fixtures in tests/fixtures/pasted/README.md; every verdict expected
 * here was worked out by hand from the text. */
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASTED KP_SOURCE_DIR "/tests/fixtures/pasted/"
#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

/* The first n lines of the opsnull ipvsadm paste (tests/fixtures/ipvs/),
 * ending without a newline when cut_mid is true (a paste cut there). */
static char *ipvs_head(size_t n, bool cut_mid) {
  char *text = tri_head(KP_SOURCE_DIR "/tests/fixtures/ipvs/opsnull-251-ipvsadm-L-n.txt", n);
  size_t len = strlen(text);
  if (cut_mid && len > 0 && text[len - 1] == '\n')
    text[len - 1] = '\0';
  return text;
}

START_TEST(ipvsadm_listing_cut_after_a_virtual_server) {
  /* opsnull/follow-me-install-kubernetes-cluster#251 cut after line 12,
   * "TCP  10.253.102.1:32767 rr", its newline gone: the paste stops
   * there, its real servers (line 13 of the whole paste) are not shown. */
  static const char *const pods[] = {"10.253.35.2", "10.99.99.99", NULL};
  char *text = ipvs_head(12, true);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "ipvs.txt", text, strlen(text), &err), 0);
  struct kp_report rep = tsb_check(snap, pods);
  /* was: WARN 1 IPVS virtual server(s) without real servers */
  const struct kp_result *ep = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(ep->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(ep->message, "TCP 10.253.102.1:32767"));
  /* 10.253.35.2 is a real server of 10.253.102.0:32767 (line 11) */
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_OK));
  /* 10.99.99.99 is in none shown, and the listing is cut: not judged
   * (was: WARN not a real server of any IPVS virtual server) */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_WARN));
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_INFO));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
  /* the same 12 lines ending with a newline may be the whole listing: an
   * empty virtual server is kube-proxy's for a service without endpoints */
  text = ipvs_head(12, false);
  snap = kp_snapshot_new();
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "ipvs.txt", text, strlen(text), &err), 0);
  rep = tsb_check(snap, pods);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_WARN));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(ipvsadm_paste_with_elisions) {
  /* kubernetes/website#8652: "u@node$ ipvsadm -ln", "..." before and
   * after the one virtual server shown (3 real servers), a fence. */
  char *text = tri_head(PASTED "k8s-website-8652-ipvsadm-elided.txt", 0);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  /* was: exit 3, 'not an ipvsadm line: "..."' */
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "website.txt", text, strlen(text), &err), 0);
  ck_assert_uint_eq(snap->ipvs.count, 1);
  const struct kp_ipvs_service *svc = snap->ipvs.items[0];
  ck_assert_uint_eq(svc->reals.count, 3);
  ck_assert(svc->cut); /* lines left out after it */
  kp_snapshot_free(snap);
  free(text);
  /* a virtual server right before an elision shows no real servers: not
   * judged; one followed by another virtual server is */
  const char *gap = "Prot LocalAddress:Port Scheduler Flags\n"
                    "TCP  10.0.0.1:80 rr\n...\nTCP  10.0.0.2:80 rr\nTCP  10.0.0.3:80 rr\n"
                    "  -> 172.17.0.2:937               Masq    1      0          0\n";
  snap = kp_snapshot_new();
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "gap.txt", gap, strlen(gap), &err), 0);
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *ep = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(ep->severity, KP_SEV_WARN);
  ck_assert_int_eq(tsb_detail(ep, "no_endpoints")->num, 1); /* 10.0.0.2 only */
  ck_assert(tsb_list_has(ep, "services_without_endpoints", "TCP 10.0.0.2:80"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* file with lines from..to (1-based) replaced by one line `mark`. */
static char *elided(const char *file, size_t from, size_t to, const char *mark) {
  const size_t before[] = {1, from - 1, 0}, after[] = {to + 1, (size_t)-1, 0};
  char *a = tri_line_ranges(file, before), *b = tri_line_ranges(file, after);
  size_t na = strlen(a), nb = strlen(b), nm = strlen(mark);
  char *text = malloc(na + nm + nb + 2);
  ck_assert_ptr_nonnull(text);
  memcpy(text, a, na);
  memcpy(text + na, mark, nm);
  text[na + nm] = '\n';
  memcpy(text + na + nm + 1, b, nb + 1);
  free(a);
  free(b);
  return text;
}

/* The healthy node with KUBE-POSTROUTING's MASQUERADE rule left out of
 * the paste ("..." or grep's "--" in its place): the rules shown are
 * right, the one left out is not seen, so masquerade is not judged. Before:
 * exit 3 ("not an iptables-save line", "not an iptables -S line"). */
static void masquerade_elided(const char *file, size_t line, const char *mark) {
  char *text = elided(file, line, line, mark);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("elided.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  bool noted = false;
  for (size_t i = 0; i < snap->notes.count; i++)
    noted |= ((const struct kp_note *)snap->notes.items[i])->kind == KP_NOTE_FRAGMENT;
  ck_assert(noted);
  tri_done(&rep, snap, text);
}

START_TEST(lines_left_out_of_a_save_or_listing) {
  masquerade_elided(HEALTHY "iptables-save-c.txt", 35, "...");
  masquerade_elided(HEALTHY "iptables-save-c.txt", 35, "--");
  masquerade_elided(HEALTHY "nat-S.txt", 33, "...");
  masquerade_elided(HEALTHY "nat-S.txt", 33, "--");
  masquerade_elided(HEALTHY "nat-L-n-v.txt", 36, "..."); /* (-L took "--" already) */
}
END_TEST

START_TEST(grep_of_a_save_starting_with_declarations) {
  /* `iptables-save -c | grep -A2 KUBE-SVC` of the healthy node: the
   * KUBE-SVC declarations first, then rule groups between "--" lines.
   * Nothing shown is wrong. Before: exit 3 "chain line before any *table
   * line". */
  char *full = tri_head(HEALTHY "iptables-save-c.txt", 0);
  size_t cap = strlen(full) + 1, o = 0, after = 0;
  char *text = malloc(cap * 2);
  ck_assert_ptr_nonnull(text);
  bool gap = false;
  for (char *line = full, *nl; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    if (nl == NULL)
      break;
    if (strstr(line, "KUBE-SVC") != NULL &&
        (size_t)(strstr(line, "KUBE-SVC") - line) < (size_t)(nl - line)) {
      if (gap && o > 0)
        o += (size_t)snprintf(text + o, cap * 2 - o, "--\n");
      after = 3; /* the line and 2 after */
      gap = false;
    }
    if (after > 0) {
      memcpy(text + o, line, (size_t)(nl - line) + 1);
      o += (size_t)(nl - line) + 1;
      after--;
    } else {
      gap = true;
    }
  }
  text[o] = '\0';
  free(full);
  ck_assert_int_eq(text[0], ':');
  ck_assert_ptr_nonnull(strstr(text, "\n--\n"));
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("grep.txt", text, &snap);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(nft_chains_cut_inside_a_chain_name) {
  /* projectcalico/calico#8025: chain blocks of an iptables-nft nat table
   * (no "table" line), cut at "chain KUBE-SVC-PUNXD". Shown: kube-dns's
   * SVC -> SEP -> dnat to 10.42.0.7:53, the metrics-server one to
   * 10.42.0.10:10250. Before: exit 3 "unexpected 'chain'". */
  static const char *const pods[] = {"10.42.0.7", "10.42.0.99", NULL};
  char *text = tri_head(PASTED "calico-8025-nft-chains-cut.txt", 0);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "calico.txt", text, strlen(text), &err), 0);
  struct kp_report rep = tsb_check(snap, pods);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_OK)); /* 10.42.0.7 */
  /* 10.42.0.99 in none of the chains shown, the table shown in part */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_WARN));
  tri_worst_is(&rep, KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(nft_ruleset_with_lines_left_out) {
  /* the healthy node's nft list ruleset (iptables-nft) with "..." in
   * place of KUBE-POSTROUTING's masquerade rule (line 118), then of the
   * whole KUBE-POSTROUTING chain (115-119): not judged. Before: FAIL "nat
   * KUBE-POSTROUTING has no masquerade rule" (the "..." read as a rule),
   * and the chain left out silently. */
  const char *f = KP_SOURCE_DIR "/tests/fixtures/captured/healthy/nft/nft-list-ruleset.txt";
  const size_t spans[][2] = {{118, 118}, {115, 119}};
  for (size_t i = 0; i < 2; i++) {
    char *text = elided(f, spans[i][0], spans[i][1], "\t\t...");
    struct kp_snapshot *snap;
    struct kp_report rep = tri_run("nft.txt", text, &snap);
    ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
    ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
    ck_assert_ptr_null(tri_with(&rep, KP_CHECK_CHAINS, KP_SEV_FAIL));
    tri_done(&rep, snap, text);
  }
}
END_TEST

START_TEST(ip6tables_listing_of_any_addresses_only) {
  /* kubeovn/kube-ovn#1716: `ip6tables -t nat -nL | grep POSTROUT -A 10`,
   * every address "::/0". It is IPv6; next to it, the no-masquerade
   * node's IPv4 nat -L (KUBE-POSTROUTING without MASQUERADE). Before: the
   * IPv6 paste read as IPv4 (an "anywhere" has no host address) and judged
   * as the node's nat table: the IPv4 listing went unjudged, masquerade
   * INFO instead of the FAIL the IPv4 listing shows. */
  const char *files[] = {PASTED "kube-ovn-1716-ip6tables-nat-L-grep.txt", KP_SOURCE_DIR
                         "/tests/fixtures/captured/no-masquerade/legacy/nat-L-n-v.txt"};
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  for (size_t i = 0; i < 2; i++)
    ck_assert_msg(kp_dump_parse_file(snap, files[i], &err) == 0, "%s", err.message);
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  const struct kp_table *v6 =
      kp_snapshot_table(snap, KP_FAMILY_IPV6, KP_BACKEND_UNKNOWN, "nat", false);
  ck_assert_ptr_nonnull(v6);
  ck_assert_ptr_nonnull(kp_table_chain(v6, "POSTROUTING"));
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *masq = tsb_result(&rep, KP_CHECK_MASQUERADE);
  ck_assert_int_eq(masq->severity, KP_SEV_FAIL);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* `grep -i kube` of file: the lines with "kube" in any case. malloc'd. */
static char *grep_kube(const char *file) {
  char *full = tri_head(file, 0);
  char *out = malloc(strlen(full) + 1), *o = out;
  ck_assert_ptr_nonnull(out);
  for (char *line = full, *nl; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    if (nl == NULL)
      break;
    *nl = '\0';
    if (strcasestr(line, "kube") != NULL)
      o += sprintf(o, "%s\n", line);
  }
  *o = '\0';
  free(full);
  return out;
}

START_TEST(listing_through_grep_kube) {
  /* `iptables -t nat -L -n -v | grep -i kube` of the healthy node: the
   * hook rules of PREROUTING/OUTPUT/POSTROUTING come first (their Chain
   * lines have no "kube"), no column header anywhere, KUBE-MARK-MASQ's
   * "MARK or 0x4000" rule gone. Before: exit 3 "expected the column header
   * line". Shown: nothing wrong; 10.180.0.99 is no pod of the node, but
   * the grep left rules out: not judged. */
  static const char *const pods[] = {"10.180.0.4", "10.180.0.99", NULL};
  char *text = grep_kube(HEALTHY "nat-L-n-v.txt");
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_buffer(snap, "grep.txt", text, strlen(text), &err) == 0, "%s",
                err.message);
  bool skipped = false, filtered = false;
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *note = snap->notes.items[i];
    skipped |= note->kind == KP_NOTE_SKIPPED && note->line == 1 &&
               strstr(note->detail, "3 rule line(s)") != NULL;
    filtered |= note->kind == KP_NOTE_FRAGMENT && strstr(note->detail, "grep") != NULL;
  }
  ck_assert(skipped && filtered);
  struct kp_report rep = tsb_check(snap, pods);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_OK)); /* 10.180.0.4 */
  tri_worst_is(&rep, KP_SEV_INFO);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
  /* the no-masquerade node through the same grep: KUBE-POSTROUTING shows
   * no rule (RETURN and MARK have no "kube"), which says nothing */
  text = grep_kube(KP_SOURCE_DIR "/tests/fixtures/captured/no-masquerade/legacy/nat-L-n-v.txt");
  struct kp_snapshot *snap2;
  rep = tri_run("grep.txt", text, &snap2);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap2, text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dump_gaps");
  TCase *tc = tcase_create("gaps");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, ipvsadm_listing_cut_after_a_virtual_server);
  tcase_add_test(tc, ipvsadm_paste_with_elisions);
  tcase_add_test(tc, lines_left_out_of_a_save_or_listing);
  tcase_add_test(tc, grep_of_a_save_starting_with_declarations);
  tcase_add_test(tc, nft_chains_cut_inside_a_chain_name);
  tcase_add_test(tc, nft_ruleset_with_lines_left_out);
  tcase_add_test(tc, ip6tables_listing_of_any_addresses_only);
  tcase_add_test(tc, listing_through_grep_kube);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
