/* `mode`: the mode and backend the runner detected, or why none: no
 * tables, or only kubelet's chains. It also says what the input covers:
 * each coverage note of the sources (a file cut short, a fragment, a
 * table guessed, ...) becomes one INFO result here, naming file and line. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

static int add_families(struct kp_result *r, const struct kp_check_ctx *ctx) {
  const char *fams[KP_FAMILY_COUNT];
  size_t n = 0;
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (ctx->families[f])
      fams[n++] = kp_family_name((enum kp_family)f);
  return kp_result_add_list(r, "families", fams, n);
}

static int report_none(struct kp_check_ctx *ctx) {
  struct kp_strlist seen = {0};
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    for (size_t k = 0; k < kp_n_kubelet_chains; k++)
      if (kp_chain_present(t, kp_kubelet_chains[k]) != NULL &&
          kp_strlist_add_unique(&seen, kp_kubelet_chains[k]) != 0) {
        kp_strlist_free(&seen);
        return -1;
      }
  }
  struct kp_result *r;
  const char *shown = kp_ctx_kube_tables_unseen(ctx);
  if (shown != NULL)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_INFO,
                      "kube-proxy mode: not known from the input (it shows %s; nat and filter, "
                      "where kube-proxy's rules are, are not in it)",
                      shown);
  else if (ctx->snap->tables.count == 0)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (no netfilter tables in the input)");
  else if (kp_ctx_unseen_legacy_note(ctx) != NULL)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_INFO,
                      "kube-proxy mode: none in the input (iptables-nft says iptables-legacy "
                      "tables are present, and the input does not show them)");
  else if (kp_ctx_partial(ctx))
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_INFO,
                      "kube-proxy mode: none in the input (no kube-proxy chains in what it shows "
                      "of the tables)");
  else if (seen.count > 0)
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (only kubelet chains found, no kube-proxy rules)");
  else
    r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_WARN,
                      "kube-proxy mode: none (no kube-proxy chains found)");
  int rc = r == NULL || kp_result_add_str(r, "mode", "none") != 0 ||
                   kp_result_add_list(r, "kubelet_chains", seen.items, seen.count) != 0
               ? -1
               : 0;
  kp_strlist_free(&seen);
  return rc;
}

/* How each kind of note reads; the source's detail follows in parentheses. */
static const char *const note_text[KP_NOTE_COUNT] = {
    [KP_NOTE_CUT] = "input cut short, judged on what it holds",
    [KP_NOTE_FRAGMENT] = "input shows part of a table only, the rest is not judged",
    [KP_NOTE_TABLE_GUESSED] = "no table named, rules placed by what kube-proxy creates where",
    [KP_NOTE_OTHER_BACKEND] = "the other iptables backend holds tables this input does not show",
    [KP_NOTE_OTHER_NETNS] = "another network namespace, not read as the host",
    [KP_NOTE_SKIPPED] = "not read",
    [KP_NOTE_NOT_JUDGED] = "read, not judged",
};
static const char *const note_names[KP_NOTE_COUNT] = {
    [KP_NOTE_CUT] = "cut",
    [KP_NOTE_FRAGMENT] = "fragment",
    [KP_NOTE_TABLE_GUESSED] = "table_guessed",
    [KP_NOTE_OTHER_BACKEND] = "other_backend",
    [KP_NOTE_OTHER_NETNS] = "other_netns",
    [KP_NOTE_SKIPPED] = "skipped",
    [KP_NOTE_NOT_JUDGED] = "not_judged",
};

static int report_notes(struct kp_check_ctx *ctx) {
  /* iptables-nft's legacy-tables warning is answered when the input shows
   * legacy tables itself (a bundle with iptables-legacy-save too) */
  bool legacy_unseen = kp_ctx_unseen_legacy_note(ctx) != NULL;
  for (size_t i = 0; i < ctx->snap->notes.count; i++) {
    const struct kp_note *n = ctx->snap->notes.items[i];
    if ((unsigned)n->kind >= KP_NOTE_COUNT || (n->kind == KP_NOTE_OTHER_BACKEND && !legacy_unseen))
      continue;
    char where[64] = "", table[64] = "";
    if (n->line > 0)
      snprintf(where, sizeof(where), " line %zu", n->line);
    if (n->table != NULL)
      snprintf(table, sizeof(table), " %s%s", n->family == KP_FAMILY_IPV6 ? "ip6 " : "", n->table);
    struct kp_result *r =
        kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_INFO, "%s%s%s: %s%s%s%s",
                      n->source ? n->source : "input", where, table, note_text[n->kind],
                      n->detail ? " (" : "", n->detail ? n->detail : "", n->detail ? ")" : "");
    if (r == NULL || kp_result_add_str(r, "note", note_names[n->kind]) != 0 ||
        kp_result_add_str(r, "file", n->source ? n->source : "") != 0 ||
        kp_result_add_int(r, "line", (int64_t)n->line) != 0 ||
        (n->table != NULL && kp_result_set_where(r, n->table, NULL) != 0))
      return -1;
  }
  return 0;
}

int kp_check_mode(struct kp_check_ctx *ctx) {
  if (ctx->mode == KP_MODE_NONE)
    return report_none(ctx) != 0 ? -1 : report_notes(ctx);
  if (ctx->ipvsadm_only) {
    struct kp_result *r = kp_report_add(
        /* INFO, not OK: other proxies (kube-router) own IPVS virtual servers too */
        ctx->report, KP_CHECK_MODE, KP_SEV_INFO,
        "kube-proxy mode: ipvs (from the %zu IPVS virtual server(s) of ipvsadm -Ln; the input "
        "shows no iptables table with kube-proxy's chains, which would confirm it)",
        ctx->snap->ipvs.count);
    if (r == NULL || kp_result_add_str(r, "mode", "ipvs") != 0 ||
        kp_result_add_str(r, "evidence", "ipvsadm") != 0 || add_families(r, ctx) != 0)
      return -1;
    return report_notes(ctx);
  }
  struct kp_result *r = kp_report_add(ctx->report, KP_CHECK_MODE, KP_SEV_OK, "kube-proxy mode: %s",
                                      kp_mode_name(ctx->mode));
  if (r == NULL)
    return -1;
  int rc = ctx->mode == KP_MODE_NFTABLES ? kp_result_set_where(r, "kube-proxy", NULL)
                                         : kp_result_set_where(r, "nat", "KUBE-SERVICES");
  if (rc != 0 || kp_result_add_str(r, "mode", kp_mode_name(ctx->mode)) != 0 ||
      kp_result_add_str(r, "backend", kp_backend_name(ctx->backend)) != 0 ||
      add_families(r, ctx) != 0)
    return -1;
  return report_notes(ctx);
}
