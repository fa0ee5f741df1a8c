/* cmd_benchmark.c: `seqloop benchmark -o OUTDIR DATADIR` - a zero-shot
 * recipe over every assay of a ProteinGym-style folder (benchmark.h), then
 * ProteinGym's aggregation with bootstrap SEs, and paired differences with
 * another run (--compare). Glue: the library does each assay. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "shard.h"
#include "seqloop/benchmark.h"
#include "seqloop/sasa.h"

static const cli_cmdinfo info = {
  "benchmark", "seqloop benchmark [options] -o OUTDIR DATADIR\n"
  "       seqloop benchmark --rsa-of STRUCTURE [--chain C] [-o FILE]",
  "Runs a zero-shot recipe over every assay <id>/<id>.csv + <id>/<id>.a2m of DATADIR\n"
  "(first alignment row = the assayed protein): fits the recipe's models to the\n"
  "alignment, scores every variant, and writes OUTDIR/<id>.scores.csv and\n"
  "OUTDIR/<id>.result.csv (Spearman, NDCG, top-10% recall; AUC and MCC with a\n"
  "DMS_score_bin column). An assay whose result file exists is skipped, so a killed\n"
  "run resumes where it stopped. Then OUTDIR/summary.csv: per-assay metrics and\n"
  "ProteinGym's aggregate (UniProt ID, then selection type, then the mean of types)\n"
  "with bootstrap standard errors; --compare DIR adds paired-bootstrap differences\n"
  "against another run's OUTDIR. docs/scoring.md has every definition.\n"
  "With --rsa-of, writes the relative solvent accessibility of each residue of one\n"
  "chain of a PDB/mmCIF file instead (Shrake-Rupley; CSV num,icode,aa,sasa,rsa).\n",
  "recipes: lor | gemme | profile | potts, joined by '+', each with an optional\n"
  ":weight (gemme:0.6+lor:0.4); --rsa scales the field-only models by\n"
  "1 - min(RSA,100)/100 from the CSV's RSA column (RSALOR).\n"};

typedef struct { char **id; int n, cap; } idlist;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_assays(const char *dir, const char *only, idlist *l) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/%s/%s.csv", dir, e->d_name, e->d_name);
    snprintf(p2, sizeof p2, "%s/%s/%s.a2m", dir, e->d_name, e->d_name);
    if (access(p1, R_OK) || access(p2, R_OK)) continue;
    if (only) {
      size_t len = strlen(e->d_name);
      const char *p = only;
      int hit = 0;
      while (p && *p && !hit) {
        hit = strncmp(p, e->d_name, len) == 0 && (p[len] == ',' || p[len] == 0);
        p = strchr(p, ',');
        if (p) p++;
      }
      if (!hit) continue;
    }
    if (l->n == l->cap) {
      l->cap = l->cap ? 2 * l->cap : 64;
      l->id = realloc(l->id, (size_t)l->cap * sizeof *l->id);
    }
    l->id[l->n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(l->id, (size_t)l->n, sizeof *l->id, cmp_str);
  return 0;
}

/* UniProt ID and selection type of each assay: ProteinGym's reference file
 * when it lists the assay, else DATADIR/INDEX.csv's "selection" column and
 * the assay name's first two '_' fields (ProteinGym's UniProt_ID form). */
static void labels(const char *ref, const char *dir, char **ids, int n, char **uni, char **sel) {
  sl_csv *rc = NULL, *ic = NULL;
  sl_error err;
  char p[4096];
  snprintf(p, sizeof p, "%s/INDEX.csv", dir);
  if (ref && sl_csv_read(ref, &rc, &err)) rc = NULL;
  if (access(p, R_OK) == 0 && sl_csv_read(p, &ic, &err)) ic = NULL;
  for (int a = 0; a < n; a++) {
    uni[a] = sel[a] = NULL;
    if (rc) {
      int ci = sl_csv_col(rc, "DMS_id"), cu = sl_csv_col(rc, "UniProt_ID");
      int cs = sl_csv_col(rc, "coarse_selection_type");
      for (int64_t k = 0; ci >= 0 && cu >= 0 && cs >= 0 && k < rc->nrows; k++)
        if (strcmp(rc->cell[k][ci], ids[a]) == 0) {
          uni[a] = strdup(rc->cell[k][cu]);
          sel[a] = strdup(rc->cell[k][cs]);
        }
    }
    if (!sel[a] && ic) {
      int ci = sl_csv_col(ic, "dataset"), cs = sl_csv_col(ic, "selection");
      for (int64_t k = 0; ci >= 0 && cs >= 0 && k < ic->nrows; k++)
        if (strcmp(ic->cell[k][ci], ids[a]) == 0) sel[a] = strdup(ic->cell[k][cs]);
    }
    if (!uni[a]) {
      uni[a] = strdup(ids[a]);
      char *u = strchr(uni[a], '_');
      if (u && (u = strchr(u + 1, '_'))) *u = 0;
    }
    if (!sel[a]) sel[a] = strdup("unknown");
  }
  sl_csv_destroy(rc);
  sl_csv_destroy(ic);
}

int cli_bench_summary(const char *path, const char *dir, char **ids, int n, const sl_bench_result *res,
                      const int *st, const char *ref, const char *compare, int n_boot, uint64_t seed,
                      int rows_only, int quiet, sl_error *err) {
  char **uni = calloc((size_t)n + 1, sizeof *uni), **sel = calloc((size_t)n + 1, sizeof *sel);
  sl_bench_result *cmp = compare && !rows_only ? calloc((size_t)n + 1, sizeof *cmp) : NULL;
  double *v = calloc((size_t)n + 1, sizeof *v), *v2 = calloc((size_t)n + 1, sizeof *v2);
  sl_outfile *of = NULL;
  int status = SL_OK, n_cmp_missing = 0;
  if (!uni || !sel || !v || !v2 || (compare && !rows_only && !cmp)) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  labels(ref, dir, ids, n, uni, sel);
  /* the comparison run, assay by assay */
  for (int a = 0; cmp && a < n; a++) {
    char p[4096];
    sl_error e;
    snprintf(p, sizeof p, "%s/%s.result.csv", compare, ids[a]);
    if (sl_bench_result_read(p, &cmp[a], &e)) {
      n_cmp_missing++;
      cmp[a].spearman = cmp[a].ndcg = cmp[a].recall = cmp[a].auc = cmp[a].mcc = NAN;
    }
  }
  if ((status = sl_outfile_open(path, &of, err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "row,dms_id,uniprot,selection,n,n_outside,spearman,ndcg,top10_recall,auc,mcc,se\n");
  for (int a = 0; a < n; a++) {
    if (st[a]) { fprintf(fp, "assay,%s,%s,%s,,,,,,,,\n", ids[a], uni[a], sel[a]); continue; }
    fprintf(fp, "assay,%s,%s,%s,%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,\n", ids[a], uni[a], sel[a],
            (long long)res[a].n, (long long)res[a].n_outside, res[a].spearman, res[a].ndcg,
            res[a].recall, res[a].auc, res[a].mcc);
  }
  if (!quiet && !rows_only) fprintf(stderr, "\n%-14s %10s %8s %10s%s\n", "metric", "aggregate", "se", "plain mean",
                                    compare ? "   diff vs --compare (se)" : "");
  for (int k = 0; k < SL_BM_N && !rows_only; k++) {
    for (int a = 0; a < n; a++) v[a] = st[a] ? NAN : sl_bench_metric(&res[a], k);
    double se, plain, agg = sl_bench_aggregate(v, NULL, n, (const char *const *)uni,
                                                (const char *const *)sel, n_boot, seed, &se, &plain);
    if (!isfinite(agg)) continue;
    fprintf(fp, "%s,ProteinGym-aggregate,,,,,", sl_bench_metric_name(k));
    for (int j = 0; j < SL_BM_N; j++) fprintf(fp, j == k ? "%.6f," : ",", agg);
    fprintf(fp, "%.6f\n", se);
    fprintf(fp, "%s,plain-mean,,,,,", sl_bench_metric_name(k));
    for (int j = 0; j < SL_BM_N; j++) fprintf(fp, j == k ? "%.6f," : ",", plain);
    fprintf(fp, "\n");
    double dagg = NAN, dse = NAN;
    if (compare) {
      for (int a = 0; a < n; a++) v2[a] = sl_bench_metric(&cmp[a], k);
      dagg = sl_bench_aggregate(v, v2, n, (const char *const *)uni, (const char *const *)sel,
                                n_boot, seed, &dse, NULL);
      fprintf(fp, "%s,paired-difference,,,,,", sl_bench_metric_name(k));
      for (int j = 0; j < SL_BM_N; j++) fprintf(fp, j == k ? "%.6f," : ",", dagg);
      fprintf(fp, "%.6f\n", dse);
    }
    if (!quiet) {
      fprintf(stderr, "%-14s %10.4f %8.4f %10.4f", sl_bench_metric_name(k), agg, se, plain);
      if (compare) fprintf(stderr, "   %+.4f (%.4f)", dagg, dse);
      fprintf(stderr, "\n");
    }
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (!quiet && n_cmp_missing) fprintf(stderr, "seqloop benchmark: %d assays missing in --compare\n", n_cmp_missing);
DONE:
  sl_outfile_abort(of);
  for (int a = 0; uni && sel && a < n; a++) { free(uni[a]); free(sel[a]); }
  free(uni); free(sel); free(cmp); free(v); free(v2);
  return status;
}

int cmd_benchmark(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "benchmark", argc, argv);
  const char *models = "gemme+lor", *ensemble = "rank", *outdir = NULL, *only = NULL;
  const char *compare = NULL, *ref = NULL, *rsa_of = NULL, *chain = "A";
  int n_points = 100;
  int rsa = 0, n_boot = 1000, retry = 0, save_models = 0;
  double theta = 0.2;
  uint64_t seed = 1;
  sl_shard shard = {0, 0};
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("models", 0, &models, "RECIPE", "models, '+'-joined with optional :weight (lor, gemme, profile, potts, stab)", "recipe"),
    CLI_STRING("ensemble", 0, &ensemble, "E", "rank|z: how several models are combined within an assay", NULL),
    CLI_FLAG("rsa", 0, &rsa, "scale field-only models by 1 - min(RSA,100)/100 (CSV column RSA)", NULL),
    CLI_DOUBLE("theta", 0, &theta, -1, 1, "X", "sequence weights: plmc convention, neighbour at identity >= 1-X (negative: all weights 1)", NULL),
    CLI_FLAG("save-models", 0, &save_models, "write each fitted model as OUTDIR/<id>.<kind>[@rsa].model (for seqloop score)", NULL),
    CLI_STRING("only", 0, &only, "IDS", "comma-separated assay ids (default: every assay in DATADIR)", "assays"),
    CLI_FLAG("retry", 0, &retry, "recompute assays whose result file exists (default: skip them)", NULL),
    CLI_STRING("reference", 0, &ref, "CSV", "ProteinGym's DMS_substitutions.csv (UniProt ID, selection type)", "summary"),
    CLI_STRING("compare", 0, &compare, "DIR", "another run's OUTDIR: paired-bootstrap differences", NULL),
    CLI_INT("boot", 0, &n_boot, 0, 1000000, "N", "bootstrap resamples of the assays", NULL),
    CLI_UINT64("seed", 0, &seed, 0, UINT64_MAX, "S", "bootstrap seed", NULL),
    CLI_STRING("rsa-of", 0, &rsa_of, "FILE", "write per-residue RSA of a PDB/mmCIF chain to -o and exit", "structure"),
    CLI_STRING("chain", 0, &chain, "C", "chain for --rsa-of (author id)", NULL),
    CLI_INT("points", 0, &n_points, 1, 100000, "N", "Shrake-Rupley points per atom", NULL),
    CLI_STRING("output", 'o', &outdir, "DIR", "output folder (created; results resumable); with --rsa-of a CSV file", "output"),
    CLI_SHARD(&shard, "assays (in name order);\n"
              "the piece writes OUTDIR/shard-I-of-N.csv, not summary.csv"),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  sl_error err;
  sl_error_clear(&err);
  int status;
  if (rsa_of) {
    if (optind_ != argc) return cli_usage_error(&info, "--rsa-of takes no data folder");
    if (shard.n) return cli_usage_error(&info, "--shard splits the assays of a data folder, not --rsa-of");
    sl_sasa_res *sr;
    int64_t nr;
    if ((status = sl_rsa_compute(rsa_of, chain, n_points, &sr, &nr, &err))) return cli_error(&c, status, &err);
    size_t cap = 64 + (size_t)nr * 64, len = 0;
    char *text = malloc(cap);
    if (!text) { free(sr); sl_fail(&err, SL_ENOMEM, "out of memory"); return cli_error(&c, SL_ENOMEM, &err); }
    len += (size_t)snprintf(text, cap, "num,icode,aa,sasa,rsa\n");
    for (int64_t k = 0; k < nr; k++)
      len += (size_t)snprintf(text + len, cap - len, "%lld,%c,%c,%.3f,%.3f\n", (long long)sr[k].num,
                              sr[k].icode == ' ' ? '.' : sr[k].icode, sr[k].aa, sr[k].sasa, sr[k].rsa);
    free(sr);
    const char *o = outdir ? outdir : "-";
    status = cli_write_text(o, text, &err);
    free(text);
    if (status) return cli_error(&c, status, &err);
    cli_input(&c, "structure", rsa_of);
    return cli_prov_exit(&c, o);
  }
  if (optind_ != argc - 1) return cli_usage_error(&info, "expected one data folder");
  if (!outdir) return cli_usage_error(&info, "-o OUTDIR is required");
  const char *dir = argv[optind_];
  sl_bench_recipe r;
  status = sl_bench_recipe_parse(models, ensemble, rsa, &r, &err);
  if (status) return cli_usage_error(&info, "%s", err.msg);
  r.theta = theta;
  r.save_models = save_models;
  idlist l = {0};
  if (list_assays(dir, only, &l)) { sl_fail(&err, SL_EINPUT, "%s: %s", dir, strerror(errno)); return cli_error(&c, SL_EINPUT, &err); }
  if (l.n == 0) { sl_fail(&err, SL_EINPUT, "%s: no assay folders <id>/<id>.csv + <id>/<id>.a2m%s", dir, only ? " matching --only" : ""); return cli_error(&c, SL_EINPUT, &err); }
  cli_input(&c, "data", dir);
  cli_input(&c, "reference", ref);
  /* --shard: this piece's block of the sorted assay list (merge recomputes the summary) */
  char **ids_all = l.id;
  const int n_all = l.n;
  int64_t lo, hi;
  sl_shard_range(&shard, n_all, &lo, &hi);
  l.id += lo;
  l.n = (int)(hi - lo);
  if (mkdir(outdir, 0777) && errno != EEXIST) { sl_fail(&err, SL_EIO, "%s: %s", outdir, strerror(errno)); return cli_error(&c, SL_EIO, &err); }
  sl_bench_result *res = calloc((size_t)l.n + 1, sizeof *res);
  int *st = calloc((size_t)l.n + 1, sizeof *st);
  char **msg = calloc((size_t)l.n + 1, sizeof *msg);
  int threads = c.w.threads > 0 ? c.w.threads : sl_threads_default();
  int done = 0, skipped = 0;
  /* threads go across assays; a single assay gets them inside (weights, potts) */
  r.threads = l.n == 1 ? threads : 1;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int a = 0; a < l.n; a++) {
    char p[4096];
    sl_error e;
    sl_error_clear(&e);
    snprintf(p, sizeof p, "%s/%s.result.csv", outdir, l.id[a]);
    if (!retry && access(p, R_OK) == 0 && sl_bench_result_read(p, &res[a], &e) == SL_OK) {
#pragma omp atomic
      skipped++;
      continue;
    }
    st[a] = sl_bench_assay(dir, l.id[a], &r, outdir, &res[a], &e);
    if (st[a]) msg[a] = strdup(e.msg);
#pragma omp critical
    {
      done++;
      if (!c.quiet)
        fprintf(stderr, "seqloop benchmark: [%d/%d] %s %s", done + skipped, l.n, l.id[a], st[a] ? "FAILED\n" : "");
      if (!c.quiet && !st[a]) fprintf(stderr, "spearman %.3f (%.1f s)\n", res[a].spearman, res[a].seconds);
    }
  }
  int failed = 0;
  for (int a = 0; a < l.n; a++)
    if (st[a]) { failed++; fprintf(stderr, "seqloop benchmark: %s: %s\n", l.id[a], msg[a] ? msg[a] : "error"); }
  char path[4096];
  const sl_bench_result *res_c = res;
  if (shard.n > 0) snprintf(path, sizeof path, "%s/shard-%d-of-%d.csv", outdir, shard.i, shard.n);
  else snprintf(path, sizeof path, "%s/summary.csv", outdir);
  status = cli_bench_summary(path, dir, l.id, l.n, res_c, st, ref, compare, n_boot, seed, shard.n > 0, c.quiet, &err);
  if (!status) {
    cli_piece pc = {shard, "assays", n_all, lo, hi, 1, 0, "benchmark"};
    status = cli_piece_prov_write(&c, path, NULL, &pc, &err);
  }
  if (!c.quiet)
    fprintf(stderr, "seqloop benchmark: %d assays (%d resumed, %d failed), %s\n", l.n, skipped, failed, path);
  for (int a = 0; a < l.n; a++) free(msg[a]);
  for (int a = 0; a < n_all; a++) free(ids_all[a]);
  free(ids_all); free(msg); free(res); free(st);
  if (status) return cli_error(&c, status, &err);
  return failed ? 1 : 0;
}
