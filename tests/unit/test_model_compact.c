/* The compact records (issue #10 item 1): their sizes, the absent values
 * the accessors give for a rule or chain without an extension, the NAT
 * text formatted on demand, packed strings and reserved chains. */
#include "kp/arena.h"
#include "kp/model.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

START_TEST(record_sizes) {
  /* A live read keeps one kp_rule per rule (110k at 10k services) and one
   * kp_chain per chain (40k) while libiptc's handle is alive: each byte
   * here is 110 KB (40 KB) of the read's peak RSS, which must stay within
   * 1.2x a bare libiptc walk's. Growing them needs a reason (and new
   * figures in docs/performance.md); what few rules have belongs in the
   * extensions, allocated only when set. */
  ck_assert_uint_eq(sizeof(struct kp_addr), 19);
  ck_assert_uint_eq(sizeof(struct kp_rule_counters), 17);
  ck_assert_uint_eq(sizeof(struct kp_rule), 136);
  ck_assert_uint_eq(sizeof(struct kp_rule_ext), 168);
  ck_assert_uint_eq(sizeof(struct kp_chain), 88);
  ck_assert_uint_eq(sizeof(struct kp_chain_ext), 56);
}
END_TEST

static struct kp_rule *new_rule(struct kp_snapshot *snap, struct kp_chain **chain_out) {
  struct kp_table *t = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", true);
  ck_assert_ptr_nonnull(t);
  t->source = "kernel";
  struct kp_chain *chain = kp_table_add_chain(snap, t, "KUBE-SEP-A");
  ck_assert_ptr_nonnull(chain);
  if (chain_out != NULL)
    *chain_out = chain;
  struct kp_rule *rule = kp_chain_add_rule(snap, chain);
  ck_assert_ptr_nonnull(rule);
  return rule;
}

START_TEST(absent_values_without_extension) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_chain *chain;
  struct kp_rule *rule = new_rule(snap, &chain);
  const struct kp_rule_ext *x = kp_rule_ext(rule);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_null(x->counter_texts.packets);
  ck_assert_ptr_null(x->counter_texts.bytes);
  ck_assert_ptr_null(x->in_iface);
  ck_assert_ptr_null(x->out_iface);
  ck_assert_ptr_null(x->src_type);
  ck_assert_ptr_null(x->dst_type);
  ck_assert_ptr_null(x->ctstate);
  ck_assert_ptr_null(x->match_set);
  ck_assert_ptr_null(x->match_set_flags);
  ck_assert_ptr_null(x->nat_text);
  ck_assert_ptr_null(x->reject_with);
  ck_assert_ptr_null(x->vmap_chains);
  ck_assert_uint_eq(x->n_vmap_chains, 0);
  ck_assert_ptr_null(x->vmap_set);
  ck_assert_ptr_null(x->text);
  ck_assert_ptr_null(x->source);
  ck_assert_uint_eq(x->line, 0);
  ck_assert(!x->mark.present && !x->sport.present && !x->mark_target);
  ck_assert(!x->src_type_negated && !x->dst_type_negated && !x->match_set_negated);
  ck_assert_uint_eq(x->xmark_value | x->xmark_mask, 0);
  ck_assert_ptr_null(rule->ext);                    /* reading allocates nothing */
  ck_assert_str_eq(kp_rule_source(rule), "kernel"); /* the table's */
  char buf[64];
  ck_assert_ptr_null(kp_rule_nat_text(rule, buf, sizeof(buf)));
  const struct kp_chain_ext *cx = kp_chain_ext(chain);
  ck_assert_ptr_null(cx->hook);
  ck_assert_ptr_null(cx->policy);
  ck_assert(!cx->policy_counters.present);
  ck_assert_ptr_null(cx->policy_counter_texts.packets);
  ck_assert_ptr_null(chain->ext);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(extension_made_once_and_read_back) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_rule *rule = new_rule(snap, NULL);
  struct kp_rule_ext *x = kp_rule_ext_mut(snap, rule);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_eq(kp_rule_ext_mut(snap, rule), x);
  x->in_iface = "!eth0";
  x->source = "nat.save";
  x->line = 7;
  ck_assert_str_eq(kp_rule_ext(rule)->in_iface, "!eth0");
  ck_assert_str_eq(kp_rule_source(rule), "nat.save"); /* a dump parser's own wins */
  ck_assert_uint_eq(kp_rule_ext(rule)->line, 7);
  kp_snapshot_free(snap);
}
END_TEST

static const char *nat(struct kp_rule *rule, const char *addr, uint16_t lo, uint16_t hi, char *buf,
                       size_t len) {
  memset(&rule->nat_addr, 0, sizeof(rule->nat_addr));
  if (addr != NULL)
    ck_assert_int_eq(kp_addr_parse(NULL, addr, &rule->nat_addr), 0);
  rule->nat_ports = (struct kp_port_range){lo != 0, false, lo, hi};
  return kp_rule_nat_text(rule, buf, len);
}

START_TEST(nat_text_formatted_as_live_sources_wrote_it) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_rule *rule = new_rule(snap, NULL);
  char buf[96];
  rule->target = KP_TARGET_DNAT;
  ck_assert_ptr_null(nat(rule, "10.180.0.1", 80, 80, buf, sizeof(buf))); /* not asked to */
  rule->nat_text_format = true;
  ck_assert_str_eq(nat(rule, "10.180.0.1", 80, 80, buf, sizeof(buf)), "10.180.0.1:80");
  ck_assert_str_eq(nat(rule, "10.180.0.2", 8080, 8081, buf, sizeof(buf)), "10.180.0.2:8080-8081");
  ck_assert_str_eq(nat(rule, "fd00:10:180::1", 8080, 8080, buf, sizeof(buf)),
                   "[fd00:10:180::1]:8080");
  ck_assert_str_eq(nat(rule, "fd00:10:180::1", 0, 0, buf, sizeof(buf)), "fd00:10:180::1");
  ck_assert_str_eq(nat(rule, "10.0.0.5", 0, 0, buf, sizeof(buf)), "10.0.0.5");
  ck_assert_str_eq(nat(rule, NULL, 80, 80, buf, sizeof(buf)), ":80");
  ck_assert_ptr_null(nat(rule, NULL, 0, 0, buf, sizeof(buf)));
  rule->target = KP_TARGET_MASQUERADE; /* --to-ports: no colon */
  ck_assert_str_eq(nat(rule, NULL, 1024, 2048, buf, sizeof(buf)), "1024-2048");
  char small[6]; /* cut, still terminated */
  rule->target = KP_TARGET_DNAT;
  ck_assert_str_eq(nat(rule, "10.180.0.1", 80, 80, small, sizeof(small)), "10.18");
  kp_rule_ext_mut(snap, rule)->nat_text = "192.168.1.1-192.168.1.5:1000-2000";
  ck_assert_str_eq(nat(rule, "192.168.1.1", 1000, 2000, buf, sizeof(buf)),
                   "192.168.1.1-192.168.1.5:1000-2000"); /* kept text wins */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(host_name_kept_in_address_bytes) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_addr a;
  ck_assert_int_eq(kp_addr_parse(&snap->arena, "localhost/8", &a), 0);
  ck_assert_int_eq(a.kind, KP_ADDR_NAME);
  ck_assert_str_eq(kp_addr_name(&a), "localhost/8");
  char buf[64];
  kp_addr_format(&a, buf, sizeof(buf));
  ck_assert_str_eq(buf, "localhost/8");
  ck_assert_int_eq(kp_addr_parse(&snap->arena, "10.0.0.1", &a), 0);
  ck_assert_ptr_null(kp_addr_name(&a)); /* the bytes are an address */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(strings_packed_objects_aligned) {
  struct kp_arena arena;
  kp_arena_init(&arena);
  char *a = kp_arena_strdup(&arena, "KUBE-SEP-222S5JW7HQHT4HZN");
  char *b = kp_arena_strdup(&arena, "app25/svc2556:http");
  ck_assert_ptr_eq(b, a + strlen(a) + 1); /* no padding between strings */
  ck_assert_str_eq(a, "KUBE-SEP-222S5JW7HQHT4HZN");
  void *p = kp_arena_alloc(&arena, 3);
  void *q = kp_arena_alloc(&arena, sizeof(uint64_t));
  ck_assert_uint_eq((uintptr_t)p % 8, 0);
  ck_assert_uint_eq((uintptr_t)q % 8, 0);
  ck_assert_uint_eq(arena.bytes_used, strlen(a) + 1 + strlen(b) + 1 + 8 + 8);
  kp_arena_free(&arena);
}
END_TEST

START_TEST(reserved_chains_do_not_regrow) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_table *t = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", true);
  ck_assert_int_eq(kp_table_reserve_chains(snap, t, 5000), 0);
  void **items = t->chains.items;
  size_t before = snap->arena.bytes_used;
  char name[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(name, sizeof(name), "KUBE-SEP-%05d", i);
    ck_assert_ptr_nonnull(kp_table_add_chain(snap, t, name));
  }
  ck_assert_ptr_eq(t->chains.items, items);
  /* only the chains and their names: neither the vector nor the index grew */
  ck_assert_uint_eq(snap->arena.bytes_used - before,
                    5000 * (sizeof(struct kp_chain) + strlen("KUBE-SEP-00000") + 1));
  ck_assert_ptr_nonnull(kp_table_chain(t, "KUBE-SEP-04999"));
  ck_assert_ptr_null(kp_table_chain(t, "KUBE-SEP-05000"));
  kp_snapshot_free(snap);
}
END_TEST

static Suite *model_compact_suite(void) {
  Suite *s = suite_create("model_compact");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, record_sizes);
  tcase_add_test(tc, absent_values_without_extension);
  tcase_add_test(tc, extension_made_once_and_read_back);
  tcase_add_test(tc, nat_text_formatted_as_live_sources_wrote_it);
  tcase_add_test(tc, host_name_kept_in_address_bytes);
  tcase_add_test(tc, strings_packed_objects_aligned);
  tcase_add_test(tc, reserved_chains_do_not_regrow);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(model_compact_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
