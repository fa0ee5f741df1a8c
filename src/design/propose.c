/* propose.c: the proposers of the design loop and the filters that define
 * the trust region.
 *
 * Proposers (--proposer):
 *   mutate   a parent drawn among the 5 best measured (the start before any
 *            measurement), 1..mutations random substitutions
 *   ga       two parents by 2-way tournaments among the best `population`,
 *            uniform crossover, then mutation with probability 1/2 (mutate
 *            while fewer than two parents exist)
 *   random   uniform sequences (a baseline)
 *   walk     every single mutant of the best sequence, in a shuffled order
 *   prior    samples of the prior: exact for a profile (its design sites are
 *            independent softmaxes), ancestral for an ar model covering the
 *            whole design
 *   cbas, cbas-ar  samples of the round's CbAS search distribution (cbas.c)
 *   all      every unmeasured sequence of a small design space, in order
 *            (generate_all; no random draw)
 * Each child then passes novelty (not in the ledger, not yet tried this
 * round: skipped without counting) and the filters (--max-edits from the
 * start, --min-prior against the start's prior log P). The filters accept a
 * fraction p of what they test and so inject at most log2(1/p) bits per
 * accepted proposal (science.md, "Information"); the counts go to
 * sl_design_gen_report. Attempts are capped at 20 * want + 1000 so that
 * tight filters end a round instead of spinning.
 *
 * Random numbers are drawn in a fixed order per proposer; any change here
 * changes recorded campaigns (the golden check compares their ledgers).
 * The prior proposer asks the model interface what the prior can do (site-
 * independent conditionals, or exact ancestral sampling), never its kind.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/ar.h"
#include "loop_impl.h"

/* A set of sequences (open addressing on FNV-1a; keys compared in full). */
int sl_design_seqset_init(sl_design_seqset *s, int64_t n, int64_t L) {
  s->cap = 64;
  while (s->cap < 2 * n + 16) s->cap *= 2;
  s->L = L;
  s->slot = calloc((size_t)s->cap, sizeof *s->slot);
  return s->slot ? 0 : -1;
}

int sl_design_seqset_add(sl_design_seqset *s, const uint8_t *x) {
  uint64_t h = sl_design_fnv(x, s->L) & (uint64_t)(s->cap - 1);
  while (s->slot[h]) {
    if (memcmp(s->slot[h], x, (size_t)s->L) == 0) return 1;
    h = (h + 1) & (uint64_t)(s->cap - 1);
  }
  s->slot[h] = x;
  return 0;
}

int sl_design_seqset_has(const sl_design_seqset *s, const uint8_t *x) {
  uint64_t h = sl_design_fnv(x, s->L) & (uint64_t)(s->cap - 1);
  while (s->slot[h]) {
    if (memcmp(s->slot[h], x, (size_t)s->L) == 0) return 1;
    h = (h + 1) & (uint64_t)(s->cap - 1);
  }
  return 0;
}

void sl_design_cands_free(sl_design_cands *c) {
  free(c->x); free(c->parent); free(c->prior); free(c->mean); free(c->sd); free(c->member); free(c->score);
}

static void mutate(uint8_t *x, int64_t L, int q, int nmut, sl_rng *r) {
  for (int m = 0; m < nmut; m++) {
    int64_t i = sl_design_rnd(r, L);
    uint8_t a = (uint8_t)sl_design_rnd(r, q - 1);
    x[i] = a >= x[i] ? (uint8_t)(a + 1) : a; /* any state but the current one */
  }
}

/* Pick a parent among the top `top` of the training set by a 2-way tournament. */
static int64_t tournament(const sl_design_state *st, int64_t top, sl_rng *r) {
  int64_t a = sl_design_rnd(r, top), b = sl_design_rnd(r, top);
  return st->train[a < b ? a : b]; /* train is sorted best first */
}


/* --proposer all: every sequence of the design space (q^L of them, at most
 * SL_PROPOSE_ALL_MAX) that the ledger has not seen, in lexicographic order of
 * codes, through the same filters as the other proposers. No random draw:
 * the candidates are a function of the ledger alone. For a small
 * combinatorial space (GB1 four-site: 20^4 = 160,000) the acquisition then
 * ranks the whole space, as ALDE and ftMLDE do, instead of a sample around
 * the best measured. (On GB1 it was no better than mutate-and-select:
 * docs/benchmarks.md; with --max-edits it is an exhaustive trust region.) */
int64_t sl_design_space_size(const sl_oracle *o) {
  int64_t total = 1;
  for (int64_t i = 0; i < o->L; i++)
    if ((total *= o->q) > SL_PROPOSE_ALL_MAX) return -1;
  return total;
}

void sl_design_space_decode(const sl_oracle *o, int64_t t, uint8_t *x) {
  for (int64_t i = o->L - 1; i >= 0; i--, t /= o->q) x[i] = (uint8_t)(t % o->q);
}

static int generate_all(const sl_design_state *st, sl_oracle *o, const sl_design_opts *op,
                        const sl_design_prior *prior, sl_design_cands *c, sl_design_gen_report *rep, sl_error *err) {
  int64_t L = o->L, total = sl_design_space_size(o);
  if (total < 0)
    return sl_fail(err, SL_EUSAGE, "--proposer all needs a design space of at most %d sequences (this one has "
                   "%d^%lld)", SL_PROPOSE_ALL_MAX, o->q, (long long)L);
  sl_design_seqset seen = {0};
  c->L = L;
  c->cap = total;
  c->x = malloc((size_t)(total * L) + 1);
  c->parent = malloc((size_t)(total + 1) * sizeof *c->parent);
  c->prior = malloc((size_t)(total + 1) * sizeof *c->prior);
  uint8_t *child = calloc((size_t)L + 1, 1), *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  if (!c->x || !c->parent || !c->prior || !child || (prior && prior->m && !work) ||
      sl_design_seqset_init(&seen, st->s.n, L)) {
    free(child); free(work); free(seen.slot); /* c's arrays: sl_design_cands_free() */
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  for (int64_t k = 0; k < st->s.n; k++) sl_design_seqset_add(&seen, st->x + k * L);
  const uint8_t *start = st->x + st->start * L;
  double start_prior = st->prior[st->start];
  int max_edits = op->max_edits > 0 ? op->max_edits : (int)L;
  for (int64_t t = 0; t < total; t++) {
    sl_design_space_decode(o, t, child);
    rep->generated++;
    if (sl_design_seqset_has(&seen, child)) continue; /* in the ledger (each sequence of the space comes once) */
    rep->filter_tested++;
    if (sl_design_hamming(child, start, L) > max_edits) continue;
    double lp = sl_design_prior_logp(prior, L, child, work);
    if (isfinite(op->min_prior) && prior && prior->m && !(lp - start_prior >= -op->min_prior)) continue;
    rep->filtered_in++;
    memcpy(c->x + c->n * L, child, (size_t)L);
    c->parent[c->n] = -1;
    c->prior[c->n] = lp;
    c->n++;
  }
  free(seen.slot); free(child); free(work);
  return SL_OK;
}

int sl_design_generate(const sl_design_state *st, sl_oracle *o, const sl_design_opts *op, const sl_design_prior *prior,
                    const sl_predictor *pred, sl_rng *r, sl_design_cands *c, sl_design_gen_report *rep, sl_error *err) {
  int64_t L = o->L, want = op->candidates;
  memset(rep, 0, sizeof *rep);
  sl_design_seqset seen;
  if (op->proposer == SL_PROPOSE_ALL) return generate_all(st, o, op, prior, c, rep, err);
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
      sl_design_seqset_init(&seen, st->s.n + max_attempts, L)) {
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
    if (!pm || !(sl_model_has(pm, SL_CAP_INDEPENDENT) ||
                 (sl_model_has(pm, SL_CAP_EXACT_SAMPLE | SL_CAP_ALIGNED) && whole))) {
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
    if (op->proposer == SL_PROPOSE_CBAS && pm && !sl_model_has(pm, SL_CAP_INDEPENDENT)) {
      free(child); free(work); free(pool); free(seen.slot);
      return sl_fail(err, SL_EUSAGE, "--proposer cbas needs no prior or a profile --prior (its search "
                     "distribution is site-independent)");
    }
    qp = malloc((size_t)(L * o->q) * sizeof *qp);
    double *lp0 = malloc((size_t)(L * o->q) * sizeof *lp0), *w = malloc(SL_CBAS_M * sizeof *w);
    uint8_t *xs = malloc((size_t)(SL_CBAS_M * L));
    if (!qp || !lp0 || !w || !xs) {
      free(child); free(work); free(pool); free(seen.slot); free(qp); free(lp0); free(w); free(xs);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    /* cbas-ar: the site-independent fit only supplies q_0 (no predictor: q stays p0) */
    sl_design_cbas_fit(o, prior, op->proposer == SL_PROPOSE_CBAS ? pred : NULL, r, qp, lp0, xs, w, work);
    free(lp0); free(w); free(xs);
    int st2 = op->proposer == SL_PROPOSE_CBAS_AR ? sl_design_cbas_ar_fit(o, prior, pred, r, qp, work, &qar, err) : SL_OK;
    if (st2) {
      free(child); free(work); free(pool); free(seen.slot); free(qp);
      return st2;
    }
  }
  for (int64_t k = 0; k < st->s.n; k++) sl_design_seqset_add(&seen, st->x + k * L);
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
        if (!sl_model_has(pm, SL_CAP_INDEPENDENT)) { /* exact ancestral draws */
          sl_draw_opts draw;
          sl_draw_opts_init(&draw);
          int st3 = sl_model_sample(pm, NULL, r, &draw, 1, samp, NULL, NULL, err);
          if (st3) {
            free(child); free(work); free(pool); free(seen.slot); free(qp); free(samp); free(pw);
            sl_model_destroy(qar);
            return st3;
          }
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
        for (int64_t i = 0; i < L; i++) child[i] = (uint8_t)sl_design_rnd(r, o->q);
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
          if (sl_rng_uniform(r) < 0.5) mutate(child, L, o->q, 1 + (int)sl_design_rnd(r, op->mutations), r);
          parent = st->s.id[p1];
          break;
        }
        /* fewer than two parents: mutate */
        /* fall through */
      default: {
        int64_t p = mtop ? st->train[sl_design_rnd(r, mtop)] : st->start;
        memcpy(child, st->x + p * L, (size_t)L);
        mutate(child, L, o->q, 1 + (int)sl_design_rnd(r, op->mutations), r);
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
    if (sl_design_seqset_add(&seen, slot)) continue;
    npool++;
    rep->filter_tested++;
    if (outside || sl_design_hamming(child, start, L) > max_edits) continue;
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
      int64_t j = sl_design_rnd(r, k + 1);
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
