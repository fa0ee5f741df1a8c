/* seqloop/benchmark.h: a ProteinGym-style zero-shot benchmark over a folder
 * of assays laid out as <dir>/<id>/<id>.csv + <dir>/<id>/<id>.a2m (first row
 * of the alignment = the assayed protein). docs/scoring.md describes the
 * recipe, the fallback for variants outside the model, the files written
 * and the aggregation; ProteinGym's metrics are metrics.h's.
 *
 * A recipe: one or more model kinds fitted to the assay's alignment (lor,
 * gemme, profile, potts) with weights, combined by rank or z-score
 * averaging within the assay (the assay's measurements are never used to
 * combine), optionally with RSALOR's solvent-accessibility factor per
 * column (from the CSV's RSA column) on the field-only kinds.
 */
#ifndef SEQLOOP_BENCHMARK_H
#define SEQLOOP_BENCHMARK_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_ENS_RANK = 0, SL_ENS_Z = 1 };
#define SL_BENCH_MAX_MODELS 8

typedef struct sl_bench_recipe {
  int n;                                 /* components */
  char comp[SL_BENCH_MAX_MODELS][16];    /* model of each component: lor, gemme, profile, potts */
  double weight[SL_BENCH_MAX_MODELS];    /* ensemble weights (> 0) */
  int ensemble;                          /* SL_ENS_RANK (default) or SL_ENS_Z */
  int rsa;                               /* 1: the CSV's RSA column is needed (--rsa, an @rsa or a stab component) */
  int comp_rsa[SL_BENCH_MAX_MODELS];     /* component scaled by 1 - min(RSA,100)/100 ("kind@rsa") */
  double theta;                          /* weights: plmc convention, 0.2 */
  int threads;                           /* threads inside one assay (weights, potts) */
  int save_models;                       /* 1: write each fitted component as <out>/<id>.<comp>.model */
} sl_bench_recipe;

/* sl_bench_recipe_parse()
 * Purpose:  "lor", "lor+gemme", "gemme@rsa:0.6+lor:0.4" (kind[@rsa][:weight]
 *           joined by '+'; @rsa scales that component by the RSA factor, rsa
 *           = 1 scales all but stab, which is built from the burial and
 *           needs the RSA column: "stab@rsa" is refused); ensemble "rank" or
 *           "z"; kinds lor, gemme, profile, potts, stab; defaults theta 0.2,
 *           threads 1.
 * Returns:  SL_OK; SL_EUSAGE naming the bad part.
 */
SL_MUSTCHECK int sl_bench_recipe_parse(const char *models, const char *ensemble, int rsa,
                                       sl_bench_recipe *ret, sl_error *err);

/* One assay's result (also the line of <out>/<id>.result.csv). */
typedef struct sl_bench_result {
  char id[128];
  int64_t n;            /* variants scored (= rows of the assay) */
  int64_t n_outside;    /* variants with a mutation outside the model's columns (fallback) */
  double spearman, ndcg, recall, auc, mcc; /* auc, mcc NaN without DMS_score_bin */
  double seconds;       /* wall time of this assay (report only) */
} sl_bench_result;

/* sl_bench_assay()
 * Purpose:  Run the recipe on <dir>/<id>: read the alignment (focus first),
 *           weights, fit each component, score every variant of the CSV
 *           (mutations at positions outside the model's columns contribute
 *           0, the wild type's score, and are counted in n_outside and a
 *           flag column), combine, and write atomically
 *             <out>/<id>.scores.csv  mutant,DMS_score,<kind>...,score,n_outside
 *             <out>/<id>.result.csv  the metrics (written last: its presence
 *                                    marks the assay done, for resuming)
 *           and, with save_models, each component's model file
 *           <out>/<id>.<kind>[@rsa].model, its meta recording the fit
 *           (kind, theta, constants, RSA factors if scaled).
 * Returns:  SL_OK; SL_EINPUT (missing/bad files, a wrong wild type),
 *           SL_EUSAGE (RSA asked for a kind with couplings), SL_ENOMEM, I/O.
 */
SL_MUSTCHECK int sl_bench_assay(const char *dir, const char *id, const sl_bench_recipe *r,
                                const char *out, sl_bench_result *ret, sl_error *err);

/* sl_bench_result_read(): read <out>/<id>.result.csv back (resume, summary). */
SL_MUSTCHECK int sl_bench_result_read(const char *path, sl_bench_result *ret, sl_error *err);

/* Metric columns of a result, for aggregation. */
enum { SL_BM_SPEARMAN = 0, SL_BM_NDCG, SL_BM_RECALL, SL_BM_AUC, SL_BM_MCC, SL_BM_N };
const char *sl_bench_metric_name(int k);
double sl_bench_metric(const sl_bench_result *r, int k);

/* sl_bench_aggregate()
 * Purpose:  ProteinGym's aggregation of per-assay values v (n assays):
 *           mean over the assays of each UniProt ID, then mean over the
 *           UniProt IDs of each selection type, then the mean of the types.
 *           uniprot[k], seltype[k] label assay k (any strings). Assays with
 *           NaN are left out. With v2 (NULL: none) it aggregates v - v2
 *           assay by assay (paired). The standard error is the standard
 *           deviation of the aggregate over n_boot bootstrap resamples of the
 *           assays (with replacement; seed fixes them, so two recipes
 *           resampled with one seed are paired).
 * Returns:  the aggregate; *ret_se its bootstrap SE (NaN if n_boot < 2);
 *           *ret_plain the plain mean of the assays (may be NULL).
 */
double sl_bench_aggregate(const double *v, const double *v2, int64_t n, const char *const *uniprot,
                          const char *const *seltype, int n_boot, uint64_t seed, double *ret_se,
                          double *ret_plain);

#ifdef __cplusplus
}
#endif
#endif
