/* Verdicts on inputs people really have: pastes from public issue threads
 * (tests/fixtures/real/, sources in its README) and the shapes they come
 * in (a listing cut inside a chain, `grep -A` output, a single table, an
 * ipvsadm listing alone). Every expectation was worked out by hand from
 * the input text: FAIL/WARN only for what it shows, INFO for the rest. */
#include "support_dump_input.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REAL KP_SOURCE_DIR "/tests/fixtures/real/"
#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

/* The file's first n lines (all when 0), NUL-terminated, malloc'd. */
static char *head_of(const char *file, size_t n) {
  size_t len;
  char *all = tdi_slurp(file, &len);
  ck_assert_msg(all != NULL, "cannot read %s", file);
  size_t end = 0, line = 0;
  while (end < len && (n == 0 || line < n)) {
    const char *nl = memchr(all + end, '\n', len - end);
    end = nl ? (size_t)(nl - all) + 1 : len;
    line++;
  }
  char *out = malloc(end + 1);
  ck_assert_ptr_nonnull(out);
  memcpy(out, all, end);
  out[end] = '\0';
  free(all);
  return out;
}

static struct kp_report run_text(const char *name, const char *text, struct kp_snapshot **out) {
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  int rc = kp_dump_parse_buffer(snap, name, text, strlen(text), &err);
  ck_assert_msg(rc == 0, "%s:%zu: %s", err.file, err.line, err.message);
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  struct kp_report rep = tsb_check(snap, NULL);
  *out = snap;
  return rep;
}

static const struct kp_result *with(const struct kp_report *rep, enum kp_check_id id,
                                    enum kp_severity sev) {
  for (size_t i = 0; i < rep->n_results; i++)
    if (rep->results[i].check == id && rep->results[i].severity == sev)
      return &rep->results[i];
  return NULL;
}

static void worst_is(const struct kp_report *rep, enum kp_severity sev) {
  if (kp_report_worst(rep) != sev)
    tsb_dump(rep);
  ck_assert_int_eq(kp_report_worst(rep), sev);
}

static void done(struct kp_report *rep, struct kp_snapshot *snap, char *text) {
  kp_report_free(rep);
  kp_snapshot_free(snap);
  free(text);
}

START_TEST(listing_cut_inside_kube_services) {
  /* nat-L-n-v.txt lines 1-84: KUBE-SERVICES (line 81) shows its first two
   * rules, each line whole; its last rule, the jump to KUBE-NODEPORTS
   * (line 87), is cut off, as are the KUBE-SVC chains it jumps to. */
  char *text = head_of(HEALTHY "nat-L-n-v.txt", 84);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat.txt", text, &snap);
  /* was: FAIL nat KUBE-NODEPORTS is dead: nothing jumps to it */
  ck_assert_ptr_null(with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  const struct kp_result *r = with(&rep, KP_CHECK_HOOKS, KP_SEV_INFO);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_nonnull(strstr(r->message, "nat KUBE-SERVICES"));
  /* the two service rules shown have packets (2 and 2) */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ACTIVITY)->severity, KP_SEV_OK);
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

START_TEST(grep_context_output_is_a_fragment) {
  /* `iptables -t nat -L -n -v | grep -A4 '^Chain KUBE-MARK-MASQ\|^Chain
   * KUBE-POSTROUTING'`: grep puts "--" between the groups. Both chains are
   * whole (mark 0x4000 set, masqueraded on 0x4000). */
  const char *text =
      "Chain KUBE-MARK-MASQ (13 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK or 0x4000\n"
      "\n"
      "Chain KUBE-NODEPORTS (1 references)\n"
      "--\n"
      "Chain KUBE-POSTROUTING (1 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    2   120 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "mark match ! 0x4000/0x4000\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK xor 0x4000\n"
      "    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "/* kubernetes service traffic requiring SNAT */ random-fully\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("grep.txt", copy, &snap); /* was: "too few columns", exit 3 */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, copy);
}
END_TEST

START_TEST(grep_context_output_still_fails_a_broken_masquerade) {
  /* the same grep where KUBE-POSTROUTING masquerades on 0x8000 */
  const char *text =
      "Chain KUBE-MARK-MASQ (13 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK or 0x4000\n"
      "--\n"
      "Chain KUBE-POSTROUTING (1 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n"
      "    2   120 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "mark match ! 0x8000/0x8000\n"
      "    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "MARK xor 0x8000\n"
      "    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0            0.0.0.0/0            "
      "/* kubernetes service traffic requiring SNAT */ random-fully\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("grep.txt", copy, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_FAIL);
  done(&rep, snap, copy);
}
END_TEST

START_TEST(restore_input_cut_inside_its_nat_table) {
  /* kubernetes/kubernetes#34006: kube-proxy's restore input, its rules in
   * kube-proxy's order (KUBE-SERVICES, KUBE-SVC, KUBE-SEP interleaved), cut
   * inside a KUBE-SEP rule before the nat COMMIT: KUBE-SERVICES' last rule
   * (the jump to KUBE-NODEPORTS) is not in it. The filter part shows two
   * "has no endpoints" REJECT rules. */
  char *text = head_of(REAL "k8s-34006-restore-input-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("restore.txt", text, &snap);
  /* was: FAIL nat KUBE-NODEPORTS is dead */
  ck_assert_ptr_null(with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  const struct kp_result *ep = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(ep->severity, KP_SEV_WARN); /* shown: the REJECT rules */
  ck_assert(tsb_list_has(ep, "services_without_endpoints", "kube-system/kube-dns:dns"));
  ck_assert(tsb_list_has(ep, "services_without_endpoints", "kube-system/kube-dns:dns-tcp"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  worst_is(&rep, KP_SEV_WARN);
  done(&rep, snap, text);
}
END_TEST

START_TEST(mangle_listing_alone) {
  /* `iptables -t mangle -L -n -v` of a Docker-Desktop node: five empty
   * built-in chains and the two canaries. kube-proxy's rules are in nat and
   * filter, which the input does not show. */
  const char *text =
      "Chain PREROUTING (policy ACCEPT 168M packets, 114G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain INPUT (policy ACCEPT 167M packets, 113G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain FORWARD (policy ACCEPT 1538K packets, 775M bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain OUTPUT (policy ACCEPT 93M packets, 34G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain POSTROUTING (policy ACCEPT 94M packets, 34G bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-KUBELET-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-PROXY-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("mangle.txt", copy, &snap);
  /* was: WARN mode none (only kubelet chains), FAIL no kube-proxy chains found */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_MODE)->message, "nat"));
  const struct kp_result *chains = tsb_result(&rep, KP_CHECK_CHAINS);
  ck_assert_int_eq(chains->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(chains->message, "nat"));
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, copy);
}
END_TEST

START_TEST(mangle_listing_without_kube_proxy_still_warns) {
  /* the same listing with kubelet's canary only: nothing of kube-proxy,
   * the old verdict stands */
  const char *text =
      "Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\n"
      " pkts bytes target     prot opt in     out     source               destination\n\n"
      "Chain KUBE-KUBELET-CANARY (0 references)\n"
      " pkts bytes target     prot opt in     out     source               destination\n";
  char *copy = strdup(text);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("mangle.txt", copy, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_WARN);
  done(&rep, snap, copy);
}
END_TEST

START_TEST(ipvsadm_listing_alone) {
  /* kubernetes/community#692: `ipvsadm -L -n`, one virtual server; no
   * iptables or nft table in the input at all */
  char *text = head_of(REAL "community-692-ipvsadm-L-n.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("ipvsadm.txt", text, &snap);
  /* was: WARN mode none (no netfilter tables), FAIL no kube-proxy chains found */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CHAINS)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_CHAINS)->message, "not in the input"));
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

START_TEST(legacy_warning_over_a_whole_nft_listing) {
  /* iptables-nft -t nat -S of the healthy node: the whole nat table, and
   * iptables-nft's first line saying legacy tables exist. Those tables are
   * not in the input; the nft rules are all there and healthy. */
  char *body = head_of(HEALTHY "nat-S.txt", 0);
  const char *warn = "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n";
  char *text = malloc(strlen(warn) + strlen(body) + 1);
  ck_assert_ptr_nonnull(text);
  strcpy(text, warn);
  strcat(text, body);
  free(body);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat-S.txt", text, &snap);
  const struct kp_result *b = tsb_result(&rep, KP_CHECK_BACKENDS);
  ck_assert_int_eq(b->severity, KP_SEV_INFO); /* was: WARN */
  ck_assert_ptr_nonnull(strstr(b->message, "nat-S.txt line 1: "));
  ck_assert_ptr_nonnull(strstr(b->message, "iptables-legacy-save -c"));
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

/* The lines of file from line `from` (1-based) on, without those that
 * start with any of the prefixes or contain `drop`. malloc'd. */
static char *lines_without(const char *file, size_t from, const char *const *prefixes,
                           const char *drop) {
  char *all = head_of(file, 0);
  char *out = malloc(strlen(all) + 1);
  ck_assert_ptr_nonnull(out);
  size_t o = 0, line = 0;
  for (char *p = all; *p != '\0'; line++) {
    char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
    bool keep = line + 1 >= from && (drop == NULL || memmem(p, n, drop, strlen(drop)) == NULL);
    for (size_t i = 0; keep && prefixes[i] != NULL; i++)
      keep = strncmp(p, prefixes[i], strlen(prefixes[i])) != 0;
    if (keep) {
      memcpy(out + o, p, n);
      o += n;
    }
    p += n;
  }
  out[o] = '\0';
  free(all);
  return out;
}

/* Lines first..last (1-based, inclusive) of file for each pair of ranges
 * (ended by a 0), concatenated. malloc'd. */
static char *line_ranges(const char *file, const size_t *ranges) {
  char *all = head_of(file, 0);
  char *out = malloc(strlen(all) + 1);
  ck_assert_ptr_nonnull(out);
  size_t o = 0, line = 1;
  for (char *p = all; *p != '\0'; line++) {
    char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
    bool keep = false;
    for (size_t i = 0; ranges[i] != 0; i += 2)
      keep |= line >= ranges[i] && line <= ranges[i + 1];
    if (keep) {
      memcpy(out + o, p, n);
      o += n;
    }
    p += n;
  }
  out[o] = '\0';
  free(all);
  return out;
}

START_TEST(restore_input_holds_no_canary) {
  /* kube-proxy's iptables-restore input (what it logs when a restore
   * fails, and what its unit tests assert): filter and nat, no built-in
   * chains, no jump rules, no canary (kube-proxy creates the canary and
   * the jumps with separate iptables calls). Made from the healthy node's
   * input.restore by removing exactly those. */
  static const char *const builtins[] = {
      ":PREROUTING ",   ":INPUT ",         ":FORWARD ",   ":OUTPUT ",
      ":POSTROUTING ",  "-A INPUT ",       "-A FORWARD ", "-A OUTPUT ",
      "-A PREROUTING ", "-A POSTROUTING ", NULL};
  char *text = lines_without(KP_SOURCE_DIR "/tests/fixtures/captured/healthy/input.restore", 11,
                             builtins, "CANARY");
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("restore.txt", text, &snap);
  const struct kp_result *c = tsb_result(&rep, KP_CHECK_CANARY);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(c->severity, KP_SEV_INFO); /* was: WARN missing, something flushed */
  ck_assert_ptr_null(with(&rep, KP_CHECK_CANARY, KP_SEV_WARN));
  ck_assert(tsb_list_has(c, "not_in_input", "nat"));
  ck_assert(tsb_list_has(c, "not_in_input", "filter"));
  done(&rep, snap, text);
}
END_TEST

START_TEST(stale_on_a_filter_listing_alone) {
  /* the healthy node's filter -L -n -v alone: the per-service chains are in
   * nat, which the input does not show */
  char *text = head_of(HEALTHY "filter-L-n-v.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("filter.txt", text, &snap);
  const struct kp_result *r = tsb_result(&rep, KP_CHECK_STALE);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->severity, KP_SEV_INFO); /* was: OK no stale service chains (0 checked) */
  ck_assert_ptr_nonnull(strstr(r->message, "nat"));
  ck_assert_ptr_null(with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  done(&rep, snap, text);
}
END_TEST

START_TEST(k3s_listing_cut_before_kube_services) {
  /* k3s-io/k3s#7096: nat -L -n -v, PREROUTING (44 packets) and OUTPUT jump
   * to KUBE-SERVICES, POSTROUTING to KUBE-POSTROUTING; the paste ends
   * inside KUBE-MARK-DROP, before any kube-proxy section */
  char *text = head_of(REAL "k3s-7096-nat-L-n-v-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("k3s.txt", text, &snap);
  ck_assert_int_eq(rep.mode, KP_MODE_IPTABLES); /* the jumps prove it */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_OK);
  /* no service chain in what it shows: nothing judged (was: OK "0 checked") */
  ck_assert_ptr_null(with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  ck_assert_ptr_nonnull(with(&rep, KP_CHECK_STALE, KP_SEV_INFO));
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

START_TEST(stale_judges_nothing_a_cut_save_leaves_open) {
  /* kubernetes/kubernetes#34563: iptables-save of nat cut in KUBE-NODEPORTS'
   * first rule: the 12 KUBE-SVC/SEP chains are declared, none of their
   * rules nor KUBE-SERVICES' jumps to them are in the input */
  char *text = head_of(REAL "k8s-34563-iptables-save-nat-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("save.txt", text, &snap);
  /* was: OK "no stale service chains (12 checked)" beside INFO "12 ... not judged" */
  ck_assert_ptr_null(with(&rep, KP_CHECK_STALE, KP_SEV_OK));
  const struct kp_result *r = with(&rep, KP_CHECK_STALE, KP_SEV_INFO);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(tsb_detail(r, "not_judged")->num, 12);
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

START_TEST(ipvs_nat_lines_stay_in_nat) {
  /* kubernetes/kubeadm#1461: `-A` lines of an IPVS-mode node's nat table
   * (no *nat line), Calico's chains after them, the last line cut. All
   * KUBE-SERVICES rules are nat's, the ACCEPT on the KUBE-CLUSTER-IP set
   * too (filter's KUBE-SERVICES holds REJECT/DROP, never that set). */
  char *text = head_of(REAL "kubeadm-1461-ipvs-nat-lines-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("ipvs.txt", text, &snap);
  ck_assert_int_eq(rep.mode, KP_MODE_IPVS);
  /* was: the ACCEPT rule placed in a filter table of its own */
  for (size_t i = 0; i < snap->tables.count; i++)
    ck_assert_str_ne(((struct kp_table *)snap->tables.items[i])->name, "filter");
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

/* The healthy node's nat -S (or -L) cut after n whole lines: no FAIL, no
 * WARN but the ones the whole file gets (the whole nat -S: none). */
static void cut_fails_nothing(const char *file, size_t n) {
  char *text = head_of(file, n);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("cut.txt", text, &snap);
  if (kp_report_worst(&rep) > KP_SEV_INFO) {
    fprintf(stderr, "%s cut after line %zu:\n", file, n);
    tsb_dump(&rep);
  }
  ck_assert_int_le(kp_report_worst(&rep), KP_SEV_INFO);
  done(&rep, snap, text);
}

START_TEST(save_S_cut_between_lines) {
  /* nat-S.txt: -P lines 1-4, -N lines 5-23, -A lines 24-66, rules in the
   * chains' order. Cut after line 10 (-N only), 24 (PREROUTING's jump, not
   * OUTPUT's), 29/30 (in the KUBE-MARK-MASQ/NODEPORTS rules, the KUBE-SVC
   * chains declared but not reached), 50 (inside the KUBE-SEP rules): each
   * time a chain
   * kube-proxy never leaves empty shows no rules after the last chain that
   * has some. Cut after 65 (inside the last chain, KUBE-SVC-XQW6..., after
   * its first endpoint's jump, which has a probability): kube-proxy ends
   * such a chain with a jump without one. (After 64, its masq rule only,
   * -S cannot tell the cut from a stale leftover: stale WARNs.) Was: FAIL
   * missing KUBE-SERVICES, OUTPUT does not jump to
   * KUBE-SERVICES, KUBE-NODEPORTS dead, KUBE-MARK-MASQ sets no mark, WARN
   * stale chains, WARN canary missing. */
  static const size_t cuts[] = {5, 8, 10, 19, 24, 29, 30, 50, 65};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
    cut_fails_nothing(HEALTHY "nat-S.txt", cuts[i]);
}
END_TEST

START_TEST(listing_cut_at_a_service_chain_header) {
  /* nat-L-n-v.txt cut after line 107, the header of the last chain
   * KUBE-SVC-XQW6G4JP7X6Y57U2: its rules are not in the input (was: WARN
   * service chain without endpoint chains) */
  cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 107);
  /* ... after 109, 110: its masq rule, then its first endpoint's jump */
  cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 109);
  cut_fails_nothing(HEALTHY "nat-L-n-v.txt", 110);
}
END_TEST

START_TEST(listing_cut_at_the_kube_services_header) {
  /* a node without NodePort services (the healthy listing without the
   * KUBE-EXT chain, lines 16-20, and KUBE-NODEPORTS' one rule, line 30)
   * cut after line 81, the header of nat KUBE-SERVICES: its rules, the
   * last of them the jump to KUBE-NODEPORTS, are not in the input; no rule
   * shown jumps to a chain not listed (was: FAIL KUBE-NODEPORTS is dead) */
  static const size_t keep[] = {1, 15, 21, 29, 31, 81, 0};
  char *text = line_ranges(HEALTHY "nat-L-n-v.txt", keep);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat.txt", text, &snap);
  ck_assert_ptr_null(with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  ck_assert_ptr_nonnull(with(&rep, KP_CHECK_MODE, KP_SEV_INFO)); /* the note naming the cut */
  worst_is(&rep, KP_SEV_INFO);
  done(&rep, snap, text);
}
END_TEST

START_TEST(whole_S_listing_still_fails_an_empty_mark_chain) {
  /* the whole nat -S with KUBE-MARK-MASQ's one rule removed: the chain is
   * declared (line 7), rules follow in later chains, so nothing is cut:
   * the masquerade FAIL stands */
  static const char *const none[] = {"-A KUBE-MARK-MASQ ", NULL};
  char *text = lines_without(HEALTHY "nat-S.txt", 1, none, NULL);
  struct kp_snapshot *snap;
  struct kp_report rep = run_text("nat-S.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_FAIL);
  done(&rep, snap, text);
}
END_TEST

START_TEST(nft_ruleset_cut_short) {
  /* the healthy node's `nft list ruleset` (iptables-nft tables) pasted
   * cut: after line 40 (in table ip filter's FORWARD chain: nothing of nat
   * or of filter's KUBE-SERVICES seen) and after line 120 (filter whole,
   * lines 31-83, with the REJECT for 172.30.0.21:80 at line 81: that WARN
   * is shown; nat cut). Was: exit 3, "chain block opened here is not
   * closed". */
  static const size_t cuts[] = {40, 120};
  static const enum kp_severity worst[] = {KP_SEV_INFO, KP_SEV_WARN};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    char *text =
        head_of(KP_SOURCE_DIR "/tests/fixtures/captured/healthy/nft/nft-list-ruleset.txt", cuts[i]);
    struct kp_snapshot *snap;
    struct kp_report rep = run_text("ruleset.txt", text, &snap);
    const struct kp_result *note = with(&rep, KP_CHECK_MODE, KP_SEV_INFO);
    ck_assert_ptr_nonnull(note);
    ck_assert_ptr_nonnull(strstr(note->message, "input cut short"));
    worst_is(&rep, worst[i]);
    if (worst[i] == KP_SEV_WARN)
      ck_assert_int_eq(tsb_result(&rep, KP_CHECK_ENDPOINTS)->severity, KP_SEV_WARN);
    done(&rep, snap, text);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("checks_real_inputs");
  TCase *tc = tcase_create("real");
  tcase_add_test(tc, listing_cut_inside_kube_services);
  tcase_add_test(tc, grep_context_output_is_a_fragment);
  tcase_add_test(tc, grep_context_output_still_fails_a_broken_masquerade);
  tcase_add_test(tc, restore_input_cut_inside_its_nat_table);
  tcase_add_test(tc, mangle_listing_alone);
  tcase_add_test(tc, mangle_listing_without_kube_proxy_still_warns);
  tcase_add_test(tc, ipvsadm_listing_alone);
  tcase_add_test(tc, legacy_warning_over_a_whole_nft_listing);
  tcase_add_test(tc, restore_input_holds_no_canary);
  tcase_add_test(tc, stale_on_a_filter_listing_alone);
  tcase_add_test(tc, stale_judges_nothing_a_cut_save_leaves_open);
  tcase_add_test(tc, k3s_listing_cut_before_kube_services);
  tcase_add_test(tc, ipvs_nat_lines_stay_in_nat);
  tcase_add_test(tc, save_S_cut_between_lines);
  tcase_add_test(tc, listing_cut_at_a_service_chain_header);
  tcase_add_test(tc, listing_cut_at_the_kube_services_header);
  tcase_add_test(tc, whole_S_listing_still_fails_an_empty_mark_chain);
  tcase_add_test(tc, nft_ruleset_cut_short);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
