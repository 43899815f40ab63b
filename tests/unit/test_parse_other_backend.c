/* iptables-nft's "# Warning: iptables-legacy tables present" in a dump
 * (issue #8, B1): a KP_NOTE_OTHER_BACKEND note per file carrying the line,
 * never a rule; the listing came through nf_tables; the backends check
 * WARNs and names iptables-legacy-save. Fixtures captured from real
 * iptables (tests/fixtures/parse/legacy-behind-nft/README.md). */
#include "kp/checks.h"
#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define FIXTURES KP_SOURCE_DIR "/tests/fixtures/parse/"
#define BUNDLE FIXTURES "legacy-behind-nft"

static size_t count_notes(const struct kp_snapshot *snap, enum kp_note_kind kind) {
  size_t n = 0;
  for (size_t i = 0; i < snap->notes.count; i++)
    n += ((const struct kp_note *)snap->notes.items[i])->kind == kind;
  return n;
}

static void parse_file(struct kp_snapshot *snap, const char *path) {
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_file(snap, path, &err) == 0, "%s:%zu: %s", err.file, err.line,
                err.message);
}

static void run_checks(struct kp_snapshot *snap, struct kp_report *report) {
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, report), 0);
  kp_check_config_free(&cfg);
}

static const struct kp_result *result_of(const struct kp_report *report, enum kp_check_id id) {
  for (size_t i = 0; i < report->n_results; i++)
    if (report->results[i].check == id)
      return &report->results[i];
  ck_abort_msg("no result for %s", kp_check_name(id));
  return NULL;
}

START_TEST(one_note_per_file_with_its_line) {
  static const char *const files[] = {"iptables-nft-save-c.txt", "iptables-nft-nat-L-n-v.txt",
                                      "iptables-nft-filter-L-n-v.txt", "iptables-nft-S.txt"};
  for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", BUNDLE, files[f]);
    struct kp_snapshot *snap = kp_snapshot_new();
    parse_file(snap, path);
    ck_assert_uint_eq(count_notes(snap, KP_NOTE_OTHER_BACKEND), 1);
    const struct kp_note *note = snap->notes.items[0];
    ck_assert_uint_eq(note->line, 1);
    ck_assert_str_eq(note->source, path);
    ck_assert_ptr_nonnull(strstr(note->detail, "# Warning: iptables-legacy tables present"));
    ck_assert_uint_eq(kp_snapshot_rule_count(snap), 0); /* the warning is not a rule */
    for (size_t t = 0; t < snap->tables.count; t++)     /* listed through nf_tables */
      ck_assert_int_eq(((struct kp_table *)snap->tables.items[t])->backend, KP_BACKEND_NFT);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(ip6tables_warning_is_ipv6) {
  static const char dump[] =
      "# Warning: ip6tables-legacy tables present, use ip6tables-legacy to see them\n"
      "-P INPUT ACCEPT\n";
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "v6", dump, sizeof(dump) - 1, &err), 0);
  ck_assert_uint_eq(count_notes(snap, KP_NOTE_OTHER_BACKEND), 1);
  ck_assert_int_eq(((struct kp_note *)snap->notes.items[0])->family, KP_FAMILY_IPV6);
  kp_snapshot_free(snap);
}
END_TEST

/* The nft-side bundle of a legacy node: backends WARNs, names what to
 * collect, and says the rules are probably in iptables-legacy. */
START_TEST(backends_warns_and_names_legacy_save) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_dir(snap, BUNDLE, &err) == 0, "%s: %s", err.file, err.message);
  ck_assert_uint_eq(count_notes(snap, KP_NOTE_OTHER_BACKEND), 4);
  struct kp_report report;
  run_checks(snap, &report);
  const struct kp_result *r = result_of(&report, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "iptables-legacy-save -c"));
  ck_assert_ptr_nonnull(strstr(r->message, "probably in iptables-legacy and not in this bundle"));
  ck_assert_ptr_null(strstr(r->message, "missing"));
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

/* With iptables-legacy-save of the same node in the input, the warning is
 * answered: no WARN from it, the rules are in one backend (legacy). */
START_TEST(legacy_save_in_the_input_answers_the_warning) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_dir(snap, BUNDLE, &err), 0);
  parse_file(snap, FIXTURES "legacy-behind-nft-iptables-legacy-save-c.txt");
  struct kp_report report;
  run_checks(snap, &report);
  const struct kp_result *r = result_of(&report, KP_CHECK_BACKENDS);
  ck_assert_msg(r->severity == KP_SEV_OK, "%s", r->message);
  ck_assert_str_eq(r->message, "kube-proxy rules in one backend: legacy");
  ck_assert_int_ne(kp_report_check_severity(&report, KP_CHECK_CHAINS), KP_SEV_FAIL);
  /* the warning is answered: no line claims the input does not show them */
  for (size_t i = 0; i < report.n_results; i++)
    ck_assert_msg(strstr(report.results[i].message, "does not show") == NULL, "%s",
                  report.results[i].message);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

/* On this input no check may FAIL, in particular not "no kube-proxy chains
 * found" (the chains are in iptables-legacy, not missing from the node). */
START_TEST(no_check_fails_on_the_nft_side_of_a_legacy_node) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_dir(snap, BUNDLE, &err), 0);
  struct kp_report report;
  run_checks(snap, &report);
  for (size_t i = 0; i < report.n_results; i++)
    ck_assert_msg(report.results[i].severity != KP_SEV_FAIL, "%s FAILs: %s",
                  kp_check_name(report.results[i].check), report.results[i].message);
  /* mode and chains name the other backend instead of a missing kube-proxy */
  ck_assert_int_eq(kp_report_check_severity(&report, KP_CHECK_MODE), KP_SEV_INFO);
  ck_assert_int_eq(kp_report_check_severity(&report, KP_CHECK_CHAINS), KP_SEV_INFO);
  ck_assert_int_eq(kp_report_check_severity(&report, KP_CHECK_BACKENDS), KP_SEV_WARN);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_other_backend");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, one_note_per_file_with_its_line);
  tcase_add_test(tc, ip6tables_warning_is_ipv6);
  tcase_add_test(tc, backends_warns_and_names_legacy_save);
  tcase_add_test(tc, legacy_save_in_the_input_answers_the_warning);
  tcase_add_test(tc, no_check_fails_on_the_nft_side_of_a_legacy_node);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
