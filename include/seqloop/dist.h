/* seqloop/dist.h: a fit spread over several processes ("ranks").
 *
 * The library knows no message-passing library: a caller that runs one fit
 * in K processes (the CLI's MPI build, cli/dist.c, with MPI) hands each
 * process an sl_dist with its rank, the number of ranks and two collective
 * operations; the fits (weights, potts, ar) split their work by rank and
 * exchange their results through them. NULL, or size 1, is one process and
 * takes exactly the one-process code path.
 *
 * Contract. Every rank calls the fit with the same inputs and options (the
 * thread count may differ: results never depend on it), and the fit makes
 * the same sequence of collective calls on every rank. The collectives carry
 * results, never partial sums of floating-point numbers: each piece of the
 * result is computed by one rank in the one-process order and copied to the
 * others (allgatherv), or is an integer sum (sum_i64, exact in any order).
 * So every rank ends with the same bytes as a one-process fit, for any K
 * (docs/scale.md, "MPI").
 *
 * Failure. A rank whose fit returns an error (out of memory) leaves the
 * other ranks waiting in their next collective: the caller must then end the
 * whole job (the CLI calls MPI_Abort). A collective that returns nonzero
 * makes the fit return SL_EIO.
 */
#ifndef SEQLOOP_DIST_H
#define SEQLOOP_DIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_dist {
  int rank;  /* 0 .. size - 1 */
  int size;  /* number of ranks, >= 1 */
  void *ctx; /* the transport's (an MPI communicator) */
  /* All ranks call it together. Rank r contributes counts[r] bytes from
   * send; recv (sum of counts bytes) receives every rank's bytes in rank
   * order, the same on every rank. counts is the same array on every rank.
   * Returns 0, nonzero on a transport error. */
  int (*allgatherv)(void *ctx, const void *send, void *recv, const int64_t *counts);
  /* All ranks call it together: v[k] becomes the sum over ranks of v[k]
   * (n int64 values, in place; integers, so exact). Returns 0 or nonzero. */
  int (*sum_i64)(void *ctx, int64_t *v, int64_t n);
} sl_dist;

/* sl_dist_ranks(): the number of ranks of d (1 for NULL). */
static inline int sl_dist_ranks(const struct sl_dist *d) { return d && d->size > 1 ? d->size : 1; }
/* sl_dist_rank(): d's rank (0 for NULL). */
static inline int sl_dist_rank(const struct sl_dist *d) { return d && d->size > 1 ? d->rank : 0; }

/* sl_dist_block()
 * Purpose:  Rank r's share of n items split into contiguous blocks of
 *           sizes differing by at most one (the first n % size get one more):
 *           items [*lo, *hi).
 */
static inline void sl_dist_block(int64_t n, int r, int size, int64_t *lo, int64_t *hi) {
  const int64_t b = n / size, e = n % size;
  *lo = r * b + (r < e ? r : e);
  *hi = *lo + b + (r < e ? 1 : 0);
}

#ifdef __cplusplus
}
#endif
#endif
