/* kp_parse_ipt_list: iptables -L [-n] [-v] [-x] text on hand-made fixtures
 * and the shared corpus. Expected values were read off the fixture text. */
#include "dump_parsers.h"
#include "kp/dump.h"
#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIX KP_SOURCE_DIR "/tests/fixtures/parse/"
#define CORPUS KP_SOURCE_DIR "/../shared/corpus/"

static struct kp_snapshot *parse_file(const char *path, int expect_rc) {
  size_t len;
  char *buf = tdi_slurp(path, &len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err = {0};
  int rc = kp_parse_ipt_list(snap, path, buf, len, &err);
  ck_assert_msg(rc == expect_rc, "%s: rc %d: %s:%zu %s", path, rc, err.file, err.line, err.message);
  free(buf);
  return snap;
}

static struct kp_snapshot *parse_text(const char *text, int *rc, struct kp_dump_error *err) {
  struct kp_snapshot *snap = kp_snapshot_new();
  memset(err, 0, sizeof(*err));
  *rc = kp_parse_ipt_list(snap, "inline", text, strlen(text), err);
  return snap;
}

static struct kp_rule *rule_at(struct kp_snapshot *snap, const char *table, const char *chain,
                               size_t i) {
  struct kp_chain *c = kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_COUNT, table, chain);
  ck_assert_msg(c != NULL, "no chain %s/%s", table, chain);
  ck_assert_msg(i < c->rules.count, "%s/%s has %zu rules", table, chain, c->rules.count);
  return c->rules.items[i];
}

static size_t table_rules(const struct kp_table *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->chains.count; i++)
    n += ((struct kp_chain *)t->chains.items[i])->rules.count;
  return n;
}

START_TEST(concatenated_listings_and_fields) {
  struct kp_snapshot *snap =
      parse_file(FIX "ipt-list-nat-then-filter-suffixes-empty-target.txt", 0);
  /* Two listings: the second "Chain INPUT" starts the filter one. Counted by
   * hand: nat 8 chains / 11 rules, filter 5 chains / 5 rules. */
  ck_assert_uint_eq(snap->tables.count, 2);
  struct kp_table *nat = snap->tables.items[0], *filter = snap->tables.items[1];
  ck_assert_str_eq(nat->name, "nat");
  ck_assert_str_eq(filter->name, "filter");
  ck_assert_uint_eq(nat->chains.count, 8);
  ck_assert_uint_eq(table_rules(nat), 11);
  ck_assert_uint_eq(filter->chains.count, 5);
  ck_assert_uint_eq(table_rules(filter), 5);
  /* "# Warning: iptables-legacy tables present" => listed through nft. */
  ck_assert_int_eq(nat->backend, KP_BACKEND_NFT);
  ck_assert_int_eq(nat->family, KP_FAMILY_IPV4);

  struct kp_chain *pre = kp_table_chain(nat, "PREROUTING");
  ck_assert(pre->builtin);
  ck_assert_str_eq(kp_chain_ext(pre)->policy, "ACCEPT");
  ck_assert_uint_eq(kp_chain_ext(pre)->policy_counters.packets, 2675000);
  ck_assert_str_eq(kp_chain_ext(pre)->policy_counter_texts.packets, "2675K");
  ck_assert_uint_eq(kp_chain_ext(pre)->policy_counters.bytes, 167000000);
  struct kp_rule *r = rule_at(snap, "nat", "PREROUTING", 0);
  ck_assert(r->counters.present);
  ck_assert_uint_eq(r->counters.packets, 2675000);
  ck_assert_str_eq(kp_rule_ext(r)->counter_texts.packets, "2675K");
  ck_assert_str_eq(kp_rule_ext(r)->counter_texts.bytes, "167M");
  ck_assert_str_eq(r->target_name, "KUBE-SERVICES");
  ck_assert_str_eq(r->comment, "kubernetes service portals");
  ck_assert(!r->proto_present); /* "all" */
  ck_assert_uint_eq(kp_rule_ext(r)->line, 3);
  ck_assert_str_eq(kp_rule_source(r), FIX "ipt-list-nat-then-filter-suffixes-empty-target.txt");
  ck_assert_ptr_nonnull(strstr(kp_rule_ext(r)->text, "KUBE-SERVICES  all"));
  r = rule_at(snap, "nat", "OUTPUT", 0);
  ck_assert_uint_eq(r->counters.packets, 18);
  ck_assert_ptr_null(kp_rule_ext(r)->counter_texts.packets); /* exact */

  /* Empty target column. */
  r = rule_at(snap, "nat", "KUBE-FW-ABC", 1);
  ck_assert_int_eq(r->target, KP_TARGET_NONE);
  ck_assert_ptr_null(r->target_name);
  ck_assert_uint_eq(r->counters.packets, 3);
  ck_assert_uint_eq(r->counters.bytes, 180);
  ck_assert_str_eq(r->comment,
                   "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL");
  r = rule_at(snap, "nat", "KUBE-FW-ABC", 0);
  ck_assert_str_eq(r->target_name, "KUBE-EXT-ABC");
  ck_assert_int_eq(r->src.kind, KP_ADDR_IPV4);
  ck_assert_uint_eq(r->src.prefix_len, 25);
  ck_assert_int_eq(kp_table_chain(nat, "KUBE-FW-ABC")->dump_references, 1);

  /* Marks: match negated, MARK xor 0x4000 = xmark 0x4000/0. */
  r = rule_at(snap, "nat", "KUBE-POSTROUTING", 0);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  r = rule_at(snap, "nat", "KUBE-POSTROUTING", 1);
  ck_assert_int_eq(r->target, KP_TARGET_MARK);
  ck_assert(kp_rule_ext(r)->mark_target);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0);
  r = rule_at(snap, "nat", "KUBE-POSTROUTING", 2);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);

  /* DNAT destination, numeric prot 6. */
  r = rule_at(snap, "nat", "KUBE-SEP-X", 0);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  ck_assert(r->proto_present);
  ck_assert_uint_eq(r->proto, 6);
  ck_assert_str_eq(tsb_nat_text(r), "10.180.0.1:80");
  struct kp_addr want;
  kp_addr_parse(NULL, "10.180.0.1", &want);
  ck_assert(kp_addr_same_host(&r->nat_addr, &want));
  ck_assert(r->nat_ports.present);
  ck_assert_uint_eq(r->nat_ports.lo, 80);

  /* Named prot "tcp", dport, host destination, addrtype. */
  r = rule_at(snap, "nat", "KUBE-SERVICES", 0);
  ck_assert(r->proto_present);
  ck_assert_uint_eq(r->proto, 6);
  ck_assert(r->dport.present);
  ck_assert_uint_eq(r->dport.lo, 80);
  kp_addr_parse(NULL, "172.30.0.41", &want);
  ck_assert(kp_addr_same_host(&r->dst, &want));
  ck_assert_str_eq(r->comment, "ns1/svc1:p80 cluster IP");
  r = rule_at(snap, "nat", "KUBE-SERVICES", 1);
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  ck_assert(!kp_rule_ext(r)->dst_type_negated);
  ck_assert_str_eq(r->comment, "kubernetes service nodeports; NOTE: this must be the last rule "
                               "in this chain");

  /* filter listing: policy counters with G/T, negated source, ctstate. */
  struct kp_chain *in = kp_table_chain(filter, "INPUT");
  ck_assert_str_eq(kp_chain_ext(in)->policy, "DROP");
  ck_assert_uint_eq(kp_chain_ext(in)->policy_counters.packets, 1000000000ULL);
  ck_assert_uint_eq(kp_chain_ext(in)->policy_counters.bytes, 2000000000000ULL);
  r = in->rules.items[0];
  ck_assert(r->src.negated);
  ck_assert_uint_eq(r->src.prefix_len, 8);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "!RELATED,ESTABLISHED,DNAT");
  r = kp_table_chain(filter, "FORWARD")->rules.items[0];
  ck_assert_str_eq(kp_rule_ext(r)->in_iface, "eth0");
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "!cni0");
  r = kp_table_chain(filter, "KUBE-FORWARD")->rules.items[1];
  ck_assert(kp_rule_ext(r)->mark.present && !kp_rule_ext(r)->mark.negated);
  r = kp_table_chain(filter, "KUBE-SERVICES")->rules.items[0];
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  ck_assert_str_eq(kp_rule_ext(r)->reject_with, "icmp-port-unreachable");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(ipv6_blank_opt_column) {
  struct kp_snapshot *snap = parse_file(FIX "ip6t-list-filter-blank-opt.txt", 0);
  ck_assert_uint_eq(snap->tables.count, 1);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "filter");
  ck_assert_int_eq(t->family, KP_FAMILY_IPV6);
  ck_assert_int_eq(t->backend, KP_BACKEND_UNKNOWN);
  struct kp_chain *in = kp_table_chain(t, "INPUT");
  ck_assert_uint_eq(in->rules.count, 2);
  struct kp_rule *r = in->rules.items[0];
  ck_assert_str_eq(r->target_name, "KUBE-FIREWALL");
  ck_assert_int_eq(r->src.kind, KP_ADDR_ANY);
  r = in->rules.items[1];
  ck_assert_int_eq(r->target, KP_TARGET_NONE);
  ck_assert_int_eq(r->src.kind, KP_ADDR_IPV6);
  ck_assert_uint_eq(r->src.prefix_len, 64);
  ck_assert_str_eq(r->comment, "count only");
  r = kp_table_chain(t, "OUTPUT")->rules.items[0];
  ck_assert_uint_eq(r->dport.lo, 30000);
  ck_assert_uint_eq(r->dport.hi, 32767);
  ck_assert_int_eq(r->dst.kind, KP_ADDR_IPV6);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(names_without_counters) {
  const char *text =
      "Chain KUBE-FIREWALL (2 references)\n"
      "target     prot opt source               destination         \n"
      "DROP       all  -- !localhost/8          localhost/8          /* block "
      "incoming localnet connections */ ! ctstate RELATED,ESTABLISHED,DNAT\n"
      "MASQUERADE  all  --  10.244.0.0/16       !base-address.mcast.net/4  /* "
      "flanneld masq */ random-fully\n"
      "ACCEPT     tcp  --  anywhere             k8s-cp/24            tcp dpt:https\n";
  int rc;
  struct kp_dump_error err;
  struct kp_snapshot *snap = parse_text(text, &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "nat"); /* no built-ins; MASQUERADE is nat-only */
  struct kp_chain *c = kp_table_chain(t, "KUBE-FIREWALL");
  ck_assert_uint_eq(c->rules.count, 3);
  struct kp_rule *r = c->rules.items[0];
  ck_assert(!r->counters.present);
  ck_assert_int_eq(r->src.kind, KP_ADDR_NAME);
  ck_assert(r->src.negated);
  ck_assert_str_eq(kp_addr_name(&r->src), "localhost/8");
  r = c->rules.items[1];
  ck_assert_int_eq(r->dst.kind, KP_ADDR_NAME);
  ck_assert(r->dst.negated);
  ck_assert(r->random_fully);
  r = c->rules.items[2];
  ck_assert_int_eq(r->src.kind, KP_ADDR_ANY); /* anywhere */
  ck_assert_uint_eq(r->dport.lo, 443);
  kp_snapshot_free(snap);
}
END_TEST

/* Chain and rule counts of the corpus listings. Independent counts:
 *   grep -c '^Chain' F        (chains)
 *   grep -v '^Chain\|^ *pkts\|^ *target\|^ *num\|^\s*$' F | wc -l   (rules) */
static const struct {
  const char *path, *table;
  size_t chains, rules;
  bool counters;
} corpus[] = {
    {"kube-proxy/iptables/derived/overall-mixed-services-nonfacct.legacy.filter.L-n-v.txt",
     "filter", 10, 21, true},
    {"kube-proxy/iptables/derived/overall-mixed-services-nonfacct.legacy.nat.L-n-v-x.txt", "nat",
     25, 55, true},
    {"kube-proxy/iptables/derived/overall-mixed-services-nonfacct.nft.nat.L-n-v.txt", "nat", 25, 55,
     true},
    {"kube-proxy/iptables/derived/sync-repeated-initial-clusterip.nft.filter.L-n-v.txt", "filter",
     10, 15, true},
    {"kube-proxy/iptables/derived/sync-repeated-initial-clusterip.legacy.nat.L-n-v.txt", "nat", 13,
     18, true},
    {"real-dumps/aews-hands-on-2026-eks-vpc-cni/node_iptables_nat.txt", "nat", 26, 47, true},
    {"real-dumps/qifangsu-demo-flannel-k8s/node_iptables_nat.txt", "nat", 20, 43, true},
    {"real-dumps/qifangsu-demo-flannel-k8s/node_iptables_filter.txt", "filter", 11, 22, true},
    {"real-dumps/xiazemin-k8s-learn-docker-desktop/node_iptables_nat.txt", "nat", 56, 167, true},
    {"real-dumps/xiazemin-k8s-learn-docker-desktop/node_iptables_filter.txt", "filter", 15, 36,
     true},
    {"real-dumps/xiazemin-k8s-learn-docker-desktop/node_iptables_mangle.txt", "mangle", 7, 0, true},
    {"real-dumps/zakaria-security-networking-flannel-kubeadm/node_iptables_nat.txt", "nat", 22, 44,
     false},
    {"real-dumps/zakaria-security-networking-flannel-kubeadm/node_iptables_filter.txt", "filter",
     12, 18, false},
};

START_TEST(corpus_counts) {
  FILE *probe = fopen(CORPUS "README.md", "r");
  if (probe == NULL) {
    printf("SKIP: shared corpus not present\n");
    return;
  }
  fclose(probe);
  for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
    char path[512];
    snprintf(path, sizeof(path), CORPUS "%s", corpus[i].path);
    struct kp_snapshot *snap = parse_file(path, 0);
    ck_assert_uint_eq(snap->tables.count, 1);
    struct kp_table *t = snap->tables.items[0];
    ck_assert_msg(strcmp(t->name, corpus[i].table) == 0, "%s: table %s", path, t->name);
    ck_assert_msg(t->chains.count == corpus[i].chains, "%s: %zu chains", path, t->chains.count);
    ck_assert_msg(table_rules(t) == corpus[i].rules, "%s: %zu rules", path, table_rules(t));
    ck_assert_int_eq(t->backend, KP_BACKEND_UNKNOWN);
    for (size_t c = 0; c < t->chains.count; c++) {
      struct kp_chain *ch = t->chains.items[c];
      for (size_t r = 0; r < ch->rules.count; r++)
        ck_assert(((struct kp_rule *)ch->rules.items[r])->counters.present == corpus[i].counters);
    }
    kp_snapshot_free(snap);
  }
  /* xiazemin nat OUTPUT: " 471K   28M KUBE-SERVICES  all" */
  struct kp_snapshot *snap =
      parse_file(CORPUS "real-dumps/xiazemin-k8s-learn-docker-desktop/node_iptables_nat.txt", 0);
  struct kp_rule *r = rule_at(snap, "nat", "OUTPUT", 0);
  ck_assert_uint_eq(r->counters.packets, 471000);
  ck_assert_uint_eq(r->counters.bytes, 28000000);
  ck_assert_str_eq(kp_rule_ext(r)->counter_texts.bytes, "28M");
  kp_snapshot_free(snap);
  /* aews SNAT: "ADDRTYPE match dst-type !LOCAL to:192.168.6.121 random-fully", out "!vlan+" */
  snap = parse_file(CORPUS "real-dumps/aews-hands-on-2026-eks-vpc-cni/node_iptables_nat.txt", 0);
  r = rule_at(snap, "nat", "AWS-SNAT-CHAIN-0", 1);
  ck_assert_int_eq(r->target, KP_TARGET_SNAT);
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  ck_assert(kp_rule_ext(r)->dst_type_negated);
  ck_assert_str_eq(tsb_nat_text(r), "192.168.6.121");
  ck_assert(r->random_fully);
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "!vlan+");
  kp_snapshot_free(snap);
  /* -x listing: KUBE-SVC-NUKIZ6OKUXPJNT4C rule 1 is "2 120", statistic in svc4 */
  snap = parse_file(
      CORPUS "kube-proxy/iptables/derived/overall-mixed-services-nonfacct.legacy.nat.L-n-v-x.txt",
      0);
  r = rule_at(snap, "nat", "KUBE-SVC-NUKIZ6OKUXPJNT4C", 1);
  ck_assert_uint_eq(r->counters.packets, 2);
  ck_assert_uint_eq(r->counters.bytes, 120);
  r = rule_at(snap, "nat", "KUBE-SVC-4SW47YFZTEDKD3PK", 1);
  ck_assert_str_eq(r->probability, "0.50000000000");
  r = rule_at(snap, "nat", "KUBE-FW-NUKIZ6OKUXPJNT4C", 1);
  ck_assert_int_eq(r->target, KP_TARGET_NONE);
  kp_snapshot_free(snap);
}
END_TEST

static void expect_error(const char *text, size_t len, size_t line) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err = {0};
  int rc = kp_parse_ipt_list(snap, "bad.txt", text, len, &err);
  ck_assert_msg(rc == -1, "accepted: %.60s", text);
  ck_assert_msg(err.line == line, "line %zu, want %zu (%s)", err.line, line, err.message);
  ck_assert_str_eq(err.file, "bad.txt");
  ck_assert(err.message[0] != '\0');
  kp_snapshot_free(snap);
}

#define HDR " pkts bytes target     prot opt in     out     source               destination\n"

START_TEST(errors_name_the_line) {
  const char *row_first = "    0     0 ACCEPT     all  --  *      *       0.0.0.0/0  0.0.0.0/0\n";
  expect_error(row_first, strlen(row_first), 1);
  const char *bad_counter = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                            "    0     0 ACCEPT     all  --  *      *       0.0.0.0/0  0.0.0.0/0\n"
                            "   1X     0 ACCEPT     all  --  *      *       0.0.0.0/0  0.0.0.0/0\n";
  expect_error(bad_counter, strlen(bad_counter), 4);
  const char *no_header = "Chain INPUT (policy ACCEPT)\n"
                          "ACCEPT     all  --  anywhere             anywhere\n";
  expect_error(no_header, strlen(no_header), 2);
  const char *bad_chain = "Chain INPUT (policy ACCEPT 0 packets)\n";
  expect_error(bad_chain, strlen(bad_chain), 1);
  static const char nul[] =
      "Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\nACC\0EPT\n";
  expect_error(nul, sizeof(nul) - 1, 3);
  expect_error("", 0, 0); /* no listing at all */
  size_t big = 70000;
  char *longline = malloc(big + 40);
  strcpy(longline, "Chain INPUT (policy ACCEPT)\n");
  memset(longline + 28, 'A', big);
  expect_error(longline, 28 + big, 2);
  free(longline);
}
END_TEST

static const struct kp_note *note_kind(const struct kp_snapshot *snap, enum kp_note_kind kind) {
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *n = snap->notes.items[i];
    if (n->kind == kind)
      return n;
  }
  return NULL;
}

START_TEST(fragments_and_cut_listings) {
  int rc;
  struct kp_dump_error err;
  /* nat's built-in chains, PREROUTING jumping to a KUBE-SERVICES the
   * listing does not show (its section cut off) */
  const char *cut_off = "Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                        "   44  2640 KUBE-SERVICES  all  --  *      *       0.0.0.0/0  0.0.0.0/0\n"
                        "\nChain INPUT (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                        "\nChain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                        "\nChain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n" HDR;
  struct kp_snapshot *snap = parse_text(cut_off, &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  struct kp_table *t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "nat");
  ck_assert(t->partial);
  const struct kp_note *n = note_kind(snap, KP_NOTE_FRAGMENT);
  ck_assert_ptr_nonnull(n);
  ck_assert_str_eq(n->detail, "chain KUBE-SERVICES is jumped to but not listed");
  ck_assert_ptr_null(note_kind(snap, KP_NOTE_TABLE_GUESSED)); /* the built-ins tell nat */
  kp_snapshot_free(snap);

  /* `iptables -t nat -L KUBE-SERVICES -n -v`: one chain, (1 references) */
  const char *one = "Chain KUBE-SERVICES (2 references)\n" HDR
                    "    3   180 KUBE-SVC-A  6    --  *      *       0.0.0.0/0  10.96.0.1\n";
  snap = parse_text(one, &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  t = snap->tables.items[0];
  ck_assert_str_eq(t->name, "nat");
  ck_assert(t->partial);
  ck_assert_int_eq(kp_table_chain(t, "KUBE-SERVICES")->dump_references, 2);
  ck_assert_ptr_nonnull(note_kind(snap, KP_NOTE_TABLE_GUESSED));
  kp_snapshot_free(snap);

  /* the last line cut mid-rule (no newline): the rules before it stay */
  const char *mid = "Chain KUBE-SERVICES (2 references)\n" HDR
                    "    3   180 KUBE-SVC-A  6    --  *      *       0.0.0.0/0  10.96.0.1\n"
                    "    0     0 KUBE-SVC-B  6    --  *   ";
  snap = parse_text(mid, &rc, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  t = snap->tables.items[0];
  struct kp_chain *c = kp_table_chain(t, "KUBE-SERVICES");
  ck_assert(c->cut && t->partial);
  ck_assert_uint_eq(c->rules.count, 1);
  n = note_kind(snap, KP_NOTE_CUT);
  ck_assert_ptr_nonnull(n);
  ck_assert_uint_eq(n->line, 4);
  kp_snapshot_free(snap);
}
END_TEST

/* Every prefix of a fixture, in a buffer of exactly that size (ASan sees
 * any read past it), parses or fails with a message. */
START_TEST(truncated_input_every_offset) {
  size_t ok, failed;
  tdi_every_prefix(FIX "ipt-list-nat-then-filter-suffixes-empty-target.txt", kp_parse_ipt_list, &ok,
                   &failed);
  ck_assert(ok > 0 && failed > 0);
}
END_TEST

/* ~150k lines: 20k services x (SVC chain + SEP chain) shaped like kube-proxy. */
START_TEST(large_listing_is_fast) {
  size_t cap = 32u << 20, n = 0;
  char *buf = malloc(cap);
  n += (size_t)sprintf(buf + n, "Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                                "Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n" HDR
                                "Chain KUBE-SERVICES (2 references)\n" HDR);
  for (int i = 0; i < 20000; i++)
    n += (size_t)sprintf(buf + n,
                         "    0     0 KUBE-SVC-%08d  6    --  *      *       0.0.0.0/0            "
                         "10.%d.%d.%d          /* ns/svc%d:p80 cluster IP */ tcp dpt:80\n",
                         i, i >> 16, (i >> 8) & 255, i & 255, i);
  for (int i = 0; i < 20000; i++)
    n += (size_t)sprintf(buf + n,
                         "\nChain KUBE-SVC-%08d (1 references)\n" HDR
                         "    0     0 KUBE-SEP-%08d  0    --  *      *       0.0.0.0/0            "
                         "0.0.0.0/0            /* ns/svc%d:p80 -> 10.1.0.1:80 */\n"
                         "Chain KUBE-SEP-%08d (1 references)\n" HDR
                         "    0     0 DNAT       6    --  *      *       0.0.0.0/0            "
                         "0.0.0.0/0            /* ns/svc%d:p80 */ tcp to:10.1.0.1:80\n",
                         i, i, i, i, i);
  ck_assert(n < cap);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err = {0};
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int rc = kp_parse_ipt_list(snap, "big", buf, n, &err);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  ck_assert_msg(rc == 0, "%s:%zu %s", err.file, err.line, err.message);
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 60000);
  ck_assert_uint_eq(kp_snapshot_chain_count(snap), 40003);
  printf("NOTE: -L parse of %zu bytes (~180k lines) took %.3f s\n", n, secs);
  /* the time is printed, not asserted: speed is measured by make bench */
  kp_snapshot_free(snap);
  free(buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_ipt_list");
  TCase *tc = tcase_create("list");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, concatenated_listings_and_fields);
  tcase_add_test(tc, ipv6_blank_opt_column);
  tcase_add_test(tc, names_without_counters);
  tcase_add_test(tc, corpus_counts);
  tcase_add_test(tc, errors_name_the_line);
  tcase_add_test(tc, fragments_and_cut_listings);
  tcase_add_test(tc, truncated_input_every_offset);
  tcase_add_test(tc, large_listing_is_fast);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
