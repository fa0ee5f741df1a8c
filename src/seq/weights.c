/* weights.c: sequence weights in the plmc and EVE/ProteinGym conventions,
 * and the weights file (write, read back).
 *
 * Each convention is reduced to one integer per row, the smallest match count
 * that makes another row a neighbour, computed with exactly the peers'
 * floating-point comparison (plmc: m >= (1 - theta) * L; EVE: m / Lng > 1 - theta)
 * so boundary cases round the same way; the kernel (src/kern/identity.c)
 * then only compares integers.
 *
 * Identical rows are compared once: the kernel runs on the distinct rows,
 * each counted with its multiplicity, and a row's copies are its neighbours
 * when a row reaches the threshold against itself (always, except an EVE
 * row of gaps only). The counts are the same integers as over all rows, so
 * the weights are the same bytes; deep alignments restricted to the focus
 * columns repeat many rows (ProteinGym's MYO3: 35,458 distinct of 92,471
 * rows, 6.8x fewer pairs).
 *
 * Across ranks (seqloop/dist.h), the distinct rows' pairs are split by row
 * blocks (sl_neighbours_count_part) and the counts summed: integers, so the
 * weights are the same bytes for any number of ranks.
 */
#include "seqloop/weights.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/seqfile.h"

void sl_weights_opts_init(sl_weights_opts *o) {
  o->convention = SL_WEIGHTS_PLMC;
  o->theta = 0.2;
  o->threads = 1;
  o->kernel = SL_KERN_AUTO;
  o->progress = NULL;
  o->dist = NULL;
}

int sl_weights_convention_parse(const char *s) {
  if (strcmp(s, "plmc") == 0) return SL_WEIGHTS_PLMC;
  if (strcmp(s, "eve") == 0 || strcmp(s, "proteingym") == 0) return SL_WEIGHTS_EVE;
  return -1;
}

const char *sl_weights_convention_name(int c) { return c == SL_WEIGHTS_EVE ? "eve" : "plmc"; }

static int cmp_rows(const void *a, const void *b, void *ctx) {
  const sl_msa *m = ctx;
  int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
  int c = memcmp(sl_msa_row(m, i), sl_msa_row(m, j), (size_t)m->L);
  return c ? c : (i > j) - (i < j); /* ties by index: the first copy represents */
}

/* Distinct rows: rep[n] the distinct row of row n, *ret_u of them, their
 * states in ux (u x L, in order of first appearance) and multiplicities. */
static int distinct_rows(const sl_msa *m, int64_t *rep, uint8_t **ret_ux, int32_t **ret_mult,
                         int64_t **ret_first, int64_t *ret_u) {
  const int64_t N = m->N, L = m->L;
  int64_t *ord = malloc((size_t)(N ? N : 1) * sizeof *ord), *first = NULL;
  int32_t *mult = NULL;
  uint8_t *ux = NULL;
  if (!ord) return -1;
  for (int64_t n = 0; n < N; n++) ord[n] = n;
  qsort_r(ord, (size_t)N, sizeof *ord, cmp_rows, (void *)m);
  /* label each row with its class's first index, then number classes by first appearance */
  for (int64_t k = 0; k < N; k++)
    rep[ord[k]] = k > 0 && memcmp(sl_msa_row(m, ord[k]), sl_msa_row(m, ord[k - 1]), (size_t)L) == 0
                      ? rep[ord[k - 1]] : ord[k];
  int64_t u = 0;
  for (int64_t n = 0; n < N; n++) u += rep[n] == n;
  first = malloc((size_t)(u ? u : 1) * sizeof *first);
  mult = calloc((size_t)(u ? u : 1), sizeof *mult);
  ux = malloc((size_t)(u && L ? u * L : 1));
  if (!first || !mult || !ux) { free(ord); free(first); free(mult); free(ux); return -1; }
  int64_t *idx = ord; /* reused: class index of each first row */
  for (int64_t n = 0, k = 0; n < N; n++)
    if (rep[n] == n) {
      idx[n] = k;
      first[k] = n;
      memcpy(ux + k * L, sl_msa_row(m, n), (size_t)L);
      k++;
    }
  for (int64_t n = 0; n < N; n++) {
    rep[n] = idx[rep[n]];
    mult[rep[n]]++;
  }
  free(ord);
  *ret_ux = ux;
  *ret_mult = mult;
  *ret_first = first;
  *ret_u = u;
  return 0;
}

int sl_weights_compute(const sl_msa *msa, const sl_weights_opts *o, double *ret_w,
                       double *ret_neff, sl_error *err) {
  const int64_t N = msa->N, L = msa->L;
  int status = SL_OK;
  if (!(o->theta >= 0.0 && o->theta <= 1.0)) { /* plmc: no reweighting */
    for (int64_t n = 0; n < N; n++) ret_w[n] = 1.0;
    if (ret_neff) *ret_neff = (double)N;
    return SL_OK;
  }
  int32_t *mm = malloc((size_t)(N ? N : 1) * sizeof *mm);
  int64_t *cnt = malloc((size_t)(N ? N : 1) * sizeof *cnt);
  int64_t *lng = calloc((size_t)(N ? N : 1), sizeof *lng);
  if (!mm || !cnt || !lng) { status = sl_fail(err, SL_ENOMEM, "out of memory for weights"); goto DONE; }
  const double thr = 1.0 - o->theta;
  if (o->convention == SL_WEIGHTS_PLMC) {
    const double t = thr * (double)L; /* plmc: id >= (1 - theta) * nSites */
    int64_t m = 0;
    while (m <= L && !((double)m >= t)) m++;
    for (int64_t n = 0; n < N; n++) mm[n] = m <= L ? (int32_t)m : INT32_MAX;
  } else {
    for (int64_t n = 0; n < N; n++) {
      const uint8_t *r = sl_msa_row(msa, n);
      for (int64_t k = 0; k < L; k++) lng[n] += r[k] != 0;
      if (lng[n] == 0) { mm[n] = INT32_MAX; continue; }
      /* EVE: pair_matches / L_non_gaps[n] > identity_threshold, in double. */
      int64_t m = (int64_t)floor(thr * (double)lng[n]) - 1;
      if (m < 0) m = 0;
      while (m <= lng[n] && !((double)m / (double)lng[n] > thr)) m++;
      mm[n] = m <= lng[n] ? (int32_t)m : INT32_MAX;
    }
  }
  {
    const int gm = o->convention == SL_WEIGHTS_PLMC;
    int64_t *rep = malloc((size_t)(N ? N : 1) * sizeof *rep), *first = NULL, U = 0;
    uint8_t *ux = NULL;
    int32_t *mult = NULL, *umm = NULL;
    int64_t *ucnt = NULL;
    if (!rep || distinct_rows(msa, rep, &ux, &mult, &first, &U)) {
      free(rep);
      status = sl_fail(err, SL_ENOMEM, "out of memory for weights");
      goto DONE;
    }
    umm = malloc((size_t)(U ? U : 1) * sizeof *umm);
    ucnt = malloc((size_t)(U ? U : 1) * sizeof *ucnt);
    if (!umm || !ucnt) status = sl_fail(err, SL_ENOMEM, "out of memory for weights");
    for (int64_t k = 0; !status && k < U; k++) umm[k] = mm[first[k]];
    /* Across ranks: each compares its row blocks (against all later rows),
     * and the integer counts are summed: the same integers as one process. */
    const int nr = sl_dist_ranks(o->dist);
    if (!status)
      status = sl_neighbours_count_part(ux, U, L, gm, umm, mult, sl_dist_rank(o->dist), nr, o->threads,
                                        o->kernel, o->progress, ucnt, err);
    if (!status && nr > 1 && o->dist->sum_i64(o->dist->ctx, ucnt, U) != 0)
      status = sl_fail(err, SL_EIO, "weights: summing the neighbour counts across %d ranks failed", nr);
    for (int64_t n = 0; !status && n < N; n++) {
      const int64_t k = rep[n], self = gm ? L : lng[first[k]];
      cnt[n] = ucnt[k] + (self >= umm[k] ? mult[k] - 1 : 0);
    }
    free(rep); free(first); free(ux); free(mult); free(umm); free(ucnt);
    if (status) goto DONE;
  }
  double neff = 0.0;
  for (int64_t n = 0; n < N; n++) {
    if (o->convention == SL_WEIGHTS_EVE && lng[n] == 0) ret_w[n] = 0.0;
    else ret_w[n] = 1.0 / (1.0 + (double)cnt[n]);
    neff += ret_w[n];
  }
  if (ret_neff) *ret_neff = neff;
DONE:
  free(mm); free(cnt); free(lng);
  return status;
}

/* ---- weights files ------------------------------------------------------ */

int sl_weights_write(const char *path, const sl_msa *msa, const double *w, int plmc_format,
                     const char *provenance, sl_error *err) {
  int64_t R = msa->rep.n_records;
  double *all = calloc((size_t)(R ? R : 1), sizeof *all);
  const char **names = calloc((size_t)(R ? R : 1), sizeof *names);
  sl_outfile *of = NULL;
  int status;
  if (!all || !names) { free(all); free(names); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  for (int64_t n = 0; n < msa->N; n++) {
    all[msa->src_row[n]] = w[n];
    names[msa->src_row[n]] = msa->name[n];
  }
  if ((status = sl_outfile_open(path, &of, err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  if (plmc_format) {
    for (int64_t k = 0; k < R; k++) fprintf(fp, "%.16e\n", all[k]);
  } else {
    if (provenance) fputs(provenance, fp);
    fprintf(fp, "weight\tname\n");
    for (int64_t k = 0; k < R; k++)
      fprintf(fp, "%.16e\t%s\n", all[k], names[k] ? names[k] : "-");
  }
  status = sl_outfile_commit(of, err);
DONE:
  free(all); free(names);
  return status;
}

int sl_weights_read(const char *path, const sl_msa *msa, double *ret_w, double *ret_neff,
                    sl_error *err) {
  int64_t R = msa->rep.n_records, k = 0;
  double *all = malloc((size_t)(R ? R : 1) * sizeof *all);
  int64_t *row_of = malloc((size_t)(R ? R : 1) * sizeof *row_of);
  sl_reader *r = NULL;
  char *line;
  size_t len;
  int status = SL_OK;
  if (!all || !row_of) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t j = 0; j < R; j++) row_of[j] = -1;
  for (int64_t n = 0; n < msa->N; n++) row_of[msa->src_row[n]] = n;
  if ((status = sl_reader_open(path, &r, err))) goto DONE;
  for (;;) {
    if ((status = sl_reader_line(r, &line, &len, err))) goto DONE;
    if (!line) break;
    if (line[0] == '#' || len == 0 || strncmp(line, "weight\t", 7) == 0) continue;
    char *e = NULL;
    errno = 0;
    double v = strtod(line, &e);
    if (e == line || errno || !(v >= 0.0) || !isfinite(v) || (*e && *e != '\t' && *e != ' ')) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: expected a non-negative weight, found '%.40s'",
                       path, (long long)sl_reader_lineno(r), line);
      goto DONE;
    }
    if (k >= R) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: more weights than the %lld records of %s",
                       path, (long long)sl_reader_lineno(r), (long long)R, msa->path);
      goto DONE;
    }
    if (*e == '\t' && row_of[k] >= 0 && strcmp(e + 1, msa->name[row_of[k]]) != 0) {
      status = sl_fail(err, SL_EINPUT, "%s line %lld: weight for '%s', but record %lld of %s is "
                       "'%s'", path, (long long)sl_reader_lineno(r), e + 1, (long long)k + 1,
                       msa->path, msa->name[row_of[k]]);
      goto DONE;
    }
    all[k++] = v;
  }
  if (k != R) {
    status = sl_fail(err, SL_EINPUT, "%s: %lld weights, but %s has %lld records (one weight per "
                     "input record is expected, 0 for dropped rows)", path, (long long)k,
                     msa->path, (long long)R);
    goto DONE;
  }
  double neff = 0.0;
  for (int64_t n = 0; n < msa->N; n++) {
    ret_w[n] = all[msa->src_row[n]];
    neff += ret_w[n];
  }
  if (ret_neff) *ret_neff = neff;
DONE:
  sl_reader_close(r);
  free(all); free(row_of);
  return status;
}
