/* seqloop/msa.h: a multiple sequence alignment ready for modelling, and the
 * focus-mode preprocessing that builds it (plmc / EVcouplings semantics).
 *
 * From raw records (seqfile.h) to an N x L matrix of states (0 = gap):
 *   1. alphabet: given, or guessed from the residue letters;
 *   2. layout: equal raw lengths = aligned FASTA / A2M; otherwise A3M if the
 *      rows agree once lowercase letters and '.' (inserts) are removed;
 *      otherwise an error naming the first ragged row;
 *   3. rows with nonstandard characters (X, B, Z, U, O, J, '*'; IUPAC codes
 *      for nucleotides) anywhere in the row are dropped (plmc), or those
 *      characters are read as gaps (option);
 *   4. columns: in focus mode, those where the focus row has an uppercase
 *      residue; otherwise the match columns (Stockholm: #=GC RF non-gap
 *      columns if present; A2M: every column not made only of lowercase
 *      letters and '.');
 *   5. lowercase residues in kept columns count as their uppercase state;
 *      '.' is a gap;
 *   6. optional column filter (gap fraction > max_gap_frac is dropped) and
 *      then optional row filter (coverage < min_coverage is dropped; the focus
 *      row is always kept);
 *   E. optional EVcouplings filters (focus mode only), applied before step 4
 *      is encoded, in EVcouplings' order and with its counting (its
 *      align/protocol.py modify_alignment): first rows whose fraction of '-'
 *      over the focus's residue columns (uppercase and lowercase) is above
 *      1 - evc_min_seq_cov are dropped ('.' is an insert gap and does not
 *      count, as in EVcouplings), then focus columns where the fraction of
 *      '-' over the remaining rows is above 1 - evc_min_col_cov are excluded
 *      (EVcouplings makes them lowercase, which plmc then skips). Counted
 *      over every remaining record, those later dropped for nonstandard
 *      characters included (EVcouplings filters before plmc reads).
 * A report says how many rows and columns were kept and dropped, and why.
 */
#ifndef SEQLOOP_MSA_H
#define SEQLOOP_MSA_H

#include <stdint.h>

#include "seqloop/alphabet.h"
#include "seqloop/base.h"
#include "seqloop/seqfile.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_NONSTD_DROP = 0, SL_NONSTD_GAP = 1 };

typedef struct sl_msa_opts {
  int format;           /* SL_FMT_AUTO (default) or a forced format */
  int alphabet;         /* SL_ABC_AUTO (default), PROTEIN, DNA, RNA */
  const char *focus;    /* focus name (prefix match, as plmc -f), or NULL */
  int focus_first;      /* 1: the first row is the focus */
  double max_gap_frac;  /* drop columns with gap fraction > this (1.0 = off) */
  double min_coverage;  /* drop rows with non-gap fraction < this (0 = off) */
  int nonstd;           /* SL_NONSTD_DROP (default) or SL_NONSTD_GAP */
  int allow_dup_names;  /* 0 (default): duplicate non-empty names are an error */
  double evc_min_seq_cov; /* EVcouplings' minimum_sequence_coverage as a fraction (0 = off) */
  double evc_min_col_cov; /* EVcouplings' minimum_column_coverage as a fraction (0 = off) */
} sl_msa_opts;

/* sl_msa_opts_init(): the defaults above (plmc's behaviour without -f). */
void sl_msa_opts_init(sl_msa_opts *o);

/* What preprocessing did (every count is in rows or columns of the input). */
typedef struct sl_ingest_report {
  int64_t n_records;        /* rows in the file */
  int64_t n_kept;           /* rows kept */
  int64_t n_nonstd;         /* rows dropped for nonstandard characters */
  int64_t n_lowcov;         /* rows dropped by min_coverage or evc_min_seq_cov */
  int64_t n_nonstd_as_gap;  /* nonstandard characters read as gaps (SL_NONSTD_GAP) */
  int64_t n_empty_names;    /* rows with an empty name (renamed "row<k>") */
  int64_t cols_in;          /* aligned columns in the file (A3M: match columns) */
  int64_t cols_kept;        /* columns kept */
  int64_t cols_insert;      /* dropped as insert columns (lowercase / '.' / not RF) */
  int64_t cols_focus_gap;   /* dropped because the focus row has a gap there */
  int64_t cols_gappy;       /* dropped by max_gap_frac or evc_min_col_cov */
  int64_t a3m_inserts;      /* A3M insert characters removed */
  char layout[16];          /* "aligned", "a3m" or "stockholm" */
  char first_nonstd[256];   /* example: first row dropped for characters, and why */
  char numbering_note[256]; /* a warning about the focus range, or "" */
  char focus_note[256];     /* a warning when the focus name matches several records, or "" */
} sl_ingest_report;

typedef struct sl_msa {
  int64_t N, L;             /* rows and columns kept */
  const sl_alphabet *abc;
  uint8_t *x;               /* N*L states, row-major; 0 = gap */
  char **name;              /* N names */
  int64_t *src_row;         /* N: record index of each row in the input */
  int64_t *src_col;         /* L: column index in the input (0-based, A3M: match column) */
  int64_t focus;            /* row of the focus sequence, or -1 */
  int64_t focus_start;      /* number of the focus's first residue (1 if no range) */
  int64_t *pos;             /* L: focus residue number of each column (0 if no focus) */
  char *path;               /* input file (display name) */
  char sha256[SL_SHA256_HEX]; /* of the decompressed input */
  int format;               /* parsed format */
  sl_ingest_report rep;
} sl_msa;

/* sl_msa_build()
 * Purpose:  Preprocess raw records into an alignment (steps 1-6 above).
 * Returns:  SL_OK; SL_EINPUT with a message naming file, line and the
 *           expectation on ragged rows, unknown characters, a missing or
 *           all-gap focus, duplicate names, or nothing left after filtering.
 */
SL_MUSTCHECK int sl_msa_build(const sl_seqset *ss, const sl_msa_opts *o, sl_msa **ret_msa,
                              sl_error *err);

/* sl_msa_read(): sl_seqset_read() followed by sl_msa_build(). */
SL_MUSTCHECK int sl_msa_read(const char *path, const sl_msa_opts *o, sl_msa **ret_msa,
                             sl_error *err);

void sl_msa_destroy(sl_msa *msa);

/* sl_msa_from_rows()
 * Purpose:  An alignment made from N rows of L states (copied), named
 *           "<prefix><k>" (k from 1), without a focus; for samples and
 *           sets built in memory. path is a display name.
 */
SL_MUSTCHECK int sl_msa_from_rows(const sl_alphabet *abc, const uint8_t *x, int64_t N, int64_t L,
                                  const char *prefix, const char *path, sl_msa **ret, sl_error *err);

/* sl_msa_subset(): the rows with select[n] == want (names, focus, if kept,
 * and numbering carried over), as a new alignment. */
SL_MUSTCHECK int sl_msa_subset(const sl_msa *m, const int8_t *select, int want, sl_msa **ret,
                               sl_error *err);

/* sl_msa_write_fasta()
 * Purpose:  Write kept rows and columns as aligned FASTA (uppercase states,
 *           '-' for gaps), atomically ("-" = stdout).
 * Args:     select - NULL for every row, else N labels: a row is written
 *                    when select[n] == want (splits write train and test
 *                    sets from one label array)
 */
SL_MUSTCHECK int sl_msa_write_fasta(const char *path, const sl_msa *msa, const int8_t *select,
                                    int want, sl_error *err);

/* sl_msa_row(): pointer to row n (L states). */
static inline const uint8_t *sl_msa_row(const sl_msa *m, int64_t n) { return m->x + n * m->L; }

/* Largest residue number accepted in a NAME/start-end range (2^40). */
#define SL_MAX_RESIDUE_NUMBER 1099511627776LL

/* sl_parse_range()
 * Purpose:  Parse "NAME/start-end" at the last '/'. Returns 1 and sets
 *           start/end if the header carries a range (both numbers at most
 *           SL_MAX_RESIDUE_NUMBER), 0 otherwise.
 */
int sl_parse_range(const char *name, int64_t *ret_start, int64_t *ret_end);

#ifdef __cplusplus
}
#endif
#endif
