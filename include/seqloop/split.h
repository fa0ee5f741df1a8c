/* seqloop/split.h: leakage audits and homology-aware train/test splits.
 *
 * Identity is Easel's (kern.h): identical residues over the residues of the
 * shorter sequence, on rows aligned to the same columns.
 *
 * A held-out set is held out at threshold t when no test sequence is more
 * than t identical to any training sequence. sl_leakage_compute() measures
 * that; sl_split() builds splits that satisfy it by construction:
 *
 *   SL_SPLIT_CLUSTER  greedy centroid clustering at t1 over a seeded random
 *                     order (a row joins the first centroid it is more than
 *                     t1 identical to, CD-HIT's fast mode), whole clusters
 *                     drawn at random into the test set until it holds
 *                     test_frac of the rows; then every training row more
 *                     than t1 identical to a test row is dropped, because
 *                     centroid clusters alone do not separate their members
 *                     from other clusters.
 *   SL_SPLIT_COBALT   after Petti & Eddy (2022)'s Cobalt: rows in a seeded
 *                     random order; a row may join the test set when it is
 *                     at most t1 identical to every training row and at most
 *                     t2 to every test row (and the test set is not full),
 *                     the training set when it is at most t1 identical to
 *                     every test row; when both are open it goes to the test
 *                     set with probability test_frac; when neither, it is
 *                     dropped. Test rows are therefore also non-redundant.
 *   SL_SPLIT_RANDOM   rows drawn at random, no homology control: the leaky
 *                     baseline that the audit should flag.
 *
 * A row marked keep_in_train (the focus) is placed first, in the training set.
 */
#ifndef SEQLOOP_SPLIT_H
#define SEQLOOP_SPLIT_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- leakage ------------------------------------------------------------ */

#define SL_LEAK_BINS 20  /* identity histogram: [0,0.05), ..., [0.9,0.95), [0.95,1] */
#define SL_LEAK_NTHR 7   /* reported thresholds: 0.3 0.5 0.7 0.8 0.9 0.95 1.0 */
extern const double sl_leak_thresholds[SL_LEAK_NTHR];

typedef struct sl_leakage {
  int64_t n_test, n_train;
  double *max_id;               /* n_test: highest identity to any training row */
  int64_t *nearest;             /* n_test: that training row */
  int64_t hist[SL_LEAK_BINS];   /* test rows per identity bin */
  int64_t above[SL_LEAK_NTHR];  /* test rows with max_id >= sl_leak_thresholds[k] */
  double mean, median, max;     /* of max_id */
  double threshold;             /* the verdict's threshold */
  int64_t n_leaky;              /* test rows with max_id > threshold */
  int held_out;                 /* 1: n_leaky == 0 */
} sl_leakage;

/* sl_leakage_compute()
 * Purpose:  For every test row, the highest identity to any training row;
 *           the histogram, counts above the standard thresholds, and the
 *           verdict at `threshold`.
 * Args:     train, test - row-major states over the same L columns (0 = gap)
 * Returns:  SL_OK; SL_EUSAGE for an empty set or a bad threshold.
 */
SL_MUSTCHECK int sl_leakage_compute(const uint8_t *train, int64_t n_train, const uint8_t *test,
                                    int64_t n_test, int64_t L, double threshold, int threads,
                                    int kernel, sl_leakage **ret, sl_error *err);
void sl_leakage_destroy(sl_leakage *lk);

/* ---- splits ------------------------------------------------------------- */

enum { SL_SPLIT_CLUSTER = 1, SL_SPLIT_COBALT = 2, SL_SPLIT_RANDOM = 3 };
enum { SL_SET_DROPPED = -1, SL_SET_TRAIN = 0, SL_SET_TEST = 1 };

typedef struct sl_split_opts {
  int method;        /* SL_SPLIT_* (default CLUSTER) */
  double t1;         /* train-test identity threshold (default 0.8) */
  double t2;         /* test-test threshold for COBALT (default 0.95) */
  double test_frac;  /* target fraction of rows in the test set (default 0.2) */
  uint64_t seed;     /* default 1 */
  int kernel;        /* SL_KERN_* */
} sl_split_opts;
void sl_split_opts_init(sl_split_opts *o);
const char *sl_split_method_name(int method);
int sl_split_method_parse(const char *s); /* "cluster", "cobalt", "random" -> enum; -1 */

typedef struct sl_split_report {
  int64_t n_train, n_test, n_dropped;
  int64_t n_clusters;   /* CLUSTER: clusters at t1; else 0 */
  int64_t n_test_clusters;
} sl_split_report;

/* sl_split()
 * Purpose:  Label each of N aligned rows train, test or dropped (above).
 * Args:     keep_in_train - a row forced into the training set, or -1
 *           ret_set - caller-allocated, N labels SL_SET_*
 * Returns:  SL_OK; SL_EUSAGE for bad options. The same seed gives the same
 *           labels.
 */
SL_MUSTCHECK int sl_split(const uint8_t *x, int64_t N, int64_t L, int64_t keep_in_train,
                          const sl_split_opts *o, int8_t *ret_set, sl_split_report *rep,
                          sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
