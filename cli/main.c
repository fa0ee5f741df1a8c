/* main.c: the seqloop command table. One line per subcommand; each lives in
 * cli/cmd_<name>.c and is glue over the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "shard.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
  const char *example;
} command;

static const command commands[] = {
  {"audit", cmd_audit, "information accounting for an alignment: N, L, Neff, entropy, gaps",
   "seqloop audit -f DYR_ECOLI DHFR.a2m"},
  {"weights", cmd_weights, "sequence weights (plmc or EVE convention) and Neff",
   "seqloop weights --theta 0.2 -o dhfr.weights DHFR.a2m"},
  {"fit", cmd_fit, "fit a model (potts by pseudo-likelihood, or profile) and write a model file",
   "seqloop fit --model potts -f DYR_ECOLI -g --preset plmc-readme -m 100 -o dhfr.model DHFR.a2m"},
  {"score", cmd_score, "score variants (CSV, --mutants, --sequences, --all-singles); evaluate on an assay",
   "seqloop score -m blat.model --dms-score-column 2500 BLAT_ECOLX_Ranganathan2015.csv -o scored.csv"},
  {"sample", cmd_sample, "draw sequences from a model (ar: exact ancestral sampling)",
   "seqloop sample -m kunitz.ar -n 10000 --seed 7 -o samples.fa"},
  {"contacts", cmd_contacts, "coupling scores (Frobenius + APC) and precision against a structure",
   "seqloop contacts -m ww.model --structure 4rex.cif --chain A -o ww.ecs"},
  {"convert", cmd_convert, "convert between seqloop model files and plmc parameter files",
   "seqloop convert plmc.params -o model.slm"},
  {"split", cmd_split, "homology-aware train/test split (clusters or cobalt-style), checked for leakage",
   "seqloop split --identity 0.8 --test-frac 0.2 --seed 1 -o kunitz kunitz.a2m.gz"},
  {"design", cmd_design, "closed-loop design: run, propose/ingest (lab), oracle (Ehrlich, table, model, external)",
   "seqloop design run --ledger gb1.db --oracle table:wu2016.csv --start VDGV --budget 96 --batch 8"},
  {"ledger", cmd_ledger, "export a design ledger (every table) as CSV or JSON",
   "seqloop ledger export --ledger gb1.db -o gb1_ledger.csv"},
  {"benchmark", cmd_benchmark, "zero-shot recipe over a ProteinGym-style folder of assays, aggregated", "seqloop benchmark --models gemme+lor -o bench_out proteingym_subset"},
  {"merge", cmd_merge, "reassemble the pieces of a sharded run (--shard I/N) into the unsharded output",
   "seqloop merge -o scored.csv scored.1.csv scored.2.csv scored.3.csv"},
  {"ingest", cmd_ingest, "preprocess an alignment (focus mode, filters) and write it as FASTA",
   "seqloop ingest -f DYR_ECOLI --max-gap-frac 0.3 -o dhfr.fa DHFR.a2m"},
  {"report", cmd_report, "one offline HTML page (and JSON) of an alignment, model, scores, samples, ledger, cycle", "seqloop report -a RRM_1.sto.gz -m rrm.model -s singles.csv --samples samples.fa -o report.html"},
};

static void usage(FILE *fp) {
  fprintf(fp, "seqloop %s: generative models of sequence families\n\n"
              "usage: seqloop <command> [options] <args>   (seqloop <command> -h for options)\n\n"
              "commands:\n", SL_VERSION);
  for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
    fprintf(fp, "  %-9s %s\n            e.g. %s\n", commands[k].name, commands[k].summary,
            commands[k].example);
  fprintf(fp, "\nexit codes: 0 ok, 1 bad input, 2 usage, 3 internal error\n");
}

/* OpenBLAS starts its worker threads in a constructor, before main, and
 * each maps a 128 MiB buffer, retrying forever when mmap fails: under an
 * address-space limit (ulimit -v) every command, --version included, spun
 * and never exited (issue 18). seqloop never uses those threads (the
 * transformer's GEMMs run one per OpenMP thread with OpenBLAS at 1 thread),
 * so under such a limit the program re-executes itself once with
 * OPENBLAS_NUM_THREADS=1, which starts none. tfm.c checks the room for the
 * per-call buffers (blas_room). */
static void blas_threads_guard(char **argv) {
  const char *t = getenv("OPENBLAS_NUM_THREADS");
  if (t && strcmp(t, "1") == 0) return;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
  if (setenv("OPENBLAS_NUM_THREADS", "1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  /* exec failed: go on as we are */
}

int main(int argc, char **argv) {
  blas_threads_guard(argv);
  if (argc < 2) { usage(stderr); return 2; }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("seqloop %s\n", SL_VERSION);
    return 0;
  }
  for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
    if (strcmp(argv[1], commands[k].name) == 0) {
      /* every command answers --version, also those that dispatch to subcommands (design, ledger) */
      if (argc == 3 && strcmp(argv[2], "--version") == 0) { printf("seqloop %s\n", SL_VERSION); return 0; }
      return commands[k].run(argc - 1, argv + 1);
    }
  fprintf(stderr, "seqloop: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
