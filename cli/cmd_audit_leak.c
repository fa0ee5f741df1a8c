/* cmd_audit_leak.c: `seqloop audit --train A --test B` - is a held-out set
 * held out? For every test sequence, the highest identity to any training
 * sequence (seqloop/split.h), a histogram, counts above thresholds and a
 * verdict.
 *
 * Test sets: an alignment over the training alignment's kept columns (a
 * split's test file, `seqloop sample` output, a design batch), or a
 * ProteinGym-style assay CSV (a `mutant` column such as A24V:G30S), whose
 * variants are applied to the training alignment's focus row. Unaligned
 * sequences of another length are refused with a message; align them first.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqloop/score.h"
#include "seqloop/split.h"

/* An assay CSV: a header line naming a `mutant` column. */
static int looks_like_csv(const char *path) {
  size_t n = strlen(path);
  return (n > 4 && !strcasecmp(path + n - 4, ".csv")) || (n > 7 && !strcasecmp(path + n - 7, ".csv.gz"));
}

/* Test rows from an assay CSV: the focus with each variant applied. */
static int rows_from_assay(const sl_msa *A, const char *path, int skip_invalid, uint8_t **ret_x,
                           char ***ret_names, int64_t *ret_n, int64_t *ret_skipped, sl_error *err) {
  if (A->focus < 0)
    return sl_fail(err, SL_EUSAGE, "an assay test set needs the training alignment's focus (-f NAME or --focus-first)");
  sl_csv *csv = NULL;
  int status = sl_csv_read(path, &csv, err);
  if (status) return status;
  int mc = sl_csv_col(csv, "mutant");
  if (mc < 0) { sl_csv_destroy(csv); return sl_fail(err, SL_EINPUT, "%s: no 'mutant' column in the header", path); }
  /* A parameter-free model shell carries the focus and its numbering, so the
   * variants are parsed exactly as `seqloop score` parses them. */
  sl_model *shell = sl_model_create("profile", A->L, A->abc, 0);
  sl_mutation *mut = malloc(SL_MAX_MUTATIONS * sizeof *mut);
  uint8_t *x = malloc((size_t)(csv->nrows * A->L) + 1);
  char **names = calloc((size_t)csv->nrows + 1, sizeof *names);
  int64_t n = 0, skipped = 0;
  if (!shell || !mut || !x || !names) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  memcpy(shell->focus, sl_msa_row(A, A->focus), (size_t)A->L);
  memcpy(shell->pos, A->pos, (size_t)A->L * sizeof *A->pos);
  for (int64_t r = 0; r < csv->nrows; r++) {
    int nm = 0;
    if ((status = sl_mutant_parse(shell, csv->cell[r][mc], 0, mut, &nm, err))) {
      if (!skip_invalid) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        status = sl_fail(err, SL_EINPUT, "%s, line %lld: %s (use --skip-invalid to skip such rows)", path,
                         (long long)csv->line[r], msg);
        goto DONE;
      }
      status = SL_OK;
      skipped++;
      continue;
    }
    uint8_t *row = x + n * A->L;
    memcpy(row, shell->focus, (size_t)A->L);
    for (int k = 0; k < nm; k++) row[mut[k].col] = mut[k].mt;
    if (!(names[n] = strdup(csv->cell[r][mc]))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    n++;
  }
DONE:
  sl_csv_destroy(csv);
  sl_model_destroy(shell);
  free(mut);
  if (status) {
    for (int64_t k = 0; names && k < n; k++) free(names[k]);
    free(names);
    free(x);
    return status;
  }
  *ret_x = x;
  *ret_names = names;
  *ret_n = n;
  *ret_skipped = skipped;
  return SL_OK;
}

int cli_audit_leakage(cli_common *c, const char *train, const char *test, double thr,
                      const char *per_seq, int skip_invalid) {
  sl_error err;
  sl_error_clear(&err);
  sl_msa *A = NULL, *B = NULL;
  double *w = NULL, neff = 0;
  uint8_t *xt = NULL;
  char **names = NULL;
  int64_t nt = 0, skipped = 0;
  sl_leakage *lk = NULL;
  char *text = NULL;
  size_t tlen = 0;
  int assay = looks_like_csv(test);
  int status = cli_load(c, train, &A, &w, &neff, &err);
  if (status) goto DONE;
  if (assay) {
    if ((status = rows_from_assay(A, test, skip_invalid, &xt, &names, &nt, &skipped, &err))) goto DONE;
    if (nt == 0) { status = sl_fail(&err, SL_EINPUT, "%s: no variant falls in the training alignment's columns", test); goto DONE; }
  } else {
    sl_msa_opts o;
    sl_msa_opts_init(&o);
    o.alphabet = A->abc->type;
    if ((status = sl_msa_read(test, &o, &B, &err))) goto DONE;
    if (B->L != A->L) {
      status = sl_fail(&err, SL_EINPUT, "%s has %lld columns but the training alignment has %lld after "
                       "ingestion: test sequences must be aligned to the same columns (e.g. both "
                       "sides of `seqloop split`, or `seqloop ingest` of one alignment)",
                       test, (long long)B->L, (long long)A->L);
      goto DONE;
    }
    xt = B->x;
    names = B->name;
    nt = B->N;
  }
  if ((status = sl_leakage_compute(A->x, A->N, xt, nt, A->L, thr, c->w.threads, c->w.kernel, &lk, &err)))
    goto DONE;
  if (per_seq) {
    sl_outfile *of = NULL;
    if ((status = sl_outfile_open(per_seq, &of, &err))) goto DONE;
    FILE *fp = sl_outfile_fp(of);
    fprintf(fp, "test,max_identity,nearest_train\n");
    for (int64_t k = 0; k < nt; k++)
      fprintf(fp, "%s,%.4f,%s\n", names[k], lk->max_id[k], A->name[lk->nearest[k]]);
    if ((status = sl_outfile_commit(of, &err))) goto DONE;
    if ((status = cli_prov_write(c, per_seq, NULL, &err))) goto DONE;
  }
  double pct = 100.0 * (double)lk->n_leaky / (double)nt;
  char verdict[512];
  if (lk->held_out)
    snprintf(verdict, sizeof verdict, "HELD OUT at identity %g: no test sequence is more than %g%% "
             "identical to a training sequence (highest %.3f)", thr, 100 * thr, lk->max);
  else
    snprintf(verdict, sizeof verdict, "NOT HELD OUT at identity %g: %lld of %lld test sequences "
             "(%.1f%%) have a training sequence more than %g%% identical (median nearest identity %.3f)%s",
             thr, (long long)lk->n_leaky, (long long)nt, pct, 100 * thr, lk->median,
             assay ? "; an assay's variants are near-copies of the focus, which is fine for zero-shot "
                     "scoring but means a supervised model's folds must not be random" : "");
  if (c->json) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "provenance", cli_json_provenance(c, A));
    cJSON_AddStringToObject(j, "train", train);
    cJSON_AddStringToObject(j, "test", test);
    if (B) cJSON_AddStringToObject(j, "test_sha256", B->sha256);
    cJSON_AddStringToObject(j, "test_kind", assay ? "assay" : "alignment");
    cJSON_AddNumberToObject(j, "n_train", (double)A->N);
    cJSON_AddNumberToObject(j, "n_test", (double)nt);
    cJSON_AddNumberToObject(j, "n_test_skipped", (double)skipped);
    cJSON_AddNumberToObject(j, "threshold", thr);
    cJSON_AddNumberToObject(j, "n_above_threshold", (double)lk->n_leaky);
    cJSON_AddBoolToObject(j, "held_out", lk->held_out);
    cJSON_AddNumberToObject(j, "mean", lk->mean);
    cJSON_AddNumberToObject(j, "median", lk->median);
    cJSON_AddNumberToObject(j, "max", lk->max);
    cJSON *ab = cJSON_AddObjectToObject(j, "at_least");
    for (int t = 0; t < SL_LEAK_NTHR; t++) {
      char key[16];
      snprintf(key, sizeof key, "%g", sl_leak_thresholds[t]);
      cJSON_AddNumberToObject(ab, key, (double)lk->above[t]);
    }
    cJSON *h = cJSON_AddArrayToObject(j, "histogram");
    for (int b = 0; b < SL_LEAK_BINS; b++) cJSON_AddItemToArray(h, cJSON_CreateNumber((double)lk->hist[b]));
    cJSON_AddStringToObject(j, "verdict", verdict);
    status = cli_write_json(c->out, j, &err);
    cJSON_Delete(j);
    goto DONE;
  }
  FILE *fp = open_memstream(&text, &tlen);
  if (!fp) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  fprintf(fp, "train              %s (%lld sequences, %lld columns, Neff %.1f)\n", train,
          (long long)A->N, (long long)A->L, neff);
  fprintf(fp, "test               %s (%lld %s", test, (long long)nt, assay ? "variants" : "sequences");
  if (skipped) fprintf(fp, "; %lld invalid variants skipped", (long long)skipped);
  fprintf(fp, ")\nnearest identity   mean %.3f, median %.3f, max %.3f\n", lk->mean, lk->median, lk->max);
  fprintf(fp, "at least");
  for (int t = 0; t < SL_LEAK_NTHR; t++)
    fprintf(fp, "%s%g: %lld", t ? ", " : "           ", sl_leak_thresholds[t], (long long)lk->above[t]);
  fprintf(fp, "\nhistogram (identity of each test sequence to its nearest training sequence)\n");
  int64_t hmax = 1;
  for (int b = 0; b < SL_LEAK_BINS; b++) if (lk->hist[b] > hmax) hmax = lk->hist[b];
  for (int b = 0; b < SL_LEAK_BINS; b++) {
    if (!lk->hist[b]) continue;
    int bar = (int)(50 * lk->hist[b] / hmax);
    fprintf(fp, "  %.2f-%.2f %7lld %.*s\n", b / 20.0, (b + 1) / 20.0, (long long)lk->hist[b], bar > 0 ? bar : 1,
            "##################################################");
  }
  fprintf(fp, "verdict            %s\n", verdict);
  fclose(fp);
  status = cli_write_text(c->out, text, &err);
DONE:
  if (!status) status = cli_prov_write(c, c->out, NULL, &err);
  free(text);
  if (assay) {
    for (int64_t k = 0; names && k < nt; k++) free(names[k]);
    free(names);
    free(xt);
  }
  sl_leakage_destroy(lk);
  free(w);
  sl_msa_destroy(A);
  sl_msa_destroy(B);
  return status ? cli_error(c, status, &err) : 0;
}
