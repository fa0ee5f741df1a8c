/* cmd_convert.c: `seqloop convert IN -o OUT` - between seqloop model files
 * and plmc's binary parameter files (read by EVcouplings). */
#include <string.h>

#include "cli.h"

static void help(void) {
  printf("usage: seqloop convert IN -o OUT [--to seqloop|plmc]\n\n"
         "IN is a seqloop model file or a plmc parameter file (told apart by the 'SEQLOOP'\n"
         "magic). The default target is the other format. Exported plmc files carry h, J, the\n"
         "focus, its numbering, Neff and the fit's lambdas; plmc's per-sequence weights and\n"
         "pair frequencies are written as zeros (a model file does not keep them).\n");
}

int cmd_convert(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "convert", argc, argv);
  const char *to = NULL;
  c.out = NULL;
  static const struct option longopts[] = {{"to", required_argument, 0, 't'},
    {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    if (opt == 'h') { help(); return 0; }
    else if (opt == 'o') c.out = optarg;
    else if (opt == 't') to = optarg;
    else { fprintf(stderr, "seqloop convert: see 'seqloop convert -h'\n"); return 2; }
  }
  if (optind != argc - 1 || !c.out || (to && strcmp(to, "plmc") && strcmp(to, "seqloop"))) {
    fprintf(stderr, "seqloop convert: expected IN, -o OUT and optionally --to seqloop|plmc\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_model *m = NULL;
  char magic[8] = {0};
  FILE *fp = fopen(argv[optind], "rb");
  size_t got = fp ? fread(magic, 1, 8, fp) : 0;
  if (fp) fclose(fp);
  int from_seqloop = got == 8 && memcmp(magic, "SEQLOOP", 8) == 0;
  if (!to) to = from_seqloop ? "plmc" : "seqloop";
  int status = cli_read_any_model("convert", argv[optind], &m, &err);
  if (!status) {
    if (strcmp(to, "plmc") == 0) {
      double lh = 0, lj = 0, theta = 0.2;
      cJSON *meta = m->meta ? cJSON_Parse(m->meta) : NULL;
      const cJSON *fit = meta ? cJSON_GetObjectItemCaseSensitive(meta, "fit") : NULL;
      const cJSON *v;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "lambda_h")) && cJSON_IsNumber(v)) lh = v->valuedouble;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "lambda_J")) && cJSON_IsNumber(v)) lj = v->valuedouble;
      if ((v = cJSON_GetObjectItemCaseSensitive(fit, "theta")) && cJSON_IsNumber(v)) theta = v->valuedouble;
      cJSON_Delete(meta);
      status = sl_model_write_plmc(c.out, m, NULL, 0, NULL, NULL, theta, lh, lj, 0, &err);
    } else {
      status = sl_model_write(c.out, m, &err);
    }
  }
  sl_model_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
