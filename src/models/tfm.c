/* tfm.c: a causal transformer protein language model - forward, backward,
 * exact likelihood and sampling (seqloop/tfm.h, docs/tfm.md).
 *
 * Contents:
 *   1. Shapes, parameter views, creation, initialisation, tokenizer
 *   2. Layers: encoder, LayerNorm, matmul (OpenBLAS), attention, GELU,
 *      softmax/cross-entropy; each forward with its backward, with shapes
 *   3. The model: workspace, forward, backward
 *   4. Likelihood and sampling
 *
 * The structure follows llm.c's train_gpt2.c (Karpathy 2024): one flat
 * parameter block, one activation block sized for the largest (B, T) seen,
 * and a hand-written backward checked against PyTorch (tools/tfm_ref.py,
 * tests/unit/test_tfm.c). Differences: variable-length batches with an
 * ignore target (-1) for padding, matmuls by cblas_sgemm (the three GEMMs
 * of each Linear), and reductions arranged so that no two threads ever add
 * into the same number (LayerNorm's weight gradients are a separate column
 * pass rather than atomics), so results do not depend on scheduling.
 *
 * What attention stores for backward: the softmax probabilities, per layer
 * (NL, B, H, T, T) floats - the pre-softmax scores are not kept (their
 * gradient needs only the probabilities). For the sizes this library trains
 * on a CPU (T <= 512) that is the dominant activation only for deep, long
 * models; recomputing the probabilities in backward (flash-attention style)
 * would halve nothing else and was not worth the complexity here.
 */
#include "seqloop/tfm.h"

#include <cblas.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

/* 1. Shapes and views ------------------------------------------------------ */

const char *const sl_tfm_tensor_names[SL_TFM_NTENSORS] = {
  "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
  "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"};

int sl_tfm_config_check(const sl_tfm_config *c, sl_error *err) {
  if (c->n_layer < 1 || c->n_layer > 256 || c->d_model < 1 || c->d_model > 16384 ||
      c->n_head < 1 || c->d_model % c->n_head != 0 || c->n_ctx < 2 || c->n_ctx > 65536 ||
      c->vocab != SL_TFM_VOCAB)
    return sl_fail(err, SL_EUSAGE, "bad transformer shape: layers %d (1..256), width %d (1..16384, "
                   "a multiple of heads %d), context %d (2..65536), vocabulary %d (%d)",
                   c->n_layer, c->d_model, c->n_head, c->n_ctx, c->vocab, SL_TFM_VOCAB);
  return SL_OK;
}

static void sizes_of(const sl_tfm_config *c, size_t *s) {
  size_t V = (size_t)c->vocab, C = (size_t)c->d_model, T = (size_t)c->n_ctx, L = (size_t)c->n_layer;
  s[0] = V * C; s[1] = T * C; s[2] = L * C; s[3] = L * C;
  s[4] = L * 3 * C * C; s[5] = L * 3 * C; s[6] = L * C * C; s[7] = L * C;
  s[8] = L * C; s[9] = L * C; s[10] = L * 4 * C * C; s[11] = L * 4 * C;
  s[12] = L * C * 4 * C; s[13] = L * C; s[14] = C; s[15] = C;
}

static void views(float *mem, const size_t *s, sl_tfm_params *p) {
  float **ptr[SL_TFM_NTENSORS] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb,
                                  &p->attprojw, &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw,
                                  &p->fcb, &p->fcprojw, &p->fcprojb, &p->lnfw, &p->lnfb};
  for (int k = 0; k < SL_TFM_NTENSORS; k++) { *ptr[k] = mem; mem += s[k]; }
}

/* Activations of one forward pass, views into one block. */
typedef struct {
  float *encoded;            /* (B, T, C) */
  float *ln1, *ln1_mean, *ln1_rstd; /* (NL, B, T, C), (NL, B, T) x2 */
  float *qkv;                /* (NL, B, T, 3C) */
  float *atty;               /* (NL, B, T, C) */
  float *att;                /* (NL, B, H, T, T) softmax probabilities */
  float *residual2;          /* (NL, B, T, C) */
  float *ln2, *ln2_mean, *ln2_rstd;
  float *fch, *fch_gelu, *fch_tanh; /* (NL, B, T, 4C) */
  float *residual3;          /* (NL, B, T, C) */
  float *lnf, *lnf_mean, *lnf_rstd; /* (B, T, C), (B, T) x2 */
  float *logits;             /* (B, T, V) */
  float *probs;              /* (B, T, V) */
  /* backward scratch, reused across layers */
  float *dres, *dln, *dqkv, *datty, *dfch, *dfch_gelu, *dlogits; /* (B,T,C|C|3C|C|4C|4C|V) */
  float *dtmp;               /* (threads, T, T) attention backward scratch */
} acts;

typedef struct sl_tfm_ws {
  float *mem;
  int cap_B, cap_T;          /* the largest batch the block was sized for */
  int cap_threads;
  acts a;
  int B, T;                  /* last forward */
  int *inputs, *targets;     /* copies of the last forward's tokens (B*T) */
  int has_targets;
  int64_t ntok;
} workspace;

sl_tfm_ws *sl_tfm_ws_create(void) { return calloc(1, sizeof(workspace)); }

int sl_tfm_create(const sl_tfm_config *c, sl_tfm **ret_t, sl_error *err) {
  *ret_t = NULL;
  int status = sl_tfm_config_check(c, err);
  if (status) return status;
  sl_tfm *t = calloc(1, sizeof *t);
  if (!t) return sl_fail(err, SL_ENOMEM, "out of memory creating a transformer");
  t->cfg = *c;
  sizes_of(c, t->sizes);
  for (int k = 0; k < SL_TFM_NTENSORS; k++) t->n_params += t->sizes[k];
  t->mem = calloc(t->n_params, sizeof *t->mem);
  if (!t->mem) {
    size_t n = t->n_params;
    free(t);
    return sl_fail(err, SL_ENOMEM, "out of memory: %zu transformer parameters", n);
  }
  views(t->mem, t->sizes, &t->p);
  t->threads = 1;
  *ret_t = t;
  return SL_OK;
}

void sl_tfm_ws_destroy(sl_tfm_ws *w) {
  if (!w) return;
  free(w->mem);
  free(w->inputs);
  free(w->targets);
  free(w);
}

void sl_tfm_destroy(sl_tfm *t) {
  if (!t) return;
  sl_tfm_ws_destroy(t->ws);
  free(t->mem);
  free(t);
}

int sl_tfm_copy_params(sl_tfm *dst, const sl_tfm *src, sl_error *err) {
  if (memcmp(&dst->cfg, &src->cfg, sizeof dst->cfg) != 0)
    return sl_fail(err, SL_EUSAGE, "transformer shapes differ (layers %d/%d, width %d/%d, heads %d/%d, "
                   "context %d/%d)", dst->cfg.n_layer, src->cfg.n_layer, dst->cfg.d_model,
                   src->cfg.d_model, dst->cfg.n_head, src->cfg.n_head, dst->cfg.n_ctx, src->cfg.n_ctx);
  memcpy(dst->mem, src->mem, src->n_params * sizeof *src->mem);
  return SL_OK;
}

/* Standard normal by Box-Muller from the seqloop generator (deterministic). */
static double gauss(sl_rng *r) {
  double u1 = sl_rng_uniform(r), u2 = sl_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void sl_tfm_init_random(sl_tfm *t, uint64_t seed) {
  sl_rng r;
  sl_rng_seed(&r, seed);
  const double std = 0.02, std_res = 0.02 / sqrt(2.0 * t->cfg.n_layer);
  float *base = t->mem;
  for (int k = 0; k < SL_TFM_NTENSORS; k++) {
    const char *nm = sl_tfm_tensor_names[k];
    size_t n = t->sizes[k];
    int is_w = strcmp(nm, "wte") == 0 || strcmp(nm, "wpe") == 0 || strcmp(nm, "qkvw") == 0 ||
               strcmp(nm, "fcw") == 0;
    int is_res = strcmp(nm, "attprojw") == 0 || strcmp(nm, "fcprojw") == 0;
    int is_lnw = strcmp(nm, "ln1w") == 0 || strcmp(nm, "ln2w") == 0 || strcmp(nm, "lnfw") == 0;
    for (size_t i = 0; i < n; i++)
      base[i] = is_w ? (float)(std * gauss(&r)) : is_res ? (float)(std_res * gauss(&r)) : is_lnw ? 1.0f : 0.0f;
    base += n;
  }
}

int sl_tfm_tokenize(const char *s, int *out, int *ret_n, sl_error *err) {
  static const char aa[] = "ACDEFGHIKLMNPQRSTVWY";
  int n = 0;
  *ret_n = 0;
  for (int64_t k = 0; s[k]; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c == '-' || c == '.' || c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 'a' + 'A');
    const char *p = c ? strchr(aa, c) : NULL;
    if (!p)
      return sl_fail(err, SL_EINPUT, "residue '%c' at position %lld is not one of the 20 standard "
                     "amino acids (the transformer has no token for it)", s[k], (long long)k + 1);
    out[n++] = (int)(p - aa);
  }
  *ret_n = n;
  return SL_OK;
}

/* Below this many multiply-adds a loop runs on one thread: waking a team
 * costs more than it saves (and much more on a loaded machine). */
#define PAR_MIN 32768

/* 2. Layers ------------------------------------------------------------------ */

/* out (B,T,C) = wte[inp] + wpe[t] */
static void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B,
                            int T, int C) {
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      float *o = out + ((size_t)b * T + t) * C;
      const float *we = wte + (size_t)inp[b * T + t] * C, *pe = wpe + (size_t)t * C;
      for (int i = 0; i < C; i++) o[i] = we[i] + pe[i];
    }
}

/* dwte[inp] += dout; dwpe[t] += dout (serial: tokens repeat across rows) */
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B,
                             int T, int C) {
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      const float *d = dout + ((size_t)b * T + t) * C;
      float *we = dwte + (size_t)inp[b * T + t] * C, *pe = dwpe + (size_t)t * C;
      for (int i = 0; i < C; i++) { we[i] += d[i]; pe[i] += d[i]; }
    }
}

/* out (N,C) = (inp - mean) * rstd * w + b, per row; mean, rstd (N) kept.
 * Row sums in float (C terms; relative error ~C * 6e-8, far inside what the
 * PyTorch comparison allows) so that the loops vectorise. */
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                              const float *b, int64_t N, int C, int nt) {
#pragma omp parallel for num_threads(nt) schedule(static) if (N * C >= PAR_MIN)
  for (int64_t r = 0; r < N; r++) {
    const float *x = inp + r * C;
    float m = 0, v = 0;
#pragma omp simd reduction(+ : m)
    for (int i = 0; i < C; i++) m += x[i];
    m /= (float)C;
#pragma omp simd reduction(+ : v)
    for (int i = 0; i < C; i++) { float d = x[i] - m; v += d * d; }
    v /= (float)C;
    float s = 1.0f / sqrtf(v + 1e-5f);
    float *o = out + r * C;
#pragma omp simd
    for (int i = 0; i < C; i++) o[i] = ((x[i] - m) * s) * w[i] + b[i];
    mean[r] = m;
    rstd[r] = s;
  }
}

/* dinp += LN'(dout); dw += sum_r dout * xhat; db += sum_r dout */
static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                               const float *w, const float *mean, const float *rstd, int64_t N, int C,
                               int nt) {
#pragma omp parallel for num_threads(nt) schedule(static) if (N * C >= PAR_MIN)
  for (int64_t r = 0; r < N; r++) {
    const float *d = dout + r * C, *x = inp + r * C;
    const float m = mean[r], s = rstd[r];
    float dnm = 0, dnx = 0;
#pragma omp simd reduction(+ : dnm, dnx)
    for (int i = 0; i < C; i++) {
      float xh = (x[i] - m) * s, dn = w[i] * d[i];
      dnm += dn;
      dnx += dn * xh;
    }
    dnm /= (float)C;
    dnx /= (float)C;
    float *di = dinp + r * C;
#pragma omp simd
    for (int i = 0; i < C; i++) {
      float xh = (x[i] - m) * s, dn = w[i] * d[i];
      di[i] += (dn - dnm - xh * dnx) * s;
    }
  }
  /* weight and bias gradients: each thread owns a block of columns and
   * sweeps the rows in order (row-major reads, double sums) */
#pragma omp parallel num_threads(nt) if (N * C >= PAR_MIN)
  {
    int64_t lo = (int64_t)C * omp_get_thread_num() / omp_get_num_threads();
    int64_t hi = (int64_t)C * (omp_get_thread_num() + 1) / omp_get_num_threads();
    for (int64_t c0 = lo; c0 < hi; c0 += 256) {
      const int64_t c1 = c0 + 256 < hi ? c0 + 256 : hi;
      double gw[256] = {0}, gb[256] = {0};
      for (int64_t r = 0; r < N; r++) {
        const float *d = dout + r * C, *x = inp + r * C;
        const float m = mean[r], s = rstd[r];
        for (int64_t i = c0; i < c1; i++) {
          gw[i - c0] += (double)(d[i] * ((x[i] - m) * s));
          gb[i - c0] += d[i];
        }
      }
      for (int64_t i = c0; i < c1; i++) { dw[i] += (float)gw[i - c0]; db[i] += (float)gb[i - c0]; }
    }
  }
}

/* e^x for the vectorised loops below (Cephes expf: Cody-Waite reduction
 * x = n ln2 + r, a degree-6 polynomial for e^r, 2^n by the exponent bits;
 * relative error ~1e-7 over [-87, 88], clamped outside). glibc's expf is a
 * call per element that the compiler cannot vectorise without -ffast-math;
 * this one vectorises under `omp simd` with SSE2 and is as accurate as the
 * float math around it needs (the PyTorch comparison checks it). */
static inline float fast_exp(float x) {
  /* clamp to [-87, 88] without a branch (a ternary stops the vectoriser at
   * -O2): exact inside the range, within an ulp of the bound outside */
  x += (float)(x > 88.0f) * (88.0f - x);
  x += (float)(x < -87.0f) * (-87.0f - x);
  union { float f; int32_t i; } t, sc;
  t.f = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: round to integer */
  const float n = t.f - 12582912.0f;
  const int32_t ni = t.i - 0x4B400000;
  const float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* unsigned: a NaN input (from parameters that overflow the activations)
   * gives a NaN result, not signed-overflow undefined behaviour (found by
   * fuzz_modelfile_sealed); the bits are the same for every finite x */
  sc.i = (int32_t)(((uint32_t)ni + 127u) << 23);
  return p * sc.f;
}

/* Matmuls. OpenBLAS runs single-threaded and the threads are OpenMP's,
 * each calling sgemm on its own chunks of rows (or, for the weight
 * gradient, of weight rows): two thread pools on the same cores (OpenBLAS's
 * pthreads and OpenMP's spinning team) slowed training 2-5x on a loaded
 * 2-core machine. The chunks are MM_ROWS rows whatever the thread count,
 * because a row's sum is not a function of the row alone: OpenBLAS's
 * Haswell kernels (which it picks on AMD Zen too) give a row other bits when
 * the same row sits in an sgemm of another height. With fixed chunks every
 * thread count makes the same calls, so the sums do not depend on it.
 * The forward's chunks also start at every sequence's first row (pieces of
 * a sequence, below): a sequence's rows then go through the same calls
 * whatever the other sequences of its batch, so its log P does not depend
 * on the batch it is scored in (nor on a shard's or a process's share). */
#define MM_ROWS 64

/* chunks [*c0, *c1) of ceil(n / MM_ROWS) for thread k of nt */
static void chunks(int64_t n, int nt, int k, int64_t *c0, int64_t *c1) {
  const int64_t nc = (n + MM_ROWS - 1) / MM_ROWS;
  *c0 = nc * k / nt;
  *c1 = nc * (k + 1) / nt;
}

/* The rows of an activation are N / S sequences of S rows each; each
 * sequence is cut into pieces of MM_ROWS rows from its first row (its last
 * piece shorter): piece c holds rows [*lo, *hi). chunks() shares them out:
 * pass it N / S * per * MM_ROWS rows, per = pieces(S). */
static int64_t pieces(int64_t S) { return (S + MM_ROWS - 1) / MM_ROWS; }
static void piece(int64_t c, int64_t per, int64_t S, int64_t *lo, int64_t *hi) {
  const int64_t end = (c / per + 1) * S;
  *lo = (c / per) * S + (c % per) * MM_ROWS;
  *hi = *lo + MM_ROWS < end ? *lo + MM_ROWS : end;
}

/* out (N,OC) = inp (N,IC) W^T + bias; W (OC,IC); N rows of sequences of S */
static void matmul_forward(float *out, const float *inp, const float *W, const float *bias, int64_t N,
                           int64_t S, int IC, int OC, int nt) {
  if (N * IC * OC < 8 * PAR_MIN) nt = 1;
  const int64_t per = pieces(S);
#pragma omp parallel num_threads(nt)
  {
    int64_t c0, c1, lo, hi;
    chunks(N / S * per * MM_ROWS, omp_get_num_threads(), omp_get_thread_num(), &c0, &c1);
    for (int64_t c = c0; c < c1; c++) {
      piece(c, per, S, &lo, &hi);
      if (bias)
        for (int64_t r = lo; r < hi; r++) memcpy(out + r * OC, bias, (size_t)OC * sizeof *out);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(hi - lo), OC, IC, 1.0f, inp + lo * IC, IC,
                  W, IC, bias ? 1.0f : 0.0f, out + lo * OC, OC);
    }
  }
}

/* dinp (N,IC) = dout W (overwritten); dW += dout^T inp; dbias += column
 * sums; N rows of sequences of S (dinp by the forward's pieces) */
static void matmul_backward(float *dinp, float *dW, float *dbias, const float *dout, const float *inp,
                            const float *W, int64_t N, int64_t S, int IC, int OC, int nt) {
  if (N * IC * OC < 8 * PAR_MIN) nt = 1;
  const int64_t per = pieces(S);
#pragma omp parallel num_threads(nt)
  {
    const int T = omp_get_num_threads(), k = omp_get_thread_num();
    int64_t c0, c1, lo, hi;
    chunks(N / S * per * MM_ROWS, T, k, &c0, &c1);
    for (int64_t c = c0; c < c1; c++) {
      piece(c, per, S, &lo, &hi);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), IC, OC, 1.0f, dout + lo * OC, OC,
                  W, IC, 0.0f, dinp + lo * IC, IC);
    }
    chunks(OC, T, k, &c0, &c1);
    for (int64_t c = c0; c < c1; c++) {
      lo = c * MM_ROWS;
      hi = lo + MM_ROWS < OC ? lo + MM_ROWS : OC;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(hi - lo), IC, (int)N, 1.0f, dout + lo, OC,
                  inp, IC, 1.0f, dW + lo * IC, IC);
      if (dbias) { /* column sums, rows in order (row-major reads) */
        double acc[MM_ROWS] = {0};
        for (int64_t r = 0; r < N; r++)
          for (int64_t o = lo; o < hi; o++) acc[o - lo] += dout[r * OC + o];
        for (int64_t o = lo; o < hi; o++) dbias[o] += (float)acc[o - lo];
      }
    }
  }
}

/* Causal attention, per (sequence, head) as four small GEMMs: scores
 * S = Q K^T / sqrt(hs) over the full T x T (the upper triangle is computed and
 * then zeroed: half the work wasted, still several times faster than a
 * triangular scalar loop), softmax per row over t2 <= t, out = P V.
 * qkv (B,T,3C) -> out (B,T,C); att (B,H,T,T) keeps P (zero above the diagonal). */
static void attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H,
                              int nt) {
  const int hs = C / H, C3 = 3 * C;
  const float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if ((int64_t)B * H * T * T * hs >= 4 * PAR_MIN)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
      float *P = att + ((size_t)b * H + h) * T * T;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, scale, q, C3, k, C3, 0.0f, P, T);
      for (int t = 0; t < T; t++) {
        float *a = P + (size_t)t * T, mx = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) mx = a[t2] > mx ? a[t2] : mx;
        float z = 0;
#pragma omp simd reduction(+ : z)
        for (int t2 = 0; t2 <= t; t2++) { float e = fast_exp(a[t2] - mx); a[t2] = e; z += e; }
        float iz = 1.0f / z;
        for (int t2 = 0; t2 <= t; t2++) a[t2] *= iz;
        for (int t2 = t + 1; t2 < T; t2++) a[t2] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, P, T, v, C3, 0.0f,
                  out + (size_t)b * T * C + h * hs, C);
    }
}

/* dqkv (B,T,3C) = attention'(dout), overwritten. Per (b, h):
 *   dP = dO V^T;  dV = P^T dO;  dS = P * (dP - rowsum(P * dP)) / sqrt(hs);
 *   dQ = dS K;  dK = dS^T Q.
 * One thread owns a (b, h) and is the only writer of its slices of dq, dk,
 * dv. scratch: nt * T * T floats (dP, then dS in place). */
static void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                               float *scratch, int B, int T, int C, int H, int nt) {
  const int hs = C / H, C3 = 3 * C;
  const float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if ((int64_t)B * H * T * T * hs >= 4 * PAR_MIN)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      float *dP = scratch + (size_t)omp_get_thread_num() * T * T;
      const float *q = qkv + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
      const float *P = att + ((size_t)b * H + h) * T * T;
      const float *dO = dout + (size_t)b * T * C + h * hs;
      float *dq = dqkv + (size_t)b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, 1.0f, dO, C, v, C3, 0.0f, dP, T);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, P, T, dO, C, 0.0f, dv, C3);
      for (int t = 0; t < T; t++) {
        const float *a = P + (size_t)t * T;
        float *d = dP + (size_t)t * T;
        double dot = 0;
        for (int t2 = 0; t2 <= t; t2++) dot += (double)a[t2] * d[t2];
        for (int t2 = 0; t2 <= t; t2++) d[t2] = a[t2] * (d[t2] - (float)dot) * scale;
        for (int t2 = t + 1; t2 < T; t2++) d[t2] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, dP, T, k, C3, 0.0f, dq, C3);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, dP, T, q, C3, 0.0f, dk, C3);
    }
}

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
/* tanh(u) = 1 - 2 / (1 + e^{2u}): libm's tanhf cost a third of a training
 * step; the absolute error (~1e-7) is what GELU needs (0.5 x (1 + tanh)),
 * and it saturates to +-1 for large |u|. */
static inline float fast_tanh(float u) { return 1.0f - 2.0f / (1.0f + fast_exp(2.0f * u)); }

/* out = GELU(inp) (tanh approximation); th keeps tanh(u) for backward */
static void gelu_forward(float *out, float *th, const float *inp, int64_t n, int nt) {
#pragma omp parallel for simd num_threads(nt) schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i], t = fast_tanh(GELU_S * (x + 0.044715f * x * x * x));
    th[i] = t;
    out[i] = 0.5f * x * (1.0f + t);
  }
}

static void gelu_backward(float *dinp, const float *inp, const float *th, const float *dout, int64_t n, int nt) {
#pragma omp parallel for simd num_threads(nt) schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i], t = th[i], sech2 = 1.0f - t * t;
    float g = 0.5f * (1.0f + t) + 0.5f * x * sech2 * GELU_S * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = g * dout[i];
  }
}

/* probs (N,V) = softmax(logits); returns the summed NLL over targets >= 0 */
static double crossentropy_forward(float *probs, const float *logits, const int *targets, int64_t N,
                                   int V, int64_t *ret_n) {
  double loss = 0;
  int64_t n = 0;
  for (int64_t r = 0; r < N; r++) {
    const float *l = logits + r * V;
    double mx = l[0], z = 0;
    for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
    for (int v = 0; v < V; v++) z += exp(l[v] - mx);
    double lz = mx + log(z);
    for (int v = 0; v < V; v++) probs[r * V + v] = (float)exp(l[v] - lz);
    if (targets && targets[r] >= 0) { loss += lz - l[targets[r]]; n++; }
  }
  if (ret_n) *ret_n = n;
  return loss;
}

/* 3. The model ------------------------------------------------------------- */

static int ws_ensure(const sl_tfm *t, workspace *w, int B, int T, sl_error *err) {
  int nt = t->threads < 1 ? 1 : t->threads;
  if (w->mem && B <= w->cap_B && T <= w->cap_T && nt <= w->cap_threads) return SL_OK;
  int capB = B > w->cap_B ? B : w->cap_B, capT = T > w->cap_T ? T : w->cap_T;
  int capth = nt > w->cap_threads ? nt : w->cap_threads;
  const sl_tfm_config *c = &t->cfg;
  size_t C = (size_t)c->d_model, L = (size_t)c->n_layer, H = (size_t)c->n_head, V = (size_t)c->vocab;
  size_t BT = (size_t)capB * (size_t)capT;
  size_t attn = L * (size_t)capB * H * (size_t)capT * (size_t)capT;
  size_t total = BT * C /* encoded */ + L * BT * (C + 2) /* ln1 */ + L * BT * 3 * C /* qkv */ +
                 L * BT * C /* atty */ + attn + L * BT * C /* residual2 */ + L * BT * (C + 2) /* ln2 */ +
                 3 * L * BT * 4 * C /* fch, gelu, tanh */ + L * BT * C /* residual3 */ + BT * (C + 2) /* lnf */ +
                 2 * BT * V /* logits, probs */ + BT * (C + C + 3 * C + C + 4 * C + 4 * C + V) /* grads */ +
                 (size_t)capth * (size_t)capT * (size_t)capT;
  float *mem = malloc(total * sizeof *mem);
  int *inp = malloc(BT * sizeof *inp), *tgt = malloc(BT * sizeof *tgt);
  if (!mem || !inp || !tgt) {
    free(mem); free(inp); free(tgt);
    return sl_fail(err, SL_ENOMEM, "out of memory: transformer activations for %d x %d tokens", capB, capT);
  }
  free(w->mem); free(w->inputs); free(w->targets);
  w->mem = mem; w->inputs = inp; w->targets = tgt;
  w->cap_B = capB; w->cap_T = capT; w->cap_threads = capth;
  acts *a = &w->a;
  float *p = mem;
#define TAKE(f, n) (a->f = p, p += (n))
  TAKE(encoded, BT * C);
  TAKE(ln1, L * BT * C); TAKE(ln1_mean, L * BT); TAKE(ln1_rstd, L * BT);
  TAKE(qkv, L * BT * 3 * C); TAKE(atty, L * BT * C); TAKE(att, attn);
  TAKE(residual2, L * BT * C);
  TAKE(ln2, L * BT * C); TAKE(ln2_mean, L * BT); TAKE(ln2_rstd, L * BT);
  TAKE(fch, L * BT * 4 * C); TAKE(fch_gelu, L * BT * 4 * C); TAKE(fch_tanh, L * BT * 4 * C); TAKE(residual3, L * BT * C);
  TAKE(lnf, BT * C); TAKE(lnf_mean, BT); TAKE(lnf_rstd, BT);
  TAKE(logits, BT * V); TAKE(probs, BT * V);
  TAKE(dres, BT * C); TAKE(dln, BT * C); TAKE(dqkv, BT * 3 * C); TAKE(datty, BT * C);
  TAKE(dfch, BT * 4 * C); TAKE(dfch_gelu, BT * 4 * C); TAKE(dlogits, BT * V);
  TAKE(dtmp, (size_t)capth * capT * capT);
#undef TAKE
  return SL_OK;
}

/* The trainer's forward and backward use the model's own workspace (t->ws);
 * scoring and sampling take the caller's, so that threads can share a model. */
static workspace *own_ws(sl_tfm *t) {
  if (!t->ws) t->ws = sl_tfm_ws_create();
  return t->ws;
}

static int forward_ws(const sl_tfm *t, workspace *w, const int *inputs, const int *targets, int B, int T,
                      double *ret_loss, int64_t *ret_ntok, sl_error *err);

/* Room for OpenBLAS's work buffers (issue 18). OpenBLAS (0.3.21) maps a
 * 128 MiB buffer for each concurrent GEMM caller on first use and retries a
 * failed mmap forever: under an address-space limit (ulimit -v) or strict
 * overcommit, a fit spun for 28 CPU-minutes. So before the first matmuls
 * with nt threads, the same amount is mapped and unmapped here (glibc's
 * per-thread malloc arenas need no margin: their failure falls back to the
 * main arena): if that fails, the fit stops with
 * "out of memory" instead. Buffers OpenBLAS has mapped are kept for the
 * process, so each thread count is checked once. Without a limit this costs
 * one getrlimit per forward. */
enum { BLAS_BUFFER_BYTES = (128 << 20) + 8192 };
static int blas_room(int nt, sl_error *err) {
  static int checked = 0; /* the largest thread count found to fit */
  if (nt <= __atomic_load_n(&checked, __ATOMIC_RELAXED)) return SL_OK;
  struct rlimit rl;
  FILE *oc = fopen("/proc/sys/vm/overcommit_memory", "r");
  int strict = oc && fgetc(oc) == '2';
  if (oc) fclose(oc);
  if (!strict && (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)) return SL_OK;
  size_t n = (size_t)nt * (size_t)BLAS_BUFFER_BYTES;
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return sl_fail(err, SL_ENOMEM, "out of memory: the address-space limit (ulimit -v) or strict overcommit leaves no "
                   "room for OpenBLAS's work buffers (%d thread%s x %d MiB, one per thread); raise the limit or use fewer "
                   "threads (-t)", nt, nt == 1 ? "" : "s", BLAS_BUFFER_BYTES >> 20);
  munmap(p, n);
  __atomic_store_n(&checked, nt, __ATOMIC_RELAXED);
  return SL_OK;
}

int sl_tfm_forward(sl_tfm *t, const int *inputs, const int *targets, int B, int T, double *ret_loss,
                   int64_t *ret_ntok, sl_error *err) {
  workspace *w = own_ws(t);
  if (!w) return sl_fail(err, SL_ENOMEM, "out of memory");
  return forward_ws(t, w, inputs, targets, B, T, ret_loss, ret_ntok, err);
}

static int forward_ws(const sl_tfm *t, workspace *w, const int *inputs, const int *targets, int B, int T,
                      double *ret_loss, int64_t *ret_ntok, sl_error *err) {
  const sl_tfm_config *c = &t->cfg;
  if (B < 1 || T < 1 || T > c->n_ctx)
    return sl_fail(err, SL_EUSAGE, "transformer forward: batch %d x %d tokens (context %d)", B, T, c->n_ctx);
  for (int64_t k = 0; k < (int64_t)B * T; k++)
    if (inputs[k] < 0 || inputs[k] >= c->vocab || (targets && (targets[k] < -1 || targets[k] >= c->vocab)))
      return sl_fail(err, SL_EUSAGE, "transformer forward: token %lld out of range", (long long)k);
  int status = ws_ensure(t, w, B, T, err);
  if (status) return status;
  acts *a = &w->a;
  const int C = c->d_model, NL = c->n_layer, H = c->n_head, V = c->vocab;
  const int nt = t->threads < 1 ? 1 : t->threads;
  if ((status = blas_room(nt, err))) return status;
  const int64_t BT = (int64_t)B * T;
  const size_t attstride = (size_t)B * H * T * T;
  openblas_set_num_threads(1); /* see the matmuls */
  const sl_tfm_params *p = &t->p;
  memcpy(w->inputs, inputs, (size_t)BT * sizeof *inputs);
  if (targets) memcpy(w->targets, targets, (size_t)BT * sizeof *targets);
  w->has_targets = targets != NULL;
  w->B = B;
  w->T = T;

  encoder_forward(a->encoded, inputs, p->wte, p->wpe, B, T, C);
  for (int l = 0; l < NL; l++) {
    const float *res = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * BT * C;
    float *ln1 = a->ln1 + (size_t)l * BT * C, *qkv = a->qkv + (size_t)l * BT * 3 * C;
    float *atty = a->atty + (size_t)l * BT * C, *att = a->att + (size_t)l * attstride;
    float *r2 = a->residual2 + (size_t)l * BT * C, *ln2 = a->ln2 + (size_t)l * BT * C;
    float *fch = a->fch + (size_t)l * BT * 4 * C, *fg = a->fch_gelu + (size_t)l * BT * 4 * C;
    float *r3 = a->residual3 + (size_t)l * BT * C;
    layernorm_forward(ln1, a->ln1_mean + l * BT, a->ln1_rstd + l * BT, res, p->ln1w + l * C,
                      p->ln1b + l * C, BT, C, nt);
    matmul_forward(qkv, ln1, p->qkvw + (size_t)l * 3 * C * C, p->qkvb + l * 3 * C, BT, T, C, 3 * C, nt);
    attention_forward(atty, att, qkv, B, T, C, H, nt);
    matmul_forward(r2, atty, p->attprojw + (size_t)l * C * C, p->attprojb + l * C, BT, T, C, C, nt);
    for (int64_t i = 0; i < BT * C; i++) r2[i] += res[i];
    layernorm_forward(ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, r2, p->ln2w + l * C,
                      p->ln2b + l * C, BT, C, nt);
    matmul_forward(fch, ln2, p->fcw + (size_t)l * 4 * C * C, p->fcb + l * 4 * C, BT, T, C, 4 * C, nt);
    gelu_forward(fg, a->fch_tanh + (size_t)l * BT * 4 * C, fch, BT * 4 * C, nt);
    matmul_forward(r3, fg, p->fcprojw + (size_t)l * 4 * C * C, p->fcprojb + l * C, BT, T, 4 * C, C, nt);
    for (int64_t i = 0; i < BT * C; i++) r3[i] += r2[i];
  }
  const float *last = a->residual3 + (size_t)(NL - 1) * BT * C;
  layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, last, p->lnfw, p->lnfb, BT, C, nt);
  matmul_forward(a->logits, a->lnf, p->wte, NULL, BT, T, C, V, nt);
  int64_t n = 0;
  double loss = crossentropy_forward(a->probs, a->logits, targets, BT, V, &n);
  w->ntok = n;
  if (ret_loss) *ret_loss = n > 0 ? loss / (double)n : 0.0;
  if (ret_ntok) *ret_ntok = n;
  return SL_OK;
}

const float *sl_tfm_logits(const sl_tfm *t) {
  const workspace *w = t->ws;
  return w ? w->a.logits : NULL;
}

int sl_tfm_backward(sl_tfm *t, float *grad, sl_error *err) {
  workspace *w = t->ws;
  if (!w || !w->has_targets) return sl_fail(err, SL_EUSAGE, "transformer backward without a forward with targets");
  const sl_tfm_config *c = &t->cfg;
  const int C = c->d_model, NL = c->n_layer, H = c->n_head, V = c->vocab, B = w->B, T = w->T;
  const int nt = t->threads < 1 ? 1 : t->threads;
  const int64_t BT = (int64_t)B * T;
  const size_t attstride = (size_t)B * H * T * T;
  openblas_set_num_threads(1); /* see the matmuls */
  acts *a = &w->a;
  memset(grad, 0, t->n_params * sizeof *grad);
  sl_tfm_params g;
  views(grad, t->sizes, &g);
  const sl_tfm_params *p = &t->p;

  /* d mean NLL / d logits = (probs - onehot) / ntok on rows with a target */
  const float inv = w->ntok > 0 ? 1.0f / (float)w->ntok : 0.0f;
  for (int64_t r = 0; r < BT; r++) {
    float *d = a->dlogits + r * V;
    const float *pr = a->probs + r * V;
    int tg = w->targets[r];
    if (tg < 0) { memset(d, 0, (size_t)V * sizeof *d); continue; }
    for (int v = 0; v < V; v++) d[v] = pr[v] * inv;
    d[tg] -= inv;
  }
  matmul_backward(a->dln, g.wte, NULL, a->dlogits, a->lnf, p->wte, BT, T, C, V, nt);
  memset(a->dres, 0, (size_t)BT * C * sizeof *a->dres);
  const float *last = a->residual3 + (size_t)(NL - 1) * BT * C;
  layernorm_backward(a->dres, g.lnfw, g.lnfb, a->dln, last, p->lnfw, a->lnf_mean, a->lnf_rstd, BT, C, nt);
  for (int l = NL - 1; l >= 0; l--) {
    const float *res = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * BT * C;
    const float *ln1 = a->ln1 + (size_t)l * BT * C, *qkv = a->qkv + (size_t)l * BT * 3 * C;
    const float *atty = a->atty + (size_t)l * BT * C, *att = a->att + (size_t)l * attstride;
    const float *r2 = a->residual2 + (size_t)l * BT * C, *ln2 = a->ln2 + (size_t)l * BT * C;
    const float *fch = a->fch + (size_t)l * BT * 4 * C, *fg = a->fch_gelu + (size_t)l * BT * 4 * C;
    /* dres = d residual3[l]; residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))) */
    matmul_backward(a->dfch_gelu, g.fcprojw + (size_t)l * 4 * C * C, g.fcprojb + l * C, a->dres, fg,
                    p->fcprojw + (size_t)l * 4 * C * C, BT, T, 4 * C, C, nt);
    gelu_backward(a->dfch, fch, a->fch_tanh + (size_t)l * BT * 4 * C, a->dfch_gelu, BT * 4 * C, nt);
    matmul_backward(a->dln, g.fcw + (size_t)l * 4 * C * C, g.fcb + l * 4 * C, a->dfch, ln2,
                    p->fcw + (size_t)l * 4 * C * C, BT, T, C, 4 * C, nt);
    layernorm_backward(a->dres, g.ln2w + l * C, g.ln2b + l * C, a->dln, r2, p->ln2w + l * C,
                       a->ln2_mean + l * BT, a->ln2_rstd + l * BT, BT, C, nt);
    /* dres = d residual2[l]; residual2 = res + attproj(attention(qkv(ln1(res)))) */
    matmul_backward(a->datty, g.attprojw + (size_t)l * C * C, g.attprojb + l * C, a->dres, atty,
                    p->attprojw + (size_t)l * C * C, BT, T, C, C, nt);
    attention_backward(a->dqkv, a->datty, qkv, att, a->dtmp, B, T, C, H, nt);
    matmul_backward(a->dln, g.qkvw + (size_t)l * 3 * C * C, g.qkvb + l * 3 * C, a->dqkv, ln1,
                    p->qkvw + (size_t)l * 3 * C * C, BT, T, C, 3 * C, nt);
    layernorm_backward(a->dres, g.ln1w + l * C, g.ln1b + l * C, a->dln, res, p->ln1w + l * C,
                       a->ln1_mean + l * BT, a->ln1_rstd + l * BT, BT, C, nt);
  }
  encoder_backward(g.wte, g.wpe, a->dres, w->inputs, B, T, C);
  return SL_OK;
}

/* 4. Likelihood and sampling ------------------------------------------------ */

int sl_tfm_logp_batch(sl_tfm *t, const int *const *seqs, const int *lens, int B, double *ret_logp,
                      sl_error *err) {
  workspace *w = own_ws(t);
  if (!w) return sl_fail(err, SL_ENOMEM, "out of memory");
  return sl_tfm_logp_batch_ws(t, w, seqs, lens, B, ret_logp, err);
}

/* order[] = 0..B-1 by length, longest first (the workspace then grows at
 * most twice: to the longest, then to a full batch), ties by index */
typedef struct { int len, idx; } len_idx;
static int cmp_len_idx(const void *a, const void *b) {
  const len_idx *x = a, *y = b;
  return x->len != y->len ? (x->len < y->len) - (x->len > y->len) : (x->idx > y->idx) - (x->idx < y->idx);
}
static int len_order(const int *lens, int B, int *order) {
  len_idx *v = malloc((size_t)(B > 0 ? B : 1) * sizeof *v);
  if (!v) return -1;
  for (int b = 0; b < B; b++) v[b] = (len_idx){lens[b], b};
  qsort(v, (size_t)B, sizeof *v, cmp_len_idx);
  for (int b = 0; b < B; b++) order[b] = v[b].idx;
  free(v);
  return 0;
}

int sl_tfm_logp_batch_ws(const sl_tfm *t, sl_tfm_ws *w, const int *const *seqs, const int *lens, int B,
                         double *ret_logp, sl_error *err) {
  const int Tc = t->cfg.n_ctx, V = t->cfg.vocab;
  const int chunk = 32;
  for (int b = 0; b < B; b++) {
    if (lens[b] < 0 || lens[b] + 1 > Tc)
      return sl_fail(err, SL_EUSAGE, "sequence %d has %d residues; this transformer's context (%d tokens) "
                     "holds at most %d", b + 1, lens[b], Tc, Tc - 1);
    for (int k = 0; k < lens[b]; k++)
      if (seqs[b][k] < 0 || seqs[b][k] >= SL_TFM_NAA)
        return sl_fail(err, SL_EUSAGE, "sequence %d: token %d at position %d is not a residue (0..19)", b + 1,
                       seqs[b][k], k + 1);
  }
  /* Forward passes over sequences of one length (up to `chunk` of them, in
   * len_order's order): no padding, and with the matmuls' pieces
   * (above) a sequence's log P is the same bits in any batch. */
  int *inp = malloc((size_t)chunk * Tc * sizeof *inp), *order = malloc((size_t)(B > 0 ? B : 1) * sizeof *order);
  if (!inp || !order || len_order(lens, B, order)) {
    free(inp);
    free(order);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  int status = SL_OK;
  for (int b0 = 0, nb; b0 < B && !status; b0 += nb) {
    const int n = lens[order[b0]], T = n + 1;
    for (nb = 1; nb < chunk && b0 + nb < B && lens[order[b0 + nb]] == n; nb++) {}
    for (int b = 0; b < nb; b++) {
      int *r = inp + (size_t)b * T;
      r[0] = SL_TFM_BOS;
      memcpy(r + 1, seqs[order[b0 + b]], (size_t)n * sizeof *r);
    }
    if ((status = forward_ws(t, w, inp, NULL, nb, T, NULL, NULL, err))) break;
    const float *lg = w->a.logits;
    for (int b = 0; b < nb; b++) {
      const int *x = seqs[order[b0 + b]];
      double lp = 0;
      for (int k = 0; k <= n; k++) {
        const float *l = lg + ((size_t)b * T + k) * V;
        int tg = k < n ? x[k] : SL_TFM_EOS;
        double mx = l[0], z = 0;
        for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
        for (int v = 0; v < V; v++) z += exp(l[v] - mx);
        lp += l[tg] - mx - log(z);
      }
      ret_logp[order[b0 + b]] = lp;
    }
  }
  free(inp);
  free(order);
  return status;
}

int sl_tfm_logp(sl_tfm *t, const int *a, int n, double *ret_logp, sl_error *err) {
  return sl_tfm_logp_batch(t, &a, &n, 1, ret_logp, err);
}

int sl_tfm_sample(sl_tfm *t, sl_rng *rng, double T, double top_p, const int *prefix, int n_prefix,
                  int *out, int *ret_n, double *ret_logp, sl_error *err) {
  workspace *w = own_ws(t);
  if (!w) return sl_fail(err, SL_ENOMEM, "out of memory");
  return sl_tfm_sample_ws(t, w, rng, T, top_p, prefix, n_prefix, out, ret_n, ret_logp, err);
}

int sl_tfm_sample_ws(const sl_tfm *t, sl_tfm_ws *w, sl_rng *rng, double T, double top_p, const int *prefix,
                     int n_prefix, int *out, int *ret_n, double *ret_logp, sl_error *err) {
  const int Tc = t->cfg.n_ctx, V = t->cfg.vocab;
  *ret_n = 0;
  if (!(T > 0) || !(top_p > 0 && top_p <= 1))
    return sl_fail(err, SL_EUSAGE, "sampling needs temperature > 0 and 0 < top-p <= 1 (got %g, %g)", T, top_p);
  if (n_prefix < 0 || n_prefix > Tc - 1)
    return sl_fail(err, SL_EUSAGE, "a prefix of %d residues does not fit the context (%d tokens)", n_prefix, Tc);
  int *inp = malloc((size_t)Tc * sizeof *inp);
  double *pr = malloc((size_t)V * sizeof *pr);
  int *idx = malloc((size_t)V * sizeof *idx);
  int status = SL_OK;
  if (!inp || !pr || !idx) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  inp[0] = SL_TFM_BOS;
  for (int k = 0; k < n_prefix; k++) {
    if (prefix[k] < 0 || prefix[k] >= SL_TFM_NAA) { status = sl_fail(err, SL_EUSAGE, "prefix token %d is not a residue", k + 1); goto DONE; }
    inp[k + 1] = out[k] = prefix[k];
  }
  double lp = 0;
  /* log P of the prefix itself, so ret_logp is log P of the whole output */
  if (n_prefix > 0) {
    if ((status = forward_ws(t, w, inp, NULL, 1, n_prefix, NULL, NULL, err))) goto DONE;
    const float *lg = w->a.logits;
    for (int k = 0; k < n_prefix; k++) {
      const float *l = lg + (size_t)k * V;
      double mx = l[0], z = 0;
      for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
      for (int v = 0; v < V; v++) z += exp(l[v] - mx);
      lp += l[prefix[k]] - mx - log(z);
    }
  }
  int n = n_prefix;
  /* Each step reads BOS + n residues and draws the next residue or EOS. At
   * n = n_ctx - 1 the context is full: a residue drawn there is dropped and
   * the sequence ends without EOS (its log-probability then excludes EOS). */
  for (;;) {
    int len = n + 1;
    if ((status = forward_ws(t, w, inp, NULL, 1, len, NULL, NULL, err))) goto DONE;
    const float *l = w->a.logits + (size_t)(len - 1) * V;
    /* only residues (0..19) and EOS (21) can follow: BOS (20) and PAD (22)
     * are never targets, so they get probability 0 here */
    const int nv = SL_TFM_EOS + 1;
    double mx = l[0], z = 0, zT = 0, mxT = -INFINITY;
    for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
    for (int v = 0; v < V; v++) z += exp(l[v] - mx);
    for (int v = 0; v < nv; v++) mxT = l[v] / T > mxT ? l[v] / T : mxT;
    for (int v = 0; v < nv; v++) { pr[v] = v == SL_TFM_BOS ? 0.0 : exp(l[v] / T - mxT); zT += pr[v]; idx[v] = v; }
    for (int v = 0; v < nv; v++) pr[v] /= zT;
    /* nucleus: sort by probability (insertion sort of 21; ties keep token order) */
    for (int i = 1; i < nv; i++)
      for (int j = i; j > 0 && pr[idx[j]] > pr[idx[j - 1]]; j--) { int s = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = s; }
    double mass = 0;
    int keep = 0;
    while (keep < nv) { mass += pr[idx[keep++]]; if (mass >= top_p) break; }
    double u = sl_rng_uniform(rng) * mass, acc = 0;
    int tok = idx[keep - 1];
    for (int i = 0; i < keep; i++) { acc += pr[idx[i]]; if (u < acc) { tok = idx[i]; break; } }
    if (tok != SL_TFM_EOS && len == Tc) break;
    lp += l[tok] - mx - log(z);
    if (tok == SL_TFM_EOS) break;
    out[n] = tok;
    inp[n + 1] = tok;
    n++;
  }
  *ret_n = n;
  if (ret_logp) *ret_logp = lp;
DONE:
  free(inp);
  free(pr);
  free(idx);
  return status;
}

int sl_tfm_entropy(sl_tfm *t, int64_t n, uint64_t seed, double *ret_bits, double *ret_se, int64_t *ret_truncated,
                   sl_error *err) {
  *ret_bits = *ret_se = 0;
  if (ret_truncated) *ret_truncated = 0;
  if (n < 2) return sl_fail(err, SL_EUSAGE, "the entropy estimate needs at least 2 samples");
  int *out = malloc((size_t)t->cfg.n_ctx * sizeof *out);
  if (!out) return sl_fail(err, SL_ENOMEM, "out of memory");
  sl_rng r;
  sl_rng_seed(&r, seed);
  double s = 0, s2 = 0;
  int64_t trunc = 0;
  int status = SL_OK;
  for (int64_t k = 0; k < n; k++) {
    int len = 0;
    double lp = 0;
    if ((status = sl_tfm_sample(t, &r, 1.0, 1.0, NULL, 0, out, &len, &lp, err))) break;
    trunc += len == t->cfg.n_ctx - 1;
    double b = -lp / M_LN2;
    s += b;
    s2 += b * b;
  }
  free(out);
  if (status) return status;
  double mean = s / (double)n, var = (s2 - s * mean) / (double)(n - 1);
  *ret_bits = mean;
  *ret_se = sqrt(var > 0 ? var / (double)n : 0);
  if (ret_truncated) *ret_truncated = trunc;
  return SL_OK;
}

int sl_tfm_gibbs(sl_tfm *t, sl_rng *rng, double T, int *x, int n, const uint8_t *is_free, int64_t sweeps,
                 double *ret_logp, sl_error *err) {
  if (!(T > 0)) return sl_fail(err, SL_EUSAGE, "Gibbs sampling needs temperature > 0 (got %g)", T);
  if (n < 1 || n + 1 > t->cfg.n_ctx)
    return sl_fail(err, SL_EUSAGE, "a sequence of %d residues does not fit the context (%d tokens)", n, t->cfg.n_ctx);
  int *buf = malloc((size_t)SL_TFM_NAA * (size_t)n * sizeof *buf);
  const int *seqs[SL_TFM_NAA];
  int lens[SL_TFM_NAA];
  double lp[SL_TFM_NAA];
  int status = SL_OK;
  if (!buf) return sl_fail(err, SL_ENOMEM, "out of memory");
  for (int a = 0; a < SL_TFM_NAA; a++) { seqs[a] = buf + (size_t)a * n; lens[a] = n; }
  for (int64_t sw = 0; sw < sweeps && !status; sw++)
    for (int i = 0; i < n && !status; i++) {
      if (!is_free[i]) continue;
      for (int a = 0; a < SL_TFM_NAA; a++) {
        memcpy(buf + (size_t)a * n, x, (size_t)n * sizeof *x);
        buf[(size_t)a * n + i] = a;
      }
      if ((status = sl_tfm_logp_batch(t, seqs, lens, SL_TFM_NAA, lp, err))) break;
      double mx = -INFINITY, z = 0;
      for (int a = 0; a < SL_TFM_NAA; a++) mx = lp[a] / T > mx ? lp[a] / T : mx;
      for (int a = 0; a < SL_TFM_NAA; a++) z += exp(lp[a] / T - mx);
      double u = sl_rng_uniform(rng) * z, acc = 0;
      int pick = SL_TFM_NAA - 1;
      for (int a = 0; a < SL_TFM_NAA; a++) {
        acc += exp(lp[a] / T - mx);
        if (u < acc) { pick = a; break; }
      }
      x[i] = pick;
    }
  free(buf);
  if (!status && ret_logp) status = sl_tfm_logp(t, x, n, ret_logp, err);
  return status;
}
