/* Private to the checks folder. Files call downwards only (`make layers`
 * verifies it):
 *   checks_run.c         the runner: facts once, then each enabled check
 *   check_*.c            one check each; they read the facts in the context
 *   checks_detect.c, checks_inventory.c, checks_no_endpoints.c,
 *   checks_service_rules.c   the facts (mode, counts, lists, activity)
 *   checks_ctx.c, checks_names.c, checks_result.c, checks_strlist.c,
 *   checks_config.c      helpers that call nothing above them. */
#ifndef KP_CHECKS_INTERNAL_H
#define KP_CHECKS_INTERNAL_H

#include "kp/checks.h"

#include <stdbool.h>
#include <stddef.h>

/* Lists in details are capped so one result stays readable. */
#define KP_DETAIL_LIST_MAX 20

/* What one table holds of kube-proxy's rules (computed once per run). */
struct kp_table_kube {
  bool ipt_evidence;  /* iptables-mode chains (KUBE-SERVICES in nat, SVC/SEP/...) */
  bool ipvs_evidence; /* KUBE-NODE-PORT, KUBE-LOAD-BALANCER, match-set KUBE-CLUSTER-IP */
  bool nft_evidence;  /* native nft table "kube-proxy" with chains */
  size_t svc_chains;  /* KUBE-SVC/SVL/EXT/SEP/FW/XLB */
  size_t kube_chains; /* kube-proxy's chains (not kubelet's, not canaries) */
  size_t kube_rules;  /* rules in them */
};

/* A growable list of borrowed strings with optional de-duplication. */
struct kp_strlist {
  const char **items;
  size_t count, capacity;
  /* open-addressing hash of item indexes + 1, used by kp_strlist_add_unique */
  size_t *slots;
  size_t n_slots;
};
void kp_strlist_free(struct kp_strlist *list);
int kp_strlist_add(struct kp_strlist *list, const char *item);
/* Adds when not present yet; the string is borrowed (must outlive list). */
int kp_strlist_add_unique(struct kp_strlist *list, const char *item);

/* Services without endpoints as the rules of one family show them.
 * Names are "ns/svc:port" from comments, else "<ip>:<port>/<proto>";
 * strings are allocated in the arena. */
struct kp_no_endpoints {
  struct kp_strlist none;  /* no endpoints at all (REJECT / goto reject-chain) */
  struct kp_strlist local; /* no local endpoints (DROP / drop) */
  struct kp_arena arena;   /* owns the name strings */
  bool filter_seen;        /* iptables mode: a filter table was in the input */
  bool filter_partial;     /* ... shown only in part */
};

struct kp_check_ctx {
  const struct kp_snapshot *snap;
  const struct kp_check_config *cfg;
  struct kp_check_state *state; /* NULL offline */
  struct kp_report *report;
  /* Facts, computed once by the runner before any check: */
  enum kp_mode mode;
  enum kp_backend backend;
  bool families[KP_FAMILY_COUNT]; /* families holding kube-proxy rules */
  bool ipvsadm_only;              /* IPVS mode from ipvsadm -Ln, no table shows it */
  struct kp_table_kube *kube;     /* per snap->tables index */
  struct kp_no_endpoints no_endpoints[KP_FAMILY_COUNT];
  const struct kp_rule *service_sample; /* the service rule with most packets */
};

/* ---- helpers (checks_ctx.c) ---- */
/* The table holding kube-proxy's rules for this family and name: the one of
 * ctx->backend, else any backend (first seen). NULL when not in the input. */
const struct kp_table *kp_ctx_table(const struct kp_check_ctx *ctx, enum kp_family family,
                                    const char *name);
/* The native nft "kube-proxy" table of a family, NULL when absent. */
const struct kp_table *kp_ctx_nft_table(const struct kp_check_ctx *ctx, enum kp_family family);
/* The runner's kube-proxy figures for a table of ctx->snap (all zero for
 * any other table). */
const struct kp_table_kube *kp_ctx_kube(const struct kp_check_ctx *ctx,
                                        const struct kp_table *table);
/* A chain that really exists (declared, not just named by a dangling jump). */
const struct kp_chain *kp_chain_present(const struct kp_table *table, const char *name);
/* A chain the node has: declared, or, in a table the input shows only in
 * part, jumped to (the kernel refuses a jump to a missing chain), though
 * its rules are not in the input. */
const struct kp_chain *kp_chain_exists(const struct kp_table *table, const char *name);
/* Some table of the input is shown only in part (a fragment, cut short). */
bool kp_ctx_partial(const struct kp_check_ctx *ctx);
/* The snapshot comes from a live read ("kernel" among its sources). */
bool kp_ctx_live(const struct kp_check_ctx *ctx);
/* The first "iptables-legacy tables present" note (iptables-nft's own
 * warning in a dump), when the input shows no legacy table itself (a
 * bundle with iptables-legacy-save too covers it). NULL otherwise. */
const struct kp_note *kp_ctx_unseen_legacy_note(const struct kp_check_ctx *ctx);
/* Saved files (no live read) without the tables kube-proxy writes its
 * rules to (nat, filter, nft kube-proxy), where that says nothing of the
 * node: no netfilter table at all (an ipvsadm listing alone), or only
 * tables such as mangle that hold kube-proxy's canary. Then what the
 * input shows ("mangle", "no iptables or nft table"), else NULL. */
const char *kp_ctx_kube_tables_unseen(const struct kp_check_ctx *ctx);
/* Table label for messages: "nat", "ip6 nat" (IPv6), "ip kube-proxy". */
void kp_table_label(const struct kp_table *table, char *buf, size_t len);

/* ---- name predicates (checks_names.c) ---- */
bool kp_name_has_prefix(const char *name, const char *prefix);
/* Chains only kubelet creates (or creates too): never evidence of kube-proxy. */
bool kp_is_kubelet_chain(const char *name);
extern const char *const kp_kubelet_chains[];
extern const size_t kp_n_kubelet_chains;
/* KUBE-SVC-/SVL-/EXT-/SEP-/FW-/XLB- */
bool kp_is_service_chain_name(const char *name);
/* nftables mode per-service chains: "<prefix><hash>-ns/svc/proto/port";
 * the slash tells them from fixed chains such as service-endpoints-check. */
bool kp_is_nft_svc_chain(const char *name, const char *prefix);
void kp_table_kube_stats(const struct kp_table *table, struct kp_table_kube *out);

/* ---- results (checks_result.c) ---- */
/* Adds a list detail holding at most KP_DETAIL_LIST_MAX items, plus
 * "<key>_total" when the list was cut. */
int kp_result_add_capped_list(struct kp_result *result, const char *key, const char *const *items,
                              size_t n_items);

/* ---- facts (one file each; only the runner calls them) ---- */
/* Fills ctx->mode/backend/families from ctx->kube (checks_detect.c). */
void kp_ctx_detect(struct kp_check_ctx *ctx);
/* Fills ctx->no_endpoints[] (checks_no_endpoints.c). 0 / -1 OOM. */
int kp_no_endpoints_collect(struct kp_check_ctx *ctx);
void kp_no_endpoints_free(struct kp_no_endpoints *ne);
/* The service rules' figures into inv and ctx->service_sample; live, the
 * packets since the last read, carried in ctx->state
 * (checks_service_rules.c). 0 / -1 OOM. */
int kp_service_rules_compute(struct kp_check_ctx *ctx, struct kp_inventory *inv);
/* Counts and key-chain traffic into inv (checks_inventory.c). */
void kp_inventory_fill(const struct kp_check_ctx *ctx, struct kp_inventory *inv);

/* ---- the checks, one file each; each returns 0, or -1 on OOM ---- */
int kp_check_mode(struct kp_check_ctx *ctx);
int kp_check_chains(struct kp_check_ctx *ctx);
int kp_check_hooks(struct kp_check_ctx *ctx);
int kp_check_activity(struct kp_check_ctx *ctx);
int kp_check_masquerade(struct kp_check_ctx *ctx);
int kp_check_pod_rules(struct kp_check_ctx *ctx);
int kp_check_endpoints(struct kp_check_ctx *ctx);
int kp_check_stale(struct kp_check_ctx *ctx);
int kp_check_backends(struct kp_check_ctx *ctx);
int kp_check_canary(struct kp_check_ctx *ctx);
int kp_check_process(struct kp_check_ctx *ctx);
int kp_check_sync(struct kp_check_ctx *ctx);

/* IPVS mode, from ipvsadm -Ln (check_ipvs.c): `endpoints` (virtual servers
 * without real servers) and `pod-rules` for one pod IP; INFO naming
 * ipvsadm -Ln when the input has none. 0, or -1 on OOM. */
int kp_ipvs_check_endpoints(struct kp_check_ctx *ctx);
int kp_ipvs_check_pod_ip(struct kp_check_ctx *ctx, const struct kp_addr *ip, const char *text);

#endif
