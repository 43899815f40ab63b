/* libFuzzer target: a support bundle. The input is split into up to 6 files
 * on NUL bytes, each parsed with kp_dump_parse_buffer into ONE snapshot
 * (mixed formats and backends, duplicate tables), then reconcile, finalize,
 * checks with pod IPs and the report's shape (the writers: fuzz_report). */
#include "fuzz_offline_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct kp_snapshot *snap = kp_snapshot_new();
  if (snap == NULL)
    return 0;
  kp_fuzz_parse_bundle(snap, (const char *)data, size, 6);
  const char *problem = kp_fuzz_offline_path(snap, KP_FUZZ_REPORT_ONLY);
  kp_snapshot_free(snap);
  if (problem != NULL) {
    fprintf(stderr, "fuzz property broken: %s\n", problem);
    abort();
  }
  return 0;
}
