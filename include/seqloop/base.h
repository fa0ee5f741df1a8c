/* seqloop/base.h: status codes, error reports, atomic output files, hashing.
 *
 * Every fallible seqloop function returns an int status (SL_OK on success)
 * and fills a caller-owned sl_error with a message that names the file, the
 * line and what was expected. The library never exits and never prints to
 * stdout; only the command-line layer turns a status into an exit code.
 */
#ifndef SEQLOOP_BASE_H
#define SEQLOOP_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of these headers: SL_VERSION "MAJOR.MINOR.PATCH" (the one place
 * it is written: the Makefile, seqloop.pc and the man pages read it here) and
 * SL_VERSION_NUMBER = MAJOR*10000 + MINOR*100 + PATCH for #if tests. The
 * library's own version, which may differ from the headers' when a program
 * runs against another libseqloop.so, is sl_version(). */
#define SL_VERSION "0.1.0"
#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0
#define SL_VERSION_NUMBER (SL_VERSION_MAJOR * 10000 + SL_VERSION_MINOR * 100 + SL_VERSION_PATCH)

/* sl_version(): the library's version ("0.1.0"), as SL_VERSION was when it was built. */
const char *sl_version(void);

/* Status codes. */
enum {
  SL_OK = 0,
  SL_EINPUT = 1,    /* malformed or unusable input data */
  SL_EUSAGE = 2,    /* bad arguments or options */
  SL_EIO = 3,       /* a file could not be opened, read or written */
  SL_ENOMEM = 4,    /* allocation failed */
  SL_EINTERNAL = 5  /* a bug: an invariant was violated */
};

#if defined(__GNUC__) || defined(__clang__)
#define SL_MUSTCHECK __attribute__((warn_unused_result))
#define SL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SL_MUSTCHECK
#define SL_PRINTF(a, b)
#endif

/* An error report. Callers own it (usually on the stack); functions fill it. */
typedef struct sl_error {
  int status;
  char msg[1024];
} sl_error;

/* sl_fail()
 * Purpose:  Record a failure: format msg into err (if err is not NULL).
 * Returns:  status, so that callers can write `return sl_fail(err, SL_EINPUT, ...)`.
 */
int sl_fail(sl_error *err, int status, const char *fmt, ...) SL_PRINTF(3, 4);

/* sl_error_clear(): reset an error report to SL_OK and an empty message. */
void sl_error_clear(sl_error *err);

/* sl_status_name(): a short name for a status ("bad input", "usage", ...). */
const char *sl_status_name(int status);

/* sl_exit_code()
 * Purpose:  Map a status to the process exit code documented in docs/cli.md:
 *           0 ok, 1 bad input (including unreadable input files), 2 usage,
 *           3 internal or out of memory.
 */
int sl_exit_code(int status);

/* Allocation helpers: like malloc/calloc/realloc, but a size overflow returns
 * NULL (callers report SL_ENOMEM). */
void *sl_malloc(size_t n, size_t size);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t n, size_t size);
char *sl_strdup(const char *s);

/* ---- Atomic output files ----------------------------------------------
 * Output is written to a temporary file in the destination's directory and
 * renamed over the destination only on commit (after fflush and fsync), so an
 * interrupted or failed command never leaves a partial file behind. The path
 * "-" means standard output (no atomicity is possible there).
 */
typedef struct sl_outfile sl_outfile;

SL_MUSTCHECK int sl_outfile_open(const char *path, sl_outfile **ret_of, sl_error *err);
FILE *sl_outfile_fp(sl_outfile *of);
/* Flush, fsync, close and rename into place; frees of (also on failure). */
SL_MUSTCHECK int sl_outfile_commit(sl_outfile *of, sl_error *err);
/* Close and remove the temporary file; frees of. abort(NULL) is a no-op. */
void sl_outfile_abort(sl_outfile *of);

/* ---- Hashing ----------------------------------------------------------- */
#define SL_SHA256_HEX 65 /* 64 hex digits + NUL */

/* sl_sha256_hex(): hex SHA-256 of a 32-byte digest into buf (SL_SHA256_HEX). */
void sl_sha256_hex(const uint8_t digest[32], char *buf);
/* sl_sha256_file(): hex SHA-256 of a file's bytes, streamed in 64 KiB reads, into hex
 * (SL_SHA256_HEX); 0, or -1 when the file cannot be opened or read. */
int sl_sha256_file(const char *path, char *hex);

/* ---- Threads ----------------------------------------------------------- */
/* sl_threads_default(): OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK, else the cores online. */
int sl_threads_default(void);

/* sl_seconds(): a monotonic clock in seconds (for reports; never for results). */
double sl_seconds(void);

/* ---- string hash map ------------------------------------------------------
 * A small open-addressing hash map from strings to int64 values, used for
 * name look-ups (Stockholm rows, duplicate names, duplicate sequences). Keys
 * are borrowed, not copied: they must outlive the map.
 */
typedef struct sl_strmap sl_strmap;

sl_strmap *sl_strmap_create(size_t expected);
void sl_strmap_destroy(sl_strmap *m);
/* Look up key (len bytes); returns its value or -1. */
int64_t sl_strmap_get(const sl_strmap *m, const char *key, size_t len);
/* Insert key -> value if absent. Returns the value already there, -1 if the
 * key was new (and is now inserted), or -2 when out of memory. */
int64_t sl_strmap_put(sl_strmap *m, const char *key, size_t len, int64_t value);

/* ---- dense solver ----------------------------------------------------------
 * The one small dense solver the library needs (the profile's per-column
 * Newton steps, the design predictor's kernel ridge). Dense math of any
 * size goes through OpenBLAS (the transformer); these systems are q x q or a
 * few hundred rows, where a plain loop is enough.
 */
/* sl_cholesky_solve(): solve A x = b for symmetric positive definite A
 * (n x n, row-major), by Cholesky in place: A is overwritten by its lower
 * factor, b by x. Returns 0, or -1 when A is not positive definite. */
int sl_cholesky_solve(double *A, double *b, int64_t n);
/* sl_cholesky_factor(): the lower Cholesky factor of A in place (the upper
 * triangle is left as it was). Returns 0, or -1 when A is not positive
 * definite. */
int sl_cholesky_factor(double *A, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
