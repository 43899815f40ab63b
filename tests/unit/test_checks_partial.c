/* Inputs that do not show everything: every check tells what the input
 * shows wrong (WARN/FAIL) from what it does not cover (INFO naming it).
 * The inputs are cut, grep'd and edited copies of the captured healthy
 * node (tests/fixtures/captured/healthy/legacy), made here at run time;
 * every expectation below was worked out by hand from those files. */
#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

/* The file's first n lines (all when n is 0) whose text contains `keep`
 * (any when NULL), dropping lines containing `drop`, with the "[p:b] "
 * counters cut off when strip is set. malloc'd, NUL-terminated. */
static char *lines_of(const char *file, size_t n, const char *keep, const char *drop, bool strip) {
  size_t len;
  char *all = tdi_slurp(file, &len);
  ck_assert_msg(all != NULL, "cannot read %s", file);
  char *out = malloc(len + 1);
  ck_assert_ptr_nonnull(out);
  size_t o = 0, line = 0;
  for (size_t i = 0; i < len && (n == 0 || line < n); line++) {
    const char *nl = memchr(all + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - all) + 1 : len;
    char text[4096];
    size_t tn = e - i < sizeof(text) - 1 ? e - i : sizeof(text) - 1;
    memcpy(text, all + i, tn);
    text[tn] = '\0';
    char *body = text;
    if (strip && body[0] == '[' && strchr(body, ']') != NULL)
      body = strchr(body, ']') + 2;
    if ((keep == NULL || strstr(text, keep) != NULL) &&
        (drop == NULL || strstr(text, drop) == NULL)) {
      memcpy(out + o, body, strlen(body));
      o += strlen(body);
    }
    i = e;
  }
  out[o] = '\0';
  free(all);
  return out;
}

/* Parses text as the file `name` (format detected), runs every check. */
static struct kp_report run_text(const char *name, const char *text, struct kp_snapshot **out) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  int rc = kp_dump_parse_buffer(snap, name, text, strlen(text), &err);
  ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  struct kp_report rep = tsb_check(snap, NULL);
  *out = snap;
  return rep;
}

/* The first result of check id with this severity, NULL when none. */
static const struct kp_result *with(const struct kp_report *rep, enum kp_check_id id,
                                    enum kp_severity sev) {
  for (size_t i = 0; i < rep->n_results; i++)
    if (rep->results[i].check == id && rep->results[i].severity == sev)
      return &rep->results[i];
  return NULL;
}

static void no_fail_no_warn(const struct kp_report *rep) {
  if (kp_report_worst(rep) > KP_SEV_INFO)
    tsb_dump(rep);
  ck_assert_int_le(kp_report_worst(rep), KP_SEV_INFO);
}

START_TEST(listing_cut_before_the_kube_chains) {
  /* nat-L-n-v.txt lines 1-14: the four built-in chains; PREROUTING (1
   * packet) and OUTPUT (10) jump to KUBE-SERVICES, POSTROUTING to
   * KUBE-POSTROUTING; every KUBE- section is cut off. */
  char *text = lines_of(HEALTHY "nat-L-n-v.txt", 14, NULL, NULL, false);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat.txt", text, &snap);
  /* the jumps prove kube-proxy and its chains (was: mode none, FAIL) */
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  const struct kp_result *note = with(&rep, KP_CHECK_MODE, KP_SEV_INFO);
  ck_assert_ptr_nonnull(note);
  ck_assert_str_eq(note->message, "nat.txt line 14 nat: input shows part of a table only, the "
                                  "rest is not judged (chain KUBE-SERVICES is jumped to but not "
                                  "listed)");
  /* KUBE-SERVICES and KUBE-POSTROUTING are jumped to; KUBE-NODEPORTS and
   * KUBE-MARK-MASQ are not in what the input shows */
  const struct kp_result *chains = with(&rep, KP_CHECK_CHAINS, KP_SEV_INFO);
  ck_assert_ptr_nonnull(chains);
  ck_assert(tsb_list_has(chains, "not_in_input", "nat KUBE-NODEPORTS"));
  ck_assert(tsb_list_has(chains, "not_in_input", "nat KUBE-MARK-MASQ"));
  ck_assert_int_eq(tsb_detail(chains, "present")->num, 2);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_OK);
  no_fail_no_warn(&rep);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(grep_S_output_fails_nothing_it_does_not_show) {
  /* `iptables-save -t nat | grep KUBE-SVC` without counters: the
   * KUBE-SERVICES rules to service chains, KUBE-EXT's jump, the KUBE-SVC
   * chains' rules (to KUBE-SEP and KUBE-MARK-MASQ); no *table line. */
  char *text = lines_of(HEALTHY "iptables-save.txt", 0, "-A KUBE-", NULL, false);
  char *grepped = lines_of(HEALTHY "iptables-save.txt", 0, "KUBE-SVC", ":KUBE", false);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("grep.txt", grepped, &snap);
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  /* was: FAIL missing KUBE-NODEPORTS / KUBE-MARK-MASQ, masquerade FAIL */
  const struct kp_result *chains = with(&rep, KP_CHECK_CHAINS, KP_SEV_INFO);
  ck_assert_ptr_nonnull(chains);
  ck_assert(tsb_list_has(chains, "not_in_input", "nat KUBE-NODEPORTS"));
  ck_assert(tsb_list_has(chains, "not_in_input", "nat KUBE-POSTROUTING"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(with(&rep, KP_CHECK_MODE, KP_SEV_INFO));
  no_fail_no_warn(&rep);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(grepped);
  free(text);
}
END_TEST

START_TEST(save_cut_before_commit_is_judged_on_what_it_holds) {
  /* iptables-save-c.txt lines 1-40: "*nat" opened on line 2, its COMMIT
   * (line 69) and the filter and mangle tables cut off */
  char *text = lines_of(HEALTHY "iptables-save-c.txt", 40, NULL, NULL, false);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("save.txt", text, &snap); /* was: refused, exit 3 */
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  const struct kp_result *note = with(&rep, KP_CHECK_MODE, KP_SEV_INFO);
  ck_assert_ptr_nonnull(note);
  ck_assert_str_eq(note->message,
                   "save.txt line 40 nat: input cut short, judged on what it holds (no COMMIT "
                   "for *nat)");
  ck_assert_int_eq(tsb_detail(note, "line")->num, 40);
  no_fail_no_warn(&rep);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(counted_rule_lines_without_a_table_header) {
  /* only the "[p:b] -A" lines of iptables-save-c.txt's nat table (lines
   * 2-69): the ":" declarations, "*nat" and COMMIT dropped */
  char *text = lines_of(HEALTHY "iptables-save-c.txt", 69, "] -A ", NULL, false);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("lines.txt", text, &snap); /* was: not a recognised dump */
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES);
  bool guessed = false;
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *n = snap->notes.items[i];
    guessed |= n->kind == KP_NOTE_TABLE_GUESSED && strcmp(n->table, "nat") == 0;
  }
  ck_assert(guessed);
  /* the counters came along: the service rules' traffic is judged (the
   * capture's 10 connections) */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ACTIVITY)->severity, KP_SEV_OK);
  ck_assert_uint_eq(rep.inventory.service_packets, 10);
  no_fail_no_warn(&rep);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(references_in_a_header_are_referrers) {
  /* the whole nat listing without line 84, KUBE-SERVICES' jump to
   * KUBE-SVC-ERIFXISQEP7F7OF4, whose header still says "(1 references)" */
  char *text = lines_of(HEALTHY "nat-L-n-v.txt", 0, NULL, "KUBE-SVC-ERIFXISQEP7F7OF4  6", false);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat.txt", text, &snap);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  if (r->severity != KP_SEV_OK)
    tsb_dump(&rep);
  ck_assert_int_eq(r->severity, KP_SEV_OK); /* was: WARN, KUBE-SVC-ERIF... unreferenced */
  ck_assert(!tsb_list_has(r, "unreferenced", "KUBE-SVC-ERIFXISQEP7F7OF4"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

START_TEST(canary_absent_from_rules_older_than_the_canary) {
  /* the seed-era layout: no KUBE-KUBELET-CANARY, no KUBE-EXT/SVL, no
   * KUBE-PROXY-FIREWALL, and no KUBE-PROXY-CANARY (created since v1.17) */
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  const char *tables[] = {"mangle", "nat", "filter"};
  for (size_t i = 0; i < 3; i++) {
    struct kp_table *t = tsb_table(snap, tables[i]);
    if (kp_table_chain(t, "KUBE-PROXY-CANARY") != NULL)
      tsb_delete_chain(snap, tables[i], "KUBE-PROXY-CANARY");
    if (kp_table_chain(t, "KUBE-KUBELET-CANARY") != NULL)
      tsb_delete_chain(snap, tables[i], "KUBE-KUBELET-CANARY");
  }
  tsb_delete_chain(snap, "filter", "KUBE-PROXY-FIREWALL"); /* v1.26+ */
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO); /* was: WARN "something flushed the tables" */
  ck_assert_ptr_nonnull(strstr(r->message, "v1.17"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);

  /* kubelet's canary (same release) present: the missing one is a finding */
  snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  for (size_t i = 0; i < 3; i++)
    if (kp_table_chain(tsb_table(snap, tables[i]), "KUBE-PROXY-CANARY") != NULL)
      tsb_delete_chain(snap, tables[i], "KUBE-PROXY-CANARY");
  rep = tsb_check(snap, NULL);
  r = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "something flushed the tables"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(a_whole_input_still_fails_what_it_shows_wrong) {
  /* the healthy save without its KUBE-MARK-MASQ declaration and rules:
   * the input is whole (every table has its COMMIT), so that is a FAIL */
  char *text = lines_of(HEALTHY "iptables-save-c.txt", 0, NULL, "-A KUBE-MARK-MASQ", false);
  char *no_decl = strstr(text, ":KUBE-MARK-MASQ");
  ck_assert_ptr_nonnull(no_decl);
  memset(no_decl, ' ', strcspn(no_decl, "\n")); /* a blank line instead */
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("save.txt", text, &snap);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_CHAINS), KP_SEV_FAIL);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_MASQUERADE), KP_SEV_FAIL);
  ck_assert_ptr_null(with(&rep, KP_CHECK_MODE, KP_SEV_INFO)); /* no coverage note */
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_partial");
  TCase *tc = tcase_create("partial");
  tcase_add_test(tc, listing_cut_before_the_kube_chains);
  tcase_add_test(tc, grep_S_output_fails_nothing_it_does_not_show);
  tcase_add_test(tc, save_cut_before_commit_is_judged_on_what_it_holds);
  tcase_add_test(tc, counted_rule_lines_without_a_table_header);
  tcase_add_test(tc, references_in_a_header_are_referrers);
  tcase_add_test(tc, canary_absent_from_rules_older_than_the_canary);
  tcase_add_test(tc, a_whole_input_still_fails_what_it_shows_wrong);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
