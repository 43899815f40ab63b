/* The service rules the `activity` check watches, and their traffic:
 * rules that match a service (cluster, external, load-balancer IP or node
 * port) and the endpoint DNATs. Never the built-in chains' jumps into
 * KUBE-SERVICES: those count every new connection the node makes, the
 * plugin's own probes included.
 *   iptables: nat KUBE-SERVICES / KUBE-NODEPORTS rules that jump to a
 *             KUBE-SVC/SVL/EXT/FW/XLB chain (dispatch), KUBE-SEP DNATs
 *   IPVS:     nat KUBE-SERVICES ACCEPT rules on the cluster/external/LB
 *             ipsets and KUBE-NODE-PORT's node-port ipset rules
 *             (dispatch), ipvsadm's virtual servers (endpoint layer)
 *   nftables: endpoint-* DNATs (kube-proxy gives them no counter)
 * A packet is counted by one rule of each layer, so the packet figure is
 * the larger layer, never the sum. Live, each rule's rise since the last
 * read (keyed by what it matches): kube-proxy rewrites rules with fresh
 * counters, so a new rule or a fall means the whole count is new. */
#include "checks_internal.h"

#include "kp/names.h"

#include <stdlib.h>
#include <string.h>

enum { LAYER_DISPATCH = 0, LAYER_ENDPOINT = 1 };

struct scan {
  struct kp_inventory *inv;
  const struct kp_rule *sample;
  const struct kp_ipvs_service *sample_ipvs;
  uint64_t layer_packets[2];
  struct kp_rule_count *counts; /* this read's, live only */
  size_t n_counts, cap_counts;
  bool oom;
};

static bool is_service_target(const struct kp_rule *rule) {
  static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-",
                                         "KUBE-XLB-"};
  if (!kp_rule_jumps(rule))
    return false;
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (kp_name_has_prefix(rule->target_name, prefixes[i]))
      return true;
  return false;
}

/* IPVS: the ipsets holding service addresses (KUBE-6- for IPv6). */
static bool is_ipvs_service_set(const char *set, const char *const *names) {
  if (set == NULL)
    return false;
  if (kp_name_has_prefix(set, "KUBE-6-"))
    set += strlen("KUBE-6-");
  else if (kp_name_has_prefix(set, "KUBE-"))
    set += strlen("KUBE-");
  else
    return false;
  for (size_t i = 0; names[i] != NULL; i++)
    if (kp_name_has_prefix(set, names[i]))
      return true;
  return false;
}

/* Keys hash what a rule matches, piece by piece (no formatting: a live
 * read keys tens of thousands of rules). */
static uint64_t mix(uint64_t h, const void *p, size_t n) {
  return (h ^ kp_hash_bytes(p, n)) * 1099511628211ULL;
}

static uint64_t mix_str(uint64_t h, const char *s) {
  return s != NULL ? mix(h, s, strlen(s)) : mix(h, "", 0);
}

static uint64_t mix_addr(uint64_t h, const struct kp_addr *a) {
  uint8_t head[3] = {a->kind, a->prefix_len, a->negated};
  return mix(mix(h, head, sizeof(head)), a->bytes, sizeof(a->bytes));
}

static uint64_t rule_key(const struct kp_rule *rule) {
  const struct kp_table *t = rule->chain->table;
  uint16_t nums[8] = {
      (uint16_t)t->family, (uint16_t)rule->target, rule->proto,        rule->dport.lo,
      rule->dport.hi,      rule->nat_ports.lo,     rule->nat_ports.hi, 0};
  uint64_t h = mix(1469598103934665603ULL, nums, sizeof(nums));
  h = mix_str(mix_str(mix_str(h, t->name), rule->chain->name), rule->target_name);
  h = mix_addr(mix_addr(mix_addr(h, &rule->dst), &rule->src), &rule->nat_addr);
  h = mix_str(mix_str(h, rule->comment), kp_rule_ext(rule)->match_set);
  return mix_str(mix_str(h, kp_rule_ext(rule)->dst_type), rule->probability);
}

static uint64_t ipvs_key(const struct kp_ipvs_service *svc) {
  uint32_t nums[2] = {svc->port, svc->fwmark};
  uint64_t h = mix(1469598103934665603ULL, nums, sizeof(nums));
  return mix_addr(mix_str(h, svc->proto), &svc->addr);
}

static void remember(struct scan *s, uint64_t key, uint64_t packets, int layer) {
  if (s->n_counts == s->cap_counts) {
    size_t cap = s->cap_counts ? s->cap_counts * 2 : 64;
    struct kp_rule_count *grown = realloc(s->counts, cap * sizeof(*grown));
    if (grown == NULL) {
      s->oom = true;
      return;
    }
    s->counts = grown;
    s->cap_counts = cap;
  }
  s->counts[s->n_counts++] = (struct kp_rule_count){key, packets, (uint8_t)layer};
}

/* One service rule (or IPVS virtual server) with its counters. */
static void count(struct scan *s, const struct kp_counters *c, int layer, uint64_t key,
                  const struct kp_rule *rule, const struct kp_ipvs_service *svc, bool live) {
  struct kp_inventory *inv = s->inv;
  inv->service_rules++;
  if (!c->present)
    return;
  inv->service_rules_counted++;
  s->layer_packets[layer] += c->packets;
  if (live)
    remember(s, key, c->packets, layer);
  if (c->packets == 0)
    return;
  inv->service_rules_with_traffic++;
  if (c->packets > inv->service_sample_packets) {
    inv->service_sample_packets = c->packets;
    inv->service_sample_text =
        rule != NULL ? kp_rule_ext(rule)->counter_texts.packets : svc->counter_texts.packets;
    s->sample = rule;
    s->sample_ipvs = svc;
  }
}

static void scan_chain(struct scan *s, const struct kp_chain *chain, int layer,
                       bool (*wanted)(const struct kp_rule *), bool live) {
  if (chain == NULL)
    return;
  for (size_t i = 0; i < chain->rules.count; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    if (wanted(rule)) {
      struct kp_counters c = kp_rule_counters(rule);
      count(s, &c, layer, live && c.present ? rule_key(rule) : 0, rule, NULL, live);
    }
  }
}

static bool is_dnat(const struct kp_rule *rule) {
  return rule->target == KP_TARGET_DNAT;
}

static bool is_ipvs_dispatch(const struct kp_rule *rule) {
  static const char *const services[] = {"CLUSTER-IP", "EXTERNAL-IP", "LOAD-BALANCER", NULL};
  return rule->target == KP_TARGET_ACCEPT && !kp_rule_ext(rule)->match_set_negated &&
         is_ipvs_service_set(kp_rule_ext(rule)->match_set, services);
}

static bool is_ipvs_nodeport(const struct kp_rule *rule) {
  static const char *const nodeports[] = {"NODE-PORT-", NULL};
  return !kp_rule_ext(rule)->match_set_negated &&
         is_ipvs_service_set(kp_rule_ext(rule)->match_set, nodeports);
}

static void scan_table(struct scan *s, const struct kp_check_ctx *ctx, const struct kp_table *t,
                       bool live) {
  if (ctx->mode == KP_MODE_NFTABLES) {
    for (size_t c = 0; c < t->chains.count; c++) {
      const struct kp_chain *chain = t->chains.items[c];
      if (kp_is_nft_svc_chain(chain->name, "endpoint-"))
        scan_chain(s, chain, LAYER_ENDPOINT, is_dnat, live);
    }
    return;
  }
  if (ctx->mode == KP_MODE_IPVS) {
    scan_chain(s, kp_chain_present(t, "KUBE-SERVICES"), LAYER_DISPATCH, is_ipvs_dispatch, live);
    scan_chain(s, kp_chain_present(t, "KUBE-NODE-PORT"), LAYER_DISPATCH, is_ipvs_nodeport, live);
    return;
  }
  scan_chain(s, kp_chain_present(t, "KUBE-SERVICES"), LAYER_DISPATCH, is_service_target, live);
  scan_chain(s, kp_chain_present(t, "KUBE-NODEPORTS"), LAYER_DISPATCH, is_service_target, live);
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (kp_name_has_prefix(chain->name, "KUBE-SEP-"))
      scan_chain(s, chain, LAYER_ENDPOINT, is_dnat, live);
  }
}

static int by_key(const void *a, const void *b) {
  const struct kp_rule_count *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->layer - y->layer;
}

/* Rules with the same key (the same match twice) add up, so they compare
 * as one. */
static size_t merge_same_keys(struct kp_rule_count *c, size_t n) {
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    if (out > 0 && c[out - 1].key == c[i].key && c[out - 1].layer == c[i].layer)
      c[out - 1].packets += c[i].packets;
    else
      c[out++] = c[i];
  }
  return out;
}

/* The rise of each rule since the last read, per layer. */
static void live_delta(struct scan *s, struct kp_check_state *st) {
  qsort(s->counts, s->n_counts, sizeof(*s->counts), by_key);
  s->n_counts = merge_same_keys(s->counts, s->n_counts);
  uint64_t rise[2] = {0, 0};
  for (size_t i = 0; i < s->n_counts; i++) {
    const struct kp_rule_count *now = &s->counts[i];
    const struct kp_rule_count *was =
        st->rule_counts ? bsearch(now, st->rule_counts, st->n_rule_counts, sizeof(*now), by_key)
                        : NULL;
    if (was == NULL || now->packets < was->packets)
      rise[now->layer] += now->packets; /* new or rewritten: all of it is new */
    else
      rise[now->layer] += now->packets - was->packets;
  }
  struct kp_inventory *inv = s->inv;
  inv->service_delta_known = st->have_previous;
  inv->service_new_packets = st->have_previous ? (rise[0] > rise[1] ? rise[0] : rise[1]) : 0;
  free(st->rule_counts);
  st->rule_counts = s->counts;
  st->n_rule_counts = s->n_counts;
  s->counts = NULL;
  st->have_previous = true;
  st->previous_packets = inv->service_packets;
}

int kp_service_rules_compute(struct kp_check_ctx *ctx, struct kp_inventory *inv) {
  bool live = ctx->state != NULL;
  struct scan s;
  memset(&s, 0, sizeof(s));
  s.inv = inv;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    const struct kp_table *t = ctx->mode == KP_MODE_NFTABLES
                                   ? kp_ctx_nft_table(ctx, (enum kp_family)f)
                                   : kp_ctx_table(ctx, (enum kp_family)f, "nat");
    if (t != NULL)
      scan_table(&s, ctx, t, live);
  }
  if (ctx->mode == KP_MODE_IPVS)
    for (size_t i = 0; i < ctx->snap->ipvs.count; i++) {
      const struct kp_ipvs_service *svc = ctx->snap->ipvs.items[i];
      count(&s, &svc->counters, LAYER_ENDPOINT, live && svc->counters.present ? ipvs_key(svc) : 0,
            NULL, svc, live);
    }
  inv->service_packets =
      s.layer_packets[0] > s.layer_packets[1] ? s.layer_packets[0] : s.layer_packets[1];
  ctx->service_sample = s.sample;
  if (s.oom) {
    free(s.counts);
    return -1;
  }
  if (live && inv->service_rules_counted > 0)
    live_delta(&s, ctx->state);
  free(s.counts);
  return 0;
}
