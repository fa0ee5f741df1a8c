/* seqloop/kern.h: hot kernels with a plain twin, chosen at run time.
 *
 * Every fast kernel here has a plain C twin computing the same result, and a
 * unit test compares them on awkward sizes (tests/unit/test_weights.c).
 */
#ifndef SEQLOOP_KERN_H
#define SEQLOOP_KERN_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel choice: AUTO picks the widest the CPU supports at run time. */
enum { SL_KERN_AUTO = 0, SL_KERN_PLAIN = 1, SL_KERN_AVX2 = 2, SL_KERN_AVX512 = 3 };

/* sl_kernel_name(): "auto", "plain", "avx2", "avx512". */
const char *sl_kernel_name(int kernel);
/* sl_kernel_resolve(): AUTO -> the best kernel this CPU supports; others unchanged. */
int sl_kernel_resolve(int kernel);

/* sl_neighbours_count()
 * Purpose:  For every row of an N x L matrix of states (0 = gap), count the
 *           other rows whose match count with it reaches min_match[row]
 *           (INT32_MAX: none can). gaps_match = 1 counts gap-gap as a match
 *           (plmc identity), 0 never counts a gap (EVE identity).
 * Args:     threads - OpenMP threads (>= 1); the result does not depend on it
 *           kernel  - SL_KERN_*; SL_EUSAGE if this CPU lacks it
 *           ret_count - caller-allocated, N entries (RETURN)
 * Cost:     N(N-1)/2 pairs of ceil(L/64) 64-byte compares (AVX-512).
 */
SL_MUSTCHECK int sl_neighbours_count(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                                     const int32_t *min_match, int threads, int kernel,
                                     int64_t *ret_count, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
