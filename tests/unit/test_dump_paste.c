/* Dumps as people paste them: a shell prompt and the command on top, a
 * bare prompt below, markdown fences, an indentation or a mail quote on
 * every line, iptables' warning line, a terminal-wrapped line, prose
 * before the dump (tests/fixtures/pasted/, sources in its README). Before
 * the fix each was exit 3 ("line before any Chain line", "not an
 * iptables-save line") or, for the wrapped line, a false FAIL. Every
 * verdict expected here was worked out by hand from the text. */
#include "dump_parsers.h"
#include "support_real_inputs.h"
#include "support_snapshot_builder.h"

#include "kp/dump.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASTED KP_SOURCE_DIR "/tests/fixtures/pasted/"
#define HEALTHY KP_SOURCE_DIR "/tests/fixtures/captured/healthy/legacy/"

/* before + every line of file with prefix in front and suffix at its end
 * (before the newline) + after. malloc'd. */
static char *dressed(const char *file, const char *before, const char *prefix, const char *suffix,
                     const char *after) {
  char *text = tri_head(file, 0);
  size_t cap = strlen(text) * 3 + strlen(before) + strlen(after) + 4096, o = 0;
  char *out = malloc(cap);
  ck_assert_ptr_nonnull(out);
  o += (size_t)snprintf(out + o, cap - o, "%s", before);
  for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    if (nl == NULL)
      nl = line + strlen(line) - 1;
    o += (size_t)snprintf(out + o, cap - o, "%s%.*s%s\n", prefix, (int)(nl - line), line, suffix);
  }
  snprintf(out + o, cap - o, "%s", after);
  free(text);
  return out;
}

/* The healthy node (tests/fixtures/README.md: save 59 rules in 3 tables;
 * nat -L 43 rules; service web/orphan:http without endpoints, all else
 * whole and right) read through a paste's dressing. */
static void healthy_through(const char *file, size_t rules, const char *before, const char *prefix,
                            const char *suffix, const char *after) {
  char *text = dressed(file, before, prefix, suffix, after);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("paste.txt", text, &snap); /* was: exit 3 */
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), rules);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_HOOKS)->severity, KP_SEV_OK);
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_MODE, KP_SEV_INFO)); /* no coverage note */
  tri_done(&rep, snap, text);
}

START_TEST(prompt_fence_and_indent_around_a_save) {
  const char *f = HEALTHY "iptables-save-c.txt";
  healthy_through(f, 59, "$ sudo iptables-save -c\n", "", "", "");
  healthy_through(f, 59, "root@node-1:~# iptables-save -c\n", "", "", "root@node-1:~# ");
  healthy_through(f, 59, "[root@ip-10-0-0-1 ~]# iptables-save -c\n", "", "", "");
  healthy_through(f, 59, "```console\n", "", "", "```\n");
  healthy_through(f, 59, "", "    ", "", "");
  healthy_through(f, 59, "", "\t", "\r", "");
}
END_TEST

START_TEST(prompt_fence_and_indent_around_a_listing) {
  /* -L is the format that cares: "Chain" lines must start a line */
  const char *f = HEALTHY "nat-L-n-v.txt";
  healthy_through(f, 43, "root@node-1:~# iptables -t nat -L -n -v\n", "", "", "root@node-1:~#\n");
  healthy_through(f, 43, "```\n", "", "", "```\n");
  healthy_through(f, 43, "", "    ", "", "");
  healthy_through(f, 43, "> $ iptables -t nat -L -n -v\n", "> ", "", ""); /* a mail quote */
  healthy_through(f, 43, "Here is the nat table of the node:\n\n", "", "", "");
  /* a UTF-8 byte order mark (saved by a Windows editor): was read as
   * prose before "Chain PREROUTING", losing that chain (42 rules) */
  healthy_through(f, 43, "\xef\xbb\xbf", "", "", "");
}
END_TEST

START_TEST(prompt_above_an_S_listing_cut_mid_rule) {
  /* flannel-io/flannel#1608: "[root@VM-12-9-centos ~]# iptables -t nat -S"
   * then a k8s 1.2x nat table (KUBE-MARK-DROP, both canaries), cut inside
   * KUBE-POSTROUTING's MARK rule. Shown: the three hook jumps, MARK 0x4000,
   * the RETURN rule; not shown: KUBE-SERVICES' rules, the MASQUERADE rule.
   * Nothing shown is wrong: INFO at worst. */
  char *text = tri_head(PASTED "flannel-1608-prompt-nat-S-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("flannel-1608.txt", text, &snap); /* was: exit 3 */
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: iptables");
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CANARY)->severity, KP_SEV_OK); /* in nat */
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(mail_quoted_listing_after_prose) {
  /* kubernetes/kubernetes#107591: an IPVS-mode node's nat -S quoted "> "
   * in a mail reply, two lines of prose first, cut in OUTPUT. KUBE-NODE-PORT
   * and KUBE-LOAD-BALANCER, no KUBE-SVC-*: mode ipvs; PREROUTING and OUTPUT
   * jump to KUBE-SERVICES, POSTROUTING to KUBE-POSTROUTING. */
  char *text = tri_head(PASTED "k8s-107591-mail-quoted-nat-S-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("k8s-107591.txt", text, &snap); /* was: exit 3 */
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: ipvs");
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  ck_assert_ptr_nonnull(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_OK));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(prompt_listing_and_iptables_warning_line) {
  /* kubernetes/kubernetes#107965: `iptables -t nat -nL PREROUTING` through
   * iptables-nft shows only a DOCKER jump, then "Warning: iptables-legacy
   * tables present" (no "# "): kube-proxy's rules are in the legacy tables
   * the input does not show. No FAIL, no WARN "mode none"; the one WARN is
   * `backends`' (the node's iptables-nft shows no kube-proxy rule while
   * legacy tables exist: collect iptables-legacy-save). */
  char *text = tri_head(PASTED "k8s-107965-prompt-nat-L-warning.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("k8s-107965.txt", text, &snap); /* was: exit 3 */
  bool other_backend = false;
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *note = snap->notes.items[i];
    other_backend |= note->kind == KP_NOTE_OTHER_BACKEND && note->line == 5;
  }
  ck_assert(other_backend);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  ck_assert_ptr_nonnull(strstr(tsb_result(&rep, KP_CHECK_MODE)->message, "iptables-legacy"));
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CHAINS)->severity, KP_SEV_INFO);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_WARN);
  tri_worst_is(&rep, KP_SEV_WARN);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(terminal_wrapped_jump_target) {
  /* kubernetes/kubernetes#61944: "-j KUBE-POSTROUTI" + blanks + "NG" (the
   * terminal wrapped the line). POSTROUTING does jump to KUBE-POSTROUTING
   * (declared on line 10): the hooks check must not call it dead. */
  char *text = tri_head(PASTED "k8s-61944-save-wrapped-target-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("k8s-61944.txt", text, &snap);
  /* was: FAIL nat KUBE-POSTROUTING is dead: nothing jumps to it */
  ck_assert_ptr_null(tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_FAIL));
  const struct kp_table *nat =
      kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_LEGACY, "nat", false);
  ck_assert_ptr_nonnull(nat);
  const struct kp_chain *post = kp_table_chain(nat, "POSTROUTING");
  ck_assert_ptr_nonnull(post);
  ck_assert_str_eq(((const struct kp_rule *)post->rules.items[0])->target_name, "KUBE-POSTROUTING");
  /* KUBE-SERVICES is declared, its rules are past the cut: the INFO says
   * so (was: "chain(s) not in the input (e.g. nat KUBE-SERVICES)") */
  const struct kp_result *unseen = tri_with(&rep, KP_CHECK_HOOKS, KP_SEV_INFO);
  ck_assert_ptr_nonnull(unseen);
  ck_assert_ptr_nonnull(strstr(unseen->message, "or not all their rules (e.g. nat KUBE-SERVICES)"));
  /* KUBE-POSTROUTING's one rule is cut before its target: not judged */
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO);
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

START_TEST(a_word_after_a_target_with_options_is_not_joined) {
  /* only a plain last word right after the target is its wrapped end */
  const char *text = "*nat\n:KUBE-MARK-MASQ - [0:0]\n"
                     "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
                     "-A KUBE-MARK-MASQ -j RETURN extra words\nCOMMIT\n";
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "t.txt", text, strlen(text), &err), 0);
  const struct kp_chain *c = kp_table_chain(
      kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_UNKNOWN, "nat", false), "KUBE-MARK-MASQ");
  ck_assert_str_eq(((const struct kp_rule *)c->rules.items[0])->target_name, "MARK");
  ck_assert_str_eq(((const struct kp_rule *)c->rules.items[1])->target_name, "RETURN");
  kp_snapshot_free(snap);
}
END_TEST

START_TEST(what_is_not_a_prompt) {
  ck_assert(kp_dump_is_prompt("root@node-1:~# iptables -L", 26));
  ck_assert(kp_dump_is_prompt("root@node-1:~#", 14));
  ck_assert(kp_dump_is_prompt("[root@SHA1000130405 k8s-yml]# iptables-save", 44));
  ck_assert(kp_dump_is_prompt("/ # iptables -t nat -S", 22));
  /* dump lines with an '@' or '#' in them */
  const char *rule = "-A X -m comment --comment \"a@b# c\" -j RETURN";
  ck_assert(!kp_dump_is_prompt(rule, strlen(rule)));
  const char *row = "KUBE-SVC-X  tcp  --  0.0.0.0/0  10.0.0.1  /* ns/a@b# */";
  ck_assert(!kp_dump_is_prompt(row, strlen(row)));
  ck_assert(!kp_dump_is_prompt("# Generated by iptables-save", 28));
  /* a /proxyMode body is one word, not a command: still read */
  struct kp_snapshot *snap = kp_snapshot_new();
  struct kp_dump_error err;
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "proxyMode", "iptables\n", 9, &err), 0);
  ck_assert_str_eq(snap->proxy.proxy_mode, "iptables");
  kp_snapshot_free(snap);
  /* nft -j after a byte order mark (was: exit 3) */
  char *json =
      tri_head(KP_SOURCE_DIR "/tests/fixtures/parse/nft-j-kube-proxy-nftables-mode.json", 0);
  size_t jn = strlen(json);
  char *bom = malloc(jn + 4);
  ck_assert_ptr_nonnull(bom);
  memcpy(bom, "\xef\xbb\xbf", 3);
  memcpy(bom + 3, json, jn + 1);
  snap = kp_snapshot_new();
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "j.json", bom, jn + 3, &err), 0);
  ck_assert_uint_gt(snap->tables.count, 0);
  kp_snapshot_free(snap);
  free(bom);
  free(json);
  /* text that is no dump stays an error */
  snap = kp_snapshot_new();
  const char *prose = "one\ntwo\nthree\n";
  ck_assert_int_eq(kp_dump_parse_buffer(snap, "p.txt", prose, strlen(prose), &err), -1);
  kp_snapshot_free(snap);
}
END_TEST

static bool has_note(const struct kp_snapshot *snap, enum kp_note_kind kind, const char *text) {
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *note = snap->notes.items[i];
    if (note->kind == kind && note->detail != NULL && strstr(note->detail, text) != NULL)
      return true;
  }
  return false;
}

START_TEST(pod_view_then_host_view_in_one_paste) {
  /* flannel-io/flannel#1462: the flannel pod's nat -S (POSTROUTING rules
   * only), then the host's: an IPVS-mode node (KUBE-NODE-PORT,
   * KUBE-LOAD-BALANCER declared; PREROUTING -> KUBE-SERVICES,
   * POSTROUTING -> KUBE-POSTROUTING), cut in POSTROUTING. The host's
   * listing has every chain ipvs mode needs. */
  char *text = tri_head(PASTED "flannel-1462-pod-then-host-nat-S-cut.txt", 0);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("flannel-1462.txt", text, &snap);
  /* was: FAIL missing chains nat KUBE-SERVICES, KUBE-POSTROUTING,
   * KUBE-NODE-PORT, KUBE-MARK-MASQ and FAIL KUBE-MARK-MASQ missing (the
   * pod's listing judged) */
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: ipvs");
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_CHAINS)->severity, KP_SEV_OK);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, KP_SEV_INFO); /* cut */
  ck_assert(has_note(snap, KP_NOTE_SKIPPED, "the copy holding kube-proxy's chains"));
  tri_worst_is(&rep, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

/* Two captures of one node pasted before / after: the later is judged. */
static void before_after(const char *before, const char *after, enum kp_severity masq) {
  char *a = tri_head(before, 0), *b = tri_head(after, 0);
  size_t na = strlen(a), nb = strlen(b);
  char *text = malloc(na + nb + 1);
  ck_assert_ptr_nonnull(text);
  memcpy(text, a, na);
  memcpy(text + na, b, nb + 1);
  free(a);
  free(b);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("before-after.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, masq);
  ck_assert(has_note(snap, KP_NOTE_SKIPPED, "the later copy"));
  tri_done(&rep, snap, text);
}

START_TEST(two_dumps_of_one_node_concatenated) {
  /* no-masquerade: KUBE-POSTROUTING without its MASQUERADE rule
   * (tests/fixtures/README.md). Before: the two saves' nat rules were
   * merged into one table (5 KUBE-POSTROUTING rules, MASQUERADE among
   * them: OK whatever the order); two -L listings were both kept and the
   * first one judged. */
  const char *cap = KP_SOURCE_DIR "/tests/fixtures/captured/";
  char healthy[512], broken[512];
  snprintf(healthy, sizeof(healthy), "%shealthy/legacy/iptables-save-c.txt", cap);
  snprintf(broken, sizeof(broken), "%sno-masquerade/legacy/iptables-save-c.txt", cap);
  before_after(healthy, broken, KP_SEV_FAIL); /* was: OK */
  before_after(broken, healthy, KP_SEV_OK);
  snprintf(healthy, sizeof(healthy), "%shealthy/legacy/nat-L-n-v.txt", cap);
  snprintf(broken, sizeof(broken), "%sno-masquerade/legacy/nat-L-n-v.txt", cap);
  before_after(healthy, broken, KP_SEV_FAIL); /* was: OK */
  before_after(broken, healthy, KP_SEV_OK);   /* was: FAIL */
  snprintf(healthy, sizeof(healthy), "%shealthy/legacy/nat-S.txt", cap);
  snprintf(broken, sizeof(broken), "%sno-masquerade/legacy/nat-S.txt", cap);
  before_after(healthy, broken, KP_SEV_FAIL); /* was: OK */
  before_after(broken, healthy, KP_SEV_OK);   /* was: FAIL */
  /* two `nft list ruleset` of the iptables-nft backend: blocks merged */
  snprintf(healthy, sizeof(healthy), "%shealthy/nft/nft-list-ruleset.txt", cap);
  snprintf(broken, sizeof(broken), "%sno-masquerade/nft/nft-list-ruleset.txt", cap);
  before_after(healthy, broken, KP_SEV_FAIL); /* was: OK */
  before_after(broken, healthy, KP_SEV_OK);
}
END_TEST

START_TEST(legacy_and_nft_saves_in_one_file_stay_two_backends) {
  /* iptables-legacy-save then iptables-nft-save of one node, both with
   * kube-proxy's rules: not one table shown twice, two backends (FAIL) */
  const char *cap = KP_SOURCE_DIR "/tests/fixtures/captured/healthy/";
  char legacy[512], nft[512];
  snprintf(legacy, sizeof(legacy), "%slegacy/iptables-save-c.txt", cap);
  snprintf(nft, sizeof(nft), "%snft/iptables-save-c.txt", cap);
  char *a = tri_head(legacy, 0), *b = tri_head(nft, 0);
  size_t na = strlen(a), nb = strlen(b);
  char *text = malloc(na + nb + 1);
  ck_assert_ptr_nonnull(text);
  memcpy(text, a, na);
  memcpy(text + na, b, nb + 1);
  free(a);
  free(b);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("both.txt", text, &snap);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_BACKENDS)->severity, KP_SEV_FAIL);
  ck_assert(!has_note(snap, KP_NOTE_SKIPPED, "more than once"));
  tri_done(&rep, snap, text);
}
END_TEST

/* The texts joined, in order (each malloc'd by tri_head), freed. */
static char *joined(char *const *parts, size_t n) {
  size_t total = 1;
  for (size_t i = 0; i < n; i++)
    total += strlen(parts[i]);
  char *text = malloc(total), *o = text;
  ck_assert_ptr_nonnull(text);
  for (size_t i = 0; i < n; i++) {
    size_t k = strlen(parts[i]);
    memcpy(o, parts[i], k);
    o += k;
    free(parts[i]);
  }
  *o = '\0';
  return text;
}

START_TEST(outputs_of_several_commands_in_one_paste) {
  /* `iptables -t nat -S` of the captured IPVS-mode node, then `ipvsadm
   * -Ln` (opsnull#251's listing: 7 virtual servers, each with real
   * servers), with their prompts. Before: exit 3 at the ipvsadm lines. */
  const char *cap = KP_SOURCE_DIR "/tests/fixtures/captured/";
  char path[512];
  snprintf(path, sizeof(path), "%sipvs/legacy/nat-S.txt", cap);
  char *parts[] = {strdup("$ sudo iptables -t nat -S\n"), tri_head(path, 0),
                   tri_head(KP_SOURCE_DIR "/tests/fixtures/ipvs/opsnull-251-ipvsadm-L-n.txt", 0)};
  char *text = joined(parts, 3);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("mixed.txt", text, &snap);
  ck_assert_str_eq(tsb_result(&rep, KP_CHECK_MODE)->message, "kube-proxy mode: ipvs");
  ck_assert_uint_eq(snap->ipvs.count, 7);
  const struct kp_result *ep = tsb_result(&rep, KP_CHECK_ENDPOINTS);
  ck_assert_int_eq(ep->severity, KP_SEV_OK);
  tri_done(&rep, snap, text);
  /* the no-masquerade node's iptables-save, then the healthy node's nat
   * -L: the later is judged, whichever comes first (the -L does not say
   * its backend, the save does: still the same table) */
  const char *names[2][2] = {
      {"no-masquerade/legacy/iptables-save-c.txt", "healthy/legacy/nat-L-n-v.txt"},
      {"healthy/legacy/nat-L-n-v.txt", "no-masquerade/legacy/iptables-save-c.txt"}};
  const enum kp_severity masq[2] = {KP_SEV_OK, KP_SEV_FAIL};
  for (size_t i = 0; i < 2; i++) {
    char a[512], b[512];
    snprintf(a, sizeof(a), "%s%s", cap, names[i][0]);
    snprintf(b, sizeof(b), "%s%s", cap, names[i][1]);
    char *two[] = {tri_head(a, 0), strdup("\n$ iptables ...\n"), tri_head(b, 0)};
    text = joined(two, 3);
    rep = tri_run("mixed.txt", text, &snap);
    ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MASQUERADE)->severity, masq[i]);
    ck_assert(has_note(snap, KP_NOTE_SKIPPED, "the later copy"));
    tri_done(&rep, snap, text);
  }
}
END_TEST

START_TEST(prose_after_a_listing) {
  /* kubernetes/kubernetes#107965 as the comment goes on after the
   * listing: a sentence and a kernel TRACE log line (the thread's text).
   * The listing's one rule is the DOCKER jump. Before: both lines were
   * read as rules of PREROUTING (any word passes for a host name in -L),
   * "14:57:18" made the table IPv6. */
  char *listing = tri_head(PASTED "k8s-107965-prompt-nat-L-warning.txt", 0);
  char *parts[] = {listing,
                   strdup("\nbut when using iptables trace, can see that the packet passes "
                          "through theKUBE-SERVICES chain\n\nJan 18 14:57:18 minion kernel: "
                          "[448136.197740] TRACE: nat:PREROUTING:rule:1 IN=ens5 OUT= "
                          "SRC=110.110.110.108 DST=110.110.110.111 LEN=60\n")};
  char *text = joined(parts, 2);
  struct kp_snapshot *snap;
  struct kp_report rep = tri_run("k8s-107965.txt", text, &snap);
  ck_assert_uint_eq(kp_snapshot_rule_count(snap), 1);
  const struct kp_table *nat =
      kp_snapshot_table(snap, KP_FAMILY_IPV4, KP_BACKEND_NFT, "nat", false);
  ck_assert_ptr_nonnull(nat);
  bool noted = false;
  for (size_t i = 0; i < snap->notes.count; i++) {
    const struct kp_note *note = snap->notes.items[i];
    noted |= note->kind == KP_NOTE_SKIPPED && note->line == 7;
  }
  ck_assert(noted);
  ck_assert_int_eq(tsb_result(&rep, KP_CHECK_MODE)->severity, KP_SEV_INFO);
  tri_done(&rep, snap, text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dump_paste");
  TCase *tc = tcase_create("paste");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, prompt_fence_and_indent_around_a_save);
  tcase_add_test(tc, prompt_fence_and_indent_around_a_listing);
  tcase_add_test(tc, prompt_above_an_S_listing_cut_mid_rule);
  tcase_add_test(tc, mail_quoted_listing_after_prose);
  tcase_add_test(tc, prompt_listing_and_iptables_warning_line);
  tcase_add_test(tc, terminal_wrapped_jump_target);
  tcase_add_test(tc, a_word_after_a_target_with_options_is_not_joined);
  tcase_add_test(tc, what_is_not_a_prompt);
  tcase_add_test(tc, pod_view_then_host_view_in_one_paste);
  tcase_add_test(tc, two_dumps_of_one_node_concatenated);
  tcase_add_test(tc, legacy_and_nft_saves_in_one_file_stay_two_backends);
  tcase_add_test(tc, outputs_of_several_commands_in_one_paste);
  tcase_add_test(tc, prose_after_a_listing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
