/* dist.c: `seqloop fit` across MPI ranks (seqloop/dist.h; docs/scale.md).
 *
 * The library has no MPI in it: it takes an sl_dist (rank, size, two
 * collectives). This file implements one over MPI_COMM_WORLD in the MPI build
 * (make MPI=1 compiles it with -DSEQLOOP_MPI and links libmpi); the default
 * build compiles only the one-process half below, so it includes no MPI
 * header and links no MPI library.
 *
 * MPI is initialised only when a launcher started the process (mpirun, srun:
 * their environment variables), so the MPI build run on its own is an
 * ordinary one-process seqloop. A rank that fails ends the whole job with
 * MPI_Abort: the other ranks would otherwise wait forever in their next
 * collective, and rank 0 must never write a model then.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Ranks the launcher says this process belongs to (1: none). Open MPI's
 * mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's and srun --mpi=pmi2 PMI_SIZE;
 * srun --mpi=pmix sets PMIX_RANK, and then the step's SLURM_STEP_NUM_TASKS
 * counts the ranks. A plain multi-task srun (no MPI plugin) is not an MPI
 * job: its tasks may run different commands. */
int cli_dist_launched(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"};
  for (size_t k = 0; k < sizeof vars / sizeof *vars; k++) {
    if (k == 2 && !getenv("PMIX_RANK")) break;
    const char *v = getenv(vars[k]);
    if (v && atoi(v) > 1) return atoi(v);
  }
  return 1;
}

/* FNV-1a: a fingerprint of a string, for comparing it across ranks. */
static uint64_t fingerprint(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

#ifdef SEQLOOP_MPI
#include <limits.h>
#include <mpi.h>

/* Pieces above 1 GiB (or a total above INT_MAX bytes) do not fit MPI's int
 * counts: then each rank's piece is broadcast from its owner in chunks. */
#define CHUNK ((int64_t)1 << 30)

static int mpi_allgatherv(void *ctx, const void *send, void *recv, const int64_t *counts) {
  MPI_Comm comm = *(MPI_Comm *)ctx;
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  int *cnt = malloc((size_t)size * sizeof *cnt), *dsp = malloc((size_t)size * sizeof *dsp);
  int64_t tot = 0, off = 0;
  for (int r = 0; r < size; r++) tot += counts[r];
  int small = cnt && dsp && tot <= INT_MAX;
  for (int r = 0; small && r < size; r++) {
    cnt[r] = (int)counts[r];
    dsp[r] = (int)off;
    off += counts[r];
  }
  int rc;
  if (small) {
    rc = MPI_Allgatherv(send, cnt[rank], MPI_BYTE, recv, cnt, dsp, MPI_BYTE, comm);
  } else {
    rc = MPI_SUCCESS;
    for (int r = 0; rc == MPI_SUCCESS && r < size; r++) {
      char *dst = (char *)recv + off;
      if (r == rank) memcpy(dst, send, (size_t)counts[r]);
      for (int64_t k = 0; rc == MPI_SUCCESS && k < counts[r]; k += CHUNK) {
        int64_t n = counts[r] - k < CHUNK ? counts[r] - k : CHUNK;
        rc = MPI_Bcast(dst + k, (int)n, MPI_BYTE, r, comm);
      }
      off += counts[r];
    }
  }
  free(cnt);
  free(dsp);
  return rc != MPI_SUCCESS;
}

static int mpi_sum_i64(void *ctx, int64_t *v, int64_t n) {
  MPI_Comm comm = *(MPI_Comm *)ctx;
  for (int64_t k = 0; k < n; k += CHUNK / 8) {
    int64_t m = n - k < CHUNK / 8 ? n - k : CHUNK / 8;
    if (MPI_Allreduce(MPI_IN_PLACE, v + k, (int)m, MPI_INT64_T, MPI_SUM, comm) != MPI_SUCCESS) return 1;
  }
  return 0;
}

static MPI_Comm world;
static sl_dist the_dist;

const sl_dist *cli_dist_start(void) {
  if (cli_dist_launched() < 2) return NULL;
  int provided;
  /* Only the main thread calls MPI; OpenMP threads compute between calls. */
  if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "seqloop: error: MPI_Init failed\n");
    exit(3);
  }
  world = MPI_COMM_WORLD;
  the_dist.ctx = &world;
  MPI_Comm_rank(world, &the_dist.rank);
  MPI_Comm_size(world, &the_dist.size);
  the_dist.allgatherv = mpi_allgatherv;
  the_dist.sum_i64 = mpi_sum_i64;
  return &the_dist;
}

int cli_dist_finish(const sl_dist *d, int code) {
  if (!d) return code;
  if (code != 0) {
    /* the other ranks may be inside a collective: end them all */
    fflush(stderr);
    MPI_Abort(world, code);
  }
  MPI_Finalize();
  return code;
}

int cli_dist_same(const sl_dist *d, const char *what, const char *s, sl_error *err) {
  if (sl_dist_ranks(d) < 2) return SL_OK;
  uint64_t h = fingerprint(s), lo = h, hi = h;
  if (MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, world) != MPI_SUCCESS ||
      MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, world) != MPI_SUCCESS)
    return sl_fail(err, SL_EIO, "comparing the ranks' %s failed", what);
  if (lo != hi)
    return sl_fail(err, SL_EUSAGE, "the ranks differ in their %s: every rank of one fit must run "
                   "the same command on the same input (docs/scale.md)", what);
  return SL_OK;
}

int cli_dist_mpi(void) { return 1; }

#else /* the default build: one process */

const sl_dist *cli_dist_start(void) { return NULL; }
int cli_dist_finish(const sl_dist *d, int code) { (void)d; return code; }
int cli_dist_same(const sl_dist *d, const char *what, const char *s, sl_error *err) {
  (void)d; (void)what; (void)s; (void)err;
  (void)fingerprint;
  return SL_OK;
}
int cli_dist_mpi(void) { return 0; }

#endif
