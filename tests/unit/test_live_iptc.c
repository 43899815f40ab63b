/* The libiptc source against real kernel tables: main() creates a network
 * namespace kp-ut-<pid>, loads a kube-proxy-like ruleset with
 * iptables-legacy-restore / ip6tables-legacy-restore, and every test reads
 * it back through kp_netns_run / kp_live_read. Each expected value below is
 * copied from the ruleset text in this file, not from the reader's output.
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and the legacy tools: prints
 * "SKIP: ..." and runs no test otherwise. The namespace is deleted at exit
 * (also on SIGINT/SIGTERM); Check's forked children never delete it. */
#include "kp/live.h"
#include "kp/model.h"
#include "live_internal.h"
#include "live_iptc_blob.h"
#include "support_snapshot_builder.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char ns_name[64];
static char ns_path[128];
static pid_t main_pid;
static bool have_ipset;

static const char ruleset_v4[] =
    "*filter\n"
    ":INPUT ACCEPT [11:1100]\n"
    ":FORWARD DROP [7:700]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":KUBE-FORWARD - [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n"
    "-A INPUT -i eth0 -m state --state NEW -j KUBE-SERVICES\n"
    "[3:180] -A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
    "-A FORWARD ! -i veth+ -o eth1 -j ACCEPT\n"
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
    "0x4000/0x4000 -j ACCEPT\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack "
    "--ctstate RELATED,ESTABLISHED -j ACCEPT\n"
    "-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment \"default/empty:http has no "
    "endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n";

/* Then, only when the ipset tool works, an IPVS-mode rule in the same
 * filter table (a later "restore -n" would zero the policy counters). */
static const char ruleset_v4_ipset[] = ":KUBE-IPVS-TEST - [0:0]\n"
                                       "-A KUBE-IPVS-TEST -m set ! --match-set KUBE-LOOP-BACK "
                                       "dst,dst,src -j RETURN\n";

static const char ruleset_v4_rest[] =
    "COMMIT\n"
    "*nat\n"
    ":PREROUTING ACCEPT [0:0]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [5:250]\n"
    ":KUBE-SVC-ABC - [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n"
    ":KUBE-SEP-BBB - [0:0]\n"
    ":KUBE-SEP-AAA - [0:0]\n"
    ":KUBE-POSTROUTING - [0:0]\n"
    ":KUBE-NODEPORTS - [0:0]\n"
    ":KUBE-MARK-MASQ - [0:0]\n"
    ":TEST-SNAT - [0:0]\n"
    "[2675:160500] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j "
    "KUBE-SERVICES\n"
    "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
    "-A POSTROUTING -o eth1 -j TEST-SNAT\n"
    "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
    "MASQUERADE --random-fully\n"
    "-A KUBE-SEP-AAA -s 10.180.0.1/32 -m comment --comment \"default/web:http\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-AAA -p tcp -m comment --comment \"default/web:http\" -m tcp -j DNAT "
    "--to-destination 10.180.0.1:80\n"
    "-A KUBE-SEP-BBB -s 10.180.0.2/32 -m comment --comment \"default/web:http\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-BBB -p tcp -m comment --comment \"default/web:http\" -m tcp -j DNAT "
    "--to-destination 10.180.0.2:8080-8081\n"
    "-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http cluster "
    "IP\" -m tcp --dport 80 -j KUBE-SVC-ABC\n"
    "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
    "the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
    "-A KUBE-NODEPORTS -p udp -m addrtype ! --src-type LOCAL -m udp ! --sport 53 --dport "
    "30000:30010 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-ABC ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "
    "\"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-ABC -m comment --comment \"default/web:http -> 10.180.0.1:80\" -m statistic "
    "--mode random --probability 0.3333333333 -j KUBE-SEP-AAA\n"
    "-A KUBE-SVC-ABC -m comment --comment \"default/web:http -> 10.180.0.2:8080\" -g "
    "KUBE-SEP-BBB\n"
    "-A TEST-SNAT -p tcp -j SNAT --to-source 192.168.1.1-192.168.1.5:1000-2000\n"
    "COMMIT\n"
    "*mangle\n"
    ":PREROUTING ACCEPT [0:0]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":FORWARD ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":KUBE-IPTABLES-HINT - [0:0]\n"
    "COMMIT\n";

static const char ruleset_v6[] =
    "*nat\n"
    ":PREROUTING ACCEPT [0:0]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n"
    ":KUBE-SEP-V6 - [0:0]\n"
    ":KUBE-POSTROUTING - [0:0]\n"
    "-A OUTPUT -j KUBE-SERVICES\n"
    "-A POSTROUTING -j KUBE-POSTROUTING\n"
    "-A KUBE-POSTROUTING -m comment --comment \"v6 snat\" -j MASQUERADE --random-fully\n"
    "-A KUBE-SERVICES -d fd00:10:96::10/128 -p tcp -m tcp --dport 80 -j KUBE-SEP-V6\n"
    "[9:900] -A KUBE-SEP-V6 -s fd00:10:244::/64 -p tcp -m tcp -j DNAT --to-destination "
    "[fd00:10:180::1]:8080\n"
    "COMMIT\n"
    "*filter\n"
    ":INPUT ACCEPT [0:0]\n"
    ":FORWARD ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    "-A INPUT -d fd00::99/128 -p tcp -j REJECT --reject-with icmp6-port-unreachable\n"
    "COMMIT\n";

/* ---- namespace setup ---------------------------------------------------------- */

static void ns_cleanup(void) {
  if (getpid() != main_pid || ns_name[0] == '\0')
    return;
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns_name);
  if (system(cmd) != 0)
    fprintf(stderr, "NOTE: could not delete netns %s\n", ns_name);
  ns_name[0] = '\0';
}

static void on_signal(int sig) {
  ns_cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static int sh(const char *fmt, const char *arg) {
  char cmd[512];
  snprintf(cmd, sizeof(cmd), fmt, ns_name, arg);
  return system(cmd);
}

/* Feeds the concatenated parts (NULL-terminated) to tool -c in the netns. */
static int load(const char *tool, const char *const *parts) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -c", ns_name, tool);
  FILE *p = popen(cmd, "w");
  if (p == NULL)
    return -1;
  for (; *parts != NULL; parts++)
    fputs(*parts, p);
  return pclose(p) == 0 ? 0 : -1;
}

/* Returns NULL when ready, else the reason to skip. */
static const char *ns_setup(void) {
  if (geteuid() != 0)
    return "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create a network namespace";
  if (system("command -v iptables-legacy-restore >/dev/null 2>&1 && "
             "command -v ip6tables-legacy-restore >/dev/null 2>&1 && "
             "command -v ip >/dev/null 2>&1") != 0)
    return "iptables-legacy-restore, ip6tables-legacy-restore or ip not installed";
  main_pid = getpid();
  snprintf(ns_name, sizeof(ns_name), "kp-ut-%ld", (long)main_pid);
  snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", ns_name);
  atexit(ns_cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (sh("ip netns add %s%s", "") != 0) {
    ns_name[0] = '\0';
    return "ip netns add failed";
  }
  have_ipset = system("command -v ipset >/dev/null 2>&1") == 0 &&
               sh("ip netns exec %s ipset create KUBE-LOOP-BACK hash:ip,port,ip%s", "") == 0;
  if (!have_ipset)
    printf("NOTE: ipset not usable: the match-set test is not run\n");
  const char *v4[] = {ruleset_v4, have_ipset ? ruleset_v4_ipset : "", ruleset_v4_rest, NULL};
  const char *v6[] = {ruleset_v6, NULL};
  if (load("iptables-legacy-restore", v4) != 0)
    return "iptables-legacy-restore failed (kernel without legacy x_tables?)";
  if (load("ip6tables-legacy-restore", v6) != 0)
    return "ip6tables-legacy-restore failed (kernel without ip6_tables?)";
  return NULL;
}

/* ---- reading helpers ------------------------------------------------------------ */

struct read_job {
  struct kp_snapshot *snap;
  enum kp_family family;
  const char *table;
  struct kp_live_error *err;
};

static int read_job_fn(void *arg) {
  struct read_job *job = arg;
  return kp_iptc_read_table(job->snap, job->family, job->table, job->err);
}

static struct kp_snapshot *read_table(enum kp_family family, const char *table) {
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap != NULL)
    snap->rule_text = true; /* the text is checked below, as iptables-save prints it */
  struct kp_live_error err = {0};
  struct read_job job = {snap, family, table, &err};
  ck_assert_ptr_nonnull(snap);
  int rc = kp_netns_run(ns_path, read_job_fn, &job, &err);
  ck_assert_msg(rc == 0, "read %s: %s", table, err.message);
  return snap;
}

static struct kp_chain *chain_of(struct kp_snapshot *snap, enum kp_family family, const char *table,
                                 const char *name) {
  struct kp_chain *c = kp_snapshot_chain(snap, family, KP_BACKEND_LEGACY, table, name);
  ck_assert_msg(c != NULL, "chain %s/%s missing", table, name);
  return c;
}

static struct kp_rule *rule_of(struct kp_chain *chain, size_t index) {
  ck_assert_msg(index < chain->rules.count, "%s has %zu rules, wanted #%zu", chain->name,
                chain->rules.count, index);
  return chain->rules.items[index];
}

static void assert_addr(const struct kp_addr *a, const char *text, unsigned prefix, bool neg) {
  uint8_t want[16] = {0};
  bool v6 = strchr(text, ':') != NULL;
  ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, text, want), 1);
  ck_assert_int_eq(a->kind, v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4);
  ck_assert_uint_eq(a->prefix_len, prefix);
  ck_assert_int_eq(a->negated, neg);
  ck_assert_mem_eq(a->bytes, want, v6 ? 16 : 4);
}

/* ---- tests: nat ------------------------------------------------------------------- */

START_TEST(nat_chains_and_policies) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "nat");
  struct kp_table *t = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", false);
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(t->backend, KP_BACKEND_LEGACY);
  ck_assert_str_eq(t->source, "kernel");
  /* 4 built-ins + 8 user chains declared in ruleset_v4. */
  ck_assert_uint_eq(t->chains.count, 12);
  const char *builtins[] = {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
  for (size_t i = 0; i < 4; i++) {
    struct kp_chain *c = t->chains.items[i];
    ck_assert_str_eq(c->name, builtins[i]);
    ck_assert(c->builtin);
    ck_assert_str_eq(kp_chain_ext(c)->policy, "ACCEPT");
  }
  struct kp_chain *post = chain_of(snap, KP_FAMILY_IPV4, "nat", "POSTROUTING");
  ck_assert(kp_chain_ext(post)->policy_counters.present);
  ck_assert_uint_eq(kp_chain_ext(post)->policy_counters.packets, 5);
  ck_assert_uint_eq(kp_chain_ext(post)->policy_counters.bytes, 250);
  struct kp_chain *svc = chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-SVC-ABC");
  ck_assert(!svc->builtin);
  ck_assert_ptr_null(kp_chain_ext(svc)->policy);
  ck_assert_uint_eq(svc->rules.count, 3);
  ck_assert_uint_eq(chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-POSTROUTING")->rules.count, 3);
  ck_assert_uint_eq(chain_of(snap, KP_FAMILY_IPV4, "nat", "PREROUTING")->rules.count, 1);

  struct kp_rule *pre = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "PREROUTING"), 0);
  ck_assert(pre->counters.present);
  ck_assert_uint_eq(pre->counters.packets, 2675);
  ck_assert_uint_eq(pre->counters.bytes, 160500);
  ck_assert_ptr_null(kp_rule_ext(pre)->counter_texts.packets);
  ck_assert_str_eq(pre->comment, "kubernetes service portals");
  ck_assert_int_eq(pre->target, KP_TARGET_JUMP);
  ck_assert_str_eq(pre->target_name, "KUBE-SERVICES");
  ck_assert_str_eq(kp_rule_source(pre), "kernel");
  ck_assert_uint_eq(kp_rule_ext(pre)->line, 0);
  ck_assert_str_eq(kp_rule_ext(pre)->text,
                   "-A PREROUTING -m comment --comment \"kubernetes service portals\" "
                   "-j KUBE-SERVICES");
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  ck_assert_uint_eq(chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-MARK-MASQ")->referrers.count, 4);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nat_service_rules) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "nat");
  struct kp_chain *services = chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-SERVICES");
  struct kp_rule *r = rule_of(services, 0);
  ck_assert_int_eq(r->src.kind, KP_ADDR_ANY);
  assert_addr(&r->dst, "10.96.0.10", 32, false);
  ck_assert(r->proto_present && !r->proto_negated);
  ck_assert_uint_eq(r->proto, 6);
  ck_assert(r->dport.present && !r->dport.negated);
  ck_assert_uint_eq(r->dport.lo, 80);
  ck_assert_uint_eq(r->dport.hi, 80);
  ck_assert(!kp_rule_ext(r)->sport.present);
  ck_assert_str_eq(r->comment, "default/web:http cluster IP");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "KUBE-SVC-ABC");
  ck_assert_str_eq(kp_rule_ext(r)->text,
                   "-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "
                   "\"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-ABC");

  r = rule_of(services, 1);
  ck_assert_str_eq(r->comment, "kubernetes service nodeports; NOTE: this must be the last rule "
                               "in this chain");
  ck_assert_str_eq(kp_rule_ext(r)->dst_type, "LOCAL");
  ck_assert(!kp_rule_ext(r)->dst_type_negated);
  ck_assert_ptr_null(kp_rule_ext(r)->src_type);
  ck_assert_str_eq(r->target_name, "KUBE-NODEPORTS");

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-NODEPORTS"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->src_type, "LOCAL");
  ck_assert(kp_rule_ext(r)->src_type_negated);
  ck_assert_uint_eq(r->proto, 17);
  ck_assert(kp_rule_ext(r)->sport.present && kp_rule_ext(r)->sport.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->sport.lo, 53);
  ck_assert_uint_eq(kp_rule_ext(r)->sport.hi, 53);
  ck_assert(r->dport.present && !r->dport.negated);
  ck_assert_uint_eq(r->dport.lo, 30000);
  ck_assert_uint_eq(r->dport.hi, 30010);

  struct kp_chain *svc = chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-SVC-ABC");
  r = rule_of(svc, 0);
  assert_addr(&r->src, "10.244.0.0", 16, true);
  assert_addr(&r->dst, "10.96.0.10", 32, false);
  ck_assert_str_eq(r->target_name, "KUBE-MARK-MASQ");
  r = rule_of(svc, 1);
  ck_assert_str_eq(r->comment, "default/web:http -> 10.180.0.1:80");
  /* 0.3333333333 * 2^31 rounds to 715827883; / 2^31 = 0.333333333488..., 11 decimals. */
  ck_assert_str_eq(r->probability, "0.33333333349");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "KUBE-SEP-AAA");
  r = rule_of(svc, 2);
  ck_assert_ptr_null(r->probability);
  ck_assert_int_eq(r->target, KP_TARGET_GOTO);
  ck_assert_str_eq(r->target_name, "KUBE-SEP-BBB");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nat_endpoint_dnat) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "nat");
  struct kp_chain *aaa = chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-SEP-AAA");
  struct kp_rule *r = rule_of(aaa, 0);
  assert_addr(&r->src, "10.180.0.1", 32, false);
  ck_assert_str_eq(r->comment, "default/web:http");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  r = rule_of(aaa, 1);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  ck_assert_str_eq(r->target_name, "DNAT");
  assert_addr(&r->nat_addr, "10.180.0.1", 32, false);
  ck_assert(r->nat_ports.present);
  ck_assert_uint_eq(r->nat_ports.lo, 80);
  ck_assert_uint_eq(r->nat_ports.hi, 80);
  ck_assert_str_eq(tsb_nat_text(r), "10.180.0.1:80");
  ck_assert_str_eq(kp_rule_ext(r)->text,
                   "-A KUBE-SEP-AAA -p tcp -m comment --comment \"default/web:http\" -m "
                   "tcp -j DNAT --to-destination 10.180.0.1:80");

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-SEP-BBB"), 1);
  assert_addr(&r->nat_addr, "10.180.0.2", 32, false);
  ck_assert_uint_eq(r->nat_ports.lo, 8080);
  ck_assert_uint_eq(r->nat_ports.hi, 8081);
  ck_assert_str_eq(tsb_nat_text(r), "10.180.0.2:8080-8081");

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "TEST-SNAT"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_SNAT);
  assert_addr(&r->nat_addr, "192.168.1.1", 32, false);
  ck_assert_uint_eq(r->nat_ports.lo, 1000);
  ck_assert_uint_eq(r->nat_ports.hi, 2000);
  ck_assert_str_eq(tsb_nat_text(r), "192.168.1.1-192.168.1.5:1000-2000");
  ck_assert(!r->random_fully);

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "POSTROUTING"), 1);
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "eth1");
  ck_assert_ptr_null(kp_rule_ext(r)->in_iface);
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(kp_rule_ext(r)->text, "-A POSTROUTING -o eth1 -j TEST-SNAT");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(nat_masquerade_chains) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "nat");
  struct kp_rule *r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-MARK-MASQ"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_MARK);
  ck_assert(kp_rule_ext(r)->mark_target);
  /* --or-mark 0x4000 == --set-xmark 0x4000/0x4000 */
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0x4000);

  struct kp_chain *post = chain_of(snap, KP_FAMILY_IPV4, "nat", "KUBE-POSTROUTING");
  r = rule_of(post, 0);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  ck_assert_int_eq(r->target, KP_TARGET_RETURN);
  ck_assert_str_eq(r->target_name, "RETURN");
  r = rule_of(post, 1);
  /* --xor-mark 0x4000 == --set-xmark 0x4000/0x0 */
  ck_assert(kp_rule_ext(r)->mark_target);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->xmark_mask, 0);
  ck_assert(!kp_rule_ext(r)->mark.present);
  r = rule_of(post, 2);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);
  ck_assert_str_eq(r->comment, "kubernetes service traffic requiring SNAT");
  ck_assert_int_eq(r->nat_addr.kind, KP_ADDR_ANY);
  ck_assert(!r->nat_ports.present);
  kp_snapshot_free(snap);
}
END_TEST

/* ---- tests: filter, mangle, ip6 -------------------------------------------------- */

START_TEST(filter_rules) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "filter");
  struct kp_chain *fwd = chain_of(snap, KP_FAMILY_IPV4, "filter", "FORWARD");
  ck_assert_str_eq(kp_chain_ext(fwd)->policy, "DROP");
  ck_assert_uint_eq(kp_chain_ext(fwd)->policy_counters.packets, 7);
  ck_assert_uint_eq(kp_chain_ext(fwd)->policy_counters.bytes, 700);
  struct kp_rule *r = rule_of(fwd, 0);
  ck_assert_uint_eq(r->counters.packets, 3);
  ck_assert_uint_eq(r->counters.bytes, 180);
  r = rule_of(fwd, 1);
  ck_assert_str_eq(kp_rule_ext(r)->in_iface, "!veth+");
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "eth1");
  ck_assert_int_eq(r->target, KP_TARGET_ACCEPT);
  ck_assert_str_eq(kp_rule_ext(r)->text, "-A FORWARD ! -i veth+ -o eth1 -j ACCEPT");
  ck_assert_str_eq(kp_chain_ext(chain_of(snap, KP_FAMILY_IPV4, "filter", "INPUT"))->policy,
                   "ACCEPT");
  ck_assert_uint_eq(
      kp_chain_ext(chain_of(snap, KP_FAMILY_IPV4, "filter", "INPUT"))->policy_counters.packets, 11);

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "filter", "INPUT"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->in_iface, "eth0");
  ck_assert_ptr_null(kp_rule_ext(r)->out_iface);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "NEW");
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);

  struct kp_chain *kf = chain_of(snap, KP_FAMILY_IPV4, "filter", "KUBE-FORWARD");
  r = rule_of(kf, 0);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "INVALID");
  ck_assert_int_eq(r->target, KP_TARGET_DROP);
  r = rule_of(kf, 1);
  ck_assert(kp_rule_ext(r)->mark.present && !kp_rule_ext(r)->mark.negated);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.value, 0x4000);
  ck_assert_uint_eq(kp_rule_ext(r)->mark.mask, 0x4000);
  ck_assert_int_eq(r->target, KP_TARGET_ACCEPT);
  r = rule_of(kf, 2);
  ck_assert_str_eq(kp_rule_ext(r)->ctstate, "RELATED,ESTABLISHED");
  ck_assert_str_eq(r->comment, "kubernetes forwarding conntrack rule");

  r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "filter", "KUBE-SERVICES"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  ck_assert_str_eq(kp_rule_ext(r)->reject_with, "icmp-port-unreachable");
  ck_assert_str_eq(r->comment, "default/empty:http has no endpoints");
  assert_addr(&r->dst, "10.96.0.20", 32, false);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(filter_match_set) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "filter");
  struct kp_rule *r = rule_of(chain_of(snap, KP_FAMILY_IPV4, "filter", "KUBE-IPVS-TEST"), 0);
  ck_assert_str_eq(kp_rule_ext(r)->match_set, "KUBE-LOOP-BACK");
  ck_assert_str_eq(kp_rule_ext(r)->match_set_flags, "dst,dst,src");
  ck_assert(kp_rule_ext(r)->match_set_negated);
  ck_assert_int_eq(r->target, KP_TARGET_RETURN);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(ipv6_nat_and_filter) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV6, "nat");
  struct kp_rule *r = rule_of(chain_of(snap, KP_FAMILY_IPV6, "nat", "KUBE-SEP-V6"), 0);
  assert_addr(&r->src, "fd00:10:244::", 64, false);
  ck_assert_uint_eq(r->proto, 6);
  ck_assert_int_eq(r->target, KP_TARGET_DNAT);
  assert_addr(&r->nat_addr, "fd00:10:180::1", 128, false);
  ck_assert_uint_eq(r->nat_ports.lo, 8080);
  ck_assert_str_eq(tsb_nat_text(r), "[fd00:10:180::1]:8080");
  ck_assert_uint_eq(r->counters.packets, 9);
  ck_assert_uint_eq(r->counters.bytes, 900);
  r = rule_of(chain_of(snap, KP_FAMILY_IPV6, "nat", "KUBE-SERVICES"), 0);
  assert_addr(&r->dst, "fd00:10:96::10", 128, false);
  ck_assert_uint_eq(r->dport.lo, 80);
  ck_assert_str_eq(r->target_name, "KUBE-SEP-V6");
  r = rule_of(chain_of(snap, KP_FAMILY_IPV6, "nat", "KUBE-POSTROUTING"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  ck_assert(r->random_fully);
  ck_assert_str_eq(r->comment, "v6 snat");
  /* No IPv4 table was read. */
  ck_assert_ptr_null(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", false));

  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  kp_snapshot_free(snap);
  snap = read_table(KP_FAMILY_IPV6, "filter");
  r = rule_of(chain_of(snap, KP_FAMILY_IPV6, "filter", "INPUT"), 0);
  ck_assert_int_eq(r->target, KP_TARGET_REJECT);
  ck_assert_str_eq(kp_rule_ext(r)->reject_with, "icmp6-port-unreachable");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(read_twice_replaces_table) {
  struct kp_snapshot *snap = read_table(KP_FAMILY_IPV4, "nat");
  struct kp_live_error err = {0};
  struct read_job job = {snap, KP_FAMILY_IPV4, "nat", &err};
  ck_assert_int_eq(kp_netns_run(ns_path, read_job_fn, &job, &err), 0);
  ck_assert_uint_eq(snap->tables.count, 1);
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 19); /* the nat rules of ruleset_v4 */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(missing_table_is_named) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_live_error err = {0};
  struct read_job job = {snap, KP_FAMILY_IPV4, "nosuchtable", &err};
  ck_assert_int_eq(kp_netns_run(ns_path, read_job_fn, &job, &err), -1);
  ck_assert_int_eq(err.fault, KP_LIVE_NO_TABLE);
  ck_assert_int_eq(err.err_no, ENOENT);
  ck_assert_msg(strstr(err.message, "table nosuchtable") != NULL, "%s", err.message);
  ck_assert_uint_eq(snap->tables.count, 0);
  kp_snapshot_free(snap);
}
END_TEST

/* ---- tests: kp_live_read and kp_netns_run ------------------------------------------- */

START_TEST(live_read_auto_all_tables) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_live_options opt = {.backend = KP_BACKEND_UNKNOWN, .ipv6 = true, .netns_path = ns_path};
  struct kp_live_error err;
  ck_assert_msg(kp_live_read(snap, &opt, &err) == 0, "%s", err.message);
  ck_assert_int_eq(err.fault, KP_LIVE_OK);
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "filter", 0));
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", 0));
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "mangle", 0));
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV6, KP_BACKEND_LEGACY, "nat", 0));
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV6, KP_BACKEND_LEGACY, "filter", 0));
  /* raw and ip6 mangle were never created in this namespace: auto mode reads
   * only the tables the kernel lists (and so never creates one). */
  ck_assert_ptr_null(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "raw", 0));
  ck_assert_ptr_null(kp_snapshot_table(snap, KP_FAMILY_IPV6, KP_BACKEND_LEGACY, "mangle", 0));
  ck_assert_ptr_nonnull(
      kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "mangle", "KUBE-IPTABLES-HINT"));
  ck_assert_uint_eq(snap->sources.count, 1);
  ck_assert_str_eq(snap->sources.items[0], "kernel");
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  kp_snapshot_free(snap);

  /* Forced legacy: filter and nat, and the optional tables that exist (raw
   * does not, and is not created); no ipv6. */
  snap = kp_snapshot_new();
  opt.backend = KP_BACKEND_LEGACY;
  opt.ipv6 = false;
  ck_assert_msg(kp_live_read(snap, &opt, &err) == 0, "%s", err.message);
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "filter", 0));
  ck_assert_ptr_nonnull(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "mangle", 0));
  ck_assert_ptr_null(kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "raw", 0));
  ck_assert_ptr_null(kp_snapshot_table(snap, KP_FAMILY_IPV6, KP_BACKEND_LEGACY, "nat", 0));
  kp_snapshot_free(snap);
}
END_TEST

/* ---- a kept source (the plugin's reads) ------------------------------------------------ */

static struct kp_snapshot *read_kept(struct kp_live_source *source) {
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  snap->rule_text = true;
  struct kp_live_options opt = {.backend = KP_BACKEND_LEGACY, .ipv6 = true, .netns_path = ns_path};
  struct kp_live_error err;
  int rc = source != NULL ? kp_live_source_read(source, snap, &opt, &err)
                          : kp_live_read(snap, &opt, &err);
  ck_assert_msg(rc == 0, "%s", err.message);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  return snap;
}

/* Every table, chain and rule of a as in b: text, counters, policies. */
static void assert_same_tables(const struct kp_snapshot *a, const struct kp_snapshot *b) {
  ck_assert_uint_eq(a->tables.count, b->tables.count);
  for (size_t t = 0; t < a->tables.count; t++) {
    const struct kp_table *ta = a->tables.items[t];
    const struct kp_table *tb =
        kp_snapshot_table((struct kp_snapshot *)b, ta->family, ta->backend, ta->name, false);
    ck_assert_msg(tb != NULL, "table %s missing", ta->name);
    ck_assert_uint_eq(ta->chains.count, tb->chains.count);
    for (size_t c = 0; c < ta->chains.count; c++) {
      const struct kp_chain *ca = ta->chains.items[c], *cb = tb->chains.items[c];
      ck_assert_str_eq(ca->name, cb->name);
      ck_assert_int_eq(ca->builtin, cb->builtin);
      ck_assert_str_eq(kp_chain_ext(ca)->policy ? kp_chain_ext(ca)->policy : "-",
                       kp_chain_ext(cb)->policy ? kp_chain_ext(cb)->policy : "-");
      ck_assert_uint_eq(kp_chain_ext(ca)->policy_counters.packets,
                        kp_chain_ext(cb)->policy_counters.packets);
      ck_assert_uint_eq(ca->rules.count, cb->rules.count);
      ck_assert_uint_eq(ca->referrers.count, cb->referrers.count);
      for (size_t r = 0; r < ca->rules.count; r++) {
        const struct kp_rule *ra = ca->rules.items[r], *rb = cb->rules.items[r];
        ck_assert_str_eq(kp_rule_ext(ra)->text, kp_rule_ext(rb)->text);
        ck_assert_int_eq(ra->target, rb->target);
        ck_assert_str_eq(ra->target_name ? ra->target_name : "-",
                         rb->target_name ? rb->target_name : "-");
        ck_assert_msg(ra->counters.present == rb->counters.present &&
                          ra->counters.packets == rb->counters.packets &&
                          ra->counters.bytes == rb->counters.bytes,
                      "%s: %llu vs %llu packets", kp_rule_ext(ra)->text,
                      (unsigned long long)ra->counters.packets,
                      (unsigned long long)rb->counters.packets);
      }
    }
  }
}

/* Every table decoded from its kernel copy (what a kept source does after a
 * change) against libiptc's read of it. */
struct decode_job {
  struct kp_snapshot *copy, *libiptc;
  int decoded;
};

static int decode_job_fn(void *arg) {
  struct decode_job *job = arg;
  static const struct {
    enum kp_family family;
    const char *name;
  } tables[] = {{KP_FAMILY_IPV4, "filter"},
                {KP_FAMILY_IPV4, "nat"},
                {KP_FAMILY_IPV4, "mangle"},
                {KP_FAMILY_IPV6, "filter"},
                {KP_FAMILY_IPV6, "nat"}};
  struct kp_live_error err;
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
    struct kp_iptc_blob blob = {0};
    if (kp_iptc_blob_read(&blob, tables[i].family, tables[i].name) != 0)
      return -1;
    int rc = kp_iptc_blob_decode(&blob, tables[i].family, tables[i].name, job->copy);
    kp_iptc_blob_free(&blob);
    job->decoded += rc == 0;
    if (kp_iptc_read_table(job->libiptc, tables[i].family, tables[i].name, &err) != 0)
      return -1;
  }
  return 0;
}

START_TEST(copy_decodes_as_libiptc) {
  struct decode_job job = {kp_snapshot_new(), kp_snapshot_new(), 0};
  ck_assert_ptr_nonnull(job.copy);
  ck_assert_ptr_nonnull(job.libiptc);
  job.copy->rule_text = job.libiptc->rule_text = true;
  struct kp_live_error err = {0};
  ck_assert_int_eq(kp_netns_run(ns_path, decode_job_fn, &job, &err), 0);
  ck_assert_int_eq(job.decoded, 5);
  ck_assert_int_eq(kp_snapshot_finalize(job.copy), 0);
  ck_assert_int_eq(kp_snapshot_finalize(job.libiptc), 0);
  assert_same_tables(job.copy, job.libiptc);
  assert_same_tables(job.libiptc, job.copy);
  kp_snapshot_free(job.copy);
  kp_snapshot_free(job.libiptc);
}
END_TEST

START_TEST(kept_source_refreshes_counters) {
  struct kp_live_source *source = kp_live_source_new();
  ck_assert_ptr_nonnull(source);
  struct kp_snapshot *first = read_kept(source);
  ck_assert_uint_eq(kp_live_source_legacy_hits(source), 0);
  size_t tables = first->tables.count;
  ck_assert_uint_ge(tables, 4);
  struct kp_rule *sep = rule_of(chain_of(first, KP_FAMILY_IPV6, "nat", "KUBE-SEP-V6"), 0);
  ck_assert_uint_eq(sep->counters.packets, 9);
  /* A kept source decodes the kernel's copy it took (live_iptc_blob_decode.c):
   * the tables are what libiptc's walk gives, chain order included. */
  struct kp_snapshot *by_libiptc = read_kept(NULL);
  assert_same_tables(first, by_libiptc);
  assert_same_tables(by_libiptc, first);
  kp_snapshot_free(by_libiptc);
  kp_snapshot_free(first);

  /* Counters change, rules do not: only the counters are re-read, and the
   * snapshot is what a fresh read gives. */
  ck_assert_int_eq(sh("ip netns exec %s ip6tables-legacy -t nat -Z KUBE-SEP-V6%s", ""), 0);
  for (int round = 0; round < 2; round++) {
    struct kp_snapshot *kept = read_kept(source);
    ck_assert_uint_eq(kp_live_source_legacy_hits(source), tables);
    ck_assert_uint_eq(
        rule_of(chain_of(kept, KP_FAMILY_IPV6, "nat", "KUBE-SEP-V6"), 0)->counters.packets, 0);
    struct kp_snapshot *fresh = read_kept(NULL);
    assert_same_tables(kept, fresh);
    assert_same_tables(fresh, kept);
    kp_snapshot_free(fresh);
    kp_snapshot_free(kept);
  }

  /* A rule changed in place, same size: that table is read afresh. */
  ck_assert_int_eq(
      sh("ip netns exec %s ip6tables-legacy -t nat -R KUBE-SEP-V6 1 -s fd00:10:244::/64 "
         "-p tcp -m tcp -j DNAT --to-destination [fd00:10:180::2]:8080%s",
         ""),
      0);
  struct kp_snapshot *changed = read_kept(source);
  ck_assert_uint_eq(kp_live_source_legacy_hits(source), tables - 1);
  ck_assert_str_eq(
      tsb_nat_text(rule_of(chain_of(changed, KP_FAMILY_IPV6, "nat", "KUBE-SEP-V6"), 0)),
      "[fd00:10:180::2]:8080");
  by_libiptc = read_kept(NULL);
  assert_same_tables(changed, by_libiptc);
  kp_snapshot_free(by_libiptc);
  kp_snapshot_free(changed);

  /* A rule without a target (libiptc names its verdict ""), added at the
   * end of a user chain: decoded from the copy as libiptc reads it. */
  ck_assert_int_eq(sh("ip netns exec %s ip6tables-legacy -t nat -A KUBE-SERVICES -s fd00::1%s", ""),
                   0);
  changed = read_kept(source);
  ck_assert_uint_eq(kp_live_source_legacy_hits(source), tables - 1);
  struct kp_chain *services = chain_of(changed, KP_FAMILY_IPV6, "nat", "KUBE-SERVICES");
  ck_assert_int_eq(rule_of(services, services->rules.count - 1)->target, KP_TARGET_NONE);
  by_libiptc = read_kept(NULL);
  assert_same_tables(changed, by_libiptc);
  kp_snapshot_free(by_libiptc);
  ck_assert_int_eq(sh("ip netns exec %s ip6tables-legacy -t nat -D KUBE-SERVICES -s fd00::1%s", ""),
                   0);
  /* The source goes first: the snapshot keeps the tables it holds. */
  kp_live_source_free(source);
  ck_assert_int_eq(kp_snapshot_finalize(changed), 0);
  kp_snapshot_free(changed);
  ck_assert_int_eq(
      sh("ip netns exec %s ip6tables-legacy -t nat -R KUBE-SEP-V6 1 -s fd00:10:244::/64 "
         "-p tcp -m tcp -j DNAT --to-destination [fd00:10:180::1]:8080%s",
         ""),
      0);
}
END_TEST

/* Does the kernel list this legacy table in the test namespace? */
static bool table_listed(const char *proc_file, const char *table) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "ip netns exec %s grep -qx %s /proc/net/%s", ns_name, table,
           proc_file);
  return system(cmd) == 0;
}

START_TEST(live_read_auto_creates_no_table) {
  ck_assert(!table_listed("ip6_tables_names", "raw"));
  ck_assert(!table_listed("ip6_tables_names", "mangle"));
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_live_options opt = {.backend = KP_BACKEND_UNKNOWN, .ipv6 = true, .netns_path = ns_path};
  struct kp_live_error err;
  ck_assert_msg(kp_live_read(snap, &opt, &err) == 0, "%s", err.message);
  ck_assert(!table_listed("ip6_tables_names", "raw"));
  ck_assert(!table_listed("ip6_tables_names", "mangle"));
  ck_assert(table_listed("ip6_tables_names", "nat")); /* loaded by the fixture */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(live_read_nft_backend_ignores_legacy) {
  /* This namespace holds legacy tables only: the nft backend sees nothing. */
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_live_options opt = {.backend = KP_BACKEND_NFT, .netns_path = ns_path};
  struct kp_live_error err;
  ck_assert_msg(kp_live_read(snap, &opt, &err) == 0, "%s", err.message);
  for (size_t i = 0; i < snap->tables.count; i++)
    ck_assert_int_ne(((struct kp_table *)snap->tables.items[i])->backend, KP_BACKEND_LEGACY);
  ck_assert_uint_eq(snap->tables.count, 0);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(netns_missing_path) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_live_options opt = {.backend = KP_BACKEND_UNKNOWN,
                                .netns_path = "/run/netns/kp-ut-does-not-exist"};
  struct kp_live_error err;
  ck_assert_int_eq(kp_live_read(snap, &opt, &err), -1);
  ck_assert_int_eq(err.fault, KP_LIVE_NO_NETNS);
  ck_assert_int_eq(err.err_no, ENOENT);
  ck_assert_str_eq(err.message,
                   "network namespace /run/netns/kp-ut-does-not-exist: No such file or directory");
  /* A file that is not a namespace. */
  opt.netns_path = "/dev/null";
  ck_assert_int_eq(kp_live_read(snap, &opt, &err), -1);
  ck_assert_int_eq(err.fault, KP_LIVE_NO_NETNS);
  ck_assert_int_eq(err.err_no, EINVAL);
  ck_assert_msg(strstr(err.message, "/dev/null") != NULL, "%s", err.message);
  ck_assert_uint_eq(snap->tables.count, 0);
  kp_snapshot_free(snap);
}
END_TEST

static int ns_ino(const char *path, ino_t *ino) {
  struct stat st;
  if (stat(path, &st) != 0)
    return -1;
  *ino = st.st_ino;
  return 0;
}

static int inside_fn(void *arg) {
  ino_t *seen = arg;
  return ns_ino("/proc/thread-self/ns/net", seen) == 0 ? 42 : -5;
}

START_TEST(netns_runs_on_other_thread) {
  ino_t before, after, inside = 0, target;
  ck_assert_int_eq(ns_ino("/proc/thread-self/ns/net", &before), 0);
  ck_assert_int_eq(ns_ino(ns_path, &target), 0);
  ck_assert(before != target);
  struct kp_live_error err = {0};
  ck_assert_int_eq(kp_netns_run(ns_path, inside_fn, &inside, &err), 42);
  ck_assert(inside == target);
  ck_assert_int_eq(ns_ino("/proc/thread-self/ns/net", &after), 0);
  ck_assert(after == before);
  /* NULL path: runs right here. */
  ck_assert_int_eq(kp_netns_run(NULL, inside_fn, &inside, &err), 42);
  ck_assert(inside == before);
}
END_TEST

/* Drops capabilities from this thread's effective and permitted sets. */
static int drop_caps(const int *caps, size_t n) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    data[caps[i] / 32].effective &= ~(1u << (caps[i] % 32));
    data[caps[i] / 32].permitted &= ~(1u << (caps[i] % 32));
  }
  return (int)syscall(SYS_capset, &hdr, data);
}

/* In a child process (capabilities cannot come back): exit 0 when the read
 * failed with want_fault and want_msg, else a code saying what differed. */
static int unprivileged_read(const int *caps, size_t n, enum kp_live_fault want_fault,
                             const char *want_msg) {
  pid_t pid = fork();
  if (pid == 0) {
    if (drop_caps(caps, n) != 0)
      _exit(10);
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_live_options opt = {.backend = KP_BACKEND_LEGACY, .netns_path = ns_path};
    struct kp_live_error err;
    int rc = kp_live_read(snap, &opt, &err);
    if (rc != -1)
      _exit(11);
    if (err.fault != want_fault)
      _exit(12);
    if (strcmp(err.message, want_msg) != 0) {
      fprintf(stderr, "got message: %s\n", err.message);
      _exit(13);
    }
    _exit(0);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  return WEXITSTATUS(status);
}

START_TEST(no_privilege_is_reported) {
  const int net[] = {CAP_NET_ADMIN, CAP_NET_RAW};
  ck_assert_int_eq(unprivileged_read(net, 2, KP_LIVE_NO_PRIVILEGE,
                                     "reading table filter needs CAP_NET_ADMIN and "
                                     "CAP_NET_RAW (Operation not permitted)"),
                   0);
  const int only_admin[] = {CAP_NET_ADMIN};
  ck_assert_int_eq(unprivileged_read(only_admin, 1, KP_LIVE_NO_PRIVILEGE,
                                     "reading table filter needs CAP_NET_ADMIN and "
                                     "CAP_NET_RAW (Operation not permitted)"),
                   0);
  char msg[256];
  snprintf(msg, sizeof(msg),
           "entering network namespace %s needs CAP_SYS_ADMIN (Operation not permitted)", ns_path);
  const int sys[] = {CAP_SYS_ADMIN};
  ck_assert_int_eq(unprivileged_read(sys, 1, KP_LIVE_NO_PRIVILEGE, msg), 0);
}
END_TEST

int main(void) {
  const char *skip = ns_setup();
  Suite *s = suite_create("live_iptc");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 30);
  if (skip != NULL) {
    printf("SKIP: test_live_iptc: %s\n", skip);
  } else {
    tcase_add_test(tc, nat_chains_and_policies);
    tcase_add_test(tc, nat_service_rules);
    tcase_add_test(tc, nat_endpoint_dnat);
    tcase_add_test(tc, nat_masquerade_chains);
    tcase_add_test(tc, filter_rules);
    if (have_ipset)
      tcase_add_test(tc, filter_match_set);
    tcase_add_test(tc, ipv6_nat_and_filter);
    tcase_add_test(tc, read_twice_replaces_table);
    tcase_add_test(tc, missing_table_is_named);
    tcase_add_test(tc, live_read_auto_all_tables);
    tcase_add_test(tc, copy_decodes_as_libiptc);
    tcase_add_test(tc, kept_source_refreshes_counters);
    tcase_add_test(tc, live_read_auto_creates_no_table);
    tcase_add_test(tc, live_read_nft_backend_ignores_legacy);
    tcase_add_test(tc, netns_missing_path);
    tcase_add_test(tc, netns_runs_on_other_thread);
    tcase_add_test(tc, no_privilege_is_reported);
  }
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ns_cleanup();
  return failed == 0 ? 0 : 1;
}
