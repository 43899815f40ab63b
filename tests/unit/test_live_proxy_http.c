/* The live kube-proxy probe (plugin/sources/live/live_proxy_http.c)
 * against a stand-in HTTP server on 127.0.0.1 (an ephemeral port of this
 * process; nothing leaves loopback): each way an endpoint can fail is
 * recorded as what it is (snap->proxy.fault), so the `sync` check can word
 * it, and an answer that is not used leaves nothing in snap->proxy. */
#include "live_proxy_fetch.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One listening socket; every connection gets `metrics` for /metrics and
 * /livez, a 404 for anything else. */
struct stand_in {
  int fd;
  unsigned port;
  const char *answer;
  size_t answer_len;
  int requests;
  volatile int stop;
  pthread_t thread;
};

static void serve_one(struct stand_in *s, int c) {
  char req[4096];
  size_t got = 0;
  while (got + 1 < sizeof(req)) {
    ssize_t n = recv(c, req + got, sizeof(req) - 1 - got, 0);
    if (n <= 0)
      break;
    got += (size_t)n;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") != NULL)
      break;
  }
  req[got] = '\0';
  s->requests++;
  static const char not_found[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  bool ours = strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /livez ", 11) == 0;
  const char *out = ours ? s->answer : not_found;
  size_t len = ours ? s->answer_len : strlen(not_found);
  for (size_t sent = 0; sent < len;) {
    ssize_t n = send(c, out + sent, len - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; /* the client stopped reading (over its limit) */
    sent += (size_t)n;
  }
  close(c);
}

static void *serve(void *arg) {
  struct stand_in *s = arg;
  while (!s->stop) {
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    if (poll(&p, 1, 50) != 1)
      continue;
    int c = accept(s->fd, NULL, NULL);
    if (c >= 0)
      serve_one(s, c);
  }
  return NULL;
}

static void stand_in_start(struct stand_in *s, const char *answer, size_t len) {
  memset(s, 0, sizeof(*s));
  s->answer = answer;
  s->answer_len = len;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(s->fd, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  socklen_t sl = sizeof(sa);
  ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&sa, &sl), 0);
  s->port = ntohs(sa.sin_port);
  ck_assert_int_eq(listen(s->fd, 8), 0);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void stand_in_stop(struct stand_in *s) {
  s->stop = 1;
  pthread_join(s->thread, NULL);
  close(s->fd);
}

/* Probes the stand-in's port as metricsBindAddress (or healthz). */
static struct kp_snapshot *probe(const struct stand_in *s, bool healthz) {
  char endpoint[32];
  snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%u", s->port);
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  kp_proxy_status_fetch(snap, healthz ? NULL : endpoint, healthz ? endpoint : NULL);
  return snap;
}

#define QUEUED "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.7e9\n"
#define SYNCED "kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9\n"

struct row {
  const char *why;
  const char *answer;
  enum kp_proxy_fault fault;
  const char *says; /* in snap->proxy.unreachable, after "http://127.0.0.1:PORT/metrics: " */
};

static const struct row rows[] = {
    {"error page", "HTTP/1.1 500 Internal Server Error\r\n\r\n500 oops\n", KP_PROXY_HTTP_ERROR,
     "HTTP status 500"},
    {"not found", "HTTP/1.1 404 Not Found\r\n\r\n404 page not found\n", KP_PROXY_HTTP_ERROR,
     "HTTP status 404"},
    {"no status line", SYNCED, KP_PROXY_HTTP_ERROR, "no HTTP status line in the answer"},
    {"garbage body", "HTTP/1.1 200 OK\r\n\r\n\x01\x02 \x03\n", KP_PROXY_UNPARSED,
     "response line 3: sample without a numeric value"}, /* status line, blank, body */
    /* kube-proxy prints last_queued before last_timestamp: half a body
     * would read as a sync hung since 1970 */
    {"half a body", "HTTP/1.1 200 OK\r\n\r\n" QUEUED "kubeproxy_bogus x\n" SYNCED,
     KP_PROXY_UNPARSED, "response line 4: sample without a numeric value"},
    {"empty body", "HTTP/1.1 200 OK\r\n\r\n", KP_PROXY_UNPARSED, "empty kube-proxy metrics file"},
};

START_TEST(test_fault_is_what_happened) {
  const struct row *row = &rows[_i];
  struct stand_in s;
  stand_in_start(&s, row->answer, strlen(row->answer));
  struct kp_snapshot *snap = probe(&s, false);
  stand_in_stop(&s);
  const struct kp_proxy_status *ps = &snap->proxy;
  ck_assert_msg(ps->unreachable != NULL, "%s: no problem noted", row->why);
  char want[160];
  snprintf(want, sizeof(want), "http://127.0.0.1:%u/metrics: %s", s.port, row->says);
  ck_assert_str_eq(ps->unreachable, want);
  ck_assert_msg(ps->fault == row->fault, "%s: fault %d, want %d", row->why, ps->fault, row->fault);
  /* nothing of an unused answer is kept */
  ck_assert(!ps->has_metrics && !ps->has_last_queued && ps->last_sync_ts == 0);
  ck_assert_int_eq(s.requests, 2); /* it answered: /proxyMode asked too (a 404: nothing) */
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(test_good_answer_no_fault) {
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" QUEUED SYNCED;
  struct stand_in s;
  stand_in_start(&s, ok, strlen(ok));
  struct kp_snapshot *snap = probe(&s, false);
  stand_in_stop(&s);
  ck_assert_ptr_null(snap->proxy.unreachable);
  ck_assert_int_eq(snap->proxy.fault, KP_PROXY_FAULT_NONE);
  ck_assert(snap->proxy.has_metrics && snap->proxy.has_last_queued);
  ck_assert(snap->proxy.last_sync_ts == 1.7e9);
  kp_snapshot_free(snap);
}
END_TEST

/* /livez says unhealthy with 503 and a JSON body: that is kube-proxy's
 * view (the sync check's FAIL), not a probe fault. */
START_TEST(test_livez_503_is_an_answer) {
  static const char unhealthy[] =
      "HTTP/1.1 503 Service Unavailable\r\n\r\n"
      "{\"lastUpdated\": \"2024-05-01 10:00:00 +0000 UTC\",\"currentTime\": \"2024-05-01 "
      "10:05:00 +0000 UTC\", \"nodeEligible\": true}";
  struct stand_in s;
  stand_in_start(&s, unhealthy, strlen(unhealthy));
  struct kp_snapshot *snap = probe(&s, true);
  stand_in_stop(&s);
  ck_assert_ptr_null(snap->proxy.unreachable);
  ck_assert(snap->proxy.has_livez && !snap->proxy.livez_healthy);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(test_too_big_is_not_no_answer) {
  size_t len = 5u << 20;
  char *big = malloc(len);
  ck_assert_ptr_nonnull(big);
  static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
  memcpy(big, head, sizeof(head) - 1);
  for (size_t i = sizeof(head) - 1; i < len; i += 32)
    memcpy(big + i, "kubeproxy_x 1\n                  ", len - i < 32 ? len - i : 32);
  struct stand_in s;
  stand_in_start(&s, big, len);
  struct kp_snapshot *snap = probe(&s, false);
  stand_in_stop(&s);
  free(big);
  ck_assert_int_eq(snap->proxy.fault, KP_PROXY_TOO_BIG);
  ck_assert_ptr_nonnull(strstr(snap->proxy.unreachable, "/metrics: answer over 4 MiB, not read"));
  ck_assert(!snap->proxy.has_metrics);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(test_refused_and_bad_address) {
  /* a port nobody listens on: bound, never listened, closed */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  socklen_t sl = sizeof(sa);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
  char endpoint[32];
  snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%u", ntohs(sa.sin_port));
  struct kp_snapshot *snap = kp_snapshot_new();
  kp_proxy_status_fetch(snap, endpoint, NULL);
  close(fd);
  ck_assert_int_eq(snap->proxy.fault, KP_PROXY_NO_ANSWER);
  ck_assert_ptr_nonnull(strstr(snap->proxy.unreachable, "/metrics: Connection refused"));
  kp_snapshot_free(snap);

  snap = kp_snapshot_new();
  kp_proxy_status_fetch(snap, "localhost:10249", NULL);
  ck_assert_int_eq(snap->proxy.fault, KP_PROXY_BAD_ADDRESS);
  ck_assert_ptr_nonnull(strstr(snap->proxy.unreachable, "not an IP address and port"));
  kp_snapshot_free(snap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("live_proxy_http");
  TCase *tc = tcase_create("probe");
  tcase_set_timeout(tc, 20);
  tcase_add_loop_test(tc, test_fault_is_what_happened, 0, (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_test(tc, test_good_answer_no_fault);
  tcase_add_test(tc, test_livez_503_is_an_answer);
  tcase_add_test(tc, test_too_big_is_not_no_answer);
  tcase_add_test(tc, test_refused_and_bad_address);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
