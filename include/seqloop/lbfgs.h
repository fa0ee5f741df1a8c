/* seqloop/lbfgs.h: the project's L-BFGS minimiser, in single and double
 * precision, threaded, with a small memory footprint.
 *
 * Algorithm: the same as libLBFGS 1.10 with its defaults (the minimiser that
 * plmc and seqloop's fits used), down to the rounding of Debian's build of
 * it, so that for n <= 16384 (one chunk, below) the iterates are libLBFGS's
 * bit for bit, and close to them beyond (tests/unit/test_lbfgs.c checks both
 * against the real libLBFGS, iteration by iteration):
 *   - the direction is -H g from the two-loop recursion (Nocedal 1980) over
 *     the last m pairs s = x_k+1 - x_k, y = g_k+1 - g_k, with the initial
 *     matrix H0 = gamma I, gamma = s'y / y'y of the newest pair;
 *   - the step comes from the More-Thuente line search (More & Thuente 1994;
 *     libLBFGS's LBFGS_LINESEARCH_DEFAULT): sufficient decrease with ftol and
 *     the strong curvature condition |g'd| <= gtol |g0'd|, trial steps from
 *     safeguarded cubic / quadratic interpolation;
 *   - the first step is 1/||d|| (d = -g), every later one starts at 1;
 *   - after each accepted step, in this order: the progress callback (a
 *     nonzero return stops), the gradient test ||g|| / max(1, ||x||) <=
 *     epsilon, the delta test (when past > 0: (f_{k-past} - f_k) / f_k <
 *     delta), the iteration limit.
 *
 * Memory: (3 + 2m) vectors of n values in all, x included (x, g, the
 * direction d and the m pairs): the previous point and gradient live in the
 * history slot that the next pair overwrites, so nothing else is kept.
 * Bytes per parameter: (3 + 2m) * 4 for sl_lbfgs_float (60 with m = 6),
 * (3 + 2m) * 8 for sl_lbfgs_double (120 with m = 6); libLBFGS needs
 * (6 + 2m) * 8 (144 with m = 6, its x included) plus what the caller keeps.
 * Everything is allocated before the first evaluation; the x passed in is
 * one of the vectors, so the minimiser allocates (2 + 2m) n values.
 *
 * Threads and reproducibility: vector passes run over fixed chunks of 16384
 * values with OpenMP; dot products and norms accumulate in double (also for
 * float vectors), left to right within a chunk, and the chunk sums are
 * added in chunk order, so the iterates are bit-identical for any thread
 * count, and for n <= 16384 identical to libLBFGS's. Passes are fused (the
 * two-loop's update with one pair with the dot product the next one needs,
 * the trial point with its norm, the new pair with s'y, y'y and s'g), so an
 * iteration with one line-search trial makes 2m + 3 passes over memory
 * (libLBFGS: about 4m + 14) and copies nothing: the previous point and
 * gradient change places with the oldest pair by pointer.
 *
 * sl_lbfgs_float on more than one chunk (n > 16384, m <= 32) takes the same
 * direction from the compact representation of Byrd, Nocedal & Schnabel
 * (1994) instead of the two-loop recursion: one pass makes the new pair and
 * all the dot products with g and the history (u = S'g, v = Y'g, the new
 * column of S'Y and Y'Y), small m x m triangular solves give the
 * coefficients, and one pass writes d = -gamma g - S p + gamma Y q. An
 * iteration then reads or writes about 35 vectors of n values instead of 59
 * (m = 6). Equal in exact arithmetic; the rounding differs, so these
 * iterates follow libLBFGS's to float rounding (tested), still identical
 * for any thread count. sl_lbfgs_double and problems of one chunk keep the
 * two-loop recursion.
 *
 * The float minimiser keeps x, g, d and the pairs in float but does all
 * scalar work (objective, line search, dot products) in double, and forms
 * each updated value in double before rounding it to float once.
 */
#ifndef SEQLOOP_LBFGS_H
#define SEQLOOP_LBFGS_H

#include <stdint.h>

#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_lbfgs_opts {
  int m;              /* history pairs (libLBFGS's default 6); >= 1 */
  double epsilon;     /* stop when ||g|| / max(1, ||x||) <= epsilon (default 1e-5); >= 0 */
  int past;           /* delta test over `past` iterations; 0 (default) turns it off */
  double delta;       /* stop when (f_{k-past} - f_k) / f_k < delta (default 1e-5); >= 0 */
  int max_iter;       /* stop after this many iterations; 0 (default) = until another test stops */
  int max_linesearch; /* evaluations per line search (default 40); >= 1 */
  double min_step;    /* smallest line-search step (default 1e-20); >= 0 */
  double max_step;    /* largest line-search step (default 1e20); >= min_step */
  double ftol;        /* sufficient-decrease parameter (default 1e-4); >= 0 */
  double gtol;        /* curvature parameter of the More-Thuente search (libLBFGS's
                         gtol, not its `wolfe`, which only its backtracking uses;
                         default 0.9); >= 0 */
  double xtol;        /* relative width of the interval of uncertainty below which the
                         line search gives up (default 1e-16); >= 0 */
  int threads;        /* threads for the vector passes; 0 = sl_threads_default().
                         Results are identical for any count. Vectors of up to
                         16384 values take one chunk and run on the calling
                         thread; from inside a parallel region (one fit per
                         thread) pass 1. */
} sl_lbfgs_opts;

/* sl_lbfgs_opts_init(): libLBFGS 1.10's defaults (above), threads = 0. */
void sl_lbfgs_opts_init(sl_lbfgs_opts *o);

/* The objective: return f(x) (in double, also for the float minimiser) and
 * fill g (n values) with its gradient. x and g point into the minimiser's
 * own vectors (not necessarily the caller's x array); read x, write all of g,
 * keep neither pointer. A non-finite return or gradient stops the minimiser
 * with SL_EINTERNAL. */
typedef double (*sl_lbfgs_eval_f)(void *ctx, const float *x, float *g);
typedef double (*sl_lbfgs_eval_d)(void *ctx, const double *x, double *g);

/* Called after each iteration k (1-based) at its accepted point: n_evals is
 * the number of objective evaluations so far (all iterations, the initial
 * one included), fx the objective, xnorm and gnorm the Euclidean norms of x
 * and g, step the accepted line-search step. A nonzero return stops the
 * minimiser (status SL_LBFGS_STOPPED) with x at that point. */
typedef int (*sl_lbfgs_progress_fn)(void *ctx, int k, int n_evals, double fx, double xnorm,
                                    double gnorm, double step);

/* Outcomes (sl_lbfgs_result.status), each with libLBFGS's counterpart. */
enum {
  SL_LBFGS_CONVERGED = 0,      /* gradient test (LBFGS_SUCCESS) */
  SL_LBFGS_DELTA_CONVERGED,    /* delta test (LBFGS_STOP) */
  SL_LBFGS_ALREADY_MINIMIZED,  /* the start passes the gradient test (LBFGS_ALREADY_MINIMIZED) */
  SL_LBFGS_MAX_ITER,           /* max_iter iterations done (LBFGSERR_MAXIMUMITERATION) */
  SL_LBFGS_STOPPED,            /* the progress callback asked to stop (LBFGSERR_CANCELED) */
  SL_LBFGS_LS_MAX_EVALS,       /* line search used max_linesearch evaluations (LBFGSERR_MAXIMUMLINESEARCH) */
  SL_LBFGS_LS_ROUNDING,        /* rounding errors prevent progress (LBFGSERR_ROUNDING_ERROR); also
                                  a new pair with s'y <= 0, where libLBFGS would divide by it */
  SL_LBFGS_LS_MIN_STEP,        /* the step reached min_step (LBFGSERR_MINIMUMSTEP) */
  SL_LBFGS_LS_MAX_STEP,        /* the step reached max_step (LBFGSERR_MAXIMUMSTEP) */
  SL_LBFGS_LS_WIDTH,           /* interval of uncertainty below xtol (LBFGSERR_WIDTHTOOSMALL) */
  SL_LBFGS_LS_NOT_DESCENT,     /* the direction is not a descent direction (LBFGSERR_INCREASEGRADIENT) */
  SL_LBFGS_LS_INTERVAL,        /* the trial step left the interval of uncertainty
                                  (LBFGSERR_OUTOFINTERVAL, LBFGSERR_INCORRECT_TMINMAX) */
  SL_LBFGS_NONFINITE           /* f returned a non-finite objective or gradient (the call
                                  returns SL_EINTERNAL; libLBFGS would go on with it) */
};

typedef struct sl_lbfgs_result {
  int status;          /* one of SL_LBFGS_* */
  const char *message; /* a static phrase for status ("converged", ...) */
  int iterations;      /* accepted steps */
  int evaluations;     /* objective evaluations, the initial one included */
  double fx;           /* the objective at the returned x (the last accepted point) */
  double xnorm, gnorm; /* ||x|| and ||g|| there */
} sl_lbfgs_result;

/* sl_lbfgs_message(): the phrase for an SL_LBFGS_* status. */
const char *sl_lbfgs_message(int status);

/* sl_lbfgs_float(), sl_lbfgs_double()
 * Purpose:  Minimise f from x (n values; overwritten by the result).
 * Returns:  SL_OK whenever the minimiser ran, whatever the outcome
 *           (res->status: convergence, a limit, a stop, or a line-search
 *           failure, libLBFGS's errors included); x is then the last accepted
 *           point (the start if no step was accepted) and res->fx its
 *           objective. SL_EUSAGE for bad arguments or options (nothing
 *           evaluated), SL_ENOMEM (nothing evaluated), SL_EINTERNAL when f
 *           returned a non-finite objective or gradient (err says which and
 *           where; x is the last accepted point, res filled with status
 *           SL_LBFGS_NONFINITE). res is filled for SL_OK and SL_EINTERNAL.
 *           prog may be NULL; res must not.
 */
int sl_lbfgs_float(int64_t n, float *x, sl_lbfgs_eval_f f, sl_lbfgs_progress_fn prog, void *ctx,
                   const sl_lbfgs_opts *o, sl_lbfgs_result *res, sl_error *err);
int sl_lbfgs_double(int64_t n, double *x, sl_lbfgs_eval_d f, sl_lbfgs_progress_fn prog, void *ctx,
                    const sl_lbfgs_opts *o, sl_lbfgs_result *res, sl_error *err);

/* sl_lbfgs_bytes(): the memory the minimiser allocates for n values of
 * elem_size bytes (4 or 8) with m pairs, beyond the caller's x. */
int64_t sl_lbfgs_bytes(int64_t n, int m, int elem_size);

#ifdef __cplusplus
}
#endif
#endif
