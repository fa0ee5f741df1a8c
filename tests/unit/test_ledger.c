/* test_ledger.c: the SQLite experiment ledger: schema, migration from v1,
 * uniqueness of measurements, transactions, deterministic export, draws of
 * sampled batches (v5). */
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
    CHECK(sl_ledger_export_tables(&names) == 8 && !strcmp(names[0], "runs") && !strcmp(names[5], "round_stats") &&
          !strcmp(names[6], "intervals") && !strcmp(names[7], "draws"), "eight tables, runs first, intervals, draws last");
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
        strstr(json, "\"schema_version\":\t5"), "the JSON export has the intervals table");
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
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && sl_ledger_version(l) == SL_LEDGER_SCHEMA,
        "opening it read-write migrates to v%d", SL_LEDGER_SCHEMA);
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

/* The CSV of one table (NULL on error). */
static char *table_text(sl_ledger *l, const char *table) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  sl_error err;
  int st = sl_ledger_export_table_csv(l, table, fp, 0, &err);
  fclose(fp);
  if (st) { free(buf); return NULL; }
  return buf;
}

/* v4 -> v5: draws. A v4 ledger with v4 rows (replicates) gains an empty,
 * usable draws table and keeps its rows; a v4 ledger opened read-only (not
 * migrated) exports draws as the header alone and sl_ledger_draws_get()
 * returns no rows rather than failing. */
static void test_migration_v5(void) {
  char path[256], ro[256];
  snprintf(path, sizeof path, "%s/v4.db", dir);
  snprintf(ro, sizeof ro, "%s/v4ro.db", dir);
  sl_error err;
  for (int f = 0; f < 2; f++) {
    const char *p = f ? ro : path;
    CHECK(sl_ledger_migrate_to(p, 4, &err) == SL_OK && count_rows(p, "PRAGMA user_version") == 4, "a version-4 ledger is made");
    int rc = exec_sql(p, "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', 'old', '{}', 3, '0.2.0', '{}');"
                         "INSERT INTO rounds VALUES (1, 0, 'done', '{}');"
                         "INSERT INTO sequences VALUES (1, 1, 'AAAA', 'natural', 0, NULL);"
                         "INSERT INTO sequences VALUES (2, 1, 'AAAC', 'sampled', 1, NULL);"
                         "INSERT INTO measurements VALUES (7, 1, 'lab', 0.25, 't', 0, 0);"
                         "INSERT INTO measurements VALUES (8, 1, 'lab', 0.5, 't', 0, 1);"
                         "INSERT INTO intervals VALUES (2, 1, 'ridge', 'jab', 0.1, 0.0, 1.0);");
    CHECK(rc == SQLITE_OK, "v4 rows inserted with the v4 columns");
  }
  CHECK(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'draws'") == 0, "v4 has no draws table");

  sl_ledger *l = NULL;
  CHECK(sl_ledger_open_readonly(ro, &l, &err) == SL_OK && sl_ledger_version(l) == 4, "a v4 ledger opens read-only, unmigrated");
  char *txt = l ? table_text(l, "draws") : NULL;
  CHECK(txt && !strcmp(txt, "seq,round,part,count,logq\n"), "its draws export is the header alone: %s", txt ? txt : "(error)");
  free(txt);
  txt = l ? export_text(l, 0) : NULL;
  CHECK(txt && strstr(txt, "# table: draws\nseq,round,part,count,logq\n") &&
        strstr(txt, "# table: measurements\nid,seq,oracle,value,round,replicate\n7,1,lab,0.25,0,0\n8,1,lab,0.5,0,1\n"),
        "every table exports, draws empty, the v4 rows as they are");
  free(txt);
  char *json = NULL;
  CHECK(l && sl_ledger_export_json(l, &json, 0, &err) == SL_OK && json && strstr(json, "\"draws\":\t[]") &&
        strstr(json, "\"schema_version\":\t4"), "its JSON export: schema 4, an empty draws array");
  free(json);
  sl_ledger_draws d = {0};
  d.n = -1;
  CHECK(l && sl_ledger_draws_get(l, 1, 1, &d, &err) == SL_OK && d.n == 0 && !d.seq, "draws_get on it: zero rows, no error");
  sl_ledger_draws_free(&d);
  sl_ledger_close(l);
  CHECK(count_rows(ro, "PRAGMA user_version") == 4, "the read-only export left it at v4");

  l = NULL;
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK && sl_ledger_version(l) == 5, "opening it read-write migrates to v5");
  CHECK(count_rows(path, "SELECT count(*) FROM measurements WHERE id IN (7, 8)") == 2 &&
        count_rows(path, "SELECT count(*) FROM intervals") == 1 && count_rows(path, "SELECT count(*) FROM sequences") == 2 &&
        count_rows(path, "SELECT count(*) FROM rounds") == 1, "v4 rows kept");
  CHECK(count_rows(path, "SELECT count(*) FROM draws") == 0, "the draws table exists, empty");
  CHECK(l && sl_ledger_draw_add(l, 2, 1, "train", 3, -2.5, &err) == SL_OK, "a draw is recorded after migration");
  CHECK(l && sl_ledger_draws_get(l, 1, 1, &d, &err) == SL_OK && d.n == 1 && d.seq[0] == 2 && !d.cal[0] && d.count[0] == 3 &&
        d.logq[0] == -2.5, "and reads back");
  sl_ledger_draws_free(&d);
  CHECK(d.n == 0 && !d.seq && !d.logq, "draws_free empties the struct");
  sl_ledger_close(l);
  CHECK(count_rows(path, "PRAGMA user_version") == 5, "user_version is 5");
}

/* Draws: two runs, two rounds; draws_get filters by run and round and orders
 * by sequence then part ('cal' before 'train'); counts and logq are exact;
 * bad part / count / logq, an unknown sequence and a repeated (seq, round,
 * part) are refused with their status, leaving the ledger unchanged. */
static void test_draws(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/draws.db", dir);
  sl_ledger *l = NULL;
  sl_error err;
  CHECK(sl_ledger_open(path, &l, &err) == SL_OK, "a new ledger opens");
  sl_ledger_run r1 = {0}, r2 = {0};
  r1.cmdline = r2.cmdline = "seqloop design run";
  CHECK(sl_ledger_run_add(l, &r1, &err) == SL_OK && sl_ledger_run_add(l, &r2, &err) == SL_OK && r2.id == r1.id + 1,
        "two runs");
  int64_t a = -1, b = -1, c = -1, x = -1;
  CHECK(sl_ledger_seq_add(l, r1.id, "ACDE", SL_ORIGIN_SAMPLED, 1, -1, &a, &err) == SL_OK &&
        sl_ledger_seq_add(l, r1.id, "ACDF", SL_ORIGIN_SAMPLED, 1, -1, &b, &err) == SL_OK &&
        sl_ledger_seq_add(l, r1.id, "ACDG", SL_ORIGIN_SAMPLED, 2, -1, &c, &err) == SL_OK &&
        sl_ledger_seq_add(l, r2.id, "ACDE", SL_ORIGIN_SAMPLED, 1, -1, &x, &err) == SL_OK && a < b && b < c && x != a,
        "sequences in both runs");
  /* Written out of order, to see that the reads are ordered. 0.1 and -1e-300
   * are not exact in decimal: the round trip is bit-exact (REAL). */
  const double lq_b = log(0.1), lq_a = -1e-300, lq_bc = -12.345678901234567;
  CHECK(sl_ledger_begin(l, &err) == SL_OK, "begin");
  CHECK(sl_ledger_draw_add(l, b, 1, "train", 2, lq_b, &err) == SL_OK && sl_ledger_draw_add(l, a, 1, "train", 5, lq_a, &err) == SL_OK &&
        sl_ledger_draw_add(l, b, 1, "cal", 1, lq_b, &err) == SL_OK && sl_ledger_draw_add(l, b, 2, "train", 7, lq_bc, &err) == SL_OK &&
        sl_ledger_draw_add(l, c, 2, "cal", 4, lq_bc, &err) == SL_OK && sl_ledger_draw_add(l, x, 1, "train", 9, 0.0, &err) == SL_OK,
        "six draws in two runs and two rounds");
  CHECK(sl_ledger_commit(l, &err) == SL_OK, "commit");

  sl_ledger_draws d;
  CHECK(sl_ledger_draws_get(l, r1.id, 1, &d, &err) == SL_OK && d.n == 3, "run 1 round 1: three rows (%lld)", (long long)d.n);
  CHECK(d.n == 3 && d.seq[0] == a && !d.cal[0] && d.count[0] == 5 && d.logq[0] == lq_a &&
        d.seq[1] == b && d.cal[1] && d.count[1] == 1 && d.logq[1] == lq_b &&
        d.seq[2] == b && !d.cal[2] && d.count[2] == 2 && d.logq[2] == lq_b,
        "ordered by sequence, then 'cal' before 'train'; counts and logq exact");
  sl_ledger_draws_free(&d);
  CHECK(sl_ledger_draws_get(l, r1.id, 2, &d, &err) == SL_OK && d.n == 2 && d.seq[0] == b && !d.cal[0] && d.count[0] == 7 &&
        d.logq[0] == lq_bc && d.seq[1] == c && d.cal[1] && d.count[1] == 4, "run 1 round 2: its two rows");
  sl_ledger_draws_free(&d);
  CHECK(sl_ledger_draws_get(l, r2.id, 1, &d, &err) == SL_OK && d.n == 1 && d.seq[0] == x && d.count[0] == 9 && d.logq[0] == 0.0,
        "run 2 round 1: only run 2's row (the same sequence text in run 1 is another id)");
  sl_ledger_draws_free(&d);
  CHECK(sl_ledger_draws_get(l, r2.id, 2, &d, &err) == SL_OK && d.n == 0, "run 2 round 2: none");
  sl_ledger_draws_free(&d);
  CHECK(sl_ledger_draws_get(l, r1.id, 3, &d, &err) == SL_OK && d.n == 0, "a round without draws: none");
  sl_ledger_draws_free(&d);

  char *before = export_text(l, 0);
  char expect[512];
  snprintf(expect, sizeof expect, "# table: draws\nseq,round,part,count,logq\n%lld,1,train,5,%.17g\n%lld,1,cal,1,%.17g\n"
           "%lld,1,train,2,%.17g\n%lld,2,train,7,%.17g\n%lld,2,cal,4,%.17g\n%lld,1,train,9,0\n",
           (long long)a, lq_a, (long long)b, lq_b, (long long)b, lq_b, (long long)b, lq_bc, (long long)c, lq_bc, (long long)x);
  CHECK(before && strstr(before, expect), "CSV export of draws ordered by seq, round, part, logq with 17 digits:\n%s",
        before ? strstr(before, "# table: draws") : "(error)");
  char *json = NULL;
  CHECK(sl_ledger_export_json(l, &json, 0, &err) == SL_OK && json && strstr(json, "\"schema_version\":\t5") &&
        strstr(json, "\"part\":\t\"cal\"") && strstr(json, "\"count\":\t7"), "the JSON export: schema 5, the draws rows");
  free(json);

  int st = sl_ledger_draw_add(l, a, 1, "test", 1, 0.0, &err);
  CHECK(st == SL_EUSAGE && strstr(err.msg, "'test'") && strstr(err.msg, "'train' or 'cal'"), "a bad part is a usage error naming it: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, NULL, 1, 0.0, &err);
  CHECK(st == SL_EUSAGE, "a NULL part is a usage error: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, "cal", 0, 0.0, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "count 0"), "count 0 is refused: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, "cal", -3, 0.0, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "count -3"), "a negative count is refused: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, "cal", 1, NAN, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "not finite"), "a NaN logq is refused: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, "cal", 1, -INFINITY, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "not finite"), "a -inf logq (a draw of probability 0) is refused: %s", err.msg);
  st = sl_ledger_draw_add(l, a, 1, "train", 1, lq_a, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "never counted twice") && strstr(err.msg, "'train'"),
        "a second (seq, round, part) row is refused (no replace): %s", err.msg);
  st = sl_ledger_draw_add(l, 999, 1, "train", 1, 0.0, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "no such sequence"), "a draw of an unknown sequence is refused: %s", err.msg);
  char *after = export_text(l, 0);
  CHECK(before && after && !strcmp(before, after), "the refused draws leave the ledger unchanged");
  CHECK(count_rows(path, "SELECT count(*) FROM draws") == 6 && count_rows(path, "SELECT count FROM draws WHERE seq = 1 AND part = 'train'") == 5,
        "six rows on disk, the first draw's count kept");
  /* The schema itself refuses what the API checks (another writer cannot
   * store a part or count the API would refuse). */
  CHECK(exec_sql(path, "INSERT INTO draws VALUES (1, 5, 'test', 1, 0.0)") == SQLITE_CONSTRAINT &&
        exec_sql(path, "INSERT INTO draws VALUES (1, 5, 'cal', 0, 0.0)") == SQLITE_CONSTRAINT &&
        exec_sql(path, "INSERT INTO draws VALUES (1, 5, 'cal', 1, NULL)") == SQLITE_CONSTRAINT,
        "CHECK and NOT NULL constraints in the table");
  free(before);
  free(after);
  free(r1.created);
  free(r2.created);
  sl_ledger_close(l);
}

int main(void) {
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_basic();
  test_migration();
  test_migration_v3();
  test_migration_v4();
  test_migration_v5();
  test_draws();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return TAP_DONE();
}
