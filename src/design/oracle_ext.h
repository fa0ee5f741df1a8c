/* oracle_ext.h: the external oracle's protocol reader (oracle.c), exposed
 * inside the library for the unit test (tests/unit/test_reliab.c) and the
 * fuzz target (tests/fuzz/fuzz_oracle_protocol.c). Not a public API.
 *
 * Framing: one answer is one line ending in '\n'. The reader searches for
 * the newline only in the bytes of each new read (`scanned` remembers where
 * the last search stopped) and grows its buffer geometrically, so reading an
 * answer of B bytes costs O(B) time and at most 2B + 1 MiB of memory: each
 * byte is examined once (`examined` counts them; the unit test asserts
 * examined == bytes read for a 50 MB answer, a structural bound, not a
 * timing).
 */
#ifndef SL_ORACLE_EXT_H
#define SL_ORACLE_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "seqloop/base.h"

typedef struct sl_ext_reader {
  char *buf;        /* bytes read; after a line, buf[line_len] = '\0' */
  size_t len, cap;
  size_t scanned;   /* buf[0..scanned) holds no newline */
  size_t max_line;  /* longest answer accepted (bytes; 0: 1 GiB) */
  uint64_t examined; /* bytes searched for a newline, over the reader's life */
} sl_ext_reader;

enum { SL_EXT_LINE = 0, SL_EXT_TIMEOUT, SL_EXT_EOF, SL_EXT_TOOLONG, SL_EXT_NOMEM, SL_EXT_IOERR };

/* Read until a whole line is buffered, EOF, an error or timeout_s seconds.
 * SL_EXT_LINE: the line is buf[0..*ret_len) (its '\n' replaced by '\0') and
 * buf[*ret_len + 1 .. len) are bytes that followed it in the same reads. The
 * buffer is reset at each call. */
int sl_ext_read_line(sl_ext_reader *r, int fd, double timeout_s, size_t *ret_len);
void sl_ext_reader_free(sl_ext_reader *r);

/* Check one answer line for request `id` of n sequences and fill y (NAN for
 * null). trailing: bytes that followed the line (an error: the protocol is
 * one line per request). 0 ok; -1 with why filled (no command name). */
int sl_ext_parse_answer(const char *line, size_t len, size_t trailing, uint64_t id, int64_t n, double *y,
                        char *why, size_t why_size);

#endif
