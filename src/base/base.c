/* base.c: status codes, error reports, checked allocation, atomic output.
 *
 * Contents:
 *   1. Errors and statuses
 *   2. Checked allocation
 *   3. Atomic output files (temporary file + fsync + rename)
 *   4. Hex digests, thread defaults
 *
 * Atomic output follows the classic recipe: write to a mkstemp() file in the
 * same directory (so rename() cannot cross file systems), fsync the data, then
 * rename over the destination. A crash at any point leaves either the old file
 * or the new one, never a mixture; stray temporaries are named
 * ".<name>.tmp.XXXXXX" so that they are easy to recognise, and the next write
 * of <name> removes those no process is writing (remove_stale_temporaries).
 */
#include "seqloop/base.h"

#include <nettle/sha2.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* 1. Errors and statuses ------------------------------------------------ */

int sl_fail(sl_error *err, int status, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

void sl_error_clear(sl_error *err) {
  if (!err) return;
  err->status = SL_OK;
  err->msg[0] = '\0';
}

/* A program built against other headers than the library it runs with can
 * compare this with SL_VERSION (tests/e2e/install.sh checks both agree with
 * SL_VERSION_MAJOR/MINOR/PATCH). */
const char *sl_version(void) { return SL_VERSION; }

const char *sl_status_name(int status) {
  switch (status) {
    case SL_OK: return "ok";
    case SL_EINPUT: return "bad input";
    case SL_EUSAGE: return "usage";
    case SL_EIO: return "i/o error";
    case SL_ENOMEM: return "out of memory";
    default: return "internal error";
  }
}

int sl_exit_code(int status) {
  switch (status) {
    case SL_OK: return 0;
    case SL_EINPUT:
    case SL_EIO: return 1;
    case SL_EUSAGE: return 2;
    default: return 3;
  }
}

/* 2. Checked allocation ------------------------------------------------- */

void *sl_malloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  return malloc(n && size ? n * size : 1);
}

void *sl_calloc(size_t n, size_t size) {
  return calloc(n ? n : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  return realloc(p, n && size ? n * size : 1);
}

char *sl_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* 3. Atomic output files ------------------------------------------------ */

struct sl_outfile {
  FILE *fp;
  char *path;  /* destination; NULL for stdout */
  char *tmp;   /* temporary file name; NULL when writing to a device directly */
};

/* Stale temporaries (issue 18): a process killed while writing (a
 * checkpoint every N steps is the usual victim) leaves ".NAME.tmp.XXXXXX"
 * beside NAME. Each writer holds an exclusive flock on its temporary until
 * the rename, so when the next writer of NAME can take that lock, no process
 * is writing it (locks die with their process, kill -9 included). The
 * minute of age closes the window between another writer's mkstemp and its
 * flock. Only names of exactly this form, for this NAME, are touched. */
static void remove_stale_temporaries(const char *dir, size_t dirlen, const char *base, const char *mine) {
  char dpath[4096];
  if (dirlen >= sizeof dpath) return;
  if (dirlen) snprintf(dpath, sizeof dpath, "%.*s", (int)dirlen, dir);
  else snprintf(dpath, sizeof dpath, ".");
  DIR *d = opendir(dpath);
  if (!d) return;
  size_t bl = strlen(base);
  const char *mine_base = strrchr(mine, '/') ? strrchr(mine, '/') + 1 : mine;
  struct dirent *e;
  time_t now = time(NULL);
  while ((e = readdir(d))) {
    const char *n = e->d_name;
    if (n[0] != '.' || strncmp(n + 1, base, bl) != 0 || strncmp(n + 1 + bl, ".tmp.", 5) != 0 ||
        strlen(n + 1 + bl + 5) != 6 || strcmp(n, mine_base) == 0)
      continue;
    char full[4096 + 512];
    snprintf(full, sizeof full, "%s%s", dirlen ? dpath : "", n);
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime >= 60 && flock(fd, LOCK_EX | LOCK_NB) == 0)
      unlink(full);
    close(fd);
  }
  closedir(d);
}

int sl_outfile_open(const char *path, sl_outfile **ret_of, sl_error *err) {
  sl_outfile *of = calloc(1, sizeof *of);
  *ret_of = NULL;
  if (!of) return sl_fail(err, SL_ENOMEM, "out of memory opening %s", path);
  if (strcmp(path, "-") == 0) {
    of->fp = stdout;
    *ret_of = of;
    return SL_OK;
  }
  /* A device, fifo or symbolic link (/dev/null, /dev/stdout, a named pipe)
   * is written in place, through the link: renaming a temporary onto it
   * would replace the device node or the link with a regular file. */
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    of->fp = fopen(path, "w");
    if (!of->fp || !(of->path = sl_strdup(path))) {
      int e = errno;
      if (of->fp) fclose(of->fp);
      free(of);
      return sl_fail(err, SL_EIO, "cannot open output %s: %s", path, strerror(e));
    }
    *ret_of = of;
    return SL_OK;
  }
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0') {
    free(of);
    return sl_fail(err, SL_EUSAGE, "output path '%s' names a directory, not a file", path);
  }
  size_t n = dirlen + strlen(base) + 16;
  of->path = sl_strdup(path);
  of->tmp = malloc(n);
  if (!of->path || !of->tmp) {
    free(of->path); free(of->tmp); free(of);
    return sl_fail(err, SL_ENOMEM, "out of memory opening %s", path);
  }
  snprintf(of->tmp, n, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path, base);
  int fd = mkstemp(of->tmp);
  if (fd < 0) {
    int e = errno;
    free(of->path); free(of->tmp); free(of);
    return sl_fail(err, SL_EIO, "cannot create output file %s: %s", path, strerror(e));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) { /* not fatal: only the stale-temporary cleanup relies on it */ }
  remove_stale_temporaries(path, dirlen, base, of->tmp);
  /* mkstemp creates mode 0600; outputs get the usual 0666 minus the umask. */
  mode_t um = umask(0);
  umask(um);
  if (fchmod(fd, 0666 & ~um) != 0) { /* not fatal: the file is still ours */ }
  of->fp = fdopen(fd, "w");
  if (!of->fp) {
    int e = errno;
    close(fd); unlink(of->tmp);
    free(of->path); free(of->tmp); free(of);
    return sl_fail(err, SL_EIO, "cannot open output file %s: %s", path, strerror(e));
  }
  *ret_of = of;
  return SL_OK;
}

FILE *sl_outfile_fp(sl_outfile *of) { return of->fp; }

int sl_outfile_commit(sl_outfile *of, sl_error *err) {
  int status = SL_OK;
  if (!of->path) { /* stdout */
    if (fflush(of->fp) != 0 || ferror(of->fp))
      status = sl_fail(err, SL_EIO, "error writing to standard output: %s", strerror(errno));
    free(of);
    return status;
  }
  if (!of->tmp) { /* a device, written in place */
    if (fflush(of->fp) != 0 || ferror(of->fp)) status = sl_fail(err, SL_EIO, "error writing %s: %s", of->path, strerror(errno));
    if (fclose(of->fp) != 0 && !status) status = sl_fail(err, SL_EIO, "error closing %s: %s", of->path, strerror(errno));
    free(of->path); free(of);
    return status;
  }
  if (fflush(of->fp) != 0 || ferror(of->fp) || fsync(fileno(of->fp)) != 0) {
    status = sl_fail(err, SL_EIO, "error writing %s: %s", of->path, strerror(errno));
    fclose(of->fp);
    unlink(of->tmp);
  } else if (fclose(of->fp) != 0) {
    status = sl_fail(err, SL_EIO, "error closing %s: %s", of->path, strerror(errno));
    unlink(of->tmp);
  } else if (rename(of->tmp, of->path) != 0) {
    status = sl_fail(err, SL_EIO, "cannot rename %s to %s: %s", of->tmp, of->path, strerror(errno));
    unlink(of->tmp);
  }
  free(of->path); free(of->tmp); free(of);
  return status;
}

void sl_outfile_abort(sl_outfile *of) {
  if (!of) return;
  if (of->path) {
    fclose(of->fp);
    if (of->tmp) unlink(of->tmp);
  }
  free(of->path); free(of->tmp); free(of);
}

/* 4. Hex digests, thread defaults --------------------------------------- */

void sl_sha256_hex(const uint8_t digest[32], char *buf) {
  static const char hx[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    buf[2 * i] = hx[digest[i] >> 4];
    buf[2 * i + 1] = hx[digest[i] & 15];
  }
  buf[64] = '\0';
}

int sl_sha256_file(const char *path, char *hex) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return -1;
  struct sha256_ctx ctx;
  uint8_t buf[1 << 16], digest[32];
  size_t n;
  sha256_init(&ctx);
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sha256_update(&ctx, n, buf);
  int bad = ferror(fp);
  fclose(fp);
  if (bad) return -1;
  sha256_digest(&ctx, sizeof digest, digest);
  sl_sha256_hex(digest, hex);
  return 0;
}

/* The default thread count, in this order: OMP_NUM_THREADS (what the user
 * or an OpenMP-aware launcher asked for; "4,2" nested lists count their
 * first level), then SLURM_CPUS_PER_TASK (what a Slurm job was given: the
 * node's cores may belong to other jobs), then every core online. A value
 * that is not a positive integer is skipped. */
static int env_count(const char *name) {
  const char *e = getenv(name);
  if (!e) return 0;
  char *end = NULL;
  long v = strtol(e, &end, 10);
  if (end == e || (*end && *end != ',') || v < 1 || v > 1 << 16) return 0;
  return (int)v;
}

int sl_threads_default(void) {
  int n = env_count("OMP_NUM_THREADS");
  if (n > 0) return n;
  if ((n = env_count("SLURM_CPUS_PER_TASK")) > 0) return n;
#ifdef _OPENMP
  return omp_get_num_procs();
#else
  long np = sysconf(_SC_NPROCESSORS_ONLN);
  return np > 0 ? (int)np : 1;
#endif
}

double sl_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
