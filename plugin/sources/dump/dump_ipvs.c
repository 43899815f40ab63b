/* `ipvsadm -Ln`, `-Ln --stats`, `-Ln --rate` (and the other -L column sets)
 * into snap->ipvs: one kp_ipvs_service per virtual server line ("TCP
 * 10.96.0.1:443 rr", "FWM 100 rr", "TCP [fd00::1]:443 ..."), one
 * kp_ipvs_real per "  -> RemoteAddress:Port ..." line under it. Lines before
 * the "Prot LocalAddress:Port" header (a prompt, the version line) are not
 * read; the header says which columns follow. A paste without the header
 * (kube-router#415) is read from its first unmistakable body line
 * (kp_ipvs_body_line) as the plain columns, and noted as a part of a
 * listing. `ipvsadm -L` without -n prints port names ("100.64.1.2:http"):
 * the names kp_ipt_parse_ports knows are read; a virtual server with
 * another name is left out (noted), a real server's makes its service cut. */
#include "dump_ipt_internal.h"
#include "dump_parsers.h"

#include <stdio.h>
#include <string.h>

enum ipvs_columns {
  COLUMNS_NONE = 0, /* before the header */
  COLUMNS_PLAIN,    /* Scheduler Flags / Forward Weight ActiveConn InActConn */
  COLUMNS_STATS,    /* Conns InPkts OutPkts InBytes OutBytes */
  COLUMNS_OTHER,    /* --rate, --thresholds, --persistent-conn, --timeout: not kept */
};

struct ipvs_state {
  struct kp_snapshot *snap;
  const char *source;
  struct kp_dump_error *err;
  enum ipvs_columns columns;
  struct kp_ipvs_service *service; /* the current virtual server */
  bool merging;    /* it came from an earlier file: reals are matched, not appended */
  bool gap;        /* lines left out after the current one (grep's "--", a "...") */
  bool headerless; /* body lines without the header: a part of a listing */
  size_t headerless_line;
  size_t not_read; /* virtual servers (and real servers under no virtual server shown) */
  size_t not_read_line;
};

/* The current virtual server is done: shown whole when another one
 * follows it without a gap; cut when the listing skips lines after it or
 * ends there without its newline (cut_end), unless an earlier file showed
 * it whole. (A listing ending with a newline may be whole: a virtual
 * server without real servers is what kube-proxy leaves for a service
 * without endpoints, so the last one's being empty is no cut.) */
static void service_done(struct ipvs_state *st, bool cut_end) {
  if (st->service == NULL)
    return;
  bool cut = st->gap || cut_end;
  if (!cut)
    st->service->cut = false;
  else if (!st->merging)
    st->service->cut = true;
  st->gap = false;
}

#define IPVS_MAX_WORDS 12

struct words {
  const char *p[IPVS_MAX_WORDS];
  size_t n[IPVS_MAX_WORDS];
  size_t count;
};

static void split(const char *line, size_t len, struct words *w) {
  w->count = 0;
  size_t i = 0;
  while (i < len && w->count < IPVS_MAX_WORDS) {
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
      i++;
    w->p[w->count] = line + start;
    w->n[w->count++] = i - start;
  }
}

static bool word_is(const struct words *w, size_t k, const char *text) {
  return k < w->count && w->n[k] == strlen(text) && memcmp(w->p[k], text, w->n[k]) == 0;
}

static bool has_word(const struct words *w, const char *text) {
  for (size_t k = 0; k < w->count; k++)
    if (word_is(w, k, text))
      return true;
  return false;
}

/* "10.3.0.1:443" or "[fd00::1]:443". 0 or -1. */
static int parse_endpoint(struct kp_snapshot *snap, const char *s, size_t n, struct kp_addr *addr,
                          uint16_t *port) {
  char text[80];
  const char *colon = NULL, *end = s + n;
  size_t an;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (close == NULL || (size_t)(close - s) + 1 >= n || close[1] != ':')
      return -1;
    s++;
    an = (size_t)(close - s);
    colon = close + 1;
  } else {
    colon = memrchr(s, ':', n);
    if (colon == NULL)
      return -1;
    an = (size_t)(colon - s);
  }
  size_t pn = (size_t)(end - (colon + 1));
  struct kp_port_range ports; /* a number, or a name ipvsadm -L prints without -n */
  if (an == 0 || an >= sizeof(text) || pn == 0 || colon[1] == '!' ||
      kp_ipt_parse_ports(colon + 1, pn, ':', &ports) != 0 || ports.lo != ports.hi)
    return -1;
  memcpy(text, s, an);
  text[an] = '\0';
  if (kp_addr_parse(snap != NULL ? &snap->arena : NULL, text, addr) != 0 ||
      (addr->kind != KP_ADDR_IPV4 && addr->kind != KP_ADDR_IPV6))
    return -1;
  *port = ports.lo;
  return 0;
}

/* The port of "ADDR:PORT" is a name (not digits): one parse_endpoint
 * does not know. */
static bool port_is_name(const char *s, size_t n) {
  const char *colon = memrchr(s, ':', n);
  return colon != NULL && colon + 1 < s + n && !(colon[1] >= '0' && colon[1] <= '9');
}

/* Five counter columns from word k on: conns, packets in, packets out,
 * bytes in, bytes out (--stats); the model keeps what came in. */
static int stats_columns(struct ipvs_state *st, const struct words *w, size_t k,
                         struct kp_counters *out, struct kp_counter_texts *texts, size_t lineno) {
  uint64_t v[5];
  bool suffixed[5];
  if (w->count < k + 5)
    return kp_dump_fail(st->err, st->source, lineno, "ipvsadm --stats line with too few columns");
  for (size_t i = 0; i < 5; i++)
    if (kp_ipt_parse_count(w->p[k + i], w->n[k + i], &v[i], &suffixed[i]) != 0)
      return kp_dump_fail(st->err, st->source, lineno, "malformed ipvsadm counter");
  out->present = true;
  out->packets = v[1];
  out->bytes = v[3];
  if (suffixed[1] && (texts->packets = kp_ipt_strndup(st->snap, w->p[k + 1], w->n[k + 1])) == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  if (suffixed[3] && (texts->bytes = kp_ipt_strndup(st->snap, w->p[k + 3], w->n[k + 3])) == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  return 0;
}

static bool is_service_protocol(const struct words *w) {
  return word_is(w, 0, "TCP") || word_is(w, 0, "UDP") || word_is(w, 0, "SCTP") ||
         word_is(w, 0, "FWM");
}

static bool same_endpoint(const struct kp_addr *a, uint16_t ap, const struct kp_addr *b,
                          uint16_t bp) {
  return a->kind == b->kind && ap == bp && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* A bundle holds several listings of one table (sos's ipvs plugin runs -Ln,
 * --stats, --rate, --thresholds, ...): the same virtual server from another
 * file is one service, not two. */
static struct kp_ipvs_service *earlier_copy(const struct ipvs_state *st,
                                            const struct kp_ipvs_service *svc) {
  for (size_t i = 0; i + 1 < st->snap->ipvs.count; i++) {
    struct kp_ipvs_service *old = st->snap->ipvs.items[i];
    if (old->source != st->source && strcmp(old->proto, svc->proto) == 0 &&
        old->fwmark == svc->fwmark && same_endpoint(&old->addr, old->port, &svc->addr, svc->port))
      return old;
  }
  return NULL;
}

/* Folds the new copy's columns into the earlier one and drops it. */
static struct kp_ipvs_service *merge_service(struct ipvs_state *st, struct kp_ipvs_service *old,
                                             const struct kp_ipvs_service *svc) {
  if (!old->counters.present) {
    old->counters = svc->counters;
    old->counter_texts = svc->counter_texts;
  }
  if (old->scheduler == NULL)
    old->scheduler = svc->scheduler;
  st->snap->ipvs.count--; /* svc was the last one added */
  return old;
}

static int service_line(struct ipvs_state *st, const struct words *w, size_t lineno) {
  service_done(st, false);
  struct kp_ipvs_service *svc = kp_snapshot_add_ipvs_service(st->snap);
  if (svc == NULL || (svc->proto = kp_ipt_strndup(st->snap, w->p[0], w->n[0])) == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  svc->source = st->source;
  svc->line = lineno;
  if (w->count < 2)
    return kp_dump_fail(st->err, st->source, lineno, "virtual server line without an address");
  if (word_is(w, 0, "FWM")) {
    if (kp_ipt_parse_u32(w->p[1], w->n[1], &svc->fwmark) != 0)
      return kp_dump_fail(st->err, st->source, lineno, "malformed firewall mark");
  } else if (parse_endpoint(st->snap, w->p[1], w->n[1], &svc->addr, &svc->port) != 0) {
    if (!port_is_name(w->p[1], w->n[1]))
      return kp_dump_fail(st->err, st->source, lineno, "malformed virtual server address");
    st->snap->ipvs.count--; /* a port name not known: left out with its real servers */
    st->service = NULL;
    if (st->not_read++ == 0)
      st->not_read_line = lineno;
    return 0;
  }
  svc->family = svc->addr.kind == KP_ADDR_IPV6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  if (st->columns == COLUMNS_PLAIN && w->count >= 3 &&
      (svc->scheduler = kp_ipt_strndup(st->snap, w->p[2], w->n[2])) == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  if (st->columns == COLUMNS_STATS &&
      stats_columns(st, w, 2, &svc->counters, &svc->counter_texts, lineno) != 0)
    return -1;
  struct kp_ipvs_service *old = earlier_copy(st, svc);
  st->merging = old != NULL;
  st->service = old != NULL ? merge_service(st, old, svc) : svc;
  return 0;
}

static void merge_real(struct kp_ipvs_real *old, const struct kp_ipvs_real *real) {
  if (!old->counters.present) {
    old->counters = real->counters;
    old->counter_texts = real->counter_texts;
  }
  if (old->forward == NULL) {
    old->forward = real->forward;
    old->weight = real->weight;
    old->active_conns = real->active_conns;
    old->inactive_conns = real->inactive_conns;
  }
}

static int plain_columns(struct ipvs_state *st, const struct words *w, struct kp_ipvs_real *real,
                         size_t lineno);

static int real_line(struct ipvs_state *st, const struct words *w, size_t lineno) {
  if (st->service == NULL && (st->headerless || st->not_read > 0)) {
    /* under a virtual server the paste does not show, or one left out */
    if (st->not_read++ == 0)
      st->not_read_line = lineno;
    return 0;
  }
  if (st->service == NULL)
    return kp_dump_fail(st->err, st->source, lineno, "real server line before any virtual server");
  if (w->count >= 2 && port_is_name(w->p[1], w->n[1]) &&
      parse_endpoint(NULL, w->p[1], w->n[1], &(struct kp_addr){0}, &(uint16_t){0}) != 0) {
    st->gap = true; /* a port name not known: this real server is not shown */
    return 0;
  }
  struct kp_ipvs_real *real = kp_ipvs_add_real(st->snap, st->service);
  if (real == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  int rc = 0;
  if (w->count < 2 || parse_endpoint(st->snap, w->p[1], w->n[1], &real->addr, &real->port) != 0)
    rc = kp_dump_fail(st->err, st->source, lineno, "malformed real server address");
  else if (st->columns == COLUMNS_STATS)
    rc = stats_columns(st, w, 2, &real->counters, &real->counter_texts, lineno);
  else if (st->columns == COLUMNS_PLAIN && w->count >= 6)
    rc = plain_columns(st, w, real, lineno);
  if (rc != 0)
    st->service->reals.count--; /* a line that did not parse adds nothing */
  if (rc != 0 || !st->merging)
    return rc;
  struct kp_ptrvec *reals = &st->service->reals; /* real is the last one */
  for (size_t i = 0; i + 1 < reals->count; i++) {
    struct kp_ipvs_real *old = reals->items[i];
    if (same_endpoint(&old->addr, old->port, &real->addr, real->port)) {
      merge_real(old, real);
      reals->count--;
      break;
    }
  }
  return 0;
}

static int plain_columns(struct ipvs_state *st, const struct words *w, struct kp_ipvs_real *real,
                         size_t lineno) {
  uint64_t active, inactive;
  bool s1, s2;
  if ((real->forward = kp_ipt_strndup(st->snap, w->p[2], w->n[2])) == NULL)
    return kp_dump_oom(st->err, st->source, lineno);
  if (kp_ipt_parse_u32(w->p[3], w->n[3], &real->weight) != 0 ||
      kp_ipt_parse_count(w->p[4], w->n[4], &active, &s1) != 0 ||
      kp_ipt_parse_count(w->p[5], w->n[5], &inactive, &s2) != 0)
    return kp_dump_fail(st->err, st->source, lineno, "malformed real server columns");
  real->active_conns = active;
  real->inactive_conns = inactive;
  return 0;
}

static int ipvs_line(void *state, const char *line, size_t n, size_t lineno) {
  struct ipvs_state *st = state;
  struct words w;
  split(line, n, &w);
  if (w.count == 0)
    return 0;
  if (word_is(&w, 0, "Prot") && w.count >= 2 && w.n[1] > 0 && w.p[1][0] == 'L') {
    st->columns = has_word(&w, "Scheduler") ? COLUMNS_PLAIN
                  : has_word(&w, "InPkts")  ? COLUMNS_STATS
                                            : COLUMNS_OTHER;
    return 0;
  }
  if (st->columns == COLUMNS_NONE && kp_ipvs_body_line(line, n)) {
    st->columns = COLUMNS_PLAIN; /* no header: the body says which columns */
    st->headerless = true;
    st->headerless_line = lineno;
  }
  if (st->columns == COLUMNS_NONE)
    return 0; /* a prompt, "IP Virtual Server version 1.2.1 (size=4096)" */
  if (w.count == 1 && (word_is(&w, 0, "--") || word_is(&w, 0, "..."))) {
    st->gap = true; /* grep -A/-B/-C's separator, an elision */
    return 0;
  }
  if (word_is(&w, 0, "->"))
    return word_is(&w, 1, "RemoteAddress:Port") ? 0 : real_line(st, &w, lineno);
  if (is_service_protocol(&w))
    return service_line(st, &w, lineno);
  if (w.p[0][0] == '#' || w.p[0][0] == '$' || w.p[0][0] == '[' || memchr(line, '@', n) != NULL)
    return 0; /* the next prompt of a pasted session */
  char excerpt[48];
  kp_ipt_excerpt(line, n, excerpt, sizeof(excerpt));
  return kp_dump_fail(st->err, st->source, lineno, "not an ipvsadm line: \"%s\"", excerpt);
}

int kp_parse_ipvsadm(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                     struct kp_dump_error *err) {
  struct ipvs_state st = {.snap = snap, .err = err};
  st.source = kp_arena_strdup(&snap->arena, source != NULL ? source : "");
  if (st.source == NULL)
    return kp_dump_oom(err, source, 0);
  if (kp_ipt_each_line(buf, len, st.source, err, ipvs_line, &st) != 0) {
    /* the last line, without its newline, not parsing: cut there */
    if (st.service == NULL || err == NULL || err->line != kp_ipt_unterminated_line(buf, len) ||
        strstr(err->message, "out of memory") != NULL)
      return -1;
    memset(err, 0, sizeof(*err));
  }
  service_done(&st, kp_ipt_unterminated_line(buf, len) != 0);
  if (st.columns == COLUMNS_NONE)
    return kp_dump_fail(err, st.source, 0, "no \"Prot LocalAddress:Port\" header: not ipvsadm -L");
  if (st.headerless && kp_ipt_note(snap, KP_NOTE_FRAGMENT, st.source, st.headerless_line, NULL,
                                   "ipvsadm lines without its header: virtual servers before "
                                   "them not shown",
                                   err) != 0)
    return -1;
  if (st.not_read > 0) {
    char detail[128];
    snprintf(detail, sizeof(detail),
             "%zu ipvsadm line(s) not read (a port name not known, "
             "or under a virtual server not shown)",
             st.not_read);
    if (kp_ipt_note(snap, KP_NOTE_FRAGMENT, st.source, st.not_read_line, NULL, detail, err) != 0)
      return -1;
  }
  return 0;
}

/* Schedulers ipvsadm prints (ip_vs_*.ko): a virtual server line's third word. */
static bool is_scheduler(const char *p, size_t n) {
  static const char *const names[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                      "sh", "sed", "nq", "fo",  "ovf",  "mh",    "twos"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (n == strlen(names[i]) && memcmp(p, names[i], n) == 0)
      return true;
  return false;
}

bool kp_ipvs_body_line(const char *line, size_t n) {
  static const char *const forwards[] = {"Masq", "Route", "Tunnel", "Local", "FullNat"};
  struct words w;
  split(line, n, &w);
  if (w.count < 3 || w.n[1] < 3 || !(w.p[1][0] == '[' || (w.p[1][0] >= '0' && w.p[1][0] <= '9')))
    return false;
  struct kp_addr addr;
  uint16_t port;
  bool endpoint = parse_endpoint(NULL, w.p[1], w.n[1], &addr, &port) == 0 ||
                  (port_is_name(w.p[1], w.n[1]) && memchr(w.p[1], ':', w.n[1]) != NULL);
  if (!endpoint)
    return false;
  if (word_is(&w, 0, "TCP") || word_is(&w, 0, "UDP") || word_is(&w, 0, "SCTP"))
    return is_scheduler(w.p[2], w.n[2]);
  if (!word_is(&w, 0, "->") || w.count != 6)
    return false;
  bool forward = false;
  for (size_t i = 0; i < sizeof(forwards) / sizeof(forwards[0]); i++)
    forward |= word_is(&w, 2, forwards[i]);
  uint32_t v;
  for (size_t k = 3; forward && k < 6; k++)
    forward = kp_ipt_parse_u32(w.p[k], w.n[k], &v) == 0;
  return forward;
}
