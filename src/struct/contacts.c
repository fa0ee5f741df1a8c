/* contacts.c: precision of predicted contacts against a structure.
 *
 * The pairs are filtered (separation, mapping to a residue with
 * coordinates), ranked by one total order (score descending, then i, j
 * ascending, then input order), and de-duplicated in rank order: a second
 * sort by (i, j, rank) puts copies of a pair next to each other so the
 * best-ranked one is kept without a hash of L^2 keys. The precision at each
 * k is then a prefix count over the ranked list. Rules: seqloop/structure.h.
 */
#include <math.h>
#include <stdlib.h>

#include "seqloop/structure.h"

typedef struct {
  int64_t i, j;  /* i < j */
  double score;
  int64_t rank;  /* input order, then rank after sorting */
  int dup;
} ranked;

static int by_score(const void *x, const void *y) {
  const ranked *a = x, *b = y;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  if (a->j != b->j) return a->j < b->j ? -1 : 1;
  return (a->rank > b->rank) - (a->rank < b->rank);
}

static int by_pair(const void *x, const void *y) {
  const ranked *a = *(const ranked *const *)x, *b = *(const ranked *const *)y;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  if (a->j != b->j) return a->j < b->j ? -1 : 1;
  return (a->rank > b->rank) - (a->rank < b->rank);
}

/* Does position p of a map to a structure residue with coordinates? */
static int mapped(const int64_t *map, const sl_structure *s, int64_t p) {
  int64_t r = map[p];
  return r >= 0 && !(s->res[r].flags & SL_RES_NO_COORD);
}

int sl_contact_precision(const sl_pair *pairs, int64_t npairs, int64_t L, const int64_t *map_a_to_b,
                         const sl_structure *s, int64_t min_sep, double cutoff, sl_precision *ret,
                         sl_error *err) {
  ranked *q = NULL;
  ranked **ix = NULL;
  int status = SL_OK;
  if (L < 1 || min_sep < 0 || !(cutoff > 0.0) || !isfinite(cutoff) || npairs < 0 || !s ||
      !map_a_to_b || (npairs > 0 && !pairs))
    return sl_fail(err, SL_EUSAGE, "contact precision: bad arguments (L %lld, min_sep %lld, "
                   "cutoff %g, %lld pairs)", (long long)L, (long long)min_sep, cutoff,
                   (long long)npairs);
  for (int64_t p = 0; p < L; p++)
    if (map_a_to_b[p] < -1 || map_a_to_b[p] >= s->n)
      return sl_fail(err, SL_EUSAGE, "contact precision: position %lld maps to residue %lld, "
                     "outside the structure's %lld residues", (long long)p,
                     (long long)map_a_to_b[p], (long long)s->n);
  sl_precision r;
  r.L = L;
  r.n_pairs = npairs;
  r.n_duplicate = r.n_near = r.n_unmapped = r.n_qualify = r.n_contacts = 0;
  static const int64_t div[SL_PREC_NK] = {10, 5, 2, 1};
  for (int t = 0; t < SL_PREC_NK; t++) {
    r.k[t] = L / div[t] > 0 ? L / div[t] : 1;
    r.n_eval[t] = r.n_true[t] = 0;
    r.precision[t] = NAN;
  }

  q = sl_malloc((size_t)(npairs ? npairs : 1), sizeof *q);
  ix = sl_malloc((size_t)(npairs ? npairs : 1), sizeof *ix);
  if (!q || !ix) { status = sl_fail(err, SL_ENOMEM, "contact precision: out of memory"); goto DONE; }
  int64_t nq = 0;
  for (int64_t k = 0; k < npairs; k++) {
    int64_t i = pairs[k].i, j = pairs[k].j;
    if (i < 0 || j < 0 || i >= L || j >= L) {
      status = sl_fail(err, SL_EUSAGE, "contact precision: pair %lld is (%lld, %lld), outside "
                       "the sequence [0, %lld)", (long long)k, (long long)i, (long long)j,
                       (long long)L);
      goto DONE;
    }
    if (isnan(pairs[k].score)) {
      status = sl_fail(err, SL_EUSAGE, "contact precision: pair %lld (%lld, %lld) has a NaN "
                       "score", (long long)k, (long long)i, (long long)j);
      goto DONE;
    }
    if (i > j) { int64_t t = i; i = j; j = t; }
    if (j - i < min_sep) { r.n_near++; continue; }
    if (!mapped(map_a_to_b, s, i) || !mapped(map_a_to_b, s, j)) { r.n_unmapped++; continue; }
    q[nq].i = i;
    q[nq].j = j;
    q[nq].score = pairs[k].score;
    q[nq].rank = k;
    q[nq].dup = 0;
    nq++;
  }
  if (nq > 1) qsort(q, (size_t)nq, sizeof *q, by_score);
  for (int64_t k = 0; k < nq; k++) {
    q[k].rank = k;
    ix[k] = &q[k];
  }
  if (nq > 1) qsort(ix, (size_t)nq, sizeof *ix, by_pair);
  for (int64_t k = 1; k < nq; k++)
    if (ix[k]->i == ix[k - 1]->i && ix[k]->j == ix[k - 1]->j) {
      ix[k]->dup = 1;
      r.n_duplicate++;
    }
  int64_t m = 0, ntrue = 0;
  for (int64_t k = 0; k < nq; k++) {
    if (q[k].dup) continue;
    double d = sl_structure_distance(s, map_a_to_b[q[k].i], map_a_to_b[q[k].j]);
    ntrue += d < cutoff;
    m++;
    for (int t = 0; t < SL_PREC_NK; t++)
      if (m == r.k[t]) { r.n_eval[t] = m; r.n_true[t] = ntrue; }
  }
  r.n_qualify = m;
  r.n_contacts = ntrue;
  for (int t = 0; t < SL_PREC_NK; t++) {
    if (m < r.k[t]) { r.n_eval[t] = m; r.n_true[t] = ntrue; }
    if (r.n_eval[t] > 0) r.precision[t] = (double)r.n_true[t] / (double)r.n_eval[t];
  }
  *ret = r;
DONE:
  free(q);
  free(ix);
  return status;
}
