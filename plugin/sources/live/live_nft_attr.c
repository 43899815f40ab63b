/* Rule messages and their expressions read from the netlink attributes
 * (live_nft_attr.h). mnl_attr_for_each* stop at the first attribute whose
 * header or length does not fit what is left, so no walk here reads past
 * the message; each attribute's payload is validated where it is read. */
#include "live_nft_attr.h"

#include <linux/netfilter/nfnetlink.h>
#include <string.h>

/* An element's name, or NULL (not NFTA_LIST_ELEM, no valid NFTA_EXPR_NAME);
 * *data its NFTA_EXPR_DATA (NULL: none, or not nested). */
static const char *elem_name(const struct nlattr *elem, uint16_t *len, const struct nlattr **data) {
  *data = NULL;
  if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM)
    return NULL;
  const struct nlattr *name = NULL, *a;
  mnl_attr_for_each_nested(a, elem) {
    uint16_t type = mnl_attr_get_type(a);
    if (type == NFTA_EXPR_NAME)
      name = a;
    else if (type == NFTA_EXPR_DATA)
      *data = a;
  }
  if (*data != NULL && mnl_attr_validate(*data, MNL_TYPE_NESTED) < 0)
    *data = NULL;
  if (name == NULL || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0)
    return NULL;
  *len = (uint16_t)(mnl_attr_get_payload_len(name) - 1);
  return mnl_attr_get_str(name);
}

int kp_nft_rule_msg_parse(const struct nlmsghdr *nlh, struct kp_nft_rule_msg *m) {
  memset(m, 0, sizeof(*m));
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg))
    return -1;
  const struct nlattr *a;
  mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
    switch (mnl_attr_get_type(a)) {
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
   * the whole rule on an element it cannot name: so do we. */
  const struct nlattr *elem, *data;
  uint16_t len;
  mnl_attr_for_each_nested(elem, m->exprs) {
    if (elem_name(elem, &len, &data) == NULL)
      return -1;
  }
  return 0;
}

int kp_nft_expr_view(const struct nlattr *elem, struct kp_nft_expr *e) {
  const struct nlattr *data;
  memset(e->attr, 0, sizeof(e->attr));
  e->name = elem_name(elem, &e->name_len, &data);
  if (e->name == NULL)
    return -1;
  if (data == NULL)
    return 0;
  const struct nlattr *a;
  mnl_attr_for_each_nested(a, data) {
    uint16_t type = mnl_attr_get_type(a);
    if (type < KP_NFT_EXPR_ATTRS)
      e->attr[type] = a; /* the last one of a type wins, as in libnftnl */
  }
  return 0;
}

/* The NFTA_DATA_* attribute want inside the nested attribute type. */
static const struct nlattr *data_attr(const struct kp_nft_expr *e, uint16_t type, uint16_t want) {
  const struct nlattr *nest = kp_nft_attr_valid(e, type, MNL_TYPE_NESTED), *a, *found = NULL;
  if (nest == NULL)
    return NULL;
  mnl_attr_for_each_nested(a, nest) {
    if (mnl_attr_get_type(a) == want)
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
  mnl_attr_for_each_nested(a, v) {
    uint16_t t = mnl_attr_get_type(a);
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
