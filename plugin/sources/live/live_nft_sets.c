/* Sets and maps of kube-proxy's own nft tables, with their elements: key
 * text as nft prints typed keys ("172.30.0.41 . tcp . 80"), verdict and
 * chain, and the element comment kube-proxy writes ("ns/svc:port"). */
#include "kp/names.h"
#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nft's datatype ids (src/datatype.h); a concatenation packs one per 6 bits,
 * the first field in the highest bits. */
enum {
  T_VERDICT = 1,
  T_INTEGER = 4,
  T_IPADDR = 7,
  T_IP6ADDR = 8,
  T_PROTO = 12,
  T_SERVICE = 13,
  T_MARK = 19
};
#define TYPE_BITS 6
#define MAX_FIELDS 8

static const char *type_name(uint32_t t) {
  switch (t) {
  case T_VERDICT:
    return "verdict";
  case T_INTEGER:
    return "integer";
  case T_IPADDR:
    return "ipv4_addr";
  case T_IP6ADDR:
    return "ipv6_addr";
  case T_PROTO:
    return "inet_proto";
  case T_SERVICE:
    return "inet_service";
  case T_MARK:
    return "mark";
  default:
    return "?";
  }
}

static size_t split_type(uint32_t type, uint32_t *fields) {
  size_t n = 0;
  uint32_t tmp[MAX_FIELDS];
  do {
    tmp[n++] = type & ((1u << TYPE_BITS) - 1);
    type >>= TYPE_BITS;
  } while (type != 0 && n < MAX_FIELDS);
  for (size_t i = 0; i < n; i++)
    fields[i] = tmp[n - 1 - i];
  return n;
}

static size_t field_len(uint32_t t) {
  switch (t) {
  case T_IPADDR:
  case T_MARK:
  case T_INTEGER:
    return 4;
  case T_IP6ADDR:
    return 16;
  case T_PROTO:
    return 1;
  case T_SERVICE:
    return 2;
  default:
    return 0;
  }
}

/* Key bytes -> text; each field of a concatenation is padded to 4 bytes. */
static void key_text(uint32_t type, const uint8_t *key, uint32_t len, char *out, size_t size) {
  uint32_t fields[MAX_FIELDS];
  size_t n = split_type(type, fields), off = 0, used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    size_t flen = field_len(fields[i]);
    size_t step = n > 1 ? (flen + 3) / 4 * 4 : flen;
    if (flen == 0 || off + flen > len) {
      used += (size_t)snprintf(out + used, size - used, "%s0x", i ? " . " : "");
      for (size_t b = off; b < len && used + 3 < size; b++)
        used += (size_t)snprintf(out + used, size - used, "%02x", key[b]);
      return;
    }
    char buf[INET6_ADDRSTRLEN];
    const uint8_t *p = key + off;
    switch (fields[i]) {
    case T_IPADDR:
      inet_ntop(AF_INET, p, buf, sizeof(buf));
      break;
    case T_IP6ADDR:
      inet_ntop(AF_INET6, p, buf, sizeof(buf));
      break;
    case T_PROTO: {
      const char *proto = kp_proto_name(p[0]);
      if (proto != NULL)
        snprintf(buf, sizeof(buf), "%s", proto);
      else
        snprintf(buf, sizeof(buf), "%u", p[0]);
      break;
    }
    case T_SERVICE:
      snprintf(buf, sizeof(buf), "%u", (unsigned)(p[0] << 8 | p[1]));
      break;
    default: {
      uint32_t v;
      memcpy(&v, p, 4);
      snprintf(buf, sizeof(buf), fields[i] == T_MARK ? "0x%08x" : "%u", v);
      break;
    }
    }
    used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " . " : "", buf);
    if (used >= size)
      return;
    off += step;
  }
}

static void type_text(uint32_t key_type, bool map, uint32_t data_type, char *out, size_t size) {
  uint32_t fields[MAX_FIELDS];
  size_t n = split_type(key_type, fields), used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " . " : "", type_name(fields[i]));
  if (map && used < size)
    snprintf(out + used, size - used, " : %s",
             data_type == NFT_DATA_VERDICT ? "verdict" : type_name(data_type));
}

static const char *verdict_name(int32_t v) {
  switch (v) {
  case NF_ACCEPT:
    return "accept";
  case NF_DROP:
    return "drop";
  case NFT_RETURN:
    return "return";
  case NFT_JUMP:
    return "jump";
  case NFT_GOTO:
    return "goto";
  case NFT_CONTINUE:
    return "continue";
  default:
    return NULL;
  }
}

/* ---- netlink ---------------------------------------------------------------- */

struct set_list {
  struct nftnl_set **items;
  size_t count, capacity;
  int err;
};

static int set_cb(const struct nlmsghdr *nlh, void *arg) {
  struct set_list *list = arg;
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL || nftnl_set_nlmsg_parse(nlh, s) < 0) {
    nftnl_set_free(s);
    list->err = ENOMEM;
    return MNL_CB_ERROR;
  }
  if (list->count == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 16;
    struct nftnl_set **items = realloc(list->items, cap * sizeof(*items));
    if (items == NULL) {
      nftnl_set_free(s);
      list->err = ENOMEM;
      return MNL_CB_ERROR;
    }
    list->items = items;
    list->capacity = cap;
  }
  list->items[list->count++] = s;
  return MNL_CB_OK;
}

static void build_set(struct nlmsghdr *nlh, void *arg) {
  nftnl_set_nlmsg_build_payload(nlh, arg);
}
static void build_elems(struct nlmsghdr *nlh, void *arg) {
  nftnl_set_elems_nlmsg_build_payload(nlh, arg);
}

static int elems_cb(const struct nlmsghdr *nlh, void *arg) {
  return nftnl_set_elems_nlmsg_parse(nlh, arg) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int copy_elems(struct kp_nft_table_ctx *ctx, struct nftnl_set *s, struct kp_set *set,
                      uint32_t key_type) {
  struct kp_arena *arena = &ctx->snap->arena;
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  if (it == NULL)
    return -1;
  int rc = 0;
  for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e != NULL && rc == 0;
       e = nftnl_set_elems_iter_next(it)) {
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
        (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END))
      continue;
    struct kp_set_elem *el = kp_set_add_elem(ctx->snap, set);
    if (el == NULL) {
      rc = -1;
      break;
    }
    uint32_t len = 0;
    const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    char text[256];
    key_text(key_type, key, key ? len : 0, text, sizeof(text));
    el->key = kp_arena_strdup(arena, text);
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
      el->verdict = verdict_name((int32_t)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
      const char *chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
      if (chain != NULL) {
        const struct kp_chain *c = kp_table_chain(ctx->table, chain);
        if ((el->chain = c != NULL ? c->name : kp_arena_strdup(arena, chain)) == NULL)
          rc = -1;
      }
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
      /* kp_nft_udata_str bounds every TLV by the buffer's end, which
       * nftnl_udata_parse alone does not. */
      const void *ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
      const char *comment = kp_nft_udata_str(ud, len, NFTNL_UDATA_SET_ELEM_COMMENT);
      if (comment != NULL && (el->comment = kp_arena_strdup(arena, comment)) == NULL)
        rc = -1;
    }
    if (el->key == NULL)
      rc = -1;
  }
  nftnl_set_elems_iter_destroy(it);
  return rc;
}

/* Anonymous vmaps ("numgen ... vmap { 0 : ..., 1 : ... }") in key order,
 * numeric keys by value: the kernel hands them back in hash order. */
static int elem_order(const void *a, const void *b) {
  const struct kp_set_elem *x = *(const struct kp_set_elem *const *)a;
  const struct kp_set_elem *y = *(const struct kp_set_elem *const *)b;
  char *ex, *ey;
  unsigned long nx = strtoul(x->key, &ex, 10), ny = strtoul(y->key, &ey, 10);
  if (*ex == '\0' && *ey == '\0' && ex != x->key && ey != y->key)
    return nx < ny ? -1 : nx > ny;
  return strcmp(x->key, y->key);
}

static int add_anon(struct kp_nft_table_ctx *ctx, struct kp_set *set) {
  struct kp_nft_anon *a = &ctx->anon;
  if (a->count == a->capacity) {
    size_t cap = a->capacity ? a->capacity * 2 : 16;
    struct kp_set **items = kp_arena_alloc(&ctx->snap->arena, cap * sizeof(*items));
    if (items == NULL)
      return -1;
    if (a->count)
      memcpy(items, a->items, a->count * sizeof(*items));
    a->items = items;
    a->capacity = cap;
  }
  a->items[a->count++] = set;
  return 0;
}

struct kp_set *kp_nft_set_define(struct kp_nft_table_ctx *ctx, struct nftnl_set *s) {
  const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
  uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
  struct kp_set *set = NULL;
  if (flags & NFT_SET_ANONYMOUS) {
    set = kp_arena_alloc(&ctx->snap->arena, sizeof(*set));
    if (set == NULL || (set->name = kp_arena_strdup(&ctx->snap->arena, name)) == NULL ||
        add_anon(ctx, set) != 0)
      return NULL;
    set->table = ctx->table;
  } else if ((set = kp_table_add_set(ctx->snap, ctx->table, name)) == NULL) {
    return NULL;
  }
  set->is_map = (flags & NFT_SET_MAP) != 0;
  char type[128];
  uint32_t key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
  type_text(key_type, set->is_map, nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), type, sizeof(type));
  if ((set->type = kp_arena_strdup(&ctx->snap->arena, type)) == NULL)
    return NULL;
  if (ctx->follow != NULL && kp_nft_ftable_add_set(ctx->follow, set, key_type, flags) != 0)
    return NULL;
  return set;
}

int kp_nft_set_add_elems(struct kp_nft_table_ctx *ctx, struct nftnl_set *s, struct kp_set *set,
                         uint32_t key_type, bool anonymous) {
  if (copy_elems(ctx, s, set, key_type) != 0)
    return errno = ENOMEM, -1;
  if (anonymous)
    qsort(set->elems.items, set->elems.count, sizeof(void *), elem_order);
  return 0;
}

int kp_nft_set_del_elems(struct nftnl_set *s, struct kp_set *set, uint32_t key_type) {
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  if (it == NULL)
    return errno = ENOMEM, -1;
  int rc = 0;
  for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e != NULL && rc == 0;
       e = nftnl_set_elems_iter_next(it)) {
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
        (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END))
      continue;
    uint32_t len = 0;
    const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    char text[256];
    key_text(key_type, key, key ? len : 0, text, sizeof(text));
    size_t i = 0;
    while (i < set->elems.count && strcmp(((struct kp_set_elem *)set->elems.items[i])->key, text))
      i++;
    if (i == set->elems.count) {
      rc = (errno = ENOENT, -1);
      break;
    }
    memmove(&set->elems.items[i], &set->elems.items[i + 1],
            (set->elems.count - i - 1) * sizeof(void *));
    set->elems.count--;
  }
  nftnl_set_elems_iter_destroy(it);
  return rc;
}

static int one_set(struct kp_nft_nl *nl, struct kp_nft_table_ctx *ctx, struct nftnl_set *s) {
  if (nftnl_set_get_str(s, NFTNL_SET_NAME) == NULL)
    return 0;
  uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
  struct kp_set *set = kp_nft_set_define(ctx, s);
  if (set == NULL)
    return errno = ENOMEM, -1;
  /* Dynamic sets (session affinity) hold per-client entries: not needed. */
  if (flags & NFT_SET_EVAL)
    return 0;
  if (kp_nft_nl_query(nl, NFT_MSG_GETSETELEM, ctx->nfproto, NLM_F_DUMP, build_elems, s, elems_cb,
                      s) != 0)
    return -1;
  return kp_nft_set_add_elems(ctx, s, set, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
                              (flags & NFT_SET_ANONYMOUS) != 0);
}

int kp_nft_read_sets(struct kp_nft_nl *nl, struct kp_nft_table_ctx *ctx) {
  struct nftnl_set *req = nftnl_set_alloc();
  if (req == NULL)
    return errno = ENOMEM, -1;
  nftnl_set_set_str(req, NFTNL_SET_TABLE, ctx->table->name);
  struct set_list list = {0};
  int rc =
      kp_nft_nl_query(nl, NFT_MSG_GETSET, ctx->nfproto, NLM_F_DUMP, build_set, req, set_cb, &list);
  nftnl_set_free(req);
  if (rc != 0 && list.err != 0)
    errno = list.err;
  for (size_t i = 0; i < list.count; i++) {
    if (rc == 0)
      rc = one_set(nl, ctx, list.items[i]);
    nftnl_set_free(list.items[i]);
  }
  free(list.items);
  return rc;
}

const struct kp_set *kp_nft_anon_set(const struct kp_nft_table_ctx *ctx, const char *name) {
  for (size_t i = 0; i < ctx->anon.count; i++)
    if (strcmp(ctx->anon.items[i]->name, name) == 0)
      return ctx->anon.items[i];
  return NULL;
}
