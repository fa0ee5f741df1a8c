/* ledger.c: the SQLite experiment ledger and its schema migrations.
 *
 * Contents
 *   1. schema: the migrations, applied in order from PRAGMA user_version
 *   2. open/close, transactions
 *   3. runs, rounds, round statistics
 *   4. sequences, predictions, measurements, draws
 *   5. export (one CSV per table, or one JSON document)
 *
 * Why SQLite: one file, transactions that survive kill -9 and power loss,
 * UNIQUE constraints that make double counting impossible rather than
 * unlikely, and a format every language can read. The system library
 * (Debian's libsqlite3) is used, not an amalgamation copy.
 *
 * Why synchronous = FULL rather than NORMAL: in WAL mode NORMAL is already
 * safe against a killed process, but a power cut can lose the last commits.
 * A design round is expensive (an experiment), its commit is one fsync; the
 * difference in speed is invisible, so the safer setting wins.
 *
 * Rejected: storing values as text (loses bit-exact doubles; REAL is an
 * IEEE double), and one table per round (queries across rounds become
 * unions).
 */
#include <assert.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "seqloop/ledger.h"

struct sl_ledger {
  sqlite3 *db;
  char *path;
  int version;
  int in_tx;
};

/* ---- 1. schema -------------------------------------------------------------
 * migrations[v] takes a ledger from version v to v + 1. Never edit a
 * migration that has shipped: add a new one. */
static const char *const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  created TEXT NOT NULL,"
  "  cmdline TEXT NOT NULL,"
  "  options TEXT NOT NULL,"
  "  seed INTEGER NOT NULL,"
  "  version TEXT NOT NULL,"
  "  inputs TEXT NOT NULL DEFAULT '{}');"
  "CREATE TABLE rounds ("
  "  run INTEGER NOT NULL REFERENCES runs(id),"
  "  k INTEGER NOT NULL,"
  "  status TEXT NOT NULL CHECK (status IN ('proposed', 'done')),"
  "  summary TEXT NOT NULL DEFAULT '{}',"
  "  PRIMARY KEY (run, k));"
  "CREATE TABLE sequences ("
  "  id INTEGER PRIMARY KEY,"
  "  run INTEGER NOT NULL REFERENCES runs(id),"
  "  seq TEXT NOT NULL,"
  "  origin TEXT NOT NULL CHECK (origin IN ('natural', 'sampled', 'designed')),"
  "  round INTEGER NOT NULL,"
  "  parent INTEGER REFERENCES sequences(id),"
  "  UNIQUE (run, seq));"
  "CREATE TABLE predictions ("
  "  seq INTEGER NOT NULL REFERENCES sequences(id),"
  "  round INTEGER NOT NULL,"
  "  predictor TEXT NOT NULL,"
  "  mean REAL NOT NULL,"
  "  sd REAL NOT NULL,"
  "  PRIMARY KEY (seq, round, predictor));"
  "CREATE TABLE measurements ("
  "  id INTEGER PRIMARY KEY,"
  "  seq INTEGER NOT NULL REFERENCES sequences(id),"
  "  oracle TEXT NOT NULL,"
  "  value REAL,"
  "  time TEXT NOT NULL,"
  "  UNIQUE (seq, oracle));",
  /* 1 -> 2: measurements learn their round (v1 rows get the round of their
   * sequence: the only round they could have been made in); per-round
   * statistics get a table of their own. */
  "ALTER TABLE measurements ADD COLUMN round INTEGER NOT NULL DEFAULT -1;"
  "UPDATE measurements SET round = (SELECT s.round FROM sequences s WHERE s.id = measurements.seq);"
  "CREATE TABLE round_stats ("
  "  run INTEGER NOT NULL REFERENCES runs(id),"
  "  k INTEGER NOT NULL,"
  "  name TEXT NOT NULL,"
  "  value REAL,"
  "  PRIMARY KEY (run, k, name));",
  /* 2 -> 3: conformal intervals, one row per prediction and method; NULL
   * bounds are unbounded (too few calibration points for alpha). */
  "CREATE TABLE intervals ("
  "  seq INTEGER NOT NULL REFERENCES sequences(id),"
  "  round INTEGER NOT NULL,"
  "  predictor TEXT NOT NULL,"
  "  method TEXT NOT NULL,"
  "  alpha REAL NOT NULL,"
  "  lower REAL,"
  "  upper REAL,"
  "  PRIMARY KEY (seq, round, predictor, method, alpha));",
  /* 3 -> 4: replicate measurements. A measurement is UNIQUE per (sequence,
   * oracle, replicate): replicates are numbered 0, 1, ... and still nothing
   * is counted twice. SQLite cannot drop a UNIQUE constraint in place, so
   * the table is rebuilt (ids kept; every v3 row is replicate 0). */
  "CREATE TABLE measurements_v4 ("
  "  id INTEGER PRIMARY KEY,"
  "  seq INTEGER NOT NULL REFERENCES sequences(id),"
  "  oracle TEXT NOT NULL,"
  "  value REAL,"
  "  time TEXT NOT NULL,"
  "  round INTEGER NOT NULL DEFAULT -1,"
  "  replicate INTEGER NOT NULL DEFAULT 0 CHECK (replicate >= 0),"
  "  UNIQUE (seq, oracle, replicate));"
  "INSERT INTO measurements_v4 (id, seq, oracle, value, time, round, replicate) "
  "  SELECT id, seq, oracle, value, time, round, 0 FROM measurements;"
  "DROP TABLE measurements;"
  "ALTER TABLE measurements_v4 RENAME TO measurements;",
  /* 4 -> 5: sampled batches. A round whose batch is drawn i.i.d. (with
   * replacement) from a known query density records each distinct sequence
   * once per part of the batch ('train' or 'cal'), with how many times it
   * was drawn and its log query density: what an importance-weighted
   * estimate needs, and what the distinct sequences alone lose. The key
   * makes a second row for one draw impossible (never counted twice).
   * Nothing to fill in: older campaigns sampled no batches. */
  "CREATE TABLE draws ("
  "  seq INTEGER NOT NULL REFERENCES sequences(id),"
  "  round INTEGER NOT NULL,"
  "  part TEXT NOT NULL CHECK (part IN ('train', 'cal')),"
  "  count INTEGER NOT NULL CHECK (count >= 1),"
  "  logq REAL NOT NULL,"
  "  PRIMARY KEY (seq, round, part));",
};

static int db_fail(sl_ledger *l, sl_error *err, int status, const char *what) {
  return sl_fail(err, status, "%s: ledger: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

static int exec(sl_ledger *l, const char *sql, sl_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int st = sl_fail(err, SL_EIO, "%s: ledger: %s", l->path, msg ? msg : "SQL error");
    sqlite3_free(msg);
    return st;
  }
  return SL_OK;
}

static int prepare(sl_ledger *l, const char *sql, sqlite3_stmt **st, sl_error *err) {
  if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK)
    return db_fail(l, err, SL_EINTERNAL, "prepare");
  return SL_OK;
}

static int read_version(sl_ledger *l, int *ret, sl_error *err) {
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "PRAGMA user_version", &st, err);
  if (status) return status;
  if (sqlite3_step(st) != SQLITE_ROW) {
    /* Not a database at all ("file is not a database") shows up here. */
    status = db_fail(l, err, SL_EIO, "not a readable SQLite ledger");
    sqlite3_finalize(st);
    return status;
  }
  *ret = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return SL_OK;
}

/* Migrate from the current version up to target, all in one transaction:
 * an interrupted migration leaves the old version intact. */
static int migrate(sl_ledger *l, int target, sl_error *err) {
  int v, status;
  if ((status = read_version(l, &v, err))) return status;
  if (v > SL_LEDGER_SCHEMA)
    return sl_fail(err, SL_EINPUT, "%s: ledger schema version %d is newer than this seqloop "
                   "(%d); upgrade seqloop", l->path, v, SL_LEDGER_SCHEMA);
  if (v >= target) { l->version = v; return SL_OK; }
  if ((status = exec(l, "BEGIN IMMEDIATE", err))) return status;
  /* Read again under the write lock: another process may have migrated
   * (or created) the ledger between the first read and the lock; two
   * campaigns started at once on a new file used to both run migration 1
   * ("table runs already exists"). */
  if ((status = read_version(l, &v, err))) goto ERROR;
  if (v > SL_LEDGER_SCHEMA) {
    status = sl_fail(err, SL_EINPUT, "%s: ledger schema version %d is newer than this seqloop (%d); upgrade seqloop",
                     l->path, v, SL_LEDGER_SCHEMA);
    goto ERROR;
  }
  for (; v < target; v++) {
    char pragma[64];
    if ((status = exec(l, migrations[v], err))) goto ERROR;
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
    if ((status = exec(l, pragma, err))) goto ERROR;
  }
  if ((status = exec(l, "COMMIT", err))) goto ERROR;
  l->version = target;
  return SL_OK;
ERROR:
  sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  return status;
}

/* ---- 2. open/close, transactions ------------------------------------------ */
/* Switch a new ledger to WAL. Changing the journal mode takes an exclusive
 * lock without calling the busy handler, so two processes creating one
 * ledger at once could get "database is locked" here (1 start in 5 in a
 * loop of tests/e2e/reliability_oracle.sh); retry for as long as the busy
 * timeout would have waited. */
static int set_wal(sl_ledger *l, sl_error *err) {
  for (int k = 0;; k++) {
    int rc = sqlite3_exec(l->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK) return SL_OK;
    if (rc != SQLITE_BUSY || k >= 1000) return exec(l, "PRAGMA journal_mode = WAL", err); /* its message */
    struct timespec ts = {0, 10 * 1000 * 1000}; /* 10 ms, up to 10 s in all */
    nanosleep(&ts, NULL);
  }
}

static int open_at(const char *path, int target, sl_ledger **ret_l, sl_error *err) {
  sl_ledger *l = calloc(1, sizeof *l);
  int status;
  *ret_l = NULL;
  if (!l || !(l->path = sl_strdup(path))) { free(l); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    status = sl_fail(err, SL_EIO, "%s: cannot open ledger: %s", path,
                     l->db ? sqlite3_errmsg(l->db) : "out of memory");
    goto ERROR;
  }
  sqlite3_busy_timeout(l->db, 10000);
  sqlite3_extended_result_codes(l->db, 0);
  if ((status = read_version(l, &l->version, err))) goto ERROR;
  if ((status = set_wal(l, err))) goto ERROR;
  if ((status = exec(l, "PRAGMA synchronous = FULL", err))) goto ERROR;
  if ((status = exec(l, "PRAGMA foreign_keys = ON", err))) goto ERROR;
  if ((status = migrate(l, target, err))) goto ERROR;
  *ret_l = l;
  return SL_OK;
ERROR:
  sl_ledger_close(l);
  return status;
}

/* path as an SQLite URI filename: '?', '#' and '%' percent-encoded. */
static char *uri_of(const char *path, const char *query) {
  size_t n = strlen(path), k = 0;
  char *u = malloc(3 * n + strlen(query) + 16);
  if (!u) return NULL;
  k += (size_t)sprintf(u, "file:");
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)path[i];
    if (ch == '?' || ch == '#' || ch == '%') k += (size_t)sprintf(u + k, "%%%02X", ch);
    else u[k++] = (char)ch;
  }
  sprintf(u + k, "?%s", query);
  return u;
}

int sl_ledger_open_readonly(const char *path, sl_ledger **ret_l, sl_error *err) {
  sl_ledger *l = calloc(1, sizeof *l);
  int status = SL_OK;
  *ret_l = NULL;
  if (!l || !(l->path = sl_strdup(path))) { free(l); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  /* mode=ro first: it reads a write-ahead log left by a killed writer. On
   * read-only storage a WAL ledger cannot create its -shm index; then, if no
   * log is pending (a ledger closed cleanly has none), immutable=1 reads
   * the main file alone, which then holds every commit. */
  for (int attempt = 0; attempt < 2; attempt++) {
    char *uri = uri_of(path, attempt ? "mode=ro&immutable=1" : "mode=ro");
    if (!uri) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto ERROR; }
    int rc = sqlite3_open_v2(uri, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    sl_error e2;
    sl_error_clear(&e2);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(l->db, 10000);
      if (read_version(l, &l->version, &e2) == SL_OK) break;
    }
    if (attempt == 1) {
      status = sl_fail(err, SL_EIO, "%s: cannot open the ledger read-only: %s", path,
                       e2.msg[0] ? e2.msg : l->db ? sqlite3_errmsg(l->db) : "out of memory");
      goto ERROR;
    }
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    FILE *fp = fopen(wal, "rb");
    long wal_len = 0;
    if (fp) { fseek(fp, 0, SEEK_END); wal_len = ftell(fp); fclose(fp); }
    if (wal_len > 0) {
      status = sl_fail(err, SL_EIO, "%s: the ledger has a pending write-ahead log (%s) that cannot be read on this "
                       "storage (%s); copy the ledger and its -wal file to writable storage", path, wal,
                       e2.msg[0] ? e2.msg : sqlite3_errmsg(l->db));
      goto ERROR;
    }
    sqlite3_close(l->db);
    l->db = NULL;
  }
  if (l->version > SL_LEDGER_SCHEMA) {
    status = sl_fail(err, SL_EINPUT, "%s: ledger schema version %d is newer than this seqloop (%d); upgrade seqloop",
                     path, l->version, SL_LEDGER_SCHEMA);
    goto ERROR;
  }
  *ret_l = l;
  return SL_OK;
ERROR:
  sl_ledger_close(l);
  return status;
}

int sl_ledger_open(const char *path, sl_ledger **ret_l, sl_error *err) {
  return open_at(path, SL_LEDGER_SCHEMA, ret_l, err);
}

int sl_ledger_migrate_to(const char *path, int version, sl_error *err) {
  if (version < 1 || version > SL_LEDGER_SCHEMA)
    return sl_fail(err, SL_EUSAGE, "ledger schema version %d: expected 1..%d", version, SL_LEDGER_SCHEMA);
  sl_ledger *l = NULL;
  int status = open_at(path, version, &l, err);
  sl_ledger_close(l);
  return status;
}

void sl_ledger_close(sl_ledger *l) {
  if (!l) return;
  if (l->in_tx) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(l->db);
  free(l->path);
  free(l);
}

int sl_ledger_version(const sl_ledger *l) { return l->version; }

int sl_ledger_begin(sl_ledger *l, sl_error *err) {
  if (l->in_tx) return sl_fail(err, SL_EINTERNAL, "%s: ledger: nested transaction", l->path);
  int status = exec(l, "BEGIN IMMEDIATE", err);
  if (!status) l->in_tx = 1;
  return status;
}

int sl_ledger_commit(sl_ledger *l, sl_error *err) {
  if (!l->in_tx) return sl_fail(err, SL_EINTERNAL, "%s: ledger: commit without begin", l->path);
  int status = exec(l, "COMMIT", err);
  if (status) sl_ledger_rollback(l);
  l->in_tx = 0;
  return status;
}

void sl_ledger_rollback(sl_ledger *l) {
  if (!l || !l->in_tx) return;
  sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  l->in_tx = 0;
}

/* ---- 3. runs, rounds -------------------------------------------------------- */
static char *col_text(sqlite3_stmt *st, int c) {
  const unsigned char *t = sqlite3_column_text(st, c);
  return sl_strdup(t ? (const char *)t : "");
}

void sl_ledger_run_free(sl_ledger_run *r) {
  if (!r) return;
  free(r->created); free(r->cmdline); free(r->options_json); free(r->version); free(r->inputs_json);
  memset(r, 0, sizeof *r);
}

static void now_iso(char buf[32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sl_ledger_run_add(sl_ledger *l, sl_ledger_run *r, sl_error *err) {
  sqlite3_stmt *st = NULL;
  char now[32];
  int status = prepare(l, "INSERT INTO runs (created, cmdline, options, seed, version, inputs) "
                          "VALUES (?, ?, ?, ?, ?, ?)", &st, err);
  if (status) return status;
  now_iso(now);
  sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, r->cmdline ? r->cmdline : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, r->options_json ? r->options_json : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)r->seed);
  sqlite3_bind_text(st, 5, r->version ? r->version : SL_VERSION, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, r->inputs_json ? r->inputs_json : "{}", -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "adding a run");
  sqlite3_finalize(st);
  if (status) return status;
  r->id = sqlite3_last_insert_rowid(l->db);
  free(r->created);
  r->created = sl_strdup(now);
  return SL_OK;
}

int sl_ledger_run_last(sl_ledger *l, sl_ledger_run *ret_r, int *ret_found, sl_error *err) {
  sqlite3_stmt *st = NULL;
  memset(ret_r, 0, sizeof *ret_r);
  *ret_found = 0;
  int status = prepare(l, "SELECT id, created, cmdline, options, seed, version, inputs FROM runs "
                          "ORDER BY id DESC LIMIT 1", &st, err);
  if (status) return status;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    ret_r->id = sqlite3_column_int64(st, 0);
    ret_r->created = col_text(st, 1);
    ret_r->cmdline = col_text(st, 2);
    ret_r->options_json = col_text(st, 3);
    ret_r->seed = (uint64_t)sqlite3_column_int64(st, 4);
    ret_r->version = col_text(st, 5);
    ret_r->inputs_json = col_text(st, 6);
    *ret_found = 1;
    if (!ret_r->created || !ret_r->cmdline || !ret_r->options_json || !ret_r->version || !ret_r->inputs_json) {
      sl_ledger_run_free(ret_r);
      status = sl_fail(err, SL_ENOMEM, "out of memory");
    }
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "reading runs");
  }
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_round_set(sl_ledger *l, int64_t run, int64_t k, const char *status_text,
                        const char *summary_json, sl_error *err) {
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "INSERT INTO rounds (run, k, status, summary) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT (run, k) DO UPDATE SET status = excluded.status, "
                          "summary = excluded.summary", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, k);
  sqlite3_bind_text(st, 3, status_text, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, summary_json ? summary_json : "{}", -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "writing a round");
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_round_last(sl_ledger *l, int64_t run, int64_t *ret_k, char *status_text, sl_error *err) {
  sqlite3_stmt *st = NULL;
  *ret_k = -1;
  status_text[0] = '\0';
  int status = prepare(l, "SELECT k, status FROM rounds WHERE run = ? ORDER BY k DESC LIMIT 1", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *ret_k = sqlite3_column_int64(st, 0);
    const unsigned char *t = sqlite3_column_text(st, 1);
    snprintf(status_text, 16, "%s", t ? (const char *)t : "");
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "reading rounds");
  }
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_round_stat(sl_ledger *l, int64_t run, int64_t k, const char *name, double value,
                         sl_error *err) {
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "INSERT OR REPLACE INTO round_stats (run, k, name, value) VALUES (?, ?, ?, ?)",
                       &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, k);
  sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
  if (isfinite(value)) sqlite3_bind_double(st, 4, value);
  else sqlite3_bind_null(st, 4);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "writing a round statistic");
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_round_stat_get(sl_ledger *l, int64_t run, int64_t k, const char *name,
                             double *ret_value, sl_error *err) {
  sqlite3_stmt *st = NULL;
  *ret_value = NAN;
  int status = prepare(l, "SELECT value FROM round_stats WHERE run = ? AND k = ? AND name = ?", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, k);
  sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) *ret_value = sqlite3_column_double(st, 0);
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "reading a round statistic");
  }
  sqlite3_finalize(st);
  return status;
}

/* ---- 4. sequences, predictions, measurements ---------------------------------- */
const char *sl_ledger_origin_name(int origin) {
  switch (origin) {
    case SL_ORIGIN_NATURAL: return "natural";
    case SL_ORIGIN_SAMPLED: return "sampled";
    case SL_ORIGIN_DESIGNED: return "designed";
    default: return "?";
  }
}

static int origin_parse(const char *s) {
  if (strcmp(s, "natural") == 0) return SL_ORIGIN_NATURAL;
  if (strcmp(s, "sampled") == 0) return SL_ORIGIN_SAMPLED;
  return SL_ORIGIN_DESIGNED;
}

int sl_ledger_seq_find(sl_ledger *l, int64_t run, const char *seq, int64_t *ret_id, sl_error *err) {
  sqlite3_stmt *st = NULL;
  *ret_id = -1;
  int status = prepare(l, "SELECT id FROM sequences WHERE run = ? AND seq = ?", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_text(st, 2, seq, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *ret_id = sqlite3_column_int64(st, 0);
  else if (rc != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "finding a sequence");
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_seq_add(sl_ledger *l, int64_t run, const char *seq, int origin, int64_t round,
                      int64_t parent, int64_t *ret_id, sl_error *err) {
  int status = sl_ledger_seq_find(l, run, seq, ret_id, err);
  if (status || *ret_id >= 0) return status;
  sqlite3_stmt *st = NULL;
  if ((status = prepare(l, "INSERT INTO sequences (run, seq, origin, round, parent) VALUES (?, ?, ?, ?, ?)",
                        &st, err)))
    return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_text(st, 2, seq, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, sl_ledger_origin_name(origin), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, round);
  if (parent >= 0) sqlite3_bind_int64(st, 5, parent);
  else sqlite3_bind_null(st, 5);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "adding a sequence");
  else *ret_id = sqlite3_last_insert_rowid(l->db);
  sqlite3_finalize(st);
  return status;
}

void sl_ledger_seqs_free(sl_ledger_seqs *s) {
  if (!s) return;
  for (int64_t k = 0; k < s->n; k++) free(s->seq[k]);
  free(s->id); free(s->seq); free(s->origin); free(s->round); free(s->value); free(s->measured); free(s->nval);
  memset(s, 0, sizeof *s);
}

/* One row per (sequence, replicate measurement) in id and replicate order;
 * consecutive rows of one sequence are folded into its mean in C, in
 * replicate order, so the mean is the same bytes on every platform (a
 * single measurement is its own mean exactly). */
int sl_ledger_seqs_get(sl_ledger *l, int64_t run, const char *oracle, sl_ledger_seqs *ret,
                       sl_error *err) {
  sqlite3_stmt *st = NULL;
  int64_t cap = 0;
  memset(ret, 0, sizeof *ret);
  const char *sql = l->version >= 4
      ? "SELECT s.id, s.seq, s.origin, s.round, m.id, m.value FROM sequences s "
        "LEFT JOIN measurements m ON m.seq = s.id AND m.oracle = ? "
        "WHERE s.run = ? ORDER BY s.id, m.replicate"
      : "SELECT s.id, s.seq, s.origin, s.round, m.id, m.value FROM sequences s "
        "LEFT JOIN measurements m ON m.seq = s.id AND m.oracle = ? "
        "WHERE s.run = ? ORDER BY s.id";
  int status = prepare(l, sql, &st, err);
  if (status) return status;
  sqlite3_bind_text(st, 1, oracle ? oracle : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, run);
  int rc;
  double sum = 0.0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(st, 0);
    const int has_row = sqlite3_column_type(st, 4) != SQLITE_NULL, has_val = sqlite3_column_type(st, 5) != SQLITE_NULL;
    const double v = has_val ? sqlite3_column_double(st, 5) : 0.0;
    if (ret->n > 0 && ret->id[ret->n - 1] == id) { /* another replicate of the last sequence */
      int64_t k = ret->n - 1;
      ret->measured[k] += has_row;
      if (has_val) { sum += v; ret->nval[k]++; ret->value[k] = sum / ret->nval[k]; }
      continue;
    }
    if (ret->n == cap) {
      cap = cap ? 2 * cap : 256;
      int64_t *idp = sl_realloc(ret->id, (size_t)cap, sizeof *idp);
      if (idp) ret->id = idp;
      char **sq = sl_realloc(ret->seq, (size_t)cap, sizeof *sq);
      if (sq) ret->seq = sq;
      int *og = sl_realloc(ret->origin, (size_t)cap, sizeof *og);
      if (og) ret->origin = og;
      int64_t *rd = sl_realloc(ret->round, (size_t)cap, sizeof *rd);
      if (rd) ret->round = rd;
      double *vv = sl_realloc(ret->value, (size_t)cap, sizeof *vv);
      if (vv) ret->value = vv;
      int *ms = sl_realloc(ret->measured, (size_t)cap, sizeof *ms);
      if (ms) ret->measured = ms;
      int *nv = sl_realloc(ret->nval, (size_t)cap, sizeof *nv);
      if (nv) ret->nval = nv;
      if (!idp || !sq || !og || !rd || !vv || !ms || !nv) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    }
    int64_t k = ret->n;
    ret->id[k] = id;
    if (!(ret->seq[k] = col_text(st, 1))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    ret->origin[k] = origin_parse((const char *)sqlite3_column_text(st, 2));
    ret->round[k] = sqlite3_column_int64(st, 3);
    ret->measured[k] = has_row;
    ret->nval[k] = has_val;
    sum = v;
    ret->value[k] = has_val ? v : NAN;
    ret->n++;
  }
  if (!status && rc != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "reading sequences");
  sqlite3_finalize(st);
  if (status) sl_ledger_seqs_free(ret);
  return status;
}

int sl_ledger_prediction_add(sl_ledger *l, int64_t seq_id, int64_t round, const char *predictor,
                             double mean, double sd, sl_error *err) {
  if (!isfinite(mean) || !isfinite(sd))
    return sl_fail(err, SL_EINTERNAL, "%s: ledger: prediction of sequence %lld is not finite",
                   l->path, (long long)seq_id);
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "INSERT OR REPLACE INTO predictions (seq, round, predictor, mean, sd) "
                          "VALUES (?, ?, ?, ?, ?)", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_int64(st, 2, round);
  sqlite3_bind_text(st, 3, predictor, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 4, mean);
  sqlite3_bind_double(st, 5, sd);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "adding a prediction");
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_prediction_get(sl_ledger *l, int64_t seq_id, int64_t round, double *ret_mean,
                             double *ret_sd, int *ret_found, sl_error *err) {
  sqlite3_stmt *st = NULL;
  *ret_found = 0;
  int status = prepare(l, "SELECT mean, sd FROM predictions WHERE seq = ? AND round = ? "
                          "ORDER BY predictor LIMIT 1", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_int64(st, 2, round);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *ret_mean = sqlite3_column_double(st, 0);
    *ret_sd = sqlite3_column_double(st, 1);
    *ret_found = 1;
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "reading a prediction");
  }
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_measurement_add(sl_ledger *l, int64_t seq_id, const char *oracle, double value,
                              int64_t round, sl_error *err) {
  return sl_ledger_measurement_add_rep(l, seq_id, oracle, value, round, 0, err);
}

int sl_ledger_measurement_add_rep(sl_ledger *l, int64_t seq_id, const char *oracle, double value,
                                  int64_t round, int replicate, sl_error *err) {
  if (isinf(value))
    return sl_fail(err, SL_EINPUT, "%s: ledger: measurement of sequence %lld is infinite",
                   l->path, (long long)seq_id);
  if (replicate < 0)
    return sl_fail(err, SL_EINTERNAL, "%s: ledger: replicate %d of sequence %lld is negative", l->path, replicate,
                   (long long)seq_id);
  sqlite3_stmt *st = NULL;
  char now[32];
  int status = prepare(l, "INSERT INTO measurements (seq, oracle, value, time, round, replicate) "
                          "VALUES (?, ?, ?, ?, ?, ?)", &st, err);
  if (status) return status;
  now_iso(now);
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_text(st, 2, oracle, -1, SQLITE_STATIC);
  if (isnan(value)) sqlite3_bind_null(st, 3);
  else sqlite3_bind_double(st, 3, value);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, round);
  sqlite3_bind_int(st, 6, replicate);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_CONSTRAINT) {
    if (replicate == 0)
      status = sl_fail(err, SL_EINPUT, "%s: ledger: sequence %lld already has a measurement by "
                       "oracle '%s' (a measurement is never counted twice)", l->path,
                       (long long)seq_id, oracle);
    else
      status = sl_fail(err, SL_EINPUT, "%s: ledger: sequence %lld already has replicate %d by oracle '%s' "
                       "(a measurement is never counted twice)", l->path, (long long)seq_id, replicate, oracle);
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "adding a measurement");
  }
  sqlite3_finalize(st);
  return status;
}

/* Checked here rather than left to the CHECK constraints so that the caller
 * gets a message naming the value, and nothing is written on bad input. */
int sl_ledger_draw_add(sl_ledger *l, int64_t seq_id, int64_t round, const char *part, int64_t count, double logq,
                       sl_error *err) {
  if (!part || (strcmp(part, "train") != 0 && strcmp(part, "cal") != 0))
    return sl_fail(err, SL_EUSAGE, "%s: ledger: draw part '%s' of sequence %lld: expected 'train' or 'cal'", l->path,
                   part ? part : "(null)", (long long)seq_id);
  if (count < 1)
    return sl_fail(err, SL_EINPUT, "%s: ledger: draw count %lld of sequence %lld: expected >= 1", l->path,
                   (long long)count, (long long)seq_id);
  if (!isfinite(logq))
    return sl_fail(err, SL_EINPUT, "%s: ledger: log query density of sequence %lld is not finite (%g)", l->path,
                   (long long)seq_id, logq);
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "INSERT INTO draws (seq, round, part, count, logq) VALUES (?, ?, ?, ?, ?)", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_int64(st, 2, round);
  sqlite3_bind_text(st, 3, part, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, count);
  sqlite3_bind_double(st, 5, logq);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(l->db) == SQLITE_CONSTRAINT_FOREIGNKEY) {
    status = sl_fail(err, SL_EINPUT, "%s: ledger: draw of sequence %lld: no such sequence in the ledger", l->path,
                     (long long)seq_id);
  } else if (rc == SQLITE_CONSTRAINT) {
    status = sl_fail(err, SL_EINPUT, "%s: ledger: sequence %lld already has a '%s' draw row in round %lld (a draw "
                     "is never counted twice)", l->path, (long long)seq_id, part, (long long)round);
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "adding a draw");
  }
  sqlite3_finalize(st);
  return status;
}

void sl_ledger_draws_free(sl_ledger_draws *d) {
  if (!d) return;
  free(d->seq); free(d->cal); free(d->count); free(d->logq);
  memset(d, 0, sizeof *d);
}

int sl_ledger_draws_get(sl_ledger *l, int64_t run, int64_t round, sl_ledger_draws *ret, sl_error *err) {
  memset(ret, 0, sizeof *ret);
  if (l->version < 5) return SL_OK; /* an older ledger opened read-only: no draws table, no draws */
  sqlite3_stmt *st = NULL;
  int64_t cap = 0;
  int status = prepare(l, "SELECT d.seq, d.part, d.count, d.logq FROM draws d JOIN sequences s ON s.id = d.seq "
                          "WHERE s.run = ? AND d.round = ? ORDER BY d.seq, d.part", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, round);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (ret->n == cap) {
      cap = cap ? 2 * cap : 256;
      int64_t *sq = sl_realloc(ret->seq, (size_t)cap, sizeof *sq);
      if (sq) ret->seq = sq;
      int *ca = sl_realloc(ret->cal, (size_t)cap, sizeof *ca);
      if (ca) ret->cal = ca;
      int64_t *ct = sl_realloc(ret->count, (size_t)cap, sizeof *ct);
      if (ct) ret->count = ct;
      double *lq = sl_realloc(ret->logq, (size_t)cap, sizeof *lq);
      if (lq) ret->logq = lq;
      if (!sq || !ca || !ct || !lq) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    }
    const unsigned char *part = sqlite3_column_text(st, 1);
    int64_t k = ret->n++;
    ret->seq[k] = sqlite3_column_int64(st, 0);
    ret->cal[k] = part && !strcmp((const char *)part, "cal");
    ret->count[k] = sqlite3_column_int64(st, 2);
    ret->logq[k] = sqlite3_column_double(st, 3);
  }
  if (!status && rc != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "reading draws");
  sqlite3_finalize(st);
  if (status) sl_ledger_draws_free(ret);
  return status;
}

/* ---- 5. export ------------------------------------------------------------------
 * One query per table; the column lists decide what is exported. */
typedef struct {
  const char *table;
  const char *sql;       /* without wall-clock columns */
  const char *sql_times; /* with them */
} export_table;

static const export_table tables[] = {
  {"runs", "SELECT id, cmdline, options, seed, version, inputs FROM runs ORDER BY id",
   "SELECT id, created, cmdline, options, seed, version, inputs FROM runs ORDER BY id"},
  {"rounds", "SELECT run, k, status, summary FROM rounds ORDER BY run, k", NULL},
  {"sequences", "SELECT id, run, seq, origin, round, parent FROM sequences ORDER BY id", NULL},
  {"predictions", "SELECT seq, round, predictor, mean, sd FROM predictions ORDER BY seq, round, predictor", NULL},
  {"measurements", "SELECT id, seq, oracle, value, round, replicate FROM measurements ORDER BY id",
   "SELECT id, seq, oracle, value, round, replicate, time FROM measurements ORDER BY id"},
  {"round_stats", "SELECT run, k, name, value FROM round_stats ORDER BY run, k, name", NULL},
  {"intervals", "SELECT seq, round, predictor, method, alpha, lower, upper FROM intervals "
                "ORDER BY seq, round, predictor, method, alpha", NULL},
  {"draws", "SELECT seq, round, part, count, logq FROM draws ORDER BY seq, round, part", NULL},
};

/* The query of table t. A ledger older than v4 opened read-only (it is not
 * migrated) has no replicate column: every measurement is replicate 0; one
 * older than v5 has no draws table: it exports the header alone (zero rows,
 * the same columns). */
static const char *table_sql(const sl_ledger *l, size_t t, int with_times) {
  if (l->version < 5 && !strcmp(tables[t].table, "draws"))
    return "SELECT NULL AS seq, NULL AS round, NULL AS part, NULL AS count, NULL AS logq WHERE 0";
  if (l->version < 4 && !strcmp(tables[t].table, "measurements"))
    return with_times ? "SELECT id, seq, oracle, value, round, 0 AS replicate, time FROM measurements ORDER BY id"
                      : "SELECT id, seq, oracle, value, round, 0 AS replicate FROM measurements ORDER BY id";
  return with_times && tables[t].sql_times ? tables[t].sql_times : tables[t].sql;
}

static void csv_field(FILE *fp, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) { fputs(s, fp); return; }
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"') fputc('"', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

int sl_ledger_export_tables(const char *const **ret_names) {
  static const char *const names[] = {"runs", "rounds", "sequences", "predictions", "measurements", "round_stats",
                                      "intervals", "draws"};
  static_assert(sizeof names / sizeof *names == sizeof tables / sizeof *tables, "one name per table");
  if (ret_names) *ret_names = names;
  return (int)(sizeof names / sizeof *names);
}

/* One table as CSV: a header row, then one row per record; NULL as an empty
 * cell, doubles with 17 significant digits (bit-exact), text quoted when it
 * holds a comma, quote or newline (RFC 4180). No comment lines: pandas and
 * R read it with no options. */
int sl_ledger_export_table_csv(sl_ledger *l, const char *table, FILE *fp, int with_times, sl_error *err) {
  size_t t = 0;
  while (t < sizeof tables / sizeof *tables && strcmp(tables[t].table, table) != 0) t++;
  if (t == sizeof tables / sizeof *tables)
    return sl_fail(err, SL_EUSAGE, "ledger: no table '%s' (runs, rounds, sequences, predictions, measurements, "
                   "round_stats, intervals, draws)", table);
  sqlite3_stmt *st = NULL;
  const char *sql = table_sql(l, t, with_times);
  int status = prepare(l, sql, &st, err);
  if (status) return status;
  int nc = sqlite3_column_count(st);
  for (int c = 0; c < nc; c++) fprintf(fp, "%s%s", c ? "," : "", sqlite3_column_name(st, c));
  fputc('\n', fp);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int c = 0; c < nc; c++) {
      if (c) fputc(',', fp);
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: fprintf(fp, "%lld", (long long)sqlite3_column_int64(st, c)); break;
        case SQLITE_FLOAT: fprintf(fp, "%.17g", sqlite3_column_double(st, c)); break;
        default: csv_field(fp, (const char *)sqlite3_column_text(st, c)); break;
      }
    }
    fputc('\n', fp);
  }
  if (rc != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "exporting");
  sqlite3_finalize(st);
  if (status) return status;
  return ferror(fp) ? sl_fail(err, SL_EIO, "writing the ledger export failed") : SL_OK;
}

int sl_ledger_interval_add(sl_ledger *l, int64_t seq_id, int64_t round, const char *predictor, const char *method,
                           double alpha, double lower, double upper, sl_error *err) {
  sqlite3_stmt *st = NULL;
  int status = prepare(l, "INSERT OR REPLACE INTO intervals (seq, round, predictor, method, alpha, lower, upper) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_int64(st, 2, round);
  sqlite3_bind_text(st, 3, predictor, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, method, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 5, alpha);
  if (isfinite(lower)) sqlite3_bind_double(st, 6, lower); else sqlite3_bind_null(st, 6);
  if (isfinite(upper)) sqlite3_bind_double(st, 7, upper); else sqlite3_bind_null(st, 7);
  if (sqlite3_step(st) != SQLITE_DONE) status = db_fail(l, err, SL_EIO, "adding an interval");
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_interval_get(sl_ledger *l, int64_t seq_id, int64_t round, double *ret_lower, double *ret_upper,
                           double *ret_alpha, int *ret_found, sl_error *err) {
  sqlite3_stmt *st = NULL;
  *ret_found = 0;
  int status = prepare(l, "SELECT lower, upper, alpha FROM intervals WHERE seq = ? AND round = ? "
                          "ORDER BY predictor, method, alpha LIMIT 1", &st, err);
  if (status) return status;
  sqlite3_bind_int64(st, 1, seq_id);
  sqlite3_bind_int64(st, 2, round);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *ret_lower = sqlite3_column_type(st, 0) == SQLITE_NULL ? -INFINITY : sqlite3_column_double(st, 0);
    *ret_upper = sqlite3_column_type(st, 1) == SQLITE_NULL ? INFINITY : sqlite3_column_double(st, 1);
    if (ret_alpha) *ret_alpha = sqlite3_column_double(st, 2);
    *ret_found = 1;
  } else if (rc != SQLITE_DONE) {
    status = db_fail(l, err, SL_EIO, "reading an interval");
  }
  sqlite3_finalize(st);
  return status;
}

int sl_ledger_export_json(sl_ledger *l, char **ret_text, int with_times, sl_error *err) {
  int status = SL_OK;
  *ret_text = NULL;
  cJSON *root = cJSON_CreateObject();
  if (!root) return sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON_AddNumberToObject(root, "schema_version", l->version);
  for (size_t t = 0; t < sizeof tables / sizeof *tables && !status; t++) {
    sqlite3_stmt *st = NULL;
    const char *sql = table_sql(l, t, with_times);
    if ((status = prepare(l, sql, &st, err))) break;
    cJSON *arr = cJSON_AddArrayToObject(root, tables[t].table);
    int nc = sqlite3_column_count(st), rc;
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      cJSON *row = cJSON_CreateObject();
      if (!row) break;
      cJSON_AddItemToArray(arr, row);
      for (int c = 0; c < nc; c++) {
        const char *name = sqlite3_column_name(st, c);
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL: cJSON_AddNullToObject(row, name); break;
          case SQLITE_INTEGER: cJSON_AddNumberToObject(row, name, (double)sqlite3_column_int64(st, c)); break;
          case SQLITE_FLOAT: cJSON_AddNumberToObject(row, name, sqlite3_column_double(st, c)); break;
          default: {
            const char *text = (const char *)sqlite3_column_text(st, c);
            /* JSON columns (options, summary, inputs) are nested as objects. */
            cJSON *sub = (text[0] == '{' || text[0] == '[') ? cJSON_Parse(text) : NULL;
            if (sub) cJSON_AddItemToObject(row, name, sub);
            else cJSON_AddStringToObject(row, name, text);
          }
        }
      }
    }
    sqlite3_finalize(st);
  }
  if (!status && !(*ret_text = cJSON_Print(root))) status = sl_fail(err, SL_ENOMEM, "out of memory");
  cJSON_Delete(root);
  return status;
}
