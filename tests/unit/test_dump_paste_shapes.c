/* More shapes of pasted dumps, left by the first review on real pastes
 * (tests/unit/test_dump_paste.c, test_dump_gaps.c): a header-less nat
 * fragment with the old IPVS proxy's nat KUBE-FIREWALL, ipvsadm -L
 * without its header lines and with port names, kernel-console timestamps
 * on every line, save and -S lines hard-wrapped by a terminal. Sources of the
 * fixtures in tests/fixtures/pasted/README.md; every verdict expected here
 * was worked out by hand from the text. */
#include "dump_parsers.h"
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASTED KP_SOURCE_DIR "/tests/fixtures/pasted/"
#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

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

/* The virtual server shown as "PROTO ADDR:PORT", or NULL past the end. */
static const struct kp_ipvs_service *service_at(const struct kp_snapshot *snap, size_t i) {
  return i < snap->ipvs.count ? snap->ipvs.items[i] : NULL;
}

START_TEST(ipvsadm_listing_without_its_header) {
  /* kube-router#415 (tonidas, turn 8): an excerpt of `ipvsadm -L` (no -n:
   * ports as names) from inside the listing, after the fence: 10 virtual
   * servers, the last cut in its first real server ("  -> 1"). Was: exit
   * 3, not a recognised dump. By hand: http 80, postgresql 5432, https
   * 443, http-alt 8080; bacula-fd (9102) is not a name the parser knows:
   * that virtual server and its real server are not read, and noted. */
  const char *f = PASTED "kube-router-415-ipvsadm-L-no-header-cut.txt";
  char *text = tri_head(f, 0);
  ck_assert_int_eq(kp_dump_detect(text, strlen(text)), KP_DUMP_IPVS);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "415.txt", text, strlen(text), &err), 0);
  ck_assert_uint_eq(snap->ipvs.count, 9);
  static const struct {
    const char *addr;
    uint16_t port;
    size_t reals;
    uint16_t real_port;
  } want[] = {
      {"100.64.134.163", 80, 3, 3000}, {"100.64.134.163", 5432, 3, 5432},
      {"100.64.146.70", 80, 3, 3000},  {"100.64.151.195", 443, 1, 5601},
      {"100.65.17.84", 80, 1, 8080},   {"100.65.17.84", 443, 1, 8080},
      {"100.65.59.70", 80, 2, 3000},   {"100.65.82.182", 8080, 2, 8080},
      {"100.65.95.158", 443, 0, 0},
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    const struct kp_ipvs_service *svc = service_at(snap, i);
    char addr[64];
    kp_addr_format(&svc->addr, addr, sizeof(addr));
    ck_assert_str_eq(svc->proto, "TCP");
    ck_assert_msg(strcmp(addr, want[i].addr) == 0 && svc->port == want[i].port,
                  "service %zu: %s:%u", i, addr, svc->port);
    ck_assert_str_eq(svc->scheduler, "rr");
    ck_assert_uint_eq(svc->reals.count, want[i].reals);
    if (want[i].reals > 0) {
      const struct kp_ipvs_real *real = svc->reals.items[0];
      ck_assert_uint_eq(real->port, want[i].real_port);
      ck_assert_str_eq(real->forward, "Masq");
    }
    ck_assert(svc->cut == (i + 1 == sizeof(want) / sizeof(want[0]))); /* the paste ends there */
  }
  kp_snapshot_free(snap);

  /* Checks: the last one's real servers are past the cut (INFO); a pod
   * under the virtual server not read is not judged (was it read, it would
   * be OK; it is no WARN), one under a read one is found. */
  struct kp_report rep = tri_run("415.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_INFO);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, NULL);
  static const char *const pods[] = {"100.99.76.7", "100.97.16.6", NULL};
  snap = kp_snapshot_new();
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "415.txt", text, strlen(text), &err), 0);
  rep = tsb_check(snap, pods);
  const struct kp_result *ok = tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_OK);
  ck_assert_ptr_nonnull(ok);
  ck_assert_ptr_nonnull(strstr(ok->message, "100.97.16.6"));
  const struct kp_result *info = tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_INFO);
  ck_assert_ptr_nonnull(info);
  ck_assert_ptr_nonnull(strstr(info->message, "100.99.76.7"));
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_WARN));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

/* The same paste's first 16 lines, ending with a newline after the
 * bacula-fd virtual server's real server: no virtual server is cut, but
 * the listing is a part (no header: those before line 2 are not shown)
 * with a virtual server not read. A pod IP in none shown is not judged
 * (was: WARN "not a real server of any IPVS virtual server"). */
START_TEST(ipvsadm_part_without_header_does_not_judge_a_missing_pod) {
  char *text = tri_head(PASTED "kube-router-415-ipvsadm-L-no-header-cut.txt", 16);
  static const char *const pods[] = {"100.99.76.7", NULL};
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "415.txt", text, strlen(text), &err), 0);
  ck_assert_uint_eq(snap->ipvs.count, 4);
  for (size_t i = 0; i < snap->ipvs.count; i++)
    ck_assert(!service_at(snap, i)->cut);
  struct kp_report rep = tsb_check(snap, pods);
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_WARN));
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_POD_RULES, KP_SEV_INFO));
  kp_report_free(&rep);
  kp_snapshot_free(snap);
  free(text);
}
END_TEST

/* Only lines that cannot be anything else start a header-less listing. */
START_TEST(what_is_not_an_ipvsadm_body_line) {
  static const char *const yes[] = {
      "TCP  10.96.0.1:443 rr",
      "UDP  10.96.0.10:53 rr persistent 10800",
      "TCP  [fd00::1]:443 wrr",
      "  -> 10.244.0.5:8443              Masq    1      0          0",
      "  -> 100.97.142.17:http-alt       Masq    1      0          0",
  };
  static const char *const no[] = {
      "TCP  10.96.0.1:443 is what it listens on",
      "TCP connection to 10.96.0.1:443 rr",
      "  -> 10.244.0.5:8443 is a pod",
      "-> 10.244.0.5:8443 Masq 1 0",
      "UDP  dns.example:53 rr",
  };
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    ck_assert_msg(kp_ipvs_body_line(yes[i], strlen(yes[i])), "%s", yes[i]);
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    ck_assert_msg(!kp_ipvs_body_line(no[i], strlen(no[i])), "%s", no[i]);
  /* one virtual server line alone is not enough to call a file ipvsadm */
  static const char one[] = "TCP  10.96.0.1:443 rr\nsome prose\n";
  ck_assert_int_ne(kp_dump_detect(one, strlen(one)), KP_DUMP_IPVS);
}
END_TEST

START_TEST(console_timestamped_listing) {
  /* kubernetes#83063 (omeryounus, 2020-09-09): `iptables -L` of filter
   * INPUT and KUBE-FIREWALL out of an instance's serial console log, each
   * line "[ 14.414142] : ", between prose and a line of dashes. Was: exit
   * 3. By hand: INPUT -> KUBE-FIREWALL, KUBE-FIREWALL's two DROPs (the
   * mark one and the localnet one); the chains are lines 6 and 10. */
  char *text = tri_head(PASTED "k8s-83063-console-stamped-L.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("83063.txt", text, &snap);
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 3);
  const struct kp_table *filter = table_named(snap, "filter");
  ck_assert_str_eq(only_target(filter, "INPUT"), "KUBE-FIREWALL");
  const struct kp_chain *fw = kp_table_chain(filter, "KUBE-FIREWALL");
  ck_assert_uint_eq(fw->rules.count, 2);
  for (size_t i = 0; i < 2; i++)
    ck_assert_str_eq(((const struct kp_rule *)fw->rules.items[i])->target_name, "DROP");
  ck_assert_int_eq(fw->dump_references, 2);
  for (size_t i = 0; i < snap->notes.count; i++) /* the file's own line numbers */
    if (((const struct kp_note *)snap->notes.items[i])->kind == KP_NOTE_FRAGMENT)
      ck_assert_uint_eq(((const struct kp_note *)snap->notes.items[i])->line, 6);
  tri_worst_is(&rep, KP_SEV_INFO); /* no kube-proxy chain in it: nothing judged */
  tri_done(&rep, snap, text);
}
END_TEST

/* The healthy node's dumps with dmesg's "[%5u.%06u] " on every line read
 * as without them (tests/fixtures/README.md: save 59 rules, nat -L 43);
 * the save's own "[0:0]" counters stay. */
static char *stamped(const char *file) {
  char *text = tri_head(file, 0);
  size_t cap = strlen(text) * 2 + 64, o = 0, k = 0;
  char *out = malloc(cap);
  ck_assert_ptr_nonnull(out);
  for (char *line = text, *nl; *line != '\0'; line = nl + 1, k++) {
    nl = strchr(line, '\n');
    ck_assert_ptr_nonnull(nl);
    o += (size_t)snprintf(out + o, cap - o, "[%5zu.%06zu] %.*s\n", 100 + k, k * 37,
                          (int)(nl - line), line);
  }
  free(text);
  return out;
}

START_TEST(console_timestamps_on_a_whole_dump) {
  static const struct {
    const char *file;
    size_t rules;
  } rows[] = {{HEALTHY "iptables-save-c.txt", 59}, {HEALTHY "nat-L-n-v.txt", 43}};
  for (size_t i = 0; i < 2; i++) {
    char *text = stamped(rows[i].file);
    struct kp_snapshot *snap;
    struct kp_report rep = tri_run("stamped.txt", text, &snap);
    ck_assert_uint_eq(kp_snapshot_rule_count(snap), rows[i].rules);
    ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_OK);
    ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
    ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_OK);
    size_t counted = 0;
    for (size_t t = 0; t < snap->tables.count; t++) {
      const struct kp_table *table = snap->tables.items[t];
      for (size_t c = 0; c < table->chains.count; c++) {
        const struct kp_chain *chain = table->chains.items[c];
        for (size_t r = 0; r < chain->rules.count; r++)
          counted += kp_rule_counters(chain->rules.items[r]).present;
      }
    }
    ck_assert_uint_eq(counted, rows[i].rules); /* both dumps carry counters */
    tri_done(&rep, snap, text);
  }
}
END_TEST

/* The file with every line longer than width cut into lines of width
 * characters (a terminal's hard wrap), each ending in eol ("\n", or "\r\n"
 * of a copy from a Windows terminal), malloc'd. */
static char *hard_wrapped(const char *file, size_t width, const char *eol) {
  char *text = tri_head(file, 0);
  size_t cap = strlen(text) * 3 + 16, o = 0;
  char *out = malloc(cap);
  ck_assert_ptr_nonnull(out);
  for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    ck_assert_ptr_nonnull(nl);
    for (size_t n = (size_t)(nl - line); n > width; n -= width, line += width)
      o += (size_t)snprintf(out + o, cap - o, "%.*s%s", (int)width, line, eol);
    o += (size_t)snprintf(out + o, cap - o, "%.*s%s", (int)(nl - line), line, eol);
  }
  free(text);
  return out;
}

static struct kp_snapshot *parsed(const char *name, const char *text) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_msg(kp_dump_parse_buffer(snap, name, text, strlen(text), &err) == 0, "%s:%zu: %s", name,
                err.line, err.message);
  return snap;
}

/* Same tables, chains and, rule by rule, the same target and comment. */
static void same_rules(const struct kp_snapshot *a, const struct kp_snapshot *b, size_t width) {
  ck_assert_uint_eq(a->tables.count, b->tables.count);
  for (size_t t = 0; t < a->tables.count; t++) {
    const struct kp_table *ta = a->tables.items[t], *tb = b->tables.items[t];
    ck_assert_uint_eq(ta->chains.count, tb->chains.count);
    for (size_t c = 0; c < ta->chains.count; c++) {
      const struct kp_chain *ca = ta->chains.items[c], *cb = tb->chains.items[c];
      ck_assert_str_eq(ca->name, cb->name);
      ck_assert_msg(ca->rules.count == cb->rules.count, "width %zu: %s %zu rules, want %zu", width,
                    ca->name, cb->rules.count, ca->rules.count);
      for (size_t r = 0; r < ca->rules.count; r++) {
        const struct kp_rule *ra = ca->rules.items[r], *rb = cb->rules.items[r];
        ck_assert_str_eq(ra->target_name != NULL ? ra->target_name : "",
                         rb->target_name != NULL ? rb->target_name : "");
        ck_assert_str_eq(ra->comment != NULL ? ra->comment : "",
                         rb->comment != NULL ? rb->comment : "");
      }
    }
  }
}

START_TEST(save_and_S_lines_wrapped_by_a_terminal) {
  /* Each healthy dump hard-wrapped at every width from 60 to 160: was
   * exit 3 ("not an iptables-save line", "unterminated quote") from the
   * first continuation line on. Now the same rules, targets, comments. A
   * continuation may start with ':' ("...\"web/frontend" / ":http\" -j"),
   * "> " ("-" / "> 10.180.0.4:53\"") or read like prose inside a comment. */
  static const char *const files[] = {HEALTHY "iptables-save.txt", HEALTHY "iptables-save-c.txt",
                                      HEALTHY "nat-S.txt"};
  for (size_t f = 0; f < 3; f++) {
    char *whole = tri_head(files[f], 0);
    struct kp_snapshot *want = parsed("whole.txt", whole);
    for (size_t width = 60; width <= 160; width++) {
      for (int crlf = 0; crlf <= 1; crlf++) { /* a CR stays out of the joined rule */
        char *text = hard_wrapped(files[f], width, crlf ? "\r\n" : "\n");
        struct kp_snapshot *got = parsed("wrapped.txt", text);
        same_rules(want, got, width);
        kp_snapshot_free(got);
        free(text);
      }
    }
    kp_snapshot_free(want);
    free(whole);
  }
}
END_TEST

START_TEST(prose_after_a_full_width_rule_is_not_joined) {
  /* the last rule exactly as wide as the widest line, then a line of prose:
   * the prose is text after the dump, not the rule's continuation */
  static const char text[] =
      "*nat\n"
      ":KUBE-MARK-MASQ - [0:0]\n"
      "-A KUBE-MARK-MASQ -m comment --comment \"mark for masquerade, long enough\" -j MARK "
      "--set-xmark 0x4000/0x4000\n"
      "and this is what the node showed after that\n";
  struct kp_snapshot *snap = parsed("prose.txt", text);
  const struct kp_chain *c = kp_table_chain(table_named(snap, "nat"), "KUBE-MARK-MASQ");
  ck_assert_uint_eq(c->rules.count, 1);
  ck_assert_str_eq(((const struct kp_rule *)c->rules.items[0])->comment,
                   "mark for masquerade, long enough");
  kp_snapshot_free(snap);
  /* a rule line of the widest width followed by a save line: not joined */
  static const char two[] =
      "-A KUBE-MARK-MASQ -m comment --comment \"0123456789012345678901234567890\" -j RETURN\n"
      "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n";
  snap = parsed("two.txt", two);
  ck_assert_uint_eq(kp_table_chain(table_named(snap, "nat"), "KUBE-MARK-MASQ")->rules.count, 2);
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dump_paste_shapes");
  TCase *tc = tcase_create("shapes");
  tcase_add_test(tc, nat_kube_firewall_in_a_headerless_fragment);
  tcase_add_test(tc, filter_chains_stay_unless_the_target_is_nat_only);
  tcase_add_test(tc, ipvsadm_listing_without_its_header);
  tcase_add_test(tc, ipvsadm_part_without_header_does_not_judge_a_missing_pod);
  tcase_add_test(tc, what_is_not_an_ipvsadm_body_line);
  tcase_add_test(tc, console_timestamped_listing);
  tcase_add_test(tc, console_timestamps_on_a_whole_dump);
  tcase_add_test(tc, save_and_S_lines_wrapped_by_a_terminal);
  tcase_add_test(tc, prose_after_a_full_width_rule_is_not_joined);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
