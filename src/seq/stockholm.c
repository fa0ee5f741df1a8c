/* stockholm.c: the Stockholm 1.0 parser (Pfam, Rfam, HMMER's outputs).
 *
 * What is read: sequence rows "name aligned-seq", interleaved over blocks
 * separated by blank lines (a row continues the row of the same name in the
 * first block); "#=GC RF" (reference columns, concatenated over blocks);
 * the "//" terminator. Other annotation (#=GF, #=GS, #=GR, other #=GC) is
 * skipped. What is an error: a missing "//"; a name that is not in the first
 * block, or appears twice in one block; rows of different total lengths; a
 * second alignment after "//" (seqloop reads one alignment per file).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/base.h"
#include "formats.h"

static int is_blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

/* Split "tok1 tok2 rest" at whitespace; returns pointers into line. */
static const char *next_tok(const char *p, const char **ret_end) {
  while (*p && isspace((unsigned char)*p)) p++;
  const char *e = p;
  while (*e && !isspace((unsigned char)*e)) e++;
  *ret_end = e;
  return p;
}

int sl_parse_stockholm(sl_reader *r, char *first, sl_seqset *ss, sl_error *err) {
  (void)first; /* the "# STOCKHOLM" line itself carries nothing we keep */
  sl_strmap *map = sl_strmap_create(1024);
  int64_t *seen_in_block = NULL; /* block number in which each row was last seen */
  int64_t seen_cap = 0;
  int64_t block = 0, rows_in_block = 0, rf_len = 0, rf_cap = 0;
  int ended = 0, status = SL_OK;
  char *line;
  size_t len;
  if (!map) return sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path);

  for (;;) {
    if ((status = sl_reader_line(r, &line, &len, err))) goto DONE;
    if (!line) break;
    int64_t ln = sl_reader_lineno(r);
    if (len > SL_MAX_HEADER) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: line is %zu characters long; at most %d "
                       "are accepted in Stockholm", ss->path, (long long)ln, len, SL_MAX_HEADER);
      goto DONE;
    }
    if (ended) {
      if (is_blank(line)) continue;
      status = sl_fail(err, SL_EINPUT, "%s line %lld: a second alignment follows '//'; seqloop "
                       "reads one alignment per file (split the file first)", ss->path,
                       (long long)ln);
      goto DONE;
    }
    if (is_blank(line)) {
      if (rows_in_block > 0) block++;
      rows_in_block = 0;
      continue;
    }
    if (strncmp(line, "//", 2) == 0) { ended = 1; continue; }
    if (line[0] == '#') {
      if (strncmp(line, "#=GC", 4) == 0) {
        const char *e, *tag = next_tok(line + 4, &e);
        if ((size_t)(e - tag) == 2 && strncmp(tag, "RF", 2) == 0) {
          const char *se, *s = next_tok(e, &se);
          size_t n = (size_t)(se - s);
          if (rf_len + (int64_t)n + 1 > rf_cap) {
            rf_cap = 2 * (rf_len + (int64_t)n + 1);
            char *p = realloc(ss->rf, (size_t)rf_cap);
            if (!p) { status = sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path); goto DONE; }
            ss->rf = p;
          }
          memcpy(ss->rf + rf_len, s, n);
          rf_len += (int64_t)n;
          ss->rf[rf_len] = '\0';
        }
      }
      continue; /* #=GF, #=GS, #=GR, other #=GC, comments */
    }
    const char *ne, *name = next_tok(line, &ne);
    const char *se, *seq = next_tok(ne, &se);
    const char *xe, *extra = next_tok(se, &xe);
    if (seq == se || extra != xe) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: expected '<name> <aligned sequence>' "
                       "(two fields), found %s", ss->path, (long long)ln,
                       seq == se ? "one field" : "more than two fields");
      goto DONE;
    }
    for (const char *p = seq; p < se; p++) {
      unsigned char c = (unsigned char)*p;
      if (!(isalpha(c) || c == '-' || c == '.' || c == '*')) {
        status = sl_fail(err, SL_EINPUT, "%s line %lld, column %lld: unexpected character '%c' "
                         "(0x%02x) in a sequence; expected residue letters, '-', '.' or '*'",
                         ss->path, (long long)ln, (long long)(p - line + 1),
                         isprint(c) ? c : '?', c);
        goto DONE;
      }
    }
    int64_t k = sl_strmap_get(map, name, (size_t)(ne - name));
    if (k < 0) {
      if (block > 0) {
        status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence '%.*s' does not appear in the "
                         "first block; every block must list the same sequences", ss->path,
                         (long long)ln, (int)(ne - name), name);
        goto DONE;
      }
      k = sl_seqset_add(ss, name, (size_t)(ne - name), "", ln);
      if (k < 0 || sl_strmap_put(map, ss->name[k], strlen(ss->name[k]), k) == -2) {
        status = sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path);
        goto DONE;
      }
      if (k >= seen_cap) {
        seen_cap = 2 * (k + 1);
        int64_t *p = realloc(seen_in_block, (size_t)seen_cap * sizeof *p);
        if (!p) { status = sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path); goto DONE; }
        seen_in_block = p;
      }
      seen_in_block[k] = -1;
    }
    if (seen_in_block[k] == block) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence '%s' appears twice in one block",
                       ss->path, (long long)ln, ss->name[k]);
      goto DONE;
    }
    seen_in_block[k] = block;
    rows_in_block++;
    if (sl_seqset_append(ss, k, seq, (size_t)(se - seq))) {
      status = sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path);
      goto DONE;
    }
  }
  if (!ended) {
    status = sl_fail(err, SL_EINPUT, "%s line %lld: end of file before the '//' that ends a "
                     "Stockholm alignment (truncated file?)", ss->path,
                     (long long)sl_reader_lineno(r));
    goto DONE;
  }
  for (int64_t k = 1; k < ss->n; k++)
    if (ss->len[k] != ss->len[0]) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence '%s' has %lld aligned columns, "
                       "but '%s' has %lld; all rows must have the same length", ss->path,
                       (long long)ss->line[k], ss->name[k], (long long)ss->len[k], ss->name[0],
                       (long long)ss->len[0]);
      goto DONE;
    }
  if (ss->rf && ss->n > 0 && rf_len != ss->len[0]) {
    status = sl_fail(err, SL_EINPUT, "%s: the #=GC RF line has %lld columns, but the rows have "
                     "%lld", ss->path, (long long)rf_len, (long long)ss->len[0]);
    goto DONE;
  }
DONE:
  free(seen_in_block);
  sl_strmap_destroy(map);
  return status;
}
