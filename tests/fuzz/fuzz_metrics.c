/* libFuzzer target: kp_parse_metrics on arbitrary bytes, then the whole offline path
 * (finalize, checks, the report's shape) on whatever it parsed. */
#include "fuzz_offline_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return kp_fuzz_run(kp_parse_metrics, data, size);
}
