/* test_ledger.c: the SQLite experiment ledger: schema, migration from v1,
 * uniqueness of measurements, transactions, deterministic export. */
#include <math.h>
#include <sqlite3.h>
#include <unistd.h>

#include "seqloop/ledger.h"
#include "tap.h"

static char dir[] = "/tmp/sl-ledger-XXXXXX";

static char *export_text(sl_ledger *l, int times) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  sl_error err;
  const char *const *names;
  int nt = sl_ledger_export_tables(&names), st = SL_OK;
  /* The tables one after the other, each under a marker line (test-only:
   * what the tests search in). */
  for (int t = 0; t < nt && !st; t++) {
    fprintf(fp, "# table: %s\n", names[t]);
    st = sl_ledger_export_table_csv(l, names[t], fp, times, &err);
  }
  fclose(fp);
  if (st) { free(buf); return NULL; }
  return buf;
}

static int count_rows(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Runs SQL on the database file at path (an old schema's rows, a forged
 * version) behind the library's back; SQLITE_OK or an error code. */
static int exec_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static void test_basic(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/a.db", dir);
  sl_ledger *l = NULL;
  sl_error err;
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK, "a new ledger opens");
  CHECK(sl_ledger_version(l) == SL_LEDGER_SCHEMA, "and is at the current schema version %d", SL_LEDGER_SCHEMA);
  sl_ledger_run r = {0};
  r.cmdline = "seqloop design run";
  r.options_json = "{\"batch\":4}";
  r.seed = 7;
  r.inputs_json = "{}";
  CHECK(sl_ledger_run_add(l, &r, &err) == SL_OK && r.id == 1, "a run is added with id 1");
  int64_t a = -1, b = -1, a2 = -1;
  CHECK(sl_ledger_begin(l, &err) == SL_OK, "begin");
  CHECK(sl_ledger_seq_add(l, r.id, "ACDE", SL_ORIGIN_NATURAL, 0, -1, &a, &err) == SL_OK, "add a natural sequence");
  CHECK(sl_ledger_seq_add(l, r.id, "ACDF", SL_ORIGIN_DESIGNED, 1, a, &b, &err) == SL_OK && b != a, "add a designed child");
  CHECK(sl_ledger_seq_add(l, r.id, "ACDE", SL_ORIGIN_DESIGNED, 3, -1, &a2, &err) == SL_OK && a2 == a,
        "adding a sequence twice returns the first id (unique per run)");
  CHECK(sl_ledger_measurement_add(l, a, "table", 1.5, 0, &err) == SL_OK, "a measurement");
  int st = sl_ledger_measurement_add(l, a, "table", 2.5, 1, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "never counted twice"), "a second measurement of it is refused: %s", err.msg);
  CHECK(sl_ledger_measurement_add(l, b, "table", NAN, 1, &err) == SL_OK, "an unmeasurable (NULL) result is recorded");
  CHECK(sl_ledger_prediction_add(l, b, 1, "ridge", 0.5, 0.1, &err) == SL_OK, "a prediction");
  CHECK(sl_ledger_round_set(l, r.id, 0, "done", "{}", &err) == SL_OK, "round 0 done");
  CHECK(sl_ledger_round_stat(l, r.id, 0, "best", 1.5, &err) == SL_OK, "a round statistic");
  CHECK(sl_ledger_commit(l, &err) == SL_OK, "commit");

  /* A rolled-back transaction leaves nothing behind. */
  char *before = export_text(l, 0);
  CHECK(sl_ledger_begin(l, &err) == SL_OK, "begin a second transaction");
  int64_t c = -1;
  CHECK(sl_ledger_seq_add(l, r.id, "WWWW", SL_ORIGIN_DESIGNED, 2, -1, &c, &err) == SL_OK, "write inside it");
  CHECK(sl_ledger_round_set(l, r.id, 1, "proposed", "{}", &err) == SL_OK, "round 1 proposed inside it");
  sl_ledger_rollback(l);
  char *after = export_text(l, 0);
  CHECK(before && after && strcmp(before, after) == 0, "rollback leaves the export unchanged");
  int64_t k = -2;
  char status[16];
  CHECK(sl_ledger_round_last(l, r.id, &k, status, &err) == SL_OK && k == 0 && !strcmp(status, "done"),
        "last round is 0, done (got %lld %s)", (long long)k, status);
  sl_ledger_seqs s;
  CHECK(sl_ledger_seqs_get(l, r.id, "table", &s, &err) == SL_OK && s.n == 2, "two sequences read back");
  CHECK(s.n == 2 && s.value[0] == 1.5 && s.measured[0] && isnan(s.value[1]) && s.measured[1] &&
        s.origin[1] == SL_ORIGIN_DESIGNED, "values, failed measurement and origins read back");
  sl_ledger_seqs_free(&s);
  CHECK(before && strstr(before, "# table: measurements\nid,seq,oracle,value,round,replicate\n1,1,table,1.5,0,0\n2,2,table,,1,0\n"),
        "CSV export of measurements (NULL as empty, no wall-clock time)");
  CHECK(before && strstr(before, "\"{\"\"batch\"\":4}\""), "JSON options are quoted as a CSV field");
  {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    int st2 = sl_ledger_export_table_csv(l, "measurements", fp, 1, &err);
    fclose(fp);
    CHECK(st2 == SL_OK && buf && !strchr(buf, '#') &&
          !strncmp(buf, "id,seq,oracle,value,round,replicate,time\n1,1,table,1.5,0,0,", 59),
          "one table's CSV: the header first, no comment line, times on request");
    free(buf);
    fp = open_memstream(&buf, &len);
    st2 = sl_ledger_export_table_csv(l, "nosuch", fp, 0, &err);
    fclose(fp);
    CHECK(st2 == SL_EUSAGE && strstr(err.msg, "no table 'nosuch'") && strstr(err.msg, "round_stats") && len == 0,
          "an unknown table is a usage error listing the tables: %s", err.msg);
    free(buf);
    const char *const *names;
    CHECK(sl_ledger_export_tables(&names) == 7 && !strcmp(names[0], "runs") && !strcmp(names[5], "round_stats") &&
          !strcmp(names[6], "intervals"), "seven tables, runs first, intervals last");
  }
  char *json = NULL;
  CHECK(sl_ledger_export_json(l, &json, 1, &err) == SL_OK && json && strstr(json, "\"time\":"),
        "JSON export with times");
  free(json);
  free(before);
  free(after);
  sl_ledger_run got;
  int found = 0;
  CHECK(sl_ledger_run_last(l, &got, &found, &err) == SL_OK && found && got.seed == 7 &&
        !strcmp(got.options_json, "{\"batch\":4}"), "the run reads back with seed and options");
  sl_ledger_run_free(&got);
  free(r.created);
  sl_ledger_close(l);
  CHECK(count_rows(path, "SELECT count(*) FROM pragma_journal_mode() WHERE journal_mode = 'wal'") == 1,
        "the ledger is in WAL mode");
}

static void test_migration(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/old.db", dir);
  sl_error err;
  CHECK(sl_ledger_migrate_to(path, 1, &err) == SL_OK, "a version-1 ledger is made");
  CHECK(count_rows(path, "PRAGMA user_version") == 1, "its user_version is 1");
  /* Fill it the way seqloop v1 did (no measurements.round, no round_stats). */
  int rc = exec_sql(path, "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', 'old', '{}', 3, '0.0.9', '{}');"
                          "INSERT INTO rounds VALUES (1, 0, 'done', '{}');"
                          "INSERT INTO sequences VALUES (1, 1, 'AAAA', 'natural', 0, NULL);"
                          "INSERT INTO sequences VALUES (2, 1, 'AAAC', 'designed', 2, 1);"
                          "INSERT INTO measurements VALUES (1, 1, 'lab', 0.25, 't');"
                          "INSERT INTO measurements VALUES (2, 2, 'lab', 0.75, 't');");
  CHECK(rc == SQLITE_OK, "v1 rows inserted with the v1 columns");
  sl_ledger *l = NULL;
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && sl_ledger_version(l) == SL_LEDGER_SCHEMA,
        "opening it migrates to version %d", SL_LEDGER_SCHEMA);
  CHECK(count_rows(path, "SELECT count(*) FROM measurements") == 2, "old measurements kept");
  CHECK(count_rows(path, "SELECT round FROM measurements WHERE id = 2") == 2,
        "migrated measurements get the round of their sequence");
  CHECK(sl_ledger_round_stat(l, 1, 0, "best", 0.75, &err) == SL_OK, "round_stats exists after migration");
  CHECK(sl_ledger_measurement_add(l, 2, "lab", 0.1, 3, &err) == SL_EINPUT, "uniqueness still holds after migration");
  sl_ledger_close(l);
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && count_rows(path, "PRAGMA user_version") == SL_LEDGER_SCHEMA,
        "reopening a current ledger is a no-op");
  sl_ledger_close(l);
  /* A ledger from the future is refused. */
  exec_sql(path, "PRAGMA user_version = 99");
  int st = sl_ledger_open(path, &l, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "newer than this seqloop") && !l, "a newer schema is refused: %s", err.msg);
  /* A file that is not a database. */
  snprintf(path, sizeof path, "%s/junk.db", dir);
  FILE *fp = fopen(path, "w");
  fputs("this is not an sqlite file, it is long enough to have a header of sorts........\n", fp);
  fclose(fp);
  st = sl_ledger_open(path, &l, &err);
  CHECK(st == SL_EIO && strstr(err.msg, "junk.db"), "a non-database file is an error naming it: %s", err.msg);
}

/* v2 -> v3: a ledger an issue-11 seqloop wrote (round_stats, no intervals)
 * gains the intervals table; its rows are kept; intervals round-trip, with
 * unbounded sides as NULL. */
static void test_migration_v3(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/v2.db", dir);
  sl_error err;
  CHECK(sl_ledger_migrate_to(path, 2, &err) == SL_OK && count_rows(path, "PRAGMA user_version") == 2,
        "a version-2 ledger is made");
  int rc = exec_sql(path, "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', 'old', '{}', 3, '0.1.0', '{}');"
                          "INSERT INTO rounds VALUES (1, 0, 'done', '{}');"
                          "INSERT INTO sequences VALUES (1, 1, 'AAAA', 'natural', 0, NULL);"
                          "INSERT INTO sequences VALUES (2, 1, 'AAAC', 'designed', 1, 1);"
                          "INSERT INTO predictions VALUES (2, 1, 'ridge-bootstrap', 0.5, 0.1);"
                          "INSERT INTO measurements VALUES (1, 1, 'lab', 0.25, 't', 0);"
                          "INSERT INTO round_stats VALUES (1, 1, 'coverage90', 1.0);");
  CHECK(rc == SQLITE_OK, "v2 rows inserted with the v2 columns");
  CHECK(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'intervals'") == 0, "v2 has no intervals table");
  sl_ledger *l = NULL;
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && sl_ledger_version(l) == SL_LEDGER_SCHEMA,
        "opening it migrates to version %d", SL_LEDGER_SCHEMA);
  CHECK(count_rows(path, "SELECT count(*) FROM predictions") == 1 && count_rows(path, "SELECT count(*) FROM round_stats") == 1 &&
        count_rows(path, "SELECT count(*) FROM measurements") == 1, "v2 rows kept");
  CHECK(sl_ledger_interval_add(l, 2, 1, "ridge-bootstrap", "split", 0.1, 0.25, 0.75, &err) == SL_OK &&
        sl_ledger_interval_add(l, 1, 1, "ridge-bootstrap", "split", 0.1, -INFINITY, INFINITY, &err) == SL_OK,
        "intervals are recorded after migration");
  double lo = 0, hi = 0, a = 0;
  int found = 0;
  CHECK(sl_ledger_interval_get(l, 2, 1, &lo, &hi, &a, &found, &err) == SL_OK && found && lo == 0.25 && hi == 0.75 && a == 0.1,
        "an interval reads back");
  CHECK(sl_ledger_interval_get(l, 1, 1, &lo, &hi, &a, &found, &err) == SL_OK && found && isinf(lo) && lo < 0 && isinf(hi),
        "an unbounded interval reads back as -inf, +inf");
  CHECK(count_rows(path, "SELECT count(*) FROM intervals WHERE lower IS NULL AND upper IS NULL") == 1,
        "unbounded sides are stored as NULL");
  CHECK(sl_ledger_interval_add(l, 99, 1, "x", "split", 0.1, 0, 1, &err) != SL_OK, "an interval of an unknown sequence is refused");
  char *json = NULL;
  CHECK(sl_ledger_export_json(l, &json, 0, &err) == SL_OK && json && strstr(json, "\"intervals\"") &&
        strstr(json, "\"schema_version\":\t4") , "the JSON export has the intervals table");
  free(json);
  sl_ledger_close(l);
}


/* v3 -> v4: replicates. A v3 ledger's measurements become replicate 0 with
 * their ids; a second replicate is accepted, a repeated replicate number is
 * refused; sl_ledger_seqs_get() returns the mean over replicates with a
 * value, the number of rows and of values; a v3 ledger opened read-only
 * (not migrated) exports the same columns. */
static void test_migration_v4(void) {
  char path[256], ro[256];
  snprintf(path, sizeof path, "%s/v3.db", dir);
  snprintf(ro, sizeof ro, "%s/v3ro.db", dir);
  sl_error err;
  for (int f = 0; f < 2; f++) {
    const char *p = f ? ro : path;
    CHECK(sl_ledger_migrate_to(p, 3, &err) == SL_OK && count_rows(p, "PRAGMA user_version") == 3, "a version-3 ledger is made");
    int rc = exec_sql(p, "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', 'old', '{}', 3, '0.1.0', '{}');"
                         "INSERT INTO sequences VALUES (1, 1, 'AAAA', 'natural', 0, NULL);"
                         "INSERT INTO sequences VALUES (2, 1, 'AAAC', 'designed', 1, 1);"
                         "INSERT INTO sequences VALUES (3, 1, 'AAAD', 'designed', 1, 1);"
                         "INSERT INTO measurements VALUES (7, 1, 'lab', 0.25, 't', 0);"
                         "INSERT INTO measurements VALUES (8, 2, 'lab', NULL, 't', 1);");
    CHECK(rc == SQLITE_OK, "v3 rows inserted with the v3 columns");
  }
  sl_ledger *l = NULL;
  CHECK(sl_ledger_open_readonly(ro, &l, &err) == SL_OK && sl_ledger_version(l) == 3, "a v3 ledger opens read-only, unmigrated");
  char *txt = l ? export_text(l, 0) : NULL;
  CHECK(txt && strstr(txt, "id,seq,oracle,value,round,replicate\n7,1,lab,0.25,0,0\n8,2,lab,,1,0\n"),
        "its export has the replicate column, 0 for every row: %s", txt ? txt : "(none)");
  free(txt);
  sl_ledger_close(l);
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && sl_ledger_version(l) == 4, "opening it read-write migrates to v4");
  CHECK(count_rows(path, "SELECT count(*) FROM measurements WHERE replicate = 0 AND id IN (7, 8)") == 2,
        "v3 measurements keep their ids and become replicate 0");
  CHECK(sl_ledger_measurement_add(l, 2, "lab", 1.0, 1, &err) == SL_EINPUT && strstr(err.msg, "never counted twice"),
        "replicate 0 twice is refused: %s", err.msg);
  CHECK(sl_ledger_measurement_add_rep(l, 2, "lab", 1.0, 1, 1, &err) == SL_OK &&
        sl_ledger_measurement_add_rep(l, 2, "lab", 2.5, 1, 2, &err) == SL_OK, "replicates 1 and 2 are recorded");
  CHECK(sl_ledger_measurement_add_rep(l, 2, "lab", 9.0, 1, 2, &err) == SL_EINPUT && strstr(err.msg, "replicate 2"),
        "replicate 2 twice is refused, naming it: %s", err.msg);
  CHECK(sl_ledger_measurement_add_rep(l, 3, "lab", 0.5, 1, -1, &err) == SL_EINTERNAL, "a negative replicate is refused");
  CHECK(sl_ledger_measurement_add_rep(l, 3, "other", 4.0, 1, 0, &err) == SL_OK, "another oracle's measurement is separate");
  sl_ledger_seqs s;
  CHECK(sl_ledger_seqs_get(l, 1, "lab", &s, &err) == SL_OK && s.n == 3, "three sequences read back");
  CHECK(s.measured[0] == 1 && s.nval[0] == 1 && s.value[0] == 0.25, "one measurement: its value");
  CHECK(s.measured[1] == 3 && s.nval[1] == 2 && s.value[1] == 1.75,
        "a failed replicate and two values: 3 rows, the mean of the two values (%g)", s.value[1]);
  CHECK(s.measured[2] == 0 && s.nval[2] == 0 && isnan(s.value[2]), "another oracle's measurement is not this one's");
  sl_ledger_seqs_free(&s);
  txt = export_text(l, 0);
  CHECK(txt && strstr(txt, "8,2,lab,,1,0\n") && strstr(txt, ",2,lab,2.5,1,2\n"), "the export lists every replicate");
  free(txt);
  sl_ledger_close(l);
}

int main(void) {
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_basic();
  test_migration();
  test_migration_v3();
  test_migration_v4();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return TAP_DONE();
}
