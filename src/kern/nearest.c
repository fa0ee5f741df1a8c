/* nearest.c: highest identity of a row to a set of rows (leakage audits,
 * homology-aware splits).
 *
 * Identity is Easel's esl_dst_XPairId: identical residue columns over the
 * residues of the shorter row (kern.h). Per pair that is two counts: equal
 * non-gap bytes, and each row's residue count (kept with the row).
 *
 * Twins computing the same integers:
 *   plain  - one byte at a time (sl_identity_pair is the reference)
 *   avx2   - 32 bytes per step: cmpeq + movemask + popcnt, gap mask removed
 *   avx512 - 64 bytes per step: a masked cmpeq into a mask register + popcnt
 * Rows are stored padded with gaps to a multiple of 64 columns; a gap never
 * counts as identical, so the padding changes nothing.
 *
 * A query is compared with every set row in order, and stops at the first
 * row above stop_above (split decisions only need "is there a neighbour").
 * The set is one contiguous buffer that grows by doubling; queries stream it
 * from L2 for Pfam-sized families (13,600 x 64 bytes = 870 KB).
 * Rejected: 4-query blocking as in identity.c. Splits query one row at a time
 * against a growing set, and the audit's cost (n_test x n_train pairs) is
 * already far below that of weighting the training set.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/kern.h"

struct sl_idset {
  int64_t L, Lp, n, cap;
  int kernel;
  uint8_t *x;    /* n * Lp, 64-byte aligned */
  int32_t *len;  /* residues per row */
};

static int32_t residues(const uint8_t *a, int64_t L) {
  int32_t r = 0;
  for (int64_t k = 0; k < L; k++) r += a[k] != 0;
  return r;
}

static double ratio(int32_t idents, int32_t la, int32_t lb) {
  int32_t m = la < lb ? la : lb;
  return m > 0 ? (double)idents / (double)m : 0.0;
}

double sl_identity_pair(const uint8_t *a, const uint8_t *b, int64_t L) {
  int32_t id = 0;
  for (int64_t k = 0; k < L; k++) id += (a[k] == b[k]) & (a[k] != 0);
  return ratio(id, residues(a, L), residues(b, L));
}

int sl_idset_create(int64_t L, int kernel, sl_idset **ret, sl_error *err) {
  *ret = NULL;
  kernel = sl_kernel_resolve(kernel);
  if (!sl_kernel_supported(kernel))
    return sl_fail(err, SL_EUSAGE, "the %s identity kernel is not supported by this CPU",
                   sl_kernel_name(kernel));
  if (L < 0) return sl_fail(err, SL_EUSAGE, "negative row length");
  sl_idset *s = calloc(1, sizeof *s);
  if (!s) return sl_fail(err, SL_ENOMEM, "out of memory");
  s->L = L;
  s->Lp = (L + 63) / 64 * 64;
  s->kernel = kernel;
  *ret = s;
  return SL_OK;
}

void sl_idset_destroy(sl_idset *s) {
  if (!s) return;
  free(s->x);
  free(s->len);
  free(s);
}

int64_t sl_idset_size(const sl_idset *s) { return s->n; }

int sl_idset_add(sl_idset *s, const uint8_t *row, sl_error *err) {
  if (s->n == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 64;
    uint8_t *x = aligned_alloc(64, (size_t)(cap * s->Lp > 0 ? cap * s->Lp : 64));
    int32_t *len = x ? realloc(s->len, (size_t)cap * sizeof *len) : NULL;
    if (!x || !len) {
      free(x);
      return sl_fail(err, SL_ENOMEM, "out of memory growing an identity set to %lld rows",
                     (long long)cap);
    }
    if (s->n) memcpy(x, s->x, (size_t)(s->n * s->Lp));
    free(s->x);
    s->x = x;
    s->len = len;
    s->cap = cap;
  }
  uint8_t *d = s->x + s->n * s->Lp;
  memcpy(d, row, (size_t)s->L);
  memset(d + s->L, 0, (size_t)(s->Lp - s->L));
  s->len[s->n] = residues(row, s->L);
  s->n++;
  return SL_OK;
}

/* Each twin: idents of padded query a against set rows, scanning in order and
 * stopping above the threshold. Returns the best identity, *ret_idx its row. */
static double scan_plain(const sl_idset *s, const uint8_t *a, int32_t la, int64_t skip,
                         double stop, int64_t *ret_idx) {
  double best = 0;
  int64_t bi = -1;
  for (int64_t j = 0; j < s->n; j++) {
    if (j == skip) continue;
    const uint8_t *b = s->x + j * s->Lp;
    int32_t id = 0;
    for (int64_t k = 0; k < s->L; k++) id += (a[k] == b[k]) & (a[k] != 0);
    double r = ratio(id, la, s->len[j]);
    if (r > best || bi < 0) { best = r; bi = j; }
    if (r > stop) break;
  }
  *ret_idx = bi;
  return best;
}

__attribute__((target("avx2,popcnt")))
static double scan_avx2(const sl_idset *s, const uint8_t *a, int32_t la, int64_t skip,
                        double stop, int64_t *ret_idx) {
  double best = 0;
  int64_t bi = -1;
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t j = 0; j < s->n; j++) {
    if (j == skip) continue;
    const uint8_t *b = s->x + j * s->Lp;
    int32_t id = 0;
    for (int64_t k = 0; k < s->Lp; k += 32) {
      __m256i va = _mm256_load_si256((const __m256i *)(a + k));
      __m256i vb = _mm256_load_si256((const __m256i *)(b + k));
      uint32_t eq = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(va, vb));
      eq &= ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(va, zero));
      id += __builtin_popcount(eq);
    }
    double r = ratio(id, la, s->len[j]);
    if (r > best || bi < 0) { best = r; bi = j; }
    if (r > stop) break;
  }
  *ret_idx = bi;
  return best;
}

__attribute__((target("avx512f,avx512bw,popcnt")))
static double scan_avx512(const sl_idset *s, const uint8_t *a, int32_t la, int64_t skip,
                          double stop, int64_t *ret_idx) {
  double best = 0;
  int64_t bi = -1;
  for (int64_t j = 0; j < s->n; j++) {
    if (j == skip) continue;
    const uint8_t *b = s->x + j * s->Lp;
    int32_t id = 0;
    for (int64_t k = 0; k < s->Lp; k += 64) {
      __m512i va = _mm512_load_si512((const void *)(a + k));
      __m512i vb = _mm512_load_si512((const void *)(b + k));
      id += (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(_mm512_test_epi8_mask(va, va), va, vb));
    }
    double r = ratio(id, la, s->len[j]);
    if (r > best || bi < 0) { best = r; bi = j; }
    if (r > stop) break;
  }
  *ret_idx = bi;
  return best;
}

/* Query with an already padded, aligned row. */
static double nearest_padded(const sl_idset *s, const uint8_t *a, int32_t la, int64_t skip,
                             double stop, int64_t *ret_idx) {
  switch (s->kernel) {
    case SL_KERN_AVX512: return scan_avx512(s, a, la, skip, stop, ret_idx);
    case SL_KERN_AVX2: return scan_avx2(s, a, la, skip, stop, ret_idx);
    default: return scan_plain(s, a, la, skip, stop, ret_idx);
  }
}

double sl_idset_nearest(const sl_idset *s, const uint8_t *row, int64_t skip, double stop_above,
                        int64_t *ret_idx) {
  int64_t idx = -1;
  double best = 0;
  /* A padded copy on the stack for common lengths; the heap beyond. */
  _Alignas(64) uint8_t buf[4096];
  uint8_t *a = s->Lp <= (int64_t)sizeof buf ? buf : aligned_alloc(64, (size_t)s->Lp);
  if (a) {
    memcpy(a, row, (size_t)s->L);
    memset(a + s->L, 0, (size_t)(s->Lp - s->L));
    best = nearest_padded(s, a, residues(row, s->L), skip, stop_above, &idx);
    if (a != buf) free(a);
  } else { /* out of memory for the copy: the plain twin reads the row as is */
    const sl_idset plain = {s->L, s->Lp, s->n, s->cap, SL_KERN_PLAIN, s->x, s->len};
    best = scan_plain(&plain, row, residues(row, s->L), skip, stop_above, &idx);
  }
  if (ret_idx) *ret_idx = idx;
  return best;
}

int sl_identity_nearest(const uint8_t *xq, int64_t nq, const uint8_t *xr, int64_t nr, int64_t L,
                        int same_set, int threads, int kernel, double *ret_id, int64_t *ret_idx,
                        sl_error *err) {
  sl_idset *s = NULL;
  int status = sl_idset_create(L, kernel, &s, err);
  for (int64_t j = 0; !status && j < nr; j++) status = sl_idset_add(s, xr + j * L, err);
  if (status) { sl_idset_destroy(s); return status; }
  if (threads < 1) threads = 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (int64_t k = 0; k < nq; k++) {
    int64_t idx = -1;
    ret_id[k] = sl_idset_nearest(s, xq + k * L, same_set ? k : -1, 2.0, &idx);
    if (ret_idx) ret_idx[k] = idx;
  }
  sl_idset_destroy(s);
  return SL_OK;
}
