/* seqloop/potts.h: fitting the Potts model by pseudo-likelihood (plmc,
 * EVmutation, EVcouplings) and the site-independent profile.
 *
 * Objective (plmc, symmetric pseudo-likelihood, not divided by Neff):
 *   f(h, J) = - sum_n w_n sum_i log P(s_i^n | s_-i^n)
 *             + lambda_h sum h^2 + lambda_J sum_{i<j} J_ij^2
 *   P(s_i = a | rest) = softmax_a( h_i(a) + sum_{j != i} J_ij(a, s_j) )
 * With gap_missing (plmc -g) a conditional is evaluated only where s_i is a
 * residue, and gapped neighbours contribute nothing.
 *
 * Parameter vector x (doubles in this interface; the fit keeps it in float):
 * L*q fields h_i(a)
 * (site-major), then for each pair i < j in lexicographic order q*q
 * couplings J_ij(a, b) (a-major). sl_potts_pack/unpack convert.
 */
#ifndef SEQLOOP_POTTS_H
#define SEQLOOP_POTTS_H

#include <math.h>
#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/dist.h"
#include "seqloop/model.h"
#include "seqloop/msa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress: called once per L-BFGS iteration; return nonzero to stop. */
typedef int (*sl_plm_progress_fn)(void *ctx, int iter, int n_evals, double fx, double gnorm,
                                  double xnorm, double seconds);

typedef struct sl_plm_opts {
  double lambda_h;        /* L2 on fields (0.01) */
  double lambda_J;        /* L2 on couplings (preset evcouplings: 0.01 (q-1)(L-1)) */
  int gap_missing;        /* plmc -g: gaps are missing data (0) */
  int max_iter;           /* L-BFGS iterations; 0 = until converged */
  double epsilon;         /* L-BFGS convergence: ||g|| / max(1, ||x||) < epsilon (1e-3, plmc) */
  int lbfgs_m;            /* L-BFGS memory (libLBFGS default 6, as plmc) */
  int threads;            /* >= 1 */
  double stop_at;         /* stop as soon as f <= stop_at (NAN: off); for benchmarks */
  sl_plm_progress_fn progress;
  void *progress_ctx;
  const double *init;     /* starting parameter vector, or NULL for plmc's start */
  int portable;           /* 1: never use the AVX-512 kernel (tests compare both) */
  const struct sl_dist *dist; /* ranks sharing the sites (seqloop/dist.h); NULL: one process */
} sl_plm_opts;

void sl_plm_opts_init(sl_plm_opts *o);

/* sl_plm_preset()
 * Purpose:  Set lambda_h and lambda_J from a named convention for an
 *           alignment of L columns and a model of q states:
 *             "evcouplings"  lambda_h 0.01, lambda_J 0.01 (q - 1)(L - 1)
 *             "evmutation"   lambda_h 0.01, lambda_J 0.2 (L - 1)
 *             "plmc"         plmc's defaults: lambda_h 0.01, lambda_J 100
 *             "plmc-readme"  plmc's README example: lambda_h 0.01, lambda_J 16
 * Returns:  SL_OK, or SL_EUSAGE for an unknown name.
 */
SL_MUSTCHECK int sl_plm_preset(const char *name, int64_t L, int q, sl_plm_opts *o, sl_error *err);

typedef struct sl_plm_report {
  double fx;              /* final objective */
  double neg_loglk;       /* its pseudo-likelihood part */
  int iterations;
  int evaluations;
  int lbfgs_status;       /* the optimiser's outcome: SL_LBFGS_* (seqloop/lbfgs.h) */
  const char *lbfgs_message;
  double seconds;
  int64_t n_params;
} sl_plm_report;

/* sl_potts_fit_plm()
 * Purpose:  Fit a Potts model to msa with weights w by L-BFGS on
 *           the objective above: the project's single-precision L-BFGS
 *           (sl_lbfgs_float: libLBFGS's algorithm and defaults, as plmc's
 *           float build; x and g in float, the objective in double), with
 *           (3 + 2 lbfgs_m) vectors of parameters in memory. Initial
 *           h_i(a) = log(f_i(a) Neff + 1), shifted to zero sum (f_i over
 *           residues only when gap_missing), J = 0, as plmc; or o->init
 *           if given (rounded to float). Results are identical for any
 *           thread count, and with o->dist for any number of ranks: each
 *           rank evaluates a block of sites and receives the others' (every
 *           rank then holds the one-process model; docs/scale.md).
 * Returns:  SL_OK with *ret_m (caller destroys) and rep filled; SL_EUSAGE for
 *           bad options; SL_ENOMEM. Stopping by max_iter, stop_at or the
 *           progress callback is success.
 */
SL_MUSTCHECK int sl_potts_fit_plm(const sl_msa *msa, const double *w, const sl_plm_opts *o,
                                  sl_model **ret_m, sl_plm_report *rep, sl_error *err);

/* Number of variables of the parameter vector. */
int64_t sl_potts_nparams(int64_t L, int q);
/* Model (POTTS) <-> parameter vector. */
void sl_potts_pack(const sl_model *m, double *x);
void sl_potts_unpack(const double *x, sl_model *m);

/* sl_plm_objective()
 * Purpose:  The objective and its gradient at x (the fast kernel used by the
 *           fit: float terms, double sums). g may be NULL.
 */
SL_MUSTCHECK int sl_plm_objective(const sl_msa *msa, const double *w, const sl_plm_opts *o,
                                  const double *x, double *ret_fx, double *g, sl_error *err);

/* sl_plm_objective_ref(): the plain twin: double precision, straight loops,
 * one thread. For tests. */
SL_MUSTCHECK int sl_plm_objective_ref(const sl_msa *msa, const double *w, const sl_plm_opts *o,
                                      const double *x, double *ret_fx, double *g, sl_error *err);

/* ---- site-independent profile ----------------------------------------- */

/* sl_profile_fit()
 * Purpose:  The site-independent model as EVcouplings fits it: for each
 *           column, h_i = argmin - sum_n w_n log softmax(h_i)(s_i^n)
 *           + lambda_h sum_a h_i(a)^2 (L2-regularised maximum likelihood,
 *           solved by Newton's method to |grad| < 1e-10), gauge fixed by the
 *           regulariser. With gap_missing, gapped rows are skipped per column.
 */
SL_MUSTCHECK int sl_profile_fit(const sl_msa *msa, const double *w, double lambda_h,
                                int gap_missing, sl_model **ret_m, sl_error *err);

/* Weighted single-site frequencies over model states (L*q, each column sums
 * to 1, uniform for an empty column), as plmc computes them. */
SL_MUSTCHECK int sl_site_frequencies(const sl_msa *msa, const double *w, int gap_missing,
                                     double *ret_f, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
