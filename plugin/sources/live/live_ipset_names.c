/* ipset names for the xt set match: the kernel rule holds only the set's
 * index. Same protocol as iptables' libxt_set: IP_SET_OP_VERSION, then
 * IP_SET_OP_GET_BYINDEX on a raw socket of the current namespace; cached
 * for one table read. */
#include "live_xt.h"

#include <linux/netfilter/ipset/ip_set.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void kp_ipset_names_init(struct kp_ipset_names *sets) {
  memset(sets, 0, sizeof(*sets));
  sets->fd = -1;
}

void kp_ipset_names_done(struct kp_ipset_names *sets) {
  if (sets->fd >= 0)
    close(sets->fd);
  sets->fd = -1;
}

/* NULL when the kernel cannot say (or out of memory). */
static const char *query(struct kp_ipset_names *sets, struct kp_arena *arena, uint16_t index) {
  if (sets->fd == -2)
    return NULL;
  if (sets->fd == -1) {
    sets->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    struct ip_set_req_version req = {.op = IP_SET_OP_VERSION};
    socklen_t size = sizeof(req);
    if (sets->fd < 0 || getsockopt(sets->fd, SOL_IP, SO_IP_SET, &req, &size) != 0) {
      if (sets->fd >= 0)
        close(sets->fd);
      sets->fd = -2;
      return NULL;
    }
    sets->version = req.version;
  }
  struct ip_set_req_get_set req = {.op = IP_SET_OP_GET_BYINDEX, .version = sets->version};
  req.set.index = index;
  socklen_t size = sizeof(req);
  if (getsockopt(sets->fd, SOL_IP, SO_IP_SET, &req, &size) != 0 || size != sizeof(req) ||
      req.set.name[0] == '\0')
    return NULL;
  return kp_arena_strndup(arena, req.set.name, strnlen(req.set.name, IPSET_MAXNAMELEN));
}

const char *kp_ipset_name(struct kp_ipset_names *sets, struct kp_arena *arena, uint16_t index) {
  for (size_t i = 0; i < sets->count; i++)
    if (sets->items[i].index == index)
      return sets->items[i].name;
  const char *name = query(sets, arena, index);
  if (name == NULL) {
    char fallback[32];
    snprintf(fallback, sizeof(fallback), "(index %u)", (unsigned)index);
    if ((name = kp_arena_strdup(arena, fallback)) == NULL)
      return NULL;
  }
  if (sets->count < KP_IPSET_NAMES) {
    sets->items[sets->count].index = index;
    sets->items[sets->count].name = name;
    sets->count++;
  }
  return name;
}
