/* seqloop/gibbs.h: Gibbs sampling over site conditionals (kinds with
 * SL_CAP_CONDITIONALS: potts, profile; sample.h has the other samplers).
 *
 * Each chain starts from a uniformly random sequence and updates the sites
 * in order, one full sweep at a time, drawing s_i from its exact conditional
 * softmax((h_i + sum_{j != i} J_ij(., s_j)) / T). Clamped sites are never
 * updated, so the chain samples the exact conditional distribution given
 * them (this is how --fix and --infill condition a Potts model). After
 * `burnin` sweeps, one sample is kept every `thin` sweeps. Chains run on
 * separate generator streams (jumps of one seed), in parallel, so results do
 * not depend on the thread count. Mixing is summarised by the Gelman-Rubin
 * R-hat of the energy across chains (values near 1 mean the chains agree).
 * For gap_missing models every site is sampled among the residues.
 */
#ifndef SEQLOOP_GIBBS_H
#define SEQLOOP_GIBBS_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_gibbs_opts {
  int64_t burnin;        /* sweeps discarded at the start of each chain (default 200) */
  int64_t thin;          /* sweeps between kept samples (default 10) */
  int chains;            /* independent chains (default 4) */
  double T;              /* temperature (default 1) */
  uint64_t seed;
  const uint8_t *fixed;  /* L alphabet codes to clamp, 0xFF = free; or NULL */
  int threads;
  struct sl_progress *progress; /* sweeps done, on a terminal (seqloop/progress.h); NULL: silent */
} sl_gibbs_opts;

void sl_gibbs_opts_init(sl_gibbs_opts *o);

/* sl_gibbs_sample()
 * Purpose:  n samples (out: n*L alphabet codes; energy: n values of H, may be
 *           NULL), chain c producing samples c, c + chains, ... Returns the
 *           R-hat of the energy in *ret_rhat (NaN with one chain or fewer
 *           than 2 samples per chain).
 * Returns:  SL_OK; SL_EUSAGE for a kind without site conditionals (ar and
 *           tfm are sampled by sample.h's samplers) or bad settings;
 *           SL_ENOMEM.
 */
SL_MUSTCHECK int sl_gibbs_sample(const sl_model *m, const sl_gibbs_opts *o, int64_t n, uint8_t *out,
                                 double *energy, double *ret_rhat, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
