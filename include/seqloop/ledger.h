/* seqloop/ledger.h: the experiment ledger of a design campaign, one SQLite
 * file (docs/design.md has the schema).
 *
 * What a campaign did is written down as it happens: the run (command line,
 * options as JSON, seed, program version, input hashes), each round (status,
 * summary), every sequence it saw (natural, sampled or designed, with its
 * parent), every prediction and every measurement. A measurement is UNIQUE
 * per (sequence, oracle, replicate), so nothing is ever counted twice.
 *
 * Durability: WAL journal, PRAGMA foreign_keys = ON, synchronous = FULL (a
 * committed round survives power loss, not only a killed process; it costs
 * one fsync per round, nothing next to an experiment). Callers group every
 * write of a round in one transaction (sl_ledger_begin/commit), so a kill -9
 * at any point leaves either the previous or the next complete state.
 *
 * Schema versions live in PRAGMA user_version and migrations run on open,
 * inside one transaction: opening an older ledger upgrades it in place.
 *   v1  runs, rounds, sequences, predictions, measurements (no round column)
 *   v2  measurements.round; round_stats
 *   v3  intervals (conformal prediction intervals)
 *   v4  measurements.replicate (0, 1, ...; UNIQUE (seq, oracle, replicate))
 *   v5  draws (sampled batches: part, count, log query density)
 *
 * The handle is not thread-safe; the library never opens one on its own
 * (architecture.md: the ledger handle is passed in).
 */
#ifndef SEQLOOP_LEDGER_H
#define SEQLOOP_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_LEDGER_SCHEMA 5

typedef struct sl_ledger sl_ledger;

/* Origins of a sequence. */
enum { SL_ORIGIN_NATURAL = 0, SL_ORIGIN_SAMPLED = 1, SL_ORIGIN_DESIGNED = 2 };
const char *sl_ledger_origin_name(int origin);

/* sl_ledger_open()
 * Purpose:  Open (or create) a ledger file and migrate it to SL_LEDGER_SCHEMA.
 * Args:     path   - file name (created if absent)
 *           ret_l  - RETURN: the handle (caller closes)
 * Returns:  SL_OK; SL_EIO if the file cannot be opened or is not an SQLite
 *           database; SL_EINPUT if its schema is newer than this program.
 */
SL_MUSTCHECK int sl_ledger_open(const char *path, sl_ledger **ret_l, sl_error *err);

/* sl_ledger_open_readonly()
 * Purpose:  Open an existing ledger for reading only (export): nothing is
 *           created, migrated or written, so a ledger on read-only storage
 *           or owned by someone else can be read. The schema is the file's
 *           (sl_ledger_version); callers needing the current schema migrate
 *           with sl_ledger_open. A pending write-ahead log that cannot be
 *           read there is an error (SL_EIO) naming the -wal file.
 */
SL_MUSTCHECK int sl_ledger_open_readonly(const char *path, sl_ledger **ret_l, sl_error *err);

/* sl_ledger_migrate_to()
 * Purpose:  Create or migrate the ledger at path to exactly `version`
 *           (1..SL_LEDGER_SCHEMA) and close it. For tests of the migration
 *           path: it makes the files an older seqloop wrote.
 */
SL_MUSTCHECK int sl_ledger_migrate_to(const char *path, int version, sl_error *err);

void sl_ledger_close(sl_ledger *l);

/* sl_ledger_version(): the schema version of an open ledger. */
int sl_ledger_version(const sl_ledger *l);

/* Transactions: begin (IMMEDIATE: the write lock is taken now), commit,
 * rollback. rollback on a ledger without an open transaction is a no-op. */
SL_MUSTCHECK int sl_ledger_begin(sl_ledger *l, sl_error *err);
SL_MUSTCHECK int sl_ledger_commit(sl_ledger *l, sl_error *err);
void sl_ledger_rollback(sl_ledger *l);

/* ---- runs ---------------------------------------------------------------- */
typedef struct sl_ledger_run {
  int64_t id;
  char *created;       /* ISO 8601 UTC */
  char *cmdline;
  char *options_json;  /* every option that defines the run */
  uint64_t seed;
  char *version;       /* program version */
  char *inputs_json;   /* {"path": "sha256", ...} */
} sl_ledger_run;
void sl_ledger_run_free(sl_ledger_run *r);

/* sl_ledger_run_add(): insert a run (id, created are filled in). */
SL_MUSTCHECK int sl_ledger_run_add(sl_ledger *l, sl_ledger_run *r, sl_error *err);
/* sl_ledger_run_last(): the newest run; *ret_found = 0 if there is none. */
SL_MUSTCHECK int sl_ledger_run_last(sl_ledger *l, sl_ledger_run *ret_r, int *ret_found,
                                    sl_error *err);

/* ---- rounds ---------------------------------------------------------------
 * status is "proposed" (a batch awaits measurements) or "done". */
SL_MUSTCHECK int sl_ledger_round_set(sl_ledger *l, int64_t run, int64_t k, const char *status,
                                     const char *summary_json, sl_error *err);
/* sl_ledger_round_last(): the highest round of a run and its status
 * (*ret_k = -1 and status "" if none). status: caller buffer of 16 bytes. */
SL_MUSTCHECK int sl_ledger_round_last(sl_ledger *l, int64_t run, int64_t *ret_k, char *status,
                                      sl_error *err);
SL_MUSTCHECK int sl_ledger_round_stat(sl_ledger *l, int64_t run, int64_t k, const char *name,
                                      double value, sl_error *err);
/* sl_ledger_round_stat_get(): a statistic written before; NAN if absent or NULL. */
SL_MUSTCHECK int sl_ledger_round_stat_get(sl_ledger *l, int64_t run, int64_t k, const char *name,
                                          double *ret_value, sl_error *err);

/* ---- sequences ------------------------------------------------------------ */
/* sl_ledger_seq_add(): insert a sequence, or find it if the run has it
 * already (then origin, round and parent are left as first written).
 * parent < 0: none. */
SL_MUSTCHECK int sl_ledger_seq_add(sl_ledger *l, int64_t run, const char *seq, int origin,
                                   int64_t round, int64_t parent, int64_t *ret_id, sl_error *err);
/* sl_ledger_seq_find(): id of seq in run, or -1. */
SL_MUSTCHECK int sl_ledger_seq_find(sl_ledger *l, int64_t run, const char *seq, int64_t *ret_id,
                                    sl_error *err);

typedef struct sl_ledger_seqs {
  int64_t n;
  int64_t *id;
  char **seq;
  int *origin;
  int64_t *round;
  double *value;      /* measured value, the mean over replicates with a value;
                         NAN if none (not measured, or not measurable) */
  int *measured;      /* measurement rows (replicates), failed ones included; 0: none */
  int *nval;          /* replicates with a value (the mean's count) */
} sl_ledger_seqs;
void sl_ledger_seqs_free(sl_ledger_seqs *s);
/* sl_ledger_seqs_get(): every sequence of a run in insertion order, with its
 * measurement by `oracle` if any. */
SL_MUSTCHECK int sl_ledger_seqs_get(sl_ledger *l, int64_t run, const char *oracle,
                                    sl_ledger_seqs *ret, sl_error *err);

/* ---- predictions and measurements ---------------------------------------- */
SL_MUSTCHECK int sl_ledger_prediction_add(sl_ledger *l, int64_t seq_id, int64_t round,
                                          const char *predictor, double mean, double sd,
                                          sl_error *err);
/* sl_ledger_prediction_get(): the prediction of seq_id made in round;
 * *ret_found = 0 if none. */
SL_MUSTCHECK int sl_ledger_prediction_get(sl_ledger *l, int64_t seq_id, int64_t round,
                                          double *ret_mean, double *ret_sd, int *ret_found,
                                          sl_error *err);
/* sl_ledger_measurement_add()
 * Purpose:  Record a measurement of seq_id by oracle in round. value may be
 *           NAN: the oracle could not measure it (stored as NULL: a failed
 *           experiment that still used budget).
 * Returns:  SL_EINPUT if the sequence already has a measurement by this
 *           oracle (the UNIQUE constraint), with a message naming it.
 */
SL_MUSTCHECK int sl_ledger_measurement_add(sl_ledger *l, int64_t seq_id, const char *oracle,
                                           double value, int64_t round, sl_error *err);
/* sl_ledger_measurement_add_rep(): the same for replicate number replicate
 * (>= 0; sl_ledger_measurement_add() is replicate 0). SL_EINPUT if this
 * replicate of the sequence by this oracle exists already. */
SL_MUSTCHECK int sl_ledger_measurement_add_rep(sl_ledger *l, int64_t seq_id, const char *oracle,
                                               double value, int64_t round, int replicate, sl_error *err);

/* sl_ledger_interval_add()
 * Purpose:  Record a prediction interval [lower, upper] of seq_id made in
 *           round by predictor, with its method ("split", ...) and miscoverage
 *           alpha. An infinite bound (too few calibration points) is stored
 *           as NULL.
 */
SL_MUSTCHECK int sl_ledger_interval_add(sl_ledger *l, int64_t seq_id, int64_t round, const char *predictor,
                                        const char *method, double alpha, double lower, double upper,
                                        sl_error *err);
/* sl_ledger_interval_get(): the interval of seq_id made in round (the first
 * by predictor, method, alpha); NULL bounds come back as -inf/+inf;
 * *ret_found = 0 if none. ret_alpha may be NULL. */
SL_MUSTCHECK int sl_ledger_interval_get(sl_ledger *l, int64_t seq_id, int64_t round, double *ret_lower,
                                        double *ret_upper, double *ret_alpha, int *ret_found, sl_error *err);

/* ---- draws -----------------------------------------------------------------
 * A round whose batch is sampled i.i.d. (with replacement) from a known query
 * density q records each distinct sequence drawn once per part of the batch
 * ("train" or "cal"), with how many times it was drawn and log q(x): the
 * batch is the multiset, so importance weights and effective sample sizes
 * can be recomputed from the ledger. */

/* sl_ledger_draw_add()
 * Purpose:  Record that seq_id was drawn count times for part ("train" or
 *           "cal") of round's batch, with log query density logq.
 * Returns:  SL_EUSAGE if part is neither "train" nor "cal"; SL_EINPUT if
 *           count < 1, logq is not finite, seq_id is not in the ledger, or
 *           the (seq_id, round, part) row exists already (a plain insert: a
 *           draw is never counted twice). Nothing is written on error.
 */
SL_MUSTCHECK int sl_ledger_draw_add(sl_ledger *l, int64_t seq_id, int64_t round, const char *part,
                                    int64_t count, double logq, sl_error *err);

typedef struct sl_ledger_draws {
  int64_t n;
  int64_t *seq;      /* sequence ids */
  int *cal;          /* 1: part 'cal', 0: 'train' */
  int64_t *count;    /* times drawn (>= 1) */
  double *logq;      /* log query density */
} sl_ledger_draws;

/* sl_ledger_draws_get()
 * Purpose:  The draw rows of run's round, ordered by sequence id, then part
 *           ('cal' before 'train'). A ledger older than v5 (opened read-only,
 *           not migrated) has none: *ret is empty, SL_OK.
 * Args:     ret - RETURN: the rows (caller frees with sl_ledger_draws_free)
 */
SL_MUSTCHECK int sl_ledger_draws_get(sl_ledger *l, int64_t run, int64_t round, sl_ledger_draws *ret,
                                     sl_error *err);
void sl_ledger_draws_free(sl_ledger_draws *d);

/* ---- export ----------------------------------------------------------------
 * Every table of every run, deterministically ordered. Wall-clock columns
 * (runs.created, measurements.time) are left out unless with_times, so that
 * two runs of the same campaign export identically. CSV: one table per
 * call (a header row and the records; no comment lines, so pandas and R
 * read each with no options). JSON: one object with an array per table. */
/* sl_ledger_export_tables(): the table names in export order (*ret_names,
 * static); returns their number. */
int sl_ledger_export_tables(const char *const **ret_names);
/* sl_ledger_export_table_csv(): one table as CSV; SL_EUSAGE for an unknown
 * table name (the message lists them). */
SL_MUSTCHECK int sl_ledger_export_table_csv(sl_ledger *l, const char *table, FILE *fp, int with_times,
                                            sl_error *err);
SL_MUSTCHECK int sl_ledger_export_json(sl_ledger *l, char **ret_text, int with_times,
                                       sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
