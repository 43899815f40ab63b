/* `hooks`: the required chains are reachable from the built-in (base)
 * chains. A required chain that exists but nothing jumps to is dead: its
 * rules never see a packet. Uses chain->referrers from finalize. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

struct edge {
  const char *table, *from, *to;
};

static const struct edge ipt_edges[] = {
    {"nat", "PREROUTING", "KUBE-SERVICES"},        {"nat", "OUTPUT", "KUBE-SERVICES"},
    {"nat", "POSTROUTING", "KUBE-POSTROUTING"},    {"nat", "KUBE-SERVICES", "KUBE-NODEPORTS"},
    {"filter", "OUTPUT", "KUBE-SERVICES"},         {"filter", "FORWARD", "KUBE-FORWARD"},
    {"filter", "INPUT", "KUBE-EXTERNAL-SERVICES"}, {NULL, NULL, NULL},
};

static const struct edge ipvs_edges[] = {
    {"nat", "PREROUTING", "KUBE-SERVICES"},     {"nat", "OUTPUT", "KUBE-SERVICES"},
    {"nat", "POSTROUTING", "KUBE-POSTROUTING"}, {"nat", "KUBE-SERVICES", "KUBE-NODE-PORT"},
    {"filter", "FORWARD", "KUBE-FORWARD"},      {NULL, NULL, NULL},
};

/* table is "kube-proxy" (the native nft table) for these. */
static const struct edge nft_edges[] = {
    {"kube-proxy", "nat-prerouting", "services"},
    {"kube-proxy", "nat-output", "services"},
    {"kube-proxy", "nat-postrouting", "masquerading"},
    {NULL, NULL, NULL},
};

#define MAX_FAULTS 32

struct faults {
  size_t n_ok;
  char ok[MAX_FAULTS][128];
  size_t n_ok_items;
  char not_seen[MAX_FAULTS][128];
  size_t n_not_seen;
};

static bool jumps_from(const struct kp_chain *to, const char *from) {
  for (size_t i = 0; i < to->referrers.count; i++) {
    const struct kp_rule *rule = to->referrers.items[i];
    if (strcmp(rule->chain->name, from) == 0)
      return true;
  }
  return false;
}

static bool is_hooked(const struct kp_chain *chain) {
  return chain->builtin || kp_chain_ext(chain)->hook != NULL;
}

static int fail(struct kp_check_ctx *ctx, const struct kp_table *table, const char *chain,
                const char *from, const char *to, const char *fmt_label, const char *label) {
  struct kp_result *r =
      kp_report_add(ctx->report, KP_CHECK_HOOKS, KP_SEV_FAIL, fmt_label, label, from, to);
  if (r == NULL || kp_result_set_where(r, table->name, chain) != 0 ||
      kp_result_add_str(r, "from", from) != 0 || kp_result_add_str(r, "to", to) != 0 ||
      kp_result_add_str(r, "family", kp_family_name(table->family)) != 0)
    return -1;
  return 0;
}

/* Checks the edges of one table; to-chains already reported dead are not
 * reported again for their other edges. */
static int check_edges(struct kp_check_ctx *ctx, const struct kp_table *table,
                       const struct edge *edges, struct faults *f, size_t *n_fail) {
  char label[64];
  kp_table_label(table, label, sizeof(label));
  const char *dead_reported[8];
  size_t n_dead = 0;
  for (size_t i = 0; edges[i].table != NULL; i++) {
    const struct edge *e = &edges[i];
    if (strcmp(e->table, table->name) != 0)
      continue;
    /* declared, or jumped to: a jump proves the chain exists */
    const struct kp_chain *to = kp_chain_exists(table, e->to);
    if (to == NULL)
      continue; /* the `chains` check reports missing chains */
    const struct kp_chain *from = kp_chain_present(table, e->from);
    /* not in the input, or not all its rules (cut, a grep'd fragment) and
     * none of those shown jumps there */
    if (from == NULL || (from->cut && !jumps_from(to, e->from))) {
      /* a fragment (one chain listed); missing nft base chains are the
       * `chains` check's finding */
      if (f->n_not_seen < MAX_FAULTS)
        snprintf(f->not_seen[f->n_not_seen++], sizeof(f->not_seen[0]), "%s %s", label, e->from);
      continue;
    }
    if (table->native_nft && !is_hooked(from)) {
      (*n_fail)++;
      if (fail(ctx, table, e->from, e->from, e->to,
               "%s %s is not attached to a netfilter hook (no packets reach %s)", label) != 0)
        return -1;
      continue;
    }
    if (to->referrers.count == 0 && to->set_referrers == 0) {
      bool seen = false;
      for (size_t d = 0; d < n_dead; d++)
        seen |= strcmp(dead_reported[d], e->to) == 0;
      if (seen)
        continue;
      if (n_dead < 8)
        dead_reported[n_dead++] = e->to;
      (*n_fail)++;
      /* every chain that should jump here: "PREROUTING and OUTPUT" */
      char expected[128] = "";
      size_t used = 0;
      for (size_t j = 0; edges[j].table != NULL && used < sizeof(expected); j++)
        if (strcmp(edges[j].table, e->table) == 0 && strcmp(edges[j].to, e->to) == 0) {
          int w = snprintf(expected + used, sizeof(expected) - used, "%s%s", used ? " and " : "",
                           edges[j].from);
          used += w > 0 ? (size_t)w : 0;
        }
      struct kp_result *r = kp_report_add(
          ctx->report, KP_CHECK_HOOKS, KP_SEV_FAIL,
          "%s %s is dead: nothing jumps to it (expected a jump from %s)", label, e->to, expected);
      if (r == NULL || kp_result_set_where(r, table->name, e->to) != 0 ||
          kp_result_add_str(r, "from", e->from) != 0 || kp_result_add_str(r, "to", e->to) != 0 ||
          kp_result_add_str(r, "family", kp_family_name(table->family)) != 0)
        return -1;
      continue;
    }
    if (!jumps_from(to, e->from)) {
      (*n_fail)++;
      if (fail(ctx, table, e->from, e->from, e->to, "%s %s does not jump to %s", label) != 0)
        return -1;
      continue;
    }
    if (f->n_ok_items < MAX_FAULTS)
      snprintf(f->ok[f->n_ok_items++], sizeof(f->ok[0]), "%s %s -> %s", label, e->from, e->to);
    f->n_ok++;
  }
  return 0;
}

int kp_check_hooks(struct kp_check_ctx *ctx) {
  if (ctx->mode == KP_MODE_NONE) {
    struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_HOOKS, KP_SEV_INFO,
                                        "no kube-proxy chains to check hooks for");
    return r == NULL ? -1 : 0;
  }
  const struct edge *edges = ctx->mode == KP_MODE_NFTABLES ? nft_edges
                             : ctx->mode == KP_MODE_IPVS   ? ipvs_edges
                                                           : ipt_edges;
  struct faults f;
  memset(&f, 0, sizeof(f));
  size_t n_fail = 0;
  for (int fam = 0; fam < KP_FAMILY_COUNT; fam++) {
    if (!ctx->families[fam])
      continue;
    if (ctx->mode == KP_MODE_NFTABLES) {
      const struct kp_table *t = kp_ctx_nft_table(ctx, (enum kp_family)fam);
      if (t != NULL && check_edges(ctx, t, edges, &f, &n_fail) != 0)
        return -1;
      continue;
    }
    const char *names[] = {"nat", "filter"};
    for (size_t i = 0; i < 2; i++) {
      const struct kp_table *t = kp_ctx_table(ctx, (enum kp_family)fam, names[i]);
      if (t != NULL && check_edges(ctx, t, edges, &f, &n_fail) != 0)
        return -1;
    }
  }
  if (f.n_not_seen > 0) {
    const char *items[MAX_FAULTS];
    for (size_t i = 0; i < f.n_not_seen; i++)
      items[i] = f.not_seen[i];
    struct kp_result *r =
        kp_report_add(ctx->report, KP_CHECK_HOOKS, KP_SEV_INFO,
                      "%zu chain(s) not in the input, or not all their rules (e.g. %s): their "
                      "jumps to kube-proxy's chains not checked",
                      f.n_not_seen, f.not_seen[0]);
    if (r == NULL || kp_result_add_list(r, "not_seen", items, f.n_not_seen) != 0)
      return -1;
  }
  if (n_fail > 0)
    return 0;
  if (f.n_ok == 0 && f.n_not_seen > 0)
    return 0;
  if (f.n_ok == 0) {
    struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_HOOKS, KP_SEV_INFO,
                                        "no required kube-proxy chain in the input to check");
    return r == NULL ? -1 : 0;
  }
  struct kp_result *r =
      kp_report_add(ctx->report, KP_CHECK_HOOKS, KP_SEV_OK,
                    "kube-proxy chains are hooked (%zu required jump(s) present)", f.n_ok);
  const char *items[MAX_FAULTS];
  for (size_t i = 0; i < f.n_ok_items; i++)
    items[i] = f.ok[i];
  if (r == NULL || kp_result_add_capped_list(r, "jumps", items, f.n_ok_items) != 0)
    return -1;
  return 0;
}
