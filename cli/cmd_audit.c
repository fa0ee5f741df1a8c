/* cmd_audit.c: `seqloop audit ALIGNMENT` - the data side of the information
 * accounting (N, L, Neff, depth class, entropy and gaps per column). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void) {
  printf("usage: seqloop audit [options] ALIGNMENT\n\n"
         "Reads an alignment (FASTA/A2M/A3M/Stockholm, gzip or not, '-' for stdin), weights its\n"
         "rows and reports N, L, Neff, Neff/L with ProteinGym's depth class, duplicate rows, and\n"
         "per-column weighted entropy (bits, gap as a state) and gap fraction.\n\n"
         "  --columns               print the full per-column table\n"
         "  --top N                 lowest/highest-entropy columns to list (default 5)\n\n%s",
         cli_common_help);
}

static char colchar(const sl_msa *m, int s) { return m->abc->symbols[s]; }

static void col_line(FILE *fp, const sl_msa *m, const sl_colstat *c) {
  fprintf(fp, "%6lld %6lld  %c  %6.3f  %7.4f  %6.3f\n", (long long)c->col + 1, (long long)c->pos,
          colchar(m, c->consensus), c->consensus_f, c->entropy, c->gap_frac);
}

static char *render_text(const cli_common *c, const sl_msa *m, const sl_audit *a, int columns,
                         int top) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (!fp) return NULL;
  char *prov = cli_provenance(c, m);
  if (prov) fputs(prov, fp);
  free(prov);
  fprintf(fp, "alignment          %s (%s, %s)\n", m->path, m->rep.layout, m->abc->name);
  fprintf(fp, "rows (N)           %lld of %lld records\n", (long long)a->N, (long long)m->rep.n_records);
  fprintf(fp, "columns (L)        %lld of %lld\n", (long long)a->L, (long long)m->rep.cols_in);
  if (m->focus >= 0)
    fprintf(fp, "focus              %s (first residue %lld)\n", m->name[m->focus], (long long)m->focus_start);
  if (c->weights_in) fprintf(fp, "weights            from %s\n", c->weights_in);
  else fprintf(fp, "weights            %s, theta %g\n", sl_weights_convention_name(c->w.convention), c->w.theta);
  fprintf(fp, "Neff               %.2f\n", a->neff);
  fprintf(fp, "Neff/L             %.4f\n", a->neff_per_L);
  fprintf(fp, "ProteinGym L       %lld columns with <= %.0f%% gaps\n", (long long)a->L_pg, SL_PG_MAX_GAP * 100);
  fprintf(fp, "ProteinGym Neff/L  %.4f (depth: %s)\n", a->neff_per_L_pg, a->depth_class);
  fprintf(fp, "distinct rows      %lld (%lld duplicates of an earlier row)\n", (long long)a->n_distinct,
          (long long)a->n_duplicates);
  fprintf(fp, "mean entropy       %.4f bits per column (maximum %.4f)\n", a->mean_entropy, a->max_entropy);
  int64_t t = top < a->L ? top : a->L;
  const char *head = "   col    pos cons  freq   entropy    gaps\n";
  fprintf(fp, "\nlowest-entropy columns (most conserved)\n%s", head);
  for (int64_t k = 0; k < t; k++) col_line(fp, m, &a->col[a->by_entropy[k]]);
  fprintf(fp, "\nhighest-entropy columns (most variable)\n%s", head);
  for (int64_t k = 0; k < t; k++) col_line(fp, m, &a->col[a->by_entropy[a->L - 1 - k]]);
  if (columns) {
    fprintf(fp, "\nall columns\n%s", head);
    for (int64_t i = 0; i < a->L; i++) col_line(fp, m, &a->col[i]);
  }
  fclose(fp);
  return buf;
}

static char *render_json(const cli_common *c, const sl_msa *m, const sl_audit *a) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddItemToObject(root, "provenance", cli_json_provenance(c, m));
  cJSON_AddItemToObject(root, "ingest", cli_json_ingest(m));
  cJSON *wj = cJSON_AddObjectToObject(root, "weights");
  cJSON_AddStringToObject(wj, "convention", c->weights_in ? "file" : sl_weights_convention_name(c->w.convention));
  cJSON_AddNumberToObject(wj, "theta", c->w.theta);
  cJSON_AddNumberToObject(root, "N", (double)a->N);
  cJSON_AddNumberToObject(root, "L", (double)a->L);
  cJSON_AddNumberToObject(root, "neff", a->neff);
  cJSON_AddNumberToObject(root, "neff_per_L", a->neff_per_L);
  cJSON_AddNumberToObject(root, "L_proteingym", (double)a->L_pg);
  cJSON_AddNumberToObject(root, "neff_per_L_proteingym", a->neff_per_L_pg);
  cJSON_AddStringToObject(root, "depth_class", a->depth_class);
  cJSON_AddNumberToObject(root, "distinct_rows", (double)a->n_distinct);
  cJSON_AddNumberToObject(root, "duplicate_rows", (double)a->n_duplicates);
  cJSON_AddNumberToObject(root, "mean_entropy_bits", a->mean_entropy);
  cJSON_AddNumberToObject(root, "max_entropy_bits", a->max_entropy);
  cJSON *cols = cJSON_AddArrayToObject(root, "columns");
  for (int64_t i = 0; i < a->L; i++) {
    const sl_colstat *s = &a->col[i];
    cJSON *o = cJSON_CreateObject();
    char cons[2] = {colchar(m, s->consensus), 0};
    cJSON_AddNumberToObject(o, "col", (double)s->col + 1);
    cJSON_AddNumberToObject(o, "pos", (double)s->pos);
    cJSON_AddNumberToObject(o, "source_col", (double)m->src_col[i] + 1);
    cJSON_AddStringToObject(o, "consensus", cons);
    cJSON_AddNumberToObject(o, "consensus_freq", s->consensus_f);
    cJSON_AddNumberToObject(o, "entropy_bits", s->entropy);
    cJSON_AddNumberToObject(o, "gap_frac", s->gap_frac);
    cJSON_AddNumberToObject(o, "gap_frac_weighted", s->gap_frac_w);
    cJSON_AddItemToArray(cols, o);
  }
  cJSON *lo = cJSON_AddArrayToObject(root, "lowest_entropy_columns");
  cJSON *hi = cJSON_AddArrayToObject(root, "highest_entropy_columns");
  for (int64_t k = 0; k < a->L && k < 5; k++) {
    cJSON_AddItemToArray(lo, cJSON_CreateNumber((double)a->by_entropy[k] + 1));
    cJSON_AddItemToArray(hi, cJSON_CreateNumber((double)a->by_entropy[a->L - 1 - k] + 1));
  }
  char *s = cJSON_Print(root);
  cJSON_Delete(root);
  if (!s) return NULL;
  size_t n = strlen(s);
  char *out = malloc(n + 2);
  if (out) { memcpy(out, s, n); out[n] = '\n'; out[n + 1] = 0; }
  cJSON_free(s);
  return out;
}

int cmd_audit(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "audit", argc, argv);
  int columns = 0, top = 5;
  static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"columns", no_argument, 0, OPT_COLUMNS},
    {"top", required_argument, 0, OPT_TOP},
    {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
    if (opt == 'h') { help(); return 0; }
    int r = cli_common_opt(&c, opt, optarg);
    if (r < 0) return 2;
    if (r > 0) continue;
    if (opt == OPT_COLUMNS) columns = 1;
    else if (opt == OPT_TOP) {
      char *e = NULL;
      long v = strtol(optarg, &e, 10);
      if (e == optarg || *e || v < 1 || v > 1000000) {
        fprintf(stderr, "seqloop audit: --top: expected a positive count, not '%s'\n", optarg);
        return 2;
      }
      top = (int)v;
    }
    else { fprintf(stderr, "seqloop audit: see 'seqloop audit -h'\n"); return 2; }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "seqloop audit: expected one alignment file (or '-'), see 'seqloop audit -h'\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  sl_audit *a = NULL;
  double *w = NULL, neff = 0;
  char *text = NULL;
  int status = cli_load(&c, argv[optind], &m, &w, &neff, &err);
  if (!status) status = sl_audit_compute(m, w, &a, &err);
  if (!status) {
    text = c.json ? render_json(&c, m, a) : render_text(&c, m, a, columns, top);
    if (!text) status = sl_fail(&err, SL_ENOMEM, "out of memory rendering the report");
  }
  if (!status) status = cli_write_text(c.out, text, &err);
  free(text);
  sl_audit_destroy(a);
  free(w);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
