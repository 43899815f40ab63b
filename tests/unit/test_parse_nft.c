/* nft text parser: corpus dumps (counts checked independently), kube-proxy
 * nftables mode (sets, maps, vmaps, base chains, DNAT, marks), a hand-made
 * fixture, robustness (truncation at every byte, unbalanced braces), speed. */
#include "dump_parsers.h"
#include "kp/dump.h"
#include "support_dump_input.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURES KP_SOURCE_DIR "/tests/fixtures/parse/"
#define CORPUS KP_SOURCE_DIR "/../shared/corpus/"

static bool have_corpus(void) {
  FILE *f = fopen(CORPUS "README.md", "r");
  if (f == NULL) {
    printf("SKIP: shared corpus not present at %s\n", CORPUS);
    return false;
  }
  fclose(f);
  return true;
}

static struct kp_snapshot *parse_path(const char *path) {
  size_t len;
  char *buf = tdi_slurp(path, &len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  int rc = kp_parse_nft(snap, path, buf, len, &err);
  ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  free(buf);
  return snap;
}

static size_t table_rules(const struct kp_table *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->chains.count; i++)
    n += ((struct kp_chain *)t->chains.items[i])->rules.count;
  return n;
}

static struct kp_table *table(struct kp_snapshot *snap, enum kp_family f, const char *name) {
  struct kp_table *t = kp_snapshot_table(snap, f, KP_BACKEND_NFT, name, false);
  ck_assert_msg(t != NULL, "table %s missing", name);
  return t;
}

static struct kp_chain *chain(struct kp_table *t, const char *name) {
  struct kp_chain *c = kp_table_chain(t, name);
  ck_assert_msg(c != NULL, "chain %s missing", name);
  return c;
}

static struct kp_rule *rule(struct kp_chain *c, size_t i) {
  ck_assert_uint_gt(c->rules.count, i);
  return c->rules.items[i];
}

/* Expected counts, computed independently of the parser:
 *   script: grep -c '^add chain' (32), grep -c '^add rule' (57);
 *   listings: awk '/^table/{t=$3} /^\tchain /{c[t]++; in=1; next}
 *     in && /^\t}/{in=0; next} in && /^\t\t/ && !/^\t\t(type|comment) /{r[t]++}'
 *   -> kube-proxy 32/57; nonfacct: filter 10/21, nat 24/55, mangle 1/0;
 *   initial-clusterip: filter 10/15, nat 12/18, mangle 1/0.
 *   saifsust fragment: grep -c 'jump' = 10 rules in 2 blocks of KUBE-SERVICES. */
START_TEST(corpus_counts) {
  if (!have_corpus())
    return;
  static const char *const kp_files[] = {
      "kube-proxy/nftables/overall-mixed-services.nft",
      "kube-proxy/nftables/derived/overall-mixed-services.loadable.nft",
      "kube-proxy/nftables/derived/overall-mixed-services.nft-list-ruleset.txt",
      "kube-proxy/nftables/derived/overall-mixed-services.nft-list-ruleset-handles.txt"};
  for (size_t i = 0; i < 4; i++) {
    char path[512];
    snprintf(path, sizeof(path), CORPUS "%s", kp_files[i]);
    struct kp_snapshot *snap = parse_path(path);
    ck_assert_uint_eq(snap->tables.count, 1);
    struct kp_table *t = table(snap, KP_FAMILY_IPV4, "kube-proxy");
    ck_assert(t->native_nft);
    ck_assert_uint_eq(t->chains.count, 32);
    ck_assert_uint_eq(table_rules(t), 57);
    ck_assert_uint_eq(t->sets.count, 8);
    kp_snapshot_free(snap);
  }
  static const struct {
    const char *file;
    size_t chains[3], rules[3]; /* filter, nat, mangle */
  } ipt[] = {
      {"overall-mixed-services-nonfacct.nft.nft-list-ruleset.txt", {10, 24, 1}, {21, 55, 0}},
      {"sync-repeated-initial-clusterip.nft.nft-list-ruleset.txt", {10, 12, 1}, {15, 18, 0}}};
  static const char *const names[] = {"filter", "nat", "mangle"};
  for (size_t i = 0; i < 2; i++) {
    char path[512];
    snprintf(path, sizeof(path), CORPUS "kube-proxy/iptables/derived/%s", ipt[i].file);
    struct kp_snapshot *snap = parse_path(path);
    ck_assert_uint_eq(snap->tables.count, 3);
    for (size_t k = 0; k < 3; k++) {
      struct kp_table *t = table(snap, KP_FAMILY_IPV4, names[k]);
      ck_assert(!t->native_nft);
      ck_assert_int_eq(t->backend, KP_BACKEND_NFT);
      ck_assert_uint_eq(t->chains.count, ipt[i].chains[k]);
      ck_assert_uint_eq(table_rules(t), ipt[i].rules[k]);
    }
    kp_snapshot_free(snap);
  }
  struct kp_snapshot *snap = parse_path(
      CORPUS "real-dumps/saifsust-devops-iptables-nft-fragment/nft_list_chain_KUBE-SERVICES.txt");
  ck_assert_uint_eq(snap->tables.count, 1);
  struct kp_chain *svc = chain(table(snap, KP_FAMILY_IPV4, "nat"), "KUBE-SERVICES");
  ck_assert_uint_eq(svc->rules.count, 10);
  struct kp_rule *r = rule(svc, 5); /* first rule of the second block */
  ck_assert_str_eq(r->target_name, "KUBE-SVC-ERIFXISQEP7F7OF4");
  ck_assert_uint_eq(kp_rule_ext(r)->line, 14); /* grep -n ERIFX: lines 6 and 14 */
  ck_assert(r->counters.present);
  r = rule(svc, 9);
  ck_assert_uint_eq(r->counters.packets, 7);
  ck_assert_uint_eq(r->counters.bytes, 696);
  kp_snapshot_free(snap);
}
END_TEST

static void check_kube_proxy_nft(struct kp_snapshot *snap) {
  struct kp_table *t = table(snap, KP_FAMILY_IPV4, "kube-proxy");
  struct kp_set *nes = kp_table_set(t, "no-endpoint-services");
  ck_assert_ptr_nonnull(nes);
  ck_assert(nes->is_map);
  ck_assert_uint_eq(nes->elems.count, 3);
  const char *comments[3] = {NULL, NULL, NULL};
  size_t reject = 0;
  for (size_t i = 0; i < 3; i++) {
    struct kp_set_elem *e = nes->elems.items[i];
    comments[i] = e->comment;
    if (strcmp(e->key, "172.30.0.46 . tcp . 80") == 0) {
      ck_assert_str_eq(e->verdict, "goto");
      ck_assert_str_eq(e->chain, "reject-chain");
      reject++;
    } else {
      ck_assert_str_eq(e->verdict, "drop");
      ck_assert_ptr_null(e->chain);
    }
  }
  ck_assert_uint_eq(reject, 1);
  size_t svc2 = 0, svc6 = 0;
  for (size_t i = 0; i < 3; i++) {
    ck_assert_ptr_nonnull(comments[i]);
    svc2 += strcmp(comments[i], "ns2/svc2:p80") == 0;
    svc6 += strcmp(comments[i], "ns6/svc6:p80") == 0;
  }
  ck_assert_uint_eq(svc2, 2);
  ck_assert_uint_eq(svc6, 1);

  struct kp_set *sips = kp_table_set(t, "service-ips");
  ck_assert_uint_eq(sips->elems.count, 9);
  ck_assert_str_eq(sips->type, "ipv4_addr . inet_proto . inet_service : verdict");
  struct kp_set *cips = kp_table_set(t, "cluster-ips");
  ck_assert(!cips->is_map);
  ck_assert_uint_eq(cips->elems.count, 6);

  struct kp_chain *pre = chain(t, "nat-prerouting");
  ck_assert(pre->builtin);
  ck_assert_str_eq(kp_chain_ext(pre)->hook, "prerouting");
  ck_assert(!chain(t, "services")->builtin);
  struct kp_rule *r = rule(chain(t, "services"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->vmap_set, "@service-ips");

  r = rule(chain(t, "service-LAUZTJTB-ns4/svc4/tcp/p80"), 1);
  ck_assert_uint_eq(kp_rule_ext(r)->n_vmap_chains, 2);
  ck_assert_str_eq(kp_rule_ext(r)->vmap_chains[0],
                   "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80");
  ck_assert_str_eq(kp_rule_ext(r)->vmap_chains[1],
                   "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80");

  r = rule(chain(t, "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80"), 1);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  char addr[64];
  kp_addr_format(&r->nat_addr, addr, sizeof(addr));
  ck_assert_str_eq(addr, "10.180.0.4");
  ck_assert_uint_eq(r->nat_ports.lo, 80);
  ck_assert(r->proto_present);
  ck_assert_uint_eq(r->proto, 6);
  ck_assert(!r->counters.present); /* nftables mode has no counters */

  r = rule(chain(t, "mark-for-masquerade"), 0);
  ck_assert(kp_rule_ext(r)->mark_target);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0x4000);
  struct kp_chain *masq = chain(t, "masquerading");
  r = rule(masq, 0);
  ck_assert_int_eq(r->target, KP_TARGET_RETURN);
  ck_assert(kp_rule_ext(r)->mark.present && !kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  r = rule(masq, 1);
  ck_assert(kp_rule_ext(r)->mark_target);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0);
  r = rule(masq, 2);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);

  r = rule(chain(t, "service-ULMVA6XW-ns1/svc1/tcp/p80"), 0);
  kp_addr_format(&r->src, addr, sizeof(addr));
  ck_assert_str_eq(addr, "!10.0.0.0/8");
  kp_addr_format(&r->dst, addr, sizeof(addr));
  ck_assert_str_eq(addr, "172.30.0.41");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "mark-for-masquerade");

  r = rule(chain(t, "external-42NFTM6N-ns2/svc2/tcp/p80"), 1);
  ck_assert_str_eq(kp_rule_ext(r)->src_type, "LOCAL");
  ck_assert_str_eq(r->comment, "masquerade local traffic");
  r = rule(chain(t, "external-42NFTM6N-ns2/svc2/tcp/p80"), 2);
  ck_assert_int_eq(r->target, KP_TARGET_GOTO);
  r = rule(chain(t, "filter-forward"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "NEW");
}

START_TEST(kube_proxy_nftables_mode) {
  if (!have_corpus())
    return;
  struct kp_snapshot *snap =
      parse_path(CORPUS "kube-proxy/nftables/derived/overall-mixed-services.nft-list-ruleset.txt");
  check_kube_proxy_nft(snap);
  struct kp_table *t = table(snap, KP_FAMILY_IPV4, "kube-proxy");
  struct kp_rule *r = rule(chain(t, "masquerading"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->text, "meta mark & 0x00004000 == 0x00000000 return");
  ck_assert_uint_eq(kp_rule_ext(r)->line, 108);
  kp_snapshot_free(snap);
  snap = parse_path(CORPUS "kube-proxy/nftables/overall-mixed-services.nft");
  check_kube_proxy_nft(snap); /* the knftables script form: same model */
  t = table(snap, KP_FAMILY_IPV4, "kube-proxy");
  r = rule(chain(t, "masquerading"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->text, "mark and 0x4000 == 0 return");
  kp_snapshot_free(snap);
  snap = parse_path(
      CORPUS "kube-proxy/nftables/derived/overall-mixed-services.nft-list-ruleset-handles.txt");
  check_kube_proxy_nft(snap);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(iptables_nft_listing) {
  if (!have_corpus())
    return;
  struct kp_snapshot *snap = parse_path(
      CORPUS
      "kube-proxy/iptables/derived/overall-mixed-services-nonfacct.nft.nft-list-ruleset.txt");
  struct kp_table *nat = table(snap, KP_FAMILY_IPV4, "nat");
  struct kp_chain *post = chain(nat, "KUBE-POSTROUTING");
  struct kp_rule *r = rule(post, 0);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  r = rule(post, 1);
  ck_assert_int_eq(r->target, KP_TARGET_MARK);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0);
  ck_assert(r->counters.present);
  ck_assert_uint_eq(r->counters.packets, 12);
  ck_assert_uint_eq(r->counters.bytes, 720);
  r = rule(chain(nat, "KUBE-SERVICES"), 9);
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  ck_assert_str_eq(r->target_name, "KUBE-NODEPORTS");
  r = rule(chain(nat, "KUBE-FW-NUKIZ6OKUXPJNT4C"), 1);
  ck_assert_int_eq(r->target, KP_TARGET_NONE);
  r = rule(chain(nat, "KUBE-SEP-I77PXRDZVX7PMWMN"), 1);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  ck_assert_ptr_nonnull(strstr(kp_rule_ext(r)->text, "xt match recent"));
  struct kp_chain *pre = chain(nat, "PREROUTING");
  ck_assert(pre->builtin);
  ck_assert_str_eq(kp_chain_ext(pre)->policy, "ACCEPT");
  struct kp_table *filter = table(snap, KP_FAMILY_IPV4, "filter");
  r = rule(chain(filter, "KUBE-SERVICES"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  ck_assert_uint_eq(r->dport.lo, 80);
  r = rule(chain(filter, "KUBE-FORWARD"), 2);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "RELATED,ESTABLISHED");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(mixed_fixture) {
  struct kp_snapshot *snap = parse_path(FIXTURES "nft-mixed.nft");
  ck_assert_uint_eq(snap->tables.count, 2); /* the arp table is not modelled */
  struct kp_table *fw = table(snap, KP_FAMILY_IPV4, "fw");
  ck_assert(fw->native_nft);
  struct kp_chain *in = chain(fw, "input");
  ck_assert_str_eq(kp_chain_ext(in)->policy, "DROP");
  ck_assert_uint_eq(in->rules.count, 6);
  ck_assert_str_eq(kp_rule_ext(rule(in, 0))->in_iface, "lo");
  struct kp_rule *r = rule(in, 1);
  ck_assert_str_eq(kp_rule_ext(r)->in_iface, "!eth0");
  ck_assert_uint_eq(r->counters.packets, 5);
  ck_assert_uint_eq(r->counters.bytes, 300);
  ck_assert_str_eq(kp_rule_ext(rule(in, 2))->ctstate, "ESTABLISHED,RELATED");
  r = rule(in, 3);
  ck_assert_str_eq(r->comment, "ssh \"admin\" access");
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "NEW,UNTRACKED");
  ck_assert_uint_eq(r->dport.lo, 22);
  ck_assert_uint_eq(r->proto, 6);
  r = rule(in, 4);
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  ck_assert_str_eq(kp_rule_ext(r)->reject_with, "icmpx type admin-prohibited");
  ck_assert_uint_eq(r->dport.lo, 1000);
  ck_assert_uint_eq(r->dport.hi, 2000);
  ck_assert_uint_eq(r->proto, 17);
  r = rule(in, 5);
  ck_assert_str_eq(kp_rule_ext(r)->text, "unknownstatement foo bar accept");
  ck_assert_int_eq(r->target, KP_TARGET_ACCEPT);

  struct kp_table *nat6 = table(snap, KP_FAMILY_IPV6, "nat");
  ck_assert(!nat6->native_nft);
  struct kp_chain *post = chain(nat6, "POSTROUTING");
  r = rule(post, 0);
  ck_assert_int_eq(r->target, KP_TARGET_SNAT);
  char addr[64];
  kp_addr_format(&r->nat_addr, addr, sizeof(addr));
  ck_assert_str_eq(addr, "fd00::1");
  ck_assert_uint_eq(r->nat_ports.lo, 1024);
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "eth0");
  kp_addr_format(&r->src, addr, sizeof(addr));
  ck_assert_str_eq(addr, "fd00::/64");
  r = rule(post, 1);
  ck_assert(kp_rule_ext(r)->mark_target);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x10);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0xffffffffu);
  struct kp_chain *sep = chain(nat6, "KUBE-SEP-X");
  r = rule(sep, 0);
  kp_addr_format(&r->nat_addr, addr, sizeof(addr));
  ck_assert_str_eq(addr, "fd00::9");
  ck_assert_uint_eq(r->nat_ports.lo, 8080);
  ck_assert(r->dst.negated);
  r = rule(sep, 1);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0);
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  kp_snapshot_free(snap);
}
END_TEST

static int parse_text(struct kp_snapshot *snap, const char *text, struct kp_dump_error *err) {
  size_t len = strlen(text);
  char *copy = malloc(len ? len : 1); /* not NUL-terminated: ASan sees over-reads */
  memcpy(copy, text, len);
  int rc = kp_parse_nft(snap, "text", copy, len, err);
  free(copy);
  return rc;
}

START_TEST(robustness) {
  struct kp_dump_error err;
  struct kp_snapshot *snap = kp_snapshot_new();
  /* A stray closing brace and an unterminated string are survivable. */
  ck_assert_int_eq(
      parse_text(snap, "}\ntable ip t {\n chain c {\n  jump x comment \"open\n }\n}\n}\n", &err),
      0);
  struct kp_chain *c = chain(table(snap, KP_FAMILY_IPV4, "t"), "c");
  ck_assert_uint_eq(c->rules.count, 1);
  ck_assert_str_eq(rule(c, 0)->comment, "open");
  kp_snapshot_free(snap);

  /* Cut short (no closing braces): read as far as it goes, like the
   * iptables formats: the table partial, the chain cut, a note. */
  snap = kp_snapshot_new();
  ck_assert_int_eq(parse_text(snap, "table ip t {\n chain c {\n  accept\n", &err), 0);
  c = chain(table(snap, KP_FAMILY_IPV4, "t"), "c");
  ck_assert_uint_eq(c->rules.count, 1);
  ck_assert(c->cut);
  ck_assert(table(snap, KP_FAMILY_IPV4, "t")->partial);
  ck_assert_uint_eq(snap->notes.count, 1);
  ck_assert_int_eq(((struct kp_note *)snap->notes.items[0])->kind, KP_NOTE_CUT);
  ck_assert_uint_eq(((struct kp_note *)snap->notes.items[0])->line, 3); /* "  accept" */
  kp_snapshot_free(snap);

  /* ... inside a set's elements, or a map with no closing brace: the
   * elements before the cut stay, the note names the set (was: refused,
   * "set block opened here is not closed") */
  snap = kp_snapshot_new();
  ck_assert_int_eq(parse_text(snap,
                              "table ip kube-proxy {\n set cluster-ips {\n  type ipv4_addr\n"
                              "  elements = { 172.30.0.1, 172.30.0.10,\n",
                              &err),
                   0);
  struct kp_table *kt = table(snap, KP_FAMILY_IPV4, "kube-proxy");
  ck_assert(kt->partial);
  ck_assert_uint_eq(kt->sets.count, 1);
  ck_assert_uint_eq(((struct kp_set *)kt->sets.items[0])->elems.count, 2);
  const struct kp_note *cut = snap->notes.items[0];
  ck_assert_int_eq(cut->kind, KP_NOTE_CUT);
  ck_assert_uint_eq(cut->line, 4);
  ck_assert_str_eq(cut->detail, "no closing brace for table kube-proxy, set cluster-ips");
  kp_snapshot_free(snap);
  snap = kp_snapshot_new();
  ck_assert_int_eq(parse_text(snap,
                              "table ip kube-proxy {\n map no-endpoint-services {\n"
                              "  type ipv4_addr . inet_proto . inet_service : verdict",
                              &err),
                   0);
  cut = snap->notes.items[0];
  ck_assert_uint_eq(cut->line, 3);
  ck_assert_str_eq(cut->detail, "no closing brace for table kube-proxy, map no-endpoint-services");
  kp_snapshot_free(snap);

  snap = kp_snapshot_new();
  ck_assert_int_eq(parse_text(snap, "table ip t {\n}\nbogus words here\n", &err), -1);
  ck_assert_uint_eq(err.line, 3);
  ck_assert_ptr_nonnull(strstr(err.message, "bogus"));
  kp_snapshot_free(snap);

  /* Script commands: flush chain empties it, insert prepends. */
  snap = kp_snapshot_new();
  ck_assert_int_eq(parse_text(snap,
                              "add table ip k\nadd chain ip k c\nadd rule ip k c drop\n"
                              "flush chain ip k c\nadd rule ip k c accept\n"
                              "insert rule ip k c return\ndelete element ip k s { 1.2.3.4 }\n",
                              &err),
                   0);
  c = chain(table(snap, KP_FAMILY_IPV4, "k"), "c");
  ck_assert_uint_eq(c->rules.count, 2);
  ck_assert_int_eq(rule(c, 0)->target, KP_TARGET_RETURN);
  ck_assert_uint_eq(rule(c, 0)->index, 0);
  ck_assert_int_eq(rule(c, 1)->target, KP_TARGET_ACCEPT);
  ck_assert_uint_eq(rule(c, 1)->index, 1);
  kp_snapshot_free(snap);
}
END_TEST

/* Every prefix of a fixture parses or fails with a message; never crashes
 * (run under ASan by `make asan`). */
START_TEST(truncation_at_every_byte) {
  size_t ok, failed;
  tdi_every_prefix(FIXTURES "nft-mixed.nft", kp_parse_nft, &ok, &failed);
  ck_assert_uint_gt(ok, 0);
  ck_assert_uint_gt(failed, 0);
}
END_TEST

/* 20k services in kube-proxy's iptables-nft shape (~200k lines). */
START_TEST(twenty_thousand_services) {
  size_t cap = 64u << 20, len = 0;
  char *buf = malloc(cap);
  len += (size_t)snprintf(buf + len, cap - len, "table ip nat {\n\tchain KUBE-SERVICES {\n");
  for (int s = 0; s < 20000; s++)
    len += (size_t)snprintf(buf + len, cap - len,
                            "\t\tmeta l4proto tcp ip daddr 10.%d.%d.%d  tcp dport 80 counter "
                            "packets 0 bytes 0 jump KUBE-SVC-%08d\n",
                            s / 65536, (s / 256) % 256, s % 256, s);
  len += (size_t)snprintf(buf + len, cap - len, "\t}\n");
  for (int s = 0; s < 20000; s++)
    len += (size_t)snprintf(
        buf + len, cap - len,
        "\tchain KUBE-SVC-%08d {\n\t\tmeta l4proto tcp ip saddr != 10.0.0.0/8 ip daddr "
        "172.30.0.1  tcp dport 80 counter packets 0 bytes 0 jump KUBE-MARK-MASQ\n\t\t counter "
        "packets 3 bytes 180 jump KUBE-SEP-%08d\n\t}\n\tchain KUBE-SEP-%08d {\n\t\tip saddr "
        "10.180.0.1  counter packets 0 bytes 0 jump KUBE-MARK-MASQ\n\t\tmeta l4proto tcp   "
        "counter packets 3 bytes 180 dnat to 10.180.0.1:80\n\t}\n",
        s, s, s);
  len += (size_t)snprintf(buf + len, cap - len, "}\n");
  size_t lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += buf[i] == '\n';
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_parse_nft(snap, "big", buf, len, &err), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 20000 + 4 * 20000);
  ck_assert_uint_eq(kp_snapshot_chain_count(snap), 1 + 2 * 20000);
  printf("NOTE: nft parse of %zu lines (%zu bytes): %.3f s\n", lines, len, secs);
  /* the time is printed, not asserted: speed is measured by make bench */
  kp_snapshot_free(snap);
  free(buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_nft");
  TCase *tc = tcase_create("nft");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, corpus_counts);
  tcase_add_test(tc, kube_proxy_nftables_mode);
  tcase_add_test(tc, iptables_nft_listing);
  tcase_add_test(tc, mixed_fixture);
  tcase_add_test(tc, robustness);
  tcase_add_test(tc, truncation_at_every_byte);
  tcase_add_test(tc, twenty_thousand_services);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
