/* `nft -j` rule expressions into the kp_rule fields the checks use, the
 * same fields the text decoder (dump_nft_rule.c) fills for the same rule:
 * one handler per statement ("match", "counter", "jump", "dnat", ...) and,
 * for "match", one per kind of left-hand side (payload, meta, ct, fib, the
 * "&" of a masked mark). Statements it does not know are skipped. */
#include "dump_nft_json.h"
#include "dump_nft_rule.h"

#include "kp/names.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct json_rule {
  struct kp_snapshot *snap;
  struct kp_rule *rule;
};

static const char *str_of(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool scalar_text(const json_t *v, char *out, size_t cap) {
  if (json_is_string(v))
    return (size_t)snprintf(out, cap, "%s", json_string_value(v)) < cap;
  if (json_is_integer(v))
    return (size_t)snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < cap;
  return false;
}

bool kp_nft_json_text(const json_t *value, char *out, size_t cap) {
  if (cap == 0)
    return false;
  if (scalar_text(value, out, cap))
    return true;
  if (!json_is_object(value))
    return false;
  const json_t *prefix = json_object_get(value, "prefix");
  const json_t *range = json_object_get(value, "range");
  const json_t *concat = json_object_get(value, "concat");
  char a[256], b[256];
  if (json_is_object(prefix))
    return scalar_text(json_object_get(prefix, "addr"), a, sizeof(a)) &&
           scalar_text(json_object_get(prefix, "len"), b, sizeof(b)) &&
           (size_t)snprintf(out, cap, "%s/%s", a, b) < cap;
  if (json_is_array(range) && json_array_size(range) == 2)
    return scalar_text(json_array_get(range, 0), a, sizeof(a)) &&
           scalar_text(json_array_get(range, 1), b, sizeof(b)) &&
           (size_t)snprintf(out, cap, "%s-%s", a, b) < cap;
  if (!json_is_array(concat) || json_array_size(concat) == 0)
    return false;
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < json_array_size(concat); i++) {
    if (!kp_nft_json_text(json_array_get(concat, i), a, sizeof(a)))
      return false;
    int n = snprintf(out + used, cap - used, "%s%s", i ? " . " : "", a);
    if (n < 0 || (size_t)n >= cap - used)
      return false;
    used += (size_t)n;
  }
  return true;
}

/* The single value of a right-hand side: a scalar, a prefix/range, or a
 * one-element anonymous set {"set": [x]} (the text's "{ x }"). */
static bool single_value(const json_t *right, char *out, size_t cap) {
  const json_t *set = json_is_object(right) ? json_object_get(right, "set") : NULL;
  if (json_is_array(set))
    return json_array_size(set) == 1 && single_value(json_array_get(set, 0), out, cap);
  if (json_is_object(right) && json_object_get(right, "concat") != NULL)
    return false;
  return kp_nft_json_text(right, out, cap) && out[0] != '@';
}

static bool parse_u32(const json_t *v, uint32_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffffffffLL)
    return false;
  *out = (uint32_t)json_integer_value(v);
  return true;
}

static void set_proto(struct kp_rule *rule, const char *name, bool negated) {
  int proto = kp_proto_from_nft_name(name, strlen(name));
  if (proto < 0)
    return;
  rule->proto_present = true;
  rule->proto_negated = negated;
  rule->proto = (uint8_t)proto;
}

static bool parse_ports(const char *s, struct kp_port_range *out) {
  unsigned lo, hi;
  int used = 0;
  if (sscanf(s, "%5u%n", &lo, &used) != 1 || lo > 65535)
    return false;
  hi = lo;
  if (s[used] == '-') {
    int more = 0;
    if (sscanf(s + used + 1, "%5u%n", &hi, &more) != 1 || hi > 65535 || hi < lo)
      return false;
    used += 1 + more;
  }
  if (s[used] != '\0' || s[0] < '0' || s[0] > '9')
    return false;
  out->present = true;
  out->lo = (uint16_t)lo;
  out->hi = (uint16_t)hi;
  return true;
}

/* ---- match: one handler per left-hand side ------------------------------ */

struct match {
  const json_t *left_body; /* the object under the left-hand side's key */
  const json_t *right;
  bool negated;
};

static int match_payload(struct json_rule *r, const struct match *m) {
  const char *protocol = str_of(m->left_body, "protocol"), *field = str_of(m->left_body, "field");
  char value[128];
  if (protocol == NULL || field == NULL || !single_value(m->right, value, sizeof(value)))
    return 0;
  bool ip = strcmp(protocol, "ip") == 0 || strcmp(protocol, "ip6") == 0;
  if (ip && (strcmp(field, "saddr") == 0 || strcmp(field, "daddr") == 0)) {
    struct kp_addr addr;
    if (kp_addr_parse(&r->snap->arena, value, &addr) == 0) {
      addr.negated = m->negated;
      *(field[0] == 's' ? &r->rule->src : &r->rule->dst) = addr;
    }
  } else if (ip && (strcmp(field, "protocol") == 0 || strcmp(field, "nexthdr") == 0)) {
    set_proto(r->rule, value, m->negated);
  } else if (!ip && (strcmp(field, "dport") == 0 || strcmp(field, "sport") == 0)) {
    struct kp_port_range range = {0};
    if (parse_ports(value, &range)) {
      range.negated = m->negated;
      *(field[0] == 'd' ? &r->rule->dport : &r->rule->ext->sport) = range;
    }
    if (!r->rule->proto_present && strcmp(protocol, "th") != 0)
      set_proto(r->rule, protocol, false);
  }
  return 0;
}

static void set_mark(struct kp_rule *rule, uint32_t value, uint32_t mask, bool negated) {
  rule->ext->mark.present = true;
  rule->ext->mark.negated = negated;
  rule->ext->mark.value = value;
  rule->ext->mark.mask = mask;
}

static int match_meta(struct json_rule *r, const struct match *m) {
  const char *key = str_of(m->left_body, "key");
  char value[64];
  uint32_t mark;
  if (key == NULL)
    return 0;
  if (strcmp(key, "mark") == 0) {
    if (parse_u32(m->right, &mark))
      set_mark(r->rule, mark, 0xffffffffu, m->negated);
    return 0;
  }
  if (!single_value(m->right, value, sizeof(value)))
    return 0;
  if (strcmp(key, "l4proto") == 0) {
    set_proto(r->rule, value, m->negated);
  } else if (strcmp(key, "iifname") == 0 || strcmp(key, "oifname") == 0) {
    size_t len = strlen(value) + 2;
    char *name = kp_arena_alloc(&r->snap->arena, len);
    if (name == NULL)
      return -1;
    snprintf(name, len, "%s%s", m->negated ? "!" : "", value); /* as iptables -L shows it */
    *(key[0] == 'i' ? &r->rule->ext->in_iface : &r->rule->ext->out_iface) = name;
  }
  return 0;
}

/* "ct state new" / ["established", "related"]: "NEW", "ESTABLISHED,RELATED". */
static int match_ct(struct json_rule *r, const struct match *m) {
  const char *key = str_of(m->left_body, "key");
  if (key == NULL || strcmp(key, "state") != 0)
    return 0;
  char text[128];
  size_t used = 0;
  text[0] = '\0';
  size_t count = json_is_array(m->right) ? json_array_size(m->right) : 1;
  for (size_t i = 0; i < count; i++) {
    const json_t *v = json_is_array(m->right) ? json_array_get(m->right, i) : m->right;
    if (!json_is_string(v))
      continue;
    int n =
        snprintf(text + used, sizeof(text) - used, "%s%s", used ? "," : "", json_string_value(v));
    if (n < 0 || (size_t)n >= sizeof(text) - used)
      break;
    used += (size_t)n;
  }
  if (used > 0 &&
      (r->rule->ext->ctstate = kp_nft_upper_dup(&r->snap->arena, text, m->negated)) == NULL)
    return -1;
  return 0;
}

static int match_fib(struct json_rule *r, const struct match *m) {
  const json_t *flags = json_object_get(m->left_body, "flags");
  const char *result = str_of(m->left_body, "result");
  char value[32];
  if (result == NULL || strcmp(result, "type") != 0 || !json_is_array(flags) ||
      !single_value(m->right, value, sizeof(value)))
    return 0;
  const char *which = NULL;
  for (size_t i = 0; i < json_array_size(flags); i++) {
    const char *f = json_string_value(json_array_get(flags, i));
    if (f != NULL && (strcmp(f, "saddr") == 0 || strcmp(f, "daddr") == 0))
      which = f;
  }
  if (which == NULL)
    return 0;
  char *type = kp_nft_upper_dup(&r->snap->arena, value, false);
  if (type == NULL)
    return -1;
  *(which[0] == 's' ? &r->rule->ext->src_type : &r->rule->ext->dst_type) = type;
  *(which[0] == 's' ? &r->rule->ext->src_type_negated : &r->rule->ext->dst_type_negated) =
      m->negated;
  return 0;
}

/* {"&": [{"meta": {"key": "mark"}}, 16384]} == 0: a masked mark. */
static int match_masked(struct json_rule *r, const struct match *m) {
  const json_t *operands = m->left_body;
  const json_t *meta = json_object_get(json_array_get(operands, 0), "meta");
  const char *key = meta != NULL ? str_of(meta, "key") : NULL;
  uint32_t mask, value;
  if (json_array_size(operands) == 2 && key != NULL && strcmp(key, "mark") == 0 &&
      parse_u32(json_array_get(operands, 1), &mask) && parse_u32(m->right, &value))
    set_mark(r->rule, value, mask, m->negated);
  return 0;
}

static const struct {
  const char *left;
  int (*parse)(struct json_rule *r, const struct match *m);
} matches[] = {
    {"payload", match_payload}, {"meta", match_meta}, {"ct", match_ct},
    {"fib", match_fib},         {"&", match_masked},
};

static int stmt_match(struct json_rule *r, const json_t *body) {
  const char *op = str_of(body, "op");
  const json_t *left = json_object_get(body, "left");
  struct match m = {.right = json_object_get(body, "right"),
                    .negated = op != NULL && strcmp(op, "!=") == 0};
  if (!json_is_object(left) || m.right == NULL)
    return 0;
  for (size_t k = 0; k < sizeof(matches) / sizeof(matches[0]); k++)
    if ((m.left_body = json_object_get(left, matches[k].left)) != NULL)
      return matches[k].parse(r, &m);
  return 0;
}

/* ---- statements ------------------------------------------------------------ */

static int stmt_counter(struct json_rule *r, const json_t *body) {
  struct kp_counters c = kp_rule_counters(r->rule);
  c.present = true;
  const json_t *packets = json_object_get(body, "packets"), *bytes = json_object_get(body, "bytes");
  if (json_is_integer(packets) && json_integer_value(packets) >= 0)
    c.packets = (uint64_t)json_integer_value(packets);
  if (json_is_integer(bytes) && json_integer_value(bytes) >= 0)
    c.bytes = (uint64_t)json_integer_value(bytes);
  kp_rule_set_counters(r->rule, &c);
  return 0;
}

static int verdict(struct json_rule *r, enum kp_target_kind kind, const char *name) {
  r->rule->target = kind;
  r->rule->target_name = name;
  return 0;
}

static int stmt_accept(struct json_rule *r, const json_t *body) {
  (void)body;
  return verdict(r, KP_TARGET_ACCEPT, "ACCEPT");
}

static int stmt_drop(struct json_rule *r, const json_t *body) {
  (void)body;
  return verdict(r, KP_TARGET_DROP, "DROP");
}

static int stmt_return(struct json_rule *r, const json_t *body) {
  (void)body;
  return verdict(r, KP_TARGET_RETURN, "RETURN");
}

static int jump_or_goto(struct json_rule *r, const json_t *body, enum kp_target_kind kind) {
  const char *target = str_of(body, "target");
  if (target == NULL)
    return 0;
  r->rule->target = kind;
  return (r->rule->target_name = kp_arena_strdup(&r->snap->arena, target)) != NULL ? 0 : -1;
}

static int stmt_jump(struct json_rule *r, const json_t *body) {
  return jump_or_goto(r, body, KP_TARGET_JUMP);
}

static int stmt_goto(struct json_rule *r, const json_t *body) {
  return jump_or_goto(r, body, KP_TARGET_GOTO);
}

/* nft's text leaves the default reject (port-unreachable) without "with". */
static int stmt_reject(struct json_rule *r, const json_t *body) {
  verdict(r, KP_TARGET_REJECT, "REJECT");
  const char *type = str_of(body, "type"), *expr = str_of(body, "expr");
  if (type == NULL || (expr != NULL && strcmp(expr, "port-unreachable") == 0))
    return 0;
  char text[128];
  snprintf(text, sizeof(text), "%s%s%s", type, expr != NULL ? " " : "", expr != NULL ? expr : "");
  return (r->rule->ext->reject_with = kp_arena_strdup(&r->snap->arena, text)) != NULL ? 0 : -1;
}

static bool has_flag(const json_t *body, const char *flag) {
  const json_t *flags = json_object_get(body, "flags");
  if (json_is_string(flags))
    return strcmp(json_string_value(flags), flag) == 0;
  for (size_t i = 0; json_is_array(flags) && i < json_array_size(flags); i++)
    if (json_is_string(json_array_get(flags, i)) &&
        strcmp(json_string_value(json_array_get(flags, i)), flag) == 0)
      return true;
  return false;
}

static int stmt_masquerade(struct json_rule *r, const json_t *body) {
  verdict(r, KP_TARGET_MASQUERADE, "MASQUERADE");
  r->rule->random_fully = has_flag(body, "fully-random");
  return 0;
}

/* {"addr": "10.180.0.1", "port": 80}: nat_text "10.180.0.1:80" as the text
 * parser keeps it ("[fd00::1]:80" for IPv6). */
static int nat(struct json_rule *r, const json_t *body, enum kp_target_kind kind) {
  struct kp_rule *rule = r->rule;
  verdict(r, kind, kind == KP_TARGET_DNAT ? "DNAT" : "SNAT");
  char addr[128], port[32], text[200];
  const json_t *port_v = json_object_get(body, "port");
  if (!scalar_text(json_object_get(body, "addr"), addr, sizeof(addr)))
    return 0;
  bool has_port = port_v != NULL && kp_nft_json_text(port_v, port, sizeof(port));
  bool v6 = strchr(addr, ':') != NULL;
  snprintf(text, sizeof(text), "%s%s%s%s%s", v6 && has_port ? "[" : "", addr,
           v6 && has_port ? "]" : "", has_port ? ":" : "", has_port ? port : "");
  if ((rule->ext->nat_text = kp_arena_strdup(&r->snap->arena, text)) == NULL)
    return -1;
  kp_addr_parse(&r->snap->arena, addr, &rule->nat_addr);
  if (has_port)
    parse_ports(port, &rule->nat_ports);
  return 0;
}

static int stmt_dnat(struct json_rule *r, const json_t *body) {
  return nat(r, body, KP_TARGET_DNAT);
}

static int stmt_snat(struct json_rule *r, const json_t *body) {
  return nat(r, body, KP_TARGET_SNAT);
}

/* "meta mark set meta mark | 0x4000" -> xmark, as libxt_MARK would. */
static int stmt_mangle(struct json_rule *r, const json_t *body) {
  const json_t *key = json_object_get(json_object_get(body, "key"), "meta");
  const char *key_name = key != NULL ? str_of(key, "key") : NULL;
  const json_t *value = json_object_get(body, "value");
  struct kp_rule *rule = r->rule;
  uint32_t v;
  if (key_name == NULL || strcmp(key_name, "mark") != 0)
    return 0;
  if (parse_u32(value, &v)) {
    rule->ext->xmark_value = v;
    rule->ext->xmark_mask = 0xffffffffu;
  } else {
    static const char *const ops[] = {"|", "^", "&"};
    size_t k = 0;
    const json_t *operands = NULL;
    for (; k < 3 && (operands = json_object_get(value, ops[k])) == NULL; k++)
      ;
    if (k == 3 || !parse_u32(json_array_get(operands, 1), &v))
      return 0;
    rule->ext->xmark_value = k == 2 ? 0 : v;
    rule->ext->xmark_mask = k == 0 ? v : k == 1 ? 0 : ~v;
  }
  rule->ext->mark_target = true;
  if (rule->target == KP_TARGET_NONE)
    verdict(r, KP_TARGET_MARK, "MARK");
  return 0;
}

static int stmt_vmap(struct json_rule *r, const json_t *body) {
  const json_t *data = json_object_get(body, "data");
  if (json_is_string(data)) {
    const char *name = json_string_value(data);
    if (name[0] == '@')
      return (r->rule->ext->vmap_set = kp_arena_strdup(&r->snap->arena, name)) != NULL ? 0 : -1;
    return 0;
  }
  const json_t *elems = json_object_get(data, "set");
  for (size_t i = 0; json_is_array(elems) && i < json_array_size(elems); i++) {
    const json_t *v = json_array_get(json_array_get(elems, i), 1);
    const json_t *to = json_object_get(v, "goto");
    if (to == NULL)
      to = json_object_get(v, "jump");
    const char *target = to != NULL ? str_of(to, "target") : NULL;
    if (target != NULL && target[0] != '\0' &&
        kp_rule_add_vmap_chain(r->snap, r->rule, target) != 0)
      return -1;
  }
  return 0;
}

/* {"xt": {"type": "target", "name": "MARK"}}: a target names itself. */
static int stmt_xt(struct json_rule *r, const json_t *body) {
  const char *type = str_of(body, "type"), *name = str_of(body, "name");
  if (type == NULL || name == NULL || strcmp(type, "target") != 0 ||
      r->rule->target != KP_TARGET_NONE)
    return 0;
  if ((r->rule->target_name = kp_arena_strdup(&r->snap->arena, name)) == NULL)
    return -1;
  r->rule->target = kp_target_kind_from_name(name);
  return 0;
}

static const struct {
  const char *statement;
  int (*parse)(struct json_rule *r, const json_t *body);
} statements[] = {
    {"match", stmt_match}, {"counter", stmt_counter}, {"accept", stmt_accept},
    {"drop", stmt_drop},   {"return", stmt_return},   {"jump", stmt_jump},
    {"goto", stmt_goto},   {"reject", stmt_reject},   {"masquerade", stmt_masquerade},
    {"dnat", stmt_dnat},   {"snat", stmt_snat},       {"mangle", stmt_mangle},
    {"vmap", stmt_vmap},   {"xt", stmt_xt},
};

int kp_nft_json_rule(struct kp_snapshot *snap, struct kp_rule *rule, const json_t *expr) {
  struct json_rule r = {snap, rule};
  /* A dump's rule always has its extension: the statements write into it. */
  if (kp_rule_ext_mut(snap, rule) == NULL)
    return -1;
  for (size_t i = 0; i < json_array_size(expr); i++) {
    const json_t *stmt = json_array_get(expr, i);
    if (!json_is_object(stmt))
      continue;
    for (size_t k = 0; k < sizeof(statements) / sizeof(statements[0]); k++) {
      const json_t *body = json_object_get(stmt, statements[k].statement);
      if (body != NULL && statements[k].parse(&r, body) != 0)
        return -1;
    }
  }
  return 0;
}
