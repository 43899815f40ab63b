/* collectd entry point of kube_proxy.so: registers the callbacks and owns
 * the plugin instance's life cycle. The work is in kube_proxy_{config,read,
 * values,notify}.c. */
#include "kube_proxy_glue.h"

#include <stdlib.h>

/* collectd's config callback has no user data, so the instance the config
 * fills lives here until init hands it to the read and notification
 * callbacks (each takes a reference; collectd drops them at shutdown). */
static struct kpg_plugin *kpg_pending;

static int kpg_live_source_read(void *ctx, struct kp_snapshot *snap,
                                const struct kp_live_options *opt, struct kp_live_error *err) {
  return kp_live_source_read(ctx, snap, opt, err);
}

static void kpg_live_source_full_reads(const void *ctx, uint64_t counts[KP_NFT_FULL_COUNT]) {
  kp_live_source_nft_full_reads(ctx, counts);
}

struct kpg_plugin *kpg_plugin_new(void) {
  struct kpg_plugin *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->refs = 1;
  p->source = kpg_live_source_read;
  p->source_ctx = kp_live_source_new();
  p->source_full_reads = kpg_live_source_full_reads;
  if (kp_plugin_config_init(&p->cfg) != 0 || p->source_ctx == NULL) {
    kp_plugin_config_free(&p->cfg);
    kp_live_source_free(p->source_ctx);
    free(p);
    return NULL;
  }
  kp_check_state_init(&p->state);
  C_COMPLAIN_INIT(&p->complaint);
  pthread_mutex_init(&p->process_lock, NULL);
  return p;
}

void kpg_plugin_ref(struct kpg_plugin *p) {
  __atomic_add_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
}

void kpg_plugin_unref(void *arg) {
  struct kpg_plugin *p = arg;
  if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_SEQ_CST) > 0)
    return;
  kp_plugin_config_free(&p->cfg);
  kp_check_state_free(&p->state);
  kp_live_source_free(p->source_ctx);
  pthread_mutex_destroy(&p->process_lock);
  free(p);
}

static struct kpg_plugin *kpg_instance(void) {
  if (kpg_pending == NULL)
    kpg_pending = kpg_plugin_new();
  return kpg_pending;
}

static int kpg_config_cb(oconfig_item_t *ci) {
  struct kpg_plugin *p = kpg_instance();
  if (p == NULL) {
    ERROR(KPG_PLUGIN " plugin: out of memory");
    return -1;
  }
  return kpg_config_parse(&p->cfg, ci);
}

static int kpg_read_cb(user_data_t *ud) {
  return kpg_read(ud->data);
}

static int kpg_init_cb(void) {
  struct kpg_plugin *p = kpg_instance();
  if (p == NULL) {
    ERROR(KPG_PLUGIN " plugin: out of memory");
    return -1;
  }
  kpg_plugin_ref(p);
  user_data_t ud = {.data = p, .free_func = kpg_plugin_unref};
  /* interval 0: the LoadPlugin or the global Interval. On failure collectd
   * 5.12 calls free_func itself, which drops the reference taken above. */
  if (plugin_register_complex_read(/* group */ KPG_PLUGIN, KPG_PLUGIN, kpg_read_cb, 0, &ud) != 0) {
    ERROR(KPG_PLUGIN " plugin: registering the read callback failed");
    return -1;
  }
  INFO(KPG_PLUGIN " plugin: backend %s, netns %s, IPv6 %s, %zu pod IP(s)%s",
       p->cfg.backend == KP_BACKEND_UNKNOWN ? "auto" : kp_backend_name(p->cfg.backend),
       p->cfg.netns_path != NULL ? p->cfg.netns_path : "(collectd's own)",
       p->cfg.ipv6 ? "on" : "off", p->cfg.checks.n_pod_ips,
       p->cfg.checks.service_traffic ? ", per-service series on" : "");
  return 0;
}

/* The notification callback exists from module_register on (notifications
 * can arrive before init); it sees the same instance. */
static int kpg_register_notification(void) {
  struct kpg_plugin *p = kpg_instance();
  if (p == NULL)
    return -1;
  kpg_plugin_ref(p);
  user_data_t ud = {.data = p, .free_func = kpg_plugin_unref};
  if (plugin_register_notification(KPG_PLUGIN, kpg_notification_cb, &ud) != 0) {
    kpg_plugin_unref(p);
    return -1;
  }
  return 0;
}

static int kpg_shutdown_cb(void) {
  /* The read and notification registrations keep their references until
   * collectd destroys them (after this callback): notifications from the
   * write threads may still arrive now. */
  struct kpg_plugin *p = kpg_pending;
  kpg_pending = NULL;
  kpg_plugin_unref(p);
  return 0;
}

__attribute__((visibility("default"))) void module_register(void) {
  plugin_register_complex_config(KPG_PLUGIN, kpg_config_cb);
  plugin_register_init(KPG_PLUGIN, kpg_init_cb);
  if (kpg_register_notification() != 0)
    ERROR(KPG_PLUGIN " plugin: registering the notification callback failed");
  plugin_register_shutdown(KPG_PLUGIN, kpg_shutdown_cb);
}
