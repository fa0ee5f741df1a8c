/* lbfgs_impl.h: the vector passes and the driver of seqloop's L-BFGS, for one
 * element type. Private to lbfgs.c, which includes it once per type with
 * LB_T (float or double) and LB_SFX(name) (a suffix per type) defined.
 *
 * Every pass runs over fixed chunks of LB_CHUNK values (OpenMP, static
 * schedule); a chunk's sums use LB_LANES accumulators in double, added in
 * lane order, and the chunk sums are stored in part[3 * chunk + k] for
 * sum_parts() to add in chunk order. Values are formed in double and
 * rounded to LB_T once.
 */

typedef struct LB_SFX(lb_ws) {
  int64_t n, nchunks;
  int nt;
  int lanes;    /* accumulators per chunk: LB_LANES when nchunks > 1, else 1 */
  double *part; /* 3 partial sums per chunk */
} LB_SFX(lb_ws);

/* The loop over the chunks of a pass: b and e bound the chunk c. */
#define LB_CHUNKS(w, ...)                                                                      \
  do {                                                                                         \
    const int64_t nch_ = (w)->nchunks, n_ = (w)->n;                                            \
    double *part_ = (w)->part;                                                                 \
    _Pragma("omp parallel for num_threads((w)->nt) schedule(static) if (nch_ > 1)")           \
    for (int64_t c_ = 0; c_ < nch_; c_++) {                                                     \
      const int64_t b = c_ * LB_CHUNK, e = b + LB_CHUNK < n_ ? b + LB_CHUNK : n_;              \
      double *pc = part_ + 3 * c_;                                                            \
      __VA_ARGS__                                                                              \
    }                                                                                          \
  } while (0)

/* Within a chunk: the body runs for index ii with lane l (ii - b mod
 * LB_LANES) when the workspace uses LB_LANES accumulators (several chunks),
 * else with l = 0 throughout (one chunk: libLBFGS's left-to-right sums). */
#define LB_LANE_LOOP(lanes, b, e, ...)                                                         \
  do {                                                                                         \
    int64_t i_ = (b);                                                                          \
    if ((lanes) == LB_LANES) {                                                                 \
      for (; i_ + LB_LANES <= (e); i_ += LB_LANES)                                             \
        for (int l = 0; l < LB_LANES; l++) {                                                   \
          const int64_t ii = i_ + l;                                                           \
          __VA_ARGS__                                                                          \
        }                                                                                      \
      for (int l = 0; i_ < (e); i_++, l++) {                                                   \
        const int64_t ii = i_;                                                                 \
        __VA_ARGS__                                                                            \
      }                                                                                        \
    } else {                                                                                   \
      for (; i_ < (e); i_++) {                                                                 \
        const int l = 0;                                                                       \
        const int64_t ii = i_;                                                                 \
        __VA_ARGS__                                                                            \
      }                                                                                        \
    }                                                                                          \
  } while (0)

#ifndef LB_LANE_SUM
#define LB_LANE_SUM
static inline double lane_sum(const double *a) {
  double s = a[0];
  for (int l = 1; l < LB_LANES; l++) s += a[l];
  return s;
}
#endif

/* Start: d = -g; part 0 = g'g, part 1 = x'x. */
static void LB_SFX(pass_init)(LB_SFX(lb_ws) *w, const LB_T *x, const LB_T *g, LB_T *d) {
  LB_CHUNKS(w, {
    double a0[LB_LANES] = {0}, a1[LB_LANES] = {0};
    LB_LANE_LOOP(w->lanes, b, e, {
      double gi = (double)g[ii], xi = (double)x[ii];
      d[ii] = (LB_T)(-gi);
      a0[l] += gi * gi;
      a1[l] += xi * xi;
    });
    pc[0] = lane_sum(a0);
    pc[1] = lane_sum(a1);
  });
}

/* Line-search trial: x = xp + stp d; part 0 = x'x (of the rounded x). The
 * chunk kernels below are cloned per instruction set as twoloop_chunk is
 * (the reason is given there). */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static double LB_SFX(trial_chunk)(LB_T *restrict x, const LB_T *restrict xp, const LB_T *restrict d,
                                  double stp, int64_t b, int64_t e, int lanes) {
  double a0[LB_LANES] = {0};
  LB_LANE_LOOP(lanes, b, e, {
    LB_T t = (LB_T)((double)xp[ii] + stp * (double)d[ii]);
    x[ii] = t;
    a0[l] += (double)t * (double)t;
  });
  return lane_sum(a0);
}

static void LB_SFX(pass_trial)(LB_SFX(lb_ws) *w, LB_T *x, const LB_T *xp, const LB_T *d, double stp) {
  const int lanes = w->lanes;
  LB_CHUNKS(w, { pc[0] = LB_SFX(trial_chunk)(x, xp, d, stp, b, e, lanes); });
}

/* After an evaluation: part 0 = g'd (the slope along d), part 1 = g'g. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void LB_SFX(slope_chunk)(const LB_T *restrict g, const LB_T *restrict d, int64_t b, int64_t e,
                                int lanes, double *pc) {
  double a0[LB_LANES] = {0}, a1[LB_LANES] = {0};
  LB_LANE_LOOP(lanes, b, e, {
    double gi = (double)g[ii];
    a0[l] += gi * (double)d[ii];
    a1[l] += gi * gi;
  });
  pc[0] = lane_sum(a0);
  pc[1] = lane_sum(a1);
}

static void LB_SFX(pass_slope)(LB_SFX(lb_ws) *w, const LB_T *g, const LB_T *d) {
  const int lanes = w->lanes;
  LB_CHUNKS(w, { LB_SFX(slope_chunk)(g, d, b, e, lanes, pc); });
}

/* The new pair, in place over the previous point and gradient: s = x - s,
 * y = g - y; part 0 = y's, part 1 = y'y, part 2 = s'(-g) (the first dot
 * product of the two-loop recursion, where the direction starts at -g). */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void LB_SFX(pair_chunk)(const LB_T *restrict x, const LB_T *restrict g, LB_T *restrict s,
                               LB_T *restrict y, int64_t b, int64_t e, int lanes, double *pc) {
  double a0[LB_LANES] = {0}, a1[LB_LANES] = {0}, a2[LB_LANES] = {0};
  LB_LANE_LOOP(lanes, b, e, {
    double gi = (double)g[ii];
    LB_T si = (LB_T)((double)x[ii] - (double)s[ii]);
    LB_T yi = (LB_T)(gi - (double)y[ii]);
    s[ii] = si;
    y[ii] = yi;
    a0[l] += (double)yi * (double)si;
    a1[l] += (double)yi * (double)yi;
    a2[l] += (double)si * (-gi);
  });
  pc[0] = lane_sum(a0);
  pc[1] = lane_sum(a1);
  pc[2] = lane_sum(a2);
}

static void LB_SFX(pass_pair)(LB_SFX(lb_ws) *w, const LB_T *x, const LB_T *g, LB_T *s, LB_T *y) {
  const int lanes = w->lanes;
  LB_CHUNKS(w, { LB_SFX(pair_chunk)(x, g, s, y, b, e, lanes, pc); });
}

/* One step of the two-loop recursion fused with the dot product the next
 * step needs: d = (g ? -g : d) + c v, then d *= scale when scale != 0;
 * returns u'd (the new d) over [b, e). Most of an iteration's passes (2m of
 * about 2m + 3) are this one, so it is compiled for AVX-512, AVX2 and the
 * baseline and picked at load time; every clone does the same operations in
 * the same order per lane (no contraction: ISO C), so the bits are equal. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static double LB_SFX(twoloop_chunk)(LB_T *restrict d, const LB_T *restrict g, double c,
                                    const LB_T *restrict v, double scale, const LB_T *restrict u,
                                    int64_t b, int64_t e, int lanes) {
  double a0[LB_LANES] = {0};
  if (g && scale != 0.0)
    LB_LANE_LOOP(lanes, b, e, {
      LB_T t = (LB_T)((-(double)g[ii] + c * (double)v[ii]) * scale);
      d[ii] = t;
      a0[l] += (double)u[ii] * (double)t;
    });
  else if (g)
    LB_LANE_LOOP(lanes, b, e, {
      LB_T t = (LB_T)(-(double)g[ii] + c * (double)v[ii]);
      d[ii] = t;
      a0[l] += (double)u[ii] * (double)t;
    });
  else if (scale != 0.0)
    LB_LANE_LOOP(lanes, b, e, {
      LB_T t = (LB_T)(((double)d[ii] + c * (double)v[ii]) * scale);
      d[ii] = t;
      a0[l] += (double)u[ii] * (double)t;
    });
  else
    LB_LANE_LOOP(lanes, b, e, {
      LB_T t = (LB_T)((double)d[ii] + c * (double)v[ii]);
      d[ii] = t;
      a0[l] += (double)u[ii] * (double)t;
    });
  return lane_sum(a0);
}

static void LB_SFX(pass_twoloop)(LB_SFX(lb_ws) *w, LB_T *d, const LB_T *g, double c, const LB_T *v,
                                 double scale, const LB_T *u) {
  const int lanes = w->lanes;
  LB_CHUNKS(w, { pc[0] = LB_SFX(twoloop_chunk)(d, g, c, v, scale, u, b, e, lanes); });
}

/* The first non-finite gradient value (the sums only say that there is one). */
static int64_t LB_SFX(first_nonfinite)(const LB_T *g, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite((double)g[i])) return i;
  return -1;
}

/* An evaluation, with the checks the driver relies on: a finite objective
 * and gradient. Fills *gd and *gg from pass_slope when d is given (else
 * pass_init's sums are the caller's business). Returns SL_OK or SL_EINTERNAL. */
static int LB_SFX(evaluate)(double (*fn)(void *, const LB_T *, LB_T *), void *ctx, const LB_T *x,
                            LB_T *g, int64_t n, int k, double *fx, int *nev, sl_error *err) {
  *fx = fn(ctx, x, g);
  (*nev)++;
  if (!isfinite(*fx))
    return sl_fail(err, SL_EINTERNAL,
                   "L-BFGS: the objective returned %g at evaluation %d (iteration %d); "
                   "the objective and gradient must be finite",
                   *fx, *nev, k);
  (void)n;
  return SL_OK;
}

static int LB_SFX(bad_gradient)(const LB_T *g, int64_t n, int k, int nev, sl_error *err) {
  int64_t i = LB_SFX(first_nonfinite)(g, n);
  if (i < 0) /* finite values whose squares overflowed: not an error of f */
    return SL_OK;
  return sl_fail(err, SL_EINTERNAL,
                 "L-BFGS: the gradient has a non-finite value (g[%lld] = %g) at evaluation %d "
                 "(iteration %d); the objective and gradient must be finite",
                 (long long)i, (double)g[i], nev, k);
}

/* The line search outcome for success (SL_LBFGS_* codes are >= 0). */
#ifndef LB_LS_OK
#define LB_LS_OK (-1)
#define LB_LS_EINTERNAL (-2)
#endif

/* More-Thuente line search along d from xp (value finit, slope dginit),
 * starting with *stp. Each trial point goes to x, its gradient to g. On
 * success (LB_LS_OK): *f, *xnorm, *gnorm describe the accepted point. Else
 * an SL_LBFGS_* failure, or LB_LS_EINTERNAL (err filled). */
static int LB_SFX(line_search)(LB_SFX(lb_ws) *w, const sl_lbfgs_opts *o,
                               double (*fn)(void *, const LB_T *, LB_T *), void *ctx, LB_T *x, LB_T *g,
                               const LB_T *xp, const LB_T *d, double finit, double dginit, double *stp,
                               double *f, double *xnorm, double *gnorm, int k, int *nev, sl_error *err) {
  if (!(*stp > 0.)) return SL_LBFGS_LS_INTERVAL;
  if (0. < dginit) return SL_LBFGS_LS_NOT_DESCENT;
  /* [stx, sty]: the interval of uncertainty, stx the best step so far;
   * fx, fy and dgx, dgy: values and slopes there. */
  int brackt = 0, stage1 = 1, uinfo = 0, count = 0;
  const double dgtest = o->ftol * dginit;
  double width = o->max_step - o->min_step, prev_width = 2.0 * width;
  double stx = 0., sty = 0., fx = finit, fy = finit, dgx = dginit, dgy = dginit;
  for (;;) {
    double stmin, stmax;
    if (brackt) {
      stmin = LB_MIN(stx, sty);
      stmax = LB_MAX(stx, sty);
    } else {
      stmin = stx;
      stmax = *stp + 4.0 * (*stp - stx);
    }
    if (*stp < o->min_step) *stp = o->min_step;
    if (o->max_step < *stp) *stp = o->max_step;
    /* About to give up (the checks after the evaluation): then evaluate at
     * the best step so far, so that it is the point returned. */
    if (brackt && ((*stp <= stmin || stmax <= *stp) || o->max_linesearch <= count + 1 || uinfo != 0 ||
                   stmax - stmin <= o->xtol * stmax))
      *stp = stx;

    LB_SFX(pass_trial)(w, x, xp, d, *stp);
    const double xx = sum_parts(w->part, w->nchunks, 0);
    if (LB_SFX(evaluate)(fn, ctx, x, g, w->n, k, f, nev, err)) return LB_LS_EINTERNAL;
    LB_SFX(pass_slope)(w, g, d);
    const double dg = sum_parts(w->part, w->nchunks, 0), gg = sum_parts(w->part, w->nchunks, 1);
    if (!isfinite(gg) && LB_SFX(bad_gradient)(g, w->n, k, *nev, err)) return LB_LS_EINTERNAL;
    const double ftest1 = finit + *stp * dgtest;
    count++;

    if (brackt && ((*stp <= stmin || stmax <= *stp) || uinfo != 0)) return SL_LBFGS_LS_ROUNDING;
    if (*stp == o->max_step && *f <= ftest1 && dg <= dgtest) return SL_LBFGS_LS_MAX_STEP;
    if (*stp == o->min_step && (ftest1 < *f || dgtest <= dg)) return SL_LBFGS_LS_MIN_STEP;
    if (brackt && (stmax - stmin) <= o->xtol * stmax) return SL_LBFGS_LS_WIDTH;
    if (o->max_linesearch <= count) return SL_LBFGS_LS_MAX_EVALS;
    if (*f <= ftest1 && fabs(dg) <= o->gtol * (-dginit)) { /* strong Wolfe conditions */
      *xnorm = sqrt(xx);
      *gnorm = sqrt(gg);
      return LB_LS_OK;
    }

    /* Stage 1 lasts until a step has sufficient decrease and a slope no
     * steeper than min(ftol, gtol) dginit. During it, while the value is
     * above the sufficient-decrease line but below the best, the interval
     * is updated on the modified function f(a) - a dgtest. */
    if (stage1 && *f <= ftest1 && LB_MIN(o->ftol, o->gtol) * dginit <= dg) stage1 = 0;
    if (stage1 && ftest1 < *f && *f <= fx) {
      double fm = *f - *stp * dgtest;
      double fxm = fx - stx * dgtest, fym = fy - sty * dgtest;
      double dgm = dg - dgtest, dgxm = dgx - dgtest, dgym = dgy - dgtest;
      uinfo = mt_update(&stx, &fxm, &dgxm, &sty, &fym, &dgym, stp, fm, dgm, stmin, stmax, &brackt);
      fx = fxm + stx * dgtest;
      fy = fym + sty * dgtest;
      dgx = dgxm + dgtest;
      dgy = dgym + dgtest;
    } else {
      uinfo = mt_update(&stx, &fx, &dgx, &sty, &fy, &dgy, stp, *f, dg, stmin, stmax, &brackt);
    }
    /* Bisect when the interval did not shrink enough over two steps. */
    if (brackt) {
      if (0.66 * prev_width <= fabs(sty - stx)) *stp = stx + 0.5 * (sty - stx);
      prev_width = width;
      width = fabs(sty - stx);
    }
  }
}

#define LB_SWAP(a, b) do { LB_T *t_ = (a); (a) = (b); (b) = t_; } while (0)

static int LB_SFX(lbfgs_run)(int64_t n, LB_T *x_user, double (*fn)(void *, const LB_T *, LB_T *),
                             sl_lbfgs_progress_fn prog, void *ctx, const sl_lbfgs_opts *o,
                             sl_lbfgs_result *res, sl_error *err) {
  const int m = o->m;
  const int64_t nchunks = (n + LB_CHUNK - 1) / LB_CHUNK;
  LB_SFX(lb_ws) w = {n, nchunks, nthreads_for(o), nchunks > 1 ? LB_LANES : 1, NULL};
  /* own[]: every vector allocated here (freed at the end); the working
   * pointers below are permuted among these and x_user. */
  LB_T **own = calloc((size_t)(2 + 2 * m), sizeof *own);
  LB_T **S = calloc((size_t)m, sizeof *S), **Y = calloc((size_t)m, sizeof *Y);
  double *ys = calloc((size_t)m, sizeof *ys), *alpha = calloc((size_t)m, sizeof *alpha);
  double *pf = o->past > 0 ? calloc((size_t)o->past, sizeof *pf) : NULL;
  int *order = calloc((size_t)m, sizeof *order);
  int status = SL_OK, nown = 0;
  memset(res, 0, sizeof *res);
  res->status = SL_LBFGS_STOPPED;
  w.part = sl_malloc((size_t)w.nchunks * 3, sizeof *w.part);
  if (!own || !S || !Y || !ys || !alpha || (o->past > 0 && !pf) || !order || !w.part) goto NOMEM;
  for (nown = 0; nown < 2 + 2 * m; nown++)
    if (!(own[nown] = sl_malloc((size_t)n, sizeof(LB_T)))) goto NOMEM;
  LB_T *X = x_user, *G = own[0], *D = own[1];
  for (int j = 0; j < m; j++) { S[j] = own[2 + 2 * j]; Y[j] = own[3 + 2 * j]; }

  int nev = 0, k = 0;
  double fx;
  if ((status = LB_SFX(evaluate)(fn, ctx, X, G, n, 0, &fx, &nev, err))) goto DONE;
  LB_SFX(pass_init)(&w, X, G, D);
  double gg = sum_parts(w.part, w.nchunks, 0), xx = sum_parts(w.part, w.nchunks, 1);
  if (!isfinite(gg) && (status = LB_SFX(bad_gradient)(G, n, 0, nev, err))) goto DONE;
  double xnorm = sqrt(xx), gnorm = sqrt(gg);
  res->fx = fx; res->xnorm = xnorm; res->gnorm = gnorm; res->evaluations = nev;
  if (pf) pf[0] = fx;
  if (gnorm / LB_MAX(xnorm, 1.0) <= o->epsilon) {
    res->status = SL_LBFGS_ALREADY_MINIMIZED;
    goto DONE;
  }
  /* The first direction is -g; its slope -g'g and the step 1/||g||. */
  double dginit = -gg, step = 1.0 / sqrt(gg);
  int end = 0;
  for (k = 1;; k++) {
    /* The previous point and gradient move into the slot the new pair will
     * take (the oldest pair, no longer needed once d is computed); x and g
     * take that slot's memory for the trial points. */
    LB_SWAP(X, S[end]);
    LB_SWAP(G, Y[end]);
    double fnew = fx;
    int ls = LB_SFX(line_search)(&w, o, fn, ctx, X, G, S[end], D, fx, dginit, &step, &fnew, &xnorm,
                                 &gnorm, k, &nev, err);
    res->evaluations = nev;
    if (ls != LB_LS_OK) { /* back to the last accepted point */
      LB_SWAP(X, S[end]);
      LB_SWAP(G, Y[end]);
      if (ls == LB_LS_EINTERNAL) {
        status = SL_EINTERNAL;
        res->status = SL_LBFGS_NONFINITE;
      } else {
        res->status = ls;
      }
      break;
    }
    fx = fnew;
    res->iterations = k;
    res->fx = fx; res->xnorm = xnorm; res->gnorm = gnorm;
    if (prog && prog(ctx, k, nev, fx, xnorm, gnorm, step)) {
      res->status = SL_LBFGS_STOPPED;
      break;
    }
    if (gnorm / LB_MAX(xnorm, 1.0) <= o->epsilon) {
      res->status = SL_LBFGS_CONVERGED;
      break;
    }
    if (pf) {
      if (o->past <= k && (pf[k % o->past] - fx) / fx < o->delta) {
        res->status = SL_LBFGS_DELTA_CONVERGED;
        break;
      }
      pf[k % o->past] = fx;
    }
    if (o->max_iter != 0 && o->max_iter < k + 1) {
      res->status = SL_LBFGS_MAX_ITER;
      break;
    }

    /* The new pair, over the previous point and gradient. */
    LB_SFX(pass_pair)(&w, X, G, S[end], Y[end]);
    const double sy = sum_parts(w.part, w.nchunks, 0), yy = sum_parts(w.part, w.nchunks, 1);
    const double s_mg = sum_parts(w.part, w.nchunks, 2);
    if (!(sy > 0 && yy > 0)) { /* libLBFGS would divide by it */
      res->status = SL_LBFGS_LS_ROUNDING;
      break;
    }
    ys[end] = sy;
    const int bound = k < m ? k : m;
    const double gamma = sy / yy;
    /* order[0..bound): the pairs, newest first */
    for (int t = 0; t < bound; t++) order[t] = (end - t + m) % m;
    end = (end + 1) % m;

    /* Two-loop recursion, one fused pass per pair and loop: the first loop
     * from the newest pair to the oldest (d starts at -g, the scaling by
     * gamma joins the oldest pair's pass), the second back to the newest
     * (its last pass also gives the slope g'd for the line search). */
    alpha[order[0]] = s_mg / ys[order[0]];
    double beta = 0.0;
    for (int t = 0; t < bound; t++) {
      const int j = order[t], last = t == bound - 1;
      const LB_T *u = last ? Y[order[bound - 1]] : S[order[t + 1]];
      LB_SFX(pass_twoloop)(&w, D, t == 0 ? G : NULL, -alpha[j], Y[j], last ? gamma : 0.0, u);
      const double dot = sum_parts(w.part, w.nchunks, 0);
      if (!last) alpha[order[t + 1]] = dot / ys[order[t + 1]];
      else beta = dot / ys[order[bound - 1]];
    }
    for (int t = bound - 1; t >= 0; t--) {
      const int j = order[t];
      const LB_T *u = t > 0 ? Y[order[t - 1]] : G;
      LB_SFX(pass_twoloop)(&w, D, NULL, alpha[j] - beta, S[j], 0.0, u);
      const double dot = sum_parts(w.part, w.nchunks, 0);
      if (t > 0) beta = dot / ys[order[t - 1]];
      else dginit = dot;
    }
    step = 1.0;
  }
  res->message = sl_lbfgs_message(res->status);
  if (X != x_user) memcpy(x_user, X, (size_t)n * sizeof *X);
  goto FREE;
NOMEM:
  status = sl_fail(err, SL_ENOMEM, "L-BFGS: out of memory for %lld parameters and m = %d (%lld bytes)",
                   (long long)n, m, (long long)sl_lbfgs_bytes(n, m, (int)sizeof(LB_T)));
  goto FREE;
DONE:
  if (status == SL_EINTERNAL) res->status = SL_LBFGS_NONFINITE;
  res->message = sl_lbfgs_message(res->status);
FREE:
  if (own)
    for (int j = 0; j < nown && j < 2 + 2 * m; j++) free(own[j]);
  free(own); free(S); free(Y); free(ys); free(alpha); free(pf); free(order); free(w.part);
  return status;
}

#undef LB_SWAP
#undef LB_CHUNKS
#undef LB_LANE_LOOP
