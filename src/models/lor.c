/* lor.c: the lor kind: weighted site-independent log-odds ratios, as RSALOR
 * (Tsishyn, Hermans, Pucci & Rooman; github.com/3BioCompBio/RSALOR, msa.py
 * update_regularization) and EvoStability's "LORw" compute them:
 *   counts   c_i(a) = sum_n w_n [x_ni = a] over 21 states (the gap is one)
 *   f_i(a)   = (1 - r) c_i(a) / Neff + r / 21            (r = 0.01)
 *   h_i(a)   = log(f_i(a) / (1 - f_i(a)))
 * and a mutant's score is h_i(mt) - h_i(wt) (higher = fitter). The weights
 * are the caller's; RSALOR uses plmc's convention at theta 0.2 (identity
 * over all columns, gap = gap counting as a match, neighbour at >= 80%).
 * A field-only model: energy, delta and conditionals are the pairwise ones
 * with no couplings (potts.c). Also sl_model_scale_columns (RSA factors),
 * shared with gemme.c. Cost: O(N L). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/zeroshot.h"

#include "kinds.h"

int sl_lor_fit(const sl_msa *msa, const double *w, double reg, sl_model **ret_m, sl_error *err) {
  *ret_m = NULL;
  if (!(reg > 0 && reg < 1))
    return sl_fail(err, SL_EUSAGE, "lor: the frequency regularisation must be in (0, 1), not %g", reg);
  if (msa->focus < 0)
    return sl_fail(err, SL_EUSAGE, "lor: the alignment needs a focus sequence (--focus or --focus-first)");
  sl_model *m = sl_model_create("lor", msa->L, msa->abc, 0);
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory");
  const int q = m->q;
  double neff = 0;
  for (int64_t n = 0; n < msa->N; n++) neff += w[n];
  double *c = sl_calloc((size_t)msa->L * (size_t)q, sizeof *c);
  if (!c) { sl_model_destroy(m); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int64_t n = 0; n < msa->N; n++) {
    const uint8_t *x = sl_msa_row(msa, n);
    for (int64_t i = 0; i < msa->L; i++) c[i * q + x[i]] += w[n];
  }
  for (int64_t i = 0; i < msa->L; i++)
    for (int a = 0; a < q; a++) {
      double f = (1 - reg) * (neff > 0 ? c[i * q + a] / neff : 0) + reg / q;
      m->h[i * q + a] = (float)log(f / (1 - f));
    }
  free(c);
  m->neff = neff;
  m->n_train = msa->N;
  int status = sl_model_focus_from_msa(m, msa, err);
  if (!status) status = sl_model_prepare(m, err);
  if (status) { sl_model_destroy(m); return status; }
  *ret_m = m;
  return SL_OK;
}

int sl_model_scale_columns(sl_model *m, const double *f, sl_error *err) {
  if (m->J)
    return sl_fail(err, SL_EUSAGE, "the %s model has couplings: only field-only models can be "
                   "scaled per column", sl_model_name(m));
  for (int64_t i = 0; i < m->L; i++) {
    if (!(f[i] >= 0)) return sl_fail(err, SL_EINPUT, "column %lld: factor %g (expected >= 0)",
                                     (long long)i + 1, f[i]);
    for (int a = 0; a < m->q; a++) m->h[i * m->q + a] = (float)(m->h[i * m->q + a] * f[i]);
  }
  return SL_OK;
}

const sl_model_ops sl_lor_ops = {
  .name = "lor",
  .caps = SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
  .summary = "weighted site-independent log-odds ratios (RSALOR's LOR)",
  .energy = sl_pairwise_energy,
  .delta = sl_pairwise_delta,
  .conditional = sl_pairwise_conditional,
};
