/* fuzz_gzip.c: the file reader (gzip/plain detection by content, zlib
 * errors, the line splitter) through sl_seqset_read() on a real file.
 *
 * The first input byte picks what is written to a mkstemp() file:
 *   bit 0 clear: the remaining bytes as they are (plain text, or whatever
 *                the mutator made of them, gzip magic included);
 *   bit 0 set:   the remaining bytes gzip-compressed in memory (so valid
 *                gzip streams are reached without binary seeds), then
 *     bit 1:     truncated to a length taken from byte 1 (a cut stream),
 *     bit 2:     one byte XOR-ed with byte 2, at a position from byte 3
 *                (a corrupt stream).
 * The file is read with SL_FMT_AUTO, preprocessed with default options,
 * and unlinked.
 */
#include <unistd.h>
#include <zlib.h>

#include "fuzz_common.h"

static unsigned char *gzip_mem(const uint8_t *in, size_t n, size_t *ret_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
  size_t cap = deflateBound(&z, (uLong)n) + 64;
  unsigned char *out = malloc(cap);
  if (!out) { deflateEnd(&z); return NULL; }
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  *ret_len = cap - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) { free(out); return NULL; }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  const unsigned mode = data[0], b1 = data[1], b2 = data[2], b3 = data[3];
  const uint8_t *body = data + 4;
  size_t nbody = size - 4;
  unsigned char *gz = NULL;
  const unsigned char *out = body;
  size_t nout = nbody;
  if (mode & 1) {
    gz = gzip_mem(body, nbody, &nout);
    if (!gz) return 0;
    out = gz;
    if ((mode & 2) && nout > 0) nout = (size_t)b1 * nout / 256; /* cut: keep b1/256 of it */
    if ((mode & 4) && nout > 0) gz[(size_t)b3 * nout / 256] ^= (unsigned char)(b2 ? b2 : 1);
  }
  char path[] = "/tmp/seqloop-fuzz-gzip.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) { free(gz); return 0; }
  size_t off = 0;
  while (off < nout) {
    ssize_t w = write(fd, out + off, nout - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  close(fd);
  free(gz);

  sl_seqset *ss = NULL;
  sl_error err;
  sl_error_clear(&err);
  int status = sl_seqset_read(path, SL_FMT_AUTO, &ss, &err);
  unlink(path);
  if (status) {
    fuzz_check_error(status, &err);
    if (ss) __builtin_trap();
    return 0;
  }
  fuzz_check_seqset(ss);
  if ((mode & 1) && !(mode & 6) && !ss->gzipped) __builtin_trap(); /* gzip not detected */
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  fuzz_build(ss, &o);
  sl_seqset_destroy(ss);
  return 0;
}
