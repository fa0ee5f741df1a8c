/* reader.c: line reader over gzip/plain files, stdin, or memory.
 *
 * Input is pulled in 256 KiB chunks (gzread for files, memcpy for memory
 * buffers) and split into lines in a growable buffer, so a 10 MB line costs
 * one buffer of that size and nothing else. The binary-data check runs over
 * each chunk as it arrives (one pass, byte table), before any parser sees it.
 */
#include "reader.h"

#include <errno.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK (256 * 1024)

struct sl_reader {
  gzFile gz;             /* NULL for memory input */
  const char *mem;       /* memory input */
  size_t mem_len, mem_pos;
  char *name;            /* display name */
  unsigned char *chunk;  /* current chunk */
  size_t chunk_len, chunk_pos;
  int64_t chunk_line;    /* line number at chunk_pos */
  int eof;
  char *line;            /* current line */
  size_t line_cap;
  int64_t lineno;
  int64_t nbytes;
  int gzipped;
  struct sha256_ctx sha;
};

static int reader_alloc(const char *name, sl_reader **ret_r, sl_error *err) {
  sl_reader *r = calloc(1, sizeof *r);
  if (!r) return sl_fail(err, SL_ENOMEM, "out of memory opening %s", name);
  r->name = sl_strdup(name);
  r->chunk = malloc(CHUNK);
  r->line_cap = 4096;
  r->line = malloc(r->line_cap);
  if (!r->name || !r->chunk || !r->line) {
    sl_reader_close(r);
    return sl_fail(err, SL_ENOMEM, "out of memory opening %s", name);
  }
  sha256_init(&r->sha);
  *ret_r = r;
  return SL_OK;
}

int sl_reader_open(const char *path, sl_reader **ret_r, sl_error *err) {
  int is_stdin = strcmp(path, "-") == 0;
  sl_reader *r = NULL;
  *ret_r = NULL;
  int status = reader_alloc(is_stdin ? "<stdin>" : path, &r, err);
  if (status) return status;
  struct stat sb;
  if (!is_stdin && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    sl_reader_close(r);
    return sl_fail(err, SL_EIO, "cannot read %s: it is a directory, not a file", path);
  }
  r->gz = is_stdin ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
  if (!r->gz) {
    int e = errno;
    sl_reader_close(r);
    return sl_fail(err, SL_EIO, "cannot open %s: %s", path, e ? strerror(e) : "unknown error");
  }
  gzbuffer(r->gz, CHUNK);
  *ret_r = r;
  return SL_OK;
}

int sl_reader_open_mem(const char *buf, size_t len, const char *name, sl_reader **ret_r,
                       sl_error *err) {
  sl_reader *r = NULL;
  *ret_r = NULL;
  int status = reader_alloc(name, &r, err);
  if (status) return status;
  r->mem = buf;
  r->mem_len = len;
  *ret_r = r;
  return SL_OK;
}

/* Binary-data table: 1 for bytes that never occur in a text sequence file. */
static const unsigned char *binary_table(void) {
  static unsigned char t[256];
  static int init = 0;
  if (!init) { /* idempotent, so a benign race at worst writes the same bytes */
    for (int c = 0; c < 32; c++) t[c] = 1;
    t['\t'] = t['\n'] = t['\r'] = t['\v'] = t['\f'] = 0;
    t[127] = 1;
    init = 1;
  }
  return t;
}

static int fill(sl_reader *r, sl_error *err) {
  r->chunk_pos = 0;
  r->chunk_len = 0;
  if (r->eof) return SL_OK;
  if (r->gz) {
    int n = gzread(r->gz, r->chunk, CHUNK);
    if (n < 0) {
      int zerr;
      const char *msg = gzerror(r->gz, &zerr);
      return sl_fail(err, SL_EIO, "%s: corrupt gzip data near line %lld (%s)", r->name,
                     (long long)r->lineno + 1, msg);
    }
    if (r->nbytes == 0 && n > 0) r->gzipped = !gzdirect(r->gz);
    if (n == 0) {
      int zerr;
      const char *msg = gzerror(r->gz, &zerr);
      if (zerr != Z_OK && zerr != Z_STREAM_END)
        return sl_fail(err, SL_EIO, "%s: truncated or corrupt gzip stream after line %lld (%s)",
                       r->name, (long long)r->lineno, msg);
      r->eof = 1;
    }
    r->chunk_len = (size_t)n;
  } else {
    size_t n = r->mem_len - r->mem_pos;
    if (n > CHUNK) n = CHUNK;
    memcpy(r->chunk, r->mem + r->mem_pos, n);
    r->mem_pos += n;
    if (n == 0) r->eof = 1;
    r->chunk_len = n;
  }
  const unsigned char *bin = binary_table();
  for (size_t i = 0; i < r->chunk_len; i++) {
    unsigned char c = r->chunk[i];
    if (bin[c]) { /* the line being read is lineno + 1, plus newlines earlier in this chunk */
      int64_t line = r->lineno + 1;
      for (size_t k = 0; k < i; k++) line += r->chunk[k] == '\n';
      return sl_fail(err, SL_EINPUT,
                     "%s line %lld: binary data (byte 0x%02x); expected a text sequence file "
                     "(FASTA, A2M, A3M or Stockholm, optionally gzipped)",
                     r->name, (long long)line, c);
    }
  }
  sha256_update(&r->sha, r->chunk_len, r->chunk);
  r->nbytes += (int64_t)r->chunk_len;
  return SL_OK;
}

int sl_reader_line(sl_reader *r, char **ret_line, size_t *ret_len, sl_error *err) {
  size_t len = 0;
  int got = 0;
  *ret_line = NULL;
  *ret_len = 0;
  for (;;) {
    if (r->chunk_pos >= r->chunk_len) {
      if (r->eof) break;
      int status = fill(r, err);
      if (status) return status;
      if (r->chunk_len == 0) break;
    }
    unsigned char *start = r->chunk + r->chunk_pos;
    size_t avail = r->chunk_len - r->chunk_pos;
    unsigned char *nl = memchr(start, '\n', avail);
    size_t take = nl ? (size_t)(nl - start) : avail;
    if (len + take + 1 > r->line_cap) {
      size_t cap = r->line_cap;
      while (cap < len + take + 1) cap *= 2;
      char *p = realloc(r->line, cap);
      if (!p) return sl_fail(err, SL_ENOMEM, "%s: out of memory reading line %lld", r->name,
                             (long long)r->lineno + 1);
      r->line = p;
      r->line_cap = cap;
    }
    memcpy(r->line + len, start, take);
    len += take;
    got = 1;
    r->chunk_pos += take + (nl ? 1 : 0);
    if (nl) break;
  }
  if (!got) return SL_OK; /* end of input */
  if (len > 0 && r->line[len - 1] == '\r') len--;
  r->line[len] = '\0';
  r->lineno++;
  *ret_line = r->line;
  *ret_len = len;
  return SL_OK;
}

int64_t sl_reader_lineno(const sl_reader *r) { return r->lineno; }
const char *sl_reader_name(const sl_reader *r) { return r->name; }
int64_t sl_reader_nbytes(const sl_reader *r) { return r->nbytes; }
int sl_reader_gzipped(const sl_reader *r) { return r->gzipped; }

void sl_reader_digest(sl_reader *r, uint8_t out[32]) {
  struct sha256_ctx copy = r->sha;
  sha256_digest(&copy, 32, out);
}

void sl_reader_close(sl_reader *r) {
  if (!r) return;
  if (r->gz) gzclose(r->gz);
  free(r->name);
  free(r->chunk);
  free(r->line);
  free(r);
}
