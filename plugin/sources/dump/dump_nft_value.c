/* Value helpers the nft statement handlers (dump_nft_match.c,
 * dump_nft_verdict.c) and the rule decoder (dump_nft_rule.c) share: value
 * positions and single values, brace blocks, numbers, port ranges,
 * protocols, arena copies. They call nothing of the decoder, so every
 * statement file can use them without a call loop. */
#include "dump_nft_rule.h"

#include "kp/names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Index just past the brace block opening at i. */
size_t kp_nft_skip_block(const struct kp_nft_rule_cursor *c, size_t i) {
  size_t depth = 0;
  for (; i < c->n; i++) {
    if (c->t[i].type == KP_NFT_TOK_LBRACE)
      depth++;
    else if (c->t[i].type == KP_NFT_TOK_RBRACE && depth > 0 && --depth == 0)
      return i + 1;
  }
  return c->n;
}

/* A value position: skips "==", notes "!=". Returns false when what follows
 * is not a value (a concatenation "." or a map lookup). */
bool kp_nft_value_start(const struct kp_nft_rule_cursor *c, size_t *i, bool *negated) {
  *negated = false;
  if (kp_nft_at(c, *i, "==")) {
    (*i)++;
  } else if (kp_nft_at(c, *i, "!=")) {
    *negated = true;
    (*i)++;
  }
  if (*i >= c->n)
    return false;
  if (c->t[*i].type == KP_NFT_TOK_LBRACE)
    return true;
  return kp_nft_is_word(c, *i) && !kp_nft_at(c, *i, ".") && !kp_nft_at(c, *i, "vmap") &&
         !kp_nft_at(c, *i, "map");
}

/* The single element of "{ x }", or the word itself. Advances past the
 * value. False for a set of several elements, a named set or a concatenation. */
bool kp_nft_single_value(const struct kp_nft_rule_cursor *c, size_t *i, char *out, size_t cap) {
  bool ok = false;
  out[0] = '\0'; /* "{ a b }" or "{ }" copies nothing: out is read below */
  if (c->t[*i].type == KP_NFT_TOK_LBRACE) {
    size_t end = kp_nft_skip_block(c, *i);
    if (end == *i + 3 && kp_nft_is_word(c, *i + 1)) {
      kp_nft_tok_copy(&c->t[*i + 1], out, cap);
      ok = true;
    }
    *i = end;
  } else {
    kp_nft_tok_copy(&c->t[*i], out, cap);
    ok = out[0] != '@';
    (*i)++;
  }
  if (*i < c->n && kp_nft_at(c, *i, "."))
    ok = false; /* part of a concatenation */
  size_t len = strlen(out);
  if (len > 0 && out[len - 1] == ',')
    out[len - 1] = '\0';
  return ok;
}

int kp_nft_dup_word(struct kp_nft_rule_cursor *c, size_t i, const char **out) {
  char *s = kp_nft_tok_dup(&c->snap->arena, &c->t[i]);
  if (s == NULL)
    return -1;
  size_t len = strlen(s);
  if (len > 0 && s[len - 1] == ',')
    s[len - 1] = '\0';
  *out = s;
  return 0;
}

char *kp_nft_upper_dup(struct kp_arena *arena, const char *s, bool negated) {
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

bool kp_nft_parse_u32(const char *s, uint32_t *out) {
  char *end;
  if (*s == '\0')
    return false;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end != '\0' || v > 0xffffffffULL)
    return false;
  *out = (uint32_t)v;
  return true;
}

bool kp_nft_parse_ports(const char *s, struct kp_port_range *out) {
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

void kp_nft_set_proto(struct kp_nft_rule_cursor *c, const char *name, bool negated) {
  int proto = kp_proto_from_nft_name(name, strlen(name));
  if (proto < 0)
    return;
  c->rule->proto_present = true;
  c->rule->proto_negated = negated;
  c->rule->proto = (uint8_t)proto;
}
