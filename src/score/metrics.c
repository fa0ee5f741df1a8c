/* metrics.c: Pearson, Spearman, ROC AUC, MCC, NDCG and top-k recall, with
 * ProteinGym's definitions (see include/seqloop/metrics.h for each formula
 * and for the ProteinGym source it follows).
 *
 * Every metric first copies the kept pairs (neither value NaN; for labelled
 * metrics, label 0 or 1) into scratch arrays, then works on those alone. All
 * sorting is qsort on arrays of {value, index} records with a comparator that
 * falls back to the index, so the order is total and reproducible whatever
 * qsort's own stability; nothing here is global or static-mutable. Scratch
 * memory is O(n); an allocation failure returns NaN (the API has no status).
 *
 * Two numpy details are reproduced on purpose because ProteinGym's results
 * depend on them at ties: numpy.percentile's linear interpolation, evaluated
 * from the upper neighbour when the fraction is >= 0.5 (numpy's _lerp), since
 * top-k recall compares strictly against it; and the median as (a + b) / 2.
 */
#include "seqloop/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double v;
  int64_t i;
} vi_t;

/* Ascending value, then ascending index. Values are never NaN here. */
static int vi_asc(const void *pa, const void *pb) {
  const vi_t *a = pa, *b = pb;
  if (a->v < b->v) return -1;
  if (a->v > b->v) return 1;
  return (a->i > b->i) - (a->i < b->i);
}

/* Descending value, then ascending index (earlier pair first among ties). */
static int vi_desc(const void *pa, const void *pb) {
  const vi_t *a = pa, *b = pb;
  if (a->v > b->v) return -1;
  if (a->v < b->v) return 1;
  return (a->i > b->i) - (a->i < b->i);
}

static int dbl_asc(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

static int dbl_desc(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a < b) - (a > b);
}

/* Copy the pairs where neither a nor b is NaN into fresh arrays (n >= 1),
 * which the caller frees. Returns 0 and sets *ret_m, or -1 on allocation
 * failure. */
static int keep_pairs(const double *a, const double *b, int64_t n, double **ret_a, double **ret_b,
                      int64_t *ret_m) {
  double *ka = sl_malloc((size_t)n, sizeof *ka), *kb = sl_malloc((size_t)n, sizeof *kb);
  if (!ka || !kb) {
    free(ka);
    free(kb);
    return -1;
  }
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(a[i]) || isnan(b[i])) continue;
    ka[m] = a[i];
    kb[m] = b[i];
    m++;
  }
  *ret_a = ka;
  *ret_b = kb;
  *ret_m = m;
  return 0;
}

/* Pairs where the score is not NaN and the label is 0 or 1. */
static int keep_labelled(const double *s, const int *lab, int64_t n, double **ret_s, int **ret_l,
                         int64_t *ret_m) {
  double *ks = sl_malloc((size_t)n, sizeof *ks);
  int *kl = sl_malloc((size_t)n, sizeof *kl);
  if (!ks || !kl) {
    free(ks);
    free(kl);
    return -1;
  }
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(s[i]) || (lab[i] != 0 && lab[i] != 1)) continue;
    ks[m] = s[i];
    kl[m] = lab[i];
    m++;
  }
  *ret_s = ks;
  *ret_l = kl;
  *ret_m = m;
  return 0;
}

static int is_constant(const double *x, int64_t m) {
  for (int64_t i = 1; i < m; i++)
    if (x[i] != x[0]) return 0;
  return 1;
}

/* Pearson's r of m NaN-free pairs; NaN if m < 2 or a side is constant. */
static double pearson_kept(const double *x, const double *y, int64_t m) {
  if (m < 2 || is_constant(x, m) || is_constant(y, m)) return NAN;
  double sx = 0.0, sy = 0.0;
  for (int64_t i = 0; i < m; i++) {
    sx += x[i];
    sy += y[i];
  }
  double mx = sx / (double)m, my = sy / (double)m;
  double sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (int64_t i = 0; i < m; i++) {
    double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (!(sxx > 0.0) || !(syy > 0.0)) return NAN;
  double r = sxy / (sqrt(sxx) * sqrt(syy));
  if (r > 1.0) r = 1.0;
  if (r < -1.0) r = -1.0;
  return r;
}

/* Average ranks of m NaN-free values; key is scratch of m records. */
static void rank_kept(const double *x, int64_t m, double *rank, vi_t *key) {
  for (int64_t i = 0; i < m; i++) {
    key[i].v = x[i];
    key[i].i = i;
  }
  qsort(key, (size_t)m, sizeof *key, vi_asc);
  for (int64_t p = 0; p < m;) {
    int64_t q = p + 1;
    while (q < m && key[q].v == key[p].v) q++;
    double r = 0.5 * (double)(p + 1 + q); /* mean of positions p+1..q */
    for (int64_t j = p; j < q; j++) rank[key[j].i] = r;
    p = q;
  }
}

/* numpy.percentile(s, 100 * q01, method="linear") of m >= 1 sorted values. */
static double percentile_sorted(const double *s, int64_t m, double q01) {
  double v = (double)(m - 1) * q01;
  if (v >= (double)(m - 1)) return s[m - 1];
  if (v < 0.0) return s[0];
  double jf = floor(v), g = v - jf;
  int64_t j = (int64_t)jf;
  double a = s[j], b = s[j + 1], d = b - a;
  return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

static double median_sorted(const double *s, int64_t m) {
  if (m % 2) return s[m / 2];
  return (s[m / 2 - 1] + s[m / 2]) / 2.0;
}

double sl_pearson(const double *x, const double *y, int64_t n) {
  if (!x || !y || n < 2) return NAN;
  double *kx, *ky;
  int64_t m;
  if (keep_pairs(x, y, n, &kx, &ky, &m)) return NAN;
  double r = pearson_kept(kx, ky, m);
  free(kx);
  free(ky);
  return r;
}

double sl_spearman(const double *x, const double *y, int64_t n) {
  if (!x || !y || n < 2) return NAN;
  double *kx, *ky;
  int64_t m;
  if (keep_pairs(x, y, n, &kx, &ky, &m)) return NAN;
  double r = NAN;
  double *rx = sl_malloc((size_t)m, sizeof *rx), *ry = sl_malloc((size_t)m, sizeof *ry);
  vi_t *key = sl_malloc((size_t)m, sizeof *key);
  if (rx && ry && key && m >= 2) {
    rank_kept(kx, m, rx, key);
    rank_kept(ky, m, ry, key);
    r = pearson_kept(rx, ry, m);
  }
  free(rx);
  free(ry);
  free(key);
  free(kx);
  free(ky);
  return r;
}

void sl_rank_average(const double *x, int64_t n, double *ret_rank) {
  if (!x || !ret_rank || n <= 0) return;
  double *kx = sl_malloc((size_t)n, sizeof *kx), *kr = sl_malloc((size_t)n, sizeof *kr);
  vi_t *key = sl_malloc((size_t)n, sizeof *key);
  if (!kx || !kr || !key) {
    for (int64_t i = 0; i < n; i++) ret_rank[i] = NAN;
  } else {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
      if (!isnan(x[i])) kx[m++] = x[i];
    rank_kept(kx, m, kr, key);
    for (int64_t i = 0, j = 0; i < n; i++) ret_rank[i] = isnan(x[i]) ? NAN : kr[j++];
  }
  free(kx);
  free(kr);
  free(key);
}

double sl_median(const double *x, int64_t n) {
  if (!x || n < 1) return NAN;
  double *s = sl_malloc((size_t)n, sizeof *s);
  if (!s) return NAN;
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++)
    if (!isnan(x[i])) s[m++] = x[i];
  double med = NAN;
  if (m > 0) {
    qsort(s, (size_t)m, sizeof *s, dbl_asc);
    med = median_sorted(s, m);
  }
  free(s);
  return med;
}

double sl_auc(const double *score, const int *label, int64_t n) {
  if (!score || !label || n < 2) return NAN;
  double *ks;
  int *kl;
  int64_t m;
  if (keep_labelled(score, label, n, &ks, &kl, &m)) return NAN;
  double auc = NAN;
  double *rank = sl_malloc((size_t)m, sizeof *rank);
  vi_t *key = sl_malloc((size_t)m, sizeof *key);
  if (rank && key && m >= 2) {
    int64_t npos = 0;
    for (int64_t i = 0; i < m; i++) npos += kl[i];
    int64_t nneg = m - npos;
    if (npos > 0 && nneg > 0) {
      rank_kept(ks, m, rank, key);
      double r1 = 0.0; /* a sum of half-integers: exact below 2^52 */
      for (int64_t i = 0; i < m; i++)
        if (kl[i]) r1 += rank[i];
      double p = (double)npos;
      auc = (r1 - p * (p + 1.0) / 2.0) / (p * (double)nneg);
    }
  }
  free(rank);
  free(key);
  free(ks);
  free(kl);
  return auc;
}

double sl_mcc(const double *score, const int *label, int64_t n, double threshold) {
  if (!score || !label || n < 2) return NAN;
  double *ks;
  int *kl;
  int64_t m;
  if (keep_labelled(score, label, n, &ks, &kl, &m)) return NAN;
  double mcc = NAN;
  if (m >= 2) {
    if (isnan(threshold)) threshold = sl_median(ks, m);
    if (!isnan(threshold)) {
      /* Confusion counts: c[true][pred]. */
      int64_t c[2][2] = {{0, 0}, {0, 0}};
      for (int64_t i = 0; i < m; i++) c[kl[i]][ks[i] >= threshold ? 1 : 0]++;
      double t0 = (double)(c[0][0] + c[0][1]), t1 = (double)(c[1][0] + c[1][1]);
      double p0 = (double)(c[0][0] + c[1][0]), p1 = (double)(c[0][1] + c[1][1]);
      double nc = (double)(c[0][0] + c[1][1]), ns = p0 + p1;
      double cov_tp = nc * ns - (t0 * p0 + t1 * p1);
      double cov_pp = ns * ns - (p0 * p0 + p1 * p1);
      double cov_tt = ns * ns - (t0 * t0 + t1 * t1);
      mcc = (cov_pp * cov_tt == 0.0) ? 0.0 : cov_tp / sqrt(cov_tt * cov_pp);
    }
  }
  free(ks);
  free(kl);
  return mcc;
}

/* NDCG of m NaN-free pairs (see sl_ndcg); key and g are scratch of m. */
static double ndcg_kept(const double *ks, const double *kt, int64_t m, double top_frac, vi_t *key,
                        double *g) {
  double tmin = kt[0], tmax = kt[0];
  for (int64_t i = 1; i < m; i++) {
    if (kt[i] < tmin) tmin = kt[i];
    if (kt[i] > tmax) tmax = kt[i];
  }
  if (!(tmax > tmin)) return NAN; /* constant truth: calc_ndcg's gains are 0/0 */
  int64_t k = (int64_t)floor((double)m * top_frac);
  if (k > m) k = m;
  for (int64_t i = 0; i < m; i++) g[i] = (kt[i] - tmin) / (tmax - tmin);
  /* DCG: the k best-scored pairs, rank r = 1..k. */
  for (int64_t i = 0; i < m; i++) {
    key[i].v = ks[i];
    key[i].i = i;
  }
  qsort(key, (size_t)m, sizeof *key, vi_desc);
  double dcg = 0.0;
  int64_t nterms = 0;
  for (int64_t r = 1; r <= k; r++) {
    double gi = g[key[r - 1].i];
    if (gi == 0.0) continue;
    dcg += gi / log2((double)r + 1.0);
    nterms++;
  }
  if (nterms == 0) return 0.0; /* calc_ndcg: "if none of the ranks made it return 0" */
  /* IDCG: the k largest gains in decreasing order (k >= 1 here and the
   * largest gain is 1, so IDCG > 0). */
  qsort(g, (size_t)m, sizeof *g, dbl_desc);
  double idcg = 0.0;
  for (int64_t r = 1; r <= k; r++)
    if (g[r - 1] != 0.0) idcg += g[r - 1] / log2((double)r + 1.0);
  return dcg / idcg;
}

double sl_ndcg(const double *score, const double *truth, int64_t n, double top_frac) {
  if (!score || !truth || n < 2 || !(top_frac > 0.0 && top_frac <= 1.0)) return NAN;
  double *ks, *kt;
  int64_t m;
  if (keep_pairs(score, truth, n, &ks, &kt, &m)) return NAN;
  double ndcg = NAN;
  vi_t *key = sl_malloc((size_t)m, sizeof *key);
  double *g = sl_malloc((size_t)m, sizeof *g);
  if (key && g && m >= 2) ndcg = ndcg_kept(ks, kt, m, top_frac, key, g);
  free(key);
  free(g);
  free(ks);
  free(kt);
  return ndcg;
}

/* Top-k recall of m >= 2 NaN-free pairs (see sl_topk_recall); ss and st
 * are scratch of m. */
static double topk_recall_kept(const double *ks, const double *kt, int64_t m, double top_frac,
                               double *ss, double *st) {
  memcpy(ss, ks, (size_t)m * sizeof *ss);
  memcpy(st, kt, (size_t)m * sizeof *st);
  qsort(ss, (size_t)m, sizeof *ss, dbl_asc);
  qsort(st, (size_t)m, sizeof *st, dbl_asc);
  /* ProteinGym: np.percentile(x, 100 - top), which numpy divides by 100. */
  double q01 = (100.0 - 100.0 * top_frac) / 100.0;
  double cut_s = percentile_sorted(ss, m, q01), cut_t = percentile_sorted(st, m, q01);
  int64_t ntrue = 0, nboth = 0;
  for (int64_t i = 0; i < m; i++) {
    if (!(kt[i] > cut_t)) continue;
    ntrue++;
    if (ks[i] > cut_s) nboth++;
  }
  return ntrue > 0 ? (double)nboth / (double)ntrue : 0.0;
}

double sl_topk_recall(const double *score, const double *truth, int64_t n, double top_frac) {
  if (!score || !truth || n < 2 || !(top_frac > 0.0 && top_frac <= 1.0)) return NAN;
  double *ks, *kt;
  int64_t m;
  if (keep_pairs(score, truth, n, &ks, &kt, &m)) return NAN;
  double recall = NAN;
  double *ss = sl_malloc((size_t)m, sizeof *ss), *st = sl_malloc((size_t)m, sizeof *st);
  if (ss && st && m >= 2) recall = topk_recall_kept(ks, kt, m, top_frac, ss, st);
  free(ss);
  free(st);
  free(ks);
  free(kt);
  return recall;
}
