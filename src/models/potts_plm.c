/* potts_plm.c: Potts model by symmetric pseudo-likelihood (plmc's objective).
 *
 * Contents:
 *   1. Options, presets, parameter packing
 *   2. The evaluation context: rows in chain order, their changes, layouts
 *   3. The site kernel (float terms, double sums) and the evaluation
 *   4. The plain twin (double, straight loops) for tests
 *   5. The fit: the project's float L-BFGS (seqloop/lbfgs.h) with plmc's settings
 *
 * Rows. Rows of nonzero weight are put once in the order of a greedy
 * nearest-neighbour chain (from the first row, each step takes the closest
 * unvisited row) and identical rows are merged (weights summed: exact).
 * Consecutive DHFR rows then differ at 34 of 159 columns (3616 rows, 3469
 * distinct), so the kernel updates each row's logits and gradient from the
 * previous row's for the changed columns only (section 3), with a full
 * recomputation every PLM_BLOCK rows to bound the rounding drift.
 *
 * Layout. x (float, the optimiser's vector) keeps the public packing: L q
 * fields, then each pair i < j once, J_ij(a, b) a-major. For site i and
 * neighbour j the kernel needs J_ij(., s_j) over i's states: for j < i that
 * is row s_j of pair (j, i) in x, read in place; for j > i it is a column of
 * pair (i, j), so each evaluation first writes the transposed pair blocks T
 * (one copy, L^2 q^2 / 2 floats). The gradient of pair (j, i) in x's
 * orientation is written straight into g by site i (its only writer); site
 * j's terms (the other orientation, j < i) go to a per-thread buffer laid
 * out as T's blocks (j, .), which are copied over those blocks when site j
 * is done (only site j reads them), and folded onto g afterwards with the
 * regulariser, pair by pair. Missing (gap) states read a zero row and write
 * a per-column dummy row, so the loops have no branches. Working memory
 * beyond x and g: L^2 q^2 / 2 floats (T; 19 MiB for DHFR), (L - 1) q^2
 * floats per thread, and N L bytes of states.
 *
 * Costs per evaluation, per site and row: 2 gathered rows and one
 * read-modify-write of a gradient row per changed column (for DHFR 3 x 0.21
 * N L^2 row operations instead of the full kernel's 2 N L^2), a softmax of q
 * exponentials (a vectorised expf), and a full row every PLM_BLOCK rows:
 * 0.17-0.18 s of one core per DHFR evaluation (0.19-0.20 s before the
 * kernel was compiled per alphabet size, issue 17 round 5) against 0.36 s
 * for the full kernel (docs/performance.md, "Potts fit"). Once per fit: the chain, O(N^2 L / 64)
 * byte-vector comparisons (0.1 s for DHFR).
 *
 * Determinism: every site's objective is summed in double by one thread in
 * chain order, and sites and pairs are combined in index order, so results
 * are identical for any thread count.
 *
 * Ranks (o->dist, seqloop/dist.h): rank r evaluates a contiguous block of
 * sites, then every rank receives from each site's owner exactly what the
 * site wrote (its objective, its field gradient row, g's pair blocks (j, i)
 * for j < i and T's blocks (i, .)); the fold and the optimiser then run on
 * every rank on the one-process bytes, so every rank holds the one-process
 * model. Splitting rows instead would change the order of each site's sums.
 *
 * Rejected: a dense GEMM formulation (one-hot N x Lq times Lq x q per site):
 * q times more arithmetic than the gather, since the one-hot rows are 1/q full.
 * Also measured and rejected, with the earlier full (non-incremental) kernel:
 * a backward pass that sorts each block's rows by state and sums equal-state
 * residuals before one store (the per-state loop overhead made it 25% slower
 * on DHFR), and per-row register accumulation over all neighbours
 * (couplings then stream from L2 for every row: 2x slower than a blocked
 * forward). In this kernel: masked 512-bit stores for the gradient rows of
 * q = 20 floats (the whole kernel 3x slower on the development machine, an
 * Intel Xeon with AVX-512, than with unmasked 512 + 128-bit stores);
 * PLM_BLOCK 16 or 64 instead of 32 (within 3%, measurement noise); two
 * passes over a row's changes (logits, then the gradient rows after the
 * row's softmax, to take the softmax off the gradient updates' dependency
 * chain): no gain, the loop is bound by the scattered coupling and gradient
 * rows (L2, not L1); improving the chain by 2-opt (34.0 -> 33.2 changes per
 * row on DHFR: not worth its O(N^2) passes). Issue 17, round 5: a
 * column-ordered kernel (rows in tiles of 128; per tile, each column's
 * changes add J_ij(., new) - J_ij(., old) to per-row deltas, so the
 * column's q coupling rows stay in L1, then a row pass for the softmax, then
 * each column's runs of equal state add their residual sums to its
 * gradient rows): per DHFR evaluation, one thread, thread CPU time at load
 * 6-7, 0.197-0.202 s against 0.198-0.206 s for this kernel (forward 0.072
 * vs 0.086 s, gradient 0.085 vs 0.07 s: consecutive changes of one column
 * hit the same few gradient rows, so their read-modify-writes chain through
 * store forwarding); a hybrid (that forward, this kernel's gradient) was
 * inside the noise too. So the L2 placement above costs ~15% of the forward
 * half at most; the rest is the ~30 instructions per change. Not kept.
 * Nor change entries pre-decoded to the pointer tables' indices (8 bytes
 * instead of 4, 4 fewer integer operations per change): no measurable gain.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "seqloop/lbfgs.h"
#include "seqloop/potts.h"


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

/* Offset of pair (i, j), i < j, among the pair blocks (add L q for x). */
static inline int64_t pair_off(int64_t L, int q, int64_t i, int64_t j) {
  return (i * (2 * L - i - 1) / 2 + (j - i - 1)) * (int64_t)q * q;
}

#ifndef PLM_BLOCK
#define PLM_BLOCK 32 /* rows between full recomputations (rounding drift bound) */
#endif

typedef struct plm_change {
  uint16_t j;          /* column */
  uint8_t so, sn;      /* its old and new state (q: missing) */
} plm_change;

typedef struct plm_ctx {
  int64_t N, L;        /* distinct rows with nonzero weight (chain order), columns */
  int q;
  int64_t np;          /* parameters: L q fields + pairs */
  int8_t *S;           /* N*L model states in chain order; q for a missing gap */
  float *w;            /* N weights (identical rows merged: their weights summed) */
  int64_t *cp;         /* N+1: changes of row n against row n-1 are ch[cp[n] .. cp[n+1]) */
  plm_change *ch;      /* 4 bytes each: they stream through the cache once per site */
  int8_t *ST;          /* L*N: S transposed (site i's own states, contiguous) */
  float *T;            /* pair blocks transposed: T[off(i,j) + b q + a] = J_ij(a, b) */
  float *GB;           /* per thread: (L - 1) q^2 floats, site i's gradient for its pairs
                          (i, j > i) in T's layout; copied over T's blocks (i, .) once site i
                          is done (only site i reads them), and folded onto g from there */
  float *GH;           /* L*q field gradients */
  const float **Kp;    /* per thread: L (q+1) row pointers into x / T (zero row for missing) */
  float **Gp;          /* per thread: L (q+1) row pointers into g / GB (a dummy row for missing) */
  float *Rs;           /* per thread: L rows of 32 floats, R at the start of column j's run */
  float *dummy;        /* per thread: L rows of 32 floats that missing states' gradients go to
                          (one per column, so they do not chain stores to one address) */
  double *site_fx;     /* L per-site objectives */
  double *pair_reg;    /* L per-row regulariser sums, combined in order */
  float *xf, *gf;      /* float copies of x and g when the optimiser works in double */
  const sl_plm_opts *o;
  int threads;
  int use_avx512;      /* the AVX-512 kernel (else the portable loops) */
  int64_t n_rows_in, n_changes; /* diagnostics: rows before merging, changed columns in all */
  /* progress bookkeeping */
  int n_evals;
  double neg_loglk;
  struct timespec t0;
  int64_t site_lo, site_hi; /* this rank's sites (all: one process) */
  float *dsend, *drecv; /* ranks > 1: this rank's sites' outputs, all sites' (gather_sites) */
  int64_t *dcount;      /* ranks > 1: bytes from each rank */
  int dist_failed;      /* a collective failed */
} plm_ctx;

static const float zero_row[32] __attribute__((aligned(64)));

static void ctx_free(plm_ctx *c) {
  free(c->S); free(c->w); free(c->cp); free(c->ch); free(c->ST); free(c->Rs); free(c->T); free(c->GB);
  free(c->GH); free(c->Kp); free(c->Gp); free(c->dummy); free(c->site_fx); free(c->pair_reg);
  free(c->xf); free(c->gf);
  free(c->dsend); free(c->drecv); free(c->dcount);
  memset(c, 0, sizeof *c);
}

static void *aligned_floats(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
  return p;
}

/* Differing columns of two rows of Lp bytes (Lp a multiple of 64). */
#if defined(__x86_64__)
__attribute__((target("avx512bw")))
static int64_t row_dist_avx512(const int8_t *a, const int8_t *b, int64_t Lp) {
  int64_t d = 0;
  for (int64_t k = 0; k < Lp; k += 64)
    d += __builtin_popcountll(_mm512_cmpneq_epi8_mask(_mm512_load_si512(a + k), _mm512_load_si512(b + k)));
  return d;
}
#endif
static int64_t row_dist_plain(const int8_t *a, const int8_t *b, int64_t Lp) {
  int64_t d = 0;
  for (int64_t k = 0; k < Lp; k++) d += a[k] != b[k];
  return d;
}

/* The row order: a greedy nearest-neighbour chain from the first row (each
 * step takes the unvisited row with the fewest differing columns, the lowest
 * index on ties), so consecutive rows differ in few columns; a row equal to
 * the previous one is merged into it (weights summed). Deterministic, one
 * thread, O(N^2 L / 64) byte comparisons (0.1 s for DHFR). */
static int chain_rows(plm_ctx *c, const int8_t *S0, const double *w0, int64_t n0, sl_error *err) {
  const int64_t L = c->L, Lp = (L + 63) / 64 * 64;
  int8_t *P = NULL;
  int64_t *rem = malloc((size_t)(n0 ? n0 : 1) * sizeof *rem);
  double *wsum = malloc((size_t)(n0 ? n0 : 1) * sizeof *wsum);
  int64_t *ord = malloc((size_t)(n0 ? n0 : 1) * sizeof *ord);
  if (posix_memalign((void **)&P, 64, (size_t)(n0 ? n0 : 1) * (size_t)Lp) != 0) P = NULL;
  if (!rem || !wsum || !ord || !P) {
    free(rem); free(wsum); free(ord); free(P);
    return sl_fail(err, SL_ENOMEM, "out of memory ordering %lld rows", (long long)n0);
  }
  for (int64_t r = 0; r < n0; r++) {
    memcpy(P + r * Lp, S0 + r * L, (size_t)L);
    memset(P + r * Lp + L, 0, (size_t)(Lp - L));
    rem[r] = r;
  }
  int avx = 0;
#if defined(__x86_64__)
  avx = c->use_avx512 && __builtin_cpu_supports("avx512bw");
#endif
  int64_t n = 0, nrem = n0;
  if (n0 > 0) { ord[n] = 0; wsum[n++] = w0[0]; rem[0] = rem[--nrem]; }
  while (nrem > 0) {
    const int8_t *cur = P + ord[n - 1] * Lp;
    int64_t best = -1, bd = INT64_MAX;
    for (int64_t k = 0; k < nrem; k++) {
      int64_t r = rem[k];
#if defined(__x86_64__)
      int64_t d = avx ? row_dist_avx512(cur, P + r * Lp, Lp) : row_dist_plain(cur, P + r * Lp, Lp);
#else
      int64_t d = row_dist_plain(cur, P + r * Lp, Lp);
#endif
      if (d < bd || (d == bd && r < rem[best])) { bd = d; best = k; }
    }
    int64_t r = rem[best];
    rem[best] = rem[--nrem];
    if (bd == 0) wsum[n - 1] += w0[r]; /* an identical row: same terms, summed weight */
    else { ord[n] = r; wsum[n++] = w0[r]; }
  }
  c->N = n;
  c->S = malloc((size_t)(n ? n : 1) * (size_t)L);
  c->w = malloc((size_t)(n ? n : 1) * sizeof *c->w);
  c->cp = malloc((size_t)(n + 1) * sizeof *c->cp);
  int64_t nch = 0;
  for (int64_t k = 1; k < n; k++) {
    const int8_t *a = P + ord[k - 1] * Lp, *b = P + ord[k] * Lp;
    for (int64_t j = 0; j < L; j++) nch += a[j] != b[j];
  }
  c->ch = malloc((size_t)(nch ? nch : 1) * sizeof *c->ch);
  c->ST = malloc((size_t)(n ? n : 1) * (size_t)L);
  if (!c->S || !c->w || !c->cp || !c->ch || !c->ST) {
    free(rem); free(wsum); free(ord); free(P);
    return sl_fail(err, SL_ENOMEM, "out of memory ordering %lld rows", (long long)n0);
  }
  int64_t t = 0;
  c->cp[0] = 0;
  for (int64_t k = 0; k < n; k++) {
    const int8_t *b = P + ord[k] * Lp;
    memcpy(c->S + k * L, b, (size_t)L);
    c->w[k] = (float)wsum[k];
    if (k > 0) {
      const int8_t *a = P + ord[k - 1] * Lp;
      for (int64_t j = 0; j < L; j++)
        if (a[j] != b[j]) c->ch[t++] = (plm_change){(uint16_t)j, (uint8_t)a[j], (uint8_t)b[j]};
    }
    c->cp[k + 1] = t;
  }
  for (int64_t k = 0; k < n; k++)
    for (int64_t j = 0; j < L; j++) c->ST[j * n + k] = c->S[k * L + j];
  c->n_changes = nch;
  free(rem); free(wsum); free(ord); free(P);
  return SL_OK;
}

/* Ranks: what site i writes in one evaluation, in floats: its objective
 * (a double), its field gradient row, g's pair blocks (j, i) for j < i and
 * T's blocks (i, j) for j > i. */
static int64_t site_floats(const plm_ctx *c) {
  return 2 + c->q + (c->L - 1) * (int64_t)c->q * c->q;
}

static int dist_init(plm_ctx *c, sl_error *err) {
  const sl_dist *d = c->o->dist;
  sl_dist_block(c->L, d->rank, d->size, &c->site_lo, &c->site_hi);
  c->dcount = malloc((size_t)d->size * sizeof *c->dcount);
  c->dsend = malloc((size_t)((c->site_hi - c->site_lo) * site_floats(c) + 1) * sizeof(float));
  c->drecv = malloc((size_t)(c->L * site_floats(c)) * sizeof(float));
  if (!c->dcount || !c->dsend || !c->drecv)
    return sl_fail(err, SL_ENOMEM, "out of memory for the exchange between ranks (%.1f GB)",
                   (double)c->L * (double)site_floats(c) * 4e-9);
  for (int r = 0; r < d->size; r++) {
    int64_t lo, hi;
    sl_dist_block(c->L, r, d->size, &lo, &hi);
    c->dcount[r] = (hi - lo) * site_floats(c) * (int64_t)sizeof(float);
  }
  return SL_OK;
}

/* Copy n bytes between a site's record in buf and its place in the context:
 * into buf when out, else out of it. */
static void xfer(float *buf, void *mem, size_t n, int out) {
  if (out) memcpy(buf, mem, n);
  else memcpy(mem, buf, n);
}

/* Site i's record (site_floats(c) floats, the layout above) to or from rec;
 * one walk for both directions, so packing and unpacking cannot disagree. */
static void site_record(plm_ctx *c, float *g, int64_t i, float *rec, int out) {
  const int64_t L = c->L, qq = (int64_t)c->q * c->q;
  const int q = c->q;
  xfer(rec, &c->site_fx[i], sizeof(double), out);
  xfer(rec + 2, c->GH + i * q, (size_t)q * sizeof *rec, out);
  rec += 2 + q;
  for (int64_t j = 0; j < i; j++, rec += qq) xfer(rec, g + L * q + pair_off(L, q, j, i), (size_t)qq * sizeof *rec, out);
  if (i + 1 < L) xfer(rec, c->T + pair_off(L, q, i, i + 1), (size_t)((L - 1 - i) * qq) * sizeof *rec, out);
}

/* Ranks: every site's outputs from its owner, copied into place (sites in
 * rank order are sites in index order: the blocks are contiguous). */
static int gather_sites(plm_ctx *c, float *g) {
  const int64_t per = site_floats(c);
  for (int64_t i = c->site_lo; i < c->site_hi; i++) site_record(c, g, i, c->dsend + (i - c->site_lo) * per, 1);
  const sl_dist *d = c->o->dist;
  if (d->allgatherv(d->ctx, c->dsend, c->drecv, c->dcount) != 0) {
    c->dist_failed = 1;
    return -1;
  }
  for (int64_t i = 0; i < c->L; i++)
    if (i < c->site_lo || i >= c->site_hi) site_record(c, g, i, c->drecv + i * per, 0); /* ours: in place */
  return 0;
}

static int ctx_init(plm_ctx *c, const sl_msa *msa, const double *w, const sl_plm_opts *o,
                    int need_xg, sl_error *err) {
  memset(c, 0, sizeof *c);
  c->L = msa->L;
  c->q = msa->abc->q - (o->gap_missing ? 1 : 0);
  c->o = o;
  c->threads = o->threads > 0 ? o->threads : 1;
#if defined(__x86_64__)
  __builtin_cpu_init();
  c->use_avx512 = !o->portable && __builtin_cpu_supports("avx512f");
#endif
  if (c->q > 32) return sl_fail(err, SL_EUSAGE, "alphabet too large for the Potts kernel (q = %d)", c->q);
  if (c->L > 65535) return sl_fail(err, SL_EUSAGE, "too many columns for the Potts kernel (L = %lld)", (long long)c->L);
  const int64_t L = c->L;
  const int q = c->q, q1 = q + 1;
  c->np = sl_potts_nparams(L, q);
  const size_t npair = (size_t)(c->np - L * q);
  int64_t n0 = 0;
  for (int64_t r = 0; r < msa->N; r++) n0 += w[r] > 0.0;
  c->n_rows_in = n0;
  int8_t *S0 = malloc((size_t)(n0 ? n0 : 1) * (size_t)L);
  double *w0 = malloc((size_t)(n0 ? n0 : 1) * sizeof *w0);
  int status = SL_OK;
  if (!S0 || !w0) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto FAIL; }
  int64_t k = 0;
  for (int64_t r = 0; r < msa->N; r++) {
    if (!(w[r] > 0.0)) continue;
    const uint8_t *row = sl_msa_row(msa, r);
    for (int64_t i = 0; i < L; i++) {
      int s = o->gap_missing ? (int)row[i] - 1 : (int)row[i];
      S0[k * L + i] = (int8_t)(s < 0 ? q : s);
    }
    w0[k++] = w[r];
  }
  if ((status = chain_rows(c, S0, w0, n0, err))) goto FAIL;
  free(S0); free(w0); S0 = NULL; w0 = NULL;
  c->T = aligned_floats(npair);
  c->GB = aligned_floats((size_t)c->threads * (size_t)(L - 1) * (size_t)(q * q));
  c->GH = aligned_floats((size_t)(L * q));
  c->Kp = malloc((size_t)c->threads * (size_t)(L * q1) * sizeof *c->Kp);
  c->Gp = malloc((size_t)c->threads * (size_t)(L * q1) * sizeof *c->Gp);
  c->dummy = aligned_floats((size_t)c->threads * (size_t)L * 32);
  c->Rs = aligned_floats((size_t)c->threads * (size_t)L * 32);
  c->site_fx = malloc((size_t)L * sizeof *c->site_fx);
  c->pair_reg = malloc((size_t)L * sizeof *c->pair_reg);
  if (need_xg) {
    c->xf = aligned_floats((size_t)c->np);
    c->gf = aligned_floats((size_t)c->np);
  }
  c->site_lo = 0;
  c->site_hi = L;
  if (sl_dist_ranks(o->dist) > 1 && (status = dist_init(c, err))) goto FAIL;
  if (!c->T || !c->GB || !c->GH || !c->Kp || !c->Gp || !c->dummy || !c->Rs || !c->site_fx || !c->pair_reg ||
      (need_xg && (!c->xf || !c->gf))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory for a Potts model of %lld x %lld x %d states "
                     "(%.1f GB of working space)", (long long)msa->N, (long long)L, q,
                     2.0 * (double)npair * 4.0 / 1e9);
    goto FAIL;
  }
  return SL_OK;
FAIL:
  free(S0); free(w0);
  ctx_free(c);
  return status;
}

/* Transpose the pair blocks of x into T (the orientation of the smaller site). */
static void expand(plm_ctx *c, const float *x) {
  const int64_t L = c->L;
  const int q = c->q;
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (int64_t i = 0; i < L; i++) {
    const int64_t o0 = pair_off(L, q, i, i + 1);
    const float *p = x + L * q + o0;
    float *t = c->T + o0;
    for (int64_t j = i + 1; j < L; j++, p += q * q, t += q * q)
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) t[b * q + a] = p[a * q + b];
  }
}

/* Site i's row pointers: for neighbour j and state s, Kp[j (q+1) + s] is the
 * vector J_ij(., s) over i's q states and Gp the same entry of the gradient;
 * j < i reads pair (j, i) of x (row s, contiguous) and writes g directly
 * (site i is the only writer of that orientation), j > i reads T and writes
 * the thread's GB (block j - i - 1). j = i and missing states read zeros and
 * write the thread's dummy row, so the kernels have no branches. Zeroes the
 * gradient blocks site i owns. */
static void site_pointers(const plm_ctx *c, int64_t i, const float *x, float *g, const float **Kp,
                          float **Gp, float *dummy, float *GB) {
  const int64_t L = c->L;
  const int q = c->q, q1 = q + 1;
  for (int64_t j = 0; j < L; j++) {
    const float *kb = NULL;
    float *gb = NULL;
    if (j < i) {
      const int64_t o = pair_off(L, q, j, i);
      kb = x + L * q + o;
      gb = g + L * q + o;
    } else if (j > i) {
      const int64_t o = pair_off(L, q, i, j);
      kb = c->T + o;
      gb = GB + (j - i - 1) * (int64_t)q * q;
    }
    if (gb) memset(gb, 0, (size_t)(q * q) * sizeof *gb);
    for (int s = 0; s < q; s++) {
      Kp[j * q1 + s] = kb ? kb + s * q : zero_row;
      Gp[j * q1 + s] = gb ? gb + s * q : dummy + j * 32;
    }
    Kp[j * q1 + q] = zero_row;
    Gp[j * q1 + q] = dummy + j * 32;
  }
}

/* 3. The site kernel --------------------------------------------------------
 * Rows are visited in chain order. Forward: the logits of row n at site i
 * are those of row n-1 plus, for each column j that changed, J_ij(., new) -
 * J_ij(., old); every PLM_BLOCK rows they are recomputed in full (h_i plus
 * all L rows), which bounds the rounding drift. Then a softmax gives the
 * weighted negative log-likelihood and the residual r_n = w_n (P - e_{s_i}).
 * Backward, by prefix sums: the gradient block of neighbour j receives, for
 * each run of rows where s_j keeps one state, the sum of the run's residuals.
 * With R the running sum of r since the block's first row, a change of s_j
 * at row n adds R_{n-1} to the old state's gradient row and subtracts it from
 * the new state's; at the block's end R is added to every column's current
 * state's row and reset. So a row costs about 4 row operations per changed
 * column (DHFR: 20% of the columns change between neighbours in the chain)
 * instead of 2 per column. Rows whose site i is a missing gap get r = 0. */
#if defined(__x86_64__)
/* expf for x <= 0 (Cephes' polynomial, within 2 ulp), 16 lanes. */
__attribute__((target("avx512f")))
static inline __m512 exp_avx512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

#define LD(m, p) _mm512_maskz_loadu_ps((m), (p))

/* g[0..r) += v[0..r), r < 16, with unmasked stores: with 512-bit masked
 * read-modify-writes of the gradient rows the whole kernel was 3x slower on
 * the development machine (Intel Xeon, AVX-512; a load after a masked store
 * to the same address is not forwarded and waits for the store). */
__attribute__((target("avx512f"), always_inline))
static inline void add_tail(float *g, __m512 v, int r) {
  float t[16] __attribute__((aligned(64)));
  int a = 0;
  if (r >= 4) { _mm_storeu_ps(g, _mm_add_ps(_mm_loadu_ps(g), _mm512_castps512_ps128(v))); a = 4; }
  if (r >= 8) { _mm_storeu_ps(g + 4, _mm_add_ps(_mm_loadu_ps(g + 4), _mm512_extractf32x4_ps(v, 1))); a = 8; }
  if (r >= 12) { _mm_storeu_ps(g + 8, _mm_add_ps(_mm_loadu_ps(g + 8), _mm512_extractf32x4_ps(v, 2))); a = 12; }
  if (a < r) {
    _mm512_store_ps(t, v);
    for (; a < r; a++) g[a] += t[a];
  }
}

/* g[0..q) += (v0, v1)[0..q). */
__attribute__((target("avx512f"), always_inline))
static inline void add_row(float *g, __m512 v0, __m512 v1, int q) {
  if (q >= 16) {
    _mm512_storeu_ps(g, _mm512_add_ps(_mm512_loadu_ps(g), v0));
    if (q > 16) add_tail(g + 16, v1, q - 16);
  } else {
    add_tail(g, v0, q);
  }
}

/* The q <= 32 states of a row in two 512-bit registers (lanes >= q masked).
 * Inlined into site_avx512 once per common alphabet size (q = 20, gaps
 * missing; q = 21) and once for any q, so that q is a constant where it
 * matters: add_row's branches on q and the masks then fold away, and the
 * change loop keeps its bounds and pointers in registers (as a generic
 * function it reloaded c->ch, cp[n + 1], both masks and Rs from memory and
 * took five branches on q per change). The arithmetic is the same in every
 * instance, so the results are the same bits. */
__attribute__((target("avx512f"), always_inline))
static inline double site_avx512_q(const plm_ctx *c, int64_t i, const float *x, const float **Kp,
                                   float **Gp, float *Rs, const int q) {
  const int64_t L = c->L, N = c->N;
  const int q1 = q + 1;
  const plm_change *const ch = c->ch;
  const int64_t *const cp = c->cp;
  const __mmask16 m0 = (__mmask16)(q >= 16 ? 0xFFFFu : (1u << q) - 1u);
  const __mmask16 m1 = (__mmask16)(q > 16 ? (1u << (q - 16)) - 1u : 0u);
  const __m512 h0 = LD(m0, x + i * q), h1 = LD(m1, x + i * q + 16);
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 gh0 = _mm512_setzero_ps(), gh1 = _mm512_setzero_ps();
  float lb[32] __attribute__((aligned(64)));
  double fx = 0.0;
  const int8_t *sic = c->ST + i * N;
  for (int64_t b0 = 0; b0 < N; b0 += PLM_BLOCK) {
    const int64_t b1 = N - b0 < PLM_BLOCK ? N : b0 + PLM_BLOCK;
    __m512 l0 = h0, l1 = h1, R0 = _mm512_setzero_ps(), R1 = _mm512_setzero_ps();
    {
      const int8_t *s = c->S + b0 * L;
      for (int64_t j = 0; j < L; j++) {
        const float *k = Kp[j * q1 + s[j]];
        l0 = _mm512_add_ps(l0, LD(m0, k));
        l1 = _mm512_add_ps(l1, LD(m1, k + 16));
      }
    }
    for (int64_t n = b0; n < b1; n++) {
      if (n > b0)
        for (int64_t t = cp[n], te = cp[n + 1]; t < te; t++) {
          const plm_change ct = ch[t];
          const int64_t jq = (int64_t)ct.j * q1;
          const float *ko = Kp[jq + ct.so], *kn = Kp[jq + ct.sn];
          float *rs = Rs + (int64_t)ct.j * 32;
          /* one add on the logits' dependency chain per change */
          l0 = _mm512_add_ps(l0, _mm512_sub_ps(LD(m0, kn), LD(m0, ko)));
          l1 = _mm512_add_ps(l1, _mm512_sub_ps(LD(m1, kn + 16), LD(m1, ko + 16)));
          add_row(Gp[jq + ct.so], _mm512_sub_ps(R0, _mm512_load_ps(rs)), _mm512_sub_ps(R1, _mm512_load_ps(rs + 16)), q);
          _mm512_store_ps(rs, R0);
          _mm512_store_ps(rs + 16, R1);
        }
      const int si = sic[n];
      if (si == q) continue; /* missing: no conditional at this site */
      const float mx = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_mask_mov_ps(ninf, m0, l0),
                                                          _mm512_mask_mov_ps(ninf, m1, l1)));
      const __m512 mv = _mm512_set1_ps(mx);
      const __m512 e0 = _mm512_maskz_mov_ps(m0, exp_avx512(_mm512_sub_ps(l0, mv)));
      const __m512 e1 = _mm512_maskz_mov_ps(m1, exp_avx512(_mm512_sub_ps(l1, mv)));
      const float z = _mm512_reduce_add_ps(_mm512_add_ps(e0, e1));
      _mm512_store_ps(lb, l0);
      _mm512_store_ps(lb + 16, l1);
      const float wn = c->w[n];
      fx -= (double)wn * ((double)lb[si] - (double)mx - log((double)z));
      const __m512 sc = _mm512_set1_ps(wn / z), wv = _mm512_set1_ps(wn);
      __m512 r0 = _mm512_mul_ps(e0, sc), r1 = _mm512_mul_ps(e1, sc);
      if (si < 16) r0 = _mm512_mask_sub_ps(r0, (__mmask16)(1u << si), r0, wv);
      else r1 = _mm512_mask_sub_ps(r1, (__mmask16)(1u << (si - 16)), r1, wv);
      R0 = _mm512_add_ps(R0, r0); R1 = _mm512_add_ps(R1, r1);
      gh0 = _mm512_add_ps(gh0, r0); gh1 = _mm512_add_ps(gh1, r1);
    }
    const int8_t *s = c->S + (b1 - 1) * L;
    for (int64_t j = 0; j < L; j++) {
      float *rs = Rs + j * 32;
      add_row(Gp[j * q1 + s[j]], _mm512_sub_ps(R0, _mm512_load_ps(rs)), _mm512_sub_ps(R1, _mm512_load_ps(rs + 16)), q);
      _mm512_store_ps(rs, _mm512_setzero_ps());
      _mm512_store_ps(rs + 16, _mm512_setzero_ps());
    }
  }
  _mm512_store_ps(lb, gh0);
  _mm512_store_ps(lb + 16, gh1);
  for (int a = 0; a < q; a++) c->GH[i * q + a] = lb[a];
  return fx;
}
__attribute__((target("avx512f")))
static double site_avx512(const plm_ctx *c, int64_t i, const float *x, const float **Kp, float **Gp,
                          float *Rs) {
  if (c->q == 20) return site_avx512_q(c, i, x, Kp, Gp, Rs, 20);
  if (c->q == 21) return site_avx512_q(c, i, x, Kp, Gp, Rs, 21);
  return site_avx512_q(c, i, x, Kp, Gp, Rs, c->q);
}
#undef LD
#endif

/* The same computation in plain loops (other machines; o->portable). */
static double site_portable(const plm_ctx *c, int64_t i, const float *x, const float **Kp, float **Gp,
                            float *Rs) {
  const int64_t L = c->L, N = c->N;
  const int q = c->q, q1 = q + 1;
  float l[32], R[32], gh[32] = {0}, e[32];
  double fx = 0.0;
  const int8_t *sic = c->ST + i * N;
  for (int64_t b0 = 0; b0 < N; b0 += PLM_BLOCK) {
    const int64_t b1 = N - b0 < PLM_BLOCK ? N : b0 + PLM_BLOCK;
    const int8_t *s = c->S + b0 * L;
    for (int a = 0; a < q; a++) { l[a] = x[i * q + a]; R[a] = 0.0f; }
    for (int64_t j = 0; j < L; j++) {
      const float *k = Kp[j * q1 + s[j]];
      for (int a = 0; a < q; a++) l[a] += k[a];
    }
    for (int64_t n = b0; n < b1; n++) {
      if (n > b0)
        for (int64_t t = c->cp[n]; t < c->cp[n + 1]; t++) {
          const plm_change ct = c->ch[t];
          const int64_t jq = (int64_t)ct.j * q1;
          const float *ko = Kp[jq + ct.so], *kn = Kp[jq + ct.sn];
          float *go = Gp[jq + ct.so], *rs = Rs + (int64_t)ct.j * 32;
          for (int a = 0; a < q; a++) {
            l[a] += kn[a] - ko[a];
            go[a] += R[a] - rs[a];
            rs[a] = R[a];
          }
        }
      const int si = sic[n];
      if (si == q) continue;
      float mx = l[0];
      for (int a = 1; a < q; a++) mx = l[a] > mx ? l[a] : mx;
      float z = 0.0f;
      for (int a = 0; a < q; a++) z += (e[a] = expf(l[a] - mx));
      const float wn = c->w[n];
      fx -= (double)wn * ((double)l[si] - (double)mx - log((double)z));
      const float sc = wn / z;
      for (int a = 0; a < q; a++) {
        float r = e[a] * sc - (a == si ? wn : 0.0f);
        R[a] += r;
        gh[a] += r;
      }
    }
    s = c->S + (b1 - 1) * L;
    for (int64_t j = 0; j < L; j++) {
      float *g = Gp[j * q1 + s[j]], *rs = Rs + j * 32;
      for (int a = 0; a < q; a++) { g[a] += R[a] - rs[a]; rs[a] = 0.0f; }
    }
  }
  for (int a = 0; a < q; a++) c->GH[i * q + a] = gh[a];
  return fx;
}

/* One evaluation at x (float, np values): returns f, fills g (np floats). */
static double evaluate(plm_ctx *c, const float *x, float *g) {
  const int64_t L = c->L, q1 = c->q + 1;
  const int q = c->q;
  const double lh = c->o->lambda_h, lJ = c->o->lambda_J;
  expand(c, x);
#pragma omp parallel num_threads(c->threads)
  {
#ifdef _OPENMP
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    const float **Kp = c->Kp + (size_t)tid * (size_t)(L * q1);
    float **Gp = c->Gp + (size_t)tid * (size_t)(L * q1);
    float *dummy = c->dummy + (size_t)tid * (size_t)(L * 32);
    float *Rs = c->Rs + (size_t)tid * (size_t)(L * 32);
    float *GB = c->GB + (size_t)tid * (size_t)(L - 1) * (size_t)(q * q);
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = c->site_lo; i < c->site_hi; i++) {
      site_pointers(c, i, x, g, Kp, Gp, dummy, GB);
      memset(Rs, 0, (size_t)(L * 32) * sizeof *Rs);
#if defined(__x86_64__)
      if (c->use_avx512) c->site_fx[i] = site_avx512(c, i, x, Kp, Gp, Rs);
      else
#endif
        c->site_fx[i] = site_portable(c, i, x, Kp, Gp, Rs);
      /* T's blocks (i, .) are read by site i only: they now take its gradient. */
      memcpy(c->T + pair_off(L, q, i, i + 1), GB, (size_t)(L - 1 - i) * (size_t)(q * q) * sizeof *GB);
    }
  }
  if (c->dcount && gather_sites(c, g)) return NAN;
  double nll = 0.0;
  for (int64_t i = 0; i < L; i++) nll += c->site_fx[i];
  double reg_h = 0.0;
  for (int64_t k = 0; k < L * q; k++) {
    const double v = x[k];
    reg_h += v * v;
    g[k] = (float)((double)c->GH[k] + 2.0 * lh * v);
  }
  /* Fold: g(pair i<j) already holds site j's terms; add site i's (in T,
   * transposed) and the regulariser. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (int64_t i = 0; i < L; i++) {
    const int64_t o0 = pair_off(L, q, i, i + 1);
    const float *p = x + L * q + o0, *gt = c->T + o0;
    float *gp = g + L * q + o0;
    double reg = 0.0;
    for (int64_t j = i + 1; j < L; j++, p += q * q, gp += q * q, gt += q * q)
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          const double v = p[a * q + b];
          reg += v * v;
          gp[a * q + b] = (float)((double)gp[a * q + b] + (double)gt[b * q + a] + 2.0 * lJ * v);
        }
    c->pair_reg[i] = reg;
  }
  double reg_J = 0.0;
  for (int64_t i = 0; i < L; i++) reg_J += c->pair_reg[i];
  c->neg_loglk = nll;
  c->n_evals++;
  return nll + lh * reg_h + lJ * reg_J;
}

/* The double-precision boundary (sl_plm_objective). */
static double evaluate_d(plm_ctx *c, const double *x, double *g) {
  for (int64_t k = 0; k < c->np; k++) c->xf[k] = (float)x[k];
  const double f = evaluate(c, c->xf, c->gf);
  if (g)
    for (int64_t k = 0; k < c->np; k++) g[k] = c->gf[k];
  return f;
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
  if ((status = ctx_init(&c, msa, w, o, 1, err))) return status;
  *ret_fx = evaluate_d(&c, x, g);
  status = c.dist_failed ? sl_fail(err, SL_EIO, "the exchange between ranks failed") : SL_OK;
  ctx_free(&c);
  return status;
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
  double last_f, last_nll; /* the latest evaluation */
  double acc_f, acc_nll;   /* the latest accepted point's (NAN: none seen) */
} fit_state;

static double fit_eval(void *inst, const float *x, float *g) {
  fit_state *fs = inst;
  fs->last_f = evaluate(fs->c, x, g);
  fs->last_nll = fs->c->neg_loglk;
  return fs->last_f;
}

static double elapsed(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static int fit_progress(void *inst, int k, int n_evals, double fx, double xnorm, double gnorm,
                        double step) {
  (void)n_evals; (void)step;
  fit_state *fs = inst;
  const sl_plm_opts *o = fs->c->o;
  fs->iter = k;
  /* The accepted point is the line search's last evaluation; kept so the
   * report needs no extra evaluation at the end. */
  if (fx == fs->last_f) { fs->acc_f = fx; fs->acc_nll = fs->last_nll; }
  int stop = 0;
  if (o->progress)
    stop = o->progress(o->progress_ctx, k, fs->c->n_evals, fx, gnorm, xnorm, elapsed(&fs->c->t0));
  if (!isnan(o->stop_at) && fx <= o->stop_at) stop = 1;
  return stop;
}

/* Model <- float parameter vector (sl_potts_unpack's float twin). */
static void unpack_float(const float *x, sl_model *m) {
  const int64_t L = m->L;
  const int q = m->q;
  for (int64_t k = 0; k < L * q; k++) m->h[k] = x[k];
  const float *p = x + L * q;
  for (int64_t i = 0; i < L; i++) {
    memset(sl_model_J(m, i, i), 0, (size_t)q * (size_t)q * sizeof(float));
    for (int64_t j = i + 1; j < L; j++, p += q * q) {
      float *Jij = sl_model_J(m, i, j), *Jji = sl_model_J(m, j, i);
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          Jij[a * q + b] = p[a * q + b];
          Jji[b * q + a] = p[a * q + b];
        }
    }
  }
}

int sl_potts_fit_plm(const sl_msa *msa, const double *w, const sl_plm_opts *o, sl_model **ret_m,
                     sl_plm_report *rep, sl_error *err) {
  plm_ctx c;
  sl_model *m = NULL;
  double *f = NULL;
  float *x = NULL, *g = NULL;
  int status;
  *ret_m = NULL;
  memset(rep, 0, sizeof *rep);
  if ((status = check_opts(msa, o, err))) return status;
  if (!(o->epsilon > 0) || o->lbfgs_m < 1 || o->max_iter < 0)
    return sl_fail(err, SL_EUSAGE, "bad L-BFGS settings (epsilon %g, m %d, max_iter %d)", o->epsilon,
                   o->lbfgs_m, o->max_iter);
  if ((status = ctx_init(&c, msa, w, o, 0, err))) return status;
  const int64_t L = c.L, np = c.np;
  const int q = c.q;
  f = malloc((size_t)(L * q) * sizeof *f);
  x = aligned_floats((size_t)np);
  if (!f || !x) {
    status = sl_fail(err, SL_ENOMEM, "out of memory (%lld parameters)", (long long)np);
    goto DONE;
  }
  /* plmc's start: h_i(a) = log(f_i(a) Neff + 1), zero-sum; J = 0. */
  double neff = 0.0;
  for (int64_t n = 0; n < msa->N; n++) neff += w[n];
  if ((status = sl_site_frequencies(msa, w, o->gap_missing, f, err))) goto DONE;
  if (o->init) {
    for (int64_t k = 0; k < np; k++) x[k] = (float)o->init[k];
  } else {
    memset(x, 0, (size_t)np * sizeof *x);
    for (int64_t i = 0; i < L; i++) {
      double sum = 0.0, h[32];
      for (int a = 0; a < q; a++) sum += (h[a] = log(f[i * q + a] * neff + 1.0));
      for (int a = 0; a < q; a++) x[i * q + a] = (float)(h[a] - sum / q);
    }
  }
  free(f);
  f = NULL;
  /* The project's L-BFGS in single precision with libLBFGS's algorithm and
   * defaults (as plmc's float build): (3 + 2m) vectors of np floats, x
   * included, threaded with thread-count-independent results. */
  sl_lbfgs_opts lo;
  sl_lbfgs_opts_init(&lo);
  lo.m = o->lbfgs_m;
  lo.epsilon = o->epsilon;
  lo.max_iter = o->max_iter;
  lo.threads = c.threads;
  sl_lbfgs_result res;
  fit_state fs = {&c, 0, NAN, NAN, NAN, NAN};
  clock_gettime(CLOCK_MONOTONIC, &c.t0);
  status = sl_lbfgs_float(np, x, fit_eval, fit_progress, &fs, &lo, &res, err);
  if (c.dist_failed) status = sl_fail(err, SL_EIO, "the exchange between ranks failed");
  if (status) goto DONE;
  rep->lbfgs_status = res.status;
  rep->lbfgs_message = res.message;
  if (res.status >= SL_LBFGS_LS_MAX_EVALS && res.iterations == 0) {
    status = sl_fail(err, SL_EINTERNAL, "L-BFGS failed before the first iteration: %s", res.message);
    goto DONE;
  }
  /* x is the last accepted point, whose objective res.fx the progress
   * callback saw with its likelihood part; otherwise (no step accepted)
   * evaluate it once more. */
  if (res.fx == fs.acc_f) {
    rep->fx = fs.acc_f;
    rep->neg_loglk = fs.acc_nll;
  } else {
    g = aligned_floats((size_t)np);
    if (!g) { status = sl_fail(err, SL_ENOMEM, "out of memory (%lld parameters)", (long long)np); goto DONE; }
    rep->fx = evaluate(&c, x, g);
    rep->neg_loglk = c.neg_loglk;
    if (c.dist_failed) { status = sl_fail(err, SL_EIO, "the exchange between ranks failed"); goto DONE; }
  }
  rep->iterations = res.iterations;
  rep->evaluations = c.n_evals;
  rep->seconds = elapsed(&c.t0);
  rep->n_params = np;
  free(g);
  g = NULL;
  ctx_free(&c); /* before the model's L^2 q^2 couplings, to keep the peak low */
  m = sl_model_create("potts", L, msa->abc, o->gap_missing);
  if (!m) { status = sl_fail(err, SL_ENOMEM, "out of memory for the model"); goto DONE; }
  unpack_float(x, m);
  m->neff = neff;
  m->n_train = msa->N;
  if ((status = sl_model_prepare(m, err))) goto DONE; /* derived layouts, once (none for potts today) */
  *ret_m = m;
  m = NULL;
DONE:
  sl_model_destroy(m);
  free(f);
  free(x);
  free(g);
  ctx_free(&c);
  return status;
}
