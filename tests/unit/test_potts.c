/* test_potts.c: the pseudo-likelihood objective (fast kernel against the
 * plain twin and finite differences), packing, the fit, and the profile. */
#include <lbfgs.h>
#include <stdint.h>
#include <stdlib.h>

#include "seqloop/lbfgs.h"
#include "seqloop/potts.h"
#include "seqloop/weights.h"
#include "tap.h"

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static double urand(void) {
  rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}

/* A random alignment over protein states with gaps, as FASTA text. */
/* Each row after the first repeats the previous one with probability pdup
 * (the kernel merges identical rows) and otherwise resamples a random subset
 * of the previous row's columns (so rows have near neighbours, as in real
 * families, and the incremental kernel sees few changes as well as many). */
static sl_msa *random_msa_abc(int64_t N, int64_t L, double pgap, const char *aa, int span);
static sl_msa *random_msa(int64_t N, int64_t L, double pgap) {
  return random_msa_abc(N, L, pgap, "ACDEFGHIKLMNPQRSTVWY", 4);
}
static sl_msa *random_msa_abc(int64_t N, int64_t L, double pgap, const char *aa, int span) {
  const int na = (int)strlen(aa);
  const double pdup = 0.15;
  size_t cap = (size_t)(N * (L + 16)) + 1;
  char *text = malloc(cap), *p = text, *prev = NULL;
  for (int64_t n = 0; n < N; n++) {
    p += sprintf(p, ">s%lld\n", (long long)n);
    const int dup = prev && urand() < pdup;
    const double pchange = prev ? urand() : 1.0;
    char *row = p;
    for (int64_t i = 0; i < L; i++) {
      if (dup || (prev && urand() >= pchange)) *p++ = prev[i];
      else *p++ = urand() < pgap ? '-' : aa[((int)(urand() * span) + (int)(i % 5)) % na];
    }
    prev = row;
    *p++ = '\n';
  }
  *p = 0;
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  sl_error err;
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  if (sl_seqset_read_mem(text, strlen(text), "random", SL_FMT_AUTO, &ss, &err) == SL_OK &&
      sl_msa_build(ss, &o, &m, &err) != SL_OK)
    m = NULL;
  sl_seqset_destroy(ss);
  free(text);
  return m;
}

static void objective_checks(int gap_missing) {
  sl_error err;
  sl_msa *m = random_msa(90, 9, 0.15);
  if (!m) { CHECK(0, "random alignment"); return; }
  double *w = malloc((size_t)m->N * sizeof *w);
  for (int64_t n = 0; n < m->N; n++) w[n] = 0.2 + urand();
  sl_plm_opts o;
  sl_plm_opts_init(&o);
  o.gap_missing = gap_missing;
  o.lambda_h = 0.01;
  o.lambda_J = 0.5;
  o.threads = 2;
  int q = m->abc->q - gap_missing;
  int64_t np = sl_potts_nparams(m->L, q);
  double *x = malloc((size_t)np * sizeof *x), *g1 = malloc((size_t)np * sizeof *g1),
         *g2 = malloc((size_t)np * sizeof *g2);
  for (int64_t k = 0; k < np; k++) x[k] = (urand() - 0.5) * 0.8;
  double f1 = 0, f2 = 0;
  int st = sl_plm_objective(m, w, &o, x, &f1, g1, &err);
  st |= sl_plm_objective_ref(m, w, &o, x, &f2, g2, &err);
  double gmax = 0, gerr = 0;
  for (int64_t k = 0; k < np; k++) {
    gmax = fmax(gmax, fabs(g2[k]));
    gerr = fmax(gerr, fabs(g1[k] - g2[k]));
  }
  CHECK(st == SL_OK && fabs(f1 - f2) <= 1e-6 * fabs(f2), "%s: fast objective equals the plain twin (%.9g vs %.9g)",
        gap_missing ? "gaps missing" : "gaps as state", f1, f2);
  CHECK(gerr <= 1e-5 * gmax, "%s: fast gradient equals the plain twin (max diff %.3g of %.3g)",
        gap_missing ? "gaps missing" : "gaps as state", gerr, gmax);
  /* Finite differences of the plain twin (double): central, h = 1e-5. */
  double fderr = 0, fdscale = 0;
  for (int t = 0; t < 40; t++) {
    int64_t k = (int64_t)(urand() * (double)np);
    double xk = x[k], fp, fm;
    x[k] = xk + 1e-5;
    st |= sl_plm_objective_ref(m, w, &o, x, &fp, NULL, &err);
    x[k] = xk - 1e-5;
    st |= sl_plm_objective_ref(m, w, &o, x, &fm, NULL, &err);
    x[k] = xk;
    double fd = (fp - fm) / 2e-5;
    fderr = fmax(fderr, fabs(fd - g2[k]));
    fdscale = fmax(fdscale, fabs(g2[k]));
  }
  CHECK(st == SL_OK && fderr <= 1e-6 * fmax(1.0, fdscale), "%s: gradient matches finite differences at 40 coordinates (max err %.3g)",
        gap_missing ? "gaps missing" : "gaps as state", fderr);

  /* Pack/unpack round trip through the model layout. */
  sl_model *mod = sl_model_create("potts", m->L, m->abc, gap_missing);
  sl_potts_unpack(x, mod);
  double *x2 = malloc((size_t)np * sizeof *x2);
  sl_potts_pack(mod, x2);
  double perr = 0;
  for (int64_t k = 0; k < np; k++) perr = fmax(perr, fabs(x2[k] - (double)(float)x[k]));
  CHECK(perr == 0 && mod->J[((1 * m->L + 0) * q + 2) * q + 3] == mod->J[((0 * m->L + 1) * q + 3) * q + 2],
        "pack/unpack round trip; J symmetric");

  /* Fit: the objective decreases from the start and the gradient vanishes. */
  sl_model *fit = NULL;
  sl_plm_report rep;
  o.max_iter = 200;
  o.epsilon = 1e-5;
  st = sl_potts_fit_plm(m, w, &o, &fit, &rep, &err);
  CHECK(st == SL_OK && fit && rep.iterations > 3, "%s: fit runs (%d iterations, f %.6g, %s)",
        gap_missing ? "gaps missing" : "gaps as state", rep.iterations, rep.fx, rep.lbfgs_message);
  if (fit) {
    sl_potts_pack(fit, x);
    double f3;
    st = sl_plm_objective_ref(m, w, &o, x, &f3, g2, &err);
    double gn = 0;
    for (int64_t k = 0; k < np; k++) gn += g2[k] * g2[k];
    CHECK(sqrt(gn) < 1e-2 * fmax(1.0, f3), "%s: gradient small at the optimum (|g| %.3g, f %.6g)",
          gap_missing ? "gaps missing" : "gaps as state", sqrt(gn), f3);
    CHECK(fabs(f3 - rep.fx) < 1e-4 * fabs(f3), "reported objective matches the plain twin at the fitted parameters");
  }
  sl_model_destroy(fit);
  sl_model_destroy(mod);
  free(x); free(x2); free(g1); free(g2); free(w);
  sl_msa_destroy(m);
}

/* The fast objective at a random x (scaled by xscale) against the plain
 * twin, 1, 2 and 3 threads bit for bit, and the portable loops, in both gap
 * modes; weights 0.2 + U(0, 1). */
static void kernel_vs_twin(const sl_msa *m, const char *what, double lambda_J, double xscale) {
  sl_error err;
  double *w = malloc((size_t)m->N * sizeof *w);
  for (int64_t n = 0; n < m->N; n++) w[n] = 0.2 + urand();
  for (int gm = 0; gm <= 1; gm++) {
    const char *gaps = gm ? "gaps missing" : "gaps as state";
    sl_plm_opts o;
    sl_plm_opts_init(&o);
    o.gap_missing = gm;
    o.lambda_J = lambda_J;
    const int q = m->abc->q - gm;
    const int64_t np = sl_potts_nparams(m->L, q);
    double *x = malloc((size_t)np * sizeof *x), *g[5], f[5];
    for (int t = 0; t < 5; t++) g[t] = malloc((size_t)np * sizeof *g[t]);
    for (int64_t k = 0; k < np; k++) x[k] = (urand() - 0.5) * xscale;
    int st = sl_plm_objective_ref(m, w, &o, x, &f[0], g[0], &err);
    for (int t = 1; t <= 3; t++) {
      o.threads = t;
      st |= sl_plm_objective(m, w, &o, x, &f[t], g[t], &err);
    }
    o.portable = 1;
    st |= sl_plm_objective(m, w, &o, x, &f[4], g[4], &err);
    double gmax = 0, gerr = 0, gport = 0;
    for (int64_t k = 0; k < np; k++) {
      gmax = fmax(gmax, fabs(g[0][k]));
      gerr = fmax(gerr, fabs(g[1][k] - g[0][k]));
      gport = fmax(gport, fabs(g[4][k] - g[0][k]));
    }
    CHECK(st == SL_OK && fabs(f[1] - f[0]) <= 1e-6 * fabs(f[0]) && gerr <= 1e-5 * gmax,
          "%s (%lld x %lld, %s): fast kernel equals the plain twin (f %.9g vs %.9g, max dg %.3g of %.3g)", what,
          (long long)m->N, (long long)m->L, gaps, f[1], f[0], gerr, gmax);
    CHECK(f[1] == f[2] && f[1] == f[3] && memcmp(g[1], g[2], (size_t)np * sizeof *x) == 0 &&
          memcmp(g[1], g[3], (size_t)np * sizeof *x) == 0,
          "%s (%s): 1, 2 and 3 threads give identical objective and gradient", what, gaps);
    CHECK(fabs(f[4] - f[0]) <= 1e-6 * fabs(f[0]) && gport <= 1e-5 * gmax,
          "%s (%s): the portable loops equal the plain twin (max dg %.3g)", what, gaps, gport);
    free(x);
    for (int t = 0; t < 5; t++) free(g[t]);
  }
  free(w);
}

/* More distinct rows than two of the kernel's chunks (PLM_CHUNK, 2048
 * rows: the gradient is summed by runs within a chunk) and a column count
 * that leaves the last group of four sites short. */
static void chunk_checks(void) {
  sl_msa *m = random_msa(5400, 13, 0.1);
  if (!m) { CHECK(0, "random alignment"); return; }
  kernel_vs_twin(m, "5400 random rows", 0.2, 0.8);
  sl_msa_destroy(m);
}

/* A real alignment (the PDZ Pfam seed). */
static void real_checks(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta", tap_data());
  sl_msa_opts mo;
  sl_msa_opts_init(&mo);
  sl_msa *m = NULL;
  sl_error err;
  FILE *fp = fopen(path, "r");
  if (!fp) { printf("skip - PDZ seed: data absent (%s)\n", path); return; }
  fclose(fp);
  if (sl_msa_read(path, &mo, &m, &err) != SL_OK) { CHECK(0, "PDZ seed read: %s", err.msg); return; }
  kernel_vs_twin(m, "PDZ seed", 0.3, 0.6);
  sl_msa_destroy(m);
}


/* The fit's optimiser (the project's float L-BFGS) against libLBFGS (double,
 * the library plmc embeds) run here on the same objective: the objective
 * after each of the first iterations agrees to float rounding. */
typedef struct ref_run {
  const sl_msa *m;
  const double *w;
  const sl_plm_opts *o;
  double fx[64];
  int n;
} ref_run;

static lbfgsfloatval_t ref_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
                                const lbfgsfloatval_t step) {
  (void)n; (void)step;
  ref_run *r = inst;
  sl_error err;
  double f = NAN;
  if (sl_plm_objective(r->m, r->w, r->o, x, &f, g, &err) != SL_OK) return NAN;
  return f;
}

static int ref_progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g, const lbfgsfloatval_t fx,
                        const lbfgsfloatval_t xnorm, const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n,
                        int k, int ls) {
  (void)x; (void)g; (void)xnorm; (void)gnorm; (void)step; (void)n; (void)ls;
  ref_run *r = inst;
  if (k <= 64) r->fx[k - 1] = fx;
  r->n = k;
  return 0;
}

static int fit_progress_rec(void *ctx, int iter, int n_evals, double fx, double gnorm, double xnorm,
                            double seconds) {
  (void)n_evals; (void)gnorm; (void)xnorm; (void)seconds;
  ref_run *r = ctx;
  if (iter <= 64) r->fx[iter - 1] = fx;
  r->n = iter;
  return 0;
}

static void optimiser_vs_liblbfgs(void) {
  sl_error err;
  sl_msa *m = random_msa(70, 10, 0.1);
  if (!m) { CHECK(0, "random alignment"); return; }
  double *w = malloc((size_t)m->N * sizeof *w);
  for (int64_t n = 0; n < m->N; n++) w[n] = 0.2 + urand();
  sl_plm_opts o;
  sl_plm_opts_init(&o);
  o.lambda_J = 0.5;
  o.max_iter = 12;
  o.threads = 2;
  const int q = m->abc->q;
  const int64_t np = sl_potts_nparams(m->L, q);
  /* The fit's start (plmc's), rebuilt here for libLBFGS. */
  double *x = calloc((size_t)np, sizeof *x), *f = malloc((size_t)(m->L * q) * sizeof *f), neff = 0;
  for (int64_t n = 0; n < m->N; n++) neff += w[n];
  int st = sl_site_frequencies(m, w, 0, f, &err);
  for (int64_t i = 0; i < m->L; i++) {
    double sum = 0;
    for (int a = 0; a < q; a++) sum += (x[i * q + a] = log(f[i * q + a] * neff + 1.0));
    for (int a = 0; a < q; a++) x[i * q + a] = (double)(float)(x[i * q + a] - sum / q);
  }
  ref_run a = {m, w, &o, {0}, 0}, b = {m, w, &o, {0}, 0};
  lbfgs_parameter_t param;
  lbfgs_parameter_init(&param);
  param.epsilon = o.epsilon;
  param.max_iterations = o.max_iter;
  param.m = o.lbfgs_m;
  lbfgsfloatval_t fx;
  int ret = lbfgs((int)np, x, &fx, ref_eval, ref_progress, &a, &param);
  o.progress = fit_progress_rec;
  o.progress_ctx = &b;
  sl_model *fit = NULL;
  sl_plm_report rep;
  st |= sl_potts_fit_plm(m, w, &o, &fit, &rep, &err);
  double worst = 0;
  for (int k = 0; k < a.n && k < b.n; k++) worst = fmax(worst, fabs(a.fx[k] - b.fx[k]) / fabs(a.fx[k]));
  CHECK(st == SL_OK && ret == LBFGSERR_MAXIMUMITERATION && a.n == 12 && b.n == 12 && worst < 1e-4,
        "float L-BFGS fit follows libLBFGS for 12 iterations (max relative objective difference %.2g; "
        "final %.9g vs %.9g)", worst, b.fx[11], a.fx[11]);
  sl_model_destroy(fit);
  fit = NULL;
  /* --stop-at: the fit stops at the first iteration reaching the target. */
  o.progress = NULL;
  o.stop_at = b.fx[4];
  st = sl_potts_fit_plm(m, w, &o, &fit, &rep, &err);
  CHECK(st == SL_OK && fit && rep.iterations == 5 && rep.fx <= o.stop_at && rep.lbfgs_status == SL_LBFGS_STOPPED &&
        rep.lbfgs_message && rep.lbfgs_message[0],
        "stop_at: the fit stops after 5 iterations at f %.9g <= %.9g (%s)", rep.fx, o.stop_at, rep.lbfgs_message);
  sl_model_destroy(fit);
  free(x); free(f); free(w);
  sl_msa_destroy(m);
}

/* A nucleotide alignment (q = 5, or 4 with gaps missing: fewer states than
 * one 512-bit register) against the plain twin. */
static void dna_checks(void) {
  sl_error err;
  sl_msa *m = random_msa_abc(80, 11, 0.1, "ACGT", 3);
  if (!m) { CHECK(0, "random DNA alignment"); return; }
  double *w = malloc((size_t)m->N * sizeof *w);
  for (int64_t n = 0; n < m->N; n++) w[n] = 0.2 + urand();
  for (int gm = 0; gm <= 1; gm++) {
    sl_plm_opts o;
    sl_plm_opts_init(&o);
    o.gap_missing = gm;
    o.lambda_J = 0.2;
    o.threads = 2;
    const int64_t np = sl_potts_nparams(m->L, m->abc->q - gm);
    double *x = malloc((size_t)np * sizeof *x), *g1 = malloc((size_t)np * sizeof *g1), *g2 = malloc((size_t)np * sizeof *g2);
    for (int64_t k = 0; k < np; k++) x[k] = (urand() - 0.5) * 0.8;
    double f1 = 0, f2 = 0, gmax = 0, gerr = 0;
    int st = sl_plm_objective(m, w, &o, x, &f1, g1, &err);
    st |= sl_plm_objective_ref(m, w, &o, x, &f2, g2, &err);
    for (int64_t k = 0; k < np; k++) {
      gmax = fmax(gmax, fabs(g2[k]));
      gerr = fmax(gerr, fabs(g1[k] - g2[k]));
    }
    CHECK(st == SL_OK && m->abc->q - gm <= 5 && fabs(f1 - f2) <= 1e-6 * fabs(f2) && gerr <= 1e-5 * gmax,
          "DNA (q = %d): fast kernel equals the plain twin (f %.9g vs %.9g, max dg %.3g of %.3g)",
          m->abc->q - gm, f1, f2, gerr, gmax);
    free(x); free(g1); free(g2);
  }
  free(w);
  sl_msa_destroy(m);
}

int main(void) {
  dna_checks();
  optimiser_vs_liblbfgs();
  objective_checks(0);
  objective_checks(1);
  chunk_checks();
  real_checks();

  /* Thread count does not change the objective bit for bit. */
  sl_error err;
  sl_msa *m = random_msa(60, 12, 0.1);
  double *w = malloc((size_t)m->N * sizeof *w);
  for (int64_t n = 0; n < m->N; n++) w[n] = 1.0 / (1 + n % 3);
  sl_plm_opts o;
  sl_plm_opts_init(&o);
  o.lambda_J = 0.1;
  int64_t np = sl_potts_nparams(m->L, m->abc->q);
  double *x = malloc((size_t)np * sizeof *x), *ga = malloc((size_t)np * sizeof *ga), *gb = malloc((size_t)np * sizeof *gb);
  for (int64_t k = 0; k < np; k++) x[k] = (urand() - 0.5);
  double fa, fb;
  o.threads = 1;
  int st = sl_plm_objective(m, w, &o, x, &fa, ga, &err);
  o.threads = 3;
  st |= sl_plm_objective(m, w, &o, x, &fb, gb, &err);
  CHECK(st == SL_OK && fa == fb && memcmp(ga, gb, (size_t)np * sizeof *ga) == 0, "1 and 3 threads: identical objective and gradient");
  o.portable = 1;
  st = sl_plm_objective(m, w, &o, x, &fb, gb, &err);
  double gd = 0;
  for (int64_t k = 0; k < np; k++) gd = fmax(gd, fabs(ga[k] - gb[k]));
  CHECK(st == SL_OK && fabs(fa - fb) <= 1e-6 * fabs(fa) && gd < 1e-4, "portable and SIMD kernels agree (f %.9g vs %.9g, max dg %.2g)", fa, fb, gd);

  /* Profile: the optimum's gradient vanishes, and frequencies follow counts. */
  sl_model *prof = NULL;
  st = sl_profile_fit(m, w, 0.01, 0, &prof, &err);
  CHECK(st == SL_OK && prof, "profile fit");
  if (prof) {
    double worst = 0;
    int q = prof->q;
    for (int64_t i = 0; i < m->L; i++) {
      double c[32] = {0}, C = 0, mx = -1e300, z = 0;
      for (int64_t n = 0; n < m->N; n++) { c[sl_msa_row(m, n)[i]] += w[n]; C += w[n]; }
      for (int a = 0; a < q; a++) mx = fmax(mx, prof->h[i * q + a]);
      for (int a = 0; a < q; a++) z += exp(prof->h[i * q + a] - mx);
      for (int a = 0; a < q; a++) {
        double p = exp(prof->h[i * q + a] - mx) / z;
        worst = fmax(worst, fabs(C * p - c[a] + 0.02 * prof->h[i * q + a]));
      }
    }
    CHECK(worst < 1e-4, "profile: stationarity C p - c + 2 lambda h = 0 (max %.3g)", worst);
  }
  sl_model_destroy(prof);
  free(x); free(ga); free(gb); free(w);
  sl_msa_destroy(m);
  return TAP_DONE();
}
