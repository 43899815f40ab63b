/* nft rule matches: addresses and protocols (ip, ip6), ports (tcp, udp,
 * sctp, th), marks, meta (mark, l4proto, interfaces), ct state, fib type. */
#include "dump_nft_rule.h"

#include <stdio.h>
#include <string.h>

/* "ip saddr ...", "ip daddr ...", "ip protocol ...", same for ip6. */
int kp_nft_stmt_ip(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  bool saddr = kp_nft_at(c, i, "saddr"), daddr = kp_nft_at(c, i, "daddr");
  bool proto = kp_nft_at(c, i, "protocol") || kp_nft_at(c, i, "nexthdr");
  i++;
  bool negated;
  char value[128];
  if ((saddr || daddr || proto) && kp_nft_value_start(c, &i, &negated) &&
      kp_nft_single_value(c, &i, value, sizeof(value))) {
    if (proto) {
      kp_nft_set_proto(c, value, negated);
    } else {
      struct kp_addr addr;
      if (kp_addr_parse(&c->snap->arena, value, &addr) == 0) {
        addr.negated = negated;
        *(saddr ? &c->rule->src : &c->rule->dst) = addr;
      }
    }
  }
  c->i = i > c->i + 2 ? i : c->i + 2;
  return 0;
}

/* "tcp dport 80", "th sport 1000-2000", "udp dport != 53". */
int kp_nft_stmt_l4(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  bool dport = kp_nft_at(c, i, "dport"), sport = kp_nft_at(c, i, "sport");
  const struct kp_nft_token *l4 = &c->t[c->i];
  i++;
  bool negated;
  char value[64];
  if ((dport || sport) && kp_nft_value_start(c, &i, &negated) &&
      kp_nft_single_value(c, &i, value, sizeof(value))) {
    struct kp_port_range range = {0};
    if (kp_nft_parse_ports(value, &range)) {
      range.negated = negated;
      *(dport ? &c->rule->dport : &c->rule->ext->sport) = range;
    }
    if (!c->rule->proto_present && !kp_nft_tok_is(l4, "th")) {
      char name[16];
      kp_nft_tok_copy(l4, name, sizeof(name));
      kp_nft_set_proto(c, name, false);
    }
  }
  c->i = i > c->i + 2 ? i : c->i + 2;
  return 0;
}

/* The value of a mark expression at i: "0x4000", "mark or 0x4000",
 * "meta mark | 0x4000", "mark xor 0x4000", "mark and 0xffff" -> xmark. */
static size_t parse_mark_set(struct kp_nft_rule_cursor *c, size_t i) {
  struct kp_rule *r = c->rule;
  if (kp_nft_at(c, i, "meta"))
    i++;
  char value[64];
  uint32_t v;
  if (kp_nft_at(c, i, "mark") && kp_nft_is_word(c, i + 2)) {
    const struct kp_nft_token *op = &c->t[i + 1];
    kp_nft_tok_copy(&c->t[i + 2], value, sizeof(value));
    if (kp_nft_parse_u32(value, &v)) {
      r->ext->mark_target = true;
      if (kp_nft_tok_is(op, "or") || kp_nft_tok_is(op, "|")) {
        r->ext->xmark_value = v;
        r->ext->xmark_mask = v;
      } else if (kp_nft_tok_is(op, "xor") || kp_nft_tok_is(op, "^")) {
        r->ext->xmark_value = v;
        r->ext->xmark_mask = 0;
      } else if (kp_nft_tok_is(op, "and") || kp_nft_tok_is(op, "&")) {
        r->ext->xmark_value = 0;
        r->ext->xmark_mask = ~v;
      } else {
        r->ext->mark_target = false;
      }
    }
    i += 3;
  } else if (kp_nft_is_word(c, i)) {
    kp_nft_tok_copy(&c->t[i], value, sizeof(value));
    if (kp_nft_parse_u32(value, &v)) {
      r->ext->mark_target = true;
      r->ext->xmark_value = v;
      r->ext->xmark_mask = 0xffffffffu;
    }
    i++;
  }
  if (r->ext->mark_target && r->target == KP_TARGET_NONE) {
    r->target = KP_TARGET_MARK;
    r->target_name = "MARK";
  }
  return i;
}

/* "mark ..." / "meta mark ..." at i (i is the "mark" token); returns the
 * index after it. */
static size_t parse_mark(struct kp_nft_rule_cursor *c, size_t i) {
  i++;
  if (kp_nft_at(c, i, "set"))
    return parse_mark_set(c, i + 1);
  uint32_t mask = 0xffffffffu, value;
  char text[64];
  if ((kp_nft_at(c, i, "&") || kp_nft_at(c, i, "and")) && kp_nft_is_word(c, i + 1)) {
    kp_nft_tok_copy(&c->t[i + 1], text, sizeof(text));
    if (!kp_nft_parse_u32(text, &mask))
      return i;
    i += 2;
  }
  bool negated;
  if (!kp_nft_value_start(c, &i, &negated) || !kp_nft_is_word(c, i))
    return i;
  kp_nft_tok_copy(&c->t[i], text, sizeof(text));
  if (kp_nft_parse_u32(text, &value)) {
    c->rule->ext->mark.present = true;
    c->rule->ext->mark.negated = negated;
    c->rule->ext->mark.value = value;
    c->rule->ext->mark.mask = mask;
  }
  return i + 1;
}

/* "mark ..." without the meta keyword. */
int kp_nft_stmt_mark(struct kp_nft_rule_cursor *c) {
  c->i = parse_mark(c, c->i);
  return 0;
}

/* Interface names keep iptables -L's "!" prefix for a negated match. */
static int set_iface(struct kp_nft_rule_cursor *c, bool in, const char *value, bool negated) {
  size_t len = strlen(value) + 2;
  char *name = kp_arena_alloc(&c->snap->arena, len);
  if (name == NULL)
    return -1;
  snprintf(name, len, "%s%s", negated ? "!" : "", value);
  *(in ? &c->rule->ext->in_iface : &c->rule->ext->out_iface) = name;
  return 0;
}

int kp_nft_stmt_meta(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  if (kp_nft_at(c, i, "mark")) {
    c->i = parse_mark(c, i);
    return 0;
  }
  bool l4 = kp_nft_at(c, i, "l4proto");
  bool iif = kp_nft_at(c, i, "iifname"), oif = kp_nft_at(c, i, "oifname");
  i++;
  bool negated;
  char value[64];
  if ((l4 || iif || oif) && kp_nft_value_start(c, &i, &negated) &&
      kp_nft_single_value(c, &i, value, sizeof(value))) {
    if (l4)
      kp_nft_set_proto(c, value, negated);
    else if (set_iface(c, iif, value, negated) != 0)
      return -1;
  }
  c->i = i > c->i + 2 ? i : c->i + 2;
  return 0;
}

/* "iifname "eth0"" without the meta keyword. */
int kp_nft_stmt_ifname(struct kp_nft_rule_cursor *c) {
  bool iif = kp_nft_at(c, c->i, "iifname");
  size_t i = c->i + 1;
  bool negated;
  char value[64];
  if (kp_nft_value_start(c, &i, &negated) && kp_nft_single_value(c, &i, value, sizeof(value)) &&
      set_iface(c, iif, value, negated) != 0)
    return -1;
  c->i = i > c->i + 1 ? i : c->i + 1;
  return 0;
}

/* "ct state new", "ct state { established, related }", "ct mark set ...". */
int kp_nft_stmt_ct(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  if (!kp_nft_at(c, i, "state")) {
    i++;
    if (kp_nft_at(c, i, "set")) {
      i++;
      if (kp_nft_at(c, i, "meta"))
        i++;
      i++;
      if (kp_nft_at(c, i, "or") || kp_nft_at(c, i, "|") || kp_nft_at(c, i, "and") ||
          kp_nft_at(c, i, "&") || kp_nft_at(c, i, "xor") || kp_nft_at(c, i, "^"))
        i += 2;
    } else {
      /* "ct status dnat", "ct mark != 0x1": the value belongs to this
       * match, or "dnat" would be read as a NAT statement. */
      bool negated;
      if (kp_nft_value_start(c, &i, &negated))
        i = c->t[i].type == KP_NFT_TOK_LBRACE ? kp_nft_skip_block(c, i) : i + 1;
    }
    c->i = i;
    return 0;
  }
  i++;
  bool negated;
  if (!kp_nft_value_start(c, &i, &negated)) {
    c->i = i;
    return 0;
  }
  char text[128];
  size_t len = 0;
  size_t end = c->t[i].type == KP_NFT_TOK_LBRACE ? kp_nft_skip_block(c, i) : i + 1;
  for (size_t k = i; k < end && k < c->n; k++) {
    if (c->t[k].type != KP_NFT_TOK_WORD)
      continue;
    /* "established,related" or "{ established, related }" -> one list */
    for (size_t b = 0; b < c->t[k].n && len + 2 < sizeof(text); b++) {
      char ch = c->t[k].p[b];
      if (ch == ',' && (len == 0 || text[len - 1] == ','))
        continue;
      if (ch != ',' && b == 0 && len > 0 && text[len - 1] != ',')
        text[len++] = ',';
      text[len++] = ch;
    }
  }
  while (len > 0 && text[len - 1] == ',')
    len--;
  text[len] = '\0';
  if (len > 0 && (c->rule->ext->ctstate = kp_nft_upper_dup(&c->snap->arena, text, negated)) == NULL)
    return -1;
  c->i = end;
  return 0;
}

/* "fib daddr type local", "fib saddr type != local". */
int kp_nft_stmt_fib(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  bool saddr = kp_nft_at(c, i, "saddr"), daddr = kp_nft_at(c, i, "daddr");
  i++;
  if ((saddr || daddr) && kp_nft_at(c, i, "type")) {
    i++;
    bool negated;
    char value[32];
    if (kp_nft_value_start(c, &i, &negated) && kp_nft_single_value(c, &i, value, sizeof(value))) {
      char *type = kp_nft_upper_dup(&c->snap->arena, value, false);
      if (type == NULL)
        return -1;
      if (saddr) {
        c->rule->ext->src_type = type;
        c->rule->ext->src_type_negated = negated;
      } else {
        c->rule->ext->dst_type = type;
        c->rule->ext->dst_type_negated = negated;
      }
    }
  }
  c->i = i;
  return 0;
}
