/* The shared name tables (kp/names.h). */
#include "kp/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  uint8_t number;
  bool nft; /* nft text spells it so (nft has no "all"; /etc/protocols names differ) */
} protocols[] = {
    /* the first spelling of a number is the one printed */
    {"tcp", 6, true},        {"udp", 17, true},    {"sctp", 132, true}, {"icmp", 1, true},
    {"ipv6-icmp", 58, true}, {"esp", 50, true},    {"ah", 51, true},    {"gre", 47, true},
    {"udplite", 136, true},  {"dccp", 33, true},   {"ipip", 4, false},  {"igmp", 2, false},
    {"mh", 135, false},      {"icmpv6", 58, true}, {"all", 0, false},
};

const char *kp_proto_name(uint8_t proto) {
  for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
    if (protocols[i].number == proto && proto != 0)
      return protocols[i].name;
  return NULL;
}

/* Decimal digits only, any number of them (leading zeros), value 0-255. */
static int proto_number(const char *s, size_t n) {
  unsigned value = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -2; /* not a number: maybe a name */
    value = value * 10 + (unsigned)(s[i] - '0');
    if (value > 255)
      return -1;
  }
  return (int)value;
}

int kp_proto_from_name(const char *s, size_t n) {
  if (n == 0)
    return -1;
  int number = proto_number(s, n);
  if (number != -2)
    return number;
  for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
    if (strlen(protocols[i].name) == n && strncasecmp(s, protocols[i].name, n) == 0)
      return protocols[i].number;
  return -1;
}

int kp_proto_from_nft_name(const char *s, size_t n) {
  if (n == 0)
    return -1;
  int number = proto_number(s, n);
  if (number != -2)
    return number;
  for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
    if (protocols[i].nft && strlen(protocols[i].name) == n && memcmp(s, protocols[i].name, n) == 0)
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
