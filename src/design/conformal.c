/* conformal.c: conformal prediction for the design loop (docs/design.md,
 * "Conformal intervals").
 *
 * Three pieces:
 *
 *   1. The (weighted) conformal quantile (sl_conformal_quantile): given n
 *      calibration scores with weights w_i and the test point's weight
 *      w_test, the smallest score s such that the normalised weight of the
 *      scores <= s is >= 1 - alpha, the test point's mass sitting at +inf
 *      (Tibshirani, Barber, Candes, Ramdas 2019). Unit weights give split
 *      conformal: the ceil((1 - alpha)(n + 1))-th smallest score, and
 *      +inf (an unbounded interval) when n is too small for alpha.
 *
 *   2. The predictor wrapper of the loop (sl_conformal_calibrate,
 *      sl_conformal_interval): scores |y - mean(x)| / sd(x) on a
 *      calibration set, the interval mean +- q sd. What the loop uses as
 *      calibration set, and what is guaranteed, is in loop.c and
 *      docs/design.md.
 *
 *   3. Full conformal ridge regression under feedback covariate shift
 *      (Fannjiang, Bates, Angelopoulos, Listgarten, Jordan, PNAS 2022) on a
 *      finite input space with the design distribution
 *      p(x) ∝ exp(lambda mu(x)), mu the ridge fit (sl_conformal_ridge_sets).
 *      Scores are leave-one-out residuals of the augmented data set (the n
 *      training points plus the test input with candidate label y); the
 *      weight of point i is p_{Z_-i}(x_i) / p_train(x_i), where p_{Z_-i} is
 *      the design distribution of the ridge fit WITHOUT point i (that is the
 *      feedback: the test input was chosen by a model trained on the data,
 *      so every swap of the test point with a training point changes the
 *      design distribution). The standard covariate-shift weights use the
 *      one fit on the training data for every point instead.
 *
 *      Cost. With M = Phi^T Phi + gamma I over the n + 1 augmented points,
 *      every leave-one-out fit is a Sherman-Morrison update of M^-1, and its
 *      predictions on the whole space are affine in y:
 *        mu_i^y(u) = m_u + sigma0_i K_ui + y (t_u + sigma1_i K_ui)
 *      with m = Phi_U M^-1 b, t = Phi_U M^-1 phi_test, K = Phi_U M^-1
 *      Phi_train^T (one GEMM), sigma0_i = (e_i - y_i)/(1 - h_i), sigma1_i =
 *      f_i/(1 - h_i) (h_i the leverage, e_i, f_i below). The normalising
 *      constant Z_i(y) = sum_u exp(lambda mu_i^y(u)) on a uniform grid
 *      y_k = y0 + k dy is a sum of geometric sequences in k: one exp per
 *      (i, u) and then a multiply-add per grid point, exact (no Taylor
 *      expansion, no subsampling of the space).
 *
 * Rejected: refitting n + 1 models per grid value (the paper's generic
 * path; 170 x 385 ridge fits per trial), and interpolating log Z_i(y)
 * between a few grid values (an approximation where the exact sum is only
 * a few times dearer).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "loop_impl.h"

const char *sl_conformal_method_name(int m) {
  switch (m) {
    case SL_CONF_NONE: return "none";
    case SL_CONF_SPLIT: return "split";
    case SL_CONF_WEIGHTED: return "weighted";
    case SL_CONF_JAB: return "jab";
    case SL_CONF_RECENT: return "recent";
    case SL_CONF_BATCH: return "batch";
    default: return "?";
  }
}

int sl_conformal_method_parse(const char *s) {
  if (!strcmp(s, "none")) return SL_CONF_NONE;
  if (!strcmp(s, "split")) return SL_CONF_SPLIT;
  if (!strcmp(s, "weighted")) return SL_CONF_WEIGHTED;
  if (!strcmp(s, "jab")) return SL_CONF_JAB;
  if (!strcmp(s, "recent")) return SL_CONF_RECENT;
  if (!strcmp(s, "batch")) return SL_CONF_BATCH;
  return -1;
}

/* ---- 1. the quantile ------------------------------------------------------- */
typedef struct { double s, w; } sw;
static int sw_cmp(const void *a, const void *b) {
  double x = ((const sw *)a)->s, y = ((const sw *)b)->s;
  return x < y ? -1 : x > y;
}

double sl_conformal_quantile(const double *scores, const double *w, int64_t n, double w_test, double alpha) {
  if (n <= 0 || !(alpha > 0 && alpha < 1)) return INFINITY;
  sw *a = malloc((size_t)n * sizeof *a);
  if (!a) return NAN;
  double tot = w ? w_test : 1.0;
  for (int64_t i = 0; i < n; i++) {
    a[i].s = scores[i];
    a[i].w = w ? w[i] : 1.0;
    tot += a[i].w;
  }
  qsort(a, (size_t)n, sizeof *a, sw_cmp);
  double q = INFINITY;
  if (!w) {
    /* Exact order statistic: no rounding of the cumulative sum. */
    int64_t k = (int64_t)ceil((1.0 - alpha) * (double)(n + 1)) - 1;
    if (k < n) q = a[k].s;
  } else if (tot > 0) {
    double c = 0, need = (1.0 - alpha) * tot;
    for (int64_t i = 0; i < n; i++) {
      c += a[i].w;
      if (c >= need * (1 - 1e-12)) { q = a[i].s; break; }
    }
  }
  free(a);
  return q;
}

/* ---- 2. the predictor wrapper --------------------------------------------------- */
double sl_conformal_calibrate(const double *y, const double *mean, const double *sd, const double *w, int64_t n,
                              double w_test, double alpha) {
  double *s = malloc((size_t)(n + 1) * sizeof *s);
  if (!s) return NAN;
  for (int64_t i = 0; i < n; i++) s[i] = fabs(y[i] - mean[i]) / (sd[i] > SL_CONF_SD_FLOOR ? sd[i] : SL_CONF_SD_FLOOR);
  double q = sl_conformal_quantile(s, w, n, w_test, alpha);
  free(s);
  return q;
}

void sl_conformal_interval(double mean, double sd, double q, double *lower, double *upper) {
  double h = q * (sd > SL_CONF_SD_FLOOR ? sd : SL_CONF_SD_FLOOR);
  if (!isfinite(q)) { *lower = -INFINITY; *upper = INFINITY; return; }
  *lower = mean - h;
  *upper = mean + h;
}

static int dcmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

void sl_conformal_jab(const double *member, int B, const uint8_t *inbag, const double *oob_res, int64_t n, double alpha,
                      double *work, double *lower, double *upper) {
  double *lo = work, *hi = work + n;
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(oob_res[i])) continue;
    double s = 0;
    int c = 0;
    for (int b = 0; b < B; b++) if (!inbag[i * B + b]) { s += member[b]; c++; }
    if (!c) continue;
    lo[m] = s / c - oob_res[i];
    hi[m] = s / c + oob_res[i];
    m++;
  }
  qsort(lo, (size_t)m, sizeof *lo, dcmp);
  qsort(hi, (size_t)m, sizeof *hi, dcmp);
  /* upper: the ceil((1-a)(m+1))-th smallest of hi; lower: the
   * floor(a(m+1))-th smallest of lo (Barber et al. 2021, jackknife+). */
  int64_t ku = (int64_t)ceil((1.0 - alpha) * (double)(m + 1) - 1e-9);
  int64_t kl = (int64_t)floor(alpha * (double)(m + 1) + 1e-9);
  *upper = ku >= 1 && ku <= m ? hi[ku - 1] : INFINITY;
  *lower = kl >= 1 && kl <= m ? lo[kl - 1] : -INFINITY;
}

/* ---- 3. full conformal ridge under feedback covariate shift --------------------------- */

static void chol_solve(const double *Lf, double *b, int64_t p) {
  for (int64_t i = 0; i < p; i++) {
    double s = b[i];
    for (int64_t k = 0; k < i; k++) s -= Lf[i * p + k] * b[k];
    b[i] = s / Lf[i * p + i];
  }
  for (int64_t i = p - 1; i >= 0; i--) {
    double s = b[i];
    for (int64_t k = i + 1; k < p; k++) s -= Lf[k * p + i] * b[k];
    b[i] = s / Lf[i * p + i];
  }
}
static double dot(const double *a, const double *b, int64_t p) {
  double s = 0;
  for (int64_t j = 0; j < p; j++) s += a[j] * b[j];
  return s;
}

int sl_conformal_ridge_sets(const sl_conformal_ridge *pr, const int64_t *train, const double *ytrain, int64_t n,
                            int64_t test, uint8_t *in_exch, uint8_t *in_std, uint8_t *in_fcs, double *ret_pred,
                            sl_error *err) {
  const int64_t U = pr->U, p = pr->p, G = pr->ny;
  const double *Phi = pr->phi, lam = pr->lambda;
  if (n < 1 || U < 1 || p < 1 || G < 1 || !(pr->gamma > 0) || !(pr->dy > 0) || test < 0 || test >= U)
    return sl_fail(err, SL_EUSAGE, "conformal ridge: need n >= 1, a space, features, a grid, gamma > 0, dy > 0 "
                   "and a test index in the space");
  int status = SL_OK;
  double *M = calloc((size_t)(p * p), sizeof *M);
  double *V = malloc((size_t)((n + 1) * p) * sizeof *V);      /* rows: M^-1 phi_i, last M^-1 phi_t */
  double *c0 = malloc((size_t)p * sizeof *c0);
  double *K = malloc((size_t)(U * (n + 1)) * sizeof *K);      /* U x (n+1): phi_u . V_i */
  double *m = malloc((size_t)U * sizeof *m);
  double *aa = malloc((size_t)U * sizeof *aa), *bb = malloc((size_t)U * sizeof *bb);
  double *Z = malloc((size_t)G * sizeof *Z);
  double *logw = malloc((size_t)((n + 1) * G) * sizeof *logw); /* FCS log weights, (n+1) x G */
  double *sa = malloc((size_t)(n + 1) * sizeof *sa), *sb = malloc((size_t)(n + 1) * sizeof *sb);
  double *wstd = malloc((size_t)(n + 1) * sizeof *wstd);
  double *sc = malloc((size_t)(n + 1) * sizeof *sc), *wy = malloc((size_t)(n + 1) * sizeof *wy);
  if (!M || !V || !c0 || !K || !m || !aa || !bb || !Z || !logw || !sa || !sb || !wstd || !sc || !wy) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  const double *phit = Phi + test * p;
  /* M = sum over the n + 1 augmented points of phi phi^T + gamma I; b = sum y_i phi_i. */
  for (int64_t i = 0; i <= n; i++) {
    const double *f = i < n ? Phi + train[i] * p : phit;
    for (int64_t a = 0; a < p; a++)
      for (int64_t b = 0; b <= a; b++) M[a * p + b] += f[a] * f[b];
  }
  for (int64_t a = 0; a < p; a++) {
    M[a * p + a] += pr->gamma;
    for (int64_t b = a + 1; b < p; b++) M[a * p + b] = M[b * p + a];
  }
  memset(c0, 0, (size_t)p * sizeof *c0);
  for (int64_t i = 0; i < n; i++)
    for (int64_t a = 0; a < p; a++) c0[a] += ytrain[i] * Phi[train[i] * p + a];
  if (sl_cholesky_factor(M, p)) { status = sl_fail(err, SL_EINTERNAL, "conformal ridge: Gram matrix not positive definite"); goto DONE; }
  chol_solve(M, c0, p);
  for (int64_t i = 0; i <= n; i++) {
    memcpy(V + i * p, i < n ? Phi + train[i] * p : phit, (size_t)p * sizeof *V);
    chol_solve(M, V + i * p, p);
  }
  const double *vt = V + n * p;
  double ht = dot(phit, vt, p), et = dot(phit, c0, p);
  /* The fit on the training data alone (the test point removed): its
   * prediction at the test input, and the weights of the standard method. */
  double coef_t = et / (1.0 - ht);           /* beta_train = c0 + vt * coef_t */
  double mu_t = et + ht * coef_t;
  if (ret_pred) *ret_pred = mu_t;
  /* K = Phi_U V^T: predictions of every direction at every input (one GEMM). */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)U, (int)(n + 1), (int)p, 1.0, Phi, (int)p, V, (int)p,
              0.0, K, (int)(n + 1));
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)U, (int)p, 1.0, Phi, (int)p, c0, 1, 0.0, m, 1);
  /* Leave-one-out scores |y_i - mu_i^y(x_i)| = |y_i - (sa_i + sb_i y)|; the
   * test point's score is |y - mu_t|. */
  for (int64_t i = 0; i < n; i++) {
    const double *fi = Phi + train[i] * p;
    double hi = dot(fi, V + i * p, p), ei = dot(fi, c0, p), fi_t = dot(fi, vt, p);
    sa[i] = (ei - hi * ytrain[i]) / (1.0 - hi);
    sb[i] = fi_t / (1.0 - hi);
    /* sigma0, sigma1 of the header comment, kept in wstd/sc scratch below */
    logw[i * G] = (ei - ytrain[i]) / (1.0 - hi); /* sigma0_i (temporarily) */
    wstd[i] = fi_t / (1.0 - hi);                 /* sigma1_i (temporarily) */
  }
  /* Weights. Standard: exp(lambda mu_train(x_i)), mu_train(u) = m_u + K_ut coef_t.
   * Feedback: exp(lambda mu_i^y(x_i)) / Z_i(y), per grid value. p_train is
   * uniform (it cancels) unless pr->ptrain is given. */
  double Zt = 0, mx = -INFINITY;
  for (int64_t u = 0; u < U; u++) { double v = lam * (m[u] + K[u * (n + 1) + n] * coef_t); if (v > mx) mx = v; }
  for (int64_t u = 0; u < U; u++) Zt += exp(lam * (m[u] + K[u * (n + 1) + n] * coef_t) - mx);
  double logw_t = lam * mu_t - mx - log(Zt) - (pr->ptrain ? log(pr->ptrain[test]) : 0.0);
  double y0 = pr->y0, dy = pr->dy, yend = y0 + dy * (double)(G - 1);
  for (int64_t i = 0; i < n && lam != 0; i++) {
    double s0 = logw[i * G], s1 = wstd[i];
    double mui_x0 = m[train[i]] + s0 * K[train[i] * (n + 1) + i];   /* mu_i^y(x_i) = mui_x0 + y mui_x1 */
    double mui_x1 = K[train[i] * (n + 1) + n] + s1 * K[train[i] * (n + 1) + i];
    double cmax = -INFINITY;
    for (int64_t u = 0; u < U; u++) {
      aa[u] = lam * (m[u] + s0 * K[u * (n + 1) + i]);
      bb[u] = lam * (K[u * (n + 1) + n] + s1 * K[u * (n + 1) + i]);
      double e0 = aa[u] + bb[u] * y0, e1 = aa[u] + bb[u] * yend;
      if (e0 > cmax) cmax = e0;
      if (e1 > cmax) cmax = e1;
    }
    for (int64_t k = 0; k < G; k++) Z[k] = 0;
    /* Geometric sequences in k: t_u(k) = exp(aa + bb y0 - cmax) r_u^k. */
    for (int64_t u = 0; u < U; u++) {
      double t = exp(aa[u] + bb[u] * y0 - cmax), r = exp(bb[u] * dy);
      aa[u] = t;
      bb[u] = r;
    }
    /* Eight partial sums: one running sum would chain every add on the
     * previous one (latency-bound); these keep the loop throughput-bound. */
    for (int64_t k = 0; k < G; k++) {
      double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t u = 0;
      for (; u + 8 <= U; u += 8)
        for (int j = 0; j < 8; j++) { s[j] += aa[u + j]; aa[u + j] *= bb[u + j]; }
      for (; u < U; u++) { s[0] += aa[u]; aa[u] *= bb[u]; }
      Z[k] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    double lpt = pr->ptrain ? log(pr->ptrain[train[i]]) : 0.0;
    for (int64_t k = 0; k < G; k++) {
      double y = y0 + dy * (double)k;
      logw[i * G + k] = lam * (mui_x0 + y * mui_x1) - cmax - log(Z[k]) - lpt;
    }
    wstd[i] = lam * (m[train[i]] + K[train[i] * (n + 1) + n] * coef_t) - mx - log(Zt) - lpt;
  }
  wstd[n] = logw_t;
  /* The sets, grid value by grid value. */
  for (int64_t k = 0; k < G; k++) {
    double y = y0 + dy * (double)k;
    for (int64_t i = 0; i < n; i++) sc[i] = fabs(ytrain[i] - (sa[i] + sb[i] * y));
    double st = fabs(y - mu_t);
    if (in_exch) {
      double q = sl_conformal_quantile(sc, NULL, n, 1.0, pr->alpha);
      if (isnan(q)) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
      in_exch[k] = st <= q;
    }
    for (int pass = 0; pass < 2; pass++) {
      uint8_t *out = pass ? in_fcs : in_std;
      if (!out) continue;
      /* log weights to weights, shifted by their max (ratios are what count) */
      double lmax = pass ? logw_t : wstd[n];
      for (int64_t i = 0; i < n; i++) { double v = pass ? logw[i * G + k] : wstd[i]; if (v > lmax) lmax = v; }
      for (int64_t i = 0; i < n; i++) wy[i] = exp((pass ? logw[i * G + k] : wstd[i]) - lmax);
      double wt = exp((pass ? logw_t : wstd[n]) - lmax);
      double q = sl_conformal_quantile(sc, lam == 0 ? NULL : wy, n, wt, pr->alpha);
      if (isnan(q)) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
      out[k] = st <= q;
    }
  }
DONE:
  free(M); free(V); free(c0); free(K); free(m); free(aa); free(bb); free(Z); free(logw);
  free(sa); free(sb); free(wstd); free(sc); free(wy);
  return status;
}
