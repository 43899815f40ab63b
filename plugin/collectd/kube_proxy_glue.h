/* Private to the collectd glue (plugin/kube_proxy*.c): the plugin instance,
 * its configuration and the entry points of each glue file. Only these files
 * include collectd headers; the core never sees them. */
#ifndef KP_GLUE_H
#define KP_GLUE_H

#include "collectd/core/daemon/collectd.h"

#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"

#include "kp/checks.h"
#include "kp/config.h"
#include "kp/live.h"
#include "kp/model.h"

#include <pthread.h>
#include <stdbool.h>

#define KPG_PLUGIN "kube_proxy"
#define KPG_SERVICES_INSTANCE "services" /* plugin_instance of per-service series */
/* bool-read-failed: 1 after a failed read (no other values then), 0 after
 * a good one; sent every interval so a backend tells stale from healthy. */
#define KPG_READ_FAILED "read-failed"
/* Applies one <Plugin kube_proxy> block (the key table of kp/config.h).
 * 0, or -1 after logging every error, naming the key and the value. */
int kpg_config_parse(struct kp_plugin_config *cfg, const oconfig_item_t *ci);

/* What was last notified per check: state changes and repeats. */
struct kpg_notify_state {
  bool known[KP_CHECK_COUNT];
  int level[KP_CHECK_COUNT];           /* NOTIF_OKAY / NOTIF_WARNING / NOTIF_FAILURE */
  unsigned since_sent[KP_CHECK_COUNT]; /* reads since the last notification */
};

/* The source of a snapshot: kp_live_source_read in the daemon (ctx is the
 * kp_live_source kept across reads), a fake in tests. */
typedef int (*kpg_source_fn)(void *ctx, struct kp_snapshot *snap, const struct kp_live_options *opt,
                             struct kp_live_error *err);

/* One plugin instance, shared by the read and notification callbacks
 * (reference counted: each registration holds one reference). */
struct kpg_plugin {
  int refs;
  struct kp_plugin_config cfg;
  kpg_source_fn source;
  void *source_ctx;
  /* The nf_tables reader's full reads of a changed ruleset, by cause
   * (kp_live_source_nft_full_reads); NULL: nothing to report. */
  void (*source_full_reads)(const void *ctx, uint64_t counts[KP_NFT_FULL_COUNT]);

  /* read thread only (collectd never runs one read callback twice at once) */
  struct kp_check_state state;
  struct kpg_notify_state notified;
  c_complain_t complaint;
  enum kp_live_fault last_fault;

  /* written by the notification callback from any thread */
  pthread_mutex_t process_lock;
  struct kp_process_state process;
};

struct kpg_plugin *kpg_plugin_new(void);
void kpg_plugin_ref(struct kpg_plugin *p);
void kpg_plugin_unref(void *p); /* matches user_data_t.free_func */

/* One read: snapshot, checks, values, notifications. Always 0: a failed
 * read is logged once (until it works again) and reported as the
 * read-failed value, because collectd backs off a read callback that
 * returns an error (doubling its wait up to MaxReadInterval). */
int kpg_read(struct kpg_plugin *p);

/* Values of one read (kube_proxy_values.c). */
void kpg_dispatch_values(const struct kp_plugin_config *cfg, const struct kp_report *report,
                         cdtime_t duration);
/* operations-nft_full_reads-<cause>: kp_live_source_nft_full_reads. */
void kpg_dispatch_full_reads(const uint64_t counts[KP_NFT_FULL_COUNT]);
/* bool-read-failed 0 or 1 (KPG_READ_FAILED). */
void kpg_dispatch_read_failed(bool failed);
/* "ns/name:port" -> "ns_name_port": no '/' in a collectd identifier. */
void kpg_service_instance(const char *spn, char *buf, size_t len);

/* Check state notifications (kube_proxy_notify.c). */
void kpg_notify_checks(struct kpg_notify_state *st, const struct kp_plugin_config *cfg,
                       const struct kp_report *report, const struct kp_process_state *process);
/* Maps a notification about the kube-proxy process into *out; false when it
 * is not one (other plugin, other host, our own). */
bool kpg_process_from_notification(const notification_t *n, struct kp_process_state *out);
int kpg_notification_cb(const notification_t *n, user_data_t *ud);
/* Control characters become '?': kernel strings never reach a log raw. */
void kpg_clean(const char *in, char *out, size_t len);

#endif
