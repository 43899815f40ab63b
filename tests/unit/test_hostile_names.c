/* Hostile chain names, comments and service names (issue 5.5): quotes,
 * backslashes, CR/DEL, ANSI escape sequences, BEL, 8-bit CSI, C1 controls,
 * invalid UTF-8 and over-long names reach the findings through every dump
 * format (tests/fixtures/parse/hostile-*), and the outputs stay safe:
 *   - CLI text: no raw control byte, one line per finding, the hostile
 *     bytes shown as \xNN;
 *   - JSON: strict JSON, and the hostile strings round-trip exactly
 *     (decoded by python3 when present; invalid UTF-8 becomes U+FFFD);
 *   - kp_sanitize_line / kp_json_escape on hand-computed cases. */
#include "../fuzz/fuzz_output_check.h"
#include "kp/checks.h"
#include "kp/dump.h"
#include "kp/report.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARSE_DIR KP_SOURCE_DIR "/tests/fixtures/parse/"
#define SUFFIX " has no endpoints"

/* The service names the fixtures carry (after the dump's own unescaping). */
static const char *const hostile_services[] = {
    "ns/esc\x1b[31mRED\x1b[0m:http",
    "ns/bel\x07"
    "csi\x9b"
    "2J:http",
    "ns/bad\xff\xfe\xc3utf8:http",
    "ns/c1\xc2\x9b\xc2\x85uni:http",
    "ns/cr\rdel\x7f:http",
    "ns/\xc3\xbcn\xc3\xaf"
    "c\xc3\xb8"
    "d\xc3\xa9:http",
    "ns/q\"uote\\back:http",
    NULL, /* the 300-byte name, built at run time */
};
#define N_SERVICES (sizeof(hostile_services) / sizeof(hostile_services[0]))

/* Stale chains of the iptables fixtures (hostile-ipt-save, -list-nat, -rules-nat). */
static const char *const hostile_ipt_chains[] = {
    "KUBE-SVC-\x1b]0;pwned\x07X",
    "KUBE-SVC-MAXLEN28CHARSXXXXXX",
    "KUBE-SVC-ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
};
static const char *const hostile_nft_chains[] = {"service-BBBBBBBB-ns/stale\x1b[2J/tcp/p80"};

struct fixture_set {
  const char *name;
  const char *files[3];
  bool has_services; /* the filter side: services without endpoints */
  bool ipt_stale;    /* the nat side: hostile KUBE-SVC chains */
  bool nft_stale;
  const char *text_must_contain; /* sanitised form in a finding line */
};

static const struct fixture_set sets[] = {
    {"iptables-save",
     {PARSE_DIR "hostile-ipt-save.txt"},
     true,
     true,
     false,
     "(e.g. KUBE-SVC-\\x1b]0;pwned\\x07X)"},
    {"iptables -L",
     {PARSE_DIR "hostile-ipt-list-filter.txt", PARSE_DIR "hostile-ipt-list-nat.txt"},
     true,
     true,
     false,
     "(e.g. KUBE-SVC-\\x1b]0;pwned\\x07X)"},
    {"iptables -S",
     {PARSE_DIR "hostile-ipt-rules-filter.txt", PARSE_DIR "hostile-ipt-rules-nat.txt"},
     true,
     true,
     false,
     "ns/esc\\x1b[31mRED\\x1b[0m:http"},
    {"nft",
     {PARSE_DIR "hostile-nft.nft"},
     true,
     false,
     true,
     "(e.g. service-BBBBBBBB-ns/stale\\x1b[2J/tcp/p80)"},
};

static char long_service[512];

static const char *service(size_t i) {
  if (hostile_services[i] != NULL)
    return hostile_services[i];
  if (long_service[0] == '\0') {
    strcpy(long_service, "ns/");
    memset(long_service + 3, 'L', 300);
    strcpy(long_service + 303, ":p");
  }
  return long_service;
}

struct outputs {
  struct kp_report report;
  char *text, *json;
  size_t text_len, json_len;
};

static void run_set(const struct fixture_set *set, struct outputs *o) {
  memset(o, 0, sizeof(*o));
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  for (size_t i = 0; i < 3 && set->files[i] != NULL; i++) {
    struct kp_dump_error err;
    int rc = kp_dump_parse_file(snap, set->files[i], &err);
    ck_assert_msg(rc == 0, "%s: %s:%zu: %s", set->name, err.file, err.line, err.message);
  }
  ck_assert_int_eq(kp_dump_reconcile(snap), 0);
  ck_assert_int_eq(kp_snapshot_finalize(snap), 0);
  struct kp_check_config cfg;
  kp_check_config_init(&cfg);
  ck_assert_int_eq(kp_checks_run(snap, &cfg, NULL, &o->report), 0);
  FILE *t = open_memstream(&o->text, &o->text_len);
  FILE *j = open_memstream(&o->json, &o->json_len);
  ck_assert_ptr_nonnull(t);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(kp_report_write_text(t, &o->report), 0);
  ck_assert_int_eq(kp_report_write_json(j, &o->report), 0);
  fclose(t);
  fclose(j);
  kp_check_config_free(&cfg);
  kp_snapshot_free(snap); /* the report owns copies of its strings */
}

static void free_outputs(struct outputs *o) {
  kp_report_free(&o->report);
  free(o->text);
  free(o->json);
}

/* The finding itself must carry the hostile strings (else the test proves
 * nothing about escaping). */
static const struct kp_result *find_result(const struct kp_report *r, enum kp_check_id id) {
  for (size_t i = 0; i < r->n_results; i++)
    if (r->results[i].check == id)
      return &r->results[i];
  return NULL;
}

static const struct kp_detail *find_detail(const struct kp_result *r, const char *key) {
  for (size_t i = 0; i < r->n_details; i++)
    if (strcmp(r->details[i].key, key) == 0)
      return &r->details[i];
  return NULL;
}

static bool list_has(const struct kp_detail *d, const char *s) {
  for (size_t i = 0; d != NULL && i < d->n_items; i++)
    if (strcmp(d->items[i], s) == 0)
      return true;
  return false;
}

START_TEST(test_findings_carry_hostile_names) {
  const struct fixture_set *set = &sets[_i];
  struct outputs o;
  run_set(set, &o);
  if (set->has_services) {
    const struct kp_result *r = find_result(&o.report, KP_CHECK_ENDPOINTS);
    ck_assert_msg(r != NULL && r->severity == KP_SEV_WARN, "%s: no endpoints warning", set->name);
    const struct kp_detail *d = find_detail(r, "services_without_endpoints");
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < N_SERVICES; i++)
      ck_assert_msg(list_has(d, service(i)), "%s: service %zu not in the details", set->name, i);
  }
  const char *const *chains = set->nft_stale ? hostile_nft_chains : hostile_ipt_chains;
  size_t n_chains = set->nft_stale ? 1 : set->ipt_stale ? 3 : 0;
  if (n_chains) {
    const struct kp_result *r = find_result(&o.report, KP_CHECK_STALE);
    ck_assert_msg(r != NULL && r->severity == KP_SEV_WARN, "%s: no stale warning", set->name);
    ck_assert_str_eq(r->chain, chains[0]);
    const struct kp_detail *d = find_detail(r, "unreferenced");
    for (size_t i = 0; i < n_chains; i++)
      ck_assert_msg(list_has(d, chains[i]), "%s: chain %zu not in unreferenced", set->name, i);
  }
  free_outputs(&o);
}
END_TEST

START_TEST(test_text_output_is_safe) {
  const struct fixture_set *set = &sets[_i];
  struct outputs o;
  run_set(set, &o);
  const char *problem = kp_check_text_output(o.text, o.text_len, o.report.n_results);
  ck_assert_msg(problem == NULL, "%s: %s", set->name, problem);
  ck_assert_msg(strstr(o.text, set->text_must_contain) != NULL, "%s: text lacks '%s':\n%s",
                set->name, set->text_must_contain, o.text);
  free_outputs(&o);
}
END_TEST

START_TEST(test_json_output_is_strict_json) {
  const struct fixture_set *set = &sets[_i];
  struct outputs o;
  run_set(set, &o);
  const char *problem = kp_check_json_output(o.json, o.json_len);
  ck_assert_msg(problem == NULL, "%s: %s:\n%s", set->name, problem, o.json);
  free_outputs(&o);
}
END_TEST

/* What a JSON decoder must give back: the bytes, with each byte that does
 * not start a valid UTF-8 sequence replaced by U+FFFD (EF BF BD). */
static void expected_roundtrip(const char *in, char *out, size_t cap) {
  const unsigned char *s = (const unsigned char *)in;
  size_t len = strlen(in), o = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t n = kp_check_utf8_seq(s + i, len - i, &cp);
    ck_assert(o + 4 < cap);
    if (n == 0) {
      memcpy(out + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    } else {
      memcpy(out + o, s + i, n);
      o += n;
      i += n;
    }
  }
  out[o] = '\0';
}

static void to_hex(const char *s, char *out) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, out += 2)
    sprintf(out, "%02x", *p);
  *out = '\0';
}

/* python3 decodes the JSON and prints "check key hex(item)" per list item
 * and "check message hex" / "check chain hex". */
static char *python_decode(const char *json, size_t len) {
  char path[] = "/tmp/kp-hostile-json-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, json, len), (ssize_t)len);
  close(fd);
  char cmd[512];
  snprintf(cmd, sizeof(cmd),
           "python3 -c 'import json,sys\n"
           "d=json.load(open(sys.argv[1],encoding=\"utf-8\"))\n"
           "h=lambda s: s.encode(\"utf-8\").hex()\n"
           "for r in d[\"results\"]:\n"
           " print(r[\"check\"],\"message\",h(r[\"message\"]))\n"
           " if \"chain\" in r: print(r[\"check\"],\"chain\",h(r[\"chain\"]))\n"
           " for k,v in r[\"details\"].items():\n"
           "  if isinstance(v,list):\n"
           "   for x in v: print(r[\"check\"],k,h(x))\n"
           "' %s",
           path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char *out = NULL;
  size_t out_len = 0;
  FILE *m = open_memstream(&out, &out_len);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    fwrite(buf, 1, n, m);
  fclose(m);
  int status = pclose(p);
  unlink(path);
  ck_assert_msg(status == 0, "python3 could not decode the JSON:\n%s", json);
  return out;
}

static void assert_decoded(const char *decoded, const char *check, const char *key,
                           const char *raw) {
  char want[1024], hex[2100], line[2200];
  expected_roundtrip(raw, want, sizeof(want));
  to_hex(want, hex);
  snprintf(line, sizeof(line), "%s %s %s\n", check, key, hex);
  ck_assert_msg(strstr(decoded, line) != NULL, "JSON does not round-trip: want line %s", line);
}

START_TEST(test_json_roundtrips_hostile_strings) {
  if (system("python3 -c 1 >/dev/null 2>&1") != 0) {
    printf("SKIP: python3 not installed: JSON round-trip not checked\n");
    return;
  }
  const struct fixture_set *set = &sets[_i];
  struct outputs o;
  run_set(set, &o);
  char *decoded = python_decode(o.json, o.json_len);
  if (set->has_services)
    for (size_t i = 0; i < N_SERVICES; i++)
      assert_decoded(decoded, "endpoints", "services_without_endpoints", service(i));
  if (set->ipt_stale) {
    for (size_t i = 0; i < 3; i++)
      assert_decoded(decoded, "stale", "unreferenced", hostile_ipt_chains[i]);
    assert_decoded(decoded, "stale", "chain", hostile_ipt_chains[0]);
  }
  if (set->nft_stale) {
    assert_decoded(decoded, "stale", "unreferenced", hostile_nft_chains[0]);
    assert_decoded(decoded, "stale", "chain", hostile_nft_chains[0]);
  }
  free(decoded);
  free_outputs(&o);
}
END_TEST

/* A self-check of the JSON decoder path: exact bytes for valid UTF-8 that
 * a wrong escaper would break (quote, backslash, non-ASCII). */
START_TEST(test_expected_roundtrip_helper) {
  char out[64];
  expected_roundtrip("a\xff"
                     "b\xc3\xa9",
                     out, sizeof(out));
  ck_assert_str_eq(out, "a\xef\xbf\xbd"
                        "b\xc3\xa9");
}
END_TEST

/* ---- the escaping functions on hand-computed cases ---------------------- */

static const struct {
  const char *in, *line, *json;
} escapes[] = {
    {"a\x1b[31mb", "a\\x1b[31mb", "a\\u001b[31mb"},
    {"bel\x07", "bel\\x07", "bel\\u0007"},
    {"nl\ncr\rtab\t", "nl\\x0acr\\x0dtab\\x09", "nl\\ncr\\rtab\\t"},
    {"del\x7f", "del\\x7f", "del\\u007f"},
    {"csi8\x9b"
     "2J",
     "csi8\\x9b2J", "csi8\\ufffd2J"},
    {"c1\xc2\x9b\xc2\x85", "c1\\xc2\\x9b\\xc2\\x85", "c1\\u009b\\u0085"},
    {"bad\xff\xfe", "bad\\xff\\xfe", "bad\\ufffd\\ufffd"},
    {"overlong\xc0\xaf", "overlong\\xc0\\xaf", "overlong\\ufffd\\ufffd"},
    {"surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80", "surrogate\\ufffd\\ufffd\\ufffd"},
    {"trunc\xe2\x82", "trunc\\xe2\\x82", "trunc\\ufffd\\ufffd"},
    {"q\"b\\s", "q\"b\\s", "q\\\"b\\\\s"},
    {"\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80",
     "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80"},
};

START_TEST(test_sanitize_line_cases) {
  char out[256];
  kp_sanitize_line(escapes[_i].in, out, sizeof(out));
  ck_assert_str_eq(out, escapes[_i].line);
}
END_TEST

START_TEST(test_json_escape_cases) {
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  kp_json_escape(m, escapes[_i].in);
  fclose(m);
  ck_assert_str_eq(out, escapes[_i].json);
  free(out);
}
END_TEST

/* A small output buffer: never overflows, always terminated, never cuts an
 * escape or a UTF-8 sequence in half. */
START_TEST(test_sanitize_line_truncates_cleanly) {
  char out[16];
  for (size_t cap = 1; cap <= sizeof(out); cap++) {
    memset(out, 'Z', sizeof(out));
    kp_sanitize_line("ab\x1b\xc3\xa9\x07xyz\xe2\x82\xac!", out, cap);
    size_t n = strlen(out);
    ck_assert_uint_lt(n, cap);
    char line[sizeof(out) + 1];
    memcpy(line, out, n);
    line[n] = '\n'; /* as the text writer ends it */
    const char *problem = kp_check_text_output(line, n + 1, 0);
    ck_assert_msg(problem == NULL, "cap %zu: %s", cap, problem);
    const char *full = "ab\\x1b\xc3\xa9\\x07xyz\xe2\x82\xac!";
    ck_assert_msg(strncmp(out, full, n) == 0, "cap %zu: '%s' is not a prefix", cap, out);
    /* a cut may only fall between whole units */
    static const size_t cuts[] = {0, 1, 2, 6, 8, 12, 13, 14, 15, 18, 19};
    bool ok = false;
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++)
      ok = ok || cuts[c] == n;
    ck_assert_msg(ok, "cap %zu: cut at %zu splits a unit", cap, n);
  }
}
END_TEST

/* The text writer: a message with newlines and escapes stays one line. */
START_TEST(test_text_writer_one_line_per_finding) {
  struct kp_report report;
  memset(&report, 0, sizeof(report));
  ck_assert_ptr_nonnull(kp_report_add(&report, KP_CHECK_STALE, KP_SEV_WARN,
                                      "chain %s\nforged line\r\x1b[2K[OK] all good",
                                      "KUBE-SVC-\x9b"
                                      "1A"));
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  ck_assert_int_eq(kp_report_write_text(m, &report), 0);
  fclose(m);
  const char *problem = kp_check_text_output(text, len, report.n_results);
  ck_assert_msg(problem == NULL, "%s:\n%s", problem, text);
  const char *want = "[WARN] chain KUBE-SVC-\\x9b1A\\x0aforged line\\x0d\\x1b[2K[OK] all good\n";
  ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "got: %s", text);
  free(text);
  kp_report_free(&report);
}
END_TEST

int main(void) {
  Suite *s = suite_create("hostile_names");
  TCase *tc = tcase_create("fixtures");
  tcase_set_timeout(tc, 30);
  size_t n_sets = sizeof(sets) / sizeof(sets[0]);
  tcase_add_loop_test(tc, test_findings_carry_hostile_names, 0, (int)n_sets);
  tcase_add_loop_test(tc, test_text_output_is_safe, 0, (int)n_sets);
  tcase_add_loop_test(tc, test_json_output_is_strict_json, 0, (int)n_sets);
  tcase_add_loop_test(tc, test_json_roundtrips_hostile_strings, 0, (int)n_sets);
  tcase_add_test(tc, test_expected_roundtrip_helper);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("escaping");
  size_t n_esc = sizeof(escapes) / sizeof(escapes[0]);
  tcase_add_loop_test(te, test_sanitize_line_cases, 0, (int)n_esc);
  tcase_add_loop_test(te, test_json_escape_cases, 0, (int)n_esc);
  tcase_add_test(te, test_sanitize_line_truncates_cleanly);
  tcase_add_test(te, test_text_writer_one_line_per_finding);
  suite_add_tcase(s, te);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
