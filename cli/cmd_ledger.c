/* cmd_ledger.c: `seqloop ledger export --ledger FILE [--json] -o OUT` - every
 * table of a design ledger, deterministically ordered (wall-clock columns
 * only with --with-times, so two runs of one campaign export identically):
 * one CSV per table (OUT.runs.csv, ...), one table (--table), or one JSON
 * document (--json). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmdinfo info = {
  "ledger export",
  "seqloop ledger export --ledger FILE [--with-times] -o PREFIX\n"
  "       seqloop ledger export --ledger FILE [--with-times] --table NAME [-o FILE]\n"
  "       seqloop ledger export --ledger FILE [--with-times] --json [-o FILE]",
  "Writes every table of the ledger (runs, rounds, sequences, predictions, measurements,\n"
  "round_stats, intervals, draws): one CSV per table, PREFIX.NAME.csv (a trailing '.csv' on\n"
  "PREFIX is dropped), each readable by pandas.read_csv or R's read.csv with no options; or one\n"
  "table; or one JSON object with an array per table. Provenance: a JSON sidecar\n"
  "PREFIX.prov.json (or FILE.prov.json; none for stdout).",
  NULL};

/* Write tables as CSV: to one file (out) when there is one table, else to
 * PREFIX.NAME.csv each. All files are committed only once all are written,
 * so a failure leaves none of them behind. */
static int export_tables(sl_ledger *l, const char *const *names, int nt, const char *out, const char *prefix,
                         int times, cJSON *files, sl_error *err) {
  sl_outfile *of[16] = {0};
  char path[4200];
  int status = SL_OK, k;
  if (nt > (int)(sizeof of / sizeof *of)) return sl_fail(err, SL_EINTERNAL, "ledger export: %d tables, room for %d", nt,
                                                         (int)(sizeof of / sizeof *of));
  for (k = 0; k < nt && !status; k++) {
    if (prefix) snprintf(path, sizeof path, "%s.%s.csv", prefix, names[k]);
    cJSON_AddItemToArray(files, cJSON_CreateString(prefix ? path : out));
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
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    if (argc < 2) { fprintf(stderr, "usage: %s\n", info.usage); return 2; }
  } else if (strcmp(argv[1], "export") != 0) {
    fprintf(stderr, "seqloop ledger: unknown subcommand '%s' (export)\n", argv[1]);
    return 2;
  } else {
    argc--;
    argv++;
  }
  cli_common c;
  cli_common_init(&c, "ledger", argc, argv);
  const char *path = NULL, *table = NULL;
  int times = 0, optind_;
  cli_opt opts[] = {
    CLI_STRING("ledger", 0, &path, "FILE", "the ledger (SQLite; opening migrates an older schema)", "options"),
    CLI_STRING("table", 0, &table, "NAME", "only this table, as CSV, to -o FILE or stdout", NULL),
    CLI_OPTS_JSON(&c),
    CLI_FLAG("with-times", 0, &times, "include runs.created and measurements.time", NULL),
    CLI_STRING("output", 'o', &c.out, "PREFIX|FILE", "output, written atomically (CSV files need a PREFIX)", "output"),
    CLI_STRING("provenance", 0, &c.prov, "FILE", "provenance JSON (default: PREFIX.prov.json or FILE.prov.json)", NULL),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (!path || optind_ != argc) return cli_usage_error(&info, "expected --ledger FILE and no other arguments");
  if (c.json && table) return cli_usage_error(&info, "--json and --table exclude each other");
  if (!c.json && !table && !strcmp(c.out, "-"))
    return cli_usage_error(&info, "every table's CSV needs -o PREFIX (PREFIX.runs.csv, ...); for stdout give --table NAME "
                           "or --json");
  sl_error err;
  sl_error_clear(&err);
  sl_ledger *l = NULL;
  char *json = NULL, prefix[4096] = "";
  cJSON *extra = cJSON_CreateObject(), *files = extra ? cJSON_AddArrayToObject(extra, "files") : NULL;
  int status = SL_OK;
  if (!files) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  FILE *probe = fopen(path, "rb"); /* export never creates a ledger */
  if (!probe) { status = sl_fail(&err, SL_EINPUT, "%s: cannot open the ledger", path); goto DONE; }
  fclose(probe);
  /* Read-only first: export writes nothing to the ledger, so one on
   * read-only storage can be exported. An older schema needs the migration
   * (a writable open), as before. */
  if ((status = sl_ledger_open_readonly(path, &l, &err))) goto DONE;
  if (sl_ledger_version(l) < SL_LEDGER_SCHEMA) {
    int old_version = sl_ledger_version(l);
    sl_ledger_close(l);
    l = NULL;
    if ((status = sl_ledger_open(path, &l, &err))) {
      char msg[sizeof err.msg];
      snprintf(msg, sizeof msg, "%s", err.msg);
      status = sl_fail(&err, status, "ledger schema version %d is older than this seqloop's (%d) and must be "
                       "migrated before export, which needs write access: %s", old_version, SL_LEDGER_SCHEMA, msg);
      goto DONE;
    }
  }
  cJSON_AddNumberToObject(extra, "schema_version", sl_ledger_version(l));
  cJSON_AddBoolToObject(extra, "with_times", times);
  if (c.json) {
    if ((status = sl_ledger_export_json(l, &json, times, &err))) goto DONE;
    size_t n = strlen(json);
    char *text = realloc(json, n + 2);
    if (!text) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    json = text;
    memcpy(json + n, "\n", 2);
    status = cli_write_text(c.out, json, &err);
  } else if (table) {
    status = export_tables(l, &table, 1, c.out, NULL, times, files, &err);
  } else {
    const char *const *names;
    int nt = sl_ledger_export_tables(&names);
    size_t plen = strlen(c.out);
    if (plen >= 4 && !strcmp(c.out + plen - 4, ".csv")) plen -= 4;
    snprintf(prefix, sizeof prefix, "%.*s", (int)plen, c.out);
    status = export_tables(l, names, nt, NULL, prefix, times, files, &err);
  }
  /* The provenance once the ledger is closed (its file is then complete, so
   * the SHA-256 recorded is of what was exported). */
  sl_ledger_close(l);
  l = NULL;
  if (!status) {
    cli_input(&c, "ledger", path);
    /* A failed sidecar removes what was written (its names are in extra.files). */
    const char *written[16];
    int nw = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files) if (cJSON_IsString(f) && nw < 16) written[nw++] = f->valuestring;
    if (nw == 0) written[nw++] = c.out; /* --json */
    status = cli_prov_write_files(&c, prefix[0] ? prefix : c.out, extra, written, nw, &err);
  }
DONE:
  cJSON_Delete(extra);
  free(json);
  sl_ledger_close(l);
  return status ? cli_error(&c, status, &err) : 0;
}
