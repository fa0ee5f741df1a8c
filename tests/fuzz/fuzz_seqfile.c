/* fuzz_seqfile.c: the whole ingestion path from bytes in memory.
 *
 * sl_seqset_read_mem() with format detection, then (if it parsed)
 * sl_msa_build() with default options, in focus mode with --focus-first,
 * --max-gap-frac 0.5 and --min-coverage 0.5, and as forced A3M with a named
 * focus; for N <= 2000 rows, weights in the plmc and EVE conventions (one
 * thread) and the audit. See fuzz_common.h for the invariants checked.
 *
 *   make fuzz                         (every target, FUZZ_SECONDS each)
 *   build-fuzz/fuzz_seqfile CRASHFILE (replay one input)
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_seqset *ss = NULL;
  sl_error err;
  sl_error_clear(&err);
  int status = sl_seqset_read_mem((const char *)data, size, "fuzz.fa", SL_FMT_AUTO, &ss, &err);
  if (status) {
    fuzz_check_error(status, &err);
    if (ss) __builtin_trap();
    return 0;
  }
  fuzz_check_seqset(ss);
  fuzz_run_msa(ss);
  sl_seqset_destroy(ss);
  return 0;
}
