/* kp_live_read: every table of the chosen backend, optionally inside another
 * network namespace.
 *
 * Missing tables, decided here:
 *  - auto (backend UNKNOWN): a missing legacy table is skipped, whichever it
 *    is. A node with no legacy tables at all (kernel without ip_tables, or
 *    an nft-only node) is not an error: 0 with nothing read, and the checks
 *    then see mode "none" for legacy. Tables that only hold empty built-in
 *    chains with ACCEPT policies carry nothing and are dropped too: merely
 *    reading a legacy table can make the kernel load and create it.
 *  - LEGACY forced: filter and nat (IPv4) must exist, else KP_LIVE_NO_TABLE;
 *    mangle, raw and every ip6 table stay optional (kernels without IPv6).
 *  - No privilege, or any other failure, is always an error.
 *  - NFT: not in this build yet (KP_LIVE_UNSUPPORTED). */
#include "kp/live.h"

#include <stdio.h>
#include <string.h>

struct table_spec {
  enum kp_family family;
  const char *name;
  bool required_when_forced;
};

static const struct table_spec legacy_tables[] = {
    {KP_FAMILY_IPV4, "filter", true},  {KP_FAMILY_IPV4, "nat", true},
    {KP_FAMILY_IPV4, "mangle", false}, {KP_FAMILY_IPV4, "raw", false},
    {KP_FAMILY_IPV6, "filter", false}, {KP_FAMILY_IPV6, "nat", false},
    {KP_FAMILY_IPV6, "mangle", false}, {KP_FAMILY_IPV6, "raw", false},
};

struct live_job {
  struct kp_snapshot *snap;
  const struct kp_live_options *opt;
  struct kp_live_error *err;
};

static bool table_is_pristine(const struct kp_table *table) {
  for (size_t i = 0; i < table->chains.count; i++) {
    const struct kp_chain *chain = table->chains.items[i];
    if (!chain->builtin || chain->rules.count != 0 ||
        (chain->policy != NULL && strcmp(chain->policy, "ACCEPT") != 0))
      return false;
  }
  return true;
}

static int add_kernel_source(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->sources.count; i++)
    if (strcmp(snap->sources.items[i], "kernel") == 0)
      return 0;
  return kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel");
}

static int read_legacy(void *arg) {
  struct live_job *job = arg;
  bool forced = job->opt->backend == KP_BACKEND_LEGACY;
  size_t n_read = 0;
  for (size_t i = 0; i < sizeof(legacy_tables) / sizeof(legacy_tables[0]); i++) {
    const struct table_spec *spec = &legacy_tables[i];
    if (spec->family == KP_FAMILY_IPV6 && !job->opt->ipv6)
      continue;
    struct kp_live_error terr = {0};
    if (kp_iptc_read_table(job->snap, spec->family, spec->name, &terr) != 0) {
      bool optional = !forced || !spec->required_when_forced;
      if (terr.fault == KP_LIVE_NO_TABLE && optional)
        continue;
      *job->err = terr;
      return -1;
    }
    struct kp_table *table =
        kp_snapshot_table(job->snap, spec->family, KP_BACKEND_LEGACY, spec->name, false);
    if (!forced && table != NULL && table_is_pristine(table)) {
      kp_snapshot_drop_table(job->snap, table);
      continue;
    }
    n_read++;
  }
  if (n_read > 0 && add_kernel_source(job->snap) != 0) {
    job->err->fault = KP_LIVE_OTHER;
    snprintf(job->err->message, sizeof(job->err->message), "reading the kernel: out of memory");
    return -1;
  }
  return 0;
}

int kp_live_read(struct kp_snapshot *snap, const struct kp_live_options *opt,
                 struct kp_live_error *err) {
  struct kp_live_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  static const struct kp_live_options defaults = {KP_BACKEND_UNKNOWN, false, NULL};
  if (opt == NULL)
    opt = &defaults;
  if (opt->backend == KP_BACKEND_NFT) {
    err->fault = KP_LIVE_UNSUPPORTED;
    snprintf(err->message, sizeof(err->message), "nft backend not available in this build");
    return -1;
  }
  struct live_job job = {snap, opt, err};
  return kp_netns_run(opt->netns_path, read_legacy, &job, err);
}
