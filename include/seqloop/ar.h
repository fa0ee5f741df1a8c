/* seqloop/ar.h: autoregressive DCA (arDCA; Trinquier et al. 2021, ArDCA.jl):
 * an exact, normalised likelihood and exact i.i.d. sampling.
 *
 *   P(s) = prod_k P(s_{p_k} | s_{p_1}, ..., s_{p_{k-1}}),
 *   P(s_i = a | earlier) = softmax_a( h_i(a) + sum_{j earlier than i} J_ij(a, s_j) )
 *
 * Fitting is L independent convex problems, one weighted softmax regression
 * per site (parallel over sites), with weights normalised to sum to 1 and
 * L2 penalties lambda_h sum h^2 + lambda_J sum J^2. Defaults lambda_J = 1e-4,
 * lambda_h = 1e-6: ArDCA.jl's documented defaults (0.01 for both) shrink
 * the couplings so much that samples of PF00014 reproduce the data's
 * connected two-point correlations with r = 0.65 only; with 1e-4 / 1e-6,
 * r = 0.96 (docs/benchmarks.md).
 * Gaps are a state (q = 21 for protein), as in arDCA.
 */
#ifndef SEQLOOP_AR_H
#define SEQLOOP_AR_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/dist.h"
#include "seqloop/model.h"
#include "seqloop/msa.h"
#include "seqloop/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_ORDER_ENTROPY = 0, SL_ORDER_NATURAL = 1, SL_ORDER_GIVEN = 2 };

typedef struct sl_ar_opts {
  double lambda_h;        /* 1e-6 */
  double lambda_J;        /* 1e-4 */
  int order_kind;         /* SL_ORDER_ENTROPY (default): increasing column entropy */
  const int64_t *order;   /* SL_ORDER_GIVEN: a permutation of 0..L-1 */
  int threads;
  int max_iter;           /* per site L-BFGS iterations (0: until converged) */
  double epsilon;         /* per site L-BFGS convergence (1e-4) */
  int portable;           /* 1: the fit's plain kernel, not the AVX-512 twin (the same bits; for tests) */
  struct sl_progress *progress; /* sites fitted, on a terminal (seqloop/progress.h); NULL: silent */
  const struct sl_dist *dist; /* ranks sharing the sites (seqloop/dist.h); NULL: one process */
} sl_ar_opts;

void sl_ar_opts_init(sl_ar_opts *o);

typedef struct sl_ar_report {
  double neg_loglk;       /* sum over sites of the fitted weighted NLL (weights sum to 1), nats */
  double objective;       /* the same plus the penalties */
  int64_t evaluations;    /* summed over sites */
  int64_t iterations;     /* L-BFGS iterations, summed over sites */
  double seconds;
  int n_not_converged;    /* sites whose L-BFGS stopped for another reason than convergence */
} sl_ar_report;

/* sl_ar_fit(): fit an ar model to msa with weights w (any scale; normalised
 * internally). With o->dist each rank fits its share of the sites (dealt
 * cyclically in the site order) and receives the others' parameters: every
 * rank returns the one-process model (docs/scale.md). */
SL_MUSTCHECK int sl_ar_fit(const sl_msa *msa, const double *w, const sl_ar_opts *o,
                           sl_model **ret_m, sl_ar_report *rep, sl_error *err);

/* sl_ar_site_objective()
 * Purpose:  The regression objective of order position k and its gradient
 *           at x (q fields, then k blocks J_{order[k], order[l]}(a, b), a-major),
 *           with the weights w normalised to sum to 1, computed by the fit's
 *           own kernel (the prefix-trie walk in float, the objective summed
 *           in double; the best twin this CPU has). For tests.
 */
SL_MUSTCHECK int sl_ar_site_objective(const sl_msa *msa, const double *w, const int64_t *order,
                                      int64_t k, double lambda_h, double lambda_J,
                                      const double *x, double *ret_fx, double *g, sl_error *err);

/* sl_ar_site_objective_kernel(): the same with the fit kernel's twin chosen:
 * SL_KERN_AVX512 (SL_EUSAGE if this CPU lacks it), SL_KERN_AUTO (the best
 * this CPU has, what sl_ar_fit uses) or anything else for the plain twin.
 * Both give the same bits; for tests. g may be NULL. */
SL_MUSTCHECK int sl_ar_site_objective_kernel(const sl_msa *msa, const double *w, const int64_t *order,
                                             int64_t k, double lambda_h, double lambda_J, int kernel,
                                             const double *x, double *ret_fx, double *g, sl_error *err);

/* sl_ar_prepare(): build the sampling/likelihood layout into m->cache if it
 * is not there (sl_ar_fit and sl_model_read do it; sl_model_prepare rebuilds
 * it after the parameters were edited). The functions below never build it:
 * the model is read-only afterwards, safe to share between threads.
 * Returns SL_OK, SL_EUSAGE (not an ar model) or SL_ENOMEM. */
SL_MUSTCHECK int sl_ar_prepare(sl_model *m, sl_error *err);

/* sl_ar_set_kernel(): which twin computes logits and probabilities:
 * SL_KERN_AVX512 or anything else for the plain one (SL_KERN_AUTO: the best
 * this CPU has, the default). Both give the same bits; for tests. */
SL_MUSTCHECK int sl_ar_set_kernel(sl_model *m, int kernel, sl_error *err);

/* sl_ar_logp(): natural log P(s) of L alphabet codes (exact, normalised);
 * NAN if the model was not prepared. TRANSITIONAL (src/design): use the
 * status-returning sl_model_logp (model.h). */
double sl_ar_logp(const sl_model *m, const uint8_t *s);

/* sl_ar_logp_temp(): natural log of the probability that ancestral
 * sampling at temperature T (sl_ar_sample's T: every conditional's logits
 * / T, renormalised) draws s; T = 1 is sl_ar_logp. Exact in double (the
 * sampler's own exponentials are float, relative error below 3e-7). NAN for
 * T <= 0, another kind or an unprepared model. For densities of tempered
 * proposals (the design loop's --conformal weighted with cbas-ar). */
double sl_ar_logp_temp(const sl_model *m, const uint8_t *s, double T);

/* sl_ar_sample()
 * Purpose:  Draw one sequence by ancestral sampling at temperature T
 *           (logits / T). If fixed is not NULL, sites with fixed[i] != 0xFF
 *           are clamped to that state; this is exact conditioning only for
 *           sites that come before all free sites in the order (see
 *           docs/sampling.md).
 *           The model must be prepared (sl_ar_fit, sl_model_read,
 *           sl_model_prepare); otherwise nothing is drawn and *ret_logp is
 *           NAN. The status-returning form is sl_model_sample (model.h).
 * Args:     out      - L alphabet codes (RETURN)
 *           ret_logp - log P(out) under the model at T = 1 (may be NULL)
 */
void sl_ar_sample(const sl_model *m, sl_rng *rng, double T, const uint8_t *fixed, uint8_t *out,
                  double *ret_logp);

/* sl_ar_sample_batch()
 * Purpose:  B samples at once (out: B*L codes, ret_logp: B values or NULL);
 *           the same distribution as sl_ar_sample, several times faster
 *           because each position's couplings are read once per batch. The
 *           draws are consumed position-major, so the sequences differ from B
 *           calls of sl_ar_sample with the same generator.
 */
void sl_ar_sample_batch(const sl_model *m, sl_rng *rng, double T, const uint8_t *fixed, int64_t B,
                        uint8_t *out, double *ret_logp);

/* sl_ar_sample_many()
 * Purpose:  n samples in parallel, identical for any thread count: chunk c
 *           of 1024 samples draws from the generator seeded with `seed` and
 *           jumped c times (sl_rng_jump), with sl_ar_sample_batch.
 * Args:     out - n*L codes; ret_logp - n values (may be NULL)
 * Returns:  SL_OK, or SL_EINTERNAL for a model that was not prepared.
 *           The same draws as sl_sample_ancestral (sample.h) with no clamps
 *           check.
 */
SL_MUSTCHECK int sl_ar_sample_many(const sl_model *m, int64_t n, uint64_t seed, int threads, double T,
                                   const uint8_t *fixed, uint8_t *out, double *ret_logp,
                                   sl_error *err);

/* sl_ar_entropy()
 * Purpose:  Monte Carlo entropy S = -E[log2 P(x)] over n model samples, with
 *           the standard error; in bits. Deterministic for a seed.
 */
SL_MUSTCHECK int sl_ar_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads,
                               double *ret_bits, double *ret_se, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
