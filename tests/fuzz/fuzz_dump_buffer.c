/* libFuzzer target: kp_dump_parse_buffer (format detection included) on
 * arbitrary bytes, then the whole offline path. */
#include "fuzz_offline_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return kp_fuzz_run(NULL, data, size);
}
