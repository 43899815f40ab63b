/* ipvsadm -Ln / --stats / --rate into snap->ipvs (fixtures: real outputs
 * pasted in public threads, tests/fixtures/ipvs/README.md; expectations
 * counted by hand in those files), every prefix of each, hostile lines; and
 * the IPVS-mode checks that read them: endpoints (a virtual server without
 * real servers) and pod-rules (a pod IP as real server). Also the
 * masquerade check on SNAT --to-source on the mark (issue #8 B3). */
#include "dump_parsers.h"
#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IPVS KP_SOURCE_DIR "/tests/fixtures/ipvs/"

static struct kp_snapshot *load(const char *name) {
  char path[512];
  snprintf(path, sizeof(path), IPVS "%s", name);
  size_t len;
  char *buf = tdi_slurp(path, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_eq(kp_dump_detect(buf, len), KP_DUMP_IPVS);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_buffer(snap, path, buf, len, &err) == 0, "%s:%zu: %s", err.file,
                err.line, err.message);
  free(buf);
  return snap;
}

static const struct kp_ipvs_service *svc(const struct kp_snapshot *snap, size_t i) {
  ck_assert_uint_lt(i, snap->ipvs.count);
  return snap->ipvs.items[i];
}

static void addr_is(const struct kp_addr *addr, const char *text) {
  char buf[64];
  kp_addr_format(addr, buf, sizeof(buf));
  ck_assert_str_eq(buf, text);
}

static size_t total_reals(const struct kp_snapshot *snap) {
  size_t n = 0;
  for (size_t i = 0; i < snap->ipvs.count; i++)
    n += svc(snap, i)->reals.count;
  return n;
}

START_TEST(plain_listing) {
  struct kp_snapshot *snap = load("opsnull-251-ipvsadm-L-n.txt");
  ck_assert_uint_eq(snap->ipvs.count, 7);
  ck_assert_uint_eq(total_reals(snap), 14); /* 4+1+1+2+2+1+3 */
  const struct kp_ipvs_service *s = svc(snap, 0);
  ck_assert_str_eq(s->proto, "TCP");
  addr_is(&s->addr, "10.253.102.0");
  ck_assert_uint_eq(s->port, 32429);
  ck_assert_str_eq(s->scheduler, "rr");
  ck_assert_uint_eq(s->line, 5);
  ck_assert(!s->counters.present);
  s = svc(snap, 3); /* TCP  10.254.0.1:443 rr persistent 10800 */
  addr_is(&s->addr, "10.254.0.1");
  ck_assert_uint_eq(s->port, 443);
  ck_assert_uint_eq(s->reals.count, 2);
  const struct kp_ipvs_real *r = s->reals.items[1];
  addr_is(&r->addr, "172.16.16.82");
  ck_assert_uint_eq(r->port, 6443);
  ck_assert_str_eq(r->forward, "Masq");
  ck_assert_uint_eq(r->weight, 1);
  kp_snapshot_free(snap);
  snap = load("k8s-community-692-ipvsadm-L-n.txt"); /* after "sudo ..." and "[sudo] ..." */
  ck_assert_uint_eq(snap->ipvs.count, 1);
  ck_assert_str_eq(svc(snap, 0)->scheduler, "wlc");
  r = svc(snap, 0)->reals.items[0];
  ck_assert_uint_eq(r->active_conns, 1);
  ck_assert_uint_eq(r->inactive_conns, 0);
  ck_assert_uint_eq(r->port, 32768);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(stats_and_rate) {
  struct kp_snapshot *snap = load("kube-router-160-ipvsadm-ln-stats.txt");
  ck_assert_uint_eq(snap->ipvs.count, 3);
  const struct kp_ipvs_service *s = svc(snap, 2); /* TCP 10.3.0.42:80 14209 111769 74613 7207174 */
  ck_assert(s->counters.present);
  ck_assert_uint_eq(s->counters.packets, 111769);
  ck_assert_uint_eq(s->counters.bytes, 7207174);
  ck_assert_uint_eq(s->reals.count, 8);
  const struct kp_ipvs_real *r = s->reals.items[3]; /* 10.2.1.25:80 3 18 12 1161 1341 */
  addr_is(&r->addr, "10.2.1.25");
  ck_assert_uint_eq(r->counters.packets, 18);
  ck_assert_uint_eq(r->counters.bytes, 1161);
  ck_assert_ptr_null(s->scheduler);
  kp_snapshot_free(snap);
  snap = load("handmade-no-endpoints-rate.txt");
  ck_assert_uint_eq(snap->ipvs.count, 5);
  ck_assert_uint_eq(svc(snap, 1)->reals.count, 0); /* 172.30.0.21:80 */
  ck_assert(!svc(snap, 0)->counters.present);      /* rates are not counters */
  s = svc(snap, 3);
  ck_assert_int_eq(s->family, KP_FAMILY_IPV6);
  addr_is(&s->addr, "fd00:30::1");
  addr_is(&((const struct kp_ipvs_real *)s->reals.items[0])->addr, "fd00:180::2");
  ck_assert_str_eq(svc(snap, 4)->proto, "FWM");
  ck_assert_uint_eq(svc(snap, 4)->fwmark, 100);
  ck_assert_int_eq(svc(snap, 4)->addr.kind, KP_ADDR_ANY);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(every_prefix_and_hostile) {
  static const char *const files[] = {
      "opsnull-251-ipvsadm-L-n.txt", "kube-router-160-ipvsadm-ln-stats.txt",
      "k8s-community-692-ipvsadm-L-n.txt", "handmade-no-endpoints-rate.txt"};
  for (size_t f = 0; f < 4; f++) {
    char path[512];
    size_t parsed = 0, failed = 0;
    snprintf(path, sizeof(path), IPVS "%s", files[f]);
    tdi_every_prefix(path, kp_parse_ipvsadm, &parsed, &failed);
    ck_assert_uint_gt(parsed, 0);
  }
  static const struct {
    const char *text;
    size_t line;
    const char *message;
  } bad[] = {
      {"Prot LocalAddress:Port Scheduler Flags\n  -> 10.0.0.1:80 Masq 1 0 0\n", 2,
       "real server line before any virtual server"},
      {"Prot LocalAddress:Port Scheduler Flags\nTCP 10.0.0.1 rr\n", 2,
       "malformed virtual server address"},
      {"Prot LocalAddress:Port Scheduler Flags\nTCP 10.0.0.1:99999 rr\n", 2,
       "malformed virtual server address"},
      {"Prot LocalAddress:Port Scheduler Flags\nTCP [fd00::1:80 rr\n", 2,
       "malformed virtual server address"},
      {"Prot LocalAddress:Port Scheduler Flags\nTCP 1.2.3.4:80 rr\n  -> 1.2.3.5:80 Masq x 0 0\n", 3,
       "malformed real server columns"},
      {"Prot LocalAddress:Port Conns InPkts OutPkts InBytes OutBytes\nTCP 1.2.3.4:80 1 2\n", 2,
       "too few columns"},
      {"Prot LocalAddress:Port Scheduler Flags\nhello world\n", 2, "not an ipvsadm line"},
      {"IP Virtual Server version 1.2.1 (size=4096)\n", 0, "no \"Prot LocalAddress:Port\""},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    ck_assert_int_eq(kp_parse_ipvsadm(snap, "x", bad[i].text, strlen(bad[i].text), &err), -1);
    ck_assert_msg(strstr(err.message, bad[i].message) != NULL, "case %zu: %s", i, err.message);
    ck_assert_uint_eq(err.line, bad[i].line);
    ck_assert_str_eq(err.file, "x");
    kp_snapshot_free(snap);
  }
}
END_TEST

/* sos's ipvs plugin writes -Ln, --stats, --rate, ...: one virtual server
 * each, with the scheduler of -Ln and the counters of --stats. */
START_TEST(several_listings_of_one_table) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_dir(snap, IPVS "sos-ipvs", &err) == 0, "%s:%zu: %s", err.file,
                err.line, err.message);
  ck_assert_uint_eq(snap->sources.count, 3); /* --timeout and --connection are not listings */
  ck_assert_uint_eq(snap->ipvs.count, 5);
  ck_assert_uint_eq(total_reals(snap), 4);
  const struct kp_ipvs_service *s = svc(snap, 0);
  addr_is(&s->addr, "172.30.0.1");
  ck_assert_str_eq(s->scheduler, "rr");
  ck_assert(s->counters.present);
  ck_assert_uint_eq(s->counters.packets, 4000);
  ck_assert_uint_eq(s->counters.bytes, 412000);
  const struct kp_ipvs_real *r = s->reals.items[0];
  ck_assert_str_eq(r->forward, "Masq");
  ck_assert_uint_eq(r->active_conns, 3);
  ck_assert_uint_eq(r->counters.packets, 2500);
  ck_assert_uint_eq(svc(snap, 1)->reals.count, 0);
  kp_snapshot_free(snap);
}
END_TEST

/* An IPVS-mode node (the builder's rules) plus ipvsadm -Ln --rate of the
 * handmade fixture: 172.30.0.21:80 has no real server. */
static struct kp_report ipvs_node(const char *const *pods, bool with_ipvsadm) {
  struct kp_snapshot *snap = with_ipvsadm ? load("handmade-no-endpoints-rate.txt") : tsb_new();
  tsb_ipvs_healthy(snap);
  struct kp_report rep = tsb_check(snap, pods);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  kp_snapshot_free(snap);
  return rep;
}

START_TEST(ipvs_endpoints_and_pod_rules) {
  static const char *const pods[] = {"10.180.0.3", "10.180.0.30", "fd00:180::2", NULL};
  struct kp_report rep = ipvs_node(pods, true);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_str_eq(r->message, "2 IPVS virtual server(s) without real servers (services "
                               "without endpoints): TCP 172.30.0.21:80");
  ck_assert(tsb_list_has(r, "services_without_endpoints", "FWM 100"));
  ck_assert_int_eq(tsb_detail(r, "virtual_servers")->num, 5);
  size_t seen = 0;
  for (size_t i = 0; i < rep.n_results; i++) {
    const struct kp_result *p = &rep.results[i];
    if (p->check != KP_CHECK_POD_RULES)
      continue;
    const char *ip = tsb_detail(p, "pod_ip")->str;
    if (strcmp(ip, "10.180.0.3") == 0 || strcmp(ip, "fd00:180::2") == 0) {
      ck_assert_int_eq(p->severity, KP_SEV_OK);
      ck_assert_ptr_nonnull(strstr(p->message, "as real server of 1 IPVS virtual server(s)"));
    } else { /* 10.180.0.30 is not 10.180.0.3 */
      ck_assert_int_eq(p->severity, KP_SEV_WARN);
      ck_assert_ptr_nonnull(strstr(p->message, "is not a real server"));
    }
    seen++;
  }
  ck_assert_uint_eq(seen, 3);
  kp_report_free(&rep);
  /* Without ipvsadm output: INFO naming it, as before. */
  rep = ipvs_node(pods, false);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_ENDPOINTS)->message, "ipvsadm -Ln"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_POD_RULES)->severity, KP_SEV_INFO);
  kp_report_free(&rep);
}
END_TEST

/* An input that is only ipvsadm output: its virtual servers make IPVS mode;
 * what needs the iptables tables says INFO naming them, nothing FAILs. The
 * opsnull paste lists 7 virtual servers, each with real servers; the pod
 * 10.253.35.2 is the real server (:8443) of 10.253.102.0:32767,
 * 10.253.102.1:32767 and 10.254.9.36:443. `ipvsadm -L -n` has no counters. */
START_TEST(ipvsadm_alone_is_ipvs_mode) {
  static const char *const pods[] = {"10.253.35.2", NULL};
  struct kp_snapshot *snap = load("opsnull-251-ipvsadm-L-n.txt");
  ck_assert_uint_eq(snap->tables.count, 0);
  struct kp_report rep = tsb_check(snap, pods);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_MODE);
  ck_assert_int_eq(r->severity, KP_SEV_INFO); /* kube-router owns virtual servers too */
  ck_assert_str_eq(tsb_detail(r, "mode")->str, "ipvs");
  ck_assert_ptr_nonnull(tsb_detail(r, "evidence"));
  ck_assert_str_eq(tsb_detail(r, "evidence")->str, "ipvsadm");
  ck_assert(tsb_list_has(r, "families", "ipv4"));
  ck_assert(!tsb_list_has(r, "families", "ipv6"));
  ck_assert_ptr_nonnull(strstr(r->message, "7 IPVS virtual server(s) of ipvsadm -Ln"));
  /* chains: the tables are not in the input (no "all 0 chains present") */
  ck_assert_uint_eq(tsb_count(&rep, KP_CHECK_CHAINS), 1);
  r = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert(tsb_list_has(r, "tables_not_seen", "nat"));
  ck_assert(tsb_list_has(r, "tables_not_seen", "filter"));
  r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "ipvsadm -Ln without --stats"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  r = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_detail(r, "virtual_servers")->num, 7);
  r = tsb_result(&rep, KP_CHECK_POD_RULES);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_detail(r, "virtual_servers")->num, 3);
  for (size_t i = 0; i < rep.n_results; i++)
    ck_assert_msg(rep.results[i].severity != KP_SEV_FAIL && rep.results[i].severity != KP_SEV_WARN,
                  "%s", rep.results[i].message);
  kp_report_free(&rep);
  kp_snapshot_free(snap);

  /* With --stats: 10.3.0.42:80 alone has packets (InPkts 111769). */
  snap = load("kube-router-160-ipvsadm-ln-stats.txt");
  rep = tsb_check(snap, NULL);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message, "IPVS virtual servers active (1 with traffic, sample: 111769 "
                               "packets)");
  ck_assert_int_eq(tsb_detail(r, "rules_checked")->num, 3);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* KUBE-POSTROUTING source-NATs the mark to a fixed address: SNAT, a WARN
 * for a non-standard setup, not "not masqueraded". */
START_TEST(snat_on_the_mark_is_source_nat) {
  struct kp_snapshot *snap = tsb_new();
  tsb_ipt_healthy(snap, "");
  tsb_delete_rule(snap, "nat", "KUBE-POSTROUTING", 2);
  tsb_rule(snap, "nat", "KUBE-POSTROUTING",
           "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j SNAT "
           "--to-source 192.168.77.1");
  struct kp_report rep = tsb_check(snap, NULL);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_MASQUERADE);
  ck_assert_int_eq(tsb_count(&rep, KP_CHECK_MASQUERADE), 1);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(r->message, "SNAT --to-source 192.168.77.1"));
  ck_assert_ptr_null(strstr(r->message, "not masqueraded"));
  ck_assert_str_eq(tsb_detail(r, "snat_to")->str, "192.168.77.1");
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_ipvs");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, plain_listing);
  tcase_add_test(tc, stats_and_rate);
  tcase_add_test(tc, every_prefix_and_hostile);
  tcase_add_test(tc, several_listings_of_one_table);
  tcase_add_test(tc, ipvs_endpoints_and_pod_rules);
  tcase_add_test(tc, ipvsadm_alone_is_ipvs_mode);
  tcase_add_test(tc, snat_on_the_mark_is_source_nat);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
