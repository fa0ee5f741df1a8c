/* gibbs.c: Gibbs sampling (see gibbs.h), generic over the model interface.
 *
 * Contents: 1. chains over the site conditionals (kinds with
 * SL_CAP_CONDITIONALS: potts, profile); 2. one chain under a normalised
 * likelihood (any kind with log P, e.g. tfm), conditionals from the full
 * log-probabilities of the q variants of a site.
 *
 * 1. One site update costs what the kind's conditional costs (pairwise:
 * O(L q), gathering J_ij(., s_j) for every other site); a sweep is O(L^2 q). The energy of each kept sample
 * is recomputed exactly (O(L^2)), so reported energies never drift.
 */
#include "seqloop/gibbs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/rng.h"
#include "seqloop/sample.h"

#include "seqloop/progress.h"

void sl_gibbs_opts_init(sl_gibbs_opts *o) {
  memset(o, 0, sizeof *o);
  o->burnin = 200;
  o->thin = 10;
  o->chains = 4;
  o->T = 1.0;
  o->seed = 1;
  o->threads = 1;
}

/* One sweep: each free site redrawn from softmax(conditional logits / T). */
static void sweep(const sl_model *m, uint8_t *s, const uint8_t *fixed, double invT, sl_rng *r,
                  double *lg) {
  const int64_t L = m->L;
  const int q = m->q, off = m->gap_missing ? 1 : 0; /* state a = code a + off */
  for (int64_t i = 0; i < L; i++) {
    if (fixed && fixed[i] != 0xFF) continue;
    m->ops->conditional(m, s, i, lg);
    double mx = lg[0], z = 0.0;
    for (int a = 1; a < q; a++) mx = lg[a] > mx ? lg[a] : mx;
    for (int a = 0; a < q; a++) z += (lg[a] = exp((lg[a] - mx) * invT));
    double u = sl_rng_uniform(r) * z, acc = 0.0;
    int a = 0;
    for (; a < q - 1; a++) {
      acc += lg[a];
      if (u < acc) break;
    }
    s[i] = (uint8_t)(a + off);
  }
}

int sl_gibbs_sample(const sl_model *m, const sl_gibbs_opts *o, int64_t n, uint8_t *out,
                    double *energy, double *ret_rhat, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_CONDITIONALS))
    return sl_fail(err, SL_EUSAGE, sl_model_has(m, SL_CAP_EXACT_SAMPLE)
                   ? "%s models are sampled exactly by ancestral sampling, not Gibbs"
                   : "a %s model has no site conditionals for Gibbs sampling", sl_model_name(m));
  if (o->chains < 1 || o->thin < 1 || o->burnin < 0 || !(o->T > 0) || n < 1)
    return sl_fail(err, SL_EUSAGE, "bad Gibbs settings (chains %d, thin %lld, burn-in %lld, T %g)",
                   o->chains, (long long)o->thin, (long long)o->burnin, o->T);
  const int64_t L = m->L;
  const int C = o->chains;
  double *e = malloc((size_t)n * sizeof *e);
  if (!e) return sl_fail(err, SL_ENOMEM, "out of memory");
  int failed = 0;
  sl_progress_start(o->progress, NULL, (int64_t)C * o->burnin + o->thin * n);
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads > 0 ? o->threads : 1) reduction(+ : failed)
  for (int c = 0; c < C; c++) {
    sl_rng r;
    sl_rng_seed(&r, o->seed);
    for (int k = 0; k < c; k++) sl_rng_jump(&r);
    uint8_t *s = malloc((size_t)L);
    double lg[32];
    if (!s) { failed++; continue; }
    sl_error e2;
    const int off = m->gap_missing ? 1 : 0;
    for (int64_t i = 0; i < L; i++)
      s[i] = o->fixed && o->fixed[i] != 0xFF ? o->fixed[i] : (uint8_t)(off + (int)(sl_rng_uniform(&r) * m->q));
    for (int64_t t = 0; t < o->burnin; t++) {
      sweep(m, s, o->fixed, 1.0 / o->T, &r, lg);
      sl_progress_add(o->progress, 1);
    }
    for (int64_t k = c; k < n; k += C) {
      for (int64_t t = 0; t < o->thin; t++) {
        sweep(m, s, o->fixed, 1.0 / o->T, &r, lg);
        sl_progress_add(o->progress, 1);
      }
      memcpy(out + k * L, s, (size_t)L);
      if (sl_model_score(m, NULL, s, &e[k], &e2)) failed++; /* pairwise kinds: cannot fail */
    }
    free(s);
  }
  sl_progress_end(o->progress);
  if (failed) { free(e); return sl_fail(err, SL_ENOMEM, "out of memory in a chain"); }
  /* Gelman-Rubin R-hat on the energy, chains of equal length m_c. */
  double rhat = NAN;
  int64_t mc = n / C;
  if (C > 1 && mc >= 2) {
    double grand = 0, B = 0, W = 0;
    double *mean = calloc((size_t)C, sizeof *mean);
    if (mean) {
      for (int c = 0; c < C; c++) {
        for (int64_t t = 0; t < mc; t++) mean[c] += e[c + t * C];
        mean[c] /= (double)mc;
        grand += mean[c] / C;
      }
      for (int c = 0; c < C; c++) {
        B += (mean[c] - grand) * (mean[c] - grand);
        double v = 0;
        for (int64_t t = 0; t < mc; t++) v += (e[c + t * C] - mean[c]) * (e[c + t * C] - mean[c]);
        W += v / (double)(mc - 1) / C;
      }
      B *= (double)mc / (C - 1);
      double var = (double)(mc - 1) / mc * W + B / mc;
      rhat = W > 0 ? sqrt(var / W) : NAN;
      free(mean);
    }
  }
  if (energy) memcpy(energy, e, (size_t)n * sizeof *e);
  free(e);
  *ret_rhat = rhat;
  return SL_OK;
}

/* 2. Gibbs under the likelihood ------------------------------------------------
 * P(x_i = a | x_-i) = P(x with a at i)^(1/T) / sum_b P(x with b at i)^(1/T):
 * the q variants of a site are scored at once (sl_model_logp_many: one
 * batched forward pass for a transformer). The arithmetic is sl_tfm_gibbs's,
 * so a chain gives the same draws as before this interface. */
int sl_gibbs_likelihood(const sl_model *m, sl_model_ws *ws, sl_rng *rng, double T, uint8_t *x,
                        const uint8_t *is_free, int64_t sweeps, double *ret_logp, sl_error *err) {
  if (!(T > 0)) return sl_fail(err, SL_EUSAGE, "Gibbs sampling needs temperature > 0 (got %g)", T);
  if (!sl_model_has(m, SL_CAP_NORMALISED))
    return sl_fail(err, SL_EUSAGE, "Gibbs sampling under the likelihood needs a normalised model, not %s",
                   sl_model_name(m));
  const int64_t L = m->L;
  const int q = m->q, off = m->gap_missing ? 1 : 0;
  uint8_t *buf = malloc((size_t)(q * L) + 1);
  double *lp = malloc((size_t)q * sizeof *lp);
  int status = SL_OK;
  if (!buf || !lp) { free(buf); free(lp); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int64_t sw = 0; sw < sweeps && !status; sw++)
    for (int64_t i = 0; i < L && !status; i++) {
      if (!is_free[i]) continue;
      for (int a = 0; a < q; a++) {
        memcpy(buf + (size_t)a * L, x, (size_t)L);
        buf[(size_t)a * L + i] = (uint8_t)(a + off);
      }
      if ((status = sl_model_logp_many(m, ws, buf, q, lp, err))) break;
      double mx = -INFINITY, z = 0;
      for (int a = 0; a < q; a++) mx = lp[a] / T > mx ? lp[a] / T : mx;
      for (int a = 0; a < q; a++) z += exp(lp[a] / T - mx);
      double u = sl_rng_uniform(rng) * z, acc = 0;
      int pick = q - 1;
      for (int a = 0; a < q; a++) {
        acc += exp(lp[a] / T - mx);
        if (u < acc) { pick = a; break; }
      }
      x[i] = (uint8_t)(pick + off);
    }
  free(buf);
  free(lp);
  if (!status && ret_logp) status = sl_model_logp(m, ws, x, ret_logp, err);
  return status;
}
