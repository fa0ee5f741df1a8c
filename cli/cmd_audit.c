/* cmd_audit.c: `seqloop audit ALIGNMENT` - the data side of the information
 * accounting (N, L, Neff, depth class, entropy and gaps per column). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqloop/tfm.h"
#include "seqloop/ar.h"
#include "seqloop/info.h"
#include "seqloop/samplestats.h"

static const cli_cmdinfo info = {
  "audit", "seqloop audit [options] ALIGNMENT\n"
  "       seqloop audit --model M [--compare M2 --heldout H --data ALN] [--samples S --against ALN]\n"
  "       seqloop audit --train A --test B\n"
  "       seqloop audit cycle -h   (the perpetual-motion test)",
  "Reads an alignment (FASTA/A2M/A3M/Stockholm, gzip or not, '-' for stdin), weights its\n"
  "rows and reports N, L, Neff, Neff/L with ProteinGym's depth class, duplicate rows, and\n"
  "per-column weighted entropy (bits, gap as a state) and gap fraction.\n", NULL};

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
  int64_t t = top < a->n_ranked ? top : a->n_ranked;
  const char *head = "   col    pos cons  freq   entropy    gaps\n";
  fprintf(fp, "\nlowest-entropy columns (most conserved; columns with <= %.0f%% gaps)\n%s",
          SL_PG_MAX_GAP * 100, head);
  for (int64_t k = 0; k < t; k++) col_line(fp, m, &a->col[a->by_entropy[k]]);
  fprintf(fp, "\nhighest-entropy columns (most variable; columns with <= %.0f%% gaps)\n%s",
          SL_PG_MAX_GAP * 100, head);
  for (int64_t k = 0; k < t; k++) col_line(fp, m, &a->col[a->by_entropy[a->n_ranked - 1 - k]]);
  if (a->n_ranked < a->L)
    fprintf(fp, "(%lld columns with more than %.0f%% gaps are not ranked)\n",
            (long long)(a->L - a->n_ranked), SL_PG_MAX_GAP * 100);
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
  for (int64_t k = 0; k < a->n_ranked && k < 5; k++) {
    cJSON_AddItemToArray(lo, cJSON_CreateNumber((double)a->by_entropy[k] + 1));
    cJSON_AddItemToArray(hi, cJSON_CreateNumber((double)a->by_entropy[a->n_ranked - 1 - k] + 1));
  }
  cJSON_AddNumberToObject(root, "ranked_columns", (double)a->n_ranked);
  char *s = cJSON_Print(root);
  cJSON_Delete(root);
  if (!s) return NULL;
  size_t n = strlen(s);
  char *out = malloc(n + 2);
  if (out) { memcpy(out, s, n); out[n] = '\n'; out[n + 1] = 0; }
  cJSON_free(s);
  return out;
}


static void dist_line(FILE *fp, const char *what, const sl_dist_summary *d) {
  fprintf(fp, "%-26s mean %.3f  quantiles 5%% %.3f  25%% %.3f  50%% %.3f  75%% %.3f  95%% %.3f  (n %lld)\n",
          what, d->mean, d->q05, d->q25, d->q50, d->q75, d->q95, (long long)d->n);
}

static cJSON *dist_json(const sl_dist_summary *d) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "mean", d->mean);
  cJSON_AddNumberToObject(o, "q05", d->q05);
  cJSON_AddNumberToObject(o, "q25", d->q25);
  cJSON_AddNumberToObject(o, "median", d->q50);
  cJSON_AddNumberToObject(o, "q75", d->q75);
  cJSON_AddNumberToObject(o, "q95", d->q95);
  cJSON_AddNumberToObject(o, "n", (double)d->n);
  return o;
}

static double mean_logp(sl_model *m, const sl_msa *a) {
  double s = 0;
  for (int64_t n = 0; n < a->N; n++) s += sl_model_energy(m, sl_msa_row(a, n));
  return a->N ? s / (double)a->N : NAN;
}

/* The model's entropy (sl_model_entropy), as text and JSON; kinds without
 * one say why not. */
static int model_entropy(FILE *fp, cJSON *mj, sl_model *m, long long nent, unsigned long long seed,
                         int threads, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_EXACT_SAMPLE)) {
    fprintf(fp, "entropy            not available: exact entropy needs an ar or tfm model (this is %s)\n",
            sl_model_name(m));
    return SL_OK;
  }
  sl_entropy H;
  sl_model_set_threads(m, threads);
  int status = sl_model_entropy(m, nent, seed, threads, &H, err);
  if (status) return status;
  const double bits = H.bits, se = H.se;
  const int aligned = sl_model_has(m, SL_CAP_ALIGNED);
  if (aligned) {
    fprintf(fp, "entropy            %.3f bits (95%% interval %.3f to %.3f; %lld samples, seed %llu)\n",
            bits, bits - 1.96 * se, bits + 1.96 * se, nent, seed);
    fprintf(fp, "per site           %.4f bits; effective family size 2^S = 10^%.2f sequences\n",
            bits / (double)m->L, bits * log10(2.0));
  } else {
    fprintf(fp, "entropy            %.3f bits (95%% interval %.3f to %.3f; %lld samples, seed %llu; "
            "%lld filled the context)\n", bits, bits - 1.96 * se, bits + 1.96 * se, nent, seed,
            (long long)H.truncated);
    fprintf(fp, "effective family   2^S = 10^%.2f sequences (ungapped, all lengths)\n", bits * log10(2.0));
  }
  cJSON_AddNumberToObject(mj, "entropy_bits", bits);
  cJSON_AddNumberToObject(mj, "entropy_se_bits", se);
  cJSON_AddNumberToObject(mj, "entropy_samples", (double)nent);
  cJSON_AddNumberToObject(mj, "entropy_seed", (double)seed);
  if (!aligned) cJSON_AddNumberToObject(mj, "entropy_truncated_samples", (double)H.truncated);
  cJSON_AddNumberToObject(mj, "log10_effective_family_size", bits * log10(2.0));
  return SL_OK;
}

/* `audit --model [--compare --heldout --data]` and `audit --samples --against`. */
static int audit_models(cli_common *c, const char *model_path, const char *samples, const char *against,
                        const char *compare, const char *heldout, const char *data,
                        long long nent, unsigned long long seed) {
  sl_error err;
  sl_error_clear(&err);
  sl_model *m = NULL, *m2 = NULL;
  sl_msa *S = NULL, *A = NULL, *H = NULL, *D = NULL;
  double *w = NULL, neff = 0;
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&text, &len);
  cJSON *root = cJSON_CreateObject();
  int status = SL_OK;
  fprintf(fp, "# seqloop %s audit\n", SL_VERSION);
  if (model_path) {
    if ((status = sl_model_read(model_path, &m, &err))) goto DONE;
    cJSON *mj = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(mj, "path", model_path);
    cJSON_AddStringToObject(mj, "kind", sl_model_name(m));
    cJSON_AddNumberToObject(mj, "L", (double)m->L);
    cJSON_AddNumberToObject(mj, "q", m->q);
    cJSON_AddNumberToObject(mj, "train_neff", m->neff);
    fprintf(fp, "model              %s (%s, L %lld, q %d, trained on Neff %.1f)\n", model_path,
            sl_model_name(m), (long long)m->L, m->q, m->neff);
    if ((status = model_entropy(fp, mj, m, nent, seed, c->w.threads, &err))) goto DONE;
  }
  if (compare) {
    if ((status = cli_read_any_model("audit", compare, &m2, &err))) goto DONE;
    cJSON *cj = cJSON_AddObjectToObject(root, "compare");
    cJSON_AddStringToObject(cj, "path", compare);
    cJSON_AddStringToObject(cj, "kind", sl_model_name(m2));
    cJSON_AddNumberToObject(cj, "train_neff", m2->neff);
    fprintf(fp, "compare            %s (%s, L %lld, q %d, trained on Neff %.1f)\n", compare,
            sl_model_name(m2), (long long)m2->L, m2->q, m2->neff);
    if ((status = model_entropy(fp, cj, m2, nent, seed, c->w.threads, &err))) goto DONE;
    for (int dir = 0; dir < 2; dir++) {
      sl_model *P = dir ? m2 : m, *Q = dir ? m : m2;
      const char *key = dir ? "kl_compare_to_model_bits" : "kl_model_to_compare_bits";
      double kl = 0, se = 0;
      if (!sl_model_has(P, SL_CAP_EXACT_SAMPLE | SL_CAP_ALIGNED | SL_CAP_NORMALISED) ||
          !sl_model_has(Q, SL_CAP_NORMALISED | SL_CAP_ALIGNED)) {
        fprintf(fp, "KL(%s || %s)  not available: needs an ar P and an ar or profile Q\n",
                dir ? "compare" : "model", dir ? "model" : "compare");
        continue;
      }
      if ((status = sl_info_kl(P, Q, nent, seed + 1, c->w.threads, &kl, &se, &err))) goto DONE;
      fprintf(fp, "KL(%s || %s)  %.3f bits (95%% interval %.3f to %.3f): extra bits per sequence to "
              "code %s samples with the %s\n", dir ? "compare" : "model", dir ? "model" : "compare", kl,
              kl - 1.96 * se, kl + 1.96 * se, dir ? "the compared model's" : "the model's",
              dir ? "model" : "compared model");
      cJSON_AddNumberToObject(root, key, kl);
      cJSON_AddNumberToObject(root, dir ? "kl_compare_to_model_se" : "kl_model_to_compare_se", se);
    }
  }
  if (heldout) {
    sl_msa_opts ho;
    sl_msa_opts_init(&ho);
    if ((status = sl_msa_read(heldout, &ho, &H, &err))) goto DONE;
    cJSON *hj = cJSON_AddObjectToObject(root, "heldout");
    cJSON_AddStringToObject(hj, "path", heldout);
    cJSON_AddStringToObject(hj, "sha256", H->sha256);
    cJSON_AddNumberToObject(hj, "n", (double)H->N);
    for (int k = 0; k < 2; k++) {
      sl_model *M = k ? m2 : m;
      if (!M) continue;
      if (M->L != H->L) {
        status = sl_fail(&err, SL_EINPUT, "%s has %lld columns, the model %lld", heldout, (long long)H->L, (long long)M->L);
        goto DONE;
      }
      if (!sl_model_has(M, SL_CAP_NORMALISED)) {
        fprintf(fp, "held-out %-9s not available: a Potts model has no exact normaliser\n", k ? "(compare)" : "(model)");
        continue;
      }
      double s = 0;
      for (int64_t n = 0; n < H->N; n++) s += sl_info_logp(M, sl_msa_row(H, n));
      double lp = s / (double)H->N, bps = -lp / ((double)H->L * log(2.0));
      fprintf(fp, "held-out %-9s %s: %lld sequences, mean log P %.3f nats, %.4f bits per site, "
              "perplexity %.3f\n", k ? "(compare)" : "(model)", heldout, (long long)H->N, lp, bps, pow(2.0, bps));
      cJSON *o = cJSON_AddObjectToObject(hj, k ? "compare" : "model");
      cJSON_AddNumberToObject(o, "mean_logp", lp);
      cJSON_AddNumberToObject(o, "bits_per_site", bps);
      cJSON_AddNumberToObject(o, "perplexity", pow(2.0, bps));
    }
  }
  if (data) {
    sl_audit *da = NULL;
    double *dw = NULL, dneff = 0;
    if ((status = cli_load(c, data, &D, &dw, &dneff, &err))) goto DONE;
    status = sl_audit_compute(D, dw, &da, &err);
    free(dw);
    if (status) goto DONE;
    double colsum = da->mean_entropy * (double)da->L;
    fprintf(fp, "data               %s: N %lld, Neff %.1f, Neff/L %.3f; sum of column entropies %.2f bits "
            "(the entropy of the site-independent model with the data's frequencies; an upper bound "
            "for any model that matches them)\n", data, (long long)da->N, da->neff, da->neff_per_L, colsum);
    cJSON *dj = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(dj, "path", data);
    cJSON_AddStringToObject(dj, "sha256", D->sha256);
    cJSON_AddNumberToObject(dj, "N", (double)da->N);
    cJSON_AddNumberToObject(dj, "neff", da->neff);
    cJSON_AddNumberToObject(dj, "sum_column_entropy_bits", colsum);
    sl_audit_destroy(da);
  }
  if (samples) {
    sl_msa_opts so;
    sl_msa_opts_init(&so);
    if ((status = sl_msa_read(samples, &so, &S, &err))) goto DONE;
    if ((status = cli_load(c, against, &A, &w, &neff, &err))) goto DONE;
    sl_sample_stats st;
    if ((status = sl_sample_stats_compute(S, A, w, 2000, c->w.threads, &st, &err))) goto DONE;
    fprintf(fp, "samples            %s (%lld sequences) against %s (%lld, Neff %.1f)\n", samples,
            (long long)S->N, against, (long long)A->N, neff);
    fprintf(fp, "one-point r        %.4f\n", st.r_one);
    fprintf(fp, "two-point r        %.4f (connected correlations; slope %.3f)\n", st.r_two, st.slope_two);
    dist_line(fp, "novelty (to nearest nat.)", &st.novelty);
    dist_line(fp, "diversity (sample pairs)", &st.diversity);
    cJSON *sj = cJSON_AddObjectToObject(root, "samples");
    cJSON_AddNumberToObject(sj, "n", (double)S->N);
    cJSON_AddNumberToObject(sj, "r_one_point", st.r_one);
    cJSON_AddNumberToObject(sj, "r_two_point_connected", st.r_two);
    cJSON_AddNumberToObject(sj, "slope_two_point", st.slope_two);
    cJSON_AddItemToObject(sj, "novelty_hamming_to_nearest_natural", dist_json(&st.novelty));
    cJSON_AddItemToObject(sj, "diversity_hamming_between_samples", dist_json(&st.diversity));
    if (m) {
      if (m->L != S->L) { status = sl_fail(&err, SL_EINPUT, "the model has %lld columns, the samples %lld", (long long)m->L, (long long)S->L); goto DONE; }
      double ls = mean_logp(m, S), la = mean_logp(m, A);
      fprintf(fp, "mean log P         samples %.3f, naturals %.3f (nats, under the model)\n", ls, la);
      cJSON_AddNumberToObject(sj, "mean_logp_samples", ls);
      cJSON_AddNumberToObject(sj, "mean_logp_naturals", la);
    }
  }
DONE:
  fclose(fp);
  if (!status) {
    if (c->json) {
      status = cli_write_json(c->out, root, &err);
    } else {
      status = cli_write_text(c->out, text, &err);
    }
  }
  cJSON_Delete(root);
  free(text);
  free(w);
  sl_model_destroy(m);
  sl_model_destroy(m2);
  sl_msa_destroy(S);
  sl_msa_destroy(A);
  sl_msa_destroy(H);
  sl_msa_destroy(D);
  return status ? cli_error(c, status, &err) : 0;
}

int cmd_audit(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "cycle")) { /* provenance then reads "seqloop audit cycle ..." */
    argv[1] = (char *)"audit cycle";
    return cmd_audit_cycle(argc - 1, argv + 1);
  }
  cli_common c;
  cli_common_init(&c, "audit", argc, argv);
  int columns = 0, top = 5;
  const char *model_path = NULL, *samples = NULL, *against = NULL, *train = NULL, *test = NULL,
             *per_seq = NULL, *compare = NULL, *heldout = NULL, *data = NULL;
  double leak_t = 0.8;
  int skip_invalid = 0;
  int64_t nent = 20000;
  uint64_t seed = 1;
  cli_opt opts[] = {
    CLI_FLAG("columns", 0, &columns, "print the full per-column table", "options"),
    CLI_INT("top", 0, &top, 1, 1000000, "N", "lowest/highest-entropy columns to list", NULL),
    CLI_STRING("model", 0, &model_path, "FILE", "report a model: kind, size, and for ar its entropy\n"
               "S = -E[log2 P] by Monte Carlo with a 95% interval, and 2^S (effective family size)",
               "model and samples"),
    CLI_INT64("entropy-samples", 0, &nent, 2, INT64_MAX, "N", "samples for the entropy estimate", NULL),
    CLI_UINT64("seed", 0, &seed, 0, HUGE_VAL, "S", "seed for the entropy estimate", NULL),
    CLI_STRING("samples", 0, &samples, "FILE", "sampled sequences (FASTA over the alignment's columns)", NULL),
    CLI_STRING("against", 0, &against, "ALIGNMENT", "the natural alignment: one- and two-point correlations,\n"
               "Hamming distance to the nearest natural (novelty) and between samples\n"
               "(diversity); with --model, mean log P of both sets", NULL),
    CLI_STRING("compare", 0, &compare, "M2", "with --model M: M2's entropy, KL(M || M2) and KL(M2 || M) by\n"
               "Monte Carlo (ar P; ar or profile Q), in bits", "model-to-model information"),
    CLI_STRING("heldout", 0, &heldout, "FILE", "held-out sequences (aligned to the model's columns): mean\n"
               "log P, bits per site and perplexity under M (and M2)", NULL),
    CLI_STRING("data", 0, &data, "ALIGNMENT", "the data's side: N, Neff, sum of column entropies (bits)", NULL),
    CLI_STRING("train", 0, &train, "ALIGNMENT", "the training alignment (the input options apply to it)",
               "leakage (is a held-out set held out?)"),
    CLI_STRING("test", 0, &test, "FILE", "sequences aligned to its kept columns, or an assay CSV with a\n"
               "'mutant' column (variants of the focus: needs -f/--focus-first)", NULL),
    CLI_FLAG("skip-invalid", 0, &skip_invalid, "assay: skip (and count) variants with a wrong wild type or\n"
             "a position outside the columns, as score does", NULL),
    CLI_DOUBLE("leak-threshold", 0, &leak_t, 0, 1, "T", "identity above which a test sequence is not held out", NULL),
    CLI_STRING("per-sequence", 0, &per_seq, "FILE", "CSV: each test sequence, its highest identity, nearest\n"
               "training sequence", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c), CLI_OPTS_JSON(&c), CLI_OPTS_GENERAL(&c),
    CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind);
  if (rc >= 0) return rc;
  cli_input(&c, "model", model_path);
  cli_input(&c, "compare_model", compare);
  cli_input(&c, "samples", samples);
  cli_input(&c, "against", against);
  cli_input(&c, "heldout", heldout);
  cli_input(&c, "data", data);
  cli_input(&c, "train", train);
  cli_input(&c, "test", test);
  if (train || test) {
    if (!train || !test || optind != argc || model_path || samples) {
      return cli_usage_error(&info, "a leakage audit takes --train ALIGNMENT and --test FILE (no "
                             "positional alignment)");
    }
    return cli_audit_leakage(&c, train, test, leak_t, per_seq, skip_invalid);
  }
  if (model_path || samples || against || compare || heldout || data) {
    if ((samples == NULL) != (against == NULL) || optind != argc || ((compare || heldout) && !model_path)) {
      return cli_usage_error(&info, "use --model M (with --compare M2, --heldout H, --data ALN), and/or "
                             "--samples S with --against ALIGNMENT (no positional alignment)");
    }
    rc = audit_models(&c, model_path, samples, against, compare, heldout, data, nent, seed);
    return rc ? rc : cli_prov_exit(&c, c.out);
  }
  if (optind != argc - 1) return cli_usage_error(&info, "expected one alignment file (or '-')");
  cli_input(&c, "alignment", argv[optind]);
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
  if (!status) status = cli_prov_write(&c, c.out, NULL, &err);
  free(text);
  sl_audit_destroy(a);
  free(w);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
