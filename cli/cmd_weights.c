/* cmd_weights.c: `seqloop weights ALIGNMENT` - sequence weights and Neff. */
#include <stdlib.h>

#include "cli.h"

static void help(void) {
  printf("usage: seqloop weights [options] ALIGNMENT\n\n"
         "Writes one weight per input record (0 for rows that preprocessing dropped), as\n"
         "'weight<TAB>name' lines after a '#' provenance header, or with --plmc-format as bare\n"
         "numbers (what plmc --save-weights writes and plmc -w reads). Neff goes to stderr.\n\n"
         "  --plmc-format           bare numbers, one per line\n\n%s", cli_common_help);
}

int cmd_weights(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "weights", argc, argv);
  int plmc_format = 0;
  static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"plmc-format", no_argument, 0, OPT_PLMC_FORMAT},
    {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
    if (opt == 'h') { help(); return 0; }
    int r = cli_common_opt(&c, opt, optarg);
    if (r < 0) return 2;
    if (r > 0) continue;
    if (opt == OPT_PLMC_FORMAT) plmc_format = 1;
    else { fprintf(stderr, "seqloop weights: see 'seqloop weights -h'\n"); return 2; }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "seqloop weights: expected one alignment file (or '-'), see 'seqloop weights -h'\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  double *w = NULL, neff = 0;
  int status = cli_load(&c, argv[optind], &m, &w, &neff, &err);
  if (!status) {
    char *prov = cli_provenance(&c, m);
    status = sl_weights_write(c.out, m, w, plmc_format, prov, &err);
    free(prov);
  }
  free(w);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
