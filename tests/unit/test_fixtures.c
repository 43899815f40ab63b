/* Direct assertions on the captured fixtures (tests/fixtures/captured, made
 * by tests/capture-fixtures.sh from real iptables/nft). Every expected value
 * here was worked out from tests/fixtures/make-ruleset.sh and the traffic
 * capture-fixtures.sh sends, and checked by eye in the captured files (see
 * tests/fixtures/README.md). */
#include "kp/dump.h"
#include "kp/model.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPTURED KP_SOURCE_DIR "/tests/fixtures/captured/"

static const char *const backends[] = {"legacy", "nft"};

static struct kp_snapshot *load(const char *relpath) {
  char path[512];
  snprintf(path, sizeof(path), CAPTURED "%s", relpath);
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  int rc = kp_dump_parse_file(snap, path, &err);
  ck_assert_msg(rc == 0, "%s: line %zu: %s", relpath, err.line, err.message);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  return snap;
}

static struct kp_snapshot *load_case(const char *fixture_case, const char *backend,
                                     const char *file) {
  char rel[256];
  snprintf(rel, sizeof(rel), "%s/%s/%s", fixture_case, backend, file);
  return load(rel);
}

/* A listing of one table (-L, -S) does not name the table: search all. */
static struct kp_chain *chain_any(const struct kp_snapshot *snap, const char *name) {
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_chain *c = kp_table_chain(snap->tables.items[t], name);
    if (c != NULL)
      return c;
  }
  return NULL;
}

static size_t tables_with_chain(const struct kp_snapshot *snap, const char *name) {
  size_t n = 0;
  for (size_t t = 0; t < snap->tables.count; t++)
    n += kp_table_chain(snap->tables.items[t], name) != NULL;
  return n;
}

static struct kp_chain *nat_chain(const struct kp_snapshot *snap, const char *name) {
  return kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_COUNT, "nat", name);
}

static struct kp_rule *rule_at(const struct kp_chain *chain, size_t i) {
  ck_assert_ptr_nonnull(chain);
  ck_assert_uint_gt(chain->rules.count, i);
  return chain->rules.items[i];
}

static void assert_host(const struct kp_addr *a, const char *text) {
  struct kp_addr want;
  ck_assert_int_eq(kp_addr_parse(NULL, text, &want), 0);
  ck_assert_msg(kp_addr_same_host(a, &want), "address is not %s", text);
}

/* nat KUBE-SERVICES: one rule per service port with endpoints (kubernetes,
 * dns-tcp, dns/udp, frontend; orphan has none) + the NodePort rule last. */
static void check_kube_services(const struct kp_chain *svc) {
  static const char *const vips[] = {"172.30.0.1", "172.30.0.10", "172.30.0.10", "172.30.0.20"};
  static const uint16_t ports[] = {443, 53, 53, 80};
  ck_assert_ptr_nonnull(svc);
  ck_assert_uint_eq(svc->rules.count, 5);
  for (size_t i = 0; i < 4; i++) {
    const struct kp_rule *r = rule_at(svc, i);
    ck_assert_int_eq(r->target, KP_TARGET_JUMP);
    ck_assert_msg(strncmp(r->target_name, "KUBE-SVC-", 9) == 0, "rule %zu -> %s", i,
                  r->target_name);
    assert_host(&r->dst, vips[i]);
    ck_assert(r->dport.present);
    ck_assert_uint_eq(r->dport.lo, ports[i]);
  }
  const struct kp_rule *last = rule_at(svc, 4);
  ck_assert_str_eq(last->target_name, "KUBE-NODEPORTS");
  ck_assert_ptr_nonnull(kp_rule_ext(last)->dst_type);
  ck_assert_str_eq(kp_rule_ext(last)->dst_type, "LOCAL");
}

START_TEST(healthy_kube_services_shape) {
  static const char *const list_files[] = {"nat-L-n-v.txt", "nat-L-n-v-x.txt", "nat-L-n.txt",
                                           "nat-S.txt"};
  for (size_t b = 0; b < 2; b++) {
    for (size_t f = 0; f < 4; f++) {
      struct kp_snapshot *snap = load_case("healthy", backends[b], list_files[f]);
      check_kube_services(chain_any(snap, "KUBE-SERVICES"));
      kp_snapshot_free(snap);
    }
    struct kp_snapshot *snap = load_case("healthy", backends[b], "iptables-save-c.txt");
    check_kube_services(nat_chain(snap, "KUBE-SERVICES"));
    /* the filter KUBE-SERVICES holds only the no-endpoints REJECT */
    struct kp_chain *f =
        kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_COUNT, "filter", "KUBE-SERVICES");
    ck_assert_uint_eq(f->rules.count, 1);
    ck_assert_int_eq(rule_at(f, 0)->target, KP_TARGET_REJECT);
    assert_host(&rule_at(f, 0)->dst, "172.30.0.21");
    ck_assert_str_eq(rule_at(f, 0)->comment, "web/orphan:http has no endpoints");
    kp_snapshot_free(snap);
  }
}
END_TEST

/* 8 DNAT rules (4 service ports x 2 endpoints) to the pods 10.180.0.2-7;
 * dns-tcp and dns share the pods .4 and .5. */
START_TEST(healthy_dnat_to_pods) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_snapshot *snap = load_case("healthy", backends[b], "nat-L-n-v.txt");
    size_t n_dnat = 0;
    int seen[8] = {0};
    for (size_t t = 0; t < snap->tables.count; t++) {
      const struct kp_table *table = snap->tables.items[t];
      for (size_t c = 0; c < table->chains.count; c++) {
        const struct kp_chain *chain = table->chains.items[c];
        for (size_t i = 0; i < chain->rules.count; i++) {
          const struct kp_rule *r = chain->rules.items[i];
          if (r->target != KP_TARGET_DNAT)
            continue;
          n_dnat++;
          ck_assert_msg(strncmp(chain->name, "KUBE-SEP-", 9) == 0, "DNAT in %s", chain->name);
          ck_assert_int_eq(r->nat_addr.kind, KP_ADDR_IPV4);
          ck_assert_uint_eq(r->nat_addr.bytes[0], 10);
          ck_assert_uint_eq(r->nat_addr.bytes[1], 180);
          ck_assert_uint_eq(r->nat_addr.bytes[2], 0);
          ck_assert(r->nat_addr.bytes[3] >= 2 && r->nat_addr.bytes[3] <= 7);
          seen[r->nat_addr.bytes[3]]++;
        }
      }
    }
    ck_assert_uint_eq(n_dnat, 8);
    ck_assert_int_eq(seen[2] + seen[3], 2); /* kubernetes :6443 */
    ck_assert_int_eq(seen[4], 2);           /* dns-tcp + dns */
    ck_assert_int_eq(seen[5], 2);
    ck_assert_int_eq(seen[6] + seen[7], 2); /* frontend :8080 */
    /* the SEP of frontend's second endpoint, by its kube-proxy hash */
    const struct kp_chain *sep = chain_any(snap, "KUBE-SEP-SRSMOXY3QZRUMHVS");
    ck_assert_ptr_nonnull(sep);
    ck_assert_uint_eq(sep->rules.count, 2);
    ck_assert_int_eq(rule_at(sep, 1)->target, KP_TARGET_DNAT);
    assert_host(&rule_at(sep, 1)->nat_addr, "10.180.0.7");
    ck_assert(rule_at(sep, 1)->nat_ports.present);
    ck_assert_uint_eq(rule_at(sep, 1)->nat_ports.lo, 8080);
    assert_host(&rule_at(sep, 0)->src, "10.180.0.7"); /* hairpin masq rule */
    kp_snapshot_free(snap);
  }
}
END_TEST

/* capture-fixtures.sh sends from the node: 2 x (4 TCP SYNs) + 1 SYN to the
 * no-endpoint service + 1 UDP datagram = 10 first packets through nat
 * OUTPUT, and 1 SYN from the peer namespace through nat PREROUTING. */
static void check_hook_counters(const struct kp_chain *pre, const struct kp_chain *out,
                                uint64_t want_out_bytes) {
  const struct kp_rule *p = rule_at(pre, 0), *o = rule_at(out, 0);
  ck_assert_str_eq(p->target_name, "KUBE-SERVICES");
  ck_assert_str_eq(o->target_name, "KUBE-SERVICES");
  ck_assert(p->counters.present && o->counters.present);
  ck_assert_uint_eq(p->counters.packets, 1);
  ck_assert_uint_eq(p->counters.bytes, 60);
  ck_assert_uint_eq(o->counters.packets, 10);
  ck_assert_uint_eq(o->counters.bytes, want_out_bytes);
}

START_TEST(healthy_hook_counters_after_traffic) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_snapshot *snap = load_case("healthy", backends[b], "iptables-save-c.txt");
    check_hook_counters(nat_chain(snap, "PREROUTING"), nat_chain(snap, "OUTPUT"), 570);
    kp_snapshot_free(snap);
    snap = load_case("healthy", backends[b], "nat-L-n-v-x.txt");
    check_hook_counters(chain_any(snap, "PREROUTING"), chain_any(snap, "OUTPUT"), 570);
    kp_snapshot_free(snap);
    snap = load_case("healthy", backends[b], "nat-L-n-v.txt");
    check_hook_counters(chain_any(snap, "PREROUTING"), chain_any(snap, "OUTPUT"), 570);
    kp_snapshot_free(snap);
  }
  struct kp_snapshot *snap = load_case("healthy", "nft", "nft-list-ruleset.txt");
  check_hook_counters(nat_chain(snap, "PREROUTING"), nat_chain(snap, "OUTPUT"), 570);
  kp_snapshot_free(snap);
}
END_TEST

static size_t assert_all_counters_zero(const struct kp_snapshot *snap, const char *what) {
  size_t n = 0;
  for (size_t t = 0; t < snap->tables.count; t++) {
    const struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      const struct kp_chain *chain = table->chains.items[c];
      for (size_t i = 0; i < chain->rules.count; i++) {
        const struct kp_rule *r = chain->rules.items[i];
        ck_assert_msg(r->counters.present, "%s: %s rule %zu has no counters", what, chain->name, i);
        ck_assert_msg(r->counters.packets == 0 && r->counters.bytes == 0,
                      "%s: %s rule %zu has traffic", what, chain->name, i);
        n++;
      }
    }
  }
  return n;
}

START_TEST(zero_traffic_counters_all_zero) {
  static const struct {
    const char *file;
    size_t rules;
  } files[] = {{"iptables-save-c.txt", 59},
               {"nat-L-n-v.txt", 43},
               {"nat-L-n-v-x.txt", 43},
               {"filter-L-n-v.txt", 16}};
  for (size_t b = 0; b < 2; b++) {
    for (size_t f = 0; f < 4; f++) {
      struct kp_snapshot *snap = load_case("zero-traffic", backends[b], files[f].file);
      ck_assert_uint_eq(assert_all_counters_zero(snap, files[f].file), files[f].rules);
      kp_snapshot_free(snap);
    }
  }
}
END_TEST

/* iptables-nft shows `! --ctstate RELATED,ESTABLISHED,DNAT` of KUBE-FIREWALL
 * as "ct status dnat" in `nft list`: "dnat" there is a ct status value, not
 * a DNAT statement; the rule still ends "counter packets 0 bytes 0 drop". */
START_TEST(zero_traffic_nft_list_counters_all_zero) {
  struct kp_snapshot *snap = load_case("zero-traffic", "nft", "nft-list-ruleset.txt");
  const struct kp_chain *fw =
      kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_COUNT, "filter", "KUBE-FIREWALL");
  ck_assert_int_eq(rule_at(fw, 0)->target, KP_TARGET_DROP);
  ck_assert_uint_eq(assert_all_counters_zero(snap, "nft"), 59);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(no_counters_when_dump_has_none) {
  static const char *const files[] = {"nat-L-n.txt", "iptables-save.txt", "nat-S.txt"};
  for (size_t f = 0; f < 3; f++) {
    struct kp_snapshot *snap = load_case("healthy", "legacy", files[f]);
    size_t n = 0;
    for (size_t t = 0; t < snap->tables.count; t++) {
      const struct kp_table *table = snap->tables.items[t];
      for (size_t c = 0; c < table->chains.count; c++) {
        const struct kp_chain *chain = table->chains.items[c];
        for (size_t i = 0; i < chain->rules.count; i++, n++)
          ck_assert_msg(!((const struct kp_rule *)chain->rules.items[i])->counters.present,
                        "%s: %s rule %zu claims counters", files[f], chain->name, i);
      }
    }
    ck_assert_uint_gt(n, 40);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(masquerade_rules_and_mutations) {
  for (size_t b = 0; b < 2; b++) {
    /* healthy: MARK --or-mark 0x4000 is saved as --set-xmark 0x4000/0x4000 */
    struct kp_snapshot *snap = load_case("healthy", backends[b], "iptables-save-c.txt");
    const struct kp_rule *mark = rule_at(nat_chain(snap, "KUBE-MARK-MASQ"), 0);
    ck_assert(kp_rule_ext(mark)->mark_target);
    ck_assert_uint_eq(kp_rule_ext(mark)->xmark_value, 0x4000);
    ck_assert_uint_eq(kp_rule_ext(mark)->xmark_mask, 0x4000);
    const struct kp_chain *post = nat_chain(snap, "KUBE-POSTROUTING");
    ck_assert_uint_eq(post->rules.count, 3);
    ck_assert(kp_rule_ext(rule_at(post, 0))->mark.present &&
              kp_rule_ext(rule_at(post, 0))->mark.negated);
    ck_assert_uint_eq(kp_rule_ext(rule_at(post, 0))->mark.value, 0x4000);
    ck_assert_int_eq(rule_at(post, 2)->target, KP_TARGET_MASQUERADE);
    ck_assert(rule_at(post, 2)->random_fully);
    ck_assert_uint_eq(rule_at(post, 2)->counters.packets, 10); /* all marked traffic */
    kp_snapshot_free(snap);

    snap = load_case("mark-mismatch", backends[b], "iptables-save-c.txt");
    mark = rule_at(nat_chain(snap, "KUBE-MARK-MASQ"), 0);
    ck_assert_uint_eq(kp_rule_ext(mark)->xmark_value, 0x8000);
    ck_assert_uint_eq(kp_rule_ext(mark)->xmark_mask, 0x8000);
    ck_assert_uint_eq(kp_rule_ext(rule_at(nat_chain(snap, "KUBE-POSTROUTING"), 0))->mark.value,
                      0x4000);
    /* with the wrong bit nothing is masqueraded: RETURN takes every packet */
    ck_assert_uint_eq(rule_at(nat_chain(snap, "KUBE-POSTROUTING"), 0)->counters.packets, 10);
    ck_assert_uint_eq(rule_at(nat_chain(snap, "KUBE-POSTROUTING"), 2)->counters.packets, 0);
    kp_snapshot_free(snap);

    snap = load_case("no-masquerade", backends[b], "nat-L-n-v.txt");
    post = chain_any(snap, "KUBE-POSTROUTING");
    ck_assert_uint_eq(post->rules.count, 2);
    for (size_t i = 0; i < 2; i++)
      ck_assert_int_ne(rule_at(post, i)->target, KP_TARGET_MASQUERADE);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(structural_mutations) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_snapshot *snap = load_case("no-hooks", backends[b], "iptables-save-c.txt");
    ck_assert_uint_eq(nat_chain(snap, "PREROUTING")->rules.count, 0);
    ck_assert_uint_eq(nat_chain(snap, "OUTPUT")->rules.count, 0);
    ck_assert_uint_eq(nat_chain(snap, "POSTROUTING")->rules.count, 1);
    ck_assert_uint_eq(nat_chain(snap, "KUBE-SERVICES")->referrers.count, 0);
    kp_snapshot_free(snap);

    /* stale: KUBE-SVC of gone/old-api:http, declared, with a rule, no referrer
     */
    snap = load_case("stale", backends[b], "nat-L-n-v.txt");
    const struct kp_chain *stale = chain_any(snap, "KUBE-SVC-PLBQHGYLKREHD6AR");
    ck_assert_ptr_nonnull(stale);
    ck_assert_int_eq(stale->dump_references, 0);
    ck_assert_uint_eq(stale->referrers.count, 0);
    ck_assert_uint_eq(stale->rules.count, 1);
    ck_assert_int_eq(chain_any(snap, "KUBE-SEP-NWWOKAKUOIO7AI7G")->dump_references, 1);
    kp_snapshot_free(snap);

    snap = load_case("no-canary", backends[b], "iptables-save.txt");
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-PROXY-CANARY"), 0);
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-KUBELET-CANARY"), 3);
    kp_snapshot_free(snap);
    snap = load_case("healthy", backends[b], "iptables-save.txt");
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-PROXY-CANARY"), 3);
    kp_snapshot_free(snap);

    snap = load_case("kubelet-only", backends[b], "iptables-save.txt");
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-SERVICES"), 0);
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-KUBELET-CANARY"), 3);
    ck_assert_uint_eq(tables_with_chain(snap, "KUBE-IPTABLES-HINT"), 1);
    ck_assert_uint_eq(kp_snapshot_rule_count(snap), 3);
    kp_snapshot_free(snap);

    /* ipvs: match-set rules, no per-service chains */
    snap = load_case("ipvs", backends[b], "iptables-save-c.txt");
    const struct kp_chain *svc = nat_chain(snap, "KUBE-SERVICES");
    ck_assert_uint_eq(svc->rules.count, 4);
    ck_assert_ptr_nonnull(kp_rule_ext(rule_at(svc, 1))->match_set);
    ck_assert_str_eq(kp_rule_ext(rule_at(svc, 1))->match_set, "KUBE-CLUSTER-IP");
    /* ACCEPT for cluster IPs: 2 x 3 TCP SYNs + orphan SYN + 1 UDP (not the
     * 2 NodePort SYNs) */
    ck_assert_uint_eq(rule_at(svc, 3)->counters.packets, 8);
    ck_assert_ptr_nonnull(nat_chain(snap, "KUBE-NODE-PORT"));
    ck_assert_ptr_null(nat_chain(snap, "KUBE-NODEPORTS"));
    const struct kp_table *nat = rule_at(svc, 0)->chain->table;
    for (size_t c = 0; c < nat->chains.count; c++)
      ck_assert(strncmp(((const struct kp_chain *)nat->chains.items[c])->name, "KUBE-SVC-", 9));
    kp_snapshot_free(snap);
  }
}
END_TEST

/* Pod 10.180.0.10 exists (first endpoint), 10.180.0.1 does not: an exact
 * address lookup must not match one by the other's text prefix. */
START_TEST(pod_substring_trap) {
  for (size_t b = 0; b < 2; b++) {
    struct kp_snapshot *snap = load_case("pod-substring-trap", backends[b], "iptables-save.txt");
    struct kp_addr ten, one;
    kp_addr_parse(NULL, "10.180.0.10", &ten);
    kp_addr_parse(NULL, "10.180.0.1", &one);
    /* -s in the hairpin rule + DNAT target */
    ck_assert_uint_eq(kp_snapshot_rules_for_addr(snap, &ten)->count, 2);
    ck_assert_uint_eq(kp_snapshot_rules_for_addr(snap, &one)->count, 0);
    kp_snapshot_free(snap);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("fixtures");
  TCase *tc = tcase_create("fixtures");
  tcase_add_test(tc, healthy_kube_services_shape);
  tcase_add_test(tc, healthy_dnat_to_pods);
  tcase_add_test(tc, healthy_hook_counters_after_traffic);
  tcase_add_test(tc, zero_traffic_counters_all_zero);
  tcase_add_test(tc, zero_traffic_nft_list_counters_all_zero);
  tcase_add_test(tc, no_counters_when_dump_has_none);
  tcase_add_test(tc, masquerade_rules_and_mutations);
  tcase_add_test(tc, structural_mutations);
  tcase_add_test(tc, pod_substring_trap);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
