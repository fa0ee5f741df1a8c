/* lbfgs.c: the project's L-BFGS (seqloop/lbfgs.h).
 *
 * The scalar parts (options, messages, the More-Thuente interval update) are
 * written once here; the vector parts and the driver live in lbfgs_impl.h,
 * included twice, for float and for double vectors.
 *
 * Matching libLBFGS 1.10 to rounding is a design goal (its iterates are the
 * reference in tests/unit/test_lbfgs.c), so the line search reproduces its
 * variant of More & Thuente (1994) case by case, including the order in
 * which each interpolation formula is evaluated; a "simplification" here
 * changes the iterates. Written from the paper and from libLBFGS's
 * documented behaviour; no code is copied.
 *
 * The float minimiser over several chunks (LB_COMPACT, lbfgs_impl.h) takes
 * its direction from Byrd, Nocedal & Schnabel's compact form: 2 passes over
 * the history per iteration instead of the two-loop recursion's 2m
 * read-modify-write passes over d. Measured (Potts fit, DHFR, 5.03 M
 * floats, m = 6; docs/performance.md, "Potts fit"): the same instructions
 * (callgrind, 500,000 floats: 553 M vs 560 M over 20 iterations) and ~40%
 * less memory traffic per iteration; the double minimiser (ar fits) keeps
 * the two-loop recursion so that its models do not move.
 */
#include "seqloop/lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Values per chunk of a vector pass. Fixed (never derived from the thread
 * count), so that the chunk partial sums, and so the results, are the same
 * for any number of threads. */
#define LB_CHUNK 16384

/* Accumulators per chunk for dot products. A problem of one chunk
 * (n <= LB_CHUNK) adds left to right with one accumulator, as libLBFGS does,
 * so its iterates are libLBFGS's bit for bit (tests/unit/test_lbfgs.c
 * asserts it). Larger problems use LB_LANES independent accumulators per
 * chunk, added in lane order: still one fixed order, so the results do not
 * depend on the thread count, but no longer one addition's latency per value
 * (one chain of dependent adds made each pass over the Potts fit's 5 million
 * values latency-bound; with 8 lanes the passes vectorise). */
#ifndef LB_LANES
#define LB_LANES 8
#endif

void sl_lbfgs_opts_init(sl_lbfgs_opts *o) {
  memset(o, 0, sizeof *o);
  o->m = 6;
  o->epsilon = 1e-5;
  o->past = 0;
  o->delta = 1e-5;
  o->max_iter = 0;
  o->max_linesearch = 40;
  o->min_step = 1e-20;
  o->max_step = 1e20;
  o->ftol = 1e-4;
  o->gtol = 0.9;
  o->xtol = 1e-16;
  o->threads = 0;
}

const char *sl_lbfgs_message(int status) {
  switch (status) {
    case SL_LBFGS_CONVERGED: return "converged";
    case SL_LBFGS_DELTA_CONVERGED: return "converged: the objective stopped decreasing (delta test)";
    case SL_LBFGS_ALREADY_MINIMIZED: return "already at a minimum";
    case SL_LBFGS_MAX_ITER: return "reached the maximum number of iterations";
    case SL_LBFGS_STOPPED: return "stopped by the progress callback";
    case SL_LBFGS_LS_MAX_EVALS: return "stopped: line search reached its maximum evaluations";
    case SL_LBFGS_LS_ROUNDING: return "stopped: rounding errors prevent further progress";
    case SL_LBFGS_LS_MIN_STEP: return "stopped: line search step below its minimum";
    case SL_LBFGS_LS_MAX_STEP: return "stopped: line search step above its maximum";
    case SL_LBFGS_LS_WIDTH: return "stopped: interval of uncertainty too small";
    case SL_LBFGS_LS_NOT_DESCENT: return "stopped: the search direction is not a descent direction";
    case SL_LBFGS_LS_INTERVAL: return "stopped: line search step left the interval of uncertainty";
    case SL_LBFGS_NONFINITE: return "stopped: the objective or its gradient was not finite";
    default: return "unknown L-BFGS status";
  }
}

int64_t sl_lbfgs_bytes(int64_t n, int m, int elem_size) {
  int64_t chunks = (n + LB_CHUNK - 1) / LB_CHUNK;
  int64_t b = (2 + 2 * (int64_t)m) * n * elem_size + chunks * 3 * (int64_t)sizeof(double);
  /* the compact form's lane accumulators (float, several chunks) */
  if (elem_size == 4 && chunks > 1) b += chunks * 4 * (int64_t)m * LB_LANES * (int64_t)sizeof(double);
  return b;
}

static int check_opts(int64_t n, const void *x, int have_f, const sl_lbfgs_opts *o,
                      sl_lbfgs_result *res, sl_error *err) {
  if (!x || !have_f || !o || !res) return sl_fail(err, SL_EUSAGE, "L-BFGS: x, f, options and result are required");
  if (n < 1) return sl_fail(err, SL_EUSAGE, "L-BFGS: %lld parameters (need at least 1)", (long long)n);
  /* The negated tests also reject NaN. */
  if (o->m < 1) return sl_fail(err, SL_EUSAGE, "L-BFGS: m = %d (need at least 1 pair)", o->m);
  if (!(o->epsilon >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: epsilon = %g (need >= 0)", o->epsilon);
  if (o->past < 0) return sl_fail(err, SL_EUSAGE, "L-BFGS: past = %d (need >= 0)", o->past);
  if (!(o->delta >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: delta = %g (need >= 0)", o->delta);
  if (o->max_iter < 0) return sl_fail(err, SL_EUSAGE, "L-BFGS: max_iter = %d (need >= 0)", o->max_iter);
  if (o->max_linesearch < 1)
    return sl_fail(err, SL_EUSAGE, "L-BFGS: max_linesearch = %d (need >= 1)", o->max_linesearch);
  if (!(o->min_step >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: min_step = %g (need >= 0)", o->min_step);
  if (!(o->max_step >= o->min_step))
    return sl_fail(err, SL_EUSAGE, "L-BFGS: max_step = %g (need >= min_step = %g)", o->max_step, o->min_step);
  if (!(o->ftol >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: ftol = %g (need >= 0)", o->ftol);
  if (!(o->gtol >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: gtol = %g (need >= 0)", o->gtol);
  if (!(o->xtol >= 0)) return sl_fail(err, SL_EUSAGE, "L-BFGS: xtol = %g (need >= 0)", o->xtol);
  if (o->threads < 0) return sl_fail(err, SL_EUSAGE, "L-BFGS: threads = %d (need >= 0)", o->threads);
  return SL_OK;
}

/* ---- More-Thuente step selection ---------------------------------------- */

#define LB_MIN(a, b) ((a) <= (b) ? (a) : (b))
#define LB_MAX(a, b) ((a) >= (b) ? (a) : (b))

/* The interpolation formulas below are More & Thuente's (1994, section 4),
 * but each is grouped as the Debian build of libLBFGS 1.10 evaluates it:
 * that build rounds its expressions differently from its source (it was
 * compiled with value-changing optimisations: 1/s computed once, terms
 * regrouped, x + r d - x simplified to r d), and matching its iterates bit
 * for bit, not just to ~1e-12, takes the same groupings. They were read off
 * the library's machine code; each is algebraically the textbook formula. */

/* Scaled discriminant of the cubic: gamma = s sqrt((theta/s)^2 - (du/s)(dv/s))
 * with s = max(|theta|, |du|, |dv|), so that nothing overflows; *a_out is
 * theta / s. clamp: replace a negative discriminant by 0 (case 3, where the
 * cubic may have no minimiser). */
static double cubic_gamma(double theta, double du, double dv, int clamp, double *a_out) {
  double s = LB_MAX(fabs(theta), LB_MAX(fabs(du), fabs(dv)));
  double rs = 1.0 / s;
  double a = theta * rs;
  double disc = a * a - rs * rs * (du * dv);
  if (clamp && !(disc > 0.0)) disc = 0.0;
  *a_out = a;
  return sqrt(disc) * s;
}

/* One update of the interval of uncertainty [x, y] (x: the best step so
 * far) given the trial t with value ft and slope dt, and the next trial step
 * in *t, kept inside [tmin, tmax]. Returns 0 or an SL_LBFGS_* failure (which
 * the line search turns into SL_LBFGS_LS_ROUNDING at its next trial, as
 * libLBFGS does). */
static int mt_update(double *x, double *fx, double *dx, double *y, double *fy, double *dy, double *t,
                     double ft, double dt, double tmin, double tmax, int *brackt) {
  const double t0 = *t, x0 = *x, fx0 = *fx, dx0 = *dx;
  if (*brackt) {
    if (t0 <= LB_MIN(x0, *y) || LB_MAX(x0, *y) <= t0) return SL_LBFGS_LS_INTERVAL;
    if (0. <= dx0 * (t0 - x0)) return SL_LBFGS_LS_NOT_DESCENT;
    if (tmax < tmin) return SL_LBFGS_LS_INTERVAL;
  }
  /* slopes of opposite signs (dt times the sign of dx is negative) */
  const int opposite = (signbit(dx0) ? -dt : dt) < 0;
  double next, a;
  if (fx0 < ft) {
    /* Case 1: a higher value at t, so a minimiser lies between x and t.
     * Take the cubic step if it is closer to x than the quadratic one
     * (through fx, dx, ft), else their midpoint. */
    const double d = t0 - x0;
    const double theta = 3.0 * (fx0 - ft) / d + dx0 + dt;
    double gam = cubic_gamma(theta, dx0, dt, 0, &a);
    if (x0 > t0) gam = -gam;
    const double gmd = gam - dx0;
    const double rd = (theta + gmd) / ((gam + dt) + gmd) * d; /* cubic step - x */
    const double qd = 0.5 * dx0 / ((fx0 - ft) / d + dx0) * d;  /* quadratic step - x */
    const double mc = x0 + rd;
    next = fabs(qd) > fabs(rd) ? mc : mc + ((x0 + qd) - mc) * 0.5;
    *brackt = 1;
    *y = t0; *fy = ft; *dy = dt;
    next = LB_MAX(LB_MIN(next, tmax), tmin);
    const double cap = (*y - *x) * 0.66 + *x; /* stay within 0.66 of the way from x to y */
    next = *x < *y ? LB_MIN(next, cap) : LB_MAX(next, cap);
  } else if (opposite) {
    /* Case 2: lower value, slope changed sign: bracketed. Of the cubic and
     * the secant steps, take the one farther from t. */
    const double d = t0 - x0;
    const double theta = 3.0 * (fx0 - ft) / d + dx0 + dt;
    double gam = cubic_gamma(theta, dx0, dt, 0, &a);
    if (x0 > t0) gam = -gam;
    const double gmd = gam - dx0;
    const double mc = x0 + (theta + gmd) / ((gam + dt) + gmd) * d;
    const double sd = dt / (dt - dx0) * (x0 - t0); /* secant step - t */
    next = fabs(mc - t0) > fabs(sd) ? mc : sd + t0;
    *brackt = 1;
    *y = x0; *fy = fx0; *dy = dx0;
    *x = t0; *fx = ft; *dx = dt;
    next = LB_MAX(LB_MIN(next, tmax), tmin);
  } else if (fabs(dx0) > fabs(dt)) {
    /* Case 3: lower value, same sign, slope shrinking. The cubic step if the
     * cubic has its minimiser beyond t, else a bound; bracketed: whichever
     * of it and the secant step is closer to t, else (extrapolating) the
     * farther. */
    const double d = t0 - x0;
    const double part = 3.0 * (fx0 - ft) / d + dx0;
    const double theta = dt + part;
    double gam = cubic_gamma(theta, dx0, dt, 1, &a);
    if (t0 > x0) gam = -gam;
    const double r = (part + gam) / ((gam + gam) + (dx0 - dt));
    double mc, dist; /* the cubic step and its distance from t */
    if (r < 0. && gam != 0.) {
      mc = t0 - r * d;
      dist = fabs(r * d);
    } else {
      mc = a < 0 ? tmax : tmin;
      dist = fabs(t0 - mc);
    }
    const double sd = dt / (dt - dx0) * (x0 - t0);
    const int take_cubic = *brackt ? dist < fabs(sd) : dist > fabs(sd);
    next = LB_MIN(take_cubic ? mc : sd + t0, tmax);
    next = LB_MAX(next, tmin);
    *x = t0; *fx = ft; *dx = dt;
    if (*brackt) {
      const double cap = (*y - *x) * 0.66 + *x;
      next = *x < *y ? LB_MIN(next, cap) : LB_MAX(next, cap);
    }
  } else {
    /* Case 4: lower value, same sign, slope not shrinking: bracketed, the
     * cubic step through t and y; else a bound. */
    if (*brackt) {
      const double d = *y - t0;
      const double part = 3.0 * (ft - *fy) / d + *dy;
      const double theta = dt + part;
      double gam = cubic_gamma(theta, dt, *dy, 0, &a);
      if (t0 > *y) gam = -gam;
      next = (part + gam) / (((gam + gam) + *dy) - dt) * d + t0;
      next = LB_MAX(LB_MIN(next, tmax), tmin);
    } else {
      next = t0 > x0 ? LB_MAX(tmax, tmin) : tmin;
    }
    *x = t0; *fx = ft; *dx = dt;
  }
  *t = next;
  return 0;
}

/* Threads for the vector passes. */
static int nthreads_for(const sl_lbfgs_opts *o) {
  int nt = o->threads > 0 ? o->threads : sl_threads_default();
  return nt > 0 ? nt : 1;
}

/* Sum of the per-chunk partial sums, in chunk order (never in thread order). */
static double sum_parts(const double *part, int64_t nchunks, int k) {
  double s = 0.0;
  for (int64_t c = 0; c < nchunks; c++) s += part[3 * c + k];
  return s;
}

#define LB_T float
#define LB_SFX(name) name##_f
#define LB_COMPACT 1
#include "lbfgs_impl.h"
#undef LB_COMPACT
#undef LB_T
#undef LB_SFX

#define LB_T double
#define LB_SFX(name) name##_d
#define LB_COMPACT 0
#include "lbfgs_impl.h"
#undef LB_COMPACT
#undef LB_T
#undef LB_SFX

int sl_lbfgs_float(int64_t n, float *x, sl_lbfgs_eval_f f, sl_lbfgs_progress_fn prog, void *ctx,
                   const sl_lbfgs_opts *o, sl_lbfgs_result *res, sl_error *err) {
  int st = check_opts(n, x, f != NULL, o, res, err);
  if (st) return st;
  return lbfgs_run_f(n, x, f, prog, ctx, o, res, err);
}

int sl_lbfgs_double(int64_t n, double *x, sl_lbfgs_eval_d f, sl_lbfgs_progress_fn prog, void *ctx,
                    const sl_lbfgs_opts *o, sl_lbfgs_result *res, sl_error *err) {
  int st = check_opts(n, x, f != NULL, o, res, err);
  if (st) return st;
  return lbfgs_run_d(n, x, f, prog, ctx, o, res, err);
}
