/* test_ar.c: autoregressive DCA - exact normalisation by enumeration, the
 * per-site gradient by finite differences, sampling frequencies, and
 * reproducibility of the fit and of sampling; the fit's trie kernel against
 * a plain double evaluation of the definition, its twins, and a fit against
 * libLBFGS on that double objective (real data). */
#include <lbfgs.h>
#include <stdlib.h>

#include "seqloop/ar.h"
#include "seqloop/kern.h"
#include "seqloop/weights.h"
#include "tap.h"

static sl_msa *dna_msa(void) {
  const char *text =
    ">a\nACGT\n>b\nACGA\n>c\nTCGA\n>d\nAGGT\n>e\nAC-T\n>f\nGCGT\n>g\nACTT\n>h\nACGG\n>i\nTTGA\n>j\nACGT\n";
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  sl_error err;
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  o.alphabet = SL_ABC_DNA;
  o.allow_dup_names = 1;
  if (sl_seqset_read_mem(text, strlen(text), "dna", SL_FMT_AUTO, &ss, &err) || sl_msa_build(ss, &o, &m, &err))
    m = NULL;
  sl_seqset_destroy(ss);
  return m;
}

/* The AVX-512 twins of the logits and the exponential give the same bits as
 * the plain ones: same samples, same log P, on a protein-sized random model. */
static void kernel_twins(void) {
  sl_error err;
  if (sl_kernel_resolve(SL_KERN_AUTO) != SL_KERN_AVX512) {
    printf("ok - # SKIP ar kernel twins: no AVX-512 on this CPU\n");
    return;
  }
  const int64_t L = 37, n = 3000;
  sl_model *m = sl_model_create("ar", L, sl_alphabet_get(SL_ABC_PROTEIN), 0);
  for (int64_t v = 0; v < L * m->q; v++) m->h[v] = (float)(2.0 * sin(0.37 * (double)v));
  for (int64_t v = 0; v < L * L * m->q * m->q; v++) m->J[v] = (float)(0.8 * cos(1.3 * (double)v));
  for (int64_t i = 0; i < L; i++) m->order[i] = (i * 11) % L;
  uint8_t *a = malloc((size_t)(n * L)), *b = malloc((size_t)(n * L));
  double *la = malloc((size_t)n * sizeof *la), *lb = malloc((size_t)n * sizeof *lb);
  int st = sl_ar_set_kernel(m, SL_KERN_PLAIN, &err);
  st |= sl_ar_sample_many(m, n, 11, 1, 0.7, NULL, a, la, &err);
  double exact = sl_ar_logp(m, a);
  st |= sl_ar_set_kernel(m, SL_KERN_AVX512, &err);
  st |= sl_ar_sample_many(m, n, 11, 2, 0.7, NULL, b, lb, &err);
  CHECK(st == SL_OK && memcmp(a, b, (size_t)(n * L)) == 0 && memcmp(la, lb, (size_t)n * sizeof *la) == 0,
        "plain and AVX-512 twins: identical samples and log P (%lld x %lld, T 0.7)", (long long)n, (long long)L);
  CHECK(fabs(la[0] - exact) < 1e-4 * fabs(exact), "the sampler's log P (%.6f) matches the exact one (%.6f)", la[0], exact);
  double l512 = sl_ar_logp(m, b + L);
  st = sl_ar_set_kernel(m, SL_KERN_PLAIN, &err);
  CHECK(st == SL_OK && sl_ar_logp(m, b + L) == l512, "log P identical with either twin");
  free(a);
  free(b);
  free(la);
  free(lb);
  sl_model_destroy(m);
}


/* A protein alignment with shared prefixes, repeated rows and varied
 * weights (some zero): rows drawn from a few ancestors with mutations, so
 * the prefix trie has real branching. */
static sl_msa *protein_msa(int64_t N, int64_t L, uint64_t seed) {
  static const char aa[] = "ACDEFGHIKLMNPQRSTVWY-";
  char *text = malloc((size_t)(N * (L + 16)) + 1), *t = text;
  uint64_t r = seed;
  char anc[4][64];
  for (int c = 0; c < 4; c++)
    for (int64_t i = 0; i < L; i++) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      anc[c][i] = aa[(r >> 33) % 21];
    }
  for (int64_t n = 0; n < N; n++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    const int c = (int)((r >> 40) % 4);
    t += sprintf(t, ">s%lld\n", (long long)n);
    for (int64_t i = 0; i < L; i++) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      const uint64_t u = (r >> 33) % 100;
      /* mutations grow along the row, so late columns vary more */
      *t++ = u < (uint64_t)(5 + 40 * i / L) ? aa[(r >> 45) % 21] : anc[c][i];
    }
    *t++ = '\n';
  }
  *t = 0;
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  sl_error err;
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  if (sl_seqset_read_mem(text, strlen(text), "prot", SL_FMT_AUTO, &ss, &err) || sl_msa_build(ss, &o, &m, &err))
    m = NULL;
  sl_seqset_destroy(ss);
  free(text);
  return m;
}

/* The site objective from its definition, in double, row by row. */
static double ref_site(const sl_msa *msa, const double *w, const int64_t *order, int64_t k, double lh,
                       double lJ, const double *x, double *g) {
  const int q = msa->abc->q;
  const int64_t nv = q + k * q * q, i = order[k];
  double sum = 0, f = 0;
  for (int64_t n = 0; n < msa->N; n++) sum += w[n];
  if (g) memset(g, 0, (size_t)nv * sizeof *g);
  for (int64_t n = 0; n < msa->N; n++) {
    const double wr = w[n] / sum;
    if (!(wr > 0)) continue;
    const uint8_t *s = sl_msa_row(msa, n);
    double lg[32] = {0}, mx, z = 0;
    for (int a = 0; a < q; a++) {
      lg[a] = x[a];
      for (int64_t l = 0; l < k; l++) lg[a] += x[q + l * q * q + a * q + s[order[l]]];
    }
    mx = lg[0];
    for (int a = 1; a < q; a++) mx = lg[a] > mx ? lg[a] : mx;
    for (int a = 0; a < q; a++) z += exp(lg[a] - mx);
    f += wr * (mx + log(z) - lg[s[i]]);
    if (g)
      for (int a = 0; a < q; a++) {
        const double rr = wr * (exp(lg[a] - mx) / z - (a == s[i]));
        g[a] += rr;
        for (int64_t l = 0; l < k; l++) g[q + l * q * q + a * q + s[order[l]]] += rr;
      }
  }
  for (int64_t v = 0; v < nv; v++) {
    const double lam = v < q ? lh : lJ;
    f += lam * x[v] * x[v];
    if (g) g[v] += 2 * lam * x[v];
  }
  return f;
}

/* The fit's kernel (prefix trie, float, twins) against the definition. */
static void trie_kernel(void) {
  sl_error err;
  const int64_t N = 600, L = 24;
  sl_msa *msa = protein_msa(N, L, 7);
  CHECK(msa && msa->N == N && msa->L == L && msa->abc->q == 21, "synthetic protein alignment (%lld x %lld)",
        (long long)N, (long long)L);
  if (!msa) return;
  const int q = 21;
  double *w = malloc((size_t)N * sizeof *w);
  for (int64_t n = 0; n < N; n++) w[n] = n % 17 == 3 ? 0.0 : 0.2 + (double)(n % 5);
  int64_t order[64];
  for (int64_t i = 0; i < L; i++) order[i] = (i * 7) % L;
  const int64_t ks[] = {0, 1, 9, L - 1};
  const int64_t nvmax = q + (L - 1) * q * q;
  double *x = malloc((size_t)nvmax * sizeof *x), *g = malloc((size_t)nvmax * sizeof *g);
  double *gr = malloc((size_t)nvmax * sizeof *gr), *g2 = malloc((size_t)nvmax * sizeof *g2);
  for (int64_t v = 0; v < nvmax; v++) x[v] = 0.8 * sin(0.71 * (double)v) + (v < q ? 0.5 * cos((double)v) : 0.0);
  const int has512 = sl_kernel_supported(SL_KERN_AVX512);
  for (int t = 0; t < 4; t++) {
    const int64_t k = ks[t], nv = q + k * q * q;
    double f = 0, fr = ref_site(msa, w, order, k, 0.01, 0.02, x, gr), f2 = 0, gd = 0, gs = 0;
    int st = sl_ar_site_objective_kernel(msa, w, order, k, 0.01, 0.02, SL_KERN_PLAIN, x, &f, g, &err);
    for (int64_t v = 0; v < nv; v++) {
      gd = fmax(gd, fabs(g[v] - gr[v]));
      gs = fmax(gs, fabs(gr[v]));
    }
    /* float logits of magnitude ~10 round at ~1e-6; the objective is a
     * weighted mean of such terms */
    CHECK(st == SL_OK && fabs(f - fr) < 2e-6 * fmax(1, fabs(fr)) && gd < 2e-6 * fmax(1, gs),
          "site %lld (%lld variables): trie kernel objective %.9f vs double definition %.9f, "
          "gradient max error %.2g (max |g| %.3g)", (long long)k, (long long)nv, f, fr, gd, gs);
    if (has512) {
      st = sl_ar_site_objective_kernel(msa, w, order, k, 0.01, 0.02, SL_KERN_AVX512, x, &f2, g2, &err);
      CHECK(st == SL_OK && f2 == f && memcmp(g, g2, (size_t)nv * sizeof *g) == 0,
            "site %lld: AVX-512 and plain twins give the same bits", (long long)k);
    } else {
      printf("ok - # SKIP site %lld twins: no AVX-512 on this CPU\n", (long long)k);
    }
  }
  /* Finite differences of the kernel's own objective (float rounding noise
   * ~1e-7 divided by the step 2e-3 stays far below the tolerance). */
  {
    const int64_t k = L - 1, nv = q + k * q * q;
    double f0, err_max = 0, gs = 0;
    int st = sl_ar_site_objective(msa, w, order, k, 0.01, 0.02, x, &f0, g, &err);
    for (int64_t v = 0; v < nv; v += 97) {
      const double xv = x[v];
      double fp, fm;
      x[v] = xv + 1e-3;
      st |= sl_ar_site_objective(msa, w, order, k, 0.01, 0.02, x, &fp, NULL, &err);
      x[v] = xv - 1e-3;
      st |= sl_ar_site_objective(msa, w, order, k, 0.01, 0.02, x, &fm, NULL, &err);
      x[v] = xv;
      err_max = fmax(err_max, fabs((fp - fm) / 2e-3 - g[v]));
      gs = fmax(gs, fabs(g[v]));
    }
    CHECK(st == SL_OK && err_max < 2e-4 * fmax(1, gs),
          "site %lld: trie kernel gradient matches central differences (max err %.2g, max |g| %.3g)",
          (long long)k, err_max, gs);
  }
  /* Whole fits: the plain twin (portable) and the AVX-512 one, 1 and 2
   * threads: the same bits. */
  {
    sl_ar_opts o;
    sl_ar_opts_init(&o);
    sl_ar_report rep;
    sl_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    o.threads = 1;
    int st = sl_ar_fit(msa, w, &o, &m1, &rep, &err);
    o.threads = 2;
    st |= sl_ar_fit(msa, w, &o, &m2, &rep, &err);
    o.portable = 1;
    o.threads = 3;
    st |= sl_ar_fit(msa, w, &o, &m3, &rep, &err);
    const size_t nj = (size_t)(L * L * q * q) * sizeof(float), nh = (size_t)(L * q) * sizeof(float);
    CHECK(st == SL_OK && m1 && m2 && m3 && memcmp(m1->J, m2->J, nj) == 0 && memcmp(m1->h, m2->h, nh) == 0,
          "protein fit: identical parameters with 1 and 2 threads");
    CHECK(st == SL_OK && m1 && m3 && memcmp(m1->J, m3->J, nj) == 0 && memcmp(m1->h, m3->h, nh) == 0 &&
              memcmp(m1->order, m3->order, (size_t)L * sizeof *m1->order) == 0,
          "protein fit: the plain kernel (portable, 3 threads) gives the same parameters");
    CHECK(st == SL_OK && rep.n_not_converged == 0 && rep.iterations >= L && rep.evaluations >= rep.iterations,
          "protein fit converged at every site (%lld iterations, %lld evaluations)",
          (long long)rep.iterations, (long long)rep.evaluations);
    sl_model_destroy(m1);
    sl_model_destroy(m2);
    sl_model_destroy(m3);
  }
  free(x); free(g); free(gr); free(g2); free(w);
  sl_msa_destroy(msa);
}

/* libLBFGS on the double definition, one site: the reference optimum. */
typedef struct ref_prob { const sl_msa *msa; const double *w; const int64_t *order; int64_t k; } ref_prob;
static lbfgsfloatval_t ref_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
                                const lbfgsfloatval_t step) {
  (void)n; (void)step;
  const ref_prob *p = inst;
  return ref_site(p->msa, p->w, p->order, p->k, 1e-6, 1e-4, x, g);
}

/* A fit of real data (the PDZ seed alignment, default lambdas) reaches, at
 * every site checked, the optimum that libLBFGS finds on the double
 * definition of the objective, within the convergence tolerance. */
static void fit_vs_double(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta", tap_data());
  FILE *fp = fopen(path, "r");
  if (!fp) {
    printf("skip - ar fit against libLBFGS in double: data absent (%s)\n", path);
    return;
  }
  fclose(fp);
  sl_error err;
  sl_msa *msa = NULL;
  sl_msa_opts mo;
  sl_msa_opts_init(&mo);
  int st = sl_msa_read(path, &mo, &msa, &err);
  CHECK(st == SL_OK, "read %s (%s)", path, st ? err.msg : "");
  if (st) return;
  const int64_t L = msa->L;
  const int q = msa->abc->q;
  double *w = malloc((size_t)msa->N * sizeof *w);
  sl_weights_opts wo;
  memset(&wo, 0, sizeof wo); /* sl_weights_opts_init leaves `progress` unset */
  sl_weights_opts_init(&wo);
  st = sl_weights_compute(msa, &wo, w, NULL, &err);
  sl_ar_opts o;
  sl_ar_opts_init(&o);
  o.epsilon = 1e-5;
  o.threads = 2;
  sl_model *m = NULL;
  sl_ar_report rep;
  st |= sl_ar_fit(msa, w, &o, &m, &rep, &err);
  CHECK(st == SL_OK && m, "fit the PDZ seed (%lld x %lld)", (long long)msa->N, (long long)L);
  if (!m) { free(w); sl_msa_destroy(msa); return; }
  const int64_t ks[] = {0, 1, L / 3, L - 1};
  double worst = 0, sumfit = 0, sumref = 0;
  for (int t = 0; t < 4; t++) {
    const int64_t k = ks[t], nv = q + k * q * q, i = m->order[k];
    lbfgsfloatval_t *x = lbfgs_malloc((int)nv);
    double *xf = malloc((size_t)nv * sizeof *xf);
    memset(x, 0, (size_t)nv * sizeof *x);
    ref_prob rp = {msa, w, m->order, k};
    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.epsilon = 1e-5;
    lbfgsfloatval_t fref = 0;
    int ret = lbfgs((int)nv, x, &fref, ref_eval, NULL, &rp, &param);
    for (int a = 0; a < q; a++) xf[a] = m->h[i * q + a];
    for (int64_t l = 0; l < k; l++) {
      const float *J = sl_model_J(m, i, m->order[l]);
      for (int v = 0; v < q * q; v++) xf[q + l * q * q + v] = J[v];
    }
    const double ffit = ref_site(msa, w, m->order, k, 1e-6, 1e-4, xf, NULL);
    const double d = ffit - fref;
    printf("# site %lld: fit %.9f, libLBFGS/double %.9f, difference %.2g\n", (long long)k, ffit, fref, d);
    worst = fmax(worst, fabs(d));
    sumfit += ffit;
    sumref += fref;
    CHECK(ret == LBFGS_SUCCESS || ret == LBFGS_STOP, "reference libLBFGS fit of site %lld (status %d)", (long long)k, ret);
    lbfgs_free(x);
    free(xf);
  }
  /* Both stop at ||g|| <= 1e-5 max(1, ||x||), ||x|| ~ 10: a gap of up to
   * ||g||^2 / (2 * 2 lambda_J) ~ 1e-4 is within the tolerance */
  CHECK(worst < 2e-5, "PDZ fit: per-site objectives (double, at the fitted float parameters) within %.2g "
        "of libLBFGS on the double definition (sums %.9f vs %.9f)", worst, sumfit, sumref);
  sl_model_destroy(m);
  free(w);
  sl_msa_destroy(msa);
}

int main(void) {
  sl_error err;
  kernel_twins();
  trie_kernel();
  fit_vs_double();
  sl_msa *msa = dna_msa();
  CHECK(msa && msa->L == 4 && msa->abc->q == 5, "toy DNA alignment (L 4, q 5)");
  if (!msa) return TAP_DONE();
  double w[10];
  for (int n = 0; n < 10; n++) w[n] = 0.5 + 0.1 * n;
  sl_ar_opts o;
  sl_ar_opts_init(&o);
  o.lambda_J = 0.01;
  o.lambda_h = 0.001;
  o.epsilon = 1e-8;
  sl_model *m = NULL;
  sl_ar_report rep;
  int st = sl_ar_fit(msa, w, &o, &m, &rep, &err);
  CHECK(st == SL_OK && m, "fit (%s)", st ? err.msg : "");
  if (!m) return TAP_DONE();

  /* Normalisation: the probabilities of all 5^4 sequences sum to 1. */
  double total = 0;
  uint8_t s[4];
  for (int code = 0; code < 625; code++) {
    int c = code;
    for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
    total += exp(sl_ar_logp(m, s));
  }
  CHECK_NEAR(total, 1.0, 1e-6, "sum over all 625 sequences of P(s) is 1");

  /* The tempered density (sl_ar_logp_temp): T = 1 is log P to the bit;
   * at T = 0.4 and 3 it is normalised, it is what sl_ar_sample draws at T
   * (chi-square), and T <= 0 is refused. */
  {
    int same = 1;
    for (int code = 0; code < 625; code++) {
      int c = code;
      for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
      same &= sl_ar_logp_temp(m, s, 1.0) == sl_ar_logp(m, s);
    }
    CHECK(same, "sl_ar_logp_temp at T = 1 equals sl_ar_logp on all 625 sequences");
    const double Ts[2] = {0.4, 3.0};
    for (int t = 0; t < 2; t++) {
      double tot = 0;
      for (int code = 0; code < 625; code++) {
        int c = code;
        for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
        tot += exp(sl_ar_logp_temp(m, s, Ts[t]));
      }
      CHECK(fabs(tot - 1.0) < 1e-9, "tempered density at T = %g sums to 1 over the 625 sequences (%.12f)", Ts[t], tot);
      sl_rng rt;
      sl_rng_seed(&rt, 44 + (uint64_t)t);
      int64_t ct[625] = {0};
      const int64_t nt = 100000;
      for (int64_t u = 0; u < nt; u++) {
        sl_ar_sample(m, &rt, Ts[t], NULL, s, NULL);
        ct[s[0] + 5 * s[1] + 25 * s[2] + 125 * s[3]]++;
      }
      double chit = 0;
      int doft = 0;
      for (int code = 0; code < 625; code++) {
        int c = code;
        for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
        double e = nt * exp(sl_ar_logp_temp(m, s, Ts[t]));
        if (e < 5) continue;
        chit += (ct[code] - e) * (ct[code] - e) / e;
        doft++;
      }
      CHECK(doft > 5 && chit < doft + 5 * sqrt(2.0 * doft), "samples at T = %g follow the tempered density (chi2 %.1f on %d cells)",
            Ts[t], chit, doft - 1);
    }
    CHECK(isnan(sl_ar_logp_temp(m, s, 0.0)) && isnan(sl_ar_logp_temp(m, s, -1.0)), "T <= 0: NAN");
  }

  /* Sampling frequencies match the exact probabilities. */
  sl_rng r;
  sl_rng_seed(&r, 42);
  int64_t counts[625] = {0};
  const int64_t ns = 200000;
  for (int64_t t = 0; t < ns; t++) {
    sl_ar_sample(m, &r, 1.0, NULL, s, NULL);
    counts[s[0] + 5 * s[1] + 25 * s[2] + 125 * s[3]]++;
  }
  double chi2 = 0;
  int dof = 0;
  for (int code = 0; code < 625; code++) {
    int c = code;
    for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
    double e = ns * exp(sl_ar_logp(m, s));
    if (e < 5) continue;
    chi2 += (counts[code] - e) * (counts[code] - e) / e;
    dof++;
  }
  /* chi-square with dof - 1 degrees of freedom: mean dof, sd sqrt(2 dof); 5 sd. */
  CHECK(chi2 < dof + 5 * sqrt(2.0 * dof), "ancestral samples follow P (chi2 %.1f on %d cells)", chi2, dof - 1);

  /* The batched sampler draws from the same distribution. */
  {
    uint8_t *xb = malloc((size_t)ns * 4);
    sl_rng_seed(&r, 43);
    sl_ar_sample_batch(m, &r, 1.0, NULL, ns, xb, NULL);
    int64_t cb[625] = {0};
    for (int64_t t = 0; t < ns; t++) cb[xb[4 * t] + 5 * xb[4 * t + 1] + 25 * xb[4 * t + 2] + 125 * xb[4 * t + 3]]++;
    double chib = 0;
    int dofb = 0;
    for (int code = 0; code < 625; code++) {
      int c = code;
      for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
      double e = ns * exp(sl_ar_logp(m, s));
      if (e < 5) continue;
      chib += (cb[code] - e) * (cb[code] - e) / e;
      dofb++;
    }
    CHECK(chib < dofb + 5 * sqrt(2.0 * dofb), "batched samples follow P (chi2 %.1f on %d cells)", chib, dofb - 1);
    free(xb);
  }

  /* The log P reported while sampling equals sl_ar_logp. */
  double lp;
  sl_ar_sample(m, &r, 1.0, NULL, s, &lp);
  CHECK_NEAR(lp, sl_ar_logp(m, s), 1e-5, "sample's log P equals the likelihood");

  /* Clamping the first site of the order samples the exact conditional. */
  uint8_t fixed[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  int64_t first = m->order[0];
  fixed[first] = 2;
  int64_t ok = 1;
  for (int t = 0; t < 1000; t++) {
    sl_ar_sample(m, &r, 1.0, fixed, s, NULL);
    ok &= s[first] == 2;
  }
  CHECK(ok, "clamped site keeps its state");

  /* Per-site gradient by central finite differences. */
  int64_t k = 3;
  int nv = 5 + 3 * 25;
  double x[80], g[80], gd = 0, gs = 0;
  for (int v = 0; v < nv; v++) x[v] = 0.3 * sin(1.7 * v);
  double f0;
  st = sl_ar_site_objective(msa, w, m->order, k, 0.01, 0.02, x, &f0, g, &err);
  for (int v = 0; v < nv; v += 7) {
    double xv = x[v], fp, fm;
    x[v] = xv + 1e-4;
    st |= sl_ar_site_objective(msa, w, m->order, k, 0.01, 0.02, x, &fp, NULL, &err);
    x[v] = xv - 1e-4;
    st |= sl_ar_site_objective(msa, w, m->order, k, 0.01, 0.02, x, &fm, NULL, &err);
    x[v] = xv;
    gd = fmax(gd, fabs((fp - fm) / 2e-4 - g[v]));
    gs = fmax(gs, fabs(g[v]));
  }
  CHECK(st == SL_OK && gd < 1e-4 * fmax(1, gs), "site gradient matches finite differences (max err %.2g)", gd);

  /* Reproducible: same fit with 1 and 3 threads; same entropy for a seed. */
  sl_model *m3 = NULL;
  o.threads = 3;
  st = sl_ar_fit(msa, w, &o, &m3, &rep, &err);
  CHECK(st == SL_OK && m3 && memcmp(m->J, m3->J, 16 * 25 * sizeof(float)) == 0 &&
        memcmp(m->h, m3->h, 20 * sizeof(float)) == 0, "fit identical with 1 and 3 threads");
  double e1, se1, e2, se2;
  st = sl_ar_entropy(m, 5000, 7, 1, &e1, &se1, &err);
  st |= sl_ar_entropy(m3, 5000, 7, 2, &e2, &se2, &err);
  CHECK(st == SL_OK && e1 == e2, "entropy estimate reproducible across threads (%.4f bits)", e1);
  /* The exact entropy by enumeration lies within 4 standard errors. */
  double H = 0;
  for (int code = 0; code < 625; code++) {
    int c = code;
    for (int i = 0; i < 4; i++) { s[i] = (uint8_t)(c % 5); c /= 5; }
    double l = sl_ar_logp(m, s);
    H -= exp(l) * l / log(2.0);
  }
  CHECK(fabs(e1 - H) < 4 * se1, "Monte Carlo entropy %.4f +- %.4f agrees with the exact %.4f bits", e1, se1, H);
  sl_model_destroy(m3);
  sl_model_destroy(m);
  sl_msa_destroy(msa);
  return TAP_DONE();
}
