/* kube-proxy's own view of itself, from saved HTTP bodies: /metrics
 * (Prometheus text), /livez or /healthz (JSON), /proxyMode (one word).
 * An optional HTTP status line and headers (curl -i) are accepted. */
#include "dump_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct line {
  const char *p;
  size_t n;
  size_t no; /* 1-based */
};

static bool next_line(const char *buf, size_t len, size_t *pos, size_t *no, struct line *out) {
  if (*pos >= len)
    return false;
  const char *nl = memchr(buf + *pos, '\n', len - *pos);
  size_t end = nl != NULL ? (size_t)(nl - buf) : len;
  out->p = buf + *pos;
  out->n = end - *pos;
  out->no = ++*no;
  while (out->n > 0 &&
         (out->p[out->n - 1] == '\r' || out->p[out->n - 1] == ' ' || out->p[out->n - 1] == '\t'))
    out->n--;
  while (out->n > 0 && (out->p[0] == ' ' || out->p[0] == '\t'))
    out->p++, out->n--;
  *pos = end + 1;
  return true;
}

static bool line_is(const struct line *l, const char *prefix) {
  size_t n = strlen(prefix);
  return l->n >= n && memcmp(l->p, prefix, n) == 0;
}

/* Go's time.Time.String() "2024-05-01 10:00:00.123 +0000 UTC m=+1.2" or
 * RFC 3339 "2024-05-01T10:00:00Z". Year 1 (Go's zero time) -> 0. */
static bool parse_go_time(const char *s, double *out) {
  int year, mon, day, hour, min, sec, used = 0;
  if (sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &used) !=
      6)
    return false;
  const char *p = s + used;
  double frac = 0;
  if (*p == '.') {
    double scale = 0.1;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac += (*p - '0') * scale;
  }
  long offset = 0;
  while (*p == ' ')
    p++;
  int hh, mm;
  if ((*p == '+' || *p == '-') &&
      (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 || sscanf(p + 1, "%2d%2d", &hh, &mm) == 2))
    offset = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
  if (year <= 1) {
    *out = 0;
    return true;
  }
  struct tm tm = {0};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  *out = (double)timegm(&tm) - (double)offset + frac;
  return true;
}

/* The string value of "key": "value" in a small JSON body, into out. */
static bool json_string(const char *buf, size_t len, const char *key, char *out, size_t cap) {
  char quoted[64];
  snprintf(quoted, sizeof(quoted), "\"%s\"", key);
  const char *k = memmem(buf, len, quoted, strlen(quoted));
  if (k == NULL)
    return false;
  const char *end = buf + len, *p = k + strlen(quoted);
  while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  if (p >= end || *p != '"')
    return false;
  size_t o = 0;
  for (p++; p < end && *p != '"' && o + 1 < cap; p++)
    out[o++] = *p;
  out[o] = '\0';
  return p < end && *p == '"';
}

static int parse_livez(struct kp_proxy_status *ps, const char *source, const char *body, size_t len,
                       int http_status, size_t line, struct kp_dump_error *err) {
  char last[128], now[128];
  double last_ts = 0, now_ts = 0;
  if (!json_string(body, len, "lastUpdated", last, sizeof(last)) || !parse_go_time(last, &last_ts))
    return kp_dump_fail(err, source, line, "livez body without a readable \"lastUpdated\"");
  bool has_now =
      json_string(body, len, "currentTime", now, sizeof(now)) && parse_go_time(now, &now_ts);
  ps->has_livez = true;
  if (http_status > 0)
    ps->livez_healthy = http_status == 200;
  else
    /* Since kube-proxy 1.26 a healthy /livez answers lastUpdated ==
     * currentTime; an unhealthy one keeps the last sync time. */
    ps->livez_healthy = has_now && fabs(now_ts - last_ts) < 1.0;
  if (has_now && now_ts > 0)
    ps->scrape_ts = now_ts;
  return 0;
}

/* Sums one sample into the status; unknown names are ignored. */
static void metric_sample(struct kp_proxy_status *ps, const char *name, double value) {
  if (strncmp(name, "kubeproxy_", 10) != 0)
    return;
  ps->has_metrics = true;
  if (strcmp(name, "kubeproxy_sync_proxy_rules_last_timestamp_seconds") == 0) {
    if (value > ps->last_sync_ts)
      ps->last_sync_ts = value;
  } else if (strcmp(name, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds") == 0) {
    if (!ps->has_last_queued || value > ps->last_queued_ts)
      ps->last_queued_ts = value;
    ps->has_last_queued = true;
  } else if (strcmp(name, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total") == 0) {
    ps->restore_failures += value;
  } else if (strcmp(name, "kubeproxy_sync_proxy_rules_nftables_sync_failures_total") == 0) {
    ps->nft_sync_failures += value;
  }
}

static int parse_prometheus(struct kp_proxy_status *ps, const char *source, const char *buf,
                            size_t len, size_t pos, size_t no, struct kp_dump_error *err) {
  struct line l;
  while (next_line(buf, len, &pos, &no, &l)) {
    if (l.n == 0 || l.p[0] == '#')
      continue;
    char name[256];
    size_t i = 0;
    while (i < l.n && l.p[i] != '{' && l.p[i] != ' ' && l.p[i] != '\t')
      i++;
    if (i == 0 || i >= sizeof(name) || i >= l.n)
      return kp_dump_fail(err, source, l.no, "not a Prometheus sample line");
    memcpy(name, l.p, i);
    name[i] = '\0';
    if (l.p[i] == '{') { /* labels: skip to the closing brace outside quotes */
      bool quoted = false;
      for (i++; i < l.n && (quoted || l.p[i] != '}'); i++) {
        if (l.p[i] == '\\' && quoted)
          i++;
        else if (l.p[i] == '"')
          quoted = !quoted;
      }
      if (i >= l.n)
        return kp_dump_fail(err, source, l.no, "unterminated label set");
      i++;
    }
    while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
      i++;
    char value[64];
    size_t v = 0;
    while (i < l.n && l.p[i] != ' ' && l.p[i] != '\t' && v + 1 < sizeof(value))
      value[v++] = l.p[i++];
    value[v] = '\0';
    char *end;
    double d = strtod(value, &end);
    if (v == 0 || *end != '\0')
      return kp_dump_fail(err, source, l.no, "sample without a numeric value");
    if (!isnan(d))
      metric_sample(ps, name, d);
  }
  return 0;
}

/* A /proxyMode body: one of the mode words. */
static bool proxy_mode_word(const struct line *l, const char **mode) {
  static const char *const modes[] = {"iptables", "ipvs", "nftables", "kernelspace"};
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
    if (l->n == strlen(modes[i]) && memcmp(l->p, modes[i], l->n) == 0) {
      *mode = modes[i];
      return true;
    }
  return false;
}

int kp_parse_metrics(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                     struct kp_dump_error *err) {
  struct kp_dump_error local;
  if (err == NULL)
    err = &local;
  source = source != NULL ? source : "-";
  size_t pos = 0, no = 0;
  struct line l;
  int http_status = 0;
  /* First significant line; an HTTP status line and headers come first. */
  for (;;) {
    size_t before = pos, before_no = no;
    if (!next_line(buf, len, &pos, &no, &l))
      return kp_dump_fail(err, source, 0, "empty kube-proxy metrics file");
    if (l.n == 0)
      continue;
    if (line_is(&l, "HTTP/") && http_status == 0) {
      /* "HTTP/1.1 200 OK": three digits after the first space, read within
       * the line (the buffer is not NUL-terminated). */
      const char *sp = memchr(l.p, ' ', l.n);
      http_status = 0;
      for (const char *d = sp ? sp + 1 : NULL; d && d < l.p + l.n && d < sp + 4; d++) {
        if (*d < '0' || *d > '9')
          break;
        http_status = http_status * 10 + (*d - '0');
      }
      while (next_line(buf, len, &pos, &no, &l) && l.n > 0) /* headers */
        ;
      continue;
    }
    if (l.p[0] == '#' && !line_is(&l, "# HELP") && !line_is(&l, "# TYPE"))
      continue;
    pos = before;
    no = before_no;
    break;
  }
  /* Into a copy, kept only when the whole body parsed: the samples before
   * a bad line are no view of kube-proxy (last_queued comes before
   * last_timestamp: half a body reads as a sync hung since 1970). */
  struct kp_proxy_status work = snap->proxy;
  int rc;
  if (l.p[0] == '{')
    rc = parse_livez(&work, source, l.p, len - (size_t)(l.p - buf), http_status, l.no, err);
  else if (proxy_mode_word(&l, &work.proxy_mode))
    rc = 0;
  else
    rc = parse_prometheus(&work, source, buf, len, pos, no, err);
  if (rc != 0)
    return -1;
  if (work.source == NULL && (work.source = kp_arena_strdup(&snap->arena, source)) == NULL)
    return kp_dump_fail(err, source, 0, "out of memory");
  snap->proxy = work;
  return 0;
}
