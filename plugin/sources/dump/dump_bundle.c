/* A support-bundle directory as a whole (kp_dump_parse_dir): every regular
 * file that is a dump, in sub-folders too (bounded depth, symbolic links
 * never followed), in path order. A sos report (a folder holding
 * sos_commands/) is read where sos puts netfilter and kube-proxy output:
 * sos_commands/networking (iptables_-t_<table>_-nvL, ip6tables_-t_<table>_-nvL,
 * iptables_-vnxL, ip6tables_-vnxL, nft_list_ruleset), newer sos's
 * sos_commands/firewall_tables, sos_commands/ipvs and a kube_proxy plugin's
 * folder. Files of another network namespace (sos's
 * ip_netns_exec_<ns>_iptables-save, ...) are not the host: left out, with a
 * KP_NOTE_OTHER_NETNS note. */
#include "dump_parsers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUNDLE_MAX_DEPTH 6
#define BUNDLE_MAX_FILES 100000

struct file_list {
  char **paths;
  size_t count, cap;
};

static int add_path(struct file_list *list, const char *path) {
  if (list->count == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 64;
    char **more = realloc(list->paths, cap * sizeof(*more));
    if (more == NULL)
      return -1;
    list->paths = more;
    list->cap = cap;
  }
  if ((list->paths[list->count] = strdup(path)) == NULL)
    return -1;
  list->count++;
  return 0;
}

static void free_list(struct file_list *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->paths[i]);
  free(list->paths);
}

static bool is_dir(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Regular files under dir (lstat: links are neither files nor folders
 * here). -1 on OOM; unreadable folders are left out. */
static int walk(const char *dir, int depth, struct file_list *out) {
  if (depth > BUNDLE_MAX_DEPTH || out->count >= BUNDLE_MAX_FILES)
    return 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int rc = 0;
  struct dirent *ent;
  while (rc == 0 && (ent = readdir(d)) != NULL) {
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
      continue;
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name) >= sizeof(path) ||
        lstat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      rc = walk(path, depth + 1, out);
    else if (S_ISREG(st.st_mode) && out->count < BUNDLE_MAX_FILES)
      rc = add_path(out, path);
  }
  closedir(d);
  return rc;
}

/* The folders of a sos report that hold what we read. */
static int walk_sos(const char *root, struct file_list *out) {
  static const char *const plugins[] = {"networking", "firewall_tables", "ipvs", "kube_proxy"};
  for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/sos_commands/%s", root, plugins[i]) <
            sizeof(path) &&
        walk(path, 1, out) != 0)
      return -1;
  }
  return 0;
}

static int compare_paths(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "ip_netns_exec_kp-a_iptables-save" -> "kp-a": the namespace of a file
 * sos collected with `ip netns exec <ns> <command>`; NULL for the host. */
static const char *netns_of(const char *path, char *ns, size_t cap) {
  static const char prefix[] = "ip_netns_exec_";
  static const char *const commands[] = {"_iptables", "_ip6tables", "_nft", "_ipvsadm"};
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  if (strncmp(base, prefix, sizeof(prefix) - 1) != 0)
    return NULL;
  const char *name = base + sizeof(prefix) - 1, *end = NULL;
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    const char *hit = strstr(name, commands[i]);
    if (hit != NULL && (end == NULL || hit < end))
      end = hit;
  }
  if (end == NULL) /* some other command: still not the host */
    end = name + strcspn(name, "_");
  snprintf(ns, cap, "%.*s", (int)(end - name), name);
  return ns;
}

int kp_dump_parse_dir(struct kp_snapshot *snap, const char *dir, struct kp_dump_error *err) {
  struct kp_dump_error local;
  if (err == NULL)
    err = &local;
  memset(err, 0, sizeof(*err));
  if (!is_dir(dir)) {
    DIR *d = opendir(dir); /* a link to a folder given by name is followed */
    if (d == NULL)
      return kp_dump_fail(err, dir, 0, "cannot open directory: %s", strerror(errno));
    closedir(d);
  }
  struct file_list files = {0};
  char sos[4096];
  bool is_sos =
      (size_t)snprintf(sos, sizeof(sos), "%s/sos_commands", dir) < sizeof(sos) && is_dir(sos);
  int rc = is_sos ? walk_sos(dir, &files) : walk(dir, 0, &files);
  if (rc != 0) {
    free_list(&files);
    return kp_dump_oom(err, dir, 0);
  }
  if (files.count > 0)
    qsort(files.paths, files.count, sizeof(*files.paths), compare_paths);
  size_t parsed = 0, other_netns = 0;
  for (size_t i = 0; i < files.count && rc == 0; i++) {
    const char *path = files.paths[i];
    if (!kp_dump_looks_like_dump(path))
      continue; /* not a dump: a bundle holds other files too */
    char ns[256], detail[300];
    if (netns_of(path, ns, sizeof(ns)) != NULL) {
      snprintf(detail, sizeof(detail), "ip netns %s", ns);
      if (kp_snapshot_add_note(snap, KP_NOTE_OTHER_NETNS, path, 0, NULL, KP_FAMILY_IPV4, detail) ==
          NULL)
        rc = kp_dump_oom(err, path, 0);
      other_netns++;
      continue;
    }
    rc = kp_dump_parse_file(snap, path, err);
    parsed++;
  }
  free_list(&files);
  if (rc == 0 && parsed == 0)
    rc = kp_dump_fail(err, dir, 0,
                      other_netns > 0
                          ? "only dumps of other network namespaces in this directory, no host dump"
                          : "no iptables, nft or kube-proxy metrics dump in this directory");
  return rc;
}
