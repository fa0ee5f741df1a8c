/* cmd_ledger.c: `seqloop ledger export --ledger FILE [--json] -o OUT` - every
 * table of a design ledger, deterministically ordered (wall-clock columns
 * only with --with-times, so two runs of one campaign export identically):
 * one CSV per table (OUT.runs.csv, ...), one table (--table), or one JSON
 * document (--json). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { G_LEDGER = OPT_CMD_BASE, G_TIMES, G_TABLE };

static void help(void) {
  printf("usage: seqloop ledger export --ledger FILE [--with-times] -o PREFIX\n"
         "       seqloop ledger export --ledger FILE [--with-times] --table NAME [-o FILE]\n"
         "       seqloop ledger export --ledger FILE [--with-times] --json [-o FILE]\n\n"
         "Writes every table of the ledger (runs, rounds, sequences, predictions, measurements,\n"
         "round_stats): one CSV per table, PREFIX.NAME.csv (a trailing '.csv' on PREFIX is dropped),\n"
         "each readable by pandas.read_csv or R's read.csv with no options; or one table; or one\n"
         "JSON object with an array per table.\n"
         "  --ledger FILE           the ledger (SQLite; opening migrates an older schema)\n"
         "  --table NAME            only this table, as CSV, to -o FILE or stdout\n"
         "  --json                  one JSON document instead of CSV files\n"
         "  --with-times            include runs.created and measurements.time\n"
         "  -o PREFIX|FILE          output, written atomically (CSV files need a PREFIX)\n");
}

/* Write tables as CSV: to one file (out) when there is one table, else to
 * PREFIX.NAME.csv each. All files are committed only once all are written,
 * so a failure leaves none of them behind. */
static int export_tables(sl_ledger *l, const char *const *names, int nt, const char *out, const char *prefix,
                         int times, sl_error *err) {
  sl_outfile *of[8] = {0};
  char path[4096];
  int status = SL_OK, k;
  size_t plen = prefix ? strlen(prefix) : 0;
  if (prefix && plen >= 4 && !strcmp(prefix + plen - 4, ".csv")) plen -= 4;
  for (k = 0; k < nt && !status; k++) {
    if (prefix) snprintf(path, sizeof path, "%.*s.%s.csv", (int)plen, prefix, names[k]);
    if ((status = sl_outfile_open(prefix ? path : out, &of[k], err))) break;
    status = sl_ledger_export_table_csv(l, names[k], sl_outfile_fp(of[k]), times, err);
  }
  for (int j = 0; j < nt; j++) {
    if (!of[j]) continue;
    if (status) sl_outfile_abort(of[j]);
    else status = sl_outfile_commit(of[j], err);
    of[j] = NULL;
  }
  return status;
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
  const char *path = NULL, *table = NULL;
  int times = 0;
  static const struct option longopts[] = {
    {"ledger", required_argument, 0, G_LEDGER}, {"json", no_argument, 0, OPT_JSON},
    {"with-times", no_argument, 0, G_TIMES}, {"table", required_argument, 0, G_TABLE}, {"output", required_argument, 0, 'o'},
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
      case G_TABLE: table = optarg; break;
      default: fprintf(stderr, "seqloop ledger: see 'seqloop ledger -h'\n"); return 2;
    }
  }
  if (!path || optind != argc) {
    fprintf(stderr, "seqloop ledger export: expected --ledger FILE and no other arguments\n");
    return 2;
  }
  if (c.json && table) {
    fprintf(stderr, "seqloop ledger export: --json and --table exclude each other\n");
    return 2;
  }
  if (!c.json && !table && !strcmp(c.out, "-")) {
    fprintf(stderr, "seqloop ledger export: six tables need -o PREFIX (PREFIX.runs.csv, ...); "
            "for stdout give --table NAME or --json\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_ledger *l = NULL;
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
  } else if (table) {
    status = export_tables(l, &table, 1, c.out, NULL, times, &err);
  } else {
    const char *const *names;
    int nt = sl_ledger_export_tables(&names);
    status = export_tables(l, names, nt, NULL, c.out, times, &err);
  }
DONE:
  free(json);
  sl_ledger_close(l);
  return status ? cli_error(&c, status, &err) : 0;
}
