/* A rule message read straight from its netlink attributes, with no
 * libnftnl rule or expression objects (no allocation per expression): the
 * rule's own attributes (struct kp_nft_rule_msg), and one expression at a
 * time as a stack view (struct kp_nft_expr): its name and a table of its
 * NFTA_<EXPR>_* attributes by type, filled by one pass over NFTA_EXPR_DATA.
 *
 * Every getter validates the attribute's type and length before reading it
 * (the bytes come from the kernel, or from a notification: never trusted);
 * an attribute that does not validate is absent, and absent ones read as 0
 * or NULL, as libnftnl's nftnl_expr_get_* return them for an unset one. */
#ifndef KP_LIVE_NFT_ATTR_H
#define KP_LIVE_NFT_ATTR_H

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdint.h>

struct nlmsghdr;

/* libmnl's mnl_attr_ok, mnl_attr_next and mnl_attr_get_type, inlined with
 * the same checks: they run for every attribute of every rule, and as
 * calls into libmnl they were a tenth of a full read's time. */
static inline bool kp_nft_attr_fits(const struct nlattr *a, long len) {
  return len >= (long)sizeof(struct nlattr) && a->nla_len >= sizeof(struct nlattr) &&
         (long)a->nla_len <= len;
}
static inline uint16_t kp_nft_attr_type(const struct nlattr *a) {
  return a->nla_type & NLA_TYPE_MASK;
}
#define KP_NFT_ATTR_NEXT(a) ((const struct nlattr *)((const char *)(a) + MNL_ALIGN((a)->nla_len)))
/* Each attribute nested in nest, bounded by nest's own length. */
#define kp_nft_for_each_nested(a, nest)                                                            \
  for ((a) = (const struct nlattr *)((const char *)(nest) + MNL_ATTR_HDRLEN);                      \
       kp_nft_attr_fits((a), (const char *)(nest) + (nest)->nla_len - (const char *)(a));          \
       (a) = KP_NFT_ATTR_NEXT(a))

/* Each attribute of an nf_tables message (after its struct nfgenmsg),
 * bounded by nlmsg_len itself: mnl_attr_for_each would let the last one run
 * into the alignment padding after an odd length. */
#define kp_nft_msg_for_each_attr(a, nlh)                                                           \
  for ((a) = mnl_nlmsg_get_payload_offset((nlh), sizeof(struct nfgenmsg));                         \
       kp_nft_attr_fits((a), (const char *)(nlh) + (nlh)->nlmsg_len - (const char *)(a));          \
       (a) = KP_NFT_ATTR_NEXT(a))

/* One element of NFTA_RULE_EXPRESSIONS: NFTA_LIST_ELEM > NFTA_EXPR_NAME
 * (NUL-terminated, validated) and NFTA_EXPR_DATA (NULL: none). */
struct kp_nft_expr_ref {
  const char *name;
  uint16_t name_len;
  const struct nlattr *data;
};

/* Rules with more expressions than this are walked twice (kube-proxy's
 * have at most about 15). */
#define KP_NFT_RULE_EXPRS 32

/* The attributes of one NFT_MSG_NEWRULE message that the decoder reads. */
struct kp_nft_rule_msg {
  const struct nlattr *exprs;                     /* NFTA_RULE_EXPRESSIONS; NULL: none */
  size_t n_exprs;                                 /* elements in exprs */
  struct kp_nft_expr_ref expr[KP_NFT_RULE_EXPRS]; /* the first ones */
  const void *userdata;                           /* NFTA_RULE_USERDATA (TLVs: nftnl_udata_parse) */
  uint32_t userdata_len;
  uint64_t handle; /* NFTA_RULE_HANDLE; 0: none */
};

/* Fills m from nlh (whose payload starts with a struct nfgenmsg). -1 when
 * the expression list is malformed as libnftnl refuses it (an element that
 * is not NFTA_LIST_ELEM, or one without a name): the rule is then not
 * decoded at all. */
int kp_nft_rule_msg_parse(const struct nlmsghdr *nlh, struct kp_nft_rule_msg *m);

/* The name and data of one element of NFTA_RULE_EXPRESSIONS; -1 when it is
 * not NFTA_LIST_ELEM or has no valid name. */
int kp_nft_expr_ref(const struct nlattr *elem, struct kp_nft_expr_ref *ref);

/* The last NUL-terminated string TLV of the given type (NFTNL_UDATA_*) in
 * userdata (nftnl_udata_parse's format), or NULL. Each TLV's length is
 * checked against the end of the buffer, which libnftnl does not do:
 * userdata is whatever the rule's writer put there. */
const char *kp_nft_udata_str(const void *userdata, uint32_t len, uint8_t type);

/* NFTA_<EXPR>_* types run to 8 (payload); later ones are ignored. */
#define KP_NFT_EXPR_ATTRS 16

/* One expression: NFTA_LIST_ELEM > NFTA_EXPR_NAME, NFTA_EXPR_DATA > attr. */
struct kp_nft_expr {
  const char *name; /* NUL-terminated, validated */
  uint16_t name_len;
  const struct nlattr *attr[KP_NFT_EXPR_ATTRS]; /* by type; NULL: absent */
};

/* Fills e's attribute table from ref (one pass over NFTA_EXPR_DATA). */
void kp_nft_expr_view(const struct kp_nft_expr_ref *ref, struct kp_nft_expr *e);

static inline const struct nlattr *kp_nft_attr_valid(const struct kp_nft_expr *e, uint16_t type,
                                                     enum mnl_attr_data_type kind) {
  const struct nlattr *a = type < KP_NFT_EXPR_ATTRS ? e->attr[type] : NULL;
  return a != NULL && mnl_attr_validate(a, kind) == 0 ? a : NULL;
}

/* A u32 attribute (network order on the wire) into *v; false when absent. */
static inline bool kp_nft_attr_u32(const struct kp_nft_expr *e, uint16_t type, uint32_t *v) {
  const struct nlattr *a = kp_nft_attr_valid(e, type, MNL_TYPE_U32);
  if (a == NULL)
    return false;
  *v = ntohl(mnl_attr_get_u32(a));
  return true;
}

static inline uint32_t kp_nft_attr_get_u32(const struct kp_nft_expr *e, uint16_t type) {
  uint32_t v = 0;
  kp_nft_attr_u32(e, type, &v);
  return v;
}

static inline uint64_t kp_nft_attr_get_u64(const struct kp_nft_expr *e, uint16_t type) {
  const struct nlattr *a = kp_nft_attr_valid(e, type, MNL_TYPE_U64);
  return a != NULL ? be64toh(mnl_attr_get_u64(a)) : 0;
}

/* A NUL-terminated string attribute, or NULL. */
static inline const char *kp_nft_attr_str(const struct kp_nft_expr *e, uint16_t type) {
  const struct nlattr *a = kp_nft_attr_valid(e, type, MNL_TYPE_NUL_STRING);
  return a != NULL ? mnl_attr_get_str(a) : NULL;
}

/* A binary attribute's payload (*len bytes, possibly 0), or NULL. */
static inline const void *kp_nft_attr_bin(const struct kp_nft_expr *e, uint16_t type,
                                          uint32_t *len) {
  const struct nlattr *a = kp_nft_attr_valid(e, type, MNL_TYPE_BINARY);
  *len = a != NULL ? mnl_attr_get_payload_len(a) : 0;
  return a != NULL ? mnl_attr_get_payload(a) : NULL;
}

/* NFTA_DATA_VALUE inside the nested NFTA_<EXPR>_*_DATA attribute type: 1 to
 * NFT_DATA_VALUE_MAXLEN bytes (as libnftnl takes it), or NULL and *len 0. */
const uint8_t *kp_nft_attr_data(const struct kp_nft_expr *e, uint16_t type, uint32_t *len);

/* NFTA_DATA_VERDICT inside type: NFTA_VERDICT_CODE, and for NFT_JUMP /
 * NFT_GOTO NFTA_VERDICT_CHAIN (else *chain NULL). false when absent, or
 * for a jump without a chain. */
bool kp_nft_attr_verdict(const struct kp_nft_expr *e, uint16_t type, int32_t *code,
                         const char **chain);

#endif
