/* Builds snapshots in memory for tests (linked into every test binary).
 *
 * Table specs: "nat", "filter", "mangle" (IPv4, iptables-legacy); prefixes
 * "nft:", "unknown:", "legacy:" pick the backend and "ip6:" the family, in
 * that order: "nft:ip6:nat". Rules are iptables-save argument text, with an
 * optional "[packets:bytes] " counter prefix:
 *   tsb_rule(snap, "nat", "KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN");
 * Helpers abort() on any failure, so a broken fixture never passes silently. */
#ifndef TSB_SNAPSHOT_BUILDER_H
#define TSB_SNAPSHOT_BUILDER_H

#include "kp/checks.h"
#include "kp/model.h"

#include <stdbool.h>
#include <stdint.h>

struct kp_snapshot *tsb_new(void);
struct kp_table *tsb_table(struct kp_snapshot *snap, const char *spec);
/* Creates the chain (built-in chains get builtin=true, policy ACCEPT). */
struct kp_chain *tsb_chain(struct kp_snapshot *snap, const char *spec, const char *chain);
struct kp_rule *tsb_rule(struct kp_snapshot *snap, const char *spec, const char *chain,
                         const char *args);
void tsb_counters(struct kp_rule *rule, uint64_t packets, uint64_t bytes);
/* kp_rule_nat_text() into one of a few static buffers (two may be compared). */
const char *tsb_nat_text(const struct kp_rule *rule);
/* The chain's extension, made when missing (kp_chain_ext_mut); dies on OOM. */
struct kp_chain_ext *tsb_chain_ext(struct kp_snapshot *snap, struct kp_chain *chain);
/* The rule's extension, made when missing (kp_rule_ext_mut); dies on OOM. */
struct kp_rule_ext *tsb_ext(struct kp_snapshot *snap, struct kp_rule *rule);
/* Marks every rule of the snapshot as coming from a dump without counters. */
void tsb_strip_counters(struct kp_snapshot *snap);
/* Removes a chain's rule at index (the later ones move up). */
void tsb_delete_rule(struct kp_snapshot *snap, const char *spec, const char *chain, size_t index);
/* Removes the chain itself from its table (rules jumping to it stay). */
void tsb_delete_chain(struct kp_snapshot *snap, const char *spec, const char *chain);
void tsb_finalize(struct kp_snapshot *snap);

/* Native nftables (kube-proxy's own table, nftables mode). */
struct kp_table *tsb_nft_table(struct kp_snapshot *snap, enum kp_family family);
struct kp_chain *tsb_nft_chain(struct kp_snapshot *snap, struct kp_table *t, const char *name,
                               const char *hook);
/* "jump" / "goto" rule to chain `to`. */
struct kp_rule *tsb_nft_jump(struct kp_snapshot *snap, struct kp_table *t, const char *from,
                             const char *to, bool is_goto);
struct kp_rule *tsb_nft_rule(struct kp_snapshot *snap, struct kp_table *t, const char *chain,
                             enum kp_target_kind target);
/* A map element; verdict "goto"/"jump"/"drop", chain may be NULL. */
struct kp_set_elem *tsb_nft_elem(struct kp_snapshot *snap, struct kp_table *t, const char *set,
                                 const char *key, const char *verdict, const char *chain,
                                 const char *comment);

/* Healthy nodes (not finalized; call tsb_finalize after changes):
 * iptables mode: mangle/nat/filter, canaries, jumps, mark 0x4000, services
 * ns1/svc1:p80 -> 10.0.0.10:8080 and ns2/svc2:p80 -> 10.0.0.100:8080, NodePort
 * chain empty, counters on PREROUTING [10], OUTPUT [18], KUBE-SERVICES rules
 * [3] (svc1) and [6] (nodeports). prefix: "" or e.g. "nft:" for the backend. */
void tsb_ipt_healthy(struct kp_snapshot *snap, const char *prefix);
/* nftables mode table "kube-proxy": svc1 with endpoint 10.0.0.10, mark 0x4000. */
struct kp_table *tsb_nft_healthy(struct kp_snapshot *snap, enum kp_family family);
/* IPVS mode nat/filter (no KUBE-SVC, no KUBE-NODEPORTS). */
void tsb_ipvs_healthy(struct kp_snapshot *snap);

/* Runs all checks with a default config (pod IPs may be NULL-terminated
 * list) into rep; aborts on error. state may be NULL. */
void tsb_run(const struct kp_snapshot *snap, const char *const *pod_ips,
             struct kp_check_state *state, struct kp_report *rep);
/* tsb_finalize + tsb_run with a default config: the report of every check. */
struct kp_report tsb_check(struct kp_snapshot *snap, const char *const *pod_ips);
/* First result of a check (NULL when none). */
const struct kp_result *tsb_result(const struct kp_report *rep, enum kp_check_id id);
size_t tsb_count(const struct kp_report *rep, enum kp_check_id id);
const struct kp_detail *tsb_detail(const struct kp_result *r, const char *key);
/* True when the list detail holds item. */
bool tsb_list_has(const struct kp_result *r, const char *key, const char *item);
/* Prints the report (for failing tests). */
void tsb_dump(const struct kp_report *rep);

#endif
