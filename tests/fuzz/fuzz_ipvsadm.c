/* libFuzzer target: kp_parse_ipvsadm (ipvsadm -Ln, --stats, --rate) on
 * arbitrary bytes, then the whole offline path (finalize, checks with the
 * IPVS-mode endpoints and pod-rules, the report's shape). */
#include "fuzz_offline_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return kp_fuzz_run(kp_parse_ipvsadm, data, size);
}
