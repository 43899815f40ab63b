/* The small name tables every stage shares: protocols, route (addrtype)
 * types, conntrack states, prefix lengths and the string hash. One copy
 * each, so a dump and a live read of the same rule spell it the same way. */
#ifndef KP_NAMES_H
#define KP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "tcp", "udp", "sctp", "icmp", ... or NULL for a number without a name. */
const char *kp_proto_name(uint8_t proto);
/* A protocol name (any case, iptables' and nft's spellings) or a decimal
 * number 0-255; "all" is 0. The span need not be NUL-terminated.
 * Returns the number, or -1 when unknown. */
int kp_proto_from_name(const char *s, size_t n);
/* The same for nft text: lower case only, and only the names nft prints
 * (no "all", "ipip", "igmp", "mh"). */
int kp_proto_from_nft_name(const char *s, size_t n);

/* Route types as addrtype and nft's fib print them (RTN_*: "UNICAST",
 * "LOCAL", ...); "?" past the end. */
const char *kp_addrtype_name(unsigned rtn);
#define KP_ADDRTYPE_COUNT 12

/* Conntrack state bits, as the xt state match and nft's ct state share
 * them (NF_CT_STATE_BIT): INVALID 1, ESTABLISHED 2, RELATED 4, NEW 8,
 * UNTRACKED 64. The xt conntrack match moves UNTRACKED to bit 8 and adds
 * SNAT (bit 6) and DNAT (bit 7): pass conntrack_bits for that layout. */
#define KP_CT_INVALID 0x01u
#define KP_CT_ESTABLISHED 0x02u
#define KP_CT_RELATED 0x04u
#define KP_CT_NEW 0x08u
/* Writes the set states comma-separated in iptables' order ("NEW",
 * "RELATED,ESTABLISHED"), with a leading "!" when negated. Returns out. */
char *kp_ctstate_format(char *out, size_t len, unsigned bits, bool conntrack_bits, bool negated);

/* Leading one bits of a netmask of len bytes (stops at the first 0 bit). */
uint8_t kp_mask_prefix_len(const uint8_t *mask, size_t len);

/* FNV-1a over bytes: for the model's indexes (no adversary can hurt more
 * than speed here). */
uint64_t kp_hash_bytes(const void *data, size_t len);

#endif
