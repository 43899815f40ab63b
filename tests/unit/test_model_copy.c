/* kp_snapshot_copy_table: a deep copy that outlives its source (run under
 * ASan by `make asan`, which sees any pointer left into the freed arena). */
#include "kp/dump.h"
#include "kp/model.h"
#include "support_dump_input.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define FIX KP_SOURCE_DIR "/tests/fixtures/parse/"

static struct kp_snapshot *parsed(const char *path) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  ck_assert_msg(kp_dump_parse_file(snap, path, &err) == 0, "%s", err.message);
  return snap;
}

static bool only_prerouting(const struct kp_table *table, const struct kp_chain *chain) {
  (void)table;
  return strcmp(chain->name, "PREROUTING") == 0;
}

START_TEST(copy_outlives_its_source) {
  struct kp_snapshot *src = parsed(FIX "ipt-list-nat-then-filter-suffixes-empty-target.txt");
  size_t rules = kp_snapshot_rule_count(src), chains = kp_snapshot_chain_count(src);
  ck_assert_uint_gt(rules, 0);
  struct kp_snapshot *dst = kp_snapshot_new();
  for (size_t t = 0; t < src->tables.count; t++)
    ck_assert_int_eq(kp_snapshot_copy_table(dst, src->tables.items[t], NULL), 0);
  kp_snapshot_free(src); /* nothing in dst may point into it */
  ck_assert_uint_eq(kp_snapshot_rule_count(dst), rules);
  ck_assert_uint_eq(kp_snapshot_chain_count(dst), chains);
  ck_assert_int_eq(kp_snapshot_finalize(dst), 0);
  /* line 3 of the fixture: "2675K  167M KUBE-SERVICES ... kubernetes service portals" */
  const struct kp_chain *pre =
      kp_snapshot_chain(dst, KP_FAMILY_IPV4, KP_BACKEND_COUNT, "nat", "PREROUTING");
  ck_assert_ptr_nonnull(pre);
  const struct kp_rule *r = pre->rules.items[0];
  ck_assert_str_eq(kp_rule_ext(r)->counter_texts.packets, "2675K");
  ck_assert_str_eq(kp_rule_ext(r)->counter_texts.bytes, "167M");
  ck_assert_str_eq(r->comment, "kubernetes service portals");
  ck_assert_str_eq(r->target_name, "KUBE-SERVICES");
  ck_assert_str_eq(kp_chain_ext(pre)->policy, "ACCEPT");
  ck_assert_ptr_eq(r->chain, pre);
  kp_snapshot_free(dst);
}
END_TEST

START_TEST(counters_kept_only_where_asked) {
  struct kp_snapshot *src = parsed(FIX "ipt-list-nat-then-filter-suffixes-empty-target.txt");
  struct kp_snapshot *dst = kp_snapshot_new();
  for (size_t t = 0; t < src->tables.count; t++)
    ck_assert_int_eq(kp_snapshot_copy_table(dst, src->tables.items[t], only_prerouting), 0);
  kp_snapshot_free(src);
  size_t with = 0, without = 0;
  for (size_t t = 0; t < dst->tables.count; t++) {
    const struct kp_table *table = dst->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      const struct kp_chain *chain = table->chains.items[c];
      for (size_t i = 0; i < chain->rules.count; i++) {
        const struct kp_rule *r = chain->rules.items[i];
        if (strcmp(chain->name, "PREROUTING") == 0)
          ck_assert(r->counters.present), with++;
        else
          ck_assert(!r->counters.present), without++;
      }
    }
  }
  ck_assert_uint_gt(with, 0);
  ck_assert_uint_gt(without, 0);
  kp_snapshot_free(dst);
}
END_TEST

int main(void) {
  Suite *s = suite_create("model_copy");
  TCase *tc = tcase_create("copy");
  tcase_add_test(tc, copy_outlives_its_source);
  tcase_add_test(tc, counters_kept_only_where_asked);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
