/* tfm_train.c: training the transformer - weighted minibatches, AdamW,
 * warm-up + cosine learning rate, gradient clipping, held-out evaluation.
 *
 * Contents:
 *   1. Trainer state
 *   2. Batches: weighted draws, windows of long sequences
 *   3. AdamW (Loshchilov and Hutter 2019) as torch.optim.AdamW computes it
 *   4. The loop, and evaluation
 *
 * Determinism: every random choice (which sequence, which window) comes from
 * the state's generator, which is saved in checkpoints with the moments and
 * the step, so a run killed and resumed from its last checkpoint continues
 * with exactly the batches and numbers of an uninterrupted run (for the same
 * thread count).
 *
 * Weighted draws rather than weighted losses: a sequence is drawn with
 * probability w_n / sum w, with replacement, so the expected gradient is the
 * weighted one while every batch holds B full sequences (no batch wasted on
 * near-duplicates of one cluster, the usual reason for reweighting).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seqloop/tfm.h"

/* 1. State ----------------------------------------------------------------- */

void sl_tfm_train_opts_init(sl_tfm_train_opts *o) {
  memset(o, 0, sizeof *o);
  o->steps = 1000;
  o->batch = 16;
  o->lr = 1e-3;
  o->min_lr_frac = 0.1;
  o->warmup = -1; /* steps / 20 */
  o->beta1 = 0.9;
  o->beta2 = 0.95;
  o->eps = 1e-8;
  o->weight_decay = 0.1;
  o->clip = 1.0;
  o->eval_every = 100;
  o->threads = 1;
}

int sl_tfm_state_create(sl_tfm *model, uint64_t seed, sl_tfm_state **ret_st, sl_error *err) {
  *ret_st = NULL;
  sl_tfm_state *st = calloc(1, sizeof *st);
  if (!st) return sl_fail(err, SL_ENOMEM, "out of memory");
  st->model = model;
  st->m = calloc(model->n_params, sizeof *st->m);
  st->v = calloc(model->n_params, sizeof *st->v);
  if (!st->m || !st->v) { sl_tfm_state_destroy(st); return sl_fail(err, SL_ENOMEM, "out of memory: optimiser state"); }
  sl_rng_seed(&st->rng, seed);
  st->last_eval = -1;
  *ret_st = st;
  return SL_OK;
}

void sl_tfm_state_destroy(sl_tfm_state *st) {
  if (!st) return;
  free(st->m);
  free(st->v);
  free(st);
}

/* 2. Batches ----------------------------------------------------------------
 * Row b of a batch: the tokens BOS a_1 .. a_n EOS (n + 2 of them); inputs
 * are tokens[u .. u+T-1], targets tokens[u+1 .. u+T]; u = 0 when the row
 * fits (n + 1 <= n_ctx), otherwise uniform in [0, n + 1 - n_ctx]. */
static int token_at(const int *s, int n, int64_t k) {
  return k == 0 ? SL_TFM_BOS : k <= n ? s[k - 1] : SL_TFM_EOS;
}

/* Fill B rows from the given sequence indices and offsets; returns the
 * batch's T (the longest row, at most n_ctx). */
static int fill_rows(const sl_tfm_data *d, const int64_t *idx, const int64_t *off, int B, int Tc,
                     int *inp, int *tgt) {
  int T = 1;
  for (int b = 0; b < B; b++) {
    int64_t n = d->len[idx[b]];
    int64_t r = n + 1 - off[b]; /* inputs left in this row */
    int rl = r > Tc ? Tc : (int)r;
    T = rl > T ? rl : T;
  }
  for (int b = 0; b < B; b++) {
    const int *s = d->seq[idx[b]];
    int n = d->len[idx[b]];
    for (int k = 0; k < T; k++) {
      int64_t p = off[b] + k;
      if (p <= n) {
        inp[b * T + k] = token_at(s, n, p);
        tgt[b * T + k] = token_at(s, n, p + 1);
      } else {
        inp[b * T + k] = SL_TFM_PAD;
        tgt[b * T + k] = -1;
      }
    }
  }
  return T;
}

/* Weighted draw with replacement: binary search of the cumulative weights. */
static int64_t draw(const double *cum, int64_t n, sl_rng *r) {
  double u = sl_rng_uniform(r) * cum[n - 1];
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (cum[mid] > u) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/* 3. AdamW ------------------------------------------------------------------
 * Decoupled weight decay on the matrices that multiply activations (wte, the
 * attention and MLP weights), not on biases, LayerNorm gains or positions
 * (the usual GPT-2 grouping; tools/tfm_torch_train.py uses the same groups). */
static int decayed(int k) {
  const char *n = sl_tfm_tensor_names[k];
  return !strcmp(n, "wte") || !strcmp(n, "qkvw") || !strcmp(n, "attprojw") || !strcmp(n, "fcw") ||
         !strcmp(n, "fcprojw");
}

static void adamw(sl_tfm_state *st, const float *g, float gscale, double lr, const sl_tfm_train_opts *o) {
  sl_tfm *t = st->model;
  const int64_t step = st->step + 1;
  const double bc1 = 1.0 - pow(o->beta1, (double)step), bc2 = 1.0 - pow(o->beta2, (double)step);
  const float b1 = (float)o->beta1, b2 = (float)o->beta2;
  /* p -= lr (m / bc1) / (sqrt(v / bc2) + eps), in float: the per-element
   * work vectorises; step-dependent factors are computed once in double */
  const float step_size = (float)(lr / bc1), ibc2 = (float)(1.0 / bc2), eps = (float)o->eps;
  size_t off = 0;
  for (int k = 0; k < SL_TFM_NTENSORS; k++) {
    const float wd = decayed(k) ? (float)(lr * o->weight_decay) : 0.0f;
    const size_t n = t->sizes[k];
    float *p = t->mem + off, *m = st->m + off, *v = st->v + off;
    const float *gk = g + off;
#pragma omp parallel for simd num_threads(t->threads) schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
      float gi = gk[i] * gscale;
      p[i] -= wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= step_size * m[i] / (sqrtf(v[i] * ibc2) + eps);
    }
    off += n;
  }
}

static double lr_at(const sl_tfm_train_opts *o, int64_t step, int64_t warmup) {
  if (step < warmup) return o->lr * (double)(step + 1) / (double)warmup;
  double span = (double)(o->steps - warmup);
  double prog = span > 0 ? (double)(step - warmup) / span : 1.0;
  if (prog > 1) prog = 1;
  double lo = o->lr * o->min_lr_frac;
  return lo + 0.5 * (o->lr - lo) * (1.0 + cos(M_PI * prog));
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 4. The loop ---------------------------------------------------------------- */

int sl_tfm_eval(sl_tfm *t, const sl_tfm_data *d, double *ret_nll, int64_t *ret_ntok, sl_error *err) {
  const int Tc = t->cfg.n_ctx, B = 16;
  *ret_nll = 0;
  if (ret_ntok) *ret_ntok = 0;
  /* every (sequence, window) pair; windows of Tc inputs cover each target once */
  int64_t nw = 0;
  for (int64_t i = 0; i < d->n; i++) nw += (d->len[i] + 1 + Tc - 1) / Tc;
  int64_t *idx = malloc((size_t)(nw > 0 ? nw : 1) * sizeof *idx), *off = malloc((size_t)(nw > 0 ? nw : 1) * sizeof *off);
  int *inp = malloc((size_t)B * Tc * sizeof *inp), *tgt = malloc((size_t)B * Tc * sizeof *tgt);
  int status = SL_OK;
  if (!idx || !off || !inp || !tgt) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  int64_t k = 0;
  for (int64_t i = 0; i < d->n; i++)
    for (int64_t u = 0; u < d->len[i] + 1; u += Tc) { idx[k] = i; off[k] = u; k++; }
  double sum = 0;
  int64_t ntok = 0;
  for (int64_t k0 = 0; k0 < nw; k0 += B) {
    int nb = nw - k0 < B ? (int)(nw - k0) : B;
    int T = fill_rows(d, idx + k0, off + k0, nb, Tc, inp, tgt);
    double loss = 0;
    int64_t n = 0;
    if ((status = sl_tfm_forward(t, inp, tgt, nb, T, &loss, &n, err))) goto DONE;
    sum += loss * (double)n;
    ntok += n;
  }
  *ret_nll = ntok > 0 ? sum / (double)ntok : 0.0;
  if (ret_ntok) *ret_ntok = ntok;
DONE:
  free(idx); free(off); free(inp); free(tgt);
  return status;
}

int sl_tfm_train(sl_tfm_state *st, const sl_tfm_data *train, const sl_tfm_data *heldout,
                 const sl_tfm_train_opts *o, double *ret_eval, sl_error *err) {
  sl_tfm *t = st->model;
  const int Tc = t->cfg.n_ctx, B = o->batch;
  if (ret_eval) *ret_eval = -1;
  if (train->n < 1) return sl_fail(err, SL_EUSAGE, "no training sequences");
  if (B < 1 || o->steps < 0 || !(o->lr > 0) || !(o->beta1 >= 0 && o->beta1 < 1) ||
      !(o->beta2 >= 0 && o->beta2 < 1) || o->clip < 0 || o->weight_decay < 0)
    return sl_fail(err, SL_EUSAGE, "bad training options (batch %d, steps %lld, lr %g, betas %g %g)", B,
                   (long long)o->steps, o->lr, o->beta1, o->beta2);
  const int64_t warmup = o->warmup >= 0 ? o->warmup : o->steps / 20;
  t->threads = o->threads > 0 ? o->threads : 1;
  double *cum = malloc((size_t)train->n * sizeof *cum);
  int64_t *idx = malloc((size_t)B * sizeof *idx), *off = malloc((size_t)B * sizeof *off);
  int *inp = malloc((size_t)B * Tc * sizeof *inp), *tgt = malloc((size_t)B * Tc * sizeof *tgt);
  float *g = malloc(t->n_params * sizeof *g);
  int status = SL_OK;
  if (!cum || !idx || !off || !inp || !tgt || !g) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  double acc = 0;
  for (int64_t i = 0; i < train->n; i++) {
    double w = train->w ? train->w[i] : 1.0;
    if (!(w >= 0) || !isfinite(w)) { status = sl_fail(err, SL_EUSAGE, "sequence %lld has weight %g", (long long)i + 1, w); goto DONE; }
    acc += train->len[i] >= 0 ? w : 0;
    cum[i] = acc;
  }
  if (!(acc > 0)) { status = sl_fail(err, SL_EUSAGE, "the training weights sum to zero"); goto DONE; }
  while (st->step < o->steps) {
    for (int b = 0; b < B; b++) {
      idx[b] = draw(cum, train->n, &st->rng);
      int64_t n = train->len[idx[b]];
      int64_t span = n + 1 - Tc; /* > 0: the row does not fit */
      off[b] = span > 0 ? (int64_t)(sl_rng_uniform(&st->rng) * (double)(span + 1)) : 0;
    }
    double t_step = now();
    int T = fill_rows(train, idx, off, B, Tc, inp, tgt);
    double loss = 0;
    int64_t ntok = 0;
    if ((status = sl_tfm_forward(t, inp, tgt, B, T, &loss, &ntok, err))) goto DONE;
    if ((status = sl_tfm_backward(t, g, err))) goto DONE;
    double gn = 0;
    for (size_t i = 0; i < t->n_params; i++) gn += (double)g[i] * g[i];
    gn = sqrt(gn);
    float gscale = o->clip > 0 && gn > o->clip ? (float)(o->clip / gn) : 1.0f;
    double lr = lr_at(o, st->step, warmup);
    adamw(st, g, gscale, lr, o);
    st->step++;
    double secs = now() - t_step;
    int is_eval = heldout && heldout->n > 0 &&
                  ((o->eval_every > 0 && st->step % o->eval_every == 0) || st->step == o->steps);
    double ev = -1;
    if (is_eval) {
      if ((status = sl_tfm_eval(t, heldout, &ev, NULL, err))) goto DONE;
      st->last_eval = ev;
    }
    int stop = 0;
    if (o->progress) stop = o->progress(o->progress_ctx, st->step, lr, loss, ntok, secs, ev, is_eval);
    if (o->checkpoint && (stop || st->step == o->steps || (o->ckpt_every > 0 && st->step % o->ckpt_every == 0)))
      if ((status = o->checkpoint(o->checkpoint_ctx, st, err))) goto DONE;
    if (stop) break;
  }
  if (ret_eval) *ret_eval = st->last_eval;
DONE:
  free(cum); free(idx); free(off); free(inp); free(tgt); free(g);
  return status;
}
