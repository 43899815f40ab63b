/* The text after the address columns of an `iptables -L` rule line
 * (comment, matches, target options) into the rule's fields. */
#include "dump_ipt_internal.h"
#include "dump_ipt_span.h"

#include <stdio.h>
#include <string.h>

#define MAX_EXTRA 96 /* words of the text after the address columns */

static void extra_mark_target(struct kp_rule *rule, struct span op, struct span val) {
  uint32_t v, m;
  if (kp_ipt_parse_mark(val.p, val.n, &v, &m) != 0)
    return;
  if (sp_is(op, "or")) {
    rule->ext->xmark_value = v;
    rule->ext->xmark_mask = v;
  } else if (sp_is(op, "xor")) {
    rule->ext->xmark_value = v;
    rule->ext->xmark_mask = 0;
  } else if (sp_is(op, "and")) {
    rule->ext->xmark_value = 0;
    rule->ext->xmark_mask = ~v;
  } else if (sp_is(op, "set") || sp_is(op, "xset")) {
    rule->ext->xmark_value = v;
    rule->ext->xmark_mask = m;
  } else {
    return;
  }
  rule->ext->mark_target = true;
}

static const char *neg_copy(struct kp_snapshot *snap, struct span s, bool neg) {
  char *out = kp_arena_alloc(&snap->arena, s.n + 2);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  if (neg)
    out[o++] = '!';
  memcpy(out + o, s.p, s.n);
  return out;
}

/* What iptables prints after the destination column: match and target
 * details. Only the parts the model has fields for are read. */
void kp_ipt_list_extra(struct kp_snapshot *snap, struct kp_rule *rule, const char *s, size_t n) {
  struct span w[MAX_EXTRA];
  size_t count = 0, i = 0;
  if (kp_rule_ext_mut(snap, rule) == NULL)
    return; /* out of memory: as for the other copies here, the field stays unset */
  while (i < n && count < MAX_EXTRA) {
    while (i < n && is_blank(s[i]))
      i++;
    if (i >= n)
      break;
    if (n - i >= 3 && memcmp(s + i, "/* ", 3) == 0) { /* a comment, spaces and all */
      const char *end = memmem(s + i + 3, n - i - 3, " */", 3);
      if (end != NULL) {
        if (rule->comment == NULL)
          rule->comment = kp_ipt_strndup(snap, s + i + 3, (size_t)(end - (s + i + 3)));
        i = (size_t)(end - s) + 3;
        continue;
      }
    }
    size_t b = i;
    while (i < n && !is_blank(s[i]))
      i++;
    w[count].p = s + b;
    w[count].n = i - b;
    count++;
  }
  bool neg = false;
  for (i = 0; i < count; i++) {
    struct span x = w[i];
    bool has_next = i + 1 < count;
    if (sp_is(x, "!")) {
      neg = true;
      continue;
    }
    if (sp_starts(x, "dpt:") || sp_starts(x, "spt:") || sp_starts(x, "dpts:") ||
        sp_starts(x, "spts:")) {
      size_t skip = x.p[3] == ':' ? 4 : 5;
      struct kp_port_range *range = x.p[0] == 'd' ? &rule->dport : &rule->ext->sport;
      kp_ipt_parse_ports(x.p + skip, x.n - skip, ':', range);
    } else if (sp_is(x, "MARK") && rule->target == KP_TARGET_MARK && i + 2 < count) {
      extra_mark_target(rule, w[i + 1], w[i + 2]);
      i += 2;
    } else if (sp_is(x, "mark") && has_next && sp_is(w[i + 1], "match")) {
      i += 2;
      if (i < count && sp_is(w[i], "!")) {
        neg = true;
        i++;
      }
      if (i < count &&
          kp_ipt_parse_mark(w[i].p, w[i].n, &rule->ext->mark.value, &rule->ext->mark.mask) == 0) {
        rule->ext->mark.present = true;
        rule->ext->mark.negated = neg;
      }
    } else if ((sp_is(x, "src-type") || sp_is(x, "dst-type")) && has_next) {
      struct span v = w[++i];
      if (sp_is(v, "!") && i + 1 < count) {
        neg = true;
        v = w[++i];
      } else if (v.n > 1 && v.p[0] == '!') {
        neg = true;
        v.p++;
        v.n--;
      }
      bool src = x.p[0] == 's';
      *(src ? &rule->ext->src_type : &rule->ext->dst_type) = kp_ipt_strndup(snap, v.p, v.n);
      *(src ? &rule->ext->src_type_negated : &rule->ext->dst_type_negated) = neg;
    } else if (sp_is(x, "match-set") && has_next) {
      rule->ext->match_set = kp_ipt_strndup(snap, w[i + 1].p, w[i + 1].n);
      rule->ext->match_set_negated = neg;
      i++;
      if (i + 1 < count) {
        rule->ext->match_set_flags = kp_ipt_strndup(snap, w[i + 1].p, w[i + 1].n);
        i++;
      }
    } else if ((sp_is(x, "ctstate") || sp_is(x, "state")) && has_next) {
      i++;
      if (rule->ext->ctstate == NULL)
        rule->ext->ctstate = neg_copy(snap, w[i], neg);
    } else if (sp_is(x, "probability") && has_next) {
      rule->probability = kp_ipt_strndup(snap, w[i + 1].p, w[i + 1].n);
      i++;
    } else if (sp_starts(x, "to:") &&
               (rule->target == KP_TARGET_DNAT || rule->target == KP_TARGET_SNAT)) {
      rule->ext->nat_text = kp_ipt_strndup(snap, x.p + 3, x.n - 3);
      if (rule->ext->nat_text != NULL)
        kp_ipt_parse_nat_to(snap, rule, x.p + 3, x.n - 3);
    } else if (sp_is(x, "random-fully")) {
      rule->random_fully = true;
    } else if (sp_is(x, "reject-with") && has_next) {
      rule->ext->reject_with = kp_ipt_strndup(snap, w[i + 1].p, w[i + 1].n);
      i++;
    } else if (sp_is(x, "[goto]") && rule->target_name != NULL) {
      rule->target = KP_TARGET_GOTO;
    }
    neg = false;
  }
}
