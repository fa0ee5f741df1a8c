/* cmd_weights.c: `seqloop weights ALIGNMENT` - sequence weights and Neff. */
#include <stdlib.h>

#include "cli.h"

static const cli_cmdinfo info = {
  "weights", "seqloop weights [options] ALIGNMENT",
  "Writes one weight per input record (0 for rows that preprocessing dropped), as a\n"
  "'weight<TAB>name' table, or with --plmc-format as bare numbers (what plmc\n"
  "--save-weights writes and plmc -w reads). Neff goes to stderr; provenance to\n"
  "OUTPUT.prov.json.\n", NULL};

int cmd_weights(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "weights", argc, argv);
  int plmc_format = 0, optind_;
  cli_opt opts[] = {
    CLI_FLAG("plmc-format", 0, &plmc_format, "bare numbers, one per line", "options"),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c), CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc - 1) return cli_usage_error(&info, "expected one alignment file (or '-')");
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  double *w = NULL, neff = 0;
  cli_input(&c, "alignment", argv[optind_]);
  int status = cli_load(&c, argv[optind_], &m, &w, &neff, &err);
  if (!status) status = sl_weights_write(c.out, m, w, plmc_format, NULL, &err);
  if (!status) status = cli_prov_write(&c, c.out, NULL, &err);
  free(w);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
