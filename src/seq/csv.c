/* csv.c: a small RFC 4180 reader for tables (ProteinGym assay CSVs, lab results,
 * oracle tables), over the same line reader as the sequence parsers.
 *
 * Each data row keeps its raw text so that `seqloop score` can copy every
 * input column verbatim and append its own. Quoted fields may hold commas
 * and doubled quotes, not newlines (no assay table here needs them; a
 * quote left open at the end of a line is an error naming the line).
 */
#include <stdlib.h>
#include <string.h>

#include "seqloop/seqfile.h"
#include "seqloop/seqfile.h"

void sl_csv_destroy(sl_csv *c) {
  if (!c) return;
  for (int64_t r = 0; r < c->nrows; r++) {
    for (int k = 0; k < c->ncols; k++) free(c->cell[r][k]);
    free(c->cell[r]);
    free(c->raw[r]);
  }
  for (int k = 0; k < c->ncols; k++) free(c->header[k]);
  free(c->header); free(c->cell); free(c->raw); free(c->line);
  free(c->raw_header); free(c->path);
  free(c);
}

int sl_csv_col(const sl_csv *c, const char *name) {
  for (int k = 0; k < c->ncols; k++)
    if (strcmp(c->header[k], name) == 0) return k;
  return -1;
}

/* Split one line into fields; returns the count or -1 for an open quote.
 * Each field is sized by a scan to its end before it is allocated, so a line
 * of F fields costs O(length) time and memory (allocating "the rest of the
 * line" per field made a 10^6-field line quadratic: 182 s and 12 GB). */
static int split(const char *line, char ***ret, int *cap) {
  int n = 0;
  const char *p = line;
  for (;;) {
    const char *e = p; /* one past the field's last byte */
    if (*e == '"') {
      for (e++;; e++) {
        if (*e == '\0') { for (int k = 0; k < n; k++) free((*ret)[k]); return -1; }
        if (*e == '"') { if (e[1] == '"') { e++; continue; } e++; break; }
      }
    }
    while (*e && *e != ',') e++;
    char *f = malloc((size_t)(e - p) + 1);
    size_t o = 0;
    if (!f) {
      for (int k = 0; k < n; k++) free((*ret)[k]);
      return -2;
    }
    if (*p == '"') {
      p++;
      for (;;) {
        if (*p == '"') {
          if (p[1] == '"') { f[o++] = '"'; p += 2; continue; }
          p++;
          break;
        }
        f[o++] = *p++;
      }
    }
    while (p < e) f[o++] = *p++; /* text after a closing quote is kept */
    f[o] = 0;
    if (n == *cap) {
      *cap = *cap ? 2 * *cap : 16;
      char **nf = realloc(*ret, (size_t)*cap * sizeof *nf);
      if (!nf) {
        free(f);
        for (int k = 0; k < n; k++) free((*ret)[k]);
        return -2;
      }
      *ret = nf;
    }
    (*ret)[n++] = f;
    if (*p != ',') break;
    p++;
  }
  return n;
}

int sl_csv_read(const char *path, sl_csv **ret_csv, sl_error *err) {
  sl_reader *r = NULL;
  sl_csv *c = calloc(1, sizeof *c);
  char *line;
  size_t len;
  int64_t cap = 0;
  int status = sl_reader_open(path, &r, err);
  *ret_csv = NULL;
  if (!c) { sl_reader_close(r); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if (status) { free(c); return status; }
  sl_reader_expect(r, "a text table (CSV, optionally gzipped)");
  c->path = sl_strdup(sl_reader_name(r));
  for (;;) {
    if ((status = sl_reader_line(r, &line, &len, err))) goto ERROR;
    if (!line) break;
    if (!c->header && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
        (unsigned char)line[2] == 0xBF)
      line += 3; /* UTF-8 byte-order mark */
    if (!c->header && (line[0] == '#' || line[0] == '\0')) continue;
    char **f = NULL;
    int fcap = 0, n = split(line, &f, &fcap);
    if (n < 0) {
      free(f); /* split() freed the fields it had made */
      status = n == -2 ? sl_fail(err, SL_ENOMEM, "out of memory")
                       : sl_fail(err, SL_EINPUT, "%s line %lld: a quoted field is not closed",
                                 c->path, (long long)sl_reader_lineno(r));
      goto ERROR;
    }
    if (!c->header) {
      c->header = f;
      c->ncols = n;
      c->raw_header = sl_strdup(line);
      continue;
    }
    if (n == 1 && f[0][0] == '\0') { free(f[0]); free(f); continue; } /* blank line */
    if (n != c->ncols) {
      for (int k = 0; k < n; k++) free(f[k]);
      free(f);
      status = sl_fail(err, SL_EINPUT, "%s line %lld: %d fields, but the header has %d",
                       c->path, (long long)sl_reader_lineno(r), n, c->ncols);
      goto ERROR;
    }
    if (c->nrows == cap) {
      cap = cap ? 2 * cap : 1024;
      char ***nc = realloc(c->cell, (size_t)cap * sizeof *nc);
      if (nc) c->cell = nc;
      char **nr = realloc(c->raw, (size_t)cap * sizeof *nr);
      if (nr) c->raw = nr;
      int64_t *nl = realloc(c->line, (size_t)cap * sizeof *nl);
      if (nl) c->line = nl;
      if (!nc || !nr || !nl) {
        for (int k = 0; k < n; k++) free(f[k]);
        free(f);
        status = sl_fail(err, SL_ENOMEM, "out of memory");
        goto ERROR;
      }
    }
    c->cell[c->nrows] = f;
    c->raw[c->nrows] = sl_strdup(line);
    c->line[c->nrows] = sl_reader_lineno(r);
    c->nrows++;
  }
  if (!c->header) {
    status = sl_fail(err, SL_EINPUT, "%s: empty file; expected a CSV header line", c->path);
    goto ERROR;
  }
  sl_reader_close(r);
  *ret_csv = c;
  return SL_OK;
ERROR:
  sl_reader_close(r);
  sl_csv_destroy(c);
  return status;
}
