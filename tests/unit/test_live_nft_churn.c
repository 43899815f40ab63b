/* The nf_tables reader while the ruleset changes under its dumps, root
 * only, in a namespace this test creates (kp-churn-<pid>) and deletes at
 * exit, with 3000 services in iptables-nft (nat KUBE-SERVICES spans many
 * netlink batches, so a commit during its dump interrupts it). A writer
 * runs during the reads of one kept reader:
 *  - another table added and deleted without pause: every read succeeds,
 *    and each snapshot equals a fresh full read made after the writer
 *    stopped (the writer changed nothing the reader reads);
 *  - kube-proxy-style changes to nat (a service chain and its
 *    KUBE-SERVICES rule added and removed, through iptables-nft-restore
 *    --noflush, plus the other table): every read succeeds, and once the
 *    writer stops the kept reader's next read equals a fresh full read.
 * Counters aside (the kept reads refresh only the key chains'). */
#include "kp/model.h"
#include "live_internal.h"
#include "live_nft.h"
#include "support_snapshot_equal.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READS 6

static char ns[64];
static bool have_ns;
static pid_t main_pid, writer;

static void stop_writer(void) {
  if (writer > 0) {
    kill(-writer, SIGTERM);
    waitpid(writer, NULL, 0);
    writer = 0;
  }
}

static void cleanup(void) {
  if (getpid() != main_pid)
    return;
  stop_writer();
  if (have_ns) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
    if (system(cmd) != 0)
      fprintf(stderr, "NOTE: could not delete %s\n", ns);
    have_ns = false;
  }
}

static void on_signal(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static int sh(const char *fmt, const char *arg) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), fmt, ns, arg);
  return system(cmd);
}

static const char *setup(void) {
  if (geteuid() != 0)
    return "needs root to create network namespaces";
  if (system("command -v iptables-nft-restore >/dev/null && command -v nft >/dev/null && "
             "command -v ip >/dev/null && command -v setsid >/dev/null") != 0)
    return "iptables-nft-restore, nft, ip or setsid not installed";
  main_pid = getpid();
  snprintf(ns, sizeof(ns), "kp-churn-%ld", (long)main_pid);
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (sh("ip netns add %s", "") != 0)
    return "ip netns add failed";
  have_ns = true;
  if (sh("bash %2$s/tests/fixtures/make-ruleset.sh --services 3000 | "
         "ip netns exec %1$s iptables-nft-restore",
         KP_SOURCE_DIR) != 0)
    return "iptables-nft-restore of 3000 services failed";
  return NULL;
}

/* The writer: loop (a bash loop) in the namespace, in its own process
 * group so that stop_writer ends all of it. */
static void start_writer(const char *loop) {
  writer = fork();
  ck_assert_int_ge(writer, 0);
  if (writer == 0) {
    setpgid(0, 0);
    execlp("ip", "ip", "netns", "exec", ns, "bash", "-c", loop, (char *)NULL);
    _exit(127);
  }
  setpgid(writer, writer);
  usleep(300 * 1000); /* under way */
}

struct job {
  struct kp_nft_reader *reader;
  struct kp_snapshot *snap;
  struct kp_live_error err;
};

static int job_fn(void *arg) {
  struct job *j = arg;
  return kp_nft_read(j->reader, j->snap, false, &j->err);
}

static struct kp_snapshot *read_with(struct kp_nft_reader *reader, const char *what, int n) {
  char path[160];
  snprintf(path, sizeof(path), "/run/netns/%s", ns);
  struct job j = {.reader = reader, .snap = kp_snapshot_new()};
  ck_assert_ptr_nonnull(j.snap);
  j.snap->rule_text = true;
  struct kp_live_error nerr = {0};
  int rc = kp_netns_run(path, job_fn, &j, &nerr);
  ck_assert_msg(rc == 0, "%s, read %d: %s %s", what, n, j.err.message, nerr.message);
  ck_assert_int_eq(kp_snapshot_finalize(j.snap), 0);
  return j.snap;
}

static struct kp_snapshot *read_fresh(void) {
  struct kp_nft_reader *reader = kp_nft_reader_new();
  ck_assert_ptr_nonnull(reader);
  struct kp_snapshot *snap = read_with(reader, "fresh read", 0);
  kp_nft_reader_free(reader);
  return snap;
}

static void assert_same(const struct kp_snapshot *a, const struct kp_snapshot *b, const char *what,
                        int n) {
  char diff[2048] = "";
  ck_assert_msg(tse_snapshots_equal(a, b, false, diff, sizeof(diff)),
                "%s, read %d: differs from a fresh full read: %s", what, n, diff);
}

static uint32_t generation(const struct kp_nft_reader *reader) {
  struct kp_nft_read_stats st;
  kp_nft_last_stats(reader, &st);
  return st.generation;
}

static const char other_table[] =
    "while :; do nft add table ip kp-writer; nft delete table ip kp-writer; done";

/* Stops the writer, which must have committed since generation first, and
 * checks that the kept reader now reads what a fresh reader reads (the
 * writer may have stopped anywhere in its loop); frees the reader. */
static void finish(struct kp_nft_reader *reader, uint32_t first) {
  uint32_t last = generation(reader);
  stop_writer();
  ck_assert_msg(last != first, "the writer committed nothing during the reads");
  struct kp_snapshot *kept = read_with(reader, "after the writer", READS);
  struct kp_snapshot *fresh = read_fresh();
  assert_same(kept, fresh, "after the writer", READS);
  kp_snapshot_free(kept);
  kp_snapshot_free(fresh);
  kp_nft_reader_free(reader);
}

START_TEST(another_tables_commits) {
  stop_writer(); /* a failed test's */
  struct kp_nft_reader *reader = kp_nft_reader_new();
  start_writer(other_table);
  uint32_t first = 0;
  for (int i = 0; i < READS; i++) {
    struct kp_snapshot *kept = read_with(reader, "another table's commits", i);
    if (i == 0)
      first = generation(reader);
    /* The writer changes nothing read: a fresh read (under the same
     * commits) reads the same. */
    struct kp_snapshot *fresh = read_fresh();
    assert_same(kept, fresh, "another table's commits", i);
    kp_snapshot_free(fresh);
    kp_snapshot_free(kept);
  }
  finish(reader, first);
}
END_TEST

START_TEST(kube_proxy_style_commits) {
  /* A service chain and its KUBE-SERVICES rule, added, then removed. */
  static const char loop[] =
      "add='*nat\n:KUBE-SVC-CHURN - [0:0]\n"
      "-I KUBE-SERVICES 1 -d 172.31.9.9/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-CHURN\n"
      "-A KUBE-SVC-CHURN -j RETURN\nCOMMIT\n'; "
      "unref='*nat\n-D KUBE-SERVICES -d 172.31.9.9/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-CHURN\n"
      "COMMIT\n'; del='*nat\n-F KUBE-SVC-CHURN\n-X KUBE-SVC-CHURN\nCOMMIT\n'; "
      "while :; do printf \"$add\" | iptables-nft-restore --noflush; "
      "nft add table ip kp-writer; nft delete table ip kp-writer; "
      "printf \"$unref\" | iptables-nft-restore --noflush; "
      "printf \"$del\" | iptables-nft-restore --noflush; done";
  stop_writer(); /* a failed test's */
  struct kp_nft_reader *reader = kp_nft_reader_new();
  kp_snapshot_free(read_with(reader, "before the writer", 0));
  start_writer(loop);
  uint32_t first = generation(reader);
  for (int i = 0; i < READS; i++)
    kp_snapshot_free(read_with(reader, "kube-proxy-style commits", i));
  finish(reader, first);
}
END_TEST

int main(void) {
  const char *skip = setup();
  Suite *s = suite_create("live_nft_churn");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 300);
  if (skip != NULL) {
    printf("SKIP: test_live_nft_churn: %s\n", skip);
  } else {
    tcase_add_test(tc, another_tables_commits);
    tcase_add_test(tc, kube_proxy_style_commits);
  }
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  cleanup();
  return failed == 0 ? 0 : 1;
}
