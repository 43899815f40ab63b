/* The nf_tables rule decoder on rule messages built here with libmnl, no
 * kernel needed (live_nft_attr.c, live_nft_expr*.c): a rule's fields from
 * its attributes; an attribute of the wrong length or type read as absent;
 * an element without a valid name refusing the rule, an expression of an
 * unknown name kept in the text; and every truncation and many byte
 * changes of real-shaped messages decoded without reading out of bounds
 * (the buffers are malloc'd to the message's exact size: under `make asan`
 * an over-read fails the test). Expected values are read off the messages
 * by hand. */
#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <check.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/xt_comment.h>
#include <stdlib.h>
#include <string.h>

/* ---- building messages ------------------------------------------------------------- */

static char msgbuf[8192];

static struct nlmsghdr *rule_begin(void) {
  memset(msgbuf, 0, sizeof(msgbuf));
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
  struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
  g->nfgen_family = NFPROTO_IPV4;
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "filter");
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "INPUT");
  mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(42));
  return nlh;
}

struct expr_nest {
  struct nlattr *elem, *data;
};

static struct expr_nest expr_begin(struct nlmsghdr *nlh, const char *name) {
  struct expr_nest n;
  n.elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
  n.data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
  return n;
}

static void expr_end(struct nlmsghdr *nlh, struct expr_nest n) {
  mnl_attr_nest_end(nlh, n.data);
  mnl_attr_nest_end(nlh, n.elem);
}

static void put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t v) {
  mnl_attr_put_u32(nlh, type, htonl(v));
}

static void put_value(struct nlmsghdr *nlh, uint16_t type, const void *bytes, size_t len) {
  struct nlattr *nest = mnl_attr_nest_start(nlh, type);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, len, bytes);
  mnl_attr_nest_end(nlh, nest);
}

static void payload(struct nlmsghdr *nlh, uint32_t base, uint32_t offset, uint32_t len) {
  struct expr_nest n = expr_begin(nlh, "payload");
  put_u32(nlh, NFTA_PAYLOAD_DREG, NFT_REG_1);
  put_u32(nlh, NFTA_PAYLOAD_BASE, base);
  put_u32(nlh, NFTA_PAYLOAD_OFFSET, offset);
  put_u32(nlh, NFTA_PAYLOAD_LEN, len);
  expr_end(nlh, n);
}

static void bitwise_mask(struct nlmsghdr *nlh, const void *mask, const void *xor_, size_t len) {
  struct expr_nest n = expr_begin(nlh, "bitwise");
  put_u32(nlh, NFTA_BITWISE_SREG, NFT_REG_1);
  put_u32(nlh, NFTA_BITWISE_DREG, NFT_REG_1);
  put_u32(nlh, NFTA_BITWISE_LEN, (uint32_t)len);
  put_value(nlh, NFTA_BITWISE_MASK, mask, len);
  put_value(nlh, NFTA_BITWISE_XOR, xor_, len);
  expr_end(nlh, n);
}

/* op_len 4 is the real layout; any other length makes NFTA_CMP_OP invalid. */
static void cmp(struct nlmsghdr *nlh, uint32_t op, size_t op_len, const void *bytes, size_t len) {
  struct expr_nest n = expr_begin(nlh, "cmp");
  put_u32(nlh, NFTA_CMP_SREG, NFT_REG_1);
  uint8_t op_be[8] = {0};
  uint32_t v = htonl(op);
  memcpy(op_be, &v, 4);
  mnl_attr_put(nlh, NFTA_CMP_OP, op_len < sizeof(op_be) ? op_len : sizeof(op_be), op_be);
  put_value(nlh, NFTA_CMP_DATA, bytes, len);
  expr_end(nlh, n);
}

static void counter(struct nlmsghdr *nlh, uint64_t packets, uint64_t bytes) {
  struct expr_nest n = expr_begin(nlh, "counter");
  mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(bytes));
  mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(packets));
  expr_end(nlh, n);
}

/* chain NULL: a verdict without NFTA_VERDICT_CHAIN */
static void verdict(struct nlmsghdr *nlh, int32_t code, const char *chain) {
  struct expr_nest n = expr_begin(nlh, "immediate");
  put_u32(nlh, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
  struct nlattr *data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
  struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
  put_u32(nlh, NFTA_VERDICT_CODE, (uint32_t)code);
  if (chain != NULL)
    mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
  mnl_attr_nest_end(nlh, v);
  mnl_attr_nest_end(nlh, data);
  expr_end(nlh, n);
}

static void xt_comment(struct nlmsghdr *nlh, const char *text) {
  struct xt_comment_info info;
  memset(&info, 0, sizeof(info));
  strncpy(info.comment, text, sizeof(info.comment) - 1);
  struct expr_nest n = expr_begin(nlh, "match");
  mnl_attr_put_strz(nlh, NFTA_MATCH_NAME, "comment");
  put_u32(nlh, NFTA_MATCH_REV, 0);
  mnl_attr_put(nlh, NFTA_MATCH_INFO, sizeof(info), &info);
  expr_end(nlh, n);
}

static void udata_comment(struct nlmsghdr *nlh, const char *text) {
  struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  ck_assert_ptr_nonnull(ud);
  ck_assert(nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, text));
  mnl_attr_put(nlh, NFTA_RULE_USERDATA, nftnl_udata_buf_len(ud), nftnl_udata_buf_data(ud));
  nftnl_udata_buf_free(ud);
}

/* -s 10.1.0.0/16 -p tcp --dport 443, counter 5/300, -j KUBE-X, comment */
static struct nlmsghdr *kube_rule(uint32_t src_op, size_t src_op_len) {
  struct nlmsghdr *nlh = rule_begin();
  struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  static const uint8_t net[4] = {10, 1, 0, 0}, mask[4] = {255, 255, 0, 0}, zero[4] = {0};
  static const uint8_t tcp = 6, port[2] = {443 >> 8, 443 & 0xff};
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
  bitwise_mask(nlh, mask, zero, 4);
  cmp(nlh, src_op, src_op_len, net, 4);
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 9, 1);
  cmp(nlh, NFT_CMP_EQ, 4, &tcp, 1);
  payload(nlh, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  cmp(nlh, NFT_CMP_EQ, 4, port, 2);
  counter(nlh, 5, 300);
  verdict(nlh, NFT_JUMP, "KUBE-X");
  mnl_attr_nest_end(nlh, exprs);
  udata_comment(nlh, "hello");
  return nlh;
}

/* ---- decoding ------------------------------------------------------------------------ */

struct fixture {
  struct kp_snapshot *snap;
  struct kp_chain *chain;
  struct kp_nft_table_ctx ctx;
};

static void fixture_init(struct fixture *f) {
  f->snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(f->snap);
  f->snap->rule_text = true;
  struct kp_table *t = kp_snapshot_table(f->snap, KP_FAMILY_IPV4, KP_BACKEND_NFT, "filter", true);
  ck_assert_ptr_nonnull(t);
  f->chain = kp_table_add_chain(f->snap, t, "INPUT");
  ck_assert_ptr_nonnull(f->chain);
  kp_nft_table_ctx_init(&f->ctx, f->snap, t);
}

static void fixture_done(struct fixture *f) {
  kp_nft_table_ctx_done(&f->ctx);
  kp_snapshot_free(f->snap);
}

/* The rule nlh decodes to, or NULL when the message is refused. */
static struct kp_rule *decode(struct fixture *f, const struct nlmsghdr *nlh) {
  struct kp_nft_rule_msg msg;
  if (kp_nft_rule_msg_parse(nlh, &msg) != 0)
    return NULL;
  struct kp_rule *rule = kp_chain_add_rule(f->snap, f->chain);
  ck_assert_ptr_nonnull(rule);
  ck_assert_int_eq(kp_nft_decode_rule(&f->ctx, &msg, rule), 0);
  return rule;
}

static void assert_addr(const struct kp_addr *a, const char *text) {
  char buf[80];
  kp_addr_format(a, buf, sizeof(buf));
  ck_assert_str_eq(buf, text);
}

START_TEST(fields_from_attributes) {
  struct fixture f;
  fixture_init(&f);
  struct nlmsghdr *nlh = kube_rule(NFT_CMP_NEQ, 4);
  struct kp_nft_rule_msg msg;
  ck_assert_int_eq(kp_nft_rule_msg_parse(nlh, &msg), 0);
  ck_assert_uint_eq(msg.handle, 42);
  ck_assert_uint_eq(msg.n_exprs, 9);
  struct kp_rule *r = decode(&f, nlh);
  ck_assert_ptr_nonnull(r);
  assert_addr(&r->src, "!10.1.0.0/16");
  ck_assert(r->proto_present && r->proto == 6 && !r->proto_negated);
  ck_assert(r->dport.present && r->dport.lo == 443 && r->dport.hi == 443);
  ck_assert(r->counters.present && r->counters.packets == 5 && r->counters.bytes == 300);
  ck_assert_int_eq(r->target, KP_TARGET_JUMP);
  ck_assert_str_eq(r->target_name, "KUBE-X");
  ck_assert_str_eq(r->comment, "hello");
  ck_assert_str_eq(kp_rule_ext(r)->text,
                   "-A INPUT ! -s 10.1.0.0/16 -p tcp --dport 443 -j KUBE-X comment \"hello\"");
  fixture_done(&f);
}
END_TEST

START_TEST(invalid_attribute_is_absent) {
  struct fixture f;
  fixture_init(&f);
  /* NFTA_CMP_OP of 5 or 2 bytes: no op, read as 0 (NFT_CMP_EQ) as libnftnl
   * reads an unset one: the address is not negated. */
  struct kp_rule *r = decode(&f, kube_rule(NFT_CMP_NEQ, 5));
  ck_assert_ptr_nonnull(r);
  assert_addr(&r->src, "10.1.0.0/16");
  r = decode(&f, kube_rule(NFT_CMP_NEQ, 2));
  ck_assert_ptr_nonnull(r);
  assert_addr(&r->src, "10.1.0.0/16");

  /* cmp data of 65 bytes (over NFT_DATA_VALUE_MAXLEN): no data, no match;
   * a jump without its chain: no target. */
  struct nlmsghdr *nlh = rule_begin();
  struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  uint8_t big[65] = {10};
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
  cmp(nlh, NFT_CMP_EQ, 4, big, sizeof(big));
  verdict(nlh, NFT_JUMP, NULL);
  mnl_attr_nest_end(nlh, exprs);
  r = decode(&f, nlh);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->dst.kind, KP_ADDR_ANY);
  ck_assert_int_eq(r->target, KP_TARGET_NONE);
  ck_assert_str_eq(kp_rule_ext(r)->text, "-A INPUT");
  fixture_done(&f);
}
END_TEST

START_TEST(names_refused_and_unknown) {
  struct fixture f;
  fixture_init(&f);
  /* an element whose name is not NUL-terminated: the rule is refused */
  struct nlmsghdr *nlh = rule_begin();
  struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  mnl_attr_put(nlh, NFTA_EXPR_NAME, 3, "cmp");
  mnl_attr_nest_end(nlh, elem);
  mnl_attr_nest_end(nlh, exprs);
  ck_assert_ptr_null(decode(&f, nlh));
  /* an element that is not NFTA_LIST_ELEM: refused */
  nlh = rule_begin();
  exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM + 1);
  mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
  mnl_attr_nest_end(nlh, elem);
  mnl_attr_nest_end(nlh, exprs);
  ck_assert_ptr_null(decode(&f, nlh));
  /* an expression of a name the decoder does not know: in the text */
  nlh = rule_begin();
  exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  expr_end(nlh, expr_begin(nlh, "frobnicate"));
  verdict(nlh, NF_ACCEPT, NULL);
  mnl_attr_nest_end(nlh, exprs);
  struct kp_rule *r = decode(&f, nlh);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->target, KP_TARGET_ACCEPT);
  ck_assert_str_eq(kp_rule_ext(r)->text, "-A INPUT frobnicate -j ACCEPT");
  fixture_done(&f);
}
END_TEST

/* Past KP_NFT_RULE_EXPRS expressions the decoder walks the list again: of
 * 40, the source address match (34th to 36th) and the verdict (40th) lie
 * past the 32 kept, and must be decoded. */
START_TEST(long_rule_walked_again) {
  struct fixture f;
  fixture_init(&f);
  struct nlmsghdr *nlh = rule_begin();
  struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  static const uint8_t net[4] = {10, 2, 0, 0}, mask[4] = {255, 255, 0, 0}, zero[4] = {0};
  for (int i = 0; i < 33; i++)
    counter(nlh, (uint64_t)i, 1);
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
  bitwise_mask(nlh, mask, zero, 4);
  cmp(nlh, NFT_CMP_EQ, 4, net, 4);
  for (int i = 0; i < 3; i++)
    counter(nlh, 100, 2);
  verdict(nlh, NF_DROP, NULL);
  mnl_attr_nest_end(nlh, exprs);
  struct kp_nft_rule_msg msg;
  ck_assert_int_eq(kp_nft_rule_msg_parse(nlh, &msg), 0);
  ck_assert_uint_eq(msg.n_exprs, 40);
  struct kp_rule *r = decode(&f, nlh);
  ck_assert_ptr_nonnull(r);
  assert_addr(&r->src, "10.2.0.0/16");
  ck_assert_uint_eq(r->counters.packets, 100); /* the last counter */
  ck_assert_int_eq(r->target, KP_TARGET_DROP);
  ck_assert_str_eq(kp_rule_ext(r)->text, "-A INPUT -s 10.2.0.0/16 -j DROP");
  fixture_done(&f);
}
END_TEST

/* Every prefix of msg (nlmsg_len cut to it), and every byte of it set to a
 * few values, each in a buffer of exactly its length. */
static void mutate(const struct nlmsghdr *msg, size_t *decoded, size_t *refused) {
  size_t len = msg->nlmsg_len, min = NLMSG_HDRLEN + sizeof(struct nfgenmsg);
  for (size_t cut = min; cut <= len; cut++) {
    struct fixture f;
    fixture_init(&f);
    struct nlmsghdr *copy = malloc(cut);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, msg, cut);
    copy->nlmsg_len = (uint32_t)cut;
    *(decode(&f, copy) != NULL ? decoded : refused) += 1;
    free(copy);
    fixture_done(&f);
  }
  static const uint8_t values[] = {0x00, 0x01, 0x03, 0x04, 0x7f, 0xff};
  struct fixture f;
  fixture_init(&f);
  for (size_t at = min; at < len; at++)
    for (size_t v = 0; v < sizeof(values); v++) {
      uint8_t *copy = malloc(len);
      ck_assert_ptr_nonnull(copy);
      memcpy(copy, msg, len);
      copy[at] = values[v];
      *(decode(&f, (struct nlmsghdr *)copy) != NULL ? decoded : refused) += 1;
      free(copy);
    }
  fixture_done(&f);
}

START_TEST(damaged_messages_stay_in_bounds) {
  size_t decoded = 0, refused = 0;
  mutate(kube_rule(NFT_CMP_EQ, 4), &decoded, &refused);
  struct nlmsghdr *nlh = rule_begin();
  struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  xt_comment(nlh, "xt comment");
  verdict(nlh, NFT_GOTO, "KUBE-Y");
  mnl_attr_nest_end(nlh, exprs);
  mutate(nlh, &decoded, &refused);
  /* both outcomes seen: the mutations reached the decoder and the checks */
  ck_assert_uint_gt(decoded, 1000);
  ck_assert_uint_gt(refused, 10);
}
END_TEST

int main(void) {
  Suite *s = suite_create("live_nft_attr");
  TCase *tc = tcase_create("decoder");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, fields_from_attributes);
  tcase_add_test(tc, invalid_attribute_is_absent);
  tcase_add_test(tc, names_refused_and_unknown);
  tcase_add_test(tc, long_rule_walked_again);
  tcase_add_test(tc, damaged_messages_stay_in_bounds);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
