/* activity check: what counts is the service rules (KUBE-SERVICES /
 * KUBE-NODEPORTS rules to service chains, endpoint DNATs), never the
 * built-in chains' jumps; offline counters, and live deltas that survive
 * kube-proxy rewriting its rules with fresh counters. */
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counters of one read: the built-in jumps (every connection the node
 * makes), the cluster-IP rule, the node-port rule and the endpoint DNAT. */
struct read {
  uint64_t pre, out;   /* PREROUTING / OUTPUT -> KUBE-SERVICES */
  uint64_t cluster_ip; /* KUBE-SERVICES -d 172.30.0.41 -> KUBE-SVC-A */
  uint64_t nodeport;   /* KUBE-NODEPORTS --dport 30080 -> KUBE-EXT-A */
  uint64_t dnat;       /* KUBE-SEP-A DNAT (both paths end here) */
};

static struct kp_snapshot *node(const struct read *c) {
  struct kp_snapshot *snap = tsb_new();
  tsb_counters(tsb_rule(snap, "nat", "PREROUTING", "-j KUBE-SERVICES"), c->pre, c->pre * 60);
  tsb_counters(tsb_rule(snap, "nat", "OUTPUT", "-j KUBE-SERVICES"), c->out, c->out * 60);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SERVICES",
                        "-d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A"),
               c->cluster_ip, 0);
  tsb_counters(
      tsb_rule(snap, "nat", "KUBE-SERVICES", "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"),
      c->nodeport, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-NODEPORTS", "-p tcp -m tcp --dport 30080 -j KUBE-EXT-A"),
               c->nodeport, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-EXT-A", "-j KUBE-SVC-A"), c->nodeport, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SVC-A", "-j KUBE-SEP-A"), c->dnat, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SEP-A", "-p tcp -j DNAT --to-destination 10.0.0.10:80"),
               c->dnat, 0);
  tsb_finalize(snap);
  return snap;
}

static struct kp_report offline_run(const struct read *c, bool partial) {
  struct kp_snapshot *snap = node(c);
  tsb_table(snap, "nat")->partial = partial;
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  /* the report holds no pointer into the snapshot that the test reads */
  rep.inventory.service_sample_text = NULL;
  kp_snapshot_free(snap);
  return rep;
}

START_TEST(offline_traffic_ok_seed_wording) {
  struct kp_snapshot *snap = node(&(struct read){.out = 9000000, .cluster_ip = 2675000});
  /* as `iptables -L -v` shows it */
  struct kp_rule *svc = kp_table_chain(tsb_table(snap, "nat"), "KUBE-SERVICES")->rules.items[0];
  tsb_ext(snap, svc)->counter_texts.packets = "2675K";
  struct kp_rule *dnat = kp_table_chain(tsb_table(snap, "nat"), "KUBE-SEP-A")->rules.items[0];
  tsb_counters(dnat, 2675000, 0);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  /* the cluster-IP rule and the DNAT; OUTPUT's 9M (the node's own
   * connections to anything) is not a service rule */
  ck_assert_str_eq(r->message,
                   "KUBE-SERVICES chain active (2 rule(s) with traffic, sample: 2675K packets)");
  ck_assert_str_eq(r->chain, "KUBE-SERVICES");
  ck_assert_str_eq(tsb_detail(r, "sample_chain")->str, "KUBE-SERVICES");
  /* one packet path counted once: the larger layer, not the sum */
  ck_assert_uint_eq(rep.inventory.service_packets, 2675000);
  ck_assert_int_eq(rep.inventory.service_rules, 3);
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(offline_only_builtin_jumps_have_traffic_warns) {
  /* the node made 500 connections, none to a service */
  struct kp_report rep = offline_run(&(struct read){.pre = 20, .out = 500}, false);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_WARN);
  ck_assert_str_eq(r->message, "KUBE-SERVICES chain has no packet counts (kube-proxy may not be "
                               "processing traffic)");
  ck_assert_int_eq(tsb_detail(r, "rules_with_traffic")->num, 0);
  /* cluster-IP rule, node-port rule, DNAT */
  ck_assert_int_eq(tsb_detail(r, "rules_with_counters")->num, 3);
  kp_report_free(&rep);
}
END_TEST

START_TEST(offline_nodeport_traffic_counts) {
  struct kp_report rep = offline_run(&(struct read){.nodeport = 7, .dnat = 7}, false);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_OK);
  ck_assert_str_eq(r->message,
                   "KUBE-SERVICES chain active (2 rule(s) with traffic, sample: 7 packets)");
  ck_assert_uint_eq(rep.inventory.service_packets, 7);
  kp_report_free(&rep);
}
END_TEST

START_TEST(offline_zero_on_partial_table_is_info) {
  struct kp_report rep = offline_run(&(struct read){.out = 5}, true);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "only partly"));
  kp_report_free(&rep);
}
END_TEST

START_TEST(offline_no_counters_info) {
  struct kp_snapshot *snap = node(&(struct read){5, 5, 5, 5, 5});
  tsb_strip_counters(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "cannot be judged"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nftables_mode_info) {
  struct kp_snapshot *snap = tsb_new();
  tsb_nft_healthy(snap, KP_FAMILY_IPV4);
  tsb_finalize(snap);
  struct kp_report rep;
  tsb_run(snap, NULL, NULL, &rep);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_int_eq(r->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(r->message, "nftables mode"));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
}
END_TEST

/* One live read of a node built by `build`; returns the severity, copies
 * the message and the new-packet figure. */
static enum kp_severity live_snap(struct kp_check_state *st, unsigned intervals,
                                  struct kp_snapshot *snap, char *msg, size_t len,
                                  uint64_t *new_packets) {
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  cfg.activity_intervals = intervals;
  struct kp_report rep;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, st, &rep), 0);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_ACTIVITY);
  ck_assert_ptr_nonnull(r);
  enum kp_severity sev = r->severity;
  snprintf(msg, len, "%s", r->message);
  if (new_packets != NULL)
    *new_packets = rep.inventory.service_new_packets;
  kp_report_free(&rep);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
  return sev;
}

static enum kp_severity live_read(struct kp_check_state *st, unsigned intervals,
                                  const struct read *c, char *msg, size_t len,
                                  uint64_t *new_packets) {
  return live_snap(st, intervals, node(c), msg, len, new_packets);
}

START_TEST(live_collecting_then_active_then_idle) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  struct read c = {.pre = 100, .out = 50, .cluster_ip = 40, .dnat = 40};
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(msg, "collecting"));
  c.cluster_ip += 10;
  c.dnat += 10;
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_OK);
  ck_assert_ptr_nonnull(strstr(msg, "10 new packet(s)"));
  /* three reads with no new service packets: WARN only on the third */
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_OK);
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_OK);
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_WARN);
  ck_assert_ptr_nonnull(strstr(msg, "no new packets for 3 read(s)"));
  /* service traffic again clears it */
  c.dnat++;
  ck_assert_int_eq(live_read(&st, 3, &c, msg, sizeof(msg), NULL), KP_SEV_OK);
  ck_assert_int_eq(st.idle_intervals, 0);
  ck_assert_int_eq(st.reads, 6);
  kp_check_state_free(&st);
}
END_TEST

START_TEST(live_only_non_service_traffic_grows_warns) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  uint64_t fresh = 1;
  struct read c = {.pre = 100, .out = 50, .cluster_ip = 40, .dnat = 40};
  live_read(&st, 2, &c, msg, sizeof(msg), NULL);
  for (int i = 0; i < 2; i++) {
    /* the node (and the plugin's own probes) keeps connecting: the
     * built-in jumps grow, no service rule does */
    c.pre += 1000;
    c.out += 1000;
    enum kp_severity sev = live_read(&st, 2, &c, msg, sizeof(msg), &fresh);
    ck_assert_uint_eq(fresh, 0);
    ck_assert_int_eq(sev, i == 0 ? KP_SEV_OK : KP_SEV_WARN);
  }
  ck_assert_ptr_nonnull(strstr(msg, "no new packets for 2 read(s)"));
  kp_check_state_free(&st);
}
END_TEST

START_TEST(live_rules_rewritten_with_fresh_counters) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  uint64_t fresh = 0;
  struct read c = {.cluster_ip = 1000, .nodeport = 200, .dnat = 1200};
  live_read(&st, 2, &c, msg, sizeof(msg), NULL);
  /* kube-proxy rewrote its rules between the reads: fresh counters, and
   * since then 4 connections to the cluster IP, one via the node port */
  c = (struct read){.cluster_ip = 4, .nodeport = 1, .dnat = 5};
  ck_assert_int_eq(live_read(&st, 2, &c, msg, sizeof(msg), &fresh), KP_SEV_OK);
  /* the dispatch layer saw 5, the DNATs 5: the same 5 packets, not 10 */
  ck_assert_uint_eq(fresh, 5);
  ck_assert_ptr_nonnull(strstr(msg, "5 new packet(s)"));
  /* then 3 more, counted from the new counters */
  c = (struct read){.cluster_ip = 7, .nodeport = 1, .dnat = 8};
  ck_assert_int_eq(live_read(&st, 2, &c, msg, sizeof(msg), &fresh), KP_SEV_OK);
  ck_assert_uint_eq(fresh, 3);
  /* rewritten again, nothing since: idle, not a negative or a jump */
  c = (struct read){0};
  ck_assert_int_eq(live_read(&st, 2, &c, msg, sizeof(msg), &fresh), KP_SEV_OK);
  ck_assert_uint_eq(fresh, 0);
  ck_assert_int_eq(live_read(&st, 2, &c, msg, sizeof(msg), &fresh), KP_SEV_WARN);
  kp_check_state_free(&st);
}
END_TEST

START_TEST(live_rule_inserted_before_does_not_count) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  uint64_t fresh = 9;
  struct read c = {.cluster_ip = 40, .dnat = 40};
  live_read(&st, 2, &c, msg, sizeof(msg), NULL);
  /* a new service at the top of KUBE-SERVICES, no traffic yet: the old
   * rules moved down one place but are the same rules */
  struct kp_snapshot *snap = node(&c);
  struct kp_chain *svcs = kp_table_chain(tsb_table(snap, "nat"), "KUBE-SERVICES");
  struct kp_rule *added =
      tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 172.30.0.99/32 -p tcp --dport 80 -j KUBE-SVC-B");
  tsb_counters(added, 0, 0);
  memmove(&svcs->rules.items[1], &svcs->rules.items[0],
          (svcs->rules.count - 1) * sizeof(svcs->rules.items[0]));
  svcs->rules.items[0] = added;
  tsb_finalize(snap);
  ck_assert_int_eq(live_snap(&st, 2, snap, msg, sizeof(msg), &fresh), KP_SEV_OK);
  ck_assert_uint_eq(fresh, 0);
  kp_check_state_free(&st);
}
END_TEST

START_TEST(live_new_rule_counts_whole) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  uint64_t fresh = 0;
  struct read c = {.cluster_ip = 40, .dnat = 40};
  live_read(&st, 2, &c, msg, sizeof(msg), NULL);
  /* a service created between the reads, already with 6 connections */
  struct kp_snapshot *snap = node(&c);
  tsb_counters(
      tsb_rule(snap, "nat", "KUBE-SERVICES", "-d 172.30.0.99/32 -p tcp --dport 80 -j KUBE-SVC-B"),
      6, 0);
  tsb_finalize(snap);
  ck_assert_int_eq(live_snap(&st, 2, snap, msg, sizeof(msg), &fresh), KP_SEV_OK);
  ck_assert_uint_eq(fresh, 6);
  kp_check_state_free(&st);
}
END_TEST

/* node() plus service B's cluster-IP rule and DNAT with b packets. */
static struct kp_snapshot *node_ab(const struct read *a, uint64_t b) {
  struct kp_snapshot *snap = node(a);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SERVICES",
                        "-d 172.30.0.99/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-B"),
               b, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SVC-B", "-j KUBE-SEP-B"), b, 0);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SEP-B", "-p tcp -j DNAT --to-destination 10.0.0.20:80"),
               b, 0);
  tsb_finalize(snap);
  return snap;
}

/* node() plus a service whose rules kube-proxy wrote anew for read i (its
 * cluster IP and endpoint differ on every read: new keys each time). */
static struct kp_snapshot *node_churned(unsigned i) {
  struct kp_snapshot *snap = node(&(struct read){.cluster_ip = 10, .dnat = 10});
  char rule[128];
  snprintf(rule, sizeof(rule), "-d 172.30.%u.%u/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-C",
           i / 250 % 250, i % 250 + 1);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SERVICES", rule), i, 0);
  snprintf(rule, sizeof(rule), "-p tcp -j DNAT --to-destination 10.1.%u.%u:80", i / 250 % 250,
           i % 250 + 1);
  tsb_counters(tsb_rule(snap, "nat", "KUBE-SEP-C", rule), i, 0);
  tsb_finalize(snap);
  return snap;
}

/* The carried per-rule state holds the last read's rules only: over 2000
 * reads with a service rewritten every time it stays the size of one read
 * (what a collectd running for weeks keeps), instead of one entry more per
 * rewritten rule. */
START_TEST(live_state_bounded_over_rewrites) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  live_snap(&st, 5, node_churned(0), msg, sizeof(msg), NULL);
  size_t one_read = st.n_rule_counts;
  ck_assert_uint_ge(one_read, 4); /* A's cluster IP and DNAT, C's, at least */
  for (unsigned i = 1; i < 2000; i++) {
    live_snap(&st, 5, node_churned(i), msg, sizeof(msg), NULL);
    ck_assert_uint_eq(st.n_rule_counts, one_read);
  }
  kp_check_state_free(&st);
  ck_assert_ptr_null(st.rule_counts);
  ck_assert_uint_eq(st.n_rule_counts, 0);
}
END_TEST

START_TEST(live_one_service_rewritten_others_grow) {
  struct kp_check_state st;
  kp_check_state_init(&st);
  char msg[256];
  uint64_t fresh = 0;
  live_snap(&st, 2, node_ab(&(struct read){.cluster_ip = 1000, .dnat = 1000}, 10), msg, sizeof(msg),
            NULL);
  /* a partial sync rewrote service A's rules (fresh counters, 3 packets
   * since) while service B took 1010 more: 1013 new, though the sums
   * moved only from 1010 to 1023 */
  ck_assert_int_eq(live_snap(&st, 2, node_ab(&(struct read){.cluster_ip = 3, .dnat = 3}, 1020), msg,
                             sizeof(msg), &fresh),
                   KP_SEV_OK);
  ck_assert_uint_eq(fresh, 1013);
  kp_check_state_free(&st);
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_activity");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, offline_traffic_ok_seed_wording);
  tcase_add_test(tc, offline_only_builtin_jumps_have_traffic_warns);
  tcase_add_test(tc, offline_nodeport_traffic_counts);
  tcase_add_test(tc, offline_zero_on_partial_table_is_info);
  tcase_add_test(tc, offline_no_counters_info);
  tcase_add_test(tc, nftables_mode_info);
  tcase_add_test(tc, live_collecting_then_active_then_idle);
  tcase_add_test(tc, live_only_non_service_traffic_grows_warns);
  tcase_add_test(tc, live_rules_rewritten_with_fresh_counters);
  tcase_add_test(tc, live_rule_inserted_before_does_not_count);
  tcase_add_test(tc, live_new_rule_counts_whole);
  tcase_add_test(tc, live_one_service_rewritten_others_grow);
  tcase_add_test(tc, live_state_bounded_over_rewrites);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
