/* colstats.c: the alignment part of `seqloop audit`.
 *
 * One pass over the N x L states accumulates weighted counts per column
 * (L*q doubles); a second pass hashes rows to count duplicates. Entropy is
 * H_i = -sum_a f_i(a) log2 f_i(a) with f_i the weighted frequencies over the
 * q states, gap included. A column that is mostly gaps has a low entropy
 * but is not "conserved": the entropy order ranks first the columns with at
 * most SL_PG_MAX_GAP gaps (ProteinGym's rule for L), then the gappier ones,
 * so that "most conserved" and "most variable" lists never show a column of
 * gaps (RRM_1 listed 98.7%-gap columns as most conserved before this).
 * Ties are broken by column index, so the order is reproducible.
 */
#include "seqloop/audit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/base.h"

const char *sl_depth_class(double x) {
  if (x < 1.0) return "low";
  if (x <= 100.0) return "medium";
  return "high";
}

void sl_audit_destroy(sl_audit *a) {
  if (!a) return;
  free(a->col);
  free(a->by_entropy);
  free(a);
}

typedef struct { int gappy; double e; int64_t i; } ent_key;

static int by_entropy_cmp(const void *pa, const void *pb) {
  const ent_key *a = pa, *b = pb;
  if (a->gappy != b->gappy) return a->gappy - b->gappy;
  if (a->e < b->e) return -1;
  if (a->e > b->e) return 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

int sl_audit_compute(const sl_msa *msa, const double *w, sl_audit **ret_a, sl_error *err) {
  const int64_t N = msa->N, L = msa->L;
  const int q = msa->abc->q;
  sl_audit *a = calloc(1, sizeof *a);
  double *cnt = calloc((size_t)(L * q), sizeof *cnt);
  int64_t *gaps = calloc((size_t)L, sizeof *gaps);
  sl_strmap *rows = sl_strmap_create((size_t)N);
  *ret_a = NULL;
  if (!a || !cnt || !gaps || !rows) goto NOMEM;
  a->col = calloc((size_t)L, sizeof *a->col);
  a->by_entropy = malloc((size_t)L * sizeof *a->by_entropy);
  if (!a->col || !a->by_entropy) goto NOMEM;
  a->N = N;
  a->L = L;
  for (int64_t n = 0; n < N; n++) {
    const uint8_t *r = sl_msa_row(msa, n);
    for (int64_t i = 0; i < L; i++) {
      cnt[i * q + r[i]] += w[n];
      gaps[i] += r[i] == 0;
    }
    a->neff += w[n];
    int64_t prev = sl_strmap_put(rows, (const char *)r, (size_t)L, n);
    if (prev == -2) goto NOMEM;
    if (prev >= 0) a->n_duplicates++;
  }
  a->n_distinct = N - a->n_duplicates;
  a->max_entropy = log2((double)q);
  double hsum = 0.0;
  for (int64_t i = 0; i < L; i++) {
    sl_colstat *c = &a->col[i];
    c->col = i;
    c->pos = msa->pos ? msa->pos[i] : 0;
    c->gap_frac = N ? (double)gaps[i] / (double)N : 0.0;
    double h = 0.0, best = -1.0;
    for (int s = 0; s < q; s++) {
      double f = a->neff > 0 ? cnt[i * q + s] / a->neff : 0.0;
      if (f > 0) h -= f * log2(f);
      if (s > 0 && f > best) { best = f; c->consensus = s; }
    }
    if (best <= 0.0) c->consensus = 0;
    c->consensus_f = best > 0.0 ? best : 0.0;
    c->gap_frac_w = a->neff > 0 ? cnt[i * q] / a->neff : 0.0;
    c->entropy = h > 0.0 ? h : 0.0; /* -0.0 for a constant column */
    hsum += c->entropy;
    a->L_pg += c->gap_frac <= SL_PG_MAX_GAP;
  }
  a->mean_entropy = L ? hsum / (double)L : 0.0;
  a->neff_per_L = L ? a->neff / (double)L : 0.0;
  a->neff_per_L_pg = a->L_pg ? a->neff / (double)a->L_pg : 0.0;
  a->depth_class = sl_depth_class(a->neff_per_L_pg);
  ent_key *keys = malloc((size_t)(L ? L : 1) * sizeof *keys);
  if (!keys) goto NOMEM;
  a->n_ranked = 0;
  for (int64_t i = 0; i < L; i++) {
    int gappy = a->col[i].gap_frac > SL_PG_MAX_GAP;
    keys[i] = (ent_key){gappy, a->col[i].entropy, i};
    a->n_ranked += !gappy;
  }
  qsort(keys, (size_t)L, sizeof *keys, by_entropy_cmp);
  for (int64_t i = 0; i < L; i++) a->by_entropy[i] = keys[i].i;
  free(keys);
  free(cnt); free(gaps); sl_strmap_destroy(rows);
  *ret_a = a;
  return SL_OK;
NOMEM:
  free(cnt); free(gaps); sl_strmap_destroy(rows);
  sl_audit_destroy(a);
  return sl_fail(err, SL_ENOMEM, "out of memory auditing a %lld x %lld alignment", (long long)N,
                 (long long)L);
}
