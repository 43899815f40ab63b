/* kube-proxy-check --check-config FILE: the <Plugin kube_proxy> blocks of a
 * collectd config file read with collectd's syntax (plugin/config) and
 * validated by the same key table the plugin uses in the daemon, so the
 * file is refused here exactly when collectd would refuse it for our
 * block. Only the given file is read: Include lines are not followed (a
 * drop-in holds its own block). */
#include "cli_check_config.h"

#include "kp/config.h"
#include "kp/report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct check_ctx {
  const char *path;
  size_t errors;
};

static void print_error(void *arg, const struct kp_cfg_error *e) {
  struct check_ctx *c = arg;
  char line[1024], clean[1024];
  int n = e->line ? snprintf(line, sizeof(line), "%s:%u: ", c->path, e->line)
                  : snprintf(line, sizeof(line), "%s: ", c->path);
  size_t used = n > 0 ? (size_t)n : 0;
  if (e->key != NULL && used < sizeof(line))
    snprintf(line + used, sizeof(line) - used, "%s %s: %s", e->key, e->values, e->why);
  else if (used < sizeof(line))
    snprintf(line + used, sizeof(line) - used, "%s", e->why);
  kp_sanitize_line(line, clean, sizeof(clean)); /* the file is untrusted text */
  fprintf(stderr, "%s\n", clean);
  c->errors++;
}

int kp_cli_check_config(const char *path) {
  struct check_ctx c = {.path = path};
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  int status = 0;
  int rc = kp_cfg_parse_file(&tree, path, print_error, &c);
  if (rc < 0) {
    char clean[512];
    kp_sanitize_line(path, clean, sizeof(clean));
    fprintf(stderr, "kube-proxy-check: %s: cannot read: %s\n", clean, strerror(errno));
    status = 3;
  } else if (rc > 0) {
    status = 1; /* a syntax error: collectd stops there too */
  } else {
    /* collectd hands each block to the plugin's config callback in turn,
     * onto one configuration: so does this. */
    struct kp_plugin_config cfg;
    size_t blocks = 0;
    if (kp_plugin_config_init(&cfg) != 0)
      print_error(&c, &(struct kp_cfg_error){.kind = KP_CFG_SYNTAX, .why = "out of memory"});
    for (size_t i = 0; i < tree.root.children.count; i++) {
      const struct kp_cfg_item *item = tree.root.children.items[i];
      if (!kp_cfg_is_plugin_block(item))
        continue;
      blocks++;
      kp_plugin_config_apply(&cfg, item, print_error, &c);
    }
    kp_plugin_config_free(&cfg);
    status = c.errors > 0 ? 1 : 0;
    if (status == 0) {
      char clean[512];
      kp_sanitize_line(path, clean, sizeof(clean));
      printf("%s: %zu <Plugin kube_proxy> block(s), no errors%s\n", clean, blocks,
             blocks == 0 ? " (nothing to check)" : "");
    }
  }
  kp_cfg_tree_free(&tree);
  return status;
}
