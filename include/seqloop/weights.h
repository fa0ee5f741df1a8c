/* seqloop/weights.h: sequence weights (inverse neighbourhood size) and Neff.
 *
 * w_n = 1 / (1 + number of other rows m that are neighbours of n), Neff = sum w_n.
 * Two conventions, because the peers differ (docs/weights.md):
 *   SL_WEIGHTS_PLMC  plmc (src/weights.c): identity = equal states over all L
 *                    columns, gap-gap counting as equal; neighbour when
 *                    identity >= (1 - theta) * L (double arithmetic).
 *   SL_WEIGHTS_EVE   EVE / DeepSequence / ProteinGym (proteingym/utils/weights.py):
 *                    gaps never match; identity = matches / (non-gap length of n),
 *                    asymmetric; neighbour when strictly > 1 - theta; an all-gap
 *                    row gets weight 0 and is nobody's neighbour.
 * theta = 0.2 means 80% identity. theta outside [0, 1] gives every row weight 1
 * (plmc's convention for "no reweighting").
 */
#ifndef SEQLOOP_WEIGHTS_H
#define SEQLOOP_WEIGHTS_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/dist.h"
#include "seqloop/kern.h"
#include "seqloop/msa.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_WEIGHTS_PLMC = 0, SL_WEIGHTS_EVE = 1 };

typedef struct sl_weights_opts {
  int convention;  /* SL_WEIGHTS_PLMC (default) or SL_WEIGHTS_EVE */
  double theta;    /* 0.2 */
  int threads;     /* >= 1 */
  int kernel;      /* SL_KERN_AUTO */
  struct sl_progress *progress; /* row pairs compared, on a terminal (seqloop/progress.h); NULL: silent */
  const struct sl_dist *dist; /* ranks sharing the pairs (seqloop/dist.h); NULL: one process */
} sl_weights_opts;

void sl_weights_opts_init(sl_weights_opts *o);
int sl_weights_convention_parse(const char *s); /* "plmc", "eve" (or "proteingym") -> enum; -1 */
const char *sl_weights_convention_name(int c);

/* sl_weights_compute()
 * Purpose:  Compute the weight of every row of msa.
 * Args:     ret_w    - caller-allocated array of msa->N doubles (RETURN)
 *           ret_neff - RETURN: sum of the weights (may be NULL)
 * Returns:  SL_OK, SL_EUSAGE (bad kernel on this CPU), SL_ENOMEM.
 * Cost:     N^2/2 row comparisons of ceil(L/64) SIMD steps each; threads
 *           split rows; the result does not depend on the thread count.
 *           With o->dist, each rank compares its share of the pairs and
 *           the integer neighbour counts are summed across ranks (exact):
 *           every rank gets the one-process weights; SL_EIO if the
 *           collective fails.
 */
SL_MUSTCHECK int sl_weights_compute(const sl_msa *msa, const sl_weights_opts *o, double *ret_w,
                                    double *ret_neff, sl_error *err);

/* Weights files. One line per INPUT record (rows dropped by preprocessing
 * get weight 0), so a file stays valid for any preprocessing of the same
 * input. Text: '#' provenance lines, then "weight<TAB>name"; plmc format:
 * bare numbers, one per line, as plmc --save-weights writes and -w reads. */
SL_MUSTCHECK int sl_weights_write(const char *path, const sl_msa *msa, const double *w,
                                  int plmc_format, const char *provenance, sl_error *err);
/* sl_weights_read(): read either format back into w (msa->N). Checks the
 * number of lines against the input records and the names when present. */
SL_MUSTCHECK int sl_weights_read(const char *path, const sl_msa *msa, double *ret_w,
                                 double *ret_neff, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
