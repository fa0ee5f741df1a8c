/* query.c: sampled batches with a known density, and their weighted
 * conformal intervals (--conformal weighted; docs/design.md, "Conformal
 * intervals").
 *
 * Why sampling: a conformal guarantee under the loop's feedback needs the
 * new input to be *drawn* from a density the program knows (Tibshirani et
 * al. 2019; Fannjiang et al. 2022). Top-k selection has none. So round k
 * draws its batch i.i.d., with replacement, from
 *     q_k(x) = exp(lambda a_k(x)) / Z_k   on the support S_k,
 * a_k the acquisition of round k's predictor f_k (0 without one: uniform),
 * S_k every sequence of the (enumerable) design space that is not in the
 * training ledger (below). The first draws of a round are its 'train' part,
 * the last round(cal_fraction * B) its 'cal' part.
 *
 * The split that makes it valid, round after round: f_k trains on every
 * measurement except E_{k-1}, the sequences that round k-1's cal draws
 * measured for the first time (new in round k-1 with no train draw). Then,
 * given everything but round k-1's cal draws, those draws are i.i.d. from
 * q_{k-1}, and f_k, a_k, S_k and q_k do not depend on them: S_k excludes
 * every ledger sequence but E_{k-1}, a set fixed by the train draws. Round
 * k's draws are i.i.d. from q_k; S_k is inside S_{k-1}, so the likelihood
 * ratio w(x) = q_k(x) / q_{k-1}(x) is finite, and the weighted split
 * conformal interval over the cal draws (scores |y - mu_k| / sd_k, weights
 * w, the test point's own weight at +inf) covers a draw's value with
 * probability >= 1 - alpha. Per round, whatever happened before: the
 * multi-round case is handled by calibrating each round on the previous
 * round's held-out draws (a one-round delay for those), not by the product
 * weights of Prinster et al. (2024), which full conformal would need.
 *
 * q_{k-1} at round k's draws needs f_{k-1}: it is refitted from the ledger
 * (the training set of round k-1 and that round's generator, the same bits)
 * and Z_{k-1} is the round's stored statistic `query_logz`; the refit is
 * checked against the log q stored with round k-1's own draws.
 *
 * Everything is read back from the ledger (draws table, round_stats), so a
 * resumed run computes what an uninterrupted one did.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loop_impl.h"

/* Index of x in the enumeration of the space (sl_design_space_decode's
 * inverse). */
static int64_t space_index(const uint8_t *x, int64_t L, int q) {
  int64_t t = 0;
  for (int64_t i = 0; i < L; i++) t = t * q + x[i];
  return t;
}

/* What round k of a sampled campaign is built from. */
typedef struct {
  uint8_t *held;       /* per ledger index: 1 if in E_{k-1} (held out of f_k, kept in S_k) */
  int64_t *train;      /* f_k's training indices (the state's order) */
  int64_t ntrain;
} round_split;

static void split_free(round_split *s) { free(s->held); free(s->train); memset(s, 0, sizeof *s); }

/* E_{k-1} and f_k's training set from the ledger: round k-1's draws and
 * the state (sequences of rounds < k). */
static int split_load(sl_ledger *l, int64_t run, const sl_design_state *st, int64_t k, round_split *sp,
                      sl_error *err) {
  memset(sp, 0, sizeof *sp);
  sl_ledger_draws d = {0};
  int status = k >= 2 ? sl_ledger_draws_get(l, run, k - 1, &d, err) : SL_OK;
  if (status) return status;
  sp->held = calloc((size_t)st->s.n + 1, 1);
  sp->train = malloc((size_t)(st->ntrain + 1) * sizeof *sp->train);
  if (!sp->held || !sp->train) { sl_ledger_draws_free(&d); split_free(sp); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  /* new in round k-1 and drawn for 'cal' ... */
  for (int64_t j = 0; j < d.n; j++) {
    if (!d.cal[j]) continue;
    for (int64_t i = 0; i < st->s.n; i++)
      if (st->s.id[i] == d.seq[j] && st->s.round[i] == k - 1 && st->s.origin[i] == SL_ORIGIN_DESIGNED) sp->held[i] = 1;
  }
  /* ... and not for 'train' */
  for (int64_t j = 0; j < d.n; j++) {
    if (d.cal[j]) continue;
    for (int64_t i = 0; i < st->s.n; i++)
      if (st->s.id[i] == d.seq[j]) sp->held[i] = 0;
  }
  sl_ledger_draws_free(&d);
  for (int64_t t = 0; t < st->ntrain; t++)
    if (!sp->held[st->train[t]]) sp->train[sp->ntrain++] = st->train[t];
  return SL_OK;
}

/* The predictor of round k (NULL when it has none: q_k uniform) and the
 * acquisition of the points x (n of them) under it. */
static int round_model(const sl_design_state *st, const round_split *sp, const sl_oracle *o, const sl_design_opts *op,
                       const sl_design_prior *prior, uint64_t seed, int64_t k, sl_predictor **ret, sl_error *err) {
  *ret = NULL;
  if (!op->use_predictor || sp->ntrain < 2) return SL_OK;
  sl_rng r;
  sl_design_round_rng(&r, seed, k);
  sl_design_state s2 = *st;
  s2.train = sp->train;
  s2.ntrain = sp->ntrain;
  return sl_design_fit_predictor(&s2, o, op, prior, &r, ret, err);
}

/* Acquisition values of n points: a(x) of the predictor, the best of its
 * training set as EI's incumbent. mean/sd may be NULL. */
static int acquire_points(const sl_predictor *pred, const sl_design_state *st, const round_split *sp,
                          const sl_design_opts *op, const sl_design_prior *prior, int64_t L, const uint8_t *x,
                          int64_t n, double *a, double *mean, double *sd, sl_error *err) {
  if (!pred) {
    for (int64_t j = 0; j < n; j++) {
      a[j] = 0;
      if (mean) mean[j] = sd[j] = NAN;
    }
    return SL_OK;
  }
  sl_design_cands c = {0};
  c.n = n;
  c.L = L;
  c.x = (uint8_t *)x;
  c.mean = mean ? mean : malloc((size_t)(n + 1) * sizeof *c.mean);
  c.sd = sd ? sd : malloc((size_t)(n + 1) * sizeof *c.sd);
  c.score = a;
  uint8_t *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  int status = SL_OK;
  if (!c.mean || !c.sd || (prior && prior->m && !work)) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else {
    for (int64_t j = 0; j < n; j++) {
      double lp = sl_design_prior_logp(prior, L, x + j * L, work);
      sl_predictor_predict(pred, x + j * L, lp, &c.mean[j], &c.sd[j], NULL);
    }
    sl_design_acquire(&c, op, st->s.value[sp->train[0]]);
  }
  if (!mean) free(c.mean);
  if (!sd) free(c.sd);
  free(work);
  return status;
}

int sl_design_query_check(const sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior, int first_random,
                          sl_error *err) {
  const int64_t L = o->L, total = sl_design_space_size(o);
  const int q = o->q;
  /* the proposers with a density the loop can evaluate (density.c) */
  const sl_model *pm = prior ? prior->m : NULL;
  const sl_alphabet *pabc = sl_alphabet_get(SL_ABC_PROTEIN);
  if (!sl_design_has_density(op->proposer) && !first_random)
    return sl_fail(err, SL_EUSAGE, "--conformal weighted draws each batch from a density: use --proposer all, prior, "
                   "cbas or cbas-ar, not %s", sl_design_proposer_name(op->proposer));
  if (op->proposer == SL_PROPOSE_PRIOR && !pm)
    return sl_fail(err, SL_EUSAGE, "--proposer prior needs a --prior");
  if (op->proposer == SL_PROPOSE_CBAS && pm && !sl_model_has(pm, SL_CAP_INDEPENDENT))
    return sl_fail(err, SL_EUSAGE, "--proposer cbas needs no prior or a profile --prior (its search distribution is "
                   "site-independent)");
  if (op->proposer == SL_PROPOSE_CBAS_AR &&
      (q != pabc->q - 1 || strncmp(o->symbols, pabc->symbols + 1, (size_t)q) != 0))
    return sl_fail(err, SL_EUSAGE, "--proposer cbas-ar needs a protein design space (the oracle's symbols are '%s'); "
                   "use cbas", o->symbols);
  /* Past SL_PROPOSE_ALL_MAX the space cannot be enumerated: only a density
   * normalised over all strings can be drawn from (by rejection). */
  if (total < 0 && !sl_design_density_any_space(op->proposer) && !first_random)
    return sl_fail(err, SL_EUSAGE, "--conformal weighted with --proposer %s needs a design space of at most %d "
                   "sequences (this one has %d^%lld); cbas and cbas-ar sample any space",
                   sl_design_proposer_name(op->proposer), SL_PROPOSE_ALL_MAX, q, (long long)L);
  if (total < 0 && (isfinite(op->min_prior) || (op->max_edits > 0 && op->max_edits < L)))
    return sl_fail(err, SL_EUSAGE, "--conformal weighted cannot normalise a trust region (--min-prior, --prior-top, "
                   "--max-edits) over a design space of %d^%lld sequences; CbAS's prior is its soft trust region",
                   q, (long long)L);
  return SL_OK;
}

int sl_design_query_round(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                          const sl_design_prior *prior, const sl_design_state *st, int64_t k, int64_t B,
                          int64_t *ret_nb, int64_t *ret_support, sl_design_gen_report *rep, int *ret_use_pred,
                          sl_error *err) {
  const int64_t L = o->L;
  const int q = o->q;
  *ret_nb = 0;
  *ret_support = 0;
  *ret_use_pred = 0;
  memset(rep, 0, sizeof *rep);
  const int64_t total = sl_design_space_size(o);
  /* (round 1 of --init-random runs as the random proposer: uniform) */
  const int first_random = op->proposer == SL_PROPOSE_RANDOM && k == 1 && op->init_random > 0;
  const int checked = sl_design_query_check(o, op, prior, first_random, err);
  if (checked) return checked;
  round_split sp = {0}, spp = {0};
  sl_predictor *pred = NULL, *prev = NULL;
  sl_design_density dens = {0}, dprev = {0};
  sl_design_seqset outset = {0};
  uint8_t *excl = total >= 0 ? calloc((size_t)total, 1) : NULL, *sx = NULL, *dx = NULL, *px = NULL;
  uint8_t *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  double *a = NULL, *mean = NULL, *sd = NULL, *cum = NULL, *g = NULL, *pg = NULL;
  int64_t *draw = NULL, *first = NULL, *ledger_id = NULL;
  char *text = malloc((size_t)L + 1);
  int status = SL_OK;
  if ((total >= 0 && !excl) || !text || (prior && prior->m && !work) || sl_design_seqset_init(&outset, st->s.n, L)) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if ((status = split_load(l, run, st, k, &sp, err))) goto DONE;
  /* S_k: the space less every ledger sequence but E_{k-1} (outset), less
   * the trust region's filters */
  for (int64_t i = 0; i < st->s.n; i++)
    if (!sp.held[i]) sl_design_seqset_add(&outset, st->x + i * L);
  const uint8_t *start = st->x + st->start * L;
  double start_prior = st->prior[st->start];
  int max_edits = op->max_edits > 0 ? op->max_edits : (int)L;
  /* The two densities of the round (density.c): q_k (the train part:
   * the design), e.g. exp(lambda a) for --proposer all, and r_k (the cal
   * part: broader, so that the next round's draws find calibration points
   * near them), e.g. exp(cal_lambda a); uniform (all) or the prior without
   * a predictor. lambda is in units of 1 / the acquisition's (the
   * measurement's units for ucb and greedy): as the model's predictions
   * spread, the density sharpens by itself.
   * How many draws: the smallest number D whose draws hold, in expectation,
   * the part's share of B distinct sequences of S_k (sum over x in S_k of
   * 1 - (1 - p(x))^D), so that a round measures about B however peaked the
   * density is. D is a function of the density alone, not of the draws, so
   * the draws stay i.i.d. (at most 1000 B per part); it counts E_{k-1} with
   * the new sequences, since which sequences round k-1's cal draws found
   * must not decide how many draws round k makes (the guarantee conditions
   * on everything but those draws). */
  const int64_t want[2] = {B - (int64_t)floor(op->cal_fraction * (double)B + 0.5),
                           (int64_t)floor(op->cal_fraction * (double)B + 0.5)};
  double logz[2];
  int64_t nds[2] = {0, 0}, ns = 0;
  sl_rng r;
  sl_design_round_rng(&r, op->seed ^ 0x71756572795f6472ULL, k);
  if ((status = round_model(st, &sp, o, op, prior, op->seed, k, &pred, err))) goto DONE;
  if ((status = sl_design_density_build(o, op, prior, pred, k, &dens, err))) goto DONE;
  const double lam[2] = {pred ? op->query_lambda : 0.0, pred ? op->cal_lambda : 0.0};
  if (total >= 0) {
    /* excl: 1 outside S_k (a ledger sequence not held out) */
    for (int64_t i = 0; i < st->s.n; i++) excl[space_index(st->x + i * L, L, q)] = !sp.held[i];
    for (int64_t t = 0; t < total; t++) ns += !excl[t];
    sx = malloc((size_t)(ns * L) + 1);
    if (!sx) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    ns = 0;
    for (int64_t t = 0; t < total; t++) {
      rep->generated++;
      if (excl[t]) continue;
      rep->filter_tested++;
      uint8_t *x = sx + ns * L;
      sl_design_space_decode(o, t, x);
      if (sl_design_hamming(x, start, L) > max_edits) continue;
      if (isfinite(op->min_prior) && prior && prior->m &&
          !(sl_design_prior_logp(prior, L, x, work) - start_prior >= -op->min_prior))
        continue;
      rep->filtered_in++;
      ns++;
    }
    *ret_support = ns;
    if (ns == 0) goto DONE; /* nothing left to draw: the caller reports a stuck campaign */
    a = malloc((size_t)ns * sizeof *a);
    mean = malloc((size_t)ns * sizeof *mean);
    sd = malloc((size_t)ns * sizeof *sd);
    cum = malloc((size_t)(2 * ns) * sizeof *cum);
    g = malloc((size_t)(2 * ns) * sizeof *g);
    if (!a || !mean || !sd || !cum || !g) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = acquire_points(pred, st, &sp, op, prior, L, sx, ns, a, mean, sd, err)) ||
        (status = sl_design_density_eval(&dens, o, prior, sx, ns, a, g, g + ns, err)))
      goto DONE;
    for (int part = 0; part < 2; part++) {
      const double *gp = g + part * ns;
      double amax = -INFINITY, zs = 0;
      for (int64_t j = 0; j < ns; j++) if (gp[j] > amax) amax = gp[j];
      if (!isfinite(amax)) {
        status = sl_fail(err, SL_EINPUT, "round %lld: the %s density puts no mass on the %lld sequences left to draw "
                         "(the prior scores none of them)", (long long)k, part ? "cal" : "query", (long long)ns);
        goto DONE;
      }
      for (int64_t j = 0; j < ns; j++) { zs += exp(gp[j] - amax); cum[part * ns + j] = zs; }
      logz[part] = amax + log(zs);
    }
    for (int part = 0; part < 2; part++) {
      const double *cu = cum + part * ns;
      for (int64_t j = 0; j < ns; j++) a[j] = (cu[j] - (j ? cu[j - 1] : 0.0)) / cu[ns - 1]; /* a: scratch now */
      nds[part] = sl_design_draws_needed(a, ns, 0, want[part]);
    }
    if (!(draw = malloc((size_t)(nds[0] + nds[1] + 1) * sizeof *draw))) {
      status = sl_fail(err, SL_ENOMEM, "out of memory");
      goto DONE;
    }
    for (int64_t j = 0; j < nds[0] + nds[1]; j++) {
      const double *cu = cum + (j >= nds[0] ? ns : 0);
      double u = sl_rng_uniform(&r) * cu[ns - 1];
      int64_t lo = 0, hi = ns - 1;
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cu[mid] > u) hi = mid; else lo = mid + 1;
      }
      draw[j] = lo;
    }
  } else {
    /* Rejection from the CbAS kinds' Q and Q_tau (normalised over all
     * strings): the normaliser of S_k, Z = Q(S_k), is estimated by a pilot
     * of SL_DESIGN_QUERY_PILOT draws on a generator of its own, and so is D
     * (the sum over S_k, as E over x ~ p of [1 - (1 - p(x))^D] / p(x)): both
     * are functions of the density and the pilot, not of the round's draws,
     * which stay i.i.d. Z is recorded (query_logz); the weights of the
     * intervals need the densities only up to a constant. */
    sl_rng rp;
    sl_design_round_rng(&rp, op->seed ^ 0x70696c6f745f6472ULL, k); /* "pilot_dr" */
    const int64_t P = SL_DESIGN_QUERY_PILOT;
    px = malloc((size_t)(P * L));
    pg = malloc((size_t)(2 * P) * sizeof *pg);
    if (!px || !pg) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int part = 0; part < 2; part++) {
      int64_t tries = 0;
      if ((status = sl_design_density_sample(&dens, o, part, &outset, &rp, P, px, &tries, err)) ||
          (status = sl_design_density_eval(&dens, o, prior, px, P, NULL, pg, pg + P, err)))
        goto DONE;
      logz[part] = log((double)P / (double)tries);
      double *gp = pg + part * P;
      for (int64_t j = 0; j < P; j++) gp[j] = fmin(exp(gp[j] - logz[part]), 1.0);
      nds[part] = sl_design_draws_needed(gp, P, 1, want[part]);
    }
    const int64_t nall = nds[0] + nds[1];
    dx = malloc((size_t)(nall * L) + 1);
    draw = malloc((size_t)(nall + 1) * sizeof *draw);
    uint64_t *hx = malloc((size_t)(nall + 1) * sizeof *hx);
    if (!dx || !draw || !hx) { free(hx); status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int part = 0; part < 2 && !status; part++)
      status = sl_design_density_sample(&dens, o, part, &outset, &r, nds[part], dx + (part ? nds[0] * L : 0),
                                        &rep->generated, err);
    /* the distinct draws are the support's points this round looks at */
    for (int64_t j = 0; j < nall && !status; j++) {
      uint64_t h = sl_design_fnv(dx + j * L, L);
      int64_t i = 0;
      while (i < ns && !(hx[i] == h && memcmp(dx + i * L, dx + j * L, (size_t)L) == 0)) i++;
      if (i == ns) { hx[ns] = h; memmove(dx + ns * L, dx + j * L, (size_t)L); ns++; }
      draw[j] = i;
    }
    free(hx);
    if (status) goto DONE;
    rep->filter_tested = rep->filtered_in = nall;
    sx = dx;
    dx = NULL;
    *ret_support = ns;
    a = malloc((size_t)ns * sizeof *a);
    mean = malloc((size_t)ns * sizeof *mean);
    sd = malloc((size_t)ns * sizeof *sd);
    g = malloc((size_t)(2 * ns) * sizeof *g);
    if (!a || !mean || !sd || !g) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = acquire_points(pred, st, &sp, op, prior, L, sx, ns, a, mean, sd, err)) ||
        (status = sl_design_density_eval(&dens, o, prior, sx, ns, a, g, g + ns, err)))
      goto DONE;
  }
  const int64_t ntr = nds[0], ndraw = nds[0] + nds[1];
  if (!(first = malloc((size_t)(ndraw + 1) * sizeof *first)) ||
      !(ledger_id = malloc((size_t)(ndraw + 1) * sizeof *ledger_id))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  /* Distinct draws in first-draw order: new ones become the batch. */
  int64_t nd = 0;
  for (int64_t j = 0; j < ndraw; j++) {
    int seen = 0;
    for (int64_t i = 0; i < nd && !seen; i++) seen = first[i] == draw[j];
    if (!seen) first[nd++] = draw[j];
  }
  for (int64_t i = 0; i < nd; i++) {
    const uint8_t *x = sx + first[i] * L;
    sl_design_decode(o, x, text);
    int64_t id = -1, before = -1;
    if ((status = sl_ledger_seq_find(l, run, text, &before, err))) goto DONE;
    if ((status = sl_ledger_seq_add(l, run, text, SL_ORIGIN_DESIGNED, k, -1, &id, err))) goto DONE;
    ledger_id[i] = id;
    if (before < 0) (*ret_nb)++;
    if (pred && (status = sl_ledger_prediction_add(l, id, k, "ridge-bootstrap", mean[first[i]], sd[first[i]], err))) goto DONE;
    for (int part = 0; part < 2; part++) {
      int64_t cnt = 0;
      for (int64_t j = part ? ntr : 0; j < (part ? ndraw : ntr); j++) cnt += draw[j] == first[i];
      if (cnt && (status = sl_ledger_draw_add(l, id, k, part ? "cal" : "train", cnt,
                                              g[part * ns + first[i]] - logz[part], err)))
        goto DONE;
    }
  }
  if ((status = sl_ledger_round_stat(l, run, k, "query_logz", logz[0], err)) ||
      (status = sl_ledger_round_stat(l, run, k, "query_lambda", lam[0], err)) ||
      (status = sl_ledger_round_stat(l, run, k, "query_lambda_cal", lam[1], err)) ||
      (status = sl_ledger_round_stat(l, run, k, "query_logz_cal", logz[1], err)) ||
      (status = sl_ledger_round_stat(l, run, k, "query_model", pred ? 1.0 : 0.0, err)) ||
      (total >= 0 && (status = sl_ledger_round_stat(l, run, k, "query_support", (double)ns, err))) ||
      (status = sl_ledger_round_stat(l, run, k, "query_draws", (double)ndraw, err)) ||
      (status = sl_ledger_round_stat(l, run, k, "query_draws_cal", (double)nds[1], err)))
    goto DONE;
  *ret_use_pred = pred != NULL;

  /* ---- intervals: calibrated on round k-1's cal draws ---- */
  if (!pred || k < 2) goto DONE;
  sl_ledger_draws d = {0};
  if ((status = sl_ledger_draws_get(l, run, k - 1, &d, err))) goto DONE;
  int64_t nc = 0;
  for (int64_t j = 0; j < d.n; j++) nc += d.cal[j];
  double prev_logz = NAN, prev_model = NAN;
  if (!nc) { sl_ledger_draws_free(&d); goto DONE; } /* nothing to calibrate on: no interval */
  if ((status = sl_ledger_round_stat_get(l, run, k - 1, "query_logz_cal", &prev_logz, err)) ||
      (status = sl_ledger_round_stat_get(l, run, k - 1, "query_model", &prev_model, err))) {
    sl_ledger_draws_free(&d);
    goto DONE;
  }
  /* f_{k-1} from round k-1's training set (the state less the sequences
   * of round k-1, less E_{k-2}) and that round's generator. */
  {
    sl_design_state sprev = *st;
    int64_t *tr = malloc((size_t)(st->ntrain + 1) * sizeof *tr);
    uint8_t *cx = malloc((size_t)((nc + nd) * L) + 1);
    double *cs = malloc((size_t)(nc + 1) * sizeof *cs), *cw = malloc((size_t)(nc + 1) * sizeof *cw);
    double *pa = malloc((size_t)(nc + nd + 1) * sizeof *pa), *ka = malloc((size_t)(nc + 1) * sizeof *ka);
    double *km = malloc((size_t)(nc + 1) * sizeof *km), *ksd = malloc((size_t)(nc + 1) * sizeof *ksd);
    /* g of round k-1 (both parts) at every point, of round k at the cal points */
    double *gp = malloc((size_t)(2 * (nc + nd) + 1) * sizeof *gp), *gc = malloc((size_t)(2 * nc + 1) * sizeof *gc);
    if (!tr || !cx || !cs || !cw || !pa || !ka || !km || !ksd || !gp || !gc) status = sl_fail(err, SL_ENOMEM, "out of memory");
    int64_t m = 0;
    for (int64_t t = 0; !status && t < st->ntrain; t++)
      if (st->s.round[st->train[t]] < k - 1) tr[m++] = st->train[t];
    sprev.train = tr;
    sprev.ntrain = m;
    if (!status && prev_model == 1.0) {
      if (!(status = split_load(l, run, &sprev, k - 1, &spp, err)))
        status = round_model(&sprev, &spp, o, op, prior, op->seed, k - 1, &prev, err);
      if (!status && !prev)
        status = sl_fail(err, SL_EINTERNAL, "round %lld's predictor could not be refitted from the ledger",
                         (long long)(k - 1));
    }
    /* calibration points, then round k's distinct draws */
    int64_t ci = 0;
    for (int64_t j = 0; !status && j < d.n; j++) {
      if (!d.cal[j]) continue;
      int64_t idx = -1;
      for (int64_t i = 0; i < st->s.n && idx < 0; i++) if (st->s.id[i] == d.seq[j]) idx = i;
      if (idx < 0) { status = sl_fail(err, SL_EINTERNAL, "a draw of round %lld is not in the ledger", (long long)(k - 1)); break; }
      memcpy(cx + ci * L, st->x + idx * L, (size_t)L);
      cs[ci] = st->s.value[idx]; /* NAN (not measurable): an infinite score below */
      cw[ci] = (double)d.count[j];
      ka[ci] = d.logq[j];
      ci++;
    }
    for (int64_t i = 0; !status && i < nd; i++) memcpy(cx + (nc + i) * L, sx + first[i] * L, (size_t)L);
    if (!status && prev) status = acquire_points(prev, &sprev, &spp, op, prior, L, cx, nc + nd, pa, NULL, NULL, err);
    else for (int64_t i = 0; i < nc + nd; i++) pa[i] = 0;
    if (!status && !(status = sl_design_density_build(o, op, prior, prev, k - 1, &dprev, err)))
      status = sl_design_density_eval(&dprev, o, prior, cx, nc + nd, pa, gp, gp + nc + nd, err);
    const double *gpc = gp + nc + nd; /* log r_{k-1} + its log Z, the density of the cal draws */
    /* the refit must give the log density stored with them */
    for (int64_t i = 0; !status && i < nc; i++)
      if (!(fabs(gpc[i] - prev_logz - ka[i]) <= 1e-9 * (1 + fabs(ka[i]))))
        status = sl_fail(err, SL_EINTERNAL, "round %lld's query density could not be reproduced from the ledger "
                         "(log q %.17g stored, %.17g refitted)", (long long)(k - 1), ka[i], gpc[i] - prev_logz);
    /* scores of the calibration points under f_k, and their log weights
     * for a test point drawn from q_k (lw) or from r_k (lw + nc) */
    double *lw = malloc((size_t)(2 * nc + 1) * sizeof *lw);
    if (!status && !lw) status = sl_fail(err, SL_ENOMEM, "out of memory");
    if (!status) status = acquire_points(pred, st, &sp, op, prior, L, cx, nc, ka, km, ksd, err);
    if (!status) status = sl_design_density_eval(&dens, o, prior, cx, nc, ka, gc, gc + nc, err);
    for (int64_t i = 0; !status && i < nc; i++) {
      /* q_k(x_i) = 0 outside S_k (a draw that has joined the training set) */
      int in_s = !sl_design_seqset_has(&outset, cx + i * L);
      if (in_s && max_edits < L) in_s = sl_design_hamming(cx + i * L, start, L) <= max_edits;
      if (in_s && isfinite(op->min_prior) && prior && prior->m)
        in_s = sl_design_prior_logp(prior, L, cx + i * L, work) - start_prior >= -op->min_prior;
      for (int part = 0; part < 2; part++)
        lw[part * nc + i] = in_s ? gc[part * nc + i] - logz[part] - (gpc[i] - prev_logz) : -INFINITY;
      double s = fabs(cs[i] - km[i]) / (ksd[i] > SL_CONF_SD_FLOOR ? ksd[i] : SL_CONF_SD_FLOOR);
      cs[i] = isfinite(s) ? s : INFINITY;
    }
    for (int64_t i = 0; !status && i < nd; i++) {
      /* a sequence drawn for the train part is a draw of q_k (the design);
       * one drawn only for the cal part, of r_k */
      int part = 1;
      for (int64_t j = 0; j < ntr && part; j++) part = draw[j] != first[i];
      const double *lwp = lw + part * nc;
      double lwt = g[part * ns + first[i]] - logz[part] - (gpc[nc + i] - prev_logz), mx = lwt;
      for (int64_t t = 0; t < nc; t++) if (lwp[t] > mx) mx = lwp[t];
      double *w = km; /* scratch: the scores are in cs */
      for (int64_t t = 0; t < nc; t++) w[t] = cw[t] * exp(lwp[t] - mx);
      double qq = sl_conformal_quantile(cs, w, nc, exp(lwt - mx), op->alpha), lo, hi;
      sl_conformal_interval(mean[first[i]], sd[first[i]], qq, &lo, &hi);
      if ((status = sl_ledger_interval_add(l, ledger_id[i], k, "ridge-bootstrap", "weighted", op->alpha, lo, hi, err)))
        break;
    }
    free(lw); free(tr); free(cx); free(cs); free(cw); free(pa); free(ka); free(km); free(ksd); free(gp); free(gc);
  }
  sl_ledger_draws_free(&d);
DONE:
  split_free(&sp);
  split_free(&spp);
  sl_predictor_destroy(pred);
  sl_predictor_destroy(prev);
  sl_design_density_free(&dens);
  sl_design_density_free(&dprev);
  free(g); free(dx); free(px); free(pg);
  free(outset.slot);
  free(excl); free(sx); free(work); free(a); free(mean); free(sd); free(cum); free(draw); free(first); free(ledger_id);
  free(text);
  return status;
}

int sl_design_query_coverage(sl_ledger *l, int64_t run, int64_t k, const sl_design_state *st, const char *const *seqs,
                             const double *values, int64_t n, double *ret_in, double *ret_n, double *ret_w,
                             double *ret_wn, double *ret_unbounded, sl_error *err) {
  *ret_in = *ret_n = *ret_w = *ret_wn = *ret_unbounded = 0;
  sl_ledger_draws d = {0};
  int status = sl_ledger_draws_get(l, run, k, &d, err);
  for (int64_t j = 0; !status && j < d.n; j++) {
    int64_t idx = -1;
    for (int64_t i = 0; i < st->s.n && idx < 0; i++) if (st->s.id[i] == d.seq[j]) idx = i;
    if (idx < 0) continue;
    /* the value: measured before this round, or the mean of this round's rows */
    double y = NAN;
    if (st->s.measured[idx]) {
      y = st->s.value[idx];
    } else {
      double s = 0;
      int c = 0;
      for (int64_t t = 0; t < n; t++)
        if (isfinite(values[t]) && strcmp(seqs[t], st->s.seq[idx]) == 0) { s += values[t]; c++; }
      if (c) y = s / c;
    }
    double lo, hi;
    int found = 0;
    if ((status = sl_ledger_interval_get(l, d.seq[j], k, &lo, &hi, NULL, &found, err))) break;
    if (!found || !isfinite(y)) continue;
    const double c = (double)d.count[j];
    *ret_n += c;
    *ret_in += c * (y >= lo && y <= hi);
    if (isfinite(hi - lo)) { *ret_w += c * (hi - lo); *ret_wn += c; }
    else *ret_unbounded += c;
  }
  sl_ledger_draws_free(&d);
  return status;
}
