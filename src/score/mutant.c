/* mutant.c: mutant strings and exact energy differences.
 *
 * The energy difference uses only the terms that touch a mutated site M:
 *   T(s) = sum_{i in M} h_i(s_i) + sum_{i in M, j not in M} J_ij(s_i, s_j)
 *          + sum_{i < j, both in M} J_ij(s_i, s_j)
 * and H(s') - H(s) = T(s') - T(s), since every other term is unchanged. Cost
 * O(|M| L) instead of O(L^2).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/msa.h"
#include "seqloop/score.h"

static int find_col(const sl_model *m, int64_t pos) {
  for (int64_t i = 0; i < m->L; i++)
    if (m->pos[i] == pos) return (int)i;
  return -1;
}

int sl_mutant_parse(const sl_model *m, const char *text, int64_t offset, sl_mutation *mut,
                    int *ret_n, sl_error *err) {
  /* The grammar (docs/formats.md, Mutants): blanks around the whole string
   * are ignored; "", "WT", "wt" and "_wt" are the wild type; otherwise one
   * or more mutations joined by ':' with nothing between them, each a
   * letter, a residue number without leading zeros, a letter. */
  int n = 0;
  const char *p = text, *end;
  *ret_n = 0;
  while (*p == ' ' || *p == '\t') p++;
  end = p + strlen(p);
  while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
  int tl = (int)(end - p);
  if (tl == 0 || (tl == 2 && (!strncmp(p, "WT", 2) || !strncmp(p, "wt", 2))) ||
      (tl == 3 && !strncmp(p, "_wt", 3)))
    return SL_OK;
  while (p < end) {
    const char *start = p;
    while (p < end && *p != ':') p++;
    int len = (int)(p - start);
    if (len == 0 || (p < end && p + 1 == end))
      return sl_fail(err, SL_EINPUT, "variant '%.*s': an empty mutation (mutations are joined by "
                     "single ':' with nothing before, between or after them)", tl > 60 ? 60 : tl,
                     end - tl);
    if (len < 3)
      return sl_fail(err, SL_EINPUT, "mutation '%.*s' is not of the form A42G", len, start);
    if (start[1] == '0')
      return sl_fail(err, SL_EINPUT, "mutation '%.*s': a residue number with a leading zero", len, start);
    unsigned char wt = (unsigned char)toupper((unsigned char)start[0]);
    unsigned char mt = (unsigned char)toupper((unsigned char)start[len - 1]);
    char *e = NULL;
    long long num = strtoll(start + 1, &e, 10);
    if (e != start + len - 1 || !isdigit((unsigned char)start[1]) || !isalpha(wt))
      return sl_fail(err, SL_EINPUT, "mutation '%.*s' is not of the form A42G (letter, number, letter)", len, start);
    if (m->abc->cls[mt] != SL_CH_RESIDUE)
      return sl_fail(err, SL_EINPUT, "mutation '%.*s': '%c' is not a %s residue", len, start, mt, m->abc->name);
    /* bounded so that num + offset cannot overflow (found by fuzz_mutant) */
    if (num > SL_MAX_RESIDUE_NUMBER || offset > SL_MAX_RESIDUE_NUMBER || offset < -SL_MAX_RESIDUE_NUMBER)
      return sl_fail(err, SL_EINPUT, "mutation '%.*s': residue number out of range (at most %lld)", len > 40 ? 40 : len,
                     start, (long long)SL_MAX_RESIDUE_NUMBER);
    int64_t pos = num + offset;
    int col = find_col(m, pos);
    if (col < 0)
      return sl_fail(err, SL_EINPUT, "mutation '%.*s': residue %lld%s is not a column of the model "
                     "(model covers %lld..%lld)", len, start, (long long)pos,
                     offset ? " (after offset)" : "", (long long)m->pos[0], (long long)m->pos[m->L - 1]);
    uint8_t fw = m->focus[col];
    if (m->abc->code[wt] != fw || m->abc->cls[wt] != SL_CH_RESIDUE)
      return sl_fail(err, SL_EINPUT, "mutation '%.*s': the wild type at residue %lld is '%c', not '%c'",
                     len, start, (long long)pos, m->abc->symbols[fw], wt);
    if (n == SL_MAX_MUTATIONS)
      return sl_fail(err, SL_EINPUT, "more than %d mutations in one variant", SL_MAX_MUTATIONS);
    for (int k = 0; k < n; k++)
      if (mut[k].col == col)
        return sl_fail(err, SL_EINPUT, "residue %lld is mutated twice in '%s'", (long long)pos, text);
    mut[n].col = col;
    mut[n].pos = pos;
    mut[n].wt = fw;
    mut[n].mt = m->abc->code[mt];
    n++;
    if (p < end) p++; /* the ':' */
  }
  *ret_n = n;
  return SL_OK;
}

int sl_mutant_delta(const sl_model *m, sl_model_ws *ws, const uint8_t *s, const sl_mutation *mut, int n,
                    double *ret, sl_error *err) {
  *ret = 0.0;
  if (n == 0) return SL_OK;
  int64_t *cols = malloc((size_t)n * sizeof *cols);
  uint8_t *mt = malloc((size_t)n);
  int status;
  if (!cols || !mt) status = sl_fail(err, SL_ENOMEM, "out of memory");
  else {
    for (int k = 0; k < n; k++) { cols[k] = mut[k].col; mt[k] = mut[k].mt; }
    status = sl_model_delta_cols(m, ws, s, cols, mt, n, ret, err);
  }
  free(cols);
  free(mt);
  return status;
}

double sl_model_delta(const sl_model *m, const uint8_t *s, const sl_mutation *mut, int n) {
  double d = NAN;
  sl_error err;
  if (sl_mutant_delta(m, NULL, s, mut, n, &d, &err)) return NAN;
  return d;
}
