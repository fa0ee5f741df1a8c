/* reader.h (private): a line reader over plain, gzip or in-memory input.
 *
 * gzip is detected by content (magic bytes) and inflated member by member;
 * data after the last member, bzip2/xz/zstd input, CR-only line endings,
 * lines over a limit and input over a limit are errors (reader.c). Lines may be any length (the buffer
 * grows); NUL bytes and control characters other than tab, CR, VT and FF are
 * rejected as binary data, with the line number. The SHA-256 of the
 * decompressed bytes is accumulated as they are read.
 */
#ifndef SL_READER_H
#define SL_READER_H

#include <stddef.h>
#include <stdint.h>

#include "seqloop/base.h"

typedef struct sl_reader sl_reader;

SL_MUSTCHECK int sl_reader_open(const char *path, sl_reader **ret_r, sl_error *err);
SL_MUSTCHECK int sl_reader_open_mem(const char *buf, size_t len, const char *name, sl_reader **ret_r,
                                    sl_error *err);

/* sl_reader_line()
 * Purpose:  Next line, without its newline (and without a trailing '\r').
 *           *ret_line is NULL at end of input. The line stays valid until the
 *           next call.
 */
SL_MUSTCHECK int sl_reader_line(sl_reader *r, char **ret_line, size_t *ret_len, sl_error *err);

/* Default longest line (bytes): far above any real sequence line (the
 * longest proteins are ~35,000 residues), far below what a gzip bomb holds. */
#define SL_READER_MAX_LINE ((int64_t)256 << 20)

/* sl_reader_set_limits(): longest line and most decompressed bytes (values
 * <= 0 keep the current limit). Defaults: SL_READER_MAX_LINE and a quarter
 * of physical memory, or SEQLOOP_MAX_LINE / SEQLOOP_MAX_INPUT if set. */
void sl_reader_set_limits(sl_reader *r, int64_t max_line, int64_t max_input);

/* sl_reader_expect(): what the input should be, for the binary-data error
 * (default: a text sequence file); what must outlive the reader. */
void sl_reader_expect(sl_reader *r, const char *what);

int64_t sl_reader_lineno(const sl_reader *r);     /* number of the last line returned */
const char *sl_reader_name(const sl_reader *r);   /* display name ("<stdin>" for "-") */
void sl_reader_digest(sl_reader *r, uint8_t out[32]);  /* SHA-256 so far */
int64_t sl_reader_nbytes(const sl_reader *r);
int sl_reader_gzipped(const sl_reader *r);
void sl_reader_close(sl_reader *r);

#endif
