/* seqloop/metrics.h: metrics for zero-shot variant-effect predictions, with
 * ProteinGym's definitions.
 *
 * Source followed: OATML-Markslab/ProteinGym, proteingym/performance_DMS_benchmarks.py
 * (read at commit a6fc27fcf58eb2403fded76819e3f5665381be36): main() scores every
 * model column against 'DMS_score' / 'DMS_score_bin' with
 *   Spearman   scipy.stats.spearmanr(DMS_score, model)[0]
 *   AUC        sklearn.metrics.roc_auc_score(y_true=DMS_score_bin, y_score=model)
 *   MCC        median_cutoff = model.median(); model_bin = 1 if x >= median_cutoff else 0;
 *              sklearn.metrics.matthews_corrcoef(y_true=DMS_score_bin, y_pred=model_bin)
 *   NDCG       calc_ndcg(DMS_score, model)       (defaults quantile=True, top=10)
 *   Top_recall calc_toprecall(DMS_score, model)  (defaults top_true=top_model=10)
 * sl_pearson is scipy.stats.pearsonr's statistic (not a ProteinGym metric).
 * Each function below states its definition exactly; "higher is fitter" for
 * both model scores and assay values, as in ProteinGym.
 *
 * Conventions shared by every function:
 *  - Inputs are arrays of length n. A pair (i) is skipped when either of its
 *    values is NaN (for the labelled metrics: when the score is NaN or the
 *    label is neither 0 nor 1); every metric is then computed on the m kept
 *    pairs exactly as if only they had been given. ProteinGym itself assumes
 *    no missing value.
 *  - NaN is returned when the metric is undefined: m < 2 (also n < 0 or a NULL
 *    array), zero variance / constant input where the definition divides by
 *    it, a single class for AUC, a top fraction outside (0, 1], or an
 *    allocation failure (the functions allocate O(n) scratch; they never print
 *    and keep no state, so they are safe to call from several threads).
 *  - Sorting is O(m log m); all arithmetic is double precision; ties are
 *    handled deterministically as documented per function.
 *
 * Deviations from ProteinGym's code (all at edges, none on ordinary data):
 *  - NaN skipping (above), and NaN for m < 2 everywhere (sklearn's MCC would
 *    give 0 and calc_ndcg 0 for a single pair).
 *  - NDCG: ProteinGym ranks the model scores with np.argsort's default
 *    (unstable) quicksort, so its value on tied model scores inside the top k
 *    depends on numpy's sort internals; we break ties by input position (the
 *    earlier pair gets the better rank), i.e. np.argsort(kind="stable").
 *    Identical whenever the model scores within the top k are distinct.
 *  - NDCG with constant truth returns NaN even when k = 0 (calc_ndcg returns
 *    0 for k = 0 before it meets the 0/0).
 *  - Top recall: the current calc_toprecall returns 0 when no truth value lies
 *    strictly above its percentile (an older ProteinGym version divided 0/0);
 *    we return 0 as the current code does.
 */
#ifndef SEQLOOP_METRICS_H
#define SEQLOOP_METRICS_H

#include <math.h> /* NAN: sl_mcc's "use the median" threshold */
#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sl_pearson()
 * Purpose:  Pearson's correlation coefficient of the kept pairs (x_i, y_i).
 *           r = sum (x-mx)(y-my) / sqrt(sum (x-mx)^2 * sum (y-my)^2), with the
 *           means taken first (two passes); clipped to [-1, 1].
 * Args:     x, y: length-n arrays; n: their length.
 * Returns:  r; NaN if fewer than 2 pairs are kept or either side is constant
 *           over the kept pairs (scipy.stats.pearsonr also gives NaN then).
 */
double sl_pearson(const double *x, const double *y, int64_t n);

/* sl_spearman()
 * Purpose:  Spearman's rank correlation as scipy.stats.spearmanr computes it:
 *           Pearson's r of the average ranks (ties share the mean of the
 *           positions they span), the ranks taken over the kept pairs only.
 * Args:     x, y: length-n arrays (ProteinGym: assay values, model scores).
 * Returns:  rho; NaN if fewer than 2 pairs are kept or either side is
 *           constant over the kept pairs.
 */
double sl_spearman(const double *x, const double *y, int64_t n);

/* sl_rank_average()
 * Purpose:  1-based average ranks in ascending order, as
 *           scipy.stats.rankdata(method="average"): the smallest value gets
 *           1; a run of t tied values at positions p+1..p+t all get p+(t+1)/2.
 *           NaN entries are left out of the ranking and get rank NaN.
 * Args:     x: length-n array; n: its length; ret_rank: length-n output
 *           (caller-owned; must not alias x).
 * Returns:  nothing. On allocation failure every rank is NaN.
 */
void sl_rank_average(const double *x, int64_t n, double *ret_rank);

/* sl_median()
 * Purpose:  Median of the non-NaN values, as numpy.median / pandas'
 *           Series.median: the middle value of the sorted values, or
 *           (a + b) / 2 of the two middle ones when their count is even.
 * Args:     x: length-n array; n: its length.
 * Returns:  the median; NaN if no value is kept.
 */
double sl_median(const double *x, int64_t n);

/* sl_auc()
 * Purpose:  Area under the ROC curve, sklearn.metrics.roc_auc_score's value
 *           for binary labels (ProteinGym: y_true = DMS_score_bin, y_score =
 *           the model score). Computed as the Mann-Whitney statistic,
 *             AUC = (R1 - P(P+1)/2) / (P N),
 *           R1 the sum of the average ranks (sl_rank_average) of the positive
 *           pairs' scores, P and N the numbers of positives and negatives:
 *           the probability that a random positive outscores a random
 *           negative, a tie counting 1/2. This equals sklearn's trapezoidal
 *           area, which also counts ties as 1/2.
 * Args:     score: length-n model scores; label: length-n, 1 positive,
 *           0 negative (any other value skips the pair); n: the length.
 * Returns:  AUC in [0, 1]; NaN if fewer than 2 pairs are kept or only one
 *           class is present (sklearn raises; ProteinGym records NaN).
 */
double sl_auc(const double *score, const int *label, int64_t n);

/* sl_mcc()
 * Purpose:  Matthews correlation coefficient of the binarised scores
 *           pred_i = (score_i >= threshold) against label_i, exactly as
 *           sklearn.metrics.matthews_corrcoef: with counts t = (#label 0,
 *           #label 1), p = (#pred 0, #pred 1), c = #(pred == label), m pairs,
 *             cov_tp = c m - t.p,  cov_pp = m^2 - p.p,  cov_tt = m^2 - t.t,
 *             MCC = cov_tp / sqrt(cov_tt cov_pp),  or 0 if cov_tt cov_pp == 0
 *           (sklearn returns 0, not NaN, when predictions or labels are all
 *           one class; so do we).
 *           ProteinGym's binarisation: threshold = the median of the model
 *           scores, pred = score >= median. Pass threshold = NAN to get it
 *           (the median, sl_median, is taken over the kept pairs).
 * Args:     score: length-n model scores; label: length-n, 0 or 1 (any other
 *           value skips the pair); n: the length; threshold: a cut-off, or
 *           NAN for the median of the kept scores.
 * Returns:  MCC in [-1, 1]; NaN if fewer than 2 pairs are kept.
 */
double sl_mcc(const double *score, const int *label, int64_t n, double threshold);

/* sl_ndcg()
 * Purpose:  ProteinGym's calc_ndcg(y_true = truth, y_score = score,
 *           quantile=True, top = 100 * top_frac), over the m kept pairs:
 *             k      = floor(m * top_frac)                   (top_frac 0.1 gives
 *                      exactly ProteinGym's floor(m * (10/100)))
 *             gain_i = (truth_i - min truth) / (max truth - min truth)
 *             rank_i = 1 + position of i when the scores are sorted in
 *                      decreasing order (ties: earlier pair first; see the
 *                      deviation note at the top)
 *             DCG    = sum over rank_i <= k of gain_i / log2(rank_i + 1)
 *             IDCG   = sum over r = 1..k of g_(r) / log2(r + 1), g_(r) the
 *                      gains sorted in decreasing order (independent of ties)
 *             NDCG   = DCG / IDCG, and 0 when DCG has no non-zero term
 *                      (calc_ndcg's early "return 0", e.g. k = 0).
 * Args:     score: length-n model scores; truth: length-n assay values;
 *           n: the length; top_frac: the top fraction, in (0, 1] (0.1 in
 *           ProteinGym).
 * Returns:  NDCG in [0, 1]; NaN if fewer than 2 pairs are kept, the kept
 *           truth values are constant, or top_frac is outside (0, 1].
 */
double sl_ndcg(const double *score, const double *truth, int64_t n, double top_frac);

/* sl_topk_recall()
 * Purpose:  ProteinGym's calc_toprecall(true_scores = truth, model_scores =
 *           score, top_true = top_model = 100 * top_frac), over the m kept
 *           pairs:
 *             q        = 100 - 100 * top_frac            (90 for 0.1)
 *             top_true = { i : truth_i > percentile(truth, q) }
 *             top_model= { i : score_i > percentile(score, q) }
 *             recall   = |top_true & top_model| / |top_true|, or 0 if
 *                        top_true is empty
 *           with numpy.percentile's default ("linear") method: v = (m-1) q/100,
 *           j = floor(v), g = v - j, s the sorted values, and the value
 *           s_j + (s_{j+1} - s_j) g  (numpy evaluates it as
 *           s_{j+1} - (s_{j+1} - s_j)(1 - g) when g >= 0.5; so do we, so the
 *           strict '>' comparisons match numpy bit for bit).
 * Args:     score: length-n model scores; truth: length-n assay values;
 *           n: the length; top_frac: the top fraction, in (0, 1] (0.1 in
 *           ProteinGym).
 * Returns:  recall in [0, 1]; NaN if fewer than 2 pairs are kept or top_frac
 *           is outside (0, 1].
 */
double sl_topk_recall(const double *score, const double *truth, int64_t n, double top_frac);

#ifdef __cplusplus
}
#endif
#endif
