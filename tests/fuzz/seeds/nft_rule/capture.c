/* Writes the seeds of fuzz_nft_rule: every rule message the kernel sends
 * for a whole-ruleset NFT_MSG_GETRULE dump of the current network
 * namespace, one file per distinct message, in the target's input layout
 * (a flags byte: bit 0 kube-proxy's own table, bit 1 IPv6; then the
 * payload after struct nlmsghdr). Not built by make; run as root:
 *
 *   cc -o /tmp/capture tests/fuzz/seeds/nft_rule/capture.c -lmnl
 *   ip netns add kp-seed
 *   tests/fixtures/make-ruleset.sh --services 3 | ip netns exec kp-seed iptables-nft-restore
 *   tests/fixtures/make-ruleset-v6.sh | ip netns exec kp-seed ip6tables-nft-restore
 *   tests/fixtures/make-nft-ruleset.sh | ip netns exec kp-seed nft -f -
 *   ip netns exec kp-seed /tmp/capture tests/fuzz/seeds/nft_rule
 *   ip netns del kp-seed
 *
 * Messages differing only in their handle are one seed (a fresh restore
 * leaves every counter at 0). */
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct capture {
  const char *dir;
  unsigned written;
  unsigned long long seen[4096];
  unsigned n_seen;
};

/* FNV-1a of a message whose handle has been zeroed. */
static unsigned long long shape_hash(const unsigned char *p, size_t len) {
  unsigned long long h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg) {
  struct capture *c = arg;
  const struct nfgenmsg *gen = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *attr;
  const char *table = "";
  mnl_attr_for_each(attr, nlh, sizeof(*gen)) {
    if (mnl_attr_get_type(attr) == NFTA_RULE_TABLE &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
      table = mnl_attr_get_str(attr);
  }
  size_t len = nlh->nlmsg_len - NLMSG_HDRLEN;
  unsigned char *copy = malloc(len + 1);
  if (copy == NULL)
    return MNL_CB_ERROR;
  copy[0] = (unsigned char)((strcmp(table, "kube-proxy") == 0) | (gen->nfgen_family == NFPROTO_IPV6)
                                                                     << 1);
  memcpy(copy + 1, mnl_nlmsg_get_payload(nlh), len);
  /* the shape: the message with its handle zeroed */
  unsigned char *shape = malloc(len + 1);
  if (shape == NULL)
    return free(copy), MNL_CB_ERROR;
  memcpy(shape, copy, len + 1);
  mnl_attr_for_each(attr, nlh, sizeof(*gen)) {
    if (mnl_attr_get_type(attr) == NFTA_RULE_HANDLE)
      memset(shape + 1 + ((const unsigned char *)attr - (const unsigned char *)gen), 0,
             attr->nla_len);
  }
  unsigned long long h = shape_hash(shape, len + 1);
  free(shape);
  for (unsigned i = 0; i < c->n_seen; i++)
    if (c->seen[i] == h)
      return free(copy), MNL_CB_OK;
  if (c->n_seen < sizeof(c->seen) / sizeof(c->seen[0]))
    c->seen[c->n_seen++] = h;
  char path[4096];
  snprintf(path, sizeof(path), "%s/rule-%03u", c->dir, c->written++);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(copy, 1, len + 1, f) != len + 1)
    return perror(path), free(copy), MNL_CB_ERROR;
  fclose(f);
  free(copy);
  return MNL_CB_OK;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return fprintf(stderr, "usage: capture DIR\n"), 64;
  struct capture c = {.dir = argv[1]};
  static char buf[1 << 16];
  struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return perror("netlink"), 1;
  unsigned portid = mnl_socket_get_portid(nl), seq = (unsigned)time(NULL);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  struct nfgenmsg *gen = mnl_nlmsg_put_extra_header(nlh, sizeof(*gen));
  gen->nfgen_family = NFPROTO_UNSPEC;
  gen->version = NFNETLINK_V0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return perror("sendto"), 1;
  int ret;
  do {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n <= 0)
      return perror("recvfrom"), 1;
    ret = mnl_cb_run(buf, (size_t)n, seq, portid, rule_cb, &c);
  } while (ret > MNL_CB_STOP);
  mnl_socket_close(nl);
  printf("%u seeds in %s\n", c.written, c.dir);
  return ret < 0;
}
