/* cmd_ledger.c: `seqloop ledger export --ledger FILE [--json] -o OUT` - every
 * table of a design ledger, deterministically ordered (wall-clock columns
 * only with --with-times, so two runs of one campaign export identically). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { G_LEDGER = OPT_CMD_BASE, G_TIMES };

static void help(void) {
  printf("usage: seqloop ledger export --ledger FILE [--json] [--with-times] [-o OUT]\n\n"
         "Writes every table of the ledger (runs, rounds, sequences, predictions, measurements,\n"
         "round_stats): CSV with one '# table: NAME' section each, or one JSON object.\n"
         "  --ledger FILE           the ledger (SQLite; opening migrates an older schema)\n"
         "  --json                  JSON instead of CSV\n"
         "  --with-times            include runs.created and measurements.time\n"
         "  -o FILE                 output (default stdout), written atomically\n");
}

int cmd_ledger(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "ledger", argc, argv);
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { help(); return argc < 2 ? 2 : 0; }
  if (strcmp(argv[1], "export") != 0) {
    fprintf(stderr, "seqloop ledger: unknown subcommand '%s' (export)\n", argv[1]);
    return 2;
  }
  argc--;
  argv++;
  const char *path = NULL;
  int times = 0;
  static const struct option longopts[] = {
    {"ledger", required_argument, 0, G_LEDGER}, {"json", no_argument, 0, OPT_JSON},
    {"with-times", no_argument, 0, G_TIMES}, {"output", required_argument, 0, 'o'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    switch (opt) {
      case 'h': help(); return 0;
      case 'o': c.out = optarg; break;
      case OPT_JSON: c.json = 1; break;
      case G_LEDGER: path = optarg; break;
      case G_TIMES: times = 1; break;
      default: fprintf(stderr, "seqloop ledger: see 'seqloop ledger -h'\n"); return 2;
    }
  }
  if (!path || optind != argc) {
    fprintf(stderr, "seqloop ledger export: expected --ledger FILE and no other arguments\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_ledger *l = NULL;
  sl_outfile *of = NULL;
  char *json = NULL;
  int status = SL_OK;
  FILE *probe = fopen(path, "rb"); /* export never creates a ledger */
  if (!probe) { status = sl_fail(&err, SL_EINPUT, "%s: cannot open the ledger", path); goto DONE; }
  fclose(probe);
  if ((status = sl_ledger_open(path, &l, &err))) goto DONE;
  if (c.json) {
    if ((status = sl_ledger_export_json(l, &json, times, &err))) goto DONE;
    size_t n = strlen(json);
    char *text = realloc(json, n + 2);
    if (!text) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    json = text;
    memcpy(json + n, "\n", 2);
    status = cli_write_text(c.out, json, &err);
  } else {
    if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
    FILE *fp = sl_outfile_fp(of);
    fprintf(fp, "# seqloop %s ledger export: %s (schema %d)\n", SL_VERSION, path, sl_ledger_version(l));
    if ((status = sl_ledger_export_csv(l, fp, times, &err))) { sl_outfile_abort(of); goto DONE; }
    status = sl_outfile_commit(of, &err);
  }
DONE:
  free(json);
  sl_ledger_close(l);
  return status ? cli_error(&c, status, &err) : 0;
}
