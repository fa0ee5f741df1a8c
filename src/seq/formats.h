/* formats.h (private): the parsers behind sl_seqset_read() and the helpers
 * they share to grow a sl_seqset.
 */
#ifndef SL_FORMATS_H
#define SL_FORMATS_H

#include "seqloop/seqfile.h"
#include "seqloop/seqfile.h"

/* Each parser starts from the first non-blank line (already read, number
 * `first_lineno`) and reads to the end of input. */
SL_MUSTCHECK int sl_parse_fasta(sl_reader *r, char *first, sl_seqset *ss, sl_error *err);
SL_MUSTCHECK int sl_parse_stockholm(sl_reader *r, char *first, sl_seqset *ss, sl_error *err);

/* Append an empty record with this header; returns its index or -1 (no memory). */
int64_t sl_seqset_add(sl_seqset *ss, const char *name, size_t name_len, const char *desc,
                      int64_t line);
/* Append residues to record k (whitespace is skipped). Returns SL_OK/SL_ENOMEM. */
int sl_seqset_append(sl_seqset *ss, int64_t k, const char *s, size_t len);
/* Trim every record's buffer to its length (after parsing). */
void sl_seqset_shrink(sl_seqset *ss);

#endif
