/* Rule messages and their expressions read from the netlink attributes
 * (live_nft_attr.h). Every walk stops at the first attribute whose header
 * or length does not fit what is left of its parent (mnl_attr_ok), so none
 * reads past the message; each payload is validated where it is read. */
#include "live_nft_attr.h"

#include <libnftnl/udata.h>
#include <string.h>

int kp_nft_expr_ref(const struct nlattr *elem, struct kp_nft_expr_ref *ref) {
  ref->data = NULL;
  if (kp_nft_attr_type(elem) != NFTA_LIST_ELEM)
    return -1;
  const struct nlattr *name = NULL, *a;
  kp_nft_for_each_nested(a, elem) {
    uint16_t type = kp_nft_attr_type(a);
    if (type == NFTA_EXPR_NAME)
      name = a;
    else if (type == NFTA_EXPR_DATA)
      ref->data = a;
  }
  if (ref->data != NULL && mnl_attr_validate(ref->data, MNL_TYPE_NESTED) < 0)
    ref->data = NULL;
  if (name == NULL || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0)
    return -1;
  ref->name_len = (uint16_t)(mnl_attr_get_payload_len(name) - 1);
  ref->name = mnl_attr_get_str(name);
  return 0;
}

int kp_nft_rule_msg_parse(const struct nlmsghdr *nlh, struct kp_nft_rule_msg *m) {
  m->exprs = NULL;
  m->n_exprs = 0;
  m->userdata = NULL;
  m->userdata_len = 0;
  m->handle = 0;
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg))
    return -1;
  const struct nlattr *a;
  kp_nft_msg_for_each_attr(a, nlh) {
    switch (kp_nft_attr_type(a)) {
    case NFTA_RULE_EXPRESSIONS:
      m->exprs = a;
      break;
    case NFTA_RULE_HANDLE:
      if (mnl_attr_validate(a, MNL_TYPE_U64) == 0)
        m->handle = be64toh(mnl_attr_get_u64(a));
      break;
    case NFTA_RULE_USERDATA:
      m->userdata = mnl_attr_get_payload(a);
      m->userdata_len = mnl_attr_get_payload_len(a);
      break;
    default:
      break;
    }
  }
  if (m->exprs == NULL)
    return 0;
  /* libnftnl parses every expression before the rule is used, and fails
   * the whole rule on an element it cannot name: so do we. The first
   * elements are kept for the decoder. */
  const struct nlattr *elem;
  struct kp_nft_expr_ref spare;
  kp_nft_for_each_nested(elem, m->exprs) {
    struct kp_nft_expr_ref *ref = m->n_exprs < KP_NFT_RULE_EXPRS ? &m->expr[m->n_exprs] : &spare;
    if (kp_nft_expr_ref(elem, ref) != 0)
      return -1;
    m->n_exprs++;
  }
  return 0;
}

void kp_nft_expr_view(const struct kp_nft_expr_ref *ref, struct kp_nft_expr *e) {
  memset(e->attr, 0, sizeof(e->attr));
  e->name = ref->name;
  e->name_len = ref->name_len;
  if (ref->data == NULL)
    return;
  const struct nlattr *a;
  kp_nft_for_each_nested(a, ref->data) {
    uint16_t type = kp_nft_attr_type(a);
    if (type < KP_NFT_EXPR_ATTRS)
      e->attr[type] = a; /* the last one of a type wins, as in libnftnl */
  }
}

/* The NFTA_DATA_* attribute want inside the nested attribute type. */
static const struct nlattr *data_attr(const struct kp_nft_expr *e, uint16_t type, uint16_t want) {
  const struct nlattr *nest = kp_nft_attr_valid(e, type, MNL_TYPE_NESTED), *a, *found = NULL;
  if (nest == NULL)
    return NULL;
  kp_nft_for_each_nested(a, nest) {
    if (kp_nft_attr_type(a) == want)
      found = a;
  }
  return found;
}

const uint8_t *kp_nft_attr_data(const struct kp_nft_expr *e, uint16_t type, uint32_t *len) {
  const struct nlattr *v = data_attr(e, type, NFTA_DATA_VALUE);
  *len = v != NULL ? mnl_attr_get_payload_len(v) : 0;
  if (*len == 0 || *len > NFT_DATA_VALUE_MAXLEN) {
    *len = 0;
    return NULL;
  }
  return mnl_attr_get_payload(v);
}

bool kp_nft_attr_verdict(const struct kp_nft_expr *e, uint16_t type, int32_t *code,
                         const char **chain) {
  const struct nlattr *v = data_attr(e, type, NFTA_DATA_VERDICT), *a;
  const struct nlattr *code_attr = NULL, *chain_attr = NULL;
  *chain = NULL;
  if (v == NULL || mnl_attr_validate(v, MNL_TYPE_NESTED) < 0)
    return false;
  kp_nft_for_each_nested(a, v) {
    uint16_t t = kp_nft_attr_type(a);
    if (t == NFTA_VERDICT_CODE)
      code_attr = a;
    else if (t == NFTA_VERDICT_CHAIN)
      chain_attr = a;
  }
  if (code_attr == NULL || mnl_attr_validate(code_attr, MNL_TYPE_U32) < 0)
    return false;
  *code = (int32_t)ntohl(mnl_attr_get_u32(code_attr));
  if (*code != NFT_JUMP && *code != NFT_GOTO)
    return true;
  if (chain_attr == NULL || mnl_attr_validate(chain_attr, MNL_TYPE_NUL_STRING) < 0)
    return false;
  *chain = mnl_attr_get_str(chain_attr);
  return true;
}

/* nftnl_udata_parse checks only that each TLV starts inside the buffer: its
 * length byte and value are checked here, and a TLV that overruns the end
 * stops the walk before libnftnl steps over it. */
struct udata_walk {
  const unsigned char *end;
  uint8_t type;
  const char *found;
};

static int udata_cb(const struct nftnl_udata *attr, void *data) {
  struct udata_walk *w = data;
  const unsigned char *tlv = (const unsigned char *)attr;
  if (w->end - tlv < 2 || w->end - tlv - 2 < nftnl_udata_len(attr))
    return -1;
  if (nftnl_udata_type(attr) == w->type) {
    const char *value = nftnl_udata_get(attr);
    uint8_t len = nftnl_udata_len(attr);
    if (len > 0 && value[len - 1] == '\0')
      w->found = value;
  }
  return 0;
}

const char *kp_nft_udata_str(const void *userdata, uint32_t len, uint8_t type) {
  struct udata_walk w = {(const unsigned char *)userdata + len, type, NULL};
  nftnl_udata_parse(userdata, len, udata_cb, &w);
  return w.found;
}
