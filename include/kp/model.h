/* The ruleset snapshot: every source (libiptc, libnftnl, text dumps) fills
 * one of these, and the checks read nothing else. All memory lives in the
 * snapshot's arena; kp_snapshot_free() releases everything at once.
 *
 * Life cycle: kp_snapshot_new() -> sources add tables/chains/rules ->
 * kp_snapshot_finalize() (resolves jumps, builds the indexes) -> checks. */
#ifndef KP_MODEL_H
#define KP_MODEL_H

#include "kp/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kp_family { KP_FAMILY_IPV4 = 0, KP_FAMILY_IPV6 = 1, KP_FAMILY_COUNT };

enum kp_backend {
  KP_BACKEND_UNKNOWN = 0, /* a text dump that does not say (iptables -L) */
  KP_BACKEND_LEGACY,      /* iptables-legacy: libiptc, x_tables */
  KP_BACKEND_NFT,         /* nf_tables: iptables-nft or native nft tables */
  KP_BACKEND_COUNT
};

const char *kp_family_name(enum kp_family family);    /* "ipv4" / "ipv6" */
const char *kp_backend_name(enum kp_backend backend); /* "unknown", "legacy", "nft" */

/* An address match or NAT address. family 0 means "not matched" (any). */
enum kp_addr_kind {
  KP_ADDR_ANY = 0, /* no match on this field (0.0.0.0/0, ::/0, "anywhere") */
  KP_ADDR_IPV4 = 4,
  KP_ADDR_IPV6 = 6,
  KP_ADDR_NAME = 255 /* an unresolved host name printed by `iptables -L` without -n */
};

/* 19 bytes, byte-aligned: a rule holds three (source, destination, NAT).
 * A KP_ADDR_NAME keeps its name's pointer in bytes (kp_addr_name()). */
struct kp_addr {
  uint8_t kind;       /* enum kp_addr_kind */
  uint8_t prefix_len; /* 32/128 for a host */
  bool negated;       /* "! -s 10.0.0.0/8", "ip saddr != ..." */
  uint8_t bytes[16];  /* network byte order; 4 used for IPv4 */
};

/* The host name of a KP_ADDR_NAME (NULL for any other kind, or when the
 * parse kept no copy). */
static inline const char *kp_addr_name(const struct kp_addr *addr) {
  const char *name = NULL;
  if (addr->kind == KP_ADDR_NAME)
    __builtin_memcpy(&name, addr->bytes, sizeof(name));
  return name;
}
static inline void kp_addr_set_name(struct kp_addr *addr, const char *name) {
  addr->kind = KP_ADDR_NAME;
  __builtin_memcpy(addr->bytes, &name, sizeof(name));
}

/* Parses "10.0.0.1", "10.0.0.0/8", "fd00::/64", "0.0.0.0/0" (-> ANY),
 * "anywhere" (-> ANY) or a host name (-> NAME, name copied into arena when
 * arena is not NULL, else not kept). A leading '!' sets negated.
 * Returns 0, or -1 when the text is empty. */
int kp_addr_parse(struct kp_arena *arena, const char *text, struct kp_addr *out);
/* "10.0.0.0/8" (prefix omitted for hosts), "!" prefix when negated. */
void kp_addr_format(const struct kp_addr *addr, char *buf, size_t len);
/* True when both are the same single host address (exact, not a prefix match). */
bool kp_addr_same_host(const struct kp_addr *a, const struct kp_addr *b);
bool kp_addr_is_host(const struct kp_addr *addr);
/* kube-proxy's metricsBindAddress / healthzBindAddress as something we can
 * ask: a literal "IPv4:port" or "[IPv6]:port", port 1-65535 (no name is
 * resolved: a read must not wait on DNS). The config keys and the live
 * probe share it. Fills addr (a host) and port; 0, or -1. */
int kp_endpoint_parse(const char *text, struct kp_addr *addr, uint16_t *port);

struct kp_port_range {
  bool present;
  bool negated;
  uint16_t lo, hi; /* hi == lo for a single port */
};

struct kp_mark_match {
  bool present;
  bool negated;
  uint32_t value, mask; /* matches when (mark & mask) == value */
};

struct kp_counters {
  bool present;     /* false: the dump had no counters (-L without -v, save without -c) */
  uint64_t packets; /* value; for "2675K" this is 2675000 (approximate) */
  uint64_t bytes;
};

/* A rule's counters: the same fields, packed (17 bytes, no padding after
 * present) so that the record has none either. Take copies
 * (kp_rule_counters), not addresses of its fields. */
struct __attribute__((packed)) kp_rule_counters {
  bool present;
  uint64_t packets;
  uint64_t bytes;
};

/* Counters as a dump shows them ("2675K"); NULL when exact. */
struct kp_counter_texts {
  const char *packets;
  const char *bytes;
};

enum kp_target_kind {
  KP_TARGET_NONE = 0, /* no target: the rule only counts (KUBE-FW-* last rule) */
  KP_TARGET_ACCEPT,
  KP_TARGET_DROP,
  KP_TARGET_RETURN,
  KP_TARGET_REJECT,
  KP_TARGET_JUMP, /* to a user chain; target_name is the chain */
  KP_TARGET_GOTO, /* iptables -g / nft goto */
  KP_TARGET_DNAT,
  KP_TARGET_SNAT,
  KP_TARGET_MASQUERADE,
  KP_TARGET_MARK, /* MARK target / nft "meta mark set" */
  KP_TARGET_OTHER /* any other named target (LOG, CONNMARK, ...); finalize turns
                     it into JUMP when a chain of that name exists in the table,
                     the name starts with KUBE- or has lower-case letters */
};

struct kp_snapshot;

/* What only some rules have: what only text dumps write (counter texts,
 * the rule as written, file and line, ipset matches, reject-with, nft
 * verdict maps) and the matches and targets few kube-proxy rules use
 * (interfaces, addrtype, ctstate, mark, source port, MARK). Allocated the
 * first time a parser sets one of them (kp_rule_ext_mut); read through
 * kp_rule_ext(), which gives kp_rule_ext_none (every field absent) for a
 * rule without one. */
struct kp_rule_ext {
  struct kp_counter_texts counter_texts;
  const char *in_iface, *out_iface; /* a leading "!" means negated */
  const char *src_type;             /* addrtype --src-type / fib saddr type */
  const char *dst_type;
  const char *ctstate;   /* "NEW", "RELATED,ESTABLISHED"; a leading "!" means negated */
  const char *match_set; /* ipset name (IPVS mode) */
  const char *match_set_flags;
  const char *nat_text; /* "10.180.0.1:80" as written; see kp_rule_nat_text() */
  const char *reject_with;
  /* nft verdict maps: chains reached through "vmap { ... : goto X }" or
   * "numgen ... vmap", and the named map used ("@service-ips"), if any. */
  const char **vmap_chains;
  size_t n_vmap_chains;
  const char *vmap_set;
  const char *text;   /* the rule as the source wrote it, for display */
  const char *source; /* file name; NULL: the table's (kp_rule_source()) */
  size_t line;        /* 1-based line in source, 0 for live sources */
  struct kp_mark_match mark;
  uint32_t xmark_value, xmark_mask; /* MARK normalised to xmark: new = (old & ~mask) ^ value */
  struct kp_port_range sport;
  bool src_type_negated, dst_type_negated;
  bool match_set_negated;
  bool mark_target;
};

/* One per rule (110k at 10k services in a live read), so only what most
 * live rules have is here, grouped by size without padding holes; the
 * rest is in ext. sizeof is pinned by test_model (rule_record_size). */
struct kp_rule {
  struct kp_chain *chain;
  struct kp_rule_ext *ext; /* NULL: every field of kp_rule_ext absent */
  const char *comment;     /* -m comment / nft comment / rule userdata */
  const char *target_name; /* as printed: "KUBE-SVC-...", "DNAT", "MARK", "LOG" */
  const char *probability; /* statistic --probability, as text */
  struct kp_rule_counters counters;
  struct kp_addr src, dst;
  struct kp_addr nat_addr; /* DNAT/SNAT --to-destination / nft "dnat to" */
  bool proto_present, proto_negated;
  uint8_t proto;        /* IPPROTO_* number */
  uint8_t target;       /* enum kp_target_kind */
  bool random_fully;    /* MASQUERADE --random-fully / fully-random */
  bool nat_text_format; /* nat_text is kp_addr + ports formatted (live sources) */
  uint32_t index;       /* position in the chain, 0-based */
  struct kp_port_range dport;
  struct kp_port_range nat_ports;
};

extern const struct kp_rule_ext kp_rule_ext_none;

static inline struct kp_counters kp_rule_counters(const struct kp_rule *rule) {
  return (struct kp_counters){rule->counters.present, rule->counters.packets, rule->counters.bytes};
}
static inline void kp_rule_set_counters(struct kp_rule *rule, const struct kp_counters *c) {
  rule->counters.present = c->present;
  rule->counters.packets = c->packets;
  rule->counters.bytes = c->bytes;
}

static inline const struct kp_rule_ext *kp_rule_ext(const struct kp_rule *rule) {
  return rule->ext != NULL ? rule->ext : &kp_rule_ext_none;
}
/* The rule's extension, allocated (zeroed) in snap's arena when it has
 * none. NULL on OOM. */
struct kp_rule_ext *kp_rule_ext_mut(struct kp_snapshot *snap, struct kp_rule *rule);
/* The file the rule came from: its own when a dump parser set one, else
 * its table's ("kernel" for live reads). */
const char *kp_rule_source(const struct kp_rule *rule);
/* The NAT target's address and ports as text ("10.180.0.1:80",
 * "[fd00::1]:80", MASQUERADE's "1024-2048"): the text the source wrote
 * when it kept one, else formatted into buf when the source left it to
 * this (nat_text_format), else NULL. */
const char *kp_rule_nat_text(const struct kp_rule *rule, char *buf, size_t len);

struct kp_table;

/* What only built-in (base) chains have; read through kp_chain_ext(),
 * which gives kp_chain_ext_none (all absent) for any other chain. */
struct kp_chain_ext {
  const char *hook;   /* nft base chains: "prerouting", ...; else NULL */
  const char *policy; /* "ACCEPT"/"DROP" for built-ins, NULL otherwise */
  struct kp_counters policy_counters;
  struct kp_counter_texts policy_counter_texts;
};

/* One per chain (40k at 10k services in a live read); sizeof is pinned by
 * test_model (chain_record_size). */
struct kp_chain {
  const char *name;
  struct kp_table *table;
  struct kp_chain_ext *ext; /* NULL: hook, policy and its counters absent */
  struct kp_ptrvec rules;   /* struct kp_rule * in order */

  /* Filled by kp_snapshot_finalize(): */
  struct kp_ptrvec referrers; /* struct kp_rule * that jump/goto here (incl. vmap) */
  size_t set_referrers;       /* map elements whose verdict jumps/goes here */

  int dump_references; /* "(N references)" of iptables -L; -1 when unknown. Counts
                          referrers that may lie outside the input. */
  bool builtin;        /* iptables built-in chain, or nft base chain with a hook */
  bool declared;       /* false when only referenced (partial restore input) */
  bool cut;            /* the input ends inside this chain: its rules are incomplete */
};

extern const struct kp_chain_ext kp_chain_ext_none;

static inline const struct kp_chain_ext *kp_chain_ext(const struct kp_chain *chain) {
  return chain->ext != NULL ? chain->ext : &kp_chain_ext_none;
}
/* The chain's extension, allocated (zeroed) in snap's arena when it has
 * none. NULL on OOM. */
struct kp_chain_ext *kp_chain_ext_mut(struct kp_snapshot *snap, struct kp_chain *chain);

struct kp_set_elem {
  const char *key;     /* "172.30.0.41 . tcp . 80" */
  const char *verdict; /* "goto", "jump", "drop", "accept", NULL for plain sets */
  const char *chain;   /* verdict target chain */
  const char *comment; /* kube-proxy puts "ns/svc:port" here */
};

struct kp_set {
  const char *name;
  const char *type; /* "ipv4_addr . inet_proto . inet_service : verdict" */
  bool is_map;
  struct kp_table *table;
  struct kp_ptrvec elems; /* struct kp_set_elem * */
};

struct kp_chain_index; /* name -> chain hash, private to model.c */

struct kp_table {
  enum kp_family family;
  enum kp_backend backend;
  const char *name;        /* "filter", "nat", "mangle", "raw", "security", or an nft table name */
  bool native_nft;         /* an nft table not written by iptables-nft ("kube-proxy") */
  const char *source;      /* file it came from, or "kernel" */
  struct kp_ptrvec chains; /* struct kp_chain * in source order */
  struct kp_ptrvec sets;   /* struct kp_set * */
  struct kp_chain_index *index;
  /* The input does not show the whole table (a fragment, or cut short): a
   * chain or rule not in it may still exist on the node. Live: false. */
  bool partial;
  /* Listed by iptables-nft's save, which prints "iptables-legacy tables
   * present" when there are any: its silence says there are none. */
  bool legacy_visible;
};

/* What an input says about its own coverage (dump sources only; live
 * reads are whole). The checks report what an input does not cover as INFO
 * that names it, never as missing from the node. */
enum kp_note_kind {
  KP_NOTE_CUT = 0,       /* ends early: no COMMIT, a listing ends mid-chain, the last
                            line cut mid-rule; line = the last line read */
  KP_NOTE_FRAGMENT,      /* part of a table only: a few chains (-L CHAIN, nft list
                            chain/table), grep'd -S output, -A lines without a header */
  KP_NOTE_TABLE_GUESSED, /* rules without a *table header, placed by what kube-proxy
                            creates where; table = the table chosen */
  KP_NOTE_OTHER_BACKEND, /* iptables-nft's "# Warning: iptables-legacy tables present":
                            the other backend holds tables this input does not show */
  KP_NOTE_OTHER_NETNS,   /* a file of another network namespace (sos's
                            ip_netns_exec_<ns>_...): not merged into the host */
  KP_NOTE_SKIPPED,       /* a file of a bundle that is not a dump we read; detail says why */
  KP_NOTE_NOT_JUDGED,    /* read, but another copy of the same table is judged; detail says which */
  KP_NOTE_COUNT
};

struct kp_note {
  enum kp_note_kind kind;
  const char *source;    /* file */
  size_t line;           /* 1-based, 0 when not about one line */
  enum kp_family family; /* of the table concerned, when table is set */
  const char *table;     /* NULL when about the whole input */
  const char *detail;    /* a short phrase for messages ("ip netns kp-a"), may be NULL */
};

/* IPVS mode: `ipvsadm -Ln [--stats|--rate]` (dump source). A virtual
 * server without real servers is a service without endpoints. */
struct kp_ipvs_real {
  struct kp_addr addr;
  uint16_t port;
  const char *forward; /* "Masq", "Route", "Tunnel", "Local" */
  uint32_t weight;
  uint64_t active_conns, inactive_conns; /* plain -Ln */
  struct kp_counters counters;           /* --stats: packets/bytes in */
  struct kp_counter_texts counter_texts;
};

struct kp_ipvs_service {
  const char *proto; /* "TCP", "UDP", "SCTP", "FWM" */
  enum kp_family family;
  struct kp_addr addr; /* KP_ADDR_ANY for FWM */
  uint16_t port;
  uint32_t fwmark;       /* FWM only */
  const char *scheduler; /* "rr", ... */
  struct kp_counters counters;
  struct kp_counter_texts counter_texts;
  struct kp_ptrvec reals; /* struct kp_ipvs_real * */
  const char *source;
  size_t line;
  /* No listing shows it whole: each one ends, or skips lines (grep's "--",
   * a "..."), right after it, so it may have real servers not shown. */
  bool cut;
};

struct kp_addr_index;

/* Live: what went wrong asking kube-proxy's endpoints (the first problem). */
enum kp_proxy_fault {
  KP_PROXY_FAULT_NONE = 0,
  KP_PROXY_NO_ANSWER,   /* refused, timed out, reset: nothing came back */
  KP_PROXY_BAD_ADDRESS, /* the endpoint is not IP:PORT: it cannot be asked */
  KP_PROXY_HTTP_ERROR,  /* it answered with an HTTP error status (or no status line) */
  KP_PROXY_UNPARSED,    /* it answered 200, the body does not parse */
  KP_PROXY_TOO_BIG,     /* the answer is over the read limit: not read */
  KP_PROXY_FAULT_COUNT
};

/* What kube-proxy says about itself (/metrics, /livez, /proxyMode), when a
 * source could see it: a metrics file in a bundle, or the live endpoints.
 * Feeds the `sync` check. Timestamps are Unix seconds; NAN-free: use the
 * has_* flags. */
struct kp_proxy_status {
  bool has_metrics;
  double last_sync_ts;   /* kubeproxy_sync_proxy_rules_last_timestamp_seconds */
  double last_queued_ts; /* kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds */
  bool has_last_queued;
  double restore_failures;  /* kubeproxy_sync_proxy_rules_iptables_restore_failures_total */
  double nft_sync_failures; /* kubeproxy_sync_proxy_rules_nftables_sync_failures_total */
  double scrape_ts;         /* when the metrics were taken (file mtime / now) */
  bool has_livez;
  bool livez_healthy;
  const char *proxy_mode;  /* /proxyMode body: "iptables", "ipvs", "nftables"; NULL unknown */
  const char *source;      /* where it came from, for messages */
  bool asked;              /* live: the endpoints were asked */
  const char *unreachable; /* live: the first endpoint problem ("http://...: why") */
  /* live: what happened to that endpoint */
  enum kp_proxy_fault fault;
};

struct kp_snapshot {
  struct kp_arena arena;
  struct kp_ptrvec tables;  /* struct kp_table * */
  struct kp_ptrvec sources; /* const char * : files or "kernel", for reports */
  bool finalized;
  struct kp_addr_index *addr_index; /* host address -> rules, built by finalize */
  struct kp_proxy_status proxy;     /* zeroed when nothing was seen */
  /* Live sources keep each rule's text (rule->text) only when set: nothing
   * but a person reads it, and at 10k services it costs about 12% of a
   * legacy read and 11 MB. Dump sources always keep it (they have it). */
  bool rule_text;
  struct kp_ptrvec notes; /* struct kp_note *: coverage of the inputs */
  struct kp_ptrvec ipvs;  /* struct kp_ipvs_service *, from ipvsadm -Ln */
  /* Tables shared with other snapshots (kp_snapshot_share_table): how many
   * shares of this snapshot's tables others hold, whether its owner has
   * freed it meanwhile, and the snapshots whose tables this one holds. */
  unsigned borrowers;
  bool released;
  struct kp_ptrvec lenders;
};

struct kp_snapshot *kp_snapshot_new(void);
void kp_snapshot_free(struct kp_snapshot *snap);

/* Adds a coverage note (strings are copied into the arena). NULL on OOM. */
struct kp_note *kp_snapshot_add_note(struct kp_snapshot *snap, enum kp_note_kind kind,
                                     const char *source, size_t line, const char *table,
                                     enum kp_family family, const char *detail);
/* Adds a zeroed IPVS virtual server / real server. NULL on OOM. */
struct kp_ipvs_service *kp_snapshot_add_ipvs_service(struct kp_snapshot *snap);
struct kp_ipvs_real *kp_ipvs_add_real(struct kp_snapshot *snap, struct kp_ipvs_service *svc);

/* Finds the table, or creates it when create is true. NULL on OOM / not found. */
struct kp_table *kp_snapshot_table(struct kp_snapshot *snap, enum kp_family family,
                                   enum kp_backend backend, const char *name, bool create);
/* The table of this name that came from this source (file), created when
 * that source has not made one yet: two files never merge into one table
 * (kp_dump_reconcile decides what two copies mean). source is kept as given. */
struct kp_table *kp_snapshot_source_table(struct kp_snapshot *snap, enum kp_family family,
                                          enum kp_backend backend, const char *name,
                                          const char *source);
/* Deep-copies table src (of another snapshot) into dst, into the table of
 * the same family, backend and name there (created when missing). With
 * keep_counters, only the rules of the chains it accepts keep their
 * counters (called with dst's table and chain); NULL keeps all. 0 / -1 OOM. */
int kp_snapshot_copy_table(struct kp_snapshot *dst, const struct kp_table *src,
                           bool (*keep_counters)(const struct kp_table *table,
                                                 const struct kp_chain *chain));
/* Adds table, which lives in owner's arena, to snap without copying it, and
 * keeps owner alive until snap is freed (kp_snapshot_free(owner) before
 * that only marks it). A shared table must not change while
 * kp_snapshot_lent(owner): the checks never change one, and
 * kp_snapshot_finalize(snap) only recomputes, in place, what finalizing
 * owner already built, so finalize owner before sharing its tables. One
 * thread at a time. 0 / -1 OOM. */
int kp_snapshot_share_table(struct kp_snapshot *snap, struct kp_snapshot *owner,
                            struct kp_table *table);
/* True while another snapshot holds tables of snap. */
bool kp_snapshot_lent(const struct kp_snapshot *snap);
/* Removes a table (used when the same table was seen twice). */
void kp_snapshot_drop_table(struct kp_snapshot *snap, struct kp_table *table);

/* Lookup is O(1) at any time (the name index is kept as chains are added). */
struct kp_chain *kp_table_chain(const struct kp_table *table, const char *name);
/* Finds or creates; a created chain has declared=true, dump_references=-1. */
struct kp_chain *kp_table_add_chain(struct kp_snapshot *snap, struct kp_table *table,
                                    const char *name);
/* Room for count chains in table (its vector and name index), for a source
 * that knows how many come: no regrowth. 0 / -1 OOM. */
int kp_table_reserve_chains(struct kp_snapshot *snap, struct kp_table *table, size_t count);
/* Appends a zeroed rule with chain and index set. */
struct kp_rule *kp_chain_add_rule(struct kp_snapshot *snap, struct kp_chain *chain);
struct kp_set *kp_table_set(const struct kp_table *table, const char *name);
struct kp_set *kp_table_add_set(struct kp_snapshot *snap, struct kp_table *table, const char *name);
struct kp_set_elem *kp_set_add_elem(struct kp_snapshot *snap, struct kp_set *set);
int kp_rule_add_vmap_chain(struct kp_snapshot *snap, struct kp_rule *rule, const char *chain);

/* Maps "ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE",
 * "MARK" to their kind, anything else to KP_TARGET_OTHER, "" to NONE. */
enum kp_target_kind kp_target_kind_from_name(const char *name);
bool kp_rule_jumps(const struct kp_rule *rule); /* JUMP or GOTO */

/* Resolves OTHER targets naming a chain into JUMP, creates undeclared chains
 * for dangling jumps (declared=false), fills referrers and the address index.
 * Idempotent: may be called again after more tables were added. 0 / -1 OOM. */
int kp_snapshot_finalize(struct kp_snapshot *snap);

/* Rules naming this single host address as source, destination (not
 * negated, host prefix only) or NAT address. Needs finalize. Never NULL. */
const struct kp_ptrvec *kp_snapshot_rules_for_addr(const struct kp_snapshot *snap,
                                                   const struct kp_addr *host);

/* Convenience: chain by name in the first table matching family/name (any backend
 * when backend is KP_BACKEND_COUNT). */
struct kp_chain *kp_snapshot_chain(const struct kp_snapshot *snap, enum kp_family family,
                                   enum kp_backend backend, const char *table, const char *chain);

/* Counts for reports. */
size_t kp_snapshot_rule_count(const struct kp_snapshot *snap);
/* Chains the sources declared (not the ones finalize made for dangling jumps). */
size_t kp_snapshot_chain_count(const struct kp_snapshot *snap);

/* Counter text as the dump showed it ("2675K") or the exact number. */
void kp_counter_format(uint64_t value, const char *text, char *buf, size_t len);

#endif
