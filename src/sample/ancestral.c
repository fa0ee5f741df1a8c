/* ancestral.c: exact i.i.d. sampling through the model interface (sample.h).
 *
 * The kind draws (sl_model_ops.sample); this file decides which generator
 * stream each draw takes, so that a seed gives the same samples for any
 * thread count: with the kind's sample_chunk > 0, chunk c of that many draws
 * takes the seed's generator jumped c times (sl_rng_jump) and chunks run in
 * parallel, one workspace per thread; with sample_chunk = 0 every draw comes
 * from one stream in order (threads then work inside each draw, as a
 * transformer's matmuls do).
 */
#include <stdlib.h>
#include <string.h>

#include "seqloop/rng.h"
#include "seqloop/sample.h"

#include "seqloop/progress.h"

int sl_sample_ancestral(const sl_model *m, const sl_draw_opts *o, int64_t n, uint64_t seed, int threads,
                        sl_progress *pr, uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_EXACT_SAMPLE))
    return sl_fail(err, SL_EUSAGE, "a %s model has no exact (ancestral) sampler; use Gibbs sampling",
                   sl_model_name(m));
  if (n < 1) return SL_OK;
  const int64_t R = sl_model_row_len(m), chunk = m->ops->sample_chunk;
  if (chunk <= 0) { /* one stream, in order */
    sl_model_ws *ws = NULL;
    int status = sl_model_ws_create(m, &ws, err);
    sl_rng r;
    sl_rng_seed(&r, seed);
    for (int64_t k = 0; k < n && !status; k++) {
      status = sl_model_sample(m, ws, &r, o, 1, out + k * R, ret_len ? ret_len + k : NULL,
                               ret_logp ? ret_logp + k : NULL, err);
      sl_progress_update(pr, k + 1);
    }
    sl_model_ws_destroy(ws);
    return status;
  }
  const int64_t nchunks = (n + chunk - 1) / chunk;
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
#pragma omp for schedule(dynamic, 1)
    for (int64_t c = 0; c < nchunks; c++) {
      if (!st) {
        sl_rng r;
        sl_rng_seed(&r, seed);
        for (int64_t j = 0; j < c; j++) sl_rng_jump(&r); /* chunk c has its own stream */
        const int64_t t0 = c * chunk, nb = n - t0 < chunk ? n - t0 : chunk;
        st = sl_model_sample(m, ws, &r, o, nb, out + t0 * R, ret_len ? ret_len + t0 : NULL,
                             ret_logp ? ret_logp + t0 : NULL, &e2);
#pragma omp atomic
        done += nb;
        sl_progress_update(pr, done);
      }
      if (st) {
        failed++;
#pragma omp critical(sl_sample_first_error)
        if (!first_status) { first_status = st; first = e2; }
      }
    }
    sl_model_ws_destroy(ws);
  }
  if (failed) {
    if (err) *err = first;
    return first_status ? first_status : SL_EINTERNAL;
  }
  return SL_OK;
}
