/* kube-proxy-check: the plugin's checks, run once on saved dumps or on the
 * live node, printed as text or JSON. Exit 0 OK/INFO, 1 warning, 2 failure,
 * 3 an input could not be read, 64 usage. */
#include "cli_check_config.h"
#include "kp/checks.h"
#include "kp/dump.h"
#include "kp/live.h"
#include "kp/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INPUT 3
#define EXIT_USAGE 64

struct cli_options {
  const char **files;
  size_t n_files;
  const char **dirs;
  size_t n_dirs;
  bool json;
  const char *check_config; /* --check-config FILE */
  struct kp_live_options live;
  struct kp_check_config checks;
};

static void usage(FILE *out) {
  fputs("Usage: kube-proxy-check [OPTION]...\n"
        "Check kube-proxy's netfilter rules on this node, or in saved dumps.\n"
        "\n"
        "Input (default: the live node's tables):\n"
        "  -d, --dir DIR         a support-bundle directory (node_iptables_nat.txt, ...)\n"
        "  -f, --file FILE       a dump: iptables -L [-n -v -x], iptables-save [-c],\n"
        "                        iptables -S, nft list ruleset, kube-proxy /metrics;\n"
        "                        repeatable, files are judged as one node\n"
        "      --netns PATH      live: read the tables of this network namespace\n"
        "      --backend B       live: auto (default), legacy or nft\n"
        "      --ipv6            live: also read the IPv6 tables\n"
        "      --kube-proxy-metrics IP:PORT  live: kube-proxy's /metrics and /proxyMode\n"
        "                        (default 127.0.0.1:10249; [::1]:PORT for IPv6; none:\n"
        "                        do not ask; names are not resolved)\n"
        "      --kube-proxy-healthz IP:PORT  live: kube-proxy's /livez\n"
        "                        (default 127.0.0.1:10256; none: do not ask)\n"
        "Checks:\n"
        "  -p, --pod-ip IP       look for the rules of this pod IP (repeatable)\n"
        "      --disable ID      turn one check off (repeatable): mode, chains, hooks,\n"
        "                        activity, masquerade, pod-rules, endpoints, stale,\n"
        "                        backends, canary, process, sync\n"
        "Configuration:\n"
        "      --check-config FILE  check the <Plugin kube_proxy> blocks of a collectd\n"
        "                        config file or drop-in (Include is not followed);\n"
        "                        errors as FILE:LINE: KEY VALUE: why; exit 0 clean,\n"
        "                        1 errors, 3 the file cannot be read\n"
        "Output:\n"
        "  -j, --json            one JSON object instead of text lines\n"
        "  -h, --help            this text\n"
        "  -V, --version         the version\n"
        "\n"
        "Exit status: 0 all OK or INFO, 1 a warning, 2 a failure, 3 an input could\n"
        "not be read, 64 bad usage.\n",
        out);
}

/* Arguments and file names are untrusted text too: one clean line each. */
static void usage_error(const char *what, const char *value, const char *why) {
  char clean[512];
  kp_sanitize_line(value, clean, sizeof(clean));
  fprintf(stderr, "kube-proxy-check: %s%s: %s\n", what, clean, why);
}

static int push_arg(const char ***list, size_t *count, const char *value) {
  const char **grown = realloc(*list, (*count + 1) * sizeof(**list));
  if (grown == NULL)
    return -1;
  grown[(*count)++] = value;
  *list = grown;
  return 0;
}

static int parse_backend(const char *text, enum kp_backend *out) {
  if (strcmp(text, "auto") == 0)
    *out = KP_BACKEND_UNKNOWN;
  else if (strcmp(text, "legacy") == 0)
    *out = KP_BACKEND_LEGACY;
  else if (strcmp(text, "nft") == 0)
    *out = KP_BACKEND_NFT;
  else
    return -1;
  return 0;
}

/* Returns -1 to exit with status *status (0 after --help/--version). */
static int parse_options(int argc, char **argv, struct cli_options *opt, int *status) {
  enum {
    OPT_NETNS = 256,
    OPT_BACKEND,
    OPT_IPV6,
    OPT_DISABLE,
    OPT_METRICS,
    OPT_HEALTHZ,
    OPT_CHECK_CONFIG
  };
  static const struct option long_options[] = {
      {"dir", required_argument, NULL, 'd'},
      {"file", required_argument, NULL, 'f'},
      {"pod-ip", required_argument, NULL, 'p'},
      {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {"netns", required_argument, NULL, OPT_NETNS},
      {"backend", required_argument, NULL, OPT_BACKEND},
      {"ipv6", no_argument, NULL, OPT_IPV6},
      {"kube-proxy-metrics", required_argument, NULL, OPT_METRICS},
      {"kube-proxy-healthz", required_argument, NULL, OPT_HEALTHZ},
      {"disable", required_argument, NULL, OPT_DISABLE},
      {"check-config", required_argument, NULL, OPT_CHECK_CONFIG},
      {NULL, 0, NULL, 0}};
  int c;
  *status = EXIT_USAGE;
  while ((c = getopt_long(argc, argv, "d:f:p:jhV", long_options, NULL)) != -1) {
    switch (c) {
    case 'd':
      if (push_arg(&opt->dirs, &opt->n_dirs, optarg) != 0)
        return -1;
      break;
    case 'f':
      if (push_arg(&opt->files, &opt->n_files, optarg) != 0)
        return -1;
      break;
    case 'p':
      if (kp_check_config_add_pod_ip(&opt->checks, optarg) != 0) {
        usage_error("--pod-ip ", optarg, "not an IPv4 or IPv6 address");
        return -1;
      }
      break;
    case 'j':
      opt->json = true;
      break;
    case 'h':
      usage(stdout);
      *status = 0;
      return -1;
    case 'V':
      printf("kube-proxy-check %s\n", KP_VERSION);
      *status = 0;
      return -1;
    case OPT_NETNS:
      opt->live.netns_path = optarg;
      break;
    case OPT_BACKEND:
      if (parse_backend(optarg, &opt->live.backend) != 0) {
        usage_error("--backend ", optarg, "use auto, legacy or nft");
        return -1;
      }
      break;
    case OPT_IPV6:
      opt->live.ipv6 = true;
      break;
    case OPT_CHECK_CONFIG:
      opt->check_config = optarg;
      break;
    case OPT_METRICS:
    case OPT_HEALTHZ: {
      const char *addr = strcmp(optarg, "none") == 0 ? NULL : optarg;
      if (addr != NULL && !kp_live_endpoint_valid(addr)) {
        usage_error(c == OPT_METRICS ? "--kube-proxy-metrics " : "--kube-proxy-healthz ", addr,
                    "expected IP:PORT (e.g. 127.0.0.1:10249 or [::1]:10249; names are not "
                    "resolved) or none");
        return -1;
      }
      if (c == OPT_METRICS)
        opt->live.kube_proxy_metrics = addr;
      else
        opt->live.kube_proxy_healthz = addr;
      break;
    }
    case OPT_DISABLE: {
      int id = kp_check_from_name(optarg);
      if (id < 0) {
        usage_error("--disable ", optarg, "no such check");
        return -1;
      }
      opt->checks.enabled[id] = false;
      break;
    }
    default:
      usage(stderr);
      return -1;
    }
  }
  if (optind < argc) {
    usage_error("unexpected argument ", argv[optind], "files go after --file");
    return -1;
  }
  if (opt->check_config != NULL && (opt->n_files || opt->n_dirs || opt->live.netns_path)) {
    fputs("kube-proxy-check: --check-config checks a config file; it does not go with "
          "--file/--dir/--netns\n",
          stderr);
    return -1;
  }
  if ((opt->n_files || opt->n_dirs) && opt->live.netns_path) {
    fputs("kube-proxy-check: --netns reads the live tables; it does not go with --file/--dir\n",
          stderr);
    return -1;
  }
  return 0;
}

static void print_dump_error(const struct kp_dump_error *err) {
  char message[512];
  kp_sanitize_line(err->message, message, sizeof(message));
  char file[512];
  kp_sanitize_line(err->file[0] ? err->file : "input", file, sizeof(file));
  if (err->line)
    fprintf(stderr, "kube-proxy-check: %s:%zu: %s\n", file, err->line, message);
  else
    fprintf(stderr, "kube-proxy-check: %s: %s\n", file, message);
}

static int load_dumps(struct kp_snapshot *snap, const struct cli_options *opt) {
  struct kp_dump_error err;
  for (size_t i = 0; i < opt->n_dirs; i++) {
    memset(&err, 0, sizeof(err));
    if (kp_dump_parse_dir(snap, opt->dirs[i], &err) != 0) {
      print_dump_error(&err);
      return -1;
    }
  }
  for (size_t i = 0; i < opt->n_files; i++) {
    memset(&err, 0, sizeof(err));
    if (kp_dump_parse_file(snap, opt->files[i], &err) != 0) {
      print_dump_error(&err);
      return -1;
    }
  }
  if (kp_dump_reconcile(snap) != 0) {
    fputs("kube-proxy-check: out of memory\n", stderr);
    return -1;
  }
  return 0;
}

static int load_live(struct kp_snapshot *snap, const struct cli_options *opt) {
  struct kp_live_error err;
  memset(&err, 0, sizeof(err));
  struct kp_live_options live = opt->live;
  if (!opt->checks.enabled[KP_CHECK_SYNC]) /* kube-proxy is asked for the sync check only */
    live.kube_proxy_metrics = live.kube_proxy_healthz = NULL;
  if (kp_live_read(snap, &live, &err) != 0) {
    char message[512];
    kp_sanitize_line(err.message, message, sizeof(message));
    fprintf(stderr, "kube-proxy-check: %s\n", message);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct cli_options opt;
  memset(&opt, 0, sizeof(opt));
  opt.live.kube_proxy_metrics = "127.0.0.1:10249"; /* kube-proxy's defaults */
  opt.live.kube_proxy_healthz = "127.0.0.1:10256";
  kp_check_config_init(&opt.checks);
  int status = EXIT_USAGE;
  struct kp_snapshot *snap = NULL;
  struct kp_report report;
  memset(&report, 0, sizeof(report));

  if (parse_options(argc, argv, &opt, &status) != 0)
    goto out;
  if (opt.check_config != NULL) {
    status = kp_cli_check_config(opt.check_config);
    goto out;
  }
  status = EXIT_INPUT;
  snap = kp_snapshot_new();
  if (snap == NULL)
    goto out;
  bool offline = opt.n_files || opt.n_dirs;
  if ((offline ? load_dumps(snap, &opt) : load_live(snap, &opt)) != 0)
    goto out;
  if (kp_snapshot_finalize(snap) != 0 || kp_checks_run(snap, &opt.checks, NULL, &report) != 0) {
    fputs("kube-proxy-check: out of memory\n", stderr);
    goto out;
  }
  errno = 0;
  int written =
      opt.json ? kp_report_write_json(stdout, &report) : kp_report_write_text(stdout, &report);
  if (written == 0 && fflush(stdout) == 0) {
    status = kp_report_exit_code(&report);
  } else {
    /* A report that did not reach its reader (a full disk, a closed pipe)
     * must not pass for one that did: say so, and which exit status. */
    fprintf(stderr, "kube-proxy-check: cannot write the report to standard output: %s\n",
            errno != 0 ? strerror(errno) : "write error");
    status = EXIT_INPUT;
  }
out:
  kp_report_free(&report);
  kp_snapshot_free(snap);
  kp_check_config_free(&opt.checks);
  free(opt.files);
  free(opt.dirs);
  return status;
}
