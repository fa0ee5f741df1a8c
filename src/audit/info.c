/* info.c: information accounting between models and data (seqloop/info.h).
 *
 * Contents: 1. exact log P and KL between models; 2. the perpetual-motion
 * (self-retraining) test with its three arms.
 *
 * Cost of the cycle: one ar fit per generation and arm (the fit dominates:
 * N x L x (L q) per objective evaluation), plus sampling and the
 * statistics. Every draw has its own seed derived from (seed, arm,
 * generation), so any arm or generation can be rerun alone and gives the
 * same numbers; thread counts change nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/info.h"
#include "seqloop/rng.h"
#include "seqloop/sample.h"
#include "seqloop/samplestats.h"

/* ---- 1. log P and KL --------------------------------------------------------- */

/* Models whose normalised log P reads the aligned columns (ar, profile). */
static int aligned_logp(const sl_model *m) { return sl_model_has(m, SL_CAP_NORMALISED | SL_CAP_ALIGNED); }

double sl_info_logp(const sl_model *m, const uint8_t *s) {
  double v = NAN;
  sl_error err;
  if (!aligned_logp(m) || sl_model_logp(m, NULL, s, &v, &err)) return NAN;
  return v;
}

int sl_info_kl(sl_model *P, sl_model *Q, int64_t n, uint64_t seed, int threads, double *ret_bits,
               double *ret_se, sl_error *err) {
  if (!sl_model_has(P, SL_CAP_EXACT_SAMPLE | SL_CAP_ALIGNED | SL_CAP_NORMALISED))
    return sl_fail(err, SL_EUSAGE, "KL(P || Q) needs exact aligned samples of P: P must be an ar model "
                   "(it is %s)", sl_model_name(P));
  if (!aligned_logp(Q))
    return sl_fail(err, SL_EUSAGE, "KL(P || Q) needs Q's normalised log-probability: Q must be ar or "
                   "profile (it is %s)", sl_model_name(Q));
  if (P->L != Q->L || P->abc != Q->abc || P->q != Q->q)
    return sl_fail(err, SL_EUSAGE, "the two models differ in shape (L %lld vs %lld, q %d vs %d)",
                   (long long)P->L, (long long)Q->L, P->q, Q->q);
  if (n < 2) return sl_fail(err, SL_EUSAGE, "the KL estimate needs at least 2 samples");
  int status = SL_OK;
  uint8_t *x = malloc((size_t)(n * P->L) + 1);
  double *lp = malloc((size_t)n * sizeof *lp);
  if (!x || !lp) { status = sl_fail(err, SL_ENOMEM, "out of memory for %lld samples", (long long)n); goto DONE; }
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  if ((status = sl_sample_ancestral(P, &d, n, seed, threads, NULL, x, NULL, lp, err))) goto DONE;
#pragma omp parallel for num_threads(threads > 0 ? threads : 1)
  for (int64_t t = 0; t < n; t++) /* both exact, so KL(P || P) is 0 to the last bit */
    lp[t] = sl_info_logp(P, x + t * P->L) - sl_info_logp(Q, x + t * P->L);
  double mean = 0, var = 0;
  for (int64_t t = 0; t < n; t++) mean += lp[t];
  mean /= (double)n;
  for (int64_t t = 0; t < n; t++) var += (lp[t] - mean) * (lp[t] - mean);
  var /= (double)(n - 1);
  *ret_bits = mean / log(2.0);
  *ret_se = sqrt(var / (double)n) / log(2.0);
DONE:
  free(x);
  free(lp);
  return status;
}

/* ---- 2. the cycle ------------------------------------------------------------ */

void sl_cycle_opts_init(sl_cycle_opts *o) {
  memset(o, 0, sizeof *o);
  o->generations = 5;
  o->filter_quantile = 0.5;
  o->mix_frac = 0.5;
  o->arms = (1 << SL_CYCLE_SELF) | (1 << SL_CYCLE_FILTER) | (1 << SL_CYCLE_MIX);
  o->n_entropy = 5000;
  o->seed = 1;
  o->threads = 1;
  sl_ar_opts_init(&o->ar);
  sl_weights_opts_init(&o->w);
}

const char *sl_cycle_arm_name(int arm) {
  switch (arm) {
    case SL_CYCLE_SELF: return "self";
    case SL_CYCLE_FILTER: return "filter";
    case SL_CYCLE_MIX: return "mix";
    default: return "?";
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile of v (n values; sorts a copy). */
static double quantile(const double *v, int64_t n, double q, int *oom) {
  double *s = malloc((size_t)n * sizeof *s);
  if (!s) { *oom = 1; return NAN; }
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  double r = s[(int64_t)floor(q * (double)(n - 1))];
  free(s);
  return r;
}

/* A scorer for the filter: normalised log P where known, else -energy's
 * sign convention is irrelevant: Potts energies here are log-weights
 * (higher = more natural), as sl_model_energy returns. */
static double oracle_score(const sl_model *m, const uint8_t *s) {
  double v = sl_info_logp(m, s);
  return isnan(v) ? sl_model_energy(m, s) : v;
}

/* Seed of one draw: independent streams per (arm, generation, purpose). */
static uint64_t draw_seed(uint64_t seed, int arm, int gen, int purpose) {
  uint64_t z = seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(1 + arm * 1000 + gen * 10 + purpose));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL; /* splitmix64 finaliser */
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Measure model m: held-out log P, entropy, sample statistics and support
 * on a fresh draw of n_stats samples. */
static int measure(sl_model *m, const sl_msa *train, const double *w_train, const sl_msa *test,
                   const sl_cycle_opts *o, int64_t n_stats, uint64_t seed, sl_cycle_row *row,
                   sl_error *err) {
  const int64_t L = m->L;
  int status = SL_OK, oom = 0;
  double *lp = malloc((size_t)test->N * sizeof *lp);
  uint8_t *x = malloc((size_t)(n_stats * L) + 1);
  sl_msa *S = NULL;
  if (!lp || !x) { status = sl_fail(err, SL_ENOMEM, "out of memory measuring a generation"); goto DONE; }
  if ((status = sl_ar_prepare(m, err))) goto DONE;
  double sum = 0;
#pragma omp parallel for num_threads(o->threads > 0 ? o->threads : 1) reduction(+ : sum)
  for (int64_t n = 0; n < test->N; n++) {
    lp[n] = sl_ar_logp(m, sl_msa_row(test, n));
    sum += lp[n];
  }
  row->heldout_logp = sum / (double)test->N;
  row->heldout_bits_per_site = -row->heldout_logp / ((double)L * log(2.0));
  row->heldout_q05 = quantile(lp, test->N, 0.05, &oom);
  if (oom) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = sl_ar_entropy(m, o->n_entropy, draw_seed(seed, 9, 9, 1), o->threads,
                              &row->entropy_bits, &row->entropy_se, err)))
    goto DONE;
  if ((status = sl_ar_sample_many(m, n_stats, draw_seed(seed, 9, 9, 2), o->threads, 1.0, NULL, x,
                                  NULL, err)) ||
      (status = sl_msa_from_rows(train->abc, x, n_stats, L, "s", "samples", &S, err)))
    goto DONE;
  sl_sample_stats st;
  if ((status = sl_sample_stats_compute(S, train, w_train, 2, o->threads, &st, err))) goto DONE;
  row->r_one = st.r_one;
  row->r_two = st.r_two;
  /* support: (site, state) pairs of the real training data the samples produce */
  const int q = train->abc->q;
  int64_t seen_real = 0, seen_both = 0;
  uint8_t *r = calloc((size_t)(L * q), 1);
  if (!r) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t n = 0; n < train->N; n++)
    for (int64_t i = 0; i < L; i++) r[i * q + sl_msa_row(train, n)[i]] |= 1;
  for (int64_t n = 0; n < n_stats; n++)
    for (int64_t i = 0; i < L; i++) r[i * q + x[n * L + i]] |= 2;
  for (int64_t k = 0; k < L * q; k++) {
    seen_real += (r[k] & 1) != 0;
    seen_both += r[k] == 3;
  }
  free(r);
  row->support = seen_real ? (double)seen_both / (double)seen_real : NAN;
DONE:
  free(lp);
  free(x);
  sl_msa_destroy(S);
  return status;
}

/* Fit an ar model on rows x (n x L) with the cycle's weighting; real rows
 * (nreal of them, appended) scaled to carry mix_frac of the weight. */
static int refit(const sl_msa *train, const uint8_t *x, int64_t n, int64_t nreal,
                 const sl_cycle_opts *o, sl_model **ret, sl_error *err) {
  sl_msa *F = NULL;
  int64_t tot = n + nreal;
  uint8_t *all = malloc((size_t)(tot * train->L) + 1);
  double *w = malloc((size_t)tot * sizeof *w);
  int status = SL_OK;
  if (!all || !w) { status = sl_fail(err, SL_ENOMEM, "out of memory for a refit of %lld rows", (long long)tot); goto DONE; }
  memcpy(all, x, (size_t)(n * train->L));
  if (nreal) memcpy(all + n * train->L, train->x, (size_t)(nreal * train->L));
  if ((status = sl_msa_from_rows(train->abc, all, tot, train->L, "g", "generation", &F, err)) ||
      (status = sl_weights_compute(F, &o->w, w, NULL, err)))
    goto DONE;
  if (nreal) {
    double ws = 0, wr = 0;
    for (int64_t k = 0; k < n; k++) ws += w[k];
    for (int64_t k = n; k < tot; k++) wr += w[k];
    for (int64_t k = 0; k < n; k++) w[k] *= (1 - o->mix_frac) / ws;
    for (int64_t k = n; k < tot; k++) w[k] *= o->mix_frac / wr;
  }
  sl_ar_report rep;
  status = sl_ar_fit(F, w, &o->ar, ret, &rep, err);
DONE:
  free(all);
  free(w);
  sl_msa_destroy(F);
  return status;
}

int sl_cycle_run(const sl_msa *train, const double *w_train, const sl_msa *test, sl_model *oracle,
                 const sl_cycle_opts *o, void (*on_row)(const sl_cycle_row *, void *), void *ctx,
                 sl_cycle_row **ret_rows, int *ret_n, sl_error *err) {
  *ret_rows = NULL;
  *ret_n = 0;
  if (train->L != test->L || train->abc != test->abc)
    return sl_fail(err, SL_EINPUT, "the held-out set has %lld columns, the training set %lld: they must "
                   "be aligned to the same columns", (long long)test->L, (long long)train->L);
  if (o->generations < 1 || o->generations > 1000)
    return sl_fail(err, SL_EUSAGE, "generations must be 1..1000 (got %d)", o->generations);
  if (o->filter_mode == SL_FILTER_RATIO && (o->arms & (1 << SL_CYCLE_FILTER)) && oracle &&
      !aligned_logp(oracle))
    return sl_fail(err, SL_EUSAGE, "the ratio filter needs a normalised oracle (ar or profile), not %s",
                   sl_model_name(oracle));
  if (!(o->filter_quantile >= 0 && o->filter_quantile < 1) || !(o->mix_frac > 0 && o->mix_frac < 1))
    return sl_fail(err, SL_EUSAGE, "filter quantile must be in [0, 1) and mix fraction in (0, 1)");
  const int64_t L = train->L, n = o->n_samples > 0 ? o->n_samples : train->N;
  const int64_t n_stats = o->n_stats > 0 ? o->n_stats : n;
  int narms = 0;
  for (int a = 0; a < SL_CYCLE_NARMS; a++) narms += (o->arms >> a) & 1;
  if (!narms) return sl_fail(err, SL_EUSAGE, "no arm selected");
  sl_cycle_row *rows = calloc((size_t)(1 + narms * o->generations), sizeof *rows);
  sl_model *m0 = NULL, *m = NULL, *next = NULL;
  uint8_t *x = NULL, *pool = NULL;
  double *score = NULL;
  int nr = 0, status = SL_OK;
  if (!rows) return sl_fail(err, SL_ENOMEM, "out of memory");

  /* generation 0: the real training set */
  double t0 = sl_seconds();
  sl_ar_report rep;
  if ((status = sl_ar_fit(train, w_train, &o->ar, &m0, &rep, err))) goto DONE;
  sl_cycle_row *r0 = &rows[nr++];
  r0->arm = -1;
  r0->n_fit = r0->n_real = train->N;
  r0->accept = 1;
  if ((status = measure(m0, train, w_train, test, o, n_stats, draw_seed(o->seed, 0, 0, 0), r0, err)))
    goto DONE;
  r0->seconds = sl_seconds() - t0;
  if (on_row) on_row(r0, ctx);

  /* The filter's threshold: a quantile of the real training rows' scores. */
  sl_model *orc = oracle ? oracle : m0;
  double thr = -INFINITY;
  if (o->arms & (1 << SL_CYCLE_FILTER)) {
    double *ts = malloc((size_t)train->N * sizeof *ts);
    int oom = 0;
    if (!ts) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int64_t k = 0; k < train->N; k++) ts[k] = oracle_score(orc, sl_msa_row(train, k));
    thr = quantile(ts, train->N, o->filter_quantile, &oom);
    free(ts);
    if (oom) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  }
  const int64_t chunk = n;
  x = malloc((size_t)(n * L) + 1);
  pool = malloc((size_t)(chunk * L) + 1);
  score = malloc((size_t)chunk * sizeof *score);
  if (!x || !pool || !score) { status = sl_fail(err, SL_ENOMEM, "out of memory for %lld samples", (long long)n); goto DONE; }

  for (int arm = 0; arm < SL_CYCLE_NARMS; arm++) {
    if (!((o->arms >> arm) & 1)) continue;
    m = m0;
    double bits = 0;
    for (int g = 1; g <= o->generations; g++) {
      double t1 = sl_seconds();
      sl_cycle_row *row = &rows[nr];
      row->arm = arm;
      row->generation = g;
      row->accept = 1;
      if (arm == SL_CYCLE_FILTER) { /* draw until n samples pass the oracle */
        int64_t kept = 0, drawn = 0;
        double logc = 0;
        sl_rng ur;
        sl_rng_seed(&ur, draw_seed(o->seed, arm, g, 99));
        for (int round = 0; kept < n; round++) {
          if (drawn >= 1000 * n) {
            status = sl_fail(err, SL_EINPUT, "the filter accepted %lld of %lld samples in generation %d: "
                             "too strict for this model (lower the quantile)", (long long)kept,
                             (long long)drawn, g);
            goto DONE;
          }
          if ((status = sl_ar_sample_many(m, chunk, draw_seed(o->seed, arm, g, 10 + round), o->threads,
                                          1.0, NULL, pool, NULL, err)))
            goto DONE;
#pragma omp parallel for num_threads(o->threads > 0 ? o->threads : 1)
          for (int64_t k = 0; k < chunk; k++) score[k] = oracle_score(orc, pool + k * L);
          if (o->filter_mode == SL_FILTER_RATIO) {
            /* score = log O(x) - log M(x); c from the first draw */
#pragma omp parallel for num_threads(o->threads > 0 ? o->threads : 1)
            for (int64_t k = 0; k < chunk; k++) score[k] -= sl_ar_logp(m, pool + k * L);
            if (round == 0) {
              int oom = 0;
              logc = quantile(score, chunk, 0.99, &oom);
              if (oom) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
            }
          }
          for (int64_t k = 0; k < chunk && kept < n; k++) {
            drawn++;
            int keep = o->filter_mode == SL_FILTER_RATIO ? sl_rng_uniform(&ur) < exp(score[k] - logc)
                                                         : score[k] >= thr;
            if (keep) memcpy(x + kept++ * L, pool + k * L, (size_t)L);
          }
        }
        row->accept = (double)kept / (double)drawn;
        row->bits_per_kept = -log2(row->accept);
        bits += row->bits_per_kept * (double)kept;
      } else if ((status = sl_ar_sample_many(m, n, draw_seed(o->seed, arm, g, 1), o->threads, 1.0, NULL,
                                             x, NULL, err))) {
        goto DONE;
      }
      row->bits_total = bits;
      row->n_real = arm == SL_CYCLE_MIX ? train->N : 0;
      row->n_fit = n + row->n_real;
      if ((status = refit(train, x, n, row->n_real, o, &next, err))) goto DONE;
      if (m != m0) sl_model_destroy(m);
      m = next;
      next = NULL;
      if ((status = measure(m, train, w_train, test, o, n_stats, draw_seed(o->seed, arm, g, 0), row, err)))
        goto DONE;
      row->seconds = sl_seconds() - t1;
      nr++;
      if (on_row) on_row(row, ctx);
    }
    if (m != m0) sl_model_destroy(m);
    m = NULL;
  }
DONE:
  if (m != m0) sl_model_destroy(m);
  sl_model_destroy(m0);
  sl_model_destroy(next);
  free(x);
  free(pool);
  free(score);
  if (status) { free(rows); return status; }
  *ret_rows = rows;
  *ret_n = nr;
  return SL_OK;
}
