/* Every dump of the shared corpus (when present) and every captured fixture
 * is parsed with kp_dump_parse_file and its chain/rule counts are compared
 * with tests/corpus/count-independent.sh, which counts with awk, without the
 * project's parser. One Check test per file. */
#include "kp/dump.h"
#include "kp/model.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COUNT_SCRIPT KP_SOURCE_DIR "/tests/corpus/count-independent.sh"
#define CAPTURED_DIR KP_SOURCE_DIR "/tests/fixtures/captured"
#define CORPUS_DIR KP_SOURCE_DIR "/../shared/corpus"
#define MAX_FILES 1024

struct indep_count {
  char format[32];
  long chains, rules;
};

/* Test-process state: the file list is built in main() before the runner
 * forks, so every loop test sees it. */
static char *files[MAX_FILES];
static int n_files;

static bool has_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Runs the awk counter; false when it could not run or said nothing. */
static bool count_independent(const char *path, struct indep_count *out) {
  char cmd[4200];
  if (strchr(path, '\'') != NULL)
    return false;
  snprintf(cmd, sizeof(cmd), "'%s' '%s'", COUNT_SCRIPT, path);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return false;
  char line[256];
  int got = 0;
  memset(out, 0, sizeof(*out));
  while (fgets(line, sizeof(line), p) != NULL) {
    if (sscanf(line, "format %31s", out->format) == 1)
      got |= 1;
    else if (sscanf(line, "chains %ld", &out->chains) == 1)
      got |= 2;
    else if (sscanf(line, "rules %ld", &out->rules) == 1)
      got |= 4;
  }
  int rc = pclose(p);
  return rc == 0 && got == 7;
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type != FTW_F || n_files >= MAX_FILES)
    return 0;
  /* Not dumps: documentation, nft JSON, ipset restore input. */
  if (has_suffix(path, ".md") || has_suffix(path, ".json") || has_suffix(path, ".ipset"))
    return 0;
  struct indep_count c;
  if (!count_independent(path, &c) || strcmp(c.format, "unknown") == 0) {
    printf("NOTE: not a dump format the counter knows, skipped: %s\n", path);
    return 0;
  }
  files[n_files++] = strdup(path);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(counts_match_independent_count) {
  const char *path = files[_i];
  struct indep_count want;
  ck_assert_msg(count_independent(path, &want), "count-independent.sh failed on %s", path);

  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  struct kp_dump_error err;
  memset(&err, 0, sizeof(err));
  int rc = kp_dump_parse_file(snap, path, &err);
  ck_assert_msg(rc == 0, "%s: parse failed at line %zu: %s", path, err.line, err.message);
  long chains = (long)kp_snapshot_chain_count(snap);
  long rules = (long)kp_snapshot_rule_count(snap);
  kp_snapshot_free(snap);
  ck_assert_msg(chains == want.chains && rules == want.rules,
                "%s (%s): parser chains %ld rules %ld, independent chains %ld rules %ld", path,
                want.format, chains, rules, want.chains, want.rules);
}
END_TEST

/* The counter itself against numbers worked out by hand from
 * make-ruleset.sh defaults (5 services, 2 endpoints; see
 * tests/fixtures/README.md): nat 23 chains / 43 rules, filter 11 / 16,
 * mangle 8 / 0 -> whole save 42 / 59. */
START_TEST(independent_counter_matches_hand_count) {
  static const struct {
    const char *file;
    const char *format;
    long chains, rules;
  } cases[] = {
      {"healthy/legacy/iptables-save-c.txt", "save", 42, 59},
      {"healthy/legacy/nat-L-n-v.txt", "list", 23, 43},
      {"healthy/legacy/nat-L-n.txt", "list", 23, 43},
      {"healthy/nft/filter-L-n-v.txt", "list", 11, 16},
      {"healthy/nft/nat-S.txt", "rules", 23, 43},
      {"healthy/nft/nft-list-ruleset.txt", "nft", 42, 59},
      {"kubelet-only/legacy/iptables-save.txt", "save", 17, 3},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char path[512];
    struct indep_count c;
    snprintf(path, sizeof(path), "%s/%s", CAPTURED_DIR, cases[i].file);
    ck_assert_msg(count_independent(path, &c), "counter failed on %s", path);
    ck_assert_str_eq(c.format, cases[i].format);
    ck_assert_msg(c.chains == cases[i].chains && c.rules == cases[i].rules,
                  "%s: counter says %ld/%ld, hand count %ld/%ld", cases[i].file, c.chains, c.rules,
                  cases[i].chains, cases[i].rules);
  }
}
END_TEST

int main(void) {
  struct stat st;
  if (stat(CORPUS_DIR, &st) == 0 && S_ISDIR(st.st_mode))
    nftw(CORPUS_DIR, collect, 16, FTW_PHYS);
  else
    printf("SKIP: shared corpus not present at %s\n", CORPUS_DIR);
  nftw(CAPTURED_DIR, collect, 16, FTW_PHYS);
  qsort(files, (size_t)n_files, sizeof(files[0]), cmp_str);
  printf("NOTE: corpus count test over %d dump files\n", n_files);

  Suite *s = suite_create("corpus");
  TCase *tc = tcase_create("corpus");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, independent_counter_matches_hand_count);
  tcase_add_loop_test(tc, counts_match_independent_count, 0, n_files);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  for (int i = 0; i < n_files; i++)
    free(files[i]);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
