/* The plugin's configuration, independent of collectd: a neutral config
 * tree (what collectd's oconfig holds, plus line numbers), the table of the
 * <Plugin kube_proxy> keys that validates a block of it, and a reader of
 * collectd's config file syntax. The collectd glue converts oconfig_item_t
 * into the tree; kube-proxy-check --check-config parses the file itself.
 * Both report errors through the same callback, so they accept and refuse
 * the same blocks. */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include "kp/arena.h"
#include "kp/checks.h"
#include "kp/model.h"

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- the tree ------------------------------------------------------------- */

enum kp_cfg_type { KP_CFG_STRING, KP_CFG_NUMBER, KP_CFG_BOOLEAN };

struct kp_cfg_value {
  enum kp_cfg_type type;
  const char *string; /* STRING */
  double number;      /* NUMBER */
  bool boolean;       /* BOOLEAN */
};

/* "Key value..." or a block "<Key value...> children </Key>". */
struct kp_cfg_item {
  const char *key;
  struct kp_cfg_value *values;
  size_t n_values;
  struct kp_ptrvec children; /* struct kp_cfg_item * */
  unsigned line;             /* 1-based; 0 when the source has none (collectd's oconfig) */
};

/* A tree owns its items and strings (one arena); root has no key. */
struct kp_cfg_tree {
  struct kp_arena arena;
  struct kp_cfg_item root;
};

void kp_cfg_tree_init(struct kp_cfg_tree *tree);
void kp_cfg_tree_free(struct kp_cfg_tree *tree);
/* A new child of parent (the key is copied). NULL on OOM. */
struct kp_cfg_item *kp_cfg_item_add(struct kp_cfg_tree *tree, struct kp_cfg_item *parent,
                                    const char *key, unsigned line);
/* Appends a value (a string is copied). 0, or -1 on OOM. */
int kp_cfg_item_add_value(struct kp_cfg_tree *tree, struct kp_cfg_item *item,
                          const struct kp_cfg_value *value);
/* The values as written, for messages: `"foo" 3 true`, "(no value)". */
void kp_cfg_format_values(const struct kp_cfg_item *item, char *buf, size_t len);

/* ---- errors ---------------------------------------------------------------- */

enum kp_cfg_error_kind {
  KP_CFG_BAD_VALUE,     /* the key is known, the value is not right for it */
  KP_CFG_UNKNOWN_KEY,   /* no such key */
  KP_CFG_DUPLICATE_KEY, /* a single-valued key given twice in one block */
  KP_CFG_SYNTAX         /* the file is not collectd config syntax (key NULL) */
};

struct kp_cfg_error {
  enum kp_cfg_error_kind kind;
  unsigned line;      /* 0: not known */
  const char *key;    /* as written; NULL for SYNTAX */
  const char *values; /* as written (kp_cfg_format_values); NULL for SYNTAX */
  const char *why;
};

typedef void (*kp_cfg_error_fn)(void *ctx, const struct kp_cfg_error *error);

/* ---- the <Plugin kube_proxy> block ----------------------------------------- */

#define KP_PLUGIN_DEFAULT_MAX_SERVICES 100
#define KP_PLUGIN_DEFAULT_KUBE_PROXY_METRICS "127.0.0.1:10249" /* metricsBindAddress */
#define KP_PLUGIN_DEFAULT_KUBE_PROXY_HEALTHZ "127.0.0.1:10256" /* healthzBindAddress */

/* Everything the block sets (docs/collectd-kube_proxy.5). */
struct kp_plugin_config {
  enum kp_backend backend;  /* KP_BACKEND_UNKNOWN = auto */
  char *netns_path;         /* NULL: the process's own namespace */
  char *kube_proxy_metrics; /* kube-proxy's /metrics + /proxyMode address; NULL: not asked */
  char *kube_proxy_healthz; /* kube-proxy's /livez address; NULL: not asked */
  bool ipv6;
  struct kp_check_config checks; /* enabled checks, pod IPs, activity window,
                                    per-service traffic (CollectServices) */
  bool has_service_filter;
  regex_t service_filter;
  char *service_filter_text;
  unsigned max_services;        /* cap on per-service series per read and family */
  unsigned repeat_notification; /* reads between repeats; 0 = only on change */
};

/* Defaults. 0, or -1 on OOM (then free it anyway). */
int kp_plugin_config_init(struct kp_plugin_config *cfg);
void kp_plugin_config_free(struct kp_plugin_config *cfg);
/* Applies the children of one <Plugin kube_proxy> block, reporting every
 * bad key (not only the first) through on_error. Returns the number of
 * errors (0: all applied). */
size_t kp_plugin_config_apply(struct kp_plugin_config *cfg, const struct kp_cfg_item *block,
                              kp_cfg_error_fn on_error, void *ctx);
/* Is this item a <Plugin kube_proxy> block (names case-insensitive, as in collectd)? */
bool kp_cfg_is_plugin_block(const struct kp_cfg_item *item);

/* ---- collectd's config file syntax ------------------------------------------ */

/* Parses text (len bytes, NUL not needed) into tree->root's children:
 * options "Key value...", blocks <Key value...> ... </Key>, "quoted strings"
 * with backslash escapes (a backslash at the end of a line inside one joins
 * the next line, leading blanks dropped), numbers, true/yes/on and
 * false/no/off, unquoted words and IP addresses, # comments, a backslash
 * at the end of a line continuing it. Include is not followed. Returns 0,
 * or 1 after reporting the first syntax error (collectd also stops there). */
int kp_cfg_parse_text(struct kp_cfg_tree *tree, const char *text, size_t len,
                      kp_cfg_error_fn on_error, void *ctx);
/* The same for a file: -1 with errno set when it cannot be read. */
int kp_cfg_parse_file(struct kp_cfg_tree *tree, const char *path, kp_cfg_error_fn on_error,
                      void *ctx);

#endif
