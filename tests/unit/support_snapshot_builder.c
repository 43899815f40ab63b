/* In-memory snapshot builder for tests; see support_snapshot_builder.h. */
#include "support_snapshot_builder.h"

#include "dump_ipt_internal.h"
#include "kp/dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tsb_die(const char *what, const char *arg) {
  fprintf(stderr, "snapshot builder: %s: %s\n", what, arg ? arg : "");
  abort();
}

struct kp_snapshot *tsb_new(void) {
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap == NULL)
    tsb_die("out of memory", "kp_snapshot_new");
  return snap;
}

struct kp_table *tsb_table(struct kp_snapshot *snap, const char *spec) {
  enum kp_backend backend = KP_BACKEND_LEGACY;
  enum kp_family family = KP_FAMILY_IPV4;
  const char *name = spec;
  for (;;) {
    if (strncmp(name, "nft:", 4) == 0) {
      backend = KP_BACKEND_NFT;
      name += 4;
    } else if (strncmp(name, "unknown:", 8) == 0) {
      backend = KP_BACKEND_UNKNOWN;
      name += 8;
    } else if (strncmp(name, "legacy:", 7) == 0) {
      backend = KP_BACKEND_LEGACY;
      name += 7;
    } else if (strncmp(name, "ip6:", 4) == 0) {
      family = KP_FAMILY_IPV6;
      name += 4;
    } else {
      break;
    }
  }
  struct kp_table *t = kp_snapshot_table(snap, family, backend, name, true);
  if (t == NULL)
    tsb_die("cannot create table", spec);
  if (t->source == NULL)
    t->source = "test";
  return t;
}

static bool is_builtin_name(const char *name) {
  static const char *const names[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  for (size_t i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

struct kp_chain *tsb_chain(struct kp_snapshot *snap, const char *spec, const char *chain) {
  struct kp_table *t = tsb_table(snap, spec);
  struct kp_chain *c = kp_table_add_chain(snap, t, chain);
  if (c == NULL)
    tsb_die("cannot create chain", chain);
  if (is_builtin_name(chain)) {
    c->builtin = true;
    tsb_chain_ext(snap, c)->policy = "ACCEPT";
  }
  return c;
}

struct kp_rule *tsb_rule(struct kp_snapshot *snap, const char *spec, const char *chain,
                         const char *args) {
  struct kp_chain *c = tsb_chain(snap, spec, chain);
  struct kp_rule *rule = kp_chain_add_rule(snap, c);
  if (rule == NULL)
    tsb_die("cannot add rule", args);
  const char *p = args;
  if (*p == '[') {
    unsigned long long pk = 0, by = 0;
    int used = 0;
    if (sscanf(p, "[%llu:%llu]%n", &pk, &by, &used) != 2 || used == 0)
      tsb_die("bad counters", args);
    tsb_counters(rule, pk, by);
    p += used;
    while (*p == ' ')
      p++;
  }
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  if (kp_parse_ipt_rule_args(snap, rule, p, strlen(p), &err) != 0)
    tsb_die(err.message, args);
  tsb_ext(snap, rule)->text = kp_arena_strdup(&snap->arena, args);
  return rule;
}

const char *tsb_nat_text(const struct kp_rule *rule) {
  static char bufs[4][96];
  static unsigned next;
  char *buf = bufs[next++ % 4];
  return kp_rule_nat_text(rule, buf, sizeof(bufs[0]));
}

struct kp_chain_ext *tsb_chain_ext(struct kp_snapshot *snap, struct kp_chain *chain) {
  struct kp_chain_ext *ext = kp_chain_ext_mut(snap, chain);
  if (ext == NULL)
    tsb_die("out of memory", "chain extension");
  return ext;
}

struct kp_rule_ext *tsb_ext(struct kp_snapshot *snap, struct kp_rule *rule) {
  struct kp_rule_ext *ext = kp_rule_ext_mut(snap, rule);
  if (ext == NULL)
    tsb_die("out of memory", "rule extension");
  return ext;
}

void tsb_counters(struct kp_rule *rule, uint64_t packets, uint64_t bytes) {
  rule->counters.present = true;
  rule->counters.packets = packets;
  rule->counters.bytes = bytes;
  if (rule->ext != NULL)
    rule->ext->counter_texts = (struct kp_counter_texts){NULL, NULL};
}

void tsb_strip_counters(struct kp_snapshot *snap) {
  for (size_t t = 0; t < snap->tables.count; t++) {
    struct kp_table *table = snap->tables.items[t];
    for (size_t c = 0; c < table->chains.count; c++) {
      struct kp_chain *chain = table->chains.items[c];
      tsb_chain_ext(snap, chain)->policy_counters.present = false;
      for (size_t r = 0; r < chain->rules.count; r++) {
        struct kp_rule *rule = chain->rules.items[r];
        memset(&rule->counters, 0, sizeof(rule->counters));
      }
    }
  }
}

void tsb_delete_rule(struct kp_snapshot *snap, const char *spec, const char *chain, size_t index) {
  struct kp_chain *c = kp_table_chain(tsb_table(snap, spec), chain);
  if (c == NULL || index >= c->rules.count)
    tsb_die("no such rule to delete", chain);
  memmove(&c->rules.items[index], &c->rules.items[index + 1],
          (c->rules.count - index - 1) * sizeof(void *));
  c->rules.count--;
  for (size_t i = 0; i < c->rules.count; i++)
    ((struct kp_rule *)c->rules.items[i])->index = i;
  snap->finalized = false;
}

void tsb_delete_chain(struct kp_snapshot *snap, const char *spec, const char *chain) {
  struct kp_chain *c = kp_table_chain(tsb_table(snap, spec), chain);
  if (c == NULL)
    tsb_die("no such chain to delete", chain);
  /* The name index is private to the model: an undeclared, empty chain is
   * what a dangling reference looks like, i.e. the chain is not there. */
  c->declared = false;
  c->rules.count = 0;
  snap->finalized = false;
}

void tsb_finalize(struct kp_snapshot *snap) {
  if (kp_snapshot_finalize(snap) != 0)
    tsb_die("finalize failed", "");
}

/* ---- native nftables ------------------------------------------------------ */

struct kp_table *tsb_nft_table(struct kp_snapshot *snap, enum kp_family family) {
  struct kp_table *t = kp_snapshot_table(snap, family, KP_BACKEND_NFT, "kube-proxy", true);
  if (t == NULL)
    tsb_die("cannot create table", "kube-proxy");
  t->native_nft = true;
  t->source = "test";
  return t;
}

struct kp_chain *tsb_nft_chain(struct kp_snapshot *snap, struct kp_table *t, const char *name,
                               const char *hook) {
  struct kp_chain *c = kp_table_add_chain(snap, t, name);
  if (c == NULL)
    tsb_die("cannot create chain", name);
  if (hook != NULL) {
    tsb_chain_ext(snap, c)->hook = kp_arena_strdup(&snap->arena, hook);
    c->builtin = true;
    tsb_chain_ext(snap, c)->policy = "accept";
  }
  return c;
}

struct kp_rule *tsb_nft_rule(struct kp_snapshot *snap, struct kp_table *t, const char *chain,
                             enum kp_target_kind target) {
  struct kp_chain *c = kp_table_chain(t, chain);
  if (c == NULL)
    c = tsb_nft_chain(snap, t, chain, NULL);
  struct kp_rule *rule = kp_chain_add_rule(snap, c);
  if (rule == NULL)
    tsb_die("cannot add rule", chain);
  rule->target = target;
  return rule;
}

struct kp_rule *tsb_nft_jump(struct kp_snapshot *snap, struct kp_table *t, const char *from,
                             const char *to, bool is_goto) {
  struct kp_rule *rule = tsb_nft_rule(snap, t, from, is_goto ? KP_TARGET_GOTO : KP_TARGET_JUMP);
  rule->target_name = kp_arena_strdup(&snap->arena, to);
  return rule;
}

struct kp_set_elem *tsb_nft_elem(struct kp_snapshot *snap, struct kp_table *t, const char *set,
                                 const char *key, const char *verdict, const char *chain,
                                 const char *comment) {
  struct kp_set *s = kp_table_add_set(snap, t, set);
  if (s == NULL)
    tsb_die("cannot add set", set);
  s->is_map = verdict != NULL;
  struct kp_set_elem *e = kp_set_add_elem(snap, s);
  if (e == NULL)
    tsb_die("cannot add element", key);
  e->key = kp_arena_strdup(&snap->arena, key);
  e->verdict = verdict ? kp_arena_strdup(&snap->arena, verdict) : NULL;
  e->chain = chain ? kp_arena_strdup(&snap->arena, chain) : NULL;
  e->comment = comment ? kp_arena_strdup(&snap->arena, comment) : NULL;
  return e;
}

/* ---- healthy nodes -------------------------------------------------------- */

static const char *spec_of(char *buf, size_t len, const char *prefix, const char *table) {
  snprintf(buf, len, "%s%s", prefix, table);
  return buf;
}

void tsb_ipt_healthy(struct kp_snapshot *snap, const char *prefix) {
  char m[64], n[64], f[64];
  spec_of(m, sizeof(m), prefix, "mangle");
  spec_of(n, sizeof(n), prefix, "nat");
  spec_of(f, sizeof(f), prefix, "filter");
  const char *builtins[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  for (size_t i = 0; i < 5; i++)
    tsb_chain(snap, m, builtins[i]);
  tsb_chain(snap, m, "KUBE-IPTABLES-HINT");
  tsb_chain(snap, m, "KUBE-KUBELET-CANARY");
  tsb_chain(snap, m, "KUBE-PROXY-CANARY");

  tsb_rule(snap, n, "PREROUTING",
           "[10:600] -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
  tsb_chain(snap, n, "INPUT");
  tsb_rule(snap, n, "OUTPUT",
           "[18:1080] -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
  tsb_rule(snap, n, "POSTROUTING",
           "[12:720] -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
  tsb_chain(snap, n, "KUBE-KUBELET-CANARY");
  tsb_chain(snap, n, "KUBE-PROXY-CANARY");
  tsb_chain(snap, n, "KUBE-NODEPORTS"); /* empty: no NodePort services */
  tsb_rule(snap, n, "KUBE-MARK-MASQ", "[12:720] -j MARK --set-xmark 0x4000/0x4000");
  tsb_rule(snap, n, "KUBE-POSTROUTING", "[0:0] -m mark ! --mark 0x4000/0x4000 -j RETURN");
  tsb_rule(snap, n, "KUBE-POSTROUTING", "[12:720] -j MARK --set-xmark 0x4000/0x0");
  tsb_rule(snap, n, "KUBE-POSTROUTING",
           "[12:720] -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
           "MASQUERADE --random-fully");
  tsb_rule(snap, n, "KUBE-SERVICES",
           "[3:180] -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 cluster IP\" -m "
           "tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA");
  tsb_rule(snap, n, "KUBE-SERVICES",
           "[0:0] -d 172.30.0.42/32 -p tcp -m comment --comment \"ns2/svc2:p80 cluster IP\" -m "
           "tcp --dport 80 -j KUBE-SVC-BBBBBBBBBBBBBBBB");
  tsb_rule(snap, n, "KUBE-SERVICES",
           "[6:360] -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
           "last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
  tsb_rule(snap, n, "KUBE-SVC-AAAAAAAAAAAAAAAA",
           "[3:180] -m comment --comment \"ns1/svc1:p80 -> 10.0.0.10:8080\" -j "
           "KUBE-SEP-AAAAAAAAAAAAAAA1");
  tsb_rule(snap, n, "KUBE-SEP-AAAAAAAAAAAAAAA1",
           "[0:0] -s 10.0.0.10/32 -m comment --comment \"ns1/svc1:p80\" -j KUBE-MARK-MASQ");
  tsb_rule(snap, n, "KUBE-SEP-AAAAAAAAAAAAAAA1",
           "[3:180] -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp -j DNAT "
           "--to-destination 10.0.0.10:8080");
  tsb_rule(snap, n, "KUBE-SVC-BBBBBBBBBBBBBBBB",
           "[0:0] -m comment --comment \"ns2/svc2:p80 -> 10.0.0.100:8080\" -j "
           "KUBE-SEP-BBBBBBBBBBBBBBB1");
  tsb_rule(snap, n, "KUBE-SEP-BBBBBBBBBBBBBBB1",
           "[0:0] -s 10.0.0.100/32 -m comment --comment \"ns2/svc2:p80\" -j KUBE-MARK-MASQ");
  tsb_rule(snap, n, "KUBE-SEP-BBBBBBBBBBBBBBB1",
           "[0:0] -p tcp -m comment --comment \"ns2/svc2:p80\" -m tcp -j DNAT "
           "--to-destination 10.0.0.100:8080");

  tsb_rule(snap, f, "INPUT", "[0:0] -j KUBE-FIREWALL");
  tsb_rule(snap, f, "INPUT",
           "[40:2400] -m conntrack --ctstate NEW -m comment --comment \"kubernetes "
           "externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES");
  tsb_rule(snap, f, "FORWARD",
           "[0:0] -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD");
  tsb_rule(snap, f, "OUTPUT",
           "[14:840] -m conntrack --ctstate NEW -m comment --comment \"kubernetes service "
           "portals\" -j KUBE-SERVICES");
  tsb_rule(snap, f, "KUBE-FIREWALL",
           "[0:0] ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming "
           "localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
  tsb_chain(snap, f, "KUBE-EXTERNAL-SERVICES");
  tsb_chain(snap, f, "KUBE-SERVICES");
  tsb_chain(snap, f, "KUBE-NODEPORTS");
  tsb_chain(snap, f, "KUBE-PROXY-FIREWALL");
  tsb_chain(snap, f, "KUBE-KUBELET-CANARY");
  tsb_chain(snap, f, "KUBE-PROXY-CANARY");
  tsb_rule(snap, f, "KUBE-FORWARD",
           "[0:0] -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
           "0x4000/0x4000 -j ACCEPT");
}

struct kp_table *tsb_nft_healthy(struct kp_snapshot *snap, enum kp_family family) {
  struct kp_table *t = tsb_nft_table(snap, family);
  tsb_nft_chain(snap, t, "nat-prerouting", "prerouting");
  tsb_nft_chain(snap, t, "nat-output", "output");
  tsb_nft_chain(snap, t, "nat-postrouting", "postrouting");
  tsb_nft_chain(snap, t, "filter-input", "input");
  tsb_nft_chain(snap, t, "filter-forward", "forward");
  tsb_nft_chain(snap, t, "filter-output", "output");
  tsb_nft_jump(snap, t, "nat-prerouting", "services", false);
  tsb_nft_jump(snap, t, "nat-output", "services", false);
  tsb_nft_jump(snap, t, "nat-postrouting", "masquerading", false);
  tsb_nft_jump(snap, t, "filter-input", "nodeport-endpoints-check", false);
  tsb_nft_jump(snap, t, "filter-input", "service-endpoints-check", false);
  tsb_nft_jump(snap, t, "filter-forward", "service-endpoints-check", false);
  tsb_nft_jump(snap, t, "filter-output", "service-endpoints-check", false);

  struct kp_rule *r = tsb_nft_rule(snap, t, "mark-for-masquerade", KP_TARGET_MARK);
  tsb_ext(snap, r)->mark_target = true;
  tsb_ext(snap, r)->xmark_value = 0x4000;
  tsb_ext(snap, r)->xmark_mask = 0x4000;
  r = tsb_nft_rule(snap, t, "masquerading", KP_TARGET_RETURN);
  tsb_ext(snap, r)->mark.present = true;
  tsb_ext(snap, r)->mark.value = 0;
  tsb_ext(snap, r)->mark.mask = 0x4000;
  r = tsb_nft_rule(snap, t, "masquerading", KP_TARGET_MARK);
  tsb_ext(snap, r)->mark_target = true;
  tsb_ext(snap, r)->xmark_value = 0x4000;
  tsb_ext(snap, r)->xmark_mask = 0;
  r = tsb_nft_rule(snap, t, "masquerading", KP_TARGET_MASQUERADE);
  r->random_fully = true;

  r = tsb_nft_rule(snap, t, "services", KP_TARGET_NONE);
  tsb_ext(snap, r)->vmap_set = "@service-ips";
  tsb_ext(snap, tsb_nft_rule(snap, t, "service-endpoints-check", KP_TARGET_NONE))->vmap_set =
      "@no-endpoint-services";
  tsb_ext(snap, tsb_nft_rule(snap, t, "nodeport-endpoints-check", KP_TARGET_NONE))->vmap_set =
      "@no-endpoint-nodeports";
  tsb_nft_rule(snap, t, "reject-chain", KP_TARGET_REJECT);

  const char *svc = "service-ULMVA6XW-ns1/svc1/tcp/p80";
  const char *ep = "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.0.0.10/80";
  tsb_nft_jump(snap, t, svc, "mark-for-masquerade", false);
  r = tsb_nft_rule(snap, t, svc, KP_TARGET_NONE);
  if (kp_rule_add_vmap_chain(snap, r, ep) != 0)
    tsb_die("vmap", ep);
  r = tsb_nft_jump(snap, t, ep, "mark-for-masquerade", false);
  if (kp_addr_parse(&snap->arena, "10.0.0.10", &r->src) != 0)
    tsb_die("addr", "10.0.0.10");
  r = tsb_nft_rule(snap, t, ep, KP_TARGET_DNAT);
  if (kp_addr_parse(&snap->arena, "10.0.0.10", &r->nat_addr) != 0)
    tsb_die("addr", "10.0.0.10");
  tsb_ext(snap, r)->nat_text = "10.0.0.10:80";
  tsb_nft_elem(snap, t, "service-ips", "172.30.0.41 . tcp . 80", "goto", svc, NULL);
  tsb_nft_elem(snap, t, "cluster-ips", "172.30.0.41", NULL, NULL, NULL);
  return t;
}

void tsb_ipvs_healthy(struct kp_snapshot *snap) {
  tsb_rule(snap, "nat", "PREROUTING",
           "[10:600] -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
  tsb_rule(snap, "nat", "OUTPUT",
           "[5:300] -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
  tsb_rule(snap, "nat", "POSTROUTING",
           "[7:420] -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
  tsb_rule(snap, "nat", "KUBE-SERVICES", "[0:0] -s 127.0.0.0/8 -j RETURN");
  tsb_rule(snap, "nat", "KUBE-SERVICES",
           "[2:120] ! -s 10.0.0.0/8 -m comment --comment \"Kubernetes service cluster ip + port "
           "for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j "
           "KUBE-MARK-MASQ");
  tsb_rule(snap, "nat", "KUBE-SERVICES", "[1:60] -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT");
  tsb_rule(snap, "nat", "KUBE-SERVICES",
           "[9:540] -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT");
  tsb_chain(snap, "nat", "KUBE-NODE-PORT");
  tsb_chain(snap, "nat", "KUBE-LOAD-BALANCER");
  tsb_rule(snap, "nat", "KUBE-MARK-MASQ", "-j MARK --set-xmark 0x4000/0x4000");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING",
           "-m comment --comment \"Kubernetes endpoints dst ip:port, source ip for solving "
           "hairpin purpose\" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0");
  tsb_rule(snap, "nat", "KUBE-POSTROUTING",
           "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE");
  tsb_rule(snap, "filter", "FORWARD",
           "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD");
  tsb_rule(snap, "filter", "INPUT",
           "-m comment --comment \"kubernetes health check rules\" -j KUBE-NODE-PORT");
  tsb_rule(snap, "filter", "KUBE-FORWARD",
           "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j "
           "ACCEPT");
  tsb_chain(snap, "filter", "KUBE-NODE-PORT");
}

/* ---- running and inspecting --------------------------------------------- */

void tsb_run(const struct kp_snapshot *snap, const char *const *pod_ips,
             struct kp_check_state *state, struct kp_report *rep) {
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  for (size_t i = 0; pod_ips != NULL && pod_ips[i] != NULL; i++)
    if (kp_check_config_add_pod_ip(&cfg, pod_ips[i]) != 0)
      tsb_die("bad pod IP", pod_ips[i]);
  if (kp_checks_run(snap, &cfg, state, rep) != 0)
    tsb_die("kp_checks_run failed", "");
  kp_check_config_free(&cfg);
}

const struct kp_result *tsb_result(const struct kp_report *rep, enum kp_check_id id) {
  for (size_t i = 0; i < rep->n_results; i++)
    if (rep->results[i].check == id)
      return &rep->results[i];
  return NULL;
}

size_t tsb_count(const struct kp_report *rep, enum kp_check_id id) {
  size_t n = 0;
  for (size_t i = 0; i < rep->n_results; i++)
    n += rep->results[i].check == id;
  return n;
}

const struct kp_detail *tsb_detail(const struct kp_result *r, const char *key) {
  if (r == NULL)
    return NULL;
  for (size_t i = 0; i < r->n_details; i++)
    if (strcmp(r->details[i].key, key) == 0)
      return &r->details[i];
  return NULL;
}

bool tsb_list_has(const struct kp_result *r, const char *key, const char *item) {
  const struct kp_detail *d = tsb_detail(r, key);
  if (d == NULL || d->type != KP_DETAIL_LIST)
    return false;
  for (size_t i = 0; i < d->n_items; i++)
    if (strcmp(d->items[i], item) == 0)
      return true;
  return false;
}

void tsb_dump(const struct kp_report *rep) {
  for (size_t i = 0; i < rep->n_results; i++) {
    const struct kp_result *r = &rep->results[i];
    fprintf(stderr, "  [%s] %s: %s (%s/%s)\n", kp_severity_name(r->severity),
            kp_check_name(r->check), r->message, r->table ? r->table : "-",
            r->chain ? r->chain : "-");
  }
}

struct kp_report tsb_check(struct kp_snapshot *snap, const char *const *pod_ips) {
  struct kp_report rep;
  tsb_finalize(snap);
  tsb_run(snap, pod_ips, NULL, &rep);
  return rep;
}
