/* The collectd daemon, as far as kube_proxy.so needs it: registrations,
 * dispatch, logging, config helpers and the complaint helpers, with the
 * same semantics as collectd 5.12 where the plugin depends on them
 * (notification dispatch runs every notification callback synchronously;
 * c_complain_once logs once until c_release). Prototypes come from the
 * daemon's headers, so a signature mismatch does not compile. */
#include "plugin_stubs.h"

#include "collectd/core/daemon/configfile.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct stub_value stub_values[STUB_MAX_VALUES];
size_t stub_n_values;
struct stub_notification stub_notifs[STUB_MAX_NOTIFS];
size_t stub_n_notifs;
struct stub_log_line stub_log[STUB_MAX_LOG];
size_t stub_n_log;

int (*stub_config_cb)(oconfig_item_t *);
int (*stub_init_cb)(void);
int (*stub_shutdown_cb)(void);
plugin_read_cb stub_read_cb;
user_data_t stub_read_ud;
char stub_read_group[DATA_MAX_NAME_LEN];
plugin_notification_cb stub_notif_cb;
user_data_t stub_notif_ud;

static char stub_hostname[] = "node-1";
char *hostname_g = stub_hostname;
cdtime_t interval_g = TIME_T_TO_CDTIME_T_STATIC(10);

void stub_clear_captures(void) {
  stub_n_values = 0;
  stub_n_notifs = 0;
  stub_n_log = 0;
}

void stub_destroy_registrations(void) {
  if (stub_read_ud.free_func != NULL)
    stub_read_ud.free_func(stub_read_ud.data);
  if (stub_notif_ud.free_func != NULL)
    stub_notif_ud.free_func(stub_notif_ud.data);
  memset(&stub_read_ud, 0, sizeof(stub_read_ud));
  memset(&stub_notif_ud, 0, sizeof(stub_notif_ud));
  stub_read_cb = NULL;
  stub_notif_cb = NULL;
}

/* ---- registration ---------------------------------------------------- */

int plugin_register_complex_config(const char *type, int (*callback)(oconfig_item_t *)) {
  (void)type;
  stub_config_cb = callback;
  return 0;
}

int plugin_register_init(const char *name, plugin_init_cb callback) {
  (void)name;
  stub_init_cb = callback;
  return 0;
}

int plugin_register_shutdown(const char *name, plugin_shutdown_cb callback) {
  (void)name;
  stub_shutdown_cb = callback;
  return 0;
}

int plugin_register_complex_read(const char *group, const char *name, plugin_read_cb callback,
                                 cdtime_t interval, user_data_t const *user_data) {
  (void)name;
  (void)interval;
  sstrncpy(stub_read_group, group != NULL ? group : "", sizeof(stub_read_group));
  stub_read_cb = callback;
  stub_read_ud = *user_data;
  return 0;
}

int plugin_register_notification(const char *name, plugin_notification_cb callback,
                                 user_data_t const *user_data) {
  (void)name;
  stub_notif_cb = callback;
  stub_notif_ud = *user_data;
  return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

int plugin_dispatch_values(value_list_t const *vl) {
  if (stub_n_values >= STUB_MAX_VALUES)
    return -1;
  struct stub_value *v = &stub_values[stub_n_values++];
  sstrncpy(v->host, vl->host, sizeof(v->host));
  sstrncpy(v->plugin, vl->plugin, sizeof(v->plugin));
  sstrncpy(v->plugin_instance, vl->plugin_instance, sizeof(v->plugin_instance));
  sstrncpy(v->type, vl->type, sizeof(v->type));
  sstrncpy(v->type_instance, vl->type_instance, sizeof(v->type_instance));
  v->values_len = vl->values_len;
  v->value = vl->values_len > 0 ? vl->values[0] : (value_t){.gauge = 0};
  return 0;
}

int plugin_dispatch_notification(const notification_t *notif) {
  if (stub_n_notifs < STUB_MAX_NOTIFS) {
    struct stub_notification *s = &stub_notifs[stub_n_notifs++];
    s->n = *notif;
    s->n.meta = NULL;
    s->n_meta = 0;
    for (const notification_meta_t *m = notif->meta; m != NULL && s->n_meta < STUB_MAX_META;
         m = m->next) {
      struct stub_meta *sm = &s->meta[s->n_meta++];
      sstrncpy(sm->name, m->name, sizeof(sm->name));
      switch (m->type) {
      case NM_TYPE_STRING:
        sstrncpy(sm->text, m->nm_value.nm_string, sizeof(sm->text));
        break;
      case NM_TYPE_SIGNED_INT:
        snprintf(sm->text, sizeof(sm->text), "%lld", (long long)m->nm_value.nm_signed_int);
        break;
      case NM_TYPE_UNSIGNED_INT:
        snprintf(sm->text, sizeof(sm->text), "%llu",
                 (unsigned long long)m->nm_value.nm_unsigned_int);
        break;
      case NM_TYPE_DOUBLE:
        snprintf(sm->text, sizeof(sm->text), "%g", m->nm_value.nm_double);
        break;
      case NM_TYPE_BOOLEAN:
        sstrncpy(sm->text, m->nm_value.nm_boolean ? "true" : "false", sizeof(sm->text));
        break;
      }
    }
  }
  /* Like the daemon: every notification callback, in the caller's thread,
   * our own notifications included. */
  if (stub_notif_cb != NULL)
    stub_notif_cb(notif, &stub_notif_ud);
  return 0;
}

void plugin_log(int level, const char *format, ...) {
  if (stub_n_log >= STUB_MAX_LOG)
    return;
  struct stub_log_line *l = &stub_log[stub_n_log++];
  l->level = level;
  va_list ap;
  va_start(ap, format);
  vsnprintf(l->text, sizeof(l->text), format, ap);
  va_end(ap);
}

cdtime_t plugin_get_interval(void) {
  return interval_g;
}

cdtime_t cdtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return TIMESPEC_TO_CDTIME_T(&ts);
}

/* ---- notification meta --------------------------------------------------- */

static notification_meta_t *stub_meta_append(notification_t *n, const char *name) {
  notification_meta_t *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return NULL;
  sstrncpy(m->name, name, sizeof(m->name));
  notification_meta_t **tail = &n->meta;
  while (*tail != NULL)
    tail = &(*tail)->next;
  *tail = m;
  return m;
}

int plugin_notification_meta_add_string(notification_t *n, const char *name, const char *value) {
  notification_meta_t *m = stub_meta_append(n, name);
  if (m == NULL)
    return -1;
  m->type = NM_TYPE_STRING;
  m->nm_value.nm_string = strdup(value);
  return m->nm_value.nm_string != NULL ? 0 : -1;
}

int plugin_notification_meta_add_signed_int(notification_t *n, const char *name, int64_t value) {
  notification_meta_t *m = stub_meta_append(n, name);
  if (m == NULL)
    return -1;
  m->type = NM_TYPE_SIGNED_INT;
  m->nm_value.nm_signed_int = value;
  return 0;
}

int plugin_notification_meta_add_unsigned_int(notification_t *n, const char *name, uint64_t value) {
  notification_meta_t *m = stub_meta_append(n, name);
  if (m == NULL)
    return -1;
  m->type = NM_TYPE_UNSIGNED_INT;
  m->nm_value.nm_unsigned_int = value;
  return 0;
}

int plugin_notification_meta_add_double(notification_t *n, const char *name, double value) {
  notification_meta_t *m = stub_meta_append(n, name);
  if (m == NULL)
    return -1;
  m->type = NM_TYPE_DOUBLE;
  m->nm_value.nm_double = value;
  return 0;
}

int plugin_notification_meta_add_boolean(notification_t *n, const char *name, bool value) {
  notification_meta_t *m = stub_meta_append(n, name);
  if (m == NULL)
    return -1;
  m->type = NM_TYPE_BOOLEAN;
  m->nm_value.nm_boolean = value;
  return 0;
}

int plugin_notification_meta_free(notification_meta_t *n) {
  while (n != NULL) {
    notification_meta_t *next = n->next;
    if (n->type == NM_TYPE_STRING)
      free((char *)n->nm_value.nm_string);
    free(n);
    n = next;
  }
  return 0;
}

/* ---- config helpers (collectd 5.12 semantics) ---------------------------- */

int cf_util_get_string(const oconfig_item_t *ci, char **ret_string) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
    plugin_log(LOG_ERR, "cf_util_get_string: The %s option requires exactly one string argument.",
               ci->key);
    return -1;
  }
  char *s = strdup(ci->values[0].value.string);
  if (s == NULL)
    return -1;
  free(*ret_string);
  *ret_string = s;
  return 0;
}

int cf_util_get_int(const oconfig_item_t *ci, int *ret_value) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
    plugin_log(LOG_ERR, "cf_util_get_int: The %s option requires exactly one numeric argument.",
               ci->key);
    return -1;
  }
  *ret_value = (int)ci->values[0].value.number;
  return 0;
}

int cf_util_get_boolean(const oconfig_item_t *ci, bool *ret_bool) {
  if (ci->values_num != 1 ||
      (ci->values[0].type != OCONFIG_TYPE_BOOLEAN && ci->values[0].type != OCONFIG_TYPE_STRING)) {
    plugin_log(LOG_ERR, "cf_util_get_boolean: The %s option requires exactly one boolean argument.",
               ci->key);
    return -1;
  }
  if (ci->values[0].type == OCONFIG_TYPE_BOOLEAN) {
    *ret_bool = ci->values[0].value.boolean != 0;
    return 0;
  }
  const char *s = ci->values[0].value.string;
  if (IS_TRUE(s))
    *ret_bool = true;
  else if (IS_FALSE(s))
    *ret_bool = false;
  else {
    plugin_log(LOG_ERR,
               "cf_util_get_boolean: Cannot parse string value `%s' of the `%s' option "
               "as a boolean value.",
               s, ci->key);
    return -1;
  }
  return 0;
}

/* ---- utils_complain (same contract as the daemon's) ----------------------- */

void c_complain_once(int level, c_complain_t *c, const char *format, ...) {
  if (c->complained_once)
    return;
  c->last = cdtime();
  c->interval = plugin_get_interval();
  c->complained_once = true;
  char msg[1024];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof(msg), format, ap);
  va_end(ap);
  plugin_log(level, "%s", msg);
}

void c_do_release(int level, c_complain_t *c, const char *format, ...) {
  if (c->interval == 0)
    return;
  c->interval = 0;
  c->complained_once = false;
  char msg[1024];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof(msg), format, ap);
  va_end(ap);
  plugin_log(level, "%s", msg);
}

/* ---- string helpers the daemon exports ------------------------------------ */

char *sstrncpy(char *dest, const char *src, size_t n) {
  if (n == 0)
    return dest;
  strncpy(dest, src, n - 1);
  dest[n - 1] = '\0';
  return dest;
}

int ssnprintf(char *str, size_t sz, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int ret = vsnprintf(str, sz, format, ap);
  va_end(ap);
  return ret;
}

/* ---- lookups for assertions ------------------------------------------------ */

const struct stub_value *stub_find_value(const char *plugin_instance, const char *type,
                                         const char *type_instance) {
  for (size_t i = stub_n_values; i-- > 0;) {
    const struct stub_value *v = &stub_values[i];
    if (strcmp(v->plugin_instance, plugin_instance) == 0 && strcmp(v->type, type) == 0 &&
        strcmp(v->type_instance, type_instance) == 0)
      return v;
  }
  return NULL;
}

size_t stub_count_values(const char *plugin_instance, const char *type) {
  size_t n = 0;
  for (size_t i = 0; i < stub_n_values; i++)
    if (strcmp(stub_values[i].plugin_instance, plugin_instance) == 0 &&
        strcmp(stub_values[i].type, type) == 0)
      n++;
  return n;
}

size_t stub_count_log(int level, const char *text) {
  size_t n = 0;
  for (size_t i = 0; i < stub_n_log; i++)
    if ((level < 0 || stub_log[i].level == level) && strstr(stub_log[i].text, text) != NULL)
      n++;
  return n;
}

const char *stub_meta(const struct stub_notification *n, const char *name) {
  for (size_t i = 0; i < n->n_meta; i++)
    if (strcmp(n->meta[i].name, name) == 0)
      return n->meta[i].text;
  return NULL;
}

static bool stub_notif_matches(const struct stub_notification *s, const char *plugin,
                               const char *type_instance) {
  return strcmp(s->n.plugin, plugin) == 0 &&
         (type_instance == NULL || strcmp(s->n.type_instance, type_instance) == 0);
}

size_t stub_count_notifs(const char *plugin, const char *type_instance) {
  size_t n = 0;
  for (size_t i = 0; i < stub_n_notifs; i++)
    if (stub_notif_matches(&stub_notifs[i], plugin, type_instance))
      n++;
  return n;
}

const struct stub_notification *stub_last_notif(const char *plugin, const char *type_instance) {
  for (size_t i = stub_n_notifs; i-- > 0;)
    if (stub_notif_matches(&stub_notifs[i], plugin, type_instance))
      return &stub_notifs[i];
  return NULL;
}

/* ---- config trees ------------------------------------------------------------ */

oconfig_item_t *stub_block(const char *key) {
  oconfig_item_t *b = calloc(1, sizeof(*b));
  b->key = strdup(key);
  b->values = calloc(1, sizeof(*b->values));
  b->values_num = 1;
  b->values[0].type = OCONFIG_TYPE_STRING;
  b->values[0].value.string = strdup("kube_proxy");
  return b;
}

oconfig_item_t *stub_child(oconfig_item_t *block, const char *key, ...) {
  block->children =
      realloc(block->children, sizeof(*block->children) * (size_t)(block->children_num + 1));
  oconfig_item_t *c = &block->children[block->children_num++];
  memset(c, 0, sizeof(*c));
  c->key = strdup(key);
  c->parent = block;
  va_list ap;
  va_start(ap, key);
  for (const char *arg = va_arg(ap, const char *); arg != NULL; arg = va_arg(ap, const char *)) {
    c->values = realloc(c->values, sizeof(*c->values) * (size_t)(c->values_num + 1));
    oconfig_value_t *v = &c->values[c->values_num++];
    memset(v, 0, sizeof(*v));
    if (arg[0] == '#') {
      v->type = OCONFIG_TYPE_NUMBER;
      v->value.number = strtod(arg + 1, NULL);
    } else if (strcmp(arg, "@true") == 0 || strcmp(arg, "@false") == 0) {
      v->type = OCONFIG_TYPE_BOOLEAN;
      v->value.boolean = arg[1] == 't';
    } else {
      v->type = OCONFIG_TYPE_STRING;
      v->value.string = strdup(arg);
    }
  }
  va_end(ap);
  return c;
}

static void stub_free_item(oconfig_item_t *it) {
  free(it->key);
  for (int i = 0; i < it->values_num; i++)
    if (it->values[i].type == OCONFIG_TYPE_STRING)
      free(it->values[i].value.string);
  free(it->values);
  for (int i = 0; i < it->children_num; i++)
    stub_free_item(&it->children[i]);
  free(it->children);
}

void stub_free_block(oconfig_item_t *block) {
  stub_free_item(block);
  free(block);
}
