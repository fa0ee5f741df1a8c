/* predictor.c: a bootstrap ensemble of ridge regressions on one-hot
 * features, fitted in the dual (kernel ridge).
 *
 * Features of a sequence x (L sites): one-hot sites, optionally one-hot site
 * pairs, optionally the standardised prior score z(x) times a weight. Their
 * inner products need no feature vectors: with m = the number of sites where
 * x and x' agree, <phi(x), phi(x')> = m (+ m(m-1)/2 with pairs, because a
 * pair agrees exactly when both of its sites agree) (+ w^2 z z'). So the
 * n x n Gram matrix costs O(n^2 L) and the pairwise model (L^2 q^2 features)
 * is as cheap as the additive one.
 *
 * Each member b draws a bootstrap resample of the n training points,
 * centres and scales y on it, and solves (K + lambda I) alpha = y by
 * Cholesky (O(n^3)); its prediction is ybar + sd_y * k(x)^T alpha. The
 * ensemble mean and standard deviation are the prediction and its
 * uncertainty (Lakshminarayanan-style ensembles; the bootstrap is what makes
 * the members disagree away from the data).
 *
 * Residue descriptors (weight w > 0, protein alphabets only): each site
 * also carries d(a), five published per-residue scales standardised over
 * the 20 amino acids and divided by sqrt(5) (so <d(a), d(a)> averages 1,
 * like a one-hot site), and with pairs the products d(x_i) (x) d(x_j) of
 * every site pair. With s_i = <d(x_i), d(x'_i)> their kernel is
 * w^2 (sum_i s_i + sum_{i<j} s_i s_j), the pair sum being
 * ((sum s_i)^2 - sum s_i^2) / 2. WHY: one-hot pair features of a pair that
 * no measured sequence holds get zero weight, so the model cannot predict
 * (nor be uncertain about) an unseen combination; descriptor products are
 * shared across residues, so A41+A54 borrows from measured small-residue
 * pairs (GB1's FWAA, docs/benchmarks.md).
 *
 * All orders (order weight c > 0): the indicator of x_S for every non-empty
 * site set S, weighted c^(|S|-1), has inner product sum_k c^(k-1) binom(m, k)
 * = ((1 + c)^m - 1) / c, and the descriptor tensor products of every S give
 * w^2 (prod_i (1 + c s_i) - 1) / c (a sum of products of PSD kernels). WHY:
 * GB1's maximum needs several sites at once, which no pairwise feature holds;
 * the cost stays that of the pairwise kernel. Measured: no better on GB1
 * (docs/benchmarks.md, session 6), so off by default.
 *
 * Rejected: Gaussian processes with fitted hyperparameters (more code, no
 * better calibrated on a few hundred points without care), and the primal
 * form (L q + L^2 q^2 / 2 unknowns for the pairwise model).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/aaprops.h"
#include "seqloop/design.h"

#include "seqloop/base.h"

struct sl_predictor {
  int B;
  int64_t L, n;
  int pairwise;
  double ow;            /* order weight c (0: additive or pairwise) */
  double *powc;         /* (1 + c)^m for m = 0..L (order weight on) */
  double dw2;           /* descriptor weight squared (0: off) */
  double sdesc[64 * 64]; /* <d(a), d(b)> for codes a, b (descriptors on) */
  double pw;            /* prior feature weight */
  double zmean, zsd;    /* standardisation of the prior score */
  uint8_t *x;           /* n*L training sequences */
  double *z;            /* n standardised prior scores (0 if none) */
  int64_t *idx;         /* B*n bootstrap indices */
  double *alpha;        /* B*n */
  double *ybar, *ysd;   /* B */
};

void sl_predictor_opts_init(sl_predictor_opts *o) {
  o->members = 10;
  o->lambda = 1.0;
  o->pairwise = 0;
  o->prior_weight = 1.0;
  o->noise_sd = 0.0;
  o->descriptors = 0.0;
  o->order_weight = 0.0;
  o->symbols = NULL;
}

/* The five scales (seqloop/aaprops.h has their citations): hydropathy
 * (Kyte-Doolittle), volume (Zamyatnin), charge, polarity (Grantham), helix
 * propensity (Pace-Scholtz). */
#define SL_NDESC 5
static const double *const desc_raw[SL_NDESC] = {sl_aa_hydropathy_kd, sl_aa_volume, sl_aa_charge, sl_aa_polarity,
                                                 sl_aa_helix};

int sl_predictor_descriptors(char aa, double *out) {
  const int a = sl_aa20_index(aa);
  if (a < 0) return -1;
  for (int d = 0; d < SL_NDESC; d++) {
    double m = 0, v = 0;
    for (int b = 0; b < 20; b++) m += desc_raw[d][b];
    m /= 20;
    for (int b = 0; b < 20; b++) v += (desc_raw[d][b] - m) * (desc_raw[d][b] - m);
    out[d] = (desc_raw[d][a] - m) / sqrt(v / 20) / sqrt((double)SL_NDESC);
  }
  return SL_NDESC;
}

int sl_predictor_members(const sl_predictor *p) { return p->B; }

void sl_predictor_destroy(sl_predictor *p) {
  if (!p) return;
  free(p->x); free(p->powc); free(p->z); free(p->idx); free(p->alpha); free(p->ybar); free(p->ysd);
  free(p);
}

static double kern(const sl_predictor *p, const uint8_t *a, double za, const uint8_t *b, double zb) {
  int64_t m = 0;
  for (int64_t i = 0; i < p->L; i++) m += a[i] == b[i];
  double k;
  if (p->ow > 0) {
    /* all orders: sum over non-empty agreeing site sets S of c^(|S|-1) */
    k = (p->powc[m] - 1.0) / p->ow;
  } else {
    k = (double)m;
    if (p->pairwise) k += 0.5 * (double)m * (double)(m - 1);
  }
  if (p->dw2 > 0) {
    double s1 = 0, s2 = 0, pr = 1;
    for (int64_t i = 0; i < p->L; i++) {
      /* codes outside the fitted alphabet (never produced by the loop) carry no descriptor */
      double s = (a[i] | b[i]) < 64 ? p->sdesc[a[i] * 64 + b[i]] : 0.0;
      s1 += s;
      s2 += s * s;
      pr *= 1.0 + p->ow * s;
    }
    if (p->ow > 0) k += p->dw2 * (pr - 1.0) / p->ow;
    else k += p->dw2 * (s1 + (p->pairwise ? 0.5 * (s1 * s1 - s2) : 0.0));
  }
  return k + p->pw * p->pw * za * zb;
}

int sl_predictor_fit(const sl_predictor_opts *o, int64_t L, const uint8_t *x, const double *y,
                     const double *prior, int64_t n, sl_rng *rng, sl_predictor **ret_p, sl_error *err) {
  return sl_predictor_fit_counts(o, L, x, y, NULL, prior, n, rng, ret_p, err);
}

/* Replicates: point i is the mean of count[i] measurements. Kernel ridge on
 * c duplicated rows with values y_1..y_c has the objective of one row at
 * their mean weighted by c (sum_r (y_r - f)^2 = c (ybar - f)^2 + const), so
 * the weighted problem is (K + lambda C^-1) alpha = y - mean, with the
 * weighted mean: the penalty of point i, which the Gaussian-process reading
 * makes its noise variance, is divided by its count. count NULL: all 1,
 * and then every number is the unweighted fit's (x / 1.0 is x). */
int sl_predictor_fit_counts(const sl_predictor_opts *o, int64_t L, const uint8_t *x, const double *y,
                            const double *count, const double *prior, int64_t n, sl_rng *rng,
                            sl_predictor **ret_p, sl_error *err) {
  *ret_p = NULL;
  if (n < 1) return sl_fail(err, SL_EINPUT, "predictor: no training data");
  for (int64_t i = 0; count && i < n; i++)
    if (!(count[i] >= 1) || !isfinite(count[i]))
      return sl_fail(err, SL_EINPUT, "predictor: point %lld has replicate count %g (must be >= 1)", (long long)i,
                     count[i]);
  if (o->members < 1 || !(o->lambda > 0)) return sl_fail(err, SL_EUSAGE, "predictor: members >= 1 and lambda > 0 required");
  if (!(o->descriptors >= 0) || !isfinite(o->descriptors))
    return sl_fail(err, SL_EUSAGE, "predictor: descriptor weight %g (must be a finite number >= 0)", o->descriptors);
  const char *sym = o->symbols ? o->symbols : SL_DESIGN_PROTEIN;
  if (o->descriptors > 0) {
    if (strlen(sym) > 64) return sl_fail(err, SL_EUSAGE, "predictor: more than 64 symbols");
    for (const char *c = sym; *c; c++)
      if (sl_aa20_index(*c) < 0)
        return sl_fail(err, SL_EUSAGE,
                       "predictor: residue descriptors need a protein alphabet; symbol '%c' of '%s' is not one of the 20 "
                       "amino acids",
                       *c, sym);
    size_t q = strlen(sym);
    for (int64_t i = 0; i < n * L; i++)
      if ((size_t)x[i] >= q)
        return sl_fail(err, SL_EINPUT, "predictor: code %d beyond the alphabet '%s'", (int)x[i], sym);
  }
  if (!(o->order_weight >= 0) || !isfinite(o->order_weight))
    return sl_fail(err, SL_EUSAGE, "predictor: order weight %g (must be a finite number >= 0)", o->order_weight);
  /* (1 + c)^L bounds the kernel; past ~1e300 it overflows, and long before
   * that the highest orders swamp the rest (refused, naming the fix) */
  if (o->order_weight > 0 && (double)L * log1p(o->order_weight) > 690)
    return sl_fail(err, SL_EUSAGE,
                   "predictor: order weight %g over %lld sites: (1 + c)^L = e^%.0f overflows; use c < %.3g",
                   o->order_weight, (long long)L, (double)L * log1p(o->order_weight), expm1(690.0 / (double)L));
  sl_predictor *p = calloc(1, sizeof *p);
  if (!p) return sl_fail(err, SL_ENOMEM, "out of memory");
  p->B = o->members;
  p->L = L;
  p->n = n;
  p->pairwise = o->pairwise;
  p->ow = o->order_weight;
  if (p->ow > 0) {
    if (!(p->powc = malloc((size_t)(L + 1) * sizeof *p->powc))) {
      free(p);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    for (int64_t m = 0; m <= L; m++) p->powc[m] = pow(1.0 + p->ow, (double)m);
  }
  if (o->descriptors > 0) {
    p->dw2 = o->descriptors * o->descriptors;
    int q = (int)strlen(sym);
    double d[64][SL_NDESC];
    for (int a = 0; a < q; a++) (void)sl_predictor_descriptors(sym[a], d[a]);
    for (int a = 0; a < q; a++)
      for (int b = 0; b < q; b++) {
        double v = 0;
        for (int e = 0; e < SL_NDESC; e++) v += d[a][e] * d[b][e];
        p->sdesc[a * 64 + b] = v;
      }
  }
  p->pw = prior ? o->prior_weight : 0.0;
  p->x = malloc((size_t)(n * L));
  p->z = calloc((size_t)n, sizeof *p->z);
  p->idx = malloc((size_t)(p->B * n) * sizeof *p->idx);
  p->alpha = malloc((size_t)(p->B * n) * sizeof *p->alpha);
  p->ybar = malloc((size_t)p->B * sizeof *p->ybar);
  p->ysd = malloc((size_t)p->B * sizeof *p->ysd);
  double *K = malloc((size_t)(n * n) * sizeof *K), *G = malloc((size_t)(n * n) * sizeof *G);
  double *rhs = malloc((size_t)n * sizeof *rhs);
  int status = SL_OK;
  if (!p->x || !p->z || !p->idx || !p->alpha || !p->ybar || !p->ysd || !K || !G || !rhs) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  memcpy(p->x, x, (size_t)(n * L));
  p->zmean = 0;
  p->zsd = 1;
  if (prior) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) s += prior[i];
    p->zmean = s / n;
    for (int64_t i = 0; i < n; i++) ss += (prior[i] - p->zmean) * (prior[i] - p->zmean);
    p->zsd = n > 1 && ss > 0 ? sqrt(ss / (n - 1)) : 1.0;
    for (int64_t i = 0; i < n; i++) p->z[i] = (prior[i] - p->zmean) / p->zsd;
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j <= i; j++)
      K[i * n + j] = K[j * n + i] = kern(p, x + i * L, p->z[i], x + j * L, p->z[j]);
  for (int b = 0; b < p->B; b++) {
    int64_t *ix = p->idx + (int64_t)b * n;
    /* Member 0 of a one-member ensemble sees the data as is. */
    for (int64_t i = 0; i < n; i++) ix[i] = p->B == 1 ? i : (int64_t)(sl_rng_u64(rng) % (uint64_t)n);
    double s = 0, ss = 0, cs = 0;
    for (int64_t i = 0; i < n; i++) {
      double c = count ? count[ix[i]] : 1.0;
      s += c * y[ix[i]];
      cs += c;
    }
    p->ybar[b] = s / cs;
    for (int64_t i = 0; i < n; i++) ss += (y[ix[i]] - p->ybar[b]) * (y[ix[i]] - p->ybar[b]);
    p->ysd[b] = n > 1 && ss > 0 ? sqrt(ss / (n - 1)) : 1.0;
    for (int64_t i = 0; i < n; i++) {
      for (int64_t j = 0; j < n; j++) G[i * n + j] = K[ix[i] * n + ix[j]];
      /* A known measurement noise sd s adds s^2 / sd_y^2 to the penalty of
       * the scaled problem: kernel ridge is the mean of a Gaussian process
       * whose noise variance is the penalty, so noisier data are smoothed
       * more instead of interpolated. */
      G[i * n + i] += (o->lambda + (o->noise_sd > 0 ? o->noise_sd * o->noise_sd / (p->ysd[b] * p->ysd[b]) : 0.0)) /
                      (count ? count[ix[i]] : 1.0);
      rhs[i] = (y[ix[i]] - p->ybar[b]) / p->ysd[b];
    }
    if (sl_cholesky_solve(G, rhs, n)) { status = sl_fail(err, SL_EINTERNAL, "predictor: Gram matrix not positive definite"); goto DONE; }
    memcpy(p->alpha + (int64_t)b * n, rhs, (size_t)n * sizeof *rhs);
  }
  *ret_p = p;
  p = NULL;
DONE:
  sl_predictor_destroy(p);
  free(K); free(G); free(rhs);
  return status;
}

void sl_predictor_predict(const sl_predictor *p, const uint8_t *x, double prior, double *ret_mean,
                          double *ret_sd, double *member_out) {
  double z = p->pw != 0 ? (prior - p->zmean) / p->zsd : 0.0;
  if (!isfinite(z)) z = 0;
  /* k(x, x_i) once per training point, shared by the members. */
  double kx[4096], *kbuf = p->n <= 4096 ? kx : malloc((size_t)p->n * sizeof *kbuf);
  if (!kbuf) { *ret_mean = NAN; *ret_sd = NAN; return; }
  for (int64_t i = 0; i < p->n; i++) kbuf[i] = kern(p, x, z, p->x + i * p->L, p->z[i]);
  double s = 0, ss = 0;
  for (int b = 0; b < p->B; b++) {
    const int64_t *ix = p->idx + (int64_t)b * p->n;
    const double *al = p->alpha + (int64_t)b * p->n;
    double f = 0;
    for (int64_t i = 0; i < p->n; i++) f += kbuf[ix[i]] * al[i];
    f = p->ybar[b] + p->ysd[b] * f;
    if (member_out) member_out[b] = f;
    s += f;
    ss += f * f;
  }
  double mean = s / p->B, var = p->B > 1 ? (ss - p->B * mean * mean) / (p->B - 1) : 0.0;
  *ret_mean = mean;
  *ret_sd = var > 0 ? sqrt(var) : 0.0;
  if (kbuf != kx) free(kbuf);
}

/* Out-of-bag prediction of training point j: the members whose bootstrap
 * resample left j out saw nothing of it, so their residual at j is an
 * honest error (the calibration scores of conformal.c). */
int sl_predictor_oob(const sl_predictor *p, int64_t j, double *ret_mean, double *ret_sd) {
  *ret_mean = *ret_sd = NAN;
  if (j < 0 || j >= p->n || p->B < 2) return 0;
  double kx[4096], *kbuf = p->n <= 4096 ? kx : malloc((size_t)p->n * sizeof *kbuf);
  if (!kbuf) return -1;
  for (int64_t i = 0; i < p->n; i++) kbuf[i] = kern(p, p->x + j * p->L, p->z[j], p->x + i * p->L, p->z[i]);
  double s = 0, ss = 0;
  int m = 0;
  for (int b = 0; b < p->B; b++) {
    const int64_t *ix = p->idx + (int64_t)b * p->n;
    int in = 0;
    for (int64_t i = 0; i < p->n && !in; i++) in = ix[i] == j;
    if (in) continue;
    const double *al = p->alpha + (int64_t)b * p->n;
    double f = 0;
    for (int64_t i = 0; i < p->n; i++) f += kbuf[ix[i]] * al[i];
    f = p->ybar[b] + p->ysd[b] * f;
    s += f;
    ss += f * f;
    m++;
  }
  if (kbuf != kx) free(kbuf);
  if (m >= 1) *ret_mean = s / m;
  if (m >= 2) { double v = (ss - m * (s / m) * (s / m)) / (m - 1); *ret_sd = v > 0 ? sqrt(v) : 0.0; }
  return m;
}

int sl_predictor_inbag(const sl_predictor *p, uint8_t *out) {
  memset(out, 0, (size_t)(p->n * p->B));
  for (int b = 0; b < p->B; b++)
    for (int64_t i = 0; i < p->n; i++) out[p->idx[(int64_t)b * p->n + i] * p->B + b] = 1;
  return p->B == 1 ? 0 : 1;
}
