/* The no-endpoint collector: services whose rules say they have no
 * endpoints (filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES REJECT, "<svc>
 * has no endpoints") or no local endpoints (DROP, "has no local
 * endpoints"); nftables mode: elements of no-endpoint-services /
 * no-endpoint-nodeports (goto reject-chain = none, drop = no local ones).
 * Names come from comments, or from the rule's address when the listing
 * hides comments (nft list). One list per family, computed once per run. */
#include "checks_internal.h"

#include "kp/names.h"

#include <stdio.h>
#include <string.h>

static const char *suffix_none = " has no endpoints";
static const char *suffix_local = " has no local endpoints";

/* "ns/svc:port has no endpoints" -> "ns/svc:port" */
static const char *name_from_comment(struct kp_arena *a, const char *comment, const char *suffix) {
  const char *p = strstr(comment, suffix);
  if (p == NULL || p == comment)
    return NULL;
  return kp_arena_strndup(a, comment, (size_t)(p - comment));
}

static const char *name_from_rule(struct kp_arena *a, const struct kp_rule *rule) {
  char addr[64], buf[128];
  kp_addr_format(&rule->dst, addr, sizeof(addr));
  const char *proto = "any";
  char pbuf[8];
  if (rule->proto_present) {
    proto = kp_proto_name(rule->proto);
    if (proto == NULL) {
      snprintf(pbuf, sizeof(pbuf), "%u", rule->proto);
      proto = pbuf;
    }
  }
  if (rule->dst.kind == KP_ADDR_ANY && kp_rule_ext(rule)->dst_type != NULL)
    snprintf(addr, sizeof(addr), "%s",
             kp_rule_ext(rule)->dst_type); /* NodePort: --dst-type LOCAL */
  if (rule->dport.present)
    snprintf(buf, sizeof(buf), "%s:%u/%s", addr, rule->dport.lo, proto);
  else
    snprintf(buf, sizeof(buf), "%s/%s", addr, proto);
  return kp_arena_strdup(a, buf);
}

static int add(struct kp_no_endpoints *out, bool local, const char *name) {
  if (name == NULL)
    return -1;
  return kp_strlist_add_unique(local ? &out->local : &out->none, name);
}

static int scan_ipt_chain(const struct kp_chain *chain, struct kp_no_endpoints *out) {
  for (size_t i = 0; i < chain->rules.count; i++) {
    const struct kp_rule *rule = chain->rules.items[i];
    bool local;
    if (rule->target == KP_TARGET_REJECT)
      local = false;
    else if (rule->target == KP_TARGET_DROP)
      local = true;
    else
      continue;
    const char *name = NULL;
    if (rule->comment != NULL)
      name = name_from_comment(&out->arena, rule->comment, local ? suffix_local : suffix_none);
    if (name == NULL && rule->comment != NULL && !local)
      name = name_from_comment(&out->arena, rule->comment, suffix_local);
    if (name == NULL) {
      /* a DROP with another comment is not kube-proxy's no-endpoint rule */
      if (rule->comment != NULL && strstr(rule->comment, "endpoints") == NULL)
        continue;
      name = name_from_rule(&out->arena, rule);
    }
    if (add(out, local, name) != 0)
      return -1;
  }
  return 0;
}

static int scan_nft_map(const struct kp_set *set, struct kp_no_endpoints *out) {
  for (size_t i = 0; i < set->elems.count; i++) {
    const struct kp_set_elem *e = set->elems.items[i];
    if (e->verdict == NULL)
      continue;
    bool local = strcmp(e->verdict, "drop") == 0;
    if (!local && !(e->chain != NULL && strcmp(e->chain, "reject-chain") == 0))
      continue;
    const char *name = e->comment != NULL ? e->comment : e->key;
    if (name == NULL || add(out, local, name) != 0)
      return -1;
  }
  return 0;
}

static int collect_family(const struct kp_check_ctx *ctx, enum kp_family f,
                          struct kp_no_endpoints *out) {
  if (ctx->mode == KP_MODE_NFTABLES) {
    const struct kp_table *t = kp_ctx_nft_table(ctx, f);
    if (t == NULL)
      return 0;
    out->filter_seen = true;
    static const char *const maps[] = {"no-endpoint-services", "no-endpoint-nodeports"};
    for (size_t m = 0; m < 2; m++) {
      const struct kp_set *set = kp_table_set(t, maps[m]);
      if (set != NULL && scan_nft_map(set, out) != 0)
        return -1;
    }
    return 0;
  }
  const struct kp_table *t = kp_ctx_table(ctx, f, "filter");
  if (t == NULL)
    return 0;
  out->filter_seen = true;
  out->filter_partial |= t->partial;
  static const char *const chains[] = {"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"};
  for (size_t c = 0; c < 2; c++) {
    const struct kp_chain *chain = kp_chain_present(t, chains[c]);
    if (chain != NULL && scan_ipt_chain(chain, out) != 0)
      return -1;
  }
  return 0;
}

int kp_no_endpoints_collect(struct kp_check_ctx *ctx) {
  for (int f = 0; f < KP_FAMILY_COUNT; f++) {
    struct kp_no_endpoints *out = &ctx->no_endpoints[f];
    memset(out, 0, sizeof(*out));
    kp_arena_init(&out->arena);
    /* IPVS mode keeps them in IPVS, not in the rules */
    if (!ctx->families[f] || (ctx->mode != KP_MODE_IPTABLES && ctx->mode != KP_MODE_NFTABLES))
      continue;
    if (collect_family(ctx, (enum kp_family)f, out) != 0)
      return -1;
  }
  return 0;
}

void kp_no_endpoints_free(struct kp_no_endpoints *ne) {
  kp_strlist_free(&ne->none);
  kp_strlist_free(&ne->local);
  kp_arena_free(&ne->arena);
}
