/* seqloop/shard.h: splitting one run into N pieces ("shards") that separate
 * processes (a Slurm array job, xargs -P) compute, and that `seqloop merge`
 * reassembles into exactly the output of the unsharded run (docs/scale.md).
 *
 * A shard is written "I/N": piece I (1-based, 1 <= I <= N) of N. Each
 * command numbers its items (assays, variant rows, sequences, arms) 0..n-1
 * in the order the unsharded run writes them; piece I takes one contiguous
 * range of them. The ranges are balanced (sizes differ by at most one, the
 * larger first), cover 0..n-1 in order and depend on (I, N, n) only, so
 * every process computes the same split without talking to the others.
 * When N > n some pieces are empty; they still produce a (mergeable) piece.
 */
#ifndef SEQLOOP_SHARD_H
#define SEQLOOP_SHARD_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest N accepted: far beyond any array job, small enough that
 * "I/N" never overflows an int. */
#define SL_SHARD_MAX 1000000

typedef struct sl_shard {
  int i; /* this piece, 1-based */
  int n; /* pieces in all; 0: not sharded (the whole run) */
} sl_shard;

/* sl_shard_parse()
 * Purpose:  Read "I/N": two decimal integers (digits only, no sign, no
 *           spaces) with 1 <= N <= SL_SHARD_MAX and 1 <= I <= N.
 * Returns:  SL_OK and *ret; SL_EUSAGE with a message saying what was
 *           expected ("0/2": "I must be in 1..N"). *ret is untouched on
 *           failure. */
SL_MUSTCHECK int sl_shard_parse(const char *text, sl_shard *ret, sl_error *err);

/* sl_shard_range()
 * Purpose:  The items [*ret_lo, *ret_hi) of piece s out of n items
 *           (0-based, half-open). Piece I of N gets q + 1 items if
 *           I <= r, else q (q = n / N, r = n % N), in order. An unsharded
 *           s (s == NULL or s->n == 0) gets [0, n).
 * Args:     n >= 0. */
void sl_shard_range(const sl_shard *s, int64_t n, int64_t *ret_lo, int64_t *ret_hi);

#ifdef __cplusplus
}
#endif
#endif
