/* Rules a catch-up deleted, kept by what they were notified with (their
 * expressions, counter values left out, and their userdata): a rule added
 * back with the same content, as a kube-proxy sync adds back most of the
 * rules it has just flushed, takes the deleted rule's decoded fields
 * instead of being decoded again; its counters are its own. Only in
 * iptables-nft's tables: rules of kube-proxy's own table name anonymous
 * sets (numgen vmaps) whose elements the rule's bytes do not show. */
#include "kp/names.h"
#include "live_nft_internal.h"

#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

struct reuse_entry {
  size_t off, len;      /* in bytes */
  struct kp_rule *rule; /* the deleted rule */
  size_t next;          /* same hash; SIZE_MAX ends */
};

struct kp_nft_reuse {
  struct kp_nft_handles heads; /* hash -> first entry + 1 */
  struct reuse_entry *entries;
  size_t n, cap;
  char *bytes; /* the entries' contents */
  size_t used, size;
  char *scratch; /* one message's content */
  size_t scratch_size;
};

static int append(char **buf, size_t *used, size_t *size, const void *data, size_t len) {
  if (*used + len > *size) {
    size_t size2 = *size ? *size : 1u << 16;
    while (size2 < *used + len)
      size2 *= 2;
    char *b = realloc(*buf, size2);
    if (b == NULL)
      return errno = ENOMEM, -1;
    *buf = b;
    *size = size2;
  }
  memcpy(*buf + *used, data, len);
  *used += len;
  return 0;
}

/* The rule's expressions (a counter's values left out) and userdata, into
 * the scratch buffer. Its length, or 0 (nothing to go by, or no memory). */
static size_t content(struct kp_nft_reuse *r, const struct nlmsghdr *nlh) {
  size_t used = 0;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type == NFTA_RULE_USERDATA &&
        append(&r->scratch, &used, &r->scratch_size, attr, attr->nla_len) != 0)
      return 0;
    if (type != NFTA_RULE_EXPRESSIONS)
      continue;
    const struct nlattr *elem;
    mnl_attr_for_each_nested(elem, attr) {
      const struct nlattr *name = mnl_attr_get_payload(elem);
      bool counter = mnl_attr_get_payload_len(elem) >= sizeof(*name) &&
                     mnl_attr_get_type(name) == NFTA_EXPR_NAME &&
                     mnl_attr_validate(name, MNL_TYPE_NUL_STRING) == 0 &&
                     strcmp(mnl_attr_get_str(name), "counter") == 0;
      const void *data = counter ? (const void *)"\1counter" : (const void *)elem;
      size_t len = counter ? 8 : elem->nla_len;
      if (append(&r->scratch, &used, &r->scratch_size, data, len) != 0)
        return 0;
    }
  }
  return used;
}

static uint64_t key_of(const struct kp_nft_reuse *r, size_t len) {
  uint64_t h = kp_hash_bytes(r->scratch, len);
  return h != 0 ? h : 1;
}

struct kp_nft_reuse *kp_nft_reuse_new(void) {
  return calloc(1, sizeof(struct kp_nft_reuse));
}

void kp_nft_reuse_clear(struct kp_nft_reuse *r) {
  if (r == NULL)
    return;
  kp_nft_handles_free(&r->heads);
  r->n = r->used = 0;
  /* Megabytes after a large catch-up: not kept between reads. */
  if (r->size > (1u << 20)) {
    free(r->bytes);
    free(r->entries);
    r->bytes = NULL;
    r->entries = NULL;
    r->size = r->cap = 0;
  }
}

void kp_nft_reuse_free(struct kp_nft_reuse *r) {
  if (r == NULL)
    return;
  kp_nft_handles_free(&r->heads);
  free(r->entries);
  free(r->bytes);
  free(r->scratch);
  free(r);
}

int kp_nft_reuse_keep(struct kp_nft_reuse *r, const struct nlmsghdr *nlh, struct kp_rule *rule) {
  size_t len = content(r, nlh);
  if (len == 0)
    return 0; /* decoded afresh when it comes back */
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 1024;
    struct reuse_entry *e = realloc(r->entries, cap * sizeof(*e));
    if (e == NULL)
      return errno = ENOMEM, -1;
    r->entries = e;
    r->cap = cap;
  }
  uint64_t key = key_of(r, len);
  size_t off = r->used;
  if (append(&r->bytes, &r->used, &r->size, r->scratch, len) != 0)
    return -1;
  uintptr_t head = (uintptr_t)kp_nft_handles_get(&r->heads, key);
  r->entries[r->n] = (struct reuse_entry){off, len, rule, head ? head - 1 : SIZE_MAX};
  return kp_nft_handles_put(&r->heads, key, (void *)(uintptr_t)(++r->n));
}

const struct kp_rule *kp_nft_reuse_find(struct kp_nft_reuse *r, const struct nlmsghdr *nlh) {
  size_t len = content(r, nlh);
  if (len == 0 || r->n == 0)
    return NULL;
  uintptr_t head = (uintptr_t)kp_nft_handles_get(&r->heads, key_of(r, len));
  for (size_t i = head ? head - 1 : SIZE_MAX; i != SIZE_MAX; i = r->entries[i].next) {
    const struct reuse_entry *e = &r->entries[i];
    if (e->len == len && memcmp(r->bytes + e->off, r->scratch, len) == 0)
      return e->rule;
  }
  return NULL;
}
