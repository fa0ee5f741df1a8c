/* seqfile.c: the sl_seqset container, format detection, and the FASTA parser.
 *
 * Contents:
 *   1. The container (grow, append, destroy)
 *   2. sl_seqset_read(): open, detect the format, dispatch, hash
 *   3. The FASTA parser (also A2M and A3M, which share its syntax)
 *
 * Format detection is by content: a first non-blank line "# STOCKHOLM" is
 * Stockholm, one starting with '>' is FASTA; anything else is an error that
 * says what was expected. The file name's extension is never consulted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* 1. The container ------------------------------------------------------ */

typedef struct {
  int64_t cap;       /* allocated records */
  int64_t *seq_cap;  /* allocated bytes per sequence */
} seqset_grow;

/* The growth bookkeeping lives behind the public struct during parsing. */
static seqset_grow *grow_of(sl_seqset *ss) { return (seqset_grow *)(void *)ss->priv_; }

int64_t sl_seqset_add(sl_seqset *ss, const char *name, size_t name_len, const char *desc,
                      int64_t line) {
  seqset_grow *g = grow_of(ss);
  if (ss->n == g->cap) {
    int64_t cap = g->cap ? 2 * g->cap : 256;
    char **nm = sl_realloc(ss->name, (size_t)cap, sizeof *nm);
    if (nm) ss->name = nm;
    char **de = sl_realloc(ss->desc, (size_t)cap, sizeof *de);
    if (de) ss->desc = de;
    char **sq = sl_realloc(ss->seq, (size_t)cap, sizeof *sq);
    if (sq) ss->seq = sq;
    int64_t *ln = sl_realloc(ss->len, (size_t)cap, sizeof *ln);
    if (ln) ss->len = ln;
    int64_t *li = sl_realloc(ss->line, (size_t)cap, sizeof *li);
    if (li) ss->line = li;
    int64_t *sc = sl_realloc(g->seq_cap, (size_t)cap, sizeof *sc);
    if (sc) g->seq_cap = sc;
    if (!nm || !de || !sq || !ln || !li || !sc) return -1;
    g->cap = cap;
  }
  int64_t k = ss->n;
  ss->name[k] = malloc(name_len + 1);
  ss->desc[k] = sl_strdup(desc ? desc : "");
  ss->seq[k] = malloc(64);
  if (!ss->name[k] || !ss->desc[k] || !ss->seq[k]) {
    free(ss->name[k]); free(ss->desc[k]); free(ss->seq[k]);
    return -1;
  }
  memcpy(ss->name[k], name, name_len);
  ss->name[k][name_len] = '\0';
  ss->seq[k][0] = '\0';
  ss->len[k] = 0;
  ss->line[k] = line;
  g->seq_cap[k] = 64;
  ss->n++;
  return k;
}

int sl_seqset_append(sl_seqset *ss, int64_t k, const char *s, size_t len) {
  seqset_grow *g = grow_of(ss);
  int64_t need = ss->len[k] + (int64_t)len + 1;
  if (need > g->seq_cap[k]) {
    int64_t cap = g->seq_cap[k];
    while (cap < need) cap *= 2;
    char *p = realloc(ss->seq[k], (size_t)cap);
    if (!p) return SL_ENOMEM;
    ss->seq[k] = p;
    g->seq_cap[k] = cap;
  }
  char *dst = ss->seq[k] + ss->len[k];
  for (size_t i = 0; i < len; i++)
    if (!isspace((unsigned char)s[i])) *dst++ = s[i];
  *dst = '\0';
  ss->len[k] = dst - ss->seq[k];
  return SL_OK;
}

void sl_seqset_shrink(sl_seqset *ss) {
  for (int64_t k = 0; k < ss->n; k++) {
    char *p = realloc(ss->seq[k], (size_t)ss->len[k] + 1);
    if (p) ss->seq[k] = p;
  }
}

static void grow_free(sl_seqset *ss) {
  seqset_grow *g = grow_of(ss);
  if (g) { free(g->seq_cap); free(g); }
  ss->priv_ = NULL;
}

void sl_seqset_destroy(sl_seqset *ss) {
  if (!ss) return;
  for (int64_t k = 0; k < ss->n; k++) {
    free(ss->name[k]); free(ss->desc[k]); free(ss->seq[k]);
  }
  free(ss->name); free(ss->desc); free(ss->seq); free(ss->len); free(ss->line);
  free(ss->rf);
  free(ss->path);
  grow_free(ss);
  free(ss);
}

int sl_format_parse(const char *s) {
  if (strcmp(s, "auto") == 0) return SL_FMT_AUTO;
  if (strcmp(s, "fasta") == 0 || strcmp(s, "afa") == 0) return SL_FMT_FASTA;
  if (strcmp(s, "a2m") == 0) return SL_FMT_A2M;
  if (strcmp(s, "a3m") == 0) return SL_FMT_A3M;
  if (strcmp(s, "stockholm") == 0 || strcmp(s, "sto") == 0) return SL_FMT_STOCKHOLM;
  return -1;
}

const char *sl_format_name(int format) {
  switch (format) {
    case SL_FMT_FASTA: return "fasta";
    case SL_FMT_A2M: return "a2m";
    case SL_FMT_A3M: return "a3m";
    case SL_FMT_STOCKHOLM: return "stockholm";
    default: return "auto";
  }
}

/* 2. Reading ------------------------------------------------------------ */

static int is_blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

/* "#" then comma-separated lengths, a tab, comma-separated cardinalities. */
static int is_colabfold_superheader(const char *s) {
  if (*s++ != '#') return 0;
  for (int part = 0; part < 2; part++) {
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s) || (*s == ',' && isdigit((unsigned char)s[1]))) s++;
    if (part == 0 && *s++ != '\t') return 0;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  return *s == '\0';
}

static int read_all(sl_reader *r, int format, sl_seqset **ret_ss, sl_error *err) {
  sl_seqset *ss = calloc(1, sizeof *ss);
  int status = SL_OK;
  *ret_ss = NULL;
  if (!ss || !(ss->priv_ = calloc(1, sizeof(seqset_grow))) ||
      !(ss->path = sl_strdup(sl_reader_name(r)))) {
    sl_seqset_destroy(ss);
    return sl_fail(err, SL_ENOMEM, "out of memory reading %s", sl_reader_name(r));
  }
  char *line = NULL;
  size_t len = 0;
  do {
    if ((status = sl_reader_line(r, &line, &len, err))) goto ERROR;
  } while (line && is_blank(line));
  if (!line) {
    status = sl_fail(err, SL_EINPUT, "%s: empty file; expected sequences in FASTA, A2M, A3M or "
                     "Stockholm format", ss->path);
    goto ERROR;
  }
  /* ColabFold writes A3M files that start with one '#' line giving the query
   * lengths and cardinalities ("#101\t1", "#59,78\t1,1" for complexes); it is
   * not a sequence and carries nothing seqloop uses, so it is skipped. Any
   * other '#' line is still an error below. */
  if (is_colabfold_superheader(line) && format != SL_FMT_STOCKHOLM) {
    do {
      if ((status = sl_reader_line(r, &line, &len, err))) goto ERROR;
    } while (line && is_blank(line));
    if (!line) {
      status = sl_fail(err, SL_EINPUT, "%s: only a ColabFold '#' header line; expected sequences",
                       ss->path);
      goto ERROR;
    }
  }
  int sto = strncmp(line, "# STOCKHOLM", 11) == 0;
  if (format == SL_FMT_STOCKHOLM && !sto) {
    status = sl_fail(err, SL_EINPUT, "%s line %lld: expected '# STOCKHOLM 1.0' header",
                     ss->path, (long long)sl_reader_lineno(r));
    goto ERROR;
  }
  if (sto && format != SL_FMT_AUTO && format != SL_FMT_STOCKHOLM) {
    status = sl_fail(err, SL_EINPUT, "%s line %lld: this is a Stockholm file, but format %s "
                     "was requested", ss->path, (long long)sl_reader_lineno(r),
                     sl_format_name(format));
    goto ERROR;
  }
  if (sto) {
    ss->format = SL_FMT_STOCKHOLM;
    status = sl_parse_stockholm(r, line, ss, err);
  } else if (line[0] == '>') {
    ss->format = SL_FMT_FASTA;
    status = sl_parse_fasta(r, line, ss, err);
  } else {
    status = sl_fail(err, SL_EINPUT, "%s line %lld: expected a FASTA header starting with '>' "
                     "or a '# STOCKHOLM 1.0' line", ss->path, (long long)sl_reader_lineno(r));
  }
  if (status) goto ERROR;
  if (ss->n == 0) {
    status = sl_fail(err, SL_EINPUT, "%s: no sequences found", ss->path);
    goto ERROR;
  }
  sl_seqset_shrink(ss);
  grow_free(ss);
  sl_reader_digest(r, ss->sha256);
  ss->nbytes = sl_reader_nbytes(r);
  ss->gzipped = sl_reader_gzipped(r);
  *ret_ss = ss;
  return SL_OK;

ERROR:
  sl_seqset_destroy(ss);
  return status;
}

int sl_seqset_read(const char *path, int format, sl_seqset **ret_ss, sl_error *err) {
  sl_reader *r = NULL;
  *ret_ss = NULL;
  int status = sl_reader_open(path, &r, err);
  if (status) return status;
  status = read_all(r, format, ret_ss, err);
  sl_reader_close(r);
  return status;
}

int sl_seqset_read_mem(const char *buf, size_t len, const char *name, int format,
                       sl_seqset **ret_ss, sl_error *err) {
  sl_reader *r = NULL;
  *ret_ss = NULL;
  int status = sl_reader_open_mem(buf, len, name, &r, err);
  if (status) return status;
  status = read_all(r, format, ret_ss, err);
  sl_reader_close(r);
  return status;
}

/* 3. FASTA -------------------------------------------------------------- */

/* Residue-line characters: letters, gaps and '*'; whitespace is skipped. */
static int bad_seq_char(const char *s, size_t len, size_t *ret_col) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalpha(c) || c == '-' || c == '.' || c == '*' || isspace(c)) continue;
    *ret_col = i + 1;
    return c;
  }
  return 0;
}

static int add_header(sl_reader *r, sl_seqset *ss, const char *line, size_t len, int64_t *ret_k,
                      sl_error *err) {
  if (len > SL_MAX_HEADER)
    return sl_fail(err, SL_EINPUT, "%s line %lld: header is %zu characters long; at most %d "
                   "are accepted", ss->path, (long long)sl_reader_lineno(r), len, SL_MAX_HEADER);
  const char *p = line + 1;
  while (*p == ' ' || *p == '\t') p++;
  const char *e = p;
  while (*e && !isspace((unsigned char)*e)) e++;
  const char *d = e;
  while (*d && isspace((unsigned char)*d)) d++;
  int64_t k = sl_seqset_add(ss, p, (size_t)(e - p), d, sl_reader_lineno(r));
  if (k < 0) return sl_fail(err, SL_ENOMEM, "%s: out of memory at line %lld", ss->path,
                            (long long)sl_reader_lineno(r));
  *ret_k = k;
  return SL_OK;
}

int sl_parse_fasta(sl_reader *r, char *first, sl_seqset *ss, sl_error *err) {
  int64_t k = -1;
  char *line = first;
  size_t len = strlen(first);
  int status;
  while (line) {
    if (line[0] == '>') {
      if (k >= 0 && ss->len[k] == 0)
        return sl_fail(err, SL_EINPUT, "%s line %lld: record '%s' has no sequence; expected "
                       "sequence lines after its header", ss->path, (long long)ss->line[k],
                       ss->name[k]);
      if ((status = add_header(r, ss, line, len, &k, err))) return status;
    } else if (!is_blank(line)) {
      size_t col = 0;
      int c = bad_seq_char(line, len, &col);
      if (c)
        return sl_fail(err, SL_EINPUT, "%s line %lld, column %zu: unexpected character '%c' "
                       "(0x%02x) in a sequence; expected residue letters, '-', '.' or '*'",
                       ss->path, (long long)sl_reader_lineno(r), col, isprint(c) ? c : '?', c);
      if (sl_seqset_append(ss, k, line, len))
        return sl_fail(err, SL_ENOMEM, "%s: out of memory at line %lld", ss->path,
                       (long long)sl_reader_lineno(r));
    }
    if ((status = sl_reader_line(r, &line, &len, err))) return status;
  }
  if (k >= 0 && ss->len[k] == 0)
    return sl_fail(err, SL_EINPUT, "%s line %lld: record '%s' has no sequence; expected "
                   "sequence lines after its header", ss->path, (long long)ss->line[k],
                   ss->name[k]);
  return SL_OK;
}
