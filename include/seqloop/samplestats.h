/* seqloop/samplestats.h: how natural, how new and how diverse samples are.
 *
 * For samples S (unweighted) against a natural alignment A (weighted):
 *   - Pearson correlation of the one-point frequencies f_i(a) and of the
 *     connected two-point frequencies C_ij(a, b) = f_ij(a, b) - f_i(a) f_j(b)
 *     over all i < j and all state pairs, gaps included (the arDCA/bmDCA
 *     papers' measure);
 *   - novelty: for each sample, the Hamming distance (fraction of columns)
 *     to its nearest natural sequence;
 *   - diversity: Hamming distances between samples (all pairs of the first
 *     `max_pairs_rows` samples).
 * Distributions are summarised by mean and the 5/25/50/75/95% quantiles.
 */
#ifndef SEQLOOP_SAMPLESTATS_H
#define SEQLOOP_SAMPLESTATS_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/msa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_dist_summary {
  double mean, q05, q25, q50, q75, q95;
  int64_t n;
} sl_dist_summary;

typedef struct sl_sample_stats {
  double r_one;             /* Pearson of f_i(a) */
  double r_two;             /* Pearson of connected C_ij(a, b) */
  double slope_two;         /* least-squares slope of samples' C on naturals' C */
  sl_dist_summary novelty;  /* distance to the nearest natural */
  sl_dist_summary diversity;/* distance between samples */
} sl_sample_stats;

/* sl_sample_stats_compute()
 * Purpose:  The statistics above. Both alignments must have the same L and
 *           alphabet (the samples over the natural alignment's columns).
 * Args:     w_nat - weights of the natural rows (NULL: all 1)
 *           max_pairs_rows - diversity uses all pairs of the first this many samples
 */
SL_MUSTCHECK int sl_sample_stats_compute(const sl_msa *samples, const sl_msa *nat, const double *w_nat,
                                         int64_t max_pairs_rows, int threads, sl_sample_stats *ret,
                                         sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
