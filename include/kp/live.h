/* Live kernel sources: read the node's netfilter tables into a snapshot.
 * No fork, no exec, never /run/xtables.lock. */
#ifndef KP_LIVE_H
#define KP_LIVE_H

#include "kp/model.h"

#include <stdbool.h>
#include <stdint.h>

struct kp_live_options {
  enum kp_backend backend; /* LEGACY or NFT; UNKNOWN means auto */
  bool ipv6;               /* also read the ip6 tables */
  const char *netns_path;  /* NULL: the caller's namespace */
  /* kube-proxy's metricsBindAddress ("127.0.0.1:10249": /metrics,
   * /proxyMode) and healthzBindAddress ("127.0.0.1:10256": /livez), asked
   * from inside the namespace; NULL or "" leaves them out. */
  const char *kube_proxy_metrics;
  const char *kube_proxy_healthz;
};

/* Can kube_proxy_metrics/_healthz be asked: "IPv4:port" or "[IPv6]:port",
 * literal addresses (no name is resolved: a read must not wait on DNS). */
bool kp_live_endpoint_valid(const char *endpoint);

enum kp_live_fault {
  KP_LIVE_OK = 0,
  KP_LIVE_NO_PRIVILEGE, /* EPERM/EACCES: needs CAP_NET_ADMIN */
  KP_LIVE_NO_NETNS,     /* the NetNS path cannot be opened / entered */
  KP_LIVE_NO_TABLE,     /* a table or the kernel module is not there */
  KP_LIVE_UNSUPPORTED,  /* backend not available in this build */
  KP_LIVE_OTHER
};

struct kp_live_error {
  enum kp_live_fault fault;
  int err_no;
  char message[256]; /* one clear sentence, names the table and the cause */
};

/* Reads every table of the chosen backend(s) into snap (not finalized).
 * auto reads both backends (legacy tables only where they exist) and the
 * kube-proxy nftables-mode tables: the checks decide which one holds
 * kube-proxy's rules and whether there are two copies.
 * Missing optional tables (mangle, ip6) are not errors. 0, or -1 with err. */
int kp_live_read(struct kp_snapshot *snap, const struct kp_live_options *opt,
                 struct kp_live_error *err);

/* A live source kept across reads (the plugin's): it keeps the nf_tables
 * reader, whose generation-id cache makes an unchanged ruleset cheap to
 * re-read. One read at a time; the namespace behind opt->netns_path is
 * re-checked on every read (a re-created namespace starts a fresh reader). */
struct kp_live_source;
struct kp_live_source *kp_live_source_new(void);
void kp_live_source_free(struct kp_live_source *source);
int kp_live_source_read(struct kp_live_source *source, struct kp_snapshot *snap,
                        const struct kp_live_options *opt, struct kp_live_error *err);

/* Why the nf_tables reader read a changed ruleset in full instead of
 * applying the kernel's change notifications to the tables it keeps. */
enum kp_nft_fallback {
  KP_NFT_FULL_OVERRUN = 0, /* the notification socket overran (ENOBUFS): changes were lost */
  KP_NFT_FULL_GAP,         /* a generation whose notifications never came */
  KP_NFT_FULL_UNAPPLIED,   /* a notification not decoded, or naming what the kept tables lack;
                              or the followed tables' rule counts not the kernel's */
  KP_NFT_FULL_BEHIND,      /* the kernel's generation's notifications did not arrive in time */
  KP_NFT_FULL_HELD,        /* the previous read's snapshot still held the kept tables */
  KP_NFT_FULL_COMPACT,     /* the kept tables' memory doubled since their full read */
  KP_NFT_FULL_COUNT
};
/* "overrun", "gap", "unapplied", "behind", "held", "compact". */
const char *kp_nft_fallback_name(enum kp_nft_fallback why);
/* Those full reads since the source's nf_tables reader was made (it is
 * made again when the namespace changes), by cause. */
void kp_live_source_nft_full_reads(const struct kp_live_source *source,
                                   uint64_t counts[KP_NFT_FULL_COUNT]);

#endif
