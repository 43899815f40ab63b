/* The nf_tables reader following the ruleset through the kernel's change
 * notifications (live_nft_follow.c), root only, in namespaces this test
 * creates (kp-follow-<pid>-{ipt,nft}) and deletes at exit. After each of
 * more than a thousand random kube-proxy-style changes
 * (support_kube_changes.c: partial syncs, services and endpoints added and
 * removed, stale chains deleted, full resyncs, in iptables-nft and in
 * kube-proxy's nftables mode) the followed snapshot must equal a fresh full
 * read (support_snapshot_equal.c), and must have come from the
 * notifications, not from a full read. Then: an overrun, a missed
 * transaction and kept tables still held by a snapshot each fall back to a
 * full read and are counted, and a catch-up that fails half-way leaves
 * nothing behind; the counter refresh of an unchanged generation
 * works on followed tables; the ip6 tables are followed. The seed is
 * printed; KP_FOLLOW_SEED overrides it. */
#include "kp/model.h"
#include "live_internal.h"
#include "live_nft.h"
#include "support_kube_changes.h"
#include "support_snapshot_equal.h"

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { NS_IPT, NS_NFT };
static pid_t main_pid;
static char ns[2][64];
static bool have_ns[2];
static unsigned base_seed = 20261201;
static bool read_ipv6; /* the reads take the ip6 tables too */

/* ---- namespaces ------------------------------------------------------------------ */

static void ns_cleanup(void) {
  if (getpid() != main_pid)
    return;
  for (int i = 0; i < 2; i++) {
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns[i]);
    if (have_ns[i] && system(cmd) != 0)
      fprintf(stderr, "NOTE: could not delete netns %s\n", ns[i]);
    have_ns[i] = false;
  }
}

static void on_signal(int sig) {
  ns_cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static int nsh(int which, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int nsh(int which, const char *fmt, ...) {
  char body[1024], cmd[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof(body), fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof(cmd), "NS=%s; %s", ns[which], body);
  return system(cmd);
}

static const char *setup(void) {
  if (geteuid() != 0)
    return "needs root to create network namespaces";
  if (system("command -v iptables-nft-restore >/dev/null && command -v nft >/dev/null && "
             "command -v ip >/dev/null") != 0)
    return "iptables-nft-restore, nft or ip not installed";
  main_pid = getpid();
  if (system("for n in $(ip netns list | awk '/^kp-follow-[0-9]+-/{print $1}'); do "
             "p=${n#kp-follow-}; p=${p%%-*}; [ -d /proc/$p ] || ip netns del $n; done") != 0)
    printf("NOTE: stale namespace cleanup failed\n");
  snprintf(ns[NS_IPT], sizeof(ns[0]), "kp-follow-%ld-ipt", (long)main_pid);
  snprintf(ns[NS_NFT], sizeof(ns[0]), "kp-follow-%ld-nft", (long)main_pid);
  atexit(ns_cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  for (int i = 0; i < 2; i++) {
    if (nsh(i, "ip netns add $NS") != 0)
      return "ip netns add failed";
    have_ns[i] = true;
    /* Packets to the service and pod ranges leave through a veth pair whose
     * other end, unconfigured, drops them. */
    if (nsh(i, "ip -n $NS link set lo up && ip -n $NS link add d0 type veth peer name d1 && "
               "ip -n $NS link set d1 up && "
               "ip -n $NS addr add 10.99.0.1/24 dev d0 && ip -n $NS link set d0 up && "
               "ip -n $NS route add 172.30.0.0/16 dev d0 && "
               "ip -n $NS route add 10.180.0.0/15 dev d0") != 0)
      return "veth setup failed";
  }
  const char *env = getenv("KP_FOLLOW_SEED");
  if (env != NULL)
    base_seed = (unsigned)strtoul(env, NULL, 10);
  return NULL;
}

/* Feeds text to iptables-nft-restore --noflush or nft -f in the namespace. */
static void apply(int which, const char *text) {
  char cmd[200];
  snprintf(cmd, sizeof(cmd), "ip netns exec %s %s", ns[which],
           which == NS_IPT ? "iptables-nft-restore --noflush" : "nft -f -");
  FILE *p = popen(cmd, "w");
  ck_assert_ptr_nonnull(p);
  fputs(text, p);
  ck_assert_msg(pclose(p) == 0, "%s failed on:\n%s", cmd, text);
}

/* ---- reading ------------------------------------------------------------------------- */

struct job {
  struct kp_nft_reader *reader;
  struct kp_snapshot *snap;
  struct kp_live_error err;
};

static int job_fn(void *arg) {
  struct job *j = arg;
  return kp_nft_read(j->reader, j->snap, read_ipv6, &j->err);
}

static struct kp_snapshot *read_with(int which, struct kp_nft_reader *reader) {
  char path[160];
  snprintf(path, sizeof(path), "/run/netns/%s", ns[which]);
  struct job j = {.reader = reader, .snap = kp_snapshot_new()};
  ck_assert_ptr_nonnull(j.snap);
  j.snap->rule_text = true;
  struct kp_live_error nerr = {0};
  int rc = kp_netns_run(path, job_fn, &j, &nerr);
  ck_assert_msg(rc == 0, "read %s: %s %s", ns[which], j.err.message, nerr.message);
  ck_assert_int_eq(kp_snapshot_finalize(j.snap), 0);
  return j.snap;
}

static struct kp_snapshot *read_fresh(int which) {
  struct kp_nft_reader *reader = kp_nft_reader_new();
  ck_assert_ptr_nonnull(reader);
  struct kp_snapshot *snap = read_with(which, reader);
  kp_nft_reader_free(reader);
  return snap;
}

static uint64_t full_reads(const struct kp_nft_reader *reader, enum kp_nft_fallback why) {
  uint64_t counts[KP_NFT_FULL_COUNT];
  kp_nft_full_reads(reader, counts);
  return counts[why];
}

static uint64_t all_full_reads(const struct kp_nft_reader *reader) {
  uint64_t n = 0;
  for (int i = 0; i < KP_NFT_FULL_COUNT; i++)
    n += full_reads(reader, (enum kp_nft_fallback)i);
  return n;
}

/* A read that must fall back to a full one, counted once as why. */
static struct kp_snapshot *read_falling_back(int which, struct kp_nft_reader *reader,
                                             enum kp_nft_fallback why) {
  struct kp_snapshot *snap = read_with(which, reader);
  struct kp_nft_read_stats st;
  kp_nft_last_stats(reader, &st);
  ck_assert(!st.followed);
  ck_assert_uint_eq(full_reads(reader, why), 1);
  ck_assert_uint_eq(all_full_reads(reader), 1);
  return snap;
}

/* The followed snapshot against a fresh full read, rules' counters aside
 * (a followed read refreshes only the key chains' counters). */
static void assert_same_as_full_read(int which, struct kp_snapshot *followed, const char *what,
                                     const char *text) {
  struct kp_snapshot *full = read_fresh(which);
  char diff[2048] = "";
  ck_assert_msg(tse_snapshots_equal(followed, full, false, diff, sizeof(diff)),
                "%s: followed snapshot differs from a full read: %s\nlast change:\n%.3000s", what,
                diff, text);
  kp_snapshot_free(full);
}

/* One change into a string (the generator writes to a FILE). */
static const char *next_change(struct tkc_model *m, char **text) {
  size_t len;
  FILE *o = open_memstream(text, &len);
  ck_assert_ptr_nonnull(o);
  const char *what = tkc_change(m, o);
  fclose(o);
  return what;
}

/* Each test starts from the generator's ruleset and 10 services of its own. */
static struct tkc_model *start(int which, unsigned seed) {
  if (which == NS_IPT)
    ck_assert_int_eq(nsh(which,
                         "ip netns exec $NS nft flush ruleset && "
                         "bash %s/tests/fixtures/make-ruleset.sh | ip netns exec $NS "
                         "iptables-nft-restore",
                         KP_SOURCE_DIR),
                     0);
  else
    ck_assert_int_eq(nsh(which,
                         "ip netns exec $NS nft flush ruleset && "
                         "bash %s/tests/fixtures/make-nft-ruleset.sh | "
                         "ip netns exec $NS nft -f -",
                         KP_SOURCE_DIR),
                     0);
  struct tkc_model *m = tkc_new(which == NS_NFT, seed);
  char *text;
  size_t len;
  FILE *o = open_memstream(&text, &len);
  tkc_start(m, 10, o);
  fclose(o);
  apply(which, text);
  free(text);
  return m;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void follow_changes(int which, int changes) {
  unsigned seed = base_seed + (unsigned)which;
  printf("%s: %d changes, seed %u\n", which == NS_IPT ? "iptables-nft" : "nftables mode", changes,
         seed);
  struct tkc_model *m = start(which, seed);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(which, reader)); /* the full read followed from now on */
  unsigned pick = seed;
  size_t notifications = 0;
  uint64_t compactions = 0;
  for (int done = 0, round = 0; done < changes; round++) {
    /* Now and then several transactions between two reads. */
    int batch = rand_r(&pick) % 8 == 0 ? 2 + rand_r(&pick) % 3 : 1;
    char *text = NULL;
    const char *what = NULL;
    for (int b = 0; b < batch && done < changes; b++, done++) {
      free(text);
      what = next_change(m, &text);
      apply(which, text);
    }
    struct kp_snapshot *snap = read_with(which, reader);
    struct kp_nft_read_stats st;
    kp_nft_last_stats(reader, &st);
    char label[160];
    snprintf(label, sizeof(label), "seed %u, change %d (%s, read %d)", seed, done, what, round);
    /* A full read when the kept tables' arena doubled is by design. */
    bool compacted = !st.followed && full_reads(reader, KP_NFT_FULL_COMPACT) > compactions;
    compactions = full_reads(reader, KP_NFT_FULL_COMPACT);
    ck_assert_msg((st.followed || compacted) && all_full_reads(reader) == compactions,
                  "%s: read fully instead of following (overrun %llu, gap %llu, unapplied %llu, "
                  "behind %llu, held %llu, compact %llu)\nlast change:\n%.3000s",
                  label, (unsigned long long)full_reads(reader, KP_NFT_FULL_OVERRUN),
                  (unsigned long long)full_reads(reader, KP_NFT_FULL_GAP),
                  (unsigned long long)full_reads(reader, KP_NFT_FULL_UNAPPLIED),
                  (unsigned long long)full_reads(reader, KP_NFT_FULL_BEHIND),
                  (unsigned long long)full_reads(reader, KP_NFT_FULL_HELD),
                  (unsigned long long)full_reads(reader, KP_NFT_FULL_COMPACT), text);
    notifications += st.notifications;
    assert_same_as_full_read(which, snap, label, text);
    kp_snapshot_free(snap);
    free(text);
  }
  printf("%s: %d changes followed, %zu notifications applied, %llu full reads to compact\n",
         which == NS_IPT ? "iptables-nft" : "nftables mode", changes, notifications,
         (unsigned long long)compactions);
  ck_assert_uint_le(compactions, (uint64_t)changes / 20);
  kp_nft_reader_free(reader);
  tkc_free(m);
}

START_TEST(follows_iptables_nft) {
  follow_changes(NS_IPT, 600);
}
END_TEST

START_TEST(follows_nftables_mode) {
  follow_changes(NS_NFT, 500);
}
END_TEST

/* A change the socket's buffer cannot hold: the kernel drops notifications
 * (ENOBUFS), the next read is a full one, counted as an overrun, and the
 * one after follows again. */
START_TEST(overrun_falls_back_and_counts) {
  struct tkc_model *m = start(NS_IPT, base_seed + 7);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(NS_IPT, reader));
  int fd = kp_nft_monitor_fd(reader);
  ck_assert_int_ge(fd, 0);
  int small = 1; /* the kernel's minimum, a couple of KiB */
  ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  char *text = NULL;
  while (text == NULL || strstr(text, "KUBE-SEP") == NULL) { /* a change of many rules */
    free(text);
    next_change(m, &text);
    apply(NS_IPT, text);
  }
  struct kp_snapshot *snap = read_falling_back(NS_IPT, reader, KP_NFT_FULL_OVERRUN);
  struct kp_nft_read_stats st;
  assert_same_as_full_read(NS_IPT, snap, "after the overrun", text);
  kp_snapshot_free(snap);
  free(text);

  int big = 8 << 20;
  ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
  next_change(m, &text);
  apply(NS_IPT, text);
  snap = read_with(NS_IPT, reader);
  kp_nft_last_stats(reader, &st);
  ck_assert(st.followed);
  ck_assert_uint_eq(all_full_reads(reader), 1);
  assert_same_as_full_read(NS_IPT, snap, "after the recovery", text);
  kp_snapshot_free(snap);
  free(text);
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

/* A transaction whose notifications never reach the reader (drained here
 * behind its back): the next one's generation shows the gap. */
START_TEST(missed_generation_falls_back_and_counts) {
  struct tkc_model *m = start(NS_NFT, base_seed + 11);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(NS_NFT, reader));
  int fd = kp_nft_monitor_fd(reader);
  ck_assert_int_ge(fd, 0);
  char *text;
  next_change(m, &text);
  apply(NS_NFT, text);
  free(text);
  static char sink[1 << 16];
  int drained = 0;
  while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
    drained++;
  ck_assert_int_gt(drained, 0);
  next_change(m, &text);
  apply(NS_NFT, text);
  struct kp_snapshot *snap = read_falling_back(NS_NFT, reader, KP_NFT_FULL_GAP);
  assert_same_as_full_read(NS_NFT, snap, "after the gap", text);
  kp_snapshot_free(snap);
  free(text);
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

/* After followed changes, an unchanged generation refreshes the key
 * chains' counters on the followed tables (one SYN per service). */
START_TEST(counters_refresh_on_followed_tables) {
  struct tkc_model *m = start(NS_IPT, base_seed + 13);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(NS_IPT, reader));
  char *text;
  for (int i = 0; i < 5; i++) {
    next_change(m, &text);
    apply(NS_IPT, text);
    free(text);
    kp_snapshot_free(read_with(NS_IPT, reader));
  }
  nsh(NS_IPT,
      "for i in $(seq 1 %d); do ip netns exec $NS timeout 0.2 bash -c "
      "\"echo > /dev/tcp/172.30.1.$i/80\" >/dev/null 2>&1; done; true",
      TKC_SERVICES);
  struct kp_snapshot *snap = read_with(NS_IPT, reader);
  struct kp_nft_read_stats st;
  kp_nft_last_stats(reader, &st);
  ck_assert(st.cached);
  ck_assert_uint_eq(all_full_reads(reader), 0);
  struct kp_snapshot *full = read_fresh(NS_IPT);
  const struct kp_chain *a =
      kp_snapshot_chain(snap, KP_FAMILY_IPV4, KP_BACKEND_NFT, "nat", "KUBE-SERVICES");
  const struct kp_chain *b =
      kp_snapshot_chain(full, KP_FAMILY_IPV4, KP_BACKEND_NFT, "nat", "KUBE-SERVICES");
  ck_assert(a != NULL && b != NULL && a->rules.count == b->rules.count);
  uint64_t packets = 0;
  for (size_t r = 0; r < a->rules.count; r++) {
    const struct kp_rule *ra = a->rules.items[r], *rb = b->rules.items[r];
    ck_assert(ra->counters.present);
    ck_assert_uint_eq(ra->counters.packets, rb->counters.packets);
    packets += ra->counters.packets;
  }
  ck_assert_uint_gt(packets, 0);
  kp_snapshot_free(full);
  kp_snapshot_free(snap);
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

/* The previous read's snapshot still holds the kept tables: they must not
 * change under it, so the change is read fully, and counted. */
START_TEST(held_tables_fall_back_and_count) {
  struct tkc_model *m = start(NS_IPT, base_seed + 17);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  struct kp_snapshot *held = read_with(NS_IPT, reader);
  char *text;
  next_change(m, &text);
  apply(NS_IPT, text);
  struct kp_snapshot *snap = read_falling_back(NS_IPT, reader, KP_NFT_FULL_HELD);
  assert_same_as_full_read(NS_IPT, snap, "with the tables held", text);
  free(text);
  kp_snapshot_free(held);
  kp_snapshot_free(snap);
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

/* A catch-up that fails after it began applying (here a chain renamed with
 * iptables -E, which the follower does not apply, after a rule added to
 * the same table): the kept tables are dropped and read fully, and the
 * decoder contexts of that catch-up go with them. The next followed change
 * to the table must decode into the new kept tables, not into the freed
 * ones (under ASan, a use after free without the fix). */
START_TEST(failed_catch_up_leaves_no_context_behind) {
  struct tkc_model *m = start(NS_IPT, base_seed + 23);
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(NS_IPT, reader));
  static const char broken[] =
      "ip netns exec $NS iptables-nft -t nat -A KUBE-SERVICES -d 172.30.99.1/32 -p tcp "
      "--dport 81 -j RETURN && ip netns exec $NS iptables-nft -t nat -N KP-RENAME && "
      "ip netns exec $NS iptables-nft -t nat -E KP-RENAME KP-RENAMED";
  ck_assert_int_eq(nsh(NS_IPT, "%s", broken), 0);
  struct kp_snapshot *snap = read_falling_back(NS_IPT, reader, KP_NFT_FULL_UNAPPLIED);
  struct kp_nft_read_stats st;
  kp_snapshot_free(snap);
  static const char *const next[] = {
      "ip netns exec $NS iptables-nft -t nat -A KUBE-SERVICES -d 172.30.99.2/32 -p tcp "
      "--dport 82 -j RETURN",
      "ip netns exec $NS iptables-nft -t nat -I KUBE-SERVICES 1 -d 172.30.99.3/32 -p tcp "
      "--dport 83 -m comment --comment \"after the failed catch-up\" -j RETURN",
  };
  for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
    ck_assert_msg(nsh(NS_IPT, "%s", next[i]) == 0, "%s failed", next[i]);
    snap = read_with(NS_IPT, reader);
    kp_nft_last_stats(reader, &st);
    ck_assert_msg(st.followed, "%s: not followed", next[i]);
    ck_assert_uint_eq(all_full_reads(reader), 1);
    assert_same_as_full_read(NS_IPT, snap, next[i], next[i]);
    kp_snapshot_free(snap);
  }
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

/* The ip6 tables are followed too when the reads ask for them. */
START_TEST(follows_ip6_tables) {
  struct tkc_model *m = start(NS_IPT, base_seed + 19);
  static const char v6[] = "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                           ":KUBE-SERVICES - [0:0]\n:KUBE-SVC-V6 - [0:0]\n"
                           "-A OUTPUT -j KUBE-SERVICES\n"
                           "-A KUBE-SERVICES -d fd00:30::1/128 -p tcp -m tcp --dport 443 -j "
                           "KUBE-SVC-V6\n"
                           "-A KUBE-SVC-V6 -p tcp -m tcp -j DNAT --to-destination "
                           "[fd00:180::2]:6443\nCOMMIT\n";
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | ip netns exec $NS ip6tables-nft-restore", v6);
  ck_assert_int_eq(nsh(NS_IPT, "%s", cmd), 0);
  read_ipv6 = true;
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(NS_IPT, reader));
  /* Every command runs inside the namespace ($NS). */
  static const char *const changes[] = {
      "ip netns exec $NS ip6tables-nft -t nat -I KUBE-SERVICES 1 -d fd00:30::2/128 -p tcp "
      "--dport 80 -j KUBE-SVC-V6",
      "ip netns exec $NS ip6tables-nft -t nat -N KUBE-SVC-V6B && "
      "ip netns exec $NS ip6tables-nft -t nat -A KUBE-SVC-V6B -j RETURN",
      "ip netns exec $NS ip6tables-nft -t nat -D KUBE-SERVICES 2",
      "ip netns exec $NS ip6tables-nft -t nat -F KUBE-SVC-V6B && "
      "ip netns exec $NS ip6tables-nft -t nat -X KUBE-SVC-V6B",
  };

  for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
    ck_assert_msg(nsh(NS_IPT, "%s", changes[i]) == 0, "%s failed", changes[i]);
    struct kp_snapshot *snap = read_with(NS_IPT, reader);
    struct kp_nft_read_stats st;
    kp_nft_last_stats(reader, &st);
    ck_assert_msg(st.followed, "%s: not followed", changes[i]);
    ck_assert_ptr_nonnull(
        kp_snapshot_chain(snap, KP_FAMILY_IPV6, KP_BACKEND_NFT, "nat", "KUBE-SERVICES"));
    assert_same_as_full_read(NS_IPT, snap, changes[i], changes[i]);
    kp_snapshot_free(snap);
  }
  ck_assert_uint_eq(all_full_reads(reader), 0);
  read_ipv6 = false;
  kp_nft_reader_free(reader);
  tkc_free(m);
}
END_TEST

int main(void) {
  const char *skip = setup();
  Suite *s = suite_create("live_nft_follow");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 120);
  if (skip != NULL) {
    printf("SKIP: test_live_nft_follow: %s\n", skip);
  } else {
    tcase_add_test(tc, follows_iptables_nft);
    tcase_add_test(tc, follows_nftables_mode);
    tcase_add_test(tc, overrun_falls_back_and_counts);
    tcase_add_test(tc, missed_generation_falls_back_and_counts);
    tcase_add_test(tc, counters_refresh_on_followed_tables);
    tcase_add_test(tc, held_tables_fall_back_and_count);
    tcase_add_test(tc, follows_ip6_tables);
    tcase_add_test(tc, failed_catch_up_leaves_no_context_behind);
  }
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ns_cleanup();
  return failed == 0 ? 0 : 1;
}
