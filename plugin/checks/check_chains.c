/* `chains`: the chains the detected mode requires exist. Mode-aware: IPVS
 * has KUBE-NODE-PORT (no KUBE-NODEPORTS), nftables mode has its own names.
 * Tables not in the input (a nat-only dump) are said, never failed. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_ITEMS 64

static const char *const ipt_nat[] = {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                                      "KUBE-MARK-MASQ", NULL};
static const char *const ipt_filter[] = {"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD",
                                         NULL};
static const char *const ipvs_nat[] = {"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT",
                                       "KUBE-MARK-MASQ", NULL};
static const char *const ipvs_filter[] = {"KUBE-FORWARD", NULL};
/* Chains every nftables-mode release since the alpha (1.29) creates. */
static const char *const nft_chains[] = {"nat-prerouting",
                                         "nat-output",
                                         "nat-postrouting",
                                         "services",
                                         "masquerading",
                                         "mark-for-masquerade",
                                         "service-endpoints-check",
                                         "nodeport-endpoints-check",
                                         "reject-chain",
                                         "filter-input",
                                         "filter-forward",
                                         "filter-output",
                                         NULL};

struct tally {
  char missing[MAX_ITEMS][128];
  const char *missing_table[MAX_ITEMS], *missing_chain[MAX_ITEMS];
  size_t n_missing, n_present;
  char not_covered[MAX_ITEMS][128]; /* not in a table the input shows in part */
  size_t n_not_covered;
  char not_seen[8][32];
  size_t n_not_seen;
};

static void check_table(const struct kp_table *table, const char *const *names, struct tally *t) {
  char label[64];
  kp_table_label(table, label, sizeof(label));
  for (size_t i = 0; names[i] != NULL; i++) {
    if (kp_chain_exists(table, names[i]) != NULL) {
      t->n_present++; /* declared, or jumped to: the node has it */
    } else if (table->partial) {
      if (t->n_not_covered < MAX_ITEMS)
        snprintf(t->not_covered[t->n_not_covered++], sizeof(t->not_covered[0]), "%s %s", label,
                 names[i]);
    } else if (t->n_missing < MAX_ITEMS) {
      snprintf(t->missing[t->n_missing], sizeof(t->missing[0]), "%s %s", label, names[i]);
      t->missing_table[t->n_missing] = table->name;
      t->missing_chain[t->n_missing] = names[i];
      t->n_missing++;
    }
  }
}

static void table_or_not_seen(const struct kp_check_ctx *ctx, enum kp_family f, const char *name,
                              const char *const *names, struct tally *t) {
  const struct kp_table *table = kp_ctx_table(ctx, f, name);
  if (table != NULL) {
    check_table(table, names, t);
  } else if (t->n_not_seen < 8) {
    snprintf(t->not_seen[t->n_not_seen++], sizeof(t->not_seen[0]), "%s%s",
             f == KP_FAMILY_IPV6 ? "ip6 " : "", name);
  }
}

static int report(struct kp_check_ctx *ctx, struct tally *t) {
  const char *items[MAX_ITEMS];
  if (t->n_missing > 0) {
    char list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < t->n_missing && off < sizeof(list); i++)
      off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", t->missing[i]);
    struct kp_result *r =
        kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_FAIL,
                      "missing kube-proxy chain(s) for %s mode: %s", kp_mode_name(ctx->mode), list);
    if (r == NULL || kp_result_set_where(r, t->missing_table[0], t->missing_chain[0]) != 0)
      return -1;
    for (size_t i = 0; i < t->n_missing; i++)
      items[i] = t->missing[i];
    if (kp_result_add_capped_list(r, "missing", items, t->n_missing) != 0 ||
        kp_result_add_int(r, "present", (int64_t)t->n_present) != 0)
      return -1;
  } else if (t->n_not_covered == 0 && (t->n_present > 0 || t->n_not_seen == 0)) {
    struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_OK,
                                        "all %zu required kube-proxy chains present (%s mode)",
                                        t->n_present, kp_mode_name(ctx->mode));
    if (r == NULL || kp_result_add_int(r, "present", (int64_t)t->n_present) != 0)
      return -1;
  }
  if (t->n_not_covered > 0) {
    char list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < t->n_not_covered && off < sizeof(list); i++) {
      off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
                              t->not_covered[i]);
      items[i] = t->not_covered[i];
    }
    struct kp_result *r =
        kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_INFO,
                      "chain(s) not in the input, which shows the table only in part: %s (%zu "
                      "required chain(s) seen)",
                      list, t->n_present);
    if (r == NULL || kp_result_add_list(r, "not_in_input", items, t->n_not_covered) != 0 ||
        kp_result_add_int(r, "present", (int64_t)t->n_present) != 0)
      return -1;
  }
  if (t->n_not_seen > 0) {
    char list[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < t->n_not_seen && off < sizeof(list); i++) {
      off +=
          (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", t->not_seen[i]);
      items[i] = t->not_seen[i];
    }
    struct kp_result *r =
        kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_INFO,
                      "table(s) not in the input, their kube-proxy chains not checked: %s", list);
    if (r == NULL || kp_result_add_list(r, "tables_not_seen", items, t->n_not_seen) != 0)
      return -1;
  }
  return 0;
}

int kp_check_chains(struct kp_check_ctx *ctx) {
  if (ctx->mode == KP_MODE_NONE) {
    bool partial = kp_ctx_partial(ctx);
    const struct kp_note *legacy = kp_ctx_unseen_legacy_note(ctx);
    const char *shown = kp_ctx_kube_tables_unseen(ctx);
    struct kp_result *r =
        shown != NULL
            ? kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_INFO,
                            "nat and filter not in the input (it shows %s): kube-proxy's chains "
                            "not checked",
                            shown)
        : legacy != NULL
            ? kp_report_add(
                  ctx->report, KP_CHECK_CHAINS, KP_SEV_INFO,
                  "no kube-proxy chains in the input; iptables-nft says iptables-legacy "
                  "tables are present (%s line %zu): kube-proxy's rules are probably there, "
                  "not in this bundle (collect `iptables-legacy-save -c`)",
                  legacy->source != NULL ? legacy->source : "-", legacy->line)
        : partial ? kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_INFO,
                                  "no kube-proxy chains in the input, which shows its tables only "
                                  "in part: not judged")
                  : kp_report_add(ctx->report, KP_CHECK_CHAINS, KP_SEV_FAIL,
                                  "no kube-proxy chains found");
    return r == NULL || kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0 ? -1 : 0;
  }
  struct tally t;
  memset(&t, 0, sizeof(t));
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    if (ctx->mode == KP_MODE_NFTABLES) {
      const struct kp_table *table = kp_ctx_nft_table(ctx, (enum kp_family)f);
      if (table != NULL)
        check_table(table, nft_chains, &t);
      continue;
    }
    bool ipvs = ctx->mode == KP_MODE_IPVS;
    table_or_not_seen(ctx, (enum kp_family)f, "nat", ipvs ? ipvs_nat : ipt_nat, &t);
    table_or_not_seen(ctx, (enum kp_family)f, "filter", ipvs ? ipvs_filter : ipt_filter, &t);
  }
  return report(ctx, &t);
}
