/* align.c: global alignment of a sequence to a structure's sequence.
 *
 * Gotoh's affine-gap Needleman-Wunsch with BLOSUM62 and BLAST's default gap
 * costs (a gap of k residues costs 11 + k), with free end gaps: a Pfam
 * domain or a model's focus sequence is usually a part of the chain in the
 * structure, and the chain often misses termini or carries tags, so gaps at
 * either end of either sequence cost nothing. Three score rows (match, gap
 * in b, gap in a) are kept per DP row, in int64 so that no length overflows
 * them; the traceback keeps one byte per cell:
 *   bits 0-1  predecessor of the match state: 0 match, 1 gap in b, 2 gap in a
 *   bit 2     the gap-in-b state extends a gap (else opens one after a match)
 *   bit 3     the gap-in-a state extends a gap (else opens one after a match)
 * A gap in b never follows a gap in a directly, nor the reverse.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/structure.h"

#define GAP_OPEN 11
#define GAP_EXTEND 1
#define MAX_CELLS 400000000.0
#define NEG (INT64_MIN / 4)

/* BLOSUM62 as distributed by NCBI ("Matrix made by matblas from
 * blosum62.iij", 1/2-bit units, cluster percentage >= 62; Henikoff &
 * Henikoff 1992), copied from the file BLOSUM62 that HMMER's Easel ships
 * (Debian hmmer-examples: /usr/share/doc/hmmer/examples/easel/formats/BLOSUM62).
 * Order: A R N D C Q E G H I L K M F P S T W Y V B Z X *. */
static const char blosum_order[] = "ARNDCQEGHILKMFPSTWYVBZX*";
static const signed char blosum62[24][24] = {
  /* A */ { 4, -1, -2, -2,  0, -1, -1,  0, -2, -1, -1, -1, -1, -2, -1,  1,  0, -3, -2,  0, -2, -1,  0, -4},
  /* R */ {-1,  5,  0, -2, -3,  1,  0, -2,  0, -3, -2,  2, -1, -3, -2, -1, -1, -3, -2, -3, -1,  0, -1, -4},
  /* N */ {-2,  0,  6,  1, -3,  0,  0,  0,  1, -3, -3,  0, -2, -3, -2,  1,  0, -4, -2, -3,  3,  0, -1, -4},
  /* D */ {-2, -2,  1,  6, -3,  0,  2, -1, -1, -3, -4, -1, -3, -3, -1,  0, -1, -4, -3, -3,  4,  1, -1, -4},
  /* C */ { 0, -3, -3, -3,  9, -3, -4, -3, -3, -1, -1, -3, -1, -2, -3, -1, -1, -2, -2, -1, -3, -3, -2, -4},
  /* Q */ {-1,  1,  0,  0, -3,  5,  2, -2,  0, -3, -2,  1,  0, -3, -1,  0, -1, -2, -1, -2,  0,  3, -1, -4},
  /* E */ {-1,  0,  0,  2, -4,  2,  5, -2,  0, -3, -3,  1, -2, -3, -1,  0, -1, -3, -2, -2,  1,  4, -1, -4},
  /* G */ { 0, -2,  0, -1, -3, -2, -2,  6, -2, -4, -4, -2, -3, -3, -2,  0, -2, -2, -3, -3, -1, -2, -1, -4},
  /* H */ {-2,  0,  1, -1, -3,  0,  0, -2,  8, -3, -3, -1, -2, -1, -2, -1, -2, -2,  2, -3,  0,  0, -1, -4},
  /* I */ {-1, -3, -3, -3, -1, -3, -3, -4, -3,  4,  2, -3,  1,  0, -3, -2, -1, -3, -1,  3, -3, -3, -1, -4},
  /* L */ {-1, -2, -3, -4, -1, -2, -3, -4, -3,  2,  4, -2,  2,  0, -3, -2, -1, -2, -1,  1, -4, -3, -1, -4},
  /* K */ {-1,  2,  0, -1, -3,  1,  1, -2, -1, -3, -2,  5, -1, -3, -1,  0, -1, -3, -2, -2,  0,  1, -1, -4},
  /* M */ {-1, -1, -2, -3, -1,  0, -2, -3, -2,  1,  2, -1,  5,  0, -2, -1, -1, -1, -1,  1, -3, -1, -1, -4},
  /* F */ {-2, -3, -3, -3, -2, -3, -3, -3, -1,  0,  0, -3,  0,  6, -4, -2, -2,  1,  3, -1, -3, -3, -1, -4},
  /* P */ {-1, -2, -2, -1, -3, -1, -1, -2, -2, -3, -3, -1, -2, -4,  7, -1, -1, -4, -3, -2, -2, -1, -2, -4},
  /* S */ { 1, -1,  1,  0, -1,  0,  0,  0, -1, -2, -2,  0, -1, -2, -1,  4,  1, -3, -2, -2,  0,  0,  0, -4},
  /* T */ { 0, -1,  0, -1, -1, -1, -1, -2, -2, -1, -1, -1, -1, -2, -1,  1,  5, -2, -2,  0, -1, -1,  0, -4},
  /* W */ {-3, -3, -4, -4, -2, -2, -3, -2, -2, -3, -2, -3, -1,  1, -4, -3, -2, 11,  2, -3, -4, -3, -2, -4},
  /* Y */ {-2, -2, -2, -3, -2, -1, -2, -3,  2, -1, -1, -2, -1,  3, -3, -2, -2,  2,  7, -1, -3, -2, -1, -4},
  /* V */ { 0, -3, -3, -3, -1, -2, -2, -3, -3,  3,  1, -2,  1, -1, -2, -2,  0, -3, -1,  4, -3, -2, -1, -4},
  /* B */ {-2, -1,  3,  4, -3,  0,  1, -1,  0, -3, -4,  0, -3, -3, -2,  0, -1, -4, -3, -3,  4,  1, -1, -4},
  /* Z */ {-1,  0,  0,  1, -3,  3,  4, -2,  0, -3, -3,  1, -1, -3, -1,  0, -1, -3, -2, -2,  1,  4, -1, -4},
  /* X */ { 0, -1, -1, -1, -2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -2,  0,  0, -2, -1, -1, -1, -1, -1, -4},
  /* * */ {-4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,  1},
};

/* Index of a residue character in blosum_order (X for J, O, U); -1 if not a residue. */
static int blosum_index(int ch) {
  if (ch == '*') return 23;
  if (!isalpha(ch)) return -1;
  const char *p = strchr(blosum_order, toupper(ch));
  return p ? (int)(p - blosum_order) : 22;
}

static int is_gapch(int ch) { return ch == '-' || ch == '.'; }

/* The residues of s (gaps removed) as matrix indices, and their positions in s. */
static int residues_of(const char *s, const char *which, int *idx, int64_t *pos, int64_t *ret_n,
                       sl_error *err) {
  int64_t n = 0;
  for (int64_t k = 0; s[k]; k++) {
    unsigned char ch = (unsigned char)s[k];
    if (is_gapch(ch)) continue;
    int x = blosum_index(ch);
    if (x < 0)
      return sl_fail(err, SL_EUSAGE, "alignment: sequence %s has character '%c' (byte %d) at "
                     "position %lld; expected letters, '*', '-' or '.'", which,
                     isprint(ch) ? ch : '?', ch, (long long)k + 1);
    idx[n] = x;
    pos[n++] = k;
  }
  *ret_n = n;
  return SL_OK;
}

int sl_align_global(const char *a, const char *b, int64_t *ret_map_a_to_b, double *ret_identity,
                    sl_error *err) {
  size_t la = strlen(a), lb = strlen(b);
  int *ia = sl_malloc(la + 1, sizeof *ia), *ib = sl_malloc(lb + 1, sizeof *ib);
  int64_t *pa = sl_malloc(la + 1, sizeof *pa), *pb = sl_malloc(lb + 1, sizeof *pb);
  int64_t *row = NULL;
  unsigned char *tb = NULL;
  int64_t n = 0, m = 0, ident = 0, aligned = 0;
  int status = SL_OK;
  for (size_t k = 0; k < la; k++) ret_map_a_to_b[k] = -1;
  if (ret_identity) *ret_identity = 0.0;
  if (!ia || !ib || !pa || !pb) { status = sl_fail(err, SL_ENOMEM, "alignment: out of memory"); goto DONE; }
  if ((status = residues_of(a, "a", ia, pa, &n, err))) goto DONE;
  if ((status = residues_of(b, "b", ib, pb, &m, err))) goto DONE;
  if (n == 0 || m == 0) goto DONE;
  if ((double)(n + 1) * (double)(m + 1) > MAX_CELLS) {
    status = sl_fail(err, SL_EUSAGE, "alignment: %lld x %lld residues is more than the %.0f "
                     "cells this aligner allows", (long long)n, (long long)m, MAX_CELLS);
    goto DONE;
  }
  int64_t w = m + 1;
  row = sl_malloc((size_t)(6 * w), sizeof *row); /* M, X, Y of the previous and current rows */
  tb = sl_malloc((size_t)(n + 1), (size_t)w);
  if (!row || !tb) { status = sl_fail(err, SL_ENOMEM, "alignment: out of memory (%lld x %lld)", (long long)n, (long long)m); goto DONE; }
  int64_t *pM = row, *pX = row + w, *pY = row + 2 * w, *cM = row + 3 * w, *cX = row + 4 * w, *cY = row + 5 * w;
  /* Row 0: start in M; a leading gap in a (b residues unaligned) is free. */
  pM[0] = 0; pX[0] = NEG; pY[0] = NEG;
  for (int64_t j = 1; j <= m; j++) { pM[j] = NEG; pX[j] = NEG; pY[j] = 0; tb[j] = 8; }
  tb[0] = 0;
  /* The best end cell: the last column of rows 1..n-1, then the last row; states M, X, Y;
   * the first maximum wins. */
  int64_t best = NEG, bi = 0, bj = 0;
  int bs = 0;
  for (int64_t i = 1; i <= n; i++) {
    unsigned char *t = tb + i * w;
    const signed char *srow = blosum62[ia[i - 1]];
    cM[0] = NEG; cX[0] = 0; cY[0] = NEG; /* a leading gap in b is free */
    t[0] = 4;
    for (int64_t j = 1; j <= m; j++) {
      unsigned char bits = 0;
      int64_t v = pM[j - 1];
      if (pX[j - 1] > v) { v = pX[j - 1]; bits = 1; }
      if (pY[j - 1] > v) { v = pY[j - 1]; bits = 2; }
      cM[j] = v + srow[ib[j - 1]];
      int64_t open = pM[j] - (GAP_OPEN + GAP_EXTEND), ext = pX[j] - GAP_EXTEND;
      if (ext > open) { cX[j] = ext; bits |= 4; } else cX[j] = open;
      open = cM[j - 1] - (GAP_OPEN + GAP_EXTEND);
      ext = cY[j - 1] - GAP_EXTEND;
      if (ext > open) { cY[j] = ext; bits |= 8; } else cY[j] = open;
      t[j] = bits;
    }
    if (i == n) {
      for (int64_t j = 0; j <= m; j++) {
        const int64_t v3[3] = {cM[j], cX[j], cY[j]};
        for (int st = 0; st < 3; st++)
          if (v3[st] > best) { best = v3[st]; bi = i; bj = j; bs = st; }
      }
    } else {
      const int64_t v3[3] = {cM[m], cX[m], cY[m]};
      for (int st = 0; st < 3; st++)
        if (v3[st] > best) { best = v3[st]; bi = i; bj = m; bs = st; }
    }
    int64_t *tmp;
    tmp = pM; pM = cM; cM = tmp;
    tmp = pX; pX = cX; cX = tmp;
    tmp = pY; pY = cY; cY = tmp;
  }
  /* Trace back from the end cell; the free end gaps before it need no steps. */
  for (int64_t i = bi, j = bj; i > 0 && j > 0;) {
    unsigned char bits = tb[i * w + j];
    if (bs == 0) {
      ret_map_a_to_b[pa[i - 1]] = pb[j - 1];
      aligned++;
      if (ia[i - 1] == ib[j - 1] && ia[i - 1] < 22) ident++;
      bs = bits & 3;
      i--; j--;
    } else if (bs == 1) {
      bs = (bits & 4) ? 1 : 0;
      i--;
    } else {
      bs = (bits & 8) ? 2 : 0;
      j--;
    }
  }
  if (ret_identity && aligned > 0) *ret_identity = (double)ident / (double)aligned;
DONE:
  free(ia); free(ib); free(pa); free(pb); free(row); free(tb);
  return status;
}
