/* The checks on rulesets captured from real iptables (tests/fixtures/captured,
 * made by tests/capture-fixtures.sh from make-ruleset.sh): the healthy
 * ruleset and one mutation each. Every expectation follows from what the
 * mutation changed (tests/fixtures/README.md), for both backends and for
 * several dump formats of the same tables. */
#include "kp/checks.h"
#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPTURED KP_SOURCE_DIR "/tests/fixtures/captured"

static const char *const backends[] = {"legacy", "nft"};

/* Parses the listed files of one captured case and runs every check. */
static struct kp_snapshot *load(const char *kase, const char *backend, const char *const *files,
                                const char *const *pod_ips, struct kp_report *report) {
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  char path[512];
  struct kp_dump_error err;
  for (size_t i = 0; files[i]; i++) {
    memset(&err, 0, sizeof(err));
    snprintf(path, sizeof(path), "%s/%s/%s/%s", CAPTURED, kase, backend, files[i]);
    int rc = strcmp(files[i], "bundle") == 0 ? kp_dump_parse_dir(snap, path, &err)
                                             : kp_dump_parse_file(snap, path, &err);
    ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  }
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  for (size_t i = 0; pod_ips && pod_ips[i]; i++)
    ck_assert_int_eq(kp_check_config_add_pod_ip(&cfg, pod_ips[i]), 0);
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, report), 0);
  kp_check_config_free(&cfg);
  return snap;
}

static void expect(const struct kp_report *report, enum kp_check_id id, enum kp_severity sev,
                   const char *kase, const char *backend) {
  enum kp_severity got = kp_report_check_severity(report, id);
  ck_assert_msg(got == sev, "%s/%s: check %s is %s, expected %s", kase, backend, kp_check_name(id),
                kp_severity_name(got), kp_severity_name(sev));
}

static const struct kp_result *first(const struct kp_report *report, enum kp_check_id id) {
  for (size_t i = 0; i < report->n_results; i++)
    if (report->results[i].check == id)
      return &report->results[i];
  ck_abort_msg("no result for %s", kp_check_name(id));
  return NULL;
}

static const struct kp_detail *detail(const struct kp_result *result, const char *key) {
  for (size_t i = 0; i < result->n_details; i++)
    if (strcmp(result->details[i].key, key) == 0)
      return &result->details[i];
  return NULL;
}

static const char *const bundle[] = {"bundle", NULL};
static const char *const save_c[] = {"iptables-save-c.txt", NULL};

START_TEST(healthy_all_green_but_the_orphan_service) {
  static const char *const pods[] = {"10.180.0.2", NULL};
  const char *const *inputs[] = {bundle, save_c};
  for (size_t b = 0; b < 2; b++) {
    for (size_t in = 0; in < 2; in++) {
      struct kp_report report;
      struct kp_snapshot *snap = load("healthy", backends[b], inputs[in], pods, &report);
      ck_assert_int_eq(report.mode, KP_MODE_IPTABLES);
      ck_assert_str_eq(first(&report, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
      expect(&report, KP_CHECK_CHAINS, KP_SEV_OK, "healthy", backends[b]);
      expect(&report, KP_CHECK_HOOKS, KP_SEV_OK, "healthy", backends[b]);
      expect(&report, KP_CHECK_ACTIVITY, KP_SEV_OK, "healthy", backends[b]);
      expect(&report, KP_CHECK_MASQUERADE, KP_SEV_OK, "healthy", backends[b]);
      expect(&report, KP_CHECK_STALE, KP_SEV_OK, "healthy", backends[b]);
      expect(&report, KP_CHECK_CANARY, KP_SEV_OK, "healthy", backends[b]);
      /* 10.180.0.2 is an endpoint of default/kubernetes: hairpin -s + DNAT */
      const struct kp_result *pod = first(&report, KP_CHECK_POD_RULES);
      ck_assert_int_eq(pod->severity, KP_SEV_OK);
      ck_assert_str_eq(pod->message,
                       "Found 2 iptables rule(s) for pod IP 10.180.0.2 (service rules present)");
      /* web/orphan:http has no endpoints by construction */
      const struct kp_result *ep = first(&report, KP_CHECK_ENDPOINTS);
      ck_assert_int_eq(ep->severity, KP_SEV_WARN);
      const struct kp_detail *list = detail(ep, "services_without_endpoints");
      ck_assert_ptr_nonnull(list);
      ck_assert_int_eq(list->n_items, 1);
      ck_assert_str_eq(list->items[0], "web/orphan:http");
      ck_assert_int_eq(report.inventory.services, 5);
      ck_assert_int_eq(report.inventory.endpoints, 8);
      ck_assert_int_eq(report.inventory.services_without_endpoints, 1);
      /* the capture sent 1 SYN through PREROUTING and 10 packets from the
       * node through OUTPUT into KUBE-SERVICES */
      ck_assert(report.inventory.traffic[KP_FAMILY_IPV4].services.present);
      ck_assert_uint_eq(report.inventory.traffic[KP_FAMILY_IPV4].services.packets, 11);
      kp_report_free(&report);
      kp_snapshot_free(snap);
    }
  }
}
END_TEST

START_TEST(activity_message_keeps_the_seed_wording) {
  struct kp_report report;
  static const char *const nat_list[] = {"nat-L-n-v.txt", NULL};
  struct kp_snapshot *snap = load("healthy", "legacy", nat_list, NULL, &report);
  const char *msg = first(&report, KP_CHECK_ACTIVITY)->message;
  /* service rules with traffic, by hand from nat-L-n-v.txt: KUBE-SERVICES'
   * four cluster-IP rules (2, 2, 1, 2), KUBE-NODEPORTS' one (3) and five
   * KUBE-SEP DNATs (1, 2, 4, 1, 2); the largest is the 4-packet DNAT to
   * 10.180.0.6:8080. The built-in jumps (OUTPUT 10, PREROUTING 1) and
   * KUBE-SERVICES' jump to KUBE-NODEPORTS do not count. */
  ck_assert_str_eq(msg, "KUBE-SERVICES chain active (10 rule(s) with traffic, sample: 4 packets)");
  /* both layers saw the same 10 connections: 2+2+1+2+3 and 1+2+4+1+2 */
  ck_assert_uint_eq(report.inventory.service_packets, 10);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(counters_absent_means_cannot_judge) {
  static const char *const no_counters[] = {"nat-L-n.txt", NULL};
  for (size_t b = 0; b < 2; b++) {
    struct kp_report report;
    struct kp_snapshot *snap = load("healthy", backends[b], no_counters, NULL, &report);
    expect(&report, KP_CHECK_ACTIVITY, KP_SEV_INFO, "healthy/-L -n", backends[b]);
    kp_report_free(&report);
    kp_snapshot_free(snap);
  }
}
END_TEST

struct mutation_case {
  const char *name;
  enum kp_check_id check;
  enum kp_severity severity;
};

/* The check each mutation breaks, and how loudly. */
static const struct mutation_case mutations[] = {
    {"no-masquerade", KP_CHECK_MASQUERADE, KP_SEV_FAIL},
    {"mark-mismatch", KP_CHECK_MASQUERADE, KP_SEV_FAIL},
    {"no-hooks", KP_CHECK_HOOKS, KP_SEV_FAIL},
    {"no-hooks", KP_CHECK_ACTIVITY, KP_SEV_WARN}, /* nothing enters KUBE-SERVICES */
    {"zero-traffic", KP_CHECK_ACTIVITY, KP_SEV_WARN},
    {"stale", KP_CHECK_STALE, KP_SEV_WARN},
    {"no-canary", KP_CHECK_CANARY, KP_SEV_WARN},
    {"kubelet-only", KP_CHECK_CHAINS, KP_SEV_FAIL},
};

START_TEST(each_mutation_breaks_its_check) {
  const struct mutation_case *m = &mutations[_i];
  for (size_t b = 0; b < 2; b++) {
    struct kp_report report;
    struct kp_snapshot *snap = load(m->name, backends[b], bundle, NULL, &report);
    expect(&report, m->check, m->severity, m->name, backends[b]);
    kp_report_free(&report);
    kp_snapshot_free(snap);
    /* and the healthy capture does not show it */
    snap = load("healthy", backends[b], bundle, NULL, &report);
    ck_assert_int_lt(kp_report_check_severity(&report, m->check), KP_SEV_WARN);
    kp_report_free(&report);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(mark_mismatch_names_both_bits) {
  struct kp_report report;
  struct kp_snapshot *snap = load("mark-mismatch", "legacy", save_c, NULL, &report);
  const char *msg = first(&report, KP_CHECK_MASQUERADE)->message;
  ck_assert_msg(strstr(msg, "0x8000") && strstr(msg, "0x4000"), "%s", msg);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(unhooked_chain_names_every_missing_jump) {
  /* the no-hooks mutation removed both nat PREROUTING and OUTPUT jumps */
  struct kp_report report;
  struct kp_snapshot *snap = load("no-hooks", "nft", save_c, NULL, &report);
  const char *msg = first(&report, KP_CHECK_HOOKS)->message;
  ck_assert_str_eq(msg, "nat KUBE-SERVICES is dead: nothing jumps to it (expected a jump from "
                        "PREROUTING and OUTPUT)");
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(kubelet_chains_are_not_iptables_mode) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_report report;
    struct kp_snapshot *snap = load("kubelet-only", backends[b], save_c, NULL, &report);
    ck_assert_int_eq(report.mode, KP_MODE_NONE);
    kp_report_free(&report);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(ipvs_mode_needs_no_kube_nodeports) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_report report;
    struct kp_snapshot *snap = load("ipvs", backends[b], save_c, NULL, &report);
    ck_assert_int_eq(report.mode, KP_MODE_IPVS);
    expect(&report, KP_CHECK_CHAINS, KP_SEV_OK, "ipvs", backends[b]);
    expect(&report, KP_CHECK_HOOKS, KP_SEV_OK, "ipvs", backends[b]);
    expect(&report, KP_CHECK_MASQUERADE, KP_SEV_OK, "ipvs", backends[b]);
    kp_report_free(&report);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(pod_ip_is_matched_exactly) {
  /* pods are 10.180.0.10-.15 here: .10 exists, .1 is only a prefix of it */
  static const char *const pods[] = {"10.180.0.1", "10.180.0.10", NULL};
  struct kp_report report;
  struct kp_snapshot *snap = load("pod-substring-trap", "legacy", save_c, pods, &report);
  size_t seen = 0;
  for (size_t i = 0; i < report.n_results; i++) {
    const struct kp_result *r = &report.results[i];
    if (r->check != KP_CHECK_POD_RULES)
      continue;
    const struct kp_detail *ip = detail(r, "pod_ip");
    ck_assert_ptr_nonnull(ip);
    if (strcmp(ip->str, "10.180.0.1") == 0)
      ck_assert_int_eq(r->severity, KP_SEV_WARN);
    else
      ck_assert_str_eq(r->message,
                       "Found 2 iptables rule(s) for pod IP 10.180.0.10 (service rules present)");
    seen++;
  }
  ck_assert_int_eq(seen, 2);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(same_rules_seen_twice_is_one_backend) {
  /* the nft listing and iptables-nft's -L of the same namespace */
  static const char *const same[] = {"nft-list-ruleset.txt", "nat-L-n-v.txt", NULL};
  struct kp_report report;
  struct kp_snapshot *snap = load("healthy", "nft", same, NULL, &report);
  /* not FAIL (one copy, seen twice); neither listing can show legacy
   * tables (nft does not list them, -L does not say its backend) */
  expect(&report, KP_CHECK_BACKENDS, KP_SEV_INFO, "healthy nft+L", "nft");
  ck_assert_int_eq(report.backend, KP_BACKEND_NFT);
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(one_backend_only_where_the_input_shows_the_other) {
  struct kp_report report;
  /* nft list ruleset alone: legacy tables are not in it (was: OK "kube-proxy
   * rules in one backend: nft") */
  static const char *const nft_only[] = {"nft-list-ruleset.txt", NULL};
  struct kp_snapshot *snap = load("healthy", "nft", nft_only, NULL, &report);
  const struct kp_result *r = first(&report, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "collect `iptables-legacy-save -c`"));
  kp_report_free(&report);
  kp_snapshot_free(snap);
  /* iptables-nft-save, which would have printed "iptables-legacy tables
   * present" had there been any: OK */
  static const char *const nft_save[] = {"iptables-save-c.txt", NULL};
  snap = load("healthy", "nft", nft_save, NULL, &report);
  r = first(&report, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message, "kube-proxy rules in one backend: nft");
  kp_report_free(&report);
  kp_snapshot_free(snap);
  /* iptables-legacy-save alone holds no nft table: a second copy in
   * nf_tables is not excluded */
  snap = load("healthy", "legacy", nft_save, NULL, &report);
  r = first(&report, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "kube-proxy rules in legacy"));
  ck_assert_ptr_nonnull(strstr(r->message, "it holds no nft table"));
  kp_report_free(&report);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(different_copies_in_two_backends_fail) {
  /* nft listing of the healthy rules + a legacy dump of other (stale) rules */
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  ck_assert_int_eq(kp_dump_parse_file(snap, CAPTURED "/healthy/nft/nft-list-ruleset.txt", &err), 0);
  ck_assert_int_eq(kp_dump_parse_file(snap, CAPTURED "/stale/legacy/nat-L-n-v.txt", &err), 0);
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  struct kp_report report;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &report), 0);
  const struct kp_result *r = first(&report, KP_CHECK_BACKENDS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_msg(strstr(r->message, "legacy") && strstr(r->message, "nft"), "%s", r->message);
  kp_report_free(&report);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_fixtures");
  TCase *tc = tcase_create("captured");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, healthy_all_green_but_the_orphan_service);
  tcase_add_test(tc, activity_message_keeps_the_seed_wording);
  tcase_add_test(tc, counters_absent_means_cannot_judge);
  tcase_add_loop_test(tc, each_mutation_breaks_its_check, 0,
                      (int)(sizeof(mutations) / sizeof(mutations[0])));
  tcase_add_test(tc, mark_mismatch_names_both_bits);
  tcase_add_test(tc, unhooked_chain_names_every_missing_jump);
  tcase_add_test(tc, kubelet_chains_are_not_iptables_mode);
  tcase_add_test(tc, ipvs_mode_needs_no_kube_nodeports);
  tcase_add_test(tc, pod_ip_is_matched_exactly);
  tcase_add_test(tc, same_rules_seen_twice_is_one_backend);
  tcase_add_test(tc, one_backend_only_where_the_input_shows_the_other);
  tcase_add_test(tc, different_copies_in_two_backends_fail);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
