/* fuzz_oracle_protocol.c: libFuzzer target for the external oracle's
 * protocol reader (src/design/oracle.c, oracle_ext.h): the line framing over
 * a real pipe and the answer check. Input: byte 0 picks the number of
 * sequences requested (1..4), byte 1 the request id (1..4); the rest is what
 * the program wrote. Invariants: the reader returns a line, EOF or a known
 * code; a line lies inside what was written and every byte is examined at
 * most once; an accepted answer has exactly n values, each NaN (null) or
 * finite with magnitude <= SL_DESIGN_MAX_VALUE; a refused one says why. */
#include <math.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "design/oracle_ext.h"
#include "seqloop/design.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > 65536) return 0; /* a pipe holds 64 KiB: no writer process needed */
  int64_t n = 1 + data[0] % 4;
  uint64_t id = 1 + data[1] % 4;
  int p[2];
  if (pipe(p)) return 0;
  size_t body = size - 2;
  if (body && write(p[1], data + 2, body) != (ssize_t)body) { close(p[0]); close(p[1]); return 0; }
  close(p[1]);
  sl_ext_reader r = {0};
  size_t len = 0;
  int st = sl_ext_read_line(&r, p[0], 5, &len);
  close(p[0]);
  if (st != SL_EXT_LINE && st != SL_EXT_EOF) __builtin_trap(); /* no timeout, memory or I/O error here */
  if (r.examined > body) __builtin_trap();
  if (st == SL_EXT_LINE) {
    if (len >= r.len || r.len > body || r.buf[len] != '\0') __builtin_trap();
    if (memcmp(r.buf, data + 2, len) != 0) __builtin_trap();
    double y[4];
    char why[256] = "";
    if (sl_ext_parse_answer(r.buf, len, r.len - len - 1, id, n, y, why, sizeof why) == 0) {
      for (int64_t k = 0; k < n; k++)
        if (!isnan(y[k]) && !(fabs(y[k]) <= SL_DESIGN_MAX_VALUE)) __builtin_trap();
    } else if (!why[0]) {
      __builtin_trap();
    }
  }
  sl_ext_reader_free(&r);
  return 0;
}
