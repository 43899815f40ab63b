/* Runs a function inside another network namespace on a short-lived thread
 * of its own: setns() changes only the calling thread, so the caller (a
 * collectd read thread, say) never leaves its namespace, and the namespace
 * dies with the helper thread. */
#include "live_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct netns_job {
  const char *path;
  int fd;
  int (*fn)(void *arg);
  void *arg;
  struct kp_live_error *err;
  int result;
};

static void *netns_thread(void *p) {
  struct netns_job *job = p;
  if (setns(job->fd, CLONE_NEWNET) != 0) {
    int e = errno;
    if (e == EPERM)
      kp_live_fail(job->err, KP_LIVE_NO_PRIVILEGE, e,
                   "entering network namespace %s needs CAP_SYS_ADMIN (%s)", job->path,
                   strerror(e));
    else
      kp_live_fail(job->err, KP_LIVE_NO_NETNS, e,
                   "cannot enter network namespace %s: not a network namespace (%s)", job->path,
                   strerror(e));
    job->result = -1;
    return NULL;
  }
  job->result = job->fn(job->arg);
  return NULL;
}

int kp_netns_run(const char *path, int (*fn)(void *arg), void *arg, struct kp_live_error *err) {
  if (path == NULL || path[0] == '\0')
    return fn(arg);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return kp_live_fail(err, (e == EACCES || e == EPERM) ? KP_LIVE_NO_PRIVILEGE : KP_LIVE_NO_NETNS,
                        e, "network namespace %s: %s", path, strerror(e));
  }
  struct netns_job job = {path, fd, fn, arg, err, -1};
  pthread_t thread;
  int e = pthread_create(&thread, NULL, netns_thread, &job);
  if (e != 0) {
    close(fd);
    return kp_live_fail(err, KP_LIVE_OTHER, e, "network namespace %s: cannot start a thread (%s)",
                        path, strerror(e));
  }
  pthread_join(thread, NULL);
  close(fd);
  return job.result;
}
