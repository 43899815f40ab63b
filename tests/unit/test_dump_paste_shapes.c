/* More shapes of pasted dumps, left by the first review on real pastes
 * (tests/unit/test_dump_paste.c, test_dump_gaps.c): a header-less nat
 * fragment with the old IPVS proxy's nat KUBE-FIREWALL. Sources of the
 * fixtures in tests/fixtures/pasted/README.md; every verdict expected here
 * was worked out by hand from the text. */
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASTED KP_SOURCE_DIR "/tests/fixtures/pasted/"

/* The table of this name the snapshot holds (any family, backend), or NULL. */
static const struct kp_table *table_named(const struct kp_snapshot *snap, const char *name) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    if (strcmp(t->name, name) == 0)
      return t;
  }
  return NULL;
}

/* The target of the chain's only rule, or NULL when it has not one rule. */
static const char *only_target(const struct kp_table *t, const char *chain) {
  const struct kp_chain *c = t != NULL ? kp_table_chain(t, chain) : NULL;
  if (c == NULL || c->rules.count != 1)
    return NULL;
  const struct kp_rule *r = c->rules.items[0];
  return r->target_name;
}

START_TEST(nat_kube_firewall_in_a_headerless_fragment) {
  /* kubeadm#1461 (willzhang): `iptables-save -c` of an IPVS-mode node,
   * the excerpt starting inside *nat (OUTPUT, POSTROUTING, DOCKER, then
   * kube-proxy's chains in name order), cut in KUBE-POSTROUTING. Line 15
   * `[0:0] -A KUBE-FIREWALL -j KUBE-MARK-DROP` is the old IPVS proxy's
   * nat KUBE-FIREWALL (LoadBalancer source ranges), not kubelet's filter
   * one: KUBE-MARK-DROP exists in nat only. Was: placed in filter, so the
   * report named a filter table the paste does not show ("filter
   * KUBE-FORWARD" among the missing chains). */
  char *text = tri_head(PASTED "kubeadm-1461-save-c-nat-fragment-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("kubeadm-1461.txt", text, &snap);
  const struct kp_table *nat = table_named(snap, "nat");
  ck_assert_ptr_nonnull(nat);
  ck_assert(nat->partial);
  ck_assert_ptr_nonnull(only_target(nat, "KUBE-FIREWALL"));
  ck_assert_str_eq(only_target(nat, "KUBE-FIREWALL"), "KUBE-MARK-DROP");
  ck_assert_str_eq(only_target(nat, "KUBE-LOAD-BALANCER"), "KUBE-MARK-MASQ");
  ck_assert_ptr_null(table_named(snap, "filter"));
  /* what it shows is judged, the rest is INFO: the mode from the IPVS
   * chains, the jumps to KUBE-SERVICES and KUBE-POSTROUTING */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_OK);
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_OK));
  for (size_t i = 0; i < rep.n_results; i++)
    ck_assert_msg(strstr(rep.results[i].message, "filter KUBE-") == NULL, "%s",
                  rep.results[i].message);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

/* Header-less lines of the chains kube-proxy and kubelet make in filter:
 * a target only nat has moves them to nat, anything else stays. */
START_TEST(filter_chains_stay_unless_the_target_is_nat_only) {
  static const struct {
    const char *line, *table;
  } rows[] = {
      {"-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked "
       "packets\" -m mark --mark 0x8000/0x8000 -j DROP\n",
       "filter"},
      {"-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming "
       "localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n",
       "filter"},
      {"-A KUBE-FIREWALL -j KUBE-MARK-DROP\n", "nat"},
      {"-A INPUT -p tcp -j SNAT --to-source 10.0.0.1\n", "nat"},
      {"-A INPUT -j KUBE-FIREWALL\n", "filter"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    ck_assert_int_eq(
        kp_dump_parse_buffer(snap, "lines.txt", rows[i].line, strlen(rows[i].line), &err), 0);
    ck_assert_uint_eq(snap->tables.count, 1);
    const struct kp_table *t = snap->tables.items[0];
    ck_assert_msg(strcmp(t->name, rows[i].table) == 0, "row %zu: in %s, want %s", i, t->name,
                  rows[i].table);
    kp_snapshot_free(snap);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("dump_paste_shapes");
  TCase *tc = tcase_create("shapes");
  tcase_add_test(tc, nat_kube_firewall_in_a_headerless_fragment);
  tcase_add_test(tc, filter_chains_stay_unless_the_target_is_nat_only);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
