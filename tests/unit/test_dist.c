/* test_dist.c: fits across ranks (seqloop/dist.h) without MPI: K "ranks" are
 * K threads of this process sharing a transport made of a barrier and
 * memory copies, so the library's split and exchange run under every build
 * (the sanitizer build included) and on machines without Open MPI
 * (tests/e2e/mpi.sh runs the real thing). Checks: the identity kernel's parts
 * sum to its whole; weights, potts and ar fits give, on every rank, the
 * bytes of the one-process fit for K = 1..4 and 1 or 2 threads; and each rank
 * really computed only its share (the bytes it contributed). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqloop/ar.h"
#include "seqloop/dist.h"
#include "seqloop/potts.h"
#include "seqloop/weights.h"
#include "tap.h"

/* ---- the in-process transport ------------------------------------------- */

#define MAXR 4
typedef struct hub {
  int size;
  pthread_barrier_t bar;
  const void *send[MAXR];
  int64_t *vals[MAXR];
  int64_t sent[MAXR]; /* bytes each rank contributed, over all allgathervs */
  int calls[MAXR];    /* collectives each rank entered */
} hub;

typedef struct rank_ctx {
  hub *h;
  int rank;
} rank_ctx;

static int fake_allgatherv(void *ctx, const void *send, void *recv, const int64_t *counts) {
  rank_ctx *rc = ctx;
  hub *h = rc->h;
  h->send[rc->rank] = send;
  h->sent[rc->rank] += counts[rc->rank];
  h->calls[rc->rank]++;
  pthread_barrier_wait(&h->bar);
  char *p = recv;
  for (int r = 0; r < h->size; r++) {
    if (counts[r]) memcpy(p, h->send[r], (size_t)counts[r]);
    p += counts[r];
  }
  pthread_barrier_wait(&h->bar); /* every rank has read every send buffer */
  return 0;
}

static int fake_sum_i64(void *ctx, int64_t *v, int64_t n) {
  rank_ctx *rc = ctx;
  hub *h = rc->h;
  int64_t *t = calloc((size_t)(n ? n : 1), sizeof *t);
  h->vals[rc->rank] = v;
  h->calls[rc->rank]++;
  pthread_barrier_wait(&h->bar);
  for (int r = 0; r < h->size; r++)
    for (int64_t k = 0; k < n; k++) t[k] += h->vals[r][k];
  pthread_barrier_wait(&h->bar); /* all sums taken before anyone overwrites its v */
  memcpy(v, t, (size_t)n * sizeof *v);
  free(t);
  return 0;
}

/* ---- a job: one fit on every rank ------------------------------------------ */

enum { JOB_WEIGHTS, JOB_POTTS, JOB_AR };
typedef struct job {
  int kind, threads, eve;
  const sl_msa *msa;
  const double *w;
  /* per rank: the result */
  sl_dist d[MAXR];
  rank_ctx rc[MAXR];
  double *wout[MAXR];
  sl_model *m[MAXR];
  double fx[MAXR];
  int status[MAXR];
} job;

typedef struct arg {
  job *j;
  int rank;
} arg;

static void *rank_main(void *p) {
  arg *a = p;
  job *j = a->j;
  const int r = a->rank;
  const sl_dist *d = j->d[r].size > 0 ? &j->d[r] : NULL;
  sl_error err;
  if (j->kind == JOB_WEIGHTS) {
    sl_weights_opts o;
    sl_weights_opts_init(&o);
    o.threads = j->threads;
    o.convention = j->eve ? SL_WEIGHTS_EVE : SL_WEIGHTS_PLMC;
    o.dist = d;
    j->wout[r] = malloc((size_t)j->msa->N * sizeof(double));
    j->status[r] = sl_weights_compute(j->msa, &o, j->wout[r], &j->fx[r], &err);
  } else if (j->kind == JOB_POTTS) {
    sl_plm_opts o;
    sl_plm_opts_init(&o);
    int st = sl_plm_preset("evcouplings", j->msa->L, j->msa->abc->q, &o, &err);
    o.max_iter = 12;
    o.threads = j->threads;
    o.gap_missing = j->eve;
    o.dist = d;
    sl_plm_report rep;
    j->status[r] = st ? st : sl_potts_fit_plm(j->msa, j->w, &o, &j->m[r], &rep, &err);
    j->fx[r] = rep.fx;
  } else {
    sl_ar_opts o;
    sl_ar_opts_init(&o);
    o.threads = j->threads;
    o.dist = d;
    sl_ar_report rep;
    j->status[r] = sl_ar_fit(j->msa, j->w, &o, &j->m[r], &rep, &err);
    j->fx[r] = rep.objective;
  }
  return NULL;
}

/* Runs the job on K ranks (K = 0: one process, dist NULL). */
static void run_job(job *j, int K, hub *h) {
  memset(h, 0, sizeof *h);
  const int n = K ? K : 1;
  h->size = n;
  pthread_barrier_init(&h->bar, NULL, (unsigned)n);
  pthread_t t[MAXR];
  arg a[MAXR];
  for (int r = 0; r < n; r++) {
    j->rc[r] = (rank_ctx){h, r};
    j->d[r] = (sl_dist){r, K, &j->rc[r], fake_allgatherv, fake_sum_i64};
    j->wout[r] = NULL;
    j->m[r] = NULL;
    a[r] = (arg){j, r};
    pthread_create(&t[r], NULL, rank_main, &a[r]);
  }
  for (int r = 0; r < n; r++) pthread_join(t[r], NULL);
  pthread_barrier_destroy(&h->bar);
}

static void free_job(job *j, int K) {
  for (int r = 0; r < (K ? K : 1); r++) {
    free(j->wout[r]);
    sl_model_destroy(j->m[r]);
  }
}

static int same_model(const sl_model *a, const sl_model *b) {
  if (!a || !b || a->L != b->L || a->q != b->q) return 0;
  const size_t L = (size_t)a->L, q = (size_t)a->q;
  if (memcmp(a->h, b->h, L * q * sizeof(float)) != 0) return 0;
  if (a->J && memcmp(a->J, b->J, L * L * q * q * sizeof(float)) != 0) return 0;
  if (a->order && memcmp(a->order, b->order, L * sizeof *a->order) != 0) return 0;
  return 1;
}

/* ---- data -------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* N rows of L columns around one sequence, with copies (weights see them). */
static sl_msa *family(int64_t N, int64_t L) {
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  uint8_t *x = malloc((size_t)(N * L)), *base = malloc((size_t)L);
  for (int64_t i = 0; i < L; i++) base[i] = (uint8_t)(1 + rnd() % 20);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < L; i++) {
      if (n % 5 == 4) { x[n * L + i] = x[(n - 1) * L + i]; continue; }
      x[n * L + i] = rnd() % 10 < 3 ? (uint8_t)(rnd() % (uint64_t)abc->q) : base[i];
    }
  sl_msa *m = NULL;
  sl_error err;
  if (sl_msa_from_rows(abc, x, N, L, "s", "family", &m, &err)) m = NULL;
  free(x);
  free(base);
  return m;
}

static void kernel_parts(void) {
  int64_t bad = 0;
  for (int64_t N = 1; N <= 40; N += 13) {
    const int64_t L = 70;
    uint8_t *x = malloc((size_t)(N * L));
    int32_t *mm = malloc((size_t)N * sizeof *mm), *mult = malloc((size_t)N * sizeof *mult);
    int64_t *all = malloc((size_t)N * sizeof *all), *part = malloc((size_t)N * sizeof *part),
            *sum = malloc((size_t)N * sizeof *sum);
    for (int64_t k = 0; k < N * L; k++) x[k] = (uint8_t)(rnd() % 4);
    for (int64_t n = 0; n < N; n++) { mm[n] = (int32_t)(rnd() % (uint64_t)L); mult[n] = 1 + (int32_t)(rnd() % 3); }
    sl_error err;
    for (int gm = 0; gm <= 1; gm++) {
      if (sl_neighbours_count_mult(x, N, L, gm, mm, mult, 2, SL_KERN_AUTO, NULL, all, &err)) bad++;
      for (int np = 1; np <= 5; np++) {
        memset(sum, 0, (size_t)N * sizeof *sum);
        for (int p = 0; p < np; p++) {
          if (sl_neighbours_count_part(x, N, L, gm, mm, mult, p, np, 1, SL_KERN_AUTO, NULL, part, &err)) bad++;
          for (int64_t n = 0; n < N; n++) sum[n] += part[n];
        }
        if (memcmp(sum, all, (size_t)N * sizeof *sum) != 0) bad++;
      }
    }
    free(x); free(mm); free(mult); free(all); free(part); free(sum);
  }
  CHECK(bad == 0, "identity kernel: the counts of parts 0..K-1 (K = 1..5) sum to the whole's, both identities");
  sl_error err;
  int64_t c;
  uint8_t x1[4] = {1, 2, 3, 4};
  int32_t m1 = 1;
  CHECK(sl_neighbours_count_part(x1, 1, 4, 1, &m1, NULL, 2, 2, 1, SL_KERN_AUTO, NULL, &c, &err) == SL_EUSAGE,
        "identity kernel: part 2 of 2 is refused");
}

/* Ranks that disagree on the exchange (a wrong split or gather: different
 * iterates, so different numbers of evaluations) wait for each other forever,
 * as MPI ranks would: a watchdog turns that into a failure. */
static void watchdog(int sig) {
  (void)sig;
  static const char msg[] = "not ok - the ranks' collectives did not match (timed out after 300 s)\n";
  if (write(1, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
  _exit(1);
}

int main(void) {
  signal(SIGALRM, watchdog);
  alarm(300);
  kernel_parts();
  sl_msa *msa = family(120, 24);
  CHECK(msa != NULL, "a made-up family of 120 x 24");
  if (!msa) return TAP_DONE();
  hub h;
  job j;
  memset(&j, 0, sizeof j);
  j.msa = msa;

  /* weights */
  for (int eve = 0; eve <= 1; eve++) {
    j.kind = JOB_WEIGHTS; j.eve = eve; j.threads = 1;
    run_job(&j, 0, &h);
    double *ref = j.wout[0];
    double refneff = j.fx[0];
    j.wout[0] = NULL;
    int same = ref && j.status[0] == SL_OK;
    for (int K = 1; K <= MAXR; K++) {
      j.threads = 1 + K % 2;
      run_job(&j, K, &h);
      for (int r = 0; r < K; r++)
        same &= j.status[r] == SL_OK && memcmp(j.wout[r], ref, (size_t)msa->N * sizeof *ref) == 0 &&
                memcmp(&j.fx[r], &refneff, sizeof refneff) == 0;
      free_job(&j, K);
    }
    CHECK(same, "weights (%s): every rank has the one-process bytes and Neff, K = 1..4",
          eve ? "eve" : "plmc");
    if (eve == 0) j.w = ref; /* the fits below use plmc weights */
    else free(ref);
  }
  double *w = (double *)j.w;

  /* potts (gaps a state, and missing) and ar */
  const struct { int kind, eve; const char *name; } fits[] = {
    {JOB_POTTS, 0, "potts"}, {JOB_POTTS, 1, "potts -g"}, {JOB_AR, 0, "ar"}};
  for (size_t f = 0; f < sizeof fits / sizeof *fits; f++) {
    j.kind = fits[f].kind; j.eve = fits[f].eve; j.threads = 1;
    run_job(&j, 0, &h);
    sl_model *ref = j.m[0];
    double reffx = j.fx[0];
    j.m[0] = NULL;
    int ok = ref != NULL && j.status[0] == SL_OK, share = 1;
    for (int K = 1; K <= MAXR; K++) {
      for (int t = 1; t <= 2; t++) {
        j.threads = t;
        run_job(&j, K, &h);
        int64_t tot = 0;
        for (int r = 0; r < K; r++) {
          ok &= j.status[r] == SL_OK && same_model(j.m[r], ref) && memcmp(&j.fx[r], &reffx, sizeof reffx) == 0;
          ok &= h.calls[r] == h.calls[0];
          tot += h.sent[r];
        }
        /* with K ranks, no rank contributed much more than its 1/K share */
        for (int r = 0; K > 1 && r < K; r++) share &= h.sent[r] > 0 && h.sent[r] * K < 2 * tot;
        if (K == 1) share &= h.calls[0] == 0; /* size 1: the one-process path, no exchange */
        free_job(&j, K);
      }
    }
    CHECK(ok, "%s: every rank returns the one-process model (h, J, order) and objective, K = 1..4, 1-2 threads",
          fits[f].name);
    CHECK(share, "%s: each of K ranks contributed about 1/K of the exchanged bytes (work was split)", fits[f].name);
    sl_model_destroy(ref);
  }
  free(w);
  sl_msa_destroy(msa);
  return TAP_DONE();
}
