/* `nft -j list ruleset` (jansson) against the text parser: the corpus holds
 * the same kube-proxy nftables-mode ruleset in both forms; the snapshots
 * must be equal field by field (everything the checks read; not the rule
 * text, line or source). Plus hostile JSON: errors, never a crash. */
#include "dump_parsers.h"
#include "kp/dump.h"
#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CORPUS_NFT KP_SOURCE_DIR "/../shared/corpus/kube-proxy/nftables/derived/"
#define PAIR CORPUS_NFT "overall-mixed-services.nft-list-ruleset"
#define FIXTURE KP_SOURCE_DIR "/tests/fixtures/parse/nft-j-kube-proxy-nftables-mode"

static int parse_one(struct kp_snapshot *snap, const char *path, enum kp_dump_format want) {
  size_t len;
  char *buf = tdi_slurp(path, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_eq(kp_dump_detect(buf, len), want);
  struct kp_dump_error err;
  int rc = kp_dump_parse_buffer(snap, path, buf, len, &err);
  ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  free(buf);
  return rc;
}

static void same_str(const char *a, const char *b, const char *what, const char *where) {
  ck_assert_msg((a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0),
                "%s %s: text \"%s\" vs json \"%s\"", where, what, a ? a : "(null)",
                b ? b : "(null)");
}

static void same_addr(const struct kp_addr *a, const struct kp_addr *b, const char *where) {
  ck_assert_msg(a->kind == b->kind && a->prefix_len == b->prefix_len && a->negated == b->negated &&
                    memcmp(a->bytes, b->bytes, 16) == 0,
                "%s: address differs", where);
}

static void same_ports(const struct kp_port_range *a, const struct kp_port_range *b,
                       const char *where) {
  ck_assert_msg(a->present == b->present && a->negated == b->negated && a->lo == b->lo &&
                    a->hi == b->hi,
                "%s: ports %u-%u vs %u-%u", where, a->lo, a->hi, b->lo, b->hi);
}

static void same_rule(const struct kp_rule *a, const struct kp_rule *b, const char *where) {
  same_addr(&a->src, &b->src, where);
  same_addr(&a->dst, &b->dst, where);
  same_addr(&a->nat_addr, &b->nat_addr, where);
  ck_assert_msg(a->proto_present == b->proto_present && a->proto == b->proto &&
                    a->proto_negated == b->proto_negated,
                "%s: protocol", where);
  same_ports(&kp_rule_ext(a)->sport, &kp_rule_ext(b)->sport, where);
  same_ports(&a->dport, &b->dport, where);
  same_ports(&a->nat_ports, &b->nat_ports, where);
  ck_assert_msg(kp_rule_ext(a)->mark.present == kp_rule_ext(b)->mark.present &&
                    kp_rule_ext(a)->mark.value == kp_rule_ext(b)->mark.value &&
                    kp_rule_ext(a)->mark.mask == kp_rule_ext(b)->mark.mask &&
                    kp_rule_ext(a)->mark.negated == kp_rule_ext(b)->mark.negated,
                "%s: mark match", where);
  ck_assert_msg(kp_rule_ext(a)->mark_target == kp_rule_ext(b)->mark_target &&
                    kp_rule_ext(a)->xmark_value == kp_rule_ext(b)->xmark_value &&
                    kp_rule_ext(a)->xmark_mask == kp_rule_ext(b)->xmark_mask,
                "%s: mark target", where);
  ck_assert_msg(a->counters.present == b->counters.present &&
                    a->counters.packets == b->counters.packets &&
                    a->counters.bytes == b->counters.bytes,
                "%s: counters", where);
  ck_assert_msg(a->target == b->target, "%s: target kind %d vs %d", where, a->target, b->target);
  ck_assert_msg(a->random_fully == b->random_fully, "%s: random-fully", where);
  ck_assert_msg(kp_rule_ext(a)->src_type_negated == kp_rule_ext(b)->src_type_negated &&
                    kp_rule_ext(a)->dst_type_negated == kp_rule_ext(b)->dst_type_negated,
                "%s: addrtype negation", where);
  same_str(a->target_name, b->target_name, "target", where);
  same_str(a->comment, b->comment, "comment", where);
  same_str(kp_rule_ext(a)->in_iface, kp_rule_ext(b)->in_iface, "in", where);
  same_str(kp_rule_ext(a)->out_iface, kp_rule_ext(b)->out_iface, "out", where);
  same_str(kp_rule_ext(a)->src_type, kp_rule_ext(b)->src_type, "src type", where);
  same_str(kp_rule_ext(a)->dst_type, kp_rule_ext(b)->dst_type, "dst type", where);
  same_str(kp_rule_ext(a)->ctstate, kp_rule_ext(b)->ctstate, "ctstate", where);
  same_str(tsb_nat_text(a), tsb_nat_text(b), "nat", where);
  same_str(kp_rule_ext(a)->reject_with, kp_rule_ext(b)->reject_with, "reject with", where);
  same_str(kp_rule_ext(a)->vmap_set, kp_rule_ext(b)->vmap_set, "vmap set", where);
  ck_assert_msg(kp_rule_ext(a)->n_vmap_chains == kp_rule_ext(b)->n_vmap_chains, "%s: vmap chains",
                where);
  for (size_t i = 0; i < kp_rule_ext(a)->n_vmap_chains; i++)
    same_str(kp_rule_ext(a)->vmap_chains[i], kp_rule_ext(b)->vmap_chains[i], "vmap chain", where);
}

static void same_set(const struct kp_set *a, const struct kp_set *b) {
  same_str(a->type, b->type, "type", a->name);
  ck_assert_msg(a->is_map == b->is_map, "%s: is_map", a->name);
  ck_assert_msg(a->elems.count == b->elems.count, "%s: %zu vs %zu elements", a->name,
                a->elems.count, b->elems.count);
  for (size_t i = 0; i < a->elems.count; i++) {
    const struct kp_set_elem *x = a->elems.items[i], *y = b->elems.items[i];
    same_str(x->key, y->key, "key", a->name);
    same_str(x->verdict, y->verdict, "verdict", a->name);
    same_str(x->chain, y->chain, "chain", a->name);
    same_str(x->comment, y->comment, "element comment", a->name);
  }
}

static void same_snapshot(const struct kp_snapshot *text, const struct kp_snapshot *json,
                          size_t want_rules, size_t want_elems) {
  ck_assert_uint_eq(text->tables.count, json->tables.count);
  size_t rules = 0, elems = 0;
  for (size_t t = 0; t < text->tables.count; t++) {
    const struct kp_table *a = text->tables.items[t], *b = json->tables.items[t];
    ck_assert_str_eq(a->name, b->name);
    ck_assert_int_eq(a->family, b->family);
    ck_assert_int_eq(a->backend, b->backend);
    ck_assert_int_eq(a->native_nft, b->native_nft);
    ck_assert_uint_eq(a->chains.count, b->chains.count);
    ck_assert_uint_eq(a->sets.count, b->sets.count);
    for (size_t c = 0; c < a->chains.count; c++) {
      const struct kp_chain *x = a->chains.items[c];
      const struct kp_chain *y = kp_table_chain(b, x->name);
      ck_assert_msg(y != NULL, "chain %s missing from the JSON snapshot", x->name);
      ck_assert_int_eq(x->builtin, y->builtin);
      ck_assert_int_eq(x->declared, y->declared);
      same_str(kp_chain_ext(x)->hook, kp_chain_ext(y)->hook, "hook", x->name);
      same_str(kp_chain_ext(x)->policy, kp_chain_ext(y)->policy, "policy", x->name);
      ck_assert_msg(x->rules.count == y->rules.count, "%s: %zu vs %zu rules", x->name,
                    x->rules.count, y->rules.count);
      for (size_t r = 0; r < x->rules.count; r++) {
        char where[600];
        snprintf(where, sizeof(where), "%s rule %zu", x->name, r);
        same_rule(x->rules.items[r], y->rules.items[r], where);
        rules++;
      }
    }
    for (size_t s = 0; s < a->sets.count; s++) {
      const struct kp_set *x = a->sets.items[s];
      const struct kp_set *y = kp_table_set(b, x->name);
      ck_assert_msg(y != NULL, "set %s missing from the JSON snapshot", x->name);
      same_set(x, y);
      elems += x->elems.count;
    }
  }
  /* The pair really holds something to compare. */
  ck_assert_uint_eq(rules, want_rules);
  ck_assert_uint_eq(elems, want_elems);
}

START_TEST(json_equals_text) {
  if (access(PAIR ".json", R_OK) != 0) {
    printf("SKIP: shared corpus not present at %s\n", CORPUS_NFT);
    return;
  }
  struct kp_snapshot *text = kp_snapshot_new(), *json = kp_snapshot_new();
  parse_one(text, PAIR ".txt", KP_DUMP_NFT);
  parse_one(json, PAIR ".json", KP_DUMP_NFT_JSON);
  /* Counted by hand in the corpus files: 57 rules; 6+1+1+1+3+9+3 set and
   * map elements. */
  same_snapshot(text, json, 57, 24);
  ck_assert_int_eq(kp_snapshot_finalize(text), 0);
  ck_assert_int_eq(kp_snapshot_finalize(json), 0);
  same_snapshot(text, json, 57, 24);
  kp_snapshot_free(text);
  kp_snapshot_free(json);
}
END_TEST

/* The same pair captured here: make-nft-ruleset.sh loaded with nft -f in a
 * kp- namespace, then `nft list ruleset` and `nft -j list ruleset` (nftables
 * 1.0.6, tests/fixtures/README.md). 49 rules, 11 elements (counted in the
 * JSON with python). */
START_TEST(json_equals_text_captured) {
  struct kp_snapshot *text = kp_snapshot_new(), *json = kp_snapshot_new();
  parse_one(text, FIXTURE ".nft", KP_DUMP_NFT);
  parse_one(json, FIXTURE ".json", KP_DUMP_NFT_JSON);
  same_snapshot(text, json, 49, 11);
  kp_snapshot_free(text);
  kp_snapshot_free(json);
}
END_TEST

/* Hand-written statements the corpus pair lacks (ports, interfaces, marks,
 * negations, IPv6 NAT, xt targets, counters), each checked by hand. */
START_TEST(json_statements) {
  static const char doc[] =
      "{\"nftables\": [{\"table\": {\"family\": \"ip6\", \"name\": \"nat\"}},"
      "{\"chain\": {\"family\": \"ip6\", \"table\": \"nat\", \"name\": \"POSTROUTING\","
      " \"type\": \"nat\", \"hook\": \"postrouting\", \"prio\": 100, \"policy\": \"accept\"}},"
      "{\"rule\": {\"family\": \"ip6\", \"table\": \"nat\", \"chain\": \"POSTROUTING\", \"expr\": ["
      " {\"match\": {\"op\": \"!=\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": "
      "\"lo\"}},"
      " {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\":"
      " \"dport\"}}, \"right\": {\"range\": [8000, 8080]}}},"
      " {\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"mark\"}}, \"right\": 16384}},"
      " {\"counter\": {\"packets\": 7, \"bytes\": 420}},"
      " {\"snat\": {\"addr\": \"fd00::1\", \"port\": 80}}]}},"
      "{\"rule\": {\"family\": \"ip6\", \"table\": \"nat\", \"chain\": \"POSTROUTING\", \"expr\": ["
      " {\"xt\": {\"type\": \"target\", \"name\": \"MASQUERADE\"}}]}},"
      "{\"rule\": {\"family\": \"arp\", \"table\": \"x\", \"chain\": \"y\", \"expr\": []}}]}";
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_detect(doc, sizeof(doc) - 1), KP_DUMP_NFT_JSON);
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "j", doc, sizeof(doc) - 1, &err), 0);
  ck_assert_uint_eq(snap->tables.count, 1); /* arp is not held */
  const struct kp_table *t = snap->tables.items[0];
  ck_assert_int_eq(t->family, KP_FAMILY_IPV6);
  ck_assert(!t->native_nft);
  const struct kp_chain *c = kp_table_chain(t, "POSTROUTING");
  ck_assert(c->builtin);
  ck_assert_str_eq(kp_chain_ext(c)->policy, "ACCEPT");
  ck_assert_uint_eq(c->rules.count, 2);
  const struct kp_rule *r = c->rules.items[0];
  ck_assert_str_eq(kp_rule_ext(r)->out_iface, "!lo");
  ck_assert(r->dport.present && r->dport.lo == 8000 && r->dport.hi == 8080);
  ck_assert(r->proto_present && r->proto == 6);
  ck_assert(kp_rule_ext(r)->mark.present && kp_rule_ext(r)->mark.value == 0x4000 &&
            kp_rule_ext(r)->mark.mask == 0xffffffffu);
  ck_assert(r->counters.present && r->counters.packets == 7 && r->counters.bytes == 420);
  ck_assert_int_eq(r->target, KP_TARGET_SNAT);
  ck_assert_str_eq(tsb_nat_text(r), "[fd00::1]:80");
  ck_assert_int_eq(r->nat_addr.kind, KP_ADDR_IPV6);
  ck_assert(r->nat_ports.present && r->nat_ports.lo == 80);
  r = c->rules.items[1];
  ck_assert_int_eq(r->target, KP_TARGET_MASQUERADE);
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(json_hostile) {
  static const char *const docs[] = {
      "{\"nftables\": [",                            /* cut */
      "{\"nftables\": 5}",                           /* not an array */
      "{\"nftables\": [{\"rule\": {\"expr\": 7}}]}", /* no table */
      ("{\"nftables\": [{\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"c\","
       " \"expr\": [{\"match\": {\"left\": 1, \"right\": {}}}, {\"dnat\": {\"addr\": []}},"
       " {\"vmap\": {\"data\": {\"set\": [1, [2], [3, {\"goto\": 4}]]}}}, {\"mangle\": {}},"
       " {\"match\": {\"op\": \"==\", \"left\": {\"&\": 3}, \"right\": 1}}]}}]}"),
      ("{\"nftables\": [{\"set\": {\"family\": \"ip\", \"table\": \"t\", \"name\": \"s\","
       " \"type\": [1, \"x\"], \"elem\": [{\"elem\": 3}, [[], {}], {\"concat\": [[]]}]}}]}"),
  };
  static const char *const errors[] = {"not valid nft JSON", "no \"nftables\" array", NULL, NULL,
                                       NULL};
  for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
    struct kp_snapshot *snap = kp_snapshot_new();
    struct kp_dump_error err;
    int rc = kp_parse_nft_json(snap, "h", docs[i], strlen(docs[i]), &err);
    if (errors[i] == NULL)
      ck_assert_msg(rc == 0, "doc %zu: %s", i, err.message); /* skipped, never a crash */
    else
      ck_assert_msg(rc == -1 && strstr(err.message, errors[i]) != NULL, "doc %zu: %s", i,
                    err.message);
    kp_snapshot_free(snap);
  }
}
END_TEST

START_TEST(json_cut_short) {
  /* the fixture cut after byte 5000, inside {"chain": {"f... which starts
   * at byte 4962 (checked by hand: bytes 4958-4961 are "}}, "): read up to
   * the element before it, every table partial and every chain cut (nft -j
   * lists all chains before any rule), one note (was: exit 3) */
  size_t len;
  char *buf = tdi_slurp(FIXTURE ".json", &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_gt(len, 5000);
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_parse_nft_json(snap, "cut.json", buf, 5000, &err), 0);
  ck_assert_uint_ge(snap->tables.count, 1);
  for (size_t i = 0; i < snap->tables.count; i++) {
    const struct kp_table *t = snap->tables.items[i];
    ck_assert(t->partial);
    for (size_t c = 0; c < t->chains.count; c++)
      ck_assert(((const struct kp_chain *)t->chains.items[c])->cut);
  }
  ck_assert_uint_eq(snap->notes.count, 1);
  const struct kp_note *note = snap->notes.items[0];
  ck_assert_int_eq(note->kind, KP_NOTE_CUT);
  ck_assert_str_eq(note->detail, "JSON cut short: objects after byte 4960 not in the input");
  kp_snapshot_free(snap);
  /* the whole file with a byte after it is not a cut: refused */
  char *junk = malloc(len + 2);
  memcpy(junk, buf, len);
  memcpy(junk + len, "x", 2);
  snap = kp_snapshot_new();
  ck_assert_int_eq(kp_parse_nft_json(snap, "junk.json", junk, len + 1, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.message, "not valid nft JSON"));
  kp_snapshot_free(snap);
  free(junk);
  free(buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse_nft_json");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, json_equals_text);
  tcase_add_test(tc, json_equals_text_captured);
  tcase_add_test(tc, json_statements);
  tcase_add_test(tc, json_hostile);
  tcase_add_test(tc, json_cut_short);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
