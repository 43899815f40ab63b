/* Per-service traffic: in each family, the rules of nat KUBE-SERVICES (in
 * the backend holding kube-proxy's rules) that send a service port to its
 * service chain, grouped by the "ns/name:port" that starts their comment.
 * A service's cluster IP, external IP and load-balancer IP rules add up.
 * kube-proxy's jumps from KUBE-SERVICES are rewritten with fresh counters
 * on a full sync only, so these are the per-service figures the rules keep.
 * nftables mode has no equivalent: kube-proxy writes no counter statements
 * there (corpus/STRUCTURE.md), so it yields no entries. */
#include "service_traffic.h"

#include "kp/names.h"

#include <stdlib.h>
#include <string.h>

/* Chains KUBE-SERVICES sends a service port to. */
static const char *const service_targets[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-",
                                              "KUBE-XLB-"};

static bool is_service_target(const char *name) {
  for (size_t i = 0; i < sizeof(service_targets) / sizeof(service_targets[0]); i++)
    if (kp_name_has_prefix(name, service_targets[i]))
      return true;
  return false;
}

/* Open-addressing index of one family's entries by name (slot = entry + 1). */
struct traffic_index {
  size_t *slots;
  size_t n_slots;
  size_t first; /* this family's first entry in the report */
};

struct traffic_list {
  struct kp_report *report;
  size_t capacity;
};

static size_t slot_of(const struct traffic_index *ix, const char *name, size_t len) {
  return (size_t)kp_hash_bytes(name, len) & (ix->n_slots - 1);
}

static int index_grow(struct traffic_index *ix, const struct kp_report *report) {
  size_t n_slots = ix->n_slots ? ix->n_slots * 2 : 64;
  size_t *slots = calloc(n_slots, sizeof(*slots));
  if (slots == NULL)
    return -1;
  free(ix->slots);
  ix->slots = slots;
  ix->n_slots = n_slots;
  for (size_t e = ix->first; e < report->n_service_traffic; e++) {
    const char *name = report->service_traffic[e].name;
    size_t s = slot_of(ix, name, strlen(name));
    while (ix->slots[s] != 0)
      s = (s + 1) & (n_slots - 1);
    ix->slots[s] = e + 1;
  }
  return 0;
}

/* The entry for name (len bytes) in this family, added when new; NULL on OOM. */
static struct kp_service_traffic *entry_for(struct traffic_list *list, struct traffic_index *ix,
                                            enum kp_family family, const char *name, size_t len) {
  struct kp_report *report = list->report;
  if ((report->n_service_traffic - ix->first + 1) * 2 > ix->n_slots && index_grow(ix, report) != 0)
    return NULL;
  size_t s = slot_of(ix, name, len);
  for (; ix->slots[s] != 0; s = (s + 1) & (ix->n_slots - 1)) {
    struct kp_service_traffic *e = &report->service_traffic[ix->slots[s] - 1];
    if (strncmp(e->name, name, len) == 0 && e->name[len] == '\0')
      return e;
  }
  if (report->n_service_traffic == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 16;
    struct kp_service_traffic *grown = realloc(report->service_traffic, cap * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    report->service_traffic = grown;
    list->capacity = cap;
  }
  char *copy = strndup(name, len);
  if (copy == NULL)
    return NULL;
  struct kp_service_traffic *e = &report->service_traffic[report->n_service_traffic++];
  memset(e, 0, sizeof(*e));
  e->name = copy;
  e->family = family;
  ix->slots[s] = report->n_service_traffic;
  return e;
}

static int collect_family(struct kp_check_ctx *ctx, struct traffic_list *list,
                          enum kp_family family) {
  const struct kp_table *nat = kp_ctx_table(ctx, family, "nat");
  const struct kp_chain *services = nat != NULL ? kp_table_chain(nat, "KUBE-SERVICES") : NULL;
  if (services == NULL)
    return 0;
  struct traffic_index ix = {.first = list->report->n_service_traffic};
  int rc = 0;
  for (size_t i = 0; i < services->rules.count && rc == 0; i++) {
    const struct kp_rule *r = services->rules.items[i];
    if (!kp_rule_jumps(r) || !is_service_target(r->target_name) || r->comment == NULL ||
        !r->counters.present)
      continue;
    size_t len = strcspn(r->comment, " ");
    if (len == 0)
      continue;
    struct kp_service_traffic *e = entry_for(list, &ix, family, r->comment, len);
    if (e == NULL) {
      rc = -1;
      break;
    }
    e->packets += r->counters.packets;
    e->bytes += r->counters.bytes;
  }
  free(ix.slots);
  return rc;
}

int kp_service_traffic_collect(struct kp_check_ctx *ctx) {
  if (!ctx->cfg->service_traffic)
    return 0;
  struct traffic_list list = {.report = ctx->report};
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    if (ctx->families[f] && collect_family(ctx, &list, (enum kp_family)f) != 0)
      return -1;
  return 0;
}
