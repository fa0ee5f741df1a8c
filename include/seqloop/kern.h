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
/* sl_kernel_supported(): 1 if this CPU can run the kernel (AUTO: after resolving). */
int sl_kernel_supported(int kernel);

/* sl_neighbours_count()
 * Purpose:  For every row of an N x L matrix of states (0 = gap), count the
 *           other rows whose match count with it reaches min_match[row]
 *           (INT32_MAX: none can). gaps_match = 1 counts gap-gap as a match
 *           (plmc identity), 0 never counts a gap (EVE identity).
 * Args:     threads - OpenMP threads (>= 1); the result does not depend on it
 *           kernel  - SL_KERN_*; SL_EUSAGE if this CPU lacks it
 *           progress - row pairs compared so far (NULL: silent)
 *           ret_count - caller-allocated, N entries (RETURN)
 * Cost:     N(N-1)/2 pairs of ceil(L/64) 64-byte compares (AVX-512).
 */
struct sl_progress;
SL_MUSTCHECK int sl_neighbours_count(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                                     const int32_t *min_match, int threads, int kernel,
                                     struct sl_progress *progress, int64_t *ret_count,
                                     sl_error *err);
/* sl_neighbours_count_mult(): the same with a multiplicity per row (mult,
 * NULL = 1 each): a neighbour j adds mult[j] to row i's count. Rows repeated
 * c times can then be given once with multiplicity c (weights.c does). */
SL_MUSTCHECK int sl_neighbours_count_mult(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                                          const int32_t *min_match, const int32_t *mult, int threads,
                                          int kernel, struct sl_progress *progress, int64_t *ret_count,
                                          sl_error *err);
/* sl_neighbours_count_part(): one part of nparts of the pairs (row blocks of
 * 4 rows dealt cyclically, each against every later row): the counts of the
 * pairs this part compares. The sum over parts 0 .. nparts-1 of their counts
 * is exactly sl_neighbours_count_mult's (integers): weights computed across
 * ranks (seqloop/dist.h) add them up. */
SL_MUSTCHECK int sl_neighbours_count_part(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                                          const int32_t *min_match, const int32_t *mult, int part,
                                          int nparts, int threads, int kernel,
                                          struct sl_progress *progress, int64_t *ret_count,
                                          sl_error *err);

/* ---- nearest-neighbour identity (leakage audits and splits) ---------------
 * Identity of two aligned rows is Easel's (esl_dst_XPairId): identical
 * residue columns (gap-gap never counts) over the residues of the shorter
 * row, idents / min(len_a, len_b); 0 when either row has no residue. It is
 * symmetric, so a split built on it has a well-defined neighbour graph, and
 * a fragment contained in a longer sequence counts as identical to it (the
 * conservative choice for a leakage audit).
 *
 * An sl_idset holds rows padded to 64-byte aligned blocks so that a query
 * scans it with 64-byte compares; rows are added one at a time (splits grow
 * their training and test sets incrementally). */
typedef struct sl_idset sl_idset;

/* sl_idset_create(): an empty set of rows of L states; kernel SL_KERN_*
 * (SL_EUSAGE if this CPU lacks it). */
SL_MUSTCHECK int sl_idset_create(int64_t L, int kernel, sl_idset **ret, sl_error *err);
void sl_idset_destroy(sl_idset *s);
int64_t sl_idset_size(const sl_idset *s);
/* sl_idset_add(): append a row of L states (0 = gap); its index is the
 * previous size. SL_ENOMEM on failure (the set is unchanged). */
SL_MUSTCHECK int sl_idset_add(sl_idset *s, const uint8_t *row, sl_error *err);
/* sl_idset_nearest()
 * Purpose:  The highest identity of a row to any row of the set, and which.
 * Args:     skip     - index of a set row to ignore (the row itself when
 *                      querying a set with its own member), or -1
 *           stop_above - stop at the first set row whose identity exceeds
 *                      this (a threshold test); pass > 1 for the exact max
 * Returns:  the identity (0 for an empty set); *ret_idx the row (-1 if none).
 * Cost:     one pass over the set, ceil(L/64) 64-byte compares per row.
 */
double sl_idset_nearest(const sl_idset *s, const uint8_t *row, int64_t skip, double stop_above,
                        int64_t *ret_idx);
/* sl_identity_nearest()
 * Purpose:  For each of nq query rows, the highest identity to any of nr
 *           reference rows (queries run in parallel; the result does not
 *           depend on the thread count). same_set = 1 when the queries are
 *           the reference rows themselves (query k skips reference k).
 * Args:     ret_id, ret_idx - caller-allocated, nq entries (ret_idx may be NULL)
 */
SL_MUSTCHECK int sl_identity_nearest(const uint8_t *xq, int64_t nq, const uint8_t *xr, int64_t nr,
                                     int64_t L, int same_set, int threads, int kernel,
                                     double *ret_id, int64_t *ret_idx, sl_error *err);
/* sl_identity_pair(): the same identity for two rows, one byte at a time
 * (the plain reference the kernels are tested against). */
double sl_identity_pair(const uint8_t *a, const uint8_t *b, int64_t L);

#ifdef __cplusplus
}
#endif
#endif
