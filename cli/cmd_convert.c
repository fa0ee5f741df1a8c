/* cmd_convert.c: `seqloop convert IN -o OUT` - between seqloop model files
 * and plmc's binary parameter files (read by EVcouplings). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmdinfo info = {
  "convert", "seqloop convert IN -o OUT [--to seqloop|plmc] [--alignment ALN [ingestion options]]",
  "IN is a seqloop model file or a plmc parameter file (told apart by the 'SEQLOOP'\n"
  "magic). The default target is the other format. Exported plmc files carry h, J, the\n"
  "focus, its numbering, Neff, the fit's lambdas and max_iter (plmc's num_iter). With\n"
  "--alignment (the training alignment, read with the fit's ingestion and weights options)\n"
  "the file is complete as plmc writes it: N_valid, N_invalid, per-record weights, f_i and\n"
  "f_ij; without it those are zero (a model file does not keep them).\n", NULL};

enum { TO_OTHER = 0, TO_SEQLOOP, TO_PLMC };
static const cli_choice to_choices[] = {{"seqloop", TO_SEQLOOP}, {"plmc", TO_PLMC}, {NULL, 0}};

int cmd_convert(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "convert", argc, argv);
  int to = TO_OTHER, optind_;
  const char *aln = NULL;
  c.out = NULL;
  cli_opt opts[] = {
    CLI_OPT_("to", 0, CLI_T_CHOICE, &to, 0, 0, to_choices, "FMT", "target format (default: the other one)",
             "options", CLI_F_NODEFAULT, NULL, NULL),
    CLI_STRING("output", 'o', &c.out, "OUT", "output model file (required), written atomically", NULL),
    CLI_STRING("provenance", 0, &c.prov, "FILE", "provenance JSON (default: OUT.prov.json)", NULL),
    CLI_STRING("alignment", 0, &aln, "ALN", "plmc export: the training alignment, for weights and marginals",
               NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc - 1 || !c.out) return cli_usage_error(&info, "expected IN and -o OUT");
  const char *in = argv[optind_];
  cli_input(&c, "model", in);
  sl_error err;
  sl_error_clear(&err);
  sl_model *m = NULL;
  char magic[8] = {0};
  FILE *fp = fopen(in, "rb");
  size_t got = fp ? fread(magic, 1, 8, fp) : 0;
  if (fp) fclose(fp);
  int from_seqloop = got == 8 && memcmp(magic, "SEQLOOP", 8) == 0;
  if (to == TO_OTHER) to = from_seqloop ? TO_PLMC : TO_SEQLOOP;
  if (aln && to != TO_PLMC) return cli_usage_error(&info, "--alignment is for the export to plmc");
  int status = cli_read_any_model("convert", in, &m, &err);
  if (!status) {
    if (to == TO_PLMC) {
      double lh = 0, lj = 0, theta = 0.2;
      int max_iter = 0;
      cJSON *meta = m->meta ? cJSON_Parse(m->meta) : NULL;
      const cJSON *fit = meta ? cJSON_GetObjectItemCaseSensitive(meta, "fit") : NULL;
      const cJSON *v;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "lambda_h")) && cJSON_IsNumber(v)) lh = v->valuedouble;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "lambda_J")) && cJSON_IsNumber(v)) lj = v->valuedouble;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "theta")) && cJSON_IsNumber(v)) theta = v->valuedouble;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "max_iter")) && cJSON_IsNumber(v)) max_iter = v->valueint;
      cJSON_Delete(meta);
      if (aln) {
        sl_msa *msa = NULL;
        double *w = NULL, neff = 0;
        cli_input(&c, "alignment", aln);
        if (!(status = cli_load(&c, aln, &msa, &w, &neff, &err)))
          status = sl_model_write_plmc_msa(c.out, m, msa, w, c.w.theta, lh, lj, max_iter, &err);
        free(w);
        sl_msa_destroy(msa);
      } else {
        status = sl_model_write_plmc(c.out, m, NULL, 0, NULL, NULL, theta, lh, lj, max_iter, &err);
      }
    } else {
      status = sl_model_write(c.out, m, &err);
    }
  }
  if (!status) status = cli_prov_write(&c, c.out, NULL, &err);
  sl_model_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
