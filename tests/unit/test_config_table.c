/* Every key of the <Plugin kube_proxy> block (plugin/collectd/kube_proxy_config.c,
 * docs/collectd-kube_proxy.5), table-driven, through the config callback
 * the daemon calls (module_register + tests/unit/plugin_stubs.c):
 *  - bad rows: a wrong type, a missing or extra value, an out-of-range
 *    value, a duplicate of a single-valued key, an unknown key, an unknown
 *    check id, a bad regex, an invalid pod IP -> the callback fails and the
 *    plugin logs an ERROR that names the key as written ("Key");
 *  - good rows: each key parses to the value the man page promises.
 * Booleans given as the strings "true"/"false" are accepted on purpose:
 * that is collectd's cf_util_get_boolean convention. Each row is its own
 * Check loop iteration (forked), so one bad row does not hide the others. */
#include "kube_proxy_glue.h"
#include "plugin_stubs.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

void module_register(void);

/* One config line: key and up to three values in the stub mini language
 * ("#3" number, "@true"/"@false" boolean, anything else a string). */
struct line {
  const char *key;
  const char *v[3];
};

#define MAX_LINES 3

struct bad_row {
  const char *why;
  struct line lines[MAX_LINES];
  const char *named; /* the key the error must name, as written */
  const char *shows; /* NULL, or text the error must also contain (the value) */
};

static const struct bad_row bad_rows[] = {
    /* ---- wrong type ---- */
    {"number for a string", {{"Backend", {"#3"}}}, "Backend", "3"},
    {"number for a path", {{"NetNS", {"#3"}}}, "NetNS", "3"},
    {"boolean for a path", {{"NetNS", {"@true"}}}, "NetNS", "true"},
    {"number for a boolean", {{"IPv6", {"#1"}}}, "IPv6", "1"},
    {"non-boolean string", {{"IPv6", {"maybe"}}}, "IPv6", "maybe"},
    {"number for an address", {{"PodIP", {"#10"}}}, "PodIP", "10"},
    {"boolean for an address", {{"PodIP", {"@true"}}}, "PodIP", "true"},
    {"string for a number", {{"ActivityIntervals", {"5"}}}, "ActivityIntervals", "\"5\""},
    {"boolean for a number", {{"ActivityIntervals", {"@true"}}}, "ActivityIntervals", "true"},
    {"number for a check id", {{"Check", {"#1", "@false"}}}, "Check", NULL},
    {"number for check on/off", {{"Check", {"sync", "#0"}}}, "Check", "\"sync\""},
    {"number for a boolean", {{"CollectServices", {"#1"}}}, "CollectServices", "1"},
    {"non-boolean string", {{"CollectServices", {"yes please"}}}, "CollectServices", "yes please"},
    {"number for a regex", {{"ServiceFilter", {"#1"}}}, "ServiceFilter", "1"},
    {"string for a number", {{"MaxServices", {"100"}}}, "MaxServices", "\"100\""},
    {"string for a number", {{"RepeatNotification", {"3"}}}, "RepeatNotification", "\"3\""},
    {"boolean for a number", {{"RepeatNotification", {"@false"}}}, "RepeatNotification", "false"},

    /* ---- missing or extra values ---- */
    {"no value", {{"Backend", {NULL}}}, "Backend", NULL},
    {"two values", {{"Backend", {"legacy", "nft"}}}, "Backend", "\"nft\""},
    {"two values", {{"NetNS", {"/run/netns/a", "/run/netns/b"}}}, "NetNS", NULL},
    {"two values", {{"IPv6", {"@true", "@false"}}}, "IPv6", NULL},
    {"no value", {{"PodIP", {NULL}}}, "PodIP", NULL},
    {"two values", {{"ActivityIntervals", {"#1", "#2"}}}, "ActivityIntervals", NULL},
    {"check id only", {{"Check", {"sync"}}}, "Check", "\"sync\""},
    {"three values", {{"Check", {"sync", "@false", "@true"}}}, "Check", NULL},
    {"no value", {{"ServiceFilter", {NULL}}}, "ServiceFilter", NULL},
    {"no value", {{"MaxServices", {NULL}}}, "MaxServices", NULL},

    /* ---- out of range, not whole, empty, not one of the names ---- */
    {"zero", {{"ActivityIntervals", {"#0"}}}, "ActivityIntervals", "0"},
    {"negative", {{"ActivityIntervals", {"#-1"}}}, "ActivityIntervals", "-1"},
    {"above the maximum", {{"ActivityIntervals", {"#100001"}}}, "ActivityIntervals", "100001"},
    {"huge", {{"ActivityIntervals", {"#1e10"}}}, "ActivityIntervals", NULL},
    {"not whole", {{"ActivityIntervals", {"#2.5"}}}, "ActivityIntervals", "2.5"},
    {"zero", {{"MaxServices", {"#0"}}}, "MaxServices", "0"},
    {"negative", {{"MaxServices", {"#-5"}}}, "MaxServices", "-5"},
    {"above the maximum", {{"MaxServices", {"#100001"}}}, "MaxServices", "100001"},
    {"huge", {{"MaxServices", {"#1e10"}}}, "MaxServices", NULL},
    {"negative", {{"RepeatNotification", {"#-1"}}}, "RepeatNotification", "-1"},
    {"above the maximum", {{"RepeatNotification", {"#1000001"}}}, "RepeatNotification", "1000001"},
    {"huge", {{"RepeatNotification", {"#1e10"}}}, "RepeatNotification", NULL},
    {"not whole", {{"RepeatNotification", {"#0.5"}}}, "RepeatNotification", "0.5"},
    {"not a backend", {{"Backend", {"iptables"}}}, "Backend", "\"iptables\""},
    {"empty backend", {{"Backend", {""}}}, "Backend", "\"\""},
    {"empty path", {{"NetNS", {""}}}, "NetNS", "\"\""},
    {"empty regex", {{"ServiceFilter", {""}}}, "ServiceFilter", "\"\""},

    /* ---- unknown check id, bad regex, invalid pod IP ---- */
    {"unknown check", {{"Check", {"nope", "@false"}}}, "Check", "\"nope\""},
    {"unbalanced (", {{"ServiceFilter", {"("}}}, "ServiceFilter", "\"(\""},
    {"open bracket", {{"ServiceFilter", {"[a-"}}}, "ServiceFilter", "\"[a-\""},
    {"bad interval", {{"ServiceFilter", {"a{2,1}"}}}, "ServiceFilter", "a{2,1}"},
    {"octet > 255", {{"PodIP", {"10.0.0.300"}}}, "PodIP", "10.0.0.300"},
    {"bad IPv6", {{"PodIP", {"fe80::zz"}}}, "PodIP", "fe80::zz"},
    {"a network, not an address", {{"PodIP", {"10.180.0.0/24"}}}, "PodIP", "10.180.0.0/24"},
    {"negated", {{"PodIP", {"!10.180.0.5"}}}, "PodIP", "!10.180.0.5"},
    {"a name", {{"PodIP", {"pod-a"}}}, "PodIP", "pod-a"},
    {"empty", {{"PodIP", {""}}}, "PodIP", NULL},
    {"second of two bad", {{"PodIP", {"10.180.0.5", "bad"}}}, "PodIP", "\"bad\""},

    /* ---- an endpoint the probe could never ask (names are not resolved) ---- */
    {"a name", {{"KubeProxyMetrics", {"localhost:10249"}}}, "KubeProxyMetrics", "localhost"},
    {"a name", {{"KubeProxyHealthz", {"localhost:10256"}}}, "KubeProxyHealthz", "localhost"},
    {"IPv6 without brackets", {{"KubeProxyMetrics", {"::1:10249"}}}, "KubeProxyMetrics", "::1"},
    {"no port", {{"KubeProxyHealthz", {"127.0.0.1"}}}, "KubeProxyHealthz", "127.0.0.1"},
    {"a blank before the port",
     {{"KubeProxyMetrics", {"127.0.0.1: 10249"}}},
     "KubeProxyMetrics",
     "10249"},
    {"a signed port", {{"KubeProxyHealthz", {"127.0.0.1:+10256"}}}, "KubeProxyHealthz", "10256"},

    /* ---- unknown keys ---- */
    {"misspelt", {{"Intervall", {"#10"}}}, "Intervall", "10"},
    {"plural", {{"Backends", {"legacy"}}}, "Backends", "\"legacy\""},
    {"a collectd global", {{"Interval", {"#1"}}}, "Interval", NULL},

    /* ---- duplicates of single-valued keys (ambiguous: which one wins?) ---- */
    {"Backend twice", {{"Backend", {"legacy"}}, {"Backend", {"nft"}}}, "Backend", NULL},
    {"Backend twice, other case", {{"Backend", {"legacy"}}, {"backend", {"nft"}}}, "Backend", NULL},
    {"NetNS twice", {{"NetNS", {"/run/netns/a"}}, {"NetNS", {"/run/netns/b"}}}, "NetNS", NULL},
    {"IPv6 twice", {{"IPv6", {"@true"}}, {"IPv6", {"@false"}}}, "IPv6", NULL},
    {"ActivityIntervals twice",
     {{"ActivityIntervals", {"#3"}}, {"ActivityIntervals", {"#4"}}},
     "ActivityIntervals",
     NULL},
    {"CollectServices twice",
     {{"CollectServices", {"@true"}}, {"CollectServices", {"@false"}}},
     "CollectServices",
     NULL},
    {"ServiceFilter twice",
     {{"ServiceFilter", {"^a/"}}, {"ServiceFilter", {"^b/"}}},
     "ServiceFilter",
     NULL},
    {"MaxServices twice", {{"MaxServices", {"#5"}}, {"MaxServices", {"#6"}}}, "MaxServices", NULL},
    {"RepeatNotification twice",
     {{"RepeatNotification", {"#1"}}, {"RepeatNotification", {"#2"}}},
     "RepeatNotification",
     NULL},
    {"KubeProxyMetrics twice",
     {{"KubeProxyMetrics", {"127.0.0.1:10249"}}, {"KubeProxyMetrics", {"none"}}},
     "KubeProxyMetrics",
     NULL},
    {"KubeProxyHealthz twice",
     {{"KubeProxyHealthz", {"127.0.0.1:10256"}}, {"kubeproxyhealthz", {"none"}}},
     "KubeProxyHealthz",
     NULL},
};

#define N_BAD ((int)(sizeof(bad_rows) / sizeof(bad_rows[0])))

static oconfig_item_t *block_of(const struct line *lines) {
  oconfig_item_t *b = stub_block("Plugin");
  for (int i = 0; i < MAX_LINES && lines[i].key != NULL; i++)
    stub_child(b, lines[i].key, lines[i].v[0], lines[i].v[1], lines[i].v[2], NULL);
  return b;
}

/* A plugin ERROR line containing the quoted key (any case: keys are
 * case-insensitive) and, when given, the value. */
static int plugin_error_with(const char *a, const char *b) {
  int n = 0;
  for (size_t i = 0; i < stub_n_log; i++) {
    const char *t = stub_log[i].text;
    if (stub_log[i].level == LOG_ERR && strncmp(t, "kube_proxy plugin: ", 19) == 0 &&
        strcasestr(t, a) != NULL && (b == NULL || strstr(t, b) != NULL))
      n++;
  }
  return n;
}

static void dump_log(void) {
  for (size_t i = 0; i < stub_n_log; i++)
    fprintf(stderr, "  log[%d]: %s\n", stub_log[i].level, stub_log[i].text);
}

START_TEST(test_bad_row_fails_naming_the_key) {
  const struct bad_row *row = &bad_rows[_i];
  module_register();
  ck_assert_ptr_nonnull(stub_config_cb);
  stub_clear_captures();
  oconfig_item_t *b = block_of(row->lines);
  int rc = stub_config_cb(b);
  stub_free_block(b);
  if (rc == 0)
    dump_log();
  ck_assert_msg(rc != 0, "row %d (%s %s): accepted", _i, row->lines[0].key, row->why);
  char quoted[80];
  snprintf(quoted, sizeof(quoted), "\"%s\"", row->named);
  if (plugin_error_with(quoted, row->shows) == 0)
    dump_log();
  ck_assert_msg(plugin_error_with(quoted, NULL) >= 1,
                "row %d (%s %s): no kube_proxy ERROR naming %s", _i, row->lines[0].key, row->why,
                quoted);
  ck_assert_msg(row->shows == NULL || plugin_error_with(quoted, row->shows) >= 1,
                "row %d (%s %s): the error does not show the value %s", _i, row->lines[0].key,
                row->why, row->shows);
  ck_assert_int_eq(stub_shutdown_cb(), 0);
  stub_destroy_registrations();
}
END_TEST

/* Every bad key of a block is reported, not only the first. */
START_TEST(test_every_bad_key_reported) {
  module_register();
  stub_clear_captures();
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Backend", "iptables", NULL);
  stub_child(b, "IPv6", "@true", NULL); /* good, between the bad ones */
  stub_child(b, "MaxServices", "#0", NULL);
  stub_child(b, "Bogus", "x", NULL);
  ck_assert_int_ne(stub_config_cb(b), 0);
  stub_free_block(b);
  ck_assert_int_eq(plugin_error_with("\"Backend\"", NULL), 1);
  ck_assert_int_eq(plugin_error_with("\"MaxServices\"", NULL), 1);
  ck_assert_int_eq(plugin_error_with("\"Bogus\"", NULL), 1);
  ck_assert_int_eq(plugin_error_with("\"IPv6\"", NULL), 0);
  ck_assert_int_eq(stub_shutdown_cb(), 0);
  stub_destroy_registrations();
}
END_TEST

/* ---- good rows ------------------------------------------------------------------ */

typedef void (*cfg_check_fn)(const struct kp_plugin_config *cfg);

static void backend_auto(const struct kp_plugin_config *c) {
  ck_assert_int_eq(c->backend, KP_BACKEND_UNKNOWN);
}
static void backend_legacy(const struct kp_plugin_config *c) {
  ck_assert_int_eq(c->backend, KP_BACKEND_LEGACY);
}
static void backend_nft(const struct kp_plugin_config *c) {
  ck_assert_int_eq(c->backend, KP_BACKEND_NFT);
}
static void netns_proc1(const struct kp_plugin_config *c) {
  ck_assert_str_eq(c->netns_path, "/proc/1/ns/net");
}
static void ipv6_on(const struct kp_plugin_config *c) {
  ck_assert(c->ipv6);
}
static void ipv6_off(const struct kp_plugin_config *c) {
  ck_assert(!c->ipv6);
}
static void one_pod_ip(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->checks.n_pod_ips, 1);
  ck_assert_str_eq(c->checks.pod_ip_texts[0], "10.180.0.5");
}
static void two_pod_ips(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->checks.n_pod_ips, 2);
  ck_assert_str_eq(c->checks.pod_ip_texts[0], "10.180.0.5");
  ck_assert_str_eq(c->checks.pod_ip_texts[1], "fd00::5");
}
static void activity_1(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->checks.activity_intervals, 1);
}
static void activity_max(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->checks.activity_intervals, 100000);
}
static void only_sync_off(const struct kp_plugin_config *c) {
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    ck_assert_msg(c->checks.enabled[i] == (i != KP_CHECK_SYNC), "check %d", i);
}
static void masq_and_stale_off(const struct kp_plugin_config *c) {
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    ck_assert_msg(c->checks.enabled[i] == (i != KP_CHECK_MASQUERADE && i != KP_CHECK_STALE),
                  "check %d", i);
}
static void sync_back_on(const struct kp_plugin_config *c) {
  ck_assert(c->checks.enabled[KP_CHECK_SYNC]);
}
static void services_on(const struct kp_plugin_config *c) {
  ck_assert(c->checks.service_traffic);
}
static void filter_kube_system(const struct kp_plugin_config *c) {
  ck_assert(c->has_service_filter);
  ck_assert_str_eq(c->service_filter_text, "^kube-system/");
  ck_assert_int_eq(regexec(&c->service_filter, "kube-system/kube-dns:dns", 0, NULL, 0), 0);
  ck_assert_int_ne(regexec(&c->service_filter, "web/kube-system:http", 0, NULL, 0), 0);
}
static void max_services_1(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->max_services, 1);
}
static void max_services_max(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->max_services, 100000);
}
static void repeat_0(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->repeat_notification, 0);
}
static void repeat_max(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->repeat_notification, 1000000);
}
static void repeat_2(const struct kp_plugin_config *c) {
  ck_assert_uint_eq(c->repeat_notification, 2);
}

struct good_row {
  struct line lines[MAX_LINES];
  cfg_check_fn check;
};

static const struct good_row good_rows[] = {
    {{{"Backend", {"auto"}}}, backend_auto},
    {{{"Backend", {"legacy"}}}, backend_legacy},
    {{{"Backend", {"NFT"}}}, backend_nft},       /* values case-insensitive */
    {{{"backend", {"legacy"}}}, backend_legacy}, /* keys too */
    {{{"NetNS", {"/proc/1/ns/net"}}}, netns_proc1},
    {{{"IPv6", {"@true"}}}, ipv6_on},
    {{{"IPv6", {"true"}}}, ipv6_on}, /* collectd's string booleans */
    {{{"IPv6", {"false"}}}, ipv6_off},
    {{{"PodIP", {"10.180.0.5"}}}, one_pod_ip},
    {{{"PodIP", {"10.180.0.5", "fd00::5"}}}, two_pod_ips},
    {{{"PodIP", {"10.180.0.5"}}, {"PodIP", {"fd00::5"}}}, two_pod_ips}, /* repeatable */
    {{{"ActivityIntervals", {"#1"}}}, activity_1},
    {{{"ActivityIntervals", {"#100000"}}}, activity_max},
    {{{"Check", {"sync", "@false"}}}, only_sync_off},
    {{{"Check", {"masquerade", "@false"}}, {"Check", {"stale", "@false"}}}, masq_and_stale_off},
    {{{"Check", {"sync", "@false"}}, {"Check", {"sync", "@true"}}}, sync_back_on},
    {{{"CollectServices", {"@true"}}}, services_on},
    {{{"ServiceFilter", {"^kube-system/"}}}, filter_kube_system},
    {{{"MaxServices", {"#1"}}}, max_services_1},
    {{{"MaxServices", {"#100000"}}}, max_services_max},
    {{{"RepeatNotification", {"#0"}}}, repeat_0},
    {{{"RepeatNotification", {"#1000000"}}}, repeat_max},
    {{{"REPEATNOTIFICATION", {"#2"}}}, repeat_2},
};

#define N_GOOD ((int)(sizeof(good_rows) / sizeof(good_rows[0])))

START_TEST(test_good_row_parses) {
  const struct good_row *row = &good_rows[_i];
  module_register();
  stub_clear_captures();
  oconfig_item_t *b = block_of(row->lines);
  int rc = stub_config_cb(b);
  stub_free_block(b);
  if (rc != 0)
    dump_log();
  ck_assert_msg(rc == 0, "row %d (%s): refused", _i, row->lines[0].key);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, ""), 0);
  ck_assert_int_eq(stub_init_cb(), 0);
  const struct kpg_plugin *p = stub_read_ud.data;
  ck_assert_ptr_nonnull(p);
  row->check(&p->cfg);
  ck_assert_int_eq(stub_shutdown_cb(), 0);
  stub_destroy_registrations();
}
END_TEST

/* Every check id the man page lists turns exactly that check off. */
START_TEST(test_every_documented_check_id) {
  static const char *const ids[] = {"mode",       "chains",    "hooks",     "activity",
                                    "masquerade", "pod-rules", "endpoints", "stale",
                                    "backends",   "canary",    "process",   "sync"};
  ck_assert_int_eq(KP_CHECK_COUNT, (int)(sizeof(ids) / sizeof(ids[0])));
  bool seen[KP_CHECK_COUNT] = {false};
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    struct kp_plugin_config cfg;
    kp_plugin_config_init(&cfg);
    oconfig_item_t *b = stub_block("Plugin");
    stub_child(b, "Check", ids[i], "@false", NULL);
    ck_assert_msg(kpg_config_parse(&cfg, b) == 0, "Check \"%s\" refused", ids[i]);
    stub_free_block(b);
    int off = -1, n_off = 0;
    for (int c = 0; c < KP_CHECK_COUNT; c++)
      if (!cfg.checks.enabled[c]) {
        off = c;
        n_off++;
      }
    ck_assert_int_eq(n_off, 1);
    ck_assert_msg(!seen[off], "two ids turn off check %d", off);
    seen[off] = true;
    kp_plugin_config_free(&cfg);
  }
}
END_TEST

static Suite *config_table_suite(void) {
  Suite *s = suite_create("config_table");
  TCase *tc = tcase_create("config");
  tcase_add_loop_test(tc, test_bad_row_fails_naming_the_key, 0, N_BAD);
  tcase_add_test(tc, test_every_bad_key_reported);
  tcase_add_loop_test(tc, test_good_row_parses, 0, N_GOOD);
  tcase_add_test(tc, test_every_documented_check_id);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(config_table_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
