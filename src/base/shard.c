/* shard.c: the arithmetic of sharded runs (seqloop/shard.h).
 *
 * Contiguous blocks rather than round-robin (item k to piece k mod N): a
 * block keeps the pieces' outputs in the unsharded order, so merging is
 * concatenation, and a block of assays or sequences reads its inputs
 * sequentially. Sizes differ by at most one so that no piece of an array
 * job runs much longer than the others (items of equal cost assumed; a
 * benchmark's assays are not, which docs/scale.md says).
 */
#include <stdlib.h>
#include <string.h>

#include "seqloop/shard.h"

/* A decimal integer of digits only (no sign, no space, no leading '+'),
 * at most 9 digits: -1 if not. *end: the first character after it. */
static long read_uint(const char *p, const char **end) {
  long v = 0;
  int k = 0;
  while (p[k] >= '0' && p[k] <= '9') {
    if (k == 9) return -1;
    v = v * 10 + (p[k] - '0');
    k++;
  }
  *end = p + k;
  return k ? v : -1;
}

int sl_shard_parse(const char *text, sl_shard *ret, sl_error *err) {
  const char *p = text, *e = NULL;
  if (!text || !*text) return sl_fail(err, SL_EUSAGE, "expected I/N (piece I of N, 1 <= I <= N), not an empty value");
  long i = read_uint(p, &e);
  if (i < 0 || *e != '/') return sl_fail(err, SL_EUSAGE, "expected I/N (piece I of N, 1 <= I <= N), not '%.40s'", text);
  long n = read_uint(e + 1, &e);
  if (n < 0 || *e) return sl_fail(err, SL_EUSAGE, "expected I/N (piece I of N, 1 <= I <= N), not '%.40s'", text);
  if (n < 1 || n > SL_SHARD_MAX)
    return sl_fail(err, SL_EUSAGE, "'%.40s': N must be in 1..%d", text, SL_SHARD_MAX);
  if (i < 1 || i > n)
    return sl_fail(err, SL_EUSAGE, "'%.40s': I must be in 1..N, pieces are numbered from 1", text);
  ret->i = (int)i;
  ret->n = (int)n;
  return SL_OK;
}

void sl_shard_range(const sl_shard *s, int64_t n, int64_t *ret_lo, int64_t *ret_hi) {
  if (n < 0) n = 0;
  if (!s || s->n <= 0 || s->i < 1 || s->i > s->n) {
    *ret_lo = 0;
    *ret_hi = n;
    return;
  }
  const int64_t N = s->n, k = s->i - 1, q = n / N, r = n % N;
  *ret_lo = k * q + (k < r ? k : r);
  *ret_hi = *ret_lo + q + (k < r ? 1 : 0);
}
