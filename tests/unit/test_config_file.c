/* The plugin's collectd-independent configuration (plugin/config): the
 * reader of collectd's config syntax and the key table, on whole files as
 * kube-proxy-check --check-config sees them. Expected lines and values are
 * read off the texts below by hand. */
#include "kp/config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ERRORS 16

struct seen {
  size_t n;
  struct {
    enum kp_cfg_error_kind kind;
    unsigned line;
    char key[64], values[128], why[200];
  } e[MAX_ERRORS];
};

static void collect(void *ctx, const struct kp_cfg_error *err) {
  struct seen *s = ctx;
  ck_assert_uint_lt(s->n, MAX_ERRORS);
  s->e[s->n].kind = err->kind;
  s->e[s->n].line = err->line;
  snprintf(s->e[s->n].key, sizeof(s->e[s->n].key), "%s", err->key ? err->key : "");
  snprintf(s->e[s->n].values, sizeof(s->e[s->n].values), "%s", err->values ? err->values : "");
  snprintf(s->e[s->n].why, sizeof(s->e[s->n].why), "%s", err->why);
  s->n++;
}

/* Parses text and applies every <Plugin kube_proxy> block to cfg. Returns
 * the parse status (0, or 1 after a syntax error). */
static int check_text(const char *text, struct kp_plugin_config *cfg, struct seen *seen) {
  memset(seen, 0, sizeof(*seen));
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  ck_assert_int_eq(kp_plugin_config_init(cfg), 0);
  int rc = kp_cfg_parse_text(&tree, text, strlen(text), collect, seen);
  if (rc == 0)
    for (size_t i = 0; i < tree.root.children.count; i++)
      if (kp_cfg_is_plugin_block(tree.root.children.items[i]))
        kp_plugin_config_apply(cfg, tree.root.children.items[i], collect, seen);
  kp_cfg_tree_free(&tree);
  return rc;
}

static const char good[] = "# a drop-in\n"
                           "LoadPlugin kube_proxy\n"
                           "<Plugin \"kube_proxy\">\n"
                           "  Backend \"legacy\"   # trailing comment\n"
                           "  PodIP 10.180.0.5 \"fd00::5\" \\\n"
                           "        fd00::6\n"
                           "  Check \"sync\" false\n"
                           "  Check \"stale\" off\n"
                           "  IPv6 yes\n"
                           "  ActivityIntervals 0x0c\n"
                           "  CollectServices \"true\"\n"
                           "  ServiceFilter \"^kube-system/\\\"q\\\\.\"\n"
                           "  NetNS \"/run/netns/\\\n"
                           "         kp-x\"\n"
                           "  MaxServices 7\n"
                           "</Plugin>\n"
                           "<Plugin csv>\n"
                           "  NotOurs 1\n"
                           "</Plugin>\n";

START_TEST(test_good_file) {
  struct kp_plugin_config cfg;
  struct seen seen;
  ck_assert_int_eq(check_text(good, &cfg, &seen), 0);
  ck_assert_uint_eq(seen.n, 0); /* the csv block is not ours */
  ck_assert_int_eq(cfg.backend, KP_BACKEND_LEGACY);
  ck_assert_uint_eq(cfg.checks.n_pod_ips, 3); /* unquoted addresses are strings, as in collectd */
  ck_assert_str_eq(cfg.checks.pod_ip_texts[0], "10.180.0.5");
  ck_assert_str_eq(cfg.checks.pod_ip_texts[2], "fd00::6");
  ck_assert(!cfg.checks.enabled[KP_CHECK_SYNC]);
  ck_assert(!cfg.checks.enabled[KP_CHECK_STALE]);
  ck_assert(cfg.checks.enabled[KP_CHECK_MODE]);
  ck_assert(cfg.ipv6);
  ck_assert_uint_eq(cfg.checks.activity_intervals, 12);
  ck_assert(cfg.checks.service_traffic);
  ck_assert_str_eq(cfg.service_filter_text, "^kube-system/\"q\\.");
  ck_assert_str_eq(cfg.netns_path, "/run/netns/kp-x"); /* joined, leading blanks dropped */
  ck_assert_uint_eq(cfg.max_services, 7);
  kp_plugin_config_free(&cfg);
}
END_TEST

/* Every error of a block, with its line, key and value as written. */
START_TEST(test_bad_file_reports_every_error) {
  static const char bad[] = "LoadPlugin kube_proxy\n"        /* 1 */
                            "<Plugin kube_proxy>\n"          /* 2 */
                            "  PodIP \"10.0.0.300\"\n"       /* 3 bad pod IP */
                            "  ServiceFilter \"a{2,1}\"\n"   /* 4 bad regex */
                            "  Backend \"legacy\"\n"         /* 5 */
                            "  backend \"nft\"\n"            /* 6 duplicate */
                            "  Intervall 10\n"               /* 7 unknown key */
                            "  MaxServices \"100\"\n"        /* 8 not a number */
                            "  ActivityIntervals 2.5\n"      /* 9 not whole */
                            "  KubeProxyMetrics \"none\"\n"  /* 10 */
                            "  KubeProxyMetrics \"a:1\"\n"   /* 11 duplicate */
                            "  RepeatNotification 1000001\n" /* 12 out of range */
                            "</Plugin>\n";
  struct kp_plugin_config cfg;
  struct seen seen;
  ck_assert_int_eq(check_text(bad, &cfg, &seen), 0);
  ck_assert_uint_eq(seen.n, 8);
  static const struct {
    enum kp_cfg_error_kind kind;
    unsigned line;
    const char *key, *values, *why_has;
  } want[] = {
      {KP_CFG_BAD_VALUE, 3, "PodIP", "\"10.0.0.300\"", "not an IPv4 or IPv6 address"},
      {KP_CFG_BAD_VALUE, 4, "ServiceFilter", "\"a{2,1}\"", "not a regular expression"},
      {KP_CFG_DUPLICATE_KEY, 6, "backend", "\"nft\"", "given twice"},
      {KP_CFG_UNKNOWN_KEY, 7, "Intervall", "10", "unknown key"},
      {KP_CFG_BAD_VALUE, 8, "MaxServices", "\"100\"", "whole number"},
      {KP_CFG_BAD_VALUE, 9, "ActivityIntervals", "2.5", "whole number"},
      {KP_CFG_DUPLICATE_KEY, 11, "KubeProxyMetrics", "\"a:1\"", "given twice"},
      {KP_CFG_BAD_VALUE, 12, "RepeatNotification", "1000001", "from 0 to 1000000"},
  };
  size_t k = 0;
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, k++) {
    ck_assert_int_eq(seen.e[k].kind, want[i].kind);
    ck_assert_uint_eq(seen.e[k].line, want[i].line);
    ck_assert_str_eq(seen.e[k].key, want[i].key);
    ck_assert_str_eq(seen.e[k].values, want[i].values);
    ck_assert_msg(strstr(seen.e[k].why, want[i].why_has) != NULL, "line %u: %s", want[i].line,
                  seen.e[k].why);
  }
  kp_plugin_config_free(&cfg);
}
END_TEST

struct syntax_row {
  const char *text;
  unsigned line;
  const char *why_has;
};

static const struct syntax_row syntax_rows[] = {
    {"<Plugin kube_proxy>\n  Backend \"nft\"\n", 3, "<Plugin> (line 1) is not closed"},
    {"<Plugin kube_proxy>\n  Backend \"nft\"\n</Plugin>", 3, "no newline"},
    {"<Plugin kube_proxy>\n  Backend\n</Plugin>\n", 2, "needs a value"},
    {"<Plugin kube_proxy>\n  Backend \"nft\n</Plugin>\n", 2, "not closed"},
    {"<Plugin kube_proxy>\n</plugin>\n", 2, "closes no open block"},
    {"<Plugin kube_proxy>\n  NetNS /run/netns/x\n</Plugin>\n", 2, "'<', '>' or '/'"},
    {"<Plugin kube_proxy>\n  Backend = \"nft\"\n</Plugin>\n", 2, "unexpected character '='"},
    {"\n\n<Plugin kube_proxy\n", 3, "expected '>'"},
    {"true 1\n", 1, "expected an option name"},
};

START_TEST(test_syntax_error_names_the_line) {
  const struct syntax_row *row = &syntax_rows[_i];
  struct kp_plugin_config cfg;
  struct seen seen;
  ck_assert_int_eq(check_text(row->text, &cfg, &seen), 1);
  ck_assert_uint_eq(seen.n, 1); /* the first one stops the parse, as in collectd */
  ck_assert_int_eq(seen.e[0].kind, KP_CFG_SYNTAX);
  ck_assert_uint_eq(seen.e[0].line, row->line);
  ck_assert_msg(strstr(seen.e[0].why, row->why_has) != NULL, "row %d: %s", _i, seen.e[0].why);
  kp_plugin_config_free(&cfg);
}
END_TEST

/* Tokens as collectd's scanner reads them: numbers, booleans, words. */
START_TEST(test_tokens_as_collectd_reads_them) {
  static const char text[] =
      "A 12 -3 0x1f 1.5 .5e+3 1e10 true on no TRUE 10.0.0.1:80 [fd00::1]:53\n";
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  ck_assert_int_eq(kp_cfg_parse_text(&tree, text, strlen(text), NULL, NULL), 0);
  ck_assert_uint_eq(tree.root.children.count, 1);
  const struct kp_cfg_item *a = tree.root.children.items[0];
  ck_assert_uint_eq(a->line, 1);
  ck_assert_uint_eq(a->n_values, 12);
  const double numbers[] = {12, -3, 31, 1.5, 500};
  for (size_t i = 0; i < 5; i++) {
    ck_assert_int_eq(a->values[i].type, KP_CFG_NUMBER);
    ck_assert_double_eq(a->values[i].number, numbers[i]);
  }
  ck_assert_int_eq(a->values[5].type, KP_CFG_STRING); /* no '.' or signed exponent: a word */
  ck_assert_str_eq(a->values[5].string, "1e10");
  ck_assert(a->values[6].type == KP_CFG_BOOLEAN && a->values[6].boolean);
  ck_assert(a->values[7].type == KP_CFG_BOOLEAN && a->values[7].boolean);
  ck_assert(a->values[8].type == KP_CFG_BOOLEAN && !a->values[8].boolean);
  ck_assert_int_eq(a->values[9].type, KP_CFG_STRING); /* booleans are lower case only */
  ck_assert_str_eq(a->values[10].string, "10.0.0.1:80");
  ck_assert_str_eq(a->values[11].string, "[fd00::1]:53");
  kp_cfg_tree_free(&tree);
}
END_TEST

START_TEST(test_unreadable_file) {
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  errno = 0;
  ck_assert_int_eq(kp_cfg_parse_file(&tree, "/nonexistent/kube_proxy.conf", NULL, NULL), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_int_eq(kp_cfg_parse_file(&tree, "/", NULL, NULL), -1);
  ck_assert_int_eq(errno, EISDIR);
  kp_cfg_tree_free(&tree);
}
END_TEST

/* KubeProxyMetrics/KubeProxyHealthz: the probe asks a literal address and
 * resolves no name (kp_live_endpoint_valid), so anything else is refused at
 * config time, naming line, key and value, rather than read as a
 * kube-proxy that never answers. */
static const struct {
  const char *value;
  bool accepted;
} endpoint_rows[] = {
    {"127.0.0.1:10249", true},
    {"[::1]:10249", true},
    {"[fd00::1]:1", true},
    {"10.0.0.1:65535", true},
    {"none", true},
    {"NONE", true},
    {"localhost:10249", false},
    {"kube-proxy.kube-system.svc:10249", false},
    {"[localhost]:10249", false},
    {"::1:10249", false}, /* IPv6 needs its brackets */
    {"[::1]", false},
    {"127.0.0.1", false},
    {"127.0.0.1:", false},
    {":10249", false},
    {"127.0.0.1:0", false},
    {"127.0.0.1:65536", false},
    {"127.0.0.1:10249x", false},
    {"10.0.0.300:10249", false},
    {"", false},
};

START_TEST(test_endpoint_is_ip_and_port) {
  static const char *const keys[] = {"KubeProxyMetrics", "KubeProxyHealthz"};
  for (size_t k = 0; k < 2; k++) {
    char text[256];
    snprintf(text, sizeof(text), "<Plugin kube_proxy>\n  %s \"%s\"\n</Plugin>\n", keys[k],
             endpoint_rows[_i].value);
    struct kp_plugin_config cfg;
    struct seen seen;
    ck_assert_int_eq(check_text(text, &cfg, &seen), 0);
    const char *kept = k == 0 ? cfg.kube_proxy_metrics : cfg.kube_proxy_healthz;
    if (endpoint_rows[_i].accepted) {
      ck_assert_msg(seen.n == 0, "%s \"%s\": refused: %s", keys[k], endpoint_rows[_i].value,
                    seen.e[0].why);
      if (strcasecmp(endpoint_rows[_i].value, "none") == 0)
        ck_assert_ptr_null(kept);
      else
        ck_assert_str_eq(kept, endpoint_rows[_i].value);
    } else {
      ck_assert_msg(seen.n == 1, "%s \"%s\": accepted", keys[k], endpoint_rows[_i].value);
      ck_assert_int_eq(seen.e[0].kind, KP_CFG_BAD_VALUE);
      ck_assert_uint_eq(seen.e[0].line, 2);
      ck_assert_str_eq(seen.e[0].key, keys[k]);
      char quoted[80];
      snprintf(quoted, sizeof(quoted), "\"%s\"", endpoint_rows[_i].value);
      ck_assert_str_eq(seen.e[0].values, quoted);
      ck_assert_msg(strstr(seen.e[0].why, "expected IP:PORT") != NULL &&
                        strstr(seen.e[0].why, "[::1]:10249") != NULL,
                    "%s", seen.e[0].why);
      /* the default stays: the glue fails the config callback anyway */
      ck_assert_str_eq(kept, k == 0 ? "127.0.0.1:10249" : "127.0.0.1:10256");
    }
    kp_plugin_config_free(&cfg);
  }
}
END_TEST

/* The drop-in the project ships parses clean. */
START_TEST(test_shipped_drop_in_is_clean) {
  struct kp_cfg_tree tree;
  kp_cfg_tree_init(&tree);
  struct seen seen = {0};
  ck_assert_int_eq(kp_cfg_parse_file(&tree, KP_SOURCE_DIR "/conf/kube_proxy.conf", collect, &seen),
                   0);
  size_t blocks = 0;
  struct kp_plugin_config cfg;
  ck_assert_int_eq(kp_plugin_config_init(&cfg), 0);
  for (size_t i = 0; i < tree.root.children.count; i++)
    if (kp_cfg_is_plugin_block(tree.root.children.items[i])) {
      blocks++;
      ck_assert_uint_eq(kp_plugin_config_apply(&cfg, tree.root.children.items[i], collect, &seen),
                        0);
    }
  ck_assert_uint_eq(blocks, 1);
  ck_assert_uint_eq(seen.n, 0);
  kp_plugin_config_free(&cfg);
  kp_cfg_tree_free(&tree);
}
END_TEST

/* Every prefix of a file, and every byte flipped to a troublesome one: no
 * crash, no read past the end (ASan: make asan), a result of 0 or 1. */
START_TEST(test_truncated_and_mangled_text) {
  static const char odd[] = {'"', '\\', '\n', '<', '>', '/', '#', '\0', '\r', 'x'};
  size_t len = strlen(good);
  char *copy = malloc(len);
  ck_assert_ptr_nonnull(copy);
  for (size_t cut = 0; cut <= len; cut++) {
    for (size_t k = 0; k <= sizeof(odd); k++) {
      memcpy(copy, good, len);
      if (k < sizeof(odd) && cut < len)
        copy[cut] = odd[k];
      size_t n = k < sizeof(odd) ? len : cut; /* mangled whole text, or the prefix */
      char *exact = malloc(n > 0 ? n : 1);    /* n bytes exactly: ASan sees a read past them */
      ck_assert_ptr_nonnull(exact);
      memcpy(exact, copy, n);
      struct kp_cfg_tree tree;
      kp_cfg_tree_init(&tree);
      int rc = kp_cfg_parse_text(&tree, exact, n, NULL, NULL);
      free(exact);
      ck_assert(rc == 0 || rc == 1);
      struct kp_plugin_config cfg;
      ck_assert_int_eq(kp_plugin_config_init(&cfg), 0);
      for (size_t i = 0; rc == 0 && i < tree.root.children.count; i++)
        kp_plugin_config_apply(&cfg, tree.root.children.items[i], NULL, NULL);
      kp_plugin_config_free(&cfg);
      kp_cfg_tree_free(&tree);
    }
  }
  free(copy);
}
END_TEST

static Suite *config_file_suite(void) {
  Suite *s = suite_create("config_file");
  TCase *tc = tcase_create("file");
  tcase_add_test(tc, test_good_file);
  tcase_add_test(tc, test_bad_file_reports_every_error);
  tcase_add_loop_test(tc, test_syntax_error_names_the_line, 0,
                      (int)(sizeof(syntax_rows) / sizeof(syntax_rows[0])));
  tcase_add_test(tc, test_tokens_as_collectd_reads_them);
  tcase_add_test(tc, test_unreadable_file);
  tcase_add_test(tc, test_shipped_drop_in_is_clean);
  tcase_add_loop_test(tc, test_endpoint_is_ip_and_port, 0,
                      (int)(sizeof(endpoint_rows) / sizeof(endpoint_rows[0])));
  tcase_add_test(tc, test_truncated_and_mangled_text);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(config_file_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
