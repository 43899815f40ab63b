/* sync and process checks, the inventory, report helpers, and the cost of
 * a full run on a 20k-service node. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct kp_snapshot *healthy(void) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_finalize(snap);
  return snap;
}

START_TEST(sync_no_metrics_info) {
  struct kp_snapshot *snap = healthy();
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_SYNC);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_str_eq(r->message, "no kube-proxy metrics in the input");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(sync_healthy_ok) {
  struct kp_snapshot *snap = healthy();
  snap->proxy.has_metrics = true;
  snap->proxy.last_sync_ts = 1000;
  snap->proxy.last_queued_ts = 990;
  snap->proxy.has_last_queued = true;
  snap->proxy.scrape_ts = 1012;
  snap->proxy.has_livez = true;
  snap->proxy.livez_healthy = true;
  snap->proxy.proxy_mode = "iptables";
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_SYNC), 1);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_SYNC);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(r->message, "12 s ago"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(sync_failures) {
  struct kp_snapshot *snap = healthy();
  snap->proxy.has_metrics = true;
  snap->proxy.last_sync_ts = 1000;
  snap->proxy.last_queued_ts = 1061; /* 61 s: hung */
  snap->proxy.has_last_queued = true;
  snap->proxy.restore_failures = 3;
  snap->proxy.has_livez = true;
  snap->proxy.livez_healthy = false;
  snap->proxy.proxy_mode = "ipvs";
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_SYNC), 4);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_SYNC), KP_SEV_FAIL);
  bool hung = false, livez = false, restore = false, mode = false;
  for (size_t i = 0; i < rep.n_results; i++) {
    const struct kp_result *r = &rep.results[i];
    if (r->check != KP_CHECK_SYNC)
      continue;
    hung |= r->severity == KP_SEV_FAIL && strstr(r->message, "hung") != NULL &&
            strstr(r->message, "61 s") != NULL;
    livez |= r->severity == KP_SEV_FAIL && strstr(r->message, "/livez") != NULL;
    restore |= r->severity == KP_SEV_WARN && strstr(r->message, "failed 3 time(s)") != NULL;
    mode |= r->severity == KP_SEV_FAIL &&
            strstr(r->message, "reports mode ipvs but the rules show mode iptables") != NULL;
  }
  ck_assert(hung && livez && restore && mode);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(sync_queued_within_limit) {
  struct kp_snapshot *snap = healthy();
  snap->proxy.has_metrics = true;
  snap->proxy.last_sync_ts = 1000;
  snap->proxy.last_queued_ts = 1060; /* exactly 60 s: not yet hung */
  snap->proxy.has_last_queued = true;
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_SYNC), KP_SEV_OK);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* A probe problem is worded by what happened (snap->proxy.fault, set by
 * the live source), not always "does not answer": a silent port, an error
 * page, a body that does not parse and one too big to read send an SRE to
 * different places. Each a WARN (the probe failed; the sync state is not
 * seen), never a FAIL. Messages written here by hand. */
static const struct {
  enum kp_proxy_fault fault;
  const char *unreachable, *message, *name;
} probe_rows[] = {
    {KP_PROXY_NO_ANSWER, "http://127.0.0.1:10249/metrics: Connection refused",
     "kube-proxy does not answer: http://127.0.0.1:10249/metrics: Connection refused (not "
     "running, or its metrics/healthz address differs)",
     "no-answer"},
    {KP_PROXY_BAD_ADDRESS, "http://localhost:10249/metrics: not an IP address and port",
     "kube-proxy's endpoint cannot be asked: http://localhost:10249/metrics: not an IP address "
     "and port",
     "bad-address"},
    {KP_PROXY_HTTP_ERROR, "http://127.0.0.1:10249/metrics: HTTP status 500",
     "kube-proxy answered with an HTTP error: http://127.0.0.1:10249/metrics: HTTP status 500 "
     "(its sync state is not known)",
     "http-error"},
    {KP_PROXY_UNPARSED,
     "http://127.0.0.1:10249/metrics: response line 3: sample without a numeric value",
     "kube-proxy's answer does not parse: http://127.0.0.1:10249/metrics: response line 3: "
     "sample without a numeric value (none of it is used: its sync state is not known)",
     "unparsed"},
    {KP_PROXY_TOO_BIG, "http://127.0.0.1:10249/metrics: answer over 4 MiB, not read",
     "kube-proxy's answer is too big to read: http://127.0.0.1:10249/metrics: answer over 4 MiB, "
     "not read (its sync state is not known)",
     "too-big"},
};

START_TEST(sync_probe_fault_worded_by_what_happened) {
  struct kp_snapshot *snap = healthy();
  snap->proxy.asked = true;
  snap->proxy.unreachable = probe_rows[_i].unreachable;
  snap->proxy.fault = probe_rows[_i].fault;
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_SYNC), 1);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_SYNC);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_str_eq(r->message, probe_rows[_i].message);
  ck_assert_str_eq(tsb_detail(r, "unreachable")->str, probe_rows[_i].unreachable);
  ck_assert_str_eq(tsb_detail(r, "probe_fault")->str, probe_rows[_i].name);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(process_offline_live) {
  struct kp_snapshot *snap = healthy();
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_PROCESS), 0);
  kp_report_free(&rep);

  struct kp_check_state st;
  kp_check_state_init(&st);
  tsb_run(snap, NULL, &st, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_PROCESS);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "processes plugin"));
  kp_report_free(&rep);

  st.process.known = true;
  st.process.severity = KP_SEV_FAIL;
  snprintf(st.process.message, sizeof(st.process.message), "kube-proxy: 0 processes running");
  snprintf(st.process.source, sizeof(st.process.source), "processes/kube-proxy");
  tsb_run(snap, NULL, &st, &rep);
  r = tsb_result(&rep, KP_CHECK_PROCESS);
  ck_assert_int_eq(r->severity, KP_SEV_FAIL);
  ck_assert_str_eq(r->message, "kube-proxy: 0 processes running");
  ck_assert_str_eq(tsb_detail(r, "source")->str, "processes/kube-proxy");
  kp_report_free(&rep);
  kp_check_state_free(&st); /* the live runs keep per-rule counts in it */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(inventory_counts) {
  struct kp_snapshot *snap = healthy();
  struct kp_inventory inv;
  kp_inventory_compute(snap, KP_MODE_IPTABLES, &inv);
  ck_assert_int_eq(inv.services, 2);
  ck_assert_int_eq(inv.endpoints, 2);
  ck_assert(inv.traffic[KP_FAMILY_IPV4].services.present);
  /* PREROUTING 10 + OUTPUT 18 into KUBE-SERVICES; KUBE-SERVICES' last rule 6 */
  ck_assert_uint_eq(inv.traffic[KP_FAMILY_IPV4].services.packets, 28);
  ck_assert_uint_eq(inv.traffic[KP_FAMILY_IPV4].services.bytes, 1680);
  ck_assert_uint_eq(inv.traffic[KP_FAMILY_IPV4].nodeports.packets, 6);
  ck_assert_uint_eq(inv.traffic[KP_FAMILY_IPV4].postrouting.packets, 12);
  ck_assert_uint_eq(inv.rules, kp_snapshot_rule_count(snap));
  ck_assert_uint_eq(inv.chains, kp_snapshot_chain_count(snap));
  /* rules in KUBE-* chains, by hand: nat MARK-MASQ 1, POSTROUTING 3, SERVICES 3,
   * SVC-A 1, SEP-A1 2, SVC-B 1, SEP-B1 2 (13); filter KUBE-FIREWALL 1, KUBE-FORWARD 1 */
  size_t kube = 0;
  for (size_t t = 0; t < snap->tables.count; t++) {
    const struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      const struct kp_chain *chain = table->chains.items[c];
      if (strncmp(chain->name, "KUBE-", 5) == 0)
        kube += chain->rules.count;
    }
  }
  ck_assert_uint_eq(inv.kube_rules, kube);
  ck_assert_uint_eq(kube, 15);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(report_helpers) {
  struct kp_report rep;
  memset(&rep, 0, sizeof(rep));
  for (int i = 0; i < 40; i++)
    ck_assert_ptr_nonnull(kp_report_add(&rep, KP_CHECK_STALE, KP_SEV_OK, "n=%d", i));
  struct kp_result *r = kp_report_add(&rep, KP_CHECK_CANARY, KP_SEV_WARN, "x %s", "y");
  ck_assert_str_eq(r->message, "x y");
  ck_assert_int_eq(kp_result_set_where(r, "nat", NULL), 0);
  ck_assert_ptr_null(r->chain);
  const char *items[] = {"a", "b"};
  ck_assert_int_eq(kp_result_add_list(r, "l", items, 2), 0);
  ck_assert_int_eq(kp_result_add_bool(r, "b", true), 0);
  ck_assert_int_eq(r->details[1].num, 1);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_CANARY), KP_SEV_WARN);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_STALE), KP_SEV_OK);
  ck_assert_int_eq(kp_report_check_severity(&rep, KP_CHECK_SYNC), KP_SEV_OK);
  ck_assert_int_eq(kp_report_worst(&rep), KP_SEV_WARN);
  ck_assert_str_eq(rep.results[39].message, "n=39");
  kp_report_free(&rep);
  ck_assert_int_eq(rep.n_results, 0);
}
END_TEST

/* 20k services, one endpoint each, built directly in the model. */
static struct kp_snapshot *big(size_t n) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  struct kp_table *nat = tsb_table(snap, "nat");
  struct kp_table *filter = tsb_table(snap, "filter");
  struct kp_chain *services = kp_table_chain(nat, "KUBE-SERVICES");
  char name[64], ip[32];
  for (size_t i = 0; i < n; i++) {
    snprintf(name, sizeof(name), "KUBE-SVC-%016zu", i);
    struct kp_chain *svc = kp_table_add_chain(snap, nat, name);
    struct kp_rule *r = kp_chain_add_rule(snap, services);
    r->target = KP_TARGET_JUMP;
    r->target_name = svc->name;
    snprintf(ip, sizeof(ip), "172.%zu.%zu.%zu", 16 + i / 65536, (i / 256) % 256, i % 256);
    kp_addr_parse(&snap->arena, ip, &r->dst);
    tsb_counters(r, i % 3, 0);
    snprintf(name, sizeof(name), "KUBE-SEP-%016zu", i);
    struct kp_chain *sep = kp_table_add_chain(snap, nat, name);
    r = kp_chain_add_rule(snap, svc);
    r->target = KP_TARGET_JUMP;
    r->target_name = sep->name;
    snprintf(ip, sizeof(ip), "10.%zu.%zu.%zu", i / 65536, (i / 256) % 256, i % 256);
    r = kp_chain_add_rule(snap, sep);
    r->target = KP_TARGET_JUMP;
    r->target_name = "KUBE-MARK-MASQ";
    kp_addr_parse(&snap->arena, ip, &r->src);
    r = kp_chain_add_rule(snap, sep);
    r->target = KP_TARGET_DNAT;
    kp_addr_parse(&snap->arena, ip, &r->nat_addr);
    if (i % 10 == 0) {
      r = kp_chain_add_rule(snap, kp_table_add_chain(snap, filter, "KUBE-SERVICES"));
      r->target = KP_TARGET_REJECT;
      char comment[64];
      snprintf(comment, sizeof(comment), "ns/svc%zu:p80 has no endpoints", i);
      r->comment = kp_arena_strdup(&snap->arena, comment);
    }
  }
  tsb_finalize(snap);
  return snap;
}

START_TEST(twenty_thousand_services_fast) {
  struct kp_snapshot *snap = big(20000);
  const char *ips[] = {"10.0.78.31", "10.99.0.1", NULL};
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  struct kp_report rep;
  tsb_run(snap, ips, NULL, &rep);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  printf("NOTE: checks on 20000 services (%zu rules): %.1f ms\n", kp_snapshot_rule_count(snap), ms);
  /* 20000 service chains + the 2 of the healthy base + 2000 REJECT-only ports */
  ck_assert_int_eq(rep.inventory.services, 22002);
  ck_assert_int_eq(rep.inventory.services_without_endpoints, 2000);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_STALE)->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_POD_RULES)->severity, KP_SEV_OK);
  ck_assert_int_eq(
      tsb_detail(tsb_result(&rep, KP_CHECK_ENDPOINTS), "services_without_endpoints")->n_items, 20);
  ck_assert_int_eq(
      tsb_detail(tsb_result(&rep, KP_CHECK_ENDPOINTS), "services_without_endpoints_total")->num,
      2000);
  /* the time is printed, not asserted: speed is measured by make bench */
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_sync");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, sync_no_metrics_info);
  tcase_add_test(tc, sync_healthy_ok);
  tcase_add_test(tc, sync_failures);
  tcase_add_test(tc, sync_queued_within_limit);
  tcase_add_loop_test(tc, sync_probe_fault_worded_by_what_happened, 0,
                      (int)(sizeof(probe_rows) / sizeof(probe_rows[0])));
  tcase_add_test(tc, process_offline_live);
  tcase_add_test(tc, inventory_counts);
  tcase_add_test(tc, report_helpers);
  tcase_add_test(tc, twenty_thousand_services_fast);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
