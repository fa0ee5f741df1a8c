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
  double *cpart;   /* compact form (several chunks): cstride lane accumulators per chunk */
  int64_t cstride; /* 4 m LB_LANES */
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

/* ---- The compact form (several chunks) ----------------------------------
 * Byrd, Nocedal & Schnabel (1994), eq. 2.6 / Theorem 2.2: with H0 = gamma I,
 *   H g = gamma g + S p + gamma Y q,   q = -R^-1 u,
 *   p = R^-T ((D + gamma Y'Y) R^-1 u - gamma v),
 * u = S'g, v = Y'g, R the upper triangle of S'Y (oldest pair first), D its
 * diagonal. So one pass reads the history with g (and makes the new pair:
 * all its dot products at once) and one pass writes d from g and the
 * history, instead of the two-loop recursion's 2m read-modify-write passes
 * over d. Within a chunk the values are taken in sub-blocks of LB_SUB so
 * that each pass reads every vector once from memory and the temporaries
 * stay in L1; every dot product keeps LB_LANES lanes per chunk as the other
 * passes do (so thread-count-independent bits). */
#ifndef LB_SUB
#define LB_SUB 1024
#endif

/* The new pair in place over the previous point and gradient (s = x - s,
 * y = g - y) and its dot products with itself, g and the nh older pairs
 * (hs, hy): acc (LB_LANES lanes each) 0 = s'y, 1 = y'y, 2 = s'g, 3 = y'g,
 * then per older pair h: 4 + 4h = s_h'y, + 1 = y_h'y, + 2 = s_h'g,
 * + 3 = y_h'g. Written with GCC's vector types, two vectors of 4 doubles
 * per dot product, lane l taking the values at offsets = l mod 8 from the
 * chunk start (as LB_LANE_LOOP; the same operations per lane in every clone,
 * so the same bits: the AVX2 clone under valgrind and the AVX-512 clone
 * give the same final objective bit for bit on a 500,000-value problem).
 * With plain lane loops GCC assembled the vectors from scalar loads (682 M
 * instructions for this function under callgrind, 500,000 values, 20
 * iterations, against 379 M now); with 8-double vectors the AVX2 clone
 * kept them in memory. */
#if LB_COMPACT
_Static_assert(LB_LANES == 8, "cpair_chunk's vectors are 2 x 4 lanes of doubles");
typedef float lb_v4f __attribute__((vector_size(16)));
typedef double lb_v4d __attribute__((vector_size(32)));
/* 4 floats at p as doubles */
#define LB_LD4(p) __extension__({ lb_v4f v_; memcpy(&v_, (p), sizeof v_); __builtin_convertvector(v_, lb_v4d); })
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void LB_SFX(cpair_chunk)(const LB_T *restrict x, const LB_T *restrict g, LB_T *restrict s,
                                LB_T *restrict y, LB_T *const *hs, LB_T *const *hy, int nh, int64_t b,
                                int64_t e, double *restrict acc) {
  /* lanes 0-3 of dot product k in A[2k], lanes 4-7 in A[2k + 1] */
  lb_v4d A[2 * (4 + 4 * 32)]; /* nh <= 31 (the driver takes this path for m <= 32) */
  const int nd = 4 + 4 * nh;
  for (int k = 0; k < 2 * nd; k++) A[k] = (lb_v4d){0};
  const int64_t e8 = b + (e - b) / 8 * 8;
  for (int64_t sb = b; sb < e8; sb += LB_SUB) {
    const int64_t se = sb + LB_SUB < e8 ? sb + LB_SUB : e8;
    for (int half = 0; half < 2; half++) {
      lb_v4d a0 = A[half], a1 = A[2 + half], a2 = A[4 + half], a3 = A[6 + half];
      for (int64_t i = sb + 4 * half; i < se; i += 8) {
        const lb_v4d gi = LB_LD4(g + i);
        const lb_v4f sf = __builtin_convertvector(LB_LD4(x + i) - LB_LD4(s + i), lb_v4f);
        const lb_v4f yf = __builtin_convertvector(gi - LB_LD4(y + i), lb_v4f);
        memcpy(s + i, &sf, sizeof sf);
        memcpy(y + i, &yf, sizeof yf);
        const lb_v4d sd = __builtin_convertvector(sf, lb_v4d), yd = __builtin_convertvector(yf, lb_v4d);
        a0 += sd * yd;
        a1 += yd * yd;
        a2 += sd * gi;
        a3 += yd * gi;
      }
      A[half] = a0; A[2 + half] = a1; A[4 + half] = a2; A[6 + half] = a3;
    }
    for (int h = 0; h < nh; h++) { /* y and g come from L1 */
      const LB_T *restrict sh = hs[h], *restrict yh = hy[h];
      lb_v4d *Ah = A + 2 * (4 + 4 * h);
      lb_v4d a0 = Ah[0], a1 = Ah[2], a2 = Ah[4], a3 = Ah[6];
      lb_v4d c0 = Ah[1], c1 = Ah[3], c2 = Ah[5], c3 = Ah[7];
      for (int64_t i = sb; i < se; i += 8) {
        const lb_v4d sv = LB_LD4(sh + i), yv = LB_LD4(yh + i), ny = LB_LD4(y + i), gi = LB_LD4(g + i);
        a0 += sv * ny;
        a1 += yv * ny;
        a2 += sv * gi;
        a3 += yv * gi;
        const lb_v4d sv2 = LB_LD4(sh + i + 4), yv2 = LB_LD4(yh + i + 4), ny2 = LB_LD4(y + i + 4),
                     gi2 = LB_LD4(g + i + 4);
        c0 += sv2 * ny2;
        c1 += yv2 * ny2;
        c2 += sv2 * gi2;
        c3 += yv2 * gi2;
      }
      Ah[0] = a0; Ah[2] = a1; Ah[4] = a2; Ah[6] = a3;
      Ah[1] = c0; Ah[3] = c1; Ah[5] = c2; Ah[7] = c3;
    }
  }
  for (int k = 0; k < 2 * nd; k++) memcpy(acc + 4 * k, &A[k], sizeof A[k]);
  /* the chunk's last values (fewer than 8), from lane 0 */
  for (int64_t i = e8; i < e; i++) {
    const int l = (int)(i - e8);
    const double gi = (double)g[i];
    const LB_T si = (LB_T)((double)x[i] - (double)s[i]), yi = (LB_T)(gi - (double)y[i]);
    s[i] = si;
    y[i] = yi;
    acc[l] += (double)si * (double)yi;
    acc[LB_LANES + l] += (double)yi * (double)yi;
    acc[2 * LB_LANES + l] += (double)si * gi;
    acc[3 * LB_LANES + l] += (double)yi * gi;
    for (int h = 0; h < nh; h++) {
      double *ah = acc + (4 + 4 * h) * LB_LANES;
      ah[l] += (double)hs[h][i] * (double)yi;
      ah[LB_LANES + l] += (double)hy[h][i] * (double)yi;
      ah[2 * LB_LANES + l] += (double)hs[h][i] * gi;
      ah[3 * LB_LANES + l] += (double)hy[h][i] * gi;
    }
  }
  /* each dot product's chunk sum goes to its lane 0, lanes added in order */
  for (int k = 0; k < nd; k++) acc[k * LB_LANES] = lane_sum(acc + k * LB_LANES);
}

/* The direction d = cg g + sum_k cv[k] V[k] (formed in double in that
 * order, rounded once), and acc = g'd (LB_LANES lanes; the chunk sum left
 * in lane 0). In sub-blocks through an L1-resident double buffer, two
 * vectors per read-modify-write of it (a loop over the vectors with the
 * sum in a register took twice the instructions: the coefficient and the
 * pointer reloaded per vector). */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void LB_SFX(cdir_chunk)(LB_T *restrict d, const LB_T *restrict g, double cg, const LB_T *const *V,
                               const double *cv, int nv, int64_t b, int64_t e, double *restrict acc) {
  double t[LB_SUB] __attribute__((aligned(64)));
  double a0[LB_LANES] = {0};
  for (int64_t sb = b; sb < e; sb += LB_SUB) {
    const int64_t se = sb + LB_SUB < e ? sb + LB_SUB : e, len = se - sb;
    const LB_T *restrict gs = g + sb;
    for (int64_t i = 0; i < len; i++) t[i] = cg * (double)gs[i];
    int k = 0;
    for (; k + 1 < nv; k += 2) {
      const LB_T *restrict v0 = V[k] + sb, *restrict v1 = V[k + 1] + sb;
      const double c0 = cv[k], c1 = cv[k + 1];
      for (int64_t i = 0; i < len; i++) t[i] = t[i] + c0 * (double)v0[i] + c1 * (double)v1[i];
    }
    for (; k < nv; k++) {
      const LB_T *restrict v = V[k] + sb;
      const double c = cv[k];
      for (int64_t i = 0; i < len; i++) t[i] += c * (double)v[i];
    }
    LB_LANE_LOOP(LB_LANES, sb, se, {
      LB_T di = (LB_T)t[ii - sb];
      d[ii] = di;
      a0[l] += (double)g[ii] * (double)di;
    });
  }
  acc[0] = lane_sum(a0);
}

/* Sum of one dot product (index k of stride values per chunk, lane 0) over
 * the chunks, in chunk order. */
static double LB_SFX(csum)(const LB_SFX(lb_ws) *w, int64_t stride, int k) {
  double s = 0.0;
  for (int64_t c = 0; c < w->nchunks; c++) s += w->cpart[c * stride + (int64_t)k * LB_LANES];
  return s;
}

static void LB_SFX(pass_cpair)(LB_SFX(lb_ws) *w, const LB_T *x, const LB_T *g, LB_T *s, LB_T *y,
                               LB_T *const *hs, LB_T *const *hy, int nh) {
  const int64_t nch = w->nchunks, n = w->n, stride = w->cstride;
  double *cp = w->cpart;
#pragma omp parallel for num_threads(w->nt) schedule(static)
  for (int64_t c = 0; c < nch; c++) {
    const int64_t b = c * LB_CHUNK, e = b + LB_CHUNK < n ? b + LB_CHUNK : n;
    LB_SFX(cpair_chunk)(x, g, s, y, hs, hy, nh, b, e, cp + c * stride);
  }
}

static void LB_SFX(pass_cdir)(LB_SFX(lb_ws) *w, LB_T *d, const LB_T *g, double cg, const LB_T *const *V,
                              const double *cv, int nv) {
  const int64_t nch = w->nchunks, n = w->n, stride = w->cstride;
  double *cp = w->cpart;
#pragma omp parallel for num_threads(w->nt) schedule(static)
  for (int64_t c = 0; c < nch; c++) {
    const int64_t b = c * LB_CHUNK, e = b + LB_CHUNK < n ? b + LB_CHUNK : n;
    LB_SFX(cdir_chunk)(d, g, cg, V, cv, nv, b, e, cp + c * stride);
  }
}
#undef LB_LD4
#endif /* LB_COMPACT */

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
  LB_SFX(lb_ws) w = {n, nchunks, nthreads_for(o), nchunks > 1 ? LB_LANES : 1, NULL, NULL, 0};
  /* The compact form for problems of several chunks (LB_COMPACT: the float
   * minimiser); one chunk keeps the two-loop recursion and libLBFGS's bits. */
  const int compact = LB_COMPACT && nchunks > 1 && m <= 32; /* (cpair_chunk's registers) */
  /* compact form: per slot, SY[a m + c] = s_a'y_c (for a older than c, and
   * a = c) and YY[a m + c] = y_a'y_c; cu, cv: S'g and Y'g; the rest scratch */
  double *SY = NULL, *YY = NULL, *cu = NULL, *cvv = NULL, *cq = NULL, *cpv = NULL, *ccoef = NULL;
  const LB_T **cvec = NULL;
  LB_T **hs = NULL, **hy = NULL;
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
  if (compact) {
    w.cstride = 4 * (int64_t)m * LB_LANES;
    w.cpart = sl_malloc((size_t)(w.nchunks * w.cstride), sizeof *w.cpart);
    SY = calloc((size_t)m * (size_t)m, sizeof *SY);
    YY = calloc((size_t)m * (size_t)m, sizeof *YY);
    cu = calloc((size_t)m, sizeof *cu); cvv = calloc((size_t)m, sizeof *cvv);
    cq = calloc((size_t)m, sizeof *cq); cpv = calloc((size_t)m, sizeof *cpv);
    ccoef = calloc((size_t)(2 * m), sizeof *ccoef);
    cvec = calloc((size_t)(2 * m), sizeof *cvec);
    hs = calloc((size_t)m, sizeof *hs); hy = calloc((size_t)m, sizeof *hy);
    if (!w.cpart || !SY || !YY || !cu || !cvv || !cq || !cpv || !ccoef || !cvec || !hs || !hy) goto NOMEM;
  }
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

    const int bound = k < m ? k : m;
    /* order[0..bound): the pairs, newest first */
    for (int t = 0; t < bound; t++) order[t] = (end - t + m) % m;
#if LB_COMPACT
    if (compact) {
      /* The new pair and every dot product the direction needs, in one pass
       * over the history; then the direction in one more (see the compact
       * form above). */
      const int nh = bound - 1, e0 = end;
      for (int h = 0; h < nh; h++) { hs[h] = S[order[h + 1]]; hy[h] = Y[order[h + 1]]; }
      LB_SFX(pass_cpair)(&w, X, G, S[e0], Y[e0], hs, hy, nh);
      const double sy = LB_SFX(csum)(&w, w.cstride, 0), yy = LB_SFX(csum)(&w, w.cstride, 1);
      if (!(sy > 0 && yy > 0)) {
        res->status = SL_LBFGS_LS_ROUNDING;
        break;
      }
      SY[e0 * m + e0] = sy;
      YY[e0 * m + e0] = yy;
      cu[e0] = LB_SFX(csum)(&w, w.cstride, 2);
      cvv[e0] = LB_SFX(csum)(&w, w.cstride, 3);
      for (int h = 0; h < nh; h++) {
        const int a = order[h + 1];
        SY[a * m + e0] = LB_SFX(csum)(&w, w.cstride, 4 + 4 * h);
        YY[a * m + e0] = YY[e0 * m + a] = LB_SFX(csum)(&w, w.cstride, 5 + 4 * h);
        cu[a] = LB_SFX(csum)(&w, w.cstride, 6 + 4 * h);
        cvv[a] = LB_SFX(csum)(&w, w.cstride, 7 + 4 * h);
      }
      const double gamma = sy / yy;
      /* In age order (t = 0 the oldest: slot order[bound - 1 - t]):
       * q = R^-1 u by back substitution (R upper triangular), then
       * w = (D + gamma Y'Y) q - gamma v, p = R^-T w by forward substitution;
       * d = -H g = -gamma g - S p + gamma Y q. */
#define LB_SL(t) order[bound - 1 - (t)]
      for (int t = bound - 1; t >= 0; t--) {
        const int a = LB_SL(t);
        double r = cu[a];
        for (int t2 = t + 1; t2 < bound; t2++) r -= SY[a * m + LB_SL(t2)] * cq[t2];
        cq[t] = r / SY[a * m + a];
      }
      for (int t = 0; t < bound; t++) {
        const int a = LB_SL(t);
        double r = 0.0;
        for (int t2 = 0; t2 < bound; t2++) r += YY[a * m + LB_SL(t2)] * cq[t2];
        r = SY[a * m + a] * cq[t] + gamma * r - gamma * cvv[a];
        for (int t2 = 0; t2 < t; t2++) r -= SY[LB_SL(t2) * m + a] * cpv[t2];
        cpv[t] = r / SY[a * m + a];
      }
      for (int t = 0; t < bound; t++) {
        const int a = LB_SL(t);
        cvec[2 * t] = S[a];
        ccoef[2 * t] = -cpv[t];
        cvec[2 * t + 1] = Y[a];
        ccoef[2 * t + 1] = gamma * cq[t];
      }
#undef LB_SL
      end = (end + 1) % m;
      LB_SFX(pass_cdir)(&w, D, G, -gamma, cvec, ccoef, 2 * bound);
      dginit = LB_SFX(csum)(&w, w.cstride, 0);
      step = 1.0;
      continue;
    }
#endif

    /* The new pair, over the previous point and gradient. */
    LB_SFX(pass_pair)(&w, X, G, S[end], Y[end]);
    const double sy = sum_parts(w.part, w.nchunks, 0), yy = sum_parts(w.part, w.nchunks, 1);
    const double s_mg = sum_parts(w.part, w.nchunks, 2);
    if (!(sy > 0 && yy > 0)) { /* libLBFGS would divide by it */
      res->status = SL_LBFGS_LS_ROUNDING;
      break;
    }
    ys[end] = sy;
    const double gamma = sy / yy;
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
  free(w.cpart); free(SY); free(YY); free(cu); free(cvv); free(cq); free(cpv); free(ccoef); free(cvec);
  free(hs); free(hy);
  return status;
}

#undef LB_SWAP
#undef LB_CHUNKS
#undef LB_LANE_LOOP
