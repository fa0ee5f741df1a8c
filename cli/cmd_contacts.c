/* cmd_contacts.c: `seqloop contacts -m MODEL` - APC-corrected coupling
 * scores, and their precision against a structure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqloop/score.h"
#include "seqloop/structure.h"

static const cli_cmdinfo info = {
  "contacts", "seqloop contacts -m MODEL [options]",
  "Writes the coupling scores of a Potts model as a CSV table 'i,A_i,j,A_j,score,raw'\n"
  "(focus residue numbers and letters), sorted by score: score = Frobenius norm of J_ij\n"
  "with the average product correction (APC); raw = the norm before APC. The model, gauge\n"
  "and command go to OUTPUT.prov.json. --format ecs (the default for an output named\n"
  "*_ECs.txt) writes EVcouplings' raw EC file instead: 'i A_i j A_j fn cn' separated by\n"
  "spaces, no header (fn = raw, cn = score), as evcouplings.couplings.read_raw_ec_file\n"
  "reads it.\n", NULL};

enum { FMT_AUTO = 0, FMT_CSV, FMT_ECS };
static const cli_choice format_choices[] = {{"csv", FMT_CSV}, {"ecs", FMT_ECS}, {NULL, 0}};
static const cli_choice gauge_choices[] = {{"raw", SL_GAUGE_RAW}, {"zerosum", SL_GAUGE_ZEROSUM}, {NULL, 0}};

typedef struct { int64_t i, j; double s, raw; } ec;
static int ec_cmp(const void *pa, const void *pb) {
  const ec *a = pa, *b = pb;
  if (a->s > b->s) return -1;
  if (a->s < b->s) return 1;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  return a->j < b->j ? -1 : a->j > b->j;
}

int cmd_contacts(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "contacts", argc, argv);
  const char *model_path = NULL, *struct_path = NULL, *chain = NULL, *json_path = NULL;
  int gauge = SL_GAUGE_RAW, format = FMT_AUTO;
  int64_t top = 0, min_sep = SL_CONTACT_MIN_SEP;
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("model", 'm', &model_path, "FILE", "a seqloop Potts model", "options"),
    CLI_CHOICE("gauge", 0, &gauge, gauge_choices, "G", "raw (plmc: parameters as fitted) or zerosum\n"
               "(EVcouplings: zero-sum gauge, gap state excluded)", NULL),
    CLI_OPT_("format", 0, CLI_T_CHOICE, &format, 0, 0, format_choices, "F", "csv or ecs (EVcouplings' _ECs.txt);\n"
             "default: ecs for an output named *_ECs.txt, else csv", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_INT64("top", 0, &top, 0, INT64_MAX, "N", "write only the N best pairs (0: all)", NULL),
    CLI_STRING("structure", 0, &struct_path, "FILE", "PDB or mmCIF (gzip ok): align the focus to a chain and\n"
               "report precision at L/10, L/5, L/2, L for |i-j| >= min-sep, contact =\n"
               "C-beta (C-alpha for glycine) distance < 8 A", NULL),
    CLI_STRING("chain", 0, &chain, "ID", "chain of the structure (default: the first with residues)", NULL),
    CLI_INT64("min-sep", 0, &min_sep, 0, INT64_MAX, "N", "minimum sequence separation for precision", NULL),
    CLI_STRING("json", 0, &json_path, "FILE", "write the precision report as JSON", NULL),
    CLI_OPTS_OUTPUT(&c), CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (!model_path || optind_ != argc) return cli_usage_error(&info, "expected -m MODEL and no other arguments");
  cli_input(&c, "model", model_path);
  cli_input(&c, "structure", struct_path);
  sl_error err;
  sl_error_clear(&err);
  sl_model *m = NULL;
  sl_structure *st = NULL;
  double *fn = NULL, *raw = NULL;
  ec *ecs = NULL;
  sl_pair *pairs = NULL;
  int64_t *map = NULL;
  char *focus = NULL;
  sl_outfile *of = NULL;
  int status = sl_model_read(model_path, &m, &err);
  if (status) goto DONE;
  const int64_t L = m->L, np = L * (L - 1) / 2;
  fn = malloc((size_t)(L * L) * sizeof *fn);
  raw = malloc((size_t)(L * L) * sizeof *raw);
  ecs = malloc((size_t)(np ? np : 1) * sizeof *ecs);
  if (!fn || !raw || !ecs) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = sl_coupling_scores(m, gauge, fn, raw, &err))) goto DONE;
  int64_t k = 0;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = i + 1; j < L; j++) ecs[k++] = (ec){i, j, fn[i * L + j], raw[i * L + j]};
  qsort(ecs, (size_t)np, sizeof *ecs, ec_cmp);
  if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  if (format == FMT_AUTO) {
    size_t n = c.out ? strlen(c.out) : 0;
    format = n >= 8 && strcmp(c.out + n - 8, "_ECs.txt") == 0 ? FMT_ECS : FMT_CSV;
  }
  if (format == FMT_CSV) fprintf(fp, "i,A_i,j,A_j,score,raw\n");
  int64_t nout = top > 0 && top < np ? top : np;
  for (int64_t t = 0; t < nout; t++)
    fprintf(fp, format == FMT_CSV ? "%lld,%c,%lld,%c,%.6f,%.6f\n" : "%lld %c %lld %c %.6f %.6f\n",
            (long long)m->pos[ecs[t].i], m->abc->symbols[m->focus[ecs[t].i]], (long long)m->pos[ecs[t].j],
            m->abc->symbols[m->focus[ecs[t].j]], format == FMT_CSV ? ecs[t].s : ecs[t].raw,
            format == FMT_CSV ? ecs[t].raw : ecs[t].s);
  status = sl_outfile_commit(of, &err);
  of = NULL;
  if (!status) status = cli_prov_write(&c, c.out, NULL, &err);
  if (status || !struct_path) goto DONE;

  /* Precision against a structure. */
  if ((status = sl_structure_read(struct_path, 0, chain, &st, &err))) goto DONE;
  focus = malloc((size_t)L + 1);
  map = malloc((size_t)L * sizeof *map);
  pairs = malloc((size_t)(np ? np : 1) * sizeof *pairs);
  if (!focus || !map || !pairs) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t i = 0; i < L; i++) focus[i] = m->abc->symbols[m->focus[i]];
  focus[L] = 0;
  double ident = 0;
  if ((status = sl_align_global(focus, st->seq, map, &ident, &err))) goto DONE;
  int64_t mapped = 0;
  for (int64_t i = 0; i < L; i++) mapped += map[i] >= 0;
  for (int64_t t = 0; t < np; t++) pairs[t] = (sl_pair){ecs[t].i, ecs[t].j, ecs[t].s};
  sl_precision pr;
  if ((status = sl_contact_precision(pairs, np, L, map, st, min_sep, SL_CONTACT_CUTOFF, &pr, &err))) goto DONE;
  const char *names[SL_PREC_NK] = {"L/10", "L/5", "L/2", "L"};
  if (!c.quiet) {
    fprintf(stderr, "seqloop contacts: %s chain %s: %lld residues; %lld of %lld model columns aligned "
            "(identity %.1f%%)\n", struct_path, st->chain, (long long)st->n, (long long)mapped,
            (long long)L, 100 * ident);
    fprintf(stderr, "seqloop contacts: precision (|i-j| >= %lld, < %.0f A):", (long long)min_sep, SL_CONTACT_CUTOFF);
    for (int t = 0; t < SL_PREC_NK; t++)
      fprintf(stderr, " %s %.3f (%lld/%lld)", names[t], pr.precision[t], (long long)pr.n_true[t],
              (long long)pr.n_eval[t]);
    fprintf(stderr, "\n");
  }
  if (json_path) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model_path);
    cJSON_AddStringToObject(j, "structure", struct_path);
    cJSON_AddStringToObject(j, "chain", st->chain);
    cJSON_AddStringToObject(j, "gauge", gauge == SL_GAUGE_RAW ? "raw" : "zerosum");
    cJSON_AddNumberToObject(j, "L", (double)L);
    cJSON_AddNumberToObject(j, "aligned_columns", (double)mapped);
    cJSON_AddNumberToObject(j, "identity", ident);
    cJSON_AddNumberToObject(j, "min_sep", (double)min_sep);
    for (int t = 0; t < SL_PREC_NK; t++) {
      char key[32];
      snprintf(key, sizeof key, "precision_%s", names[t]);
      cJSON_AddNumberToObject(j, key, pr.precision[t]);
    }
    status = cli_write_json(json_path, j, &err);
    cJSON_Delete(j);
  }
DONE:
  sl_outfile_abort(of);
  sl_model_destroy(m);
  sl_structure_destroy(st);
  free(fn); free(raw); free(ecs); free(pairs); free(map); free(focus);
  return status ? cli_error(&c, status, &err) : 0;
}
