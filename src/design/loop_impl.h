/* loop_impl.h (private): what the files of the design loop share.
 *
 * The loop is split by idea (docs/design.md, "Files"):
 *   opts.c     options, their defaults and names
 *   prior.c    the prior: log P of a design sequence, and its memo
 *   state.c    what the ledger knows at the start of a round
 *   propose.c  the proposers (mutate, GA, random, walk, prior samples) and
 *              the filters of the trust region
 *   cbas.c     CbAS search distributions (cbas, cbas-ar)
 *   acquire.c  acquisition functions and the diverse batch
 *   density.c  the densities sampled batches are drawn from
 *   query.c    sampled batches with a known density (--conformal weighted)
 *   loop.c     the round: setup, propose, record, step
 *   campaign.c a campaign: stored options, resume checks, run/propose/ingest
 * Everything here is internal to src/design; the public API is
 * include/seqloop/design.h.
 *
 * The small helpers (FNV-1a hash, Hamming distance, the bounded draw rnd)
 * are static inline so that every file draws random numbers exactly as the
 * single-file loop did: rnd() is `u64 % n`, one draw per call.
 */
#ifndef SL_DESIGN_LOOP_IMPL_H
#define SL_DESIGN_LOOP_IMPL_H

#include <stdint.h>

#include "seqloop/design.h"

/* FNV-1a of L codes: the hash of the prior memo and of the novelty set. */
static inline uint64_t sl_design_fnv(const uint8_t *x, int64_t L) {
  uint64_t h = 1469598103934665603ULL;
  for (int64_t i = 0; i < L; i++) { h ^= x[i]; h *= 1099511628211ULL; }
  return h;
}

static inline int sl_design_hamming(const uint8_t *a, const uint8_t *b, int64_t L) {
  int d = 0;
  for (int64_t i = 0; i < L; i++) d += a[i] != b[i];
  return d;
}

/* A draw in 0..n-1 (modulo bias below 2^-40 for the n used here; kept for
 * reproducibility of recorded campaigns). */
static inline int64_t sl_design_rnd(sl_rng *r, int64_t n) { return (int64_t)(sl_rng_u64(r) % (uint64_t)n); }

/* ---- state (state.c) ----------------------------------------------------------
 * What the ledger knows: the loop keeps nothing else between rounds, so a
 * resumed run sees exactly what an uninterrupted one saw. */
typedef struct sl_design_state {
  sl_ledger_seqs s;
  int64_t L;
  uint8_t *x;          /* s.n * L codes */
  int64_t start;       /* index of the start sequence (first natural) */
  int64_t n_measured;  /* measurement rows (finite or not) */
  int64_t *train;      /* indices with a finite value, sorted by value desc */
  int64_t ntrain;
  double *prior;       /* s.n prior log P (NAN without prior) */
} sl_design_state;

SL_MUSTCHECK int sl_design_state_load(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_prior *prior,
                                      sl_design_state *st, sl_error *err);
void sl_design_state_free(sl_design_state *st);

/* ---- a set of sequences of L codes (propose.c): open addressing on the
 * FNV-1a hash; the set points at the caller's codes, which must outlive it.
 * Novelty filters and the ledger's sequences in a sampled round. */
typedef struct sl_design_seqset {
  int64_t cap, L;
  const uint8_t **slot;
} sl_design_seqset;
/* room for n sequences; -1 when out of memory */
int sl_design_seqset_init(sl_design_seqset *s, int64_t n, int64_t L);
/* 1 if x was already there; else inserts it and returns 0 */
int sl_design_seqset_add(sl_design_seqset *s, const uint8_t *x);
/* 1 if x is in the set (no insertion) */
int sl_design_seqset_has(const sl_design_seqset *s, const uint8_t *x);

/* ---- candidates (propose.c, acquire.c) ----------------------------------------- */
typedef struct sl_design_cands {
  int64_t n, cap, L;
  uint8_t *x;
  int64_t *parent;   /* ledger sequence id or -1 */
  double *prior;
  double *mean, *sd, *member, *score;
  int B;
} sl_design_cands;
void sl_design_cands_free(sl_design_cands *c);

/* What the filters did in one round (the information injected). */
typedef struct sl_design_gen_report {
  int64_t generated, filtered_in, filter_tested;
} sl_design_gen_report;

/* sl_design_generate(): the round's candidates from the proposer, filtered
 * by novelty and the trust region (propose.c). pred: the round's predictor
 * (CbAS only; NULL otherwise or before the second measurement). */
SL_MUSTCHECK int sl_design_generate(const sl_design_state *st, sl_oracle *o, const sl_design_opts *op,
                                    const sl_design_prior *prior, const sl_predictor *pred, sl_rng *r,
                                    sl_design_cands *c, sl_design_gen_report *rep, sl_error *err);

/* ---- CbAS (cbas.c) ---------------------------------------------------------------- */
#define SL_CBAS_ITER 5
#define SL_CBAS_M 500
void sl_design_cbas_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred, sl_rng *r,
                        double *qp, double *lp0, uint8_t *xs, double *w, uint8_t *work);
SL_MUSTCHECK int sl_design_cbas_ar_fit(const sl_oracle *o, const sl_design_prior *prior, const sl_predictor *pred,
                                       sl_rng *r, const double *qp, uint8_t *work, sl_model **ret_q,
                                       sl_error *err);

/* ---- acquisition (acquire.c) --------------------------------------------------------- */
void sl_design_acquire(sl_design_cands *c, const sl_design_opts *op, double best);
int64_t sl_design_select_batch(sl_design_cands *c, const sl_design_opts *op, int64_t B, sl_rng *r,
                               int64_t *chosen);

/* ---- the enumerable design space (propose.c) ------------------------------------
 * Its size o->q^L, or -1 past SL_PROPOSE_ALL_MAX (--proposer all, --conformal
 * weighted and --prior-top need the whole space). Sequence t of the
 * enumeration is t in base q, site L-1 fastest. */
int64_t sl_design_space_size(const sl_oracle *o);
void sl_design_space_decode(const sl_oracle *o, int64_t t, uint8_t *x);

/* ---- shared by the round (loop.c) and the sampled batches (query.c) ---------- */
/* The generator of round k: seeded with seed, advanced by k jumps. */
void sl_design_round_rng(sl_rng *r, uint64_t seed, int64_t k);
/* Fit the round's predictor on the state's training set (st->train). */
SL_MUSTCHECK int sl_design_fit_predictor(const sl_design_state *st, const sl_oracle *o, const sl_design_opts *op,
                                         const sl_design_prior *prior, sl_rng *r, sl_predictor **ret, sl_error *err);

/* Which proposers --conformal weighted can draw a batch from (a density
 * density.c evaluates), and which of those on a space past
 * SL_PROPOSE_ALL_MAX (a density normalised over all strings, drawn by
 * rejection); the others need the space enumerated. */
static inline int sl_design_has_density(int p) {
  return p == SL_PROPOSE_ALL || p == SL_PROPOSE_PRIOR || p == SL_PROPOSE_CBAS || p == SL_PROPOSE_CBAS_AR;
}
static inline int sl_design_density_any_space(int p) { return p == SL_PROPOSE_CBAS || p == SL_PROPOSE_CBAS_AR; }

/* ---- the densities of sampled batches (density.c) ------------------------------
 * Round k's two densities (train part q_k, cal part r_k) as unnormalised
 * logs g(x) for the proposers that have one: all (exp(lambda a)), prior
 * (p0 exp(lambda a)), cbas and cbas-ar (CbAS's search distribution Q and
 * its tempered Q_tau, normalised over all strings of the alphabet), and
 * random (uniform: ALDE's first batch). pred: round k's predictor or NULL. */
typedef struct {
  int proposer;  /* SL_PROPOSE_ALL, _PRIOR, _CBAS, _CBAS_AR or _RANDOM */
  double lam[2]; /* inverse temperatures of the acquisition (all, prior) */
  double tau;    /* the cal part's power of Q (CbAS kinds) */
  double *qp;    /* CbAS: 2 * L * q site probabilities, of Q then of Q_tau */
  sl_model *qar; /* cbas-ar after a predictor: the ar search distribution */
} sl_design_density;

void sl_design_density_free(sl_design_density *d);
SL_MUSTCHECK int sl_design_density_build(const sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                                         const sl_predictor *pred, int64_t k, sl_design_density *d, sl_error *err);
/* g of both parts at n points x (a: their acquisition values; unused by
 * the CbAS kinds and random, which take NULL) */
SL_MUSTCHECK int sl_design_density_eval(const sl_design_density *d, const sl_oracle *o, const sl_design_prior *prior,
                                        const uint8_t *x, int64_t n, const double *a, double *g0, double *g1,
                                        sl_error *err);
/* Pilot draws per part and round when the space is not enumerable. */
#define SL_DESIGN_QUERY_PILOT 2000
/* n draws of one part of a product or ar density (cbas, cbas-ar, random)
 * restricted by rejection to the sequences outside `out` (and gap-free);
 * *tries counts every draw made. SL_EINPUT when the support holds (almost)
 * none of the density's mass. */
SL_MUSTCHECK int sl_design_density_sample(const sl_design_density *d, const sl_oracle *o, int part,
                                          const sl_design_seqset *out, sl_rng *r, int64_t n, uint8_t *x,
                                          int64_t *tries, sl_error *err);
/* The number of i.i.d. draws of a part: the smallest D in [want, 1000 want]
 * whose draws hold want distinct sequences in expectation (p: the support's
 * probabilities, or with pilot != 0 those of n draws from it). */
int64_t sl_design_draws_needed(const double *p, int64_t n, int pilot, int64_t want);

/* ---- sampled batches (query.c) --------------------------------------------------
 * sl_design_query_round(): round k of a --conformal weighted campaign: B
 * draws from q_k over the design space, written to the ledger (new
 * sequences, predictions, draws, weighted intervals, query_* statistics).
 * *ret_nb: new sequences (the batch to measure); *ret_support: |S_k| (0: the
 * campaign is stuck). */
/* sl_design_query_check(): what a sampled batch needs of the options, the
 * space and the prior (a proposer with a density, a prior where it needs
 * one, a protein space for cbas-ar, an enumerable space for all and prior,
 * no trust region past enumeration). campaign.c calls it before the ledger
 * gets a run; each query round calls it again (first_random: round 1 of
 * --init-random, uniform whatever the proposer). */
SL_MUSTCHECK int sl_design_query_check(const sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                                       int first_random, sl_error *err);
SL_MUSTCHECK int sl_design_query_round(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_opts *op,
                                       const sl_design_prior *prior, const sl_design_state *st, int64_t k, int64_t B,
                                       int64_t *ret_nb, int64_t *ret_support, sl_design_gen_report *rep,
                                       int *ret_use_pred, sl_error *err);
/* sl_design_query_coverage(): realised coverage of round k's intervals over
 * its draws, each counted as often as drawn: ret_in of ret_n draws with a
 * value were inside; ret_w / ret_wn the mean width of the bounded ones;
 * ret_unbounded draws had an unbounded interval. seqs/values: the round's
 * measurement rows (the state was loaded before they were written). */
SL_MUSTCHECK int sl_design_query_coverage(sl_ledger *l, int64_t run, int64_t k, const sl_design_state *st,
                                          const char *const *seqs, const double *values, int64_t n, double *ret_in,
                                          double *ret_n, double *ret_w, double *ret_wn, double *ret_unbounded,
                                          sl_error *err);

#endif
