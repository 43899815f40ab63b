/* libFuzzer target: the nf_tables rule decoder of the live reader
 * (live_nft_attr.c, live_nft_expr*.c) on arbitrary netlink bytes, as a rule
 * dump or a change notification hands them over, then the offline path
 * (finalize, every check, the report's shape).
 *
 * Input layout: one flags byte (bit 0: kube-proxy's own nftables table, nft
 * spelling; else iptables-nft's nat table; bit 1: IPv6), then the message's
 * payload as the kernel sends it after struct nlmsghdr (struct nfgenmsg,
 * then NFTA_RULE_* attributes), decoded as one rule of the chain
 * KUBE-SERVICES. The message is copied into an aligned buffer of exactly its
 * length, so a read past nlmsg_len is one ASan sees.
 *
 * Seeds: tests/fuzz/seeds/nft_rule/ (rule messages captured from real
 * iptables-nft and nft in a test namespace: capture.c there). */
#include "fuzz_offline_path.h"
#include "live_nft_attr.h"
#include "live_nft_internal.h"

#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(struct kp_snapshot *snap, bool native, bool v6, const struct nlmsghdr *nlh) {
  struct kp_table *table = kp_snapshot_table(snap, v6 ? KP_FAMILY_IPV6 : KP_FAMILY_IPV4,
                                             KP_BACKEND_NFT, native ? "kube-proxy" : "nat", true);
  if (table == NULL)
    return;
  table->native_nft = native;
  /* A jump target the decoder can resolve, besides the chain itself. */
  struct kp_chain *chain = kp_table_add_chain(snap, table, "KUBE-SERVICES");
  if (chain == NULL || kp_table_add_chain(snap, table, "KUBE-MARK-MASQ") == NULL)
    return;
  struct kp_nft_table_ctx ctx;
  kp_nft_table_ctx_init(&ctx, snap, table);
  struct kp_nft_rule_msg msg;
  if (kp_nft_rule_msg_parse(nlh, &msg) == 0) {
    struct kp_rule *rule = kp_chain_add_rule(snap, chain);
    if (rule != NULL)
      (void)kp_nft_decode_rule(&ctx, &msg, rule);
  }
  kp_nft_table_ctx_done(&ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 + sizeof(struct nfgenmsg) || size > 65535 - NLMSG_HDRLEN)
    return 0;
  size_t len = NLMSG_HDRLEN + size - 1;
  struct nlmsghdr *nlh = malloc(len);
  if (nlh == NULL)
    return 0;
  memset(nlh, 0, NLMSG_HDRLEN);
  nlh->nlmsg_len = (uint32_t)len;
  nlh->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE;
  memcpy((char *)nlh + NLMSG_HDRLEN, data + 1, size - 1);

  struct kp_snapshot *snap = kp_snapshot_new();
  const char *problem = NULL;
  if (snap != NULL) {
    snap->rule_text = true;
    decode(snap, data[0] & 1, data[0] & 2, nlh);
    problem = kp_fuzz_offline_path(snap, KP_FUZZ_REPORT_ONLY);
    kp_snapshot_free(snap);
  }
  free(nlh);
  if (problem != NULL) {
    fprintf(stderr, "fuzz property broken: %s\n", problem);
    abort();
  }
  return 0;
}
