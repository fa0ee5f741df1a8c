/* fuzz_modelfile.c: libFuzzer target for the readers of model files
 * (seqloop format and plmc's binary parameters) and assay CSVs. The input is
 * written to a temporary file (the readers take paths) and read three ways;
 * a model that loads must have finite parameters and score its focus. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_common.h"

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
  else if (!isfinite(sl_model_energy(m, m->focus))) __builtin_trap();
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
