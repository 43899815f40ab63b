/* The shared name tables (kp/names.h). */
#include "kp/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  uint8_t number;
} protocols[] = {
    /* the first spelling of a number is the one printed */
    {"tcp", 6},  {"udp", 17}, {"sctp", 132}, {"icmp", 1},      {"ipv6-icmp", 58},
    {"esp", 50}, {"ah", 51},  {"gre", 47},   {"udplite", 136}, {"dccp", 33},
    {"ipip", 4}, {"igmp", 2}, {"mh", 135},   {"icmpv6", 58},   {"all", 0},
};

const char *kp_proto_name(uint8_t proto) {
  for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
    if (protocols[i].number == proto && proto != 0)
      return protocols[i].name;
  return NULL;
}

int kp_proto_from_name(const char *s, size_t n) {
  if (n == 0)
    return -1;
  size_t digits = 0;
  unsigned value = 0;
  while (digits < n && digits < 4 && s[digits] >= '0' && s[digits] <= '9')
    value = value * 10 + (unsigned)(s[digits++] - '0');
  if (digits == n)
    return value <= 255 ? (int)value : -1;
  for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
    if (strlen(protocols[i].name) == n && strncasecmp(s, protocols[i].name, n) == 0)
      return protocols[i].number;
  return -1;
}

static const char *const addrtypes[KP_ADDRTYPE_COUNT] = {
    "UNSPEC",    "UNICAST",     "LOCAL",    "BROADCAST", "ANYCAST", "MULTICAST",
    "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",     "NAT",     "XRESOLVE",
};

const char *kp_addrtype_name(unsigned rtn) {
  return rtn < KP_ADDRTYPE_COUNT ? addrtypes[rtn] : "?";
}

char *kp_ctstate_format(char *out, size_t len, unsigned bits, bool conntrack_bits, bool negated) {
  const struct {
    unsigned bit;
    const char *name;
  } states[] = {
      {KP_CT_INVALID, "INVALID"},
      {KP_CT_NEW, "NEW"},
      {KP_CT_RELATED, "RELATED"},
      {KP_CT_ESTABLISHED, "ESTABLISHED"},
      {conntrack_bits ? 1u << 8 : 1u << 6, "UNTRACKED"},
      {conntrack_bits ? 1u << 6 : 0, "SNAT"},
      {conntrack_bits ? 1u << 7 : 0, "DNAT"},
  };
  size_t used = 0;
  if (len == 0)
    return out;
  out[0] = '\0';
  if (negated && len > 1) {
    out[used++] = '!';
    out[used] = '\0';
  }
  bool first = true;
  for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
    if (states[i].bit == 0 || !(bits & states[i].bit))
      continue;
    int n = snprintf(out + used, len - used, "%s%s", first ? "" : ",", states[i].name);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
    first = false;
  }
  return out;
}

uint8_t kp_mask_prefix_len(const uint8_t *mask, size_t len) {
  uint8_t bits = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t b = mask[i];
    while (b & 0x80) {
      bits++;
      b = (uint8_t)(b << 1);
    }
    if (mask[i] != 0xff)
      break;
  }
  return bits;
}

uint64_t kp_hash_bytes(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}
