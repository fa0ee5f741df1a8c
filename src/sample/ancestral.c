/* ancestral.c: exact i.i.d. sampling through the model interface (sample.h).
 *
 * The kind draws (sl_model_ops.sample); this file decides which generator
 * stream each draw takes, so that a seed gives the same samples for any
 * thread count: with the kind's sample_chunk > 0, chunk c of that many draws
 * takes the seed's generator jumped c times (sl_rng_jump) and chunks run in
 * parallel, one workspace per thread; with sample_chunk = 0 the draws run in
 * order (threads then work inside each draw, as a transformer's matmuls do)
 * and draw k takes the seed's generator jumped k times: chunks of one draw,
 * the jumps made incrementally.
 *
 * Every draw's stream is thus a function of (seed, its index) alone, so
 * sl_sample_ancestral_range can give draws lo..hi-1 of an n-draw run, the
 * same bytes as those rows of the whole run, by drawing only the chunks
 * that hold them (a shard of `seqloop sample`, docs/scale.md). Before
 * shards (issue 16) the sample_chunk = 0 draws shared one stream (draw k
 * continued where draw k-1 stopped), so a piece would have had to replay
 * every draw before its own; per-draw streams changed the tfm samples of a
 * given seed once, and make a tfm piece cost its own draws only. A jump is
 * a few hundred generator steps, nothing beside a transformer's forward
 * pass.
 */
#include <stdlib.h>
#include <string.h>

#include "seqloop/rng.h"
#include "seqloop/sample.h"

#include "seqloop/progress.h"

int sl_sample_ancestral(const sl_model *m, const sl_draw_opts *o, int64_t n, uint64_t seed, int threads,
                        sl_progress *pr, uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err) {
  return sl_sample_ancestral_range(m, o, n, 0, n, seed, threads, pr, out, ret_len, ret_logp, err);
}

/* Draws [lo, hi) of an n-draw run. A chunk that straddles lo or hi is drawn
 * whole into scratch and the part inside copied: a kind may consume its
 * stream site by site across the chunk's draws, so the first k draws of a
 * chunk need not equal a k-draw chunk's. */
int sl_sample_ancestral_range(const sl_model *m, const sl_draw_opts *o, int64_t n, int64_t lo, int64_t hi,
                              uint64_t seed, int threads, sl_progress *pr, uint8_t *out, int64_t *ret_len,
                              double *ret_logp, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_EXACT_SAMPLE))
    return sl_fail(err, SL_EUSAGE, "a %s model has no exact (ancestral) sampler; use Gibbs sampling",
                   sl_model_name(m));
  if (lo < 0 || hi > n || lo > hi) return sl_fail(err, SL_EUSAGE, "draws %lld..%lld are not within 0..%lld",
                                                  (long long)lo, (long long)hi, (long long)n);
  if (hi <= lo) return SL_OK;
  const int64_t R = sl_model_row_len(m), chunk = m->ops->sample_chunk;
  if (chunk <= 0) { /* draws in order, draw k from the seed's generator jumped k times */
    sl_model_ws *ws = NULL;
    int status = sl_model_ws_create(m, &ws, err);
    sl_rng next;
    sl_rng_seed(&next, seed);
    for (int64_t k = 0; k < lo; k++) sl_rng_jump(&next);
    for (int64_t k = lo; k < hi && !status; k++) {
      sl_rng r = next;
      sl_rng_jump(&next);
      status = sl_model_sample(m, ws, &r, o, 1, out + (k - lo) * R, ret_len ? ret_len + (k - lo) : NULL,
                               ret_logp ? ret_logp + (k - lo) : NULL, err);
      sl_progress_update(pr, k - lo + 1);
    }
    sl_model_ws_destroy(ws);
    return status;
  }
  const int64_t c0 = lo / chunk, c1 = (hi + chunk - 1) / chunk; /* the chunks that hold [lo, hi) */
  int failed = 0;
  sl_error first;
  sl_error_clear(&first);
  int first_status = SL_OK;
  int64_t done = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : 1) reduction(+ : failed)
  {
    sl_model_ws *ws = NULL;
    sl_error e2;
    int st = sl_model_ws_create(m, &ws, &e2);
    uint8_t *sx = NULL; /* scratch for a chunk that straddles lo or hi */
    int64_t *sl = NULL;
    double *sp = NULL;
#pragma omp for schedule(dynamic, 1)
    for (int64_t c = c0; c < c1; c++) {
      if (!st) {
        sl_rng r;
        sl_rng_seed(&r, seed);
        for (int64_t j = 0; j < c; j++) sl_rng_jump(&r); /* chunk c has its own stream */
        const int64_t t0 = c * chunk, nb = n - t0 < chunk ? n - t0 : chunk;
        const int64_t a = t0 > lo ? t0 : lo, b = t0 + nb < hi ? t0 + nb : hi; /* the part kept */
        if (a == t0 && b == t0 + nb) {
          st = sl_model_sample(m, ws, &r, o, nb, out + (t0 - lo) * R, ret_len ? ret_len + (t0 - lo) : NULL,
                               ret_logp ? ret_logp + (t0 - lo) : NULL, &e2);
        } else {
          if (!sx && (!(sx = malloc((size_t)(chunk * R))) || !(sl = malloc((size_t)chunk * sizeof *sl)) ||
                      !(sp = malloc((size_t)chunk * sizeof *sp))))
            st = sl_fail(&e2, SL_ENOMEM, "out of memory");
          if (!st) st = sl_model_sample(m, ws, &r, o, nb, sx, sl, sp, &e2);
          if (!st) {
            memcpy(out + (a - lo) * R, sx + (a - t0) * R, (size_t)((b - a) * R));
            if (ret_len) memcpy(ret_len + (a - lo), sl + (a - t0), (size_t)(b - a) * sizeof *sl);
            if (ret_logp) memcpy(ret_logp + (a - lo), sp + (a - t0), (size_t)(b - a) * sizeof *sp);
          }
        }
#pragma omp atomic
        done += b - a;
        sl_progress_update(pr, done);
      }
      if (st) {
        failed++;
#pragma omp critical(sl_sample_first_error)
        if (!first_status) { first_status = st; first = e2; }
      }
    }
    sl_model_ws_destroy(ws);
    free(sx);
    free(sl);
    free(sp);
  }
  if (failed) {
    if (err) *err = first;
    return first_status ? first_status : SL_EINTERNAL;
  }
  return SL_OK;
}
