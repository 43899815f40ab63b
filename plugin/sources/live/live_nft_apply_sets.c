/* Set and map notifications applied to a kept native table: sets made and
 * deleted (named ones in table->sets, anonymous ones, the "numgen ... vmap"
 * maps, beside the table for the rule decoder), elements added and
 * removed, keys spelled as the full read spells them (live_nft_sets.c).
 * Dynamic sets (session affinity) are not read, so not followed either. */
#include "live_nft_internal.h"

#include <errno.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

static void drop_anon(struct kp_nft_table_ctx *ctx, const struct kp_set *set) {
  struct kp_nft_anon *a = &ctx->anon;
  for (size_t i = 0; i < a->count; i++)
    if (a->items[i] == set) {
      memmove(&a->items[i], &a->items[i + 1], (a->count - i - 1) * sizeof(*a->items));
      a->count--;
      return;
    }
}

static void drop_set(struct kp_nft_ftable *ft, struct kp_nft_table_ctx *ctx,
                     struct kp_nft_set_meta *meta) {
  struct kp_set *set = meta->set;
  if (meta->flags & NFT_SET_ANONYMOUS) {
    drop_anon(ctx, set);
  } else {
    struct kp_ptrvec *sets = &ft->table->sets;
    for (size_t i = 0; i < sets->count; i++)
      if (sets->items[i] == set) {
        memmove(&sets->items[i], &sets->items[i + 1], (sets->count - i - 1) * sizeof(void *));
        sets->count--;
        break;
      }
  }
  kp_nft_ftable_del_set(ft, meta);
}

static int new_set(struct kp_nft_ftable *ft, struct kp_nft_table_ctx *ctx, struct nftnl_set *s) {
  struct kp_nft_set_meta *meta = kp_nft_ftable_set(ft, nftnl_set_get_str(s, NFTNL_SET_NAME));
  if (meta != NULL) {
    if (meta->flags & NFT_SET_ANONYMOUS) {
      drop_set(ft, ctx, meta); /* the kernel reuses a gone anonymous set's name */
    } else {
      kp_nft_ftable_del_set(ft, meta); /* an update: kp_nft_set_define records it again */
    }
  }
  return kp_nft_set_define(ctx, s) != NULL ? 0 : (errno = ENOMEM, -1);
}

int kp_nft_apply_set_msg(struct kp_nft_ftable *ft, struct kp_nft_table_ctx *ctx, uint16_t type,
                         const struct nlmsghdr *nlh) {
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL)
    return errno = ENOMEM, -1;
  bool elems = type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM;
  int rc = elems ? nftnl_set_elems_nlmsg_parse(nlh, s) : nftnl_set_nlmsg_parse(nlh, s);
  const char *name = rc < 0 ? NULL : nftnl_set_get_str(s, NFTNL_SET_NAME);
  struct kp_nft_set_meta *meta = name != NULL ? kp_nft_ftable_set(ft, name) : NULL;
  if (name == NULL) {
    rc = (errno = EBADMSG, -1);
  } else if (type == NFT_MSG_NEWSET) {
    rc = new_set(ft, ctx, s);
  } else if (meta == NULL) {
    rc = (errno = ENOENT, -1);
  } else if (type == NFT_MSG_DELSET) {
    drop_set(ft, ctx, meta);
    rc = 0;
  } else if (meta->flags & NFT_SET_EVAL) {
    rc = 0;
  } else if (type == NFT_MSG_NEWSETELEM) {
    rc = kp_nft_set_add_elems(ctx, s, meta->set, meta->key_type,
                              (meta->flags & NFT_SET_ANONYMOUS) != 0);
  } else {
    rc = kp_nft_set_del_elems(s, meta->set, meta->key_type);
  }
  nftnl_set_free(s);
  return rc;
}
