/* fuzz_stockholm.c: the Stockholm parser, with the format forced.
 *
 * The input is prefixed with "# STOCKHOLM 1.0\n" so that every mutation
 * reaches the body parser (blocks, #=GC RF, '//', row names) instead of
 * dying on the header check; the records then go through the same
 * preprocessing, weights and audit as in fuzz_seqfile.c.
 */
#include "fuzz_common.h"

static const char PREFIX[] = "# STOCKHOLM 1.0\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t np = sizeof PREFIX - 1;
  char *buf = malloc(np + size);
  if (!buf) return 0;
  memcpy(buf, PREFIX, np);
  if (size) memcpy(buf + np, data, size);
  sl_seqset *ss = NULL;
  sl_error err;
  sl_error_clear(&err);
  int status = sl_seqset_read_mem(buf, np + size, "fuzz.sto", SL_FMT_STOCKHOLM, &ss, &err);
  if (status) {
    fuzz_check_error(status, &err);
    if (ss) __builtin_trap();
  } else {
    if (ss->format != SL_FMT_STOCKHOLM) __builtin_trap();
    fuzz_check_seqset(ss);
    for (int64_t k = 1; k < ss->n; k++) /* the parser promises equal lengths */
      if (ss->len[k] != ss->len[0]) __builtin_trap();
    if (ss->rf && (int64_t)strlen(ss->rf) != ss->len[0]) __builtin_trap();
    fuzz_run_msa(ss);
    sl_seqset_destroy(ss);
  }
  free(buf);
  return 0;
}
