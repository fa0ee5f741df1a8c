/* test_split.c: the nearest-identity kernels against their plain twin and
 * a brute-force reference; the leakage audit on hand-made sets; the three
 * split methods' guarantees (no test row above t1 to a training row, test
 * rows at most t2 to each other for cobalt), reproducibility and the focus
 * rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/kern.h"
#include "seqloop/split.h"
#include "tap.h"

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return rs;
}

/* Families with structure: mutants of a few ancestors, some gaps. */
static uint8_t *family(int64_t N, int64_t L, int anc, double mut) {
  uint8_t *x = malloc((size_t)(N * L) + 1), *a = malloc((size_t)(anc * L) + 1);
  for (int64_t k = 0; k < anc * L; k++) a[k] = (uint8_t)(1 + rnd() % 20);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < L; i++) {
      uint8_t v = a[(n % anc) * L + i];
      if ((double)(rnd() % 10000) / 10000.0 < mut) v = (uint8_t)(rnd() % 21);
      x[n * L + i] = v;
    }
  free(a);
  return x;
}

static void kernels(void) {
  const int64_t Ls[] = {1, 7, 63, 64, 65, 128, 200};
  const int ks[] = {SL_KERN_PLAIN, SL_KERN_AVX2, SL_KERN_AVX512};
  int best = sl_kernel_resolve(SL_KERN_AUTO);
  int64_t bad = 0, cases = 0;
  for (size_t b = 0; b < sizeof Ls / sizeof *Ls; b++) {
    int64_t L = Ls[b], nq = 13, nr = 29;
    uint8_t *q = family(nq, L, 3, 0.3), *r = family(nr, L, 3, 0.3);
    if (L > 5) memset(q, 0, (size_t)L); /* an all-gap query: identity 0 */
    double ref[13];
    for (int64_t k = 0; k < nq; k++) {
      ref[k] = 0;
      for (int64_t j = 0; j < nr; j++) {
        double v = sl_identity_pair(q + k * L, r + j * L, L);
        if (v > ref[k]) ref[k] = v;
      }
    }
    for (size_t kk = 0; kk < 3; kk++) {
      if (ks[kk] > best) continue;
      for (int th = 1; th <= 2; th++) {
        double got[13];
        int64_t idx[13];
        sl_error err;
        if (sl_identity_nearest(q, nq, r, nr, L, 0, th, ks[kk], got, idx, &err)) { bad++; continue; }
        for (int64_t k = 0; k < nq; k++) {
          cases++;
          if (got[k] != ref[k]) bad++;
          if (idx[k] >= 0 && sl_identity_pair(q + k * L, r + idx[k] * L, L) != got[k]) bad++;
        }
      }
    }
    free(q);
    free(r);
  }
  CHECK(bad == 0, "nearest identity: %lld queries, every kernel (best %s) and 1-2 threads equal the "
        "brute-force pair reference", (long long)cases, sl_kernel_name(best));

  /* Easel's definition on a hand-made case: idents / min(residues). */
  uint8_t a[6] = {1, 2, 3, 4, 0, 0}, bb[6] = {1, 2, 5, 4, 6, 7}, g[6] = {0};
  CHECK(sl_identity_pair(a, bb, 6) == 0.75, "identity = 3 identical / 4 residues of the shorter row");
  CHECK(sl_identity_pair(a, g, 6) == 0.0, "identity with an all-gap row is 0");
  uint8_t c[6] = {0, 0, 0, 4, 6, 7};
  CHECK(sl_identity_pair(c, bb, 6) == 1.0, "a fragment contained in a longer row is 100%% identical");
}

static void leakage(void) {
  int64_t L = 40, N = 50;
  uint8_t *tr = family(N, L, 5, 0.1);
  uint8_t *te = malloc((size_t)(3 * L));
  memcpy(te, tr + 7 * L, (size_t)L);                 /* a copy of training row 7 */
  for (int64_t i = 0; i < L; i++) te[L + i] = (uint8_t)(1 + (i * 7) % 20); /* unrelated */
  memcpy(te + 2 * L, tr + 3 * L, (size_t)L);
  for (int64_t i = 0; i < 8; i++) te[2 * L + i] = te[2 * L + i] % 20 + 1; /* 8 of 40 changed */
  sl_leakage *lk = NULL;
  sl_error err;
  int st = sl_leakage_compute(tr, N, te, 3, L, 0.8, 1, SL_KERN_AUTO, &lk, &err);
  CHECK(st == 0 && lk->max_id[0] == 1.0 && lk->nearest[0] >= 0 &&
        memcmp(tr + lk->nearest[0] * L, te, (size_t)L) == 0, "a copied row is found at identity 1");
  CHECK(st == 0 && lk->max_id[1] < 0.5, "an unrelated row is far from all (%.3f)", st ? -1 : lk->max_id[1]);
  CHECK(st == 0 && lk->n_leaky >= 1 && !lk->held_out && lk->above[6] >= 1,
        "verdict: not held out (%lld above 0.8)", st ? -1LL : (long long)lk->n_leaky);
  int64_t hs = 0;
  for (int b = 0; st == 0 && b < SL_LEAK_BINS; b++) hs += lk->hist[b];
  CHECK(hs == 3, "the histogram counts every test row");
  sl_leakage_destroy(lk);
  st = sl_leakage_compute(tr, N, te + L, 1, L, 0.8, 1, SL_KERN_AUTO, &lk, &err);
  CHECK(st == 0 && lk->held_out, "the unrelated row alone is held out");
  sl_leakage_destroy(lk);
  CHECK(sl_leakage_compute(tr, 0, te, 3, L, 0.8, 1, SL_KERN_AUTO, &lk, &err) == SL_EUSAGE,
        "an empty training set is a usage error: %s", err.msg);
  free(tr);
  free(te);
}

static double worst_cross(const uint8_t *x, int64_t N, int64_t L, const int8_t *set, int a, int b) {
  double w = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < N; m++)
      if (n != m && set[n] == a && set[m] == b) {
        double v = sl_identity_pair(x + n * L, x + m * L, L);
        if (v > w) w = v;
      }
  return w;
}

static void splits(void) {
  int64_t N = 300, L = 30;
  uint8_t *x = family(N, L, 12, 0.25);
  int8_t *s1 = malloc((size_t)N), *s2 = malloc((size_t)N);
  sl_split_opts o;
  sl_split_report r;
  sl_error err;
  for (int method = SL_SPLIT_CLUSTER; method <= SL_SPLIT_RANDOM; method++) {
    sl_split_opts_init(&o);
    o.method = method;
    o.t1 = 0.6;
    o.t2 = 0.7;
    o.seed = 5;
    int st = sl_split(x, N, L, 4, &o, s1, &r, &err);
    CHECK(st == 0, "%s split runs (%lld train, %lld test, %lld dropped, %lld clusters)",
          sl_split_method_name(method), (long long)r.n_train, (long long)r.n_test,
          (long long)r.n_dropped, (long long)r.n_clusters);
    if (st) continue;
    CHECK(s1[4] == SL_SET_TRAIN, "%s: the focus row is in the training set", sl_split_method_name(method));
    CHECK(r.n_train + r.n_test + r.n_dropped == N && r.n_test > 0 && r.n_train > 0,
          "%s: labels add up and both sets are non-empty", sl_split_method_name(method));
    double cross = worst_cross(x, N, L, s1, SL_SET_TEST, SL_SET_TRAIN);
    if (method != SL_SPLIT_RANDOM)
      CHECK(cross <= o.t1, "%s: no test row above %.2f to a training row (worst %.3f)",
            sl_split_method_name(method), o.t1, cross);
    else
      CHECK(cross > o.t1, "random: leaks, as it should (worst %.3f)", cross);
    if (method == SL_SPLIT_COBALT) {
      double tt = worst_cross(x, N, L, s1, SL_SET_TEST, SL_SET_TEST);
      CHECK(tt <= o.t2, "cobalt: test rows at most %.2f to each other (worst %.3f)", o.t2, tt);
    }
    if (method == SL_SPLIT_RANDOM)
      CHECK(r.n_test == 60, "random: exactly the test fraction (%lld of 300)", (long long)r.n_test);
    st = sl_split(x, N, L, 4, &o, s2, &r, &err);
    CHECK(st == 0 && memcmp(s1, s2, (size_t)N) == 0, "%s: the same seed gives the same split", sl_split_method_name(method));
    o.seed = 6;
    st = sl_split(x, N, L, 4, &o, s2, &r, &err);
    CHECK(st == 0 && memcmp(s1, s2, (size_t)N) != 0, "%s: another seed gives another split", sl_split_method_name(method));
  }
  sl_split_opts_init(&o);
  o.test_frac = 1.5;
  CHECK(sl_split(x, N, L, -1, &o, s1, &r, &err) == SL_EUSAGE, "a test fraction above 1 is refused: %s", err.msg);
  /* Identical rows: no threshold below 1 can split them. */
  memset(x, 3, (size_t)(N * L));
  sl_split_opts_init(&o);
  CHECK(sl_split(x, N, L, -1, &o, s1, &r, &err) == SL_EINPUT, "an all-identical family cannot be split: %s", err.msg);
  free(x);
  free(s1);
  free(s2);
}

int main(void) {
  kernels();
  leakage();
  splits();
  return TAP_DONE();
}
