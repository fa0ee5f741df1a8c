/* profile.c: the site-independent model, fitted column by column as
 * EVcouplings and ProteinGym's "Site-Independent" baseline do: L2-regularised
 * maximum likelihood of a softmax per column.
 *
 * Per column, with weighted counts c_a and C = sum_a c_a:
 *   f(h) = - sum_a c_a (h_a - logsumexp(h)) + lambda sum_a h_a^2
 *   grad = C p - c + 2 lambda h,  Hessian = C (diag(p) - p p^T) + 2 lambda I
 * The problem is strictly convex for lambda > 0; Newton's method with a
 * backtracking line search converges in a handful of steps. The q x q system
 * is solved by Cholesky (it is positive definite). With lambda = 0 and a
 * state never seen, the optimum is at -infinity; the regulariser is what
 * keeps it finite, so lambda must be > 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/potts.h"
#include "seqloop/zeroshot.h"

#include "seqloop/base.h"
#include "kinds.h"

static double col_obj(const double *c, const double *h, int q, double lam, double *p) {
  double mx = h[0], z = 0.0, C = 0.0, f = 0.0;
  for (int a = 1; a < q; a++) mx = h[a] > mx ? h[a] : mx;
  for (int a = 0; a < q; a++) z += exp(h[a] - mx);
  double lse = mx + log(z);
  for (int a = 0; a < q; a++) {
    if (p) p[a] = exp(h[a] - lse);
    f -= c[a] * (h[a] - lse);
    f += lam * h[a] * h[a];
    C += c[a];
  }
  (void)C;
  return f;
}

/* evc_scale: EVcouplings' to_independent_model objective, Neff (f_i . h -
 * logZ) + lambda |h|^2 with f_i the frequencies among the column's
 * non-missing rows and Neff the whole alignment's: the same optimum as the
 * count objective with lambda scaled by C_i / Neff (C_i the column's
 * non-missing weight). Without gaps as missing data C_i = Neff and nothing
 * changes. An empty column keeps h = 0 (EVcouplings: flat f_i, optimum 0). */
static int profile_fit(const sl_msa *msa, const double *w, double lambda_h, int gap_missing,
                       int evc_scale, sl_model **ret_m, sl_error *err) {
  *ret_m = NULL;
  if (!(lambda_h > 0))
    return sl_fail(err, SL_EUSAGE, "the profile model needs lambda_h > 0 (got %g)", lambda_h);
  sl_model *m = sl_model_create("profile", msa->L, msa->abc, gap_missing);
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory");
  const int q = m->q;
  double c[32], h[32], p[32], g[32], d[32], hn[32], A[32 * 32];
  double neff = 0.0;
  for (int64_t n = 0; n < msa->N; n++) neff += w[n];
  for (int64_t i = 0; i < msa->L; i++) {
    memset(c, 0, sizeof c);
    for (int64_t n = 0; n < msa->N; n++) {
      int s = sl_msa_row(msa, n)[i] - (gap_missing ? 1 : 0);
      if (s >= 0) c[s] += w[n];
    }
    double C = 0.0;
    for (int a = 0; a < q; a++) { C += c[a]; h[a] = 0.0; }
    const double lam = evc_scale ? (neff > 0 ? lambda_h * C / neff : 0.0) : lambda_h;
    if (!(lam > 0)) { /* evc_scale and an empty column */
      for (int a = 0; a < q; a++) m->h[i * q + a] = 0.0f;
      continue;
    }
    double f = col_obj(c, h, q, lam, p);
    for (int it = 0; it < 100; it++) {
      double gn = 0.0;
      for (int a = 0; a < q; a++) {
        g[a] = C * p[a] - c[a] + 2.0 * lam * h[a];
        gn += g[a] * g[a];
      }
      if (sqrt(gn) < 1e-10 * (1.0 + C)) break;
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++)
          A[a * q + b] = C * ((a == b ? p[a] : 0.0) - p[a] * p[b]) + (a == b ? 2.0 * lam : 0.0);
      for (int a = 0; a < q; a++) d[a] = -g[a];
      if (sl_cholesky_solve(A, d, q)) break;
      double t = 1.0, fn = f;
      for (int ls = 0; ls < 50; ls++, t *= 0.5) {
        for (int a = 0; a < q; a++) hn[a] = h[a] + t * d[a];
        fn = col_obj(c, hn, q, lam, NULL);
        if (fn <= f) break;
      }
      if (!(fn <= f)) break;
      memcpy(h, hn, (size_t)q * sizeof *h);
      f = col_obj(c, h, q, lam, p);
    }
    for (int a = 0; a < q; a++) m->h[i * q + a] = (float)h[a];
  }
  m->neff = neff;
  m->n_train = msa->N;
  int status = sl_model_prepare(m, err); /* derived layouts, once (none for a profile today) */
  if (status) { sl_model_destroy(m); return status; }
  *ret_m = m;
  return SL_OK;
}

int sl_profile_fit(const sl_msa *msa, const double *w, double lambda_h, int gap_missing,
                   sl_model **ret_m, sl_error *err) {
  return profile_fit(msa, w, lambda_h, gap_missing, 0, ret_m, err);
}

int sl_profile_fit_evc(const sl_msa *msa, const double *w, double lambda_h, int gap_missing,
                       sl_model **ret_m, sl_error *err) {
  return profile_fit(msa, w, lambda_h, gap_missing, 1, ret_m, err);
}

/* The profile kind ------------------------------------------------------------
 * log P(s) = sum over non-missing sites of log softmax(h_i)(s_i); its energy
 * (the unnormalised sum of fields), mutant delta and conditionals are the
 * pairwise ones with no couplings (potts.c). */

static int profile_logp(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err) {
  (void)ws; (void)err;
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
  *ret = lp;
  return SL_OK;
}

/* Exact entropy: the sum over sites of each softmax's entropy, in bits
 * (gap_missing: over the residues only). */
static int profile_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads, sl_entropy *ret,
                           sl_error *err) {
  (void)n; (void)seed; (void)threads; (void)err;
  double S = 0.0;
  for (int64_t i = 0; i < m->L; i++) {
    const float *h = m->h + i * m->q;
    double mx = h[0], z = 0.0, e = 0.0;
    for (int b = 1; b < m->q; b++) mx = h[b] > mx ? h[b] : mx;
    for (int b = 0; b < m->q; b++) z += exp(h[b] - mx);
    for (int b = 0; b < m->q; b++) {
      double lp = h[b] - mx - log(z);
      e -= exp(lp) * lp;
    }
    S += e;
  }
  ret->bits = S / log(2.0);
  ret->se = 0.0;
  ret->n = 0;
  ret->truncated = 0;
  return SL_OK;
}

const sl_model_ops sl_profile_ops = {
  .name = "profile",
  .caps = SL_CAP_NORMALISED | SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
  .summary = "site-independent model: one softmax of fields per column",
  .energy = sl_pairwise_energy,
  .logp = profile_logp,
  .delta = sl_pairwise_delta,
  .conditional = sl_pairwise_conditional,
  .entropy = profile_entropy,
};
