/* The <Plugin kube_proxy> block in the daemon: collectd's oconfig_item_t
 * converted into the neutral config tree and validated by the plugin's key
 * table (plugin/config/, shared with kube-proxy-check --check-config).
 * Every error is logged naming the key and the value (oconfig in collectd
 * 5.12 has no line numbers); the config callback then fails and collectd
 * refuses to start. */
#include "kube_proxy_glue.h"

static int kpg_convert(struct kp_cfg_tree *tree, struct kp_cfg_item *parent,
                       const oconfig_item_t *ci) {
  struct kp_cfg_item *item = kp_cfg_item_add(tree, parent, ci->key != NULL ? ci->key : "", 0);
  if (item == NULL)
    return -1;
  for (int i = 0; i < ci->values_num; i++) {
    const oconfig_value_t *v = &ci->values[i];
    struct kp_cfg_value value = {.type = KP_CFG_STRING, .string = ""};
    if (v->type == OCONFIG_TYPE_STRING)
      value.string = v->value.string != NULL ? v->value.string : "";
    else if (v->type == OCONFIG_TYPE_NUMBER)
      value = (struct kp_cfg_value){.type = KP_CFG_NUMBER, .number = v->value.number};
    else
      value = (struct kp_cfg_value){.type = KP_CFG_BOOLEAN, .boolean = v->value.boolean != 0};
    if (kp_cfg_item_add_value(tree, item, &value) != 0)
      return -1;
  }
  for (int i = 0; i < ci->children_num; i++)
    if (kpg_convert(tree, item, &ci->children[i]) != 0)
      return -1;
  return 0;
}

static void kpg_config_error(void *ctx, const struct kp_cfg_error *e) {
  (void)ctx;
  switch (e->kind) {
  case KP_CFG_UNKNOWN_KEY:
    ERROR(KPG_PLUGIN " plugin: unknown option \"%s\" (value %s); see collectd-kube_proxy(5)",
          e->key, e->values);
    break;
  case KP_CFG_DUPLICATE_KEY:
    ERROR(KPG_PLUGIN " plugin: option \"%s\" given twice (again with %s); it takes one value",
          e->key, e->values);
    break;
  case KP_CFG_BAD_VALUE:
    ERROR(KPG_PLUGIN " plugin: invalid value %s for option \"%s\": %s", e->values, e->key, e->why);
    break;
  case KP_CFG_SYNTAX: /* only from the file reader, which the daemon does not use */
    ERROR(KPG_PLUGIN " plugin: %s", e->why);
    break;
  }
}

int kpg_config_parse(struct kp_plugin_config *cfg, const oconfig_item_t *ci) {
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  int rc = kpg_convert(&tree, &tree.root, ci);
  if (rc != 0) {
    ERROR(KPG_PLUGIN " plugin: out of memory while reading the configuration");
  } else {
    const struct kp_cfg_item *block = tree.root.children.items[0];
    size_t errors = kp_plugin_config_apply(cfg, block, kpg_config_error, NULL);
    rc = errors == 0 ? 0 : -1;
    /* The lines above cannot say where: say what can. */
    if (errors > 0)
      ERROR(KPG_PLUGIN " plugin: %zu error(s) in a <Plugin kube_proxy> block; collectd gives "
                       "plugins no file or line: \"kube-proxy-check --check-config FILE\" names "
                       "them for each",
            errors);
  }
  kp_cfg_tree_free(&tree);
  return rc;
}
