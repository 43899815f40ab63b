/* Whole-process timing for make bench: runs several commands alternately
 * (one run of each, RUNS rounds, so drift hits every command alike), inside
 * a network namespace when asked, and prints per command the median wall
 * time and the largest peak RSS of its runs.
 *   bench_run [--netns PATH] RUNS -- CMD ARGS... [-- CMD ARGS...]...
 * Output, one line per command in order: "median_ms max_rss_kib". */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_RUNS 101

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One run; wall ms, peak RSS in KiB. -1 when it could not start. */
static int run_once(char **argv, double *ms, long *rss) {
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0)
    return -1;
  *ms = now_ms() - t0;
  *rss = ru.ru_maxrss;
  return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -1 : 0;
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--netns") == 0) {
    int fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      perror(argv[i + 1]);
      return 1;
    }
    close(fd);
    i += 2;
  }
  if (i >= argc)
    return 64;
  int runs = atoi(argv[i++]);
  if (runs < 1 || runs > MAX_RUNS)
    runs = 5;
  char **cmds[MAX_CMDS];
  int n = 0;
  for (; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) {
      argv[i] = NULL; /* ends the previous command */
      if (i + 1 < argc && n < MAX_CMDS)
        cmds[n++] = &argv[i + 1];
    }
  if (n == 0)
    return 64;
  static double ms[MAX_CMDS][MAX_RUNS];
  long rss[MAX_CMDS] = {0};
  for (int r = -1; r < runs; r++) /* r == -1: warm-up, not kept */
    for (int c = 0; c < n; c++) {
      double t;
      long kib;
      if (run_once(cmds[c], &t, &kib) != 0) {
        fprintf(stderr, "bench_run: cannot run %s\n", cmds[c][0]);
        return 1;
      }
      if (r < 0)
        continue;
      ms[c][r] = t;
      if (kib > rss[c])
        rss[c] = kib;
    }
  for (int c = 0; c < n; c++) {
    qsort(ms[c], (size_t)runs, sizeof(double), cmp_double);
    printf("%.3f %ld\n", ms[c][runs / 2], rss[c]);
  }
  return 0;
}
