/* `nft -j list ruleset` (and -j list table/chain) into the snapshot, through
 * jansson: {"nftables": [{"metainfo": ...}, {"table": ...}, {"chain": ...},
 * {"set"|"map": ...}, {"rule": ...}, ...]}. Same model as the text parser
 * (dump_nft.c): tables by family and name (native_nft for non-iptables
 * names, backend nft), base chains with hook and policy, set and map
 * elements with their verdicts and comments; rule expressions in
 * dump_nft_json_rule.c. Objects of families the model does not hold (arp,
 * bridge, netdev) and of kinds it does not need are skipped. */
#include "dump_nft_json.h"
#include "dump_parsers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_doc {
  struct kp_snapshot *snap;
  const char *source;
  struct kp_dump_error *err;
};

static const char *str_of(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The table an object names ("family", "table" or "name"), created for
 * this file when new. *skip when its family is not held. */
static struct kp_table *table_of(struct json_doc *d, const json_t *obj, const char *name_key,
                                 bool *skip) {
  const char *family_word = str_of(obj, "family"), *name = str_of(obj, name_key);
  int family;
  *skip = family_word == NULL || name == NULL ||
          kp_nft_family(family_word, strlen(family_word), &family) != 0 || family < 0;
  if (*skip)
    return NULL;
  struct kp_table *t =
      kp_snapshot_source_table(d->snap, (enum kp_family)family, KP_BACKEND_NFT, name, d->source);
  if (t != NULL)
    t->native_nft = !kp_nft_is_iptables_table(name);
  return t;
}

static void upper(char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z')
      *s = (char)(*s - 'a' + 'A');
}

static int on_table(struct json_doc *d, const json_t *obj) {
  bool skip;
  return table_of(d, obj, "name", &skip) != NULL || skip ? 0 : -1;
}

static struct kp_chain *chain_of(struct json_doc *d, const json_t *obj, const char *name_key,
                                 bool *skip) {
  struct kp_table *t = table_of(d, obj, "table", skip);
  const char *name = str_of(obj, name_key);
  if (*skip || name == NULL) {
    *skip = true;
    return NULL;
  }
  return t != NULL ? kp_table_add_chain(d->snap, t, name) : NULL;
}

static int on_chain(struct json_doc *d, const json_t *obj) {
  bool skip;
  struct kp_chain *chain = chain_of(d, obj, "name", &skip);
  if (skip)
    return 0;
  if (chain == NULL)
    return -1;
  const char *hook = str_of(obj, "hook"), *policy = str_of(obj, "policy");
  if (hook == NULL && policy == NULL)
    return 0;
  struct kp_chain_ext *cx = kp_chain_ext_mut(d->snap, chain);
  if (cx == NULL)
    return -1;
  if (hook != NULL) {
    chain->builtin = true;
    if ((cx->hook = kp_arena_strdup(&d->snap->arena, hook)) == NULL)
      return -1;
  }
  if (policy != NULL) {
    char *upper_policy = kp_arena_strdup(&d->snap->arena, policy);
    if (upper_policy == NULL)
      return -1;
    upper(upper_policy);
    cx->policy = upper_policy;
  }
  return 0;
}

static int on_rule(struct json_doc *d, const json_t *obj) {
  bool skip;
  struct kp_chain *chain = chain_of(d, obj, "chain", &skip);
  if (skip)
    return 0;
  struct kp_rule *rule = chain != NULL ? kp_chain_add_rule(d->snap, chain) : NULL;
  struct kp_rule_ext *ext = rule != NULL ? kp_rule_ext_mut(d->snap, rule) : NULL;
  if (ext == NULL)
    return -1;
  ext->source = d->source;
  const json_t *expr = json_object_get(obj, "expr");
  const char *comment = str_of(obj, "comment");
  if (comment != NULL && (rule->comment = kp_arena_strdup(&d->snap->arena, comment)) == NULL)
    return -1;
  char *text = json_is_array(expr) ? json_dumps(expr, JSON_COMPACT) : NULL;
  if (text != NULL) { /* for display: the statements as nft -j wrote them */
    ext->text = kp_arena_strdup(&d->snap->arena, text);
    free(text);
    if (ext->text == NULL)
      return -1;
  }
  return json_is_array(expr) ? kp_nft_json_rule(d->snap, rule, expr) : 0;
}

/* "type": "ipv4_addr" or ["ipv4_addr", "inet_proto", "inet_service"], and
 * "map": "verdict": the text form "ipv4_addr . inet_proto . inet_service : verdict".
 * 0, or -1 on OOM; no type leaves set->type NULL (as the text parser). */
static int set_type(struct json_doc *d, const json_t *obj, struct kp_set *set) {
  char buf[512];
  size_t used = 0;
  const json_t *type = json_object_get(obj, "type");
  buf[0] = '\0';
  for (size_t i = 0; i < (json_is_array(type) ? json_array_size(type) : 1); i++) {
    const json_t *part = json_is_array(type) ? json_array_get(type, i) : type;
    if (!json_is_string(part))
      continue;
    int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " . " : "",
                     json_string_value(part));
    if (n < 0 || (size_t)n >= sizeof(buf) - used)
      break;
    used += (size_t)n;
  }
  const char *map = str_of(obj, "map");
  if (map != NULL)
    snprintf(buf + used, sizeof(buf) - used, " : %s", map);
  if (buf[0] == '\0')
    return 0;
  return (set->type = kp_arena_strdup(&d->snap->arena, buf)) != NULL ? 0 : -1;
}

/* The verdict of a map element: {"goto": {"target": "x"}}, {"drop": null}. */
static int elem_verdict(struct json_doc *d, struct kp_set_elem *elem, const json_t *v) {
  static const char *const verdicts[] = {"goto", "jump", "drop", "accept", "return", "continue"};
  for (size_t k = 0; json_is_object(v) && k < sizeof(verdicts) / sizeof(verdicts[0]); k++) {
    const json_t *body = json_object_get(v, verdicts[k]);
    if (body == NULL)
      continue;
    elem->verdict = verdicts[k];
    const char *target = k < 2 ? str_of(body, "target") : NULL;
    if (k < 2 &&
        (target == NULL || (elem->chain = kp_arena_strdup(&d->snap->arena, target)) == NULL))
      return target == NULL ? 0 : -1;
    return 0;
  }
  return 0;
}

/* One element: a value, {"elem": {"val": x, "comment": "..."}}, or for a
 * map [key, verdict]. */
static int on_elem(struct json_doc *d, struct kp_set *set, const json_t *item) {
  const json_t *key = item, *verdict = NULL;
  if (json_is_array(item) && json_array_size(item) == 2) {
    key = json_array_get(item, 0);
    verdict = json_array_get(item, 1);
  }
  const json_t *wrapped = json_is_object(key) ? json_object_get(key, "elem") : NULL;
  const char *comment = NULL;
  if (json_is_object(wrapped)) {
    comment = str_of(wrapped, "comment");
    key = json_object_get(wrapped, "val");
  }
  char text[1024];
  if (!kp_nft_json_text(key, text, sizeof(text)))
    return 0;
  struct kp_set_elem *elem = kp_set_add_elem(d->snap, set);
  if (elem == NULL || (elem->key = kp_arena_strdup(&d->snap->arena, text)) == NULL ||
      (comment != NULL && (elem->comment = kp_arena_strdup(&d->snap->arena, comment)) == NULL))
    return -1;
  return verdict != NULL ? elem_verdict(d, elem, verdict) : 0;
}

static int set_or_map(struct json_doc *d, const json_t *obj, bool is_map) {
  bool skip;
  struct kp_table *t = table_of(d, obj, "table", &skip);
  const char *name = str_of(obj, "name");
  if (skip || name == NULL)
    return 0;
  struct kp_set *set = t != NULL ? kp_table_add_set(d->snap, t, name) : NULL;
  if (set == NULL || set_type(d, obj, set) != 0)
    return -1;
  set->table = t;
  set->is_map = set->is_map || is_map || str_of(obj, "map") != NULL;
  const json_t *elems = json_object_get(obj, "elem");
  for (size_t i = 0; json_is_array(elems) && i < json_array_size(elems); i++)
    if (on_elem(d, set, json_array_get(elems, i)) != 0)
      return -1;
  return 0;
}

static int on_set(struct json_doc *d, const json_t *obj) {
  return set_or_map(d, obj, false);
}

static int on_map(struct json_doc *d, const json_t *obj) {
  return set_or_map(d, obj, true);
}

static const struct {
  const char *kind;
  int (*parse)(struct json_doc *d, const json_t *obj);
} objects[] = {
    {"table", on_table}, {"chain", on_chain}, {"rule", on_rule}, {"set", on_set}, {"map", on_map},
};

/* After the ',' between two elements of the "nftables" array: {"table":,
 * {"chain": ... (an expression inside a rule is {"match":, {"jump": ...). */
static bool starts_top_object(const char *s, size_t n) {
  static const char *const kinds[] = {"{\"table\"", "{\"chain\"", "{\"rule\"",
                                      "{\"set\"",   "{\"map\"",   "{\"element\""};
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t'))
    i++;
  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    size_t klen = strlen(kinds[k]);
    if (n - i >= klen && memcmp(s + i, kinds[k], klen) == 0)
      return true;
  }
  return false;
}

/* A file cut short (a paste, a truncated bundle) ends inside the
 * "nftables" array: the longest prefix that ends with a whole element,
 * closed with "]}", is what it holds. jansson judges each candidate (a '}'
 * followed by ',' and a table, chain, rule, set, map or element object, the
 * last first, at most 64 tries); NULL when none is. */
static json_t *load_cut_prefix(const char *buf, size_t len, size_t *kept) {
  char *copy = malloc(len + 3);
  if (copy == NULL)
    return NULL;
  memcpy(copy, buf, len);
  json_t *root = NULL;
  unsigned tries = 0;
  for (size_t end = len; end > 0 && root == NULL && tries < 64; end--) {
    if (copy[end - 1] != '}')
      continue;
    size_t next = end;
    while (next < len && (copy[next] == ' ' || copy[next] == '\n' || copy[next] == '\t'))
      next++;
    if (next >= len || copy[next] != ',' || !starts_top_object(copy + next + 1, len - next - 1))
      continue;
    tries++;
    char saved[2] = {copy[end], copy[end + 1]};
    memcpy(copy + end, "]}", 2);
    json_error_t jerr;
    root = json_loadb(copy, end + 2, JSON_REJECT_DUPLICATES, &jerr);
    if (root != NULL && !json_is_array(json_object_get(root, "nftables"))) {
      json_decref(root);
      root = NULL;
    }
    memcpy(copy + end, saved, 2);
    *kept = end;
  }
  free(copy);
  return root;
}

/* The input was cut after byte kept: every table it gave is partial, every
 * chain cut, and one note names the file and the line the whole elements
 * end on. */
static int note_cut(struct json_doc *d, const char *buf, size_t kept) {
  size_t line = 1;
  for (size_t i = 0; i < kept; i++)
    line += buf[i] == '\n';
  for (size_t i = 0; i < d->snap->tables.count; i++) {
    struct kp_table *t = d->snap->tables.items[i];
    if (t->source != d->source)
      continue;
    t->partial = true;
    /* nft -j lists every chain before any rule: any chain's rules may be
     * the ones cut off */
    for (size_t c = 0; c < t->chains.count; c++)
      ((struct kp_chain *)t->chains.items[c])->cut = true;
  }
  char why[96];
  snprintf(why, sizeof(why), "JSON cut short: objects after byte %zu not in the input", kept);
  if (kp_snapshot_add_note(d->snap, KP_NOTE_CUT, d->source, line, NULL, KP_FAMILY_IPV4, why) ==
      NULL)
    return kp_dump_oom(d->err, d->source, line);
  return 0;
}

int kp_parse_nft_json(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err) {
  struct json_doc d = {.snap = snap, .err = err};
  d.source = kp_arena_strdup(&snap->arena, source != NULL ? source : "-");
  if (d.source == NULL)
    return kp_dump_oom(err, source, 0);
  json_error_t jerr;
  json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  size_t kept = 0; /* > 0: cut, read up to this byte */
  /* input ending inside a value (jansson: "premature end of input", or
   * "']' expected near end of file") is a cut; anything else, trailing
   * bytes ("end of file expected near 'x'") too, is not nft -j */
  bool ends_early = strstr(jerr.text, "premature end of input") != NULL ||
                    strstr(jerr.text, "near end of file") != NULL;
  if (root == NULL && ends_early && len > 0)
    root = load_cut_prefix(buf, len, &kept);
  if (root == NULL)
    return kp_dump_fail(err, d.source, (size_t)(jerr.line > 0 ? jerr.line : 0),
                        "not valid nft JSON: %s", jerr.text);
  const json_t *list = json_object_get(root, "nftables");
  int rc = 0;
  if (!json_is_array(list))
    rc = kp_dump_fail(err, d.source, 0, "no \"nftables\" array: not nft -j output");
  for (size_t i = 0; rc == 0 && json_is_array(list) && i < json_array_size(list); i++) {
    const json_t *item = json_array_get(list, i);
    for (size_t k = 0; json_is_object(item) && k < sizeof(objects) / sizeof(objects[0]); k++) {
      const json_t *obj = json_object_get(item, objects[k].kind);
      if (json_is_object(obj) && objects[k].parse(&d, obj) != 0) {
        rc = kp_dump_oom(err, d.source, 0);
        break;
      }
    }
  }
  json_decref(root);
  if (rc == 0 && kept > 0)
    rc = note_cut(&d, buf, kept);
  return rc;
}
