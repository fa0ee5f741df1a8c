/* fuzz_modelfile_sealed.c: libFuzzer target that reaches model-file header
 * and tensor validation. A mutated model file almost always fails the
 * trailing SHA-256 check, so mutations never reach the JSON header, the
 * tensor table or the parameter checks. This target re-seals every input:
 * when it starts with the seqloop magic, the last 32 bytes are replaced by
 * the SHA-256 of everything before them (what a hostile writer would do).
 * A model that loads must score its focus finitely and give finite samples
 * of every kind that samples exactly (issue 18: absurd parameters). Seeds:
 * `make fuzz-seeds` fits small models of each kind on a synthetic alignment
 * (build-fuzz/seeds-model/). */
#include <math.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 48 || size > (1u << 22)) return 0;
  uint8_t *b = malloc(size);
  if (!b) return 0;
  memcpy(b, data, size);
  if (memcmp(b, "SEQLOOP\0", 8) == 0) {
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, size - 32, b);
    sha256_digest(&c, 32, b + size - 32);
  }
  char path[] = "/tmp/seqloop-fuzz-sealed.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) { free(b); return 0; }
  ssize_t w = write(fd, b, size);
  close(fd);
  free(b);
  if (w != (ssize_t)size) { unlink(path); return 0; }
  sl_error err;
  sl_model *m = NULL;
  int st = sl_model_read(path, &m, &err);
  unlink(path);
  if (st) { fuzz_check_error(st, &err); return 0; }
  double v;
  st = sl_model_score(m, NULL, m->focus, &v, &err);
  if (st) fuzz_check_error(st, &err);
  else if (!isfinite(v)) __builtin_trap();
  if (sl_model_has(m, SL_CAP_EXACT_SAMPLE) && m->L <= 4096) {
    int64_t R = sl_model_row_len(m);
    uint8_t *x = malloc((size_t)(R > 0 ? R : 1) * 2);
    double lp[2];
    sl_draw_opts o;
    sl_draw_opts_init(&o);
    sl_rng r;
    sl_rng_seed(&r, 1);
    if (x) {
      st = sl_model_sample(m, NULL, &r, &o, 2, x, NULL, lp, &err);
      if (st) fuzz_check_error(st, &err);
      else if (!isfinite(lp[0]) || !isfinite(lp[1])) __builtin_trap();
    }
    free(x);
  }
  sl_model_destroy(m);
  return 0;
}
