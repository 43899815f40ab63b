/* `activity`: does traffic enter nat KUBE-SERVICES?
 * Offline: rules with non-zero packet counters among the built-in chains'
 * jump rules into KUBE-SERVICES and the rules of KUBE-SERVICES itself (a
 * real zero is no traffic; a dump without counters cannot be judged).
 * Live: the rise of the built-in jump rules' packet counters across reads.
 * Those rules keep their counters across kube-proxy syncs, but a rewrite
 * (or a flush) resets them: a drop is taken as a reset and the new value
 * is the delta, never a negative. */
#include "checks_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct scan {
  size_t with_traffic;  /* rules with packets > 0 */
  size_t with_counters; /* rules whose counters the input had */
  size_t rules;         /* rules looked at */
  const struct kp_rule *largest;
  uint64_t entry_packets; /* sum over the built-in jump rules */
  size_t entry_rules;
  bool entry_counters;
};

static void look(struct scan *s, const struct kp_rule *rule) {
  s->rules++;
  if (!rule->counters.present)
    return;
  s->with_counters++;
  if (rule->counters.packets == 0)
    return;
  s->with_traffic++;
  if (s->largest == NULL || rule->counters.packets > s->largest->counters.packets)
    s->largest = rule;
}

static void scan_chain(struct scan *s, const struct kp_chain *services) {
  for (size_t i = 0; i < services->referrers.count; i++) {
    const struct kp_rule *rule = services->referrers.items[i];
    if (!rule->chain->builtin)
      continue;
    look(s, rule);
    s->entry_rules++;
    if (rule->counters.present) {
      s->entry_counters = true;
      s->entry_packets += rule->counters.packets;
    }
  }
  for (size_t i = 0; i < services->rules.count; i++)
    look(s, services->rules.items[i]);
}

static int offline(struct kp_check_ctx *ctx, const struct scan *s) {
  struct kp_result *r;
  if (s->with_counters == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "KUBE-SERVICES counters not in the input (dump without -v / -c): "
                      "traffic cannot be judged");
  } else if (s->with_traffic > 0) {
    char sample[32];
    kp_counter_format(s->largest->counters.packets, s->largest->counters.packets_text, sample,
                      sizeof(sample));
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_OK,
                      "KUBE-SERVICES chain active (%zu rule(s) with traffic, sample: %s packets)",
                      s->with_traffic, sample);
    if (r != NULL && kp_result_add_str(r, "sample_chain", s->largest->chain->name) != 0)
      return -1;
  } else {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_WARN,
                      "KUBE-SERVICES chain has no packet counts (kube-proxy may not be "
                      "processing traffic)");
  }
  if (r == NULL || kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0 ||
      kp_result_add_int(r, "rules_with_traffic", (int64_t)s->with_traffic) != 0 ||
      kp_result_add_int(r, "rules_with_counters", (int64_t)s->with_counters) != 0 ||
      kp_result_add_int(r, "rules_checked", (int64_t)s->rules) != 0)
    return -1;
  return 0;
}

static int live(struct kp_check_ctx *ctx, const struct scan *s) {
  struct kp_check_state *st = ctx->state;
  struct kp_result *r;
  st->reads++;
  if (s->entry_rules == 0 || !s->entry_counters) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "no counted jump into KUBE-SERVICES: traffic cannot be judged");
    return r == NULL || kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0 ? -1 : 0;
  }
  uint64_t now = s->entry_packets;
  if (!st->have_previous) {
    st->have_previous = true;
    st->previous_packets = now;
    st->idle_intervals = 0;
    st->window_packets = 0;
    r = kp_report_add(
        ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
        "collecting: first read of the KUBE-SERVICES entry counters (%" PRIu64 " packets)", now);
    if (r == NULL || kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0 ||
        kp_result_add_int(r, "entry_packets", (int64_t)now) != 0)
      return -1;
    return 0;
  }
  bool reset = now < st->previous_packets;
  uint64_t delta = reset ? now : now - st->previous_packets;
  st->previous_packets = now;
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
  if (r == NULL || kp_result_set_where(r, "nat", "KUBE-SERVICES") != 0 ||
      kp_result_add_int(r, "new_packets", (int64_t)delta) != 0 ||
      kp_result_add_int(r, "idle_intervals", (int64_t)st->idle_intervals) != 0 ||
      kp_result_add_bool(r, "counter_reset", reset) != 0)
    return -1;
  return 0;
}

int kp_check_activity(struct kp_check_ctx *ctx) {
  struct kp_result *r;
  if (ctx->mode == KP_MODE_NFTABLES) {
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "nftables mode: kube-proxy adds no counters, traffic cannot be judged");
    return r == NULL || kp_result_set_where(r, "kube-proxy", "services") != 0 ? -1 : 0;
  }
  struct scan s;
  memset(&s, 0, sizeof(s));
  bool found = false;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    const struct kp_chain *services =
        kp_chain_present(kp_ctx_table(ctx, (enum kp_family)f, "nat"), "KUBE-SERVICES");
    if (services == NULL)
      continue;
    found = true;
    scan_chain(&s, services);
  }
  if (!found) {
    if (ctx->mode == KP_MODE_NONE)
      return 0;
    r = kp_report_add(ctx->report, KP_CHECK_ACTIVITY, KP_SEV_INFO,
                      "no nat KUBE-SERVICES chain in the input: traffic not judged");
    return r == NULL ? -1 : 0;
  }
  return ctx->state != NULL ? live(ctx, &s) : offline(ctx, &s);
}
