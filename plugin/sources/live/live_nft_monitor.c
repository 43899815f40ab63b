/* The change notifications of nf_tables (the multicast group `nft monitor`
 * listens to, NFNLGRP_NFTABLES) on a socket of their own, opened in the
 * calling thread's namespace next to the reader's request socket. Each
 * transaction's messages end with NFT_MSG_NEWGEN (its generation id): they
 * are gathered until then and handed over whole. A receive buffer the
 * kernel could not fill (ENOBUFS: messages were dropped) is reported, and
 * the transaction after it marked as damaged. */
#include "live_nft_internal.h"

#include <errno.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A kube-proxy partial sync at 20k services (KUBE-SERVICES rewritten
 * whole) is about 40k rule messages, 20 MB of socket buffer; a full
 * resync may overrun it, and is then read fully anyway. */
#define KP_NFT_MON_RCVBUF (64 << 20)
#define KP_NFT_MON_DGRAM (1u << 17)
#define KP_NFT_MON_KEEP (1u << 20)

void kp_nft_monitor_close(struct kp_nft_monitor *m) {
  if (m->sock != NULL)
    mnl_socket_close(m->sock);
  free(m->dgram);
  free(m->tx);
  *m = (struct kp_nft_monitor){0};
}

int kp_nft_monitor_open(struct kp_nft_monitor *m) {
  if (m->sock != NULL)
    return 0;
  m->dgram = malloc(KP_NFT_MON_DGRAM);
  if (m->dgram == NULL)
    return errno = ENOMEM, -1;
  m->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (m->sock == NULL)
    goto fail;
  int fd = mnl_socket_get_fd(m->sock);
  int size = KP_NFT_MON_RCVBUF;
  /* FORCE passes net.core.rmem_max (needs CAP_NET_ADMIN, which the reads
   * need anyway); without it the kernel caps the size at rmem_max. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (mnl_socket_bind(m->sock, 0, MNL_SOCKET_AUTOPID) < 0)
    goto fail;
  unsigned group = NFNLGRP_NFTABLES;
  if (mnl_socket_setsockopt(m->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
    goto fail;
  return 0;
fail:;
  int saved = errno;
  kp_nft_monitor_close(m);
  return errno = saved, -1;
}

static int keep(struct kp_nft_monitor *m, const struct nlmsghdr *nlh) {
  size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
  if (m->tx_len + len > m->tx_cap) {
    size_t cap = m->tx_cap ? m->tx_cap : 1u << 16;
    while (cap < m->tx_len + len)
      cap *= 2;
    char *tx = realloc(m->tx, cap);
    if (tx == NULL)
      return errno = ENOMEM, -1;
    m->tx = tx;
    m->tx_cap = cap;
  }
  memcpy(m->tx + m->tx_len, nlh, nlh->nlmsg_len);
  memset(m->tx + m->tx_len + nlh->nlmsg_len, 0, len - nlh->nlmsg_len);
  m->tx_len += len;
  return 0;
}

static int gen_id(const struct nlmsghdr *nlh, uint32_t *id) {
  struct nftnl_gen *gen = nftnl_gen_alloc();
  if (gen == NULL)
    return errno = ENOMEM, -1;
  int rc = nftnl_gen_nlmsg_parse(nlh, gen) == 0 && nftnl_gen_is_set(gen, NFTNL_GEN_ID) ? 0 : -1;
  if (rc == 0)
    *id = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
  nftnl_gen_free(gen);
  return rc == 0 ? 0 : (errno = EBADMSG, -1);
}

/* One datagram's messages: kept, or at NEWGEN handed over. */
static int datagram(struct kp_nft_monitor *m, size_t n, kp_nft_tx_fn fn, void *arg) {
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)m->dgram;
  int len = (int)n;
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
      continue;
    if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN) {
      if (keep(m, nlh) != 0)
        return -1;
      continue;
    }
    uint32_t gen;
    if (gen_id(nlh, &gen) != 0)
      return -1;
    bool damaged = m->damaged;
    m->damaged = false;
    size_t tx_len = m->tx_len;
    m->tx_len = 0;
    if (fn(m->tx, tx_len, gen, damaged, arg) != 0)
      return -1;
  }
  return 0;
}

int kp_nft_monitor_drain(struct kp_nft_monitor *m, int wait_ms, kp_nft_tx_fn fn, void *arg) {
  if (m->sock == NULL)
    return errno = ENOTCONN, -1;
  int fd = mnl_socket_get_fd(m->sock);
  if (wait_ms > 0) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    (void)poll(&pfd, 1, wait_ms);
  }
  for (;;) {
    ssize_t n = recv(fd, m->dgram, KP_NFT_MON_DGRAM, MSG_DONTWAIT);
    if (n > 0) {
      if (datagram(m, (size_t)n, fn, arg) != 0)
        return -1;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == ENOBUFS) {
      /* Messages were lost: what is gathered, and the next transaction,
       * are incomplete. */
      m->tx_len = 0;
      m->damaged = true;
      return errno = ENOBUFS, -1;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return -1;
    /* A large transaction's buffer (megabytes) is not kept between reads. */
    if (m->tx_len == 0 && m->tx_cap > KP_NFT_MON_KEEP) {
      free(m->tx);
      m->tx = NULL;
      m->tx_cap = 0;
    }
    return 0;
  }
}

void kp_nft_monitor_discard(struct kp_nft_monitor *m) {
  if (m->sock == NULL)
    return;
  int fd = mnl_socket_get_fd(m->sock);
  for (;;) {
    ssize_t n = recv(fd, m->dgram, KP_NFT_MON_DGRAM, MSG_DONTWAIT);
    if (n < 0 && errno != EINTR && errno != ENOBUFS)
      break;
  }
  m->tx_len = 0;
  m->damaged = false;
}
