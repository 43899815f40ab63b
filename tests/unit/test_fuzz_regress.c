/* Replays every input the fuzzers once crashed on (tests/fuzz/regress/,
 * named <target>-<short-name>) through the same path as its fuzz target,
 * without libFuzzer: the parser (or format detection, or the NUL-separated
 * bundle split), then reconcile, finalize, all checks with pod IPs, both
 * report writers, and the output properties. Runs in `make unit`, and
 * under ASan+UBSan in `make asan`, where the original crash would abort. */
#include "../fuzz/fuzz_offline_path.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGRESS_DIR KP_SOURCE_DIR "/tests/fuzz/regress"
#define MAX_INPUTS 256

static char *inputs[MAX_INPUTS];
static size_t n_inputs;

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_inputs(void) {
  DIR *d = opendir(REGRESS_DIR);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n_inputs < MAX_INPUTS)
    if (e->d_name[0] != '.')
      inputs[n_inputs++] = strdup(e->d_name);
  closedir(d);
  qsort(inputs, n_inputs, sizeof(inputs[0]), by_name);
}

/* The target's parser from the file name prefix; *bundle for "bundle-". */
static bool parser_for(const char *name, kp_fuzz_parser *parser, bool *bundle) {
  static const struct {
    const char *prefix;
    kp_fuzz_parser parser;
  } targets[] = {{"ipt_list-", kp_parse_ipt_list},
                 {"ipt_save-", kp_parse_ipt_save},
                 {"ipt_rules-", kp_parse_ipt_rules},
                 {"nft-", kp_parse_nft},
                 {"metrics-", kp_parse_metrics},
                 {"dump_buffer-", NULL},
                 {"bundle-", NULL}};
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    if (strncmp(name, targets[i].prefix, strlen(targets[i].prefix)) == 0) {
      *parser = targets[i].parser;
      *bundle = strcmp(targets[i].prefix, "bundle-") == 0;
      return true;
    }
  }
  return false;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  long size = ftell(f);
  ck_assert_int_ge(size, 0);
  rewind(f);
  char *buf = malloc(size > 0 ? (size_t)size : 1); /* exact: an over-read must hit ASan */
  ck_assert_ptr_nonnull(buf);
  *len = fread(buf, 1, (size_t)size, f);
  ck_assert_uint_eq(*len, (size_t)size);
  fclose(f);
  return buf;
}

START_TEST(test_regress_dir_is_well_formed) {
  DIR *d = opendir(REGRESS_DIR);
  ck_assert_msg(d != NULL, "%s missing", REGRESS_DIR);
  closedir(d);
  for (size_t i = 0; i < n_inputs; i++) {
    kp_fuzz_parser parser;
    bool bundle;
    ck_assert_msg(parser_for(inputs[i], &parser, &bundle),
                  "%s: name does not start with a fuzz target (ipt_list-, bundle-, ...)",
                  inputs[i]);
  }
}
END_TEST

START_TEST(test_regress_input) {
  const char *name = inputs[_i];
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", REGRESS_DIR, name);
  kp_fuzz_parser parser = NULL;
  bool bundle = false;
  ck_assert(parser_for(name, &parser, &bundle));
  size_t len;
  char *data = read_all(path, &len);
  struct kp_snapshot *snap = kp_snapshot_new();
  ck_assert_ptr_nonnull(snap);
  if (bundle) {
    kp_fuzz_parse_bundle(snap, data, len, 6);
  } else {
    struct kp_dump_error err;
    memset(&err, 0, sizeof(err));
    int rc = parser != NULL ? parser(snap, name, data, len, &err)
                            : kp_dump_parse_buffer(snap, name, data, len, &err);
    ck_assert_msg(rc == 0 || (memchr(err.message, '\0', sizeof(err.message)) != NULL &&
                              err.message[0] != '\0'),
                  "%s: failed without an error message", name);
  }
  const char *problem = kp_fuzz_offline_path(snap, KP_FUZZ_WRITE);
  kp_fuzz_check_config_release();
  ck_assert_msg(problem == NULL, "%s: %s", name, problem);
  kp_snapshot_free(snap);
  free(data);
}
END_TEST

int main(void) {
  list_inputs();
  printf("NOTE: %zu fuzz regression input(s) in tests/fuzz/regress\n", n_inputs);
  Suite *s = suite_create("fuzz_regress");
  TCase *tc = tcase_create("regress");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_regress_dir_is_well_formed);
  if (n_inputs > 0)
    tcase_add_loop_test(tc, test_regress_input, 0, (int)n_inputs);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  for (size_t i = 0; i < n_inputs; i++)
    free(inputs[i]);
  return failed ? 1 : 0;
}
