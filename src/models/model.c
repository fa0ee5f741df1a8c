/* model.c: the model container and the model interface's dispatch.
 *
 * Every sl_model_* function here forwards to the kind's table of operations
 * (m->ops, defined in the kind's own file and listed in registry.c); none of
 * them knows a kind. Workspaces are a thin wrapper that remembers the model
 * they belong to, so that a kind without one (ws_create NULL) costs nothing.
 */
#include "seqloop/model.h"

#include "seqloop/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sl_model_ws {
  const sl_model *m;
  void *p; /* the kind's workspace (NULL if it needs none) */
};

void sl_draw_opts_init(sl_draw_opts *o) {
  memset(o, 0, sizeof *o);
  o->T = 1.0;
  o->top_p = 1.0;
}

const char *sl_model_name(const sl_model *m) { return m->ops->name; }
unsigned sl_model_caps(const sl_model *m) { return m->ops->caps; }

sl_model *sl_model_create(const char *kind, int64_t L, const sl_alphabet *abc, int gap_missing) {
  const sl_model_ops *ops = kind ? sl_model_kind(kind) : NULL;
  if (!ops || L <= 0 || !abc) return NULL;
  sl_model *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->ops = ops;
  m->L = L;
  m->abc = abc;
  m->gap_missing = gap_missing ? 1 : 0;
  m->q = abc->q - m->gap_missing;
  m->h = calloc((size_t)L * (size_t)m->q, sizeof *m->h);
  m->focus = calloc((size_t)L, 1);
  m->pos = malloc((size_t)L * sizeof *m->pos);
  sl_error err;
  if (!m->h || !m->focus || !m->pos || (ops->create && ops->create(m, &err))) {
    sl_model_destroy(m);
    return NULL;
  }
  for (int64_t i = 0; i < L; i++) m->pos[i] = i + 1;
  return m;
}

void sl_model_destroy(sl_model *m) {
  if (!m) return;
  if (m->ops && m->ops->destroy) m->ops->destroy(m);
  free(m->h);
  free(m->J);
  free(m->focus_name);
  free(m->focus);
  free(m->pos);
  free(m->meta);
  free(m->order);
  free(m->cache);
  free(m);
}

int sl_model_prepare(sl_model *m, sl_error *err) {
  return m->ops->prepare ? m->ops->prepare(m, err) : SL_OK;
}

int sl_model_ws_create(const sl_model *m, sl_model_ws **ret_ws, sl_error *err) {
  *ret_ws = NULL;
  sl_model_ws *w = calloc(1, sizeof *w);
  if (!w) return sl_fail(err, SL_ENOMEM, "out of memory");
  w->m = m;
  if (m->ops->ws_create) {
    int status = m->ops->ws_create(m, &w->p, err);
    if (status) { free(w); return status; }
  }
  *ret_ws = w;
  return SL_OK;
}

void sl_model_ws_destroy(sl_model_ws *ws) {
  if (!ws) return;
  if (ws->p && ws->m->ops->ws_destroy) ws->m->ops->ws_destroy(ws->p);
  free(ws);
}

void sl_model_set_threads(sl_model *m, int threads) {
  if (m->ops->set_threads) m->ops->set_threads(m, threads > 0 ? threads : 1);
}

/* A caller's workspace, or a temporary one in *tmp (freed by the caller). */
static int ws_get(const sl_model *m, sl_model_ws *ws, sl_model_ws **tmp, void **ret_p, sl_error *err) {
  *tmp = NULL;
  if (ws) {
    if (ws->m != m) return sl_fail(err, SL_EINTERNAL, "a workspace used with another model");
    *ret_p = ws->p;
    return SL_OK;
  }
  if (!m->ops->ws_create) { *ret_p = NULL; return SL_OK; }
  int status = sl_model_ws_create(m, tmp, err);
  *ret_p = status ? NULL : (*tmp)->p;
  return status;
}

/* A model's numbers must be finite: parameters within SL_MODEL_MAX_PARAM can
 * still overflow float activations of a transformer (a fuzzer built one
 * whose LayerNorm variance overflowed), so every score, log P and sample
 * log P is checked here, once for every kind, and a non-finite one is an
 * error rather than a NaN passed on (issue 18). */
static int finite_or_fail(const sl_model *m, const double *v, int64_t n, sl_error *err) {
  for (int64_t k = 0; k < n; k++)
    if (!isfinite(v[k]))
      return sl_fail(err, SL_EINTERNAL, "the %s model gave a non-finite value (%g): its parameters "
                     "overflow the computation", m->ops->name, v[k]);
  return SL_OK;
}

int sl_model_score(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret, sl_error *err) {
  sl_model_ws *tmp = NULL;
  void *p = NULL;
  int status = ws_get(m, ws, &tmp, &p, err);
  if (!status) status = m->ops->energy(m, p, s, ret, err);
  if (!status) status = finite_or_fail(m, ret, 1, err);
  sl_model_ws_destroy(tmp);
  return status;
}

int sl_model_logp(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret, sl_error *err) {
  if (!m->ops->logp)
    return sl_fail(err, SL_EUSAGE, "a %s model has no normalised log-probability (its normaliser is "
                   "unknown)", m->ops->name);
  sl_model_ws *tmp = NULL;
  void *p = NULL;
  int status = ws_get(m, ws, &tmp, &p, err);
  if (!status) status = m->ops->logp(m, p, s, ret, err);
  if (!status) status = finite_or_fail(m, ret, 1, err);
  sl_model_ws_destroy(tmp);
  return status;
}

int sl_model_logp_many(const sl_model *m, sl_model_ws *ws, const uint8_t *x, int64_t B, double *ret,
                       sl_error *err) {
  if (!m->ops->logp)
    return sl_fail(err, SL_EUSAGE, "a %s model has no normalised log-probability", m->ops->name);
  sl_model_ws *tmp = NULL;
  void *p = NULL;
  int status = ws_get(m, ws, &tmp, &p, err);
  if (!status && m->ops->logp_many) status = m->ops->logp_many(m, p, x, B, ret, err);
  else
    for (int64_t b = 0; b < B && !status; b++) status = m->ops->logp(m, p, x + b * m->L, &ret[b], err);
  if (!status) status = finite_or_fail(m, ret, B, err);
  sl_model_ws_destroy(tmp);
  return status;
}

int sl_model_delta_cols(const sl_model *m, sl_model_ws *ws, const uint8_t *s, const int64_t *cols,
                        const uint8_t *mt, int n, double *ret, sl_error *err) {
  *ret = 0.0;
  if (n == 0) return SL_OK;
  sl_model_ws *tmp = NULL;
  void *p = NULL;
  int status = ws_get(m, ws, &tmp, &p, err);
  if (status) return status;
  if (m->ops->delta) {
    status = m->ops->delta(m, p, s, cols, mt, n, ret, err);
  } else { /* not pairwise: compare two full evaluations */
    uint8_t *x = malloc((size_t)m->L);
    double e1 = 0, e0 = 0;
    if (!x) status = sl_fail(err, SL_ENOMEM, "out of memory");
    else {
      memcpy(x, s, (size_t)m->L);
      for (int k = 0; k < n; k++) x[cols[k]] = mt[k];
      if (!(status = m->ops->energy(m, p, x, &e1, err)) && !(status = m->ops->energy(m, p, s, &e0, err)))
        *ret = e1 - e0;
    }
    free(x);
  }
  sl_model_ws_destroy(tmp);
  return status;
}

int sl_model_conditional(const sl_model *m, const uint8_t *s, int64_t i, double *lg, sl_error *err) {
  if (!m->ops->conditional)
    return sl_fail(err, SL_EUSAGE, "a %s model has no site conditionals (Gibbs sampling)", m->ops->name);
  m->ops->conditional(m, s, i, lg);
  return SL_OK;
}

int64_t sl_model_row_len(const sl_model *m) {
  int64_t n = m->ops->max_len ? m->ops->max_len(m) : 0;
  return n > 0 ? n : m->L;
}

int sl_model_sample(const sl_model *m, sl_model_ws *ws, struct sl_rng *rng, const sl_draw_opts *o,
                    int64_t B, uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err) {
  if (!m->ops->sample)
    return sl_fail(err, SL_EUSAGE, "a %s model has no exact (ancestral) sampler; use Gibbs sampling",
                   m->ops->name);
  sl_model_ws *tmp = NULL;
  void *p = NULL;
  int status = ws_get(m, ws, &tmp, &p, err);
  if (!status) status = m->ops->sample(m, p, rng, o, B, out, ret_len, ret_logp, err);
  if (!status && ret_logp) status = finite_or_fail(m, ret_logp, B, err);
  sl_model_ws_destroy(tmp);
  return status;
}

/* Generic Monte Carlo entropy for kinds with exact sampling and no entropy of
 * their own: n draws from one stream (seed), S = -mean log2 P, with its
 * standard error. */
static int entropy_mc(const sl_model *m, int64_t n, uint64_t seed, sl_entropy *ret, sl_error *err) {
  if (n < 2) return sl_fail(err, SL_EUSAGE, "the entropy estimate needs at least 2 samples");
  const int64_t R = sl_model_row_len(m);
  uint8_t *x = malloc((size_t)R + 1);
  sl_model_ws *ws = NULL;
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  int status = x ? sl_model_ws_create(m, &ws, err) : sl_fail(err, SL_ENOMEM, "out of memory");
  sl_rng r;
  sl_rng_seed(&r, seed);
  double s = 0, s2 = 0;
  int64_t trunc = 0;
  for (int64_t k = 0; k < n && !status; k++) {
    double lp = 0;
    int64_t len = 0;
    if ((status = sl_model_sample(m, ws, &r, &d, 1, x, &len, &lp, err))) break;
    trunc += !sl_model_has(m, SL_CAP_ALIGNED) && len == R;
    s += -lp / M_LN2;
    s2 += (lp / M_LN2) * (lp / M_LN2);
  }
  sl_model_ws_destroy(ws);
  free(x);
  if (status) return status;
  double mean = s / (double)n, var = (s2 - s * mean) / (double)(n - 1);
  ret->bits = mean;
  ret->se = sqrt(var > 0 ? var / (double)n : 0);
  ret->n = n;
  ret->truncated = trunc;
  return SL_OK;
}

int sl_model_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads, sl_entropy *ret,
                     sl_error *err) {
  memset(ret, 0, sizeof *ret);
  if (m->ops->entropy) return m->ops->entropy(m, n, seed, threads, ret, err);
  if (m->ops->sample && m->ops->logp) return entropy_mc(m, n, seed, ret, err);
  return sl_fail(err, SL_EUSAGE, "no entropy for a %s model (its normaliser is unknown)", m->ops->name);
}

double sl_model_energy(const sl_model *m, const uint8_t *s) {
  double v = NAN;
  sl_error err;
  if (sl_model_score(m, NULL, s, &v, &err)) return NAN;
  return v;
}

