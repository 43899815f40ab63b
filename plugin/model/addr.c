/* Address matches: parse, print, compare. Exact host comparison is what
 * keeps 10.0.0.1 from matching 10.0.0.10. */
#include "kp/model.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_prefix(const char *text, unsigned max, uint8_t *out) {
  if (*text == '\0')
    return false;
  unsigned value = 0;
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    value = value * 10 + (unsigned)(*p - '0');
    if (value > max)
      return false;
  }
  *out = (uint8_t)value;
  return true;
}

/* "255.255.255.0" -> 24; false for a non-contiguous mask. */
static bool parse_dotted_mask(const char *text, uint8_t *out) {
  struct in_addr mask;
  if (inet_pton(AF_INET, text, &mask) != 1)
    return false;
  uint32_t m = ntohl(mask.s_addr);
  uint8_t len = 0;
  while (len < 32 && (m & (0x80000000u >> len)))
    len++;
  if (len < 32 && (m << len) != 0)
    return false;
  *out = len;
  return true;
}

int kp_addr_parse(struct kp_arena *arena, const char *text, struct kp_addr *out) {
  memset(out, 0, sizeof(*out));
  while (*text == ' ')
    text++;
  if (*text == '!') {
    out->negated = true;
    text++;
    while (*text == ' ')
      text++;
  }
  size_t len = strlen(text);
  if (len == 0)
    return -1;
  if (strcmp(text, "anywhere") == 0)
    return 0;
  char buf[256];
  if (len >= sizeof(buf))
    goto name;
  memcpy(buf, text, len + 1);
  char *slash = strchr(buf, '/');
  if (slash != NULL)
    *slash = '\0';
  bool v6 = strchr(buf, ':') != NULL;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, out->bytes) != 1)
    goto name;
  out->kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
  unsigned max = v6 ? 128 : 32;
  out->prefix_len = (uint8_t)max;
  if (slash != NULL) {
    const char *prefix = slash + 1;
    if (!parse_prefix(prefix, max, &out->prefix_len) &&
        (v6 || !parse_dotted_mask(prefix, &out->prefix_len)))
      goto name;
  }
  if (out->prefix_len == 0) {
    bool negated = out->negated;
    memset(out, 0, sizeof(*out));
    out->negated = negated; /* "! 0.0.0.0/0" is odd but keep what was said */
  }
  return 0;
name:
  memset(out->bytes, 0, sizeof(out->bytes));
  out->prefix_len = 0;
  kp_addr_set_name(out, arena ? kp_arena_strdup(arena, text) : NULL);
  return 0;
}

void kp_addr_format(const struct kp_addr *addr, char *buf, size_t len) {
  const char *neg = addr->negated ? "!" : "";
  char ip[INET6_ADDRSTRLEN];
  switch (addr->kind) {
  case KP_ADDR_IPV4:
  case KP_ADDR_IPV6:
    inet_ntop(addr->kind == KP_ADDR_IPV6 ? AF_INET6 : AF_INET, addr->bytes, ip, sizeof(ip));
    if (kp_addr_is_host(addr))
      snprintf(buf, len, "%s%s", neg, ip);
    else
      snprintf(buf, len, "%s%s/%u", neg, ip, addr->prefix_len);
    break;
  case KP_ADDR_NAME:
    snprintf(buf, len, "%s%s", neg, kp_addr_name(addr) ? kp_addr_name(addr) : "?");
    break;
  default:
    snprintf(buf, len, "%sany", neg);
    break;
  }
}

bool kp_addr_is_host(const struct kp_addr *addr) {
  return (addr->kind == KP_ADDR_IPV4 && addr->prefix_len == 32) ||
         (addr->kind == KP_ADDR_IPV6 && addr->prefix_len == 128);
}

bool kp_addr_same_host(const struct kp_addr *a, const struct kp_addr *b) {
  if (!kp_addr_is_host(a) || !kp_addr_is_host(b) || a->kind != b->kind)
    return false;
  return memcmp(a->bytes, b->bytes, a->kind == KP_ADDR_IPV6 ? 16 : 4) == 0;
}

int kp_endpoint_parse(const char *text, struct kp_addr *addr, uint16_t *port) {
  memset(addr, 0, sizeof(*addr));
  char host[64];
  const char *colon = strrchr(text, ':');
  if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(host))
    return -1;
  char *end;
  long number = strtol(colon + 1, &end, 10);
  /* digits only: strtol alone takes a blank or a sign before them */
  if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || number < 1 || number > 65535)
    return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  size_t len = strlen(host);
  bool v6 = len > 2 && host[0] == '[' && host[len - 1] == ']';
  if (v6)
    host[len - 1] = '\0';
  if (inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? host + 1 : host, addr->bytes) != 1) {
    memset(addr, 0, sizeof(*addr));
    return -1;
  }
  addr->kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
  addr->prefix_len = v6 ? 128 : 32;
  *port = (uint16_t)number;
  return 0;
}
