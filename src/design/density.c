/* density.c: the densities a --conformal weighted round draws its batch
 * from (docs/design.md, "Sampled batches with a guarantee"): what each
 * proposer's density is, its log at any sequence, its draws restricted to
 * the round's support, and how many draws make a batch. The round itself
 * (support, split, ledger, intervals) is query.c's.
 *
 * The proposal of round k: the unnormalised log densities g_train(x) and
 * g_cal(x) of its two parts, normalised by the caller over S_k.
 *   all:     g = lambda a(x)                 and lambda' a(x)
 *   prior:   g = log p0(x) + lambda a(x)     and log p0(x) + lambda' a(x)
 *            (prior samples tilted by the acquisition; any prior kind: its
 *            log P or energy, normalised here by enumeration)
 *   cbas:    g = log Q(x), Q CbAS's site-independent search distribution,
 *            and log Q_tau(x), Q_tau its sites' probabilities to the power
 *            tau = lambda' / lambda (1 when lambda is 0), renormalised
 *   cbas-ar: the same with Q the ar search distribution and Q_tau its
 *            ancestral sampling at temperature 1 / tau (each conditional
 *            tempered; for a product the same as above). A gap-free x only:
 *            S_k holds design sequences.
 *   random:  uniform (round 1 of ALDE's protocol, --init-random)
 * For the CbAS kinds and random g is normalised over all strings of the
 * alphabet, so a sampler can draw from Q or Q_tau and reject what is
 * outside S_k.
 * lambda, lambda' and a are 0 without a predictor (round 1, ALDE's random
 * batch): uniform for all, p0 for prior and the CbAS kinds. CbAS is fitted
 * with a generator of its own per round, so the refit of round k-1's
 * density at round k is the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/ar.h"
#include "loop_impl.h"

void sl_design_density_free(sl_design_density *d) {
  free(d->qp);
  sl_model_destroy(d->qar);
  memset(d, 0, sizeof *d);
}

int sl_design_density_build(const sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                            const sl_predictor *pred, int64_t k, sl_design_density *d, sl_error *err) {
  memset(d, 0, sizeof *d);
  /* ALDE's first batch (--init-random) is uniform whatever the proposer */
  d->proposer = k == 1 && op->init_random > 0 ? SL_PROPOSE_RANDOM : op->proposer;
  d->lam[0] = pred ? op->query_lambda : 0.0;
  d->lam[1] = pred ? op->cal_lambda : 0.0;
  d->tau = op->query_lambda > 0 ? op->cal_lambda / op->query_lambda : 1.0;
  if (d->tau < 1e-6) d->tau = 1e-6; /* a finite temperature for the ar sampler */
  const int64_t L = o->L;
  if (d->proposer == SL_PROPOSE_RANDOM) { /* uniform: a product of uniform sites, which the sampler can draw */
    d->lam[0] = d->lam[1] = 0;
    if (!(d->qp = malloc((size_t)(2 * L * o->q) * sizeof *d->qp))) return sl_fail(err, SL_ENOMEM, "out of memory");
    for (int64_t t = 0; t < 2 * L * o->q; t++) d->qp[t] = 1.0 / o->q;
    return SL_OK;
  }
  if (d->proposer != SL_PROPOSE_CBAS && d->proposer != SL_PROPOSE_CBAS_AR) return SL_OK;
  d->qp = malloc((size_t)(2 * L * o->q) * sizeof *d->qp);
  double *lp0 = malloc((size_t)(L * o->q) * sizeof *lp0), *w = malloc(SL_CBAS_M * sizeof *w);
  uint8_t *xs = malloc((size_t)(SL_CBAS_M * L)), *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  int status = SL_OK;
  if (!d->qp || !lp0 || !w || !xs || (prior && prior->m && !work)) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else {
    sl_rng r;
    sl_design_round_rng(&r, op->seed ^ 0x636261735f666974ULL, k); /* "cbas_fit" */
    /* cbas-ar: the site-independent fit only supplies q_0 */
    sl_design_cbas_fit(o, prior, d->proposer == SL_PROPOSE_CBAS ? pred : NULL, &r, d->qp, lp0, xs, w, work);
    if (d->proposer == SL_PROPOSE_CBAS_AR)
      status = sl_design_cbas_ar_fit(o, prior, pred, &r, d->qp, work, &d->qar, err);
    for (int64_t i = 0; i < L; i++) {
      const double *p = d->qp + i * o->q;
      double *t = d->qp + (L + i) * o->q, z = 0;
      for (int a = 0; a < o->q; a++) z += t[a] = pow(p[a], d->tau);
      for (int a = 0; a < o->q; a++) t[a] /= z;
    }
  }
  free(lp0); free(w); free(xs); free(work);
  if (status) sl_design_density_free(d);
  return status;
}

/* g_train and g_cal at n points x (a: their acquisition values, ignored by
 * the CbAS kinds). -inf where the density is 0 (a prior that cannot score
 * x). */
int sl_design_density_eval(const sl_design_density *d, const sl_oracle *o, const sl_design_prior *prior,
                           const uint8_t *x, int64_t n, const double *a, double *g0, double *g1, sl_error *err) {
  const int64_t L = o->L;
  const int q = o->q;
  uint8_t *work = d->proposer == SL_PROPOSE_PRIOR && prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  uint8_t *buf = d->qar ? malloc((size_t)L) : NULL;
  if ((d->proposer == SL_PROPOSE_PRIOR && prior && prior->m && !work) || (d->qar && !buf)) {
    free(work); free(buf);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  int status = SL_OK;
  for (int64_t j = 0; j < n && !status; j++) {
    const uint8_t *xj = x + j * L;
    switch (d->proposer) {
      case SL_PROPOSE_RANDOM:
      case SL_PROPOSE_CBAS:
      case SL_PROPOSE_CBAS_AR: {
        double lq = 0, lt = 0;
        if (d->qar) {
          for (int64_t i = 0; i < L; i++) buf[i] = (uint8_t)(xj[i] + 1);
          status = sl_model_logp(d->qar, NULL, buf, &lq, err);
          lt = sl_ar_logp_temp(d->qar, buf, 1.0 / d->tau);
        } else {
          for (int64_t i = 0; i < L; i++) {
            lq += log(d->qp[i * q + xj[i]]);
            lt += log(d->qp[(L + i) * q + xj[i]]);
          }
        }
        g0[j] = lq;
        g1[j] = lt;
        break;
      }
      case SL_PROPOSE_PRIOR: {
        double lp = sl_design_prior_logp(prior, L, xj, work);
        if (!isfinite(lp)) lp = -INFINITY;
        g0[j] = lp + d->lam[0] * a[j];
        g1[j] = lp + d->lam[1] * a[j];
        break;
      }
      default:
        g0[j] = d->lam[0] * a[j];
        g1[j] = d->lam[1] * a[j];
    }
  }
  free(work); free(buf);
  return status;
}

/* How many i.i.d. draws a part makes: the smallest D in [want, 1000 want]
 * whose draws hold, in expectation, want distinct sequences,
 * sum over x of 1 - (1 - p(x))^D. p: the probabilities of the n points of
 * the support, or (pilot) of n draws from it, whose mean of
 * [1 - (1 - p)^D] / p estimates the sum. 0 when want is 0. */
int64_t sl_design_draws_needed(const double *p, int64_t n, int pilot, int64_t want) {
  if (!want) return 0;
  int64_t lo = want, hi = 1000 * want + 1;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    double e = 0;
    for (int64_t j = 0; j < n; j++) {
      double t = -expm1((double)mid * log1p(-p[j]));
      e += !pilot ? t : p[j] < 1e-300 ? (double)mid : t / p[j];
    }
    if ((pilot ? e / (double)n : e) >= (double)want - 0.5) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/* n draws of part `part` (0: Q, 1: Q_tau) of a CbAS kind (or uniform)
 * restricted to S_k by rejection: a draw with a gap (cbas-ar) or in `out`
 * (the ledger less E_{k-1}) is drawn again. x: n * L codes; *tries counts
 * every draw made. SL_EINPUT when the support holds (almost) no mass. */
int sl_design_density_sample(const sl_design_density *d, const sl_oracle *o, int part,
                             const sl_design_seqset *out, sl_rng *r, int64_t n, uint8_t *x, int64_t *tries,
                             sl_error *err) {
  const int64_t L = o->L;
  const int q = o->q;
  uint8_t *buf = d->qar ? malloc((size_t)L) : NULL;
  if (d->qar && !buf) return sl_fail(err, SL_ENOMEM, "out of memory");
  int64_t made = 0;
  for (int64_t j = 0; j < n; j++) {
    uint8_t *xj = x + j * L;
    for (;;) {
      if (++made > 1000 * (n + SL_DESIGN_QUERY_PILOT)) {
        free(buf);
        return sl_fail(err, SL_EINPUT, "the %s density of the round puts (almost) all its mass on measured sequences: "
                       "%lld draws found %lld outside the ledger", part ? "cal" : "query", (long long)made,
                       (long long)j);
      }
      int ok = 1;
      if (d->qar) {
        sl_ar_sample(d->qar, r, part ? 1.0 / d->tau : 1.0, NULL, buf, NULL);
        for (int64_t i = 0; i < L; i++) {
          ok &= buf[i] >= 1 && buf[i] <= q; /* a gap is outside the design space */
          xj[i] = (uint8_t)(buf[i] - 1);
        }
      } else {
        const double *p = d->qp + (part ? L * q : 0);
        for (int64_t i = 0; i < L; i++) {
          double u = sl_rng_uniform(r);
          int a = 0;
          while (a < q - 1 && (u -= p[i * q + a]) >= 0) a++;
          xj[i] = (uint8_t)a;
        }
      }
      if (ok && !sl_design_seqset_has(out, xj)) break;
    }
  }
  *tries += made;
  free(buf);
  return SL_OK;
}
