/* nft rule verdicts and actions: accept/drop/return, jump/goto, reject,
 * masquerade, dnat/snat, verdict maps, xt targets, counters. */
#include "dump_nft_rule.h"

#include <stdlib.h>
#include <string.h>

/* "dnat to 10.0.0.1:80", "dnat ip to [fd00::1]:80", "snat to 1.2.3.4". */
static int nat_statement(struct kp_nft_rule_cursor *c, enum kp_target_kind kind) {
  struct kp_rule *r = c->rule;
  r->target = kind;
  r->target_name = kind == KP_TARGET_DNAT ? "DNAT" : "SNAT";
  size_t i = c->i + 1;
  if (kp_nft_at(c, i, "ip") || kp_nft_at(c, i, "ip6"))
    i++;
  if (kp_nft_at(c, i, "to"))
    i++;
  c->i = i;
  if (!kp_nft_is_word(c, i) || kp_nft_at(c, i + 1, "map") || kp_nft_at(c, i + 1, "."))
    return 0;
  char text[128];
  kp_nft_tok_copy(&c->t[i], text, sizeof(text));
  c->i = i + 1;
  if ((r->ext->nat_text = kp_nft_tok_dup(&c->snap->arena, &c->t[i])) == NULL)
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
    kp_nft_parse_ports(port, &r->nat_ports);
  return 0;
}

int kp_nft_stmt_vmap(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  if (i < c->n && c->t[i].type == KP_NFT_TOK_WORD && c->t[i].n > 0 && c->t[i].p[0] == '@') {
    if (kp_nft_dup_word(c, i, &c->rule->ext->vmap_set) != 0)
      return -1;
    c->i = i + 1;
    return 0;
  }
  if (i >= c->n || c->t[i].type != KP_NFT_TOK_LBRACE) {
    c->i = i;
    return 0;
  }
  size_t end = kp_nft_skip_block(c, i);
  for (size_t k = i + 1; k + 1 < end; k++) {
    if ((kp_nft_tok_is(&c->t[k], "goto") || kp_nft_tok_is(&c->t[k], "jump")) &&
        kp_nft_is_word(c, k + 1)) {
      char *name = kp_nft_tok_dup(&c->snap->arena, &c->t[k + 1]);
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
int kp_nft_stmt_xt(struct kp_nft_rule_cursor *c) {
  size_t i = c->i + 1;
  bool target = kp_nft_at(c, i, "target");
  if (target && kp_nft_is_word(c, i + 1) && c->rule->target == KP_TARGET_NONE) {
    const char *name;
    if (kp_nft_dup_word(c, i + 1, &name) != 0)
      return -1;
    c->rule->target = kp_target_kind_from_name(name);
    c->rule->target_name = name;
  }
  c->i = i + 2;
  return 0;
}

int kp_nft_stmt_counter(struct kp_nft_rule_cursor *c) {
  struct kp_rule *r = c->rule;
  r->counters.present = true;
  size_t i = c->i + 1;
  for (int k = 0; k < 2; k++) {
    bool packets = kp_nft_at(c, i, "packets"), bytes = kp_nft_at(c, i, "bytes");
    if ((!packets && !bytes) || !kp_nft_is_word(c, i + 1))
      break;
    char text[32];
    kp_nft_tok_copy(&c->t[i + 1], text, sizeof(text));
    uint64_t v = strtoull(text, NULL, 10);
    if (packets)
      r->counters.packets = v;
    else
      r->counters.bytes = v;
    i += 2;
  }
  c->i = i;
  return 0;
}

int kp_nft_stmt_simple_verdict(struct kp_nft_rule_cursor *c) {
  static const struct {
    const char *word;
    enum kp_target_kind kind;
    const char *name;
  } simple[] = {{"accept", KP_TARGET_ACCEPT, "ACCEPT"},
                {"drop", KP_TARGET_DROP, "DROP"},
                {"return", KP_TARGET_RETURN, "RETURN"}};
  for (size_t s = 0; s < sizeof(simple) / sizeof(simple[0]); s++) {
    if (kp_nft_tok_is(&c->t[c->i], simple[s].word)) {
      c->rule->target = simple[s].kind;
      c->rule->target_name = simple[s].name;
      break;
    }
  }
  c->i++;
  return 0;
}

int kp_nft_stmt_jump(struct kp_nft_rule_cursor *c) {
  struct kp_rule *r = c->rule;
  if (!kp_nft_is_word(c, c->i + 1)) {
    c->i++;
    return 0;
  }
  r->target = kp_nft_tok_is(&c->t[c->i], "jump") ? KP_TARGET_JUMP : KP_TARGET_GOTO;
  if (kp_nft_dup_word(c, c->i + 1, &r->target_name) != 0)
    return -1;
  c->i += 2;
  return 0;
}

int kp_nft_stmt_reject(struct kp_nft_rule_cursor *c) {
  struct kp_rule *r = c->rule;
  r->target = KP_TARGET_REJECT;
  r->target_name = "REJECT";
  size_t i = c->i + 1;
  if (kp_nft_at(c, i, "with")) {
    size_t start = ++i;
    while (kp_nft_is_word(c, i) && !kp_nft_at(c, i, "comment") && !kp_nft_at(c, i, "counter"))
      i++;
    if (i > start) {
      size_t len = (size_t)(c->t[i - 1].p + c->t[i - 1].n - c->t[start].p);
      if ((r->ext->reject_with = kp_arena_strndup(&c->snap->arena, c->t[start].p, len)) == NULL)
        return -1;
    }
  }
  c->i = i;
  return 0;
}

int kp_nft_stmt_masquerade(struct kp_nft_rule_cursor *c) {
  c->rule->target = KP_TARGET_MASQUERADE;
  c->rule->target_name = "MASQUERADE";
  c->i++;
  return 0;
}

int kp_nft_stmt_random_fully(struct kp_nft_rule_cursor *c) {
  c->rule->random_fully = true;
  c->i++;
  return 0;
}

int kp_nft_stmt_nat(struct kp_nft_rule_cursor *c) {
  return nat_statement(c, kp_nft_tok_is(&c->t[c->i], "dnat") ? KP_TARGET_DNAT : KP_TARGET_SNAT);
}
