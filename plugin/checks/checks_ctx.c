/* Context helpers the checks share: which table of the input holds
 * kube-proxy's rules, chain presence, labels for messages. */
#include "checks_internal.h"

#include <stdio.h>
#include <string.h>

const struct kp_table *kp_ctx_table(const struct kp_check_ctx *ctx, enum kp_family family,
                                    const char *name) {
  const struct kp_table *any = NULL;
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (t->family != family || t->native_nft || strcmp(t->name, name) != 0)
      continue;
    if (t->backend == ctx->backend)
      return t;
    if (any == NULL)
      any = t;
  }
  return any;
}

const struct kp_table *kp_ctx_nft_table(const struct kp_check_ctx *ctx, enum kp_family family) {
  for (size_t i = 0; i < ctx->snap->tables.count; i++) {
    const struct kp_table *t = ctx->snap->tables.items[i];
    if (t->family == family && t->native_nft && strcmp(t->name, "kube-proxy") == 0)
      return t;
  }
  return NULL;
}

const struct kp_table_kube *kp_ctx_kube(const struct kp_check_ctx *ctx,
                                        const struct kp_table *table) {
  static const struct kp_table_kube none;
  for (size_t i = 0; i < ctx->snap->tables.count; i++)
    if (ctx->snap->tables.items[i] == table)
      return &ctx->kube[i];
  return &none;
}

const struct kp_chain *kp_chain_present(const struct kp_table *table, const char *name) {
  if (table == NULL)
    return NULL;
  const struct kp_chain *chain = kp_table_chain(table, name);
  return chain != NULL && chain->declared ? chain : NULL;
}

const struct kp_chain *kp_chain_exists(const struct kp_table *table, const char *name) {
  if (table == NULL)
    return NULL;
  const struct kp_chain *chain = kp_table_chain(table, name);
  if (chain == NULL)
    return NULL;
  /* A whole table (a complete save, a live read) declares every chain it
   * has: there a jump to an undeclared one is the input contradicting
   * itself (a restore input), not proof. */
  bool jumped = chain->referrers.count > 0 || chain->set_referrers > 0;
  return chain->declared || (jumped && table->partial) ? chain : NULL;
}

bool kp_ctx_partial(const struct kp_check_ctx *ctx) {
  for (size_t i = 0; i < ctx->snap->tables.count; i++)
    if (((const struct kp_table *)ctx->snap->tables.items[i])->partial)
      return true;
  return false;
}

bool kp_ctx_live(const struct kp_check_ctx *ctx) {
  for (size_t i = 0; i < ctx->snap->sources.count; i++)
    if (strcmp(ctx->snap->sources.items[i], "kernel") == 0)
      return true;
  return false;
}

const struct kp_note *kp_ctx_unseen_legacy_note(const struct kp_check_ctx *ctx) {
  const struct kp_snapshot *snap = ctx->snap;
  for (size_t i = 0; i < snap->tables.count; i++)
    if (((const struct kp_table *)snap->tables.items[i])->backend == KP_BACKEND_LEGACY)
      return NULL;
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *note = snap->notes.items[i];
    if (note->kind == KP_NOTE_OTHER_BACKEND)
      return note;
  }
  return NULL;
}

const char *kp_ctx_kube_tables_unseen(const struct kp_check_ctx *ctx) {
  const struct kp_snapshot *snap = ctx->snap;
  if (snap->sources.count == 0 || kp_ctx_unseen_legacy_note(ctx) != NULL)
    return NULL; /* (the legacy note says more: the rules are probably there) */
  if (kp_ctx_live(ctx))
    return NULL; /* a live read shows every table the node has */
  if (snap->tables.count == 0)
    return "no iptables or nft table";
  const char *shown = NULL;
  bool canary = false;
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    if (t->native_nft ? strcmp(t->name, "kube-proxy") == 0
                      : strcmp(t->name, "nat") == 0 || strcmp(t->name, "filter") == 0)
      return NULL;
    canary |= kp_chain_present(t, "KUBE-PROXY-CANARY") != NULL;
    shown = shown == NULL || strcmp(shown, t->name) == 0 ? t->name : "other tables";
  }
  return canary ? shown : NULL;
}

void kp_table_label(const struct kp_table *table, char *buf, size_t len) {
  if (table->native_nft)
    snprintf(buf, len, "%s %s", table->family == KP_FAMILY_IPV6 ? "ip6" : "ip", table->name);
  else if (table->family == KP_FAMILY_IPV6)
    snprintf(buf, len, "ip6 %s", table->name);
  else
    snprintf(buf, len, "%s", table->name);
}
