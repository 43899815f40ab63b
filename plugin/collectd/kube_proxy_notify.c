/* Notifications both ways: one per state change of a check (plus the
 * configured repeats while it is not OK), and the callback that hears what
 * other plugins say about the kube-proxy process. */
#include "kp/report.h"
#include "kube_proxy_glue.h"

#include "collectd/core/utils/common/common.h"

#include <stdio.h>
#include <string.h>

/* The core's sanitiser: C0/C1 controls, DEL and invalid UTF-8 become \xNN. */
void kpg_clean(const char *in, char *out, size_t len) {
  kp_sanitize_line(in, out, len);
}

static int kpg_level(enum kp_severity sev) {
  return sev == KP_SEV_FAIL ? NOTIF_FAILURE : sev == KP_SEV_WARN ? NOTIF_WARNING : NOTIF_OKAY;
}

/* The first result of the check with the check's worst severity, and how
 * many more results share it. */
static const struct kp_result *kpg_worst_result(const struct kp_report *report, enum kp_check_id id,
                                                enum kp_severity sev, size_t *others) {
  const struct kp_result *first = NULL;
  *others = 0;
  for (size_t i = 0; i < report->n_results; i++) {
    const struct kp_result *r = &report->results[i];
    if (r->check != id || r->severity != sev)
      continue;
    if (first == NULL)
      first = r;
    else
      (*others)++;
  }
  return first;
}

/* Chain and table names come from the rules: cleaned like every other text. */
static void kpg_meta_once(notification_t *n, const char *key, const char *value) {
  for (const notification_meta_t *m = n->meta; m != NULL; m = m->next)
    if (strcmp(m->name, key) == 0)
      return;
  char clean[NOTIF_MAX_MSG_LEN];
  kpg_clean(value, clean, sizeof(clean));
  plugin_notification_meta_add_string(n, key, clean);
}

static bool kpg_meta_has(const notification_t *n, const char *key) {
  for (const notification_meta_t *m = n->meta; m != NULL; m = m->next)
    if (strcmp(m->name, key) == 0)
      return true;
  return false;
}

static void kpg_meta_details(notification_t *n, const struct kp_result *r) {
  for (size_t i = 0; i < r->n_details; i++) {
    const struct kp_detail *d = &r->details[i];
    if (d->key == NULL)
      continue;
    /* The inventory counts came first under the same names: a finding's
     * list of names (services_without_endpoints) goes in as "<key>_list". */
    char key[DATA_MAX_NAME_LEN];
    sstrncpy(key, d->key, sizeof(key));
    if (kpg_meta_has(n, key) && d->type == KP_DETAIL_LIST)
      ssnprintf(key, sizeof(key), "%s_list", d->key);
    if (kpg_meta_has(n, key))
      continue;
    char buf[NOTIF_MAX_MSG_LEN];
    switch (d->type) {
    case KP_DETAIL_STR:
      kpg_clean(d->str != NULL ? d->str : "", buf, sizeof(buf));
      plugin_notification_meta_add_string(n, key, buf);
      break;
    case KP_DETAIL_INT:
      plugin_notification_meta_add_signed_int(n, key, d->num);
      break;
    case KP_DETAIL_BOOL:
      plugin_notification_meta_add_boolean(n, key, d->num != 0);
      break;
    case KP_DETAIL_LIST: {
      size_t used = 0;
      buf[0] = '\0';
      for (size_t k = 0; k < d->n_items && used + 1 < sizeof(buf); k++) {
        int w = snprintf(buf + used, sizeof(buf) - used, "%s%s", k > 0 ? "," : "",
                         d->items[k] != NULL ? d->items[k] : "");
        if (w < 0)
          break;
        used += (size_t)w;
      }
      char clean[NOTIF_MAX_MSG_LEN];
      kpg_clean(buf, clean, sizeof(clean));
      plugin_notification_meta_add_string(n, key, clean);
      break;
    }
    }
  }
}

static void kpg_send(const struct kp_report *report, enum kp_check_id id, int level,
                     const struct kp_process_state *process) {
  enum kp_severity sev = kp_report_check_severity(report, id);
  size_t others = 0;
  const struct kp_result *r = kpg_worst_result(report, id, sev, &others);
  const char *name = kp_check_name(id);

  notification_t n = {.severity = level, .time = cdtime()};
  sstrncpy(n.host, hostname_g, sizeof(n.host));
  sstrncpy(n.plugin, KPG_PLUGIN, sizeof(n.plugin));
  sstrncpy(n.type, "health", sizeof(n.type));
  ssnprintf(n.type_instance, sizeof(n.type_instance), "check-%s", name);

  char msg[NOTIF_MAX_MSG_LEN];
  if (r != NULL && r->message != NULL)
    kpg_clean(r->message, msg, sizeof(msg));
  else
    ssnprintf(msg, sizeof(msg), "%s: %s", name, kp_severity_name(sev));
  char cause[NOTIF_MAX_MSG_LEN] = "";
  /* A failing check next to a kube-proxy process problem: name the likely cause. */
  if (level != NOTIF_OKAY && id != KP_CHECK_PROCESS && process != NULL && process->known &&
      process->severity >= KP_SEV_WARN && strstr(msg, "kube-proxy process") == NULL) {
    char pm[sizeof(process->message)];
    kpg_clean(process->message, pm, sizeof(pm));
    char ps[sizeof(process->source)];
    kpg_clean(process->source, ps, sizeof(ps));
    ssnprintf(cause, sizeof(cause), "; likely cause: kube-proxy process (%s): %s", ps, pm);
  }
  char more[32] = "";
  if (others > 0)
    ssnprintf(more, sizeof(more), " (+%zu more)", others);
  ssnprintf(n.message, sizeof(n.message), "%s%s%s", msg, more, cause);

  plugin_notification_meta_add_string(&n, "check", name);
  plugin_notification_meta_add_string(&n, "severity", kp_severity_name(sev));
  plugin_notification_meta_add_string(&n, "mode", kp_mode_name(report->mode));
  plugin_notification_meta_add_string(&n, "backend", kp_backend_name(report->backend));
  if (r != NULL && r->table != NULL)
    kpg_meta_once(&n, "table", r->table);
  if (r != NULL && r->chain != NULL)
    kpg_meta_once(&n, "chain", r->chain);
  const struct kp_inventory *inv = &report->inventory;
  plugin_notification_meta_add_signed_int(&n, "services", (int64_t)inv->services);
  plugin_notification_meta_add_signed_int(&n, "endpoints", (int64_t)inv->endpoints);
  plugin_notification_meta_add_signed_int(&n, "services_without_endpoints",
                                          (int64_t)inv->services_without_endpoints);
  plugin_notification_meta_add_signed_int(&n, "rules", (int64_t)inv->rules);
  if (others > 0)
    plugin_notification_meta_add_signed_int(&n, "findings", (int64_t)others + 1);
  if (r != NULL)
    kpg_meta_details(&n, r);

  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
}

void kpg_notify_checks(struct kpg_notify_state *st, const struct kp_plugin_config *cfg,
                       const struct kp_report *report, const struct kp_process_state *process) {
  for (int i = 0; i < KP_CHECK_COUNT; i++) {
    enum kp_check_id id = (enum kp_check_id)i;
    if (!cfg->checks.enabled[i])
      continue;
    int level = kpg_level(kp_report_check_severity(report, id));
    bool send;
    if (!st->known[i])
      send = level != NOTIF_OKAY; /* at start only what is wrong */
    else if (level != st->level[i])
      send = true;
    else
      send = level != NOTIF_OKAY && cfg->repeat_notification > 0 &&
             st->since_sent[i] + 1 >= cfg->repeat_notification;
    st->known[i] = true;
    st->level[i] = level;
    if (send) {
      st->since_sent[i] = 0;
      kpg_send(report, id, level, process);
    } else {
      st->since_sent[i]++;
    }
  }
}

bool kpg_process_from_notification(const notification_t *n, struct kp_process_state *out) {
  if (strcmp(n->plugin, "processes") != 0 || strcmp(n->plugin_instance, "kube-proxy") != 0)
    return false;
  /* Notifications forwarded from other nodes are about their kube-proxy. */
  if (n->host[0] != '\0' && hostname_g[0] != '\0' && strcmp(n->host, hostname_g) != 0)
    return false;
  memset(out, 0, sizeof(*out));
  out->known = true;
  out->severity = n->severity == NOTIF_FAILURE   ? KP_SEV_FAIL
                  : n->severity == NOTIF_WARNING ? KP_SEV_WARN
                                                 : KP_SEV_OK;
  kpg_clean(n->message, out->message, sizeof(out->message));
  if (n->type[0] != '\0')
    ssnprintf(out->source, sizeof(out->source), "processes/kube-proxy %s%s%s", n->type,
              n->type_instance[0] != '\0' ? "-" : "", n->type_instance);
  else
    sstrncpy(out->source, "processes/kube-proxy", sizeof(out->source));
  out->time = CDTIME_T_TO_DOUBLE(n->time != 0 ? n->time : cdtime());
  return true;
}

int kpg_notification_cb(const notification_t *n, user_data_t *ud) {
  struct kpg_plugin *p = ud->data;
  if (strcmp(n->plugin, KPG_PLUGIN) == 0) /* our own, dispatched by the read */
    return 0;
  struct kp_process_state st;
  if (!kpg_process_from_notification(n, &st))
    return 0;
  pthread_mutex_lock(&p->process_lock);
  p->process = st;
  pthread_mutex_unlock(&p->process_lock);
  return 0;
}
