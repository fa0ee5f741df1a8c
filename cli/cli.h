/* cli.h: what the subcommands share: option parsing for ingestion and
 * weights, loading with an ingestion summary, provenance headers, JSON.
 * The cli layer is the only place that prints to stdout/stderr and exits.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <cjson/cJSON.h>
#include <getopt.h>

#include "seqloop/seqloop.h"

/* Long-option codes shared by every command that reads an alignment. */
enum {
  OPT_FORMAT = 256, OPT_ALPHABET, OPT_FOCUS_FIRST, OPT_MAX_GAP, OPT_MIN_COV, OPT_NONSTD,
  OPT_DUPNAMES, OPT_THETA, OPT_CONVENTION, OPT_WEIGHTS_IN, OPT_KERNEL, OPT_JSON,
  OPT_PLMC_FORMAT, OPT_COLUMNS, OPT_TOP, OPT_CMD_BASE = 512
};

#define CLI_COMMON_SHORT "f:t:o:qvh"
#define CLI_COMMON_LONGOPTS                                                   \
  {"format", required_argument, 0, OPT_FORMAT},                               \
  {"alphabet", required_argument, 0, OPT_ALPHABET},                           \
  {"focus", required_argument, 0, 'f'},                                       \
  {"focus-first", no_argument, 0, OPT_FOCUS_FIRST},                           \
  {"max-gap-frac", required_argument, 0, OPT_MAX_GAP},                        \
  {"min-coverage", required_argument, 0, OPT_MIN_COV},                        \
  {"nonstandard", required_argument, 0, OPT_NONSTD},                          \
  {"allow-duplicate-names", no_argument, 0, OPT_DUPNAMES},                    \
  {"theta", required_argument, 0, OPT_THETA},                                 \
  {"convention", required_argument, 0, OPT_CONVENTION},                       \
  {"weights-in", required_argument, 0, OPT_WEIGHTS_IN},                       \
  {"kernel", required_argument, 0, OPT_KERNEL},                               \
  {"threads", required_argument, 0, 't'},                                     \
  {"output", required_argument, 0, 'o'},                                      \
  {"json", no_argument, 0, OPT_JSON},                                         \
  {"quiet", no_argument, 0, 'q'},                                             \
  {"verbose", no_argument, 0, 'v'},                                           \
  {"help", no_argument, 0, 'h'}

/* Help text for the shared options (printed by each command's -h). */
extern const char *cli_common_help;

typedef struct cli_common {
  const char *cmd;       /* "audit", "weights", ... */
  sl_msa_opts msa;
  sl_weights_opts w;
  const char *weights_in;
  const char *out;       /* -o, default "-" */
  int json, quiet, verbose;
  int argc;
  char **argv;
} cli_common;

void cli_common_init(cli_common *c, const char *cmd, int argc, char **argv);

/* Handle a shared option: 1 handled, 0 not a shared option, -1 bad value
 * (message printed). */
int cli_common_opt(cli_common *c, int opt, const char *arg);

/* Read and preprocess an alignment, print the ingestion summary on stderr
 * (unless -q), and compute (or read) weights. *ret_w has msa->N entries. */
int cli_load(cli_common *c, const char *path, sl_msa **ret_msa, double **ret_w, double *ret_neff,
             sl_error *err);

/* '#' provenance header (version, command line, input hash, options);
 * caller frees. */
char *cli_provenance(const cli_common *c, const sl_msa *msa);

/* JSON pieces. */
cJSON *cli_json_provenance(const cli_common *c, const sl_msa *msa);
cJSON *cli_json_ingest(const sl_msa *msa);

/* Read a model file in either format (seqloop's, recognised by its magic,
 * else plmc's binary parameters). A plmc file numbers columns by alignment
 * column, not by residue: when its index map has holes (gap columns in the
 * focus row) a warning on stderr says that mutant positions may not be
 * residue numbers (docs/formats.md, Numbering). */
int cli_read_any_model(const char *cmd, const char *path, sl_model **ret_m, sl_error *err);

/* Print "seqloop CMD: error: MSG" and return the exit code. */
int cli_error(const cli_common *c, int status, const sl_error *err);

/* Write a string to -o atomically (or stdout). */
int cli_write_text(const char *path, const char *text, sl_error *err);
/* Write a JSON document (pretty-printed, newline-terminated) the same way. */
int cli_write_json(const char *path, const cJSON *json, sl_error *err);

/* Commands. */
int cmd_audit(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_fit_tfm(int argc, char **argv); /* `fit --model tfm` (cmd_fit_tfm.c) */
int cmd_score(int argc, char **argv);
int cmd_contacts(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_audit_cycle(int argc, char **argv); /* `audit cycle` */
/* `audit --train A --test B` (cmd_audit_leak.c): per-sequence output to
 * per_seq when not NULL. */
int cli_audit_leakage(cli_common *c, const char *train, const char *test, double thr,
                      const char *per_seq, int skip_invalid);
int cmd_design(int argc, char **argv);
int cmd_ledger(int argc, char **argv);

#endif
