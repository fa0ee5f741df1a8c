/* ar.c: autoregressive DCA - fit, exact likelihood, ancestral sampling,
 * Monte Carlo entropy.
 *
 * Contents:
 *   1. Options, site order
 *   2. The per-site regression (objective and gradient) and its fit
 *   3. The kernel layout, likelihood and sampling
 *   4. Entropy
 *
 * Layout. For sampling and likelihoods, m->cache holds for each site i a
 * block K[i][j][b][0..QP) = J_ij(., b) for the sites j before i in the order
 * (the same padded-row layout as the Potts kernel), so conditioning on one
 * earlier residue adds one contiguous row of 32 floats. Per sequence that
 * is L(L-1)/2 row additions and L softmaxes.
 *
 * The fit solves each site's problem with the project's L-BFGS in double
 * (seqloop/lbfgs.h: libLBFGS's algorithm and defaults, fewer passes over
 * memory; tests compare the fit with libLBFGS's); sites run in parallel
 * (largest problems first) and each writes only its own parameters, so the
 * result does not depend on the thread count; across ranks (seqloop/dist.h)
 * each rank fits the sites k with k % ranks == rank and the sites' results
 * are then copied to every rank (ar_gather), the same bytes for any number
 * of ranks. The objective walks the
 * prefix trie of the rows (section 2): the rows, permuted into the site
 * order, are sorted once; site k's regression sees only the first k states,
 * so rows sharing them form one group (one softmax, the targets' weights
 * summed), and consecutive groups share a prefix whose partial logits and
 * residual sums are kept on a stack, so each trie node costs one coupling
 * row forward and one gradient row backward per evaluation instead of one
 * per row and site. On kunitz_pf00014 that is 4.3x fewer row operations
 * and far fewer exponentials (docs/performance.md, "ar fit"). Float kernel
 * in twins (plain, AVX-512) with the same bits; the objective in double.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "seqloop/ar.h"
#include "seqloop/kern.h"
#include "seqloop/lbfgs.h"

#include "kinds.h"
#include "modelfile.h"
#include "seqloop/progress.h"

#define QP 32

/* 1. Options, order --------------------------------------------------------- */

void sl_ar_opts_init(sl_ar_opts *o) {
  memset(o, 0, sizeof *o);
  o->lambda_h = 1e-6;
  o->lambda_J = 1e-4;
  o->order_kind = SL_ORDER_ENTROPY;
  o->threads = 1;
  o->epsilon = 1e-4;
}

typedef struct { double e; int64_t i; } ent_key;
static int ent_cmp(const void *pa, const void *pb) {
  const ent_key *a = pa, *b = pb;
  if (a->e < b->e) return -1;
  if (a->e > b->e) return 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* 2. Per-site regression ------------------------------------------------------ */

/* The rows the fit sees, shared read-only by all sites: the rows of positive
 * weight with their columns permuted into the site order (P[r L + d] is the
 * state at site order[d]), sorted lexicographically, identical rows merged
 * (their weights added in double, in sorted order with ties by row index).
 * lcp[r] is the length of the common prefix of rows r - 1 and r (0 for the
 * first row). In this order the rows sharing their first k states - the
 * inputs of site k's regression - are contiguous (a group), and the groups
 * of site k are the leaves of the prefix trie at depth k, visited in depth-
 * first order. */
typedef struct ar_rows {
  int64_t n, L;
  uint8_t *P;
  double *w;
  int32_t *lcp;
} ar_rows;

typedef struct row_cmp_ctx { const uint8_t *P; int64_t L; } row_cmp_ctx;
static int row_cmp(const void *pa, const void *pb, void *ctx) {
  const row_cmp_ctx *c = ctx;
  const int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  int r = memcmp(c->P + a * c->L, c->P + b * c->L, (size_t)c->L);
  if (r) return r;
  return a < b ? -1 : a > b;
}

static void ar_rows_free(ar_rows *R) {
  free(R->P);
  free(R->w);
  free(R->lcp);
  memset(R, 0, sizeof *R);
}

/* A row takes part if its normalised weight is positive in float, the rule
 * of the per-row loop this replaces. */
static int ar_rows_build(const sl_msa *msa, const double *w, double sum, const int64_t *order, ar_rows *R,
                         sl_error *err) {
  const int64_t N = msa->N, L = msa->L;
  memset(R, 0, sizeof *R);
  R->L = L;
  int64_t m = 0;
  for (int64_t r = 0; r < N; r++) m += (float)(w[r] / sum) > 0;
  uint8_t *P0 = malloc((size_t)(m * L) + 1);
  int64_t *idx = malloc((size_t)(m ? m : 1) * sizeof *idx);
  int64_t *rowof = malloc((size_t)(m ? m : 1) * sizeof *rowof); /* each kept row's msa row */
  R->P = malloc((size_t)(m * L) + 1);
  R->w = malloc((size_t)(m ? m : 1) * sizeof *R->w);
  R->lcp = malloc((size_t)(m ? m : 1) * sizeof *R->lcp);
  if (!P0 || !idx || !rowof || !R->P || !R->w || !R->lcp) {
    free(P0);
    free(idx);
    free(rowof);
    ar_rows_free(R);
    return sl_fail(err, SL_ENOMEM, "out of memory for the ar fit's rows");
  }
  int64_t t = 0;
  for (int64_t r = 0; r < N; r++) {
    if (!((float)(w[r] / sum) > 0)) continue;
    const uint8_t *s = sl_msa_row(msa, r);
    for (int64_t d = 0; d < L; d++) P0[t * L + d] = s[order[d]];
    idx[t] = t;
    rowof[t++] = r;
  }
  /* idx[] holds positions among the kept rows, in row order, so ties
   * (identical rows) sort by row index and merge in that order */
  row_cmp_ctx ctx = {P0, L};
  qsort_r(idx, (size_t)m, sizeof *idx, row_cmp, &ctx);
  int64_t n = 0;
  for (int64_t j = 0; j < m; j++) {
    const uint8_t *s = P0 + idx[j] * L;
    int64_t c = 0;
    if (n > 0) {
      const uint8_t *pr = R->P + (n - 1) * L;
      while (c < L && pr[c] == s[c]) c++;
    }
    const double wj = w[rowof[idx[j]]] / sum;
    if (n > 0 && c == L) { /* identical to the previous row: merge */
      R->w[n - 1] += wj;
      continue;
    }
    memcpy(R->P + n * L, s, (size_t)L);
    R->w[n] = wj;
    R->lcp[n] = (int32_t)c;
    n++;
  }
  R->n = n;
  free(rowof);
  free(P0);
  free(idx);
  return SL_OK;
}

/* Site k's groups (rows sharing their first k states) and, per group, its
 * total weight C and the weights of the states observed at site k (rows with
 * the same next state are contiguous within a group). */
typedef struct ar_group {
  int64_t row;   /* the group's first row */
  int32_t depth; /* its common prefix with the previous group's row (< k) */
  int32_t nt;    /* number of distinct target states */
  int64_t t0;    /* first target in tst / tw */
  double C;
} ar_group;

static int64_t ar_groups(const ar_rows *R, int64_t k, ar_group *grp, uint8_t *tst, double *tw) {
  int64_t ng = 0, nt = 0;
  for (int64_t r = 0; r < R->n; r++) {
    if (r == 0 || R->lcp[r] < k)
      grp[ng++] = (ar_group){r, r == 0 ? 0 : R->lcp[r], 0, nt, 0.0};
    ar_group *g = grp + ng - 1;
    if (r == g->row || R->lcp[r] == k) {
      tst[nt] = R->P[r * R->L + k];
      tw[nt++] = 0.0;
      g->nt++;
    }
    tw[nt - 1] += R->w[r];
    g->C += R->w[r];
  }
  return ng;
}

/* The fit's softmax over 32 lanes (padding lanes -1e30 get probability 0):
 * e[a] = exp(lg[a] - max), returns their sum. More accurate than the
 * sampler's exponential (whose degree-6 Taylor polynomial on [0, 1) errs by
 * up to 8e-6 and jumps at every integer, which a line search and a
 * finite-difference check would see): x = n ln2 + r with n the nearest
 * integer (Cody-Waite split of ln2, exact products for |n| < 2^8), r in
 * [-0.35, 0.35], e^r by its degree-7 Taylor polynomial (truncation 5e-9),
 * times 2^n through the exponent bits. The max and the sum are fixed trees;
 * lane-wise float operations only, so every compilation of it (the plain and
 * the AVX-512 twin) gives the same bits. */
static inline __attribute__((always_inline)) float fit_softmax(const float *restrict lg, int q,
                                                              float *restrict e, float *ret_mx) {
  float t[16];
  for (int j = 0; j < 16; j++) t[j] = lg[j] > lg[j + 16] ? lg[j] : lg[j + 16];
  for (int h = 8; h >= 1; h /= 2)
    for (int j = 0; j < h; j++) t[j] = t[j] > t[j + h] ? t[j] : t[j + h];
  const float mx = t[0];
  for (int a = 0; a < QP; a++) {
    float x = lg[a] - mx;
    x = x < -87.0f ? -87.0f : x;
    const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest */
    const float r = (x - n * 0.693145751953125f) - n * 1.42860677e-6f;
    float y = 1.0f / 5040.0f;
    y = y * r + 1.0f / 720.0f;
    y = y * r + 1.0f / 120.0f;
    y = y * r + 1.0f / 24.0f;
    y = y * r + 1.0f / 6.0f;
    y = y * r + 0.5f;
    y = y * r + 1.0f;
    y = y * r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    e[a] = a < q ? y * two_n : 0.0f;
  }
  *ret_mx = mx;
  for (int j = 0; j < 16; j++) t[j] = e[j] + e[j + 16];
  for (int h = 8; h >= 1; h /= 2)
    for (int j = 0; j < h; j++) t[j] = t[j] + t[j + h];
  return t[0];
}

typedef struct site_prob {
  const ar_rows *R;
  int64_t k;           /* position in the order */
  int q;
  double lh, lJ;
  const ar_group *grp;
  int64_t ng;
  const uint8_t *tst;
  const double *tw;
  float *K;            /* k * q * QP expanded couplings J_i,order[l](., b); padding lanes 0 */
  float *G;            /* gradient in the same layout */
  float *S;            /* (k + 1) * QP partial logits along the current trie path */
  float *A;            /* k * QP residual sums of the open trie nodes' closed children */
  uint8_t *has;        /* k + 1 flags: A[d] holds a sum */
  float H[QP] __attribute__((aligned(64))); /* fields; padding lanes -1e30 */
  int avx512;          /* the AVX-512 twin of site_pass */
  double nll;
  int64_t evals;
  int iters;
} site_prob;

/* The two walks of the trie per group, in twins with the same float
 * additions per lane in the same order (IEEE addition commutes, so
 * x + y and y + x are the same bits).
 * Forward: the logits lg = S[d0] + K[0][row[0]] ... for d = d0 .. k-1, the
 * running sum in registers; the partial sums S[d + 1] are stored only up to
 * depth `keep`, the next group's common prefix with this one: no later
 * group resumes deeper (a group resumes at its lcp with its predecessor,
 * and the groups in between share that prefix).
 * Close: the nodes at depths k-1 down to d0 of the previous group's path,
 * c carrying the subtree sum in registers: the leaf's sum is the previous
 * group's residual rr; a node's sum is its earlier children's sum A[d]
 * (valid where has[d]) plus its last child's; each goes once to its
 * gradient row, and the sum at depth d0 goes to the still open parent
 * (A[d0 - 1], has[d0 - 1]). No zeroing, no reload of a just-stored value. */
static inline __attribute__((always_inline)) void fwd_plain(const float *restrict S0, float *restrict S,
                                                           const float *restrict K, const uint8_t *row,
                                                           int q, int64_t d0, int64_t k, int64_t keep,
                                                           float *restrict lg) {
  float c[QP];
  memcpy(c, S0, sizeof c);
  for (int64_t d = d0; d < k; d++) {
    const float *restrict kr = K + (d * q + row[d]) * QP;
    for (int a = 0; a < QP; a++) c[a] = c[a] + kr[a];
    if (d < keep) memcpy(S + (d + 1) * QP, c, sizeof c);
  }
  memcpy(lg, c, sizeof c);
}

static inline __attribute__((always_inline)) void close_plain(float *restrict G, float *restrict A,
                                                             uint8_t *has, const uint8_t *prev, int q,
                                                             int64_t k, int64_t d0,
                                                             const float *restrict rr) {
  float c[QP];
  memcpy(c, rr, sizeof c);
  for (int64_t d = k - 1; d >= d0; d--) {
    if (has[d]) {
      for (int a = 0; a < QP; a++) c[a] = A[d * QP + a] + c[a];
      has[d] = 0;
    }
    float *restrict gr = G + (d * q + prev[d]) * QP;
    for (int a = 0; a < QP; a++) gr[a] = gr[a] + c[a];
  }
  if (d0 > 0) {
    float *restrict ap = A + (d0 - 1) * QP;
    if (has[d0 - 1])
      for (int a = 0; a < QP; a++) ap[a] = ap[a] + c[a];
    else
      memcpy(ap, c, sizeof c);
    has[d0 - 1] = 1;
  }
}

__attribute__((target("avx512f")))
static void fwd_avx512(const float *restrict S0, float *restrict S, const float *restrict K,
                       const uint8_t *row, int q, int64_t d0, int64_t k, int64_t keep,
                       float *restrict lg) {
  __m512 c0 = _mm512_load_ps(S0), c1 = _mm512_load_ps(S0 + 16);
  int64_t d = d0;
  for (; d < k && d < keep; d++) {
    const float *kr = K + (d * q + row[d]) * QP;
    c0 = _mm512_add_ps(c0, _mm512_load_ps(kr));
    c1 = _mm512_add_ps(c1, _mm512_load_ps(kr + 16));
    _mm512_store_ps(S + (d + 1) * QP, c0);
    _mm512_store_ps(S + (d + 1) * QP + 16, c1);
  }
  for (; d < k; d++) {
    const float *kr = K + (d * q + row[d]) * QP;
    c0 = _mm512_add_ps(c0, _mm512_load_ps(kr));
    c1 = _mm512_add_ps(c1, _mm512_load_ps(kr + 16));
  }
  _mm512_store_ps(lg, c0);
  _mm512_store_ps(lg + 16, c1);
}

__attribute__((target("avx512f")))
static void close_avx512(float *restrict G, float *restrict A, uint8_t *has, const uint8_t *prev, int q,
                         int64_t k, int64_t d0, const float *restrict rr) {
  __m512 c0 = _mm512_load_ps(rr), c1 = _mm512_load_ps(rr + 16);
  for (int64_t d = k - 1; d >= d0; d--) {
    if (has[d]) {
      c0 = _mm512_add_ps(_mm512_load_ps(A + d * QP), c0);
      c1 = _mm512_add_ps(_mm512_load_ps(A + d * QP + 16), c1);
      has[d] = 0;
    }
    float *gr = G + (d * q + prev[d]) * QP;
    _mm512_store_ps(gr, _mm512_add_ps(_mm512_load_ps(gr), c0));
    _mm512_store_ps(gr + 16, _mm512_add_ps(_mm512_load_ps(gr + 16), c1));
  }
  if (d0 > 0) {
    float *ap = A + (d0 - 1) * QP;
    if (has[d0 - 1]) {
      c0 = _mm512_add_ps(_mm512_load_ps(ap), c0);
      c1 = _mm512_add_ps(_mm512_load_ps(ap + 16), c1);
    }
    _mm512_store_ps(ap, c0);
    _mm512_store_ps(ap + 16, c1);
    has[d0 - 1] = 1;
  }
}

/* The weighted NLL of site k and its gradient (G for the couplings, gh for
 * the fields), by a depth-first walk of the prefix trie: a group's logits
 * are its parent path's partial sums S[d] plus the rows of the states where
 * it departs from the previous group (depth >= its lcp), in the same order
 * l = 0, 1, ... as the full sum, so the same bits; a node's residual is
 * added to its gradient row once, summed over its subtree. Per group: one
 * softmax (fit_softmax), the objective in double. Twins (site_pass_avx512,
 * site_pass_plain): the same float operations in the same order, so the
 * same bits. */
static inline __attribute__((always_inline)) double site_pass(const site_prob *p, double *restrict gh,
                                                              int avx) {
  const int q = p->q;
  const int64_t k = p->k, L = p->R->L;
  const uint8_t *P = p->R->P;
  float *restrict G = p->G, *restrict S = p->S, *restrict A = p->A;
  uint8_t *has = p->has;
  const float *restrict K = p->K;
  memset(G, 0, (size_t)(k * q * QP) * sizeof(float));
  memset(has, 0, (size_t)k + 1);
  memcpy(S, p->H, QP * sizeof(float));
  float lg[QP] __attribute__((aligned(64))), e[QP] __attribute__((aligned(64)));
  float rr[QP] __attribute__((aligned(64)));
  double fx = 0.0;
  const uint8_t *prev = NULL;
  for (int64_t g = 0; g < p->ng; g++) {
    const ar_group *gr = p->grp + g;
    const uint8_t *row = P + gr->row * L;
    const int64_t d0 = gr->depth, keep = g + 1 < p->ng ? gr[1].depth : 0;
    if (prev) {
      if (avx) close_avx512(G, A, has, prev, q, k, d0, rr);
      else close_plain(G, A, has, prev, q, k, d0, rr);
    }
    if (avx) fwd_avx512(S + d0 * QP, S, K, row, q, d0, k, keep, lg);
    else fwd_plain(S + d0 * QP, S, K, row, q, d0, k, keep, lg);
    float mx;
    const float z = fit_softmax(lg, q, e, &mx);
    fx += gr->C * ((double)mx + log((double)z));
    const float cz = (float)(gr->C / (double)z);
    for (int a = 0; a < QP; a++) rr[a] = e[a] * cz;
    for (int64_t t = gr->t0; t < gr->t0 + gr->nt; t++) {
      fx -= p->tw[t] * (double)lg[p->tst[t]];
      rr[p->tst[t]] -= (float)p->tw[t];
    }
    for (int a = 0; a < QP; a++) gh[a] += rr[a]; /* padding lanes add 0: one vector loop */
    prev = row;
  }
  if (prev && k > 0) {
    if (avx) close_avx512(G, A, has, prev, q, k, 0, rr);
    else close_plain(G, A, has, prev, q, k, 0, rr);
  }
  return fx;
}

__attribute__((target("avx512f")))
static double site_pass_avx512(const site_prob *p, double *gh) { return site_pass(p, gh, 1); }
__attribute__((target_clones("avx2", "default")))
static double site_pass_plain(const site_prob *p, double *gh) { return site_pass(p, gh, 0); }

/* Variables: h_i (q), then for l < k the block J_i,order[l](a, b) (q*q, a-major). */
static double site_eval(void *inst, const double *x, double *g) {
  site_prob *p = inst;
  const int q = p->q;
  const int64_t k = p->k;
  for (int a = 0; a < QP; a++) p->H[a] = a < q ? (float)x[a] : -1e30f;
  for (int64_t l = 0; l < k; l++)
    for (int a = 0; a < q; a++)
      for (int b = 0; b < q; b++) p->K[(l * q + b) * QP + a] = (float)x[q + l * q * q + a * q + b];
  double gh[QP] = {0};
  double fx = p->avx512 ? site_pass_avx512(p, gh) : site_pass_plain(p, gh);
  p->nll = fx;
  for (int a = 0; a < q; a++) {
    fx += p->lh * x[a] * x[a];
    g[a] = gh[a] + 2.0 * p->lh * x[a];
  }
  for (int64_t l = 0; l < k; l++)
    for (int a = 0; a < q; a++)
      for (int b = 0; b < q; b++) {
        int64_t v = q + l * q * q + a * q + b;
        fx += p->lJ * x[v] * x[v];
        g[v] = (double)p->G[(l * q + b) * QP + a] + 2.0 * p->lJ * x[v];
      }
  p->evals++;
  return fx;
}

static int site_progress(void *inst, int it, int n_evals, double fx, double xnorm, double gnorm,
                         double step) {
  (void)n_evals; (void)fx; (void)xnorm; (void)gnorm; (void)step;
  ((site_prob *)inst)->iters = it;
  return 0;
}

/* Per-thread scratch of the site problems: K and G for the largest site, the
 * trie path, the groups. */
typedef struct site_scratch {
  float *K, *G, *S, *A;
  uint8_t *has;
  ar_group *grp;
  uint8_t *tst;
  double *tw;
} site_scratch;

static void scratch_free(site_scratch *w) {
  free(w->K); free(w->G); free(w->S); free(w->A); free(w->has); free(w->grp); free(w->tst); free(w->tw);
  memset(w, 0, sizeof *w);
}

static int scratch_alloc(site_scratch *w, int64_t L, int q, int64_t n) {
  memset(w, 0, sizeof *w);
  const size_t kb = (size_t)(L * q * QP) * sizeof(float) + 64, sb = (size_t)((L + 1) * QP) * sizeof(float);
  void *pk = NULL, *pg = NULL, *ps = NULL, *pa = NULL;
  if (posix_memalign(&pk, 64, kb)) pk = NULL;
  if (posix_memalign(&pg, 64, kb)) pg = NULL;
  if (posix_memalign(&ps, 64, sb)) ps = NULL;
  if (posix_memalign(&pa, 64, sb)) pa = NULL;
  w->K = pk; w->G = pg; w->S = ps; w->A = pa;
  w->has = malloc((size_t)L + 1);
  w->grp = malloc((size_t)(n ? n : 1) * sizeof *w->grp);
  w->tst = malloc((size_t)(n ? n : 1));
  w->tw = malloc((size_t)(n ? n : 1) * sizeof *w->tw);
  if (!w->K || !w->G || !w->S || !w->A || !w->has || !w->grp || !w->tst || !w->tw) {
    scratch_free(w);
    return -1;
  }
  memset(w->K, 0, kb); /* padding lanes stay 0 */
  return 0;
}

static void site_setup(site_prob *p, const ar_rows *R, site_scratch *w, int64_t k, int q, double lh,
                       double lJ, int avx512) {
  memset(p, 0, sizeof *p);
  p->R = R;
  p->k = k;
  p->q = q;
  p->lh = lh;
  p->lJ = lJ;
  p->ng = ar_groups(R, k, w->grp, w->tst, w->tw);
  p->grp = w->grp;
  p->tst = w->tst;
  p->tw = w->tw;
  p->K = w->K;
  p->G = w->G;
  p->S = w->S;
  p->A = w->A;
  p->has = w->has;
  p->avx512 = avx512;
}

int sl_ar_site_objective_kernel(const sl_msa *msa, const double *w, const int64_t *order, int64_t k,
                                double lambda_h, double lambda_J, int kernel, const double *x,
                                double *ret_fx, double *g, sl_error *err) {
  const int64_t L = msa->L, N = msa->N;
  const int q = msa->abc->q;
  if (k < 0 || k >= L) return sl_fail(err, SL_EUSAGE, "order position %lld outside 0..%lld", (long long)k, (long long)L - 1);
  kernel = sl_kernel_resolve(kernel);
  if (kernel == SL_KERN_AVX512 && !sl_kernel_supported(kernel))
    return sl_fail(err, SL_EUSAGE, "the %s kernel is not supported by this CPU", sl_kernel_name(kernel));
  double sum = 0;
  for (int64_t n = 0; n < N; n++) sum += w[n];
  if (!(sum > 0)) return sl_fail(err, SL_EINPUT, "%s: all sequence weights are zero", msa->path);
  ar_rows R;
  int status = ar_rows_build(msa, w, sum, order, &R, err);
  if (status) return status;
  site_scratch ws;
  double *gg = malloc((size_t)(q + k * q * q) * sizeof *gg);
  if (scratch_alloc(&ws, L, q, R.n) || !gg) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  } else {
    site_prob p;
    site_setup(&p, &R, &ws, k, q, lambda_h, lambda_J, kernel == SL_KERN_AVX512);
    *ret_fx = site_eval(&p, x, gg);
    if (g) memcpy(g, gg, (size_t)(q + k * q * q) * sizeof *g);
    scratch_free(&ws);
  }
  free(gg);
  ar_rows_free(&R);
  return status;
}

int sl_ar_site_objective(const sl_msa *msa, const double *w, const int64_t *order, int64_t k,
                         double lambda_h, double lambda_J, const double *x, double *ret_fx,
                         double *g, sl_error *err) {
  return sl_ar_site_objective_kernel(msa, w, order, k, lambda_h, lambda_J, SL_KERN_AUTO, x, ret_fx, g, err);
}

static int ar_gather(const sl_dist *d, sl_model *m, double *site_nll, double *site_obj, int64_t *site_ev,
                     int64_t *site_it, int *site_ret, sl_error *err);

int sl_ar_fit(const sl_msa *msa, const double *w, const sl_ar_opts *o, sl_model **ret_m,
              sl_ar_report *rep, sl_error *err) {
  const int64_t L = msa->L, N = msa->N;
  const int q = msa->abc->q;
  int status = SL_OK;
  *ret_m = NULL;
  memset(rep, 0, sizeof *rep);
  if (!(o->lambda_h >= 0) || !(o->lambda_J >= 0) || !(o->epsilon > 0) || o->max_iter < 0)
    return sl_fail(err, SL_EUSAGE, "bad ar options (lambda_h %g, lambda_J %g, epsilon %g)",
                   o->lambda_h, o->lambda_J, o->epsilon);
  sl_model *m = sl_model_create("ar", L, msa->abc, 0);
  ent_key *keys = malloc((size_t)L * sizeof *keys);
  if (!m || !keys) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  double sum = 0.0;
  for (int64_t n = 0; n < N; n++) sum += w[n];
  if (!(sum > 0)) { status = sl_fail(err, SL_EINPUT, "%s: all sequence weights are zero", msa->path); goto DONE; }

  /* Site order. */
  if (o->order_kind == SL_ORDER_GIVEN) {
    uint8_t *seen = calloc((size_t)L, 1);
    if (!seen) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (int64_t k = 0; k < L; k++) {
      int64_t v = o->order[k];
      if (v < 0 || v >= L || seen[v]) {
        free(seen);
        status = sl_fail(err, SL_EUSAGE, "the site order is not a permutation of 1..%lld (entry %lld)",
                         (long long)L, (long long)k + 1);
        goto DONE;
      }
      seen[v] = 1;
      m->order[k] = v;
    }
    free(seen);
  } else if (o->order_kind == SL_ORDER_ENTROPY) {
    for (int64_t i = 0; i < L; i++) {
      double f[QP] = {0}, h = 0;
      for (int64_t n = 0; n < N; n++) f[sl_msa_row(msa, n)[i]] += w[n] / sum;
      for (int a = 0; a < q; a++) if (f[a] > 0) h -= f[a] * log(f[a]);
      keys[i] = (ent_key){h, i};
    }
    qsort(keys, (size_t)L, sizeof *keys, ent_cmp);
    for (int64_t k = 0; k < L; k++) m->order[k] = keys[k].i;
  }

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double nll = 0, obj = 0;
  int64_t evals = 0, iters = 0;
  int notconv = 0, failed = 0;
  double *site_nll = calloc((size_t)L, sizeof *site_nll), *site_obj = calloc((size_t)L, sizeof *site_obj);
  int64_t *site_ev = calloc((size_t)L, sizeof *site_ev), *site_it = calloc((size_t)L, sizeof *site_it);
  int *site_ret = calloc((size_t)L, sizeof *site_ret);
  if (!site_nll || !site_obj || !site_ev || !site_it || !site_ret) {
    free(site_nll); free(site_obj); free(site_ev); free(site_it); free(site_ret);
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  const int threads = o->threads > 0 ? o->threads : 1;
  ar_rows R;
  if ((status = ar_rows_build(msa, w, sum, m->order, &R, err))) {
    free(site_nll); free(site_obj); free(site_ev); free(site_it); free(site_ret);
    goto DONE;
  }
  const int avx512 = !o->portable && sl_kernel_resolve(SL_KERN_AUTO) == SL_KERN_AVX512;
  sl_progress_start(o->progress, NULL, (L - sl_dist_rank(o->dist) + sl_dist_ranks(o->dist) - 1) / sl_dist_ranks(o->dist));
#pragma omp parallel num_threads(threads) reduction(+ : failed)
  {
    site_scratch ws;
    const int ok = scratch_alloc(&ws, L, q, R.n) == 0;
#pragma omp for schedule(dynamic, 1)
    for (int64_t kk = L - 1; kk >= 0; kk--) { /* largest problems first */
      if (kk % sl_dist_ranks(o->dist) != sl_dist_rank(o->dist)) continue; /* another rank's */
      if (!ok) { failed++; continue; }
      const int64_t nv = q + kk * q * q;
      double *x = calloc((size_t)nv, sizeof *x), *g = malloc((size_t)nv * sizeof *g);
      if (!x || !g) { free(x); free(g); failed++; continue; }
      site_prob p;
      site_setup(&p, &R, &ws, kk, q, o->lambda_h, o->lambda_J, avx512);
      /* one minimiser per thread: the threads are the sites */
      sl_lbfgs_opts lo;
      sl_lbfgs_opts_init(&lo);
      lo.epsilon = o->epsilon;
      lo.max_iter = o->max_iter;
      lo.threads = 1;
      sl_lbfgs_result lr;
      sl_error lerr;
      const int ls = sl_lbfgs_double(nv, x, site_eval, site_progress, &p, &lo, &lr, &lerr);
      if (ls != SL_OK && ls != SL_EINTERNAL) { /* SL_ENOMEM: nothing evaluated */
        free(x); free(g); failed++; continue;
      }
      /* SL_EINTERNAL (a non-finite objective) leaves x at the last finite
       * point and counts as not converged, like libLBFGS's errors did */
      site_ret[kk] = lr.status;
      site_it[kk] = p.iters;
      /* Exact objective and NLL at the final point. */
      site_obj[kk] = site_eval(&p, x, g);
      site_nll[kk] = p.nll;
      site_ev[kk] = p.evals;
      const int64_t i = m->order[kk];
      for (int a = 0; a < q; a++) m->h[i * q + a] = (float)x[a];
      for (int64_t l = 0; l < kk; l++) {
        float *Jij = sl_model_J(m, i, m->order[l]);
        for (int v = 0; v < q * q; v++) Jij[v] = (float)x[q + l * q * q + v];
      }
      free(x);
      free(g);
      sl_progress_add(o->progress, 1);
    }
    if (ok) scratch_free(&ws);
  }
  sl_progress_end(o->progress);
  ar_rows_free(&R);
  if (sl_dist_ranks(o->dist) > 1) { /* every rank learns of a failure, then the sites */
    int64_t nf = failed;
    if (o->dist->sum_i64(o->dist->ctx, &nf, 1) != 0)
      status = sl_fail(err, SL_EIO, "ar: the exchange between %d ranks failed", o->dist->size);
    else if (!(failed = (int)nf))
      status = ar_gather(o->dist, m, site_nll, site_obj, site_ev, site_it, site_ret, err);
    if (status) {
      free(site_nll); free(site_obj); free(site_ev); free(site_it); free(site_ret);
      goto DONE;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (int64_t k = 0; k < L; k++) {
    nll += site_nll[k];
    obj += site_obj[k];
    evals += site_ev[k];
    iters += site_it[k];
    int r = site_ret[k];
    if (!(r == SL_LBFGS_CONVERGED || r == SL_LBFGS_ALREADY_MINIMIZED || r == SL_LBFGS_DELTA_CONVERGED)) notconv++;
  }
  free(site_nll); free(site_obj); free(site_ev); free(site_it); free(site_ret);
  if (failed) { status = sl_fail(err, SL_ENOMEM, "out of memory in the per-site fits"); goto DONE; }
  rep->neg_loglk = nll;
  rep->objective = obj;
  rep->evaluations = evals;
  rep->iterations = iters;
  rep->n_not_converged = notconv;
  rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  m->neff = sum;
  m->n_train = N;
  if ((status = sl_ar_prepare(m, err))) goto DONE; /* the layout, once, while m is still ours */
  *ret_m = m;
  m = NULL;
DONE:
  sl_model_destroy(m);
  free(keys);
  return status;
}

/* Ranks: the sites of the other ranks, from their owners. Site kk's record:
 * its NLL, objective, evaluations, iterations and L-BFGS status (5 x 8
 * bytes), then its fields and couplings to the kk earlier sites (floats, as
 * the model holds them). Each rank packs its sites in increasing kk. */
static int64_t ar_rec_bytes(int64_t kk, int q) { return 40 + 4 * (q + kk * (int64_t)q * q); }

/* Copy n bytes between a record and their place: into rec when out. */
static void xfer(char *rec, void *mem, size_t n, int out) {
  if (out) memcpy(rec, mem, n);
  else memcpy(mem, rec, n);
}

/* Site kk's record to or from rec; one walk for both directions, so packing
 * and unpacking cannot disagree. Returns the end of the record. */
static char *ar_record(sl_model *m, int64_t kk, double *site_nll, double *site_obj, int64_t *site_ev,
                       int64_t *site_it, int *site_ret, char *rec, int out) {
  const int64_t i = m->order[kk];
  const int q = m->q;
  int64_t ret = site_ret[kk];
  xfer(rec, &site_nll[kk], 8, out); xfer(rec + 8, &site_obj[kk], 8, out);
  xfer(rec + 16, &site_ev[kk], 8, out); xfer(rec + 24, &site_it[kk], 8, out); xfer(rec + 32, &ret, 8, out);
  site_ret[kk] = (int)ret;
  rec += 40;
  xfer(rec, m->h + i * q, (size_t)q * 4, out);
  rec += 4 * q;
  for (int64_t l = 0; l < kk; l++, rec += 4 * q * q) xfer(rec, sl_model_J(m, i, m->order[l]), (size_t)(q * q) * 4, out);
  return rec;
}

static int ar_gather(const sl_dist *d, sl_model *m, double *site_nll, double *site_obj, int64_t *site_ev,
                     int64_t *site_it, int *site_ret, sl_error *err) {
  const int64_t L = m->L;
  const int q = m->q, nr = d->size;
  int64_t *cnt = calloc((size_t)nr, sizeof *cnt), tot = 0;
  if (!cnt) return sl_fail(err, SL_ENOMEM, "out of memory");
  for (int64_t kk = 0; kk < L; kk++) cnt[kk % nr] += ar_rec_bytes(kk, q);
  for (int r = 0; r < nr; r++) tot += cnt[r];
  char *send = malloc((size_t)cnt[d->rank] + 1), *recv = malloc((size_t)tot + 1);
  if (!send || !recv) { free(cnt); free(send); free(recv); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  char *p = send;
  for (int64_t kk = d->rank; kk < L; kk += nr)
    p = ar_record(m, kk, site_nll, site_obj, site_ev, site_it, site_ret, p, 1);
  int status = SL_OK;
  if (d->allgatherv(d->ctx, send, recv, cnt) != 0) {
    status = sl_fail(err, SL_EIO, "ar: the exchange of the sites between %d ranks failed", nr);
  } else {
    p = recv; /* rank r's records follow ranks 0..r-1's */
    for (int r = 0; r < nr; r++) {
      if (r == d->rank) { p += cnt[r]; continue; } /* ours: in place */
      for (int64_t kk = r; kk < L; kk += nr) p = ar_record(m, kk, site_nll, site_obj, site_ev, site_it, site_ret, p, 0);
    }
  }
  free(cnt); free(send); free(recv);
  return status;
}

/* 3. Kernel layout, likelihood, sampling ---------------------------------------- */

/* cache: for each site i (in order position k), the block of rows for the
 * earlier sites l < k: Kc[off(k) + (l * q + b) * QP + a] = J_{i, order[l]}(a, b);
 * h padded to QP per site, first. */
typedef struct ar_cache {
  int avx512;    /* 1: the AVX-512 twins (sl_ar_set_kernel; default: if the CPU has it) */
  int64_t *off;  /* L offsets (floats) of each position's block */
  float *H;      /* L * QP fields, by order position */
  float *K;
} ar_cache;

int sl_ar_prepare(sl_model *m, sl_error *err) {
  if (m->ops != &sl_ar_ops) return sl_fail(err, SL_EUSAGE, "not an ar model");
  if (m->cache) return SL_OK;
  const int64_t L = m->L;
  const int q = m->q;
  /* One 64-byte aligned block holds the struct, the offsets, H and K, so
   * that sl_model_destroy() frees it with a single free(m->cache). */
  const size_t total = (size_t)(L * (L - 1) / 2) * (size_t)q * QP;
  const size_t hdr = (sizeof(ar_cache) + 63) / 64 * 64;
  const size_t offb = ((size_t)L * sizeof(int64_t) + 63) / 64 * 64;
  const size_t hb = (size_t)L * QP * sizeof(float);
  void *blk = NULL;
  if (posix_memalign(&blk, 64, hdr + offb + hb + total * sizeof(float) + 64) != 0)
    return sl_fail(err, SL_ENOMEM, "out of memory preparing an ar model");
  memset(blk, 0, hdr + offb + hb + total * sizeof(float) + 64);
  ar_cache *c = blk;
  c->avx512 = sl_kernel_resolve(SL_KERN_AUTO) == SL_KERN_AVX512;
  c->off = (int64_t *)(void *)((char *)blk + hdr);
  c->H = (float *)(void *)((char *)blk + hdr + offb);
  c->K = (float *)(void *)((char *)blk + hdr + offb + hb);
  int64_t off = 0;
  for (int64_t k = 0; k < L; k++) {
    const int64_t i = m->order[k];
    c->off[k] = off;
    /* padding states get a field of -1e30: their probability underflows to
     * exactly 0, so the sampler's loops can run over all QP lanes */
    for (int a = 0; a < QP; a++) c->H[k * QP + a] = a < q ? m->h[i * q + a] : -1e30f;
    for (int64_t l = 0; l < k; l++) {
      const float *Jij = sl_model_J(m, i, m->order[l]);
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) c->K[off + (l * q + b) * QP + a] = Jij[a * q + b];
    }
    off += k * q * QP;
  }
  m->cache = c;
  return SL_OK;
}

/* Conditional logits of position k given the states of earlier sites: QP
 * lanes (padding lanes -1e30), the sum of the field and one coupling row per
 * earlier site. Twins with the same additions in the same order per lane:
 * plain (the reference), and AVX-512 with the 32 lanes in two registers for
 * the whole sum (the plain loop stores and reloads them every row). */
__attribute__((target_clones("avx2", "default")))
static void ar_logits_plain(const ar_cache *c, const int64_t *order, int q, int64_t k,
                            const uint8_t *s, float *restrict lg) {
  const float *H = c->H + k * QP, *K = c->K + c->off[k];
  for (int a = 0; a < QP; a++) lg[a] = H[a];
  for (int64_t l = 0; l < k; l++) {
    const float *restrict row = K + (l * q + s[order[l]]) * QP;
    for (int a = 0; a < QP; a++) lg[a] += row[a];
  }
}

__attribute__((target("avx512f")))
static void ar_logits_avx512(const ar_cache *c, const int64_t *order, int q, int64_t k,
                             const uint8_t *s, float *restrict lg) {
  const float *H = c->H + k * QP, *K = c->K + c->off[k];
  __m512 a0 = _mm512_load_ps(H), a1 = _mm512_load_ps(H + 16);
  for (int64_t l = 0; l < k; l++) {
    const float *row = K + (l * q + s[order[l]]) * QP;
    a0 = _mm512_add_ps(a0, _mm512_load_ps(row));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(row + 16));
  }
  _mm512_storeu_ps(lg, a0); /* callers' arrays need not be aligned */
  _mm512_storeu_ps(lg + 16, a1);
}

static void ar_logits(const ar_cache *c, const int64_t *order, int q, int64_t k, const uint8_t *s,
                      float *restrict lg) {
  if (c->avx512) ar_logits_avx512(c, order, q, k, s, lg);
  else ar_logits_plain(c, order, q, k, s, lg);
}

int sl_ar_set_kernel(sl_model *m, int kernel, sl_error *err) {
  int status = sl_ar_prepare(m, err);
  if (status) return status;
  kernel = sl_kernel_resolve(kernel);
  if (!sl_kernel_supported(kernel))
    return sl_fail(err, SL_EUSAGE, "the %s kernel is not supported by this CPU", sl_kernel_name(kernel));
  ((ar_cache *)m->cache)->avx512 = kernel == SL_KERN_AVX512;
  return SL_OK;
}

static int ar_unprepared(sl_error *err) {
  return sl_fail(err, SL_EINTERNAL, "an ar model used before sl_model_prepare (its layout is built "
                 "once, at fit or read)");
}

/* log P(s) with every conditional's logits times beta (temperature 1 /
 * beta), each conditional renormalised: beta 1 is the model's own log P. */
static double ar_logp_beta(const ar_cache *c, const sl_model *m, const uint8_t *s, double beta) {
  const int q = m->q;
  double lp = 0.0;
  float lg[QP];
  for (int64_t k = 0; k < m->L; k++) {
    ar_logits(c, m->order, q, k, s, lg);
    double mx = lg[0], z = 0.0;
    for (int a = 1; a < q; a++) mx = lg[a] > mx ? lg[a] : mx;
    for (int a = 0; a < q; a++) z += exp((lg[a] - mx) * beta);
    lp += (lg[s[m->order[k]]] - mx) * beta - log(z);
  }
  return lp;
}

static int ar_logp(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err) {
  (void)ws;
  const ar_cache *c = m->cache;
  if (!c) return ar_unprepared(err);
  *ret = ar_logp_beta(c, m, s, 1.0);
  return SL_OK;
}

double sl_ar_logp_temp(const sl_model *m, const uint8_t *s, double T) {
  const ar_cache *c = m->ops == &sl_ar_ops ? m->cache : NULL;
  if (!c || !(T > 0)) return NAN;
  return ar_logp_beta(c, m, s, 1.0 / T);
}

double sl_ar_logp(const sl_model *m, const uint8_t *s) {
  double lp = NAN;
  sl_error err;
  if (ar_logp(m, NULL, s, &lp, &err)) return NAN;
  return lp;
}

/* Unnormalised probabilities exp((lg - mx) * scale) on all QP lanes and
 * their sum over the first q lanes (padding lanes are exactly 0).
 * exp(x), x <= 0: t = x log2(e) = n + f with n = floor(t) >= -126, 2^f by a
 * degree-6 polynomial (relative error below 3e-7, like expf's rounding),
 * times 2^n. Twins with the same float operations in the same order (no FMA:
 * ISO C mode does not contract), so samples do not depend on the CPU: plain
 * (2^n through the exponent bits) and AVX-512 (2^n by scalef, exact for
 * these ranges); the sum is always the plain sequential one. */
#define EXP_C6 1.5403530e-4f
#define EXP_C5 1.3333558e-3f
#define EXP_C4 9.6181291e-3f
#define EXP_C3 5.5504109e-2f
#define EXP_C2 2.4022651e-1f
#define EXP_C1 6.9314718e-1f
/* The sum of the 32 lanes in a fixed tree (lanes j and j+16, then j+8, j+4,
 * j+2, j+1), the order the AVX-512 twin's register halving takes. */
static float tree_sum32(const float *p) {
  float t[16];
  for (int j = 0; j < 16; j++) t[j] = p[j] + p[j + 16];
  for (int h = 8; h >= 1; h /= 2)
    for (int j = 0; j < h; j++) t[j] = t[j] + t[j + h];
  return t[0];
}

__attribute__((target_clones("avx2", "default")))
static float exp_lanes_plain(const float *restrict lg, float scale, float *restrict p, float *ret_mx) {
  float mx = lg[0];
  for (int a = 1; a < QP; a++) mx = lg[a] > mx ? lg[a] : mx; /* padding (-1e30) never wins */
  for (int a = 0; a < QP; a++) {
    float t = (lg[a] - mx) * scale;
    t = t * 1.44269504f;
    t = t < -126.0f ? -126.0f : t;
    float fl = floorf(t);
    float f = t - fl;
    float y = EXP_C6;
    y = y * f + EXP_C5;
    y = y * f + EXP_C4;
    y = y * f + EXP_C3;
    y = y * f + EXP_C2;
    y = y * f + EXP_C1;
    y = y * f + 1.0f;
    int32_t bits = ((int32_t)fl + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    p[a] = lg[a] < -1e29f ? 0.0f : y * two_n;
  }
  *ret_mx = mx;
  return tree_sum32(p);
}

__attribute__((target("avx512f")))
static float exp_lanes_avx512(const float *restrict lg, float scale, float *restrict p, float *ret_mx) {
  const __m512 x0 = _mm512_loadu_ps(lg), x1 = _mm512_loadu_ps(lg + 16);
  const float mx = _mm512_reduce_max_ps(_mm512_max_ps(x0, x1)); /* max is exact in any order */
  const __m512 vmx = _mm512_set1_ps(mx), vs = _mm512_set1_ps(scale), l2e = _mm512_set1_ps(1.44269504f);
  const __m512 lo = _mm512_set1_ps(-126.0f), one = _mm512_set1_ps(1.0f), pad = _mm512_set1_ps(-1e29f);
  __m512 out[2];
  for (int h = 0; h < 2; h++) {
    const __m512 x = h ? x1 : x0;
    __m512 t = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(x, vmx), vs), l2e);
    t = _mm512_max_ps(t, lo);
    __m512 fl = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, fl);
    __m512 y = _mm512_set1_ps(EXP_C6);
    y = _mm512_add_ps(_mm512_mul_ps(y, f), _mm512_set1_ps(EXP_C5));
    y = _mm512_add_ps(_mm512_mul_ps(y, f), _mm512_set1_ps(EXP_C4));
    y = _mm512_add_ps(_mm512_mul_ps(y, f), _mm512_set1_ps(EXP_C3));
    y = _mm512_add_ps(_mm512_mul_ps(y, f), _mm512_set1_ps(EXP_C2));
    y = _mm512_add_ps(_mm512_mul_ps(y, f), _mm512_set1_ps(EXP_C1));
    y = _mm512_add_ps(_mm512_mul_ps(y, f), one);
    y = _mm512_scalef_ps(y, fl);
    out[h] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, pad, _CMP_GE_OQ), y);
    _mm512_storeu_ps(p + 16 * h, out[h]);
  }
  /* tree_sum32's order: j + j+16, then the halves j + j+8, j+4, j+2, j+1 */
  const __m512 v = _mm512_add_ps(out[0], out[1]);
  const __m256 v8 = _mm256_add_ps(_mm512_castps512_ps256(v),
                                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
  v4 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
  v4 = _mm_add_ss(v4, _mm_shuffle_ps(v4, v4, 1));
  *ret_mx = mx;
  return _mm_cvtss_f32(v4);
}

/* Probabilities exp((lg - max) * scale) on all lanes, their sum; *ret_mx the max. */
static float softmax_lanes(const ar_cache *c, const float *restrict lg, float scale,
                           float *restrict p, float *ret_mx) {
  return c->avx512 ? exp_lanes_avx512(lg, scale, p, ret_mx) : exp_lanes_plain(lg, scale, p, ret_mx);
}

/* Batched ancestral sampling: B sequences advance together, position by
 * position, so each position's block of couplings (up to L q 128 bytes) is
 * read once per batch instead of once per sequence; the random draws are
 * taken position-major (draw k*B + b for sequence b at position k).
 * log P accumulates sum(logit - max) and the product of the normalisers,
 * whose log is taken once per sequence (rescaled by 2^-600 before it could
 * overflow): a log per site was a fifth of the time. */
void sl_ar_sample_batch(const sl_model *m, sl_rng *rng, double T, const uint8_t *fixed, int64_t B,
                        uint8_t *out, double *ret_logp) {
  if (!m->cache) { /* unprepared: documented as a caller's bug; nothing drawn */
    for (int64_t b = 0; b < B; b++) if (ret_logp) ret_logp[b] = NAN;
    return;
  }
  const ar_cache *c = m->cache;
  const int q = m->q;
  const int64_t L = m->L;
  const float invT = (float)(1.0 / T);
  const int unit = T == 1.0;
  float lg[QP] __attribute__((aligned(64))), p[QP] __attribute__((aligned(64)));
  float pt[QP] __attribute__((aligned(64)));
  double *zprod = ret_logp ? malloc((size_t)B * sizeof *zprod) : NULL;
  int *zexp = ret_logp ? calloc((size_t)B, sizeof *zexp) : NULL;
  if (ret_logp && (!zprod || !zexp)) { /* without scratch, log per site */
    free(zprod);
    free(zexp);
    zprod = NULL;
    zexp = NULL;
  }
  for (int64_t b = 0; b < B; b++) {
    if (ret_logp) ret_logp[b] = 0.0;
    if (zprod) zprod[b] = 1.0;
  }
  for (int64_t k = 0; k < L; k++) {
    const int64_t i = m->order[k];
    for (int64_t b = 0; b < B; b++) {
      uint8_t *x = out + b * L;
      ar_logits(c, m->order, q, k, x, lg);
      float mx;
      float z1 = softmax_lanes(c, lg, 1.0f, p, &mx), zt = z1;
      const float *draw = p;
      if (!unit) {
        zt = softmax_lanes(c, lg, invT, pt, &mx);
        draw = pt;
      }
      int a;
      if (fixed && fixed[i] != 0xFF) {
        a = fixed[i];
      } else {
        float u = (float)sl_rng_uniform(rng) * zt, acc = 0.0f;
        for (a = 0; a < q - 1; a++) {
          acc += draw[a];
          if (u < acc) break;
        }
      }
      x[i] = (uint8_t)a;
      if (ret_logp) {
        ret_logp[b] += (double)(lg[a] - mx);
        if (zprod) {
          zprod[b] *= (double)z1;
          if (zprod[b] > 0x1p600) { zprod[b] *= 0x1p-600; zexp[b]++; }
        } else {
          ret_logp[b] -= log((double)z1);
        }
      }
    }
  }
  if (zprod)
    for (int64_t b = 0; b < B; b++) ret_logp[b] -= log(zprod[b]) + 600.0 * (double)zexp[b] * log(2.0);
  free(zprod);
  free(zexp);
}

void sl_ar_sample(const sl_model *m, sl_rng *rng, double T, const uint8_t *fixed, uint8_t *out,
                  double *ret_logp) {
  sl_ar_sample_batch(m, rng, T, fixed, 1, out, ret_logp); /* a batch of one draws sample-major */
}

/* 4. Entropy ------------------------------------------------------------------ */

int sl_ar_sample_many(const sl_model *m, int64_t n, uint64_t seed, int threads, double T,
                      const uint8_t *fixed, uint8_t *out, double *ret_logp, sl_error *err) {
  if (!m->cache) return ar_unprepared(err);
  const int64_t chunk = 1024, nchunks = (n + chunk - 1) / chunk, L = m->L;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 0 ? threads : 1)
  for (int64_t c = 0; c < nchunks; c++) {
    sl_rng r;
    sl_rng_seed(&r, seed);
    for (int64_t j = 0; j < c; j++) sl_rng_jump(&r); /* chunk c has its own stream */
    const int64_t t0 = c * chunk, nb = n - t0 < chunk ? n - t0 : chunk;
    sl_ar_sample_batch(m, &r, T, fixed, nb, out + t0 * L, ret_logp ? ret_logp + t0 : NULL);
  }
  return SL_OK;
}

int sl_ar_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads, double *ret_bits,
                  double *ret_se, sl_error *err) {
  if (n < 2) return sl_fail(err, SL_EUSAGE, "the entropy estimate needs at least 2 samples");
  double *lp = malloc((size_t)n * sizeof *lp);
  uint8_t *x = malloc((size_t)(n * m->L) + 1);
  int status = lp && x ? sl_ar_sample_many(m, n, seed, threads, 1.0, NULL, x, lp, err)
                       : sl_fail(err, SL_ENOMEM, "out of memory for %lld entropy samples", (long long)n);
  free(x);
  if (status) { free(lp); return status; }
  double mean = 0.0, var = 0.0;
  for (int64_t t = 0; t < n; t++) mean += lp[t];
  mean /= (double)n;
  for (int64_t t = 0; t < n; t++) var += (lp[t] - mean) * (lp[t] - mean);
  var /= (double)(n - 1);
  free(lp);
  *ret_bits = -mean / log(2.0);
  *ret_se = sqrt(var / (double)n) / log(2.0);
  return SL_OK;
}

/* 5. The ar kind -------------------------------------------------------------- */

static int ar_create(sl_model *m, sl_error *err) {
  const size_t L = (size_t)m->L, q = (size_t)m->q;
  m->J = calloc(L * L * q * q, sizeof *m->J);
  m->order = malloc(L * sizeof *m->order);
  if (!m->J || !m->order) return sl_fail(err, SL_ENOMEM, "out of memory");
  for (int64_t i = 0; i < m->L; i++) m->order[i] = i;
  return SL_OK;
}

/* Parameters edited after a prepare (tests, a fit into an existing model)
 * need the layout rebuilt: prepare always rebuilds. */
static int ar_prepare_op(sl_model *m, sl_error *err) {
  free(m->cache);
  m->cache = NULL;
  return sl_ar_prepare(m, err);
}

/* Clamping is exact only if every clamped site precedes every free site in
 * the order (then the clamped prefix is drawn from nothing). */
static int ar_check_clamps(const sl_model *m, const uint8_t *fixed, sl_error *err) {
  int seen_free = 0;
  for (int64_t k = 0; k < m->L; k++) {
    int is_fixed = fixed[m->order[k]] != 0xFF;
    if (is_fixed && seen_free)
      return sl_fail(err, SL_EUSAGE, "--fix: residue %lld is not among the first sites of the model's "
                     "order, so clamping it would not sample the conditional distribution; refit with "
                     "--order listing the clamped columns first", (long long)m->pos[m->order[k]]);
    if (!is_fixed) seen_free = 1;
  }
  return SL_OK;
}

static int ar_sample_op(const sl_model *m, void *ws, sl_rng *rng, const sl_draw_opts *o, int64_t B,
                        uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err) {
  (void)ws;
  if (!m->cache) return ar_unprepared(err);
  if (o->top_p != 1.0 || o->n_prefix > 0)
    return sl_fail(err, SL_EUSAGE, "--top-p and --prefix need an ungapped model (tfm)");
  if (!(o->T > 0)) return sl_fail(err, SL_EUSAGE, "sampling needs temperature > 0 (got %g)", o->T);
  int status;
  if (o->fixed && (status = ar_check_clamps(m, o->fixed, err))) return status;
  sl_ar_sample_batch(m, rng, o->T, o->fixed, B, out, ret_logp);
  if (ret_len)
    for (int64_t b = 0; b < B; b++) ret_len[b] = m->L;
  return SL_OK;
}

static int ar_entropy_op(const sl_model *m, int64_t n, uint64_t seed, int threads, sl_entropy *ret,
                         sl_error *err) {
  int status = sl_ar_entropy(m, n, seed, threads, &ret->bits, &ret->se, err);
  if (!status) ret->n = n;
  return status;
}

/* The file's "order" (a permutation of 0..L-1) and J, one block per pair of
 * order positions (k, l < k): J_{order[k], order[l]}. */
static int ar_read(sl_model *m, const sl_model_file *f, sl_error *err) {
  const int64_t L = m->L;
  const int q = m->q;
  const cJSON *ord = cJSON_GetObjectItemCaseSensitive(f->root, "order"), *e;
  uint8_t *seen = calloc((size_t)L, 1);
  int64_t n = 0;
  if (!seen) return sl_fail(err, SL_ENOMEM, "out of memory");
  if (cJSON_IsArray(ord) && cJSON_GetArraySize(ord) == L)
    cJSON_ArrayForEach(e, ord) {
      if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= (double)L ||
          seen[(int64_t)e->valuedouble]++)
        break;
      m->order[n++] = (int64_t)e->valuedouble;
    }
  free(seen);
  if (n != L)
    return sl_fail(err, SL_EINPUT, "%s: an ar model needs 'order', a permutation of 0..%lld", f->path, (long long)L - 1);
  size_t nb = (size_t)(L * (L - 1) / 2) * (size_t)(q * q) * 4;
  const uint8_t *tj = sl_mf_tensor(f, "J", nb, err);
  if (!tj) return SL_EINPUT;
  int status = sl_mf_check_floats(f, tj, nb / 4, "J", err);
  if (status) return status;
  const uint8_t *src = tj;
  for (int64_t a1 = 1; a1 < L; a1++)
    for (int64_t l = 0; l < a1; l++, src += 4 * q * q)
      memcpy(sl_model_J(m, m->order[a1], m->order[l]), src, 4 * (size_t)(q * q));
  return SL_OK;
}

const sl_model_ops sl_ar_ops = {
  .name = "ar",
  .caps = SL_CAP_NORMALISED | SL_CAP_EXACT_SAMPLE | SL_CAP_ALIGNED,
  .summary = "autoregressive DCA (arDCA): exact likelihood and ancestral sampling",
  .create = ar_create,
  .read = ar_read,
  .prepare = ar_prepare_op,
  .energy = ar_logp,
  .logp = ar_logp,
  .sample = ar_sample_op,
  .sample_chunk = 1024,
  .entropy = ar_entropy_op,
};
