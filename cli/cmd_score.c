/* cmd_score.c: `seqloop score -m MODEL [CSV]` - zero-shot variant effects,
 * and evaluation against an assay (ProteinGym metrics). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "shard.h"
#include "seqloop/score.h"
#include "seqloop/tfm.h"

static const cli_cmdinfo info = {
  "score", "seqloop score -m MODEL [options] [ASSAY.csv]",
  "Scores variants as H(mutant) - H(wild type) (higher = fitter; for a profile,\n"
  "log P(mutant) - log P(wild type)), exactly for multi-mutants. Writes CSV (every input\n"
  "column kept and the score appended); provenance to OUTPUT.prov.json.\n", NULL};

static double parse_num(const char *s) {
  char *e = NULL;
  double v = strtod(s, &e);
  return (e == s || *e) ? NAN : v;
}

typedef struct {
  const char *path;
  sl_model *m;
  int64_t offset;
  int skip;
  int64_t n_ok, n_skipped;
  sl_mutation *mut; /* SL_MAX_MUTATIONS */
  char first_skipped[3][200]; /* the first skipped rows, for one summary line */
  sl_model_ws *ws;  /* this thread's model workspace */
  const char *sep;  /* --mutant-separator: joins the mutations of one variant (':' by default) */
} scorer;

/* The mutant text with --mutant-separator turned into ':' (the parser's). */
static const char *with_colons(const scorer *s, const char *text, char *buf, size_t n) {
  size_t k = strlen(s->sep);
  if (!k || strcmp(s->sep, ":") == 0) return text;
  size_t o = 0;
  for (const char *p = text; *p && o + 1 < n;) {
    if (strncmp(p, s->sep, k) == 0) { buf[o++] = ':'; p += k; }
    else buf[o++] = *p++;
  }
  buf[o] = 0;
  return buf;
}

/* ProteinGym's mutated_sequence: the whole mutated protein, residue k (from
 * 1) numbered k + offset in the model; the mutations are the model columns
 * where it differs from the focus (residues outside the model's columns
 * cannot be checked and are not scored, as for a mutant string). */
static int sequence_mutations(const scorer *s, const char *seq, sl_mutation *mut, int *ret_n, sl_error *err) {
  const sl_model *m = s->m;
  int64_t len = (int64_t)strlen(seq);
  int n = 0;
  for (int64_t i = 0; i < m->L; i++) {
    if (m->pos[i] <= 0) continue;
    int64_t k = m->pos[i] - s->offset - 1;
    if (k < 0 || k >= len)
      return sl_fail(err, SL_EINPUT, "the sequence (%lld residues) has no residue %lld (model column %lld)",
                     (long long)len, (long long)(m->pos[i] - s->offset), (long long)i + 1);
    unsigned char ch = (unsigned char)seq[k];
    if (m->abc->cls[ch] != SL_CH_RESIDUE)
      return sl_fail(err, SL_EINPUT, "'%c' at residue %lld is not a %s residue", ch, (long long)k + 1, m->abc->name);
    uint8_t a = m->abc->code[ch];
    if (a == m->focus[i]) continue;
    if (m->abc->cls[(unsigned char)m->abc->symbols[m->focus[i]]] != SL_CH_RESIDUE)
      return sl_fail(err, SL_EINPUT, "residue %lld differs from the focus, which has a gap there", (long long)k + 1);
    if (n == SL_MAX_MUTATIONS) return sl_fail(err, SL_EINPUT, "more than %d mutations", SL_MAX_MUTATIONS);
    mut[n++] = (sl_mutation){i, m->pos[i], m->focus[i], a};
  }
  *ret_n = n;
  return SL_OK;
}

/* Score one mutant string; NAN (and a note on stderr) if skipped. */
static int score_one(scorer *s, const char *where, const char *text, int is_sequence, double *ret, sl_error *err) {
  int n = 0;
  char buf[8192];
  int status = is_sequence ? sequence_mutations(s, text, s->mut, &n, err)
                           : sl_mutant_parse(s->m, with_colons(s, text, buf, sizeof buf), s->offset, s->mut, &n, err);
  if (status) {
    if (!s->skip) {
      char msg[2 * sizeof err->msg];
      snprintf(msg, sizeof msg, "%s: %s (use --skip-invalid to skip such rows)", where, err->msg);
      return sl_fail(err, SL_EINPUT, "%s", msg);
    }
    if (s->n_skipped < 3) snprintf(s->first_skipped[s->n_skipped], sizeof s->first_skipped[0], "%.90s: %.100s", where, err->msg);
    s->n_skipped++;
    *ret = NAN;
    return SL_OK;
  }
  if ((status = sl_mutant_delta(s->m, s->ws, s->m->focus, s->mut, n, ret, err))) {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return sl_fail(err, status, "%s: the reference sequence (%lld columns): %s", where, (long long)s->m->L, msg);
  }
  s->n_ok++;
  return SL_OK;
}

static void print_metrics(FILE *fp, const char *col, const double *score, const double *dms,
                          const int *bin, int64_t n, cJSON *json) {
  int64_t used = 0;
  for (int64_t k = 0; k < n; k++) used += !isnan(score[k]) && !isnan(dms[k]);
  double rho = sl_spearman(score, dms, n);
  double ndcg = sl_ndcg(score, dms, n, 0.1);
  double rec = sl_topk_recall(score, dms, n, 0.1);
  fprintf(fp, "seqloop score: against %s (%lld variants): Spearman %.4f, NDCG@10%% %.4f, "
          "top-10%% recall %.4f", col, (long long)used, rho, ndcg, rec);
  cJSON_AddStringToObject(json, "dms_score_column", col);
  cJSON_AddNumberToObject(json, "n", (double)used);
  cJSON_AddNumberToObject(json, "spearman", rho);
  cJSON_AddNumberToObject(json, "ndcg_top10", ndcg);
  cJSON_AddNumberToObject(json, "top10_recall", rec);
  if (bin) {
    double auc = sl_auc(score, bin, n), mcc = sl_mcc(score, bin, n, NAN);
    fprintf(fp, ", AUC %.4f, MCC %.4f", auc, mcc);
    cJSON_AddNumberToObject(json, "auc", auc);
    cJSON_AddNumberToObject(json, "mcc", mcc);
  }
  fprintf(fp, "\n");
}

/* Unaligned (or aligned: gaps are dropped) sequences under a transformer:
 * log P per sequence, or with --perplexity the per-token perplexity
 * (tokens = residues + the end token, the unit the model is trained in). */
static int score_tfm_sequences(scorer *sc, const sl_seqset *ss, FILE *fp, int perplexity, const char *scorecol,
                               const char *model_path, const char *seqs, const char *metrics_json, sl_error *err) {
  sl_tfm *t = sc->m->tfm;
  int **tok = calloc((size_t)ss->n + 1, sizeof *tok);
  int *len = calloc((size_t)ss->n + 1, sizeof *len);
  double *lp = malloc(((size_t)ss->n + 1) * sizeof *lp);
  int status = SL_OK;
  if (!tok || !len || !lp) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < ss->n && !status; k++) {
    sl_error e2;
    if (!(tok[k] = malloc(((size_t)ss->len[k] + 1) * sizeof **tok))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    if (sl_tfm_tokenize(ss->seq[k], tok[k], &len[k], &e2))
      status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence '%s': %s", ss->path, (long long)ss->line[k], ss->name[k], e2.msg);
    else if (len[k] + 1 > t->cfg.n_ctx)
      status = sl_fail(err, SL_EINPUT, "%s line %lld: sequence '%s' has %d residues; the model's context holds %d",
                       ss->path, (long long)ss->line[k], ss->name[k], len[k], t->cfg.n_ctx - 1);
  }
  if (status) goto DONE;
  /* the reference (focus) last, for differences */
  int nf = 0;
  tok[ss->n] = malloc(((size_t)sc->m->L + 1) * sizeof **tok);
  if (!tok[ss->n]) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t i = 0; i < sc->m->L; i++) {
    int a = sl_model_state(sc->m, sc->m->focus[i]);
    if (a >= 0) tok[ss->n][nf++] = a;
  }
  len[ss->n] = nf;
  if ((status = sl_tfm_logp_batch(t, (const int *const *)tok, len, (int)ss->n + (nf + 1 <= t->cfg.n_ctx), lp, err))) goto DONE;
  fprintf(fp, perplexity ? "name,logp_nats,residues,nats_per_token\n" : "name,%s\n", scorecol);
  double tot = 0;
  int64_t ntok = 0;
  for (int64_t k = 0; k < ss->n; k++) {
    if (perplexity) fprintf(fp, "%s,%.6f,%d,%.6f\n", ss->name[k], lp[k], len[k], -lp[k] / (len[k] + 1));
    else fprintf(fp, "%s,%.6f\n", ss->name[k], lp[k] - lp[ss->n]);
    tot += -lp[k];
    ntok += len[k] + 1;
    sc->n_ok++;
  }
  if (perplexity && ntok > 0) {
    double npt = tot / (double)ntok;
    fprintf(stderr, "seqloop score: %lld sequences, %lld tokens (residues + end): %.4f nats per token, "
            "perplexity %.4f; mean log P %.3f nats per sequence\n", (long long)ss->n, (long long)ntok, npt,
            exp(npt), -tot / (double)ss->n);
    if (metrics_json) {
      cJSON *pj = cJSON_CreateObject();
      cJSON_AddStringToObject(pj, "model", model_path);
      cJSON_AddStringToObject(pj, "sequences", seqs);
      cJSON_AddNumberToObject(pj, "sequences_n", (double)ss->n);
      cJSON_AddNumberToObject(pj, "tokens", (double)ntok);
      cJSON_AddNumberToObject(pj, "nats_per_token", npt);
      cJSON_AddNumberToObject(pj, "perplexity", exp(npt));
      cJSON_AddNumberToObject(pj, "mean_logp_nats", -tot / (double)ss->n);
      status = cli_write_json(metrics_json, pj, err);
      cJSON_Delete(pj);
    }
  }
DONE:
  if (tok)
    for (int64_t k = 0; k <= ss->n; k++) free(tok[k]);
  free(tok); free(len); free(lp);
  return status;
}

int cmd_score(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "score", argc, argv);
  const char *model_path = NULL, *mutants = NULL, *seqs = NULL, *mutcol = "mutant";
  const char *scorecol = "seqloop_score", *dmscol = NULL, *bincol = NULL, *metrics_json = NULL;
  const char *perp_seqs = NULL, *seqcol = NULL;
  const char *structure = NULL; /* --structure: RSA-weight a field-only model (cmd_fit.c) */
  int singles = 0, perplexity = 0;
  scorer sc = {0};
  sc.sep = ":";
  sl_shard shard = {0, 0};
  int64_t lo = 0, hi = 0, n_items = 0; /* --shard: this piece's rows [lo, hi) of n_items */
  cli_opt opts[] = {
    CLI_STRING("model", 'm', &model_path, "FILE", "a seqloop model file", "options"),
    CLI_STRING("mutants", 0, &mutants, "LIST", "input: comma-separated mutants, e.g. A42G,K45R:L50P", NULL),
    CLI_STRING("sequences", 0, &seqs, "FASTA", "input: sequences aligned to the model's columns (as `seqloop\n"
               "ingest` writes them), scored against the focus", NULL),
    CLI_FLAG("all-singles", 0, &singles, "input: every single mutant of the focus", NULL),
    CLI_STRING("perplexity", 0, &perp_seqs, "FASTA", "input: exact log-likelihood of aligned sequences under an ar\n"
               "or profile model: per sequence (CSV), and bits per site and perplexity\n"
               "2^(bits per site) over the set on stderr (and --metrics-json); under a\n"
               "tfm model: any sequences (gaps dropped), nats per token (residues +\n"
               "end) and perplexity e^(nats per token)", NULL),
    CLI_INT64("offset", 0, &sc.offset, -HUGE_VAL, HUGE_VAL, "K", "residue number in the model = number in the mutant + K", NULL),
    CLI_STRING("mutant-column", 0, &mutcol, "NAME", "the assay's mutant column ('A42G' or 'A42G:C50D')", NULL),
    CLI_STRING("mutant-separator", 0, &sc.sep, "S", "what joins the mutations of one variant in the mutant\n"
               "column and --mutants (e.g. ';' or '-'; not ',' with --mutants)", NULL),
    CLI_STRING("sequence-column", 0, &seqcol, "NAME", "score the assay's full mutated sequences instead of its mutant\n"
               "column (ProteinGym: mutated_sequence; residue k is number k + offset)", NULL),
    CLI_STRING("score-column", 0, &scorecol, "NAME", "name of the added column", NULL),
    CLI_FLAG("skip-invalid", 0, &sc.skip, "skip rows with a wrong wild type or position and report them\n"
             "in one summary line (default: such a row is an error)", NULL),
    CLI_STRING("dms-score-column", 0, &dmscol, "COL", "print Spearman, NDCG and top-10% recall against COL", NULL),
    CLI_STRING("dms-bin-column", 0, &bincol, "COL", "also AUC and MCC against the 0/1 column COL", NULL),
    CLI_STRING("metrics-json", 0, &metrics_json, "FILE", "write the metrics as JSON", NULL),
    CLI_STRING("structure", 0, &structure, "FILE[:CHAIN]", "weight a lor/gemme/profile model's columns by\n"
               "1 - min(RSA,100)/100 from the chain (RSALOR; chain default A)", NULL),
    CLI_OPTS_OUTPUT(&c), CLI_SHARD(&shard, "input rows\n(variants or sequences)"),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind);
  if (rc >= 0) return rc;
  if ((rc = cli_shard_need_file(&info, &shard, c.out)) >= 0) return rc;
  if (shard.n && metrics_json)
    return cli_usage_error(&info, "--shard: --metrics-json would hold one piece's metrics; score unsharded for them");

  if (perp_seqs) {
    if (seqs) return cli_usage_error(&info, "--sequences and --perplexity exclude each other");
    seqs = perp_seqs;
    perplexity = 1;
  }
  cli_input(&c, "model", model_path);
  cli_input(&c, "assay", optind < argc ? argv[optind] : NULL);
  cli_input(&c, "sequences", seqs);
  cli_input(&c, "structure", structure);
  int ninputs = (optind < argc) + (mutants != NULL) + (seqs != NULL) + singles;
  (void)perplexity;
  if (!model_path || ninputs != 1 || argc - optind > 1)
    return cli_usage_error(&info, "expected -m MODEL and exactly one input (a CSV, --mutants, "
                           "--sequences, --perplexity or --all-singles)");
  if ((dmscol || bincol) && optind >= argc)
    return cli_usage_error(&info, "--dms-score-column and --dms-bin-column need an assay CSV");
  sl_error err;
  sl_error_clear(&err);
  sl_csv *csv = NULL;
  sl_outfile *of = NULL;
  double *score = NULL, *dms = NULL;
  int *bin = NULL;
  sc.mut = malloc(SL_MAX_MUTATIONS * sizeof *sc.mut);
  int status = sc.mut ? sl_model_read(model_path, &sc.m, &err) : sl_fail(&err, SL_ENOMEM, "out of memory");
  if (!status && structure) {
    cJSON *rsa = NULL;
    status = cli_structure_scale("score", structure, sc.m, c.quiet, &rsa, &err);
    cJSON_Delete(rsa);
  }
  if (status || (status = sl_model_ws_create(sc.m, &sc.ws, &err))) goto DONE;
  /* -t: the transformer's matmuls and attention (the only kind that
   * threads its scoring; its scores do not depend on the count, test_tfm.c) */
  sl_model_set_threads(sc.m, c.w.threads);
#ifdef _OPENMP
  if (!getenv("OMP_DYNAMIC")) omp_set_dynamic(1); /* as in cmd_fit_tfm.c */
#endif
  sc.path = model_path;
  if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);

  if (optind < argc) { /* assay CSV */
    sc.path = argv[optind];
    if ((status = sl_csv_read(argv[optind], &csv, &err))) goto DONE;
    if (seqcol) mutcol = seqcol;
    int mc = sl_csv_col(csv, mutcol);
    int dc = dmscol ? sl_csv_col(csv, dmscol) : -1, bc = bincol ? sl_csv_col(csv, bincol) : -1;
    if (mc < 0 || (dmscol && dc < 0) || (bincol && bc < 0)) {
      status = sl_fail(&err, SL_EINPUT, "%s: no column '%s' in the header", csv->path,
                       mc < 0 ? mutcol : (dmscol && dc < 0) ? dmscol : bincol);
      goto DONE;
    }
    score = malloc((size_t)(csv->nrows + 1) * sizeof *score);
    dms = malloc((size_t)(csv->nrows + 1) * sizeof *dms);
    bin = malloc((size_t)(csv->nrows + 1) * sizeof *bin);
    if (!score || !dms || !bin) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    fprintf(fp, "%s,%s\n", csv->raw_header, scorecol);
    sl_shard_range(&shard, n_items = csv->nrows, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
      char where[512];
      snprintf(where, sizeof where, "%s line %lld ('%.100s')", csv->path, (long long)csv->line[r],
               csv->cell[r][mc]);
      if ((status = score_one(&sc, where, csv->cell[r][mc], seqcol != NULL, &score[r], &err))) goto DONE;
      dms[r] = dc >= 0 ? parse_num(csv->cell[r][dc]) : NAN;
      double b = bc >= 0 ? parse_num(csv->cell[r][bc]) : NAN;
      bin[r] = b == 0.0 ? 0 : b == 1.0 ? 1 : -1;
      if (isnan(score[r])) fprintf(fp, "%s,\n", csv->raw[r]);
      else fprintf(fp, "%s,%.6f\n", csv->raw[r], score[r]);
    }
  } else if (mutants) {
    fprintf(fp, "mutant,%s\n", scorecol);
    char *list = sl_strdup(mutants), *save = NULL;
    int64_t nm = 0, k = 0;
    for (const char *p = mutants; *p; p++) nm += *p != ',' && (p == mutants || p[-1] == ','); /* strtok_r's tokens */
    sl_shard_range(&shard, n_items = nm, &lo, &hi);
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (k++ < lo || k > hi) continue;
      double v;
      char where[300];
      snprintf(where, sizeof where, "--mutants '%.200s'", t);
      if ((status = score_one(&sc, where, t, 0, &v, &err))) break;
      if (isnan(v)) fprintf(fp, "%s,\n", t);
      else fprintf(fp, "%s,%.6f\n", t, v);
    }
    free(list);
    if (status) goto DONE;
  } else if (singles) {
    const sl_model *m = sc.m;
    fprintf(fp, "mutant,pos,wt,mt,%s\n", scorecol);
    int64_t ns = 0, k = 0;
    for (int64_t i = 0; i < m->L; i++) /* the singles, counted as the loop below meets them */
      if (m->abc->cls[(unsigned char)m->abc->symbols[m->focus[i]]] == SL_CH_RESIDUE)
        ns += m->abc->q - 1 - (m->focus[i] >= 1);
    sl_shard_range(&shard, n_items = ns, &lo, &hi);
    for (int64_t i = 0; i < m->L; i++) {
      uint8_t wt = m->focus[i];
      if (m->abc->cls[(unsigned char)m->abc->symbols[wt]] != SL_CH_RESIDUE) continue;
      for (int a = 1; a < m->abc->q; a++) {
        if (a == wt) continue;
        if (k++ < lo || k > hi) continue;
        sl_mutation mu = {i, m->pos[i], wt, (uint8_t)a};
        double v = 0;
        if ((status = sl_mutant_delta(m, sc.ws, m->focus, &mu, 1, &v, &err))) {
          char msg[sizeof err.msg];
          snprintf(msg, sizeof msg, "%s", err.msg);
          status = sl_fail(&err, status, "--all-singles: the reference sequence (%lld columns): %s",
                           (long long)m->L, msg);
          goto DONE;
        }
        fprintf(fp, "%c%lld%c,%lld,%c,%c,%.6f\n", m->abc->symbols[wt], (long long)m->pos[i],
                m->abc->symbols[a], (long long)m->pos[i], m->abc->symbols[wt], m->abc->symbols[a], v);
        sc.n_ok++;
      }
    }
  } else { /* aligned sequences */
    sl_seqset *all = NULL, view, *ss = &view;
    if ((status = sl_seqset_read(seqs, SL_FMT_AUTO, &all, &err))) goto DONE;
    view = *all; /* --shard: this piece's records, a view into all */
    sl_shard_range(&shard, n_items = all->n, &lo, &hi);
    view.n = hi - lo;
    view.name += lo; view.desc += lo; view.seq += lo; view.len += lo; view.line += lo;
    if (perplexity && !sl_model_has(sc.m, SL_CAP_NORMALISED)) {
      sl_seqset_destroy(all);
      status = sl_fail(&err, SL_EUSAGE, "perplexity needs a normalised model (ar or profile); a Potts "
                       "model's likelihood is known only up to its partition function");
      goto DONE;
    }
    if (!sl_model_has(sc.m, SL_CAP_ALIGNED)) { /* ungapped sequences of any length */
      status = score_tfm_sequences(&sc, ss, fp, perplexity, scorecol, model_path, seqs, metrics_json, &err);
      sl_seqset_destroy(all);
      if (status) goto DONE;
      goto COMMIT;
    }
    fprintf(fp, perplexity ? "name,logp_nats,bits_per_site\n" : "name,%s\n", scorecol);
    double e0 = perplexity ? 0.0 : sl_model_energy(sc.m, sc.m->focus), tot_bits = 0;
    int64_t sites = 0;
    uint8_t *x = malloc((size_t)sc.m->L);
    for (int64_t k = 0; k < ss->n && !status; k++) {
      if (ss->len[k] != sc.m->L) {
        status = sl_fail(&err, SL_EINPUT, "%s line %lld: sequence '%s' has %lld columns; the model has "
                         "%lld (sequences must be aligned to the model's columns)", ss->path,
                         (long long)ss->line[k], ss->name[k], (long long)ss->len[k], (long long)sc.m->L);
        break;
      }
      for (int64_t i = 0; i < sc.m->L && !status; i++) {
        unsigned char ch = (unsigned char)ss->seq[k][i];
        int cls = sc.m->abc->cls[ch];
        if (cls != SL_CH_RESIDUE && cls != SL_CH_GAP)
          status = sl_fail(&err, SL_EINPUT, "%s line %lld: sequence '%s' has '%c' at column %lld, not a "
                           "%s state", ss->path, (long long)ss->line[k], ss->name[k], ch,
                           (long long)i + 1, sc.m->abc->name);
        x[i] = sc.m->abc->code[ch];
      }
      if (!status && perplexity) {
        /* Sites counted: all L for ar (gaps are a state); residues for a gap-missing profile. */
        double lp = 0;
        if ((status = sl_model_logp(sc.m, sc.ws, x, &lp, &err))) break;
        int64_t ns = 0;
        for (int64_t i = 0; i < sc.m->L; i++) ns += sl_model_state(sc.m, x[i]) >= 0;
        fprintf(fp, "%s,%.6f,%.6f\n", ss->name[k], lp, ns ? -lp / log(2.0) / (double)ns : 0.0);
        tot_bits += -lp / log(2.0);
        sites += ns;
      } else if (!status) {
        fprintf(fp, "%s,%.6f\n", ss->name[k], sl_model_energy(sc.m, x) - e0);
      }
      sc.n_ok++;
    }
    if (!status && perplexity && sites > 0) {
      double bps = tot_bits / (double)sites;
      fprintf(stderr, "seqloop score: %lld sequences, %lld sites: %.4f bits per site, perplexity %.4f "
              "(unweighted mean over sites)\n", (long long)ss->n, (long long)sites, bps, pow(2.0, bps));
      if (metrics_json) {
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "model", model_path);
        cJSON_AddStringToObject(pj, "sequences", seqs);
        cJSON_AddNumberToObject(pj, "sequences_n", (double)ss->n);
        cJSON_AddNumberToObject(pj, "sites", (double)sites);
        cJSON_AddNumberToObject(pj, "bits_per_site", bps);
        cJSON_AddNumberToObject(pj, "perplexity", pow(2.0, bps));
        status = cli_write_json(metrics_json, pj, &err);
        cJSON_Delete(pj);
      }
    }
    free(x);
    sl_seqset_destroy(all);
    if (status) goto DONE;
  }
COMMIT:
  status = sl_outfile_commit(of, &err);
  of = NULL;
  cli_piece pc = {shard, "rows", n_items, lo, hi, 1, 0, "concat"};
  if (status || (status = cli_piece_prov_write(&c, c.out, NULL, &pc, &err))) goto DONE;
  if (!c.quiet) {
    fprintf(stderr, "seqloop score: %lld variants scored, %lld skipped", (long long)sc.n_ok,
            (long long)sc.n_skipped);
    for (int k = 0; k < sc.n_skipped && k < 3; k++)
      fprintf(stderr, "%s%s", k ? "; " : " (first: ", sc.first_skipped[k]);
    fprintf(stderr, "%s\n", sc.n_skipped > 3 ? "; ...)" : sc.n_skipped ? ")" : "");
  }
  if (csv && dmscol) {
    cJSON *mj = cJSON_CreateObject();
    cJSON_AddStringToObject(mj, "model", model_path);
    cJSON_AddStringToObject(mj, "assay", csv->path);
    cJSON_AddNumberToObject(mj, "skipped", (double)sc.n_skipped);
    if (shard.n) fprintf(stderr, "seqloop score: metrics of this piece's rows only (--shard %d/%d)\n", shard.i, shard.n);
    print_metrics(stderr, dmscol, score + lo, dms + lo, bincol ? bin + lo : NULL, hi - lo, mj);
    if (metrics_json) status = cli_write_json(metrics_json, mj, &err);
    cJSON_Delete(mj);
  }
DONE:
  sl_outfile_abort(of);
  sl_csv_destroy(csv);
  sl_model_ws_destroy(sc.ws);
  sl_model_destroy(sc.m);
  free(sc.mut);
  free(score); free(dms); free(bin);
  return status ? cli_error(&c, status, &err) : 0;
}
