/* The collectd glue against stubs of the daemon (tests/unit/plugin_stubs.c):
 * registration, config keys and errors, values, state-change notifications
 * with meta, the notification callback for the kube-proxy process, and the
 * once-only fault log. The live source is replaced by a fake that loads an
 * iptables-save -c text (written below, counted by hand) into the snapshot
 * exactly as the libiptc source would: backend legacy, source "kernel". */
#include "kube_proxy_glue.h"
#include "plugin_stubs.h"

#include "collectd/core/utils/common/common.h"
#include "dump_ipt_internal.h"
#include "kp/dump.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void module_register(void);

/* ---- the fake source ------------------------------------------------------- */

static const char *fake_ruleset;
static enum kp_live_fault fake_fault;
static struct kp_live_options fake_seen_opt;

/* "*table", ":CHAIN POLICY [p:b]", "[p:b] -A CHAIN args...", "COMMIT". */
static int fake_load(struct kp_snapshot *snap, const char *text) {
  struct kp_table *table = NULL;
  const char *line = text;
  while (*line != '\0') {
    const char *end = strchr(line, '\n');
    size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
    char buf[1024];
    ck_assert_uint_lt(n, sizeof(buf));
    memcpy(buf, line, n);
    buf[n] = '\0';
    line += n + (end != NULL ? 1 : 0);
    if (buf[0] == '*') {
      table = kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, buf + 1, true);
      table->source = "kernel";
    } else if (buf[0] == ':') {
      char name[64], policy[16];
      ck_assert_int_eq(sscanf(buf + 1, "%63s %15s", name, policy), 2);
      struct kp_chain *c = kp_table_add_chain(snap, table, name);
      c->builtin = strcmp(policy, "-") != 0;
      if (c->builtin) {
        ck_assert_ptr_nonnull(kp_chain_ext_mut(snap, c));
        c->ext->policy = kp_arena_strdup(&snap->arena, policy);
      }
    } else if (buf[0] == '[') {
      unsigned long long pk, by;
      char chain[64];
      int off = 0;
      ck_assert_int_eq(sscanf(buf, "[%llu:%llu] -A %63s %n", &pk, &by, chain, &off), 3);
      struct kp_rule *r = kp_chain_add_rule(snap, kp_table_add_chain(snap, table, chain));
      r->counters.present = true;
      r->counters.packets = pk;
      r->counters.bytes = by;
      ck_assert_ptr_nonnull(kp_rule_ext_mut(snap, r));
      r->ext->source = "kernel";
      struct kp_dump_error err;
      int rc = kp_parse_ipt_rule_args(snap, r, buf + off, strlen(buf + off), &err);
      ck_assert_msg(rc == 0, "fixture rule %s: %s", buf, err.message);
    }
  }
  return 0;
}

static int fake_source(void *ctx, struct kp_snapshot *snap, const struct kp_live_options *opt,
                       struct kp_live_error *err) {
  (void)ctx;
  fake_seen_opt = *opt;
  if (fake_fault != KP_LIVE_OK) {
    err->fault = fake_fault;
    snprintf(err->message, sizeof(err->message), "iptc_init(nat): Permission denied");
    return -1;
  }
  return fake_load(snap, fake_ruleset);
}

/* Two services with one endpoint each, one without endpoints. Entry
 * counters (hand-picked): nat PREROUTING->KUBE-SERVICES 5/300, OUTPUT 7/420;
 * KUBE-SERVICES->KUBE-NODEPORTS 1/60; POSTROUTING->KUBE-POSTROUTING 11/660. */
#define RULES_HEAD                                                                                 \
  "*mangle\n"                                                                                      \
  ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"                         \
  ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"                                              \
  ":KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n"        \
  "COMMIT\n"                                                                                       \
  "*filter\n"                                                                                      \
  ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"                             \
  ":KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n:KUBE-FORWARD - [0:0]\n"               \
  ":KUBE-KUBELET-CANARY - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n"            \
  ":KUBE-PROXY-FIREWALL - [0:0]\n:KUBE-SERVICES - [0:0]\n"                                         \
  "[0:0] -A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer "     \
  "firewall\" -j KUBE-PROXY-FIREWALL\n"                                                            \
  "[0:0] -A INPUT -m comment --comment \"kubernetes health check service ports\" -j "              \
  "KUBE-NODEPORTS\n"                                                                               \
  "[0:0] -A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes "                   \
  "externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n"                               \
  "[0:0] -A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"        \
  "[0:0] -A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service "         \
  "portals\" -j KUBE-SERVICES\n"                                                                   \
  "[0:0] -A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service "          \
  "portals\" -j KUBE-SERVICES\n"                                                                   \
  "[0:0] -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "     \
  "0x4000/0x4000 -j ACCEPT\n"                                                                      \
  "[0:0] -A KUBE-SERVICES -d 172.30.0.20/32 -p tcp -m comment --comment \"web/empty:http has "     \
  "no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n"               \
  "COMMIT\n"                                                                                       \
  "*nat\n"                                                                                         \
  ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT "      \
  "[0:0]\n"                                                                                        \
  ":KUBE-KUBELET-CANARY - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-NODEPORTS - [0:0]\n"               \
  ":KUBE-POSTROUTING - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n:KUBE-SERVICES - [0:0]\n"                \
  ":KUBE-SVC-WEBWEBWEBWEBWEB1 - [0:0]\n:KUBE-SEP-WEBWEBWEBWEBWEB1 - [0:0]\n"                       \
  ":KUBE-SVC-DNSDNSDNSDNSDNS1 - [0:0]\n:KUBE-SEP-DNSDNSDNSDNSDNS1 - [0:0]\n"                       \
  "[5:300] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"   \
  "[7:420] -A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"       \
  "[11:660] -A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j "              \
  "KUBE-POSTROUTING\n"                                                                             \
  "[0:0] -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"                                    \
  "[0:0] -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"                           \
  "[0:0] -A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"

#define RULES_MASQ                                                                                 \
  "[0:0] -A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "  \
  "-j MASQUERADE --random-fully\n"

#define RULES_TAIL                                                                                 \
  "[3:180] -A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment \"web/frontend:http "    \
  "cluster IP\" -m tcp --dport 80 -j KUBE-SVC-WEBWEBWEBWEBWEB1\n"                                  \
  "[2:130] -A KUBE-SERVICES -d 172.30.0.53/32 -p udp -m comment --comment "                        \
  "\"kube-system/kube-dns:dns cluster IP\" -m udp --dport 53 -j KUBE-SVC-DNSDNSDNSDNSDNS1\n"       \
  "[1:60] -A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must "  \
  "be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"              \
  "[3:180] -A KUBE-SVC-WEBWEBWEBWEBWEB1 -m comment --comment \"web/frontend:http -> "              \
  "10.180.0.5:8080\" -j KUBE-SEP-WEBWEBWEBWEBWEB1\n"                                               \
  "[0:0] -A KUBE-SEP-WEBWEBWEBWEBWEB1 -s 10.180.0.5/32 -m comment --comment "                      \
  "\"web/frontend:http\" -j KUBE-MARK-MASQ\n"                                                      \
  "[3:180] -A KUBE-SEP-WEBWEBWEBWEBWEB1 -p tcp -m comment --comment \"web/frontend:http\" -m tcp " \
  "-j DNAT --to-destination 10.180.0.5:8080\n"                                                     \
  "[2:130] -A KUBE-SVC-DNSDNSDNSDNSDNS1 -m comment --comment \"kube-system/kube-dns:dns -> "       \
  "10.180.0.7:53\" -j KUBE-SEP-DNSDNSDNSDNSDNS1\n"                                                 \
  "[0:0] -A KUBE-SEP-DNSDNSDNSDNSDNS1 -s 10.180.0.7/32 -m comment --comment "                      \
  "\"kube-system/kube-dns:dns\" -j KUBE-MARK-MASQ\n"                                               \
  "[2:130] -A KUBE-SEP-DNSDNSDNSDNSDNS1 -p udp -m comment --comment \"kube-system/kube-dns:dns\" " \
  "-m udp -j DNAT --to-destination 10.180.0.7:53\n"                                                \
  "COMMIT\n"

static const char healthy[] = RULES_HEAD RULES_MASQ RULES_TAIL;
static const char no_masquerade[] = RULES_HEAD RULES_TAIL;

/* Counted by hand from the text above: 8 filter + 16 nat rules; chains
 * 5+3 mangle, 3+8 filter, 4+10 nat. */
#define HEALTHY_RULES 24
#define HEALTHY_CHAINS 33

/* ---- harness ----------------------------------------------------------------- */

static struct kpg_plugin *plugin(void) {
  return stub_read_ud.data;
}

/* module_register, the config block (NULL-terminated key/value pairs of
 * single string values are too limiting: callers add children), init, and
 * the fake source. */
static void start(oconfig_item_t *block) {
  module_register();
  ck_assert_ptr_nonnull(stub_config_cb);
  if (block != NULL) {
    ck_assert_int_eq(stub_config_cb(block), 0);
    stub_free_block(block);
  }
  ck_assert_ptr_nonnull(stub_init_cb);
  ck_assert_int_eq(stub_init_cb(), 0);
  ck_assert_ptr_nonnull(stub_read_cb);
  plugin()->source = fake_source;
  fake_ruleset = healthy;
  fake_fault = KP_LIVE_OK;
}

static void stop(void) {
  ck_assert_int_eq(stub_shutdown_cb(), 0);
  stub_destroy_registrations();
}

static int read_once(void) {
  return stub_read_cb(&stub_read_ud);
}

static double gauge_of(const char *pinst, const char *type, const char *tinst) {
  const struct stub_value *v = stub_find_value(pinst, type, tinst);
  ck_assert_msg(v != NULL, "no value %s/%s-%s", pinst, type, tinst);
  return v->value.gauge;
}

static long long derive_of(const char *pinst, const char *type, const char *tinst) {
  const struct stub_value *v = stub_find_value(pinst, type, tinst);
  ck_assert_msg(v != NULL, "no value %s/%s-%s", pinst, type, tinst);
  return (long long)v->value.derive;
}

static int config_fails(const char *key, const char *v1, const char *v2) {
  struct kp_plugin_config cfg;
  kp_plugin_config_init(&cfg);
  oconfig_item_t *b = stub_block("Plugin");
  if (v2 != NULL)
    stub_child(b, key, v1, v2, NULL);
  else
    stub_child(b, key, v1, NULL);
  int rc = kpg_config_parse(&cfg, b);
  stub_free_block(b);
  kp_plugin_config_free(&cfg);
  return rc != 0;
}

/* ---- registration ----------------------------------------------------------- */

START_TEST(test_registers_callbacks) {
  module_register();
  ck_assert_ptr_nonnull(stub_config_cb);
  ck_assert_ptr_nonnull(stub_init_cb);
  ck_assert_ptr_nonnull(stub_notif_cb);
  ck_assert_ptr_nonnull(stub_shutdown_cb);
  ck_assert_ptr_null(stub_read_cb); /* only after init, once the config is known */
  ck_assert_int_eq(stub_init_cb(), 0);
  ck_assert_ptr_nonnull(stub_read_cb);
  ck_assert_str_eq(stub_read_group, "kube_proxy");
  ck_assert_ptr_eq(stub_read_ud.data, stub_notif_ud.data); /* one shared instance */
  ck_assert_ptr_nonnull(stub_read_ud.free_func);
  stop();
}
END_TEST

/* ---- config --------------------------------------------------------------------- */

START_TEST(test_config_defaults) {
  struct kp_plugin_config cfg;
  kp_plugin_config_init(&cfg);
  oconfig_item_t *b = stub_block("Plugin");
  ck_assert_int_eq(kpg_config_parse(&cfg, b), 0);
  ck_assert_int_eq(cfg.backend, KP_BACKEND_UNKNOWN);
  ck_assert_ptr_null(cfg.netns_path);
  ck_assert(!cfg.ipv6);
  ck_assert(!cfg.checks.service_traffic);
  ck_assert(!cfg.has_service_filter);
  ck_assert_uint_eq(cfg.max_services, 100);
  ck_assert_uint_eq(cfg.repeat_notification, 0);
  ck_assert_uint_eq(cfg.checks.activity_intervals, 5);
  ck_assert_uint_eq(cfg.checks.n_pod_ips, 0);
  for (int i = 0; i < KP_CHECK_COUNT; i++)
    ck_assert(cfg.checks.enabled[i]);
  stub_free_block(b);
  kp_plugin_config_free(&cfg);
}
END_TEST

START_TEST(test_config_every_key) {
  struct kp_plugin_config cfg;
  kp_plugin_config_init(&cfg);
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Backend", "legacy", NULL);
  stub_child(b, "NetNS", "/run/netns/kp-x", NULL);
  stub_child(b, "IPv6", "@true", NULL);
  stub_child(b, "PodIP", "10.180.0.5", NULL);
  stub_child(b, "podip", "fd00::5", NULL); /* keys are case-insensitive, as in collectd */
  stub_child(b, "ActivityIntervals", "#12", NULL);
  stub_child(b, "Check", "sync", "@false", NULL);
  stub_child(b, "CollectServices", "@true", NULL);
  stub_child(b, "ServiceFilter", "^kube-system/", NULL);
  stub_child(b, "MaxServices", "#7", NULL);
  stub_child(b, "RepeatNotification", "#3", NULL);
  ck_assert_int_eq(kpg_config_parse(&cfg, b), 0);
  ck_assert_int_eq(cfg.backend, KP_BACKEND_LEGACY);
  ck_assert_str_eq(cfg.netns_path, "/run/netns/kp-x");
  ck_assert(cfg.ipv6);
  ck_assert_uint_eq(cfg.checks.n_pod_ips, 2);
  ck_assert_uint_eq(cfg.checks.activity_intervals, 12);
  ck_assert(!cfg.checks.enabled[KP_CHECK_SYNC]);
  ck_assert(cfg.checks.enabled[KP_CHECK_MASQUERADE]);
  ck_assert(cfg.checks.service_traffic);
  ck_assert(cfg.has_service_filter);
  ck_assert_uint_eq(cfg.max_services, 7);
  ck_assert_uint_eq(cfg.repeat_notification, 3);
  ck_assert_uint_eq(stub_n_log, 0);
  stub_free_block(b);

  b = stub_block("Plugin"); /* a later block: nft and auto parse too */
  stub_child(b, "Backend", "nft", NULL);
  ck_assert_int_eq(kpg_config_parse(&cfg, b), 0);
  ck_assert_int_eq(cfg.backend, KP_BACKEND_NFT);
  stub_free_block(b);
  b = stub_block("Plugin");
  stub_child(b, "Backend", "auto", NULL);
  ck_assert_int_eq(kpg_config_parse(&cfg, b), 0);
  ck_assert_int_eq(cfg.backend, KP_BACKEND_UNKNOWN);
  stub_free_block(b);
  kp_plugin_config_free(&cfg);
}
END_TEST

START_TEST(test_config_unknown_key_names_key_and_value) {
  ck_assert(config_fails("Intervall", "#10", NULL));
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "\"Intervall\""), 1);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "10"), 1);
}
END_TEST

START_TEST(test_config_bad_values_name_key_and_value) {
  static const struct {
    const char *key, *v1, *v2, *shown;
  } bad[] = {
      {"Backend", "iptables", NULL, "\"iptables\""},
      {"IPv6", "maybe", NULL, "\"maybe\""},
      {"IPv6", "#1", NULL, "1"},
      {"PodIP", "10.0.0.300", NULL, "10.0.0.300"},
      {"ActivityIntervals", "#0", NULL, "0"},
      {"ActivityIntervals", "#2.5", NULL, "2.5"},
      {"ActivityIntervals", "five", NULL, "\"five\""},
      {"Check", "nope", "@false", "\"nope\" false"},
      {"Check", "sync", NULL, "\"sync\""},
      {"ServiceFilter", "(", NULL, "\"(\""},
      {"RepeatNotification", "#-1", NULL, "-1"},
      {"NetNS", "", NULL, "\"\""},
      {"MaxServices", "#0", NULL, "0"},
      {"CollectServices", "#1", NULL, "1"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    stub_clear_captures();
    ck_assert_msg(config_fails(bad[i].key, bad[i].v1, bad[i].v2), "%s accepted", bad[i].key);
    char key[64];
    snprintf(key, sizeof(key), "\"%s\"", bad[i].key);
    ck_assert_msg(stub_count_log(LOG_ERR, key) >= 1, "error does not name %s", bad[i].key);
    ck_assert_msg(stub_count_log(LOG_ERR, bad[i].shown) >= 1, "error for %s does not show %s",
                  bad[i].key, bad[i].shown);
  }
}
END_TEST

/* oconfig has no file or line: the last error line says how to get them. */
START_TEST(test_config_errors_point_to_check_config) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Intervall", "#10", NULL);
  stub_child(b, "Backend", "iptables", NULL);
  struct kp_plugin_config cfg;
  kp_plugin_config_init(&cfg);
  ck_assert_int_ne(kpg_config_parse(&cfg, b), 0);
  stub_free_block(b);
  kp_plugin_config_free(&cfg);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "kube-proxy-check --check-config FILE"), 1);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "2 error(s)"), 1);
  ck_assert_str_eq(stub_log[stub_n_log - 1].text,
                   "kube_proxy plugin: 2 error(s) in a <Plugin kube_proxy> block; collectd "
                   "gives plugins no file or line: \"kube-proxy-check --check-config FILE\" "
                   "names them for each");
  /* a clean block says nothing */
  stub_clear_captures();
  ck_assert(!config_fails("Backend", "legacy", NULL));
  ck_assert_uint_eq(stub_n_log, 0);
}
END_TEST

START_TEST(test_config_failure_reaches_daemon) {
  module_register();
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Backend", "legacy", NULL);
  stub_child(b, "Bogus", "x", NULL);
  ck_assert_int_ne(stub_config_cb(b), 0);
  stub_free_block(b);
}
END_TEST

/* ---- values ------------------------------------------------------------------- */

START_TEST(test_values_from_one_read) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "NetNS", "/run/netns/kp-unit", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_str_eq(fake_seen_opt.netns_path, "/run/netns/kp-unit");
  ck_assert_int_eq(fake_seen_opt.backend, KP_BACKEND_UNKNOWN);
  ck_assert(!fake_seen_opt.ipv6);

  ck_assert_int_eq(derive_of("ipv4", "ipt_packets", "KUBE-SERVICES"), 12);
  ck_assert_int_eq(derive_of("ipv4", "ipt_bytes", "KUBE-SERVICES"), 720);
  ck_assert_int_eq(derive_of("ipv4", "ipt_packets", "KUBE-NODEPORTS"), 1);
  ck_assert_int_eq(derive_of("ipv4", "ipt_bytes", "KUBE-NODEPORTS"), 60);
  ck_assert_int_eq(derive_of("ipv4", "ipt_packets", "KUBE-POSTROUTING"), 11);
  ck_assert_int_eq(derive_of("ipv4", "ipt_bytes", "KUBE-POSTROUTING"), 660);
  ck_assert_ptr_null(stub_find_value("ipv6", "ipt_packets", "KUBE-SERVICES"));

  ck_assert_double_eq(gauge_of("", "objects", "endpoints"), 2);
  ck_assert_double_eq(gauge_of("", "objects", "services_without_endpoints"), 1);
  /* the first read notifies what is not OK: web/empty has no endpoints;
   * its name list sits beside the count of the same name */
  const struct stub_notification *ep = stub_last_notif("kube_proxy", "check-endpoints");
  ck_assert_ptr_nonnull(ep);
  ck_assert_str_eq(stub_meta(ep, "services_without_endpoints"), "1");
  ck_assert_str_eq(stub_meta(ep, "services_without_endpoints_list"), "web/empty:http");
  ck_assert_double_eq(gauge_of("", "objects", "rules"), HEALTHY_RULES);
  ck_assert_double_eq(gauge_of("", "objects", "chains"), HEALTHY_CHAINS);
  ck_assert_ptr_nonnull(stub_find_value("", "objects", "services"));
  ck_assert_double_eq(gauge_of("", "health", "check-masquerade"), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-hooks"), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-chains"), 0);
  ck_assert_uint_eq(stub_count_values("", "health"), KP_CHECK_COUNT);
  ck_assert_uint_eq(stub_count_values("", "gauge"), 0);
  ck_assert_double_eq(gauge_of("", "bool", "read-failed"), 0);
  double d = gauge_of("", "duration", "read");
  ck_assert(d >= 0 && d < 5);
  for (size_t i = 0; i < stub_n_values; i++) {
    ck_assert_str_eq(stub_values[i].plugin, "kube_proxy");
    ck_assert_uint_eq(stub_values[i].values_len, 1);
  }
  /* no per-service series unless asked for */
  ck_assert_uint_eq(stub_count_values("ipv4-services", "ipt_packets"), 0);
  stop();
}
END_TEST

/* The nf_tables reader's full reads of a changed ruleset, one derive per
 * cause, from what the source reports; none with Backend legacy. */
static void fake_full_reads(const void *ctx, uint64_t counts[KP_NFT_FULL_COUNT]) {
  (void)ctx;
  for (int i = 0; i < KP_NFT_FULL_COUNT; i++)
    counts[i] = 10 * (uint64_t)i + 1;
}

START_TEST(test_nft_full_reads_by_cause) {
  start(NULL);
  plugin()->source_full_reads = fake_full_reads;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_values("", "operations"), KP_NFT_FULL_COUNT);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-overrun"), 1);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-gap"), 11);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-unapplied"), 21);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-behind"), 31);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-held"), 41);
  ck_assert_int_eq(derive_of("", "operations", "nft_full_reads-compact"), 51);
  stop();

  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Backend", "legacy", NULL);
  start(b);
  plugin()->source_full_reads = fake_full_reads;
  stub_clear_captures();
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_gt(stub_count_values("", "health"), 0);
  ck_assert_uint_eq(stub_count_values("", "operations"), 0);
  stop();
}
END_TEST

/* kube-proxy's endpoints are probed for the sync check only. */
START_TEST(test_sync_off_stops_the_probes) {
  start(NULL);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_str_eq(fake_seen_opt.kube_proxy_metrics, "127.0.0.1:10249"); /* the defaults */
  ck_assert_str_eq(fake_seen_opt.kube_proxy_healthz, "127.0.0.1:10256");
  stop();

  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Check", "sync", "@false", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_ptr_null(fake_seen_opt.kube_proxy_metrics);
  ck_assert_ptr_null(fake_seen_opt.kube_proxy_healthz);
  stop();
}
END_TEST

START_TEST(test_disabled_check_has_no_gauge) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "Check", "masquerade", "@false", NULL);
  start(b);
  fake_ruleset = no_masquerade;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_ptr_null(stub_find_value("", "health", "check-masquerade"));
  ck_assert_uint_eq(stub_count_values("", "health"), KP_CHECK_COUNT - 1); /* - masquerade */
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 0);
  stop();
}
END_TEST

START_TEST(test_per_service_series) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "CollectServices", "@true", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_values("ipv4-services", "ipt_packets"), 2);
  ck_assert_int_eq(derive_of("ipv4-services", "ipt_packets", "web_frontend_http"), 3);
  ck_assert_int_eq(derive_of("ipv4-services", "ipt_bytes", "web_frontend_http"), 180);
  ck_assert_int_eq(derive_of("ipv4-services", "ipt_packets", "kube-system_kube-dns_dns"), 2);
  ck_assert_int_eq(derive_of("ipv4-services", "ipt_bytes", "kube-system_kube-dns_dns"), 130);
  stop();
}
END_TEST

START_TEST(test_per_service_filter_and_cap) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "CollectServices", "@true", NULL);
  stub_child(b, "ServiceFilter", "^kube-system/", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_values("ipv4-services", "ipt_packets"), 1);
  ck_assert_ptr_nonnull(
      stub_find_value("ipv4-services", "ipt_packets", "kube-system_kube-dns_dns"));
  stop();

  stub_clear_captures();
  b = stub_block("Plugin");
  stub_child(b, "CollectServices", "@true", NULL);
  stub_child(b, "MaxServices", "#1", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_values("ipv4-services", "ipt_packets"), 1);
  stop();
}
END_TEST

/* The figures come from the core's report, not from the glue walking
 * rules: the per-service sums of the fixture, counted by hand (web/frontend
 * 3/180, kube-system/kube-dns 2/130; the NODEPORTS jump and the REJECT of
 * web/empty are no service-chain jumps). */
START_TEST(test_report_carries_service_traffic) {
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  fake_load(snap, healthy);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  struct kp_report report;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &report), 0);
  ck_assert_uint_eq(report.n_service_traffic, 0); /* not asked for */
  kp_report_free(&report);
  cfg.service_traffic = true;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &report), 0);
  ck_assert_uint_eq(report.n_service_traffic, 2);
  ck_assert_str_eq(report.service_traffic[0].name, "web/frontend:http");
  ck_assert_int_eq(report.service_traffic[0].family, KP_FAMILY_IPV4);
  ck_assert_uint_eq(report.service_traffic[0].packets, 3);
  ck_assert_uint_eq(report.service_traffic[0].bytes, 180);
  ck_assert_str_eq(report.service_traffic[1].name, "kube-system/kube-dns:dns");
  ck_assert_uint_eq(report.service_traffic[1].packets, 2);
  ck_assert_uint_eq(report.service_traffic[1].bytes, 130);
  /* the key chains' entry traffic the values map, from the inventory */
  const struct kp_family_traffic *ft = &report.inventory.traffic[KP_FAMILY_IPV4];
  ck_assert(ft->present && ft->services.present);
  ck_assert_uint_eq(ft->services.packets, 12);
  ck_assert_uint_eq(ft->postrouting.bytes, 660);
  kp_report_free(&report);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
}
END_TEST

/* Rules of one service port on several IPs add up into one entry. */
START_TEST(test_service_traffic_adds_up_one_service) {
  struct kp_snapshot *snap = kp_snapshot_new();
  fake_load(snap, RULES_HEAD RULES_MASQ
            "[4:240] -A KUBE-SERVICES -d 192.0.2.10/32 -p tcp -m comment --comment "
            "\"web/frontend:http external IP\" -m tcp --dport 80 -j KUBE-EXT-WEBWEBWEBWEBWEB1\n"
            "[1:40] -A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "
            "\"web/frontend:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-WEBWEBWEBWEBWEB1\n"
            "[9:900] -A KUBE-SERVICES -d 172.30.0.11/32 -p tcp -m comment --comment "
            "\"web/other:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
            "COMMIT\n");
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  cfg.service_traffic = true;
  struct kp_report report;
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &report), 0);
  ck_assert_uint_eq(report.n_service_traffic, 1); /* KUBE-MARK-MASQ is no service chain */
  ck_assert_str_eq(report.service_traffic[0].name, "web/frontend:http");
  ck_assert_uint_eq(report.service_traffic[0].packets, 5);
  ck_assert_uint_eq(report.service_traffic[0].bytes, 280);
  kp_report_free(&report);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(test_service_instance_has_no_slash) {
  char buf[DATA_MAX_NAME_LEN];
  kpg_service_instance("kube-system/kube-dns:dns-tcp", buf, sizeof(buf));
  ck_assert_str_eq(buf, "kube-system_kube-dns_dns-tcp");
  kpg_service_instance("a/b\n", buf, 4);
  ck_assert_str_eq(buf, "a_b");
}
END_TEST

/* ---- notifications ----------------------------------------------------------------- */

START_TEST(test_masquerade_failure_then_okay) {
  start(NULL);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"),
                    0); /* OK at start: quiet */

  fake_ruleset = no_masquerade;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 1);
  const struct stub_notification *n = stub_last_notif("kube_proxy", "check-masquerade");
  ck_assert_int_eq(n->n.severity, NOTIF_FAILURE);
  ck_assert_str_eq(n->n.host, "node-1");
  ck_assert_str_eq(n->n.type, "health");
  ck_assert(n->n.time > 0);
  ck_assert(strlen(n->n.message) > 0);
  ck_assert_str_eq(stub_meta(n, "check"), "masquerade");
  ck_assert_str_eq(stub_meta(n, "mode"), "iptables");
  ck_assert_str_eq(stub_meta(n, "backend"), "legacy");
  ck_assert_str_eq(stub_meta(n, "endpoints"), "2");
  ck_assert_str_eq(stub_meta(n, "rules"), "23"); /* HEALTHY_RULES - MASQUERADE */
  ck_assert_ptr_nonnull(stub_meta(n, "table"));
  ck_assert_double_eq(gauge_of("", "health", "check-masquerade"), 2);

  ck_assert_int_eq(read_once(), 0); /* unchanged: no repeat by default */
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 1);

  fake_ruleset = healthy;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 2);
  n = stub_last_notif("kube_proxy", "check-masquerade");
  ck_assert_int_eq(n->n.severity, NOTIF_OKAY);
  ck_assert_str_eq(stub_meta(n, "check"), "masquerade");
  ck_assert_double_eq(gauge_of("", "health", "check-masquerade"), 0);
  stop();
}
END_TEST

/* A read failure is no state change: the FAILURE is not sent again when
 * the reads come back to the same broken rules, and the OKAY comes once
 * they are repaired; a check OK before and after the failure stays quiet. */
START_TEST(test_notifications_across_a_read_failure) {
  start(NULL);
  fake_ruleset = no_masquerade;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 1);
  stub_clear_captures();
  fake_fault = KP_LIVE_NO_PRIVILEGE;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(read_once(), 0);
    ck_assert_double_eq(gauge_of("", "bool", "read-failed"), 1);
  }
  ck_assert_ptr_null(stub_find_value("", "health", "check-masquerade"));
  ck_assert_uint_eq(stub_n_notifs, 0); /* nothing while failing */
  fake_fault = KP_LIVE_OK;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_n_notifs, 0); /* same broken rules: no second FAILURE */
  ck_assert_double_eq(gauge_of("", "health", "check-masquerade"), 2);
  ck_assert_double_eq(gauge_of("", "bool", "read-failed"), 0);
  fake_fault = KP_LIVE_NO_NETNS;
  ck_assert_int_eq(read_once(), 0);
  fake_fault = KP_LIVE_OK;
  fake_ruleset = healthy;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_n_notifs, 1); /* repaired meanwhile: one OKAY */
  ck_assert_int_eq(stub_last_notif("kube_proxy", "check-masquerade")->n.severity, NOTIF_OKAY);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_n_notifs, 1);
  stop();
}
END_TEST

START_TEST(test_failing_at_start_is_notified) {
  start(NULL);
  fake_ruleset = no_masquerade;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 1);
  stop();
}
END_TEST

START_TEST(test_repeat_notification) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "RepeatNotification", "#2", NULL);
  start(b);
  fake_ruleset = no_masquerade;
  size_t expect[] = {1, 1, 2, 2, 3}; /* sent on reads 1, 3, 5 */
  for (size_t i = 0; i < 5; i++) {
    ck_assert_int_eq(read_once(), 0);
    ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), expect[i]);
  }
  fake_ruleset = healthy; /* OK is never repeated */
  for (size_t i = 0; i < 4; i++)
    ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_notifs("kube_proxy", "check-masquerade"), 4);
  stop();
}
END_TEST

START_TEST(test_pod_ip_found_and_missing) {
  oconfig_item_t *b = stub_block("Plugin");
  stub_child(b, "PodIP", "10.180.0.5", NULL);
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-pod-rules"), 0);
  stop();

  stub_clear_captures();
  b = stub_block("Plugin");
  stub_child(b, "PodIP", "10.180.0.50", NULL); /* 10.180.0.5 is not 10.180.0.50 */
  start(b);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-pod-rules"), 1);
  const struct stub_notification *n = stub_last_notif("kube_proxy", "check-pod-rules");
  ck_assert_ptr_nonnull(n);
  ck_assert_int_eq(n->n.severity, NOTIF_WARNING);
  ck_assert_ptr_nonnull(strstr(n->n.message, "10.180.0.50"));
  stop();
}
END_TEST

static void dispatch_process_notif(const char *host, int severity, const char *msg) {
  notification_t n = {.severity = severity, .time = cdtime()};
  sstrncpy(n.host, host, sizeof(n.host));
  sstrncpy(n.plugin, "processes", sizeof(n.plugin));
  sstrncpy(n.plugin_instance, "kube-proxy", sizeof(n.plugin_instance));
  sstrncpy(n.type, "ps_count", sizeof(n.type));
  sstrncpy(n.message, msg, sizeof(n.message));
  plugin_dispatch_notification(&n);
}

START_TEST(test_process_notification_reaches_process_check) {
  start(NULL);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-process"), 0);

  dispatch_process_notif("other-node", NOTIF_FAILURE, "kube-proxy gone on other-node");
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-process"), 0); /* other host: ignored */

  dispatch_process_notif("node-1", NOTIF_FAILURE, "Data source \"processes\" is 0");
  fake_ruleset = no_masquerade;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-process"), 2);
  const struct stub_notification *n = stub_last_notif("kube_proxy", "check-process");
  ck_assert_ptr_nonnull(n);
  ck_assert_int_eq(n->n.severity, NOTIF_FAILURE);
  /* the failing masquerade check names the likely cause */
  n = stub_last_notif("kube_proxy", "check-masquerade");
  ck_assert_ptr_nonnull(n);
  ck_assert_ptr_nonnull(strstr(n->n.message, "likely cause: kube-proxy process"));

  dispatch_process_notif("node-1", NOTIF_OKAY, "Data source \"processes\" is 1 again");
  fake_ruleset = healthy;
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "health", "check-process"), 0);
  ck_assert_int_eq(stub_last_notif("kube_proxy", "check-process")->n.severity, NOTIF_OKAY);
  stop();
}
END_TEST

START_TEST(test_own_and_foreign_notifications_ignored) {
  struct kp_process_state st;
  notification_t n = {.severity = NOTIF_FAILURE};
  sstrncpy(n.host, "node-1", sizeof(n.host));
  sstrncpy(n.plugin, "kube_proxy", sizeof(n.plugin));
  sstrncpy(n.plugin_instance, "kube-proxy", sizeof(n.plugin_instance));
  ck_assert(!kpg_process_from_notification(&n, &st));
  sstrncpy(n.plugin, "processes", sizeof(n.plugin));
  sstrncpy(n.plugin_instance, "kubelet", sizeof(n.plugin_instance));
  ck_assert(!kpg_process_from_notification(&n, &st));
  sstrncpy(n.plugin_instance, "kube-proxy", sizeof(n.plugin_instance));
  sstrncpy(n.message, "bad\x1b[31m", sizeof(n.message));
  ck_assert(kpg_process_from_notification(&n, &st));
  ck_assert(st.known);
  ck_assert_int_eq(st.severity, KP_SEV_FAIL);
  ck_assert_str_eq(st.message, "bad\\x1b[31m"); /* no raw escape reaches a log */
  n.severity = NOTIF_WARNING;
  ck_assert(kpg_process_from_notification(&n, &st));
  ck_assert_int_eq(st.severity, KP_SEV_WARN);
}
END_TEST

/* Calls the callback directly, as collectd's write and unixsock threads do
 * (the stub's capture arrays belong to the reading thread). */
static void *notify_storm(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) {
    notification_t n = {.severity = (i & 1) ? NOTIF_OKAY : NOTIF_FAILURE, .time = cdtime()};
    sstrncpy(n.host, "node-1", sizeof(n.host));
    sstrncpy(n.plugin, "processes", sizeof(n.plugin));
    sstrncpy(n.plugin_instance, "kube-proxy", sizeof(n.plugin_instance));
    sstrncpy(n.message, (i & 1) ? "kube-proxy is running" : "kube-proxy is not running",
             sizeof(n.message));
    ck_assert_int_eq(kpg_notification_cb(&n, &stub_notif_ud), 0);
  }
  return NULL;
}

START_TEST(test_notification_callback_thread_safe) {
  start(NULL);
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, notify_storm, NULL), 0);
  for (int i = 0; i < 20; i++)
    ck_assert_int_eq(read_once(), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  struct kpg_plugin *p = plugin();
  ck_assert(p->process.known);
  ck_assert(strcmp(p->process.message, "kube-proxy is running") == 0 ||
            strcmp(p->process.message, "kube-proxy is not running") == 0);
  stop();
}
END_TEST

/* ---- faults -------------------------------------------------------------------------- */

/* A failed read returns 0 (collectd backs off a callback returning an
 * error), logs once, and dispatches read-failed 1 and no other value. */
START_TEST(test_fault_logged_once_then_recovery_once) {
  start(NULL);
  fake_fault = KP_LIVE_NO_PRIVILEGE;
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "cannot read the netfilter tables"), 1);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "CAP_NET_ADMIN"), 1);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "Permission denied"), 1);
  ck_assert_uint_eq(stub_n_values, 5); /* one per read: read-failed only */
  for (size_t i = 0; i < stub_n_values; i++) {
    ck_assert_str_eq(stub_values[i].plugin_instance, "");
    ck_assert_str_eq(stub_values[i].type, "bool");
    ck_assert_str_eq(stub_values[i].type_instance, "read-failed");
    ck_assert_double_eq(stub_values[i].value.gauge, 1);
  }

  fake_fault = KP_LIVE_OK;
  stub_clear_captures();
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "bool", "read-failed"), 0);
  ck_assert_uint_eq(stub_count_values("", "health"), KP_CHECK_COUNT);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_uint_eq(stub_count_log(LOG_INFO, "works again"), 1);
  ck_assert_ptr_nonnull(stub_find_value("", "duration", "read"));

  fake_fault = KP_LIVE_NO_NETNS; /* a new fault is logged again, once */
  ck_assert_int_eq(read_once(), 0);
  ck_assert_int_eq(read_once(), 0);
  ck_assert_double_eq(gauge_of("", "bool", "read-failed"), 1);
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "cannot read the netfilter tables"),
                    1); /* since clear */
  ck_assert_uint_eq(stub_count_log(LOG_ERR, "NetNS"), 1);
  stop();
}
END_TEST

static Suite *glue_suite(void) {
  Suite *s = suite_create("plugin_glue");
  TCase *tc = tcase_create("glue");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_registers_callbacks);
  tcase_add_test(tc, test_config_defaults);
  tcase_add_test(tc, test_config_every_key);
  tcase_add_test(tc, test_config_unknown_key_names_key_and_value);
  tcase_add_test(tc, test_config_bad_values_name_key_and_value);
  tcase_add_test(tc, test_config_failure_reaches_daemon);
  tcase_add_test(tc, test_config_errors_point_to_check_config);
  tcase_add_test(tc, test_values_from_one_read);
  tcase_add_test(tc, test_nft_full_reads_by_cause);
  tcase_add_test(tc, test_sync_off_stops_the_probes);
  tcase_add_test(tc, test_disabled_check_has_no_gauge);
  tcase_add_test(tc, test_per_service_series);
  tcase_add_test(tc, test_per_service_filter_and_cap);
  tcase_add_test(tc, test_report_carries_service_traffic);
  tcase_add_test(tc, test_service_traffic_adds_up_one_service);
  tcase_add_test(tc, test_service_instance_has_no_slash);
  tcase_add_test(tc, test_masquerade_failure_then_okay);
  tcase_add_test(tc, test_failing_at_start_is_notified);
  tcase_add_test(tc, test_notifications_across_a_read_failure);
  tcase_add_test(tc, test_repeat_notification);
  tcase_add_test(tc, test_pod_ip_found_and_missing);
  tcase_add_test(tc, test_process_notification_reaches_process_check);
  tcase_add_test(tc, test_own_and_foreign_notifications_ignored);
  tcase_add_test(tc, test_notification_callback_thread_safe);
  tcase_add_test(tc, test_fault_logged_once_then_recovery_once);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(glue_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
