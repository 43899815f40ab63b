/* The native nf_tables expressions that decide (immediate verdicts and
 * jumps, nat, masq, meta mark set, reject, verdict-map lookups) or count,
 * and the xtables-compat match/target expressions. */
#include "live_nft_expr.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void set_target(struct kp_nft_dec *d, enum kp_target_kind kind, const char *name) {
  d->rule->target = kind;
  d->rule->target_name = name;
}

/* The verdicts an immediate can hold, as the model and both spellings name
 * them. */
static const struct {
  int32_t verdict;
  enum kp_target_kind kind;
  const char *iptables, *nft;
} verdicts[] = {
    {NF_ACCEPT, KP_TARGET_ACCEPT, "ACCEPT", "accept"},
    {NF_DROP, KP_TARGET_DROP, "DROP", "drop"},
    {NFT_RETURN, KP_TARGET_RETURN, "RETURN", "return"},
};

void kp_nft_expr_immediate(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  uint32_t dreg = kp_nft_attr_get_u32(e, NFTA_IMMEDIATE_DREG);
  if (dreg != NFT_REG_VERDICT) {
    struct kp_nft_reg r = {.src = KP_REG_IMM};
    uint32_t len;
    const uint8_t *data = kp_nft_attr_data(e, NFTA_IMMEDIATE_DATA, &len);
    if (data != NULL) {
      r.data_len = len > 16 ? 16 : len;
      memcpy(r.data, data, r.data_len);
    }
    kp_nft_load(d, e, NFTA_IMMEDIATE_DREG, &r);
    return;
  }
  int32_t verdict;
  const char *chain;
  if (!kp_nft_attr_verdict(e, NFTA_IMMEDIATE_DATA, &verdict, &chain))
    return;
  if (verdict == NFT_JUMP || verdict == NFT_GOTO) {
    const struct kp_chain *c = kp_table_chain(d->ctx->table, chain);
    bool go = verdict == NFT_GOTO;
    set_target(d, go ? KP_TARGET_GOTO : KP_TARGET_JUMP, c != NULL ? c->name : kp_nft_dup(d, chain));
    d->spell->jump(d->text, go, chain);
    return;
  }
  for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
    if (verdicts[i].verdict == verdict) {
      set_target(d, verdicts[i].kind, verdicts[i].iptables);
      d->spell->verdict(d->text, verdicts[i].iptables, verdicts[i].nft);
      return;
    }
}

void kp_nft_expr_counter(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  d->rule->counters.present = true;
  d->rule->counters.packets = kp_nft_attr_get_u64(e, NFTA_COUNTER_PACKETS);
  d->rule->counters.bytes = kp_nft_attr_get_u64(e, NFTA_COUNTER_BYTES);
  d->spell->counter(d->text);
}

static void nat_text(struct kp_nft_dec *d, const struct kp_nft_reg *addr,
                     const struct kp_nft_reg *port, const struct kp_nft_reg *port_max) {
  struct kp_rule *rule = d->rule;
  bool v6 = d->ctx->family == KP_FAMILY_IPV6;
  char buf[96] = "", ip[INET6_ADDRSTRLEN];
  size_t used = 0;
  if (addr != NULL && addr->src == KP_REG_IMM) {
    rule->nat_addr.kind = v6 ? KP_ADDR_IPV6 : KP_ADDR_IPV4;
    rule->nat_addr.prefix_len = v6 ? 128 : 32;
    memcpy(rule->nat_addr.bytes, addr->data, v6 ? 16 : 4);
    inet_ntop(v6 ? AF_INET6 : AF_INET, addr->data, ip, sizeof(ip));
    bool bracket = v6 && port != NULL;
    used = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", bracket ? "[" : "", ip, bracket ? "]" : "");
  }
  if (port != NULL && port->src == KP_REG_IMM && port->data_len >= 2) {
    rule->nat_ports.present = true;
    rule->nat_ports.lo = rule->nat_ports.hi = kp_nft_port(port->data);
    if (port_max != NULL && port_max->src == KP_REG_IMM && port_max->data_len >= 2)
      rule->nat_ports.hi = kp_nft_port(port_max->data);
    if (rule->nat_ports.lo == rule->nat_ports.hi)
      snprintf(buf + used, sizeof(buf) - used, ":%u", rule->nat_ports.lo);
    else
      snprintf(buf + used, sizeof(buf) - used, ":%u-%u", rule->nat_ports.lo, rule->nat_ports.hi);
  }
  if (buf[0] != '\0') {
    const char *t = rule->target == KP_TARGET_MASQUERADE && buf[0] == ':' ? buf + 1 : buf;
    /* kp_rule_nat_text() formats it from the fields, but for an IPv6
     * address in brackets whose port comes from a register */
    if (used > 0 && v6 && port != NULL && !rule->nat_ports.present)
      kp_nft_ext(d)->nat_text = kp_nft_dup(d, t);
    else
      rule->nat_text_format = true;
    kp_rule_text_add(d->text, " %s", t);
  }
}

void kp_nft_expr_nat(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  bool snat = kp_nft_attr_get_u32(e, NFTA_NAT_TYPE) == NFT_NAT_SNAT;
  set_target(d, snat ? KP_TARGET_SNAT : KP_TARGET_DNAT, snat ? "SNAT" : "DNAT");
  d->spell->nat(d->text, snat);
  nat_text(d, kp_nft_reg_attr(d, e, NFTA_NAT_REG_ADDR_MIN),
           kp_nft_reg_attr(d, e, NFTA_NAT_REG_PROTO_MIN),
           kp_nft_reg_attr(d, e, NFTA_NAT_REG_PROTO_MAX));
  uint32_t flags;
  if (kp_nft_attr_u32(e, NFTA_NAT_FLAGS, &flags))
    d->rule->random_fully = (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
}

void kp_nft_expr_masq(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  set_target(d, KP_TARGET_MASQUERADE, "MASQUERADE");
  uint32_t flags = kp_nft_attr_get_u32(e, NFTA_MASQ_FLAGS);
  d->rule->random_fully = (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) != 0;
  d->spell->masquerade(d->text);
  nat_text(d, NULL, kp_nft_reg_attr(d, e, NFTA_MASQ_REG_PROTO_MIN),
           kp_nft_reg_attr(d, e, NFTA_MASQ_REG_PROTO_MAX));
  if (d->rule->random_fully)
    d->spell->random_fully(d->text);
}

/* meta mark set <reg>: the register holds (mark & M) ^ X, or a constant. */
void kp_nft_expr_meta_set(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  uint32_t key = kp_nft_attr_get_u32(e, NFTA_META_KEY);
  struct kp_nft_reg *r = kp_nft_slot(d, kp_nft_attr_get_u32(e, NFTA_META_SREG));
  if (key != NFT_META_MARK || r == NULL) {
    kp_rule_text_add(d->text, " meta %u set", key);
    return;
  }
  struct kp_rule *rule = d->rule;
  if (r->src == KP_REG_META && r->key == NFT_META_MARK) {
    kp_nft_ext(d)->xmark_mask = r->bitwise ? ~kp_nft_u32(r->mask, 4) : 0;
    kp_nft_ext(d)->xmark_value = r->bitwise ? kp_nft_u32(r->xor_, 4) : 0;
  } else if (r->src == KP_REG_IMM) {
    kp_nft_ext(d)->xmark_mask = 0xffffffffu;
    kp_nft_ext(d)->xmark_value = kp_nft_u32(r->data, r->data_len);
  } else {
    return;
  }
  kp_nft_ext(d)->mark_target = true;
  set_target(d, KP_TARGET_MARK, "MARK");
  d->spell->set_xmark(d->text, kp_rule_ext(rule)->xmark_value, kp_rule_ext(rule)->xmark_mask);
}

void kp_nft_expr_reject(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  (void)e;
  set_target(d, KP_TARGET_REJECT, "REJECT");
  d->spell->verdict(d->text, "REJECT", "reject");
}

void kp_nft_expr_lookup(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  const char *set = kp_nft_attr_str(e, NFTA_LOOKUP_SET);
  if (set == NULL)
    return;
  uint32_t dreg;
  bool vmap = kp_nft_attr_u32(e, NFTA_LOOKUP_DREG, &dreg) && dreg == NFT_REG_VERDICT;
  bool inv = kp_nft_attr_get_u32(e, NFTA_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV;
  const struct kp_set *anon = kp_nft_anon_set(d->ctx, set);
  if (!vmap) {
    kp_rule_text_add(d->text, " %s@%s", inv ? "!= " : "", set);
    return;
  }
  if (anon == NULL) {
    char name[300];
    snprintf(name, sizeof(name), "@%s", set);
    kp_nft_ext(d)->vmap_set = kp_nft_dup(d, name);
    kp_rule_text_add(d->text, " vmap @%s", set);
    return;
  }
  kp_rule_text_add(d->text, " vmap {");
  for (size_t i = 0; i < anon->elems.count; i++) {
    const struct kp_set_elem *el = anon->elems.items[i];
    kp_rule_text_add(d->text, "%s %s : %s%s%s", i ? "," : "", el->key ? el->key : "?",
                     el->verdict ? el->verdict : "", el->chain ? " " : "",
                     el->chain ? el->chain : "");
    if (el->chain != NULL && kp_rule_add_vmap_chain(d->ctx->snap, d->rule, el->chain) != 0)
      d->rc = -1;
  }
  kp_rule_text_add(d->text, " }");
}

/* xtables-compat payloads (iptables-nft's `match` / `target`). */
static void expr_xt(struct kp_nft_dec *d, const struct kp_nft_expr *e, bool target) {
  uint16_t name_attr = target ? NFTA_TARGET_NAME : NFTA_MATCH_NAME;
  uint16_t rev_attr = target ? NFTA_TARGET_REV : NFTA_MATCH_REV;
  uint16_t info_attr = target ? NFTA_TARGET_INFO : NFTA_MATCH_INFO;
  const char *name = kp_nft_attr_str(e, name_attr);
  if (name == NULL)
    return;
  uint32_t len;
  const void *info = kp_nft_attr_bin(e, info_attr, &len);
  uint32_t rev = kp_nft_attr_get_u32(e, rev_attr);
  int rc = target ? kp_nft_xt_target(d->ctx, d->rule, name, rev, info, info ? len : 0, d->text)
                  : kp_nft_xt_match(d->ctx, d->rule, name, rev, info, info ? len : 0, d->text);
  if (rc != 0)
    d->rc = -1;
}

void kp_nft_expr_match(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  expr_xt(d, e, false);
}

void kp_nft_expr_target(struct kp_nft_dec *d, const struct kp_nft_expr *e) {
  expr_xt(d, e, true);
}
