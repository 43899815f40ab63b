/* The neutral config tree: items and values in one arena, and the values
 * rendered as written for error messages. */
#include "kp/config.h"

#include <stdio.h>
#include <string.h>

void kp_cfg_tree_init(struct kp_cfg_tree *tree) {
  memset(tree, 0, sizeof(*tree));
  kp_arena_init(&tree->arena);
}

void kp_cfg_tree_free(struct kp_cfg_tree *tree) {
  kp_arena_free(&tree->arena);
  memset(tree, 0, sizeof(*tree));
}

struct kp_cfg_item *kp_cfg_item_add(struct kp_cfg_tree *tree, struct kp_cfg_item *parent,
                                    const char *key, unsigned line) {
  struct kp_cfg_item *item = kp_arena_alloc(&tree->arena, sizeof(*item));
  if (item == NULL)
    return NULL;
  item->key = kp_arena_strdup(&tree->arena, key);
  item->line = line;
  if (item->key == NULL || kp_ptrvec_push(&tree->arena, &parent->children, item) != 0)
    return NULL;
  return item;
}

int kp_cfg_item_add_value(struct kp_cfg_tree *tree, struct kp_cfg_item *item,
                          const struct kp_cfg_value *value) {
  /* a few values per key: copying the array on each one costs nothing */
  struct kp_cfg_value *values =
      kp_arena_alloc(&tree->arena, (item->n_values + 1) * sizeof(*values));
  if (values == NULL)
    return -1;
  if (item->n_values > 0)
    memcpy(values, item->values, item->n_values * sizeof(*values));
  values[item->n_values] = *value;
  if (value->type == KP_CFG_STRING) {
    values[item->n_values].string = kp_arena_strdup(&tree->arena, value->string);
    if (values[item->n_values].string == NULL)
      return -1;
  }
  item->values = values;
  item->n_values++;
  return 0;
}

void kp_cfg_format_values(const struct kp_cfg_item *item, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  if (item->n_values == 0) {
    snprintf(buf, len, "(no value)");
    return;
  }
  for (size_t i = 0; i < item->n_values && used < len; i++) {
    const struct kp_cfg_value *v = &item->values[i];
    const char *sep = i > 0 ? " " : "";
    int n;
    if (v->type == KP_CFG_STRING)
      n = snprintf(buf + used, len - used, "%s\"%s\"", sep, v->string);
    else if (v->type == KP_CFG_NUMBER && v->number >= -9e15 && v->number <= 9e15 &&
             v->number == (double)(long long)v->number)
      n = snprintf(buf + used, len - used, "%s%lld", sep, (long long)v->number);
    else if (v->type == KP_CFG_NUMBER) /* all digits: "1e+06" would read as in range */
      n = snprintf(buf + used, len - used, "%s%.17g", sep, v->number);
    else
      n = snprintf(buf + used, len - used, "%s%s", sep, v->boolean ? "true" : "false");
    if (n < 0)
      break;
    used += (size_t)n;
  }
}
