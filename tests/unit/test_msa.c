/* test_msa.c: focus mode, A2M/A3M layouts, filters, numbering, policies. */
#include <stdlib.h>

#include "seqloop/msa.h"
#include "tap.h"

static sl_msa *build(const char *text, const sl_msa_opts *o, int *status, sl_error *err) {
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  *status = sl_seqset_read_mem(text, strlen(text), "mem", SL_FMT_AUTO, &ss, err);
  if (*status == SL_OK) *status = sl_msa_build(ss, o, &m, err);
  sl_seqset_destroy(ss);
  return m;
}

/* Row n of m as letters. */
static const char *row(const sl_msa *m, int64_t n) {
  static char buf[256];
  for (int64_t i = 0; i < m->L && i < 255; i++) buf[i] = m->abc->symbols[sl_msa_row(m, n)[i]];
  buf[m->L < 255 ? m->L : 255] = 0;
  return buf;
}

static const char *A2M =
  ">foc/5-12\nAcDE-FGkl\n"
  ">r2\nA.DEHFG..\n"
  ">r3\n-aD-HF-m.\n"
  ">r4\nXaDEHFG..\n";

int main(void) {
  sl_error err;
  sl_msa_opts o;
  int st;
  sl_msa *m;

  /* Focus mode. */
  sl_msa_opts_init(&o);
  o.focus = "foc";
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m, "focus build (%s)", st ? err.msg : "");
  if (m) {
    CHECK(m->N == 3 && m->L == 5, "N=3 L=5 (got %lld x %lld)", (long long)m->N, (long long)m->L);
    CHECK(m->focus == 0 && m->focus_start == 5, "focus row 0 starting at 5");
    CHECK(m->pos[0] == 5 && m->pos[1] == 7 && m->pos[2] == 8 && m->pos[3] == 9 && m->pos[4] == 10,
          "numbering counts lowercase residues of the focus");
    CHECK(strcmp(row(m, 0), "ADEFG") == 0, "focus row encoded (%s)", row(m, 0));
    CHECK(strcmp(row(m, 1), "ADEFG") == 0, "row 2 encoded (%s)", row(m, 1));
    CHECK(strcmp(row(m, 2), "-D-F-") == 0, "row 3 encoded (%s)", row(m, 2));
    CHECK(m->rep.n_nonstd == 1 && strstr(m->rep.first_nonstd, "r4"), "X row dropped and named");
    CHECK(m->rep.cols_in == 9 && m->rep.cols_focus_gap == 1 && m->rep.cols_insert == 3,
          "column report (in %lld, focus gap %lld, insert %lld)", (long long)m->rep.cols_in,
          (long long)m->rep.cols_focus_gap, (long long)m->rep.cols_insert);
    CHECK(m->src_col[0] == 0 && m->src_col[1] == 2 && m->src_col[4] == 6, "source columns");
    CHECK(m->src_row[2] == 2 && m->rep.numbering_note[0] == 0, "source rows; range consistent");
  }
  sl_msa_destroy(m);

  /* Without focus: the A2M insert rule, and the gap-fraction filter. */
  sl_msa_opts_init(&o);
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m && m->L == 6 && m->focus == -1, "no focus: 6 match columns");
  if (m) CHECK(strcmp(row(m, 2), "-D-HF-") == 0, "match columns kept (%s)", row(m, 2));
  sl_msa_destroy(m);
  o.max_gap_frac = 0.3;
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m && m->L == 2 && m->rep.cols_gappy == 4, "max gap 0.3 keeps 2 columns");
  if (m) CHECK(strcmp(row(m, 0), "DF") == 0 && strcmp(row(m, 2), "DF") == 0, "compacted rows");
  sl_msa_destroy(m);

  /* Coverage filter. */
  sl_msa_opts_init(&o);
  o.focus = "foc";
  o.min_coverage = 0.7;
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m && m->N == 2 && m->rep.n_lowcov == 1, "coverage 0.7 drops r3");
  sl_msa_destroy(m);

  /* Nonstandard characters as gaps. */
  sl_msa_opts_init(&o);
  o.focus_first = 1;
  o.nonstd = SL_NONSTD_GAP;
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m && m->N == 4 && m->rep.n_nonstd_as_gap == 1, "X read as gap");
  if (m) CHECK(strcmp(row(m, 3), "-DEFG") == 0, "X became a gap (%s)", row(m, 3));
  sl_msa_destroy(m);

  /* Plmc's prefix match and exact match before '/'. */
  sl_msa_opts_init(&o);
  o.focus = "fo";
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_OK && m && m->focus == 0, "prefix match finds the focus");
  sl_msa_destroy(m);

  /* A3M. */
  sl_msa_opts_init(&o);
  m = build(">q\nACDEF\n>a\nAcCD-F\n>b\n..ACwwDEFy\n", &o, &st, &err);
  CHECK(st == SL_OK && m && m->L == 5 && strcmp(m->rep.layout, "a3m") == 0, "a3m layout (%s)", st ? err.msg : "");
  if (m) {
    CHECK(strcmp(row(m, 1), "ACD-F") == 0 && strcmp(row(m, 2), "ACDEF") == 0, "a3m inserts removed");
    CHECK(m->rep.a3m_inserts == 6, "insert characters counted (%lld)", (long long)m->rep.a3m_inserts);
  }
  sl_msa_destroy(m);

  /* Errors. */
  sl_msa_opts_init(&o);
  m = build(">a\nACD\n>b\nACDE\n", &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "mem line 3") && strstr(err.msg, "equal lengths"), "ragged: %s", err.msg);
  sl_msa_destroy(m);
  m = build(">a\nACD\n>a\nACD\n", &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "duplicate sequence name 'a'") && strstr(err.msg, "line 3"), "dup: %s", err.msg);
  sl_msa_destroy(m);
  o.allow_dup_names = 1;
  m = build(">a\nACD\n>a\nACD\n", &o, &st, &err);
  CHECK(st == SL_OK && m && m->N == 2, "duplicates allowed by option");
  sl_msa_destroy(m);
  sl_msa_opts_init(&o);
  m = build(">\nACD\n>\nACD\n", &o, &st, &err);
  CHECK(st == SL_OK && m && strcmp(m->name[1], "row2") == 0 && m->rep.n_empty_names == 2, "empty names renamed");
  sl_msa_destroy(m);
  o.focus = "zzz";
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "focus sequence 'zzz' not found"), "missing focus: %s", err.msg);
  sl_msa_destroy(m);
  o.focus = "g";
  m = build(">a\nACD\n>g\n---\n", &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "line 3") && strstr(err.msg, "no uppercase residues"), "all-gap focus: %s", err.msg);
  sl_msa_destroy(m);
  o.focus = "r4";
  m = build(A2M, &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "nonstandard"), "focus with X: %s", err.msg);
  sl_msa_destroy(m);
  sl_msa_opts_init(&o);
  o.alphabet = SL_ABC_DNA;
  m = build(">a\nACGE\n", &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "'E'") && strstr(err.msg, "dna"), "letter outside dna: %s", err.msg);
  sl_msa_destroy(m);
  sl_msa_opts_init(&o);
  m = build(">a\nXXX\n>b\nBZX\n", &o, &st, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "nothing left"), "nothing left: %s", err.msg);
  sl_msa_destroy(m);

  /* Alphabet detection and the numbering note. */
  sl_msa_opts_init(&o);
  o.focus_first = 1;
  m = build(">x/3-9\nACGT-acgt\n>y\nACGUNACGT\n", &o, &st, &err);
  CHECK(st == SL_OK && m && m->abc->type == SL_ABC_DNA && m->N == 1, "dna detected, N row dropped");
  if (m) CHECK(strstr(m->rep.numbering_note, "does not match") != NULL, "range mismatch noted");
  sl_msa_destroy(m);

  int64_t a, b;
  CHECK(sl_parse_range("P1/24-286", &a, &b) == 1 && a == 24 && b == 286, "range parsed");
  CHECK(sl_parse_range("P1/24", &a, &b) == 0 && sl_parse_range("P1", &a, &b) == 0, "no range");

  /* Real data: DHFR in plmc focus mode (skipped when absent). */
  char path[4096];
  snprintf(path, sizeof path, "%s/dhfr/DHFR.a2m", tap_data());
  FILE *fp = fopen(path, "r");
  if (!fp) {
    printf("skip - DHFR focus mode: data absent (%s)\n", path);
  } else {
    fclose(fp);
    sl_msa_opts_init(&o);
    o.focus = "DYR_ECOLI";
    st = sl_msa_read(path, &o, &m, &err);
    CHECK(st == SL_OK && m && m->N == 3616 && m->L == 159, "DHFR: 3616 valid rows x 159 focus columns (plmc)");
    if (m) CHECK(m->pos[0] == 1 && m->pos[158] == 159, "DHFR numbering 1..159");
    sl_msa_destroy(m);
  }
  return TAP_DONE();
}
