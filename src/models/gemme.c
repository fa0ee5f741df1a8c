/* gemme.c: the gemme kind: an evolutionary-distance model in the spirit of
 * GEMME (Laine, Karami & Carbone, Mol Biol Evol 36:2604, 2019). Every formula
 * is in docs/scoring.md; in short, over 21 states with weights w_n:
 *   f_i(a)  weighted frequencies, (1 - r) c_i(a) / Neff + r / 21, r = 0.01
 *   cons_i  conservation: (1 - H_i / log 20) (1 - gap_i), H_i the entropy of
 *           the 20 residue frequencies, gap_i the gap frequency. GEMME takes
 *           conservation levels from JET's phylogenetic trace (tree-based);
 *           this entropy is our documented substitute.
 *   D_n     conservation-weighted distance of row n to the focus:
 *           sum_j cons_j [x_nj != focus_j] (a gap differs)
 *   epi     -cons_i min{ D_n - cons_i [a != focus_i] : x_ni = a } / sum_j cons_j
 *           for residues a seen at i: how far the focus must travel, outside
 *           i, to meet a sequence that accepts a there; unseen: -cons_i
 *   ind     cons_i (log f_i(a)/f_i(wt) + log g_i(C(a))/g_i(C(wt))) / 2,
 *           g the frequencies of 8 residue classes (AVLIMC FWY ST NQ DE KRH
 *           G P), regularised as f
 *   score   alpha epi / max|epi| + (1 - alpha) ind / max|ind| (GEMME's
 *           combination: alpha = 0.6 epistatic, 0.4 independent)
 * The fields h_i(a) are those single-mutant scores (h_i(wt) = 0; the gap
 * state gets the lowest score of the matrix), so a multi-mutant scores as
 * the sum, as GEMME does. Cost: O(N L) after the weights. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/zeroshot.h"

#include "kinds.h"

/* Residue class of each protein state ("-ACDEFGHIKLMNPQRSTVWY"), -1 for the gap. */
static const char *const classes[] = {"AVLIMC", "FWY", "ST", "NQ", "DE", "KRH", "G", "P"};
enum { NCLASS = 8 };

int sl_gemme_fit(const sl_msa *msa, const double *w, double alpha, sl_model **ret_m,
                 sl_error *err) {
  *ret_m = NULL;
  if (!(alpha >= 0 && alpha <= 1))
    return sl_fail(err, SL_EUSAGE, "gemme: alpha must be in [0, 1], not %g", alpha);
  if (msa->focus < 0)
    return sl_fail(err, SL_EUSAGE, "gemme: the alignment needs a focus sequence (--focus or --focus-first)");
  if (msa->abc->type != SL_ABC_PROTEIN)
    return sl_fail(err, SL_EUSAGE, "gemme: residue classes are defined for proteins only");
  const int64_t L = msa->L, N = msa->N;
  const int q = msa->abc->q;
  const double r = 0.01;
  int cls[32];
  for (int a = 0; a < q; a++) {
    cls[a] = -1;
    for (int k = 0; k < NCLASS; k++)
      if (a > 0 && strchr(classes[k], msa->abc->symbols[a])) cls[a] = k;
  }
  sl_model *m = sl_model_create("gemme", L, msa->abc, 0);
  double *f = sl_calloc((size_t)L * (size_t)q, sizeof *f);
  double *g = sl_calloc((size_t)L * NCLASS, sizeof *g);
  double *cons = sl_calloc((size_t)L, sizeof *cons);
  double *D = sl_calloc((size_t)N, sizeof *D);
  double *mind = sl_malloc((size_t)L * (size_t)q, sizeof *mind);
  double *epi = sl_calloc((size_t)L * (size_t)q, sizeof *epi);
  double *ind = sl_calloc((size_t)L * (size_t)q, sizeof *ind);
  int status = SL_OK;
  if (!m || !f || !g || !cons || !D || !mind || !epi || !ind) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto done;
  }
  const uint8_t *fx = sl_msa_row(msa, msa->focus);
  double neff = 0;
  for (int64_t n = 0; n < N; n++) neff += w[n];
  for (int64_t n = 0; n < N; n++) {
    const uint8_t *x = sl_msa_row(msa, n);
    for (int64_t i = 0; i < L; i++) f[i * q + x[i]] += w[n];
  }
  for (int64_t i = 0; i < L; i++) {
    double *fi = f + i * q, *gi = g + i * NCLASS, res = 0, H = 0;
    for (int a = 1; a < q; a++) res += fi[a];
    for (int a = 1; a < q && res > 0; a++)
      if (fi[a] > 0) H -= fi[a] / res * log(fi[a] / res);
    double gap = neff > 0 ? fi[0] / neff : 1;
    cons[i] = res > 0 ? (1 - H / log(q - 1)) * (1 - gap) : 0;
    if (cons[i] < 0) cons[i] = 0;
    for (int a = 1; a < q; a++) gi[cls[a]] += fi[a];
    for (int k = 0; k < NCLASS; k++) gi[k] = (1 - r) * (neff > 0 ? gi[k] / neff : 0) + r / NCLASS;
    for (int a = 0; a < q; a++) fi[a] = (1 - r) * (neff > 0 ? fi[a] / neff : 0) + r / q;
  }
  double Dmax = 0;
  for (int64_t i = 0; i < L; i++) Dmax += cons[i];
  for (int64_t n = 0; n < N; n++) {
    const uint8_t *x = sl_msa_row(msa, n);
    double d = 0;
    for (int64_t i = 0; i < L; i++) d += x[i] != fx[i] ? cons[i] : 0;
    D[n] = d;
  }
  for (size_t k = 0; k < (size_t)L * (size_t)q; k++) mind[k] = DBL_MAX;
  for (int64_t n = 0; n < N; n++) {
    const uint8_t *x = sl_msa_row(msa, n);
    for (int64_t i = 0; i < L; i++) {
      double d = D[n] - (x[i] != fx[i] ? cons[i] : 0);
      if (d < mind[i * q + x[i]]) mind[i * q + x[i]] = d;
    }
  }
  double emax = 0, imax = 0;
  for (int64_t i = 0; i < L; i++) {
    const int wt = fx[i];
    for (int a = 1; a < q; a++) {
      double md = mind[i * q + a];
      double e = a == wt ? 0 : -cons[i] * (md < DBL_MAX && Dmax > 0 ? md / Dmax : 1.0);
      double t = a == wt ? 0 : cons[i] * 0.5 *
                 (log(f[i * q + a] / f[i * q + wt]) +
                  log(g[i * NCLASS + cls[a]] / g[i * NCLASS + cls[wt]]));
      epi[i * q + a] = e;
      ind[i * q + a] = t;
      if (fabs(e) > emax) emax = fabs(e);
      if (fabs(t) > imax) imax = fabs(t);
    }
  }
  double lo = 0;
  for (int64_t i = 0; i < L; i++)
    for (int a = 1; a < q; a++) {
      double s = alpha * (emax > 0 ? epi[i * q + a] / emax : 0) +
                 (1 - alpha) * (imax > 0 ? ind[i * q + a] / imax : 0);
      m->h[i * q + a] = (float)s;
      if (s < lo) lo = s;
    }
  for (int64_t i = 0; i < L; i++) m->h[i * q] = (float)lo;
  m->neff = neff;
  m->n_train = N;
  status = sl_model_focus_from_msa(m, msa, err);
  if (!status) status = sl_model_prepare(m, err);
done:
  free(f); free(g); free(cons); free(D); free(mind); free(epi); free(ind);
  if (status) { sl_model_destroy(m); return status; }
  *ret_m = m;
  return SL_OK;
}

const sl_model_ops sl_gemme_ops = {
  .name = "gemme",
  .caps = SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
  .summary = "evolutionary-distance model in the spirit of GEMME (single-mutant fields)",
  .energy = sl_pairwise_energy,
  .delta = sl_pairwise_delta,
  .conditional = sl_pairwise_conditional,
};
