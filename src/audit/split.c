/* split.c: leakage audits and homology-aware splits (seqloop/split.h).
 *
 * Contents: 1. leakage (nearest training identity per test row, histogram,
 * verdict); 2. splits (cluster, cobalt-style, random).
 *
 * Both rest on the nearest-identity kernel (kern.h, src/kern/nearest.c).
 * The splits are sequential by nature (each decision depends on the sets
 * built so far), one query per row against the growing sets: N^2/2 pair
 * compares at most, about a second for 13,600 x 53 (kunitz).
 *
 * Rejected: single-linkage components at t1 (every pair across components
 * below t1 with nothing dropped). On a deep family at any useful threshold
 * one component swallows nearly everything, so there is nothing to split.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/kern.h"
#include "seqloop/rng.h"
#include "seqloop/split.h"

/* ---- 1. leakage ---------------------------------------------------------- */

const double sl_leak_thresholds[SL_LEAK_NTHR] = {0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int sl_leakage_compute(const uint8_t *train, int64_t n_train, const uint8_t *test, int64_t n_test,
                       int64_t L, double threshold, int threads, int kernel, sl_leakage **ret,
                       sl_error *err) {
  *ret = NULL;
  if (n_train < 1 || n_test < 1)
    return sl_fail(err, SL_EUSAGE, "a leakage audit needs at least one training and one test "
                   "sequence (got %lld and %lld)", (long long)n_train, (long long)n_test);
  if (!(threshold >= 0 && threshold <= 1))
    return sl_fail(err, SL_EUSAGE, "the identity threshold must be in [0, 1] (got %g)", threshold);
  sl_leakage *lk = calloc(1, sizeof *lk);
  double *sorted = NULL;
  int status = SL_OK;
  if (!lk || !(lk->max_id = malloc((size_t)n_test * sizeof *lk->max_id)) ||
      !(lk->nearest = malloc((size_t)n_test * sizeof *lk->nearest)) ||
      !(sorted = malloc((size_t)n_test * sizeof *sorted))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory for a leakage audit of %lld sequences",
                     (long long)n_test);
    goto ERROR;
  }
  lk->n_test = n_test;
  lk->n_train = n_train;
  lk->threshold = threshold;
  if ((status = sl_identity_nearest(test, n_test, train, n_train, L, 0, threads, kernel,
                                    lk->max_id, lk->nearest, err)))
    goto ERROR;
  double sum = 0;
  for (int64_t k = 0; k < n_test; k++) {
    double v = lk->max_id[k];
    sum += v;
    int b = (int)(v * SL_LEAK_BINS);
    lk->hist[b < SL_LEAK_BINS ? b : SL_LEAK_BINS - 1]++;
    /* a small tolerance: 0.8 is not exactly representable, 4/5 identities are */
    for (int t = 0; t < SL_LEAK_NTHR; t++) lk->above[t] += v >= sl_leak_thresholds[t] - 1e-12;
    lk->n_leaky += v > threshold + 1e-12;
    sorted[k] = v;
  }
  qsort(sorted, (size_t)n_test, sizeof *sorted, cmp_double);
  lk->mean = sum / (double)n_test;
  lk->median = n_test % 2 ? sorted[n_test / 2] : 0.5 * (sorted[n_test / 2 - 1] + sorted[n_test / 2]);
  lk->max = sorted[n_test - 1];
  lk->held_out = lk->n_leaky == 0;
  free(sorted);
  *ret = lk;
  return SL_OK;
ERROR:
  free(sorted);
  sl_leakage_destroy(lk);
  return status;
}

void sl_leakage_destroy(sl_leakage *lk) {
  if (!lk) return;
  free(lk->max_id);
  free(lk->nearest);
  free(lk);
}

/* ---- 2. splits ----------------------------------------------------------- */

void sl_split_opts_init(sl_split_opts *o) {
  o->method = SL_SPLIT_CLUSTER;
  o->t1 = 0.8;
  o->t2 = 0.95;
  o->test_frac = 0.2;
  o->seed = 1;
  o->kernel = SL_KERN_AUTO;
}

const char *sl_split_method_name(int method) {
  switch (method) {
    case SL_SPLIT_CLUSTER: return "cluster";
    case SL_SPLIT_COBALT: return "cobalt";
    case SL_SPLIT_RANDOM: return "random";
    default: return "?";
  }
}

int sl_split_method_parse(const char *s) {
  if (!strcmp(s, "cluster")) return SL_SPLIT_CLUSTER;
  if (!strcmp(s, "cobalt")) return SL_SPLIT_COBALT;
  if (!strcmp(s, "random")) return SL_SPLIT_RANDOM;
  return -1;
}

/* Fisher-Yates with the seeded rng: a random visiting order of 0..n-1. */
static void shuffle(int64_t *p, int64_t n, sl_rng *r) {
  for (int64_t k = 0; k < n; k++) p[k] = k;
  for (int64_t k = n - 1; k > 0; k--) {
    int64_t j = (int64_t)(sl_rng_u64(r) % (uint64_t)(k + 1));
    int64_t t = p[k];
    p[k] = p[j];
    p[j] = t;
  }
}

/* The visiting order with the forced row first. */
static void visit_order(int64_t *p, int64_t N, int64_t keep, sl_rng *r) {
  shuffle(p, N, r);
  if (keep < 0) return;
  for (int64_t k = 0; k < N; k++)
    if (p[k] == keep) { p[k] = p[0]; p[0] = keep; break; }
}

static int split_cluster(const uint8_t *x, int64_t N, int64_t L, int64_t keep,
                         const sl_split_opts *o, const int64_t *ord, sl_rng *r, int8_t *set,
                         sl_split_report *rep, sl_error *err) {
  sl_idset *cent = NULL, *test = NULL;
  int64_t *cl = malloc((size_t)N * sizeof *cl);
  int64_t *csize = calloc((size_t)N, sizeof *csize), *corder = malloc((size_t)N * sizeof *corder);
  int8_t *ctest = calloc((size_t)N, 1);
  int status = SL_OK;
  if (!cl || !csize || !corder || !ctest) {
    status = sl_fail(err, SL_ENOMEM, "out of memory clustering %lld sequences", (long long)N);
    goto DONE;
  }
  if ((status = sl_idset_create(L, o->kernel, &cent, err)) ||
      (status = sl_idset_create(L, o->kernel, &test, err)))
    goto DONE;
  int64_t nc = 0;
  for (int64_t k = 0; k < N; k++) { /* greedy centroids in the visiting order */
    const uint8_t *row = x + ord[k] * L;
    int64_t c = -1;
    double id = sl_idset_nearest(cent, row, -1, o->t1, &c);
    if (c < 0 || !(id > o->t1)) {
      if ((status = sl_idset_add(cent, row, err))) goto DONE;
      c = nc++;
    }
    cl[ord[k]] = c;
    csize[c]++;
  }
  rep->n_clusters = nc;
  /* Clusters into the test set in a random order, the focus's never. */
  shuffle(corder, nc, r);
  int64_t want = (int64_t)llround(o->test_frac * (double)N), have = 0;
  for (int64_t k = 0; k < nc && have < want; k++) {
    int64_t c = corder[k];
    if (keep >= 0 && cl[keep] == c) continue;
    /* no more than 10% over the target; smaller clusters later may still fit */
    if (have + csize[c] > want + (want / 10 > 1 ? want / 10 : 1)) continue;
    ctest[c] = 1;
    have += csize[c];
    rep->n_test_clusters++;
  }
  for (int64_t n = 0; n < N; n++) {
    set[n] = ctest[cl[n]] ? SL_SET_TEST : SL_SET_TRAIN;
    if (set[n] == SL_SET_TEST && (status = sl_idset_add(test, x + n * L, err))) goto DONE;
  }
  /* Purge: a training row too close to any test row goes (never the focus). */
  for (int64_t n = 0; n < N; n++) {
    if (set[n] != SL_SET_TRAIN || n == keep) continue;
    int64_t j;
    if (sl_idset_nearest(test, x + n * L, -1, o->t1, &j) > o->t1 && j >= 0) set[n] = SL_SET_DROPPED;
  }
  /* The focus cannot be dropped, so test rows too close to it go instead. */
  if (keep >= 0)
    for (int64_t n = 0; n < N; n++)
      if (set[n] == SL_SET_TEST && sl_identity_pair(x + n * L, x + keep * L, L) > o->t1)
        set[n] = SL_SET_DROPPED;
DONE:
  free(cl);
  free(csize);
  free(corder);
  free(ctest);
  sl_idset_destroy(cent);
  sl_idset_destroy(test);
  return status;
}

static int split_cobalt(const uint8_t *x, int64_t N, int64_t L, const sl_split_opts *o,
                        const int64_t *ord, sl_rng *r, int8_t *set, sl_error *err) {
  sl_idset *tr = NULL, *te = NULL;
  int status;
  if ((status = sl_idset_create(L, o->kernel, &tr, err)) ||
      (status = sl_idset_create(L, o->kernel, &te, err)))
    goto DONE;
  int64_t want = (int64_t)llround(o->test_frac * (double)N);
  double tmin = o->t1 < o->t2 ? o->t1 : o->t2;
  for (int64_t k = 0; k < N; k++) {
    int64_t n = ord[k], j;
    const uint8_t *row = x + n * L;
    /* k == 0 is the forced row when there is one (visit_order); it opens the
     * training set either way. */
    double to_tr = sl_idset_nearest(tr, row, -1, o->t1, &j);
    double to_te = sl_idset_nearest(te, row, -1, tmin, &j);
    if (to_te > tmin) to_te = sl_idset_nearest(te, row, -1, 2.0, &j); /* exact, for both tests */
    int can_test = k > 0 && to_tr <= o->t1 && to_te <= o->t2 && sl_idset_size(te) < want;
    int can_train = to_te <= o->t1;
    int go;
    if (can_test && can_train) go = sl_rng_uniform(r) < o->test_frac ? SL_SET_TEST : SL_SET_TRAIN;
    else go = can_test ? SL_SET_TEST : can_train ? SL_SET_TRAIN : SL_SET_DROPPED;
    set[n] = (int8_t)go;
    if (go == SL_SET_TEST) status = sl_idset_add(te, row, err);
    else if (go == SL_SET_TRAIN) status = sl_idset_add(tr, row, err);
    if (status) goto DONE;
  }
DONE:
  sl_idset_destroy(tr);
  sl_idset_destroy(te);
  return status;
}

int sl_split(const uint8_t *x, int64_t N, int64_t L, int64_t keep, const sl_split_opts *o,
             int8_t *set, sl_split_report *rep, sl_error *err) {
  memset(rep, 0, sizeof *rep);
  if (N < 2) return sl_fail(err, SL_EUSAGE, "a split needs at least 2 sequences (got %lld)", (long long)N);
  if (!(o->test_frac > 0 && o->test_frac < 1))
    return sl_fail(err, SL_EUSAGE, "the test fraction must be in (0, 1) (got %g)", o->test_frac);
  if (!(o->t1 >= 0 && o->t1 <= 1) || !(o->t2 >= 0 && o->t2 <= 1))
    return sl_fail(err, SL_EUSAGE, "identity thresholds must be in [0, 1] (got %g, %g)", o->t1, o->t2);
  if (keep >= N) return sl_fail(err, SL_EUSAGE, "the forced row %lld is out of range", (long long)keep);
  int64_t *ord = malloc((size_t)N * sizeof *ord);
  if (!ord) return sl_fail(err, SL_ENOMEM, "out of memory splitting %lld sequences", (long long)N);
  sl_rng r;
  sl_rng_seed(&r, o->seed);
  visit_order(ord, N, keep, &r);
  int status = SL_OK;
  if (o->method == SL_SPLIT_CLUSTER) {
    status = split_cluster(x, N, L, keep, o, ord, &r, set, rep, err);
  } else if (o->method == SL_SPLIT_COBALT) {
    status = split_cobalt(x, N, L, o, ord, &r, set, err);
  } else if (o->method == SL_SPLIT_RANDOM) {
    int64_t want = (int64_t)llround(o->test_frac * (double)N), have = 0;
    for (int64_t k = 0; k < N; k++) {
      int64_t n = ord[k];
      set[n] = (n != keep && k >= (keep >= 0) && have < want) ? SL_SET_TEST : SL_SET_TRAIN;
      have += set[n] == SL_SET_TEST;
    }
  } else {
    status = sl_fail(err, SL_EUSAGE, "unknown split method %d", o->method);
  }
  free(ord);
  if (status) return status;
  for (int64_t n = 0; n < N; n++) {
    rep->n_train += set[n] == SL_SET_TRAIN;
    rep->n_test += set[n] == SL_SET_TEST;
    rep->n_dropped += set[n] == SL_SET_DROPPED;
  }
  if (rep->n_test == 0 || rep->n_train == 0)
    return sl_fail(err, SL_EINPUT, "the %s split at identity %g left %lld training and %lld test "
                   "sequences: the family is too redundant at this threshold (raise it, or use "
                   "another method)", sl_split_method_name(o->method), o->t1,
                   (long long)rep->n_train, (long long)rep->n_test);
  return SL_OK;
}
