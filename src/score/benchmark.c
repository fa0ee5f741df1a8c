/* benchmark.c: the ProteinGym-style zero-shot benchmark (benchmark.h;
 * docs/scoring.md). One assay = read, weight, fit each component, score
 * every variant, combine within the assay, ProteinGym's metrics, two files
 * written atomically (the result file last, so that its presence means the
 * assay is complete and a rerun skips it). Aggregation: ProteinGym's
 * UniProt -> selection type -> mean of types, with bootstrap SEs. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/benchmark.h"
#include "seqloop/metrics.h"
#include "seqloop/msa.h"
#include "seqloop/potts.h"
#include "seqloop/rng.h"
#include "seqloop/score.h"
#include "seqloop/weights.h"
#include "seqloop/zeroshot.h"

static const char *const known_kinds[] = {"lor", "gemme", "profile", "potts", "stab"};

int sl_bench_recipe_parse(const char *models, const char *ensemble, int rsa, sl_bench_recipe *r,
                          sl_error *err) {
  memset(r, 0, sizeof *r);
  r->theta = 0.2;
  r->threads = 1;
  r->rsa = rsa;
  if (!ensemble || strcmp(ensemble, "rank") == 0) r->ensemble = SL_ENS_RANK;
  else if (strcmp(ensemble, "z") == 0) r->ensemble = SL_ENS_Z;
  else return sl_fail(err, SL_EUSAGE, "ensemble: expected rank or z, not '%s'", ensemble);
  if (!models || !*models) return sl_fail(err, SL_EUSAGE, "the recipe names no model");
  const char *p = models;
  while (*p) {
    const char *e = strchr(p, '+');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char part[64];
    if (len == 0 || len >= sizeof part)
      return sl_fail(err, SL_EUSAGE, "recipe '%s': empty or overlong part", models);
    memcpy(part, p, len);
    part[len] = 0;
    if (r->n == SL_BENCH_MAX_MODELS)
      return sl_fail(err, SL_EUSAGE, "recipe '%s': at most %d models", models, SL_BENCH_MAX_MODELS);
    double wt = 1.0;
    char *colon = strchr(part, ':');
    if (colon) {
      char *end;
      *colon = 0;
      wt = strtod(colon + 1, &end);
      if (*end || !(wt > 0) || !isfinite(wt))
        return sl_fail(err, SL_EUSAGE, "recipe '%s': weight '%s' is not a positive number", models, colon + 1);
    }
    int crsa = rsa;
    char *at = strchr(part, '@');
    if (at) {
      if (strcmp(at, "@rsa") != 0)
        return sl_fail(err, SL_EUSAGE, "recipe '%s': unknown suffix '%s' (only @rsa)", models, at);
      *at = 0;
      crsa = 1;
    }
    int ok = 0;
    for (size_t k = 0; k < sizeof known_kinds / sizeof *known_kinds; k++) ok |= strcmp(part, known_kinds[k]) == 0;
    if (!ok) return sl_fail(err, SL_EUSAGE, "recipe '%s': unknown model '%s' (lor, gemme, profile, potts, stab)", models, part);
    if (crsa && strcmp(part, "potts") == 0)
      return sl_fail(err, SL_EUSAGE, "recipe '%s': the RSA factor needs field-only models; potts has couplings", models);
    /* stab is built from the burial itself: it needs the RSA column, and a
     * second factor would scale it twice */
    if (strcmp(part, "stab") == 0) {
      if (at)
        return sl_fail(err, SL_EUSAGE, "recipe '%s': stab is already weighted by burial; write stab, not stab@rsa", models);
      crsa = 0; /* --rsa scales the others */
      r->rsa = 1;
    }
    snprintf(r->comp[r->n], sizeof r->comp[0], "%.15s", part);
    r->comp_rsa[r->n] = crsa;
    if (crsa) r->rsa = 1;
    r->weight[r->n++] = wt;
    p = e ? e + 1 : p + len;
  }
  return SL_OK;
}

static int fit_one(const char *kind, const sl_msa *msa, const double *w, const double *burial,
                   int threads, sl_model **m, sl_error *err) {
  if (strcmp(kind, "lor") == 0) return sl_lor_fit(msa, w, 0.01, m, err);
  if (strcmp(kind, "stab") == 0) return sl_stab_fit(msa, burial, m, err);
  if (strcmp(kind, "gemme") == 0) return sl_gemme_fit(msa, w, 0.6, m, err);
  int status;
  if (strcmp(kind, "profile") == 0) {
    status = sl_profile_fit(msa, w, 0.01, 0, m, err);
  } else {
    sl_plm_opts o;
    sl_plm_opts_init(&o);
    o.threads = threads;
    if ((status = sl_plm_preset("evcouplings", msa->L, msa->abc->q, &o, err))) return status;
    sl_plm_report rep;
    status = sl_potts_fit_plm(msa, w, &o, m, &rep, err);
  }
  if (status) return status;
  memcpy((*m)->focus, sl_msa_row(msa, msa->focus), (size_t)msa->L);
  for (int64_t i = 0; i < msa->L; i++) (*m)->pos[i] = msa->pos[i] > 0 ? msa->pos[i] : i + 1;
  return SL_OK;
}

/* Split "A42G:C50D" into the mutations inside the model's numbering (kept,
 * rejoined in buf) and count those outside. */
static int split_outside(const sl_model *m, const char *text, char *buf, size_t nbuf, int *ret_out) {
  int out = 0;
  size_t k = 0;
  buf[0] = 0;
  const char *p = text;
  while (*p) {
    const char *e = strchr(p, ':');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char mut[64];
    if (len >= sizeof mut) return -1;
    memcpy(mut, p, len);
    mut[len] = 0;
    char *end = NULL;
    long pos = len > 2 ? strtol(mut + 1, &end, 10) : 0;
    /* not "X<number>Y" (e.g. "_wt", garbage): the parser decides, never the fallback */
    int inside = len <= 2 || end == mut + 1;
    for (int64_t i = 0; i < m->L && !inside; i++) inside = m->pos[i] == pos;
    if (inside) {
      if (k + len + 2 > nbuf) return -1;
      if (k) buf[k++] = ':';
      memcpy(buf + k, mut, len);
      k += len;
      buf[k] = 0;
    } else {
      out++;
    }
    p = e ? e + 1 : p + len;
  }
  *ret_out = out;
  return 0;
}

/* The fitted component as a model file, its meta saying how it was made
 * (the RSA factors when scaled: "a flag recorded in the model"). */
static int save_model(sl_model *m, const sl_bench_recipe *r, int c, const double *fac,
                      const char *out, const char *id, sl_error *err) {
  size_t cap = 512 + (size_t)m->L * 24, len = 0;
  char *meta = sl_malloc(cap, 1);
  if (!meta) return sl_fail(err, SL_ENOMEM, "out of memory");
  len += (size_t)snprintf(meta, cap,
                          "{\"fit\": {\"by\": \"seqloop benchmark\", \"assay\": \"%s\", \"kind\": \"%s\", "
                          "\"weights\": \"plmc\", \"theta\": %.17g, \"constants\": \"%s\", \"rsa_factor\": ",
                          id, r->comp[c], r->theta,
                          strcmp(r->comp[c], "lor") == 0 ? "r=0.01" : strcmp(r->comp[c], "gemme") == 0 ? "alpha=0.6 r=0.01" :
                          strcmp(r->comp[c], "profile") == 0 ? "lambda_h=0.01" :
                          strcmp(r->comp[c], "stab") == 0 ? "Fauchere-Pliska 1.36/pi, cavity 0.024/A3, Pace-Scholtz helix" :
                          "preset evcouplings");
  if (r->comp_rsa[c] || strcmp(r->comp[c], "stab") == 0) {
    len += (size_t)snprintf(meta + len, cap - len, "{\"source\": \"CSV column RSA\", \"formula\": \"1 - min(RSA,100)/100\", \"%s\": [",
                            r->comp_rsa[c] ? "factors" : "burial");
    for (int64_t i = 0; i < m->L; i++) len += (size_t)snprintf(meta + len, cap - len, "%s%.6g", i ? ", " : "", fac[i]);
    len += (size_t)snprintf(meta + len, cap - len, "]}}}");
  } else {
    len += (size_t)snprintf(meta + len, cap - len, "null}}");
  }
  free(m->meta);
  m->meta = meta;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%s%s.model", out, id, r->comp[c], r->comp_rsa[c] ? "@rsa" : "");
  return sl_model_write(path, m, err);
}

static void normalise(double *s, int64_t n, int mode) {
  if (mode == SL_ENS_RANK) {
    double *rk = sl_malloc((size_t)n, sizeof *rk);
    if (!rk) { for (int64_t k = 0; k < n; k++) s[k] = NAN; return; }
    sl_rank_average(s, n, rk);
    for (int64_t k = 0; k < n; k++) s[k] = rk[k] / (double)n;
    free(rk);
    return;
  }
  double mu = 0, v = 0;
  for (int64_t k = 0; k < n; k++) mu += s[k];
  mu /= (double)n;
  for (int64_t k = 0; k < n; k++) v += (s[k] - mu) * (s[k] - mu);
  double sd = n > 1 ? sqrt(v / (double)(n - 1)) : 0;
  for (int64_t k = 0; k < n; k++) s[k] = sd > 0 ? (s[k] - mu) / sd : 0;
}

static int write_result(const char *path, const sl_bench_result *r, sl_error *err) {
  sl_outfile *of;
  int status = sl_outfile_open(path, &of, err);
  if (status) return status;
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "dms_id,n,n_outside,spearman,ndcg,top10_recall,auc,mcc,seconds\n");
  fprintf(fp, "%s,%lld,%lld,%.17g,%.17g,%.17g,%.17g,%.17g,%.3f\n", r->id, (long long)r->n,
          (long long)r->n_outside, r->spearman, r->ndcg, r->recall, r->auc, r->mcc, r->seconds);
  return sl_outfile_commit(of, err);
}

int sl_bench_result_read(const char *path, sl_bench_result *r, sl_error *err) {
  sl_csv *csv;
  int status = sl_csv_read(path, &csv, err);
  if (status) return status;
  const char *names[] = {"dms_id", "n", "n_outside", "spearman", "ndcg", "top10_recall", "auc", "mcc", "seconds"};
  int col[9];
  for (int k = 0; k < 9; k++)
    if ((col[k] = sl_csv_col(csv, names[k])) < 0 || csv->nrows != 1) {
      sl_csv_destroy(csv);
      return sl_fail(err, SL_EINPUT, "%s: not a benchmark result (needs one row with column %s)", path, names[k]);
    }
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", csv->cell[0][col[0]]);
  r->n = strtoll(csv->cell[0][col[1]], NULL, 10);
  r->n_outside = strtoll(csv->cell[0][col[2]], NULL, 10);
  double *d[] = {&r->spearman, &r->ndcg, &r->recall, &r->auc, &r->mcc, &r->seconds};
  for (int k = 0; k < 6; k++) *d[k] = strtod(csv->cell[0][col[3 + k]], NULL);
  sl_csv_destroy(csv);
  return SL_OK;
}

int sl_bench_assay(const char *dir, const char *id, const sl_bench_recipe *r, const char *out,
                   sl_bench_result *res, sl_error *err) {
  double t0 = sl_seconds();
  memset(res, 0, sizeof *res);
  snprintf(res->id, sizeof res->id, "%s", id);
  char path[4096];
  sl_msa *msa = NULL;
  sl_csv *csv = NULL;
  double *w = NULL, *S = NULL, *ens = NULL, *truth = NULL, *fac = NULL;
  int *bin = NULL, *nout = NULL;
  sl_model *m[SL_BENCH_MAX_MODELS] = {0};
  sl_outfile *of = NULL;
  int status;
  sl_msa_opts mo;
  sl_msa_opts_init(&mo);
  mo.focus_first = 1;
  mo.nonstd = SL_NONSTD_GAP; /* keep every row: X etc. read as gaps */
  snprintf(path, sizeof path, "%s/%s/%s.a2m", dir, id, id);
  if ((status = sl_msa_read(path, &mo, &msa, err))) goto done;
  snprintf(path, sizeof path, "%s/%s/%s.csv", dir, id, id);
  if ((status = sl_csv_read(path, &csv, err))) goto done;
  int cm = sl_csv_col(csv, "mutant"), cs = sl_csv_col(csv, "DMS_score");
  int cb = sl_csv_col(csv, "DMS_score_bin"), cr = sl_csv_col(csv, "RSA");
  if (cm < 0 || cs < 0) {
    status = sl_fail(err, SL_EINPUT, "%s: needs columns mutant and DMS_score", path);
    goto done;
  }
  if (r->rsa && cr < 0) {
    status = sl_fail(err, SL_EINPUT, "%s: the recipe uses RSA but the CSV has no RSA column", path);
    goto done;
  }
  const int64_t n = csv->nrows, L = msa->L;
  w = sl_malloc((size_t)msa->N, sizeof *w);
  S = sl_calloc((size_t)n * (size_t)(r->n + 1), sizeof *S);
  ens = S + (size_t)n * (size_t)r->n;
  truth = sl_malloc((size_t)n, sizeof *truth);
  bin = sl_malloc((size_t)n, sizeof *bin);
  nout = sl_calloc((size_t)n, sizeof *nout);
  fac = sl_malloc((size_t)L, sizeof *fac);
  if (!w || !S || !truth || !bin || !nout || !fac) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto done; }
  sl_weights_opts wo;
  sl_weights_opts_init(&wo);
  wo.theta = r->theta;
  wo.threads = r->threads;
  if ((status = sl_weights_compute(msa, &wo, w, NULL, err))) goto done;
  for (int64_t k = 0; k < n; k++) {
    char *end;
    truth[k] = strtod(csv->cell[k][cs], &end);
    if (end == csv->cell[k][cs] || *end) truth[k] = NAN;
    bin[k] = -1;
    if (cb >= 0) {
      const char *b = csv->cell[k][cb];
      bin[k] = strcmp(b, "1") == 0 || strcmp(b, "1.0") == 0 ? 1 : strcmp(b, "0") == 0 || strcmp(b, "0.0") == 0 ? 0 : -1;
    }
  }
  if (r->rsa) {
    /* per-column factor from the CSV's RSA of single mutants at that position
     * (the residue numbers fit_one gives the models); a column without one
     * keeps factor 1 (documented). The same factors scale the @rsa
     * components and are stab's burial. */
    for (int64_t i = 0; i < L; i++) fac[i] = 1.0;
    for (int64_t k = 0; k < n; k++) {
      const char *mt = csv->cell[k][cm];
      if (strchr(mt, ':')) continue;
      long pos = strtol(mt + 1, NULL, 10);
      double rsa = strtod(csv->cell[k][cr], NULL);
      for (int64_t i = 0; i < L; i++)
        if ((msa->pos[i] > 0 ? msa->pos[i] : i + 1) == pos && isfinite(rsa)) fac[i] = sl_rsa_factor(rsa);
    }
  }
  for (int c = 0; c < r->n; c++) {
    if ((status = fit_one(r->comp[c], msa, w, fac, r->threads, &m[c], err))) goto done;
    if (r->comp_rsa[c] && (status = sl_model_scale_columns(m[c], fac, err))) goto done;
    if (r->save_models && (status = save_model(m[c], r, c, fac, out, id, err))) goto done;
    for (int64_t k = 0; k < n; k++) {
      char buf[4096];
      int no = 0;
      int nm = 0;
      if (split_outside(m[c], csv->cell[k][cm], buf, sizeof buf, &no)) {
        status = sl_fail(err, SL_EINPUT, "%s, line %lld: mutant too long", path, (long long)csv->line[k]);
        goto done;
      }
      sl_mutation *mm = sl_malloc(SL_MAX_MUTATIONS, sizeof *mm);
      if (!mm) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto done; }
      status = sl_mutant_parse(m[c], buf, 0, mm, &nm, err);
      double d = 0;
      if (!status) status = sl_mutant_delta(m[c], NULL, m[c]->focus, mm, nm, &d, err);
      free(mm);
      if (status) {
        sl_fail(err, status, "%s, line %lld (%s): %s", path, (long long)csv->line[k], csv->cell[k][cm], err->msg);
        goto done;
      }
      S[(size_t)c * (size_t)n + (size_t)k] = d;
      if (no > nout[k]) nout[k] = no;
    }
  }
  /* combine within the assay: normalise each component, weighted mean */
  double wsum = 0;
  for (int c = 0; c < r->n; c++) wsum += r->weight[c];
  for (int c = 0; c < r->n; c++) {
    double *tmp = sl_malloc((size_t)n, sizeof *tmp);
    if (!tmp) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto done; }
    memcpy(tmp, S + (size_t)c * (size_t)n, (size_t)n * sizeof *tmp);
    if (r->n > 1) normalise(tmp, n, r->ensemble);
    for (int64_t k = 0; k < n; k++) ens[k] += r->weight[c] / wsum * tmp[k];
    free(tmp);
  }
  res->n = n;
  for (int64_t k = 0; k < n; k++) res->n_outside += nout[k] > 0;
  res->spearman = sl_spearman(truth, ens, n);
  res->ndcg = sl_ndcg(ens, truth, n, 0.1);
  res->recall = sl_topk_recall(ens, truth, n, 0.1);
  res->auc = cb >= 0 ? sl_auc(ens, bin, n) : NAN;
  res->mcc = cb >= 0 ? sl_mcc(ens, bin, n, NAN) : NAN;
  snprintf(path, sizeof path, "%s/%s.scores.csv", out, id);
  if ((status = sl_outfile_open(path, &of, err))) goto done;
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "mutant,DMS_score");
  for (int c = 0; c < r->n; c++) fprintf(fp, ",%s%s", r->comp[c], r->comp_rsa[c] ? "@rsa" : "");
  fprintf(fp, ",score,n_outside\n");
  for (int64_t k = 0; k < n; k++) {
    fprintf(fp, "%s,%s", csv->cell[k][cm], csv->cell[k][cs]);
    for (int c = 0; c < r->n; c++) fprintf(fp, ",%.9g", S[(size_t)c * (size_t)n + (size_t)k]);
    fprintf(fp, ",%.9g,%d\n", ens[k], nout[k]);
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (status) goto done;
  res->seconds = sl_seconds() - t0;
  snprintf(path, sizeof path, "%s/%s.result.csv", out, id);
  status = write_result(path, res, err);
done:
  sl_outfile_abort(of);
  for (int c = 0; c < SL_BENCH_MAX_MODELS; c++) sl_model_destroy(m[c]);
  sl_msa_destroy(msa);
  sl_csv_destroy(csv);
  free(w); free(S); free(truth); free(bin); free(nout); free(fac);
  return status;
}

const char *sl_bench_metric_name(int k) {
  static const char *const names[] = {"spearman", "ndcg", "top10_recall", "auc", "mcc"};
  return k >= 0 && k < SL_BM_N ? names[k] : "?";
}

double sl_bench_metric(const sl_bench_result *r, int k) {
  switch (k) {
  case SL_BM_SPEARMAN: return r->spearman;
  case SL_BM_NDCG: return r->ndcg;
  case SL_BM_RECALL: return r->recall;
  case SL_BM_AUC: return r->auc;
  case SL_BM_MCC: return r->mcc;
  default: return NAN;
  }
}

/* The aggregate over the assays listed in idx (with repeats: a bootstrap
 * resample counts an assay as often as it was drawn). */
static double aggregate_idx(const double *v, const double *v2, const int64_t *idx, int64_t m,
                            const char *const *uni, const char *const *sel, double *plain) {
  /* O(m^2) grouping: m is the number of assays (hundreds at most) */
  double types_sum = 0, psum = 0;
  int ntypes = 0;
  int64_t pn = 0;
  char *seen_t = sl_calloc((size_t)m, 1), *seen_u = sl_calloc((size_t)m, 1);
  if (!seen_t || !seen_u) { free(seen_t); free(seen_u); return NAN; }
  for (int64_t a = 0; a < m; a++) {
    double x = v[idx[a]] - (v2 ? v2[idx[a]] : 0);
    if (isfinite(x)) { psum += x; pn++; }
  }
  for (int64_t a = 0; a < m; a++) {
    if (seen_t[a]) continue;
    const char *t = sel[idx[a]];
    double usum = 0;
    int nu = 0;
    memset(seen_u, 0, (size_t)m);
    for (int64_t b = a; b < m; b++) {
      if (strcmp(sel[idx[b]], t) != 0 || seen_u[b]) continue;
      seen_t[b] = 1;
      const char *u = uni[idx[b]];
      double s = 0;
      int ns = 0;
      for (int64_t c = b; c < m; c++) {
        if (strcmp(sel[idx[c]], t) != 0 || strcmp(uni[idx[c]], u) != 0) continue;
        seen_u[c] = 1;
        seen_t[c] = 1;
        double x = v[idx[c]] - (v2 ? v2[idx[c]] : 0);
        if (isfinite(x)) { s += x; ns++; }
      }
      if (ns) { usum += s / ns; nu++; }
    }
    if (nu) { types_sum += usum / nu; ntypes++; }
  }
  free(seen_t);
  free(seen_u);
  if (plain) *plain = pn ? psum / (double)pn : NAN;
  return ntypes ? types_sum / ntypes : NAN;
}

double sl_bench_aggregate(const double *v, const double *v2, int64_t n, const char *const *uniprot,
                          const char *const *seltype, int n_boot, uint64_t seed, double *ret_se,
                          double *ret_plain) {
  int64_t *idx = sl_malloc((size_t)(n > 0 ? n : 1), sizeof *idx);
  if (ret_se) *ret_se = NAN;
  if (!idx || n <= 0) { free(idx); if (ret_plain) *ret_plain = NAN; return NAN; }
  for (int64_t a = 0; a < n; a++) idx[a] = a;
  double agg = aggregate_idx(v, v2, idx, n, uniprot, seltype, ret_plain);
  if (ret_se && n_boot >= 2) {
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    double s = 0, s2 = 0;
    int nb = 0;
    for (int b = 0; b < n_boot; b++) {
      for (int64_t a = 0; a < n; a++) idx[a] = (int64_t)(sl_rng_uniform(&rng) * (double)n) % n;
      double x = aggregate_idx(v, v2, idx, n, uniprot, seltype, NULL);
      if (isfinite(x)) { s += x; s2 += x * x; nb++; }
    }
    if (nb >= 2) *ret_se = sqrt(fmax(0, (s2 - s * s / nb) / (nb - 1)));
  }
  free(idx);
  return agg;
}
