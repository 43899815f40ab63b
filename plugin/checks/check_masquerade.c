/* `masquerade`: KUBE-MARK-MASQ sets a mark bit and KUBE-POSTROUTING
 * masquerades packets carrying that same bit. Two forms exist:
 *   new (2021+): `-m mark ! --mark B/B -j RETURN`, `-j MARK --xor-mark B`,
 *                `-j MASQUERADE [--random-fully]`
 *   old:         `-m mark --mark B/B -j MASQUERADE`
 * nftables mode: mark-for-masquerade (`meta mark set meta mark | B`) and
 * masquerading (`meta mark & B == 0 return`, ..., `masquerade`). */
#include "checks_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Bits a MARK rule sets: new = (old & ~mask) ^ value. */
static uint32_t mark_bits(const struct kp_chain *chain) {
  for (size_t i = 0; i < chain->rules.count; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    if (rule->target == KP_TARGET_MARK && kp_rule_ext(rule)->mark_target &&
        kp_rule_ext(rule)->xmark_value != 0 &&
        (kp_rule_ext(rule)->xmark_value & kp_rule_ext(rule)->xmark_mask) ==
            kp_rule_ext(rule)->xmark_value)
      return kp_rule_ext(rule)->xmark_value;
  }
  return 0;
}

/* The mark bit a RETURN rule lets through when it is not set:
 * `! --mark B/B` (negated, value B) or nft `mark & B == 0` (value 0, mask B). */
static uint32_t return_guard(const struct kp_rule *rule) {
  if (rule->target != KP_TARGET_RETURN || !kp_rule_ext(rule)->mark.present)
    return 0;
  if (kp_rule_ext(rule)->mark.negated && kp_rule_ext(rule)->mark.value != 0)
    return kp_rule_ext(rule)->mark.value;
  if (!kp_rule_ext(rule)->mark.negated && kp_rule_ext(rule)->mark.value == 0)
    return kp_rule_ext(rule)->mark.mask;
  return 0;
}

struct masq_found {
  size_t masquerade_rules;
  uint32_t conditioned_on; /* first mark bit a MASQUERADE rule depends on */
  bool matching;           /* a MASQUERADE rule depends on the expected bit */
  bool unconditional;      /* a MASQUERADE rule without mark or ipset condition */
  bool guard_inferred;     /* the RETURN guard's mark match was not in the listing */
  const char *snat_to;     /* SNAT --to-source on the expected bit (not MASQUERADE) */
  char snat_to_buf[96];    /* snat_to when formatted from the rule's fields */
};

/* A RETURN that shows no match at all. `iptables -L` of some iptables-nft
 * releases prints the 3-rule form's `! --mark B/B` RETURN this way. */
static bool bare_return(const struct kp_rule *rule) {
  return rule->target == KP_TARGET_RETURN && !kp_rule_ext(rule)->mark.present &&
         rule->src.kind == KP_ADDR_ANY && rule->dst.kind == KP_ADDR_ANY && !rule->proto_present &&
         kp_rule_ext(rule)->match_set == NULL && kp_rule_ext(rule)->in_iface == NULL &&
         kp_rule_ext(rule)->out_iface == NULL;
}

static void scan_postrouting(const struct kp_chain *chain, uint32_t bit, struct masq_found *m) {
  uint32_t guard = 0;
  bool after_bare_return = false;
  for (size_t i = 0; i < chain->rules.count; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    uint32_t g = return_guard(rule);
    if (g != 0) {
      guard = g;
      continue;
    }
    if (bare_return(rule)) {
      after_bare_return = true;
      continue;
    }
    /* RETURN (match hidden), then `MARK xor B`: the listing lost the guard;
     * the xor that clears B shows which bit it was. */
    if (after_bare_return && guard == 0 && rule->target == KP_TARGET_MARK &&
        kp_rule_ext(rule)->mark_target && kp_rule_ext(rule)->xmark_mask == 0 &&
        kp_rule_ext(rule)->xmark_value != 0) {
      guard = kp_rule_ext(rule)->xmark_value;
      m->guard_inferred = true;
      continue;
    }
    bool snat = rule->target == KP_TARGET_SNAT;
    if (rule->target != KP_TARGET_MASQUERADE && !snat)
      continue;
    m->masquerade_rules += !snat;
    uint32_t cond = 0;
    if (kp_rule_ext(rule)->mark.present && !kp_rule_ext(rule)->mark.negated &&
        kp_rule_ext(rule)->mark.value != 0)
      cond = kp_rule_ext(rule)->mark.value;
    else if (kp_rule_ext(rule)->match_set != NULL)
      continue; /* IPVS hairpin: KUBE-LOOP-BACK */
    else
      cond = guard;
    if (snat) { /* source NAT to a fixed address: still SNAT, not "not masqueraded" */
      if (cond == bit && m->snat_to == NULL)
        m->snat_to = kp_rule_nat_text(rule, m->snat_to_buf, sizeof(m->snat_to_buf));
      if (cond == bit && m->snat_to == NULL)
        m->snat_to = "?";
      continue;
    }
    if (cond == 0) {
      m->unconditional = true;
      continue;
    }
    if (m->conditioned_on == 0)
      m->conditioned_on = cond;
    if (cond == bit)
      m->matching = true;
  }
}

static int add_where(struct kp_result *r, const struct kp_table *t, const char *chain,
                     uint32_t bit) {
  char hex[16];
  snprintf(hex, sizeof(hex), "0x%" PRIx32, bit);
  if (r == NULL || kp_result_set_where(r, t->name, chain) != 0 ||
      kp_result_add_str(r, "family", kp_family_name(t->family)) != 0 ||
      (bit != 0 && kp_result_add_str(r, "mark", hex) != 0))
    return -1;
  return 0;
}

static int check_table(struct kp_check_ctx *ctx, const struct kp_table *t, const char *mark_name,
                       const char *post_name, size_t *n_ok, uint32_t *ok_bit, bool *inferred) {
  char label[64];
  kp_table_label(t, label, sizeof(label));
  struct kp_report *rep = ctx->report;
  const struct kp_chain *mark = kp_chain_present(t, mark_name);
  const struct kp_chain *post = kp_chain_present(t, post_name);
  if (mark == NULL || post == NULL) {
    const char *which = mark == NULL ? mark_name : post_name;
    /* jumped to (exists, rules not shown), or a table shown in part */
    if (kp_chain_exists(t, which) != NULL || t->partial) {
      struct kp_result *r = kp_report_add(
          rep, KP_CHECK_MASQUERADE, KP_SEV_INFO,
          "%s %s rules not in the input (%s shows the table only in part): masquerade not checked",
          label, which, t->source ? t->source : "the input");
      return add_where(r, t, which, 0);
    }
    struct kp_result *r =
        kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_FAIL,
                      "%s %s missing: service traffic is not masqueraded", label, which);
    return add_where(r, t, which, 0);
  }
  uint32_t bit = mark_bits(mark);
  if (bit == 0 && mark->cut) {
    struct kp_result *r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_INFO,
                                        "%s %s: no MARK rule among the rules in the input (not "
                                        "all of them are): masquerade not checked",
                                        label, mark_name);
    return add_where(r, t, mark_name, 0);
  }
  if (bit == 0) {
    struct kp_result *r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_FAIL,
                                        "%s %s sets no mark (no MARK rule)", label, mark_name);
    return add_where(r, t, mark_name, 0);
  }
  struct masq_found m;
  memset(&m, 0, sizeof(m));
  scan_postrouting(post, bit, &m);
  struct kp_result *r;
  if (m.matching) {
    (*n_ok)++;
    *ok_bit = bit;
    *inferred |= m.guard_inferred;
    return 0;
  }
  if (m.snat_to != NULL) {
    r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_WARN,
                      "%s %s source-NATs mark 0x%" PRIx32 " with SNAT --to-source %s instead of "
                      "MASQUERADE (a non-standard setup; kube-proxy writes MASQUERADE)",
                      label, post_name, bit, m.snat_to);
    return add_where(r, t, post_name, bit) != 0 ? -1 : kp_result_add_str(r, "snat_to", m.snat_to);
  }
  if (m.conditioned_on != 0) {
    r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_FAIL,
                      "masquerade mark mismatch in %s: %s sets 0x%" PRIx32
                      ", %s masquerades on 0x%" PRIx32,
                      label, mark_name, bit, post_name, m.conditioned_on);
    if (add_where(r, t, post_name, bit) != 0)
      return -1;
    char hex[16];
    snprintf(hex, sizeof(hex), "0x%" PRIx32, m.conditioned_on);
    return kp_result_add_str(r, "postrouting_mark", hex);
  }
  if (m.unconditional) {
    r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_WARN,
                      "%s %s masquerades without checking mark 0x%" PRIx32
                      " (all traffic through it is SNATed)",
                      label, post_name, bit);
    return add_where(r, t, post_name, bit);
  }
  if (post->cut) {
    r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_INFO,
                      "%s %s: no masquerade rule for mark 0x%" PRIx32
                      " among the rules in the input (not all of them are): not judged",
                      label, post_name, bit);
    return add_where(r, t, post_name, bit);
  }
  r = kp_report_add(rep, KP_CHECK_MASQUERADE, KP_SEV_FAIL,
                    "%s %s has no masquerade rule for mark 0x%" PRIx32
                    " (service traffic requiring SNAT is not masqueraded)",
                    label, post_name, bit);
  if (add_where(r, t, post_name, bit) != 0)
    return -1;
  return kp_result_add_int(r, "masquerade_rules", (int64_t)m.masquerade_rules);
}

/* The nat table of family f to judge. Without a mode (a fragment, a
 * kubelet-only node), one that shows both chains is judged still: kubelet
 * before v1.28 wrote them too, and a mark mismatch breaks SNAT either way. */
static const struct kp_table *nat_to_judge(const struct kp_check_ctx *ctx, enum kp_family f,
                                           bool nft) {
  if (nft)
    return ctx->families[f] ? kp_ctx_nft_table(ctx, f) : NULL;
  const struct kp_table *t = kp_ctx_table(ctx, f, "nat");
  if (ctx->mode != KP_MODE_NONE)
    return ctx->families[f] ? t : NULL;
  return kp_chain_present(t, "KUBE-MARK-MASQ") != NULL &&
                 kp_chain_present(t, "KUBE-POSTROUTING") != NULL
             ? t
             : NULL;
}

int kp_check_masquerade(struct kp_check_ctx *ctx) {
  bool nft = ctx->mode == KP_MODE_NFTABLES;
  const char *mark_name = nft ? "mark-for-masquerade" : "KUBE-MARK-MASQ";
  const char *post_name = nft ? "masquerading" : "KUBE-POSTROUTING";
  size_t n_ok = 0, n_tables = 0;
  uint32_t bit = 0;
  bool inferred = false;
  size_t before = ctx->report->n_results;
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    const struct kp_table *t = nat_to_judge(ctx, (enum kp_family)f, nft);
    if (t == NULL)
      continue;
    n_tables++;
    if (check_table(ctx, t, mark_name, post_name, &n_ok, &bit, &inferred) != 0)
      return -1;
  }
  if (n_tables == 0 && ctx->mode == KP_MODE_NONE)
    return 0;
  if (n_tables == 0) {
    struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_MASQUERADE, KP_SEV_INFO,
                                        "nat table not in the input: masquerade not checked");
    return r == NULL ? -1 : 0;
  }
  if (ctx->report->n_results > before)
    return 0;
  struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_MASQUERADE, KP_SEV_OK,
                                      "masquerade mark 0x%" PRIx32 ": %s sets it, %s "
                                      "masquerades on it",
                                      bit, mark_name, post_name);
  char hex[16];
  snprintf(hex, sizeof(hex), "0x%" PRIx32, bit);
  if (r == NULL || kp_result_set_where(r, nft ? "kube-proxy" : "nat", post_name) != 0 ||
      kp_result_add_str(r, "mark", hex) != 0 || kp_result_add_int(r, "tables", (int64_t)n_ok) != 0)
    return -1;
  return 0;
}
