/* Dump format detection from content only: the first significant line
 * decides, after blank lines, `#` comments and shell prompts. */
#include "kp/dump.h"

#include "dump_ipt_internal.h"
#include "dump_parsers.h"

#include <stdbool.h>
#include <string.h>

const char *kp_dump_format_name(enum kp_dump_format format) {
  switch (format) {
  case KP_DUMP_IPT_LIST:
    return "iptables -L";
  case KP_DUMP_IPT_SAVE:
    return "iptables-save";
  case KP_DUMP_IPT_RULES:
    return "iptables -S";
  case KP_DUMP_NFT:
    return "nft";
  case KP_DUMP_METRICS:
    return "kube-proxy metrics";
  case KP_DUMP_NFT_JSON:
    return "nft -j";
  case KP_DUMP_IPVS:
    return "ipvsadm -L";
  case KP_DUMP_UNKNOWN:
  default:
    return "unknown";
  }
}

struct span {
  const char *p;
  size_t n;
};

static bool starts(struct span s, const char *prefix) {
  size_t n = strlen(prefix);
  return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static bool contains(const char *buf, size_t len, const char *needle) {
  return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static struct span trim(struct span s) {
  while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
    s.p++, s.n--;
  while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
    s.n--;
  return s;
}

static bool starts_with(const char *p, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(p, prefix, k) == 0;
}

/* "root@node:~# iptables -L", "[root@ip-10-0-0-1 ~]$ nft list ruleset",
 * "$ sudo iptables-save", markdown code fences (dump_paste.c drops them). */
bool kp_dump_is_prompt(const char *p, size_t n) {
  if (starts_with(p, n, "$ ") || starts_with(p, n, "```") || starts_with(p, n, "> ") ||
      starts_with(p, n, "sudo ") || starts_with(p, n, "[sudo] ") || starts_with(p, n, "/ # ") ||
      starts_with(p, n, "~ # ") || (n == 1 && (p[0] == '$' || p[0] == '>')))
    return true;
  /* "[root@host dir]# cmd" */
  if (n > 0 && p[0] == '[') {
    const char *close = memchr(p, ']', n < 128 ? n : 128);
    size_t at = close != NULL ? (size_t)(close - p) + 1 : n;
    return at < n && (p[at] == '#' || p[at] == '$') && (at + 1 == n || p[at + 1] == ' ') &&
           memchr(p, '@', at) != NULL;
  }
  /* "user@host:~# cmd", and the bare prompt "root@node-1:~#" left at the
   * end of a session: one word with an '@', then '#' or '$' */
  for (size_t i = 1; i < n && i < 128; i++) {
    if (p[i] == ' ' || p[i] == '\t')
      return false;
    if ((p[i] == '#' || p[i] == '$') && (i + 1 == n || p[i + 1] == ' '))
      return memchr(p, '@', i) != NULL;
  }
  return false;
}

static bool is_metric_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

static bool is_word(struct span s, const char *word) {
  return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

static bool is_number_text(struct span s) {
  if (s.n == 0)
    return false;
  if (is_word(s, "NaN") || is_word(s, "+Inf") || is_word(s, "-Inf"))
    return true;
  for (size_t i = 0; i < s.n; i++)
    if (!((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.' || s.p[i] == 'e' || s.p[i] == 'E' ||
          s.p[i] == '+' || s.p[i] == '-'))
      return false;
  return true;
}

/* "name{labels} value [timestamp]" or "name value". */
static bool is_prometheus_sample(struct span s) {
  size_t i = 0;
  while (i < s.n && is_metric_name_char(s.p[i]))
    i++;
  if (i == 0 || (s.p[0] >= '0' && s.p[0] <= '9') || i >= s.n)
    return false;
  if (s.p[i] == '{') {
    const char *close = memrchr(s.p + i, '}', s.n - i);
    if (close == NULL)
      return false;
    i = (size_t)(close - s.p) + 1;
  }
  if (i >= s.n || s.p[i] != ' ')
    return false;
  while (i < s.n && s.p[i] == ' ')
    i++;
  size_t end = i;
  while (end < s.n && s.p[end] != ' ')
    end++;
  return is_number_text((struct span){s.p + i, end - i});
}

/* "chain NAME {" */
static bool is_chain_block(struct span s) {
  return starts(s, "chain ") && s.n > 6 && s.p[s.n - 1] == '{';
}

/* The verdict of the first significant line. */
static enum kp_dump_format classify(struct span s, const char *buf, size_t len) {
  if (starts(s, "Chain ") && memchr(s.p, '(', s.n) != NULL)
    return KP_DUMP_IPT_LIST;
  if ((s.n > 1 && s.p[0] == '*' && s.p[1] >= 'a' && s.p[1] <= 'z') ||
      (s.n > 1 && s.p[0] == ':' && s.p[1] >= 'A' && s.p[1] <= 'Z'))
    return KP_DUMP_IPT_SAVE;
  if (starts(s, "-P ") || starts(s, "-N ") || starts(s, "-A "))
    return KP_DUMP_IPT_RULES;
  /* "[0:0] -A ..." of iptables-save -c without its *table line (grep'd) */
  const char *close = s.n > 1 && s.p[0] == '[' ? memchr(s.p, ']', s.n) : NULL;
  if (close != NULL && memchr(s.p, ':', (size_t)(close - s.p)) != NULL &&
      starts((struct span){close + 1, s.n - (size_t)(close + 1 - s.p)}, " -A "))
    return KP_DUMP_IPT_SAVE;
  if (starts(s, "table ") || is_chain_block(s) || starts(s, "add table ") ||
      starts(s, "add rule ") || starts(s, "add chain ") || starts(s, "add set ") ||
      starts(s, "add map ") || starts(s, "add element ") || starts(s, "flush ruleset") ||
      starts(s, "flush table ") || starts(s, "create table "))
    return KP_DUMP_NFT;
  if (starts(s, "IP Virtual Server version ") || starts(s, "Prot LocalAddress:Port "))
    return KP_DUMP_IPVS;
  /* ipvsadm's body without its header lines (kube-router#415): this line
   * and the next both virtual-server or real-server lines */
  if (kp_ipvs_body_line(s.p, s.n)) {
    const char *next = s.p + s.n, *end = buf + len;
    while (next < end && (*next == '\n' || *next == '\r' || *next == ' ' || *next == '\t'))
      next++;
    const char *nl = next < end ? memchr(next, '\n', (size_t)(end - next)) : NULL;
    struct span t = trim((struct span){next, (size_t)((nl != NULL ? nl : end) - next)});
    if (t.n > 0 && kp_ipvs_body_line(t.p, t.n))
      return KP_DUMP_IPVS;
  }
  /* `iptables -L | grep kube`: rule lines whose Chain line the grep left
   * out, then Chain lines */
  bool num, counters;
  if (kp_ipt_list_columns(s.p, s.n, &num, &counters) && contains(buf, len, "\nChain "))
    return KP_DUMP_IPT_LIST;
  /* nft -j: {"nftables": [{"metainfo": ...}, ...]} */
  if (s.p[0] == '{' &&
      contains(s.p, (size_t)(buf + len - s.p) < 4096 ? (size_t)(buf + len - s.p) : 4096,
               "\"nftables\""))
    return KP_DUMP_NFT_JSON;
  /* kube-proxy /metrics: other metric families come first. */
  if (is_prometheus_sample(s))
    return contains(buf, len, "kubeproxy_") ? KP_DUMP_METRICS : KP_DUMP_UNKNOWN;
  /* /livez with or without the HTTP status line of `curl -i`. */
  if ((s.p[0] == '{' || starts(s, "HTTP/")) && contains(buf, len, "\"lastUpdated\""))
    return KP_DUMP_METRICS;
  if (is_word(s, "iptables") || is_word(s, "ipvs") || is_word(s, "nftables") ||
      is_word(s, "kernelspace"))
    return KP_DUMP_METRICS;
  return KP_DUMP_UNKNOWN;
}

enum kp_dump_format kp_dump_detect(const char *buf, size_t len) {
  if (buf == NULL)
    return KP_DUMP_UNKNOWN;
  size_t pos = 0;
  /* iptables-nft-save on a node whose tables are all legacy prints only
   * its warning: still evidence (the backends check reads it). */
  bool other_backend_warning = false;
  while (pos < len) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - buf) : len;
    struct span s = trim((struct span){buf + pos, end - pos});
    pos = end + 1;
    if (s.n == 0 || kp_dump_is_prompt(s.p, s.n))
      continue;
    if (s.p[0] == '#') {
      if (starts(s, "# Warning: ip") &&
          memmem(s.p, s.n, "tables-legacy tables present", 28) != NULL)
        other_backend_warning = true;
      if (starts(s, "# Generated by ip") && memmem(s.p, s.n, "tables-", 7) != NULL)
        return KP_DUMP_IPT_SAVE;
      if ((starts(s, "# HELP ") || starts(s, "# TYPE ")) && contains(buf, len, "kubeproxy_"))
        return KP_DUMP_METRICS;
      continue;
    }
    enum kp_dump_format format = classify(s, buf, len);
    /* A one-word /proxyMode body must be the whole content. */
    if (format == KP_DUMP_METRICS && !is_prometheus_sample(s) && s.p[0] != '{' &&
        !starts(s, "HTTP/")) {
      while (pos < len &&
             (buf[pos] == ' ' || buf[pos] == '\n' || buf[pos] == '\r' || buf[pos] == '\t'))
        pos++;
      return pos >= len ? KP_DUMP_METRICS : KP_DUMP_UNKNOWN;
    }
    return format;
  }
  return other_backend_warning ? KP_DUMP_IPT_SAVE : KP_DUMP_UNKNOWN;
}

/* The format a line starts a dump of, for the lines only a dump's first
 * lines look like; UNKNOWN for every other line. */
static enum kp_dump_format start_of(struct span s) {
  static const char *const families[] = {"ip ", "ip6 ", "inet ", "arp ", "bridge ", "netdev "};
  if (starts(s, "Chain ") && memchr(s.p, '(', s.n) != NULL)
    return KP_DUMP_IPT_LIST;
  if (starts(s, "# Generated by ip") ||
      (s.n > 1 && s.p[0] == '*' && s.p[1] >= 'a' && s.p[1] <= 'z' && memchr(s.p, ' ', s.n) == NULL))
    return KP_DUMP_IPT_SAVE;
  if (starts(s, "-P "))
    return KP_DUMP_IPT_RULES;
  for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
    if (starts((struct span){s.p + (s.n > 6 ? 6 : s.n), s.n > 6 ? s.n - 6 : 0}, families[i]) &&
        starts(s, "table "))
      return KP_DUMP_NFT;
  if (starts(s, "IP Virtual Server version ") || starts(s, "Prot LocalAddress:Port "))
    return KP_DUMP_IPVS;
  if (starts(s, "# HELP kubeproxy_"))
    return KP_DUMP_METRICS;
  return KP_DUMP_UNKNOWN;
}

size_t kp_dump_part_end(const char *buf, size_t len) {
  enum kp_dump_format part = kp_dump_detect(buf, len);
  if (part == KP_DUMP_UNKNOWN || part == KP_DUMP_NFT_JSON)
    return len;
  for (size_t pos = 0; pos < len;) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - buf) : len;
    enum kp_dump_format f = start_of(trim((struct span){buf + pos, end - pos}));
    if (f != KP_DUMP_UNKNOWN && f != part &&
        !(part == KP_DUMP_IPT_RULES && f == KP_DUMP_IPT_SAVE)) /* -S fragments go through save */
      return pos;
    pos = end + 1;
  }
  return len;
}
