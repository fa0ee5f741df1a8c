/* potts_plm.c: Potts model by symmetric pseudo-likelihood (plmc's objective).
 *
 * Contents:
 *   1. Options, presets, parameter packing
 *   2. The evaluation context: states, weights, the per-site coupling layout
 *   3. The site kernel (float terms, double sums) and the evaluation
 *   4. The plain twin (double, straight loops) for tests
 *   5. The fit: libLBFGS (the L-BFGS plmc embeds) with plmc's settings
 *
 * Layout. For site i the kernel needs, for every other site j and every
 * state b of s_j, the vector J_ij(., b) over the q states of s_i. The
 * parameter vector holds each pair once (i < j, a-major), so each
 * evaluation first expands it into K[i][j][b][0..QP) = J_ij(., b), padded to
 * QP = 32 floats (two 512-bit vectors) plus one all-zero row b = q that
 * missing (gap) states point to, so the inner loops have no branches. The
 * gradient is accumulated in the same layout (G) by the thread that owns
 * site i, then folded back onto the pair: dJ_ij(a, b) = G[i][j][b][a] +
 * G[j][i][a][b] + 2 lambda_J J_ij(a, b). Costs per evaluation: about
 * 2 N L^2 (QP/16) vector loads, adds and stores, N L q exponentials, and
 * 2 (L^2 (q+1) QP) floats of memory for K and G.
 *
 * Determinism: every site's objective is summed in double by one thread in
 * row order, and sites and pairs are combined in index order, so results
 * are identical for any thread count.
 *
 * Rejected: a dense GEMM formulation (one-hot N x Lq times Lq x q per site):
 * q times more arithmetic than the gather, since the one-hot rows are 1/q full.
 * Also measured and rejected: a backward pass that sorts each block's rows by
 * state and sums equal-state residuals before one store (fewer stores, but
 * the per-state loop overhead made it 25% slower on DHFR), and per-row
 * register accumulation over all neighbours (couplings then stream from L2
 * for every row: 2x slower than the blocked forward).
 */
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "seqloop/potts.h"

#define QP 32 /* padded state stride; q <= 31 (protein 21, nucleic 5) */
#define NB 64 /* rows per block in the site kernel: 2 * NB * QP floats = 16 KiB of L1 */

/* 1. Options, presets, packing ------------------------------------------- */

void sl_plm_opts_init(sl_plm_opts *o) {
  memset(o, 0, sizeof *o);
  o->lambda_h = 0.01;
  o->lambda_J = NAN; /* set by a preset, or explicitly */
  o->epsilon = 1e-3;
  o->lbfgs_m = 6;
  o->threads = 1;
  o->stop_at = NAN;
}

int sl_plm_preset(const char *name, int64_t L, int q, sl_plm_opts *o, sl_error *err) {
  o->lambda_h = 0.01;
  if (strcmp(name, "evcouplings") == 0) o->lambda_J = 0.01 * (q - 1) * (double)(L - 1);
  else if (strcmp(name, "evmutation") == 0) o->lambda_J = 0.2 * (double)(L - 1);
  else if (strcmp(name, "plmc") == 0) o->lambda_J = 100.0;
  else if (strcmp(name, "plmc-readme") == 0) o->lambda_J = 16.0;
  else
    return sl_fail(err, SL_EUSAGE, "unknown regularisation preset '%s' (expected evcouplings, "
                   "evmutation, plmc or plmc-readme)", name);
  return SL_OK;
}

int64_t sl_potts_nparams(int64_t L, int q) {
  return L * q + L * (L - 1) / 2 * (int64_t)q * q;
}

void sl_potts_pack(const sl_model *m, double *x) {
  const int64_t L = m->L;
  const int q = m->q;
  for (int64_t k = 0; k < L * q; k++) x[k] = m->h[k];
  double *p = x + L * q;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++) {
      const float *Jij = sl_model_J(m, i, j);
      for (int k = 0; k < q * q; k++) *p++ = Jij[k];
    }
}

void sl_potts_unpack(const double *x, sl_model *m) {
  const int64_t L = m->L;
  const int q = m->q;
  for (int64_t k = 0; k < L * q; k++) m->h[k] = (float)x[k];
  const double *p = x + L * q;
  for (int64_t i = 0; i < L; i++) {
    memset(sl_model_J(m, i, i), 0, (size_t)q * (size_t)q * sizeof(float));
    for (int64_t j = i + 1; j < L; j++, p += q * q) {
      float *Jij = sl_model_J(m, i, j), *Jji = sl_model_J(m, j, i);
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          float v = (float)p[a * q + b];
          Jij[a * q + b] = v;
          Jji[b * q + a] = v;
        }
    }
  }
}

/* 2. Evaluation context ---------------------------------------------------- */

typedef struct plm_ctx {
  int64_t N, L;        /* rows with nonzero weight, columns */
  int q;
  int64_t KS;          /* floats per (i, j) block: (q + 1) * QP */
  int8_t *S;           /* N*L model states; q for a missing gap */
  int8_t *ST;          /* the same, transposed: L*N (column j of all rows is contiguous) */
  float *work;         /* per thread: 2 * NB * QP floats (logits and residuals of a row block) */
  float *w;            /* N weights */
  float *K;            /* L*L*KS expanded couplings */
  float *G;            /* L*L*KS gradient accumulators */
  float *H;            /* L*QP fields */
  float *GH;           /* L*QP field gradients */
  double *site_fx;     /* L per-site objectives */
  double *pair_reg;    /* L per-row regulariser sums, combined in order */
  const sl_plm_opts *o;
  int threads;
  int use_avx512;      /* the tiled AVX-512 forward (else the portable loops) */
  /* progress bookkeeping */
  int n_evals;
  double neg_loglk;
  struct timespec t0;
} plm_ctx;

static void ctx_free(plm_ctx *c) {
  free(c->S); free(c->ST); free(c->work); free(c->w); free(c->K); free(c->G); free(c->H); free(c->GH);
  free(c->site_fx); free(c->pair_reg);
}

static void *aligned_floats(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
  return p;
}

static int ctx_init(plm_ctx *c, const sl_msa *msa, const double *w, const sl_plm_opts *o,
                    sl_error *err) {
  memset(c, 0, sizeof *c);
  c->L = msa->L;
  c->q = msa->abc->q - (o->gap_missing ? 1 : 0);
  c->o = o;
  c->threads = o->threads > 0 ? o->threads : 1;
#if defined(__x86_64__)
  __builtin_cpu_init();
  c->use_avx512 = !o->portable && __builtin_cpu_supports("avx512f");
#endif
  if (c->q + 1 > QP) return sl_fail(err, SL_EUSAGE, "alphabet too large for the Potts kernel (q = %d)", c->q);
  c->KS = (int64_t)(c->q + 1) * QP;
  int64_t n = 0;
  for (int64_t r = 0; r < msa->N; r++) n += w[r] > 0.0;
  c->N = n;
  size_t LL = (size_t)c->L * (size_t)c->L;
  c->S = malloc((size_t)(n ? n : 1) * (size_t)c->L);
  c->ST = malloc((size_t)(n ? n : 1) * (size_t)c->L);
  c->work = aligned_floats((size_t)c->threads * 2 * NB * QP);
  c->w = malloc((size_t)(n ? n : 1) * sizeof *c->w);
  c->K = aligned_floats(LL * (size_t)c->KS);
  c->G = aligned_floats(LL * (size_t)c->KS);
  c->H = aligned_floats((size_t)c->L * QP);
  c->GH = aligned_floats((size_t)c->L * QP);
  c->site_fx = malloc((size_t)c->L * sizeof *c->site_fx);
  c->pair_reg = malloc((size_t)c->L * sizeof *c->pair_reg);
  if (!c->S || !c->ST || !c->work || !c->w || !c->K || !c->G || !c->H || !c->GH || !c->site_fx || !c->pair_reg) {
    ctx_free(c);
    return sl_fail(err, SL_ENOMEM, "out of memory for a Potts model of %lld x %lld x %d states "
                   "(%.1f GB of working space)", (long long)msa->N, (long long)c->L, c->q,
                   2.0 * (double)LL * (double)c->KS * 4.0 / 1e9);
  }
  int64_t k = 0;
  for (int64_t r = 0; r < msa->N; r++) {
    if (!(w[r] > 0.0)) continue;
    const uint8_t *row = sl_msa_row(msa, r);
    for (int64_t i = 0; i < c->L; i++) {
      int s = o->gap_missing ? (int)row[i] - 1 : (int)row[i];
      c->S[k * c->L + i] = (int8_t)(s < 0 ? c->q : s);
    }
    c->w[k++] = (float)w[r];
  }
  for (int64_t r = 0; r < n; r++)
    for (int64_t i = 0; i < c->L; i++) c->ST[i * n + r] = c->S[r * c->L + i];
  /* Diagonal blocks and the missing-state rows stay zero in K forever. */
  memset(c->K, 0, LL * (size_t)c->KS * sizeof(float));
  memset(c->H, 0, (size_t)c->L * QP * sizeof(float));
  return SL_OK;
}

/* Expand x into H and K (the off-diagonal blocks; rows b < q). */
static void expand(plm_ctx *c, const double *x) {
  const int64_t L = c->L, KS = c->KS;
  const int q = c->q;
  for (int64_t i = 0; i < L; i++)
    for (int a = 0; a < q; a++) c->H[i * QP + a] = (float)x[i * q + a];
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (int64_t i = 0; i < L; i++) {
    const double *p = x + L * q + (i * (2 * L - i - 1) / 2) * (int64_t)q * q; /* pair (i, i+1) */
    for (int64_t j = i + 1; j < L; j++, p += q * q) {
      float *Kij = c->K + (i * L + j) * KS, *Kji = c->K + (j * L + i) * KS;
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          float v = (float)p[a * q + b];
          Kij[b * QP + a] = v; /* K[i][j][b][a] = J_ij(a, b) */
          Kji[a * QP + b] = v; /* K[j][i][a][b] = J_ji(b, a) = J_ij(a, b) */
        }
    }
  }
}

/* 3. The site kernel --------------------------------------------------------
 * Rows are processed in blocks of NB. Forward: for each neighbour j, the
 * block K[i][j] (2.7 KiB) is brought to L1 once and NB rows gather their
 * row of it into their logits (also in L1); then a softmax per row over the
 * q real states gives the weighted negative log-likelihood and the residual
 * r = w (P - e_{s_i}). Backward: for each j, the residuals are added into the
 * gradient block G[i][j] in the same order. Every inner loop is over QP
 * lanes (two 512-bit or four 256-bit operations); target_clones builds an
 * AVX-512, an AVX2 and a baseline version and picks one at load time.
 * Rows whose site i is a missing gap get r = 0 and contribute nothing. */
#if defined(__x86_64__)
#include <immintrin.h>
/* Forward for one block, AVX-512: tiles of 4 rows x 8 neighbours with the
 * logits of the 4 rows held in 8 registers, so each gathered row costs two
 * loads and two adds and the logits are stored once per 8 neighbours. About
 * 1.4x faster than the portable loop below on the development machine
 * (docs/performance.md). nb must be a multiple of 4 (the caller pads). */
__attribute__((target("avx512f")))
static void forward_avx512(const float *restrict Ki, const int8_t *restrict ST, int64_t N, int64_t L,
                           int64_t KS, float *restrict lg, int64_t n0, int64_t nb) {
  for (int64_t j0 = 0; j0 < L; j0 += 8) {
    const int64_t j1 = j0 + 8 < L ? j0 + 8 : L;
    for (int64_t k = 0; k < nb; k += 4) {
      float *l0 = lg + k * QP, *l1 = l0 + QP, *l2 = l1 + QP, *l3 = l2 + QP;
      __m512 a0 = _mm512_load_ps(l0), a1 = _mm512_load_ps(l0 + 16);
      __m512 b0 = _mm512_load_ps(l1), b1 = _mm512_load_ps(l1 + 16);
      __m512 c0 = _mm512_load_ps(l2), c1 = _mm512_load_ps(l2 + 16);
      __m512 d0 = _mm512_load_ps(l3), d1 = _mm512_load_ps(l3 + 16);
      for (int64_t j = j0; j < j1; j++) {
        const float *Kj = Ki + j * KS;
        const int8_t *sj = ST + j * N + n0 + k;
        const float *ra = Kj + sj[0] * QP, *rb = Kj + sj[1] * QP;
        const float *rc = Kj + sj[2] * QP, *rd = Kj + sj[3] * QP;
        a0 = _mm512_add_ps(a0, _mm512_load_ps(ra)); a1 = _mm512_add_ps(a1, _mm512_load_ps(ra + 16));
        b0 = _mm512_add_ps(b0, _mm512_load_ps(rb)); b1 = _mm512_add_ps(b1, _mm512_load_ps(rb + 16));
        c0 = _mm512_add_ps(c0, _mm512_load_ps(rc)); c1 = _mm512_add_ps(c1, _mm512_load_ps(rc + 16));
        d0 = _mm512_add_ps(d0, _mm512_load_ps(rd)); d1 = _mm512_add_ps(d1, _mm512_load_ps(rd + 16));
      }
      _mm512_store_ps(l0, a0); _mm512_store_ps(l0 + 16, a1);
      _mm512_store_ps(l1, b0); _mm512_store_ps(l1 + 16, b1);
      _mm512_store_ps(l2, c0); _mm512_store_ps(l2 + 16, c1);
      _mm512_store_ps(l3, d0); _mm512_store_ps(l3 + 16, d1);
    }
  }
}
#endif

__attribute__((target_clones("avx512f", "avx2", "default")))
static double site_kernel(const plm_ctx *c, int64_t i, float *restrict lg, float *restrict r) {
  const int64_t L = c->L, KS = c->KS, N = c->N;
  const int q = c->q;
  const float *Ki = c->K + i * L * KS;
  float *Gi = c->G + i * L * KS;
  const float *hi = c->H + i * QP;
  const int8_t *si_col = c->ST + i * N;
  float gh[QP] = {0};
  double fx = 0.0;
  memset(Gi, 0, (size_t)(L * KS) * sizeof(float));
  for (int64_t n0 = 0; n0 < N; n0 += NB) {
    const int64_t nb = N - n0 < NB ? N - n0 : NB;
    for (int64_t k = 0; k < nb; k++)
      for (int a = 0; a < QP; a++) lg[k * QP + a] = hi[a];
#if defined(__x86_64__)
    if (c->use_avx512 && nb % 4 == 0) {
      forward_avx512(Ki, c->ST, N, L, KS, lg, n0, nb);
    } else
#endif
    {
    /* Forward, four neighbours at a time: one read-modify-write of the
     * logits per four gathered rows (stores, not loads, bound this loop). */
    int64_t j = 0;
    for (; j + 4 <= L; j += 4) { /* j == i adds the zero diagonal block */
      const float *K0 = Ki + j * KS, *K1 = K0 + KS, *K2 = K1 + KS, *K3 = K2 + KS;
      const int8_t *s0 = c->ST + j * N + n0, *s1 = s0 + N, *s2 = s1 + N, *s3 = s2 + N;
      for (int64_t k = 0; k < nb; k++) {
        const float *restrict r0 = K0 + s0[k] * QP, *restrict r1 = K1 + s1[k] * QP;
        const float *restrict r2 = K2 + s2[k] * QP, *restrict r3 = K3 + s3[k] * QP;
        float *restrict acc = lg + k * QP;
        for (int a = 0; a < QP; a++) acc[a] += (r0[a] + r1[a]) + (r2[a] + r3[a]);
      }
    }
    for (; j < L; j++) {
      const float *Kij = Ki + j * KS;
      const int8_t *sj = c->ST + j * N + n0;
      for (int64_t k = 0; k < nb; k++) {
        const float *restrict row = Kij + sj[k] * QP;
        float *restrict acc = lg + k * QP;
        for (int a = 0; a < QP; a++) acc[a] += row[a];
      }
    }
    }
    for (int64_t k = 0; k < nb; k++) {
      float *rk = r + k * QP;
      const float *lk = lg + k * QP;
      const int si = si_col[n0 + k];
      if (si == q) { /* missing: no conditional at this site */
        for (int a = 0; a < QP; a++) rk[a] = 0.0f;
        continue;
      }
      float mx = lk[0];
      for (int a = 1; a < q; a++) mx = lk[a] > mx ? lk[a] : mx;
      float z = 0.0f;
      for (int a = 0; a < q; a++) z += (rk[a] = expf(lk[a] - mx));
      const float wn = c->w[n0 + k];
      fx -= (double)wn * ((double)lk[si] - (double)mx - log((double)z));
      const float scale = wn / z;
      for (int a = 0; a < QP; a++) rk[a] = a < q ? rk[a] * scale : 0.0f;
      rk[si] -= wn;
      for (int a = 0; a < QP; a++) gh[a] += rk[a];
    }
    /* Backward: residuals added into the gradient rows of their states. */
    for (int64_t jj = 0; jj < L; jj++) {
      float *Gij = Gi + jj * KS;
      const int8_t *sj = c->ST + jj * N + n0;
      for (int64_t k = 0; k < nb; k++) {
        float *restrict row = Gij + sj[k] * QP;
        const float *restrict rk = r + k * QP;
        for (int a = 0; a < QP; a++) row[a] += rk[a];
      }
    }
  }
  for (int a = 0; a < QP; a++) c->GH[i * QP + a] = gh[a];
  return fx;
}

/* One evaluation: f(x) and g(x) (g may be NULL). */
static double evaluate(plm_ctx *c, const double *x, double *g) {
  const int64_t L = c->L, KS = c->KS;
  const int q = c->q;
  const double lh = c->o->lambda_h, lJ = c->o->lambda_J;
  expand(c, x);
#pragma omp parallel num_threads(c->threads)
  {
#ifdef _OPENMP
    float *lg = c->work + (size_t)omp_get_thread_num() * 2 * NB * QP;
#else
    float *lg = c->work;
#endif
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < L; i++) c->site_fx[i] = site_kernel(c, i, lg, lg + NB * QP);
  }
  double nll = 0.0;
  for (int64_t i = 0; i < L; i++) nll += c->site_fx[i];
  double reg_h = 0.0;
  for (int64_t i = 0; i < L; i++)
    for (int a = 0; a < q; a++) {
      double v = x[i * q + a];
      reg_h += v * v;
      if (g) g[i * q + a] = (double)c->GH[i * QP + a] + 2.0 * lh * v;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (int64_t i = 0; i < L; i++) {
    const int64_t off = L * q + (i * (2 * L - i - 1) / 2) * (int64_t)q * q;
    const double *p = x + off;
    double *gp = g ? g + off : NULL;
    double reg = 0.0;
    for (int64_t j = i + 1; j < L; j++, p += q * q) {
      const float *Gij = c->G + (i * L + j) * KS, *Gji = c->G + (j * L + i) * KS;
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          double v = p[a * q + b];
          reg += v * v;
          if (gp) gp[a * q + b] = (double)Gij[b * QP + a] + (double)Gji[a * QP + b] + 2.0 * lJ * v;
        }
      if (gp) gp += q * q;
    }
    c->pair_reg[i] = reg;
  }
  double reg_J = 0.0;
  for (int64_t i = 0; i < L; i++) reg_J += c->pair_reg[i];
  c->neg_loglk = nll;
  c->n_evals++;
  return nll + lh * reg_h + lJ * reg_J;
}

static int check_opts(const sl_msa *msa, const sl_plm_opts *o, sl_error *err) {
  if (!(o->lambda_h >= 0) || !(o->lambda_J >= 0))
    return sl_fail(err, SL_EUSAGE, "regularisation strengths must be >= 0 (lambda_h %g, lambda_J %g)",
                   o->lambda_h, o->lambda_J);
  if (msa->L < 2) return sl_fail(err, SL_EINPUT, "%s: a Potts model needs at least 2 columns", msa->path);
  return SL_OK;
}

int sl_plm_objective(const sl_msa *msa, const double *w, const sl_plm_opts *o, const double *x,
                     double *ret_fx, double *g, sl_error *err) {
  plm_ctx c;
  int status = check_opts(msa, o, err);
  if (status) return status;
  if ((status = ctx_init(&c, msa, w, o, err))) return status;
  *ret_fx = evaluate(&c, x, g);
  ctx_free(&c);
  return SL_OK;
}

/* 4. The plain twin -------------------------------------------------------- */

int sl_plm_objective_ref(const sl_msa *msa, const double *w, const sl_plm_opts *o,
                         const double *x, double *ret_fx, double *g, sl_error *err) {
  int status = check_opts(msa, o, err);
  if (status) return status;
  const int64_t L = msa->L;
  const int q = msa->abc->q - (o->gap_missing ? 1 : 0);
  const int64_t np = sl_potts_nparams(L, q);
  double *lg = malloc((size_t)q * sizeof *lg);
  int64_t *pidx = malloc((size_t)(L * L) * sizeof *pidx);
  if (!lg || !pidx) { free(lg); free(pidx); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  /* Offset of pair (i, j), i < j, in x. */
  for (int64_t i = 0, k = L * q; i < L; i++)
    for (int64_t j = i + 1; j < L; j++, k += q * q) pidx[i * L + j] = k;
#define JIJ(i, j, a, b) ((i) < (j) ? x[pidx[(i) * L + (j)] + (a) * q + (b)] : x[pidx[(j) * L + (i)] + (b) * q + (a)])
  if (g) memset(g, 0, (size_t)np * sizeof *g);
  double fx = 0.0;
  for (int64_t n = 0; n < msa->N; n++) {
    const uint8_t *row = sl_msa_row(msa, n);
    for (int64_t i = 0; i < L; i++) {
      int si = o->gap_missing ? row[i] - 1 : row[i];
      if (si < 0) continue;
      for (int a = 0; a < q; a++) {
        lg[a] = x[i * q + a];
        for (int64_t j = 0; j < L; j++) {
          int sj = o->gap_missing ? row[j] - 1 : row[j];
          if (j != i && sj >= 0) lg[a] += JIJ(i, j, a, sj);
        }
      }
      double mx = lg[0], z = 0.0;
      for (int a = 1; a < q; a++) mx = lg[a] > mx ? lg[a] : mx;
      for (int a = 0; a < q; a++) z += exp(lg[a] - mx);
      fx -= w[n] * (lg[si] - mx - log(z));
      if (!g) continue;
      for (int a = 0; a < q; a++) {
        double r = w[n] * (exp(lg[a] - mx) / z - (a == si));
        g[i * q + a] += r;
        for (int64_t j = 0; j < L; j++) {
          int sj = o->gap_missing ? row[j] - 1 : row[j];
          if (j == i || sj < 0) continue;
          if (i < j) g[pidx[i * L + j] + a * q + sj] += r;
          else g[pidx[j * L + i] + sj * q + a] += r;
        }
      }
    }
  }
#undef JIJ
  for (int64_t k = 0; k < np; k++) {
    double lam = k < L * q ? o->lambda_h : o->lambda_J;
    fx += lam * x[k] * x[k];
    if (g) g[k] += 2.0 * lam * x[k];
  }
  free(lg);
  free(pidx);
  *ret_fx = fx;
  return SL_OK;
}

/* 5. The fit ----------------------------------------------------------------- */

int sl_site_frequencies(const sl_msa *msa, const double *w, int gap_missing, double *f,
                        sl_error *err) {
  const int q = msa->abc->q - (gap_missing ? 1 : 0);
  (void)err;
  memset(f, 0, (size_t)(msa->L * q) * sizeof *f);
  for (int64_t n = 0; n < msa->N; n++) {
    const uint8_t *row = sl_msa_row(msa, n);
    for (int64_t i = 0; i < msa->L; i++) {
      int s = gap_missing ? row[i] - 1 : row[i];
      if (s >= 0) f[i * q + s] += w[n];
    }
  }
  for (int64_t i = 0; i < msa->L; i++) {
    double sum = 0.0;
    for (int a = 0; a < q; a++) sum += f[i * q + a];
    for (int a = 0; a < q; a++) f[i * q + a] = sum > 0 ? f[i * q + a] / sum : 1.0 / q;
  }
  return SL_OK;
}

typedef struct fit_state {
  plm_ctx *c;
  int iter;
} fit_state;

static lbfgsfloatval_t lbfgs_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g,
                                  const int n, const lbfgsfloatval_t step) {
  (void)n; (void)step;
  fit_state *fs = inst;
  return evaluate(fs->c, x, g);
}

static double elapsed(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static int lbfgs_progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                          const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
                          const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k,
                          int ls) {
  (void)x; (void)g; (void)step; (void)n; (void)ls;
  fit_state *fs = inst;
  const sl_plm_opts *o = fs->c->o;
  fs->iter = k;
  int stop = 0;
  if (o->progress)
    stop = o->progress(o->progress_ctx, k, fs->c->n_evals, fx, gnorm, xnorm, elapsed(&fs->c->t0));
  if (!isnan(o->stop_at) && fx <= o->stop_at) stop = 1;
  return stop;
}

static const char *lbfgs_message(int ret) {
  switch (ret) {
    case LBFGS_SUCCESS: return "converged";
    case LBFGS_STOP: return "stopped: no further progress";
    case LBFGS_ALREADY_MINIMIZED: return "already at a minimum";
    case LBFGSERR_CANCELED: return "stopped (target reached or cancelled)";
    case LBFGSERR_MAXIMUMITERATION: return "reached the maximum number of iterations";
    case LBFGSERR_ROUNDING_ERROR: return "stopped: rounding errors prevent further progress";
    case LBFGSERR_MAXIMUMLINESEARCH: return "stopped: line search reached its maximum evaluations";
    case LBFGSERR_MINIMUMSTEP: return "stopped: line search step below its minimum";
    case LBFGSERR_MAXIMUMSTEP: return "stopped: line search step above its maximum";
    case LBFGSERR_WIDTHTOOSMALL: return "stopped: interval of uncertainty too small";
    case LBFGSERR_OUTOFMEMORY: return "out of memory";
    default: return "stopped by the line search";
  }
}

int sl_potts_fit_plm(const sl_msa *msa, const double *w, const sl_plm_opts *o, sl_model **ret_m,
                     sl_plm_report *rep, sl_error *err) {
  plm_ctx c;
  sl_model *m = NULL;
  double *f = NULL;
  lbfgsfloatval_t *x = NULL;
  int status;
  *ret_m = NULL;
  memset(rep, 0, sizeof *rep);
  if ((status = check_opts(msa, o, err))) return status;
  if (!(o->epsilon > 0) || o->lbfgs_m < 1 || o->max_iter < 0)
    return sl_fail(err, SL_EUSAGE, "bad L-BFGS settings (epsilon %g, m %d, max_iter %d)", o->epsilon,
                   o->lbfgs_m, o->max_iter);
  if ((status = ctx_init(&c, msa, w, o, err))) return status;
  const int64_t L = c.L, np = sl_potts_nparams(L, c.q);
  const int q = c.q;
  m = sl_model_create("potts", L, msa->abc, o->gap_missing);
  f = malloc((size_t)(L * q) * sizeof *f);
  x = lbfgs_malloc((int)np);
  if (!m || !f || !x || np > INT32_MAX) {
    status = sl_fail(err, np > INT32_MAX ? SL_EUSAGE : SL_ENOMEM,
                     np > INT32_MAX ? "too many parameters (%lld) for libLBFGS" : "out of memory (%lld parameters)",
                     (long long)np);
    goto DONE;
  }
  /* plmc's start: h_i(a) = log(f_i(a) Neff + 1), zero-sum; J = 0. */
  double neff = 0.0;
  for (int64_t n = 0; n < msa->N; n++) neff += w[n];
  if ((status = sl_site_frequencies(msa, w, o->gap_missing, f, err))) goto DONE;
  memset(x, 0, (size_t)np * sizeof *x);
  for (int64_t i = 0; i < L; i++) {
    double sum = 0.0;
    for (int a = 0; a < q; a++) sum += (x[i * q + a] = log(f[i * q + a] * neff + 1.0));
    for (int a = 0; a < q; a++) x[i * q + a] -= sum / q;
  }
  if (o->init) memcpy(x, o->init, (size_t)np * sizeof *x);
  lbfgs_parameter_t param;
  lbfgs_parameter_init(&param);
  param.epsilon = o->epsilon;
  param.max_iterations = o->max_iter;
  param.m = o->lbfgs_m;
  fit_state fs = {&c, 0};
  clock_gettime(CLOCK_MONOTONIC, &c.t0);
  lbfgsfloatval_t fx = 0;
  int ret = lbfgs((int)np, x, &fx, lbfgs_eval, lbfgs_progress, &fs, &param);
  rep->lbfgs_status = ret;
  rep->lbfgs_message = lbfgs_message(ret);
  if (ret == LBFGSERR_OUTOFMEMORY) {
    status = sl_fail(err, SL_ENOMEM, "out of memory in L-BFGS (%lld parameters, m = %d)",
                     (long long)np, o->lbfgs_m);
    goto DONE;
  }
  if (ret < 0 && ret != LBFGSERR_CANCELED && ret != LBFGSERR_MAXIMUMITERATION && fs.iter == 0) {
    status = sl_fail(err, SL_EINTERNAL, "L-BFGS failed before the first iteration: %s (code %d)",
                     lbfgs_message(ret), ret);
    goto DONE;
  }
  /* libLBFGS leaves x at the last accepted point; report its exact objective. */
  fx = evaluate(&c, x, NULL);
  rep->fx = fx;
  rep->neg_loglk = c.neg_loglk;
  rep->iterations = fs.iter;
  rep->evaluations = c.n_evals;
  rep->seconds = elapsed(&c.t0);
  rep->n_params = np;
  sl_potts_unpack(x, m);
  m->neff = neff;
  m->n_train = msa->N;
  if ((status = sl_model_prepare(m, err))) goto DONE; /* derived layouts, once (none for potts today) */
  *ret_m = m;
  m = NULL;
DONE:
  sl_model_destroy(m);
  free(f);
  if (x) lbfgs_free(x);
  ctx_free(&c);
  return status;
}
