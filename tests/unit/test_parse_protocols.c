/* The protocol names the dump parsers accept, now through the shared table
 * (kp/names.h): iptables' spellings (any case, "all", up to three digits)
 * and nft's (lower case, no "all"/"ipip"/"igmp"/"mh"), exactly as the two
 * parsers' own tables accepted them before. */
#include "kp/dump.h"
#include "kp/names.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static const struct kp_rule *only_rule(struct kp_snapshot *snap, const char *dump) {
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_buffer(snap, "p", dump, strlen(dump), &err) == 0, "%s: %s", dump,
                err.message);
  const struct kp_table *t = snap->tables.items[0];
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (chain->rules.count > 0)
      return chain->rules.items[0];
  }
  ck_abort_msg("no rule in %s", dump);
  return NULL;
}

START_TEST(iptables_spellings) {
  static const struct {
    const char *proto;
    bool present;
    int number;
  } cases[] = {{"tcp", true, 6},  {"IPIP", true, 4},  {"Udp", true, 17},  {"all", false, 0},
               {"0", false, 0},   {"132", true, 132}, {"0006", false, 0}, {"256", false, 0},
               {"mh", true, 135}, {"bogus", false, 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char dump[256];
    snprintf(dump, sizeof(dump), "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p %s -j ACCEPT\nCOMMIT\n",
             cases[i].proto);
    struct kp_snapshot *snap = kp_snapshot_new();
    const struct kp_rule *r = only_rule(snap, dump);
    ck_assert_msg(r->proto_present == cases[i].present, "-p %s", cases[i].proto);
    if (cases[i].present)
      ck_assert_int_eq(r->proto, cases[i].number);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(nft_spellings) {
  static const struct {
    const char *proto;
    bool present;
    int number;
  } cases[] = {{"tcp", true, 6},   {"ipv6-icmp", true, 58}, {"17", true, 17},
               {"TCP", false, 0},  {"all", false, 0},       {"ipip", false, 0},
               {"igmp", false, 0}, {"mh", false, 0},        {"300", false, 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char dump[256];
    snprintf(dump, sizeof(dump), "table ip t {\n chain c {\n  meta l4proto %s accept\n }\n}\n",
             cases[i].proto);
    struct kp_snapshot *snap = kp_snapshot_new();
    const struct kp_rule *r = only_rule(snap, dump);
    ck_assert_msg(r->proto_present == cases[i].present, "meta l4proto %s", cases[i].proto);
    if (cases[i].present)
      ck_assert_int_eq(r->proto, cases[i].number);
    kp_snapshot_free(snap);
  }
  ck_assert_int_eq(kp_proto_from_nft_name("tcp", 3), 6);
  ck_assert_int_eq(kp_proto_from_name("ALL", 3), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_protocols");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, iptables_spellings);
  tcase_add_test(tc, nft_spellings);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
