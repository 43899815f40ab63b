/* Helpers shared by the iptables text parsers: bounded line reading, error
 * messages, counters, protocol/port/mark values, table inference. */
#include "dump_ipt_internal.h"

#include "kp/names.h"

#include <stdio.h>
#include <string.h>

void kp_ipt_lines_init(struct kp_ipt_lines *it, const char *buf, size_t len) {
  it->buf = buf;
  it->len = len;
  it->pos = 0;
  it->lineno = 0;
}

int kp_ipt_next_line(struct kp_ipt_lines *it, const char **line, size_t *n, const char *source,
                     struct kp_dump_error *err) {
  if (it->pos >= it->len)
    return 0;
  const char *start = it->buf + it->pos;
  size_t avail = it->len - it->pos;
  const char *nl = memchr(start, '\n', avail);
  size_t len = nl ? (size_t)(nl - start) : avail;
  it->lineno++;
  it->pos += nl ? len + 1 : len;
  if (len > KP_IPT_MAX_LINE)
    return kp_dump_fail(err, source, it->lineno, "line longer than %d bytes", KP_IPT_MAX_LINE);
  if (memchr(start, '\0', len) != NULL)
    return kp_dump_fail(err, source, it->lineno, "NUL byte in text dump");
  while (len > 0 && (start[len - 1] == '\r' || start[len - 1] == ' ' || start[len - 1] == '\t'))
    len--;
  *line = start;
  *n = len;
  return 1;
}

int kp_ipt_each_line(const char *buf, size_t len, const char *source, struct kp_dump_error *err,
                     int (*line_fn)(void *state, const char *line, size_t n, size_t lineno),
                     void *state) {
  struct kp_ipt_lines it;
  const char *line;
  size_t n;
  int r;
  kp_ipt_lines_init(&it, buf, len);
  while ((r = kp_ipt_next_line(&it, &line, &n, source, err)) > 0)
    if (line_fn(state, line, n, it.lineno) != 0)
      return -1;
  return r;
}

int kp_ipt_note_other_backend(struct kp_snapshot *snap, const char *source, const char *buf,
                              size_t len, enum kp_backend *backend, struct kp_dump_error *err) {
  /* "iptables-legacy tables present" and "ip6tables-legacy tables present" */
  static const char marker[] = "tables-legacy tables present";
  const char *hit = memmem(buf, len, marker, sizeof(marker) - 1);
  *backend = KP_BACKEND_UNKNOWN;
  if (hit == NULL)
    return 0;
  *backend = KP_BACKEND_NFT;
  const char *start = hit, *end = hit;
  size_t line = 1;
  while (start > buf && start[-1] != '\n')
    start--;
  for (const char *p = buf; (p = memchr(p, '\n', (size_t)(start - p))) != NULL; p++)
    line++;
  while (end < buf + len && *end != '\n' && *end != '\r')
    end++;
  char text[256];
  kp_ipt_excerpt(start, (size_t)(end - start), text, sizeof(text));
  enum kp_family family = strstr(text, "ip6tables") != NULL ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4;
  if (kp_snapshot_add_note(snap, KP_NOTE_OTHER_BACKEND, source, line, NULL, family, text) == NULL)
    return kp_dump_oom(err, source, line);
  return 0;
}

void kp_ipt_excerpt(const char *s, size_t n, char *out, size_t cap) {
  if (cap == 0)
    return;
  size_t i = 0;
  for (; i < n && i + 1 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  out[i] = '\0';
}

int kp_ipt_parse_count(const char *s, size_t n, uint64_t *value, bool *suffixed) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
    if (v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == 0)
    return -1;
  *suffixed = false;
  if (i < n) {
    static const char units[] = "KMGT";
    const char *u = i + 1 == n ? memchr(units, s[i], 4) : NULL;
    if (u == NULL)
      return -1;
    for (long k = 0; k <= u - units; k++) {
      if (v > UINT64_MAX / 1000)
        return -1;
      v *= 1000;
    }
    *suffixed = true;
  }
  *value = v;
  return 0;
}

int kp_ipt_parse_u32(const char *s, size_t n, uint32_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex)
    i = 2;
  if (i >= n)
    return -1;
  for (; i < n; i++) {
    unsigned d;
    char c = s[i];
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (hex && c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (hex && c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return -1;
    v = v * (hex ? 16 : 10) + d;
    if (v > UINT32_MAX)
      return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

int kp_ipt_parse_mark(const char *s, size_t n, uint32_t *value, uint32_t *mask) {
  const char *slash = memchr(s, '/', n);
  if (slash == NULL) {
    *mask = 0xffffffffu;
    return kp_ipt_parse_u32(s, n, value);
  }
  size_t vn = (size_t)(slash - s);
  if (kp_ipt_parse_u32(s, vn, value) != 0 || kp_ipt_parse_u32(slash + 1, n - vn - 1, mask) != 0)
    return -1;
  return 0;
}

static bool span_eq(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

int kp_ipt_parse_proto(const char *s, size_t n, bool *present, uint8_t *proto) {
  size_t digits = 0;
  while (digits < n && s[digits] >= '0' && s[digits] <= '9')
    digits++;
  if (n > 3 && digits == n)
    return -1; /* iptables prints at most three digits */
  int number = kp_proto_from_name(s, n);
  if (number < 0)
    return -1;
  *present = number != 0;
  *proto = (uint8_t)number;
  return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *out) {
  static const struct {
    const char *name;
    uint16_t port;
  } services[] = {
      {"http", 80},       {"https", 443},  {"domain", 53},       {"ssh", 22},     {"ntp", 123},
      {"smtp", 25},       {"bgp", 179},    {"snmp", 161},        {"ftp", 21},     {"telnet", 23},
      {"http-alt", 8080}, {"mysql", 3306}, {"postgresql", 5432}, {"vxlan", 4789},
  };
  uint32_t v;
  if (n > 0 && s[0] >= '0' && s[0] <= '9') {
    if (n > 5 || kp_ipt_parse_u32(s, n, &v) != 0 || v > 65535)
      return -1;
    *out = (uint16_t)v;
    return 0;
  }
  for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
    if (span_eq(s, n, services[i].name)) {
      *out = services[i].port;
      return 0;
    }
  return -1;
}

int kp_ipt_parse_ports(const char *s, size_t n, char sep, struct kp_port_range *out) {
  bool negated = false;
  if (n > 0 && s[0] == '!') {
    negated = true;
    s++;
    n--;
  }
  const char *mid = memchr(s, sep, n);
  uint16_t lo, hi;
  if (mid == NULL) {
    if (parse_port(s, n, &lo) != 0)
      return -1;
    hi = lo;
  } else {
    size_t ln = (size_t)(mid - s), hn = n - ln - 1;
    lo = 0;
    hi = 65535;
    if ((ln > 0 && parse_port(s, ln, &lo) != 0) || (hn > 0 && parse_port(mid + 1, hn, &hi) != 0))
      return -1;
  }
  out->present = true;
  out->negated = negated;
  out->lo = lo;
  out->hi = hi;
  return 0;
}

void kp_ipt_parse_nat_to(struct kp_snapshot *snap, struct kp_rule *rule, const char *s, size_t n) {
  char addr[128];
  const char *ports = NULL;
  size_t an, pn = 0;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (close == NULL)
      return;
    an = (size_t)(close - s - 1);
    memcpy(addr, s + 1, an < sizeof(addr) ? an : 0);
    if ((size_t)(close - s) + 1 < n && close[1] == ':') {
      ports = close + 2;
      pn = n - (size_t)(close - s) - 2;
    }
  } else {
    const char *colon = memchr(s, ':', n);
    const char *next = colon ? memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) : NULL;
    if (colon != NULL && next == NULL) { /* IPv4 with port; several ':' = bare IPv6 */
      an = (size_t)(colon - s);
      ports = colon + 1;
      pn = n - an - 1;
    } else {
      an = n;
    }
    if (an < sizeof(addr))
      memcpy(addr, s, an);
  }
  if (an >= sizeof(addr))
    return;
  const char *dash = memchr(addr, '-', an); /* a range: keep its first address */
  if (dash != NULL)
    an = (size_t)(dash - addr);
  addr[an] = '\0';
  if (an > 0)
    kp_addr_parse(&snap->arena, addr, &rule->nat_addr);
  if (ports != NULL && pn > 0)
    kp_ipt_parse_ports(ports, pn, '-', &rule->nat_ports);
}

unsigned kp_ipt_builtin_bit(const char *name) {
  static const char *const names[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  for (unsigned i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0)
      return 1u << i;
  return 0;
}

bool kp_ipt_is_nat_name(const char *name) {
  static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-",
                                         "KUBE-FW-",  "KUBE-XLB-", "KUBE-SVL-"};
  static const char *const exact[] = {"KUBE-MARK-MASQ", "KUBE-POSTROUTING", "DNAT",
                                      "SNAT",           "MASQUERADE",       "REDIRECT"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
    if (strcmp(name, exact[i]) == 0)
      return true;
  return false;
}

const char *kp_ipt_infer_table(unsigned mask, bool nat_hint) {
  bool pre = mask & KP_IPT_PREROUTING, in = mask & KP_IPT_INPUT, fwd = mask & KP_IPT_FORWARD;
  bool out = mask & KP_IPT_OUTPUT, post = mask & KP_IPT_POSTROUTING;
  if (fwd)
    return (pre || post) ? "mangle" : "filter";
  if (post)
    return "nat";
  if (pre)
    return (in || nat_hint) ? "nat" : "raw";
  if (in)
    return "filter";
  (void)out;
  return nat_hint ? "nat" : "filter";
}

bool kp_ipt_builtins_whole(unsigned mask) {
  static const unsigned tables[] = {
      KP_IPT_PREROUTING | KP_IPT_INPUT | KP_IPT_OUTPUT | KP_IPT_POSTROUTING, /* nat */
      KP_IPT_PREROUTING | KP_IPT_OUTPUT | KP_IPT_POSTROUTING,                /* nat before 2.6.36 */
      KP_IPT_INPUT | KP_IPT_FORWARD | KP_IPT_OUTPUT,                         /* filter, security */
      KP_IPT_PREROUTING | KP_IPT_INPUT | KP_IPT_FORWARD | KP_IPT_OUTPUT | KP_IPT_POSTROUTING,
      KP_IPT_PREROUTING | KP_IPT_OUTPUT, /* raw */
  };
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
    if (mask == tables[i])
      return true;
  return false;
}

/* The word after " -j " or " -g " in args, into out. */
static void rule_target(const char *args, size_t n, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i + 3 < n; i++) {
    if (args[i] != '-' || (args[i + 1] != 'j' && args[i + 1] != 'g') || args[i + 2] != ' ' ||
        (i > 0 && args[i - 1] != ' '))
      continue;
    size_t b = i + 3, e = b;
    while (e < n && args[e] != ' ')
      e++;
    if (e - b < cap) {
      memcpy(out, args + b, e - b);
      out[e - b] = '\0';
    }
  }
}

const char *kp_ipt_guess_table(const char *chain, const char *args, size_t n) {
  /* Where kube-proxy and kubelet create their chains (corpus STRUCTURE.md 1.1-1.4). */
  static const struct {
    const char *name;
    bool prefix;
    const char *table;
  } places[] = {
      {"KUBE-SVC-", true, "nat"},
      {"KUBE-SVL-", true, "nat"},
      {"KUBE-SEP-", true, "nat"},
      {"KUBE-EXT-", true, "nat"},
      {"KUBE-FW-", true, "nat"},
      {"KUBE-XLB-", true, "nat"},
      {"KUBE-MARK-MASQ", false, "nat"},
      {"KUBE-POSTROUTING", false, "nat"},
      {"KUBE-MARK-DROP", false, "nat"},
      {"KUBE-LOAD-BALANCER", false, "nat"},
      {"PREROUTING", false, "nat"},
      {"POSTROUTING", false, "nat"},
      {"KUBE-FORWARD", false, "filter"},
      {"KUBE-EXTERNAL-SERVICES", false, "filter"},
      {"KUBE-PROXY-FIREWALL", false, "filter"},
      {"KUBE-FIREWALL", false, "filter"},
      {"KUBE-IPVS-FILTER", false, "filter"},
      {"KUBE-IPVS-OUT-FILTER", false, "filter"},
      {"KUBE-SOURCE-RANGES-FIREWALL", false, "filter"},
      {"INPUT", false, "filter"},
      {"FORWARD", false, "filter"},
      {"KUBE-IPTABLES-HINT", false, "mangle"},
  };
  char target[64];
  rule_target(args, n, target, sizeof(target));
  /* A target only nat has wins over the chain's usual table: the old IPVS
   * proxy had a nat KUBE-FIREWALL (-j KUBE-MARK-DROP, kubeadm#1461) next
   * to kubelet's filter one, and iptables takes DNAT, SNAT, MASQUERADE and
   * REDIRECT in nat only. (KUBE-MARK-DROP is made in nat only.) */
  bool nat_only = kp_ipt_is_nat_name(target) || strcmp(target, "KUBE-MARK-DROP") == 0;
  for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
    if (places[i].prefix ? strncmp(chain, places[i].name, strlen(places[i].name)) == 0
                         : strcmp(chain, places[i].name) == 0)
      return nat_only && strcmp(places[i].table, "filter") == 0 ? "nat" : places[i].table;
  /* KUBE-SERVICES, KUBE-NODEPORTS, OUTPUT are in both: the target tells.
   * filter's: REJECT/DROP/ACCEPT, or jumps with --ctstate NEW; nat's: the
   * service chains, KUBE-NODEPORTS, KUBE-MARK-MASQ, KUBE-SERVICES. */
  if (target[0] == '\0')
    return NULL;
  /* IPVS mode's nat KUBE-SERVICES accepts on the cluster-IP set */
  if (memmem(args, n, "CLUSTER-IP dst,dst", 18) != NULL)
    return "nat";
  if (strcmp(target, "REJECT") == 0 || strcmp(target, "DROP") == 0 ||
      strcmp(target, "ACCEPT") == 0 || strcmp(target, "KUBE-FIREWALL") == 0 ||
      strcmp(target, "KUBE-PROXY-FIREWALL") == 0 || strcmp(target, "KUBE-EXTERNAL-SERVICES") == 0)
    return "filter";
  if (memmem(args, n, "--ctstate", 9) != NULL || memmem(args, n, "--state", 7) != NULL)
    return "filter";
  if (kp_ipt_is_nat_name(target) || strcmp(target, "KUBE-NODEPORTS") == 0 ||
      strcmp(target, "KUBE-SERVICES") == 0 || strcmp(target, "KUBE-NODE-PORT") == 0)
    return "nat";
  return NULL;
}

size_t kp_ipt_unterminated_line(const char *buf, size_t len) {
  if (len == 0 || buf[len - 1] == '\n')
    return 0;
  size_t line = 1, start = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\n') {
      line++;
      start = i + 1;
    }
  /* a line the reader refuses (too long, NUL) is not a dump line cut short */
  if (len - start > KP_IPT_MAX_LINE || memchr(buf + start, '\0', len - start) != NULL)
    return 0;
  return line;
}

int kp_ipt_note(struct kp_snapshot *snap, enum kp_note_kind kind, const char *source, size_t line,
                const struct kp_table *table, const char *detail, struct kp_dump_error *err) {
  if (kp_snapshot_add_note(snap, kind, source, line, table ? table->name : NULL,
                           table ? table->family : KP_FAMILY_IPV4, detail) == NULL)
    return kp_dump_oom(err, source, line);
  return 0;
}

char *kp_ipt_strndup(struct kp_snapshot *snap, const char *s, size_t n) {
  return kp_arena_strndup(&snap->arena, s, n);
}
