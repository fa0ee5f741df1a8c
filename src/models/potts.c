/* potts.c: the Potts (pairwise) model kind, and the energy, mutant delta and
 * site conditionals it shares with the site-independent profile (J NULL).
 *
 *   H(s) = sum_i h_i(s_i) + sum_{i<j} J_ij(s_i, s_j)
 *
 * The energy loop visits each pair once (i < j) with the row pointer of J_ij
 * hoisted: O(L^2) per sequence, which is what scoring needs (the fitting
 * kernels live in potts_plm.c). A mutant delta touches only the terms of the
 * mutated columns: O(n L). A site conditional gathers J_ij(., s_j) over the
 * other sites: O(L q). The normaliser is unknown, so the kind has no logp,
 * no exact sampler and no entropy: it is sampled by Gibbs (src/sample).
 */
#include <stdlib.h>
#include <string.h>

#include "seqloop/model.h"
#include "seqloop/msa.h"

#include "kinds.h"
#include "modelfile.h"

int sl_model_focus_from_msa(sl_model *m, const sl_msa *msa, sl_error *err) {
  memcpy(m->focus, sl_msa_row(msa, msa->focus), (size_t)msa->L);
  for (int64_t i = 0; i < msa->L; i++) m->pos[i] = msa->pos[i] > 0 ? msa->pos[i] : i + 1;
  if (!(m->focus_name = sl_strdup(msa->name[msa->focus])))
    return sl_fail(err, SL_ENOMEM, "out of memory");
  return SL_OK;
}

int sl_pairwise_energy(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err) {
  (void)ws; (void)err;
  const int64_t L = m->L;
  const int q = m->q;
  double e = 0.0;
  for (int64_t i = 0; i < L; i++) {
    int a = sl_model_state(m, s[i]);
    if (a < 0) continue;
    e += m->h[i * q + a];
    if (!m->J) continue;
    const float *Ji = sl_model_J(m, i, 0) + (size_t)a * (size_t)q;
    for (int64_t j = i + 1; j < L; j++) {
      int b = sl_model_state(m, s[j]);
      if (b >= 0) e += Ji[(size_t)j * (size_t)q * (size_t)q + (size_t)b];
    }
  }
  *ret = e;
  return SL_OK;
}

/* Terms of H touching the mutated columns, for sequence s with the columns
 * in cols set to the states in `st` (wild type or mutant). */
static double touching(const sl_model *m, const uint8_t *s, const int64_t *cols, int n,
                       const uint8_t *st, const uint8_t *inM) {
  const int64_t L = m->L;
  const int q = m->q;
  double t = 0.0;
  for (int k = 0; k < n; k++) {
    int a = sl_model_state(m, st[k]);
    if (a < 0) continue;
    int64_t i = cols[k];
    t += m->h[i * q + a];
    if (!m->J) continue;
    const float *Ji = sl_model_J(m, i, 0) + (size_t)a * (size_t)q;
    for (int64_t j = 0; j < L; j++) {
      if (inM[j]) continue;
      int b = sl_model_state(m, s[j]);
      if (b >= 0) t += Ji[(size_t)j * (size_t)q * (size_t)q + (size_t)b];
    }
    for (int l = k + 1; l < n; l++) {
      int b = sl_model_state(m, st[l]);
      if (b >= 0) t += sl_model_J(m, i, cols[l])[a * q + b];
    }
  }
  return t;
}

int sl_pairwise_delta(const sl_model *m, void *ws, const uint8_t *s, const int64_t *cols,
                      const uint8_t *mt, int n, double *ret, sl_error *err) {
  (void)ws;
  uint8_t *wt = malloc((size_t)n + 1);
  uint8_t *inM = calloc((size_t)m->L, 1);
  if (!wt || !inM) { free(wt); free(inM); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int k = 0; k < n; k++) {
    wt[k] = s[cols[k]];
    inM[cols[k]] = 1;
  }
  *ret = touching(m, s, cols, n, mt, inM) - touching(m, s, cols, n, wt, inM);
  free(wt);
  free(inM);
  return SL_OK;
}

void sl_pairwise_conditional(const sl_model *m, const uint8_t *s, int64_t i, double *lg) {
  const int64_t L = m->L;
  const int q = m->q;
  for (int a = 0; a < q; a++) lg[a] = m->h[i * q + a];
  if (!m->J) return;
  for (int64_t j = 0; j < L; j++) {
    if (j == i) continue;
    int b = sl_model_state(m, s[j]);
    if (b < 0) continue;
    /* J_ji(b, .) = J_ij(., b) is one contiguous row of the symmetric store. */
    const float *row = sl_model_J(m, j, i) + (size_t)b * (size_t)q;
    for (int a = 0; a < q; a++) lg[a] += row[a];
  }
}

static int potts_create(sl_model *m, sl_error *err) {
  size_t q = (size_t)m->q;
  m->J = calloc((size_t)m->L * (size_t)m->L * q * q, sizeof *m->J);
  return m->J ? SL_OK : sl_fail(err, SL_ENOMEM, "out of memory");
}

/* The file's J: one q x q block per pair i < j, lexicographic. */
static int potts_read(sl_model *m, const sl_model_file *f, sl_error *err) {
  const int64_t L = m->L;
  const int q = m->q;
  size_t nb = (size_t)(L * (L - 1) / 2) * (size_t)(q * q) * 4;
  const uint8_t *tj = sl_mf_tensor(f, "J", nb, err);
  if (!tj) return SL_EINPUT;
  int status = sl_mf_check_floats(f, tj, nb / 4, "J", err);
  if (status) return status;
  sl_mf_unpack_pairs(m, tj);
  return SL_OK;
}

const sl_model_ops sl_potts_ops = {
  .name = "potts",
  .caps = SL_CAP_COUPLINGS | SL_CAP_CONDITIONALS | SL_CAP_ALIGNED,
  .summary = "pairwise Potts model (plmc pseudo-likelihood): fields and couplings",
  .create = potts_create,
  .read = potts_read,
  .energy = sl_pairwise_energy,
  .delta = sl_pairwise_delta,
  .conditional = sl_pairwise_conditional,
};
