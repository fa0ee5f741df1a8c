/* seqloop/info.h: information accounting between models and data.
 *
 *   sl_info_kl()   KL(P || Q) of two ar models by Monte Carlo: samples of P,
 *                  mean of log2 P(x) - log2 Q(x), with its standard error.
 *   sl_cycle_run() the perpetual-motion test (docs/information.md): fit an ar
 *                  model on real training sequences (generation 0); then for
 *                  k generations draw samples from the current model and
 *                  refit on them. Three arms share generation 0:
 *                    SELF    refit on the samples alone (same objective and
 *                            weighting, no filter): no information enters;
 *                    FILTER  keep only samples an oracle accepts (drawing
 *                            until n are kept); at most log2(1/p) bits enter
 *                            per kept sample, p the acceptance rate. Two
 *                            filters: THRESHOLD keeps samples the oracle
 *                            scores at least as high as the given quantile of
 *                            the real training sequences' scores (a
 *                            selection, mode-seeking); RATIO keeps x with
 *                            probability min(1, O(x) / (c M(x))), rejection
 *                            sampling from the current model M toward the
 *                            oracle's distribution O (normalised oracles
 *                            only; c the 99th percentile of O/M over the
 *                            first draw of each generation);
 *                    MIX     refit on the samples plus the real training
 *                            sequences (weighted so that real rows carry
 *                            mix_frac of the total weight).
 *                  Each generation is measured on real held-out sequences
 *                  (mean and 5% quantile of log P: the tail), by its entropy
 *                  (Monte Carlo), by its samples' two-point correlation with
 *                  the real training data, and by support: the fraction of
 *                  (site, state) pairs seen in the real training set that its
 *                  samples still produce.
 */
#ifndef SEQLOOP_INFO_H
#define SEQLOOP_INFO_H

#include <stdint.h>

#include "seqloop/ar.h"
#include "seqloop/model.h"
#include "seqloop/msa.h"
#include "seqloop/weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sl_info_kl()
 * Purpose:  KL(P || Q) in bits, Monte Carlo over n samples of P (seeded).
 *           Both ar (or P ar and Q any model whose sl_model_energy is a
 *           normalised log-probability: ar, profile via logp).
 * Returns:  SL_OK; SL_EUSAGE if P is not ar or the shapes differ.
 */
SL_MUSTCHECK int sl_info_kl(sl_model *P, sl_model *Q, int64_t n, uint64_t seed, int threads,
                            double *ret_bits, double *ret_se, sl_error *err);

/* sl_info_logp(): exact normalised log P (nats) of a sequence under an ar or
 * profile model (NAN for a Potts model, whose normaliser is unknown). */
double sl_info_logp(const sl_model *m, const uint8_t *s);

enum { SL_FILTER_THRESHOLD = 0, SL_FILTER_RATIO = 1 };
enum { SL_CYCLE_SELF = 0, SL_CYCLE_FILTER = 1, SL_CYCLE_MIX = 2, SL_CYCLE_NARMS = 3 };
const char *sl_cycle_arm_name(int arm);

typedef struct sl_cycle_opts {
  int generations;        /* after generation 0 (default 5) */
  int64_t n_samples;      /* sequences per refit (default 0: rows of the training set) */
  double filter_quantile; /* FILTER threshold: quantile of real training scores (0.5) */
  int filter_mode;        /* SL_FILTER_THRESHOLD (default) or SL_FILTER_RATIO */
  double mix_frac;        /* MIX: weight share of the real rows (0.5) */
  int arms;               /* bit mask of (1 << SL_CYCLE_*) (default all) */
  int64_t n_entropy;      /* samples per entropy estimate (5000) */
  int64_t n_stats;        /* samples for correlations and support (default n_samples) */
  uint64_t seed;          /* default 1 */
  int threads;
  sl_ar_opts ar;          /* the fit, the same in every generation */
  sl_weights_opts w;      /* weighting of every fitted set (as for the real data) */
} sl_cycle_opts;
void sl_cycle_opts_init(sl_cycle_opts *o);

typedef struct sl_cycle_row {
  int arm, generation;
  int64_t n_fit;          /* rows the model of this generation was fitted on */
  int64_t n_real;         /* of which real */
  double accept;          /* FILTER: acceptance rate of this generation's draw (else 1) */
  double bits_per_kept;   /* log2(1/accept) */
  double bits_total;      /* bits_per_kept * kept, summed over generations so far */
  double heldout_logp;    /* mean log P of held-out real sequences, nats */
  double heldout_bits_per_site;  /* -heldout_logp / (L ln 2) */
  double heldout_q05;     /* 5% quantile of held-out log P (the lower tail) */
  double entropy_bits, entropy_se;
  double r_two, r_one;    /* samples vs real training data */
  double support;         /* fraction of real (site, state) pairs present in samples */
  double seconds;
} sl_cycle_row;

/* sl_cycle_run()
 * Purpose:  The perpetual-motion test above.
 * Args:     train, w_train - real training alignment and its weights
 *           test    - real held-out alignment (same columns)
 *           oracle  - FILTER's scorer (any model with sl_info_logp or, for
 *                     Potts, energy); NULL: the generation-0 model
 *           on_row  - called after each row (progress, streaming output); may be NULL
 *           ret_rows, ret_n - all rows (caller frees)
 */
SL_MUSTCHECK int sl_cycle_run(const sl_msa *train, const double *w_train, const sl_msa *test,
                              sl_model *oracle, const sl_cycle_opts *o,
                              void (*on_row)(const sl_cycle_row *row, void *ctx), void *ctx,
                              sl_cycle_row **ret_rows, int *ret_n, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
