/* The snapshot model: addresses, chain index, finalize (jumps, referrers,
 * address index). */
#include "kp/model.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(addr_parse_and_format) {
  struct kp_addr a;
  char buf[64];
  ck_assert_int_eq(kp_addr_parse(NULL, "10.0.0.0/8", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_IPV4);
  ck_assert_int_eq(a.prefix_len, 8);
  ck_assert(!kp_addr_is_host(&a));
  kp_addr_format(&a, buf, sizeof(buf));
  ck_assert_str_eq(buf, "10.0.0.0/8");

  ck_assert_int_eq(kp_addr_parse(NULL, "!10.180.0.1/32", &a), 0);
  ck_assert(a.negated);
  ck_assert(kp_addr_is_host(&a));
  kp_addr_format(&a, buf, sizeof(buf));
  ck_assert_str_eq(buf, "!10.180.0.1");

  ck_assert_int_eq(kp_addr_parse(NULL, "0.0.0.0/0", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_ANY);
  ck_assert_int_eq(kp_addr_parse(NULL, "::/0", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_ANY);
  ck_assert_int_eq(kp_addr_parse(NULL, "anywhere", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_ANY);

  ck_assert_int_eq(kp_addr_parse(NULL, "fd00:10::5", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_IPV6);
  ck_assert_int_eq(a.prefix_len, 128);

  ck_assert_int_eq(kp_addr_parse(NULL, "192.168.0.0/255.255.255.0", &a), 0);
  ck_assert_int_eq(a.prefix_len, 24);

  struct kp_arena arena;
  kp_arena_init(&arena);
  ck_assert_int_eq(kp_addr_parse(&arena, "k8s-cp/24", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_NAME);
  ck_assert_str_eq(kp_addr_name(&a), "k8s-cp/24");
  ck_assert_int_eq(kp_addr_parse(&arena, "10.0.0.1/33", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_NAME); /* not an address: kept as text */
  kp_arena_free(&arena);
  ck_assert_int_eq(kp_addr_parse(NULL, "", &a), -1);
}
END_TEST

START_TEST(addr_exact_host_not_prefix_of_text) {
  struct kp_addr a, b, net;
  kp_addr_parse(NULL, "10.0.0.1", &a);
  kp_addr_parse(NULL, "10.0.0.10", &b);
  kp_addr_parse(NULL, "10.0.0.1/32", &net);
  ck_assert(!kp_addr_same_host(&a, &b));
  ck_assert(kp_addr_same_host(&a, &net));
}
END_TEST

static struct kp_rule *add_rule(struct kp_snapshot *snap, struct kp_chain *chain,
                                const char *target) {
  struct kp_rule *rule = kp_chain_add_rule(snap, chain);
  ck_assert_ptr_nonnull(rule);
  rule->target_name = target;
  rule->target = kp_target_kind_from_name(target);
  return rule;
}

START_TEST(finalize_links_jumps_and_addresses) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_table *nat = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", true);
  ck_assert_ptr_eq(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", true), nat);
  struct kp_chain *pre = kp_table_add_chain(snap, nat, "PREROUTING");
  struct kp_chain *svcs = kp_table_add_chain(snap, nat, "KUBE-SERVICES");
  struct kp_chain *sep = kp_table_add_chain(snap, nat, "KUBE-SEP-A");
  ck_assert_ptr_eq(kp_table_add_chain(snap, nat, "KUBE-SERVICES"), svcs);

  add_rule(snap, pre, "KUBE-SERVICES");     /* OTHER until finalize sees the chain */
  add_rule(snap, svcs, "KUBE-SVC-MISSING"); /* dangling */
  struct kp_rule *hairpin = add_rule(snap, sep, "KUBE-MARK-MASQ");
  kp_addr_parse(NULL, "10.0.0.1/32", &hairpin->src);
  struct kp_rule *dnat = add_rule(snap, sep, "DNAT");
  kp_addr_parse(NULL, "10.0.0.1", &dnat->nat_addr);
  struct kp_rule *other = add_rule(snap, sep, "DNAT");
  kp_addr_parse(NULL, "10.0.0.10", &other->nat_addr);
  struct kp_rule *negated = add_rule(snap, sep, "RETURN");
  kp_addr_parse(NULL, "!10.0.0.1", &negated->src);

  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  ck_assert_int_eq(((struct kp_rule *)pre->rules.items[0])->target, KP_TARGET_JUMP);
  ck_assert_uint_eq(svcs->referrers.count, 1);
  struct kp_chain *missing = kp_table_chain(nat, "KUBE-SVC-MISSING");
  ck_assert_ptr_nonnull(missing);
  ck_assert(!missing->declared);
  ck_assert_uint_eq(missing->referrers.count, 1);
  /* KUBE-MARK-MASQ was never declared either */
  ck_assert_uint_eq(kp_snapshot_chain_count(snap), 3);
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 6);

  struct kp_addr pod;
  kp_addr_parse(NULL, "10.0.0.1", &pod);
  const struct kp_ptrvec *rules = kp_snapshot_rules_for_addr(snap, &pod);
  ck_assert_uint_eq(rules->count, 2); /* hairpin source + DNAT, not .10, not negated */
  ck_assert_ptr_eq(rules->items[0], hairpin);
  ck_assert_ptr_eq(rules->items[1], dnat);

  /* idempotent */
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  ck_assert_uint_eq(svcs->referrers.count, 1);
  ck_assert_uint_eq(kp_snapshot_rules_for_addr(snap, &pod)->count, 2);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(chain_index_scales_and_sets_count_as_referrers) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_table *t = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_NFT, "kube-proxy", true);
  char name[64];
  for (int i = 0; i < 5000; i++) {
    snprintf(name, sizeof(name), "service-%d", i);
    ck_assert_ptr_nonnull(kp_table_add_chain(snap, t, name));
  }
  ck_assert_ptr_nonnull(kp_table_chain(t, "service-4999"));
  ck_assert_ptr_null(kp_table_chain(t, "service-5000"));
  struct kp_set *map = kp_table_add_set(snap, t, "service-ips");
  struct kp_set_elem *e = kp_set_add_elem(snap, map);
  e->chain = "service-7";
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  ck_assert_uint_eq(kp_table_chain(t, "service-7")->set_referrers, 1);
  ck_assert_uint_eq(kp_table_chain(t, "service-8")->set_referrers, 0);
  kp_snapshot_drop_table(snap, t);
  ck_assert_uint_eq(snap->tables.count, 0);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(counter_format_keeps_dump_text) {
  char buf[32];
  kp_counter_format(2675000, "2675K", buf, sizeof(buf));
  ck_assert_str_eq(buf, "2675K");
  kp_counter_format(42, NULL, buf, sizeof(buf));
  ck_assert_str_eq(buf, "42");
}
END_TEST

int main(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("model");
  tcase_add_test(tc, addr_parse_and_format);
  tcase_add_test(tc, addr_exact_host_not_prefix_of_text);
  tcase_add_test(tc, finalize_links_jumps_and_addresses);
  tcase_add_test(tc, chain_index_scales_and_sets_count_as_referrers);
  tcase_add_test(tc, counter_format_keeps_dump_text);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
