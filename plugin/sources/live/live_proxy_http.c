/* kube-proxy's own view of itself, asked over HTTP on the node: /metrics and
 * /proxyMode on metricsBindAddress (127.0.0.1:10249), /livez on
 * healthzBindAddress (:10256). The bodies go through the same parser as
 * saved ones (kp_parse_metrics), into snap->proxy for the `sync` check.
 * Short timeouts: a hung kube-proxy must not hold up the read. */
#include "dump_metrics.h"
#include "live_proxy_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KP_HTTP_TIMEOUT_MS 1000
#define KP_HTTP_MAX_BODY (4 * 1024 * 1024)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "127.0.0.1:10249" or "[::1]:10249" (kp_endpoint_parse) into a socket address. */
static int parse_endpoint(const char *text, struct sockaddr_storage *sa, socklen_t *len) {
  struct kp_addr addr;
  uint16_t port;
  if (kp_endpoint_parse(text, &addr, &port) != 0)
    return -1;
  memset(sa, 0, sizeof(*sa));
  if (addr.kind == KP_ADDR_IPV6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    memcpy(&s6->sin6_addr, addr.bytes, 16);
    *len = sizeof(*s6);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    memcpy(&s4->sin_addr, addr.bytes, 4);
    *len = sizeof(*s4);
  }
  return 0;
}

bool kp_live_endpoint_valid(const char *endpoint) {
  struct kp_addr addr;
  uint16_t port;
  return endpoint != NULL && kp_endpoint_parse(endpoint, &addr, &port) == 0;
}

static int wait_fd(int fd, short events, double deadline) {
  int left = (int)(deadline - now_ms());
  if (left <= 0)
    return (errno = ETIMEDOUT), -1;
  struct pollfd p = {.fd = fd, .events = events};
  int rc = poll(&p, 1, left);
  if (rc == 0)
    return (errno = ETIMEDOUT), -1;
  return rc < 0 ? -1 : 0;
}

/* GET path from endpoint; the whole response (status line, headers, body)
 * into a malloc'd buffer. -1 with errno on failure. */
static int http_get(const char *endpoint, const char *path, char **out, size_t *out_len) {
  struct sockaddr_storage sa;
  socklen_t sa_len;
  if (parse_endpoint(endpoint, &sa, &sa_len) != 0)
    return (errno = EINVAL), -1;
  double deadline = now_ms() + KP_HTTP_TIMEOUT_MS;
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  char *buf = NULL;
  if (connect(fd, (struct sockaddr *)&sa, sa_len) != 0) {
    if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 0)
      goto fail;
    int so_error = 0;
    socklen_t so_len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
    if (so_error != 0) {
      errno = so_error;
      goto fail;
    }
  }
  char request[256];
  int n = snprintf(request, sizeof(request),
                   "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: collectd-kube-proxy\r\n"
                   "Connection: close\r\n\r\n",
                   path, endpoint);
  if (n < 0 || (size_t)n >= sizeof(request) || send(fd, request, (size_t)n, MSG_NOSIGNAL) != n)
    goto fail;
  size_t len = 0, cap = 16384;
  if ((buf = malloc(cap)) == NULL)
    goto fail;
  for (;;) {
    if (wait_fd(fd, POLLIN, deadline) != 0)
      goto fail;
    if (len == cap) {
      if (cap >= KP_HTTP_MAX_BODY)
        return (errno = EFBIG), close(fd), free(buf), -1;
      char *grown = realloc(buf, cap * 2);
      if (grown == NULL)
        goto fail;
      buf = grown;
      cap *= 2;
    }
    ssize_t got = recv(fd, buf + len, cap - len, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (got < 0)
      goto fail;
    if (got == 0)
      break;
    len += (size_t)got;
  }
  close(fd);
  *out = buf;
  *out_len = len;
  return 0;
fail:;
  int saved = errno;
  close(fd);
  free(buf);
  errno = saved;
  return -1;
}

/* The status code of "HTTP/1.1 200 OK\r\n...", or 0 without a status line. */
static int http_status(const char *buf, size_t len) {
  if (len < 12 || memcmp(buf, "HTTP/", 5) != 0)
    return 0;
  const char *sp = memchr(buf, ' ', len < 16 ? len : 16);
  if (sp == NULL || (size_t)(sp - buf) + 4 > len)
    return 0;
  int status = 0;
  for (int i = 1; i <= 3; i++) {
    if (sp[i] < '0' || sp[i] > '9')
      return 0;
    status = status * 10 + (sp[i] - '0');
  }
  return status;
}

/* One endpoint: fetch and parse; a failure (and what kind) is remembered
 * for the check. true when the endpoint answered (whatever it said). */
static bool ask(struct kp_snapshot *snap, const char *endpoint, const char *path) {
  struct kp_proxy_status *ps = &snap->proxy;
  char source[128];
  snprintf(source, sizeof(source), "http://%s%s", endpoint, path);
  char *body = NULL;
  size_t len = 0;
  char problem[512] = "";
  enum kp_proxy_fault fault = KP_PROXY_FAULT_NONE;
  bool valid = kp_live_endpoint_valid(endpoint);
  bool fetched = valid && http_get(endpoint, path, &body, &len) == 0;
  /* An answer over the limit is an answer: kube-proxy is there. */
  bool answered = fetched || (valid && errno == EFBIG);
  int status = fetched ? http_status(body, len) : 0;
  if (!valid) {
    /* "localhost:10249" would otherwise read as a kube-proxy that does not
     * answer ("Invalid argument"): say what is wrong with the address. */
    fault = KP_PROXY_BAD_ADDRESS;
    snprintf(problem, sizeof(problem),
             "%s: not an IP address and port (names are not resolved: write e.g. "
             "127.0.0.1:10249 or [::1]:10249)",
             source);
  } else if (!fetched) {
    fault = answered ? KP_PROXY_TOO_BIG : KP_PROXY_NO_ANSWER;
    snprintf(problem, sizeof(problem), "%s: %s", source,
             answered ? "answer over 4 MiB, not read" : strerror(errno));
  } else if (strcmp(path, "/proxyMode") == 0 && status != 200) {
    /* older kube-proxy without /proxyMode: nothing to learn, nothing wrong */
  } else if (status != 200 && !(status == 503 && strcmp(path, "/livez") == 0)) {
    /* /livez says unhealthy with 503 (the parser reads that); anything
     * else but 200 is an error page, not kube-proxy's view. */
    fault = KP_PROXY_HTTP_ERROR;
    if (status == 0)
      snprintf(problem, sizeof(problem), "%s: no HTTP status line in the answer", source);
    else
      snprintf(problem, sizeof(problem), "%s: HTTP status %d", source, status);
  } else {
    struct kp_dump_error err;
    memset(&err, 0, sizeof(err));
    /* A body that does not parse tells nothing: the parser then keeps none
     * of it (half a body would read as a sync hung for decades). */
    if (kp_parse_metrics(snap, source, body, len, &err) != 0) {
      fault = KP_PROXY_UNPARSED;
      if (err.line > 0)
        snprintf(problem, sizeof(problem), "%s: response line %zu: %s", source, err.line,
                 err.message);
      else
        snprintf(problem, sizeof(problem), "%s: %s", source, err.message);
    }
  }
  free(body);
  ps->asked = true;
  if (problem[0] != '\0' && ps->unreachable == NULL) {
    ps->unreachable = kp_arena_strdup(&snap->arena, problem);
    ps->fault = fault;
  }
  if (ps->source == NULL)
    ps->source = kp_arena_strdup(&snap->arena, endpoint);
  return answered;
}

void kp_proxy_status_fetch(struct kp_snapshot *snap, const char *metrics, const char *healthz) {
  if (metrics != NULL && metrics[0] != '\0') {
    /* A kube-proxy that did not answer /metrics (hung: 1 s each) would
     * not answer /proxyMode on the same port either. */
    if (ask(snap, metrics, "/metrics"))
      ask(snap, metrics, "/proxyMode");
  }
  if (healthz != NULL && healthz[0] != '\0')
    ask(snap, healthz, "/livez");
  if (snap->proxy.scrape_ts == 0 && (snap->proxy.has_metrics || snap->proxy.has_livez))
    snap->proxy.scrape_ts = (double)time(NULL);
}
