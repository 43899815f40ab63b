/* The live parts of make bench, one mode per run (tests/bench/bench.sh runs
 * each as a whole process with bench_run, inside the bench namespace):
 *   raw       the floor: IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES of filter,
 *             nat and mangle into a buffer (the kernel's copy, nothing else)
 *   walk      a bare libiptc reader: iptc_init + every chain and rule with
 *             its counters and target (no decoding)
 *   nftdump   a bare libnftnl reader: ip filter/nat/mangle chain lists, then
 *             each chain's rules dumped and parsed (nftnl_rule_nlmsg_parse)
 *   reads BACKEND N
 *             in one process, the plugin's way (one kp_live_source): the
 *             first read, N reads of an unchanged ruleset, N reads each
 *             after one kube-proxy-style change (a rule added or deleted in
 *             nat KUBE-SERVICES), and N bare libiptc walks (legacy) for the
 *             ratio; prints "first_ms unchanged_ms changed_ms walk_ms rules
 *             unchanged_eval_ms" (medians of the reads alone; eval adds
 *             finalize and every check; walk_ms 0 for nft).
 *   refreshfloor N
 *             the kernel's part of an nft read with the generation
 *             unchanged: NFT_MSG_GETGEN and the rule dumps of the chains
 *             whose counters that read refreshes (every built-in chain, nat
 *             KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, filter
 *             KUBE-SERVICES), the messages received and not parsed; prints
 *             the median ms of N.
 *   churn N INTERVAL_MS
 *             one kept nft source read N times, INTERVAL_MS apart (while a
 *             writer started by tests/bench/churn-bench.sh commits); a
 *             failed read is counted, not fatal; prints "failed N
 *             median_ms max_ms" and each failure's message on stderr. */
#include "kp/checks.h"
#include "kp/live.h"

#include <errno.h>
#include <libiptc/libiptc.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 101

static const char *const tables[] = {"filter", "nat", "mangle"};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

/* ---- raw kernel copy ------------------------------------------------------ */

static int raw_copy(void) {
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0)
    return perror("socket"), 1;
  size_t total = 0;
  for (size_t t = 0; t < 3; t++) {
    struct ipt_getinfo info = {0};
    snprintf(info.name, sizeof(info.name), "%s", tables[t]);
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len) != 0)
      continue;
    len = (socklen_t)(sizeof(struct ipt_get_entries) + info.size);
    struct ipt_get_entries *entries = malloc(len);
    if (entries == NULL)
      return 1;
    snprintf(entries->name, sizeof(entries->name), "%s", tables[t]);
    entries->size = info.size;
    if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_ENTRIES, entries, &len) != 0)
      return perror("IPT_SO_GET_ENTRIES"), 1;
    total += entries->size;
    free(entries);
  }
  close(fd);
  return total == 0;
}

/* ---- bare libiptc walk ------------------------------------------------------ */

static uint64_t libiptc_walk(void) {
  uint64_t sink = 0;
  for (size_t t = 0; t < 3; t++) {
    struct xtc_handle *h = iptc_init(tables[t]);
    if (h == NULL)
      continue;
    for (const char *c = iptc_first_chain(h); c; c = iptc_next_chain(h))
      for (const struct ipt_entry *e = iptc_first_rule(c, h); e; e = iptc_next_rule(e, h))
        sink += e->counters.pcnt + (uint64_t)iptc_get_target(e, h)[0];
    iptc_free(h);
  }
  return sink;
}

/* ---- bare libnftnl chain-by-chain dump ------------------------------------- */

struct nft_bench {
  struct mnl_socket *nl;
  uint32_t portid, seq;
  char buf[1 << 16];
  char (*names)[64]; /* one table's chain names (a nat table has 4 per service) */
  size_t n_names, cap_names;
  const char *table; /* the kernel does not filter chain dumps by table: names_cb does */
  size_t rules;
};

static int names_cb(const struct nlmsghdr *nlh, void *arg) {
  struct nft_bench *b = arg;
  struct nftnl_chain *c = nftnl_chain_alloc();
  const char *table = c != NULL && nftnl_chain_nlmsg_parse(nlh, c) == 0
                          ? nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)
                          : NULL;
  if (table != NULL && strcmp(table, b->table) == 0) {
    if (b->n_names == b->cap_names) {
      size_t cap = b->cap_names ? 2 * b->cap_names : 4096;
      char(*names)[64] = realloc(b->names, cap * sizeof(*names));
      if (names == NULL)
        return nftnl_chain_free(c), MNL_CB_ERROR;
      b->names = names;
      b->cap_names = cap;
    }
    snprintf(b->names[b->n_names++], 64, "%s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
  }
  nftnl_chain_free(c);
  return MNL_CB_OK;
}

static int rules_cb(const struct nlmsghdr *nlh, void *arg) {
  struct nft_bench *b = arg;
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (r != NULL && nftnl_rule_nlmsg_parse(nlh, r) == 0)
    b->rules++;
  nftnl_rule_free(r);
  return MNL_CB_OK;
}

static int nft_query(struct nft_bench *b, struct nlmsghdr *nlh, mnl_cb_t cb) {
  if (mnl_socket_sendto(b->nl, nlh, nlh->nlmsg_len) < 0)
    return -1;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(b->nl, b->buf, sizeof(b->buf));
    if (n <= 0)
      return -1;
    int ret = mnl_cb_run(b->buf, (size_t)n, b->seq, b->portid, cb, b);
    if (ret <= MNL_CB_STOP)
      return ret;
  }
}

static int nft_dump(void) {
  static struct nft_bench b;
  b.nl = mnl_socket_open(NETLINK_NETFILTER);
  if (b.nl == NULL || mnl_socket_bind(b.nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return perror("netlink"), 1;
  b.portid = mnl_socket_get_portid(b.nl);
  for (size_t t = 0; t < 3; t++) {
    b.n_names = 0;
    b.table = tables[t];
    struct nftnl_chain *req = nftnl_chain_alloc();
    nftnl_chain_set_str(req, NFTNL_CHAIN_TABLE, tables[t]);
    struct nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(b.buf, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_DUMP, ++b.seq);
    nftnl_chain_nlmsg_build_payload(nlh, req);
    nftnl_chain_free(req);
    if (nft_query(&b, nlh, names_cb) < 0)
      continue;
    for (size_t i = 0; i < b.n_names; i++) {
      struct nftnl_rule *r = nftnl_rule_alloc();
      nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tables[t]);
      nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, b.names[i]);
      nlh = nftnl_nlmsg_build_hdr(b.buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, ++b.seq);
      nftnl_rule_nlmsg_build_payload(nlh, r);
      nftnl_rule_free(r);
      nft_query(&b, nlh, rules_cb);
    }
  }
  mnl_socket_close(b.nl);
  free(b.names);
  return b.rules == 0;
}

/* ---- the floor of a counter refresh ---------------------------------------- */

static int count_cb(const struct nlmsghdr *nlh, void *arg) {
  (void)nlh;
  ((struct nft_bench *)arg)->rules++;
  return MNL_CB_OK;
}

/* The chains live_nft_cache.c refreshes on an unchanged generation. */
static const char *const refreshed_chains[][2] = {
    {"filter", "INPUT"},         {"filter", "FORWARD"},       {"filter", "OUTPUT"},
    {"filter", "KUBE-SERVICES"}, {"nat", "PREROUTING"},       {"nat", "INPUT"},
    {"nat", "OUTPUT"},           {"nat", "POSTROUTING"},      {"nat", "KUBE-SERVICES"},
    {"nat", "KUBE-NODEPORTS"},   {"nat", "KUBE-POSTROUTING"}, {"mangle", "PREROUTING"},
    {"mangle", "INPUT"},         {"mangle", "FORWARD"},       {"mangle", "OUTPUT"},
    {"mangle", "POSTROUTING"},
};

static int refresh_floor(int n) {
  static struct nft_bench b;
  static double ms[MAX_RUNS];
  b.nl = mnl_socket_open(NETLINK_NETFILTER);
  if (b.nl == NULL || mnl_socket_bind(b.nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return perror("netlink"), 1;
  b.portid = mnl_socket_get_portid(b.nl);
  for (int i = 0; i < n; i++) {
    double t0 = now_ms();
    struct nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(b.buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK, ++b.seq);
    nft_query(&b, nlh, count_cb);
    b.rules = 0; /* the generation message */
    for (size_t c = 0; c < sizeof(refreshed_chains) / sizeof(refreshed_chains[0]); c++) {
      struct nftnl_rule *r = nftnl_rule_alloc();
      nftnl_rule_set_str(r, NFTNL_RULE_TABLE, refreshed_chains[c][0]);
      nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, refreshed_chains[c][1]);
      nlh = nftnl_nlmsg_build_hdr(b.buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, ++b.seq);
      nftnl_rule_nlmsg_build_payload(nlh, r);
      nftnl_rule_free(r);
      nft_query(&b, nlh, count_cb); /* a chain that does not exist: an error, ignored */
    }
    ms[i] = now_ms() - t0;
  }
  mnl_socket_close(b.nl);
  printf("%.3f %zu\n", median(ms, n), b.rules);
  return b.rules == 0;
}

/* ---- the plugin's reads ------------------------------------------------------ */

/* One read the plugin's way; returns the read's ms, *eval_ms the read plus
 * finalize and every check. */
static double timed_read(struct kp_live_source *source, const struct kp_live_options *opt,
                         size_t *rules, double *eval_ms) {
  struct kp_check_config cfg;
  struct kp_report report;
  struct kp_live_error err;
  kp_check_config_init(&cfg);
  double t0 = now_ms();
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap == NULL || kp_live_source_read(source, snap, opt, &err) != 0) {
    fprintf(stderr, "bench_live: %s\n", err.message);
    exit(1);
  }
  double ms = now_ms() - t0;
  kp_snapshot_finalize(snap);
  kp_checks_run(snap, &cfg, NULL, &report);
  *eval_ms = now_ms() - t0;
  *rules = kp_snapshot_rule_count(snap);
  kp_report_free(&report);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
  return ms;
}

/* nft with sync_file: also n kube-proxy partial syncs (the file fed to
 * iptables-nft-restore --noflush, the same rules written again: the kernel
 * replaces them), each followed by a timed read. */
static int reads(const char *backend, int n, const char *sync_file) {
  bool nft = strcmp(backend, "nft") == 0;
  struct kp_live_options opt = {.backend = nft ? KP_BACKEND_NFT : KP_BACKEND_LEGACY};
  struct kp_live_source *source = kp_live_source_new();
  static double unchanged[MAX_RUNS], changed[MAX_RUNS], walk[MAX_RUNS], eval[MAX_RUNS],
      synced[MAX_RUNS];
  size_t rules = 0;
  double first_eval, changed_eval;
  double first = timed_read(source, &opt, &rules, &first_eval);
  for (int i = 0; i < n; i++)
    unchanged[i] = timed_read(source, &opt, &rules, &eval[i]);
  for (int i = 0; i < 2 * ((n + 1) / 2); i++) { /* even: the last change is undone */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "iptables-%s -t nat -%c KUBE-SERVICES -d 10.99.0.1/32 -p tcp --dport 80 -j RETURN",
             nft ? "nft" : "legacy", i % 2 ? 'D' : 'I');
    if (system(cmd) != 0)
      return fprintf(stderr, "bench_live: %s failed\n", cmd), 1;
    changed[i] = timed_read(source, &opt, &rules, &changed_eval);
  }
  for (int i = 0; i < n && nft && sync_file != NULL; i++) {
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "iptables-nft-restore --noflush < '%s'", sync_file);
    if (system(cmd) != 0)
      return fprintf(stderr, "bench_live: %s failed\n", cmd), 1;
    synced[i] = timed_read(source, &opt, &rules, &changed_eval);
  }
  for (int i = 0; i < n && !nft; i++) {
    double t0 = now_ms();
    walk[i] = libiptc_walk() == 1 ? 0 : now_ms() - t0;
  }
  kp_live_source_free(source);
  printf("%.3f %.3f %.3f %.3f %zu %.3f %.3f\n", first, median(unchanged, n), median(changed, n),
         nft ? 0.0 : median(walk, n), rules, median(eval, n),
         nft && sync_file != NULL ? median(synced, n) : 0.0);
  return 0;
}

/* N reads of one kept source, interval_ms apart: failures and latency. */
static int churn(int n, int interval_ms) {
  struct kp_live_options opt = {.backend = KP_BACKEND_NFT};
  struct kp_live_source *source = kp_live_source_new();
  static double ms[MAX_RUNS];
  int failed = 0;
  double worst = 0;
  for (int i = 0; i < n; i++) {
    struct kp_live_error err;
    struct kp_snapshot *snap = kp_snapshot_new();
    double t0 = now_ms();
    if (snap == NULL || kp_live_source_read(source, snap, &opt, &err) != 0) {
      failed++;
      fprintf(stderr, "bench_live churn: read %d: %s\n", i, err.message);
    }
    ms[i] = now_ms() - t0;
    worst = ms[i] > worst ? ms[i] : worst;
    kp_snapshot_free(snap);
    double left = interval_ms - ms[i];
    if (left > 0 && i + 1 < n)
      usleep((useconds_t)(left * 1000));
  }
  kp_live_source_free(source);
  printf("failed %d %d %.1f %.1f\n", failed, n, median(ms, n), worst);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "raw") == 0)
    return raw_copy();
  if (argc >= 2 && strcmp(argv[1], "walk") == 0)
    return libiptc_walk() == 1;
  if (argc >= 2 && strcmp(argv[1], "nftdump") == 0)
    return nft_dump();
  if (argc >= 3 && strcmp(argv[1], "refreshfloor") == 0) {
    int n = atoi(argv[2]);
    return refresh_floor(n < 1 || n >= MAX_RUNS ? 5 : n);
  }
  if (argc >= 4 && strcmp(argv[1], "reads") == 0) {
    int n = atoi(argv[3]);
    return reads(argv[2], n < 1 || n >= MAX_RUNS ? 5 : n, argc >= 5 ? argv[4] : NULL);
  }
  if (argc >= 4 && strcmp(argv[1], "churn") == 0) {
    int n = atoi(argv[2]);
    return churn(n < 1 || n >= MAX_RUNS ? 5 : n, atoi(argv[3]));
  }
  fprintf(stderr, "usage: bench_live raw | walk | nftdump | refreshfloor N | reads legacy|nft N "
                  "[partial-sync-file] | churn N INTERVAL_MS\n");
  return 64;
}
