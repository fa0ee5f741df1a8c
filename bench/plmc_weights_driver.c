/*
 * plmc_weights_driver.c - time plmc's sequence reweighting on one alignment.
 *
 * Part of seqloop's benchmarks. This file contains no plmc code: it only
 * includes plmc's public headers and calls plmc's own functions
 * (default_options, MSARead, MSAReweightSequences), so it has to be compiled
 * together with a plmc source tree that the user supplies, for example:
 *
 *   P=/path/to/plmc
 *   gcc -std=c99 -O3 -msse4.2 -fopenmp [-D USE_FLOAT] -I$P/src/include \
 *       bench/plmc_weights_driver.c $P/src/lib/twister.c $P/src/lib/lbfgs.c \
 *       $P/src/plm.c $P/src/inference.c $P/src/weights.c -lm \
 *       -o plmc_weights_driver
 *
 * (plmc's src/main.c is left out; it defines main() and nothing else that
 * plm.c, inference.c or weights.c need.) bench/weights_vs_plmc.sh does this.
 *
 * Usage: plmc_weights_driver [-f FOCUS] [-t THETA] [-o WEIGHTS_OUT] ALIGNMENT
 *
 *   -f FOCUS   focus sequence name (plmc's -f: first record whose name STARTS
 *              with FOCUS; keeps only the focus row's uppercase, non-gap
 *              columns). Default: none (plmc then keeps every column).
 *   -t THETA   neighbourhood divergence, default 0.2 (plmc's -t).
 *   -o FILE    write the weights one per line (%.10e), one line per INPUT
 *              record, in input order, 0 for the rows plmc discarded (the
 *              layout of plmc's own --save-weights file).
 *
 * Only the MSAReweightSequences call is timed (CLOCK_MONOTONIC). Prints one
 * line on stdout:
 *   plmc_weights_seconds=<s> neff=<x> nseqs=<n> nsites=<L>
 * where nseqs is the number of sequences plmc kept (valid rows) and nsites
 * the number of columns it kept. plmc's own messages go to stderr.
 * The number of OpenMP threads follows OMP_NUM_THREADS when built with
 * -fopenmp.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plm.h"
#include "weights.h"
#include "twister.h"

static void usage(const char *prog) {
    fprintf(stderr,
            "usage: %s [-f FOCUS] [-t THETA] [-o WEIGHTS_OUT] ALIGNMENT\n",
            prog);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* One weight per input record, 0 for skipped rows (skippedSeqs is sorted). */
static int write_weights(const char *path, const alignment_t *ali) {
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        fprintf(stderr, "plmc_weights_driver: cannot open %s\n", path);
        return 1;
    }
    int nTotal = ali->nSeqs + ali->nSkippedSeqs;
    int kept = 0, skipped = 0;
    for (int r = 0; r < nTotal; r++) {
        double w = 0.0;
        if (skipped < ali->nSkippedSeqs && ali->skippedSeqs[skipped] == r) {
            skipped++;
        } else {
            w = (double) ali->weights[kept++];
        }
        fprintf(fp, "%.10e\n", w);
    }
    if (fclose(fp) != 0) {
        fprintf(stderr, "plmc_weights_driver: error writing %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    char *focus = NULL;
    char *weightsOut = NULL;
    double theta = 0.2;
    char *alignFile = NULL;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-f") == 0 && a + 1 < argc) {
            focus = argv[++a];
        } else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc) {
            char *end = NULL;
            theta = strtod(argv[++a], &end);
            if (end == argv[a] || *end != '\0') {
                fprintf(stderr, "plmc_weights_driver: bad theta '%s'\n",
                        argv[a]);
                return 2;
            }
        } else if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
            weightsOut = argv[++a];
        } else if (strcmp(argv[a], "-h") == 0
                   || strcmp(argv[a], "--help") == 0) {
            usage(argv[0]);
            return 0;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            usage(argv[0]);
            return 2;
        } else if (alignFile == NULL) {
            alignFile = argv[a];
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (alignFile == NULL) {
        usage(argv[0]);
        return 2;
    }

    options_t *options = default_options();
    options->target = focus;
    /* plmc's main() stores atof() of -t into a numeric_t; do the same. */
    options->theta = (numeric_t) theta;

    /* run_plmc seeds the PRNG before reading (used only by --fast weights). */
    init_genrand(42);

    alignment_t *ali = MSARead(alignFile, options);

    double t0 = now_seconds();
    MSAReweightSequences(ali, options);
    double t1 = now_seconds();

    printf("plmc_weights_seconds=%.6f neff=%.6f nseqs=%d nsites=%d\n",
           t1 - t0, (double) ali->nEff, ali->nSeqs, ali->nSites);
    fflush(stdout);

    if (weightsOut != NULL && write_weights(weightsOut, ali) != 0) return 1;

    MSAFree(ali, options);
    return 0;
}
