/* cli.h: what the subcommands share: the option-table fragments of the
 * shared groups (ingestion, weights, output, -t/-q/-v/-h; cli/opt.h),
 * loading with an ingestion summary, the provenance sidecar, JSON.
 * The cli layer is the only place that prints to stdout/stderr and exits.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>

#include "opt.h"
#include "seqloop/seqloop.h"

/* Codes for the getopt_long loops not yet on the option table (design,
 * ledger); to be removed once they are. */
enum { OPT_JSON = 256, OPT_CMD_BASE = 512 };

/* Choices of the shared options (names as the library parses them). */
extern const cli_choice cli_format_choices[], cli_alphabet_choices[], cli_nonstd_choices[],
    cli_convention_choices[], cli_kernel_choices[];

/* How -h states the thread default (computed at run time: sl_threads_default). */
#define CLI_THREADS_DEFAULT "OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK, else all cores"

/* Shared option groups: table fragments over a cli_common *c (opt.h). */
#define CLI_OPTS_INGEST(c)                                                                          \
  CLI_CHOICE("format", 0, &(c)->msa.format, cli_format_choices, "FMT",                              \
             "auto|fasta|a2m|a3m|stockholm (auto: by content)", "input"),                          \
  CLI_CHOICE("alphabet", 0, &(c)->msa.alphabet, cli_alphabet_choices, "ABC", "auto|protein|dna|rna", NULL), \
  CLI_STRING("focus", 'f', &(c)->msa.focus, "NAME",                                                 \
             "focus sequence: keep its uppercase columns, number by NAME/start-end", NULL),         \
  CLI_FLAG("focus-first", 0, &(c)->msa.focus_first, "the first row is the focus", NULL),            \
  CLI_DOUBLE("max-gap-frac", 0, &(c)->msa.max_gap_frac, 0, 1, "X",                                  \
             "drop columns with gap fraction > X (1: keep all)", NULL),                             \
  CLI_DOUBLE("min-coverage", 0, &(c)->msa.min_coverage, 0, 1, "X",                                  \
             "drop rows with non-gap fraction < X (0: keep all)", NULL),                            \
  CLI_CHOICE("nonstandard", 0, &(c)->msa.nonstd, cli_nonstd_choices, "P",                           \
             "drop|gap: rows with X B Z U O J * are dropped or read as gaps", NULL),                \
  CLI_FLAG("allow-duplicate-names", 0, &(c)->msa.allow_dup_names, "accept repeated sequence names", NULL)

#define CLI_OPTS_WEIGHTS(c)                                                                         \
  CLI_DOUBLE("theta", 0, &(c)->w.theta, -HUGE_VAL, HUGE_VAL, "X",                                    \
             "neighbour if identity above 1-X (outside [0,1]: no weights)", "weights"),            \
  CLI_CHOICE("convention", 0, &(c)->w.convention, cli_convention_choices, "C",                      \
             "plmc|eve (eve = EVE/DeepSequence/ProteinGym)", NULL),                                 \
  CLI_STRING("weights-in", 0, &(c)->weights_in, "FILE",                                             \
             "read weights (seqloop or plmc format) instead of computing them", NULL),              \
  CLI_CHOICE("kernel", 0, &(c)->w.kernel, cli_kernel_choices, "K", "auto|plain|avx2|avx512 identity kernel", NULL)

/* -o FILE and --provenance FILE (the JSON sidecar, cli_prov_write). */
#define CLI_OPTS_OUTPUT(c)                                                                          \
  CLI_STRING("output", 'o', &(c)->out, "FILE", "output file, written atomically ('-': stdout)", "output"), \
  CLI_STRING("provenance", 0, &(c)->prov, "FILE",                                                   \
             "provenance JSON (default: OUTPUT.prov.json; none for stdout)", NULL)
#define CLI_OPTS_JSON(c) CLI_FLAG("json", 0, &(c)->json, "machine-readable JSON instead of text", NULL)

/* -t, -q, -v, -h, --version: every command. */
#define CLI_OPTS_GENERAL(c)                                                                         \
  CLI_OPT_(("threads"), 't', CLI_T_INT, &(c)->w.threads, 1, 4096, NULL, "N", "threads", "general",   \
           0, CLI_THREADS_DEFAULT, NULL),                                                           \
  CLI_FLAG("quiet", 'q', &(c)->quiet, "no summary or progress on stderr", NULL),                    \
  CLI_COUNT("verbose", 'v', &(c)->verbose, "more detail on stderr", NULL),                          \
  CLI_FLAG("help", 'h', NULL, "this help", NULL),                                                   \
  CLI_FLAG("version", 0, NULL, "print the version and exit", NULL)

typedef struct cli_common {
  const char *cmd;       /* "audit", "weights", ... */
  sl_msa_opts msa;
  sl_weights_opts w;
  const char *weights_in;
  const char *out;       /* -o, default "-" */
  const char *prov;      /* --provenance: sidecar path (NULL: OUT.prov.json) */
  const cli_cmdinfo *info; /* set by cli_common_parse */
  cli_opt *opts;         /* the parsed table (its values go into the provenance) */
  struct { const char *role, *path; char sha256[SL_SHA256_HEX]; } in[16]; /* inputs of the provenance */
  int n_in;
  int json, quiet, verbose;
  int argc;
  char **argv;
} cli_common;

void cli_common_init(cli_common *c, const char *cmd, int argc, char **argv);

/* cli_parse over opts, remembering the table for the provenance: -1 go on
 * (*ret_optind: first argument), else the exit code (0 after -h). */
int cli_common_parse(cli_common *c, const cli_cmdinfo *info, cli_opt *opts, int *ret_optind);

/* Record an input file (role: "alignment", "model", "assay", ...): its
 * SHA-256 goes into the provenance: of the content as read (decompressed,
 * stdin included) for an alignment read by cli_load, else of the file's
 * bytes. path must outlive c; NULL is ignored. */
void cli_input(cli_common *c, const char *role, const char *path);

/* cli_prov_write()
 * Purpose:  Write the provenance of an output as a JSON sidecar, atomically:
 *           program, version, command, argv, the output path, every input
 *           recorded by cli_input (path, sha256 of its bytes), every option
 *           of the table with its value (seed included), UTC time, and
 *           extra (may be NULL; copied) under "extra".
 *           Where: --provenance FILE if given; else OUT.prov.json beside
 *           out; nothing when out is NULL or "-" (stdout) and no
 *           --provenance was given.
 *           One rule for every command (issue 18): an output is committed
 *           first and its sidecar last, and when the sidecar cannot be
 *           written the output is removed (when out is a regular file), so
 *           a failed command (exit 3) never leaves an output without its
 *           provenance.
 * Returns:  SL_OK, SL_EIO, SL_ENOMEM. */
int cli_prov_write(const cli_common *c, const char *out, const cJSON *extra, sl_error *err);
/* cli_prov_write for a command with several outputs (split, ledger export):
 * out names the sidecar (OUT.prov.json) and the outputs listed in files[n]
 * are removed when the sidecar cannot be written. */
int cli_prov_write_files(const cli_common *c, const char *out, const cJSON *extra, const char *const *files, int n,
                         sl_error *err);
/* cli_prov_write for a command that has already succeeded: 0, or the exit
 * code after printing the error. */
int cli_prov_exit(const cli_common *c, const char *out);
/* The sidecar's object (caller deletes): what cli_prov_write writes. */
cJSON *cli_prov_json(const cli_common *c, const char *out, const cJSON *extra);
/* The sidecar's path: --provenance if given, else OUT.prov.json; malloc'd (NULL: out of memory). */
char *cli_prov_path(const cli_common *c, const char *out);

/* A progress line for a long step ("seqloop CMD: STEP  n UNIT ..."): only
 * on a terminal and without -q, else NULL (silence). Caller destroys it. */
sl_progress *cli_progress(const cli_common *c, const char *step, const char *unit);

/* Read and preprocess an alignment, print the ingestion summary on stderr
 * (unless -q), and compute (or read) weights. *ret_w has msa->N entries. */
int cli_load(cli_common *c, const char *path, sl_msa **ret_msa, double **ret_w, double *ret_neff,
             sl_error *err);

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
/* Fits across MPI ranks (cli/dist.c; seqloop/dist.h). cli_dist_launched():
 * the ranks a launcher (mpirun, srun) started, from its environment (1:
 * none; any build). cli_dist_start(): in the MPI build under a launcher,
 * MPI_Init and the world's sl_dist; else NULL (one process).
 * cli_dist_finish(d, code): code 0: MPI_Finalize; else MPI_Abort(code),
 * which ends every rank (never returns); returns code. cli_dist_mpi(): 1 in
 * the MPI build. cli_dist_same(): SL_EUSAGE unless every rank passes the
 * same string s (argv, an input's SHA-256), named by what. */
int cli_dist_same(const sl_dist *d, const char *what, const char *s, sl_error *err);
int cli_dist_launched(void);
const sl_dist *cli_dist_start(void);
int cli_dist_finish(const sl_dist *d, int code);
int cli_dist_mpi(void);
int cmd_fit(int argc, char **argv);
int cmd_fit_tfm(int argc, char **argv); /* `fit --model tfm` (cmd_fit_tfm.c) */
/* --structure FILE[:CHAIN] on fit and score: RSA-weight a field-only model (cmd_fit.c) */
int cli_structure_scale(const char *cmd, const char *spec, sl_model *m, int quiet, cJSON **ret,
                        sl_error *err);
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
int cmd_report(int argc, char **argv);
int cmd_benchmark(int argc, char **argv);

#endif
