/* `canary`: kube-proxy (iptables mode) keeps an empty KUBE-PROXY-CANARY in
 * mangle, nat and filter; it disappears only when something flushed or
 * replaced the table (firewalld reload, an `iptables -F`, a competing
 * agent). kube-proxy notices and resyncs, so this is a warning. The canary
 * exists only since kube-proxy v1.17 (kubernetes PR #81517, which added
 * it with kubelet's KUBE-KUBELET-CANARY): rules that show nothing of that
 * age, or tables the input shows only in part, are not judged. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_TABLES 8

/* Signs the rules are from v1.17 or later: kubelet's canary (same PR), or
 * chains of later releases (KUBE-EXT-/SVL- 1.24, KUBE-PROXY-FIREWALL 1.26). */
static bool canary_era(const struct kp_check_ctx *ctx) {
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (t->backend != ctx->backend || t->native_nft)
      continue;
    if (kp_chain_present(t, "KUBE-KUBELET-CANARY") != NULL ||
        kp_chain_present(t, "KUBE-PROXY-FIREWALL") != NULL)
      return true;
    for (size_t c = 0; c < t->chains.count; c++) {
      const struct kp_chain *chain = t->chains.items[c];
      if (kp_name_has_prefix(chain->name, "KUBE-EXT-") ||
          kp_name_has_prefix(chain->name, "KUBE-SVL-"))
        return true;
    }
  }
  return false;
}

/* iptables-save, -L, -S and a live read all show a table's built-in
 * chains; an input without any (kube-proxy's own restore input, which
 * never holds the canary) does not show every chain of the table. */
static bool shows_builtins(const struct kp_table *t) {
  for (size_t c = 0; c < t->chains.count; c++) {
    const struct kp_chain *chain = t->chains.items[c];
    if (chain->builtin && chain->declared)
      return true;
  }
  return false;
}

struct labels {
  char text[MAX_TABLES][64];
  const char *items[MAX_TABLES];
  size_t count;
  const char *first_table;
};

static void add_label(struct labels *l, const struct kp_table *t) {
  if (l->count >= MAX_TABLES)
    return;
  kp_table_label(t, l->text[l->count], sizeof(l->text[0]));
  l->items[l->count] = l->text[l->count];
  if (l->first_table == NULL)
    l->first_table = t->name;
  l->count++;
}

static void join(const struct labels *l, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < l->count && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", l->text[i]);
}

int kp_check_canary(struct kp_check_ctx *ctx) {
  if (ctx->mode != KP_MODE_IPTABLES)
    return 0;
  struct labels present = {0}, missing = {0}, unseen = {0};
  static const char *const names[] = {"mangle", "nat", "filter"};
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    for (size_t i = 0; i < 3; i++) {
      const struct kp_table *t = kp_ctx_table(ctx, (enum kp_family)f, names[i]);
      if (t == NULL)
        continue;
      if (strcmp(names[i], "mangle") != 0 && kp_ctx_kube(ctx, t)->kube_chains == 0)
        continue;
      if (kp_chain_exists(t, "KUBE-PROXY-CANARY") != NULL)
        add_label(&present, t);
      else
        add_label(t->partial || !shows_builtins(t) ? &unseen : &missing, t);
    }
  }
  struct kp_result *r = NULL;
  char list[256];
  bool era = canary_era(ctx);
  if (missing.count > 0 && era) {
    join(&missing, list, sizeof(list));
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_WARN,
                      "KUBE-PROXY-CANARY missing in %s (something flushed the tables; "
                      "kube-proxy will resync)",
                      list);
    if (r == NULL || kp_result_set_where(r, missing.first_table, "KUBE-PROXY-CANARY") != 0)
      return -1;
  } else if (missing.count > 0) {
    join(&missing, list, sizeof(list));
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_INFO,
                      "KUBE-PROXY-CANARY not in %s, but the rules show nothing of kube-proxy "
                      "v1.17 or later (older releases create no canary): not judged",
                      list);
  } else if (present.count > 0 && unseen.count == 0) {
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_OK,
                      "KUBE-PROXY-CANARY present in %zu table(s)", present.count);
  }
  if (r != NULL && (kp_result_add_list(r, "present", present.items, present.count) != 0 ||
                    kp_result_add_list(r, "missing", missing.items, missing.count) != 0))
    return -1;
  if (unseen.count > 0) {
    join(&unseen, list, sizeof(list));
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_INFO,
                      "KUBE-PROXY-CANARY not in the input for %s, which it shows only in part: "
                      "not judged",
                      list);
    if (r == NULL || kp_result_add_list(r, "not_in_input", unseen.items, unseen.count) != 0)
      return -1;
  }
  return 0;
}
