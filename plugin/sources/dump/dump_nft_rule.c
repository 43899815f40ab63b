/* Decodes one nft rule (its statement tokens) into the kp_rule fields the
 * checks use. Statements it does not know are skipped and stay visible in
 * rule->text. */
#include "dump_nft_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule_cursor {
  struct kp_snapshot *snap;
  struct kp_rule *rule;
  const struct nft_token *t;
  size_t n;
  size_t i;
};

static bool at(const struct rule_cursor *c, size_t i, const char *word) {
  return i < c->n && nft_tok_is(&c->t[i], word);
}

static bool is_word(const struct rule_cursor *c, size_t i) {
  return i < c->n && (c->t[i].type == NFT_WORD || c->t[i].type == NFT_STRING);
}

/* Index just past the brace block opening at i. */
static size_t skip_block(const struct rule_cursor *c, size_t i) {
  size_t depth = 0;
  for (; i < c->n; i++) {
    if (c->t[i].type == NFT_LBRACE)
      depth++;
    else if (c->t[i].type == NFT_RBRACE && depth > 0 && --depth == 0)
      return i + 1;
  }
  return c->n;
}

/* A value position: skips "==", notes "!=". Returns false when what follows
 * is not a value (a concatenation "." or a map lookup). */
static bool value_start(const struct rule_cursor *c, size_t *i, bool *negated) {
  *negated = false;
  if (at(c, *i, "==")) {
    (*i)++;
  } else if (at(c, *i, "!=")) {
    *negated = true;
    (*i)++;
  }
  if (*i >= c->n)
    return false;
  if (c->t[*i].type == NFT_LBRACE)
    return true;
  return is_word(c, *i) && !at(c, *i, ".") && !at(c, *i, "vmap") && !at(c, *i, "map");
}

/* The single element of "{ x }", or the word itself. Advances past the
 * value. False for a set of several elements, a named set or a concatenation. */
static bool single_value(const struct rule_cursor *c, size_t *i, char *out, size_t cap) {
  bool ok = false;
  if (c->t[*i].type == NFT_LBRACE) {
    size_t end = skip_block(c, *i);
    if (end == *i + 3 && is_word(c, *i + 1)) {
      nft_tok_copy(&c->t[*i + 1], out, cap);
      ok = true;
    }
    *i = end;
  } else {
    nft_tok_copy(&c->t[*i], out, cap);
    ok = out[0] != '@';
    (*i)++;
  }
  if (*i < c->n && at(c, *i, "."))
    ok = false; /* part of a concatenation */
  size_t len = strlen(out);
  if (len > 0 && out[len - 1] == ',')
    out[len - 1] = '\0';
  return ok;
}

static int dup_word(struct rule_cursor *c, size_t i, const char **out) {
  char *s = nft_tok_dup(&c->snap->arena, &c->t[i]);
  if (s == NULL)
    return -1;
  size_t len = strlen(s);
  if (len > 0 && s[len - 1] == ',')
    s[len - 1] = '\0';
  *out = s;
  return 0;
}

static char *upper_dup(struct kp_arena *arena, const char *s, bool negated) {
  size_t len = strlen(s);
  char *out = kp_arena_alloc(arena, len + 2);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  if (negated)
    out[o++] = '!';
  for (size_t k = 0; k < len; k++)
    out[o++] = (char)toupper((unsigned char)s[k]);
  return out;
}

static int proto_number(const char *name) {
  static const struct {
    const char *name;
    int number;
  } protos[] = {{"tcp", 6},       {"udp", 17},  {"sctp", 132},    {"icmp", 1},
                {"icmpv6", 58},   {"esp", 50},  {"ah", 51},       {"gre", 47},
                {"udplite", 136}, {"dccp", 33}, {"ipv6-icmp", 58}};
  for (size_t k = 0; k < sizeof(protos) / sizeof(protos[0]); k++)
    if (strcmp(name, protos[k].name) == 0)
      return protos[k].number;
  char *end;
  long v = strtol(name, &end, 10);
  if (*name != '\0' && *end == '\0' && v >= 0 && v <= 255)
    return (int)v;
  return -1;
}

static void set_proto(struct rule_cursor *c, const char *name, bool negated) {
  int proto = proto_number(name);
  if (proto < 0)
    return;
  c->rule->proto_present = true;
  c->rule->proto_negated = negated;
  c->rule->proto = (uint8_t)proto;
}

static bool parse_u32(const char *s, uint32_t *out) {
  char *end;
  if (*s == '\0')
    return false;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end != '\0' || v > 0xffffffffULL)
    return false;
  *out = (uint32_t)v;
  return true;
}

static bool parse_ports(const char *s, struct kp_port_range *out) {
  char *end;
  unsigned long lo = strtoul(s, &end, 10);
  unsigned long hi = lo;
  if (end == s || lo > 65535)
    return false;
  if (*end == '-') {
    const char *h = end + 1;
    hi = strtoul(h, &end, 10);
    if (end == h || hi > 65535 || hi < lo)
      return false;
  }
  if (*end != '\0')
    return false;
  out->present = true;
  out->lo = (uint16_t)lo;
  out->hi = (uint16_t)hi;
  return true;
}

/* "ip saddr ...", "ip daddr ...", "ip protocol ...", same for ip6. */
static int parse_ip(struct rule_cursor *c) {
  size_t i = c->i + 1;
  bool saddr = at(c, i, "saddr"), daddr = at(c, i, "daddr");
  bool proto = at(c, i, "protocol") || at(c, i, "nexthdr");
  i++;
  bool negated;
  char value[128];
  if ((saddr || daddr || proto) && value_start(c, &i, &negated) &&
      single_value(c, &i, value, sizeof(value))) {
    if (proto) {
      set_proto(c, value, negated);
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
static int parse_l4(struct rule_cursor *c) {
  size_t i = c->i + 1;
  bool dport = at(c, i, "dport"), sport = at(c, i, "sport");
  const struct nft_token *l4 = &c->t[c->i];
  i++;
  bool negated;
  char value[64];
  if ((dport || sport) && value_start(c, &i, &negated) &&
      single_value(c, &i, value, sizeof(value))) {
    struct kp_port_range range = {0};
    if (parse_ports(value, &range)) {
      range.negated = negated;
      *(dport ? &c->rule->dport : &c->rule->sport) = range;
    }
    if (!c->rule->proto_present && !nft_tok_is(l4, "th")) {
      char name[16];
      nft_tok_copy(l4, name, sizeof(name));
      set_proto(c, name, false);
    }
  }
  c->i = i > c->i + 2 ? i : c->i + 2;
  return 0;
}

/* The value of a mark expression at i: "0x4000", "mark or 0x4000",
 * "meta mark | 0x4000", "mark xor 0x4000", "mark and 0xffff" -> xmark. */
static size_t parse_mark_set(struct rule_cursor *c, size_t i) {
  struct kp_rule *r = c->rule;
  if (at(c, i, "meta"))
    i++;
  char value[64];
  uint32_t v;
  if (at(c, i, "mark") && is_word(c, i + 2)) {
    const struct nft_token *op = &c->t[i + 1];
    nft_tok_copy(&c->t[i + 2], value, sizeof(value));
    if (parse_u32(value, &v)) {
      r->mark_target = true;
      if (nft_tok_is(op, "or") || nft_tok_is(op, "|")) {
        r->xmark_value = v;
        r->xmark_mask = v;
      } else if (nft_tok_is(op, "xor") || nft_tok_is(op, "^")) {
        r->xmark_value = v;
        r->xmark_mask = 0;
      } else if (nft_tok_is(op, "and") || nft_tok_is(op, "&")) {
        r->xmark_value = 0;
        r->xmark_mask = ~v;
      } else {
        r->mark_target = false;
      }
    }
    i += 3;
  } else if (is_word(c, i)) {
    nft_tok_copy(&c->t[i], value, sizeof(value));
    if (parse_u32(value, &v)) {
      r->mark_target = true;
      r->xmark_value = v;
      r->xmark_mask = 0xffffffffu;
    }
    i++;
  }
  if (r->mark_target && r->target == KP_TARGET_NONE) {
    r->target = KP_TARGET_MARK;
    r->target_name = "MARK";
  }
  return i;
}

/* "mark ..." / "meta mark ..." at i (i is the "mark" token). */
static size_t parse_mark(struct rule_cursor *c, size_t i) {
  i++;
  if (at(c, i, "set"))
    return parse_mark_set(c, i + 1);
  uint32_t mask = 0xffffffffu, value;
  char text[64];
  if ((at(c, i, "&") || at(c, i, "and")) && is_word(c, i + 1)) {
    nft_tok_copy(&c->t[i + 1], text, sizeof(text));
    if (!parse_u32(text, &mask))
      return i;
    i += 2;
  }
  bool negated;
  if (!value_start(c, &i, &negated) || !is_word(c, i))
    return i;
  nft_tok_copy(&c->t[i], text, sizeof(text));
  if (parse_u32(text, &value)) {
    c->rule->mark.present = true;
    c->rule->mark.negated = negated;
    c->rule->mark.value = value;
    c->rule->mark.mask = mask;
  }
  return i + 1;
}

/* Interface names keep iptables -L's "!" prefix for a negated match. */
static int set_iface(struct rule_cursor *c, bool in, const char *value, bool negated) {
  size_t len = strlen(value) + 2;
  char *name = kp_arena_alloc(&c->snap->arena, len);
  if (name == NULL)
    return -1;
  snprintf(name, len, "%s%s", negated ? "!" : "", value);
  *(in ? &c->rule->in_iface : &c->rule->out_iface) = name;
  return 0;
}

static int parse_meta(struct rule_cursor *c) {
  size_t i = c->i + 1;
  if (at(c, i, "mark")) {
    c->i = parse_mark(c, i);
    return 0;
  }
  bool l4 = at(c, i, "l4proto");
  bool iif = at(c, i, "iifname"), oif = at(c, i, "oifname");
  i++;
  bool negated;
  char value[64];
  if ((l4 || iif || oif) && value_start(c, &i, &negated) &&
      single_value(c, &i, value, sizeof(value))) {
    if (l4)
      set_proto(c, value, negated);
    else if (set_iface(c, iif, value, negated) != 0)
      return -1;
  }
  c->i = i > c->i + 2 ? i : c->i + 2;
  return 0;
}

/* "iifname "eth0"" without the meta keyword. */
static int parse_ifname(struct rule_cursor *c) {
  bool iif = at(c, c->i, "iifname");
  size_t i = c->i + 1;
  bool negated;
  char value[64];
  if (value_start(c, &i, &negated) && single_value(c, &i, value, sizeof(value)) &&
      set_iface(c, iif, value, negated) != 0)
    return -1;
  c->i = i > c->i + 1 ? i : c->i + 1;
  return 0;
}

/* "ct state new", "ct state { established, related }", "ct mark set ...". */
static int parse_ct(struct rule_cursor *c) {
  size_t i = c->i + 1;
  if (!at(c, i, "state")) {
    i++;
    if (at(c, i, "set")) {
      i++;
      if (at(c, i, "meta"))
        i++;
      i++;
      if (at(c, i, "or") || at(c, i, "|") || at(c, i, "and") || at(c, i, "&") || at(c, i, "xor") ||
          at(c, i, "^"))
        i += 2;
    } else {
      /* "ct status dnat", "ct mark != 0x1": the value belongs to this
       * match, or "dnat" would be read as a NAT statement. */
      bool negated;
      if (value_start(c, &i, &negated))
        i = c->t[i].type == NFT_LBRACE ? skip_block(c, i) : i + 1;
    }
    c->i = i;
    return 0;
  }
  i++;
  bool negated;
  if (!value_start(c, &i, &negated)) {
    c->i = i;
    return 0;
  }
  char text[128];
  size_t len = 0;
  size_t end = c->t[i].type == NFT_LBRACE ? skip_block(c, i) : i + 1;
  for (size_t k = i; k < end && k < c->n; k++) {
    if (c->t[k].type != NFT_WORD)
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
  if (len > 0 && (c->rule->ctstate = upper_dup(&c->snap->arena, text, negated)) == NULL)
    return -1;
  c->i = end;
  return 0;
}

/* "fib daddr type local", "fib saddr type != local". */
static int parse_fib(struct rule_cursor *c) {
  size_t i = c->i + 1;
  bool saddr = at(c, i, "saddr"), daddr = at(c, i, "daddr");
  i++;
  if ((saddr || daddr) && at(c, i, "type")) {
    i++;
    bool negated;
    char value[32];
    if (value_start(c, &i, &negated) && single_value(c, &i, value, sizeof(value))) {
      char *type = upper_dup(&c->snap->arena, value, false);
      if (type == NULL)
        return -1;
      if (saddr) {
        c->rule->src_type = type;
        c->rule->src_type_negated = negated;
      } else {
        c->rule->dst_type = type;
        c->rule->dst_type_negated = negated;
      }
    }
  }
  c->i = i;
  return 0;
}

/* "dnat to 10.0.0.1:80", "dnat ip to [fd00::1]:80", "snat to 1.2.3.4". */
static int parse_nat(struct rule_cursor *c, enum kp_target_kind kind) {
  struct kp_rule *r = c->rule;
  r->target = kind;
  r->target_name = kind == KP_TARGET_DNAT ? "DNAT" : "SNAT";
  size_t i = c->i + 1;
  if (at(c, i, "ip") || at(c, i, "ip6"))
    i++;
  if (at(c, i, "to"))
    i++;
  c->i = i;
  if (!is_word(c, i) || at(c, i + 1, "map") || at(c, i + 1, "."))
    return 0;
  char text[128];
  nft_tok_copy(&c->t[i], text, sizeof(text));
  c->i = i + 1;
  if ((r->nat_text = nft_tok_dup(&c->snap->arena, &c->t[i])) == NULL)
    return -1;
  char *addr = text, *port = NULL;
  if (text[0] == '[') {
    addr = text + 1;
    char *close = strchr(addr, ']');
    if (close == NULL)
      return 0;
    *close = '\0';
    if (close[1] == ':')
      port = close + 2;
  } else {
    char *colon = strchr(text, ':');
    if (colon != NULL && strchr(colon + 1, ':') == NULL) {
      *colon = '\0';
      port = colon + 1;
    }
  }
  if (*addr != '\0')
    kp_addr_parse(&c->snap->arena, addr, &r->nat_addr);
  if (port != NULL)
    parse_ports(port, &r->nat_ports);
  return 0;
}

static int parse_vmap(struct rule_cursor *c) {
  size_t i = c->i + 1;
  if (i < c->n && c->t[i].type == NFT_WORD && c->t[i].n > 0 && c->t[i].p[0] == '@') {
    if (dup_word(c, i, &c->rule->vmap_set) != 0)
      return -1;
    c->i = i + 1;
    return 0;
  }
  if (i >= c->n || c->t[i].type != NFT_LBRACE) {
    c->i = i;
    return 0;
  }
  size_t end = skip_block(c, i);
  for (size_t k = i + 1; k + 1 < end; k++) {
    if ((nft_tok_is(&c->t[k], "goto") || nft_tok_is(&c->t[k], "jump")) && is_word(c, k + 1)) {
      char *name = nft_tok_dup(&c->snap->arena, &c->t[k + 1]);
      if (name == NULL)
        return -1;
      size_t len = strlen(name);
      if (len > 0 && name[len - 1] == ',')
        name[len - 1] = '\0';
      if (name[0] != '\0' && kp_rule_add_vmap_chain(c->snap, c->rule, name) != 0)
        return -1;
      k++;
    }
  }
  c->i = end;
  return 0;
}

/* "xt match recent", "xt target MARK": kept as text; a target names itself. */
static int parse_xt(struct rule_cursor *c) {
  size_t i = c->i + 1;
  bool target = at(c, i, "target");
  if (target && is_word(c, i + 1) && c->rule->target == KP_TARGET_NONE) {
    const char *name;
    if (dup_word(c, i + 1, &name) != 0)
      return -1;
    c->rule->target = kp_target_kind_from_name(name);
    c->rule->target_name = name;
  }
  c->i = i + 2;
  return 0;
}

static int parse_verdict(struct rule_cursor *c) {
  struct kp_rule *r = c->rule;
  const struct nft_token *k = &c->t[c->i];
  static const struct {
    const char *word;
    enum kp_target_kind kind;
    const char *name;
  } simple[] = {{"accept", KP_TARGET_ACCEPT, "ACCEPT"},
                {"drop", KP_TARGET_DROP, "DROP"},
                {"return", KP_TARGET_RETURN, "RETURN"}};
  for (size_t s = 0; s < sizeof(simple) / sizeof(simple[0]); s++) {
    if (nft_tok_is(k, simple[s].word)) {
      r->target = simple[s].kind;
      r->target_name = simple[s].name;
      c->i++;
      return 1;
    }
  }
  if ((nft_tok_is(k, "jump") || nft_tok_is(k, "goto")) && is_word(c, c->i + 1)) {
    r->target = nft_tok_is(k, "jump") ? KP_TARGET_JUMP : KP_TARGET_GOTO;
    if (dup_word(c, c->i + 1, &r->target_name) != 0)
      return -1;
    c->i += 2;
    return 1;
  }
  if (nft_tok_is(k, "reject")) {
    r->target = KP_TARGET_REJECT;
    r->target_name = "REJECT";
    size_t i = c->i + 1;
    if (at(c, i, "with")) {
      size_t start = ++i;
      while (is_word(c, i) && !at(c, i, "comment") && !at(c, i, "counter"))
        i++;
      if (i > start) {
        size_t len = (size_t)(c->t[i - 1].p + c->t[i - 1].n - c->t[start].p);
        if ((r->reject_with = kp_arena_strndup(&c->snap->arena, c->t[start].p, len)) == NULL)
          return -1;
      }
    }
    c->i = i;
    return 1;
  }
  if (nft_tok_is(k, "masquerade")) {
    r->target = KP_TARGET_MASQUERADE;
    r->target_name = "MASQUERADE";
    c->i++;
    return 1;
  }
  if (nft_tok_is(k, "fully-random") || nft_tok_is(k, "random-fully")) {
    r->random_fully = true;
    c->i++;
    return 1;
  }
  if (nft_tok_is(k, "dnat") || nft_tok_is(k, "snat"))
    return parse_nat(c, nft_tok_is(k, "dnat") ? KP_TARGET_DNAT : KP_TARGET_SNAT) == 0 ? 1 : -1;
  return 0;
}

static int parse_counter(struct rule_cursor *c) {
  struct kp_rule *r = c->rule;
  r->counters.present = true;
  size_t i = c->i + 1;
  for (int k = 0; k < 2; k++) {
    bool packets = at(c, i, "packets"), bytes = at(c, i, "bytes");
    if ((!packets && !bytes) || !is_word(c, i + 1))
      break;
    char text[32];
    nft_tok_copy(&c->t[i + 1], text, sizeof(text));
    uint64_t v = strtoull(text, NULL, 10);
    *(packets ? &r->counters.packets : &r->counters.bytes) = v;
    i += 2;
  }
  c->i = i;
  return 0;
}

int nft_parse_rule(struct kp_snapshot *snap, struct kp_rule *rule, const struct nft_token *toks,
                   size_t n) {
  struct rule_cursor c = {snap, rule, toks, n, 0};
  while (c.i < c.n) {
    const struct nft_token *k = &c.t[c.i];
    size_t before = c.i;
    int rc = 0;
    if (k->type == NFT_LBRACE) {
      c.i = skip_block(&c, c.i);
    } else if (k->type != NFT_WORD) {
      c.i++;
    } else if (nft_tok_is(k, "counter")) {
      rc = parse_counter(&c);
    } else if (nft_tok_is(k, "ip") || nft_tok_is(k, "ip6")) {
      rc = parse_ip(&c);
    } else if (nft_tok_is(k, "tcp") || nft_tok_is(k, "udp") || nft_tok_is(k, "sctp") ||
               nft_tok_is(k, "th")) {
      rc = parse_l4(&c);
    } else if (nft_tok_is(k, "meta")) {
      rc = parse_meta(&c);
    } else if (nft_tok_is(k, "mark")) {
      c.i = parse_mark(&c, c.i);
    } else if (nft_tok_is(k, "iifname") || nft_tok_is(k, "oifname")) {
      rc = parse_ifname(&c);
    } else if (nft_tok_is(k, "ct")) {
      rc = parse_ct(&c);
    } else if (nft_tok_is(k, "fib")) {
      rc = parse_fib(&c);
    } else if (nft_tok_is(k, "vmap")) {
      rc = parse_vmap(&c);
    } else if (nft_tok_is(k, "xt")) {
      rc = parse_xt(&c);
    } else if (nft_tok_is(k, "comment") && c.i + 1 < c.n) {
      rc = dup_word(&c, c.i + 1, &rule->comment);
      c.i += 2;
    } else {
      rc = parse_verdict(&c);
      if (rc == 0)
        c.i++; /* a statement this decoder does not need */
    }
    if (rc < 0)
      return -1;
    if (c.i <= before)
      c.i = before + 1; /* always progress, whatever the input */
  }
  return 0;
}
