/* test_ar.c: autoregressive DCA - exact normalisation by enumeration, the
 * per-site gradient by finite differences, sampling frequencies, and
 * reproducibility of the fit and of sampling. */
#include <stdlib.h>

#include "seqloop/ar.h"
#include "seqloop/kern.h"
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

int main(void) {
  sl_error err;
  kernel_twins();
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
