/* fault.c: allocation-failure injection in the SQLite tradition (issue 18).
 *
 * Linked into a test build of the seqloop executable with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,
 *          --wrap=aligned_alloc,--wrap=strdup
 * so that every allocation made by seqloop's own code (the library and the
 * CLI; not by shared libraries such as SQLite, zlib or OpenBLAS) goes
 * through the counters below. With SEQLOOP_FAULT_ALLOC=n the n-th
 * allocation and every later one fail (persistent failure: the cleanup path
 * itself must not need memory); with SEQLOOP_FAULT_COUNT=FILE the number of
 * allocations is written to FILE at exit, which gives the sweep its range.
 * tests/fault/sweep.sh runs a command once per n and checks that each run
 * ends cleanly: exit 3 (or 0 when the failed allocation was optional), no
 * sanitizer report, no leak, no partial output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
char *__real_strdup(const char *s);

static long long fail_at = -2, count;
static const char *count_path;

static void report(void) {
  FILE *fp = fopen(count_path, "w");
  if (fp) { fprintf(fp, "%lld\n", __atomic_load_n(&count, __ATOMIC_SEQ_CST)); fclose(fp); }
}

static int fail(void) {
  if (fail_at == -2) { /* first call; a benign race at worst reads the same environment twice */
    const char *e = getenv("SEQLOOP_FAULT_ALLOC");
    count_path = getenv("SEQLOOP_FAULT_COUNT");
    if (count_path) atexit(report);
    fail_at = e ? atoll(e) : -1;
  }
  long long k = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
  return fail_at > 0 && k >= fail_at;
}

void *__wrap_malloc(size_t n) { return fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return fail() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return fail() ? NULL : __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { return fail() ? 12 /* ENOMEM */ : __real_posix_memalign(p, a, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return fail() ? NULL : __real_aligned_alloc(a, n); }
char *__wrap_strdup(const char *s) { return fail() ? NULL : __real_strdup(s); }
