/* fuzz_results_csv.c: the lab results reader of `seqloop design ingest`.
 *
 * Bytes go through a memory file (memfd) into sl_design_results_read_rep()
 * with a lab oracle of length 4 over the 20 amino acids; the input's length
 * picks the replicates allowed (1, 2 or 3: 1 is sl_design_results_read()).
 * Invariants:
 *   - a failure returns a known status with a message and no results;
 *   - a success returns at least one row, every sequence of length 4 over the
 *     alphabet, every value finite, no sequence more than max_rep times.
 *
 *   make fuzz                              (every target, FUZZ_SECONDS each)
 *   build-fuzz/fuzz_results_csv CRASHFILE  (replay one input)
 */
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "seqloop/design.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sl_oracle *o = NULL;
  sl_error err;
  sl_error_clear(&err);
  if (!o && sl_oracle_create("lab", 0, 4, NULL, &o, &err)) __builtin_trap();
  int fd = memfd_create("results", 0);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  char **seqs = NULL;
  double *vals = NULL;
  int64_t n = -1;
  const int max_rep = 1 + (int)(size % 3);
  int status = sl_design_results_read_rep(path, o, max_rep, &seqs, &vals, &n, &err);
  close(fd);
  if (status) {
    fuzz_check_error(status, &err);
    if (seqs || vals || n != 0) __builtin_trap();
    return 0;
  }
  if (n < 1) __builtin_trap();
  for (int64_t k = 0; k < n; k++) {
    if (strlen(seqs[k]) != 4 || strspn(seqs[k], SL_DESIGN_PROTEIN) != 4) __builtin_trap();
    if (!isfinite(vals[k])) __builtin_trap();
    int same = 0;
    for (int64_t j = 0; j < k; j++) same += !strcmp(seqs[j], seqs[k]);
    if (same >= max_rep) __builtin_trap();
  }
  for (int64_t k = 0; k < n; k++) free(seqs[k]);
  free(seqs);
  free(vals);
  return 0;
}
