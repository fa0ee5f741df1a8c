/* model.c: the model container, energies, and log-probabilities.
 *
 * The energy loop visits each pair once (i < j) with the row pointer of J_ij
 * hoisted; models are evaluated per sequence, so this is O(L^2) per call,
 * which is what scoring needs (the fitting kernels live in potts_plm.c).
 */
#include "seqloop/model.h"

#include "seqloop/ar.h"
#include "seqloop/tfm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *sl_model_kind_name(int kind) {
  switch (kind) {
    case SL_MODEL_PROFILE: return "profile";
    case SL_MODEL_POTTS: return "potts";
    case SL_MODEL_AR: return "ar";
    case SL_MODEL_TFM: return "tfm";
    default: return "unknown";
  }
}

sl_model *sl_model_create(int kind, int64_t L, const sl_alphabet *abc, int gap_missing) {
  sl_model *m = calloc(1, sizeof *m);
  if (!m || L <= 0 || !abc) { free(m); return NULL; }
  m->kind = kind;
  m->L = L;
  m->abc = abc;
  m->gap_missing = gap_missing ? 1 : 0;
  m->q = abc->q - m->gap_missing;
  size_t q = (size_t)m->q;
  m->h = calloc((size_t)L * q, sizeof *m->h);
  m->focus = calloc((size_t)L, 1);
  m->pos = malloc((size_t)L * sizeof *m->pos);
  if (kind == SL_MODEL_POTTS || kind == SL_MODEL_AR)
    m->J = calloc((size_t)L * (size_t)L * q * q, sizeof *m->J);
  if (kind == SL_MODEL_AR) {
    m->order = malloc((size_t)L * sizeof *m->order);
    if (m->order)
      for (int64_t i = 0; i < L; i++) m->order[i] = i;
  }
  if (!m->h || !m->focus || !m->pos || ((kind == SL_MODEL_POTTS || kind == SL_MODEL_AR) && !m->J) ||
      (kind == SL_MODEL_AR && !m->order)) {
    sl_model_destroy(m);
    return NULL;
  }
  for (int64_t i = 0; i < L; i++) m->pos[i] = i + 1;
  return m;
}

void sl_model_destroy(sl_model *m) {
  if (!m) return;
  free(m->h);
  free(m->J);
  free(m->focus_name);
  free(m->focus);
  free(m->pos);
  free(m->meta);
  free(m->order);
  free(m->cache);
  sl_tfm_destroy(m->tfm);
  free(m);
}

double sl_model_energy(const sl_model *m, const uint8_t *s) {
  if (m->kind == SL_MODEL_AR) return sl_ar_logp((sl_model *)m, s); /* fills the cache once */
  if (m->kind == SL_MODEL_TFM) return sl_model_logp_tfm(m, s);
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
  return e;
}

double sl_model_logp_profile(const sl_model *m, const uint8_t *s) {
  double lp = 0.0;
  for (int64_t i = 0; i < m->L; i++) {
    int a = sl_model_state(m, s[i]);
    if (a < 0) continue;
    const float *h = m->h + i * m->q;
    double mx = h[0], z = 0.0;
    for (int b = 1; b < m->q; b++) mx = h[b] > mx ? h[b] : mx;
    for (int b = 0; b < m->q; b++) z += exp(h[b] - mx);
    lp += h[a] - mx - log(z);
  }
  return lp;
}

double sl_model_logp_tfm(const sl_model *m, const uint8_t *s) {
  if (!m->tfm) return NAN;
  int *tok = malloc((size_t)m->L * sizeof *tok);
  if (!tok) return NAN;
  int n = 0;
  for (int64_t i = 0; i < m->L; i++) {
    int a = sl_model_state(m, s[i]); /* protein, gaps missing: state = token */
    if (a >= 0) tok[n++] = a;
  }
  double lp = NAN;
  sl_error err;
  if (sl_tfm_logp(m->tfm, tok, n, &lp, &err)) lp = NAN;
  free(tok);
  return lp;
}
