/* seqloop/sample.h: sampling through the model interface (src/sample/).
 *
 *   sl_sample_ancestral  exact i.i.d. draws from kinds with
 *                        SL_CAP_EXACT_SAMPLE (ar, tfm), reproducible for a
 *                        seed at any thread count
 *   sl_gibbs_sample      Gibbs chains over site conditionals (gibbs.h;
 *                        kinds with SL_CAP_CONDITIONALS: potts, profile)
 *   sl_gibbs_likelihood  one Gibbs chain under a normalised likelihood, for
 *                        clamped sampling of kinds whose ancestral sampler
 *                        cannot clamp (tfm)
 * docs/sampling.md says which sampler is exact when.
 */
#ifndef SEQLOOP_SAMPLE_H
#define SEQLOOP_SAMPLE_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/gibbs.h"
#include "seqloop/model.h"
#include "seqloop/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sl_progress; /* seqloop/progress.h: progress on a terminal, or NULL */

/* sl_sample_ancestral()
 * Purpose:  n exact draws. Row k of out holds sl_model_row_len(m) codes
 *           (aligned kinds: the L columns; ungapped kinds: the residues,
 *           then gaps); ret_len[k] its residues (may be NULL), ret_logp[k]
 *           log P at T = 1 (may be NULL). Draws use the kind's generator
 *           streams (sl_model_ops.sample_chunk), so the samples are the same
 *           for any thread count.
 * Args:     o   - temperature, top-p, prefix, clamps (sl_draw_opts_init)
 *           pr  - progress (samples drawn), or NULL
 * Returns:  SL_OK; SL_EUSAGE (no exact sampler, a clamp the kind cannot
 *           honour exactly, a bad option), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_sample_ancestral(const sl_model *m, const sl_draw_opts *o, int64_t n, uint64_t seed,
                                     int threads, struct sl_progress *pr, uint8_t *out, int64_t *ret_len,
                                     double *ret_logp, sl_error *err);

/* sl_sample_ancestral_range()
 * Purpose:  Draws lo..hi-1 (0-based) of the n draws sl_sample_ancestral
 *           would make with the same arguments, identical to those rows of
 *           its output: row k - lo of out holds draw k (likewise ret_len,
 *           ret_logp). For a shard of a run (seqloop/shard.h). Only the
 *           chunks that hold the range are drawn (sample_chunk = 0: chunks
 *           of one draw), so the cost is that of hi - lo draws plus at most
 *           two partial chunks.
 * Returns:  as sl_sample_ancestral; SL_EUSAGE if not 0 <= lo <= hi <= n.
 */
SL_MUSTCHECK int sl_sample_ancestral_range(const sl_model *m, const sl_draw_opts *o, int64_t n, int64_t lo,
                                           int64_t hi, uint64_t seed, int threads, struct sl_progress *pr,
                                           uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err);

/* sl_gibbs_likelihood()
 * Purpose:  `sweeps` sweeps of one Gibbs chain under m's normalised
 *           likelihood: each sweep visits the sites with is_free[i] != 0 in
 *           order and redraws x_i from P(x with a at i)^(1/T), normalised
 *           over the q states. The length is fixed.
 * Args:     ws       - the calling thread's workspace (NULL: a temporary one)
 *           x        - L alphabet codes, the chain's state (updated)
 *           ret_logp - RETURN: log P(x) at T = 1 afterwards (may be NULL)
 * Returns:  SL_OK; SL_EUSAGE (T <= 0, kind not normalised); SL_EINPUT (x
 *           does not fit the model); SL_ENOMEM.
 */
SL_MUSTCHECK int sl_gibbs_likelihood(const sl_model *m, sl_model_ws *ws, sl_rng *rng, double T, uint8_t *x,
                                     const uint8_t *is_free, int64_t sweeps, double *ret_logp,
                                     sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
