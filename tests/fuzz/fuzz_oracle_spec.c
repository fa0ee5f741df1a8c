/* fuzz_oracle_spec.c: the oracle specifications of `seqloop design`
 * (sl_oracle_create in src/design/oracle.c and ehrlich.c): the ehrlich:
 * parameter list and the table: options (seq=, value=, missing=, symbols=)
 * after a fixed table file.
 *
 * The first input byte picks the kind: even, "ehrlich:" + the rest; odd,
 * "table:FILE," + the rest, FILE a small binary landscape (3 sites, one
 * variant absent) written once to a memory file: it reads only with
 * seq=genotype,value=brightness,symbols=01 (the seeds oracle_table_*).
 * Specifications that would start a program or read another file never
 * arise. Invariants:
 *   - a failure returns a known status with a message and no oracle;
 *   - an oracle has 1 <= L, 2 <= q <= 63, q distinct symbols, and measures
 *     every sequence of codes < q (its first and last) to a finite value
 *     or NAN without failing for the ehrlich kind.
 *
 *   make fuzz                              (every target, FUZZ_SECONDS each)
 *   build-fuzz/fuzz_oracle_spec CRASHFILE  (replay one input)
 */
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "seqloop/design.h"

/* A landscape of 3 binary sites, one variant (010) absent: missing=na|error decides. */
static const char table[] = "genotype,brightness\n000,0.1\n001,0.5\n011,1.5\n100,0.2\n101,0.25\n110,2\n111,0\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64] = "";
  if (!path[0]) {
    int fd = memfd_create("table", 0);
    if (fd < 0 || write(fd, table, sizeof table - 1) != (ssize_t)(sizeof table - 1)) __builtin_trap();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd); /* kept open for the process */
  }
  if (size < 1 || size > 400) return 0;
  char spec[512];
  int n = (data[0] & 1) ? snprintf(spec, sizeof spec, "table:%s,", path) : snprintf(spec, sizeof spec, "ehrlich:");
  memcpy(spec + n, data + 1, size - 1);
  spec[n + size - 1] = '\0';
  /* Ehrlich instances grow with L, v and c: bounded here so that one input
   * stays fast (the parser's own limits are checked by the unit tests). */
  if (!(data[0] & 1) && size > 60) return 0;
  sl_error err;
  sl_error_clear(&err);
  sl_oracle *o = NULL;
  int status = sl_oracle_create(spec, 1, 0, NULL, &o, &err);
  if (status) {
    fuzz_check_error(status, &err);
    if (o) __builtin_trap();
    return 0;
  }
  if (!o || o->L < 1 || o->q < 2 || o->q > 63 || strlen(o->symbols) != (size_t)o->q) __builtin_trap();
  for (int a = 0; a < o->q; a++)
    if (strchr(o->symbols + a + 1, o->symbols[a])) __builtin_trap();
  if (o->L <= 4096) {
    uint8_t *x = calloc(2 * (size_t)o->L, 1);
    double y[2];
    if (x) {
      memset(x + o->L, o->q - 1, (size_t)o->L);
      int st = sl_oracle_measure(o, x, 2, y, &err);
      if (st) fuzz_check_error(st, &err);
      else
        for (int k = 0; k < 2; k++) if (!isfinite(y[k]) && !isnan(y[k])) __builtin_trap();
      if (st && !strcmp(o->name, "ehrlich")) __builtin_trap();
      free(x);
    }
  }
  sl_oracle_destroy(o);
  return 0;
}
