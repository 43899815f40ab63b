/* nft sets and maps: "set X { type ...; elements = { ... } }" and the
 * elements of "add element" commands. */
#include "dump_nft_parser.h"

#include <stdio.h>
#include <string.h>

/* Joins toks[a..b) with single spaces, a trailing ',' of the last dropped. */
static char *join(struct kp_nft_parser *p, size_t a, size_t b) {
  size_t len = 0;
  for (size_t i = a; i < b; i++)
    len += p->toks[i].n + 1;
  char *out = kp_arena_alloc(&p->snap->arena, len + 1);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = a; i < b; i++) {
    if (o > 0)
      out[o++] = ' ';
    o += kp_nft_tok_copy(&p->toks[i], out + o, len + 1 - o);
  }
  if (o > 0 && out[o - 1] == ',')
    out[--o] = '\0';
  return out;
}

static bool ends_with_comma(const struct kp_nft_token *t) {
  return t->type == KP_NFT_TOK_WORD && t->n > 0 && t->p[t->n - 1] == ',';
}

/* Set/map elements in toks[a..b):
 * "172.30.0.41 . tcp . 80 comment "ns/svc:p" : goto chain, ..." */
int kp_nftp_elements(struct kp_nft_parser *p, struct kp_set *set, size_t a, size_t b) {
  size_t i = a;
  while (i < b) {
    if (kp_nftp_tok(p, i, ",") || p->toks[i].type != KP_NFT_TOK_WORD) {
      i++;
      continue;
    }
    size_t key_start = i;
    bool done = false;
    while (i < b && !done && p->toks[i].type == KP_NFT_TOK_WORD && !kp_nftp_tok(p, i, "comment") &&
           !kp_nftp_tok(p, i, ":") && !kp_nftp_tok(p, i, "timeout") &&
           !kp_nftp_tok(p, i, "expires") && !kp_nftp_tok(p, i, "counter") &&
           !kp_nftp_tok(p, i, ","))
      done = ends_with_comma(&p->toks[i++]);
    struct kp_set_elem *elem = kp_set_add_elem(p->snap, set);
    if (elem == NULL || (elem->key = join(p, key_start, i)) == NULL)
      return kp_nftp_oom(p);
    while (i < b && !done) {
      if (kp_nftp_tok(p, i, ",")) {
        done = true;
      } else if (kp_nftp_tok(p, i, "comment") && i + 1 < b) {
        if ((elem->comment = kp_nftp_dup(p, ++i)) == NULL)
          return kp_nftp_oom(p);
      } else if (kp_nftp_tok(p, i, ":") && i + 1 < b) {
        i++;
        if ((kp_nftp_tok(p, i, "goto") || kp_nftp_tok(p, i, "jump")) && i + 1 < b) {
          elem->verdict = kp_nftp_tok(p, i, "goto") ? "goto" : "jump";
          i++;
          if ((elem->chain = join(p, i, i + 1)) == NULL)
            return kp_nftp_oom(p);
        } else if (set->is_map || p->toks[i].type == KP_NFT_TOK_WORD) {
          char *verdict = join(p, i, i + 1);
          if (verdict == NULL)
            return kp_nftp_oom(p);
          static const char *const plain[] = {"drop", "accept", "return", "continue"};
          for (size_t k = 0; k < sizeof(plain) / sizeof(plain[0]); k++)
            if (strcmp(verdict, plain[k]) == 0)
              elem->verdict = plain[k];
        }
      } else if (p->toks[i].type == KP_NFT_TOK_LBRACE) {
        size_t depth = 0;
        for (; i < b; i++) { /* unexpected nested block: skip it */
          if (p->toks[i].type == KP_NFT_TOK_LBRACE)
            depth++;
          else if (p->toks[i].type == KP_NFT_TOK_RBRACE && --depth == 0)
            break;
        }
      }
      done = done || (i < b && ends_with_comma(&p->toks[i]));
      i++;
    }
  }
  return 0;
}

/* One statement inside "set X { ... }" / "map X { ... }". */
static int set_property(struct kp_nft_parser *p, struct kp_set *set) {
  if (set == NULL || p->ntoks == 0)
    return 0;
  if ((kp_nftp_tok(p, 0, "type") || kp_nftp_tok(p, 0, "typeof")) && p->ntoks > 1) {
    if ((set->type = join(p, 1, p->ntoks)) == NULL)
      return kp_nftp_oom(p);
    for (size_t i = 1; i < p->ntoks; i++)
      set->is_map = set->is_map || kp_nftp_tok(p, i, ":");
  } else if (kp_nftp_tok(p, 0, "elements")) {
    size_t a = 1;
    while (a < p->ntoks && p->toks[a].type != KP_NFT_TOK_LBRACE)
      a++;
    size_t b = p->ntoks;
    if (b > a + 1 && p->toks[b - 1].type == KP_NFT_TOK_RBRACE)
      b--;
    return kp_nftp_elements(p, set, a + 1, b);
  }
  return 0;
}

int kp_nftp_set_body(struct kp_nft_parser *p, struct kp_set *set, size_t open_line) {
  for (;;) {
    p->ntoks = 0;
    enum kp_nft_tok_type end = kp_nftp_collect(p, false, 0);
    if (p->failed || set_property(p, set) != 0)
      return -1;
    if (end == KP_NFT_TOK_RBRACE) {
      kp_nftp_next(p);
      return 0;
    }
    if (end == KP_NFT_TOK_EOF) { /* cut short: the elements read so far stay */
      (void)open_line;
      char where[320];
      snprintf(where, sizeof(where), "%s %.200s", set != NULL && set->is_map ? "map" : "set",
               set != NULL ? set->name : "?");
      return kp_nftp_cut_at_end(p, set != NULL ? set->table : NULL, NULL, where);
    }
  }
}

struct kp_set *kp_nftp_set_from(struct kp_nft_parser *p, struct kp_table *table, size_t i,
                                bool is_map) {
  if (table == NULL || i >= p->ntoks)
    return NULL;
  char name[512];
  kp_nft_tok_copy(&p->toks[i], name, sizeof(name));
  struct kp_set *set = kp_table_add_set(p->snap, table, name);
  if (set == NULL)
    return kp_nftp_oom(p), NULL;
  set->table = table;
  set->is_map = set->is_map || is_map;
  return set;
}
