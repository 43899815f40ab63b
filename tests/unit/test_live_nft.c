/* Live nf_tables source (kp_nft_read), root only, in namespaces this test
 * creates (kp-nft-<pid>-{nft,leg,kp,ud}) and deletes at exit:
 *  - nft: make-ruleset.sh output (or a small inline ruleset) loaded with
 *    iptables-nft-restore, plus a small IPv6 ruleset with ip6tables-nft-restore;
 *  - leg: the same rulesets with iptables-legacy-restore, read by libiptc;
 *  - kp:  kube-proxy nftables mode from the corpus (nft -f);
 *  - ud:  a rule with a userdata comment written by `nft add rule`.
 * The same packets go into nft and leg (one TCP SYN per service, one UDP
 * datagram, out of a dummy interface: nothing leaves the namespace), so the
 * two snapshots must agree field by field, counters included (except the
 * random load-balancing chains KUBE-SVC-* (after rule 0) and KUBE-SEP-*).
 * Expected values are read off the ruleset by hand. */
#include "kp/live.h"
#include "kp/model.h"
#include "live_internal.h"
#include "live_nft.h"
#include "support_snapshot_builder.h"

#include <arpa/inet.h>
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t main_pid;
static char ns_base[64];
static bool have_ns[4];
static const char *const ns_tag[4] = {"nft", "leg", "kp", "ud"};
enum { NS_NFT, NS_LEG, NS_KP, NS_UD };
static bool have_corpus;
static const char corpus_nft[] = KP_SOURCE_DIR
    "/../shared/corpus/kube-proxy/nftables/derived/overall-mixed-services.loadable.nft";

static const char ruleset_v6[] =
    "*nat\n"
    ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n:KUBE-SVC-V6 - [0:0]\n:KUBE-SEP-V6 - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
    "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
    "-A KUBE-SERVICES -d fd00:30::1/128 -p tcp -m comment --comment \"default/kubernetes:https "
    "cluster IP\" -m tcp --dport 443 -j KUBE-SVC-V6\n"
    "-A KUBE-SVC-V6 ! -s fd00:180::/64 -d fd00:30::1/128 -p tcp -m tcp --dport 443 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-V6 -j KUBE-SEP-V6\n"
    "-A KUBE-SEP-V6 -p tcp -m tcp -j DNAT --to-destination [fd00:180::2]:6443\n"
    "COMMIT\n";

/* ---- namespaces ------------------------------------------------------------------ */

static void ns_name(int which, char *buf, size_t len) {
  snprintf(buf, len, "%s-%s", ns_base, ns_tag[which]);
}

static void ns_cleanup(void) {
  if (getpid() != main_pid)
    return;
  for (int i = 0; i < 4; i++) {
    if (!have_ns[i])
      continue;
    char cmd[160], name[80];
    ns_name(i, name, sizeof(name));
    snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", name);
    if (system(cmd) != 0)
      fprintf(stderr, "NOTE: could not delete netns %s\n", name);
    have_ns[i] = false;
  }
}

static void on_signal(int sig) {
  ns_cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Runs a shell command with "NS" replaced by the namespace's name. */
static int nsh(int which, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int nsh(int which, const char *fmt, ...) {
  char name[80], body[2048], cmd[4096];
  ns_name(which, name, sizeof(name));
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof(body), fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof(cmd), "NS=%s; %s", name, body);
  return system(cmd);
}

static int make_ns(int which) {
  if (nsh(which, "ip netns add $NS") != 0)
    return -1;
  have_ns[which] = true;
  return 0;
}

/* A veth pair whose peer sits, unconfigured, in the "ud" namespace, with
 * routes to the service and pod ranges through a gateway whose neighbour
 * entry is permanent: packets go through OUTPUT and POSTROUTING and leave
 * at once, and nothing comes back (the peer drops frames for another MAC).
 * No ARP is asked: an unanswered one ended, seconds later and at a time
 * that depended on the load, in ICMP host-unreachable errors that INPUT
 * counted (2 in one namespace, 5 in the other). */
static int traffic_setup(int which) {
  char peer[80];
  ns_name(NS_UD, peer, sizeof(peer));
  return nsh(which,
             "ip -n $NS link set lo up && ip -n $NS link add v0 type veth peer name p%d netns %s "
             "&& ip -n $NS addr add 10.99.0.1/24 dev v0 && ip -n $NS link set v0 up && "
             "ip -n %s link set p%d up && "
             "ip -n $NS neigh add 10.99.0.2 lladdr 02:00:00:00:99:02 dev v0 nud permanent && "
             "ip -n $NS route add 172.30.0.0/16 via 10.99.0.2 dev v0 && "
             "ip -n $NS route add 10.180.0.0/16 via 10.99.0.2 dev v0",
             which, peer, peer, which);
}

/* One SYN per TCP service (the 0.3 s timeout ends before the first
 * retransmit, 1 s later), one UDP datagram; and one UDP datagram to the
 * namespace's own address, closed port. INPUT then counts 3 packets, each
 * sent at once over loopback (never rate-limited): the ICMP error of the
 * orphan service's REJECT, the datagram and its ICMP port-unreachable. */
static void send_packets(int which) {
  static const char *const tcp[] = {"172.30.0.1/443", "172.30.0.10/53", "172.30.0.20/80",
                                    "172.30.0.21/80"};
  for (size_t i = 0; i < 4; i++)
    nsh(which, "ip netns exec $NS timeout 0.3 bash -c 'echo > /dev/tcp/%s' >/dev/null 2>&1; true",
        tcp[i]);
  nsh(which, "ip netns exec $NS bash -c 'echo x > /dev/udp/172.30.0.10/53' >/dev/null 2>&1");
  nsh(which, "ip netns exec $NS bash -c 'echo x > /dev/udp/10.99.0.1/9' >/dev/null 2>&1");
}

static const char *setup(void) {
  if (geteuid() != 0)
    return "needs root to create network namespaces";
  if (system("command -v iptables-nft-restore >/dev/null && command -v iptables-legacy-restore "
             ">/dev/null && command -v nft >/dev/null && command -v ip >/dev/null") != 0)
    return "iptables-nft-restore, iptables-legacy-restore, nft or ip not installed";
  main_pid = getpid();
  /* Namespaces an earlier run of this test left behind (its pid is gone). */
  if (system("for n in $(ip netns list | awk '/^kp-nft-[0-9]+-/{print $1}'); do "
             "p=${n#kp-nft-}; p=${p%%-*}; [ -d /proc/$p ] || ip netns del $n; done") != 0)
    printf("NOTE: stale namespace cleanup failed\n");
  snprintf(ns_base, sizeof(ns_base), "kp-nft-%ld", (long)main_pid);
  atexit(ns_cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  for (int i = 0; i < 4; i++)
    if (make_ns(i) != 0)
      return "ip netns add failed";
  const char *gen = KP_SOURCE_DIR "/tests/fixtures/make-ruleset.sh";
  if (access(gen, X_OK) != 0 && access(gen, R_OK) != 0)
    return "tests/fixtures/make-ruleset.sh missing";
  if (nsh(NS_NFT, "bash %s | ip netns exec $NS iptables-nft-restore", gen) != 0)
    return "iptables-nft-restore failed (no nf_tables?)";
  if (nsh(NS_LEG, "bash %s | ip netns exec $NS iptables-legacy-restore", gen) != 0)
    return "iptables-legacy-restore failed (no legacy x_tables?)";
  for (int i = NS_NFT; i <= NS_LEG; i++) {
    if (nsh(i, "printf '%%s' '%s' | ip netns exec $NS ip6tables-%s-restore", ruleset_v6,
            i == NS_NFT ? "nft" : "legacy") != 0)
      return "ip6tables-restore failed";
    if (traffic_setup(i) != 0)
      return "dummy interface setup failed";
    send_packets(i);
  }
  have_corpus = access(corpus_nft, R_OK) == 0;
  if (have_corpus && nsh(NS_KP, "ip netns exec $NS nft -f %s", corpus_nft) != 0)
    return "nft -f of the corpus ruleset failed";
  if (nsh(NS_UD, "printf '*filter\\n:INPUT ACCEPT [0:0]\\n:KUBE-X - [0:0]\\n-A KUBE-X -s "
                 "10.1.0.0/16 -m comment --comment xt-comment -j ACCEPT\\nCOMMIT\\n' | "
                 "ip netns exec $NS iptables-nft-restore && "
                 "ip netns exec $NS nft add rule ip filter KUBE-X ip saddr 10.2.0.0/16 counter "
                 "accept comment '\"ud-comment\"'") != 0)
    return "userdata comment ruleset failed";
  return NULL;
}

/* ---- reading ------------------------------------------------------------------------- */

struct job {
  struct kp_nft_reader *reader;
  struct kp_snapshot *snap;
  bool ipv6;
  bool legacy;
  struct kp_live_error err;
};

static int job_fn(void *arg) {
  struct job *j = arg;
  if (!j->legacy)
    return kp_nft_read(j->reader, j->snap, j->ipv6, &j->err);
  static const char *const tables[] = {"filter", "nat", "mangle"};
  for (size_t i = 0; i < 3; i++)
    if (kp_iptc_read_table(j->snap, KP_FAMILY_IPV4, tables[i], &j->err) != 0)
      return -1;
  return kp_iptc_read_table(j->snap, KP_FAMILY_IPV6, "nat", &j->err);
}

static struct kp_snapshot *read_ns(int which, struct kp_nft_reader *reader, bool legacy) {
  char path[128], name[80];
  ns_name(which, name, sizeof(name));
  snprintf(path, sizeof(path), "/run/netns/%s", name);
  struct job j = {.reader = reader, .snap = kp_snapshot_new(), .ipv6 = true, .legacy = legacy};
  ck_assert_ptr_nonnull(j.snap);
  j.snap->rule_text = true; /* shown when two snapshots differ */
  struct kp_live_error nerr = {0};
  int rc = kp_netns_run(path, job_fn, &j, &nerr);
  ck_assert_msg(rc == 0, "read %s: %s %s", name, j.err.message, nerr.message);
  return j.snap;
}

static struct kp_snapshot *read_nft(int which) {
  struct kp_nft_reader *reader = kp_nft_reader_new();
  ck_assert_ptr_nonnull(reader);
  struct kp_snapshot *snap = read_ns(which, reader, false);
  kp_nft_reader_free(reader);
  return snap;
}

static struct kp_chain *chain_of(struct kp_snapshot *snap, enum kp_family f, const char *table,
                                 const char *name) {
  struct kp_chain *c = kp_snapshot_chain(snap, f, KP_BACKEND_NFT, table, name);
  ck_assert_msg(c != NULL, "chain %s %s missing", table, name);
  return c;
}

static struct kp_rule *rule_of(struct kp_chain *c, size_t i) {
  ck_assert_msg(i < c->rules.count, "%s has %zu rules, wanted #%zu", c->name, c->rules.count, i);
  return c->rules.items[i];
}

static void assert_addr(const struct kp_addr *a, const char *text) {
  char buf[80];
  kp_addr_format(a, buf, sizeof(buf));
  ck_assert_str_eq(buf, text);
}

/* ---- comparison ------------------------------------------------------------------------- */

static bool str_eq(const char *a, const char *b) {
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool addr_eq(const struct kp_addr *a, const struct kp_addr *b) {
  size_t n = a->kind == KP_ADDR_IPV6 ? 16 : 4;
  return a->kind == b->kind && a->negated == b->negated &&
         (a->kind == KP_ADDR_ANY ||
          (a->prefix_len == b->prefix_len && memcmp(a->bytes, b->bytes, n) == 0));
}

static bool ports_eq(const struct kp_port_range *a, const struct kp_port_range *b) {
  return a->present == b->present &&
         (!a->present || (a->negated == b->negated && a->lo == b->lo && a->hi == b->hi));
}

/* Random load balancing: which endpoint a connection took differs. */
static bool random_counters(const struct kp_chain *c, size_t index) {
  return strncmp(c->name, "KUBE-SEP-", 9) == 0 || (strncmp(c->name, "KUBE-SVC-", 9) == 0 && index);
}

/* The first field in which rule a differs from rule b, or NULL. */
static const char *rule_diff(const struct kp_rule *a, const struct kp_rule *b, bool counters) {
  if (!addr_eq(&a->src, &b->src))
    return "src";
  if (!addr_eq(&a->dst, &b->dst))
    return "dst";
  if (a->proto_present != b->proto_present || a->proto != b->proto ||
      a->proto_negated != b->proto_negated)
    return "proto";
  if (!str_eq(kp_rule_ext(a)->in_iface, kp_rule_ext(b)->in_iface) ||
      !str_eq(kp_rule_ext(a)->out_iface, kp_rule_ext(b)->out_iface))
    return "iface";
  if (!ports_eq(&kp_rule_ext(a)->sport, &kp_rule_ext(b)->sport))
    return "sport";
  if (!ports_eq(&a->dport, &b->dport))
    return "dport";
  if (kp_rule_ext(a)->mark.present != kp_rule_ext(b)->mark.present ||
      kp_rule_ext(a)->mark.negated != kp_rule_ext(b)->mark.negated ||
      kp_rule_ext(a)->mark.value != kp_rule_ext(b)->mark.value ||
      kp_rule_ext(a)->mark.mask != kp_rule_ext(b)->mark.mask)
    return "mark";
  if (!str_eq(a->comment, b->comment))
    return "comment";
  if (!str_eq(kp_rule_ext(a)->src_type, kp_rule_ext(b)->src_type) ||
      !str_eq(kp_rule_ext(a)->dst_type, kp_rule_ext(b)->dst_type) ||
      kp_rule_ext(a)->src_type_negated != kp_rule_ext(b)->src_type_negated ||
      kp_rule_ext(a)->dst_type_negated != kp_rule_ext(b)->dst_type_negated)
    return "addrtype";
  if (!str_eq(kp_rule_ext(a)->match_set, kp_rule_ext(b)->match_set) ||
      !str_eq(kp_rule_ext(a)->match_set_flags, kp_rule_ext(b)->match_set_flags) ||
      kp_rule_ext(a)->match_set_negated != kp_rule_ext(b)->match_set_negated)
    return "match_set";
  if (!str_eq(kp_rule_ext(a)->ctstate, kp_rule_ext(b)->ctstate))
    return "ctstate";
  if (!str_eq(a->probability, b->probability))
    return "probability";
  if (a->target != b->target || !str_eq(a->target_name, b->target_name))
    return "target";
  if (!addr_eq(&a->nat_addr, &b->nat_addr) || !ports_eq(&a->nat_ports, &b->nat_ports) ||
      !str_eq(tsb_nat_text(a), tsb_nat_text(b)))
    return "nat";
  if (kp_rule_ext(a)->mark_target != kp_rule_ext(b)->mark_target ||
      kp_rule_ext(a)->xmark_value != kp_rule_ext(b)->xmark_value ||
      kp_rule_ext(a)->xmark_mask != kp_rule_ext(b)->xmark_mask)
    return "mark target";
  if (a->random_fully != b->random_fully)
    return "random_fully";
  if (!str_eq(kp_rule_ext(a)->reject_with, kp_rule_ext(b)->reject_with))
    return "reject_with";
  if (a->counters.present != b->counters.present)
    return "counters.present";
  if (counters &&
      (a->counters.packets != b->counters.packets || a->counters.bytes != b->counters.bytes))
    return "counters";
  return NULL;
}

/* Walks a's tables of backend ba and compares with b's of backend bb;
 * writes the first difference into out and returns false, or true. */
static bool snap_equal(const struct kp_snapshot *a, enum kp_backend ba, const struct kp_snapshot *b,
                       enum kp_backend bb, char *out, size_t len) {
  size_t tables = 0;
  for (size_t t = 0; t < a->tables.count; t++) {
    const struct kp_table *ta = a->tables.items[t];
    if (ta->backend != ba)
      continue;
    tables++;
    const struct kp_table *tb =
        kp_snapshot_table((struct kp_snapshot *)b, ta->family, bb, ta->name, false);
    if (tb == NULL) {
      snprintf(out, len, "table %s/%s missing", kp_family_name(ta->family), ta->name);
      return false;
    }
    if (ta->chains.count != tb->chains.count) {
      snprintf(out, len, "table %s: %zu vs %zu chains", ta->name, ta->chains.count,
               tb->chains.count);
      return false;
    }
    for (size_t c = 0; c < ta->chains.count; c++) {
      const struct kp_chain *ca = ta->chains.items[c], *cb = tb->chains.items[c];
      if (strcmp(ca->name, cb->name) != 0 || ca->builtin != cb->builtin ||
          !str_eq(kp_chain_ext(ca)->policy, kp_chain_ext(cb)->policy) ||
          ca->rules.count != cb->rules.count ||
          kp_chain_ext(ca)->policy_counters.present != kp_chain_ext(cb)->policy_counters.present ||
          kp_chain_ext(ca)->policy_counters.packets != kp_chain_ext(cb)->policy_counters.packets) {
        snprintf(out, len, "%s chain #%zu: %s (%zu rules, policy pkts %llu) vs %s (%zu, %llu)",
                 ta->name, c, ca->name, ca->rules.count,
                 (unsigned long long)kp_chain_ext(ca)->policy_counters.packets, cb->name,
                 cb->rules.count, (unsigned long long)kp_chain_ext(cb)->policy_counters.packets);
        return false;
      }
      for (size_t r = 0; r < ca->rules.count; r++) {
        const struct kp_rule *ra = ca->rules.items[r], *rb = cb->rules.items[r];
        const char *field = rule_diff(ra, rb, !random_counters(ca, r));
        if (field != NULL) {
          snprintf(out, len, "%s %s rule %zu: field %s\n  %s\n  %s", ta->name, ca->name, r, field,
                   kp_rule_ext(ra)->text, kp_rule_ext(rb)->text);
          return false;
        }
      }
    }
  }
  if (tables == 0) {
    snprintf(out, len, "no tables of backend %s", kp_backend_name(ba));
    return false;
  }
  return true;
}

/* ---- tests: same snapshot as libiptc ------------------------------------------------------ */

START_TEST(same_snapshot_as_libiptc) {
  struct kp_snapshot *nft = read_nft(NS_NFT);
  struct kp_snapshot *leg = read_ns(NS_LEG, NULL, true);
  char diff[1024] = "";
  /* Every legacy table read must be in nft the same way, and back. */
  ck_assert_msg(snap_equal(leg, KP_BACKEND_LEGACY, nft, KP_BACKEND_NFT, diff, sizeof(diff)), "%s",
                diff);
  kp_snapshot_free(nft);
  kp_snapshot_free(leg);
}
END_TEST

START_TEST(nat_rules_by_hand) {
  struct kp_snapshot *s = read_nft(NS_NFT);
  struct kp_chain *svcs = chain_of(s, KP_FAMILY_IPV4, "nat", "KUBE-SERVICES");
  ck_assert_uint_eq(svcs->rules.count, 5);
  struct kp_rule *r = rule_of(svcs, 0);
  assert_addr(&r->dst, "172.30.0.1");
  ck_assert(r->proto_present && r->proto == 6);
  ck_assert(r->dport.present && r->dport.lo == 443 && r->dport.hi == 443);
  ck_assert_str_eq(r->comment, "default/kubernetes:https cluster IP");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "KUBE-SVC-NPX46M4PTMTKRN6Y");
  ck_assert(r->counters.present);
  ck_assert_uint_eq(r->counters.packets, 1); /* one SYN to 172.30.0.1:443 */
  r = rule_of(svcs, 2);
  ck_assert(r->proto == 17 && r->dport.lo == 53);
  ck_assert_uint_eq(r->counters.packets, 1); /* one UDP datagram */
  r = rule_of(svcs, 4);
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  ck_assert(!kp_rule_ext(r)->dst_type_negated);
  ck_assert_str_eq(r->target_name, "KUBE-NODEPORTS");

  struct kp_chain *svc = chain_of(s, KP_FAMILY_IPV4, "nat", "KUBE-SVC-NPX46M4PTMTKRN6Y");
  r = rule_of(svc, 0);
  assert_addr(&r->src, "!10.180.0.0/16");
  ck_assert_str_eq(r->target_name, "KUBE-MARK-MASQ");
  ck_assert_uint_eq(r->counters.packets, 1);
  ck_assert_str_eq(rule_of(svc, 1)->probability, "0.50000000000");

  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "nat", "KUBE-SEP-Y4WA5EZSTZLDPYXW"), 1);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  ck_assert_str_eq(tsb_nat_text(r), "10.180.0.2:6443");
  assert_addr(&r->nat_addr, "10.180.0.2");
  ck_assert(r->nat_ports.present && r->nat_ports.lo == 6443);

  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "nat", "KUBE-MARK-MASQ"), 0);
  ck_assert(kp_rule_ext(r)->mark_target && kp_rule_ext(r)->xmark_value == 0x4000 &&
            kp_rule_ext(r)->xmark_mask == 0x4000); /* --or-mark */
  struct kp_chain *post = chain_of(s, KP_FAMILY_IPV4, "nat", "KUBE-POSTROUTING");
  r = rule_of(post, 0);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.negated &&
            kp_rule_ext(r)->mark.value == 0x4000 && kp_rule_ext(r)->mark.mask == 0x4000);
  ck_assert_int_eq(r->target, KP_TARGET_RETURN);
  r = rule_of(post, 1);
  ck_assert(kp_rule_ext(r)->mark_target && kp_rule_ext(r)->xmark_value == 0x4000 &&
            kp_rule_ext(r)->xmark_mask == 0); /* --xor-mark */
  r = rule_of(post, 2);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);
  ck_assert_str_eq(r->comment, "kubernetes service traffic requiring SNAT");

  struct kp_chain *pre = chain_of(s, KP_FAMILY_IPV4, "nat", "PREROUTING");
  ck_assert(pre->builtin);
  ck_assert_str_eq(kp_chain_ext(pre)->policy, "ACCEPT");
  ck_assert_ptr_null(
      kp_chain_ext(pre)->hook); /* as libiptc: iptables built-ins carry no nft hook */
  kp_snapshot_free(s);
}
END_TEST

START_TEST(filter_rules_by_hand) {
  struct kp_snapshot *s = read_nft(NS_NFT);
  struct kp_rule *r = rule_of(chain_of(s, KP_FAMILY_IPV4, "filter", "KUBE-FIREWALL"), 0);
  assert_addr(&r->dst, "127.0.0.0/8");
  assert_addr(&r->src, "!127.0.0.0/8");
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "!RELATED,ESTABLISHED,DNAT");
  ck_assert_int_eq(r->target, KP_TARGET_DROP);
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "filter", "KUBE-FORWARD"), 1);
  ck_assert(kp_rule_ext(r)->mark.present && !kp_rule_ext(r)->mark.negated &&
            kp_rule_ext(r)->mark.value == 0x4000);
  ck_assert_int_eq(r->target, KP_TARGET_ACCEPT);
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "filter", "KUBE-SERVICES"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  assert_addr(&r->dst, "172.30.0.21");
  ck_assert_str_eq(r->comment, "web/orphan:http has no endpoints");
  ck_assert_uint_eq(r->counters.packets, 1); /* the SYN to the orphan service */
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "filter", "OUTPUT"), 1);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "NEW");
  ck_assert_str_eq(r->target_name, "KUBE-PROXY-FIREWALL");
  struct kp_table *t = kp_snapshot_table(s, KP_FAMILY_IPV4, KP_BACKEND_NFT, "filter", false);
  ck_assert(t != NULL && !t->native_nft);
  ck_assert_str_eq(((struct kp_chain *)t->chains.items[0])->name, "INPUT");
  kp_snapshot_free(s);
}
END_TEST

START_TEST(ipv6_nat) {
  struct kp_snapshot *s = read_nft(NS_NFT);
  struct kp_table *t = kp_snapshot_table(s, KP_FAMILY_IPV6, KP_BACKEND_NFT, "nat", false);
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(t->family, KP_FAMILY_IPV6);
  struct kp_rule *r = rule_of(chain_of(s, KP_FAMILY_IPV6, "nat", "KUBE-SERVICES"), 0);
  assert_addr(&r->dst, "fd00:30::1");
  ck_assert(r->dport.present && r->dport.lo == 443);
  r = rule_of(chain_of(s, KP_FAMILY_IPV6, "nat", "KUBE-SVC-V6"), 0);
  assert_addr(&r->src, "!fd00:180::/64");
  r = rule_of(chain_of(s, KP_FAMILY_IPV6, "nat", "KUBE-SEP-V6"), 0);
  ck_assert_str_eq(tsb_nat_text(r), "[fd00:180::2]:6443");
  assert_addr(&r->nat_addr, "fd00:180::2");
  kp_snapshot_free(s);
}
END_TEST

START_TEST(comment_in_xt_match_and_userdata) {
  struct kp_snapshot *s = read_nft(NS_UD);
  struct kp_chain *c = chain_of(s, KP_FAMILY_IPV4, "filter", "KUBE-X");
  ck_assert_str_eq(rule_of(c, 0)->comment, "xt-comment");
  ck_assert_str_eq(rule_of(c, 1)->comment, "ud-comment");
  assert_addr(&rule_of(c, 1)->src, "10.2.0.0/16");
  ck_assert_int_eq(rule_of(c, 1)->target, KP_TARGET_ACCEPT);
  kp_snapshot_free(s);
}
END_TEST

/* ---- tests: generation cache ------------------------------------------------------------------
 */

START_TEST(unchanged_generation_uses_cache) {
  struct kp_nft_reader *reader = kp_nft_reader_new();
  struct kp_nft_read_stats st;
  struct kp_snapshot *first = read_ns(NS_NFT, reader, false);
  kp_nft_last_stats(reader, &st);
  ck_assert(!st.cached);
  ck_assert_uint_gt(st.rules_decoded, 40);
  size_t full_chains = st.chains_dumped;

  send_packets(NS_NFT);
  struct kp_snapshot *second = read_ns(NS_NFT, reader, false);
  kp_nft_last_stats(reader, &st);
  ck_assert(st.cached);
  ck_assert_uint_lt(st.chains_dumped, full_chains);
  ck_assert_uint_eq(kp_snapshot_rule_count(second), kp_snapshot_rule_count(first));
  /* Refreshed: the entry counters rose by the new SYN. */
  struct kp_rule *r1 = rule_of(chain_of(first, KP_FAMILY_IPV4, "nat", "KUBE-SERVICES"), 0);
  struct kp_rule *r2 = rule_of(chain_of(second, KP_FAMILY_IPV4, "nat", "KUBE-SERVICES"), 0);
  ck_assert_uint_eq(r2->counters.packets, r1->counters.packets + 1);
  ck_assert_str_eq(r2->comment, r1->comment);
  ck_assert_ptr_ne(r2->comment, r1->comment); /* copied: each snapshot owns its strings */
  /* Not refreshed: no stale counters. */
  ck_assert(
      !rule_of(chain_of(second, KP_FAMILY_IPV4, "nat", "KUBE-MARK-MASQ"), 0)->counters.present);
  ck_assert_str_eq(tsb_nat_text(rule_of(
                       chain_of(second, KP_FAMILY_IPV4, "nat", "KUBE-SEP-Y4WA5EZSTZLDPYXW"), 1)),
                   "10.180.0.2:6443");
  kp_snapshot_free(first);

  /* A change: new generation, full read, the new rule is there. */
  ck_assert_int_eq(nsh(NS_NFT, "ip netns exec $NS iptables-nft -t nat -A KUBE-NODEPORTS -p tcp "
                               "--dport 30999 -j KUBE-MARK-MASQ"),
                   0);
  struct kp_snapshot *third = read_ns(NS_NFT, reader, false);
  kp_nft_last_stats(reader, &st);
  ck_assert(!st.cached);
  struct kp_chain *np = chain_of(third, KP_FAMILY_IPV4, "nat", "KUBE-NODEPORTS");
  ck_assert_uint_eq(rule_of(np, np->rules.count - 1)->dport.lo, 30999);
  nsh(NS_NFT, "ip netns exec $NS iptables-nft -t nat -D KUBE-NODEPORTS -p tcp --dport 30999 -j "
              "KUBE-MARK-MASQ");
  kp_snapshot_free(second);
  kp_snapshot_free(third);
  kp_nft_reader_free(reader);
}
END_TEST

/* What a cached read promises (live_nft.h): counters only in the base
 * chains and the key kube-proxy chains; a full read's copy made to match. */
static void keep_refreshed_counters(struct kp_snapshot *snap) {
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      struct kp_chain *chain = table->chains.items[c];
      bool nat = strcmp(table->name, "nat") == 0, filter = strcmp(table->name, "filter") == 0;
      bool keep =
          chain->builtin ||
          (!table->native_nft && (((nat || filter) && strcmp(chain->name, "KUBE-SERVICES") == 0) ||
                                  (nat && (strcmp(chain->name, "KUBE-NODEPORTS") == 0 ||
                                           strcmp(chain->name, "KUBE-POSTROUTING") == 0))));
      for (size_t r = 0; !keep && r < chain->rules.count; r++)
        memset(&((struct kp_rule *)chain->rules.items[r])->counters, 0,
               sizeof(struct kp_rule_counters));
    }
  }
}

/* The plugin's way: each snapshot freed before the next read, so a cached
 * read shares the kept tables instead of copying them. It must give what a
 * fresh full read gives (counters included), and notice a change. */
static void shared_cache_matches_full_read(int which) {
  struct kp_nft_reader *reader = kp_nft_reader_new();
  struct kp_nft_read_stats st;
  kp_snapshot_free(read_ns(which, reader, false));
  for (int round = 0; round < 2; round++) {
    send_packets(which);
    struct kp_snapshot *cached = read_ns(which, reader, false);
    kp_nft_last_stats(reader, &st);
    ck_assert(st.cached);
    ck_assert(st.shared);
    ck_assert_int_eq(kp_snapshot_finalize(cached), 0); /* on shared tables, twice */
    struct kp_snapshot *full = read_nft(which);
    keep_refreshed_counters(full);
    char diff[1024] = "";
    ck_assert_msg(snap_equal(cached, KP_BACKEND_NFT, full, KP_BACKEND_NFT, diff, sizeof(diff)),
                  "round %d: %s", round, diff);
    ck_assert_msg(snap_equal(full, KP_BACKEND_NFT, cached, KP_BACKEND_NFT, diff, sizeof(diff)),
                  "round %d: %s", round, diff);
    kp_snapshot_free(full);
    kp_snapshot_free(cached);
  }
  /* A changed rule: a full read, the new rule in it. */
  const char *table = which == NS_KP ? "kube-proxy" : "nat";
  const char *chain = which == NS_KP ? "services" : "KUBE-SERVICES";
  ck_assert_int_eq(nsh(which,
                       "ip netns exec $NS nft add rule ip %s %s ip daddr 10.99.0.7 "
                       "tcp dport 81 counter drop",
                       table, chain),
                   0);
  struct kp_snapshot *changed = read_ns(which, reader, false);
  kp_nft_last_stats(reader, &st);
  ck_assert(!st.cached);
  struct kp_chain *c = chain_of(changed, KP_FAMILY_IPV4, table, chain);
  ck_assert_uint_eq(rule_of(c, c->rules.count - 1)->dport.lo, 81);
  ck_assert_int_eq(nsh(which,
                       "h=$(ip netns exec $NS nft -a list chain ip %s %s | "
                       "awk '/dport 81/ {print $NF}'); ip netns exec $NS nft delete rule "
                       "ip %s %s handle $h",
                       table, chain, table, chain),
                   0);
  /* The reader goes first: the snapshot keeps the tables it holds. */
  kp_nft_reader_free(reader);
  ck_assert_uint_gt(kp_snapshot_rule_count(changed), 40);
  ck_assert_int_eq(kp_snapshot_finalize(changed), 0);
  kp_snapshot_free(changed);
}

START_TEST(shared_cache_iptables_nft) {
  shared_cache_matches_full_read(NS_NFT);
}
END_TEST

START_TEST(shared_cache_nftables_mode) {
  shared_cache_matches_full_read(NS_KP);
}
END_TEST

/* ---- tests: kube-proxy nftables mode -----------------------------------------------------------
 */

static const struct kp_set_elem *find_elem(const struct kp_set *set, const char *key) {
  for (size_t i = 0; i < set->elems.count; i++) {
    const struct kp_set_elem *e = set->elems.items[i];
    if (strcmp(e->key, key) == 0)
      return e;
  }
  return NULL;
}

START_TEST(kube_proxy_nftables_mode) {
  struct kp_snapshot *s = read_nft(NS_KP);
  struct kp_table *t = kp_snapshot_table(s, KP_FAMILY_IPV4, KP_BACKEND_NFT, "kube-proxy", false);
  ck_assert_ptr_nonnull(t);
  ck_assert(t->native_nft);
  struct kp_chain *c = chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "nat-prerouting");
  ck_assert(c->builtin);
  ck_assert_str_eq(kp_chain_ext(c)->hook, "prerouting");
  ck_assert_str_eq(kp_chain_ext(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "nat-postrouting"))->hook,
                   "postrouting");
  ck_assert_str_eq(kp_chain_ext(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "filter-input"))->hook,
                   "input");
  ck_assert(!chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "services")->builtin);
  struct kp_rule *r = rule_of(c, 0);
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "services");

  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "services"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->vmap_set, "@service-ips");

  struct kp_set *ne = kp_table_set(t, "no-endpoint-services");
  ck_assert_ptr_nonnull(ne);
  ck_assert(ne->is_map);
  ck_assert_str_eq(ne->type, "ipv4_addr . inet_proto . inet_service : verdict");
  ck_assert_uint_eq(ne->elems.count, 3);
  const struct kp_set_elem *e = find_elem(ne, "1.2.3.4 . tcp . 80");
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(e->comment, "ns2/svc2:p80");
  ck_assert_str_eq(e->verdict, "drop");
  e = find_elem(ne, "192.168.99.22 . tcp . 80");
  ck_assert(e != NULL && strcmp(e->comment, "ns2/svc2:p80") == 0);
  e = find_elem(ne, "172.30.0.46 . tcp . 80");
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(e->comment, "ns6/svc6:p80");
  ck_assert_str_eq(e->verdict, "goto");
  ck_assert_str_eq(e->chain, "reject-chain");
  struct kp_set *si = kp_table_set(t, "service-ips");
  e = find_elem(si, "172.30.0.41 . tcp . 80");
  ck_assert(e != NULL && strcmp(e->chain, "service-ULMVA6XW-ns1/svc1/tcp/p80") == 0);

  /* numgen random mod 2 vmap { 0 : goto ..., 1 : goto ... } */
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "service-LAUZTJTB-ns4/svc4/tcp/p80"), 1);
  ck_assert_uint_eq(kp_rule_ext(r)->n_vmap_chains, 2);
  ck_assert_str_eq(kp_rule_ext(r)->vmap_chains[0],
                   "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80");
  ck_assert_str_eq(kp_rule_ext(r)->vmap_chains[1],
                   "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80");

  struct kp_chain *ep = chain_of(s, KP_FAMILY_IPV4, "kube-proxy",
                                 "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
  r = rule_of(ep, 0);
  assert_addr(&r->src, "10.180.0.1");
  ck_assert_str_eq(r->target_name, "mark-for-masquerade");
  r = rule_of(ep, 1);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  ck_assert_str_eq(tsb_nat_text(r), "10.180.0.1:80");
  assert_addr(&r->nat_addr, "10.180.0.1");
  ck_assert(r->proto == 6 && r->nat_ports.lo == 80);

  struct kp_chain *masq = chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "masquerading");
  r = rule_of(masq, 0); /* mark and 0x4000 == 0 return */
  ck_assert(kp_rule_ext(r)->mark.present && !kp_rule_ext(r)->mark.negated &&
            kp_rule_ext(r)->mark.value == 0 && kp_rule_ext(r)->mark.mask == 0x4000);
  r = rule_of(masq, 1); /* mark set mark xor 0x4000 */
  ck_assert(kp_rule_ext(r)->mark_target && kp_rule_ext(r)->xmark_value == 0x4000 &&
            kp_rule_ext(r)->xmark_mask == 0);
  r = rule_of(masq, 2);
  ck_assert(r->target == KP_TARGET_MASQUERADE && r->random_fully);
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "mark-for-masquerade"), 0);
  ck_assert(kp_rule_ext(r)->mark_target && kp_rule_ext(r)->xmark_value == 0x4000 &&
            kp_rule_ext(r)->xmark_mask == 0x4000);
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "external-42NFTM6N-ns2/svc2/tcp/p80"), 1);
  ck_assert_str_eq(kp_rule_ext(r)->src_type, "LOCAL");
  ck_assert_str_eq(r->comment, "masquerade local traffic");
  r = rule_of(chain_of(s, KP_FAMILY_IPV4, "kube-proxy", "filter-input"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "NEW");

  /* kube-proxy writes no counter statements. */
  size_t with = 0;
  for (size_t i = 0; i < t->chains.count; i++) {
    struct kp_chain *ch = t->chains.items[i];
    for (size_t k = 0; k < ch->rules.count; k++)
      with += ((struct kp_rule *)ch->rules.items[k])->counters.present;
  }
  ck_assert_uint_eq(with, 0);
  kp_snapshot_free(s);
}
END_TEST

int main(void) {
  const char *skip = setup();
  Suite *s = suite_create("live_nft");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 60);
  if (skip != NULL) {
    printf("SKIP: test_live_nft: %s\n", skip);
  } else {
    tcase_add_test(tc, same_snapshot_as_libiptc);
    tcase_add_test(tc, nat_rules_by_hand);
    tcase_add_test(tc, filter_rules_by_hand);
    tcase_add_test(tc, ipv6_nat);
    tcase_add_test(tc, comment_in_xt_match_and_userdata);
    tcase_add_test(tc, unchanged_generation_uses_cache);
    tcase_add_test(tc, shared_cache_iptables_nft);
    if (have_corpus)
      tcase_add_test(tc, kube_proxy_nftables_mode);
    if (have_corpus)
      tcase_add_test(tc, shared_cache_nftables_mode);
    else
      printf("SKIP: kube_proxy_nftables_mode, shared_cache_nftables_mode: %s absent\n", corpus_nft);
  }
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ns_cleanup();
  return failed == 0 ? 0 : 1;
}
