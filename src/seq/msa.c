/* msa.c: from raw records to an alignment of states, plmc/EVcouplings style.
 *
 * Contents:
 *   1. Options, ranges, destroy
 *   2. Layout (aligned / A3M / Stockholm) and the match-row view of a record
 *   3. sl_msa_build(): alphabet, names, row validity, focus and columns,
 *      numbering, encoding, column and row filters
 *
 * The semantics follow plmc (src/plm.c, MSARead) where plmc defines them:
 * a row with any out-of-alphabet character anywhere is dropped; focus
 * columns are those where the focus has an uppercase residue; lowercase
 * residues elsewhere count as residues. Where plmc is silent or surprising,
 * EVcouplings is followed and the difference is named in docs/formats.md:
 * the focus numbering counts the focus's residues (plmc counts alignment
 * columns, which is wrong when the focus row has gaps), and the focus name
 * is matched exactly (whole name, or the part before '/') before falling
 * back to plmc's prefix match.
 *
 * Cost: two passes over the characters of every row, O(total characters);
 * memory: the input records plus N*L bytes.
 */
#include "seqloop/msa.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/base.h"

/* 1. Options, ranges, destroy ------------------------------------------- */

void sl_msa_opts_init(sl_msa_opts *o) {
  memset(o, 0, sizeof *o);
  o->format = SL_FMT_AUTO;
  o->alphabet = SL_ABC_AUTO;
  o->max_gap_frac = 1.0;
  o->min_coverage = 0.0;
  o->nonstd = SL_NONSTD_DROP;
}

int sl_parse_range(const char *name, int64_t *ret_start, int64_t *ret_end) {
  const char *slash = strrchr(name, '/');
  if (!slash || !isdigit((unsigned char)slash[1])) return 0;
  char *e = NULL;
  long long a = strtoll(slash + 1, &e, 10);
  if (*e != '-' || !isdigit((unsigned char)e[1])) return 0;
  long long b = strtoll(e + 1, &e, 10);
  if (*e != '\0' && !isspace((unsigned char)*e)) return 0;
  /* Residue numbers beyond 2^40 are not positions in any real sequence; such a
   * "range" is read as no range, so numbering arithmetic cannot overflow. */
  if (a < 0 || b < 0 || a > SL_MAX_RESIDUE_NUMBER || b > SL_MAX_RESIDUE_NUMBER) return 0;
  *ret_start = a;
  *ret_end = b;
  return 1;
}

void sl_msa_destroy(sl_msa *m) {
  if (!m) return;
  if (m->name)
    for (int64_t n = 0; n < m->N; n++) free(m->name[n]);
  free(m->name);
  free(m->x);
  free(m->src_row);
  free(m->src_col);
  free(m->pos);
  free(m->path);
  free(m);
}

/* 2. Layout --------------------------------------------------------------- */

enum { LAYOUT_ALIGNED, LAYOUT_A3M };

static int is_insert_char(char c) { return c == '.' || islower((unsigned char)c); }

/* Number of match characters (not lowercase, not '.') in a raw row. */
static int64_t match_len(const char *s, int64_t len) {
  int64_t m = 0;
  for (int64_t i = 0; i < len; i++) m += !is_insert_char(s[i]);
  return m;
}

static int decide_layout(const sl_seqset *ss, const sl_msa_opts *o, int *ret_layout,
                         int64_t *ret_cols, sl_error *err) {
  int equal = 1;
  for (int64_t k = 1; k < ss->n && equal; k++) equal = ss->len[k] == ss->len[0];
  if (ss->format == SL_FMT_STOCKHOLM || (equal && o->format != SL_FMT_A3M)) {
    *ret_layout = LAYOUT_ALIGNED;
    *ret_cols = ss->len[0];
    return SL_OK;
  }
  /* Forced aligned formats compare raw lengths; otherwise A3M match lengths. */
  int forced_aligned = o->format == SL_FMT_FASTA || o->format == SL_FMT_A2M;
  int64_t m0 = match_len(ss->seq[0], ss->len[0]);
  for (int64_t k = 1; k < ss->n; k++) {
    int64_t mk = match_len(ss->seq[k], ss->len[k]);
    if (forced_aligned ? ss->len[k] != ss->len[0] : mk != m0)
      return sl_fail(err, SL_EINPUT,
                     "%s line %lld: row '%s' has %lld aligned columns (%lld match columns), but "
                     "the first row '%s' has %lld (%lld); rows of an alignment must have equal "
                     "lengths (in A3M, once lowercase inserts are removed)",
                     ss->path, (long long)ss->line[k], ss->name[k], (long long)ss->len[k],
                     (long long)mk, ss->name[0], (long long)ss->len[0], (long long)m0);
  }
  *ret_layout = LAYOUT_A3M;
  *ret_cols = m0;
  return SL_OK;
}

/* Copy the aligned view of record k into buf (cols characters): the raw row
 * for aligned layouts, the match characters for A3M. */
static void aligned_row(const sl_seqset *ss, int layout, int64_t k, char *buf) {
  const char *s = ss->seq[k];
  if (layout == LAYOUT_ALIGNED) {
    memcpy(buf, s, (size_t)ss->len[k]);
    return;
  }
  int64_t j = 0;
  for (int64_t i = 0; i < ss->len[k]; i++)
    if (!is_insert_char(s[i])) buf[j++] = s[i];
}

/* 3. Build ---------------------------------------------------------------- */

/* EVcouplings' fragment and column-coverage filters (msa.h, step E), in its
 * order and with its counting: only '-' is a gap here ('.' marks an insert
 * state and counts as covered), the focus columns are every column where the
 * focus has a residue (a lowercase one too: EVcouplings keeps them in its
 * focus alignment and plmc skips them later), and rows are every record not
 * yet dropped by this filter (rows plmc later drops for nonstandard
 * characters included). The thresholds are compared as EVcouplings writes
 * them: a row is kept when 1 - gaps/cols >= min_seq_cov; a column is
 * excluded when gaps/rows > 1 - min_col_cov. Rows dropped here are counted
 * in n_lowcov and marked invalid; excluded columns in cols_gappy. */
static int evc_filters(const sl_seqset *ss, const sl_msa_opts *o, int layout, int64_t C, int64_t fk,
                       uint8_t *valid, uint8_t *keep, char *row, sl_ingest_report *rep,
                       sl_error *err) {
  uint8_t *fcol = malloc((size_t)C), *live = malloc((size_t)ss->n);
  int64_t *gaps = calloc((size_t)C, sizeof *gaps);
  if (!fcol || !live || !gaps) {
    free(fcol); free(live); free(gaps);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  aligned_row(ss, layout, fk, row);
  int64_t nf = 0;
  for (int64_t i = 0; i < C; i++) {
    fcol[i] = row[i] != '-' && row[i] != '.';
    nf += fcol[i];
  }
  int64_t nlive = 0;
  for (int64_t k = 0; k < ss->n; k++) {
    aligned_row(ss, layout, k, row);
    int64_t g = 0;
    for (int64_t i = 0; i < C; i++) g += fcol[i] && row[i] == '-';
    live[k] = k == fk || !(o->evc_min_seq_cov > 0.0) ||
              1.0 - (double)g / (double)nf >= o->evc_min_seq_cov;
    if (!live[k]) {
      if (valid[k]) rep->n_lowcov++;
      valid[k] = 0;
      continue;
    }
    nlive++;
    for (int64_t i = 0; i < C; i++) gaps[i] += row[i] == '-';
  }
  if (o->evc_min_col_cov > 0.0) {
    const double max_gap = 1.0 - o->evc_min_col_cov;
    for (int64_t i = 0; i < C; i++)
      if (keep[i] && (double)gaps[i] / (double)nlive > max_gap) {
        keep[i] = 0;
        rep->cols_gappy++;
      }
  }
  free(fcol); free(live); free(gaps);
  return SL_OK;
}


/* The focus: --focus-first, or by name (exact, or exact before '/', else
 * plmc's first-prefix rule). The first match wins, as in plmc; when the name
 * matches more than one record the report says which were passed over. */
static int focus_matches(const char *nm, const char *focus, size_t fl, int prefix) {
  if (prefix) return strncmp(nm, focus, fl) == 0;
  return strcmp(nm, focus) == 0 || (strncmp(nm, focus, fl) == 0 && nm[fl] == '/');
}

static int find_focus(const sl_seqset *ss, const sl_msa_opts *o, int64_t *ret_k,
                      sl_ingest_report *rep, sl_error *err) {
  *ret_k = -1;
  if (o->focus_first) { *ret_k = 0; return SL_OK; }
  if (!o->focus) return SL_OK;
  size_t fl = strlen(o->focus);
  if (fl == 0) return sl_fail(err, SL_EUSAGE, "the focus name is empty");
  for (int prefix = 0; prefix <= 1; prefix++) {
    int64_t first = -1, n = 0, second = -1;
    for (int64_t k = 0; k < ss->n; k++) {
      if (!focus_matches(ss->name[k], o->focus, fl, prefix)) continue;
      if (first < 0) first = k;
      else if (second < 0) second = k;
      n++;
    }
    if (first < 0) continue;
    if (n > 1)
      snprintf(rep->focus_note, sizeof rep->focus_note,
               "focus '%s' matches %lld records (%.60s, %.60s%s); using the first", o->focus,
               (long long)n, ss->name[first], ss->name[second], n > 2 ? ", ..." : "");
    *ret_k = first;
    return SL_OK;
  }
  return sl_fail(err, SL_EINPUT, "%s: focus sequence '%s' not found among %lld records "
                 "(expected a record whose name is, or starts with, '%s')",
                 ss->path, o->focus, (long long)ss->n, o->focus);
}

static int check_names(const sl_seqset *ss, const sl_msa_opts *o, sl_error *err) {
  if (o->allow_dup_names || ss->format == SL_FMT_STOCKHOLM) return SL_OK;
  sl_strmap *map = sl_strmap_create((size_t)ss->n);
  if (!map) return sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path);
  int status = SL_OK;
  for (int64_t k = 0; k < ss->n; k++) {
    if (ss->name[k][0] == '\0') continue;
    int64_t prev = sl_strmap_put(map, ss->name[k], strlen(ss->name[k]), k);
    if (prev == -2) { status = sl_fail(err, SL_ENOMEM, "%s: out of memory", ss->path); break; }
    if (prev >= 0) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: duplicate sequence name '%s' (first at "
                       "line %lld); names must be unique (--allow-duplicate-names accepts them)",
                       ss->path, (long long)ss->line[k], ss->name[k], (long long)ss->line[prev]);
      break;
    }
  }
  sl_strmap_destroy(map);
  return status;
}

static const sl_alphabet *pick_alphabet(const sl_seqset *ss, int type) {
  if (type != SL_ABC_AUTO) return sl_alphabet_get(type);
  uint64_t counts[256] = {0};
  int64_t seen = 0;
  for (int64_t k = 0; k < ss->n && seen < 10000000; k++) {
    for (int64_t i = 0; i < ss->len[k]; i++) counts[(unsigned char)ss->seq[k][i]]++;
    seen += ss->len[k];
  }
  return sl_alphabet_get(sl_alphabet_guess(counts));
}

int sl_msa_build(const sl_seqset *ss, const sl_msa_opts *o, sl_msa **ret_msa, sl_error *err) {
  sl_msa *m = calloc(1, sizeof *m);
  const sl_alphabet *abc = pick_alphabet(ss, o->alphabet);
  uint8_t *valid = NULL, *keep = NULL;
  char *row = NULL;
  int64_t *colmap = NULL;
  int layout = LAYOUT_ALIGNED, status = SL_OK;
  int64_t C = 0, fk = -1;
  *ret_msa = NULL;
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory");
  if (!abc) { status = sl_fail(err, SL_EUSAGE, "unknown alphabet"); goto ERROR; }
  sl_ingest_report *rep = &m->rep;
  m->abc = abc;
  m->focus = -1;
  m->format = ss->format;
  m->path = sl_strdup(ss->path);
  sl_sha256_hex(ss->sha256, m->sha256);
  rep->n_records = ss->n;

  if ((status = check_names(ss, o, err))) goto ERROR;
  if ((status = decide_layout(ss, o, &layout, &C, err))) goto ERROR;
  snprintf(rep->layout, sizeof rep->layout, "%s",
           ss->format == SL_FMT_STOCKHOLM ? "stockholm" : layout == LAYOUT_A3M ? "a3m" : "aligned");
  rep->cols_in = C;
  if (C == 0) { status = sl_fail(err, SL_EINPUT, "%s: the alignment has no columns", ss->path); goto ERROR; }
  if ((status = find_focus(ss, o, &fk, rep, err))) goto ERROR;

  /* Row validity: unknown letters are errors; nonstandard ones drop the row
   * (or read as gaps). Checked over the whole raw row, as plmc does. */
  valid = malloc((size_t)ss->n);
  if (!valid) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  for (int64_t k = 0; k < ss->n; k++) {
    valid[k] = 1;
    for (int64_t i = 0; i < ss->len[k]; i++) {
      unsigned char c = (unsigned char)ss->seq[k][i];
      int cls = abc->cls[c];
      if (cls == SL_CH_UNKNOWN) {
        status = sl_fail(err, SL_EINPUT, "%s line %lld: record '%s' has '%c' at aligned position "
                         "%lld, which is not a %s residue, gap or known ambiguity code (use "
                         "--alphabet to choose another alphabet)", ss->path,
                         (long long)ss->line[k], ss->name[k], c, (long long)i + 1, abc->name);
        goto ERROR;
      }
      if (cls == SL_CH_NONSTD) {
        if (o->nonstd == SL_NONSTD_GAP) { rep->n_nonstd_as_gap++; continue; }
        if (valid[k] && rep->n_nonstd == 0)
          snprintf(rep->first_nonstd, sizeof rep->first_nonstd,
                   "row '%.100s' (line %lld) has '%c' at aligned position %lld", ss->name[k],
                   (long long)ss->line[k], c, (long long)i + 1);
        if (valid[k]) rep->n_nonstd++;
        valid[k] = 0;
        break;
      }
    }
  }
  if (fk >= 0 && !valid[fk]) {
    status = sl_fail(err, SL_EINPUT, "%s line %lld: the focus sequence '%s' contains a "
                     "nonstandard character (%s); expected only %s residues and gaps",
                     ss->path, (long long)ss->line[fk], ss->name[fk], rep->first_nonstd, abc->name);
    goto ERROR;
  }

  /* Columns. */
  keep = calloc((size_t)C, 1);
  row = malloc((size_t)C + 1);
  if (!keep || !row) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  if (fk >= 0) {
    aligned_row(ss, layout, fk, row);
    int64_t nres = 0;
    for (int64_t i = 0; i < C; i++) {
      unsigned char c = (unsigned char)row[i];
      if (isupper(c) && abc->cls[c] == SL_CH_RESIDUE) { keep[i] = 1; nres++; }
      else if (abc->cls[c] == SL_CH_GAP && c == '-') rep->cols_focus_gap++;
      else rep->cols_insert++;
    }
    if (nres == 0) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: the focus sequence '%s' has no uppercase "
                       "residues (all gaps or inserts); expected at least one match column",
                       ss->path, (long long)ss->line[fk], ss->name[fk]);
      goto ERROR;
    }
  } else if (ss->format == SL_FMT_STOCKHOLM && ss->rf) {
    for (int64_t i = 0; i < C; i++) {
      char c = ss->rf[i];
      keep[i] = !(c == '.' || c == '-' || c == '~' || c == '_');
      rep->cols_insert += !keep[i];
    }
  } else if (layout == LAYOUT_A3M) {
    memset(keep, 1, (size_t)C);
  } else {
    /* A2M rule: a column is an insert column if every row has a lowercase
     * letter or '.' there. Count match characters per column. */
    for (int64_t k = 0; k < ss->n; k++)
      for (int64_t i = 0; i < C; i++)
        if (!keep[i] && !is_insert_char(ss->seq[k][i])) keep[i] = 1;
    for (int64_t i = 0; i < C; i++) rep->cols_insert += !keep[i];
  }

  if (o->evc_min_seq_cov > 0.0 || o->evc_min_col_cov > 0.0) {
    if (fk < 0) {
      status = sl_fail(err, SL_EUSAGE, "the EVcouplings coverage filters work in focus mode: "
                       "name the focus sequence (--focus NAME or --focus-first)");
      goto ERROR;
    }
    if ((status = evc_filters(ss, o, layout, C, fk, valid, keep, row, rep, err))) goto ERROR;
  }

  /* Encode valid rows on kept columns. */
  int64_t Lk = 0, Nv = 0;
  for (int64_t i = 0; i < C; i++) Lk += keep[i];
  for (int64_t k = 0; k < ss->n; k++) Nv += valid[k];
  colmap = malloc((size_t)Lk * sizeof *colmap);
  m->x = malloc(Nv && Lk ? (size_t)(Nv * Lk) : 1);
  m->name = calloc((size_t)Nv ? (size_t)Nv : 1, sizeof *m->name);
  m->src_row = malloc((size_t)(Nv ? Nv : 1) * sizeof *m->src_row);
  if (!colmap || !m->x || !m->name || !m->src_row) {
    status = sl_fail(err, SL_ENOMEM, "out of memory for a %lld x %lld alignment", (long long)Nv,
                     (long long)Lk);
    goto ERROR;
  }
  for (int64_t i = 0, j = 0; i < C; i++)
    if (keep[i]) colmap[j++] = i;
  int64_t n = 0;
  for (int64_t k = 0; k < ss->n; k++) {
    if (!valid[k]) continue;
    aligned_row(ss, layout, k, row);
    if (layout == LAYOUT_A3M) rep->a3m_inserts += ss->len[k] - C;
    uint8_t *dst = m->x + n * Lk;
    for (int64_t j = 0; j < Lk; j++) dst[j] = abc->code[(unsigned char)row[colmap[j]]];
    if (ss->name[k][0]) {
      m->name[n] = sl_strdup(ss->name[k]);
    } else {
      char buf[32];
      snprintf(buf, sizeof buf, "row%lld", (long long)k + 1);
      m->name[n] = sl_strdup(buf);
      rep->n_empty_names++;
    }
    if (!m->name[n]) { m->N = n; status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
    m->src_row[n] = k;
    if (k == fk) m->focus = n;
    n++;
  }
  m->N = Nv;
  m->L = Lk;

  /* Column filter by gap fraction (over the valid rows). */
  if (o->max_gap_frac < 1.0 && Nv > 0) {
    int64_t *gaps = calloc((size_t)Lk ? (size_t)Lk : 1, sizeof *gaps);
    if (!gaps) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
    for (int64_t r = 0; r < Nv; r++)
      for (int64_t j = 0; j < Lk; j++) gaps[j] += m->x[r * Lk + j] == 0;
    int64_t L2 = 0; /* gaps[] is reused to hold the kept column indices */
    for (int64_t j = 0; j < Lk; j++) {
      if ((double)gaps[j] / (double)Nv > o->max_gap_frac) { rep->cols_gappy++; continue; }
      colmap[L2] = colmap[j];
      gaps[L2++] = j;
    }
    /* Compact rows in place: row r moves from stride Lk to stride L2 <= Lk,
     * front to back, so no byte is overwritten before it is read. */
    for (int64_t r = 0; r < Nv; r++)
      for (int64_t j = 0; j < L2; j++) m->x[r * L2 + j] = m->x[r * Lk + gaps[j]];
    free(gaps);
    m->L = Lk = L2;
  }

  /* Row filter by coverage; the focus row is always kept. */
  if (o->min_coverage > 0.0 && Lk > 0) {
    int64_t N2 = 0;
    for (int64_t r = 0; r < m->N; r++) {
      int64_t res = 0;
      for (int64_t j = 0; j < Lk; j++) res += m->x[r * Lk + j] != 0;
      if (r != m->focus && (double)res / (double)Lk < o->min_coverage) {
        rep->n_lowcov++;
        free(m->name[r]);
        continue;
      }
      if (r == m->focus) m->focus = N2;
      memmove(m->x + N2 * Lk, m->x + r * Lk, (size_t)Lk);
      m->name[N2] = m->name[r];
      m->src_row[N2] = m->src_row[r];
      N2++;
    }
    m->N = N2;
  }
  rep->n_kept = m->N;
  rep->cols_kept = m->L;
  if (m->N == 0 || m->L == 0) {
    status = sl_fail(err, SL_EINPUT, "%s: nothing left after preprocessing (%lld of %lld rows, "
                     "%lld of %lld columns kept; %lld rows had nonstandard characters%s%s)",
                     ss->path, (long long)m->N, (long long)ss->n, (long long)m->L, (long long)C,
                     (long long)rep->n_nonstd, rep->n_nonstd ? ", e.g. " : "", rep->first_nonstd);
    goto ERROR;
  }

  /* Source columns and focus numbering. */
  m->src_col = malloc((size_t)m->L * sizeof *m->src_col);
  m->pos = calloc((size_t)m->L, sizeof *m->pos);
  if (!m->src_col || !m->pos) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
  memcpy(m->src_col, colmap, (size_t)m->L * sizeof *m->src_col);
  m->focus_start = 1;
  if (fk >= 0) {
    int64_t start = 1, end = 0;
    int has_range = sl_parse_range(ss->name[fk], &start, &end);
    m->focus_start = start;
    /* Residue number at each aligned (match-view) column of the focus row:
     * count every residue letter, upper or lower case, of the raw row. */
    int64_t *num = malloc((size_t)C * sizeof *num);
    if (!num) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
    int64_t res = 0, j = 0;
    const char *s = ss->seq[fk];
    for (int64_t i = 0; i < ss->len[fk]; i++) {
      int is_res = isalpha((unsigned char)s[i]) != 0;
      int is_match = layout == LAYOUT_ALIGNED || !is_insert_char(s[i]);
      if (is_match) num[j++] = is_res ? start + res : 0;
      res += is_res;
    }
    for (int64_t c = 0; c < m->L; c++) m->pos[c] = num[m->src_col[c]];
    free(num);
    if (has_range && start + res - 1 != end)
      snprintf(rep->numbering_note, sizeof rep->numbering_note,
               "focus range %lld-%lld does not match its %lld residues; numbering starts at %lld",
               (long long)start, (long long)end, (long long)res, (long long)start);
    const char *slash = strrchr(ss->name[fk], '/');
    if (!has_range && slash && strpbrk(slash + 1, "-0123456789"))
      snprintf(rep->numbering_note, sizeof rep->numbering_note,
               "focus name '%.80s' ends in '/%.40s', which is not a residue range (start-end, "
               "numbers up to %lld); residues are numbered from 1", ss->name[fk], slash + 1,
               (long long)SL_MAX_RESIDUE_NUMBER);
  }
  free(valid); free(keep); free(row); free(colmap);
  *ret_msa = m;
  return SL_OK;

ERROR:
  free(valid); free(keep); free(row); free(colmap);
  sl_msa_destroy(m);
  return status;
}

int sl_msa_read(const char *path, const sl_msa_opts *o, sl_msa **ret_msa, sl_error *err) {
  sl_seqset *ss = NULL;
  *ret_msa = NULL;
  int status = sl_seqset_read(path, o->format, &ss, err);
  if (status) return status;
  status = sl_msa_build(ss, o, ret_msa, err);
  sl_seqset_destroy(ss);
  return status;
}

int sl_msa_write_fasta(const char *path, const sl_msa *m, const int8_t *select, int want,
                       sl_error *err) {
  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (status) return status;
  FILE *fp = sl_outfile_fp(of);
  for (int64_t n = 0; n < m->N; n++) {
    if (select && select[n] != want) continue;
    fprintf(fp, ">%s\n", m->name[n]);
    const uint8_t *r = sl_msa_row(m, n);
    for (int64_t i = 0; i < m->L; i++) fputc(m->abc->symbols[r[i]], fp);
    fputc('\n', fp);
  }
  return sl_outfile_commit(of, err);
}

/* An empty shell with room for N rows of L columns, or NULL. */
static sl_msa *msa_alloc(const sl_alphabet *abc, int64_t N, int64_t L, const char *path) {
  sl_msa *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->N = N;
  m->L = L;
  m->abc = abc;
  m->focus = -1;
  m->focus_start = 1;
  m->x = malloc((size_t)(N * L) + 1);
  m->name = calloc((size_t)N + 1, sizeof *m->name);
  m->src_row = malloc(((size_t)N + 1) * sizeof *m->src_row);
  m->src_col = malloc(((size_t)L + 1) * sizeof *m->src_col);
  m->pos = calloc((size_t)L + 1, sizeof *m->pos);
  m->path = strdup(path ? path : "-");
  if (!m->x || !m->name || !m->src_row || !m->src_col || !m->pos || !m->path) {
    m->N = 0; /* names not yet allocated */
    sl_msa_destroy(m);
    return NULL;
  }
  for (int64_t i = 0; i < L; i++) m->src_col[i] = i;
  return m;
}

int sl_msa_from_rows(const sl_alphabet *abc, const uint8_t *x, int64_t N, int64_t L,
                     const char *prefix, const char *path, sl_msa **ret, sl_error *err) {
  *ret = NULL;
  sl_msa *m = msa_alloc(abc, N, L, path);
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory for an alignment of %lld rows", (long long)N);
  memcpy(m->x, x, (size_t)(N * L));
  for (int64_t n = 0; n < N; n++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s%lld", prefix, (long long)n + 1);
    m->src_row[n] = n;
    if (!(m->name[n] = strdup(buf))) {
      sl_msa_destroy(m);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
  }
  *ret = m;
  return SL_OK;
}

int sl_msa_subset(const sl_msa *a, const int8_t *select, int want, sl_msa **ret, sl_error *err) {
  *ret = NULL;
  int64_t N = 0;
  for (int64_t n = 0; n < a->N; n++) N += select[n] == want;
  sl_msa *m = msa_alloc(a->abc, N, a->L, a->path);
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory for an alignment of %lld rows", (long long)N);
  memcpy(m->src_col, a->src_col, (size_t)a->L * sizeof *m->src_col);
  memcpy(m->pos, a->pos, (size_t)a->L * sizeof *m->pos);
  memcpy(m->sha256, a->sha256, sizeof m->sha256);
  m->format = a->format;
  m->rep = a->rep;
  m->focus_start = a->focus_start;
  for (int64_t n = 0, k = 0; n < a->N; n++) {
    if (select[n] != want) continue;
    memcpy(m->x + k * a->L, sl_msa_row(a, n), (size_t)a->L);
    m->src_row[k] = a->src_row[n];
    if (n == a->focus) m->focus = k;
    if (!(m->name[k] = strdup(a->name[n]))) {
      sl_msa_destroy(m);
      return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    k++;
  }
  *ret = m;
  return SL_OK;
}
