/* kp_live_read / kp_live_source: every table of the chosen backend(s),
 * optionally inside another network namespace.
 *
 * Which tables, decided here:
 *  - auto (backend UNKNOWN) reads both backends. Legacy tables are read only
 *    where the kernel lists them (/proc/thread-self/net/ip{,6}_tables_names):
 *    asking libiptc for a table that does not exist makes the kernel load
 *    and create it, and a monitor must not change the node it watches (an
 *    nft node would start printing "iptables-legacy tables present"). A
 *    reader that may not see that list (non-root) skips legacy when nft is
 *    plainly in use, and otherwise tries the tables. nft
 *    tables that cannot be read because the kernel has no nf_tables are
 *    skipped.
 *  - LEGACY forced: filter and nat (IPv4) must exist, else KP_LIVE_NO_TABLE;
 *    mangle, raw and every ip6 table stay optional.
 *  - NFT forced: the nf_tables tables only; no nf_tables is an error.
 *  - No privilege, or any other failure, is always an error. */
#include "live_internal.h"
#include "live_nft.h"
#include "live_proxy_fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#define N_LEGACY (sizeof(legacy_tables) / sizeof(legacy_tables[0]))

struct kp_live_source {
  bool one_shot; /* kp_live_read's: keeps nothing for a next read */
  struct kp_iptc_cache legacy[N_LEGACY];
  size_t legacy_hits;
  struct kp_nft_reader *nft;
  dev_t netns_dev; /* the namespace the nft reader's socket lives in */
  ino_t netns_ino;
};

struct live_job {
  struct kp_live_source *source;
  struct kp_snapshot *snap;
  const struct kp_live_options *opt;
  struct kp_live_error *err;
};

static int add_kernel_source(struct kp_snapshot *snap) {
  for (size_t i = 0; i < snap->sources.count; i++)
    if (strcmp(snap->sources.items[i], "kernel") == 0)
      return 0;
  return kp_ptrvec_push(&snap->arena, &snap->sources, (void *)"kernel");
}

/* Which legacy tables exist in this thread's namespace. A missing list
 * means none (the ip_tables module is not even loaded): 0. The list is
 * root-only (0440): a reader without CAP_DAC_READ_SEARCH cannot tell (1),
 * nor can one without /proc (-1). */
static int existing_tables(enum kp_family family, char *names, size_t len) {
  const char *path = family == KP_FAMILY_IPV6 ? "/proc/thread-self/net/ip6_tables_names"
                                              : "/proc/thread-self/net/ip_tables_names";
  names[0] = '\0';
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    if (errno == EACCES || errno == EPERM)
      return 1;
    return access("/proc/thread-self/net", F_OK) == 0 ? 0 : -1;
  }
  size_t n = fread(names, 1, len - 1, f);
  names[n] = '\0';
  fclose(f);
  return 0;
}

static bool listed(const char *names, const char *table) {
  size_t len = strlen(table);
  for (const char *p = names; (p = strstr(p, table)) != NULL; p += len)
    if ((p == names || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
      return true;
  return false;
}

/* Do the nf_tables tables already read show Kubernetes at work (kube-proxy's
 * or kubelet's KUBE-* chains, or the nftables-mode table)? Then that is the
 * backend the node uses. */
static bool nft_in_use(const struct kp_snapshot *snap) {
  for (size_t t = 0; t < snap->tables.count; t++) {
    const struct kp_table *table = snap->tables.items[t];
    if (table->backend != KP_BACKEND_NFT)
      continue;
    if (table->native_nft)
      return true;
    for (size_t c = 0; c < table->chains.count; c++)
      if (strncmp(((const struct kp_chain *)table->chains.items[c])->name, "KUBE-", 5) == 0)
        return true;
  }
  return false;
}

/* An auto-mode table the kernel may have just created for us: only empty
 * built-in chains with ACCEPT policies. It tells nothing; dropping it keeps
 * it out of the checks. */
static bool table_is_pristine(const struct kp_table *table) {
  for (size_t i = 0; i < table->chains.count; i++) {
    const struct kp_chain *chain = table->chains.items[i];
    if (!chain->builtin || chain->rules.count != 0 ||
        (kp_chain_ext(chain)->policy != NULL && strcmp(kp_chain_ext(chain)->policy, "ACCEPT") != 0))
      return false;
  }
  return true;
}

static int read_legacy(struct live_job *job) {
  bool forced = job->opt->backend == KP_BACKEND_LEGACY;
  char names[KP_FAMILY_COUNT][256];
  int known[KP_FAMILY_COUNT];
  for (int f = 0; f < KP_FAMILY_COUNT; f++)
    known[f] = existing_tables((enum kp_family)f, names[f], sizeof(names[f]));
  /* Unable to see the list (non-root): when nf_tables is plainly the
   * backend in use, asking libiptc would only create empty legacy tables on
   * the node, so don't; otherwise try them (this is likely a legacy node). */
  bool blind_skip = !forced && nft_in_use(job->snap);
  job->source->legacy_hits = 0;
  for (size_t i = 0; i < N_LEGACY; i++) {
    const struct table_spec *spec = &legacy_tables[i];
    if (spec->family == KP_FAMILY_IPV6 && !job->opt->ipv6)
      continue;
    bool required = forced && spec->required_when_forced;
    int k = known[spec->family];
    if (!required &&
        ((k == 0 && !listed(names[spec->family], spec->name)) || (k != 0 && blind_skip)))
      continue;
    struct kp_live_error terr = {0};
    bool hit = false;
    int rc = job->source->one_shot ? kp_iptc_read_table(job->snap, spec->family, spec->name, &terr)
                                   : kp_iptc_cache_read(&job->source->legacy[i], job->snap,
                                                        spec->family, spec->name, &terr, &hit);
    job->source->legacy_hits += hit;
    if (rc != 0) {
      if (terr.fault == KP_LIVE_NO_TABLE && !required)
        continue;
      *job->err = terr;
      return -1;
    }
    struct kp_table *table =
        kp_snapshot_table(job->snap, spec->family, KP_BACKEND_LEGACY, spec->name, false);
    if (!forced && k != 0 && table != NULL && table_is_pristine(table))
      kp_snapshot_drop_table(job->snap, table);
  }
  return 0;
}

/* The namespace the reads go to: the one at path, or our own. */
static int netns_identity(const char *path, dev_t *dev, ino_t *ino) {
  struct stat st;
  if (stat(path ? path : "/proc/self/ns/net", &st) != 0)
    return -1;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return 0;
}

static int read_nft(struct live_job *job) {
  struct kp_live_source *source = job->source;
  if (source->nft == NULL && (source->nft = kp_nft_reader_new()) == NULL)
    return kp_live_fail(job->err, KP_LIVE_OTHER, ENOMEM, "nf_tables reader: out of memory");
  struct kp_live_error nerr = {0};
  if (kp_nft_read(source->nft, job->snap, job->opt->ipv6, &nerr) != 0) {
    if (nerr.fault == KP_LIVE_UNSUPPORTED && job->opt->backend != KP_BACKEND_NFT)
      return 0;
    *job->err = nerr;
    return -1;
  }
  return 0;
}

static int read_in_namespace(void *arg) {
  struct live_job *job = arg;
  /* nft first: whether it is in use decides how a non-root reader treats
   * the legacy tables it cannot list. */
  if (job->opt->backend != KP_BACKEND_LEGACY && read_nft(job) != 0)
    return -1;
  if (job->opt->backend != KP_BACKEND_NFT && read_legacy(job) != 0)
    return -1;
  kp_proxy_status_fetch(job->snap, job->opt->kube_proxy_metrics, job->opt->kube_proxy_healthz);
  if (job->snap->tables.count > 0 && add_kernel_source(job->snap) != 0)
    return kp_live_fail(job->err, KP_LIVE_OTHER, ENOMEM, "reading the kernel: out of memory");
  return 0;
}

struct kp_live_source *kp_live_source_new(void) {
  return calloc(1, sizeof(struct kp_live_source));
}

void kp_live_source_nft_full_reads(const struct kp_live_source *source,
                                   uint64_t counts[KP_NFT_FULL_COUNT]) {
  memset(counts, 0, KP_NFT_FULL_COUNT * sizeof(counts[0]));
  if (source->nft != NULL)
    kp_nft_full_reads(source->nft, counts);
}

void kp_live_source_free(struct kp_live_source *source) {
  if (source == NULL)
    return;
  kp_nft_reader_free(source->nft);
  for (size_t i = 0; i < N_LEGACY; i++)
    kp_iptc_cache_free(&source->legacy[i]);
  free(source);
}

size_t kp_live_source_legacy_hits(const struct kp_live_source *source) {
  return source->legacy_hits;
}

int kp_live_source_read(struct kp_live_source *source, struct kp_snapshot *snap,
                        const struct kp_live_options *opt, struct kp_live_error *err) {
  struct kp_live_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  static const struct kp_live_options defaults = {.backend = KP_BACKEND_UNKNOWN};
  if (opt == NULL)
    opt = &defaults;
  /* The nft reader's sockets stay in the namespace they were opened in:
   * when the path now names another namespace (a re-created pod netns),
   * start a fresh reader. When the path names none (deleted), drop the
   * reader too: its sockets would keep the deleted namespace alive (its
   * interfaces, tables, conntrack) for as long as collectd runs. Unreadable
   * paths are reported by kp_netns_run. */
  dev_t dev = 0; /* stays 0/0 when no namespace is there */
  ino_t ino = 0;
  (void)netns_identity(opt->netns_path, &dev, &ino);
  if (dev != source->netns_dev || ino != source->netns_ino) {
    kp_nft_reader_free(source->nft);
    source->nft = NULL;
    for (size_t i = 0; i < N_LEGACY; i++)
      kp_iptc_cache_free(&source->legacy[i]);
    source->netns_dev = dev;
    source->netns_ino = ino;
  }
  struct live_job job = {source, snap, opt, err};
  return kp_netns_run(opt->netns_path, read_in_namespace, &job, err);
}

int kp_live_read(struct kp_snapshot *snap, const struct kp_live_options *opt,
                 struct kp_live_error *err) {
  struct kp_live_source *source = kp_live_source_new();
  if (source == NULL)
    return kp_live_fail(err, KP_LIVE_OTHER, ENOMEM, "out of memory");
  source->one_shot = true;
  int rc = kp_live_source_read(source, snap, opt, err);
  kp_live_source_free(source);
  return rc;
}
