/* reader.c: line reader over gzip/plain files, stdin, or memory.
 *
 * Input is pulled in 256 KiB chunks (read(2) and zlib's inflate for files,
 * memcpy for memory buffers) and split into lines in a growable buffer, so a
 * 10 MB line costs one buffer of that size and nothing else. The binary-data
 * check runs over each chunk as it arrives (one pass, byte table), before any
 * parser sees it.
 *
 * Compression is decided by the first bytes, never by the name: gzip (1f 8b)
 * is inflated here, member after member (a concatenation of gzip files is a
 * gzip file); anything after the last member that is not another member is
 * an error, never silently dropped (zlib's gzread() ignores such trailing
 * data, which shortened alignments without a word). bzip2, xz and zstd magic
 * bytes get an error that names the format.
 *
 * Limits (memory is bounded by what the input needs, and a gzip bomb fails
 * with a message before the machine runs out): a line may hold at most
 * SL_READER_MAX_LINE bytes and the decompressed input at most a quarter of
 * physical memory; both can be changed with sl_reader_set_limits() or the
 * environment variables SEQLOOP_MAX_LINE and SEQLOOP_MAX_INPUT (bytes, with
 * an optional K, M or G suffix).
 */
#include "seqloop/seqfile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK (256 * 1024)

struct sl_reader {
  int fd;                /* file input, -1 for memory input */
  int gz_mode;           /* 1: inflating gzip members */
  z_stream zs;
  int zs_init;
  unsigned char *in;     /* raw (compressed or plain) bytes read from fd */
  size_t in_len, in_pos;
  int in_eof;
  int64_t in_total;      /* raw bytes consumed so far (for messages) */
  int64_t max_line, max_input;
  const char *expect;    /* what the input should be, for the binary-data message */
  const char *mem;       /* memory input */
  size_t mem_len, mem_pos;
  char *name;            /* display name */
  unsigned char *chunk;  /* current chunk */
  size_t chunk_len, chunk_pos;
  int64_t chunk_line;    /* line number at chunk_pos */
  int eof;
  int member_end;        /* gzip: the last member ended; more input must be a member */
  char *line;            /* current line */
  size_t line_cap;
  int64_t lineno;
  int64_t nbytes;
  int gzipped;
  struct sha256_ctx sha;
};

/* "123", "64K", "256M", "8G" -> bytes; -1 if malformed. */
static int64_t parse_size(const char *s) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno || v <= 0) return -1;
  int64_t m = 1;
  if (*end == 'K' || *end == 'k') m = 1LL << 10, end++;
  else if (*end == 'M' || *end == 'm') m = 1LL << 20, end++;
  else if (*end == 'G' || *end == 'g') m = 1LL << 30, end++;
  if (*end || v > INT64_MAX / m) return -1;
  return (int64_t)v * m;
}

static int64_t default_max_input(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || psz <= 0) return INT64_MAX;
  return (int64_t)pages * (int64_t)psz / 4;
}

static int reader_alloc(const char *name, sl_reader **ret_r, sl_error *err) {
  sl_reader *r = calloc(1, sizeof *r);
  if (!r) return sl_fail(err, SL_ENOMEM, "out of memory opening %s", name);
  r->fd = -1;
  r->expect = "a text sequence file (FASTA, A2M, A3M or Stockholm, optionally gzipped)";
  r->max_line = SL_READER_MAX_LINE;
  r->max_input = default_max_input();
  const char *e;
  if ((e = getenv("SEQLOOP_MAX_LINE")) && parse_size(e) > 0) r->max_line = parse_size(e);
  if ((e = getenv("SEQLOOP_MAX_INPUT")) && parse_size(e) > 0) r->max_input = parse_size(e);
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

/* Read more raw bytes into r->in (keeping unconsumed ones); sets in_eof. */
static int raw_more(sl_reader *r, sl_error *err) {
  if (r->in_pos > 0) {
    memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
    r->in_len -= r->in_pos;
    r->in_pos = 0;
  }
  while (r->in_len < CHUNK && !r->in_eof) {
    ssize_t n = read(r->fd, r->in + r->in_len, CHUNK - r->in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sl_fail(err, SL_EIO, "%s: read error: %s", r->name, strerror(errno));
    if (n == 0) r->in_eof = 1;
    r->in_len += (size_t)n;
    if (n > 0) break;
  }
  return SL_OK;
}

/* Decide plain or gzip from the first bytes; refuse other compressors. */
static int sniff(sl_reader *r, sl_error *err) {
  int status;
  while (r->in_len < 6 && !r->in_eof)
    if ((status = raw_more(r, err))) return status;
  const unsigned char *b = r->in;
  size_t n = r->in_len;
  const char *other = NULL, *tool = NULL;
  if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') other = "bzip2", tool = "bunzip2 -k";
  else if (n >= 6 && !memcmp(b, "\xfd" "7zXZ\0", 6)) other = "xz", tool = "unxz -k";
  else if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) other = "zstd", tool = "unzstd";
  if (other)
    return sl_fail(err, SL_EINPUT, "%s: %s-compressed input is not supported (only gzip is); "
                   "decompress it first (%s FILE)", r->name, other, tool);
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
      return sl_fail(err, SL_ENOMEM, "%s: out of memory starting gzip decompression", r->name);
    r->zs_init = 1;
    r->gz_mode = 1;
    r->gzipped = 1;
  }
  return SL_OK;
}

void sl_reader_set_limits(sl_reader *r, int64_t max_line, int64_t max_input) {
  if (max_line > 0) r->max_line = max_line;
  if (max_input > 0) r->max_input = max_input;
}

void sl_reader_expect(sl_reader *r, const char *what) { r->expect = what; }

/* Next chunk of decompressed (or plain) file bytes into r->chunk. */
static int fill_fd(sl_reader *r, sl_error *err) {
  int status;
  if (!r->gz_mode) {
    if (r->in_pos >= r->in_len && !r->in_eof && (status = raw_more(r, err))) return status;
    size_t n = r->in_len - r->in_pos;
    memcpy(r->chunk, r->in + r->in_pos, n);
    r->in_pos += n;
    r->in_total += (int64_t)n;
    r->chunk_len = n;
    if (n == 0) r->eof = 1;
    return SL_OK;
  }
  while (r->chunk_len == 0) {
    if (r->in_pos >= r->in_len) {
      if (!r->in_eof && (status = raw_more(r, err))) return status;
      if (r->in_pos >= r->in_len) { /* no more raw input */
        if (!r->member_end)
          return sl_fail(err, SL_EIO, "%s: truncated or corrupt gzip stream after line %lld "
                         "(inside a gzip member: unexpected end of file)", r->name, (long long)r->lineno);
        r->eof = 1;
        return SL_OK;
      }
    }
    if (r->member_end) { /* more input after a member: it must be another member */
      while (r->in_len - r->in_pos < 2 && !r->in_eof)
        if ((status = raw_more(r, err))) return status;
      const unsigned char *b = r->in + r->in_pos;
      if (r->in_len - r->in_pos < 2 || b[0] != 0x1f || b[1] != 0x8b)
        return sl_fail(err, SL_EINPUT, "%s: data that is not gzip after the end of the gzip "
                       "stream (at compressed byte %lld, after line %lld); the file is a gzip "
                       "member followed by other bytes: refusing to drop them",
                       r->name, (long long)r->in_total, (long long)r->lineno);
      inflateReset(&r->zs);
      r->member_end = 0;
    }
    r->zs.next_in = r->in + r->in_pos;
    r->zs.avail_in = (uInt)(r->in_len - r->in_pos);
    r->zs.next_out = r->chunk;
    r->zs.avail_out = CHUNK;
    int z = inflate(&r->zs, Z_NO_FLUSH);
    size_t used = (r->in_len - r->in_pos) - r->zs.avail_in;
    r->in_pos += used;
    r->in_total += (int64_t)used;
    r->chunk_len = CHUNK - r->zs.avail_out;
    if (z == Z_STREAM_END) r->member_end = 1;
    else if (z == Z_BUF_ERROR) { /* no progress possible with the bytes at hand */
      if (r->in_eof)
        return sl_fail(err, SL_EIO, "%s: truncated or corrupt gzip stream after line %lld "
                       "(unexpected end of file)", r->name,
                       (long long)r->lineno);
      if ((status = raw_more(r, err))) return status;
    } else if (z != Z_OK)
      return sl_fail(err, SL_EIO, "%s: corrupt gzip data near line %lld (%s)", r->name,
                     (long long)r->lineno + 1, r->zs.msg ? r->zs.msg : "inflate error");
  }
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
  r->fd = is_stdin ? dup(0) : open(path, O_RDONLY);
  if (r->fd < 0) {
    int e = errno;
    sl_reader_close(r);
    return sl_fail(err, SL_EIO, "cannot open %s: %s", path, e ? strerror(e) : "unknown error");
  }
  r->in = malloc(CHUNK);
  if (!r->in) {
    sl_reader_close(r);
    return sl_fail(err, SL_ENOMEM, "out of memory opening %s", path);
  }
  if ((status = sniff(r, err))) {
    sl_reader_close(r);
    return status;
  }
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
  if (r->fd >= 0) {
    int status = fill_fd(r, err);
    if (status) return status;
  } else {
    size_t n = r->mem_len - r->mem_pos;
    if (n > CHUNK) n = CHUNK;
    memcpy(r->chunk, r->mem + r->mem_pos, n);
    r->mem_pos += n;
    if (n == 0) r->eof = 1;
    r->chunk_len = n;
  }
  if (r->nbytes + (int64_t)r->chunk_len > r->max_input)
    return sl_fail(err, SL_EINPUT, "%s: more than %lld bytes of input%s (limit: a quarter of "
                   "physical memory, or SEQLOOP_MAX_INPUT); refusing to read further",
                   r->name, (long long)r->max_input, r->gzipped ? " after decompression" : "");
  const unsigned char *bin = binary_table();
  for (size_t i = 0; i < r->chunk_len; i++) {
    unsigned char c = r->chunk[i];
    if (bin[c]) { /* the line being read is lineno + 1, plus newlines earlier in this chunk */
      int64_t line = r->lineno + 1;
      for (size_t k = 0; k < i; k++) line += r->chunk[k] == '\n';
      return sl_fail(err, SL_EINPUT,
                     "%s line %lld: binary data (byte 0x%02x); expected %s",
                     r->name, (long long)line, c, r->expect);
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
    if ((int64_t)(len + take) > r->max_line)
      return sl_fail(err, SL_EINPUT, "%s line %lld: longer than %lld bytes (the line limit; set "
                     "SEQLOOP_MAX_LINE to raise it)", r->name, (long long)r->lineno + 1,
                     (long long)r->max_line);
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
  if (memchr(r->line, '\r', len))
    return sl_fail(err, SL_EINPUT, "%s line %lld: a carriage return inside the line: the file has "
                   "CR-only (classic Mac) line endings; convert them first (tr '\\r' '\\n')",
                   r->name, (long long)r->lineno);
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
  if (r->fd >= 0) close(r->fd);
  if (r->zs_init) inflateEnd(&r->zs);
  free(r->in);
  free(r->name);
  free(r->chunk);
  free(r->line);
  free(r);
}
