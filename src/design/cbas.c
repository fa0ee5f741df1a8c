/* cbas.c: Conditioning by Adaptive Sampling (Brookes, Park and Listgarten
 * 2019) inside one round of the design loop: the search distributions of
 * --proposer cbas (site-independent) and cbas-ar (an arDCA model refitted on
 * weighted samples).
 *
 * Both are stateless across rounds (rebuilt from the prior each round), so
 * a resumed campaign stays exact. Cost per round: SL_CBAS_ITER iterations of
 * SL_CBAS_M samples, each scored by the predictor (and the prior); cbas-ar
 * adds one ar fit per iteration. The model-kind test of the profile prior
 * stays here until the model interface of issue 11 replaces it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/ar.h"
#include "loop_impl.h"

/* One CbAS weighting step, shared by cbas and cbas-ar: raise gamma to the
 * 80th percentile of the M predicted means (never lowering it), then add
 * log P(y >= gamma | x) (Gaussian predictive) to each log weight lw[m]
 * (which holds log p0(x) - log q(x)). srt: M scratch. Returns the largest
 * log weight (-inf when no sample can reach gamma). */
static double cbas_weigh(const double *mu, const double *sd, double *lw, double *srt, int64_t M,
                         double *gamma) {
  for (int64_t m = 0; m < M; m++) srt[m] = mu[m];
  for (int64_t m = 1; m < M; m++) { /* insertion sort: M is 500 */
    double v = srt[m];
    int64_t j = m - 1;
    while (j >= 0 && srt[j] > v) { srt[j + 1] = srt[j]; j--; }
    srt[j + 1] = v;
  }
  if (srt[(int64_t)(0.8 * (double)M)] > *gamma) *gamma = srt[(int64_t)(0.8 * (double)M)];
  double wmax = -INFINITY;
  for (int64_t m = 0; m < M; m++) {
    double p = sd[m] > 0 ? 0.5 * erfc((*gamma - mu[m]) / (sd[m] * M_SQRT2)) : (mu[m] >= *gamma ? 1.0 : 0.0);
    lw[m] = p > 0 ? lw[m] + log(p) : -INFINITY;
    if (lw[m] > wmax) wmax = lw[m];
  }
  return wmax;
}

/* CbAS (Brookes, Park and Listgarten 2019) inside one round, with the
 * round's predictor as the oracle model: the search distribution q is a
 * site-independent distribution over the design sites, started at the prior
 * p0 (a profile's conditionals at the design sites; uniform without a
 * prior). Each of SL_CBAS_ITER iterations draws SL_CBAS_M samples from q, weights
 * each by p0(x)/q(x) * P(y >= gamma | x) (Gaussian predictive; gamma rises
 * to the 80th percentile of the samples' predicted means), and refits q by
 * weighted frequencies (+ a 1e-3 pseudocount). Candidates are then drawn
 * from the final q. Stateless across rounds (q is rebuilt from p0 each
 * round), so resume stays exact. Without a predictor the weights are
 * p0/q = 1 and q stays p0. Returns the L*q probabilities in qp. */
void sl_design_cbas_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred,
                        sl_rng *r, double *qp, double *lp0, uint8_t *xs, double *w, uint8_t *work) {
  int64_t L = o->L;
  int q = o->q;
  sl_model *pm = prior ? prior->m : NULL;
  /* A site-independent prior's conditionals are its own sites' softmax
   * (they do not depend on the rest): p0 starts from them. Any other prior
   * starts q_0 uniform (the caller refuses such priors for cbas). */
  int indep = pm && sl_model_has(pm, SL_CAP_INDEPENDENT | SL_CAP_CONDITIONALS);
  double *lg = indep ? malloc((size_t)pm->q * sizeof *lg) : NULL;
  if (indep && !lg) indep = 0;
  for (int64_t i = 0; i < L; i++) {
    double mx = -INFINITY, z = 0;
    sl_error e;
    if (indep && sl_model_conditional(pm, pm->focus, prior->cols[i], lg, &e)) indep = 0;
    for (int a = 0; a < q; a++) {
      lp0[i * q + a] = indep ? lg[sl_model_state(pm, a + 1)] : 0.0;
      if (lp0[i * q + a] > mx) mx = lp0[i * q + a];
    }
    for (int a = 0; a < q; a++) z += exp(lp0[i * q + a] - mx);
    for (int a = 0; a < q; a++) { lp0[i * q + a] -= mx + log(z); qp[i * q + a] = exp(lp0[i * q + a]); }
  }
  free(lg);
  if (!pred) return;
  double gamma = -INFINITY;
  double *mu = malloc(SL_CBAS_M * sizeof *mu), *sd = malloc(SL_CBAS_M * sizeof *sd), *srt = malloc(SL_CBAS_M * sizeof *srt);
  if (!mu || !sd || !srt) { free(mu); free(sd); free(srt); return; }
  for (int it = 0; it < SL_CBAS_ITER; it++) {
    for (int m = 0; m < SL_CBAS_M; m++) {
      uint8_t *x = xs + (int64_t)m * L;
      double lw = 0;
      for (int64_t i = 0; i < L; i++) {
        double u = sl_rng_uniform(r);
        int a = 0;
        while (a < q - 1 && (u -= qp[i * q + a]) >= 0) a++;
        x[i] = (uint8_t)a;
        lw += lp0[i * q + a] - log(qp[i * q + a]);
      }
      sl_predictor_predict(pred, x, sl_design_prior_logp(prior, L, x, work), &mu[m], &sd[m], NULL);
      w[m] = lw;
    }
    double wmax = cbas_weigh(mu, sd, w, srt, SL_CBAS_M, &gamma);
    if (!isfinite(wmax)) break; /* no sample can reach gamma: keep q */
    for (int64_t i = 0; i < L * q; i++) qp[i] = 1e-3 / q;
    for (int m = 0; m < SL_CBAS_M; m++) {
      double wm = exp(w[m] - wmax);
      for (int64_t i = 0; i < L; i++) qp[i * q + xs[(int64_t)m * L + i]] += wm;
    }
    for (int64_t i = 0; i < L; i++) {
      double z = 0;
      for (int a = 0; a < q; a++) z += qp[i * q + a];
      for (int a = 0; a < q; a++) qp[i * q + a] /= z;
    }
  }
  free(mu); free(sd); free(srt);
}

/* CbAS with an ar search distribution (`--proposer cbas-ar`): the same
 * iterations as cbas_fit, but q_t is an arDCA model refitted by weighted
 * maximum likelihood on the weighted samples (Brookes et al. use a VAE; an
 * autoregressive model has exact log q(x) and exact samples, so the ratio
 * p0(x)/q(x) is exact and the couplings can hold the epistatic combinations
 * a site-independent q cannot). q_0 is cbas_fit's site-independent start;
 * p0 is the prior's log P (any kind; uniform without a prior). Each refit:
 * sl_ar_fit on the SL_CBAS_M samples, natural order, lambda 0.01 (ArDCA.jl's),
 * one thread (deterministic). Protein design spaces only (the ar model
 * lives on the protein alphabet: design symbol a is code a + 1). Returns the
 * final q (NULL without a predictor: the caller then samples q_0). */
int sl_design_cbas_ar_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred,
                       sl_rng *r, const double *qp, uint8_t *work, sl_model **ret_q, sl_error *err) {
  *ret_q = NULL;
  if (!pred) return SL_OK;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  const int64_t L = o->L, M = SL_CBAS_M;
  const int q = o->q;
  int status = SL_OK;
  sl_model *qm = NULL;
  sl_msa *S = NULL;
  uint8_t *xs = malloc((size_t)(M * L)), *codes = malloc((size_t)(M * L)), *buf = malloc((size_t)L);
  double *mu = malloc(M * sizeof *mu), *sd = malloc(M * sizeof *sd), *lw = malloc(M * sizeof *lw);
  double *srt = malloc(M * sizeof *srt), *w = malloc(M * sizeof *w);
  if (!xs || !codes || !buf || !mu || !sd || !lw || !srt || !w) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  double gamma = -INFINITY;
  for (int it = 0; it < SL_CBAS_ITER; it++) {
    for (int64_t m = 0; m < M; m++) {
      uint8_t *x = xs + m * L;
      double lq = 0;
      if (!qm) { /* q_0: site-independent */
        for (int64_t i = 0; i < L; i++) {
          double u = sl_rng_uniform(r);
          int a = 0;
          while (a < q - 1 && (u -= qp[i * q + a]) >= 0) a++;
          x[i] = (uint8_t)a;
          lq += log(qp[i * q + a]);
        }
      } else { /* q_t: ancestral samples; a gap or non-design residue is redrawn */
        int ok = 0;
        for (int tries = 0; tries < 100 && !ok; tries++) {
          sl_ar_sample(qm, r, 1.0, NULL, buf, NULL);
          ok = 1;
          for (int64_t i = 0; i < L; i++) ok &= buf[i] >= 1 && buf[i] <= q;
        }
        for (int64_t i = 0; i < L; i++) x[i] = (uint8_t)(buf[i] >= 1 && buf[i] <= q ? buf[i] - 1 : 0);
        for (int64_t i = 0; i < L; i++) buf[i] = (uint8_t)(x[i] + 1);
        if ((status = sl_model_logp(qm, NULL, buf, &lq, err))) goto DONE;
      }
      double lp0 = prior && prior->m ? sl_design_prior_logp(prior, L, x, work) : 0.0;
      sl_predictor_predict(pred, x, prior && prior->m ? lp0 : NAN, &mu[m], &sd[m], NULL);
      lw[m] = lp0 - lq;
    }
    double wmax = cbas_weigh(mu, sd, lw, srt, M, &gamma);
    if (!isfinite(wmax)) break; /* no sample can reach gamma: keep q */
    for (int64_t m = 0; m < M; m++) w[m] = exp(lw[m] - wmax);
    for (int64_t k = 0; k < M * L; k++) codes[k] = (uint8_t)(xs[k] + 1);
    sl_msa_destroy(S);
    S = NULL;
    if ((status = sl_msa_from_rows(abc, codes, M, L, "cbas", "cbas samples", &S, err))) goto DONE;
    sl_ar_opts ao;
    sl_ar_opts_init(&ao);
    ao.lambda_J = ao.lambda_h = 0.01;
    ao.order_kind = SL_ORDER_NATURAL;
    ao.threads = 1;
    sl_ar_report rep;
    sl_model *next = NULL;
    if ((status = sl_ar_fit(S, w, &ao, &next, &rep, err))) goto DONE;
    sl_model_destroy(qm);
    qm = next;
  }
DONE:
  free(xs); free(codes); free(buf); free(mu); free(sd); free(lw); free(srt); free(w);
  sl_msa_destroy(S);
  if (status) { sl_model_destroy(qm); return status; }
  *ret_q = qm;
  return SL_OK;
}
