/* Stand-ins for the collectd daemon symbols kube_proxy.so takes at dlopen,
 * capturing what the plugin registers, dispatches and logs. Only the glue
 * test links them (not named support_*: those go into every test). */
#ifndef KP_PLUGIN_STUBS_H
#define KP_PLUGIN_STUBS_H

#include "collectd/core/daemon/collectd.h"

#include "collectd/core/daemon/plugin.h"
#include "liboconfig/oconfig.h"

#include <stdbool.h>
#include <stddef.h>

#define STUB_MAX_VALUES 4096
#define STUB_MAX_NOTIFS 256
#define STUB_MAX_META 48
#define STUB_MAX_LOG 256

struct stub_value {
  char host[DATA_MAX_NAME_LEN];
  char plugin[DATA_MAX_NAME_LEN];
  char plugin_instance[DATA_MAX_NAME_LEN];
  char type[DATA_MAX_NAME_LEN];
  char type_instance[DATA_MAX_NAME_LEN];
  value_t value;
  size_t values_len;
};

struct stub_meta {
  char name[DATA_MAX_NAME_LEN];
  char text[NOTIF_MAX_MSG_LEN]; /* every type rendered as text */
};

struct stub_notification {
  notification_t n; /* meta pointer cleared */
  struct stub_meta meta[STUB_MAX_META];
  size_t n_meta;
};

struct stub_log_line {
  int level;
  char text[1024];
};

extern struct stub_value stub_values[STUB_MAX_VALUES];
extern size_t stub_n_values;
extern struct stub_notification stub_notifs[STUB_MAX_NOTIFS];
extern size_t stub_n_notifs;
extern struct stub_log_line stub_log[STUB_MAX_LOG];
extern size_t stub_n_log;

/* What module_register and init registered. */
extern int (*stub_config_cb)(oconfig_item_t *);
extern int (*stub_init_cb)(void);
extern int (*stub_shutdown_cb)(void);
extern plugin_read_cb stub_read_cb;
extern user_data_t stub_read_ud;
extern char stub_read_group[DATA_MAX_NAME_LEN];
extern plugin_notification_cb stub_notif_cb;
extern user_data_t stub_notif_ud;

/* Forgets captured values, notifications and log lines. */
void stub_clear_captures(void);
/* Runs the registered free_funcs (what the daemon does at exit). */
void stub_destroy_registrations(void);

/* Last dispatched value with this identity, NULL when none. */
const struct stub_value *stub_find_value(const char *plugin_instance, const char *type,
                                         const char *type_instance);
size_t stub_count_values(const char *plugin_instance, const char *type);
/* Log lines at level (or any level when < 0) containing text. */
size_t stub_count_log(int level, const char *text);
/* Meta value as text, NULL when absent. */
const char *stub_meta(const struct stub_notification *n, const char *name);
/* Notifications for type_instance (NULL: any) dispatched by plugin. */
size_t stub_count_notifs(const char *plugin, const char *type_instance);
const struct stub_notification *stub_last_notif(const char *plugin, const char *type_instance);

/* Building config trees: a block with children "Key value..." */
oconfig_item_t *stub_block(const char *key);
/* Adds a child; values given as a printf-free mini language: each arg is a
 * string value unless it starts with '#' (number, "#3") or is exactly
 * "@true"/"@false" (boolean). NULL-terminated. */
oconfig_item_t *stub_child(oconfig_item_t *block, const char *key, ...) __attribute__((sentinel));
void stub_free_block(oconfig_item_t *block);

#endif
