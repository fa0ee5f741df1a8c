/* fuzz_modelfile.c: libFuzzer target for the readers of model files
 * (seqloop format and plmc's binary parameters) and assay CSVs. The input is
 * written to a temporary file (the readers take paths) and read four ways
 * (seqloop model, tfm checkpoint, plmc, CSV); a model that loads must have
 * finite parameters and score its focus (a tfm model: when the focus fits its
 * context). */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "seqloop/tfm.h"

/* A loaded model must give a finite score of its focus. */
static void check_model(const sl_model *m) {
  if (!sl_model_has(m, SL_CAP_ALIGNED)) {
    int64_t n = 0;
    for (int64_t i = 0; i < m->L; i++) n += m->focus[i] != 0;
    if (n + 1 > m->tfm->cfg.n_ctx) return; /* refused by design (NAN) */
  }
  if (!isfinite(sl_model_energy(m, m->focus))) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/seqloop-fuzz-model.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) { close(fd); unlink(path); return 0; }
  close(fd);
  sl_error err;
  sl_model *m = NULL;
  int st = sl_model_read(path, &m, &err);
  if (st) fuzz_check_error(st, &err);
  else check_model(m);
  sl_model_destroy(m);
  m = NULL;
  sl_tfm_state *ts = NULL;
  char *tj = NULL;
  st = sl_model_read_checkpoint(path, &m, &ts, &tj, &err);
  if (st) fuzz_check_error(st, &err);
  else if (!ts || ts->model != m->tfm || ts->step < 0) __builtin_trap();
  else check_model(m);
  sl_tfm_state_destroy(ts);
  free(tj);
  sl_model_destroy(m);
  m = NULL;
  st = sl_model_read_plmc(path, &m, &err);
  if (st) fuzz_check_error(st, &err);
  else if (!isfinite(sl_model_energy(m, m->focus))) __builtin_trap();
  sl_model_destroy(m);
  sl_csv *csv = NULL;
  st = sl_csv_read(path, &csv, &err);
  if (st) fuzz_check_error(st, &err);
  else
    for (int64_t r = 0; r < csv->nrows; r++)
      if (!csv->raw[r] || !csv->cell[r]) __builtin_trap();
  sl_csv_destroy(csv);
  unlink(path);
  return 0;
}
