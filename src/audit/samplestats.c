/* samplestats.c: one- and two-point statistics and Hamming distributions.
 *
 * Two-point frequencies are accumulated per pair (i, j) into a q x q table
 * (L^2/2 q^2 doubles for each alignment: 5 MB for L = 53); the nearest-
 * natural search is N_samples x N_natural row comparisons, split over
 * threads (rows are independent, so results do not depend on the count).
 */
#include "seqloop/samplestats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int dcmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void summarise(double *v, int64_t n, sl_dist_summary *s) {
  memset(s, 0, sizeof *s);
  s->n = n;
  if (n == 0) return;
  qsort(v, (size_t)n, sizeof *v, dcmp);
  double m = 0;
  for (int64_t k = 0; k < n; k++) m += v[k];
  s->mean = m / (double)n;
#define QT(p) v[(int64_t)((p) * (double)(n - 1) + 0.5)]
  s->q05 = QT(0.05); s->q25 = QT(0.25); s->q50 = QT(0.5); s->q75 = QT(0.75); s->q95 = QT(0.95);
#undef QT
}

/* f1: L*q, f2: pairs*q*q connected correlations. */
static int freqs(const sl_msa *m, const double *w, double *f1, double *c2) {
  const int64_t L = m->L;
  const int q = m->abc->q;
  double tot = 0;
  memset(f1, 0, (size_t)(L * q) * sizeof *f1);
  int64_t np = L * (L - 1) / 2;
  memset(c2, 0, (size_t)(np * q * q) * sizeof *c2);
  for (int64_t n = 0; n < m->N; n++) {
    const uint8_t *r = sl_msa_row(m, n);
    double wn = w ? w[n] : 1.0;
    tot += wn;
    for (int64_t i = 0; i < L; i++) f1[i * q + r[i]] += wn;
    int64_t p = 0;
    for (int64_t i = 0; i < L; i++)
      for (int64_t j = i + 1; j < L; j++, p++) c2[(p * q + r[i]) * q + r[j]] += wn;
  }
  if (!(tot > 0)) return -1;
  for (int64_t k = 0; k < L * q; k++) f1[k] /= tot;
  int64_t p = 0;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++, p++)
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          double *v = &c2[(p * q + a) * q + b];
          *v = *v / tot - f1[i * q + a] * f1[j * q + b];
        }
  return 0;
}

static double pearson(const double *x, const double *y, int64_t n, double *slope) {
  double mx = 0, my = 0;
  for (int64_t k = 0; k < n; k++) { mx += x[k]; my += y[k]; }
  mx /= (double)n; my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (int64_t k = 0; k < n; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  if (slope) *slope = sxx > 0 ? sxy / sxx : NAN;
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

int sl_sample_stats_compute(const sl_msa *S, const sl_msa *A, const double *w, int64_t max_pairs_rows,
                            int threads, sl_sample_stats *ret, sl_error *err) {
  if (S->L != A->L || S->abc != A->abc)
    return sl_fail(err, SL_EINPUT, "samples (%lld columns, %s) and naturals (%lld columns, %s) must be "
                   "aligned to the same columns", (long long)S->L, S->abc->name, (long long)A->L, A->abc->name);
  const int64_t L = S->L, np = L * (L - 1) / 2;
  const int q = S->abc->q;
  double *f1s = malloc((size_t)(L * q) * sizeof(double)), *f1a = malloc((size_t)(L * q) * sizeof(double));
  double *c2s = malloc((size_t)(np * q * q + 1) * sizeof(double)), *c2a = malloc((size_t)(np * q * q + 1) * sizeof(double));
  double *nov = malloc((size_t)S->N * sizeof(double));
  int64_t nd = S->N < max_pairs_rows ? S->N : max_pairs_rows;
  double *div = malloc((size_t)(nd * (nd - 1) / 2 + 1) * sizeof(double));
  int status = SL_OK;
  if (!f1s || !f1a || !c2s || !c2a || !nov || !div) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if (freqs(S, NULL, f1s, c2s) || freqs(A, w, f1a, c2a)) {
    status = sl_fail(err, SL_EINPUT, "empty or zero-weight alignment");
    goto DONE;
  }
  ret->r_one = pearson(f1a, f1s, L * q, NULL);
  ret->r_two = pearson(c2a, c2s, np * q * q, &ret->slope_two);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads > 0 ? threads : 1)
  for (int64_t t = 0; t < S->N; t++) {
    const uint8_t *a = sl_msa_row(S, t);
    int64_t best = 0;
    for (int64_t r = 0; r < A->N; r++) {
      const uint8_t *b = sl_msa_row(A, r);
      int64_t same = 0;
      for (int64_t i = 0; i < L; i++) same += a[i] == b[i];
      if (same > best) best = same;
    }
    nov[t] = 1.0 - (double)best / (double)L;
  }
  int64_t k = 0;
  for (int64_t s1 = 0; s1 < nd; s1++)
    for (int64_t s2 = s1 + 1; s2 < nd; s2++) {
      const uint8_t *a = sl_msa_row(S, s1), *b = sl_msa_row(S, s2);
      int64_t diff = 0;
      for (int64_t i = 0; i < L; i++) diff += a[i] != b[i];
      div[k++] = (double)diff / (double)L;
    }
  summarise(nov, S->N, &ret->novelty);
  summarise(div, k, &ret->diversity);
DONE:
  free(f1s); free(f1a); free(c2s); free(c2a); free(nov); free(div);
  return status;
}
