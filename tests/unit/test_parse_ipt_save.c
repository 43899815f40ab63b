/* kp_parse_ipt_save, kp_parse_ipt_rules (-S) and kp_parse_ipt_rule_args on
 * hand-made fixtures and the shared corpus. Expected values were read off
 * the fixture text. */
#include "dump_ipt_internal.h"
#include "dump_parsers.h"
#include "kp/dump.h"
#include "support_dump_input.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIX KP_SOURCE_DIR "/tests/fixtures/parse/"
#define CORPUS KP_SOURCE_DIR "/../shared/corpus/"

typedef int (*parser_fn)(struct kp_snapshot *, const char *, const char *, size_t,
                         struct kp_dump_error *);

static struct kp_snapshot *parse_file(parser_fn fn, const char *path) {
  size_t len;
  char *buf = tdi_slurp(path, &len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err = {0};
  int rc = fn(snap, path, buf, len, &err);
  ck_assert_msg(rc == 0, "%s: %s:%zu %s", path, err.file, err.line, err.message);
  free(buf);
  return snap;
}

static size_t table_rules(const struct kp_table *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->chains.count; i++)
    n += ((struct kp_chain *)t->chains.items[i])->rules.count;
  return n;
}

static struct kp_table *table_named(struct kp_snapshot *snap, const char *name) {
  for (size_t i = 0; i < snap->tables.count; i++) {
    struct kp_table *t = snap->tables.items[i];
    if (strcmp(t->name, name) == 0)
      return t;
  }
  ck_abort_msg("no table %s", name);
  return NULL;
}

static struct kp_rule *rule_of(struct kp_table *t, const char *chain, size_t i) {
  struct kp_chain *c = kp_table_chain(t, chain);
  ck_assert_msg(c != NULL && i < c->rules.count, "no rule %s#%zu", chain, i);
  return c->rules.items[i];
}

START_TEST(save_ip6_nft_fixture) {
  struct kp_snapshot *snap =
      parse_file(kp_parse_ipt_save, FIX "ip6t-save-nft-nat-quoted-comment.txt");
  ck_assert_uint_eq(snap->tables.count, 1);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "nat");
  ck_assert_int_eq(t->family, KP_FAMILY_IPV6);  /* ip6tables-nft-save header */
  ck_assert_int_eq(t->backend, KP_BACKEND_NFT); /* "(nf_tables)" */
  ck_assert_uint_eq(t->chains.count, 7);        /* 7 ":" lines */
  ck_assert_uint_eq(table_rules(t), 5);         /* 5 "-A" lines */
  struct kp_chain *pre = kp_table_chain(t, "PREROUTING");
  ck_assert(pre->builtin);
  ck_assert_uint_eq(pre->policy_counters.packets, 5);
  ck_assert_uint_eq(pre->policy_counters.bytes, 300);
  ck_assert(!kp_table_chain(t, "KUBE-SERVICES")->builtin);
  struct kp_rule *r = rule_of(t, "PREROUTING", 0);
  ck_assert(r->counters.present);
  ck_assert_uint_eq(r->counters.packets, 5);
  ck_assert_uint_eq(r->line, 10);
  ck_assert_ptr_nonnull(strstr(r->text, "-A PREROUTING"));
  r = rule_of(t, "KUBE-MARK-MASQ", 0);
  ck_assert(r->mark_target);
  ck_assert_uint_eq(r->xmark_value, 0x4000);
  ck_assert_uint_eq(r->xmark_mask, 0x4000);
  r = rule_of(t, "KUBE-SEP-V6", 0);
  ck_assert_str_eq(r->comment, "ns1/svc1:p80 \"quoted\" name");
  ck_assert_int_eq(r->src.kind, KP_ADDR_IPV6);
  ck_assert_uint_eq(r->src.prefix_len, 128);
  r = rule_of(t, "KUBE-SEP-V6", 1);
  ck_assert_str_eq(r->comment, "ns1/svc1:p80");
  ck_assert_str_eq(r->nat_text, "[fd00:10::5]:8080");
  struct kp_addr want;
  kp_addr_parse(NULL, "fd00:10::5", &want);
  ck_assert(kp_addr_same_host(&r->nat_addr, &want));
  ck_assert_uint_eq(r->nat_ports.lo, 8080);
  r = rule_of(t, "KUBE-SERVICES", 0);
  ck_assert(r->src.negated);
  ck_assert_uint_eq(r->src.prefix_len, 64);
  ck_assert_uint_eq(r->dport.lo, 80);
  ck_assert_int_eq(r->target, KP_TARGET_OTHER); /* a chain: finalize makes it JUMP */
  ck_assert_str_eq(r->target_name, "KUBE-SEP-V6");
  kp_snapshot_free(snap);
}
END_TEST

/* Independent counts: grep -c '^:' (chains), grep -c -- '-A ' (rules),
 * grep -c '^-X' (deleted chains), split per table by hand. */
START_TEST(save_corpus_counts) {
  FILE *probe = fopen(CORPUS "README.md", "r");
  if (probe == NULL) {
    printf("SKIP: shared corpus not present\n");
    return;
  }
  fclose(probe);
  static const struct {
    const char *path;
    enum kp_backend backend;
    size_t nat_chains, nat_rules, filter_chains, filter_rules;
  } files[] = {
      {"kube-proxy/iptables/derived/overall-mixed-services-nonfacct.legacy.iptables-save-c.txt",
       KP_BACKEND_UNKNOWN, 25, 55, 10, 21},
      {"kube-proxy/iptables/derived/overall-mixed-services-nonfacct.nft.iptables-save-c.txt",
       KP_BACKEND_NFT, 25, 55, 10, 21},
      {"kube-proxy/iptables/derived/sync-repeated-initial-clusterip.nft.iptables-save-c.txt",
       KP_BACKEND_NFT, 13, 18, 10, 15},
      {"kube-proxy/iptables/overall-mixed-services.save", KP_BACKEND_UNKNOWN, 20, 55, 6, 10},
      {"kube-proxy/iptables/sync-repeated-initial-clusterip.save", KP_BACKEND_UNKNOWN, 8, 15, 6, 4},
      /* 11 nat ":" lines, 2 of them removed by -X */
      {"kube-proxy/iptables/sync-repeated-full-resync-with-deletes.restore", KP_BACKEND_UNKNOWN, 9,
       18, 6, 4},
      {"kube-proxy/iptables/sync-repeated-partial-no-endpoints.restore", KP_BACKEND_UNKNOWN, 4, 7,
       6, 5},
  };
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char path[512];
    snprintf(path, sizeof(path), CORPUS "%s", files[i].path);
    struct kp_snapshot *snap = parse_file(kp_parse_ipt_save, path);
    struct kp_table *nat = table_named(snap, "nat"), *filter = table_named(snap, "filter");
    ck_assert_msg(nat->chains.count == files[i].nat_chains, "%s nat %zu", path, nat->chains.count);
    ck_assert_msg(table_rules(nat) == files[i].nat_rules, "%s", path);
    ck_assert_msg(filter->chains.count == files[i].filter_chains, "%s", path);
    ck_assert_msg(table_rules(filter) == files[i].filter_rules, "%s", path);
    ck_assert_int_eq(nat->backend, files[i].backend);
    ck_assert_int_eq(nat->family, KP_FAMILY_IPV4);
    kp_snapshot_free(snap);
  }
  struct kp_snapshot *snap =
      parse_file(kp_parse_ipt_save,
                 CORPUS "kube-proxy/iptables/sync-repeated-full-resync-with-deletes.restore");
  struct kp_table *nat = table_named(snap, "nat");
  ck_assert_ptr_null(kp_table_chain(nat, "KUBE-SEP-AYCN5HPXMIRJNJXU"));
  ck_assert_ptr_null(kp_table_chain(nat, "KUBE-SVC-4SW47YFZTEDKD3PK"));
  struct kp_rule *r = rule_of(nat, "KUBE-SVC-X27LE4BHSL4DOUIK", 1);
  ck_assert_str_eq(r->probability, "0.5000000000");
  r = rule_of(nat, "KUBE-MARK-MASQ", 0); /* --or-mark 0x4000 */
  ck_assert(r->mark_target);
  ck_assert_uint_eq(r->xmark_value, 0x4000);
  ck_assert_uint_eq(r->xmark_mask, 0x4000);
  r = rule_of(nat, "KUBE-POSTROUTING", 1); /* --xor-mark 0x4000 */
  ck_assert_uint_eq(r->xmark_value, 0x4000);
  ck_assert_uint_eq(r->xmark_mask, 0);
  r = rule_of(nat, "KUBE-SEP-DKCFIS26GWF2WLWC", 1);
  ck_assert_str_eq(r->nat_text, "10.0.3.2:80");
  kp_snapshot_free(snap);
}
END_TEST

static struct kp_snapshot *parse_inline(parser_fn fn, const char *text, int *rc,
                                        struct kp_dump_error *err) {
  struct kp_snapshot *snap = kp_snapshot_new();
  memset(err, 0, sizeof(*err));
  *rc = fn(snap, "inline", text, strlen(text), err);
  return snap;
}

START_TEST(save_restore_input_forms) {
  const char *text = "# Generated by iptables-save v1.8.7 (legacy) on x\n"
                     "*nat\n"
                     ":KUBE-SERVICES - [0:0]\n"
                     "-A KUBE-SERVICES -j KUBE-SVC-B\n"
                     "-A KUBE-SVC-A -j KUBE-SEP-A\n" /* chain never declared */
                     "-I KUBE-SERVICES -j KUBE-SVC-A\n"
                     "-I KUBE-SERVICES 2 -m comment --comment middle -j KUBE-SVC-C\n"
                     "COMMIT\n";
  int rc;
  struct kp_dump_error err;
  struct kp_snapshot *snap = parse_inline(kp_parse_ipt_save, text, &rc, &err);
  ck_assert_msg(rc == 0, "%zu %s", err.line, err.message);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_int_eq(t->backend, KP_BACKEND_LEGACY);
  ck_assert(!kp_table_chain(t, "KUBE-SVC-A")->declared);
  ck_assert(kp_table_chain(t, "KUBE-SERVICES")->declared);
  struct kp_chain *svc = kp_table_chain(t, "KUBE-SERVICES");
  ck_assert_uint_eq(svc->rules.count, 3);
  const char *order[] = {"KUBE-SVC-A", "KUBE-SVC-C", "KUBE-SVC-B"};
  for (size_t i = 0; i < 3; i++) {
    struct kp_rule *r = svc->rules.items[i];
    ck_assert_str_eq(r->target_name, order[i]);
    ck_assert_uint_eq(r->index, i);
    ck_assert(!r->counters.present);
  }
  kp_snapshot_free(snap);
}
END_TEST

static void expect_error(parser_fn fn, const char *text, size_t len, size_t line) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err = {0};
  int rc = fn(snap, "bad.txt", text, len, &err);
  ck_assert_msg(rc == -1, "accepted: %.60s", text);
  ck_assert_msg(err.line == line, "line %zu, want %zu (%s)", err.line, line, err.message);
  ck_assert_str_eq(err.file, "bad.txt");
  ck_assert(err.message[0] != '\0');
  kp_snapshot_free(snap);
}
#define ERR(fn, text, line) expect_error(fn, text, strlen(text), line)

START_TEST(save_errors_name_the_line) {
  /* (a lone "-A" line and a file without COMMIT are fragments now:
   * save_fragments_and_cut_files) */
  ERR(kp_parse_ipt_save, "hello\n-A INPUT -j ACCEPT\n", 1);
  ERR(kp_parse_ipt_save, "*filter\n:INPUT ACCEPT [0:0]\n[x:1] -A INPUT -j ACCEPT\nCOMMIT\n", 3);
  ERR(kp_parse_ipt_save,
      "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"x\nCOMMIT\n", 3);
  ERR(kp_parse_ipt_save, "*filter\nhello\nCOMMIT\n", 2);
  ERR(kp_parse_ipt_save, "*filter\n*nat\nCOMMIT\n", 2);
  ERR(kp_parse_ipt_save, "Chain INPUT (policy ACCEPT)\n", 1);
  static const char nul[] = "*filter\n:INPUT ACCEPT [0:0]\n-A IN\0PUT\nCOMMIT\n";
  expect_error(kp_parse_ipt_save, nul, sizeof(nul) - 1, 3);
  ERR(kp_parse_ipt_rules, "-P INPUT ACCEPT\n-A INPUT -s\n", 2);
  ERR(kp_parse_ipt_rules, "-P INPUT ACCEPT\n*filter\n", 2);
  ERR(kp_parse_ipt_rules, "", 0);
}
END_TEST

static const struct kp_note *note_of(const struct kp_snapshot *snap, enum kp_note_kind kind) {
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *n = snap->notes.items[i];
    if (n->kind == kind)
      return n;
  }
  return NULL;
}

START_TEST(save_fragments_and_cut_files) {
  int rc;
  struct kp_dump_error err;
  /* cut before COMMIT: kept, partial, the note names the last line */
  struct kp_snapshot *snap = parse_inline(
      kp_parse_ipt_save, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n", &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  struct kp_table *t = table_named(snap, "filter");
  ck_assert(t->partial);
  ck_assert_uint_eq(table_rules(t), 1);
  ck_assert(kp_table_chain(t, "INPUT")->cut);
  const struct kp_note *n = note_of(snap, KP_NOTE_CUT);
  ck_assert_ptr_nonnull(n);
  ck_assert_uint_eq(n->line, 3);
  ck_assert_str_eq(n->detail, "no COMMIT for *filter");
  kp_snapshot_free(snap);

  /* the last line cut mid-rule: the rules before it stay */
  snap = parse_inline(kp_parse_ipt_save,
                      "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-SVC-A\n"
                      "-A KUBE-SERVICES -m comment --comment \"def",
                      &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  t = table_named(snap, "nat");
  ck_assert(t->partial);
  ck_assert_uint_eq(kp_table_chain(t, "KUBE-SERVICES")->rules.count, 1);
  n = note_of(snap, KP_NOTE_CUT);
  ck_assert_ptr_nonnull(n);
  ck_assert_uint_eq(n->line, 4);
  ck_assert_str_eq(n->detail, "last line cut mid-rule");
  kp_snapshot_free(snap);

  /* headerless [p:b] -A lines: placed where kube-proxy creates the chains */
  snap = parse_inline(kp_parse_ipt_save,
                      "[0:0] -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j "
                      "KUBE-SVC-X\n"
                      "[5:300] -A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "
                      "\"a/b:c has no endpoints\" -j REJECT\n"
                      "[2:120] -A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.0.0.1:80\n"
                      "[9:540] -A OUTPUT -m conntrack --ctstate NEW -j KUBE-SERVICES\n"
                      "[3:180] -A OUTPUT -j KUBE-SERVICES\n"
                      "[1:60] -A CNI-HOSTPORT-DNAT -j ACCEPT2\n",
                      &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  struct kp_table *nat = table_named(snap, "nat"), *filter = table_named(snap, "filter");
  ck_assert(nat->partial && filter->partial);
  ck_assert_uint_eq(kp_table_chain(nat, "KUBE-SERVICES")->rules.count, 1);
  ck_assert_uint_eq(kp_table_chain(filter, "KUBE-SERVICES")->rules.count, 1);
  ck_assert(kp_table_chain(nat, "KUBE-SEP-A")->declared);
  ck_assert_uint_eq(rule_of(nat, "KUBE-SEP-A", 0)->counters.packets, 2);
  ck_assert_uint_eq(rule_of(filter, "OUTPUT", 0)->counters.packets, 9); /* ctstate NEW */
  ck_assert_uint_eq(rule_of(nat, "OUTPUT", 0)->counters.packets, 3);
  ck_assert_ptr_nonnull(note_of(snap, KP_NOTE_FRAGMENT));
  ck_assert_str_eq(note_of(snap, KP_NOTE_TABLE_GUESSED)->table, "nat");
  n = note_of(snap, KP_NOTE_SKIPPED); /* CNI-HOSTPORT-DNAT: no known table */
  ck_assert_ptr_nonnull(n);
  ck_assert_uint_eq(n->line, 6);
  kp_snapshot_free(snap);

  /* grep'd iptables -S (no -P lines) goes the same way */
  snap = parse_inline(kp_parse_ipt_rules,
                      "-N KUBE-MARK-MASQ\n-N KUBE-SERVICES\n"
                      "-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-X\n",
                      &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  nat = table_named(snap, "nat");
  ck_assert(nat->partial);
  ck_assert(kp_table_chain(nat, "KUBE-MARK-MASQ")->declared);
  ck_assert(kp_table_chain(nat, "KUBE-SERVICES")->declared);
  ck_assert_uint_eq(snap->tables.count, 1); /* no filter table */
  kp_snapshot_free(snap);

  /* -S of one chain: -P PREROUTING only */
  snap = parse_inline(kp_parse_ipt_rules, "-P PREROUTING ACCEPT\n-A PREROUTING -j KUBE-SERVICES\n",
                      &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  ck_assert(table_named(snap, "nat")->partial);
  ck_assert_ptr_nonnull(note_of(snap, KP_NOTE_FRAGMENT));
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(rules_S_fixture_and_corpus) {
  struct kp_snapshot *snap = parse_file(kp_parse_ipt_rules, FIX "ipt-rules-S-filter-counters.txt");
  ck_assert_uint_eq(snap->tables.count, 1);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "filter"); /* INPUT FORWARD OUTPUT */
  ck_assert_int_eq(t->backend, KP_BACKEND_UNKNOWN);
  ck_assert_uint_eq(t->chains.count, 5);
  ck_assert_uint_eq(table_rules(t), 5);
  struct kp_chain *fwd = kp_table_chain(t, "FORWARD");
  ck_assert_str_eq(fwd->policy, "DROP");
  ck_assert(kp_table_chain(t, "INPUT")->policy_counters.present);
  ck_assert_uint_eq(kp_table_chain(t, "INPUT")->policy_counters.bytes, 800);
  struct kp_rule *r = rule_of(t, "KUBE-FORWARD", 1);
  ck_assert(r->counters.present);
  ck_assert_uint_eq(r->counters.packets, 7);
  ck_assert_uint_eq(r->counters.bytes, 420);
  ck_assert(r->mark.present && !r->mark.negated);
  ck_assert_uint_eq(r->line, 9);
  r = rule_of(t, "KUBE-SERVICES", 0);
  ck_assert_str_eq(r->comment, "ns6/svc6:p80 has no endpoints");
  ck_assert_str_eq(r->reject_with, "icmp-port-unreachable");
  kp_snapshot_free(snap);

  const char *two = "-P PREROUTING ACCEPT\n-P POSTROUTING ACCEPT\n-A PREROUTING -j KUBE-SERVICES\n"
                    "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
                    "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n";
  int rc;
  struct kp_dump_error err;
  snap = parse_inline(kp_parse_ipt_rules, two, &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  ck_assert_uint_eq(snap->tables.count, 2);
  ck_assert_str_eq(((struct kp_table *)snap->tables.items[0])->name, "nat");
  ck_assert_str_eq(((struct kp_table *)snap->tables.items[1])->name, "filter");
  ck_assert_int_eq(((struct kp_table *)snap->tables.items[1])->backend, KP_BACKEND_NFT);
  kp_snapshot_free(snap);

  FILE *probe = fopen(CORPUS "README.md", "r");
  if (probe == NULL) {
    printf("SKIP: shared corpus not present\n");
    return;
  }
  fclose(probe);
  /* grep -c '^-[PN]' = 26 chains, grep -c '^-A' = 47 rules */
  snap = parse_file(kp_parse_ipt_rules,
                    CORPUS "real-dumps/aews-hands-on-2026-eks-vpc-cni/node_iptables_nat_S.txt");
  t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "nat");
  ck_assert_uint_eq(t->chains.count, 26);
  ck_assert_uint_eq(table_rules(t), 47);
  kp_snapshot_free(snap);
}
END_TEST

static struct kp_rule *args(struct kp_snapshot *snap, const char *text, int want_rc) {
  struct kp_table *t = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_UNKNOWN, "nat", true);
  struct kp_chain *c = kp_table_add_chain(snap, t, "X");
  struct kp_rule *r = kp_chain_add_rule(snap, c);
  struct kp_dump_error err = {0};
  int rc = kp_parse_ipt_rule_args(snap, r, text, strlen(text), &err);
  ck_assert_msg(rc == want_rc, "rc %d for [%s]: %s", rc, text, err.message);
  if (rc != 0)
    ck_assert(err.message[0] != '\0');
  return r;
}

START_TEST(rule_args_forms) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_rule *r = args(snap, "-m mark ! --mark 0x4000/0x4000 -j RETURN", 0);
  ck_assert(r->mark.present && r->mark.negated);
  ck_assert_int_eq(r->target, KP_TARGET_RETURN);
  r = args(snap, "-m connmark --mark 0x80/0x80 -j ACCEPT", 0); /* not a mark match */
  ck_assert(!r->mark.present);
  r = args(snap, "-m addrtype ! --dst-type LOCAL -m addrtype --src-type LOCAL -j X", 0);
  ck_assert_str_eq(r->dst_type, "LOCAL");
  ck_assert(r->dst_type_negated);
  ck_assert_str_eq(r->src_type, "LOCAL");
  ck_assert(!r->src_type_negated);
  r = args(snap, "-s ! 10.0.0.0/8 -d fd00::1/128 -p udp --sport 1000:2000 -j ACCEPT", 0);
  ck_assert(r->src.negated);
  ck_assert_int_eq(r->dst.kind, KP_ADDR_IPV6);
  ck_assert_uint_eq(r->proto, 17);
  ck_assert_uint_eq(r->sport.lo, 1000);
  ck_assert_uint_eq(r->sport.hi, 2000);
  r = args(snap, "-j MARK --and-mark 0xffffbfff", 0);
  ck_assert_uint_eq(r->xmark_value, 0);
  ck_assert_uint_eq(r->xmark_mask, 0x4000);
  r = args(snap, "-j MARK --set-mark 0x4000", 0);
  ck_assert_uint_eq(r->xmark_value, 0x4000);
  ck_assert_uint_eq(r->xmark_mask, 0xffffffffu);
  r = args(snap, "-j CONNMARK --set-xmark 0x80/0x80", 0); /* not MARK */
  ck_assert(!r->mark_target);
  r = args(snap,
           "-m comment --comment \"a \\\"b\\\" c\" -m set --match-set KUBE-CLUSTER-IP "
           "dst,dst -g KUBE-MARK-MASQ",
           0);
  ck_assert_str_eq(r->comment, "a \"b\" c");
  ck_assert_str_eq(r->match_set, "KUBE-CLUSTER-IP");
  ck_assert_str_eq(r->match_set_flags, "dst,dst");
  ck_assert_int_eq(r->target, KP_TARGET_GOTO);
  r = args(snap,
           "-m recent --rcheck --seconds 10800 --reap --name X --mask 255.255.255.255 "
           "--rsource -m nfacct --nfacct-name foo -j MASQUERADE --random-fully",
           0);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);
  ck_assert_ptr_nonnull(strstr(r->text, "nfacct"));
  r = args(snap, "-m conntrack ! --ctstate RELATED,ESTABLISHED -m state --state NEW", 0);
  ck_assert_str_eq(r->ctstate, "!RELATED,ESTABLISHED"); /* first wins */
  r = args(snap, "-p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.1.1:80", 0);
  ck_assert_str_eq(r->nat_text, "10.1.1.1:80");
  ck_assert_int_eq(r->nat_addr.kind, KP_ADDR_IPV4);
  args(snap, "-m comment --comment \"open", -1);
  args(snap, "-j", -1);
  args(snap, "-m mark --mark zz -j X", -1);
  args(snap, "-c 1 x -j X", -1);
  kp_snapshot_free(snap);
}
END_TEST

static void truncation(parser_fn fn, const char *path) {
  size_t ok, failed;
  tdi_every_prefix(path, fn, &ok, &failed);
  ck_assert(failed > 0);
}

START_TEST(truncated_input_every_offset) {
  truncation(kp_parse_ipt_save, FIX "ip6t-save-nft-nat-quoted-comment.txt");
  truncation(kp_parse_ipt_rules, FIX "ipt-rules-S-filter-counters.txt");
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_ipt_save");
  TCase *tc = tcase_create("save");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, save_ip6_nft_fixture);
  tcase_add_test(tc, save_corpus_counts);
  tcase_add_test(tc, save_restore_input_forms);
  tcase_add_test(tc, save_errors_name_the_line);
  tcase_add_test(tc, save_fragments_and_cut_files);
  tcase_add_test(tc, rules_S_fixture_and_corpus);
  tcase_add_test(tc, rule_args_forms);
  tcase_add_test(tc, truncated_input_every_offset);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
