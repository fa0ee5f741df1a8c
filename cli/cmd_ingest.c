/* cmd_ingest.c: `seqloop ingest ALIGNMENT` - preprocess and write the
 * alignment as aligned FASTA (the kept rows and columns), with the ingestion
 * report on stderr or, with --json, as JSON on stdout. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmdinfo info = {
  "ingest", "seqloop ingest [options] ALIGNMENT",
  "Applies the preprocessing every command uses (format and alphabet detection, focus\n"
  "columns, filters) and writes the kept rows and columns as aligned FASTA to -o.\n"
  "With --json, prints the ingestion report as JSON on stdout (and writes FASTA only\n"
  "when -o names a file).\n", NULL};

int cmd_ingest(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "ingest", argc, argv);
  int optind_;
  cli_opt opts[] = {CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c), CLI_OPTS_JSON(&c),
                    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc - 1) return cli_usage_error(&info, "expected one alignment file (or '-')");
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  double *w = NULL, neff = 0;
  cli_input(&c, "alignment", argv[optind_]);
  int status = cli_load(&c, argv[optind_], &m, &w, &neff, &err);
  int to_file = strcmp(c.out, "-") != 0;
  if (!status && (!c.json || to_file)) status = sl_msa_write_fasta(c.out, m, NULL, 0, &err);
  if (!status && (!c.json || to_file)) status = cli_prov_write(&c, c.out, NULL, &err);
  if (!status && c.json) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "provenance", cli_json_provenance(&c, m));
    cJSON_AddItemToObject(root, "ingest", cli_json_ingest(m));
    cJSON_AddNumberToObject(root, "neff", neff);
    char *s = cJSON_Print(root);
    if (s) { printf("%s\n", s); cJSON_free(s); }
    cJSON_Delete(root);
  }
  free(w);
  sl_msa_destroy(m);
  return status ? cli_error(&c, status, &err) : 0;
}
