/* The nf_tables netlink session: one NETLINK_NETFILTER socket, opened
 * lazily in the calling thread's namespace, one request at a time, and the
 * ruleset generation id. A leaf: it calls only libmnl and libnftnl. */
#include "live_nft_internal.h"

#include <errno.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>

void kp_nft_nl_close(struct kp_nft_nl *nl) {
  if (nl->sock != NULL)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

static int nl_open(struct kp_nft_nl *nl) {
  if (nl->sock != NULL)
    return 0;
  if (nl->buf == NULL && (nl->buf = malloc(KP_NFT_BUF)) == NULL)
    return errno = ENOMEM, -1;
  nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl->sock == NULL)
    return -1;
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    kp_nft_nl_close(nl);
    return errno = saved, -1;
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  return 0;
}

void kp_nft_nl_tolerate(struct kp_nft_nl *nl, bool tolerate) {
  nl->tolerate_intr = tolerate;
  nl->rules_interrupted = nl->chains_interrupted = false;
}

/* A tolerated interruption: the flag off (libmnl would stop on it), noted. */
static void note_intr(struct kp_nft_nl *nl, uint16_t type, size_t len) {
  struct nlmsghdr *nlh = (struct nlmsghdr *)nl->buf;
  int left = (int)len;
  for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
      nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
      if (type == NFT_MSG_GETRULE)
        nl->rules_interrupted = true;
      else
        nl->chains_interrupted = true;
    }
}

int kp_nft_nl_query(struct kp_nft_nl *nl, uint16_t type, uint16_t family, uint16_t flags,
                    kp_nft_build_fn build, void *build_arg, mnl_cb_t cb, void *cb_arg) {
  if (nl_open(nl) != 0)
    return -1;
  uint32_t seq = ++nl->seq;
  bool tolerated = nl->tolerate_intr && (flags & NLM_F_DUMP) &&
                   (type == NFT_MSG_GETRULE || type == NFT_MSG_GETCHAIN);
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nl->buf, type, family, flags, seq);
  if (build != NULL)
    build(nlh, build_arg);
  if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
    int saved = errno;
    kp_nft_nl_close(nl);
    return errno = saved, -1;
  }
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, KP_NFT_BUF);
    if (n < 0)
      break;
    if (tolerated)
      note_intr(nl, type, (size_t)n);
    int ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, cb_arg);
    if (ret == MNL_CB_STOP)
      return 0;
    if (ret < 0)
      break;
  }
  /* Leftover replies of a failed request would confuse the next one. */
  int saved = errno != 0 ? errno : EIO;
  kp_nft_nl_close(nl);
  return errno = saved, -1;
}

static int gen_cb(const struct nlmsghdr *nlh, void *arg) {
  struct nftnl_gen *gen = nftnl_gen_alloc();
  if (gen == NULL)
    return MNL_CB_ERROR;
  if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
    *(uint32_t *)arg = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
  nftnl_gen_free(gen);
  return MNL_CB_OK;
}

int kp_nft_get_gen(struct kp_nft_nl *nl, uint32_t *gen) {
  return kp_nft_nl_query(nl, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, NULL, NULL, gen_cb, gen);
}

void kp_nft_nl_free(struct kp_nft_nl *nl) {
  kp_nft_nl_close(nl);
  free(nl->buf);
  nl->buf = NULL;
}
