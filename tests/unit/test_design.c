/* test_design.c: Ehrlich functions (holo-bench's invariants), the table
 * oracle's input checks, the bootstrap ridge predictor, and the loop's
 * determinism through the ledger. */
#include <math.h>
#include <unistd.h>

#include "seqloop/design.h"
#include "tap.h"

static char dir[] = "/tmp/sl-design-XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  fputs(text, fp);
  fclose(fp);
}

/* Rows allowed by the mask: a cyclic band of 2b+1 states around some centre,
 * plus the diagonal. */
static int banded_row(const double *row, int v, int a, int b) {
  for (int centre = 0; centre < v; centre++) {
    int ok = 1;
    for (int j = 0; j < v && ok; j++) {
      int d = ((j - centre) % v + v) % v;
      int in_band = d <= b || d >= v - b;
      ok = (row[j] > 0) == (in_band || j == a);
    }
    if (ok) return 1;
  }
  return 0;
}

static void test_ehrlich(void) {
  static const int cfg[][6] = {{32, 4, 4, 32, 4, 1}, {32, 4, 4, 32, 4, 2}, {20, 2, 5, 40, 5, 3},
                               {32, 4, 8, 256, 8, 7}, {8, 2, 4, 8, 2, 5}, {5, 1, 3, 7, 3, 0}};
  sl_error err;
  for (size_t t = 0; t < sizeof cfg / sizeof *cfg; t++) {
    int v = cfg[t][0], c = cfg[t][1], k = cfg[t][2], L = cfg[t][3], q = cfg[t][4];
    sl_ehrlich *e = NULL;
    int st = sl_ehrlich_create(v, c, k, L, q, (uint64_t)cfg[t][5], &e, &err);
    CHECK(st == SL_OK, "ehrlich v=%d c=%d k=%d L=%d q=%d builds", v, c, k, L, q);
    if (st) continue;
    int rows_ok = 1, band_ok = 1, diag_ok = 1;
    for (int a = 0; a < v; a++) {
      double s = 0;
      for (int b = 0; b < v; b++) s += e->T[a * v + b];
      rows_ok &= fabs(s - 1) < 1e-12;
      diag_ok &= e->T[a * v + a] > 0;
      band_ok &= banded_row(e->T + a * v, v, a, (int)(v * 0.4));
    }
    CHECK(rows_ok, "  transition rows sum to 1");
    CHECK(diag_ok, "  self-transitions always allowed");
    CHECK(band_ok, "  each row allows a cyclic band of half-width floor(0.4 v) (+ the diagonal)");
    double sst = 0, resid = 0;
    for (int b = 0; b < v; b++) {
      double x = 0;
      for (int a = 0; a < v; a++) x += e->stat[a] * e->T[a * v + b];
      resid += fabs(x - e->stat[b]);
      sst += e->stat[b];
    }
    CHECK(fabs(sst - 1) < 1e-9 && resid < 1e-9, "  stationary distribution: pi T = pi (resid %.2g)", resid);
    int motif_feasible = 1, spacing_ok = 1;
    for (int j = 1; j < c * k; j++) motif_feasible &= e->T[e->motif[j - 1] * v + e->motif[j]] > 0;
    for (int m = 0; m < c; m++) {
      const int *off = e->spacing + m * k;
      spacing_ok &= off[0] == 0;
      for (int j = 1; j < k; j++) spacing_ok &= off[j] > off[j - 1];
      spacing_ok &= off[k - 1] <= (k - 1) + (L - c * k) / c;
    }
    CHECK(motif_feasible, "  the motifs chained together are one feasible trajectory");
    CHECK(spacing_ok, "  spacings start at 0, increase, and fit in L/c");
    uint8_t *x = malloc((size_t)L);
    sl_ehrlich_optimum(e, x);
    CHECK(sl_ehrlich_feasible(e, x) && sl_ehrlich_eval(e, x) == 1.0, "  the motif-built optimum is feasible with f = 1");
    sl_ehrlich_initial(e, x);
    double f0 = sl_ehrlich_eval(e, x);
    CHECK(sl_ehrlich_feasible(e, x) && f0 >= 0 && f0 <= 1, "  the initial solution is feasible, f = %.4g", f0);
    /* A banned transition makes any sequence infeasible: f = 0. */
    int ba = -1, bb = -1;
    for (int a = 0; a < v && ba < 0; a++)
      for (int b = 0; b < v; b++) if (e->T[a * v + b] == 0) { ba = a; bb = b; break; }
    if (ba >= 0) {
      sl_ehrlich_optimum(e, x);
      x[L - 2] = (uint8_t)ba;
      x[L - 1] = (uint8_t)bb;
      CHECK(!sl_ehrlich_feasible(e, x) && sl_ehrlich_eval(e, x) == 0.0, "  a banned transition gives f = 0");
    }
    /* holo-bench's tests: DMP trajectories are feasible with 0 <= f <= 1;
     * uniform random sequences of length 256 over 32 states are infeasible. */
    sl_rng rr;
    sl_rng_seed(&rr, 99);
    int dmp_ok = 1, unif_infeasible = 0;
    for (int n = 0; n < 50; n++) {
      double u = sl_rng_uniform(&rr) * 1.0, acc = 0;
      x[0] = 0;
      for (int a = 0; a < v; a++) { acc += e->stat[a]; if (u < acc) { x[0] = (uint8_t)a; break; } }
      for (int pos = 1; pos < L; pos++) {
        u = sl_rng_uniform(&rr);
        acc = 0;
        int b = x[pos - 1];
        for (int a = 0; a < v; a++) if (e->T[x[pos - 1] * v + a] > 0) { b = a; acc += e->T[x[pos - 1] * v + a]; if (u < acc) break; }
        x[pos] = (uint8_t)b;
      }
      double f = sl_ehrlich_eval(e, x);
      dmp_ok &= sl_ehrlich_feasible(e, x) && f >= 0 && f <= 1;
      for (int pos = 0; pos < L; pos++) x[pos] = (uint8_t)(sl_rng_u64(&rr) % (uint64_t)v);
      unif_infeasible += !sl_ehrlich_feasible(e, x) && sl_ehrlich_eval(e, x) == 0.0;
    }
    CHECK(dmp_ok, "  50 trajectories of the chain are feasible with f in [0, 1]");
    if (L >= 256) CHECK(unif_infeasible == 50, "  50 uniform random sequences of length %d are infeasible (f = 0)", L);
    free(x);
    sl_ehrlich *e2 = NULL;
    CHECK(sl_ehrlich_create(v, c, k, L, q, (uint64_t)cfg[t][5], &e2, &err) == SL_OK &&
          memcmp(e2->T, e->T, (size_t)v * v * sizeof *e->T) == 0 && memcmp(e2->motif, e->motif, (size_t)c * k * sizeof(int)) == 0,
          "  the same seed rebuilds the same instance");
    sl_ehrlich_destroy(e2);
    sl_ehrlich_destroy(e);
  }
  /* Quantisation, on an instance whose transitions are all allowed. */
  sl_ehrlich *e = NULL;
  CHECK(sl_ehrlich_create(8, 1, 4, 8, 4, 11, &e, &err) == SL_OK, "ehrlich v=8 c=1 k=4 L=8");
  if (e) {
    for (int i = 0; i < 64; i++) e->T[i] = 1.0 / 8;
    uint8_t x[8];
    /* The motif at its offsets from position 0, every other site a state not
     * in the motif, then element 0 removed: 3 of 4 present. */
    int other = 0;
    for (int s = 0; s < 8; s++) {
      int used = 0;
      for (int j = 0; j < 4; j++) used |= e->motif[j] == s;
      if (!used) { other = s; break; }
    }
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)other;
    for (int j = 0; j < 4; j++) x[e->spacing[j]] = (uint8_t)e->motif[j];
    CHECK(sl_ehrlich_eval(e, x) == 1.0, "quantisation: the whole motif gives 1");
    x[0] = (uint8_t)other;
    double f4 = sl_ehrlich_eval(e, x);
    e->q = 2;
    double f2 = sl_ehrlich_eval(e, x);
    e->q = 1;
    double f1 = sl_ehrlich_eval(e, x);
    CHECK(f4 == 0.75 && f2 == 0.5 && f1 == 0.0, "quantisation: 3 of 4 present gives 0.75 (q=4), 0.5 (q=2), 0 (q=1): %g %g %g", f4, f2, f1);
    sl_ehrlich_destroy(e);
  }
  CHECK(sl_ehrlich_create(8, 4, 4, 12, 4, 1, &e, &err) == SL_EUSAGE, "L < c*k is refused: %s", err.msg);
  CHECK(sl_ehrlich_create(8, 2, 4, 12, 5, 1, &e, &err) == SL_EUSAGE, "q > k is refused: %s", err.msg);
}

static void test_table(void) {
  char path[256], spec[300];
  sl_error err;
  sl_oracle *o = NULL;
  snprintf(path, sizeof path, "%s/t.csv", dir);
  write_file(path, "Variants,Fitness\nAAAA,1.0\nAAAC,2.5\nCAAA,0.5\n");
  snprintf(spec, sizeof spec, "table:%s", path);
  CHECK(sl_oracle_create(spec, 0, 0, NULL, &o, &err) == SL_OK && o->L == 4 && o->optimum == 2.5 &&
        !strcmp(o->optimum_seq, "AAAC"), "table oracle: L 4, optimum 2.5 at AAAC");
  if (o) {
    uint8_t x[12];
    double y[3];
    int st = sl_design_encode(o, "AAAC", x, &err) | sl_design_encode(o, "CAAA", x + 4, &err) |
             sl_design_encode(o, "WWWW", x + 8, &err);
    CHECK(st == SL_OK && sl_oracle_measure(o, x, 3, y, &err) == SL_OK && y[0] == 2.5 && y[1] == 0.5 && isnan(y[2]),
          "lookups, and an unmeasured variant is NAN (missing=na)");
    sl_oracle_destroy(o);
  }
  snprintf(spec, sizeof spec, "table:%s,missing=error", path);
  if (sl_oracle_create(spec, 0, 0, NULL, &o, &err) == SL_OK) {
    uint8_t x[4];
    double y;
    int st = sl_design_encode(o, "WWWW", x, &err);
    st = st ? st : sl_oracle_measure(o, x, 1, &y, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, "WWWW was not measured"), "missing=error names the variant: %s", err.msg);
    sl_oracle_destroy(o);
  }
  static const char *bad[][2] = {
    {"Variants,Fitness\nAAAA,1.0\nAAAA,2.0\n", "AAAA appears twice"},
    {"Variants,Fitness\nAAAA,1.0\nAAC,2.0\n", "line 3: sequence 'AAC' has length 3"},
    {"Variants,Fitness\nAAAA,1.0\nAABA,2.0\n", "line 3: sequence 'AABA': symbol 'B'"},
    {"Variants,Fitness\nAAAA,1.0\nAAAC,nan\n", "line 3: value 'nan'"},
    {"Variants,Score\nAAAA,1.0\n", "no column 'Fitness'"},
  };
  for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
    write_file(path, bad[t][0]);
    snprintf(spec, sizeof spec, "table:%s", path);
    int st = sl_oracle_create(spec, 0, 0, NULL, &o, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, bad[t][1]) && strstr(err.msg, "t.csv") && !o,
          "bad table %zu refused: %s", t, err.msg);
  }
  CHECK(sl_oracle_create("table:x.csv,colour=red", 0, 0, NULL, &o, &err) == SL_EUSAGE && strstr(err.msg, "colour"),
        "unknown table parameter: %s", err.msg);
}

/* The ensemble means of p for the M rows of xt (L sites each). */
static void predict_rows(const sl_predictor *p, const uint8_t *xt, int M, int L, double *y) {
  double sd;
  for (int m = 0; m < M; m++) sl_predictor_predict(p, xt + m * L, 0, &y[m], &sd, NULL);
}

static double corr(const double *a, const double *b, int n) {
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  for (int i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
  return sab / sqrt(saa * sbb);
}

static void test_predictor(void) {
  enum { L = 6, Q = 4, N = 200, M = 200 };
  sl_rng r;
  sl_rng_seed(&r, 5);
  double w[L][Q];
  for (int i = 0; i < L; i++) for (int a = 0; a < Q; a++) w[i][a] = sl_rng_uniform(&r) * 2 - 1;
  static uint8_t x[N * L], xt[M * L];
  double y[N], yt[M], yp[M], yadd[M], ypair[M], yep[N], yept[M];
  for (int n = 0; n < N + M; n++) {
    uint8_t *s = n < N ? x + n * L : xt + (n - N) * L;
    double v = 0;
    for (int i = 0; i < L; i++) { s[i] = (uint8_t)(sl_rng_u64(&r) % Q); v += w[i][s[i]]; }
    double ep = (s[0] == s[1]) * 2.0 + (s[2] == s[3]) * 2.0; /* purely pairwise */
    if (n < N) { y[n] = v; yep[n] = ep; } else { yt[n - N] = v; yept[n - N] = ep; }
  }
  sl_predictor_opts o;
  sl_predictor_opts_init(&o);
  o.lambda = 0.1;
  sl_predictor *p = NULL;
  sl_error err;
  CHECK(sl_predictor_fit(&o, L, x, y, NULL, N, &r, &p, &err) == SL_OK, "predictor fits 200 points");
  double sd_train = 0, sd_test = 0, sd;
  for (int m = 0; m < M; m++) sl_predictor_predict(p, xt + m * L, 0, &yp[m], &sd, NULL), sd_test += sd;
  for (int n = 0; n < N; n++) { double mu; sl_predictor_predict(p, x + n * L, 0, &mu, &sd, NULL); sd_train += sd; }
  double rho = corr(yp, yt, M);
  CHECK(rho > 0.95, "additive truth: held-out correlation %.3f > 0.95", rho);
  CHECK(sd_test > 0, "ensemble members disagree (mean held-out sd %.3g)", sd_test / M);
  sl_predictor_destroy(p);
  /* Noise-aware: with y observed under noise of sd 1, a predictor told the
   * noise smooths more (smaller training fit spread) and predicts the
   * noiseless truth better than one that interpolates the noise. */
  {
    double yn[N], ypn[M], ypq[M];
    sl_rng rn;
    sl_rng_seed(&rn, 17);
    for (int n = 0; n < N; n++) {
      double u1 = sl_rng_uniform(&rn), u2 = sl_rng_uniform(&rn);
      yn[n] = y[n] + 1.0 * sqrt(-2 * log(1 - u1)) * cos(6.283185307179586 * u2);
    }
    sl_predictor_opts on = o;
    on.lambda = 0.01;
    on.pairwise = 1; /* more features (264) than points (200): interpolation overfits */
    sl_rng r1, r2;
    sl_rng_seed(&r1, 3);
    sl_rng_seed(&r2, 3);
    sl_predictor *p0 = NULL, *p1 = NULL;
    int st0 = sl_predictor_fit(&on, L, x, yn, NULL, N, &r1, &p0, &err);
    on.noise_sd = 1.0;
    int st1 = sl_predictor_fit(&on, L, x, yn, NULL, N, &r2, &p1, &err);
    CHECK(st0 == SL_OK && st1 == SL_OK, "predictor fits noisy data with and without the noise sd");
    double e0 = 0, e1 = 0;
    for (int m = 0; m < M; m++) {
      sl_predictor_predict(p0, xt + m * L, 0, &ypq[m], &sd, NULL);
      sl_predictor_predict(p1, xt + m * L, 0, &ypn[m], &sd, NULL);
      e0 += (ypq[m] - yt[m]) * (ypq[m] - yt[m]);
      e1 += (ypn[m] - yt[m]) * (ypn[m] - yt[m]);
    }
    CHECK(e1 < 0.8 * e0, "told the noise sd, the predictor's held-out squared error drops (%.3f vs %.3f)", e1 / M, e0 / M);
    sl_predictor_destroy(p0);
    sl_predictor_destroy(p1);
  }
  /* Pairwise truth: the pairwise kernel must beat the additive one. */
  sl_predictor *pa = NULL, *pp = NULL;
  CHECK(sl_predictor_fit(&o, L, x, yep, NULL, N, &r, &pa, &err) == SL_OK, "additive fit of a pairwise truth");
  o.pairwise = 1;
  CHECK(sl_predictor_fit(&o, L, x, yep, NULL, N, &r, &pp, &err) == SL_OK, "pairwise fit of a pairwise truth");
  if (pa && pp) {
    predict_rows(pa, xt, M, L, yadd);
    predict_rows(pp, xt, M, L, ypair);
    double ra = corr(yadd, yept, M), rp = corr(ypair, yept, M);
    CHECK(rp > 0.9 && rp > ra + 0.3, "pairwise features capture epistasis: r %.3f vs additive %.3f", rp, ra);
  }
  sl_predictor_destroy(pa);
  sl_predictor_destroy(pp);
  /* One member, no bootstrap: sd 0. */
  o.members = 1;
  o.pairwise = 0;
  CHECK(sl_predictor_fit(&o, L, x, y, NULL, N, &r, &p, &err) == SL_OK, "a one-member fit");
  double mu, s1 = -1, member[1];
  sl_predictor_predict(p, xt, 0, &mu, &s1, member);
  CHECK(s1 == 0 && member[0] == mu, "one member: sd 0, member equals mean");
  sl_predictor_destroy(p);
  /* Replicates: 20 sequences measured twice (y +- d, d differing per pair)
   * and 20 once. One row per replicate and one row per sequence (the mean,
   * with its count) are the same ridge problem, so a one-member ensemble
   * predicts the same everywhere; the counts matter (the means with counts of
   * 1 predict otherwise); a count below 1 is refused. */
  {
    enum { NR = 40, ND = 20 };
    static uint8_t xr[(NR + ND) * L];
    double yr[NR + ND], ym[NR], cnt[NR], one[NR], maxd = 0, maxm = 0;
    for (int i = 0; i < NR; i++) {
      memcpy(xr + i * L, x + i * L, L);
      double d = i < ND ? 0.3 + 0.05 * i : 0.0;
      yr[i] = y[i] + d;
      ym[i] = y[i];
      cnt[i] = i < ND ? 2 : 1;
      one[i] = 1;
      if (i < ND) { memcpy(xr + (NR + i) * L, x + i * L, L); yr[NR + i] = y[i] - d; }
    }
    sl_predictor *pr = NULL, *pm = NULL, *p1 = NULL;
    o.members = 1;
    o.pairwise = 1;
    o.lambda = 0.5;
    CHECK(sl_predictor_fit(&o, L, xr, yr, NULL, NR + ND, &r, &pr, &err) == SL_OK &&
          sl_predictor_fit_counts(&o, L, x, ym, cnt, NULL, NR, &r, &pm, &err) == SL_OK &&
          sl_predictor_fit_counts(&o, L, x, ym, one, NULL, NR, &r, &p1, &err) == SL_OK, "replicate fits");
    for (int m = 0; pr && pm && p1 && m < M; m++) {
      double a, b, c, sdd;
      sl_predictor_predict(pr, xt + m * L, 0, &a, &sdd, NULL);
      sl_predictor_predict(pm, xt + m * L, 0, &b, &sdd, NULL);
      sl_predictor_predict(p1, xt + m * L, 0, &c, &sdd, NULL);
      if (fabs(a - b) > maxd) maxd = fabs(a - b);
      if (fabs(b - c) > maxm) maxm = fabs(b - c);
    }
    CHECK(maxd < 1e-9, "replicates as rows = means with counts: max difference %.3g over %d held-out points", maxd, M);
    CHECK(maxm > 1e-3, "the counts matter: means with counts 1 differ by up to %.3g", maxm);
    sl_predictor_destroy(pr); sl_predictor_destroy(pm); sl_predictor_destroy(p1);
    cnt[3] = 0.5;
    sl_predictor *pb = NULL;
    CHECK(sl_predictor_fit_counts(&o, L, x, ym, cnt, NULL, NR, &r, &pb, &err) == SL_EINPUT && !pb &&
          strstr(err.msg, "point 3 has replicate count 0.5"), "a count below 1 is refused, naming the point: %s", err.msg);
  }
}

/* The loop through the library: two campaigns with one seed, same ledger. */
static char *campaign(const char *name, uint64_t seed) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s.db", dir, name);
  sl_error err;
  sl_ledger *l = NULL;
  sl_oracle *o = NULL;
  char *out = NULL;
  size_t len = 0;
  if (sl_ledger_open(path, &l, &err) || sl_oracle_create("ehrlich:v=10,c=2,k=3,L=12,q=3,seed=2", 0, 0, NULL, &o, &err))
    goto DONE;
  sl_design_opts op;
  sl_design_opts_init(&op);
  op.seed = seed;
  op.rounds = 5;
  op.batch = 3;
  op.proposer = SL_PROPOSE_GA;
  op.acquisition = SL_ACQ_THOMPSON;
  op.max_edits = 6;
  int64_t run;
  int created;
  if (sl_design_setup(l, o, &op, o->start_seq, NULL, 0, NULL, "test", "{}", "{}", &run, &created, &err)) goto DONE;
  for (;;) {
    sl_design_round R;
    if (sl_design_step(l, run, o, &op, NULL, &R, &err)) goto DONE;
    if (R.k < 0) break;
  }
  FILE *fp = open_memstream(&out, &len);
  const char *const *names;
  int nt = sl_ledger_export_tables(&names), st = SL_OK;
  for (int t = 0; t < nt && !st; t++) { /* all tables, each under a marker line */
    fprintf(fp, "# table: %s\n", names[t]);
    st = sl_ledger_export_table_csv(l, names[t], fp, 0, &err);
  }
  fclose(fp);
  if (st) { free(out); out = NULL; goto DONE; }
DONE:
  sl_oracle_destroy(o);
  sl_ledger_close(l);
  return out;
}

/* Residue descriptors: the published scales are standardised and ordered as
 * the papers say, and a model of descriptor products predicts residue pairs
 * that no training sequence holds, where one-hot pair features cannot. */
static void test_descriptors(void) {
  const char *aa = SL_DESIGN_PROTEIN;
  double d[20][5], sum[5] = {0}, ss[5] = {0};
  for (int a = 0; a < 20; a++) {
    CHECK(sl_predictor_descriptors(aa[a], d[a]) == 5, "descriptors of %c", aa[a]);
    for (int e = 0; e < 5; e++) sum[e] += d[a][e], ss[e] += d[a][e] * d[a][e];
  }
  for (int e = 0; e < 5; e++)
    CHECK(fabs(sum[e]) < 1e-9 && fabs(ss[e] - 4.0) < 1e-9, "scale %d standardised over the 20 (sum %.3g, ss %.6f = 20/5)",
          e, sum[e], ss[e]);
  int I = 7, R = 14, K = 8, D = 2, G = 5, W = 18, A = 0, P = 12, L = 9;
  for (int a = 0; a < 20; a++) {
    CHECK(d[I][0] >= d[a][0] && d[R][0] <= d[a][0], "Kyte-Doolittle: I the most (4.5), R the least (-4.5) hydropathic vs %c", aa[a]);
    CHECK(d[W][1] >= d[a][1] && d[G][1] <= d[a][1], "Zamyatnin volume: W the largest, G the smallest vs %c", aa[a]);
    CHECK(d[P][4] >= d[a][4] && d[A][4] <= d[a][4], "Pace-Scholtz: P the least helical, A the most vs %c", aa[a]);
  }
  CHECK(d[K][2] > 0 && d[D][2] < 0 && fabs(d[A][2] - d[L][2]) < 1e-12, "charge: K +, D -, A = L");
  /* Grantham polarity of D (13.0) standardised by hand: mean 8.325, population sd 2.62238 */
  CHECK(fabs(d[D][3] * sqrt(5.0) - (13.0 - 8.325) / 2.6223796445) < 1e-6, "Grantham polarity of D: %.4f",
        d[D][3] * sqrt(5.0));
  double tmp[5];
  CHECK(sl_predictor_descriptors('X', tmp) == -1 && sl_predictor_descriptors('B', tmp) == -1, "no descriptors for X or B");
  enum { N = 300, M = 60, LL = 3 };
  sl_rng r;
  sl_rng_seed(&r, 9);
  static uint8_t x[N * LL], xt[M * LL];
  double y[N], yt[M], y1[M], y2[M];
  /* truth: the product of the volumes of sites 0 and 1 plus hydropathy of site 2;
   * training never holds the same residue at sites 0 and 1 (the 20 diagonal pairs),
   * the test set holds only those */
  for (int n = 0; n < N + M; n++) {
    uint8_t *s = n < N ? x + n * LL : xt + (n - N) * LL;
    for (int i = 0; i < LL; i++) s[i] = (uint8_t)(sl_rng_u64(&r) % 20);
    if (n < N) while (s[1] == s[0]) s[1] = (uint8_t)(sl_rng_u64(&r) % 20);
    else s[1] = s[0];
    double v = 5 * d[s[0]][1] * d[s[1]][1] + d[s[2]][0];
    if (n < N) y[n] = v; else yt[n - N] = v;
  }
  sl_predictor_opts o;
  sl_predictor_opts_init(&o);
  o.pairwise = 1;
  o.lambda = 0.1;
  sl_predictor *p1 = NULL, *p2 = NULL;
  sl_error err;
  sl_rng_seed(&r, 3);
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &p1, &err) == SL_OK, "one-hot pairwise fit");
  o.descriptors = 1;
  sl_rng_seed(&r, 3);
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &p2, &err) == SL_OK, "descriptor fit");
  if (p1 && p2) {
    predict_rows(p1, xt, M, LL, y1);
    predict_rows(p2, xt, M, LL, y2);
    double r1 = corr(y1, yt, M), r2 = corr(y2, yt, M);
    CHECK(r2 > 0.9 && r2 > r1 + 0.3, "descriptor products predict unseen residue pairs: r %.3f vs one-hot pairs %.3f", r2, r1);
  }
  sl_predictor_destroy(p1);
  sl_predictor_destroy(p2);
  /* weight 0 is the one-hot model exactly; a non-protein alphabet is refused */
  {
    sl_predictor *a = NULL, *b = NULL;
    o.descriptors = 0;
    sl_rng_seed(&r, 4);
    CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &a, &err) == SL_OK, "fit, descriptors 0");
    o.symbols = "0123456789ABCDEFGHIJ";
    sl_rng_seed(&r, 4);
    CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &b, &err) == SL_OK, "fit, descriptors 0, any alphabet");
    if (a && b) {
      double ma, mb, sa, sb;
      sl_predictor_predict(a, xt, 0, &ma, &sa, NULL);
      sl_predictor_predict(b, xt, 0, &mb, &sb, NULL);
      CHECK(ma == mb && sa == sb, "descriptors 0 ignore the alphabet");
    }
    sl_predictor_destroy(a);
    sl_predictor_destroy(b);
    o.descriptors = 1;
    sl_predictor *c = NULL;
    CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &c, &err) == SL_EUSAGE && strstr(err.msg, "protein alphabet"),
          "descriptors on a non-protein alphabet: SL_EUSAGE naming the cause");
    sl_predictor_destroy(c);
  }
}

/* The all-orders kernel (order weight c) against a brute-force feature
 * expansion: for every non-empty site set S, the one-hot indicator of x_S
 * and the tensor product of the descriptors of x_S (5^|S| values), both
 * weighted sqrt(c^(|S|-1)), and w times the latter. Kernel ridge with one
 * member (no resampling) on those explicit inner products, solved here,
 * must give the predictor's predictions; c -> 0 is the additive model. */
static void test_order_weight(void) {
  enum { N = 14, T = 5, LL = 3 };
  const double c = 0.7, w = 0.8, lam = 0.5;
  sl_rng r;
  sl_rng_seed(&r, 21);
  uint8_t x[(N + T) * LL];
  double y[N], d[20][5];
  for (int a = 0; a < 20; a++) (void)sl_predictor_descriptors(SL_DESIGN_PROTEIN[a], d[a]);
  for (int i = 0; i < (N + T) * LL; i++) x[i] = (uint8_t)(sl_rng_u64(&r) % 4); /* A C D E: many agreements */
  for (int i = 0; i < N; i++) y[i] = sl_rng_uniform(&r) * 3 + (x[i * LL] == x[i * LL + 1] ? 2 : 0);
  /* brute force: sum over site sets S (bit masks) of c^(|S|-1) times the
   * inner product of that set's explicit features */
  double K[(N + T) * (N + T)];
  for (int a = 0; a < N + T; a++)
    for (int b = 0; b < N + T; b++) {
      const uint8_t *u = x + a * LL, *v = x + b * LL;
      double k = 0;
      for (int S = 1; S < (1 << LL); S++) {
        int sz = 0, onehot = 1;
        for (int i = 0; i < LL; i++)
          if (S >> i & 1) sz++, onehot &= u[i] == v[i];
        double desc = 0; /* enumerate every descriptor index tuple of S */
        int ntup = 1;
        for (int t = 0; t < sz; t++) ntup *= 5;
        for (int t = 0; t < ntup; t++) {
          double f = 1;
          for (int i = 0, rest = t; i < LL; i++)
            if (S >> i & 1) f *= d[u[i]][rest % 5] * d[v[i]][rest % 5], rest /= 5;
          desc += f;
        }
        k += pow(c, sz - 1) * (onehot + w * w * desc);
      }
      K[a * (N + T) + b] = k;
    }
  double G[N * N], al[N], ybar = 0, ss = 0;
  for (int i = 0; i < N; i++) ybar += y[i] / N;
  for (int i = 0; i < N; i++) ss += (y[i] - ybar) * (y[i] - ybar);
  const double ysd = sqrt(ss / (N - 1));
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) G[i * N + j] = K[i * (N + T) + j] + (i == j ? lam : 0);
    al[i] = (y[i] - ybar) / ysd;
  }
  CHECK(sl_cholesky_solve(G, al, N) == 0, "brute-force Gram positive definite");
  sl_predictor_opts o;
  sl_predictor_opts_init(&o);
  o.members = 1;
  o.lambda = lam;
  o.order_weight = c;
  o.descriptors = w;
  o.pairwise = 1; /* implied by the order weight: no effect */
  sl_predictor *p = NULL, *q = NULL;
  sl_error err;
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &p, &err) == SL_OK, "order-weight fit");
  double worst = 0;
  for (int t = 0; p && t < N + T; t++) {
    double f = 0, m, sd;
    for (int i = 0; i < N; i++) f += K[t * (N + T) + i] * al[i];
    f = ybar + ysd * f;
    sl_predictor_predict(p, x + t * LL, 0, &m, &sd, NULL);
    worst = fmax(worst, fabs(m - f));
  }
  CHECK(p && worst < 1e-9, "all-orders kernel = brute-force feature expansion (max |diff| %.3g)", worst);
  sl_predictor_destroy(p);
  /* c -> 0: the additive model (one-hot sites and descriptors, no pairs) */
  o.order_weight = 1e-9;
  o.pairwise = 1;
  p = NULL;
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &p, &err) == SL_OK, "order weight 1e-9");
  o.order_weight = 0;
  o.pairwise = 0;
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &q, &err) == SL_OK, "additive fit");
  worst = 0;
  for (int t = 0; p && q && t < N + T; t++) {
    double m1, m2, sd;
    sl_predictor_predict(p, x + t * LL, 0, &m1, &sd, NULL);
    sl_predictor_predict(q, x + t * LL, 0, &m2, &sd, NULL);
    worst = fmax(worst, fabs(m1 - m2));
  }
  CHECK(p && q && worst < 1e-6, "order weight -> 0 is the additive model (max |diff| %.3g)", worst);
  sl_predictor_destroy(p);
  sl_predictor_destroy(q);
  /* refusals name the cause: a negative weight; (1 + c)^L past e^690 */
  o.order_weight = -1;
  p = NULL;
  CHECK(sl_predictor_fit(&o, LL, x, y, NULL, N, &r, &p, &err) == SL_EUSAGE && strstr(err.msg, "order weight"),
        "negative order weight: SL_EUSAGE");
  sl_predictor_destroy(p);
  static uint8_t big[2 * 1000];
  double yb[2] = {0, 1};
  o.order_weight = 1;
  o.descriptors = 0;
  p = NULL;
  CHECK(sl_predictor_fit(&o, 1000, big, yb, NULL, 2, &r, &p, &err) == SL_EUSAGE && strstr(err.msg, "overflows"),
        "order weight 1 over 1000 sites: SL_EUSAGE naming the overflow (%s)", err.msg);
  sl_predictor_destroy(p);
}

static void test_loop(void) {
  char *a = campaign("a", 7), *b = campaign("b", 7), *c = campaign("c", 8);
  CHECK(a && b && strcmp(a, b) == 0, "same seed: identical ledger exports (GA + Thompson + edit budget)");
  CHECK(a && c && strcmp(a, c) != 0, "another seed: another ledger");
  /* The edit budget holds: every designed sequence is within 6 of the start. */
  int ok = a != NULL, nseq = 0;
  if (a) {
    const char *p = strstr(a, "# table: sequences\n");
    char start[64] = "";
    p = p ? strchr(p, '\n') + 1 : NULL;
    p = p ? strchr(p, '\n') + 1 : NULL; /* skip header */
    while (p && *p && *p != '#') {
      char seq[64], origin[16];
      long long id, run;
      if (sscanf(p, "%lld,%lld,%63[^,],%15[^,]", &id, &run, seq, origin) != 4) { ok = 0; break; }
      if (!strcmp(origin, "natural")) strcpy(start, seq);
      else {
        int d = 0;
        for (int i = 0; seq[i] && start[i]; i++) d += seq[i] != start[i];
        ok &= d <= 6 && d >= 1;
        nseq++;
      }
      p = strchr(p, '\n');
      p = p ? p + 1 : NULL;
    }
  }
  CHECK(ok && nseq == 15, "15 designed sequences, each 1..6 edits from the start (%d)", nseq);
  free(a); free(b); free(c);
  CHECK(sl_design_proposer_parse("ga") == SL_PROPOSE_GA && sl_design_acquisition_parse("ei") == SL_ACQ_EI &&
        sl_design_acquisition_parse("pi") < 0, "name parsing");
}

/* Campaign options: JSON round trip, the diff on resume, and the limits. */
static void test_campaign(void) {
  sl_error err;
  sl_design_campaign_opts a, b;
  sl_design_campaign_opts_init(&a);
  a.oracle = sl_strdup("ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4");
  a.o.batch = 4;
  a.o.seed = 3;
  a.o.min_prior = 2.5;
  a.o.pred.pairwise = 1;
  a.o.rounds = -1;
  a.o.budget = 30;
  char *ja = sl_design_campaign_opts_json(&a);
  CHECK(ja && strstr(ja, "\"rounds\":null") && strstr(ja, "\"budget\":30") && strstr(ja, "\"min_prior\":2.5"),
        "options JSON: no round limit is null, the budget and min_prior as numbers: %s", ja ? ja : "");
  int st = sl_design_campaign_opts_from_json(ja, &b, &err);
  CHECK(st == SL_OK && b.o.rounds == -1 && b.o.budget == 30 && b.o.batch == 4 && b.o.seed == 3 &&
        b.o.min_prior == 2.5 && b.o.pred.pairwise == 1 && b.oracle && !strcmp(b.oracle, a.oracle) && !b.start,
        "options JSON reads back");
  char *jb = st == SL_OK ? sl_design_campaign_opts_json(&b) : NULL;
  CHECK(jb && !strcmp(ja, jb), "and writes the same JSON again");
  char *diff = NULL;
  CHECK(sl_design_campaign_opts_diff(ja, jb, &diff, &err) == SL_OK && diff == NULL, "equal options: no diff");
  free(jb);
  b.o.batch = 16;
  b.o.rounds = 50;      /* limits never count as a difference */
  b.o.budget = 99;
  b.o.pred.pairwise = 0;
  free(b.oracle);
  b.oracle = sl_strdup("lab");
  jb = sl_design_campaign_opts_json(&b);
  CHECK(sl_design_campaign_opts_diff(ja, jb, &diff, &err) == SL_OK && diff &&
        !strcmp(diff, "--oracle: the ledger's run used 'ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4', this command line "
                "says 'lab'; --batch: the ledger's run used 4, this command line says 16; --pairwise: the "
                "ledger's run used it, this command line does not"),
        "the diff names each option with both values, limits ignored: %s", diff ? diff : "(none)");
  free(diff);
  diff = NULL;
  CHECK(sl_design_campaign_opts_diff("{\"batch\":4,\"predictor\":true,\"old_key\":1}", "{\"batch\":4,\"predictor\":false}",
                                     &diff, &err) == SL_OK && diff &&
        !strcmp(diff, "--no-predictor: the ledger's run did not use it, this command line does; --old-key: the "
                "ledger's run used 1, this command line says none"),
        "--no-predictor spelled as on the command line; a key only the ledger has is named: %s", diff ? diff : "");
  free(diff);
  CHECK(sl_design_campaign_opts_from_json("[1,2]", &b, &err) == SL_EINPUT && strstr(err.msg, "not a JSON object"),
        "stored options that are not an object are refused: %s", err.msg);
  free(ja); free(jb);
  sl_design_campaign_opts_free(&a);
  sl_design_campaign_opts_free(&b);

  /* The limits through the library: --budget alone runs past 10 rounds;
   * both: the first reached ends it, and sl_design_end says which. */
  static const struct { int rounds_given, rounds; int64_t budget; int64_t n, k; int why; } lim[] = {
    {0, 10, 33, 33, 16, SL_DESIGN_END_BUDGET},
    {1, 5, 33, 11, 5, SL_DESIGN_END_ROUNDS},
    {1, 20, 9, 9, 4, SL_DESIGN_END_BUDGET},
    {1, 4, 9, 9, 4, SL_DESIGN_END_BUDGET | SL_DESIGN_END_ROUNDS}};
  for (size_t t = 0; t < sizeof lim / sizeof *lim; t++) {
    char path[256];
    snprintf(path, sizeof path, "%s/lim%zu.db", dir, t);
    sl_design_campaign_opts g;
    sl_design_campaign_opts_init(&g);
    g.oracle = sl_strdup("ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4");
    g.o.batch = 2;
    g.o.rounds = lim[t].rounds;
    g.o.budget = lim[t].budget;
    g.given = g.budget_given = 1;
    g.rounds_given = lim[t].rounds_given;
    sl_design_campaign *c = NULL;
    sl_design_end e = {0};
    st = sl_design_campaign_open(path, &g, SL_CAMPAIGN_RUN, "test", &c, &err);
    if (!st) st = sl_design_campaign_run(c, NULL, NULL, &e, &err);
    CHECK(st == SL_OK && e.n_measured == lim[t].n && e.last_round == lim[t].k && e.why == lim[t].why,
          "limits %s--rounds %d --budget %lld, batch 2: %lld measurements, last round %lld, why %d (got %lld, %lld, %d)",
          lim[t].rounds_given ? "" : "(no) ", lim[t].rounds, (long long)lim[t].budget, (long long)lim[t].n,
          (long long)lim[t].k, lim[t].why, (long long)e.n_measured, (long long)e.last_round, e.why);
    sl_design_campaign_close(c);
    sl_design_campaign_opts_free(&g);
  }
  /* A resume with another option is refused before anything is written. */
  sl_design_campaign_opts g;
  sl_design_campaign_opts_init(&g);
  g.oracle = sl_strdup("ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4");
  g.o.batch = 3;
  g.given = 1;
  char path[256];
  snprintf(path, sizeof path, "%s/lim0.db", dir);
  sl_design_campaign *c = NULL;
  st = sl_design_campaign_open(path, &g, SL_CAMPAIGN_RUN, "test", &c, &err);
  CHECK(st == SL_EUSAGE && !c && strstr(err.msg, "--batch: the ledger's run used 2, this command line says 3") &&
        !strchr(err.msg, '{'), "resume with another --batch: %s", err.msg);
  /* With no option given, the stored ones (and limits) are taken: nothing left to do. */
  sl_design_campaign_opts_free(&g);
  sl_design_campaign_opts_init(&g);
  sl_design_end e = {0};
  st = sl_design_campaign_open(path, &g, SL_CAMPAIGN_RUN, "test", &c, &err);
  if (!st) st = sl_design_campaign_run(c, NULL, NULL, &e, &err);
  CHECK(st == SL_OK && c && c->opts.o.batch == 2 && c->opts.o.rounds == -1 && e.n_measured == 33 &&
        e.why == SL_DESIGN_END_BUDGET, "resume with no options: the stored ones, the budget already spent");
  sl_design_campaign_close(c);
  sl_design_campaign_opts_free(&g);
}


/* ---- conformal ------------------------------------------------------------------ */
/* Ridge by brute force: solve (sum phi phi^T + g I) beta = sum y phi over the
 * rows listed, by Gaussian elimination (SPD, no pivoting needed). */
static void ridge_brute(const double *phi, int p, const int64_t *rows, const double *y, int n, double g, double *beta) {
  double M[64 * 64] = {0};
  for (int a = 0; a < p; a++) { beta[a] = 0; M[a * p + a] = g; }
  for (int i = 0; i < n; i++) {
    const double *f = phi + rows[i] * p;
    for (int a = 0; a < p; a++) { beta[a] += y[i] * f[a]; for (int b = 0; b < p; b++) M[a * p + b] += f[a] * f[b]; }
  }
  for (int c = 0; c < p; c++)
    for (int r = c + 1; r < p; r++) {
      double f = M[r * p + c] / M[c * p + c];
      for (int k = c; k < p; k++) M[r * p + k] -= f * M[c * p + k];
      beta[r] -= f * beta[c];
    }
  for (int c = p - 1; c >= 0; c--) {
    double s = beta[c];
    for (int k = c + 1; k < p; k++) s -= M[c * p + k] * beta[k];
    beta[c] = s / M[c * p + c];
  }
}
static double dotp(const double *a, const double *b, int p) { double s = 0; for (int k = 0; k < p; k++) s += a[k] * b[k]; return s; }

static void test_conformal(void) {
  /* The quantile: split conformal is the ceil((1-a)(n+1))-th smallest. */
  double s9[9] = {5, 3, 9, 1, 7, 2, 8, 4, 6}, w9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(sl_conformal_quantile(s9, NULL, 9, 1, 0.1) == 9, "split: 9 scores, alpha 0.1: the 9th smallest");
  CHECK(isinf(sl_conformal_quantile(s9, NULL, 8, 1, 0.1)), "split: 8 scores, alpha 0.1: unbounded");
  CHECK(sl_conformal_quantile(s9, NULL, 9, 1, 0.5) == 5, "split: alpha 0.5: the 5th smallest");
  CHECK(sl_conformal_quantile(s9, w9, 9, 1, 0.1) == 9 && sl_conformal_quantile(s9, w9, 9, 1, 0.5) == 5,
        "weighted with equal weights = split");
  double w3[3] = {1, 1, 6}, s3[3] = {1, 2, 3};
  CHECK(sl_conformal_quantile(s3, w3, 3, 2, 0.5) == 3, "weighted: the heavy score decides");
  CHECK(isinf(sl_conformal_quantile(s3, w3, 3, 20, 0.5)), "weighted: a heavy test point gives +inf");
  /* Split conformal covers 1 - alpha of exchangeable draws: coverage lies in
   * [1 - alpha, 1 - alpha + 1/(n+1)] in expectation; 4000 trials, sd 0.005. */
  sl_rng r;
  sl_rng_seed(&r, 11);
  int cov = 0, T = 4000, n = 49;
  double y[50], mean[50], sd[50];
  for (int t = 0; t < T; t++) {
    for (int i = 0; i <= n; i++) {
      double u1 = sl_rng_uniform(&r), u2 = sl_rng_uniform(&r);
      sd[i] = 0.5 + u2;
      mean[i] = 0;
      y[i] = sd[i] * sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307179586 * sl_rng_uniform(&r)) * (1 + u2);
    }
    double q = sl_conformal_calibrate(y, mean, sd, NULL, n, 1, 0.1), lo, hi;
    sl_conformal_interval(mean[n], sd[n], q, &lo, &hi);
    cov += y[n] >= lo && y[n] <= hi;
  }
  double c = (double)cov / T;
  CHECK(c > 0.885 && c < 0.935, "split conformal coverage %.4f on exchangeable data (nominal 0.90, at most 0.92)", c);

  /* Jackknife+-after-bootstrap by hand: 3 members, 4 training points; point
   * 3 is in every resample (left out). mu_-i(x): mean of the members that
   * left i out: i=0 {m1,m2} -> 2.5; i=1 {m0} -> 1; i=2 {m2} -> 3. R = 0.5,
   * 1, 0.25: lo = {2, 0, 2.75}, hi = {3, 2, 3.25}. alpha = 0.25, m = 3:
   * upper = ceil(0.75 * 4) = 3rd smallest of hi = 3.25, lower = floor(0.25 * 4)
   * = 1st smallest of lo = 0. */
  {
    double member[3] = {1, 2, 3}, res[4] = {0.5, 1, 0.25, NAN}, work[8], lo, hi;
    uint8_t inbag[12] = {1, 0, 0, /* point 0 */ 0, 1, 1, /* 1 */ 1, 1, 0, /* 2 */ 1, 1, 1 /* 3 */};
    sl_conformal_jab(member, 3, inbag, res, 4, 0.25, work, &lo, &hi);
    CHECK(lo == 0 && hi == 3.25, "jackknife+-after-bootstrap by hand: [%g, %g] = [0, 3.25]", lo, hi);
    sl_conformal_jab(member, 3, inbag, res, 4, 0.1, work, &lo, &hi);
    CHECK(isinf(lo) && lo < 0 && isinf(hi), "too few points for alpha 0.1: unbounded");
  }
  /* Full conformal ridge under feedback covariate shift, against brute force:
   * a space of 2^6 genotypes, order-2 features (p = 22), n = 15 training
   * points, labels a random landscape; for every grid value refit the n + 1
   * leave-one-out models and the design distributions directly. */
  enum { S6 = 6, U6 = 64, P6 = 1 + S6 + S6 * (S6 - 1) / 2, N6 = 15, G6 = 40 };
  static double phi[U6 * P6], land[U6];
  for (int g = 0; g < U6; g++) {
    double sg[S6], *f = phi + g * P6;
    int k = 0;
    for (int i = 0; i < S6; i++) sg[i] = ((g >> i) & 1) ? 1 : -1;
    f[k++] = 10;
    for (int i = 0; i < S6; i++) f[k++] = sg[i];
    for (int i = 0; i < S6; i++) for (int j = i + 1; j < S6; j++) f[k++] = sg[i] * sg[j];
    land[g] = sl_rng_uniform(&r) + 0.3 * sg[0] * sg[1];
  }
  int64_t train[N6], rows[N6 + 1];
  double ytr[N6], yaug[N6 + 1], beta[P6];
  for (int i = 0; i < N6; i++) { train[i] = (int64_t)(sl_rng_u64(&r) % U6); ytr[i] = land[train[i]]; }
  int64_t test = 37;
  int bad_std = 0, bad_fcs = 0, nin = 0;
  for (int li = 0; li < 2; li++) {
    double lam = li ? 3.0 : 0.0;
    sl_conformal_ridge pr = {U6, P6, phi, NULL, 0.5, lam, 0.2, -0.5, 0.05, G6};
    uint8_t ins[G6], inf_[G6], inx[G6];
    sl_error err = {0};
    int st = sl_conformal_ridge_sets(&pr, train, ytr, N6, test, inx, ins, inf_, NULL, &err);
    CHECK(st == SL_OK, "conformal ridge sets: %s", err.msg);
    /* the fit on the training data: standard weights */
    double btr[P6], wst[N6 + 1], wfc[N6 + 1], sc[N6 + 1];
    ridge_brute(phi, P6, train, ytr, N6, 0.5, btr);
    for (int i = 0; i <= N6; i++) wst[i] = exp(lam * dotp(phi + (i < N6 ? train[i] : test) * P6, btr, P6));
    for (int k = 0; k < G6; k++) {
      double yk = -0.5 + 0.05 * k;
      for (int i = 0; i < N6; i++) { rows[i] = train[i]; yaug[i] = ytr[i]; }
      rows[N6] = test; yaug[N6] = yk;
      for (int i = 0; i <= N6; i++) {
        int64_t rr[N6 + 1]; double yy[N6 + 1]; int m = 0;
        for (int j = 0; j <= N6; j++) if (j != i) { rr[m] = rows[j]; yy[m] = yaug[j]; m++; }
        ridge_brute(phi, P6, rr, yy, m, 0.5, beta);
        double mui = dotp(phi + rows[i] * P6, beta, P6), Z = 0;
        sc[i] = fabs(yaug[i] - mui);
        for (int u = 0; u < U6; u++) Z += exp(lam * dotp(phi + u * P6, beta, P6));
        wfc[i] = exp(lam * mui) / Z;
      }
      double qs = sl_conformal_quantile(sc, lam ? wst : NULL, N6, wst[N6], 0.2);
      double qx = sl_conformal_quantile(sc, NULL, N6, 1, 0.2);
      bad_std += inx[k] != (sc[N6] <= qx);
      double qf = sl_conformal_quantile(sc, lam ? wfc : NULL, N6, wfc[N6], 0.2);
      bad_std += ins[k] != (sc[N6] <= qs);
      bad_fcs += inf_[k] != (sc[N6] <= qf);
      nin += inf_[k];
    }
  }
  CHECK(bad_std == 0 && bad_fcs == 0 && nin > 0 && nin < 2 * G6,
        "conformal ridge sets equal brute force (standard %d, feedback %d grid values differ; %d in)", bad_std, bad_fcs, nin);
}

/* The library checks the options as the command line does: a caller that
 * fills the struct (the Python package, a stored campaign) gets the same
 * refusal, naming the option. */
static void test_opts_check(void) {
  sl_error err;
  sl_design_opts o;
  sl_design_opts_init(&o);
  CHECK(sl_design_opts_check(&o, &err) == SL_OK, "the defaults pass the check");
  o.rounds = -1;
  o.min_prior = 0;
  o.alpha = 1e-6;
  CHECK(sl_design_opts_check(&o, &err) == SL_OK, "no round limit, min_prior 0 and alpha at its bound pass");
  static const struct { const char *what, *msg; } bad[] = {
    {"batch 0", "--batch: expected an integer in [1, 1000000], not 0"},
    {"batch -3", "--batch: expected an integer in [1, 1000000], not -3"},
    {"members 1001", "--members: expected an integer in [1, 1000], not 1001"},
    {"lambda 0", "--lambda: expected a finite number > 0, not 0"},
    {"alpha NaN", "--alpha: expected a finite number in [1e-06, 0.999999], not nan"},
    {"beta inf", "--beta: expected a finite number, not inf"},
    {"cal_fraction 1", "--cal-fraction: expected a finite number in [1e-06, 0.999999], not 1"},
    {"replicates 101", "--replicates: expected an integer in [1, 100], not 101"},
    {"min_prior -1", "--min-prior: expected a number >= 0, not -1"},
    {"conformal 99", "unknown conformal method code 99"},
    {"prior_top 1.5", "--prior-top: expected a finite number in [0, 1], not 1.5"},
    {"rounds 2000000", "--rounds: expected an integer in [0, 1000000], not 2000000"},
  };
  for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
    sl_design_opts_init(&o);
    switch (t) {
      case 0: o.batch = 0; break;
      case 1: o.batch = -3; break;
      case 2: o.pred.members = 1001; break;
      case 3: o.pred.lambda = 0; break;
      case 4: o.alpha = NAN; break;
      case 5: o.beta = INFINITY; break;
      case 6: o.cal_fraction = 1; break;
      case 7: o.replicates = 101; break;
      case 8: o.min_prior = -1; break;
      case 9: o.conformal = 99; break;
      case 10: o.prior_top = 1.5; break;
      default: o.rounds = 2000000; break;
    }
    memset(&err, 0, sizeof err);
    int st = sl_design_opts_check(&o, &err);
    CHECK(st == SL_EUSAGE && !strcmp(err.msg, bad[t].msg), "%s refused: %s", bad[t].what, err.msg);
  }
  /* a stored campaign out of range (a ledger edited elsewhere) is bad input */
  sl_design_campaign_opts b;
  CHECK(sl_design_campaign_opts_from_json("{\"oracle\":\"lab\",\"batch\":-3}", &b, &err) == SL_EINPUT &&
        strstr(err.msg, "out of range: --batch"), "stored options out of range are refused: %s", err.msg);
}

int main(void) {
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_ehrlich();
  test_table();
  test_predictor();
  test_descriptors();
  test_order_weight();
  test_loop();
  test_campaign();
  test_opts_check();
  test_conformal();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return TAP_DONE();
}
