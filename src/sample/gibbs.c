/* gibbs.c: Gibbs sampling for pairwise models (see gibbs.h).
 *
 * One site update costs O(L q): the conditional logits gather J_ij(., s_j)
 * for every other site; a sweep is O(L^2 q). The energy of each kept sample
 * is recomputed exactly (O(L^2)), so reported energies never drift.
 */
#include "seqloop/gibbs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/rng.h"

void sl_gibbs_opts_init(sl_gibbs_opts *o) {
  memset(o, 0, sizeof *o);
  o->burnin = 200;
  o->thin = 10;
  o->chains = 4;
  o->T = 1.0;
  o->seed = 1;
  o->threads = 1;
}

static void sweep(const sl_model *m, uint8_t *s, const uint8_t *fixed, double invT, sl_rng *r,
                  double *lg) {
  const int64_t L = m->L;
  const int q = m->q, off = m->gap_missing ? 1 : 0; /* state a = code a + off */
  for (int64_t i = 0; i < L; i++) {
    if (fixed && fixed[i] != 0xFF) continue;
    for (int a = 0; a < q; a++) lg[a] = m->h[i * q + a];
    if (m->J)
      for (int64_t j = 0; j < L; j++) {
        if (j == i) continue;
        int b = sl_model_state(m, s[j]);
        if (b < 0) continue;
        /* J_ji(b, .) = J_ij(., b) is one contiguous row of the symmetric store. */
        const float *row = sl_model_J(m, j, i) + (size_t)b * (size_t)q;
        for (int a = 0; a < q; a++) lg[a] += row[a];
      }
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
  if (m->kind == SL_MODEL_AR)
    return sl_fail(err, SL_EUSAGE, "ar models are sampled exactly by ancestral sampling, not Gibbs");
  if (o->chains < 1 || o->thin < 1 || o->burnin < 0 || !(o->T > 0) || n < 1)
    return sl_fail(err, SL_EUSAGE, "bad Gibbs settings (chains %d, thin %lld, burn-in %lld, T %g)",
                   o->chains, (long long)o->thin, (long long)o->burnin, o->T);
  const int64_t L = m->L;
  const int C = o->chains;
  double *e = malloc((size_t)n * sizeof *e);
  if (!e) return sl_fail(err, SL_ENOMEM, "out of memory");
  int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads > 0 ? o->threads : 1) reduction(+ : failed)
  for (int c = 0; c < C; c++) {
    sl_rng r;
    sl_rng_seed(&r, o->seed);
    for (int k = 0; k < c; k++) sl_rng_jump(&r);
    uint8_t *s = malloc((size_t)L);
    double lg[32];
    if (!s) { failed++; continue; }
    const int off = m->gap_missing ? 1 : 0;
    for (int64_t i = 0; i < L; i++)
      s[i] = o->fixed && o->fixed[i] != 0xFF ? o->fixed[i] : (uint8_t)(off + (int)(sl_rng_uniform(&r) * m->q));
    for (int64_t t = 0; t < o->burnin; t++) sweep(m, s, o->fixed, 1.0 / o->T, &r, lg);
    for (int64_t k = c; k < n; k += C) {
      for (int64_t t = 0; t < o->thin; t++) sweep(m, s, o->fixed, 1.0 / o->T, &r, lg);
      memcpy(out + k * L, s, (size_t)L);
      e[k] = sl_model_energy(m, s);
    }
    free(s);
  }
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
