/* prior.c: the prior of a design campaign: log P (or the Potts energy) of a
 * design sequence under a seqloop model, and a memo of it.
 *
 * A design sequence covers the design sites only; the prior scores the
 * model's focus with those sites replaced (cols maps site i to a model
 * column). An ar or Potts log P costs O(L^2 q) over the whole model length
 * and the loop revisits neighbourhoods (the same child is proposed in many
 * rounds, every round reloads the ledger's sequences), so values are
 * memoised by design sequence: open addressing on FNV-1a, keys compared in
 * full, capacity fixed at creation (then the memo stops growing: correct,
 * only slower). A memo hit returns the very double computed before, so the
 * memo changes no number.
 *
 * Which score a prior gives (normalised log P, or an energy) is asked of the
 * model interface by capability; the model
 * interface of issue 11 replaces that test when it lands.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loop_impl.h"

/* The memo: open addressing on FNV-1a of the design codes; keys compared in
 * full. Not thread-safe (the loop is single-threaded). */
typedef struct {
  int64_t L, cap, n, max;
  uint8_t *keys;   /* cap * L */
  double *val;
  uint8_t *used;
} prior_cache;

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

static int desc_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

int sl_design_prior_top_cut(const sl_design_prior *p, const sl_oracle *o, const uint8_t *start, double share,
                            double *ret_cut, sl_error *err) {
  *ret_cut = INFINITY;
  if (!(share > 0 && share <= 1)) return sl_fail(err, SL_EUSAGE, "--prior-top: expected a share in (0, 1], not %g", share);
  const int64_t L = o->L, total = sl_design_space_size(o);
  if (total < 0)
    return sl_fail(err, SL_EUSAGE, "--prior-top scores the whole design space, which must hold at most %d sequences "
                   "(this one has %d^%lld); give --min-prior instead", SL_PROPOSE_ALL_MAX, o->q, (long long)L);
  double *v = malloc((size_t)total * sizeof *v);
  uint8_t *x = malloc((size_t)L + 1), *work = malloc((size_t)p->m->L + 1);
  if (!v || !x || !work) { free(v); free(x); free(work); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  /* every sequence of the space; unscorable: -inf (ranked last) */
  for (int64_t t = 0; t < total; t++) {
    sl_design_space_decode(o, t, x);
    double lp = sl_design_prior_logp(p, L, x, work);
    v[t] = isnan(lp) ? -INFINITY : lp;
  }
  qsort(v, (size_t)total, sizeof *v, desc_cmp);
  int64_t k = (int64_t)ceil(share * (double)total);
  if (k < 1) k = 1;
  double at = v[k - 1], s = sl_design_prior_logp(p, L, start, work);
  free(v); free(x); free(work);
  if (!isfinite(at) || !isfinite(s))
    return sl_fail(err, SL_EUSAGE, "--prior-top %g: the prior cannot score %s", share,
                   isfinite(s) ? "that share of the design space" : "the start sequence");
  *ret_cut = s - at;
  return SL_OK;
}

/* Prior log P of a design sequence: the model's focus with the design sites
 * replaced (design symbol a is alphabet code a + 1: the symbols are the
 * alphabet's without the gap). work: the model's L codes. */
double sl_design_prior_logp(const sl_design_prior *p, int64_t L, const uint8_t *x, uint8_t *work) {
  if (!p || !p->m) return NAN;
  prior_cache *c = p->cache;
  uint64_t h = 0;
  if (c && c->L == L) {
    h = sl_design_fnv(x, L) & (uint64_t)(c->cap - 1);
    while (c->used[h]) {
      if (memcmp(c->keys + h * L, x, (size_t)L) == 0) return c->val[h];
      h = (h + 1) & (uint64_t)(c->cap - 1);
    }
  }
  sl_model *m = p->m;
  memcpy(work, m->focus, (size_t)m->L);
  for (int64_t i = 0; i < L; i++) work[p->cols[i]] = (uint8_t)(x[i] + 1);
  /* Normalised kinds give log P, the others (potts) their energy: log P up
   * to a constant, which is all a trust region and a feature need. A model
   * that cannot score the sequence gives NAN (the caller treats it as out of
   * the trust region). */
  double v;
  sl_error e;
  int st = sl_model_has(m, SL_CAP_NORMALISED) ? sl_model_logp(m, NULL, work, &v, &e)
                                              : sl_model_score(m, NULL, work, &v, &e);
  if (st) v = NAN;
  if (c && c->L == L && c->n < c->max) {
    memcpy(c->keys + h * L, x, (size_t)L);
    c->val[h] = v;
    c->used[h] = 1;
    c->n++;
  }
  return v;
}
