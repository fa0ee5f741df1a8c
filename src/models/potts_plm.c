/* potts_plm.c: Potts model by symmetric pseudo-likelihood (plmc's objective).
 *
 * Contents:
 *   1. Options, presets, parameter packing
 *   2. The evaluation context: rows in chain order, their changes, layouts
 *   3. The group kernel (float terms, double sums) and the evaluation
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
 * fields, then each pair i < j once, J_ij(a, b) a-major. The kernel works on
 * groups of four consecutive sites (PLM_GROUP): for neighbour j and state b
 * a group needs J_ij(., b) for its four sites i, and it keeps them side by
 * side in one vector of W = 4 q floats, state-major (state a of the group's
 * site k in lane 4 a + k): a change of column j is then decoded once for
 * four sites, its rows are whole 512-bit registers (q = 20: 5 of them, no
 * masked lanes), and the softmax of the four sites runs on the same
 * registers (the four values of one state fill one 128-bit lane). The
 * thread that evaluates a group first copies its couplings out of x into
 * that layout (JB, L q vectors: 1 MB for DHFR, which then stays in the
 * core's L2 while the group's rows read it); the group's gradient goes to
 * its own region of KG in the same layout, and the fold adds, for each pair
 * i < j, site i's and site j's terms and the regulariser into g. Missing
 * (gap) states read a zero vector and add nothing, so the loops have no
 * branches. Working memory beyond x and g: KG, L^2 q^2 floats (2 x the
 * couplings: 40 MiB for DHFR; the previous kernel's transposed copy was 1 x),
 * per thread JB (L q W floats), the running sums of one chunk of rows and N
 * x 12 floats of softmax terms, and N L bytes of states.
 *
 * Costs per evaluation, per group of four sites and row: 2 vector loads
 * and adds per changed column for the logits, a softmax of 4 q exponentials
 * in q / 4 registers, a full row every PLM_BLOCK rows; the gradient then in
 * a second pass per chunk of PLM_CHUNK rows, from each run of one state in
 * one column (two loads of running sums, in registers, one store per
 * (column, state) and chunk). DHFR, one thread (load 2-3): the kernel
 * 0.062 s of the 0.085 s evaluation (expanding 0.006, fold 0.017) against
 * 0.172-0.177 s for the one-site kernel alone that it replaced (issue 17,
 * round 6; docs/performance.md). The portable loops (no AVX-512) use the
 * same layout but update the gradient per change, as the one-site kernel
 * did. Once per fit: the chain, O(N^2 L / 64)
 * byte-vector comparisons (0.1 s for DHFR), and the runs.
 *
 * Determinism: every site's objective is summed in double by one thread in
 * chain order, and sites and pairs are combined in index order, so results
 * are identical for any thread count.
 *
 * Ranks (o->dist, seqloop/dist.h): rank r evaluates a contiguous block of
 * groups, then every rank receives from each group's owner exactly what it
 * wrote (its sites' objectives, their field gradient rows, its region of
 * KG); the fold and the optimiser then run on every rank on the one-process
 * bytes, so every rank holds the one-process model. Splitting rows instead
 * would change the order of each site's sums.
 *
 * Rejected: a dense GEMM formulation (one-hot N x Lq times Lq x q per site):
 * q times more arithmetic than the gather, since the one-hot rows are 1/q full.
 * Also measured and rejected, with the earlier full (non-incremental) kernel:
 * a backward pass that sorts each block's rows by state and sums equal-state
 * residuals before one store (the per-state loop overhead made it 25% slower
 * on DHFR), and per-row register accumulation over all neighbours
 * (couplings then stream from L2 for every row: 2x slower than a blocked
 * forward). With the one-site incremental kernel (issue 17, rounds 4-5):
 * masked 512-bit stores for gradient rows of q = 20 floats (3x slower: a
 * load after a masked store to the same address waits for the store);
 * PLM_BLOCK 16 or 64 (within 3%); a column-ordered kernel keeping every
 * coupling row it touches in L1 (no faster as a whole); 2-opt on the chain
 * (34.0 -> 33.2 changes per DHFR row, not worth its O(N^2) passes); a
 * minimum spanning tree instead of the chain (30.6 changes per row, -10%,
 * but the gradient of a tree needs two updates per change). Round 6: groups
 * of 2 and 8 sites (10% and 7% slower than 4 over a whole 10-iteration fit,
 * one thread: 2 amortises less, 8 needs 4 MB of couplings and gradient per
 * group, more than L2).
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

/* Sites evaluated together in one pass over the changes: 4, so that the
 * group's four values of one state fill one 128-bit lane (the softmax below
 * reduces across the four lanes of a 512-bit register, not within them). */
#define PLM_GROUP 4
#define PLM_NV (2 * PLM_GROUP + 1) /* 512-bit registers for a group's vector, tail included (q <= 32) */
#ifndef PLM_CHUNK
#define PLM_CHUNK 2048 /* rows whose running sums are kept for the gradient pass (a multiple of PLM_BLOCK) */
#endif
_Static_assert(PLM_CHUNK % PLM_BLOCK == 0 && PLM_CHUNK <= 65535, "a chunk holds whole blocks; runs index it in 16 bits");

/* A run of one state in one column, within a block of rows: the gradient
 * vector of (column, state) receives R_e - R_s, the running sums of the
 * residuals at the run's last row and before its first (rows of the chunk;
 * PLM_CHUNK stands for zero: the run starts the block). */
typedef struct plm_run {
  uint16_t e, s;
} plm_run;

typedef struct plm_ctx {
  int64_t N, L;        /* distinct rows with nonzero weight (chain order), columns */
  int q;
  int64_t np;          /* parameters: L q fields + pairs */
  int64_t ng;          /* groups of PLM_GROUP consecutive sites (the last may be short) */
  int64_t W;           /* a group's vector: PLM_GROUP q floats, state a of site k at a 4 + k */
  int8_t *S;           /* N*L model states in chain order; q for a missing gap */
  float *w;            /* N weights (identical rows merged: their weights summed) */
  int64_t *cp;         /* N+1: changes of row n against row n-1 are ch[cp[n] .. cp[n+1]) */
  plm_change *ch;      /* 4 bytes each: they stream through the cache once per group */
  int8_t *ST;          /* L*N: S transposed (site i's own states, contiguous) */
  int64_t nchunk;      /* chunks of PLM_CHUNK rows */
  plm_run *run;        /* every run of a non-missing state, by chunk, then (column, state),
                          then chain order: the gradient's additions in the one-pass order */
  int64_t *roff;       /* nchunk L q + 1: runs of chunk u, column j, state b are
                          run[roff[(u L + j) q + b] .. roff[(u L + j) q + b + 1]) */
  float *KG;           /* ng L q vectors of W floats: the gradient of site i = g PLM_GROUP + k
                          for J_ij(a, b) at KG[((g L + j) q + b) W + a PLM_GROUP + k] */
  float *JB;           /* per thread: L q vectors of W floats, the couplings in the same
                          layout for the group at hand (J_ij(a, b); 0 for i = j, beyond L) */
  float *GH;           /* L*q field gradients */
  const float **Kp;    /* per thread: L (q+1) vector pointers into JB (zeros for missing) */
  float **Gp;          /* per thread, portable loops only: L (q+1) vector pointers into the
                          group's gradient (a dummy for missing) */
  float *Rs;           /* per thread, portable loops only: L vectors, R at the start of
                          column j's run */
  float *Rh;           /* per thread: PLM_CHUNK + 1 vectors, the chunk's running sums R_n
                          (the last one zero) */
  float *LZ;           /* per thread: N PLM_GROUP triples (l_n(s_i), max_a l_n(a), z_n) of the
                          group's softmaxes, whose logs are taken after the rows (below) */
  float *dummy;        /* per thread, portable loops: L vectors that missing states' gradients go to
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
  int64_t grp_lo, grp_hi; /* this rank's groups (all: one process) */
  float *dsend, *drecv; /* ranks > 1: this rank's groups' outputs, all groups' (gather_groups) */
  int64_t *dcount;      /* ranks > 1: bytes from each rank */
  int dist_failed;      /* a collective failed */
} plm_ctx;

/* Zeros for missing states and the padding of a group's vectors. */
static const float zero_vec[PLM_GROUP * 32 + 32] __attribute__((aligned(64)));

static void ctx_free(plm_ctx *c) {
  free(c->S); free(c->w); free(c->cp); free(c->ch); free(c->ST); free(c->Rs); free(c->KG); free(c->JB); free(c->LZ); free(c->Rh); free(c->run); free(c->roff);
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

/* The runs (plm_run) of every chunk, sorted by (column, state) by counting,
 * which keeps each list in chain order. A run ends where its column changes
 * (at the row before) or at its block's last row; it starts after the
 * previous change in its block, or at the block's first row. */
static int build_runs(plm_ctx *c, sl_error *err) {
  const int64_t L = c->L, N = c->N, Lq = L * c->q;
  const int q = c->q;
  c->nchunk = (N + PLM_CHUNK - 1) / PLM_CHUNK;
  c->roff = calloc((size_t)(c->nchunk * Lq + 1), sizeof *c->roff);
  uint16_t *start = malloc((size_t)L * sizeof *start);
  int64_t *fill = malloc((size_t)(c->nchunk * Lq + 1) * sizeof *fill);
  int status = SL_OK;
  if (!c->roff || !start || !fill) { status = sl_fail(err, SL_ENOMEM, "out of memory for the runs"); goto DONE; }
  /* Twice over the rows: count runs per (chunk, column, state), then place them. */
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      int64_t acc = 0;
      for (int64_t k = 0; k <= c->nchunk * Lq; k++) {
        const int64_t n_k = k < c->nchunk * Lq ? c->roff[k] : 0;
        c->roff[k] = fill[k] = acc;
        acc += n_k;
      }
      c->run = malloc((size_t)(acc ? acc : 1) * sizeof *c->run);
      if (!c->run) { status = sl_fail(err, SL_ENOMEM, "out of memory for %lld runs", (long long)acc); goto DONE; }
    }
    for (int64_t n = 0; n < N; n++) {
      const int64_t u = n / PLM_CHUNK, nl = n - u * PLM_CHUNK;
      const int8_t *row = c->S + n * L;
      if (n % PLM_BLOCK == 0)
        for (int64_t j = 0; j < L; j++) start[j] = PLM_CHUNK;
      const int blast = n + 1 == N || (n + 1) % PLM_BLOCK == 0;
      for (int64_t j = 0; j < L; j++) {
        const int s = row[j];
        if (!blast && row[L + j] == s) continue; /* the run goes on */
        if (s != q) {
          const int64_t k = (u * L + j) * q + s;
          if (pass == 0) c->roff[k]++;
          else c->run[fill[k]++] = (plm_run){(uint16_t)nl, start[j]};
        }
        start[j] = (uint16_t)nl;
      }
    }
  }
DONE:
  free(start);
  free(fill);
  return status;
}

/* Ranks: what group g writes in one evaluation, in floats: its sites'
 * objectives (PLM_GROUP doubles), their field gradient rows (PLM_GROUP q)
 * and its gradient vectors (KG's L q vectors of the group). */
static int64_t group_floats(const plm_ctx *c) {
  return PLM_GROUP * (2 + c->q) + c->L * c->q * c->W;
}

static int dist_init(plm_ctx *c, sl_error *err) {
  const sl_dist *d = c->o->dist;
  sl_dist_block(c->ng, d->rank, d->size, &c->grp_lo, &c->grp_hi);
  c->dcount = malloc((size_t)d->size * sizeof *c->dcount);
  c->dsend = malloc((size_t)((c->grp_hi - c->grp_lo) * group_floats(c) + 1) * sizeof(float));
  c->drecv = malloc((size_t)(c->ng * group_floats(c)) * sizeof(float));
  if (!c->dcount || !c->dsend || !c->drecv)
    return sl_fail(err, SL_ENOMEM, "out of memory for the exchange between ranks (%.1f GB)",
                   (double)c->ng * (double)group_floats(c) * 4e-9);
  for (int r = 0; r < d->size; r++) {
    int64_t lo, hi;
    sl_dist_block(c->ng, r, d->size, &lo, &hi);
    c->dcount[r] = (hi - lo) * group_floats(c) * (int64_t)sizeof(float);
  }
  return SL_OK;
}

/* Copy n bytes between a group's record in buf and its place in the context:
 * into buf when out, else out of it. */
static void xfer(float *buf, void *mem, size_t n, int out) {
  if (out) memcpy(buf, mem, n);
  else memcpy(mem, buf, n);
}

/* Group g's record (group_floats(c) floats, the layout above) to or from
 * rec; one walk for both directions, so packing and unpacking cannot
 * disagree. A short last group sends padding in its absent sites' places. */
static void group_record(plm_ctx *c, int64_t g, float *rec, int out) {
  const int64_t L = c->L, q = c->q, i0 = g * PLM_GROUP;
  const int64_t nk = L - i0 < PLM_GROUP ? L - i0 : PLM_GROUP;
  xfer(rec, &c->site_fx[i0], (size_t)nk * sizeof(double), out);
  xfer(rec + 2 * PLM_GROUP, c->GH + i0 * q, (size_t)(nk * q) * sizeof *rec, out);
  rec += PLM_GROUP * (2 + q);
  xfer(rec, c->KG + g * L * q * c->W, (size_t)(L * q * c->W) * sizeof *rec, out);
}

/* Ranks: every group's outputs from its owner, copied into place (groups in
 * rank order are groups in index order: the blocks are contiguous). */
static int gather_groups(plm_ctx *c) {
  const int64_t per = group_floats(c);
  memset(c->dsend, 0, (size_t)((c->grp_hi - c->grp_lo) * per) * sizeof *c->dsend);
  for (int64_t g = c->grp_lo; g < c->grp_hi; g++) group_record(c, g, c->dsend + (g - c->grp_lo) * per, 1);
  const sl_dist *d = c->o->dist;
  if (d->allgatherv(d->ctx, c->dsend, c->drecv, c->dcount) != 0) {
    c->dist_failed = 1;
    return -1;
  }
  for (int64_t g = 0; g < c->ng; g++)
    if (g < c->grp_lo || g >= c->grp_hi) group_record(c, g, c->drecv + g * per, 0); /* ours: in place */
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
  c->ng = (L + PLM_GROUP - 1) / PLM_GROUP;
  c->W = (int64_t)PLM_GROUP * q;
  const int64_t W = c->W;
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
  if ((status = chain_rows(c, S0, w0, n0, err)) || (status = build_runs(c, err))) goto FAIL;
  free(S0); free(w0); S0 = NULL; w0 = NULL;
  const size_t nkg = (size_t)c->ng * (size_t)(L * q) * (size_t)W;
  c->KG = aligned_floats(nkg);
  c->JB = aligned_floats((size_t)c->threads * (size_t)(L * q) * (size_t)W);
  c->GH = aligned_floats((size_t)(L * q));
  c->Kp = malloc((size_t)c->threads * (size_t)(L * q1) * sizeof *c->Kp);
  c->Gp = malloc((size_t)c->threads * (size_t)(L * q1) * sizeof *c->Gp);
  c->dummy = aligned_floats((size_t)c->threads * (size_t)L * (size_t)((W + 15) / 16 * 16));
  c->Rs = aligned_floats((size_t)c->threads * (size_t)L * (size_t)((W + 15) / 16 * 16));
  c->Rh = aligned_floats((size_t)c->threads * (PLM_CHUNK + 1) * (size_t)((W + 15) / 16 * 16));
  c->LZ = aligned_floats((size_t)c->threads * (size_t)(c->N ? c->N : 1) * PLM_GROUP * 3);
  c->site_fx = malloc((size_t)L * sizeof *c->site_fx);
  c->pair_reg = malloc((size_t)L * sizeof *c->pair_reg);
  if (need_xg) {
    c->xf = aligned_floats((size_t)c->np);
    c->gf = aligned_floats((size_t)c->np);
  }
  c->grp_lo = 0;
  c->grp_hi = c->ng;
  if (sl_dist_ranks(o->dist) > 1 && (status = dist_init(c, err))) goto FAIL;
  if (!c->KG || !c->JB || !c->LZ || !c->Rh || !c->GH || !c->Kp || !c->Gp || !c->dummy || !c->Rs || !c->site_fx || !c->pair_reg ||
      (need_xg && (!c->xf || !c->gf))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory for a Potts model of %lld x %lld x %d states "
                     "(%.1f GB of working space)", (long long)msa->N, (long long)L, q,
                     (double)nkg * 4.0 / 1e9);
    goto FAIL;
  }
  return SL_OK;
FAIL:
  free(S0); free(w0);
  ctx_free(c);
  return status;
}

/* Group g's couplings into JB: for neighbour j and state b, the vector of
 * J_ij(., b) over the group's sites i (lane 4 a + k), read from pair (j, i) of x
 * (row b, contiguous) for j < i and from pair (i, j) (column b) for j > i;
 * zeros for i = j and for sites beyond L. Done by the thread that evaluates
 * the group, right before, so the 1 MB (DHFR) it then reads at random is
 * still in that core's L2 (expanding all groups first, to memory, and
 * copying each group's gradient out of a thread buffer afterwards was no
 * faster at one thread and moves 80 MB more per DHFR evaluation). */
static void expand_group(const plm_ctx *c, int64_t g, const float *x, float *JB) {
  const int64_t L = c->L, W = c->W, i0 = g * PLM_GROUP;
  const int q = c->q, q4 = q / 4 * 4;
  const float *xp = x + L * q;
  for (int64_t j = 0; j < L; j++) {
    float *v = JB + j * q * W;
#if defined(__x86_64__)
    /* A neighbour outside a full group: the four sites' rows (j before the
     * group) or columns (j after it) interleaved by 4 x 4 transposes (SSE,
     * in every x86-64); the scalar loops below do the rest. */
    if (i0 + PLM_GROUP <= L && (j < i0 || j >= i0 + PLM_GROUP)) {
      const float *P[PLM_GROUP];
      for (int k = 0; k < PLM_GROUP; k++)
        P[k] = xp + (j < i0 ? pair_off(L, q, j, i0 + k) : pair_off(L, q, i0 + k, j));
      for (int r = 0; r < q; r++) /* j < i0: r is b, t the state a; else r is a, t the state b */
        for (int t = 0; t < q; t++) {
          if (t < q4 && t % 4 == 0) {
            __m128 r0 = _mm_loadu_ps(P[0] + r * q + t), r1 = _mm_loadu_ps(P[1] + r * q + t);
            __m128 r2 = _mm_loadu_ps(P[2] + r * q + t), r3 = _mm_loadu_ps(P[3] + r * q + t);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            if (j < i0) { /* v[b W + 4 a + k] = P_k[b q + a], a = t..t+3 */
              float *o = v + r * W + 4 * t;
              _mm_storeu_ps(o, r0); _mm_storeu_ps(o + 4, r1); _mm_storeu_ps(o + 8, r2); _mm_storeu_ps(o + 12, r3);
            } else { /* v[b W + 4 a + k] = P_k[a q + b], b = t..t+3 */
              float *o = v + t * W + 4 * r;
              _mm_storeu_ps(o, r0); _mm_storeu_ps(o + W, r1); _mm_storeu_ps(o + 2 * W, r2); _mm_storeu_ps(o + 3 * W, r3);
            }
            t += 3;
            continue;
          }
          for (int k = 0; k < PLM_GROUP; k++) {
            if (j < i0) v[r * W + 4 * t + k] = P[k][r * q + t];
            else v[t * W + 4 * r + k] = P[k][r * q + t];
          }
        }
      continue;
    }
#endif
    for (int k = 0; k < PLM_GROUP; k++) {
      const int64_t i = i0 + k;
      if (i >= L || i == j) {
        for (int b = 0; b < q; b++)
          for (int a = 0; a < q; a++) v[b * W + a * PLM_GROUP + k] = 0.0f;
      } else if (j < i) {
        const float *p = xp + pair_off(L, q, j, i);
        for (int b = 0; b < q; b++)
          for (int a = 0; a < q; a++) v[b * W + a * PLM_GROUP + k] = p[b * q + a];
      } else {
        const float *p = xp + pair_off(L, q, i, j);
        for (int b = 0; b < q; b++)
          for (int a = 0; a < q; a++) v[b * W + a * PLM_GROUP + k] = p[a * q + b];
      }
    }
  }
}

/* Group g's vector pointers: Kp[j (q+1) + s] is the vector J_ij(., s) over
 * the group's sites (in JB), Gp the same entry of the group's gradient in
 * KG (for the portable loops); missing states read zeros and write the
 * thread's dummy vector of column j, so the kernels have no branches. */
static void group_pointers(const plm_ctx *c, int64_t g, const float **Kp, float **Gp, float *dummy,
                           const float *JB) {
  const int64_t L = c->L, W = c->W;
  const int q = c->q, q1 = q + 1;
  float *G = c->KG + g * L * q * W;
  for (int64_t j = 0; j < L; j++) {
    for (int s = 0; s < q; s++) {
      Kp[j * q1 + s] = JB + (j * q + s) * W;
      Gp[j * q1 + s] = G + (j * q + s) * W;
    }
    Kp[j * q1 + q] = zero_vec;
    Gp[j * q1 + q] = dummy + j * W;
  }
}

/* A group's fields, x[i q + a] in the group's layout, zeros beyond L. */
static void group_fields(const plm_ctx *c, int64_t g, const float *x, float *h) {
  const int64_t i0 = g * PLM_GROUP, nk = c->L - i0 < PLM_GROUP ? c->L - i0 : PLM_GROUP;
  memset(h, 0, (size_t)c->W * sizeof *h);
  for (int64_t k = 0; k < nk; k++)
    for (int a = 0; a < c->q; a++) h[a * PLM_GROUP + k] = x[(i0 + k) * c->q + a];
}

/* 3. The group kernel -------------------------------------------------------
 * Rows are visited in chain order, four sites at once (a group's vector,
 * section 2), in chunks of PLM_CHUNK rows (2048: each chunk's gradient pass
 * reloads the group's gradient vectors, which compete with its couplings
 * for L2; kernel per evaluation, one thread, chunks of 512 / 2048 / 4096
 * rows: DHFR 0.068 / 0.062 / 0.064 s, BLAT_ECOLX 0.326 / 0.290 / 0.289 s).
 * Forward: the logits of row n at
 * site i are those of row n-1 plus, for each column j that changed,
 * J_ij(., new) - J_ij(., old); every PLM_BLOCK rows they are recomputed in
 * full (h_i plus all L rows), which bounds the rounding drift. Then the
 * softmax gives the weighted negative log-likelihood and the residual r_n =
 * w_n (P - e_{s_i}), and R_n, the running sum of r since the block's first
 * row, is kept for every row of the chunk. Gradient: the vector of (column
 * j, state b) receives, for each run of rows of its block where s_j = b,
 * the run's residual sum R_last - R_before-first (zero before a block's
 * first row). The runs are listed once per fit by chunk, (column, state)
 * and chain order (build_runs), so each vector sums its runs in registers
 * and is stored once per chunk: the one-site kernel before it did a
 * read-modify-write of a gradient row and of a run-start table per change,
 * which bound it to the core's L2 bandwidth. Rows whose site i is a missing
 * gap get r = 0. */
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

/* One group's evaluation. A group's vector is NF full registers and a tail
 * of TL lanes (q = 20: 5 and 0; q = 21: 5 and 4). Inlined once per common
 * alphabet size (q = 20, gaps missing; q = 21) and once for any q, so that
 * the loop bounds fold away and the group's logits and running sums stay in
 * registers; the arithmetic is the same in every instance. fx receives the
 * group's sites' objectives, gh their field gradients (lane 4 a + k). */
__attribute__((target("avx512f"), always_inline))
static inline void group_avx512_q(const plm_ctx *c, int64_t g, const float *h, const float **Kp,
                                  float *G, float *Rh, float *LZ, double *fx, float *gh, const int q) {
  const int64_t L = c->L, N = c->N, i0 = g * PLM_GROUP;
  const int nk = (int)(L - i0 < PLM_GROUP ? L - i0 : PLM_GROUP);
  const int q1 = q + 1, W = PLM_GROUP * q, NF = W / 16, TL = W % 16, RW = (W + 15) / 16 * 16;
  const plm_change *const ch = c->ch;
  const int64_t *const cp = c->cp;
  const __mmask16 mt = (__mmask16)((1u << TL) - 1u);
  const __m512 ninf = _mm512_set1_ps(-INFINITY), zero = _mm512_setzero_ps();
  /* State of each lane of register v: 4 v + lane / 4 (state-major, site-minor). */
  const __m512i lane_state = _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 2);
  __m512 hv[PLM_NV], ghv[PLM_NV], l[PLM_NV], R[PLM_NV];
  for (int v = 0; v < PLM_NV; v++) hv[v] = ghv[v] = l[v] = R[v] = zero; /* the generic instance's NF varies */
#pragma GCC unroll 17
  for (int v = 0; v <= NF; v++) hv[v] = v < NF ? _mm512_loadu_ps(h + 16 * v) : LD(mt, h + 16 * v);
  float lb[PLM_GROUP * 32 + 32] __attribute__((aligned(64)));
  float mzb[8] __attribute__((aligned(32)));
  const int8_t *sic[PLM_GROUP];
  for (int k = 0; k < PLM_GROUP; k++) {
    sic[k] = c->ST + (i0 + (k < nk ? k : 0)) * N;
    fx[k] = 0.0;
  }
#pragma GCC unroll 17
  for (int v = 0; v < RW / 16; v++) _mm512_store_ps(Rh + PLM_CHUNK * RW + 16 * v, zero);
  for (int64_t u = 0; u * PLM_CHUNK < N; u++) {
    const int64_t c0 = u * PLM_CHUNK, c1 = N - c0 < PLM_CHUNK ? N : c0 + PLM_CHUNK;
    /* Forward over the chunk's rows: logits, softmax, running sums R_n into Rh. */
    for (int64_t b0 = c0; b0 < c1; b0 += PLM_BLOCK) {
      const int64_t b1 = c1 - b0 < PLM_BLOCK ? c1 : b0 + PLM_BLOCK;
#pragma GCC unroll 17
      for (int v = 0; v <= NF; v++) { l[v] = hv[v]; R[v] = zero; }
      {
        const int8_t *s = c->S + b0 * L;
        for (int64_t j = 0; j < L; j++) {
          const float *kv = Kp[j * q1 + s[j]];
#pragma GCC unroll 17
          for (int v = 0; v < NF; v++) l[v] = _mm512_add_ps(l[v], _mm512_loadu_ps(kv + 16 * v));
          if (TL) l[NF] = _mm512_add_ps(l[NF], LD(mt, kv + 16 * NF));
        }
      }
      for (int64_t n = b0; n < b1; n++) {
        if (n > b0)
          for (int64_t t = cp[n], te = cp[n + 1]; t < te; t++) {
            const plm_change ct = ch[t];
            const int64_t jq = (int64_t)ct.j * q1;
            const float *ko = Kp[jq + ct.so], *kn = Kp[jq + ct.sn];
#pragma GCC unroll 17
            for (int v = 0; v < NF; v++)
              l[v] = _mm512_add_ps(l[v], _mm512_sub_ps(_mm512_loadu_ps(kn + 16 * v), _mm512_loadu_ps(ko + 16 * v)));
            if (TL) l[NF] = _mm512_add_ps(l[NF], _mm512_sub_ps(LD(mt, kn + 16 * NF), LD(mt, ko + 16 * NF)));
          }
        /* The softmax of the four sites at once: maxima and sums over the
         * states are sums over registers, then over the four 128-bit lanes. */
        int si[PLM_GROUP];
        float wk[PLM_GROUP];
        for (int k = 0; k < PLM_GROUP; k++) {
          si[k] = k < nk ? sic[k][n] : q;
          wk[k] = si[k] == q ? 0.0f : c->w[n]; /* missing (or beyond L): r = 0 */
        }
        __m512 mx = ninf;
#pragma GCC unroll 17
        for (int v = 0; v < NF; v++) mx = _mm512_max_ps(mx, l[v]);
        if (TL) mx = _mm512_max_ps(mx, _mm512_mask_mov_ps(ninf, mt, l[NF]));
        mx = _mm512_max_ps(mx, _mm512_shuffle_f32x4(mx, mx, 0x4E));
        mx = _mm512_max_ps(mx, _mm512_shuffle_f32x4(mx, mx, 0xB1));
        /* The normaliser z summed in double (then rounded once). DHFR fits
         * of 100 iterations under five rounding perturbations (PLM_BLOCK 8
         * to 128) ended, mean +- standard error, at 165,871.9 +- 6.4 with
         * this sum, 165,894.7 +- 3.1 with z summed in float in this
         * kernel's order, and 165,881.0 +- 4.0 with the one-site kernel's
         * float order (docs/performance.md, round 6); no slower. */
        __m512 e[PLM_NV];
        __m512d zlo = _mm512_setzero_pd(), zhi = _mm512_setzero_pd();
#pragma GCC unroll 17
        for (int v = 0; v < NF; v++) {
          e[v] = exp_avx512(_mm512_sub_ps(l[v], mx));
          zlo = _mm512_add_pd(zlo, _mm512_cvtps_pd(_mm512_castps512_ps256(e[v])));
          zhi = _mm512_add_pd(zhi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e[v]), 1))));
        }
        if (TL) {
          e[NF] = _mm512_maskz_mov_ps(mt, exp_avx512(_mm512_sub_ps(l[NF], mx)));
          zlo = _mm512_add_pd(zlo, _mm512_cvtps_pd(_mm512_castps512_ps256(e[NF])));
          zhi = _mm512_add_pd(zhi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e[NF]), 1))));
        }
        zlo = _mm512_add_pd(zlo, zhi);                                 /* states 4v + {0,2} and {1,3} */
        zlo = _mm512_add_pd(zlo, _mm512_shuffle_f64x2(zlo, zlo, 0x4E)); /* all four, per site, twice */
        __m512 z = _mm512_broadcast_f32x4(_mm512_castps512_ps128(_mm512_castps256_ps512(_mm512_cvtpd_ps(zlo))));
        const __m512 wv = _mm512_broadcast_f32x4(_mm_loadu_ps(wk));
        const __m512 sc = _mm512_div_ps(wv, z);
        const __m512i sv = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)si));
        float *rn = Rh + (n - c0) * RW;
#pragma GCC unroll 17
        for (int v = 0; v < RW / 16; v++) {
          _mm512_store_ps(lb + 16 * v, l[v]);
          const __mmask16 hit = _mm512_cmpeq_epi32_mask(_mm512_add_epi32(lane_state, _mm512_set1_epi32(4 * v)), sv);
          __m512 r = _mm512_mul_ps(e[v], sc);
          r = _mm512_mask_sub_ps(r, hit, r, wv);
          R[v] = _mm512_add_ps(R[v], r);
          ghv[v] = _mm512_add_ps(ghv[v], r);
          _mm512_store_ps(rn + 16 * v, R[v]);
        }
        _mm_store_ps(mzb, _mm512_castps512_ps128(mx));
        _mm_store_ps(mzb + 4, _mm512_castps512_ps128(z));
        for (int k = 0; k < PLM_GROUP; k++) {
          float *lz = LZ + (n * PLM_GROUP + k) * 3;
          if (wk[k] == 0.0f) { lz[2] = 0.0f; continue; } /* no term (a zero weight adds none either) */
          lz[0] = lb[si[k] * PLM_GROUP + k];
          lz[1] = mzb[k];
          lz[2] = mzb[4 + k];
        }
      }
    }
    /* Gradient: each (column, state) vector takes its runs' sums in chain
     * order, in registers, with one load and one store per chunk. */
    const plm_run *const run = c->run;
    const int64_t *ro = c->roff + u * L * q;
    for (int64_t jb = 0; jb < L * q; jb++) {
      const int64_t t0 = ro[jb], t1 = ro[jb + 1];
      if (t0 == t1 && u > 0) continue;
      float *gv = G + jb * W;
      __m512 acc[PLM_NV];
#pragma GCC unroll 17
      for (int v = 0; v <= NF; v++) /* the first chunk writes every vector: G needs no clearing */
        acc[v] = u == 0 ? zero : v < NF ? _mm512_loadu_ps(gv + 16 * v) : LD(mt, gv + 16 * v);
      for (int64_t t = t0; t < t1; t++) {
        const float *re = Rh + (int64_t)run[t].e * RW, *rs = Rh + (int64_t)run[t].s * RW;
#pragma GCC unroll 17
        for (int v = 0; v < RW / 16; v++)
            acc[v] = _mm512_add_ps(acc[v], _mm512_sub_ps(_mm512_load_ps(re + 16 * v), _mm512_load_ps(rs + 16 * v)));
      }
#pragma GCC unroll 17
      for (int v = 0; v < NF; v++) _mm512_storeu_ps(gv + 16 * v, acc[v]);
      if (TL) _mm512_mask_storeu_ps(gv + 16 * NF, mt, acc[NF]);
    }
  }
#pragma GCC unroll 17
  for (int v = 0; v <= NF; v++) _mm512_storeu_ps(gh + 16 * v, ghv[v]);
  /* The objective, in row order as if summed inside the row loop: a call
   * to log() there made the compiler spill and reload every live 512-bit
   * register (logits, running sums, fields) around it, once per site and
   * row. */
  for (int k = 0; k < nk; k++)
    for (int64_t n = 0; n < N; n++) {
      const float *lz = LZ + (n * PLM_GROUP + k) * 3;
      if (lz[2] == 0.0f) continue; /* missing */
      fx[k] -= (double)c->w[n] * ((double)lz[0] - (double)lz[1] - log((double)lz[2]));
    }
}
__attribute__((target("avx512f")))
static void group_avx512(const plm_ctx *c, int64_t g, const float *h, const float **Kp, float *G,
                         float *Rh, float *LZ, double *fx, float *gh) {
  if (c->q == 20) group_avx512_q(c, g, h, Kp, G, Rh, LZ, fx, gh, 20);
  else if (c->q == 21) group_avx512_q(c, g, h, Kp, G, Rh, LZ, fx, gh, 21);
  else group_avx512_q(c, g, h, Kp, G, Rh, LZ, fx, gh, c->q);
}
#undef LD
#endif

/* The same computation in plain loops (other machines; o->portable). */
static void group_portable(const plm_ctx *c, int64_t g, const float *h, const float **Kp, float **Gp,
                           float *Rs, double *fx, float *gh) {
  const int64_t L = c->L, N = c->N, i0 = g * PLM_GROUP, W = c->W, RW = (W + 15) / 16 * 16;
  const int nk = (int)(L - i0 < PLM_GROUP ? L - i0 : PLM_GROUP);
  const int q = c->q, q1 = q + 1;
  float l[PLM_GROUP * 32], R[PLM_GROUP * 32], e[32];
  for (int64_t v = 0; v < W; v++) gh[v] = 0.0f;
  for (int k = 0; k < PLM_GROUP; k++) fx[k] = 0.0;
  for (int64_t b0 = 0; b0 < N; b0 += PLM_BLOCK) {
    const int64_t b1 = N - b0 < PLM_BLOCK ? N : b0 + PLM_BLOCK;
    const int8_t *s = c->S + b0 * L;
    for (int64_t v = 0; v < W; v++) { l[v] = h[v]; R[v] = 0.0f; }
    for (int64_t j = 0; j < L; j++) {
      const float *kv = Kp[j * q1 + s[j]];
      for (int64_t v = 0; v < W; v++) l[v] += kv[v];
    }
    for (int64_t n = b0; n < b1; n++) {
      if (n > b0)
        for (int64_t t = c->cp[n]; t < c->cp[n + 1]; t++) {
          const plm_change ct = c->ch[t];
          const int64_t jq = (int64_t)ct.j * q1;
          const float *ko = Kp[jq + ct.so], *kn = Kp[jq + ct.sn];
          float *go = Gp[jq + ct.so], *rs = Rs + (int64_t)ct.j * RW;
          for (int64_t v = 0; v < W; v++) {
            l[v] += kn[v] - ko[v];
            go[v] += R[v] - rs[v];
            rs[v] = R[v];
          }
        }
      const float wn = c->w[n];
      for (int k = 0; k < nk; k++) {
        const int si = c->ST[(i0 + k) * N + n];
        if (si == q) continue;
        const float *lk = l + k; /* state a at lk[a PLM_GROUP] */
        float mx = lk[0];
        for (int a = 1; a < q; a++) mx = lk[a * PLM_GROUP] > mx ? lk[a * PLM_GROUP] : mx;
        float z = 0.0f;
        for (int a = 0; a < q; a++) z += (e[a] = expf(lk[a * PLM_GROUP] - mx));
        fx[k] -= (double)wn * ((double)lk[si * PLM_GROUP] - (double)mx - log((double)z));
        const float sc = wn / z;
        for (int a = 0; a < q; a++) {
          float r = e[a] * sc - (a == si ? wn : 0.0f);
          R[a * PLM_GROUP + k] += r;
          gh[a * PLM_GROUP + k] += r;
        }
      }
    }
    s = c->S + (b1 - 1) * L;
    for (int64_t j = 0; j < L; j++) {
      float *go = Gp[j * q1 + s[j]], *rs = Rs + j * RW;
      for (int64_t v = 0; v < W; v++) { go[v] += R[v] - rs[v]; rs[v] = 0.0f; }
    }
  }
}

/* Pair (i, j)'s gradient and the sum of its squared couplings (4 chains):
 * g(a, b) = site j's term Gj[a W + 4 b] + site i's term Gi[b W + 4 a] +
 * 2 lambda_J x(a, b), in double as the portable loop below does. */
#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void fold_pair_avx512(const float *p, float *gp, const float *Gi, const float *Gj, int q, int64_t W,
                             double lJ, double *r4) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512d two_l = _mm512_set1_pd(2.0 * lJ);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (int a = 0; a < q; a++)
    for (int b0 = 0; b0 < q; b0 += 16) {
      const __mmask16 m = (__mmask16)(q - b0 >= 16 ? 0xFFFFu : (1u << (q - b0)) - 1u);
      const __m512i b = _mm512_add_epi32(lane, _mm512_set1_epi32(b0));
      const __m512 tj = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_slli_epi32(b, 2), Gj + a * W, 4);
      const __m512 ti = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                                 _mm512_mullo_epi32(b, _mm512_set1_epi32((int)W)), Gi + 4 * a, 4);
      const __m512 pv = _mm512_maskz_loadu_ps(m, p + a * q + b0);
      __m256 out[2];
#define HALF(z, h) ((h) ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z), 1)) : _mm512_castps512_ps256(z))
      for (int h = 0; h < 2; h++) {
        const __m512d v = _mm512_cvtps_pd(HALF(pv, h));
        const __m512d gj = _mm512_cvtps_pd(HALF(tj, h));
        const __m512d gi = _mm512_cvtps_pd(HALF(ti, h));
        out[h] = _mm512_cvtpd_ps(_mm512_add_pd(_mm512_add_pd(gj, gi), _mm512_mul_pd(two_l, v)));
        if (h) acc1 = _mm512_add_pd(acc1, _mm512_mul_pd(v, v));
        else acc0 = _mm512_add_pd(acc0, _mm512_mul_pd(v, v));
      }
#undef HALF
      _mm512_mask_storeu_ps(gp + a * q + b0, m,
                            _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(out[0])),
                                                                _mm256_castps_pd(out[1]), 1)));
    }
  double t[16] __attribute__((aligned(64)));
  _mm512_store_pd(t, acc0);
  _mm512_store_pd(t + 8, acc1);
  for (int k = 0; k < 16; k++) r4[k & 3] += t[k];
}
#endif

#if defined(__x86_64__)
/* The 16 pairs (i0 + ki, j0 + kj) of two full groups gi < gj at once: for
 * each state a, site i's terms of the four columns j (vectors b of blocks
 * (gi, j), lanes 4 a + ki) and site j's terms of the four columns i (vector
 * a of blocks (gj, i), lanes 4 b + kj) are untangled by 4 x 4 transposes
 * into rows over b, then combined as fold_pair does, 8 doubles at a time
 * (DHFR, per evaluation and thread: 17 ms for the whole fold, 19 ms with
 * fold_pair's gathers for every pair). */
__attribute__((target("avx512f")))
static void fold_tile_avx512(const plm_ctx *c, int64_t gi, int64_t gj, const float *x, float *g, double lJ,
                             double r4[PLM_GROUP][4]) {
  const int64_t L = c->L, W = c->W, i0 = gi * PLM_GROUP, j0 = gj * PLM_GROUP;
  const int q = c->q, q4 = q / 4 * 4;
  float TI[PLM_GROUP][PLM_GROUP][32] __attribute__((aligned(64))); /* [kj][ki][b] */
  float TJ[PLM_GROUP][32] __attribute__((aligned(64)));            /* [kj][b], for one ki */
  const float *BI[PLM_GROUP], *BJ[PLM_GROUP];
  float *gp[PLM_GROUP][PLM_GROUP];
  const float *xp[PLM_GROUP][PLM_GROUP];
  for (int k = 0; k < PLM_GROUP; k++) {
    BI[k] = c->KG + (gi * L + j0 + k) * q * W; /* site i's terms of column j0 + k: [b W + 4 a + ki] */
    BJ[k] = c->KG + (gj * L + i0 + k) * q * W; /* site j's terms of column i0 + k: [a W + 4 b + kj] */
    for (int m = 0; m < PLM_GROUP; m++) {
      const int64_t o = L * q + pair_off(L, q, i0 + k, j0 + m);
      gp[k][m] = g + o;
      xp[k][m] = x + o;
    }
  }
  const __m512d two_l = _mm512_set1_pd(2.0 * lJ);
  __m512d acc[PLM_GROUP];
  for (int k = 0; k < PLM_GROUP; k++) acc[k] = _mm512_setzero_pd();
  for (int a = 0; a < q; a++) {
    for (int kj = 0; kj < PLM_GROUP; kj++) {
      const float *bi = BI[kj] + 4 * a;
      int b = 0;
      for (; b < q4; b += 4) {
        __m128 r0 = _mm_loadu_ps(bi + b * W), r1 = _mm_loadu_ps(bi + (b + 1) * W);
        __m128 r2 = _mm_loadu_ps(bi + (b + 2) * W), r3 = _mm_loadu_ps(bi + (b + 3) * W);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_store_ps(TI[kj][0] + b, r0); _mm_store_ps(TI[kj][1] + b, r1);
        _mm_store_ps(TI[kj][2] + b, r2); _mm_store_ps(TI[kj][3] + b, r3);
      }
      for (; b < q; b++)
        for (int ki = 0; ki < PLM_GROUP; ki++) TI[kj][ki][b] = bi[b * W + ki];
    }
    for (int ki = 0; ki < PLM_GROUP; ki++) {
      const float *bj = BJ[ki] + a * W;
      int b = 0;
      for (; b < q4; b += 4) {
        __m128 r0 = _mm_loadu_ps(bj + 4 * b), r1 = _mm_loadu_ps(bj + 4 * b + 4);
        __m128 r2 = _mm_loadu_ps(bj + 4 * b + 8), r3 = _mm_loadu_ps(bj + 4 * b + 12);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_store_ps(TJ[0] + b, r0); _mm_store_ps(TJ[1] + b, r1);
        _mm_store_ps(TJ[2] + b, r2); _mm_store_ps(TJ[3] + b, r3);
      }
      for (; b < q; b++)
        for (int kj = 0; kj < PLM_GROUP; kj++) TJ[kj][b] = bj[4 * b + kj];
      for (int kj = 0; kj < PLM_GROUP; kj++) {
        const float *pv = xp[ki][kj] + a * q;
        float *gv = gp[ki][kj] + a * q;
        for (int b0 = 0; b0 < q; b0 += 8) {
          const __mmask8 m = (__mmask8)(q - b0 >= 8 ? 0xFFu : (1u << (q - b0)) - 1u);
#define LD8(p) _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_maskz_loadu_ps((__mmask16)m, (p))))
          const __m512d v = LD8(pv + b0), tj = LD8(TJ[kj] + b0), ti = LD8(TI[kj][ki] + b0);
#undef LD8
          _mm512_mask_storeu_ps(gv + b0, (__mmask16)m, _mm512_castps256_ps512(_mm512_cvtpd_ps(
                                    _mm512_add_pd(_mm512_add_pd(tj, ti), _mm512_mul_pd(two_l, v)))));
          acc[ki] = _mm512_add_pd(acc[ki], _mm512_mul_pd(v, v));
        }
      }
    }
  }
  double t[8] __attribute__((aligned(64)));
  for (int k = 0; k < PLM_GROUP; k++) {
    _mm512_store_pd(t, acc[k]);
    for (int l = 0; l < 8; l++) r4[k][l & 3] += t[l];
  }
}
#endif

static void fold_pair(const plm_ctx *c, const float *p, float *gp, const float *Gi, const float *Gj, double lJ,
                      double *r4) {
  const int q = c->q;
  const int64_t W = c->W;
#if defined(__x86_64__)
  if (c->use_avx512) { fold_pair_avx512(p, gp, Gi, Gj, q, W, lJ, r4); return; }
#endif
  for (int a = 0; a < q; a++)
    for (int b = 0; b < q; b++) {
      const double v = p[a * q + b];
      r4[b & 3] += v * v;
      gp[a * q + b] = (float)((double)Gj[a * W + b * PLM_GROUP] + (double)Gi[b * W + a * PLM_GROUP] + 2.0 * lJ * v);
    }
}

/* One evaluation at x (float, np values): returns f, fills g (np floats). */
static double evaluate(plm_ctx *c, const float *x, float *g) {
  const int64_t L = c->L, q1 = c->q + 1, W = c->W, RW = (W + 15) / 16 * 16;
  const int q = c->q;
  const double lh = c->o->lambda_h, lJ = c->o->lambda_J;
#pragma omp parallel num_threads(c->threads)
  {
#ifdef _OPENMP
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    const float **Kp = c->Kp + (size_t)tid * (size_t)(L * q1);
    float **Gp = c->Gp + (size_t)tid * (size_t)(L * q1);
    float *dummy = c->dummy + (size_t)tid * (size_t)(L * RW);
    float *Rs = c->Rs + (size_t)tid * (size_t)(L * RW);
    float *JB = c->JB + (size_t)tid * (size_t)(L * q * W);
    float *LZ = c->LZ + (size_t)tid * (size_t)c->N * PLM_GROUP * 3;
    float *Rh = c->Rh + (size_t)tid * (PLM_CHUNK + 1) * (size_t)RW;
    float h[PLM_GROUP * 32 + 16] __attribute__((aligned(64)));
    float gh[PLM_GROUP * 32 + 16] __attribute__((aligned(64)));
    double fx[PLM_GROUP];
#pragma omp for schedule(dynamic, 1)
    for (int64_t gi = c->grp_lo; gi < c->grp_hi; gi++) {
      expand_group(c, gi, x, JB);
      group_pointers(c, gi, Kp, Gp, dummy, JB);
      group_fields(c, gi, x, h);
#if defined(__x86_64__)
      if (c->use_avx512) group_avx512(c, gi, h, Kp, c->KG + gi * L * q * W, Rh, LZ, fx, gh);
      else
#endif
      { /* the portable loops add into the group's gradient and the run-start table */
        memset(c->KG + gi * L * q * W, 0, (size_t)(L * q * W) * sizeof *c->KG);
        memset(Rs, 0, (size_t)(L * RW) * sizeof *Rs);
        group_portable(c, gi, h, Kp, Gp, Rs, fx, gh);
      }
      const int64_t i0 = gi * PLM_GROUP;
      for (int64_t k = 0; k < PLM_GROUP && i0 + k < L; k++) {
        c->site_fx[i0 + k] = fx[k];
        for (int a = 0; a < q; a++) c->GH[(i0 + k) * q + a] = gh[a * PLM_GROUP + k];
      }
    }
  }
  if (c->dcount && gather_groups(c)) return NAN;
  double nll = 0.0;
  for (int64_t i = 0; i < L; i++) nll += c->site_fx[i];
  double reg_h = 0.0;
  for (int64_t k = 0; k < L * q; k++) {
    const double v = x[k];
    reg_h += v * v;
    g[k] = (float)((double)c->GH[k] + 2.0 * lh * v);
  }
  /* Fold: pair i < j's gradient is site j's terms (its vectors of column
   * i), plus site i's (its vectors of column j), plus the regulariser. By
   * tiles of two groups, so that each (group, column) block of q vectors,
   * which holds four sites' terms, is read from memory once, not once per
   * site (a fold by rows read KG four times: 20 of 100 ms per DHFR
   * evaluation). Row i's regulariser is summed over j in order, in four
   * chains. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (int64_t gi = 0; gi < c->ng; gi++) {
    double reg4[PLM_GROUP][4] = {{0.0}};
    for (int64_t gj = gi; gj < c->ng; gj++) {
#if defined(__x86_64__)
      if (c->use_avx512 && gj > gi && (gj + 1) * PLM_GROUP <= L) { /* two full groups */
        fold_tile_avx512(c, gi, gj, x, g, lJ, reg4);
        continue;
      }
#endif
      for (int ki = 0; ki < PLM_GROUP; ki++) {
        const int64_t i = gi * PLM_GROUP + ki;
        for (int kj = 0; kj < PLM_GROUP; kj++) {
          const int64_t j = gj * PLM_GROUP + kj;
          if (i >= L || j >= L || j <= i) continue;
          const int64_t o = L * q + pair_off(L, q, i, j);
          const float *p = x + o;
          float *gp = g + o;
          const float *Gi = c->KG + (gi * L + j) * q * W + ki; /* [b W + 4 a] */
          const float *Gj = c->KG + (gj * L + i) * q * W + kj; /* [a W + 4 b] */
          fold_pair(c, p, gp, Gi, Gj, lJ, reg4[ki]);
        }
      }
    }
    for (int ki = 0; ki < PLM_GROUP && gi * PLM_GROUP + ki < L; ki++)
      c->pair_reg[gi * PLM_GROUP + ki] = (reg4[ki][0] + reg4[ki][1]) + (reg4[ki][2] + reg4[ki][3]);
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
