/* Live kernel sources: read the node's netfilter tables into a snapshot.
 * No fork, no exec, never /run/xtables.lock. */
#ifndef KP_LIVE_H
#define KP_LIVE_H

#include "kp/model.h"

#include <stdbool.h>

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

#endif
