/* The kernel's copy of an iptables-legacy table, walked the way libiptc
 * parses it (see live_iptc_blob.h): built-in chains start at their hook
 * entry and end with the policy entry at their underflow; a user chain is
 * an ERROR entry naming it, its rules, and a RETURN entry; an ERROR entry
 * named "ERROR" ends the table. Bounds-checked: a copy that does not parse
 * is "changed". */
#include "live_iptc_blob.h"

#include "kp/names.h"

/* netinet/in.h before the kernel headers, as libiptc.h has it. */
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- structure hash ------------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 32);
}

/* The bulk of a table's bytes, 8 at a time: kp_hash_bytes (FNV-1a, a
 * multiply per byte) over a whole nat table was 86 ms of a 10k-service
 * read, twice on a read after a change. */
static uint64_t hash_block(const unsigned char *p, size_t len) {
  uint64_t h = mix(0x243F6A8885A308D3ULL, len);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, sizeof(w));
    h = mix(h, w);
  }
  if (i < len) {
    uint64_t w = 0;
    memcpy(&w, p + i, len - i);
    h = mix(h, w);
  }
  return h;
}

void kp_iptc_hash_chain(struct kp_iptc_chain_hash *ch, const char *name) {
  ch->h = kp_hash_bytes(name, strlen(name));
}

/* Where the fields sit in an entry of the family. */
struct layout {
  size_t header, target_offset, next_offset, counters;
};
static const struct layout layouts[KP_FAMILY_COUNT] = {
    [KP_FAMILY_IPV4] = {sizeof(struct ipt_entry), offsetof(struct ipt_entry, target_offset),
                        offsetof(struct ipt_entry, next_offset),
                        offsetof(struct ipt_entry, counters)},
    [KP_FAMILY_IPV6] = {sizeof(struct ip6t_entry), offsetof(struct ip6t_entry, target_offset),
                        offsetof(struct ip6t_entry, next_offset),
                        offsetof(struct ip6t_entry, counters)},
};

/* One match or target: its size, name and revision, and its data. The
 * kernel writes the name only up to its NUL (xt_match_to_user): the rest
 * of the field is whatever the reader's buffer held, so it is not hashed. */
static uint64_t hash_extension(const unsigned char *m, size_t len) {
  struct xt_entry_match head;
  memcpy(&head, m, sizeof(head));
  size_t name = strnlen(head.u.user.name, sizeof(head.u.user.name));
  uint64_t h = mix(head.u.match_size, kp_hash_bytes(head.u.user.name, name));
  h = mix(h, head.u.user.revision);
  return mix(h, hash_block(m + sizeof(head), len - sizeof(head)));
}

void kp_iptc_hash_rule(struct kp_iptc_chain_hash *ch, enum kp_family family, const void *entry,
                       size_t len) {
  const struct layout *l = &layouts[family];
  const unsigned char *e = entry;
  size_t after = l->counters + sizeof(struct xt_counters);
  uint16_t toff;
  memcpy(&toff, e + l->target_offset, sizeof(toff));
  if (len < l->header || toff < l->header || toff > len) {
    ch->h = mix(ch->h, hash_block(e, len)); /* does not parse: all of it */
    return;
  }
  ch->h = mix(ch->h, hash_block(e, l->counters));
  ch->h = mix(ch->h, hash_block(e + after, l->header - after));
  /* the matches between the header and the target, then the target */
  for (size_t off = l->header; off < len;) {
    uint16_t size;
    memcpy(&size, e + off, sizeof(size));
    size_t end = off < toff ? toff : len;
    if (size < sizeof(struct xt_entry_match) || size > end - off) {
      ch->h = mix(ch->h, hash_block(e + off, len - off));
      return;
    }
    ch->h = mix(ch->h, hash_extension(e + off, size));
    off += size;
  }
}

void kp_iptc_hash_policy(struct kp_iptc_chain_hash *ch, const char *policy) {
  ch->h = mix(ch->h, policy != NULL ? kp_hash_bytes(policy, strlen(policy)) : 1);
}

/* ---- the copy ------------------------------------------------------------- */

int kp_iptc_blob_read(struct kp_iptc_blob *blob, enum kp_family family, const char *table) {
  bool v6 = family == KP_FAMILY_IPV6;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0)
    return -1;
  int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  /* ipt_getinfo and ip6t_getinfo are the same struct. */
  struct ipt_getinfo info;
  memset(&info, 0, sizeof(info));
  snprintf(info.name, sizeof(info.name), "%s", table);
  socklen_t len = sizeof(info);
  int rc = getsockopt(fd, level, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO, &info, &len);
  size_t need = sizeof(struct ipt_get_entries) + info.size;
  if (rc == 0 && need > blob->capacity) {
    /* mmap'ed, not malloc'ed: a freed copy of a few MB would raise glibc's
     * mmap threshold to its size, so the next ones came from the reading
     * thread's heap, which then kept that much free memory resident
     * (7.5 MiB per collectd read thread at 1k services). */
    kp_iptc_blob_free(blob);
    void *buf =
        mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED)
      rc = (errno = ENOMEM, -1);
    else
      blob->buf = buf, blob->capacity = need;
  }
  if (rc == 0) {
    struct ipt_get_entries *req = (struct ipt_get_entries *)blob->buf;
    memset(req, 0, sizeof(*req));
    snprintf(req->name, sizeof(req->name), "%s", table);
    req->size = info.size;
    len = (socklen_t)need;
    rc = getsockopt(fd, level, v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES, req, &len);
  }
  int saved = errno;
  close(fd);
  if (rc != 0)
    return errno = saved, -1;
  blob->size = info.size;
  blob->valid_hooks = info.valid_hooks;
  memcpy(blob->hook_entry, info.hook_entry, sizeof(blob->hook_entry));
  memcpy(blob->underflow, info.underflow, sizeof(blob->underflow));
  return 0;
}

void kp_iptc_blob_free(struct kp_iptc_blob *blob) {
  if (blob->buf != NULL)
    munmap(blob->buf, blob->capacity);
  memset(blob, 0, sizeof(*blob));
}

/* ---- the walk -------------------------------------------------------------- */

static const char *const hook_chains[5] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                           "POSTROUTING"};

static const unsigned char *entries(const struct kp_iptc_blob *blob) {
  return blob->buf + sizeof(struct ipt_get_entries);
}

static uint16_t u16_at(const unsigned char *p) {
  uint16_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

const char *kp_iptc_verdict_name(int verdict) {
  switch (verdict) {
  case -NF_ACCEPT - 1:
    return "ACCEPT";
  case -NF_DROP - 1:
    return "DROP";
  case -NF_QUEUE - 1:
    return "QUEUE";
  case XT_RETURN:
    return "RETURN";
  default:
    return NULL;
  }
}

/* The standard verdict a policy entry holds, as libiptc names it. */
static const char *policy_name(const unsigned char *target, size_t avail) {
  struct xt_standard_target t;
  if (avail < sizeof(t))
    return "?";
  memcpy(&t, target, sizeof(t));
  const char *name = kp_iptc_verdict_name(t.verdict);
  return name != NULL ? name : "?";
}

static int counters_at(const struct layout *l, const unsigned char *e, struct kp_counters *out) {
  struct xt_counters c;
  memcpy(&c, e + l->counters, sizeof(c));
  out->present = true;
  out->packets = c.pcnt;
  out->bytes = c.bcnt;
  return 0;
}

/* Where the user chain being walked ends: its last entry (the RETURN tail),
 * or its start when it has none. */
static size_t foot(const unsigned char *base, const unsigned char *pending, size_t chain_off) {
  return pending != NULL ? (size_t)(pending - base) : chain_off;
}

int kp_iptc_blob_walk(const struct kp_iptc_blob *blob, enum kp_family family,
                      const struct kp_iptc_visitor *v) {
  const struct layout *l = &layouts[family];
  const unsigned char *base = entries(blob);
  const size_t head = sizeof(struct xt_entry_target);
  int hook = -1;                       /* the built-in chain we are in, or -1 */
  bool user = false;                   /* in a user chain */
  const unsigned char *pending = NULL; /* a user chain's last entry: rule or tail */
  size_t pending_len = 0, chain_off = 0;
  for (size_t off = 0; off < blob->size;) {
    const unsigned char *e = base + off;
    if (blob->size - off < l->header)
      return -1;
    size_t next = u16_at(e + l->next_offset), toff = u16_at(e + l->target_offset);
    if (next < l->header || next > blob->size - off || toff < l->header || toff + head > next)
      return -1;
    for (int h = 0; h < 5; h++)
      if ((blob->valid_hooks & (1u << h)) && blob->hook_entry[h] == off) {
        if (hook >= 0 ||
            (user && v->chain_end(v->arg, NULL, NULL, foot(base, pending, chain_off)) != 0))
          return -1; /* a user chain's tail dropped */
        user = false, pending = NULL, hook = h, chain_off = off;
        if (v->chain_start(v->arg, hook_chains[h], true, off) != 0)
          return -1;
      }
    struct xt_entry_target t;
    memcpy(&t, e + toff, head);
    if (strncmp(t.u.user.name, XT_ERROR_TARGET, sizeof(t.u.user.name)) == 0) {
      if (hook >= 0 ||
          (user && v->chain_end(v->arg, NULL, NULL, foot(base, pending, chain_off)) != 0))
        return -1;
      char name[XT_FUNCTION_MAXNAMELEN + 1] = "";
      size_t avail = next - toff - head;
      memcpy(name, e + toff + head,
             avail < XT_FUNCTION_MAXNAMELEN ? avail : XT_FUNCTION_MAXNAMELEN);
      if (strcmp(name, XT_ERROR_TARGET) == 0)
        return 0; /* the end of the table */
      user = true, pending = NULL, chain_off = off;
      if (v->chain_start(v->arg, name, false, off) != 0)
        return -1;
    } else if (hook >= 0 && blob->underflow[hook] == off) {
      struct kp_counters c;
      counters_at(l, e, &c);
      if (v->chain_end(v->arg, policy_name(e + toff, next - toff), &c, off) != 0)
        return -1;
      hook = -1;
    } else if (hook >= 0) {
      if (v->rule(v->arg, e, next, off) != 0)
        return -1;
    } else if (user) {
      if (pending != NULL && v->rule(v->arg, pending, pending_len, (size_t)(pending - base)) != 0)
        return -1;
      pending = e, pending_len = next;
    } else {
      return -1; /* an entry outside every chain */
    }
    off += next;
  }
  return -1; /* no end marker */
}

/* ---- the two cheap walks: hash, counters --------------------------------- */

struct hash_walk {
  enum kp_family family;
  uint64_t *hash;
  struct kp_iptc_chain_hash ch;
};

static int hash_start(void *arg, const char *name, bool builtin, size_t offset) {
  (void)builtin, (void)offset;
  kp_iptc_hash_chain(&((struct hash_walk *)arg)->ch, name);
  return 0;
}

static int hash_rule(void *arg, const unsigned char *e, size_t len, size_t offset) {
  struct hash_walk *w = arg;
  (void)offset;
  kp_iptc_hash_rule(&w->ch, w->family, e, len);
  return 0;
}

static int hash_end(void *arg, const char *policy, const struct kp_counters *c, size_t offset) {
  struct hash_walk *w = arg;
  (void)c, (void)offset;
  kp_iptc_hash_policy(&w->ch, policy);
  kp_iptc_hash_add(w->hash, &w->ch);
  return 0;
}

int kp_iptc_blob_hash(const struct kp_iptc_blob *blob, enum kp_family family, uint64_t *hash) {
  *hash = 0;
  struct hash_walk w = {.family = family, .hash = hash};
  const struct kp_iptc_visitor v = {hash_start, hash_rule, hash_end, &w};
  return kp_iptc_blob_walk(blob, family, &v);
}

struct counter_walk {
  const struct layout *l;
  struct kp_table *table;
  struct kp_chain *chain;
  size_t index;
};

static int counter_start(void *arg, const char *name, bool builtin, size_t offset) {
  struct counter_walk *w = arg;
  (void)builtin, (void)offset;
  w->chain = kp_table_chain(w->table, name);
  w->index = 0;
  return w->chain == NULL ? -1 : 0;
}

static int counter_rule(void *arg, const unsigned char *e, size_t len, size_t offset) {
  struct counter_walk *w = arg;
  (void)len, (void)offset;
  if (w->index >= w->chain->rules.count)
    return -1;
  struct kp_rule *r = w->chain->rules.items[w->index++];
  struct kp_counters c;
  if (counters_at(w->l, e, &c) != 0)
    return -1;
  kp_rule_set_counters(r, &c);
  return 0;
}

static int counter_end(void *arg, const char *policy, const struct kp_counters *c, size_t offset) {
  struct counter_walk *w = arg;
  (void)offset;
  if (w->index != w->chain->rules.count)
    return -1;
  /* a chain with a policy has its extension since the decode set it */
  if (policy != NULL && c != NULL && w->chain->ext != NULL) {
    w->chain->ext->policy_counters.packets = c->packets;
    w->chain->ext->policy_counters.bytes = c->bytes;
  }
  return 0;
}

int kp_iptc_blob_counters(const struct kp_iptc_blob *blob, enum kp_family family,
                          struct kp_table *table) {
  struct counter_walk w = {.l = &layouts[family], .table = table};
  const struct kp_iptc_visitor v = {counter_start, counter_rule, counter_end, &w};
  return kp_iptc_blob_walk(blob, family, &v);
}
