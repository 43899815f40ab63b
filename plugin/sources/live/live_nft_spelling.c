/* The two spellings of a decoded nf_tables rule (struct kp_nft_spelling):
 * iptables-save's, for the tables iptables-nft writes, and nft's, for
 * kube-proxy's own table. */
#include "live_nft_expr.h"

/* ---- iptables-save ------------------------------------------------------------ */

static void ipt_rule_head(struct kp_rule_text *t, const char *chain) {
  kp_rule_text_add(t, "-A %s", chain);
}
static void ipt_addr(struct kp_rule_text *t, bool v6, bool src, bool neg, const char *addr,
                     unsigned prefix) {
  (void)v6;
  kp_rule_text_add(t, "%s %s %s/%u", neg ? " !" : "", src ? "-s" : "-d", addr, prefix);
}
static void ipt_proto(struct kp_rule_text *t, bool neg, const char *name) {
  kp_rule_text_add(t, "%s -p %s", neg ? " !" : "", name);
}
static void ipt_port(struct kp_rule_text *t, const char *opt, bool neg, unsigned lo, unsigned hi) {
  if (lo == hi)
    kp_rule_text_add(t, "%s --%s %u", neg ? " !" : "", opt, lo);
  else
    kp_rule_text_add(t, " --%s %u:%u", opt, lo, hi);
}
static void ipt_addrtype(struct kp_rule_text *t, bool saddr, bool neg, const char *type) {
  kp_rule_text_add(t, " -m addrtype%s --%s-type %s", neg ? " !" : "", saddr ? "src" : "dst", type);
}
static void ipt_ct_state(struct kp_rule_text *t, const char *states) {
  kp_rule_text_add(t, " -m conntrack --ctstate %s", states);
}
static void ipt_mark(struct kp_rule_text *t, bool neg, uint32_t value, uint32_t mask) {
  kp_rule_text_add(t, " -m mark%s --mark 0x%x/0x%x", neg ? " !" : "", value, mask);
}
static void ipt_jump(struct kp_rule_text *t, bool is_goto, const char *chain) {
  kp_rule_text_add(t, " -%s %s", is_goto ? "g" : "j", chain);
}
static void ipt_verdict(struct kp_rule_text *t, const char *iptables, const char *nft) {
  (void)nft;
  kp_rule_text_add(t, " -j %s", iptables);
}
static void ipt_counter(struct kp_rule_text *t) {
  (void)t; /* iptables-save shows counters in front, with -c only */
}
static void ipt_nat(struct kp_rule_text *t, bool snat) {
  kp_rule_text_add(t, " -j %s --to", snat ? "SNAT" : "DNAT");
}
static void ipt_masquerade(struct kp_rule_text *t) {
  kp_rule_text_add(t, " -j MASQUERADE");
}
static void ipt_random_fully(struct kp_rule_text *t) {
  kp_rule_text_add(t, " --random-fully");
}
static void ipt_set_xmark(struct kp_rule_text *t, uint32_t value, uint32_t mask) {
  kp_rule_text_add(t, " -j MARK --set-xmark 0x%x/0x%x", value, mask);
}

const struct kp_nft_spelling kp_nft_spelling_iptables = {
    .rule_head = ipt_rule_head,
    .addr = ipt_addr,
    .proto = ipt_proto,
    .port = ipt_port,
    .addrtype = ipt_addrtype,
    .ct_state = ipt_ct_state,
    .mark = ipt_mark,
    .jump = ipt_jump,
    .verdict = ipt_verdict,
    .counter = ipt_counter,
    .nat = ipt_nat,
    .masquerade = ipt_masquerade,
    .random_fully = ipt_random_fully,
    .set_xmark = ipt_set_xmark,
};

/* ---- nft ------------------------------------------------------------------------ */

static void nft_rule_head(struct kp_rule_text *t, const char *chain) {
  (void)t, (void)chain; /* nft list shows rules under their chain */
}
static void nft_addr(struct kp_rule_text *t, bool v6, bool src, bool neg, const char *addr,
                     unsigned prefix) {
  kp_rule_text_add(t, " ip%s %s %s%s/%u", v6 ? "6" : "", src ? "saddr" : "daddr", neg ? "!= " : "",
                   addr, prefix);
}
static void nft_proto(struct kp_rule_text *t, bool neg, const char *name) {
  kp_rule_text_add(t, " meta l4proto %s%s", neg ? "!= " : "", name);
}
static void nft_port(struct kp_rule_text *t, const char *opt, bool neg, unsigned lo, unsigned hi) {
  if (lo == hi)
    kp_rule_text_add(t, " th %s %s%u", opt, neg ? "!= " : "", lo);
  else
    kp_rule_text_add(t, " th %s %u-%u", opt, lo, hi);
}
static void nft_addrtype(struct kp_rule_text *t, bool saddr, bool neg, const char *type) {
  kp_rule_text_add(t, " fib %s type %s%s", saddr ? "saddr" : "daddr", neg ? "!= " : "", type);
}
static void nft_ct_state(struct kp_rule_text *t, const char *states) {
  kp_rule_text_add(t, " ct state %s", states);
}
static void nft_mark(struct kp_rule_text *t, bool neg, uint32_t value, uint32_t mask) {
  kp_rule_text_add(t, " mark and 0x%x %s 0x%x", mask, neg ? "!=" : "==", value);
}
static void nft_jump(struct kp_rule_text *t, bool is_goto, const char *chain) {
  kp_rule_text_add(t, " %s %s", is_goto ? "goto" : "jump", chain);
}
static void nft_verdict(struct kp_rule_text *t, const char *iptables, const char *nft) {
  (void)iptables;
  kp_rule_text_add(t, " %s", nft);
}
static void nft_counter(struct kp_rule_text *t) {
  kp_rule_text_add(t, " counter");
}
static void nft_nat(struct kp_rule_text *t, bool snat) {
  kp_rule_text_add(t, " %s to", snat ? "snat" : "dnat");
}
static void nft_masquerade(struct kp_rule_text *t) {
  kp_rule_text_add(t, " masquerade");
}
static void nft_random_fully(struct kp_rule_text *t) {
  kp_rule_text_add(t, " fully-random");
}
static void nft_set_xmark(struct kp_rule_text *t, uint32_t value, uint32_t mask) {
  kp_rule_text_add(t, " meta mark set xmark 0x%x/0x%x", value, mask);
}

const struct kp_nft_spelling kp_nft_spelling_nft = {
    .rule_head = nft_rule_head,
    .addr = nft_addr,
    .proto = nft_proto,
    .port = nft_port,
    .addrtype = nft_addrtype,
    .ct_state = nft_ct_state,
    .mark = nft_mark,
    .jump = nft_jump,
    .verdict = nft_verdict,
    .counter = nft_counter,
    .nat = nft_nat,
    .masquerade = nft_masquerade,
    .random_fully = nft_random_fully,
    .set_xmark = nft_set_xmark,
};
