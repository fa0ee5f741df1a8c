/* cmd_ingest.c: `seqloop ingest ALIGNMENT` - preprocess and write the
 * alignment as aligned FASTA (the kept rows and columns), with the ingestion
 * report on stderr or, with --json, as JSON on stdout. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void) {
  printf("usage: seqloop ingest [options] ALIGNMENT\n\n"
         "Applies the preprocessing every command uses (format and alphabet detection, focus\n"
         "columns, filters) and writes the kept rows and columns as aligned FASTA to -o.\n"
         "With --json, prints the ingestion report as JSON on stdout (and writes FASTA only\n"
         "when -o names a file).\n\n%s", cli_common_help);
}

int cmd_ingest(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "ingest", argc, argv);
  static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
    if (opt == 'h') { help(); return 0; }
    int r = cli_common_opt(&c, opt, optarg);
    if (r < 0) return 2;
    if (r == 0) { fprintf(stderr, "seqloop ingest: see 'seqloop ingest -h'\n"); return 2; }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "seqloop ingest: expected one alignment file (or '-'), see 'seqloop ingest -h'\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_msa *m = NULL;
  double *w = NULL, neff = 0;
  int status = cli_load(&c, argv[optind], &m, &w, &neff, &err);
  if (!status && (!c.json || strcmp(c.out, "-") != 0)) status = sl_msa_write_fasta(c.out, m, NULL, 0, &err);
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
