/* test_weights.c: the identity kernels against their plain twin, both
 * weighting conventions on hand-computed cases, and the weights file. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "seqloop/weights.h"
#include "tap.h"

static sl_msa *build(const char *text, int *status, sl_error *err) {
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  *status = sl_seqset_read_mem(text, strlen(text), "mem", SL_FMT_AUTO, &ss, err);
  if (*status == SL_OK) *status = sl_msa_build(ss, &o, &m, err);
  sl_seqset_destroy(ss);
  return m;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) { /* xorshift64: fixed sequence, so the test is reproducible */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void kernel_twins(void) {
  const int64_t Ns[] = {1, 2, 3, 17, 101};
  const int64_t Ls[] = {1, 31, 63, 64, 65, 127, 128, 130, 300};
  const int kernels[] = {SL_KERN_AVX2, SL_KERN_AVX512};
  int best = sl_kernel_resolve(SL_KERN_AUTO);
  int64_t mismatches = 0, cases = 0;
  for (size_t a = 0; a < sizeof Ns / sizeof *Ns; a++)
    for (size_t b = 0; b < sizeof Ls / sizeof *Ls; b++) {
      int64_t N = Ns[a], L = Ls[b];
      uint8_t *x = malloc((size_t)(N * L));
      int32_t *mm = malloc((size_t)N * sizeof *mm);
      int64_t *ref = malloc((size_t)N * sizeof *ref), *got = malloc((size_t)N * sizeof *got);
      /* Few states and many gaps, so that matches and ties are common. */
      for (int64_t k = 0; k < N * L; k++) x[k] = (rnd() % 3 == 0) ? 0 : (uint8_t)(1 + rnd() % 3);
      for (int gm = 0; gm <= 1; gm++) {
        for (int64_t n = 0; n < N; n++) mm[n] = (int32_t)(rnd() % (uint64_t)(L + 1));
        if (N > 2) mm[0] = INT32_MAX;
        sl_error err;
        if (sl_neighbours_count(x, N, L, gm, mm, 1, SL_KERN_PLAIN, NULL, ref, &err)) mismatches++;
        for (size_t kk = 0; kk < 2; kk++) {
          if (kernels[kk] > best) continue; /* not supported on this CPU */
          for (int th = 1; th <= 3; th++) {
            cases++;
            if (sl_neighbours_count(x, N, L, gm, mm, th, kernels[kk], NULL, got, &err) ||
                memcmp(ref, got, (size_t)N * sizeof *got) != 0)
              mismatches++;
          }
        }
      }
      free(x); free(mm); free(ref); free(got);
    }
  CHECK(mismatches == 0, "SIMD kernels (best: %s) equal the plain twin on %lld awkward cases, 1-3 threads",
        sl_kernel_name(best), (long long)cases);
}

int main(void) {
  sl_error err;
  int st;
  sl_weights_opts o;
  double w[4], neff;

  kernel_twins();

  /* Hand-computed: s1/s2 share 4 of 5 columns, s3 only F, s4 is all gaps. */
  sl_msa *m = build(">s1\nACDEF\n>s2\nACDEG\n>s3\n----F\n>s4\n-----\n", &st, &err);
  CHECK(st == SL_OK && m && m->N == 4 && m->L == 5, "toy alignment");
  sl_weights_opts_init(&o);
  st = sl_weights_compute(m, &o, w, &neff, &err);
  /* plmc: neighbour if matches >= 4 (gap-gap counts): s1~s2, s3~s4. */
  CHECK(st == SL_OK && w[0] == 0.5 && w[1] == 0.5 && w[2] == 0.5 && w[3] == 0.5 && neff == 2.0,
        "plmc convention (Neff %g)", neff);
  o.convention = SL_WEIGHTS_EVE;
  st = sl_weights_compute(m, &o, w, &neff, &err);
  /* eve, theta 0.2: 4/5 is not > 0.8, so s1, s2 alone; s3 (1 residue) ~ s1 (F=F);
   * s4 all gaps -> 0. */
  CHECK(st == SL_OK && w[0] == 1.0 && w[1] == 1.0 && w[2] == 0.5 && w[3] == 0.0 && neff == 2.5,
        "eve convention, strict threshold (Neff %g)", neff);
  o.theta = 0.25;
  st = sl_weights_compute(m, &o, w, &neff, &err);
  CHECK(st == SL_OK && w[0] == 0.5 && w[1] == 0.5 && w[2] == 0.5 && w[3] == 0.0 && neff == 1.5,
        "eve at theta 0.25 (Neff %g)", neff);
  o.theta = -1;
  st = sl_weights_compute(m, &o, w, &neff, &err);
  CHECK(st == SL_OK && neff == 4.0 && w[3] == 1.0, "theta outside [0,1]: no reweighting");
  o.theta = 0.0;
  o.convention = SL_WEIGHTS_PLMC;
  st = sl_weights_compute(m, &o, w, &neff, &err);
  CHECK(st == SL_OK && neff == 4.0, "theta 0: only identical rows are neighbours");

  /* Weights file round trip, both formats, and a mismatched file. */
  char dir[] = "/tmp/seqloop-wtest.XXXXXX";
  if (mkdtemp(dir)) {
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/w.tsv", dir);
    snprintf(p2, sizeof p2, "%s/w.plmc", dir);
    double in[4] = {0.25, 1.0 / 3.0, 0.5, 0.0}, out[4] = {0};
    double n2 = 0;
    st = sl_weights_write(p1, m, in, 0, "# test\n", &err);
    if (!st) st = sl_weights_read(p1, m, out, &n2, &err);
    CHECK(st == SL_OK && memcmp(in, out, sizeof in) == 0, "tsv round trip is exact (%s)", st ? err.msg : "");
    st = sl_weights_write(p2, m, in, 1, NULL, &err);
    memset(out, 0, sizeof out);
    if (!st) st = sl_weights_read(p2, m, out, &n2, &err);
    CHECK(st == SL_OK && memcmp(in, out, sizeof in) == 0, "plmc-format round trip is exact");
    FILE *fp = fopen(p2, "w");
    fputs("0.5\n0.5\n", fp);
    fclose(fp);
    st = sl_weights_read(p2, m, out, &n2, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, "2 weights") && strstr(err.msg, "4 records"), "short file: %s", err.msg);
    fp = fopen(p2, "w");
    fputs("0.5\ts1\n0.5\tsX\n0.5\ts3\n0\ts4\n", fp);
    fclose(fp);
    st = sl_weights_read(p2, m, out, &n2, &err);
    CHECK(st == SL_EINPUT && strstr(err.msg, "line 2") && strstr(err.msg, "'s2'"), "wrong name: %s", err.msg);
    unlink(p1); unlink(p2);
    rmdir(dir);
  }
  sl_msa_destroy(m);

  /* Real data: plmc's DHFR example (Neff 1568.1). */
  char path[4096];
  snprintf(path, sizeof path, "%s/dhfr/DHFR.a2m", tap_data());
  FILE *fp = fopen(path, "r");
  if (!fp) {
    printf("skip - DHFR Neff: data absent (%s)\n", path);
  } else {
    fclose(fp);
    sl_msa_opts mo;
    sl_msa_opts_init(&mo);
    mo.focus = "DYR_ECOLI";
    st = sl_msa_read(path, &mo, &m, &err);
    double *wd = m ? malloc((size_t)m->N * sizeof *wd) : NULL;
    sl_weights_opts_init(&o);
    o.threads = 2;
    if (!st && wd) st = sl_weights_compute(m, &o, wd, &neff, &err);
    CHECK(st == SL_OK && fabs(neff - 1568.1) < 0.05, "DHFR plmc Neff = 1568.1 (got %.4f)", neff);
    free(wd);
    sl_msa_destroy(m);
  }
  return TAP_DONE();
}
