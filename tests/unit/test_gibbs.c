/* test_gibbs.c: Gibbs sampling of a tiny Potts model against its exact
 * distribution by enumeration, unconditional and with a clamped site. */
#include <stdlib.h>

#include "seqloop/gibbs.h"
#include "tap.h"

int main(void) {
  sl_error err;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_DNA);
  sl_model *m = sl_model_create("potts", 3, abc, 0);
  const int q = m->q, L = 3;
  uint64_t st = 99;
  for (int k = 0; k < L * q; k++) { st = st * 6364136223846793005ULL + 1; m->h[k] = (float)((st >> 40) % 1000) / 500.0f - 1.0f; }
  for (int i = 0; i < L; i++)
    for (int j = i + 1; j < L; j++)
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          st = st * 6364136223846793005ULL + 1;
          float v = (float)((st >> 40) % 1000) / 400.0f - 1.25f;
          sl_model_J(m, i, j)[a * q + b] = v;
          sl_model_J(m, j, i)[b * q + a] = v;
        }
  for (int pass = 0; pass < 2; pass++) {
    uint8_t fixed[3] = {0xFF, 0xFF, 0xFF};
    if (pass == 1) fixed[0] = 2;
    double p[125] = {0}, z = 0;
    uint8_t s[3];
    for (int code = 0; code < 125; code++) {
      s[0] = (uint8_t)(code % 5); s[1] = (uint8_t)(code / 5 % 5); s[2] = (uint8_t)(code / 25);
      if (pass == 1 && s[0] != 2) continue;
      z += (p[code] = exp(sl_model_energy(m, s)));
    }
    sl_gibbs_opts o;
    sl_gibbs_opts_init(&o);
    o.burnin = 50;
    o.thin = 2;
    o.chains = 4;
    o.seed = 5;
    o.fixed = pass ? fixed : NULL;
    o.threads = 2;
    const int64_t n = 80000;
    uint8_t *x = malloc((size_t)n * 3);
    double rhat = 0;
    int rc = sl_gibbs_sample(m, &o, n, x, NULL, &rhat, &err);
    int64_t cnt[125] = {0};
    int clamped_ok = 1;
    for (int64_t t = 0; t < n; t++) {
      cnt[x[3 * t] + 5 * x[3 * t + 1] + 25 * x[3 * t + 2]]++;
      if (pass == 1) clamped_ok &= x[3 * t] == 2;
    }
    double chi2 = 0;
    int cells = 0;
    for (int code = 0; code < 125; code++) {
      double e = n * p[code] / z;
      if (e < 5) continue;
      chi2 += (cnt[code] - e) * (cnt[code] - e) / e;
      cells++;
    }
    /* Thinned Gibbs samples are slightly correlated: allow 8 sd. */
    CHECK(rc == SL_OK && chi2 < cells + 8 * sqrt(2.0 * cells), "%s: Gibbs frequencies match enumeration (chi2 %.1f on %d cells, R-hat %.3f)",
          pass ? "site 1 clamped to G" : "unconditional", chi2, cells - 1, rhat);
    if (pass == 1) CHECK(clamped_ok, "the clamped site never changes");
    /* Reproducible for any thread count. */
    uint8_t *y = malloc((size_t)n * 3);
    o.threads = 1;
    rc = sl_gibbs_sample(m, &o, n, y, NULL, &rhat, &err);
    CHECK(rc == SL_OK && memcmp(x, y, (size_t)n * 3) == 0, "same samples with 1 and 2 threads");
    free(x);
    free(y);
  }
  sl_model_destroy(m);
  return TAP_DONE();
}
