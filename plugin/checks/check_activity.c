/* `activity`: do kube-proxy's service rules handle traffic? The figures
 * come from the runner (checks_service_rules.c): the rules that match a
 * service or DNAT to an endpoint, never the built-in chains' jumps.
 * Offline: service rules with non-zero packet counters (a real zero is no
 * traffic; a dump without counters cannot be judged; zeros on a table the
 * input shows only in part are not judged either). Live: the packets the
 * service rules handled since the last read; WARN after
 * ActivityIntervals reads without any. */
#include "checks_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The first nat (or nft kube-proxy) table of the families that the input
 * shows only in part, NULL when all are whole. */
static const struct kp_table *partial_table(const struct kp_check_ctx *ctx) {
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    const struct kp_table *t = ctx->mode == KP_MODE_NFTABLES
                                   ? kp_ctx_nft_table(ctx, (enum kp_family)f)
                                   : kp_ctx_table(ctx, (enum kp_family)f, "nat");
    if (t != NULL && t->partial)
      return t;
  }
  return NULL;
}

static bool services_chain_seen(const struct kp_check_ctx *ctx) {
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (ctx->families[f] &&
        kp_chain_present(kp_ctx_table(ctx, (enum kp_family)f, "nat"), "KUBE-SERVICES") != NULL)
      return true;
  return false;
}

/* ipvsadm_only: the figures are the virtual servers', no chain holds them. */
static int add_figures(struct kp_result *r, const struct kp_inventory *inv, bool ipvsadm_only) {
  if (r == NULL || (!ipvsadm_only && kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0) ||
      kp_result_add_int(r, "rules_with_traffic", (int64_t)inv->service_rules_with_traffic) != 0 ||
      kp_result_add_int(r, "rules_with_counters", (int64_t)inv->service_rules_counted) != 0 ||
      kp_result_add_int(r, "rules_checked", (int64_t)inv->service_rules) != 0 ||
      kp_result_add_int(r, "service_packets", (int64_t)inv->service_packets) != 0)
    return -1;
  return 0;
}

static int offline(struct kp_check_ctx *ctx, const struct kp_inventory *inv) {
  struct kp_result *r;
  const struct kp_table *part = partial_table(ctx);
  if (inv->service_rules_with_traffic > 0) {
    char sample[32];
    kp_counter_format(inv->service_sample_packets, inv->service_sample_text, sample,
                      sizeof(sample));
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_OK,
                      ctx->ipvsadm_only
                          ? "IPVS virtual servers active (%zu with traffic, sample: %s packets)"
                          : "KUBE-SERVICES chain active (%zu rule(s) with traffic, sample: %s "
                            "packets)",
                      inv->service_rules_with_traffic, sample);
    if (r != NULL && ctx->service_sample != NULL &&
        kp_result_add_str(r, "sample_chain", ctx->service_sample->chain->name) != 0)
      return -1;
  } else if (part != NULL) {
    char label[64];
    kp_table_label(part, label, sizeof(label));
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "no packets on the %zu service rule(s) in the input, but %s is only partly "
                      "in it (%s): traffic not judged",
                      inv->service_rules_counted, label, part->source ? part->source : "input");
  } else {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_WARN,
                      ctx->ipvsadm_only ? "IPVS virtual servers have no packet counts (kube-proxy "
                                          "may not be processing traffic)"
                                        : "KUBE-SERVICES chain has no packet counts (kube-proxy "
                                          "may not be processing traffic)");
  }
  return add_figures(r, inv, ctx->ipvsadm_only);
}

static int live(struct kp_check_ctx *ctx, const struct kp_inventory *inv) {
  struct kp_check_state *st = ctx->state;
  struct kp_result *r;
  st->reads++;
  if (!inv->service_delta_known) {
    st->idle_intervals = 0;
    st->window_packets = 0;
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "collecting: first read of the service rules' counters (%zu rule(s), "
                      "%" PRIu64 " packets)",
                      inv->service_rules_counted, inv->service_packets);
    return add_figures(r, inv, ctx->ipvsadm_only);
  }
  uint64_t delta = inv->service_new_packets;
  if (delta > 0) {
    st->idle_intervals = 0;
    st->window_packets += delta;
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_OK,
                      "KUBE-SERVICES chain active (%" PRIu64 " new packet(s) since the last read)",
                      delta);
  } else {
    st->idle_intervals++;
    if (st->idle_intervals >= ctx->cfg->activity_intervals) {
      st->window_packets = 0;
      r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_WARN,
                        "KUBE-SERVICES chain has no packet counts (no new packets for %u "
                        "read(s); kube-proxy may not be processing traffic)",
                        st->idle_intervals);
    } else {
      r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_OK,
                        "KUBE-SERVICES chain quiet for %u read(s) (warning after %u)",
                        st->idle_intervals, ctx->cfg->activity_intervals);
    }
  }
  if (add_figures(r, inv, ctx->ipvsadm_only) != 0 ||
      kp_result_add_int(r, "new_packets", (int64_t)delta) != 0 ||
      kp_result_add_int(r, "idle_intervals", (int64_t)st->idle_intervals) != 0)
    return -1;
  return 0;
}

int kp_check_activity(struct kp_check_ctx *ctx) {
  const struct kp_inventory *inv = &ctx->report->inventory;
  struct kp_result *r;
  if (ctx->mode == KP_MODE_NONE)
    return 0;
  if (ctx->mode == KP_MODE_NFTABLES && inv->service_rules_counted == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "nftables mode: kube-proxy adds no counters, traffic cannot be judged");
    return r == NULL || kp_result_set_where(r, "kube-proxy", "services") != 0 ? -1 : 0;
  }
  if (inv->service_rules == 0) {
    const struct kp_table *part = partial_table(ctx);
    if (ctx->mode != KP_MODE_NFTABLES && !services_chain_seen(ctx))
      r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                        "no nat KUBE-SERVICES rules in the input: traffic not judged");
    else
      r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                        "no service rule in the input%s%s%s: traffic not judged", part ? " (" : "",
                        part && part->source ? part->source : "",
                        part ? " shows the nat table only in part)" : "");
    return r == NULL ? -1 : 0;
  }
  if (inv->service_rules_counted == 0 && ctx->ipvsadm_only) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "IPVS virtual server counters not in the input (ipvsadm -Ln without "
                      "--stats): traffic cannot be judged");
    return add_figures(r, inv, ctx->ipvsadm_only);
  }
  if (inv->service_rules_counted == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "service rule counters not in the input (dump without -v / -c): traffic "
                      "cannot be judged");
    return add_figures(r, inv, ctx->ipvsadm_only);
  }
  return ctx->state != NULL ? live(ctx, inv) : offline(ctx, inv);
}
