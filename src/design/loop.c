/* loop.c: the design loop: propose, measure, record, one ledger transaction
 * per round.
 *
 * Contents
 *   1. options
 *   2. state: what the ledger knows (the loop keeps nothing else between
 *      rounds, so a resumed run sees exactly what an uninterrupted one saw)
 *   3. candidates: mutate-and-select, genetic algorithm, random, single-
 *      mutant walk; the trust region (edit budget, minimum prior log P)
 *   4. acquisition (greedy, UCB, EI, Thompson) and a diverse batch
 *   5. setup, propose, record, step
 *
 * Determinism: round k draws from a generator seeded with the run's seed and
 * advanced by k jumps (2^128 steps each, rng.h), and every input of the
 * round is read back from the ledger in id order. So a run killed at any
 * point and resumed writes the same ledger as one that never stopped (the
 * e2e test kills one with SIGKILL inside a round's transaction).
 *
 * Information: the filters of step 3 accept a fraction p of candidates and
 * so inject at most log2(1/p) bits per accepted proposal (science.md,
 * "Information"); each round records p and that bound.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "seqloop/ar.h"
#include "seqloop/design.h"

/* ---- 1. options ---------------------------------------------------------------- */
void sl_design_opts_init(sl_design_opts *o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->rounds = 10;
  o->batch = 8;
  o->budget = 0;
  o->proposer = SL_PROPOSE_MUTATE;
  o->acquisition = SL_ACQ_UCB;
  o->beta = 2.0;
  o->use_predictor = 1;
  o->candidates = 1000;
  o->mutations = 2;
  o->max_edits = 0;
  o->min_prior = INFINITY;
  o->min_distance = 1;
  o->population = 32;
  sl_predictor_opts_init(&o->pred);
  o->crash_after = -1;
}

static const char *const proposer_names[] = {"mutate", "ga", "random", "walk", "prior", "cbas", "cbas-ar"};
static const char *const acq_names[] = {"greedy", "ucb", "ei", "thompson"};

int sl_design_proposer_parse(const char *s) {
  for (int k = 0; k < 7; k++) if (strcmp(s, proposer_names[k]) == 0) return k;
  return -1;
}
int sl_design_acquisition_parse(const char *s) {
  for (int k = 0; k < 4; k++) if (strcmp(s, acq_names[k]) == 0) return k;
  return -1;
}
const char *sl_design_proposer_name(int p) { return p >= 0 && p < 7 ? proposer_names[p] : "?"; }
const char *sl_design_acquisition_name(int a) { return a >= 0 && a < 4 ? acq_names[a] : "?"; }

/* The memo: open addressing on FNV-1a of the design codes; keys compared in
 * full. Not thread-safe (the loop is single-threaded). */
typedef struct {
  int64_t L, cap, n, max;
  uint8_t *keys;   /* cap * L */
  double *val;
  uint8_t *used;
} prior_cache;

static uint64_t fnv(const uint8_t *x, int64_t L) {
  uint64_t h = 1469598103934665603ULL;
  for (int64_t i = 0; i < L; i++) { h ^= x[i]; h *= 1099511628211ULL; }
  return h;
}

int sl_design_prior_cache_create(sl_design_prior *p, int64_t L, int64_t max_entries, sl_error *err) {
  prior_cache *c = calloc(1, sizeof *c);
  if (!c) return sl_fail(err, SL_ENOMEM, "out of memory");
  c->L = L;
  c->max = max_entries;
  c->cap = 1024;
  while (c->cap < 2 * max_entries) c->cap *= 2;
  c->keys = malloc((size_t)(c->cap * L));
  c->val = malloc((size_t)c->cap * sizeof *c->val);
  c->used = calloc((size_t)c->cap, 1);
  if (!c->keys || !c->val || !c->used) {
    free(c->keys); free(c->val); free(c->used); free(c);
    return sl_fail(err, SL_ENOMEM, "out of memory (prior cache of %lld entries)", (long long)max_entries);
  }
  p->cache = c;
  return SL_OK;
}

void sl_design_prior_cache_destroy(sl_design_prior *p) {
  prior_cache *c = p ? p->cache : NULL;
  if (!c) return;
  free(c->keys); free(c->val); free(c->used); free(c);
  p->cache = NULL;
}

/* Prior log P of a design sequence: the model's focus with the design sites
 * replaced (design symbol a is alphabet code a + 1: the symbols are the
 * alphabet's without the gap). work: the model's L codes. */
double sl_design_prior_logp(const sl_design_prior *p, int64_t L, const uint8_t *x, uint8_t *work) {
  if (!p || !p->m) return NAN;
  prior_cache *c = p->cache;
  uint64_t h = 0;
  if (c && c->L == L) {
    h = fnv(x, L) & (uint64_t)(c->cap - 1);
    while (c->used[h]) {
      if (memcmp(c->keys + h * L, x, (size_t)L) == 0) return c->val[h];
      h = (h + 1) & (uint64_t)(c->cap - 1);
    }
  }
  sl_model *m = p->m;
  memcpy(work, m->focus, (size_t)m->L);
  for (int64_t i = 0; i < L; i++) work[p->cols[i]] = (uint8_t)(x[i] + 1);
  double v = m->kind == SL_MODEL_PROFILE ? sl_model_logp_profile(m, work) : sl_model_energy(m, work);
  if (c && c->L == L && c->n < c->max) {
    memcpy(c->keys + h * L, x, (size_t)L);
    c->val[h] = v;
    c->used[h] = 1;
    c->n++;
  }
  return v;
}

/* ---- 2. state --------------------------------------------------------------------- */
typedef struct {
  sl_ledger_seqs s;
  int64_t L;
  uint8_t *x;          /* s.n * L codes */
  int64_t start;       /* index of the start sequence (first natural) */
  int64_t n_measured;  /* measurement rows (finite or not) */
  int64_t *train;      /* indices with a finite value, sorted by value desc */
  int64_t ntrain;
  double *prior;       /* s.n prior log P (NAN without prior) */
} state;

static void state_free(state *st) {
  sl_ledger_seqs_free(&st->s);
  free(st->x); free(st->train); free(st->prior);
  memset(st, 0, sizeof *st);
}

static const double *cmp_vals;
static int cmp_desc(const void *a, const void *b) {
  int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
  if (cmp_vals[i] > cmp_vals[j]) return -1;
  if (cmp_vals[i] < cmp_vals[j]) return 1;
  return i < j ? -1 : i > j; /* ties: earlier first, so the order is total */
}

static int state_load(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_prior *prior, state *st,
                      sl_error *err) {
  memset(st, 0, sizeof *st);
  st->L = o->L;
  int status = sl_ledger_seqs_get(l, run, o->name, &st->s, err);
  if (status) return status;
  int64_t n = st->s.n;
  st->x = malloc((size_t)(n * o->L) + 1);
  st->train = malloc((size_t)(n + 1) * sizeof *st->train);
  st->prior = malloc((size_t)(n + 1) * sizeof *st->prior);
  uint8_t *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  if (!st->x || !st->train || !st->prior || (prior && prior->m && !work)) {
    free(work);
    state_free(st);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  st->start = -1;
  for (int64_t k = 0; k < n; k++) {
    if ((status = sl_design_encode(o, st->s.seq[k], st->x + k * o->L, err))) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      status = sl_fail(err, SL_EINPUT, "ledger sequence %lld does not fit the oracle: %s", (long long)st->s.id[k], msg);
      break;
    }
    if (st->start < 0 && st->s.origin[k] == SL_ORIGIN_NATURAL) st->start = k;
    st->n_measured += st->s.measured[k];
    if (st->s.measured[k] && isfinite(st->s.value[k])) st->train[st->ntrain++] = k;
    st->prior[k] = sl_design_prior_logp(prior, o->L, st->x + k * o->L, work);
  }
  free(work);
  if (status) { state_free(st); return status; }
  cmp_vals = st->s.value;
  qsort(st->train, (size_t)st->ntrain, sizeof *st->train, cmp_desc);
  return SL_OK;
}

static int hamming(const uint8_t *a, const uint8_t *b, int64_t L) {
  int d = 0;
  for (int64_t i = 0; i < L; i++) d += a[i] != b[i];
  return d;
}

/* A set of sequences (open addressing on FNV-1a; keys compared in full). */
typedef struct {
  int64_t cap, L;
  const uint8_t **slot;
} seqset;

static int seqset_init(seqset *s, int64_t n, int64_t L) {
  s->cap = 64;
  while (s->cap < 2 * n + 16) s->cap *= 2;
  s->L = L;
  s->slot = calloc((size_t)s->cap, sizeof *s->slot);
  return s->slot ? 0 : -1;
}
/* 1 if x was already there; else inserts (x must outlive the set). */
static int seqset_add(seqset *s, const uint8_t *x) {
  uint64_t h = fnv(x, s->L) & (uint64_t)(s->cap - 1);
  while (s->slot[h]) {
    if (memcmp(s->slot[h], x, (size_t)s->L) == 0) return 1;
    h = (h + 1) & (uint64_t)(s->cap - 1);
  }
  s->slot[h] = x;
  return 0;
}

/* ---- 3. candidates ------------------------------------------------------------------ */
typedef struct {
  int64_t n, cap, L;
  uint8_t *x;
  int64_t *parent;   /* ledger sequence id or -1 */
  double *prior;
  double *mean, *sd, *member, *score;
  int B;
} cands;

static void cands_free(cands *c) {
  free(c->x); free(c->parent); free(c->prior); free(c->mean); free(c->sd); free(c->member); free(c->score);
}

static int64_t rnd(sl_rng *r, int64_t n) { return (int64_t)(sl_rng_u64(r) % (uint64_t)n); }

static void mutate(uint8_t *x, int64_t L, int q, int nmut, sl_rng *r) {
  for (int m = 0; m < nmut; m++) {
    int64_t i = rnd(r, L);
    uint8_t a = (uint8_t)rnd(r, q - 1);
    x[i] = a >= x[i] ? (uint8_t)(a + 1) : a; /* any state but the current one */
  }
}

/* Pick a parent among the top `top` of the training set by a 2-way tournament. */
static int64_t tournament(const state *st, int64_t top, sl_rng *r) {
  int64_t a = rnd(r, top), b = rnd(r, top);
  return st->train[a < b ? a : b]; /* train is sorted best first */
}

typedef struct {
  int64_t generated, filtered_in, filter_tested;
} gen_report;

/* CbAS (Brookes, Park and Listgarten 2019) inside one round, with the
 * round's predictor as the oracle model: the search distribution q is a
 * site-independent distribution over the design sites, started at the prior
 * p0 (a profile's conditionals at the design sites; uniform without a
 * prior). Each of CBAS_ITER iterations draws CBAS_M samples from q, weights
 * each by p0(x)/q(x) * P(y >= gamma | x) (Gaussian predictive; gamma rises
 * to the 80th percentile of the samples' predicted means), and refits q by
 * weighted frequencies (+ a 1e-3 pseudocount). Candidates are then drawn
 * from the final q. Stateless across rounds (q is rebuilt from p0 each
 * round), so resume stays exact. Without a predictor the weights are
 * p0/q = 1 and q stays p0. Returns the L*q probabilities in qp. */
/* One CbAS weighting step, shared by cbas and cbas-ar: raise gamma to the
 * 80th percentile of the M predicted means (never lowering it), then add
 * log P(y >= gamma | x) (Gaussian predictive) to each log weight lw[m]
 * (which holds log p0(x) - log q(x)). srt: M scratch. Returns the largest
 * log weight (-inf when no sample can reach gamma). */
static double cbas_weigh(const double *mu, const double *sd, double *lw, double *srt, int64_t M,
                         double *gamma) {
  for (int64_t m = 0; m < M; m++) srt[m] = mu[m];
  for (int64_t m = 1; m < M; m++) { /* insertion sort: M is 500 */
    double v = srt[m];
    int64_t j = m - 1;
    while (j >= 0 && srt[j] > v) { srt[j + 1] = srt[j]; j--; }
    srt[j + 1] = v;
  }
  if (srt[(int64_t)(0.8 * (double)M)] > *gamma) *gamma = srt[(int64_t)(0.8 * (double)M)];
  double wmax = -INFINITY;
  for (int64_t m = 0; m < M; m++) {
    double p = sd[m] > 0 ? 0.5 * erfc((*gamma - mu[m]) / (sd[m] * M_SQRT2)) : (mu[m] >= *gamma ? 1.0 : 0.0);
    lw[m] = p > 0 ? lw[m] + log(p) : -INFINITY;
    if (lw[m] > wmax) wmax = lw[m];
  }
  return wmax;
}

#define CBAS_ITER 5
#define CBAS_M 500
static void cbas_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred,
                     sl_rng *r, double *qp, double *lp0, uint8_t *xs, double *w, uint8_t *work) {
  int64_t L = o->L;
  int q = o->q;
  sl_model *pm = prior ? prior->m : NULL;
  for (int64_t i = 0; i < L; i++) {
    double mx = -INFINITY, z = 0;
    for (int a = 0; a < q; a++) {
      lp0[i * q + a] = pm && pm->kind == SL_MODEL_PROFILE ? pm->h[prior->cols[i] * pm->q + sl_model_state(pm, a + 1)] : 0.0;
      if (lp0[i * q + a] > mx) mx = lp0[i * q + a];
    }
    for (int a = 0; a < q; a++) z += exp(lp0[i * q + a] - mx);
    for (int a = 0; a < q; a++) { lp0[i * q + a] -= mx + log(z); qp[i * q + a] = exp(lp0[i * q + a]); }
  }
  if (!pred) return;
  double gamma = -INFINITY;
  double *mu = malloc(CBAS_M * sizeof *mu), *sd = malloc(CBAS_M * sizeof *sd), *srt = malloc(CBAS_M * sizeof *srt);
  if (!mu || !sd || !srt) { free(mu); free(sd); free(srt); return; }
  for (int it = 0; it < CBAS_ITER; it++) {
    for (int m = 0; m < CBAS_M; m++) {
      uint8_t *x = xs + (int64_t)m * L;
      double lw = 0;
      for (int64_t i = 0; i < L; i++) {
        double u = sl_rng_uniform(r);
        int a = 0;
        while (a < q - 1 && (u -= qp[i * q + a]) >= 0) a++;
        x[i] = (uint8_t)a;
        lw += lp0[i * q + a] - log(qp[i * q + a]);
      }
      sl_predictor_predict(pred, x, sl_design_prior_logp(prior, L, x, work), &mu[m], &sd[m], NULL);
      w[m] = lw;
    }
    double wmax = cbas_weigh(mu, sd, w, srt, CBAS_M, &gamma);
    if (!isfinite(wmax)) break; /* no sample can reach gamma: keep q */
    for (int64_t i = 0; i < L * q; i++) qp[i] = 1e-3 / q;
    for (int m = 0; m < CBAS_M; m++) {
      double wm = exp(w[m] - wmax);
      for (int64_t i = 0; i < L; i++) qp[i * q + xs[(int64_t)m * L + i]] += wm;
    }
    for (int64_t i = 0; i < L; i++) {
      double z = 0;
      for (int a = 0; a < q; a++) z += qp[i * q + a];
      for (int a = 0; a < q; a++) qp[i * q + a] /= z;
    }
  }
  free(mu); free(sd); free(srt);
}

/* CbAS with an ar search distribution (`--proposer cbas-ar`): the same
 * iterations as cbas_fit, but q_t is an arDCA model refitted by weighted
 * maximum likelihood on the weighted samples (Brookes et al. use a VAE; an
 * autoregressive model has exact log q(x) and exact samples, so the ratio
 * p0(x)/q(x) is exact and the couplings can hold the epistatic combinations
 * a site-independent q cannot). q_0 is cbas_fit's site-independent start;
 * p0 is the prior's log P (any kind; uniform without a prior). Each refit:
 * sl_ar_fit on the CBAS_M samples, natural order, lambda 0.01 (ArDCA.jl's),
 * one thread (deterministic). Protein design spaces only (the ar model
 * lives on the protein alphabet: design symbol a is code a + 1). Returns the
 * final q (NULL without a predictor: the caller then samples q_0). */
static int cbas_ar_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred,
                       sl_rng *r, const double *qp, uint8_t *work, sl_model **ret_q, sl_error *err) {
  *ret_q = NULL;
  if (!pred) return SL_OK;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  const int64_t L = o->L, M = CBAS_M;
  const int q = o->q;
  int status = SL_OK;
  sl_model *qm = NULL;
  sl_msa *S = NULL;
  uint8_t *xs = malloc((size_t)(M * L)), *codes = malloc((size_t)(M * L)), *buf = malloc((size_t)L);
  double *mu = malloc(M * sizeof *mu), *sd = malloc(M * sizeof *sd), *lw = malloc(M * sizeof *lw);
  double *srt = malloc(M * sizeof *srt), *w = malloc(M * sizeof *w);
  if (!xs || !codes || !buf || !mu || !sd || !lw || !srt || !w) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  double gamma = -INFINITY;
  for (int it = 0; it < CBAS_ITER; it++) {
    for (int64_t m = 0; m < M; m++) {
      uint8_t *x = xs + m * L;
      double lq = 0;
      if (!qm) { /* q_0: site-independent */
        for (int64_t i = 0; i < L; i++) {
          double u = sl_rng_uniform(r);
          int a = 0;
          while (a < q - 1 && (u -= qp[i * q + a]) >= 0) a++;
          x[i] = (uint8_t)a;
          lq += log(qp[i * q + a]);
        }
      } else { /* q_t: ancestral samples; a gap or non-design residue is redrawn */
        int ok = 0;
        for (int tries = 0; tries < 100 && !ok; tries++) {
          sl_ar_sample(qm, r, 1.0, NULL, buf, NULL);
          ok = 1;
          for (int64_t i = 0; i < L; i++) ok &= buf[i] >= 1 && buf[i] <= q;
        }
        for (int64_t i = 0; i < L; i++) x[i] = (uint8_t)(buf[i] >= 1 && buf[i] <= q ? buf[i] - 1 : 0);
        for (int64_t i = 0; i < L; i++) buf[i] = (uint8_t)(x[i] + 1);
        lq = sl_ar_logp(qm, buf);
      }
      double lp0 = prior && prior->m ? sl_design_prior_logp(prior, L, x, work) : 0.0;
      sl_predictor_predict(pred, x, prior && prior->m ? lp0 : NAN, &mu[m], &sd[m], NULL);
      lw[m] = lp0 - lq;
    }
    double wmax = cbas_weigh(mu, sd, lw, srt, M, &gamma);
    if (!isfinite(wmax)) break; /* no sample can reach gamma: keep q */
    for (int64_t m = 0; m < M; m++) w[m] = exp(lw[m] - wmax);
    for (int64_t k = 0; k < M * L; k++) codes[k] = (uint8_t)(xs[k] + 1);
    sl_msa_destroy(S);
    S = NULL;
    if ((status = sl_msa_from_rows(abc, codes, M, L, "cbas", "cbas samples", &S, err))) goto DONE;
    sl_ar_opts ao;
    sl_ar_opts_init(&ao);
    ao.lambda_J = ao.lambda_h = 0.01;
    ao.order_kind = SL_ORDER_NATURAL;
    ao.threads = 1;
    sl_ar_report rep;
    sl_model *next = NULL;
    if ((status = sl_ar_fit(S, w, &ao, &next, &rep, err))) goto DONE;
    sl_model_destroy(qm);
    qm = next;
    if ((status = sl_ar_prepare(qm, err))) goto DONE;
  }
DONE:
  free(xs); free(codes); free(buf); free(mu); free(sd); free(lw); free(srt); free(w);
  sl_msa_destroy(S);
  if (status) { sl_model_destroy(qm); return status; }
  *ret_q = qm;
  return SL_OK;
}

static int generate(const state *st, sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                    const sl_predictor *pred, sl_rng *r, cands *c, gen_report *rep, sl_error *err) {
  int64_t L = o->L, want = op->candidates;
  memset(rep, 0, sizeof *rep);
  seqset seen;
  if (op->proposer == SL_PROPOSE_WALK) want = L * (o->q - 1);
  c->L = L;
  c->cap = want;
  c->x = malloc((size_t)(want * L) + 1);
  c->parent = malloc((size_t)(want + 1) * sizeof *c->parent);
  c->prior = malloc((size_t)(want + 1) * sizeof *c->prior);
  /* Attempts are capped so that tight filters end a round instead of spinning. */
  int64_t attempts = 0, max_attempts = 20 * want + 1000, walk_i = 0, npool = 0;
  uint8_t *child = malloc((size_t)L), *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  uint8_t *pool = malloc((size_t)(max_attempts * L));
  if (!c->x || !c->parent || !c->prior || !child || !pool || (prior && prior->m && !work) ||
      seqset_init(&seen, st->s.n + max_attempts, L)) {
    free(child); free(work); free(pool);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  /* Sampling from the prior: exact for a profile (sites are independent, so
   * the design sites' conditionals are their own softmax), and for an ar
   * model that covers the whole design (ancestral sampling); a sample with a
   * gap is outside the design space and is rejected like a filtered one. */
  sl_model *pm = prior ? prior->m : NULL;
  uint8_t *samp = NULL;
  double *pw = NULL;
  if (op->proposer == SL_PROPOSE_PRIOR) {
    int whole = pm && pm->L == L;
    for (int64_t i = 0; whole && i < L; i++) whole = prior->cols[i] == i;
    if (!pm || !(pm->kind == SL_MODEL_PROFILE || (pm->kind == SL_MODEL_AR && whole))) {
      free(child); free(work); free(pool); free(seen.slot);
      return sl_fail(err, SL_EUSAGE, "--proposer prior needs a --prior that is a profile, or an ar model "
                     "covering the whole design (no --prior-sites)");
    }
    samp = malloc((size_t)pm->L);
    pw = malloc((size_t)o->q * sizeof *pw);
    if (!samp || !pw) {
      free(child); free(work); free(pool); free(seen.slot); free(samp); free(pw);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
  }
  double *qp = NULL;
  sl_model *qar = NULL;
  if (op->proposer == SL_PROPOSE_CBAS_AR) {
    const sl_alphabet *pa = sl_alphabet_get(SL_ABC_PROTEIN);
    if (o->q != pa->q - 1 || strncmp(o->symbols, pa->symbols + 1, (size_t)o->q) != 0) {
      free(child); free(work); free(pool); free(seen.slot);
      return sl_fail(err, SL_EUSAGE, "--proposer cbas-ar needs a protein design space (the oracle's "
                     "symbols are '%s'); use cbas", o->symbols);
    }
  }
  if (op->proposer == SL_PROPOSE_CBAS || op->proposer == SL_PROPOSE_CBAS_AR) {
    if (op->proposer == SL_PROPOSE_CBAS && pm && pm->kind != SL_MODEL_PROFILE) {
      free(child); free(work); free(pool); free(seen.slot);
      return sl_fail(err, SL_EUSAGE, "--proposer cbas needs no prior or a profile --prior (its search "
                     "distribution is site-independent)");
    }
    qp = malloc((size_t)(L * o->q) * sizeof *qp);
    double *lp0 = malloc((size_t)(L * o->q) * sizeof *lp0), *w = malloc(CBAS_M * sizeof *w);
    uint8_t *xs = malloc((size_t)(CBAS_M * L));
    if (!qp || !lp0 || !w || !xs) {
      free(child); free(work); free(pool); free(seen.slot); free(qp); free(lp0); free(w); free(xs);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    /* cbas-ar: the site-independent fit only supplies q_0 (no predictor: q stays p0) */
    cbas_fit(o, prior, op->proposer == SL_PROPOSE_CBAS ? pred : NULL, r, qp, lp0, xs, w, work);
    free(lp0); free(w); free(xs);
    int st2 = op->proposer == SL_PROPOSE_CBAS_AR ? cbas_ar_fit(o, prior, pred, r, qp, work, &qar, err) : SL_OK;
    if (st2) {
      free(child); free(work); free(pool); free(seen.slot); free(qp);
      return st2;
    }
  }
  for (int64_t k = 0; k < st->s.n; k++) seqset_add(&seen, st->x + k * L);
  const uint8_t *start = st->x + st->start * L;
  double start_prior = st->prior[st->start];
  int max_edits = op->max_edits > 0 ? op->max_edits : (int)L;
  int64_t top = st->ntrain < op->population ? st->ntrain : op->population;
  int64_t mtop = st->ntrain < 5 ? st->ntrain : 5;
  int64_t best = st->ntrain ? st->train[0] : st->start;
  while (c->n < want && attempts < max_attempts) {
    int64_t parent = -1;
    attempts++;
    int outside = 0;
    switch (op->proposer) {
      case SL_PROPOSE_CBAS_AR:
        if (qar) {
          sl_ar_sample(qar, r, 1.0, NULL, child, NULL);
          for (int64_t i = 0; i < L; i++) {
            outside |= child[i] == 0 || child[i] > o->q; /* a gap: outside the design space */
            child[i] = (uint8_t)(child[i] >= 1 && child[i] <= o->q ? child[i] - 1 : 0);
          }
          break;
        }
        /* without a predictor q is q_0 */
        __attribute__((fallthrough));
      case SL_PROPOSE_CBAS:
        for (int64_t i = 0; i < L; i++) {
          double u = sl_rng_uniform(r);
          int a = 0;
          while (a < o->q - 1 && (u -= qp[i * o->q + a]) >= 0) a++;
          child[i] = (uint8_t)a;
        }
        break;
      case SL_PROPOSE_PRIOR:
        if (pm->kind == SL_MODEL_AR) {
          sl_ar_sample(pm, r, 1.0, NULL, samp, NULL);
          for (int64_t i = 0; i < L; i++) {
            outside |= samp[i] == 0;
            child[i] = (uint8_t)(samp[i] ? samp[i] - 1 : 0);
          }
        } else {
          for (int64_t i = 0; i < L; i++) {
            const float *h = pm->h + prior->cols[i] * pm->q;
            double mx = -INFINITY, z = 0, u;
            for (int a = 0; a < o->q; a++) {
              pw[a] = h[sl_model_state(pm, a + 1)];
              if (pw[a] > mx) mx = pw[a];
            }
            for (int a = 0; a < o->q; a++) z += (pw[a] = exp(pw[a] - mx));
            u = sl_rng_uniform(r) * z;
            int a = 0;
            while (a < o->q - 1 && (u -= pw[a]) >= 0) a++;
            child[i] = (uint8_t)a;
          }
        }
        break;
      case SL_PROPOSE_RANDOM:
        for (int64_t i = 0; i < L; i++) child[i] = (uint8_t)rnd(r, o->q);
        break;
      case SL_PROPOSE_WALK: {
        if (walk_i >= L * (o->q - 1)) { attempts = max_attempts; continue; }
        int64_t i = walk_i / (o->q - 1), a = walk_i % (o->q - 1);
        walk_i++;
        memcpy(child, st->x + best * L, (size_t)L);
        child[i] = (uint8_t)(a >= child[i] ? a + 1 : a);
        parent = st->s.id[best];
        break;
      }
      case SL_PROPOSE_GA:
        if (top >= 2) {
          int64_t p1 = tournament(st, top, r), p2 = tournament(st, top, r);
          const uint8_t *a = st->x + p1 * L, *b = st->x + p2 * L;
          for (int64_t i = 0; i < L; i++) child[i] = (sl_rng_u64(r) & 1) ? a[i] : b[i];
          if (sl_rng_uniform(r) < 0.5) mutate(child, L, o->q, 1 + (int)rnd(r, op->mutations), r);
          parent = st->s.id[p1];
          break;
        }
        /* fewer than two parents: mutate */
        /* fall through */
      default: {
        int64_t p = mtop ? st->train[rnd(r, mtop)] : st->start;
        memcpy(child, st->x + p * L, (size_t)L);
        mutate(child, L, o->q, 1 + (int)rnd(r, op->mutations), r);
        parent = st->s.id[p];
      }
    }
    rep->generated++;
    /* Novelty first: a sequence already in the ledger or already tested this
     * round is skipped without counting (novelty is not a filter on the
     * distribution, and the prior is the expensive part). Then the filters,
     * which define the information injected. */
    uint8_t *slot = pool + npool * L;
    memcpy(slot, child, (size_t)L);
    if (seqset_add(&seen, slot)) continue;
    npool++;
    rep->filter_tested++;
    if (outside || hamming(child, start, L) > max_edits) continue;
    double lp = sl_design_prior_logp(prior, L, child, work);
    if (isfinite(op->min_prior) && prior && prior->m && !(lp - start_prior >= -op->min_prior)) continue;
    rep->filtered_in++;
    memcpy(c->x + c->n * L, child, (size_t)L);
    c->parent[c->n] = parent;
    c->prior[c->n] = lp;
    c->n++;
  }
  /* The walk's order is a shuffle, so that a batch smaller than all singles is a random subset. */
  if (op->proposer == SL_PROPOSE_WALK) {
    for (int64_t k = c->n - 1; k > 0; k--) {
      int64_t j = rnd(r, k + 1);
      memcpy(child, c->x + k * L, (size_t)L); /* child is free scratch here */
      memcpy(c->x + k * L, c->x + j * L, (size_t)L);
      memcpy(c->x + j * L, child, (size_t)L);
      double t = c->prior[k]; c->prior[k] = c->prior[j]; c->prior[j] = t;
      int64_t pt = c->parent[k]; c->parent[k] = c->parent[j]; c->parent[j] = pt;
    }
  }
  free(seen.slot);
  free(child);
  free(work);
  free(pool);
  free(samp);
  free(pw);
  free(qp);
  sl_model_destroy(qar);
  return SL_OK;
}

/* ---- 4. acquisition and batch ---------------------------------------------------------- */
static double norm_cdf(double z) { return 0.5 * erfc(-z / M_SQRT2); }
static double norm_pdf(double z) { return exp(-0.5 * z * z) / sqrt(2 * M_PI); }

static void acquire(cands *c, const sl_design_opts *op, double best) {
  for (int64_t k = 0; k < c->n; k++) {
    double mu = c->mean[k], sd = c->sd[k];
    switch (op->acquisition) {
      case SL_ACQ_GREEDY: c->score[k] = mu; break;
      case SL_ACQ_UCB: c->score[k] = mu + op->beta * sd; break;
      case SL_ACQ_EI:
        if (sd > 0) {
          double z = (mu - best) / sd;
          c->score[k] = (mu - best) * norm_cdf(z) + sd * norm_pdf(z);
        } else {
          c->score[k] = mu > best ? mu - best : 0.0;
        }
        break;
      default: c->score[k] = mu; break; /* Thompson: per slot, below */
    }
  }
}

/* Choose up to B candidates: best score first, at least min_distance from
 * those already chosen; if too few qualify, the rest are filled by score
 * (documented: diversity is a preference, the batch size is a promise). */
static int64_t select_batch(cands *c, const sl_design_opts *op, int64_t B, sl_rng *r, int64_t *chosen) {
  int64_t nb = 0;
  uint8_t *taken = calloc((size_t)c->n + 1, 1);
  if (!taken) return -1;
  for (int pass = 0; pass < 2 && nb < B; pass++) {
    int mind = pass == 0 ? op->min_distance : 0;
    while (nb < B) {
      int member = op->acquisition == SL_ACQ_THOMPSON && c->B > 0 ? (int)rnd(r, c->B) : -1;
      int64_t pick = -1;
      double bs = -INFINITY;
      for (int64_t k = 0; k < c->n; k++) {
        if (taken[k]) continue;
        double s = member >= 0 ? c->member[k * c->B + member] : c->score[k];
        if (pick >= 0 && !(s > bs)) continue;
        int ok = 1;
        for (int64_t j = 0; j < nb && ok; j++) ok = hamming(c->x + k * c->L, c->x + chosen[j] * c->L, c->L) >= mind;
        if (!ok) continue;
        pick = k;
        bs = s;
      }
      if (pick < 0) break;
      taken[pick] = 1;
      chosen[nb++] = pick;
    }
  }
  free(taken);
  return nb;
}

/* ---- 5. setup, propose, record, step ------------------------------------------------------ */
static void round_rng(sl_rng *r, uint64_t seed, int64_t k) {
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
  int status = sl_ledger_run_last(l, &r, &found, err);
  if (status) return status;
  if (found) {
    if (strcmp(r.options_json, options_json) != 0)
      status = sl_fail(err, SL_EUSAGE, "the ledger holds a run with other options (resume needs the same "
                       "options; --rounds and --budget may change):\n  ledger: %.400s\n  now:    %.400s",
                       r.options_json, options_json);
    else *ret_run = r.id;
    sl_ledger_run_free(&r);
    return status;
  }
  uint8_t *x = malloc((size_t)o->L + 1);
  if (!x) return sl_fail(err, SL_ENOMEM, "out of memory");
  if ((status = sl_design_encode(o, start, x, err))) { free(x); return status; }
  sl_ledger_run nr = {0};
  nr.cmdline = (char *)cmdline;
  nr.options_json = (char *)options_json;
  nr.inputs_json = (char *)inputs_json;
  nr.seed = opts->seed;
  nr.version = SL_VERSION;
  int64_t sid = -1, nid = -1;
  double y = NAN;
  if ((status = sl_ledger_begin(l, err))) { free(x); return status; }
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

/* Fit the round's predictor on every finite measurement. */
static int fit_predictor(const state *st, const sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                         sl_rng *r, sl_predictor **ret, sl_error *err) {
  int64_t n = st->ntrain;
  uint8_t *xtr = malloc((size_t)(n * o->L));
  double *ytr = malloc((size_t)n * sizeof *ytr), *ptr = malloc((size_t)n * sizeof *ptr);
  int status;
  if (!xtr || !ytr || !ptr) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else {
    for (int64_t i = 0; i < n; i++) {
      memcpy(xtr + i * o->L, st->x + st->train[i] * o->L, (size_t)o->L);
      ytr[i] = st->s.value[st->train[i]];
      ptr[i] = st->prior[st->train[i]];
    }
    int have_prior = prior && prior->m;
    status = sl_predictor_fit(&op->pred, o->L, xtr, ytr, have_prior ? ptr : NULL, n, r, ret, err);
  }
  free(xtr); free(ytr); free(ptr);
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
  if (k > op->rounds) return SL_OK;
  state st;
  if ((status = state_load(l, run, o, prior, &st, err))) return status;
  if (st.start < 0) { state_free(&st); return sl_fail(err, SL_EINPUT, "the ledger's run has no start sequence"); }
  int64_t B = op->batch;
  if (op->budget > 0) {
    if (st.n_measured >= op->budget) { state_free(&st); return SL_OK; }
    if (B > op->budget - st.n_measured) B = op->budget - st.n_measured;
  }
  sl_rng r;
  round_rng(&r, op->seed, k);
  cands c = {0};
  gen_report rep;
  sl_predictor *pred = NULL;
  int64_t *chosen = malloc((size_t)B * sizeof *chosen);
  char *text = malloc((size_t)o->L + 1);
  if (!chosen || !text) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  int can_pred = op->use_predictor && st.ntrain >= 2;
  /* CbAS needs the predictor to build its candidates; every other proposer
   * fits it after generating (the order fixes the round's random stream). */
  if ((op->proposer == SL_PROPOSE_CBAS || op->proposer == SL_PROPOSE_CBAS_AR) && can_pred &&
      (status = fit_predictor(&st, o, op, prior, &r, &pred, err)))
    goto DONE;
  if ((status = generate(&st, o, op, prior, pred, &r, &c, &rep, err))) goto DONE;
  int use_pred = can_pred && c.n > 0;
  c.mean = calloc((size_t)c.n + 1, sizeof *c.mean);
  c.sd = calloc((size_t)c.n + 1, sizeof *c.sd);
  c.score = calloc((size_t)c.n + 1, sizeof *c.score);
  if (!c.mean || !c.sd || !c.score) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if (use_pred) {
    if (!pred && (status = fit_predictor(&st, o, op, prior, &r, &pred, err))) goto DONE;
    c.B = sl_predictor_members(pred);
    c.member = malloc((size_t)(c.n * c.B + 1) * sizeof *c.member);
    if (!c.member) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int64_t j = 0; j < c.n; j++)
      sl_predictor_predict(pred, c.x + j * o->L, c.prior[j], &c.mean[j], &c.sd[j], c.member + j * c.B);
    acquire(&c, op, st.s.value[st.train[0]]);
  } else {
    /* No model yet (or a baseline without one): candidates in random order. */
    for (int64_t j = 0; j < c.n; j++) c.score[j] = sl_rng_uniform(&r);
    if (op->proposer == SL_PROPOSE_WALK)
      for (int64_t j = 0; j < c.n; j++) c.score[j] = -(double)j; /* the shuffled order */
  }
  sl_design_opts o2 = *op;
  if (!use_pred) o2.acquisition = SL_ACQ_GREEDY;
  int64_t nb = select_batch(&c, &o2, B, &r, chosen);
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
  }
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
  state_free(&st);
  cands_free(&c);
  sl_predictor_destroy(pred);
  free(chosen); free(text);
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
  state st;
  if ((status = state_load(l, run, o, prior, &st, err))) return status;
  /* Every sequence must have been proposed in this round, every value must
   * be finite or NAN (not measurable), and the UNIQUE constraint refuses a
   * second measurement of the same sequence (also twice in one file). */
  double cov_in = 0, cov_n = 0, bsum = 0, bn = 0, bbest = -INFINITY;
  for (int64_t j = 0; j < n; j++) {
    int64_t idx = -1;
    for (int64_t i = 0; i < st.s.n && idx < 0; i++) if (strcmp(st.s.seq[i], seqs[j]) == 0) idx = i;
    if (idx < 0) { status = sl_fail(err, SL_EINPUT, "sequence %.80s was never proposed", seqs[j]); goto FAIL; }
    if (st.s.round[idx] != k || (st.s.origin[idx] == SL_ORIGIN_NATURAL && k > 0)) {
      status = sl_fail(err, SL_EINPUT, "sequence %.80s was not proposed in the open round %lld (it is a %s "
                       "sequence of round %lld)", seqs[j], (long long)k, sl_ledger_origin_name(st.s.origin[idx]),
                       (long long)st.s.round[idx]);
      goto FAIL;
    }
    if (isinf(values[j])) { status = sl_fail(err, SL_EINPUT, "sequence %.80s: value is infinite", seqs[j]); goto FAIL; }
    if ((status = sl_ledger_measurement_add(l, st.s.id[idx], o->name, values[j], k, err))) goto FAIL;
    double mean, sd;
    int found = 0;
    if ((status = sl_ledger_prediction_get(l, st.s.id[idx], k, &mean, &sd, &found, err))) goto FAIL;
    if (isfinite(values[j])) {
      bsum += values[j]; bn++;
      if (values[j] > bbest) bbest = values[j];
      if (found) { cov_n++; cov_in += fabs(values[j] - mean) <= 1.6448536269514722 * sd; }
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
        int d = hamming(st.x + j * o->L, st.x + i * o->L, o->L);
        if (dmin < 0 || d < dmin) dmin = d;
      }
    if (dmin >= 0) { dsum += dmin; dn++; }
  }
  double prev_best = st.ntrain ? st.s.value[st.train[0]] : -INFINITY;
  int64_t prev_n = st.n_measured;
  state_free(&st);
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
  state_free(&st);
  return status;
}

int sl_design_step(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                   const sl_design_prior *prior, sl_design_round *R, sl_error *err) {
  int64_t k = -1, n = 0;
  char **seqs = NULL;
  double *y = NULL;
  uint8_t *x = NULL;
  R->k = -1;
  int status = sl_ledger_begin(l, err);
  if (status) return status;
  if ((status = sl_design_propose(l, run, o, op, prior, &k, err)) || k < 0) { R->k = k; goto DONE; }
  if ((status = sl_design_batch(l, run, k, &seqs, NULL, NULL, &n, err))) goto DONE;
  x = malloc((size_t)(n * o->L) + 1);
  y = malloc((size_t)(n + 1) * sizeof *y);
  if (!x || !y) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t j = 0; j < n && !status; j++) status = sl_design_encode(o, seqs[j], x + j * o->L, err);
  if (status || (status = sl_oracle_measure(o, x, n, y, err))) goto DONE;
  if ((status = sl_design_record(l, run, o, op, k, (const char *const *)seqs, y, n, prior, R, err))) goto DONE;
  /* Fault injection for the resume test: die the hard way with every write
   * of the round made and nothing committed. */
  if (op->crash_after == k) raise(SIGKILL);
  status = sl_ledger_commit(l, err);
DONE:
  if (status || k < 0) sl_ledger_rollback(l);
  for (int64_t j = 0; j < n; j++) free(seqs[j]);
  free(seqs); free(x); free(y);
  return status;
}
