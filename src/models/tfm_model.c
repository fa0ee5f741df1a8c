/* tfm_model.c: the tfm model kind: the causal transformer of tfm.c behind
 * the model interface (model.h).
 *
 * A tfm model reads ungapped residues: L, focus and pos describe the
 * reference (wild-type) sequence used for mutant numbering, with gaps where
 * it has none; alphabet codes 1..20 are tokens 0..19 (protein, gaps
 * missing), so a sequence of L codes is scored as its residues, gaps
 * skipped. Each thread's workspace holds the transformer's activations and a
 * token buffer (tfm.c's _ws functions), so one model scores from many threads.
 * Mutant deltas are two full log-probabilities (the generic fallback);
 * log P of many sequences is one padded forward pass per 32 (logp_many),
 * which is what likelihood-Gibbs sampling (src/sample/gibbs.c) uses.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/model.h"
#include "seqloop/rng.h"
#include "seqloop/tfm.h"

#include "kinds.h"
#include "modelfile.h"

typedef struct {
  sl_tfm_ws *tw;
  int *tok;      /* room for B * L tokens */
  int64_t cap;
} tfm_ws;

static void tfm_ws_destroy(void *p) {
  tfm_ws *w = p;
  if (!w) return;
  sl_tfm_ws_destroy(w->tw);
  free(w->tok);
  free(w);
}

static int tfm_ws_create(const sl_model *m, void **ret, sl_error *err) {
  tfm_ws *w = calloc(1, sizeof *w);
  if (w) w->tw = sl_tfm_ws_create();
  if (!w || !w->tw) { tfm_ws_destroy(w); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  *ret = w;
  return SL_OK;
}

static int need_tokens(tfm_ws *w, int64_t n, sl_error *err) {
  if (n <= w->cap) return SL_OK;
  int *t = realloc(w->tok, (size_t)n * sizeof *t);
  if (!t) return sl_fail(err, SL_ENOMEM, "out of memory");
  w->tok = t;
  w->cap = n;
  return SL_OK;
}

static int fits(const sl_model *m, int n, sl_error *err) {
  if (!m->tfm) return sl_fail(err, SL_EINTERNAL, "a tfm model without its transformer");
  if (n + 1 > m->tfm->cfg.n_ctx)
    return sl_fail(err, SL_EINPUT, "a sequence of %d residues does not fit the tfm model's context of %d "
                   "tokens", n, m->tfm->cfg.n_ctx);
  return SL_OK;
}

/* log P of B rows of L codes (residues only). */
static int tfm_logp_many(const sl_model *m, void *p, const uint8_t *x, int64_t B, double *ret, sl_error *err) {
  tfm_ws *w = p;
  const int64_t L = m->L;
  int status = need_tokens(w, B * L + 1, err);
  if (status) return status;
  const int **seqs = malloc((size_t)(B + 1) * sizeof *seqs);
  int *lens = malloc((size_t)(B + 1) * sizeof *lens);
  if (!seqs || !lens) { free(seqs); free(lens); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int64_t b = 0; b < B && !status; b++) {
    int *t = w->tok + b * L, n = 0;
    for (int64_t i = 0; i < L; i++) {
      int a = sl_model_state(m, x[b * L + i]); /* protein, gaps missing: state = token */
      if (a >= 0) t[n++] = a;
    }
    seqs[b] = t;
    lens[b] = n;
    status = fits(m, n, err);
  }
  if (!status) status = sl_tfm_logp_batch_ws(m->tfm, w->tw, seqs, lens, (int)B, ret, err);
  free(seqs);
  free(lens);
  return status;
}

static int tfm_logp(const sl_model *m, void *p, const uint8_t *s, double *ret, sl_error *err) {
  return tfm_logp_many(m, p, s, 1, ret, err);
}

static int64_t tfm_max_len(const sl_model *m) { return m->tfm ? m->tfm->cfg.n_ctx - 1 : m->L; }

/* B draws, one after another from rng (sample-major), token by token. */
static int tfm_sample(const sl_model *m, void *p, sl_rng *rng, const sl_draw_opts *o, int64_t B,
                      uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err) {
  tfm_ws *w = p;
  if (!m->tfm) return sl_fail(err, SL_EINTERNAL, "a tfm model without its transformer");
  if (o->fixed)
    return sl_fail(err, SL_EUSAGE, "a tfm model is sampled with clamped residues by Gibbs sampling "
                   "under its likelihood, not ancestrally");
  const int64_t R = tfm_max_len(m);
  int status = need_tokens(w, R + o->n_prefix + 1, err);
  if (status) return status;
  int *pre = w->tok + R + 1;
  for (int64_t k = 0; k < o->n_prefix; k++) {
    int a = sl_model_state(m, o->prefix[k]);
    if (a < 0) return sl_fail(err, SL_EUSAGE, "the prefix has a gap at position %lld", (long long)k + 1);
    pre[k] = a;
  }
  for (int64_t b = 0; b < B; b++) {
    int len = 0;
    double lp = 0;
    if ((status = sl_tfm_sample_ws(m->tfm, w->tw, rng, o->T, o->top_p, pre, (int)o->n_prefix, w->tok, &len,
                                   &lp, err)))
      return status;
    uint8_t *row = out + b * R;
    memset(row, 0, (size_t)R);
    for (int i = 0; i < len; i++) row[i] = (uint8_t)(w->tok[i] + (m->gap_missing ? 1 : 0));
    if (ret_len) ret_len[b] = len;
    if (ret_logp) ret_logp[b] = lp;
  }
  return SL_OK;
}

/* Monte Carlo entropy over n samples from one stream (as sl_tfm_entropy,
 * with the caller-owned workspace). */
static int tfm_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads, sl_entropy *ret, sl_error *err) {
  (void)threads; /* the transformer's own thread count (sl_model_set_threads) applies */
  if (n < 2) return sl_fail(err, SL_EUSAGE, "the entropy estimate needs at least 2 samples");
  if (!m->tfm) return sl_fail(err, SL_EINTERNAL, "a tfm model without its transformer");
  sl_tfm_ws *tw = sl_tfm_ws_create();
  int *out = malloc((size_t)m->tfm->cfg.n_ctx * sizeof *out);
  int status = SL_OK;
  if (!tw || !out) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  sl_rng r;
  sl_rng_seed(&r, seed);
  double s = 0, s2 = 0;
  int64_t trunc = 0;
  for (int64_t k = 0; k < n; k++) {
    int len = 0;
    double lp = 0;
    if ((status = sl_tfm_sample_ws(m->tfm, tw, &r, 1.0, 1.0, NULL, 0, out, &len, &lp, err))) goto DONE;
    trunc += len == m->tfm->cfg.n_ctx - 1;
    double b = -lp / M_LN2;
    s += b;
    s2 += b * b;
  }
  double mean = s / (double)n, var = (s2 - s * mean) / (double)(n - 1);
  ret->bits = mean;
  ret->se = sqrt(var > 0 ? var / (double)n : 0);
  ret->n = n;
  ret->truncated = trunc;
DONE:
  sl_tfm_ws_destroy(tw);
  free(out);
  return status;
}

/* The "tfm" header object and the transformer's parameter tensors. */
static int tfm_read(sl_model *m, const sl_model_file *f, sl_error *err) {
  const char *path = f->path;
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(f->root, "tfm");
  int64_t nl, dm, nh, nc, v;
  if (!cJSON_IsObject(o) || sl_mf_json_int(o, "n_layer", 1, 256, &nl) || sl_mf_json_int(o, "d_model", 1, 16384, &dm) ||
      sl_mf_json_int(o, "n_head", 1, 16384, &nh) || sl_mf_json_int(o, "n_ctx", 2, 65536, &nc) ||
      sl_mf_json_int(o, "vocab", 1, 1 << 20, &v))
    return sl_fail(err, SL_EINPUT, "%s: a tfm model needs a 'tfm' object with integer n_layer, d_model, "
                   "n_head, n_ctx and vocab", path);
  if (m->abc->type != SL_ABC_PROTEIN || !m->gap_missing)
    return sl_fail(err, SL_EINPUT, "%s: a tfm model must be over the protein alphabet with gaps missing", path);
  sl_tfm_config c = {(int)nl, (int)dm, (int)nh, (int)nc, (int)v};
  sl_error e2;
  if (sl_tfm_create(&c, &m->tfm, &e2))
    return sl_fail(err, e2.status == SL_ENOMEM ? SL_ENOMEM : SL_EINPUT, "%s: %s", path, e2.msg);
  float *dst = m->tfm->mem;
  for (int k = 0; k < SL_TFM_NTENSORS; k++) {
    size_t nb = m->tfm->sizes[k] * 4;
    const uint8_t *src = sl_mf_tensor(f, sl_tfm_tensor_names[k], nb, err);
    if (!src) return SL_EINPUT;
    int status = sl_mf_check_floats(f, src, nb / 4, sl_tfm_tensor_names[k], err);
    if (status) return status;
    memcpy(dst, src, nb);
    dst += m->tfm->sizes[k];
  }
  return SL_OK;
}

static void tfm_destroy(sl_model *m) {
  sl_tfm_destroy(m->tfm);
  m->tfm = NULL;
}

static void tfm_set_threads(sl_model *m, int threads) {
  if (m->tfm) m->tfm->threads = threads;
}

const sl_model_ops sl_tfm_ops = {
  .name = "tfm",
  .caps = SL_CAP_NORMALISED | SL_CAP_EXACT_SAMPLE,
  .summary = "small causal transformer over ungapped sequences",
  .read = tfm_read,
  .destroy = tfm_destroy,
  .ws_create = tfm_ws_create,
  .ws_destroy = tfm_ws_destroy,
  .energy = tfm_logp,
  .logp = tfm_logp,
  .logp_many = tfm_logp_many,
  .sample = tfm_sample,
  .sample_chunk = 0,
  .entropy = tfm_entropy,
  .max_len = tfm_max_len,
  .set_threads = tfm_set_threads,
};
