/* conformal_poelwijk.c: the fluorescence experiment of Fannjiang, Bates,
 * Angelopoulos, Listgarten & Jordan (PNAS 2022, Fig. 3) with seqloop's
 * conformal ridge (sl_conformal_ridge_sets). Run by
 * bench/conformal_poelwijk.sh; tests/e2e/conformal.sh runs a few trials.
 *
 * Usage: conformal_poelwijk SUPP_DATA_3.CSV [-t TRIALS] [-n 96,192,384]
 *                           [-l 0,2,4,6] [-a ALPHA] [-s SEED] [-c red|blue]
 *
 * Protocol (the paper's): the 8,192 genotypes of 13 binary sites; features
 * are the order-2 Walsh-Hadamard terms of the +-1 encoding (13 sites, 78
 * pairs; each has standard deviation 1 over the space) and an intercept
 * column of 1000 (so that the ridge penalty barely touches it); ridge
 * penalty gamma = 10 for n = 96, else 1. Per trial: n training genotypes
 * drawn uniformly with replacement, the ridge fit, one designed genotype
 * drawn from p(x) ∝ exp(lambda mu(x)) over the whole space, and the
 * conformal sets over the label grid 0, 0.01, ..., 1.69. Covered: a grid
 * value in the set within 0.01 of the designed genotype's label. Size: the
 * number of grid values in the set times 0.01.
 *
 * Difference from the paper: labels are the landscape's brightness values
 * as published; the paper adds simulated measurement noise whose scale it
 * estimates from an order-7 fit (its blue_noise/red_noise files are not in
 * ../shared/data). Coverage is guaranteed either way; set sizes differ.
 *
 * Methods: exchangeable (unweighted full conformal: what one gets ignoring
 * the shift), standard_cs (weighted by the design distribution of the fit
 * on the training data: Tibshirani et al. 2019's covariate shift, which
 * ignores that the test input depended on the training data), feedback
 * (Fannjiang et al.'s feedback covariate shift).
 *
 * Output: CSV on stdout, one row per (n, lambda):
 *   n,lambda,trials,coverage_exchangeable,coverage_standard_cs,coverage_feedback,
 *   size_exchangeable,size_standard_cs,size_feedback
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/design.h"
#include "seqloop/rng.h"

#define U 8192
#define S 13
#define P (1 + S + S * (S - 1) / 2)

static int parse_list(const char *s, double *v, int max) {
  int k = 0;
  char *e;
  while (*s && k < max) {
    v[k++] = strtod(s, &e);
    if (e == s) return -1;
    s = *e == ',' ? e + 1 : e;
  }
  return k;
}

/* The CSV: two header lines; column 0 is 'BBBBBBBBBBBBB' (quoted bits),
 * 6 is brightness red, 7 brightness blue. */
static int read_landscape(const char *path, int col, double *y) {
  FILE *fp = fopen(path, "r");
  if (!fp) { fprintf(stderr, "conformal_poelwijk: cannot open %s\n", path); return -1; }
  char line[4096];
  int seen = 0, ln = 0;
  for (int k = 0; k < U; k++) y[k] = NAN;
  while (fgets(line, sizeof line, fp)) {
    if (++ln <= 2) continue;
    char *f[16];
    int nf = 0;
    char *p = line;
    f[nf++] = p;
    for (; *p && nf < 16; p++) if (*p == ',') { *p = 0; f[nf++] = p + 1; }
    if (nf <= col) { fprintf(stderr, "conformal_poelwijk: %s:%d: too few columns\n", path, ln); fclose(fp); return -1; }
    const char *b = f[0];
    if (*b == '\'') b++;
    int g = 0;
    for (int i = 0; i < S; i++) {
      if (b[i] != '0' && b[i] != '1') { fprintf(stderr, "conformal_poelwijk: %s:%d: bad genotype\n", path, ln); fclose(fp); return -1; }
      g = 2 * g + (b[i] - '0');
    }
    char *e;
    y[g] = strtod(f[col], &e);
    if (e == f[col] || !isfinite(y[g])) { fprintf(stderr, "conformal_poelwijk: %s:%d: bad value\n", path, ln); fclose(fp); return -1; }
    seen++;
  }
  fclose(fp);
  if (seen != U) { fprintf(stderr, "conformal_poelwijk: %s: %d genotypes, expected %d\n", path, seen, U); return -1; }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: conformal_poelwijk SUPP_DATA_3.CSV [-t TRIALS] [-n LIST] [-l LIST] [-a ALPHA] [-s SEED] [-c red|blue]\n"); return 2; }
  int trials = 500, col = 7;
  double ns[8] = {96, 192, 384}, ls[8] = {0, 2, 4, 6}, alpha = 0.1;
  int nn = 3, nl = 4;
  uint64_t seed = 1;
  for (int a = 2; a < argc; a++) {
    if (a + 1 >= argc) { fprintf(stderr, "conformal_poelwijk: %s needs a value\n", argv[a]); return 2; }
    const char *v = argv[++a];
    if (!strcmp(argv[a - 1], "-t")) trials = atoi(v);
    else if (!strcmp(argv[a - 1], "-n")) nn = parse_list(v, ns, 8);
    else if (!strcmp(argv[a - 1], "-l")) nl = parse_list(v, ls, 8);
    else if (!strcmp(argv[a - 1], "-a")) alpha = atof(v);
    else if (!strcmp(argv[a - 1], "-s")) seed = strtoull(v, NULL, 10);
    else if (!strcmp(argv[a - 1], "-c")) col = !strcmp(v, "red") ? 6 : 7;
    else { fprintf(stderr, "conformal_poelwijk: unknown option %s\n", argv[a - 1]); return 2; }
  }
  if (trials < 1 || nn < 1 || nl < 1) { fprintf(stderr, "conformal_poelwijk: bad -t/-n/-l\n"); return 2; }
  static double y[U], phi[U * P], mu[U], cdf[U];
  if (read_landscape(argv[1], col, y)) return 1;
  for (int g = 0; g < U; g++) {
    double s[S], *f = phi + (size_t)g * P;
    for (int i = 0; i < S; i++) s[i] = ((g >> (S - 1 - i)) & 1) ? 1.0 : -1.0;
    int k = 0;
    f[k++] = 1000.0;
    for (int i = 0; i < S; i++) f[k++] = s[i];
    for (int i = 0; i < S; i++)
      for (int j = i + 1; j < S; j++) f[k++] = s[i] * s[j];
  }
  const int G = 170;
  uint8_t in_exch[170], in_std[170], in_fcs[170];
  printf("n,lambda,trials,coverage_exchangeable,coverage_standard_cs,coverage_feedback,size_exchangeable,"
         "size_standard_cs,size_feedback\n");
  for (int a = 0; a < nn; a++) {
    int n = (int)ns[a];
    double gamma = n == 96 ? 10.0 : 1.0;
    int64_t *train = malloc((size_t)n * sizeof *train);
    double *ytr = malloc((size_t)n * sizeof *ytr);
    for (int b = 0; b < nl; b++) {
      double lam = ls[b];
      sl_conformal_ridge pr = {U, P, phi, NULL, gamma, lam, alpha, 0.0, 0.01, G};
      double cs = 0, cf = 0, ss = 0, sf = 0, cx = 0, sx = 0;
      for (int t = 0; t < trials; t++) {
        sl_rng r;
        sl_rng_seed(&r, seed * 1000003ULL + (uint64_t)n * 131ULL + (uint64_t)(lam * 10) * 7ULL);
        for (int j = 0; j < t; j++) sl_rng_jump(&r);
        for (int i = 0; i < n; i++) { train[i] = (int64_t)(sl_rng_u64(&r) % U); ytr[i] = y[train[i]]; }
        /* The ridge fit on the training data, for the design distribution. */
        double M[P * P] = {0}, bv[P] = {0};
        for (int i = 0; i < n; i++) {
          const double *f = phi + (size_t)train[i] * P;
          for (int u = 0; u < P; u++) { bv[u] += ytr[i] * f[u]; for (int v = 0; v <= u; v++) M[u * P + v] += f[u] * f[v]; }
        }
        for (int u = 0; u < P; u++) { M[u * P + u] += gamma; for (int v = u + 1; v < P; v++) M[u * P + v] = M[v * P + u]; }
        /* solve by Gaussian elimination with the SPD matrix (small, p = 92) */
        for (int c = 0; c < P; c++) {
          for (int rr = c + 1; rr < P; rr++) {
            double f = M[rr * P + c] / M[c * P + c];
            for (int k = c; k < P; k++) M[rr * P + k] -= f * M[c * P + k];
            bv[rr] -= f * bv[c];
          }
        }
        for (int c = P - 1; c >= 0; c--) {
          double s = bv[c];
          for (int k = c + 1; k < P; k++) s -= M[c * P + k] * bv[k];
          bv[c] = s / M[c * P + c];
        }
        double mx = -INFINITY, tot = 0;
        for (int g = 0; g < U; g++) {
          double s = 0;
          for (int k = 0; k < P; k++) s += phi[(size_t)g * P + k] * bv[k];
          mu[g] = lam * s;
          if (mu[g] > mx) mx = mu[g];
        }
        for (int g = 0; g < U; g++) { tot += exp(mu[g] - mx); cdf[g] = tot; }
        double uu = sl_rng_uniform(&r) * tot;
        int test = 0;
        while (test < U - 1 && cdf[test] < uu) test++;
        sl_error err = {0};
        if (sl_conformal_ridge_sets(&pr, train, ytr, n, test, in_exch, in_std, in_fcs, NULL, &err)) {
          fprintf(stderr, "conformal_poelwijk: %s\n", err.msg);
          return 3;
        }
        int covs = 0, covf = 0, covx = 0, ns_ = 0, nf_ = 0, nx_ = 0;
        for (int k = 0; k < G; k++) {
          double yk = 0.01 * k;
          ns_ += in_std[k];
          nf_ += in_fcs[k];
          nx_ += in_exch[k];
          if (fabs(yk - y[test]) < 0.01) { covs |= in_std[k]; covf |= in_fcs[k]; covx |= in_exch[k]; }
        }
        cs += covs; cf += covf; cx += covx; ss += 0.01 * ns_; sf += 0.01 * nf_; sx += 0.01 * nx_;
        if ((t + 1) % 50 == 0)
          fprintf(stderr, "progress n=%d lambda=%g trials=%d coverage %.4f %.4f %.4f size %.4f %.4f %.4f\n", n, lam, t + 1,
                  cx / (t + 1), cs / (t + 1), cf / (t + 1), sx / (t + 1), ss / (t + 1), sf / (t + 1));
      }
      printf("%d,%g,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", n, lam, trials, cx / trials, cs / trials, cf / trials, sx / trials,
             ss / trials, sf / trials);
      fflush(stdout);
    }
    free(train); free(ytr);
  }
  return 0;
}
