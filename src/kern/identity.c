/* identity.c: pairwise identity counting for sequence weights.
 *
 * For every unordered pair of rows (n, m) the number of matching columns is
 * counted and compared with each row's threshold; the kernel returns, for
 * every row, how many other rows reach it. Three twins compute the same
 * integers:
 *   plain   - one byte at a time; the reference the others are tested against
 *   avx2    - 32 bytes per step: cmpeq, movemask, popcnt
 *   avx512  - 64 bytes per step: one cmpeq into a mask register, popcnt
 * Rows are copied into a 64-byte aligned buffer padded with gaps to a multiple
 * of 64 columns; for the plmc identity (gaps match) the padding adds exactly
 * (Lp - L) matches to every pair, so the thresholds are raised by that much
 * instead of masking the tail.
 *
 * Work is N(N-1)/2 pairs; rows are split across OpenMP threads with dynamic
 * scheduling (the triangle makes early rows heavier). Each thread counts into
 * a private array; counts are integers, so the sum, and hence every weight,
 * is the same for any number of threads.
 *
 * Rejected: bit-packed one-hot rows (q bit-planes, AND + popcnt): q/8 times
 * more work per pair than a byte compare once 64-byte compares are available.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "seqloop/kern.h"
#include "seqloop/progress.h"

const char *sl_kernel_name(int kernel) {
  switch (kernel) {
    case SL_KERN_PLAIN: return "plain";
    case SL_KERN_AVX2: return "avx2";
    case SL_KERN_AVX512: return "avx512";
    default: return "auto";
  }
}

int sl_kernel_resolve(int kernel) {
  if (kernel != SL_KERN_AUTO) return kernel;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f")) return SL_KERN_AVX512;
  if (__builtin_cpu_supports("avx2")) return SL_KERN_AVX2;
#endif
  return SL_KERN_PLAIN;
}

int sl_kernel_supported(int kernel) {
  if (kernel == SL_KERN_PLAIN) return 1;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (kernel == SL_KERN_AVX2) return __builtin_cpu_supports("avx2");
  if (kernel == SL_KERN_AVX512)
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
#endif
  return 0;
}

/* ---- plain twin -------------------------------------------------------- */

static void rows_plain(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                       const int32_t *mm, const int32_t *w, int64_t i, int32_t *cnt) {
  const uint8_t *a = x + i * L;
  for (int64_t j = i + 1; j < N; j++) {
    const uint8_t *b = x + j * L;
    int32_t m = 0;
    if (gaps_match)
      for (int64_t k = 0; k < L; k++) m += a[k] == b[k];
    else
      for (int64_t k = 0; k < L; k++) m += (a[k] == b[k]) & (a[k] != 0);
    cnt[i] += (m >= mm[i]) * w[j];
    cnt[j] += (m >= mm[j]) * w[i];
  }
}

/* ---- SIMD twins: blocks of 4 rows --------------------------------------
 * Row block [i0, i0+4) is compared with every later row j: each row j is
 * loaded once for four comparisons and its count updated once, which
 * quarters the memory traffic per pair. Pairs inside the block go through
 * the per-pair path. */
#define BLK 4

/* Per-pair count for pairs inside a block (any width; not hot). */
static int32_t pair_plain(const uint8_t *a, const uint8_t *b, int64_t Lp, int gaps_match) {
  int32_t m = 0;
  for (int64_t k = 0; k < Lp; k++) m += (a[k] == b[k]) & (gaps_match | (a[k] != 0));
  return m;
}

static void block_inner(const uint8_t *x, int64_t N, int64_t Lp, int gaps_match,
                        const int32_t *mm, const int32_t *w, int64_t i0, int32_t *cnt) {
  int64_t i1 = i0 + BLK < N ? i0 + BLK : N;
  for (int64_t i = i0; i < i1; i++)
    for (int64_t j = i + 1; j < i1; j++) {
      int32_t m = pair_plain(x + i * Lp, x + j * Lp, Lp, gaps_match);
      cnt[i] += (m >= mm[i]) * w[j];
      cnt[j] += (m >= mm[j]) * w[i];
    }
}

__attribute__((target("avx2,popcnt")))
static void block_avx2(const uint8_t *x, int64_t N, int64_t Lp, int gaps_match,
                       const int32_t *mm, const int32_t *w, int64_t i0, int32_t *cnt) {
  block_inner(x, N, Lp, gaps_match, mm, w, i0, cnt);
  if (i0 + BLK >= N) return;
  const __m256i zero = _mm256_setzero_si256();
  const uint8_t *a = x + i0 * Lp;
  int32_t ci[BLK] = {0}, mi[BLK], wi[BLK];
  for (int r = 0; r < BLK; r++) { mi[r] = mm[i0 + r]; wi[r] = w[i0 + r]; }
  for (int64_t j = i0 + BLK; j < N; j++) {
    const uint8_t *b = x + j * Lp;
    int32_t m[BLK] = {0};
    for (int64_t k = 0; k < Lp; k += 32) {
      __m256i vb = _mm256_load_si256((const __m256i *)(b + k));
      for (int r = 0; r < BLK; r++) {
        __m256i va = _mm256_load_si256((const __m256i *)(a + r * Lp + k));
        uint32_t eq = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(va, vb));
        if (!gaps_match) eq &= ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(va, zero));
        m[r] += __builtin_popcount(eq);
      }
    }
    int32_t mj = mm[j], wj = w[j], cj = 0;
    for (int r = 0; r < BLK; r++) {
      ci[r] += (m[r] >= mi[r]) * wj;
      cj += (m[r] >= mj) * wi[r];
    }
    cnt[j] += cj;
  }
  for (int r = 0; r < BLK; r++) cnt[i0 + r] += ci[r];
}

__attribute__((target("avx512f,avx512bw,popcnt")))
static void block_avx512(const uint8_t *x, int64_t N, int64_t Lp, int gaps_match,
                         const int32_t *mm, const int32_t *w, int64_t i0, int32_t *cnt) {
  block_inner(x, N, Lp, gaps_match, mm, w, i0, cnt);
  if (i0 + BLK >= N) return;
  const uint8_t *a = x + i0 * Lp;
  int32_t ci[BLK] = {0}, mi[BLK];
  for (int r = 0; r < BLK; r++) mi[r] = mm[i0 + r];
  const int32_t w0 = w[i0], w1 = w[i0 + 1], w2 = w[i0 + 2], w3 = w[i0 + 3];
  if (Lp == 64) { /* short families (Pfam domains): the block lives in 4 registers */
    /* Written out for the 4 rows: with arrays indexed by a loop variable the
     * compiler kept the counts on the stack, and every pair then waited on a
     * store-to-load forward (about 4x slower). */
    const __m512i v0 = _mm512_load_si512((const void *)(a)), v1 = _mm512_load_si512((const void *)(a + 64));
    const __m512i v2 = _mm512_load_si512((const void *)(a + 128)), v3 = _mm512_load_si512((const void *)(a + 192));
    const __mmask64 all = ~(__mmask64)0;
    const __mmask64 z0 = gaps_match ? all : _mm512_test_epi8_mask(v0, v0);
    const __mmask64 z1 = gaps_match ? all : _mm512_test_epi8_mask(v1, v1);
    const __mmask64 z2 = gaps_match ? all : _mm512_test_epi8_mask(v2, v2);
    const __mmask64 z3 = gaps_match ? all : _mm512_test_epi8_mask(v3, v3);
    const int32_t m0 = mi[0], m1 = mi[1], m2 = mi[2], m3 = mi[3];
    int32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (int64_t j = i0 + BLK; j < N; j++) {
      const __m512i vb = _mm512_load_si512((const void *)(x + j * 64));
      const int32_t n0 = (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(z0, v0, vb));
      const int32_t n1 = (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(z1, v1, vb));
      const int32_t n2 = (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(z2, v2, vb));
      const int32_t n3 = (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(z3, v3, vb));
      const int32_t mj = mm[j], wj = w[j];
      c0 += (n0 >= m0) * wj; c1 += (n1 >= m1) * wj; c2 += (n2 >= m2) * wj; c3 += (n3 >= m3) * wj;
      cnt[j] += (n0 >= mj) * w0 + (n1 >= mj) * w1 + (n2 >= mj) * w2 + (n3 >= mj) * w3;
    }
    ci[0] += c0; ci[1] += c1; ci[2] += c2; ci[3] += c3;
  } else {
    for (int64_t j = i0 + BLK; j < N; j++) {
      const uint8_t *b = x + j * Lp;
      int32_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
      for (int64_t k = 0; k < Lp; k += 64) {
        const __m512i vb = _mm512_load_si512((const void *)(b + k));
        const __m512i v0 = _mm512_load_si512((const void *)(a + k));
        const __m512i v1 = _mm512_load_si512((const void *)(a + Lp + k));
        const __m512i v2 = _mm512_load_si512((const void *)(a + 2 * Lp + k));
        const __m512i v3 = _mm512_load_si512((const void *)(a + 3 * Lp + k));
        const __mmask64 all = ~(__mmask64)0;
        n0 += (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(gaps_match ? all : _mm512_test_epi8_mask(v0, v0), v0, vb));
        n1 += (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(gaps_match ? all : _mm512_test_epi8_mask(v1, v1), v1, vb));
        n2 += (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(gaps_match ? all : _mm512_test_epi8_mask(v2, v2), v2, vb));
        n3 += (int32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(gaps_match ? all : _mm512_test_epi8_mask(v3, v3), v3, vb));
      }
      const int32_t mj = mm[j], wj = w[j];
      ci[0] += (n0 >= mi[0]) * wj; ci[1] += (n1 >= mi[1]) * wj; ci[2] += (n2 >= mi[2]) * wj; ci[3] += (n3 >= mi[3]) * wj;
      cnt[j] += (n0 >= mj) * w0 + (n1 >= mj) * w1 + (n2 >= mj) * w2 + (n3 >= mj) * w3;
    }
  }
  for (int r = 0; r < BLK; r++) cnt[i0 + r] += ci[r];
}

/* ---- driver ------------------------------------------------------------ */

int sl_neighbours_count(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                        const int32_t *min_match, int threads, int kernel,
                        sl_progress *progress, int64_t *ret_count, sl_error *err) {
  return sl_neighbours_count_mult(x, N, L, gaps_match, min_match, NULL, threads, kernel, progress,
                                  ret_count, err);
}

int sl_neighbours_count_mult(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                             const int32_t *min_match, const int32_t *mult, int threads, int kernel,
                             sl_progress *progress, int64_t *ret_count, sl_error *err) {
  return sl_neighbours_count_part(x, N, L, gaps_match, min_match, mult, 0, 1, threads, kernel,
                                  progress, ret_count, err);
}

/* A part takes the row blocks b (rows [b BLK, (b + 1) BLK)) with b % nparts
 * == part, each against every later row: cyclic, so the triangle's heavy
 * early blocks are dealt evenly. */
int sl_neighbours_count_part(const uint8_t *x, int64_t N, int64_t L, int gaps_match,
                             const int32_t *min_match, const int32_t *mult, int part, int nparts,
                             int threads, int kernel, sl_progress *progress, int64_t *ret_count,
                             sl_error *err) {
  if (nparts < 1 || part < 0 || part >= nparts)
    return sl_fail(err, SL_EUSAGE, "bad part %d of %d for the identity kernel", part, nparts);
  kernel = sl_kernel_resolve(kernel);
  if (!sl_kernel_supported(kernel))
    return sl_fail(err, SL_EUSAGE, "the %s identity kernel is not supported by this CPU",
                   sl_kernel_name(kernel));
  if (threads < 1) threads = 1;
  const uint8_t *rows = x;
  uint8_t *padded = NULL;
  int32_t *mm = NULL, *counts = NULL, *ones = NULL;
  int64_t Lp = L;
  int status = SL_OK;
  /* BLK spare entries: a block at the end reads whole blocks of weights */
  int32_t *w = ones = malloc((size_t)(N + BLK) * sizeof *ones);
  if (!ones) return sl_fail(err, SL_ENOMEM, "out of memory for identity kernel");
  for (int64_t n = 0; n < N + BLK; n++) ones[n] = n < N && mult ? mult[n] : 1;
  if (kernel != SL_KERN_PLAIN) {
    Lp = (L + 63) / 64 * 64;
    /* BLK - 1 spare rows so a block at the end can load whole rows. */
    if (posix_memalign((void **)&padded, 64, (size_t)((N + BLK) * Lp)) != 0)
      padded = NULL;
    mm = malloc((size_t)(N ? N : 1) * sizeof *mm);
    if (!padded || !mm) { status = sl_fail(err, SL_ENOMEM, "out of memory for identity kernel"); goto DONE; }
    for (int64_t n = 0; n < N; n++) {
      memcpy(padded + n * Lp, x + n * L, (size_t)L);
      memset(padded + n * Lp + L, 0, (size_t)(Lp - L));
      int64_t t = min_match[n];
      if (gaps_match && t != INT32_MAX) t += Lp - L; /* padding gaps match each other */
      mm[n] = t > INT32_MAX ? INT32_MAX : (int32_t)t;
    }
    memset(padded + N * Lp, 0, (size_t)(BLK * Lp));
    rows = padded;
  } else {
    mm = (int32_t *)min_match;
  }
  counts = calloc((size_t)threads * (size_t)(N ? N : 1), sizeof *counts);
  if (!counts) { status = sl_fail(err, SL_ENOMEM, "out of memory for identity counts"); goto DONE; }
  int64_t pairs = N * (N - 1) / 2; /* row pairs: row i costs N - 1 - i */
  if (nparts > 1)
    for (int64_t i = pairs = 0; i < N; i++) pairs += (i / BLK) % nparts == part ? N - 1 - i : 0;
  sl_progress_start(progress, NULL, pairs);

#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    int32_t *cnt = counts + (size_t)omp_get_thread_num() * (size_t)N;
#else
    int32_t *cnt = counts;
#endif
    if (kernel == SL_KERN_PLAIN) {
#pragma omp for schedule(dynamic, 16)
      for (int64_t i = 0; i < N; i++) {
        if ((i / BLK) % nparts != part) continue;
        rows_plain(rows, N, L, gaps_match, mm, w, i, cnt);
        sl_progress_add(progress, N - 1 - i);
      }
    } else {
#pragma omp for schedule(dynamic, 4)
      for (int64_t i0 = 0; i0 < N; i0 += BLK) {
        if ((i0 / BLK) % nparts != part) continue;
        if (kernel == SL_KERN_AVX512) block_avx512(rows, N, Lp, gaps_match, mm, w, i0, cnt);
        else block_avx2(rows, N, Lp, gaps_match, mm, w, i0, cnt);
        for (int64_t i = i0; i < i0 + BLK && i < N; i++) sl_progress_add(progress, N - 1 - i);
      }
    }
  }
  for (int64_t n = 0; n < N; n++) {
    int64_t c = 0;
    for (int t = 0; t < threads; t++) c += counts[(size_t)t * (size_t)N + (size_t)n];
    ret_count[n] = c;
  }
  sl_progress_end(progress);
DONE:
  free(padded);
  if (mm != min_match) free(mm);
  free(counts);
  free(ones);
  return status;
}
