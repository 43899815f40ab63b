/* Live nf_tables source (libmnl + libnftnl over netlink): the iptables-nft
 * tables (ip/ip6 filter, nat, mangle, raw; backend NFT, native_nft=false)
 * and kube-proxy's nftables-mode tables (ip/ip6 kube-proxy, native_nft=true).
 *
 * Rules are dumped chain by chain (a whole-table rule dump is quadratic in
 * the kernel). The reader keeps the decoded tables of the ruleset
 * generation it last read: while the generation id is unchanged, a read
 * re-reads only the counter chains the checks and values use (the base
 * chains, nat KUBE-SERVICES / KUBE-NODEPORTS / KUBE-POSTROUTING, filter
 * KUBE-SERVICES) and the snapshot shares the kept tables
 * (kp_snapshot_share_table): free it before the next read on the same
 * reader, or that read copies them. Every other rule of such a read has
 * counters.present=false.
 *
 * No global state. The netlink socket is opened lazily on the first call
 * that needs it, in the network namespace of the calling thread: create and
 * use a reader from inside the target namespace (e.g. the plugin's netns
 * thread), and do not share one reader between namespaces or threads. */
#ifndef KP_LIVE_NFT_H
#define KP_LIVE_NFT_H

#include "kp/live.h"
#include "kp/model.h"

#include <stdbool.h>
#include <stdint.h>

struct kp_nft_reader;

struct kp_nft_reader *kp_nft_reader_new(void);
void kp_nft_reader_free(struct kp_nft_reader *reader);

/* Reads the tables of the current network namespace into snap (not
 * finalized); ipv6 adds the ip6 family. A namespace without nft tables is
 * not an error. 0, or -1 with err (EPERM -> KP_LIVE_NO_PRIVILEGE). */
int kp_nft_read(struct kp_nft_reader *reader, struct kp_snapshot *snap, bool ipv6,
                struct kp_live_error *err);

/* Full reads of a changed ruleset since the reader was made, by cause. */
void kp_nft_full_reads(const struct kp_nft_reader *reader, uint64_t counts[KP_NFT_FULL_COUNT]);

/* What the last kp_nft_read did (for tests and benchmarks). */
struct kp_nft_read_stats {
  bool followed;        /* changed ruleset: the notifications applied to the kept tables */
  size_t notifications; /* ... how many */
  bool cached;          /* generation unchanged: from the kept tables */
  bool shared;          /* cached or followed: the kept tables lent, not copied */
  uint32_t generation;  /* ruleset generation id seen */
  size_t chains_dumped;
  size_t rules_decoded;
};
void kp_nft_last_stats(const struct kp_nft_reader *reader, struct kp_nft_read_stats *stats);
/* Tests: the notification socket's descriptor (to shrink its buffer or
 * drain it behind the reader's back), -1 before the first read. */
int kp_nft_monitor_fd(const struct kp_nft_reader *reader);

#endif
