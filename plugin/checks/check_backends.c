/* `backends`: kube-proxy rules in both the iptables-legacy and the nft
 * backend at once. Packets traverse both, so the stale copy keeps
 * answering for services (a mismatched kube-proxy image / wrapper).
 * iptables-nft's own "iptables-legacy tables present" warning in a dump
 * (KP_NOTE_OTHER_BACKEND) says the other backend holds tables the input
 * does not show: WARN, naming what to collect. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

/* "filter, nat" for the message (the details keep the list). */
static void join(const struct kp_strlist *list, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < list->count && used < len; i++) {
    int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", list->items[i]);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

/* Whether the input could show kube-proxy's rules in the other backend,
 * had they been there: a live read lists both; a dump shows nf_tables when
 * it holds any nft table, and iptables-legacy when it holds a legacy table
 * or comes from iptables-nft-save (which warns of legacy tables, and did
 * not: the warning is handled before). */
static bool other_backend_seen(const struct kp_check_ctx *ctx, bool rules_in_legacy) {
  if (kp_ctx_live(ctx))
    return true;
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (rules_in_legacy ? t->backend == KP_BACKEND_NFT
                        : t->backend == KP_BACKEND_LEGACY || t->legacy_visible)
      return true;
  }
  return false;
}

int kp_check_backends(struct kp_check_ctx *ctx) {
  size_t rules[KP_BACKEND_COUNT] = {0};
  struct kp_strlist tables[KP_BACKEND_COUNT];
  memset(tables, 0, sizeof(tables));
  char labels[32][64];
  size_t n_labels = 0;
  int rc = -1;
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    const struct kp_table_kube k = *kp_ctx_kube(ctx, t);
    if (!k.ipt_evidence && !k.ipvs_evidence && !k.nft_evidence)
      continue;
    enum kp_backend b = t->backend < KP_BACKEND_COUNT ? t->backend : KP_BACKEND_UNKNOWN;
    if (k.nft_evidence)
      b = KP_BACKEND_NFT;
    rules[b] += k.kube_rules + k.kube_chains;
    if (n_labels < 32) {
      kp_table_label(t, labels[n_labels], sizeof(labels[0]));
      if (kp_strlist_add(&tables[b], labels[n_labels++]) != 0)
        goto out;
    }
  }
  struct kp_result *r;
  const struct kp_note *note;
  bool legacy = tables[KP_BACKEND_LEGACY].count > 0, nft = tables[KP_BACKEND_NFT].count > 0;
  if (legacy && nft) {
    char in_legacy[256], in_nft[256];
    join(&tables[KP_BACKEND_LEGACY], in_legacy, sizeof(in_legacy));
    join(&tables[KP_BACKEND_NFT], in_nft, sizeof(in_nft));
    r = kp_report_add(ctx->report, KP_CHECK_BACKENDS, KP_SEV_FAIL,
                      "kube-proxy rules in both backends: iptables-legacy (%s) and nft (%s); "
                      "packets traverse both, the stale copy must be removed",
                      in_legacy, in_nft);
    enum kp_backend other = ctx->backend == KP_BACKEND_LEGACY ? KP_BACKEND_NFT : KP_BACKEND_LEGACY;
    if (r == NULL || kp_result_set_where(r, tables[other].items[0], NULL) != 0)
      goto out;
  } else if ((note = kp_ctx_unseen_legacy_note(ctx)) != NULL) {
    /* With kube-proxy's rules in nft, legacy tables existing is no fault
     * the input shows (`iptables-legacy -L` alone creates one): INFO. With
     * none of them in nft, they are probably there: WARN. */
    r = kp_report_add(
        ctx->report, KP_CHECK_BACKENDS, nft ? KP_SEV_INFO : KP_SEV_WARN,
        "%s line %zu: iptables-nft says iptables-legacy tables are present, and the input "
        "does not show them; %s; collect `iptables-legacy-save -c` and "
        "`ip6tables-legacy-save -c`",
        note->source != NULL ? note->source : "-", note->line,
        nft ? "kube-proxy rules seen in nft only as far as this input shows"
            : "no kube-proxy rules in the nft backend: kube-proxy's rules are "
              "probably in iptables-legacy and not in this bundle");
    if (r == NULL ||
        kp_result_add_str(r, "other_backend_note", note->detail != NULL ? note->detail : "") != 0)
      goto out;
  } else if ((legacy || nft) && other_backend_seen(ctx, legacy)) {
    r = kp_report_add(ctx->report, KP_CHECK_BACKENDS, KP_SEV_OK,
                      "kube-proxy rules in one backend: %s",
                      kp_backend_name(legacy ? KP_BACKEND_LEGACY : KP_BACKEND_NFT));
  } else if (legacy || nft) {
    r = kp_report_add(
        ctx->report, KP_CHECK_BACKENDS, KP_SEV_INFO,
        "kube-proxy rules in %s, and the input cannot show whether %s holds a second copy "
        "(%s); collect %s",
        kp_backend_name(legacy ? KP_BACKEND_LEGACY : KP_BACKEND_NFT),
        legacy ? "nf_tables" : "iptables-legacy",
        legacy ? "it holds no nft table" : "`nft list ruleset` does not list legacy tables",
        legacy ? "`iptables-nft-save -c` or `nft list ruleset`"
               : "`iptables-legacy-save -c` and `ip6tables-legacy-save -c`");
  } else if (tables[KP_BACKEND_UNKNOWN].count > 0) {
    r = kp_report_add(ctx->report, KP_CHECK_BACKENDS, KP_SEV_INFO,
                      "backend not known from the input (iptables -L / iptables-save do not say "
                      "legacy or nft)");
  } else {
    rc = 0;
    goto out;
  }
  if (r == NULL || kp_result_add_int(r, "legacy_rules", (int64_t)rules[KP_BACKEND_LEGACY]) != 0 ||
      kp_result_add_int(r, "nft_rules", (int64_t)rules[KP_BACKEND_NFT]) != 0 ||
      kp_result_add_list(r, "legacy_tables", tables[KP_BACKEND_LEGACY].items,
                         tables[KP_BACKEND_LEGACY].count) != 0 ||
      kp_result_add_list(r, "nft_tables", tables[KP_BACKEND_NFT].items,
                         tables[KP_BACKEND_NFT].count) != 0)
    goto out;
  rc = 0;
out:
  for (int b = 0; b < KP_BACKEND_COUNT; b++)
    kp_strlist_free(&tables[b]);
  return rc;
}
