/* libFuzzer target: a collectd config file as kube-proxy-check
 * --check-config reads it: collectd's syntax into the neutral tree, then
 * the <Plugin kube_proxy> key table over every top-level block (and over
 * the root itself, so every key sees every kind of value). Properties: the
 * parse says 0 or 1, a syntax error comes with a line inside the input,
 * every error names a key (or is a syntax error) and has a reason. */
#include "kp/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
  unsigned lines; /* lines in the input */
};

static void check_error(void *arg, const struct kp_cfg_error *e) {
  const struct fuzz_ctx *c = arg;
  if (e->why == NULL || e->why[0] == '\0' || e->line > c->lines ||
      (e->kind != KP_CFG_SYNTAX && (e->key == NULL || e->values == NULL))) {
    fprintf(stderr, "fuzz property broken: error without key/reason or line %u > %u\n", e->line,
            c->lines);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_ctx c = {.lines = 1};
  for (size_t i = 0; i < size; i++)
    c.lines += data[i] == '\n';
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  int rc = kp_cfg_parse_text(&tree, (const char *)data, size, check_error, &c);
  if (rc != 0 && rc != 1)
    abort();
  struct kp_plugin_config cfg;
  if (rc == 0 && kp_plugin_config_init(&cfg) == 0) {
    kp_plugin_config_apply(&cfg, &tree.root, check_error, &c);
    for (size_t i = 0; i < tree.root.children.count; i++)
      kp_plugin_config_apply(&cfg, tree.root.children.items[i], check_error, &c);
    kp_plugin_config_free(&cfg);
  }
  kp_cfg_tree_free(&tree);
  return 0;
}
