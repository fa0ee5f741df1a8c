/* cmd_report.c: `seqloop report -o OUT.html` - one self-contained HTML page
 * (and the same data as JSON) from the files seqloop writes: alignment,
 * model, scored CSV, samples, design ledger, cycle CSV. Glue over
 * seqloop/report.h (docs/report.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "seqloop/report.h"

static const cli_cmdinfo info = {
  "report", "seqloop report -o REPORT.html [--alignment ALN] [--model M] [--scores CSV] [--samples FA]\n"
            "       [--ledger DB] [--cycle CSV] [options]",
  "Writes one HTML file that opens with no network (inline styles and SVG plots, no script)\n"
  "and the same data as JSON (--json, default: REPORT.json). Each input adds its section:\n"
  "alignment (depth, coverage, entropy, what ingestion dropped), model (kind, size, entropy,\n"
  "held-out perplexity; contacts for models with couplings), variant effects (single-mutant\n"
  "heat map; predicted against measured), samples (against --alignment), design (a ledger),\n"
  "the perpetual-motion cycle (audit cycle's CSV). The same inputs give the same bytes;\n"
  "provenance to REPORT.html.prov.json.\n",
  "Ingestion options apply to --alignment (samples and held-out sequences are read as\n"
  "aligned FASTA over the same columns). docs/report.md says what each section shows.\n"};

static int64_t file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

int cmd_report(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "report", argc, argv);
  c.out = NULL;
  const char *aln = NULL, *model = NULL, *heldout = NULL, *structure = NULL, *chain = NULL, *scores = NULL,
             *samples = NULL, *cmodel = NULL, *ledger = NULL, *cycle = NULL, *json = NULL, *title = "seqloop report",
             *mutant_col = "mutant", *score_col = "seqloop_score", *measured_col = NULL;
  int64_t nent = 2000, min_sep = SL_CONTACT_MIN_SEP;
  uint64_t seed = 1;
  int no_contacts = 0;
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("alignment", 'a', &aln, "FILE", "the natural alignment (its section; the reference of --samples)", "inputs"),
    CLI_STRING("model", 'm', &model, "FILE", "a seqloop model file (its section; contacts if it has couplings)", NULL),
    CLI_STRING("scores", 's', &scores, "CSV", "a table written by seqloop score (e.g. --all-singles)", NULL),
    CLI_STRING("samples", 0, &samples, "FASTA", "sampled sequences over the alignment's columns (needs --alignment)", NULL),
    CLI_STRING("ledger", 0, &ledger, "FILE", "a design ledger (seqloop design run): its newest run", NULL),
    CLI_STRING("cycle", 0, &cycle, "CSV", "the CSV of seqloop audit cycle -o", NULL),
    CLI_STRING("heldout", 0, &heldout, "FASTA", "held-out sequences over the model's columns: bits per site, perplexity", "model"),
    CLI_INT64("entropy-samples", 0, &nent, 0, INT64_MAX, "N", "samples for a Monte Carlo entropy (0: none)", NULL),
    CLI_UINT64("seed", 0, &seed, 0, HUGE_VAL, "S", "seed of the entropy estimate and the model's site marginals", NULL),
    CLI_STRING("structure", 0, &structure, "FILE", "PDB or mmCIF: its contacts on the contact map, precision curve", NULL),
    CLI_STRING("chain", 0, &chain, "ID", "chain of the structure (default: the first with residues)", NULL),
    CLI_INT64("min-sep", 0, &min_sep, 1, INT64_MAX, "N", "contacts: minimum sequence separation", NULL),
    CLI_STRING("contacts-model", 0, &cmodel, "FILE", "the model whose couplings give the contacts (default: --model)", NULL),
    CLI_FLAG("no-contacts", 0, &no_contacts, "leave the contact section out", NULL),
    CLI_STRING("mutant-column", 0, &mutant_col, "NAME", "the scores' mutant column", "variants"),
    CLI_STRING("score-column", 0, &score_col, "NAME", "the scores' score column", NULL),
    CLI_STRING("measured-column", 0, &measured_col, "NAME", "an assay column: predicted against measured, Spearman", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c),
    CLI_STRING("title", 0, &title, "TEXT", "the page's title", NULL),
    CLI_STRING("json", 0, &json, "FILE", "the data as JSON (default: OUTPUT with .html replaced by .json)", NULL),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc) return cli_usage_error(&info, "unexpected argument '%s' (inputs are named: --alignment, --model, ...)", argv[optind_]);
  if (!c.out || strcmp(c.out, "-") == 0) return cli_usage_error(&info, "expected -o REPORT.html (a file: the JSON goes beside it)");
  if (!aln && !model && !scores && !samples && !ledger && !cycle)
    return cli_usage_error(&info, "nothing to report: give at least one of --alignment, --model, --scores, --samples, --ledger, --cycle");
  if (samples && !aln) return cli_usage_error(&info, "--samples needs --alignment (the naturals they are compared with)");
  if ((heldout || structure || cmodel) && !model)
    return cli_usage_error(&info, "--heldout, --structure and --contacts-model need --model");
  char *json_path = NULL;
  if (!json) {
    size_t n = strlen(c.out);
    json_path = malloc(n + 6);
    if (!json_path) return 3;
    memcpy(json_path, c.out, n + 1);
    if (n > 5 && strcmp(c.out + n - 5, ".html") == 0) json_path[n - 5] = 0;
    strcat(json_path, ".json");
    json = json_path;
  }
  cli_input(&c, "model", model);
  cli_input(&c, "heldout", heldout);
  cli_input(&c, "contacts model", cmodel);
  cli_input(&c, "structure", structure);
  cli_input(&c, "scores", scores);
  cli_input(&c, "samples", samples);
  cli_input(&c, "ledger", ledger);
  cli_input(&c, "cycle", cycle);
  sl_error err;
  sl_error_clear(&err);
  sl_report *r = NULL;
  sl_msa *A = NULL, *S = NULL, *H = NULL;
  double *w = NULL, neff = 0;
  sl_audit *au = NULL;
  sl_model *m = NULL, *cm = NULL;
  sl_structure *st = NULL;
  sl_csv *sc = NULL, *cy = NULL;
  sl_ledger *l = NULL;
  char *html = NULL, *jtext = NULL;
  int status = sl_report_create(title, &r, &err);
  if (status) goto DONE;
  if (aln) {
    if ((status = cli_load(&c, aln, &A, &w, &neff, &err))) goto DONE;
    if ((status = sl_audit_compute(A, w, &au, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "alignment", aln, &err))) goto DONE;
    if ((status = sl_report_alignment(r, A, au, &err))) goto DONE;
  }
  if (model) {
    if ((status = cli_read_any_model("report", model, &m, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "model", model, &err))) goto DONE;
    sl_entropy ent, *pe = NULL;
    if (nent > 0 && sl_model_has(m, SL_CAP_NORMALISED)) {
      if ((status = sl_model_entropy(m, nent, seed, c.w.threads, &ent, &err))) goto DONE;
      pe = &ent;
    }
    if (heldout) {
      sl_msa_opts ho;
      sl_msa_opts_init(&ho);
      if ((status = sl_msa_read(heldout, &ho, &H, &err))) goto DONE;
      if ((status = sl_report_add_source(r, "held-out", heldout, &err))) goto DONE;
    }
    if ((status = sl_report_model(r, model, file_size(model), m, pe, H, seed, c.w.threads, &err))) goto DONE;
    if (structure) {
      if ((status = sl_structure_read(structure, 0, chain, &st, &err))) goto DONE;
      if ((status = sl_report_add_source(r, "structure", structure, &err))) goto DONE;
    }
    if (cmodel) {
      if ((status = cli_read_any_model("report", cmodel, &cm, &err))) goto DONE;
      if ((status = sl_report_add_source(r, "contacts model", cmodel, &err))) goto DONE;
    }
    const sl_model *cmm = cm ? cm : m;
    if (!no_contacts && (sl_model_has(cmm, SL_CAP_COUPLINGS) || structure || cm))
      if ((status = sl_report_contacts(r, cmm, st, min_sep, &err))) goto DONE;
  }
  if (scores) {
    if ((status = sl_csv_read(scores, &sc, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "scores", scores, &err))) goto DONE;
    if ((status = sl_report_variants(r, sc, mutant_col, score_col, measured_col, &err))) goto DONE;
  }
  if (samples) {
    sl_msa_opts so;
    sl_msa_opts_init(&so);
    if ((status = sl_msa_read(samples, &so, &S, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "samples", samples, &err))) goto DONE;
    if ((status = sl_report_samples(r, samples, S, A, w, &err))) goto DONE;
  }
  if (ledger) {
    /* sl_ledger_open would create a missing file: a report only reads. */
    if (file_size(ledger) <= 0) { status = sl_fail(&err, SL_EINPUT, "%s: no such ledger (or empty)", ledger); goto DONE; }
    if ((status = sl_ledger_open(ledger, &l, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "ledger", ledger, &err))) goto DONE;
    if ((status = sl_report_design(r, ledger, l, &err))) goto DONE;
  }
  if (cycle) {
    if ((status = sl_csv_read(cycle, &cy, &err))) goto DONE;
    if ((status = sl_report_add_source(r, "cycle", cycle, &err))) goto DONE;
    if ((status = sl_report_cycle(r, cy, &err))) goto DONE;
  }
  if ((status = sl_report_html(r, &html, &err))) goto DONE;
  if ((status = sl_report_json(r, &jtext, &err))) goto DONE;
  size_t nj = strlen(jtext);
  char *jt = realloc(jtext, nj + 2);
  if (!jt) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  jtext = jt;
  memcpy(jtext + nj, "\n", 2);
  if ((status = cli_write_text(c.out, html, &err))) goto DONE;
  if ((status = cli_write_text(json, jtext, &err))) goto DONE;
  if (!c.quiet) fprintf(stderr, "seqloop report: wrote %s and %s\n", c.out, json);
  status = cli_prov_write(&c, c.out, NULL, &err);
DONE:
  sl_report_destroy(r);
  sl_msa_destroy(A); sl_msa_destroy(S); sl_msa_destroy(H);
  sl_audit_destroy(au);
  sl_model_destroy(m);
  sl_model_destroy(cm);
  sl_structure_destroy(st);
  sl_csv_destroy(sc); sl_csv_destroy(cy);
  if (l) sl_ledger_close(l);
  free(w); free(html); free(jtext); free(json_path);
  return status ? cli_error(&c, status, &err) : 0;
}
