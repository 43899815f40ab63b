/* `canary`: kube-proxy (iptables mode) keeps an empty KUBE-PROXY-CANARY in
 * mangle, nat and filter; it disappears only when something flushed or
 * replaced the table (firewalld reload, an `iptables -F`, a competing
 * agent). kube-proxy notices and resyncs, so this is a warning. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

int kp_check_canary(struct kp_check_ctx *ctx) {
  if (ctx->mode != KP_MODE_IPTABLES)
    return 0;
  char present[8][64], missing[8][64];
  const char *present_items[8], *missing_items[8];
  size_t n_present = 0, n_missing = 0;
  const char *first_missing = NULL;
  static const char *const names[] = {"mangle", "nat", "filter"};
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    if (!ctx->families[f])
      continue;
    for (size_t i = 0; i < 3; i++) {
      const struct kp_table *t = kp_ctx_table(ctx, (enum kp_family)f, names[i]);
      if (t == NULL)
        continue;
      if (strcmp(names[i], "mangle") != 0) {
        if (kp_ctx_kube(ctx, t)->kube_chains == 0)
          continue;
      }
      bool ok = kp_chain_present(t, "KUBE-PROXY-CANARY") != NULL;
      if (ok && n_present < 8) {
        kp_table_label(t, present[n_present], sizeof(present[0]));
        present_items[n_present] = present[n_present];
        n_present++;
      } else if (!ok && n_missing < 8) {
        kp_table_label(t, missing[n_missing], sizeof(missing[0]));
        missing_items[n_missing] = missing[n_missing];
        if (first_missing == NULL)
          first_missing = t->name;
        n_missing++;
      }
    }
  }
  struct kp_result *r;
  if (n_missing > 0) {
    char list[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < n_missing && off < sizeof(list); i++)
      off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", missing[i]);
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_WARN,
                      "KUBE-PROXY-CANARY missing in %s (something flushed the tables; "
                      "kube-proxy will resync)",
                      list);
    if (r == NULL || kp_result_set_where(r, first_missing, "KUBE-PROXY-CANARY") != 0)
      return -1;
  } else if (n_present > 0) {
    r = kp_report_add(ctx->report, KP_CHECK_CANARY, KP_SEV_OK,
                      "KUBE-PROXY-CANARY present in %zu table(s)", n_present);
  } else {
    return 0;
  }
  if (r == NULL || kp_result_add_list(r, "present", present_items, n_present) != 0 ||
      kp_result_add_list(r, "missing", missing_items, n_missing) != 0)
    return -1;
  return 0;
}
