/* loop.c: one round of the design loop: setup (round 0), propose, record,
 * and step (propose + measure + record in one ledger transaction).
 *
 * Determinism: round k draws from a generator seeded with the run's seed and
 * advanced by k jumps (2^128 steps each, rng.h), and every input of the
 * round is read back from the ledger in id order (state.c). So a run killed
 * at any point and resumed writes the same ledger as one that never stopped
 * (the e2e test kills one with SIGKILL inside a round's transaction).
 *
 * Information: the filters (propose.c) accept a fraction p of candidates
 * and so inject at most log2(1/p) bits per accepted proposal (science.md,
 * "Information"); each round records p and that bound.
 *
 * The other files of the loop are listed in loop_impl.h; campaign semantics
 * (stored options, resume, run/propose/ingest) are in campaign.c.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "loop_impl.h"

void sl_design_round_rng(sl_rng *r, uint64_t seed, int64_t k) {
  sl_rng_seed(r, seed);
  for (int64_t j = 0; j < k; j++) sl_rng_jump(r);
}

int sl_design_setup(sl_ledger *l, sl_oracle *o, const sl_design_opts *opts, const char *start,
                    const char *const *naturals, int64_t n_nat, const sl_design_prior *prior,
                    const char *cmdline, const char *options_json, const char *inputs_json, int64_t *ret_run,
                    int *ret_created, sl_error *err) {
  sl_ledger_run r;
  int found = 0;
  *ret_run = -1;
  *ret_created = 0;
  /* Whether a run exists is read under the write lock: two campaigns
   * started at once on one new ledger would otherwise both create a run. */
  int status = sl_ledger_begin(l, err);
  if (status) return status;
  if ((status = sl_ledger_run_last(l, &r, &found, err)) || found) sl_ledger_rollback(l);
  if (status) return status;
  if (found) {
    /* Compared key by key, so that the message can name each option that
     * differs (with both values) rather than print two JSON documents. */
    char *diff = NULL;
    status = sl_design_campaign_opts_diff(r.options_json, options_json, &diff, err);
    if (!status && diff)
      status = sl_fail(err, SL_EUSAGE, "the ledger holds a run with other options (resume with the same options, "
                       "or with --ledger alone; --rounds and --budget may change): %s", diff);
    else if (!status) *ret_run = r.id;
    free(diff);
    sl_ledger_run_free(&r);
    return status;
  }
  uint8_t *x = malloc((size_t)o->L + 1);
  if (!x) { sl_ledger_rollback(l); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if ((status = sl_design_encode(o, start, x, err))) { sl_ledger_rollback(l); free(x); return status; }
  sl_ledger_run nr = {0};
  nr.cmdline = (char *)cmdline;
  nr.options_json = (char *)options_json;
  nr.inputs_json = (char *)inputs_json;
  nr.seed = opts->seed;
  nr.version = SL_VERSION;
  int64_t sid = -1, nid = -1;
  double y = NAN;
  if ((status = sl_ledger_run_add(l, &nr, err))) goto ERROR;
  free(nr.created);
  if ((status = sl_ledger_seq_add(l, nr.id, start, SL_ORIGIN_NATURAL, 0, -1, &sid, err))) goto ERROR;
  for (int64_t k = 0; k < n_nat; k++) {
    if ((status = sl_design_encode(o, naturals[k], x, err))) goto ERROR;
    if ((status = sl_ledger_seq_add(l, nr.id, naturals[k], SL_ORIGIN_NATURAL, 0, -1, &nid, err))) goto ERROR;
  }
  if (strcmp(o->name, "lab") == 0) {
    /* The lab measures the start itself: round 0 is a batch of one. */
    if ((status = sl_ledger_round_stat(l, nr.id, 0, "proposed", 1, err))) goto ERROR;
    if ((status = sl_ledger_round_set(l, nr.id, 0, "proposed", "{\"round\":0,\"what\":\"measure the start\"}", err))) goto ERROR;
  } else {
    if ((status = sl_design_encode(o, start, x, err))) goto ERROR;
    if ((status = sl_oracle_measure(o, x, 1, &y, err))) goto ERROR;
    if ((status = sl_ledger_measurement_add(l, sid, o->name, y, 0, err))) goto ERROR;
    if ((status = sl_ledger_round_stat(l, nr.id, 0, "n_measured", 1, err))) goto ERROR;
    if ((status = sl_ledger_round_stat(l, nr.id, 0, "best", y, err))) goto ERROR;
    if (isfinite(o->optimum) && (status = sl_ledger_round_stat(l, nr.id, 0, "regret", o->optimum - y, err))) goto ERROR;
    if ((status = sl_ledger_round_set(l, nr.id, 0, "done", "{\"round\":0,\"what\":\"start measured\"}", err))) goto ERROR;
  }
  if ((status = sl_ledger_commit(l, err))) goto ERROR;
  (void)prior;
  free(x);
  *ret_run = nr.id;
  *ret_created = 1;
  return SL_OK;
ERROR:
  sl_ledger_rollback(l);
  free(x);
  return status;
}

/* Fit the round's predictor on every finite measurement of st->train. */
int sl_design_fit_predictor(const sl_design_state *st, const sl_oracle *o, const sl_design_opts *op,
                            const sl_design_prior *prior, sl_rng *r, sl_predictor **ret, sl_error *err) {
  int64_t n = st->ntrain;
  uint8_t *xtr = malloc((size_t)(n * o->L));
  double *ytr = malloc((size_t)n * sizeof *ytr), *ptr = malloc((size_t)n * sizeof *ptr);
  double *cnt = malloc((size_t)n * sizeof *cnt);
  int status, replicated = 0;
  if (!xtr || !ytr || !ptr || !cnt) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else {
    for (int64_t i = 0; i < n; i++) {
      memcpy(xtr + i * o->L, st->x + st->train[i] * o->L, (size_t)o->L);
      ytr[i] = st->s.value[st->train[i]];
      ptr[i] = st->prior[st->train[i]];
      cnt[i] = st->s.nval[st->train[i]];
      replicated |= cnt[i] != 1;
    }
    int have_prior = prior && prior->m;
    /* The predictor knows the simulated assay's noise (--oracle-noise) and
     * how many replicates each mean averages (a mean of c replicates has
     * 1/c of the noise variance); without replicates the plain fit, so
     * campaigns of one measurement per sequence keep their bits. */
    sl_predictor_opts po = op->pred;
    po.noise_sd = op->oracle_noise;
    po.symbols = o->symbols;
    status = sl_predictor_fit_counts(&po, o->L, xtr, ytr, replicated ? cnt : NULL, have_prior ? ptr : NULL, n, r,
                                     ret, err);
  }
  free(xtr); free(ytr); free(ptr); free(cnt);
  return status;
}

/* The calibration of jackknife+-after-bootstrap: which member saw which
 * training point, and each point's out-of-bag residual (NAN when every
 * member saw it). Deterministic: no random draw, so the round's stream and
 * everything the loop chooses are the same with and without intervals. */
static int jab_prepare(const sl_design_state *st, const sl_predictor *pred, uint8_t **ret_inbag, double **ret_res,
                       double **ret_work, sl_error *err) {
  int64_t n = st->ntrain;
  int B = sl_predictor_members(pred);
  uint8_t *inbag = malloc((size_t)(n * B) + 1);
  double *res = malloc((size_t)(n + 1) * sizeof *res), *work = malloc((size_t)(2 * n + 2) * sizeof *work);
  if (!inbag || !res || !work) { free(inbag); free(res); free(work); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  sl_predictor_inbag(pred, inbag);
  for (int64_t i = 0; i < n; i++) {
    double mean, sd;
    int m = sl_predictor_oob(pred, i, &mean, &sd);
    if (m < 0) { free(inbag); free(res); free(work); return sl_fail(err, SL_ENOMEM, "out of memory"); }
    res[i] = m >= 1 ? fabs(st->s.value[st->train[i]] - mean) : NAN;
  }
  *ret_inbag = inbag;
  *ret_res = res;
  *ret_work = work;
  return SL_OK;
}

/* The calibration of the 'recent' method: normalised errors
 * |y - mean| / sd of the designed sequences measured in the latest rounds,
 * each scored by the prediction of the round that proposed it, going back
 * round by round until at least SL_CONF_RECENT_MIN points (or round 1).
 * These are the errors of designs made the way this round's are made, which
 * is the assumption (not a guarantee): docs/design.md. */
static int recent_quantile(sl_ledger *l, const sl_design_state *st, int64_t k, double alpha, double *ret_q,
                           sl_error *err) {
  double *sc = malloc((size_t)(st->s.n + 1) * sizeof *sc);
  if (!sc) return sl_fail(err, SL_ENOMEM, "out of memory");
  int64_t m = 0;
  int status = SL_OK;
  for (int64_t r = k - 1; r >= 1 && m < SL_CONF_RECENT_MIN && !status; r--)
    for (int64_t j = 0; j < st->s.n && !status; j++) {
      if (st->s.round[j] != r || st->s.origin[j] != SL_ORIGIN_DESIGNED || !isfinite(st->s.value[j])) continue;
      double mean, sd;
      int found = 0;
      if ((status = sl_ledger_prediction_get(l, st->s.id[j], r, &mean, &sd, &found, err)) || !found) continue;
      sc[m++] = fabs(st->s.value[j] - mean) / (sd > SL_CONF_SD_FLOOR ? sd : SL_CONF_SD_FLOOR);
    }
  *ret_q = status ? NAN : sl_conformal_quantile(sc, NULL, m, 1.0, alpha);
  free(sc);
  return status;
}

int sl_design_propose(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                      const sl_design_prior *prior, int64_t *ret_k, sl_error *err) {
  int64_t k0;
  char rs[16];
  *ret_k = -1;
  int status = sl_ledger_round_last(l, run, &k0, rs, err);
  if (status) return status;
  if (k0 < 0) return sl_fail(err, SL_EINPUT, "the ledger's run %lld has no round 0", (long long)run);
  if (strcmp(rs, "done") != 0)
    return sl_fail(err, SL_EUSAGE, "round %lld awaits measurements (seqloop design ingest)", (long long)k0);
  int64_t k = k0 + 1;
  if (op->rounds >= 0 && k > op->rounds) return SL_OK; /* rounds < 0: the budget decides */
  sl_design_state st;
  if ((status = sl_design_state_load(l, run, o, prior, &st, err))) return status;
  if (st.start < 0) { sl_design_state_free(&st); return sl_fail(err, SL_EINPUT, "the ledger's run has no start sequence"); }
  /* ALDE's protocol: round 1 is a batch of init_random uniform random
   * sequences, chosen without a model (the first training set). */
  sl_design_opts o1;
  if (k == 1 && op->init_random > 0) {
    o1 = *op;
    o1.proposer = SL_PROPOSE_RANDOM;
    o1.use_predictor = 0;
    o1.batch = op->init_random;
    if (o1.candidates < 2 * o1.batch) o1.candidates = 2 * o1.batch;
    op = &o1;
  }
  int64_t B = op->batch;
  if (op->budget > 0) {
    if (st.n_measured >= op->budget) { sl_design_state_free(&st); return SL_OK; }
    /* The budget counts measurements: with R replicates a sequence costs R
     * (the last batch may then end up to R - 1 past the budget rather than
     * measure a sequence fewer times than the others). */
    const int64_t R = op->replicates > 1 ? op->replicates : 1, left = (op->budget - st.n_measured + R - 1) / R;
    if (B > left) B = left;
  }
  sl_rng r;
  sl_design_round_rng(&r, op->seed, k);
  sl_design_cands c = {0};
  sl_design_gen_report rep;
  sl_predictor *pred = NULL;
  int64_t *chosen = malloc((size_t)B * sizeof *chosen);
  char *text = malloc((size_t)o->L + 1);
  uint8_t *inbag = NULL;
  double *oob_res = NULL, *work = NULL, q_recent = NAN;
  if (!chosen || !text) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  int can_pred = op->use_predictor && st.ntrain >= 2, use_pred = 0;
  int64_t nb = 0;
  if (op->conformal == SL_CONF_WEIGHTED) {
    /* A batch drawn from a known density (query.c): its own candidates,
     * draws, predictions and intervals. */
    int64_t support = 0;
    if ((status = sl_design_query_round(l, run, o, op, prior, &st, k, B, &nb, &support, &rep, &use_pred, err))) goto DONE;
    if (support == 0) { *ret_k = -2; goto DONE; }
    c.n = support;
    goto STATS;
  }
  /* CbAS needs the predictor to build its candidates; every other proposer
   * fits it after generating (the order fixes the round's random stream). */
  if ((op->proposer == SL_PROPOSE_CBAS || op->proposer == SL_PROPOSE_CBAS_AR) && can_pred &&
      (status = sl_design_fit_predictor(&st, o, op, prior, &r, &pred, err)))
    goto DONE;
  if ((status = sl_design_generate(&st, o, op, prior, pred, &r, &c, &rep, err))) goto DONE;
  use_pred = can_pred && c.n > 0;
  c.mean = calloc((size_t)c.n + 1, sizeof *c.mean);
  c.sd = calloc((size_t)c.n + 1, sizeof *c.sd);
  c.score = calloc((size_t)c.n + 1, sizeof *c.score);
  if (!c.mean || !c.sd || !c.score) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if (use_pred) {
    if (!pred && (status = sl_design_fit_predictor(&st, o, op, prior, &r, &pred, err))) goto DONE;
    c.B = sl_predictor_members(pred);
    c.member = malloc((size_t)(c.n * c.B + 1) * sizeof *c.member);
    if (!c.member) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int64_t j = 0; j < c.n; j++)
      sl_predictor_predict(pred, c.x + j * o->L, c.prior[j], &c.mean[j], &c.sd[j], c.member + j * c.B);
    sl_design_acquire(&c, op, st.s.value[st.train[0]]);
  } else {
    /* No model yet (or a baseline without one): candidates in random order. */
    for (int64_t j = 0; j < c.n; j++) c.score[j] = sl_rng_uniform(&r);
    if (op->proposer == SL_PROPOSE_WALK)
      for (int64_t j = 0; j < c.n; j++) c.score[j] = -(double)j; /* the shuffled order */
  }
  sl_design_opts o2 = *op;
  if (!use_pred) o2.acquisition = SL_ACQ_GREEDY;
  nb = sl_design_select_batch(&c, &o2, B, &r, chosen);
  if (nb < 0) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if (nb == 0) { /* nothing new passes the filters: the campaign cannot go on */
    *ret_k = -2;
    goto DONE;
  }
  for (int64_t j = 0; j < nb; j++) {
    int64_t id, ci = chosen[j];
    sl_design_decode(o, c.x + ci * o->L, text);
    if ((status = sl_ledger_seq_add(l, run, text, SL_ORIGIN_DESIGNED, k, c.parent[ci], &id, err))) goto DONE;
    if (use_pred && (status = sl_ledger_prediction_add(l, id, k, "ridge-bootstrap", c.mean[ci], c.sd[ci], err))) goto DONE;
    if (use_pred && op->conformal == SL_CONF_RECENT) {
      if (isnan(q_recent) && (status = recent_quantile(l, &st, k, op->alpha, &q_recent, err))) goto DONE;
      double lo, hi;
      sl_conformal_interval(c.mean[ci], c.sd[ci], q_recent, &lo, &hi);
      if ((status = sl_ledger_interval_add(l, id, k, "ridge-bootstrap", sl_conformal_method_name(op->conformal),
                                           op->alpha, lo, hi, err)))
        goto DONE;
    }
    if (use_pred && op->conformal == SL_CONF_JAB) {
      if (!inbag && (status = jab_prepare(&st, pred, &inbag, &oob_res, &work, err))) goto DONE;
      double lo, hi;
      sl_conformal_jab(c.member + ci * c.B, c.B, inbag, oob_res, st.ntrain, op->alpha, work, &lo, &hi);
      if ((status = sl_ledger_interval_add(l, id, k, "ridge-bootstrap", sl_conformal_method_name(op->conformal),
                                           op->alpha, lo, hi, err)))
        goto DONE;
    }
  }
STATS:;
  double acc = rep.filter_tested ? (double)rep.filtered_in / (double)rep.filter_tested : 1.0;
  if ((status = sl_ledger_round_stat(l, run, k, "generated", (double)rep.generated, err)) ||
      (status = sl_ledger_round_stat(l, run, k, "acceptance", acc, err)) ||
      (status = sl_ledger_round_stat(l, run, k, "bits_injected", acc > 0 ? log2(1.0 / acc) : NAN, err)) ||
      (status = sl_ledger_round_stat(l, run, k, "proposed", (double)nb, err)))
    goto DONE;
  {
    char summary[256];
    snprintf(summary, sizeof summary, "{\"round\":%lld,\"proposer\":\"%s\",\"acquisition\":\"%s\",\"proposed\":%lld,"
             "\"candidates\":%lld,\"predictor\":%s}", (long long)k, sl_design_proposer_name(op->proposer),
             use_pred ? sl_design_acquisition_name(op->acquisition) : "random", (long long)nb, (long long)c.n,
             use_pred ? "true" : "false");
    if ((status = sl_ledger_round_set(l, run, k, "proposed", summary, err))) goto DONE;
  }
  *ret_k = k;
DONE:
  sl_design_state_free(&st);
  sl_design_cands_free(&c);
  sl_predictor_destroy(pred);
  free(chosen); free(text); free(inbag); free(oob_res); free(work);
  return status;
}

int sl_design_batch(sl_ledger *l, int64_t run, int64_t k, char ***ret_seqs, double **ret_mean, double **ret_sd,
                    int64_t *ret_n, sl_error *err) {
  sl_ledger_seqs s;
  *ret_seqs = NULL;
  *ret_n = 0;
  if (ret_mean) *ret_mean = NULL;
  if (ret_sd) *ret_sd = NULL;
  int status = sl_ledger_seqs_get(l, run, "", &s, err);
  if (status) return status;
  char **seqs = calloc((size_t)s.n + 1, sizeof *seqs);
  double *mean = malloc((size_t)(s.n + 1) * sizeof *mean), *sd = malloc((size_t)(s.n + 1) * sizeof *sd);
  int64_t n = 0;
  if (!seqs || !mean || !sd) status = sl_fail(err, SL_ENOMEM, "out of memory");
  for (int64_t j = 0; j < s.n && !status; j++) {
    if (s.round[j] != k || (s.origin[j] == SL_ORIGIN_NATURAL && (k > 0 || j > 0))) continue;
    int found = 0;
    mean[n] = sd[n] = NAN;
    if ((status = sl_ledger_prediction_get(l, s.id[j], k, &mean[n], &sd[n], &found, err))) break;
    seqs[n] = s.seq[j];
    s.seq[j] = sl_strdup("");
    n++;
  }
  sl_ledger_seqs_free(&s);
  if (status) {
    for (int64_t j = 0; j < n; j++) free(seqs[j]);
    free(seqs); free(mean); free(sd);
    return status;
  }
  *ret_seqs = seqs;
  *ret_n = n;
  if (ret_mean) *ret_mean = mean; else free(mean);
  if (ret_sd) *ret_sd = sd; else free(sd);
  return SL_OK;
}

/* --conformal batch: split conformal inside round k's batch. The batch (the
 * round's designed sequences with a prediction, in ledger id order) is cut
 * by a permutation drawn from its own stream (seed, k): the first
 * m = round(cal_fraction n) calibrate, and each of the others gets
 * [mean + lo, mean + hi], lo and hi the conformal alpha/2 quantiles of the
 * calibration errors y - mean from below and from above. Given the batch,
 * whatever chose it, the split is uniform and independent of the
 * measurements, so calibration and test errors are exchangeable, each bound
 * fails with probability <= alpha/2, and a test sequence is covered with
 * probability >= 1 - alpha (docs/design.md). Signed errors, not |y - mean|
 * / sd: a designed batch's errors are skewed (the model overshoots the
 * sequences it picked), and on dev campaigns (GB1, seeds 71-90) these gave
 * the narrowest intervals of the four scores compared (docs/benchmarks.md);
 * each bound needs m >= 2 / alpha - 1 (19 at alpha 0.1), else it is
 * infinite. Only the calibration part's values are read, so the intervals
 * are what a lab that measures that part first would get. Sequences
 * without a finite value (not measurable) are left out of the calibration,
 * as they are of the coverage: which ones they are does not depend on the
 * split, so the measurable ones are still split at random and the promise
 * holds for a test sequence that can be measured. The split depends on the
 * batch, not on which rows a lab file holds or in which order. */
static int batch_intervals(sl_ledger *l, int64_t run, const sl_design_state *st, const sl_design_opts *op, int64_t k,
                           const char *const *seqs, const double *values, int64_t n, sl_error *err) {
  int64_t nb = 0;
  int64_t *idx = malloc((size_t)(st->s.n + 1) * sizeof *idx);
  double *mean = malloc((size_t)(st->s.n + 1) * sizeof *mean);
  double *up = malloc((size_t)(st->s.n + 1) * sizeof *up), *down = malloc((size_t)(st->s.n + 1) * sizeof *down);
  int status = idx && mean && up && down ? SL_OK : sl_fail(err, SL_ENOMEM, "out of memory");
  for (int64_t j = 0; j < st->s.n && !status; j++) {
    if (st->s.round[j] != k || st->s.origin[j] != SL_ORIGIN_DESIGNED) continue;
    int found = 0;
    double sd;
    if ((status = sl_ledger_prediction_get(l, st->s.id[j], k, &mean[nb], &sd, &found, err)) || !found) continue;
    idx[nb++] = j; /* st->s is in id order */
  }
  if (!status && nb > 0) {
    sl_rng r;
    sl_design_round_rng(&r, op->seed ^ 0x62617463685f6366ULL, k);
    int64_t *perm = malloc((size_t)nb * sizeof *perm);
    if (!perm) status = sl_fail(err, SL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < nb && !status; i++) perm[i] = i;
    for (int64_t i = nb - 1; i > 0 && !status; i--) { /* Fisher-Yates */
      int64_t u = (int64_t)(sl_rng_uniform(&r) * (double)(i + 1));
      if (u > i) u = i;
      int64_t t = perm[i];
      perm[i] = perm[u];
      perm[u] = t;
    }
    const int64_t m = (int64_t)floor(op->cal_fraction * (double)nb + 0.5);
    int64_t mc = 0; /* calibration sequences with a value */
    for (int64_t c = 0; c < m && !status; c++) {
      const int64_t b = perm[c];
      double y = NAN;
      for (int64_t i = 0; i < n; i++)
        if (strcmp(seqs[i], st->s.seq[idx[b]]) == 0) { y = values[i]; break; }
      if (!isfinite(y)) continue;
      up[mc] = y - mean[b];
      down[mc++] = mean[b] - y;
    }
    const double hi = status ? NAN : sl_conformal_quantile(up, NULL, mc, 1.0, op->alpha / 2);
    const double lo = status ? NAN : -sl_conformal_quantile(down, NULL, mc, 1.0, op->alpha / 2);
    if (!status && (isnan(hi) || isnan(lo))) status = sl_fail(err, SL_ENOMEM, "out of memory");
    for (int64_t c = m; c < nb && !status; c++) {
      const int64_t b = perm[c];
      status = sl_ledger_interval_add(l, st->s.id[idx[b]], k, "ridge-bootstrap", "batch", op->alpha,
                                      isfinite(lo) ? mean[b] + lo : -INFINITY, isfinite(hi) ? mean[b] + hi : INFINITY, err);
    }
    if (!status) status = sl_ledger_round_stat(l, run, k, "conformal_cal_n", (double)mc, err);
    free(perm);
  }
  free(idx); free(mean); free(up); free(down);
  return status;
}

int sl_design_plate(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                    const sl_design_prior *prior, const char *const *seqs, const double *values, int64_t n,
                    FILE *fp, sl_error *err) {
  if (op->conformal != SL_CONF_BATCH)
    return sl_fail(err, SL_EUSAGE, "the plate is for --conformal batch campaigns (this one: --conformal %s)",
                   sl_conformal_method_name(op->conformal));
  int64_t k;
  char rs[16];
  int status = sl_ledger_round_last(l, run, &k, rs, err);
  if (status) return status;
  if (k < 1 || strcmp(rs, "proposed") != 0)
    return sl_fail(err, SL_EUSAGE, "no designed round awaits measurements (run 'seqloop design propose' first)");
  sl_design_state st;
  if ((status = sl_design_state_load(l, run, o, prior, &st, err))) return status;
  /* the intervals recording would write, from these values (rolled back by the caller) */
  if ((status = batch_intervals(l, run, &st, op, k, seqs, values, n, err))) goto DONE;
  fprintf(fp, "round,sequence,part,predicted_mean,lower,upper\n");
  for (int64_t j = 0; j < st.s.n && !status; j++) {
    if (st.s.round[j] != k || st.s.origin[j] != SL_ORIGIN_DESIGNED) continue;
    double mean, sd, lo, hi;
    int found = 0, rest = 0;
    if ((status = sl_ledger_prediction_get(l, st.s.id[j], k, &mean, &sd, &found, err)) || !found) continue;
    if ((status = sl_ledger_interval_get(l, st.s.id[j], k, &lo, &hi, NULL, &rest, err))) break;
    for (int64_t i = 0; i < n && rest; i++)
      if (strcmp(seqs[i], st.s.seq[j]) == 0)
        status = sl_fail(err, SL_EINPUT, "sequence %.80s is not in the calibration part of round %lld (measure "
                         "the rows marked 'calibrate' first)", seqs[i], (long long)k);
    fprintf(fp, "%lld,%s,%s,%.6g,", (long long)k, st.s.seq[j], rest ? "rest" : "calibrate", mean);
    if (rest && isfinite(lo)) fprintf(fp, "%.6g", lo);
    fprintf(fp, ",");
    if (rest && isfinite(hi)) fprintf(fp, "%.6g", hi);
    fprintf(fp, "\n");
  }
  /* every given sequence must be one of the round's calibration part */
  for (int64_t i = 0; i < n && !status; i++) {
    int in = 0;
    for (int64_t j = 0; j < st.s.n && !in; j++)
      in = st.s.round[j] == k && st.s.origin[j] == SL_ORIGIN_DESIGNED && strcmp(seqs[i], st.s.seq[j]) == 0;
    if (!in)
      status = sl_fail(err, SL_EINPUT, "sequence %.80s was not proposed in round %lld", seqs[i], (long long)k);
  }
DONE:
  sl_design_state_free(&st);
  return status;
}

int sl_design_record(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op, int64_t k,
                     const char *const *seqs, const double *values, int64_t n, const sl_design_prior *prior,
                     sl_design_round *R, sl_error *err) {
  int64_t k0;
  char rs[16];
  int status = sl_ledger_round_last(l, run, &k0, rs, err);
  if (status) return status;
  if (k0 != k || strcmp(rs, "proposed") != 0)
    return sl_fail(err, SL_EUSAGE, "round %lld is not awaiting measurements (last round %lld is %s)",
                   (long long)k, (long long)k0, k0 < 0 ? "absent" : rs);
  sl_design_state st;
  if ((status = sl_design_state_load(l, run, o, prior, &st, err))) return status;
  /* Every sequence must have been proposed in this round, every value must
   * be finite or NAN (not measurable), and the UNIQUE constraint refuses a
   * second measurement of the same sequence (also twice in one file). With
   * op->replicates R > 1 a sequence may have up to R rows: its replicates,
   * numbered in the order of the rows. */
  double cov_in = 0, cov_n = 0, bsum = 0, bn = 0, bbest = -INFINITY, ci_in = 0, ci_n = 0, ci_w = 0, ci_wn = 0;
  /* --conformal batch: the intervals first, from the calibration part's
   * values only; the loop below measures their coverage on the rest. */
  if (op->conformal == SL_CONF_BATCH && k >= 1 && (status = batch_intervals(l, run, &st, op, k, seqs, values, n, err)))
    goto FAIL;
  const int R_max = op->replicates > 1 ? op->replicates : 1;
  for (int64_t j = 0; j < n; j++) {
    int64_t idx = -1;
    for (int64_t i = 0; i < st.s.n && idx < 0; i++) if (strcmp(st.s.seq[i], seqs[j]) == 0) idx = i;
    if (idx < 0) { status = sl_fail(err, SL_EINPUT, "sequence %.80s was never proposed", seqs[j]); goto FAIL; }
    int rep = 0, first = 1;
    if (R_max > 1) {
      rep = st.s.measured[idx];
      for (int64_t i = 0; i < j; i++)
        if (strcmp(seqs[i], seqs[j]) == 0) { rep++; first = 0; }
      if (rep >= R_max) {
        status = sl_fail(err, SL_EINPUT, "sequence %.80s has more than %d measurements (the campaign takes at most "
                         "--replicates %d per sequence)", seqs[j], R_max, R_max);
        goto FAIL;
      }
    }
    if (st.s.round[idx] != k || (st.s.origin[idx] == SL_ORIGIN_NATURAL && k > 0)) {
      status = sl_fail(err, SL_EINPUT, "sequence %.80s was not proposed in the open round %lld (it is a %s "
                       "sequence of round %lld)", seqs[j], (long long)k, sl_ledger_origin_name(st.s.origin[idx]),
                       (long long)st.s.round[idx]);
      goto FAIL;
    }
    if (isinf(values[j])) { status = sl_fail(err, SL_EINPUT, "sequence %.80s: value is infinite", seqs[j]); goto FAIL; }
    if ((status = sl_ledger_measurement_add_rep(l, st.s.id[idx], o->name, values[j], k, rep, err))) goto FAIL;
    double mean, sd;
    int found = 0;
    if ((status = sl_ledger_prediction_get(l, st.s.id[idx], k, &mean, &sd, &found, err))) goto FAIL;
    /* The best is over sequences' means (the maximum of noisy replicates
     * would be biased upwards); without replicates the value itself. */
    if (first) {
      double m = 0;
      int c = 0;
      for (int64_t i = j; i < (R_max > 1 ? n : j + 1); i++)
        if (isfinite(values[i]) && (i == j || strcmp(seqs[i], seqs[j]) == 0)) { m += values[i]; c++; }
      if (c && m / c > bbest) bbest = m / c;
    }
    if (isfinite(values[j])) {
      bsum += values[j]; bn++;
      if (found) { cov_n++; cov_in += fabs(values[j] - mean) <= 1.6448536269514722 * sd; }
      double lo, hi;
      int ifound = 0;
      if ((status = sl_ledger_interval_get(l, st.s.id[idx], k, &lo, &hi, NULL, &ifound, err))) goto FAIL;
      if (ifound) {
        ci_n++;
        ci_in += values[j] >= lo && values[j] <= hi;
        if (isfinite(hi - lo)) { ci_w += hi - lo; ci_wn++; }
      }
    }
  }
  /* Proposals of this round: prior log P and distance to the nearest natural. */
  double psum = 0, pn = 0, dsum = 0, dn = 0;
  for (int64_t j = 0; j < st.s.n; j++) {
    if (st.s.round[j] != k || st.s.origin[j] == SL_ORIGIN_NATURAL) continue;
    if (isfinite(st.prior[j])) { psum += st.prior[j]; pn++; }
    int dmin = -1;
    for (int64_t i = 0; i < st.s.n; i++)
      if (st.s.origin[i] == SL_ORIGIN_NATURAL) {
        int d = sl_design_hamming(st.x + j * o->L, st.x + i * o->L, o->L);
        if (dmin < 0 || d < dmin) dmin = d;
      }
    if (dmin >= 0) { dsum += dmin; dn++; }
  }
  /* Sampled batches: coverage over the round's draws, each as often as
   * drawn (a repeat of a measured sequence included), which is what the
   * weighted interval promises (query.c). */
  double ci_unb = 0;
  if (op->conformal == SL_CONF_WEIGHTED &&
      (status = sl_design_query_coverage(l, run, k, &st, seqs, values, n, &ci_in, &ci_n, &ci_w, &ci_wn, &ci_unb, err)))
    goto FAIL;
  double prev_best = st.ntrain ? st.s.value[st.train[0]] : -INFINITY;
  int64_t prev_n = st.n_measured;
  sl_design_state_free(&st);
  memset(R, 0, sizeof *R);
  R->k = k;
  R->n_measured = prev_n + n;
  R->best = bn && bbest > prev_best ? bbest : prev_best;
  if (!isfinite(R->best)) R->best = NAN;
  R->batch_mean = bn ? bsum / bn : NAN;
  R->batch_best = bn ? bbest : NAN;
  R->regret = isfinite(o->optimum) ? o->optimum - R->best : NAN;
  R->prior_logp = pn ? psum / pn : NAN;
  R->dist_natural = dn ? dsum / dn : NAN;
  R->coverage90 = cov_n ? cov_in / cov_n : NAN;
  if ((status = sl_ledger_round_stat_get(l, run, k, "acceptance", &R->acceptance, err))) return status;
  R->bits_injected = R->acceptance > 0 ? log2(1.0 / R->acceptance) : NAN;
  struct { const char *name; double v; } stats[] = {
    {"n_measured", (double)R->n_measured}, {"best", R->best}, {"batch_mean", R->batch_mean},
    {"batch_best", R->batch_best}, {"regret", R->regret}, {"prior_logp", R->prior_logp},
    {"dist_natural", R->dist_natural}, {"coverage90", R->coverage90}, {"measured_this_round", (double)n}};
  for (size_t j = 0; j < sizeof stats / sizeof *stats; j++)
    if ((status = sl_ledger_round_stat(l, run, k, stats[j].name, stats[j].v, err))) return status;
  /* --prior-top: the --min-prior cut its share resolved to (campaign.c) */
  if (op->prior_top > 0 && (status = sl_ledger_round_stat(l, run, k, "prior_top_cut", op->min_prior, err)))
    return status;
  /* Conformal intervals (only rounds that have them: older campaigns'
   * ledgers stay as they were). Width: the mean over bounded intervals. */
  R->conformal_coverage = ci_n ? ci_in / ci_n : NAN;
  R->conformal_width = ci_wn ? ci_w / ci_wn : NAN;
  if (op->conformal == SL_CONF_BATCH) ci_unb = ci_n - ci_wn; /* too few calibration points */
  R->conformal_unbounded = ci_n && (op->conformal == SL_CONF_WEIGHTED || op->conformal == SL_CONF_BATCH)
                               ? ci_unb / ci_n : NAN;
  if (ci_n && ((status = sl_ledger_round_stat(l, run, k, "conformal_coverage", R->conformal_coverage, err)) ||
               (status = sl_ledger_round_stat(l, run, k, "conformal_width", R->conformal_width, err)) ||
               (status = sl_ledger_round_stat(l, run, k, "conformal_n", ci_n, err))))
    return status;
  if (isfinite(R->conformal_unbounded) &&
      (status = sl_ledger_round_stat(l, run, k, "conformal_unbounded", R->conformal_unbounded, err)))
    return status;
  cJSON *sum = cJSON_CreateObject();
  if (!sum) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON_AddNumberToObject(sum, "round", (double)k);
  for (size_t j = 0; j < sizeof stats / sizeof *stats; j++)
    if (isfinite(stats[j].v)) cJSON_AddNumberToObject(sum, stats[j].name, stats[j].v);
    else cJSON_AddNullToObject(sum, stats[j].name);
  char *text = cJSON_PrintUnformatted(sum);
  cJSON_Delete(sum);
  if (!text) return sl_fail(err, SL_ENOMEM, "out of memory");
  status = sl_ledger_round_set(l, run, k, "done", text, err);
  free(text);
  (void)op;
  return status;
FAIL:
  sl_design_state_free(&st);
  return status;
}

int sl_design_step(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                   const sl_design_prior *prior, sl_design_round *R, sl_error *err) {
  int64_t k = -1, n = 0;
  char **seqs = NULL;
  const char **rows = NULL;
  double *y = NULL;
  uint8_t *x = NULL;
  R->k = -1;
  int status = sl_ledger_begin(l, err);
  if (status) return status;
  if ((status = sl_design_propose(l, run, o, op, prior, &k, err)) || k < 0) { R->k = k; goto DONE; }
  if ((status = sl_design_batch(l, run, k, &seqs, NULL, NULL, &n, err))) goto DONE;
  /* Round 0 measures the start once; designed sequences op->replicates
   * times, as rows j R .. j R + R - 1 (one oracle call for the batch). */
  const int64_t reps = k > 0 && op->replicates > 1 ? op->replicates : 1, nr_rows = n * reps;
  x = malloc((size_t)(nr_rows * o->L) + 1);
  y = malloc((size_t)(nr_rows + 1) * sizeof *y);
  rows = malloc((size_t)(nr_rows + 1) * sizeof *rows);
  if (!x || !y || !rows) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t j = 0; j < n && !status; j++) status = sl_design_encode(o, seqs[j], x + j * reps * o->L, err);
  for (int64_t j = 0; j < n && !status; j++)
    for (int64_t t = 0; t < reps; t++) {
      rows[j * reps + t] = seqs[j];
      if (t) memcpy(x + (j * reps + t) * o->L, x + j * reps * o->L, (size_t)o->L);
    }
  if (status || (status = sl_oracle_measure(o, x, nr_rows, y, err))) goto DONE;
  if (op->oracle_noise > 0) {
    /* Simulated assay noise: its own stream, seeded from (seed, k) and
     * independent of the round's proposal stream, so a resumed run draws
     * the same noise and a noiseless campaign the same proposals. One draw
     * per measurement, replicates included, in row order. */
    sl_rng nr;
    sl_design_round_rng(&nr, op->seed ^ 0x6e6f6973655f7364ULL, k);
    for (int64_t j = 0; j < nr_rows; j++) {
      double u1 = sl_rng_uniform(&nr), u2 = sl_rng_uniform(&nr);
      double g = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
      if (isfinite(y[j])) y[j] += op->oracle_noise * g;
    }
  }
  if ((status = sl_design_record(l, run, o, op, k, rows, y, nr_rows, prior, R, err))) goto DONE;
  /* Fault injection for the resume test: die the hard way with every write
   * of the round made and nothing committed. */
  if (op->crash_after == k) raise(SIGKILL);
  status = sl_ledger_commit(l, err);
DONE:
  if (status || k < 0) sl_ledger_rollback(l);
  for (int64_t j = 0; j < n; j++) free(seqs[j]);
  free(seqs); free(rows); free(x); free(y);
  return status;
}
