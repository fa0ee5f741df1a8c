/* seqloop/seqfile.h: reading sequence and alignment files into raw records.
 *
 * Formats: FASTA (plain or aligned), A2M, A3M and Stockholm; gzip is detected
 * by content (magic bytes), whatever the file is called; "-" reads stdin.
 * This layer only splits a file into named records and checks the syntax;
 * alphabet, column selection and row filters happen in msa.h.
 *
 * Tables (CSV) are read here too, by the same line reader (gzip, stdin,
 * binary-data checks, line numbers in errors): assay tables for `score`,
 * lab results and oracle tables for `design`.
 */
#ifndef SEQLOOP_SEQFILE_H
#define SEQLOOP_SEQFILE_H

#include <stddef.h>
#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Formats. FASTA covers plain, aligned FASTA, A2M and A3M (the difference is
 * in the rows, not the syntax, and is resolved by sl_msa_build). */
enum { SL_FMT_AUTO = 0, SL_FMT_FASTA = 1, SL_FMT_A2M = 2, SL_FMT_A3M = 3, SL_FMT_STOCKHOLM = 4 };

/* Longest header (or Stockholm line) accepted; sequence lines are unbounded. */
#define SL_MAX_HEADER 1048576

typedef struct sl_seqset {
  int64_t n;           /* number of records */
  char **name;         /* first word of the header; "" if the header is empty */
  char **desc;         /* the rest of the header ("" if none) */
  char **seq;          /* the residues as written, whitespace removed */
  int64_t *len;        /* strlen(seq[k]) */
  int64_t *line;       /* line of the record's header (Stockholm: first row line) */
  char *rf;            /* Stockholm #=GC RF annotation, or NULL */
  int format;          /* SL_FMT_FASTA or SL_FMT_STOCKHOLM: what was parsed */
  char *path;          /* the name used in messages ("-" is shown as "<stdin>") */
  uint8_t sha256[32];  /* SHA-256 of the decompressed content */
  int64_t nbytes;      /* decompressed size in bytes */
  int gzipped;         /* 1 if the input was gzip-compressed */
  void *priv_;         /* private: parser bookkeeping, NULL after reading */
} sl_seqset;

/* sl_seqset_read()
 * Purpose:  Read every record of a sequence or alignment file.
 * Args:     path   - file name, or "-" for standard input
 *           format - SL_FMT_AUTO to detect ('# STOCKHOLM' or '>' at the start)
 *           ret_ss - RETURN: the records (caller destroys)
 * Returns:  SL_OK; SL_EIO if the file cannot be opened or read (including a
 *           truncated or corrupt gzip stream); SL_EINPUT on a syntax error,
 *           with file and line in err.
 */
SL_MUSTCHECK int sl_seqset_read(const char *path, int format, sl_seqset **ret_ss, sl_error *err);

/* sl_seqset_read_mem(): the same from a memory buffer (not gzip); `name`
 * is used in messages. For fuzzing and tests. */
SL_MUSTCHECK int sl_seqset_read_mem(const char *buf, size_t len, const char *name, int format,
                                    sl_seqset **ret_ss, sl_error *err);

void sl_seqset_destroy(sl_seqset *ss);

/* sl_format_parse(): "auto", "fasta", "a2m", "a3m", "stockholm"/"sto" -> SL_FMT_*; -1 if unknown. */
int sl_format_parse(const char *s);
const char *sl_format_name(int format);

/* ---- line reader ----------------------------------------------------------
 * A line reader over plain, gzip or in-memory input.
 *
 * gzip is detected by content (magic bytes) and inflated member by member;
 * data after the last member, bzip2/xz/zstd input, CR-only line endings,
 * lines over a limit and input over a limit are errors (reader.c). Lines may be any length (the buffer
 * grows); NUL bytes and control characters other than tab, CR, VT and FF are
 * rejected as binary data, with the line number. The SHA-256 of the
 * decompressed bytes is accumulated as they are read.
 * Used by every text reader of the library (sequences, tables, structures).
 */
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

/* ---- tables (CSV) ------------------------------------------------------------------ */

typedef struct sl_csv {
  int64_t nrows;        /* data rows (header excluded) */
  int ncols;
  char **header;        /* ncols names */
  char ***cell;         /* nrows x ncols unquoted values */
  char **raw;           /* nrows raw lines (to copy input columns verbatim) */
  char *raw_header;
  int64_t *line;        /* line number of each row */
  char *path;
} sl_csv;

/* sl_csv_read(): RFC 4180 (quoted fields, doubled quotes; no newlines inside
 * quotes), a UTF-8 BOM ignored, '#' lines before the header skipped, every
 * row with the header's number of fields (else an error naming the line). */
SL_MUSTCHECK int sl_csv_read(const char *path, sl_csv **ret_csv, sl_error *err);
void sl_csv_destroy(sl_csv *csv);
/* Column index of name, or -1. */
int sl_csv_col(const sl_csv *csv, const char *name);

#ifdef __cplusplus
}
#endif
#endif
