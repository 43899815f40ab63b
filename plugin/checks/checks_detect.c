/* Mode detection (iptables, ipvs, nftables, none) and the backend holding
 * kube-proxy's rules, from the runner's per-table figures; without
 * kube-proxy rules in any table, the virtual servers of ipvsadm -Ln. */
#include "checks_internal.h"

#include <string.h>

/* kubelet's marker that iptables-wrapper looks for in a backend's mangle table. */
static bool wrapper_hint(const struct kp_snapshot *snap, enum kp_backend backend) {
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (kp_snapshot_chain(snap, (enum kp_family)f, backend, "mangle", "KUBE-IPTABLES-HINT") ||
        kp_snapshot_chain(snap, (enum kp_family)f, backend, "mangle", "KUBE-KUBELET-CANARY"))
      return true;
  return false;
}

/* An input of ipvsadm -Ln alone (no table with kube-proxy's rules): its
 * virtual servers are IPVS mode's evidence; the families are those of their
 * addresses (IPv4 when only firewall-mark services say none). The backend
 * stays unknown: no table shows it. */
static void detect_from_ipvsadm(struct kp_check_ctx *ctx) {
  const struct kp_ptrvec *services = &ctx->snap->ipvs;
  if (services->count == 0)
    return;
  ctx->mode = KP_MODE_IPVS;
  ctx->ipvsadm_only = true;
  bool any = false;
  for (size_t i = 0; i < services->count; i++) {
    const struct kp_ipvs_service *svc = services->items[i];
    if (svc->addr.kind == KP_ADDR_IPV4 || svc->addr.kind == KP_ADDR_IPV6) {
      ctx->families[svc->addr.kind == KP_ADDR_IPV6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4] = true;
      any = true;
    }
  }
  if (!any)
    ctx->families[KP_FAMILY_IPV4] = true;
}

struct backend_tally {
  bool ipt, ipvs;
  size_t svc_chains, rules, chains;
};

void kp_ctx_detect(struct kp_check_ctx *ctx) {
  const struct kp_snapshot *snap = ctx->snap;
  ctx->mode = KP_MODE_NONE;
  ctx->backend = KP_BACKEND_UNKNOWN;
  ctx->ipvsadm_only = false;
  memset(ctx->families, 0, sizeof(ctx->families));

  struct backend_tally tally[KP_BACKEND_COUNT];
  memset(tally, 0, sizeof(tally));
  bool nft_mode = false;
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    struct kp_table_kube k = *kp_ctx_kube(ctx, t);
    if (k.nft_evidence) {
      nft_mode = true;
      ctx->families[t->family] = true;
      continue;
    }
    if (!k.ipt_evidence && !k.ipvs_evidence)
      continue;
    struct backend_tally *b = &tally[t->backend < KP_BACKEND_COUNT ? t->backend : 0];
    b->ipt |= k.ipt_evidence;
    b->ipvs |= k.ipvs_evidence;
    b->svc_chains += k.svc_chains;
    b->rules += k.kube_rules;
    b->chains += k.kube_chains;
  }
  if (nft_mode) {
    ctx->mode = KP_MODE_NFTABLES;
    ctx->backend = KP_BACKEND_NFT;
    return;
  }

  /* As kube-proxy's iptables-wrapper chooses: the backend whose mangle
   * table holds kubelet's KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY (nft
   * first), when kube-proxy's rules are there; else the backend with the
   * most kube-proxy rules, a known backend winning a tie. */
  int best = -1;
  static const enum kp_backend hint_order[] = {KP_BACKEND_NFT, KP_BACKEND_LEGACY};
  for (size_t h = 0; h < 2 && best < 0; h++) {
    enum kp_backend b = hint_order[h];
    if ((tally[b].ipt || tally[b].ipvs) && wrapper_hint(snap, b))
      best = (int)b;
  }
  bool hinted = best >= 0;
  for (int b = KP_BACKEND_COUNT - 1; b >= 0 && !hinted; b--) {
    if (!tally[b].ipt && !tally[b].ipvs)
      continue;
    if (best < 0 || tally[b].rules + tally[b].chains > tally[best].rules + tally[best].chains)
      best = b;
  }
  if (best < 0) {
    detect_from_ipvsadm(ctx);
    return;
  }
  ctx->backend = (enum kp_backend)best;
  if (tally[best].ipvs && tally[best].svc_chains == 0)
    ctx->mode = KP_MODE_IPVS;
  else
    ctx->mode = KP_MODE_IPTABLES;
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    if (t->backend != ctx->backend || t->native_nft)
      continue;
    const struct kp_table_kube *k = kp_ctx_kube(ctx, t);
    if (k->ipt_evidence || k->ipvs_evidence)
      ctx->families[t->family] = true;
  }
}
