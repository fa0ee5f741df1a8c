/* fuzz_csv.c: libFuzzer target for the table reader (src/seq/csv.c) and the
 * mutant grammar (src/score/mutant.c) over every cell of the table's first
 * column, against a small model built here. Invariants: a table that loads
 * has ncols >= 1 and every row ncols cells; a variant that parses has its
 * positions inside the model and wild types that match the focus. */
#include <stdio.h>
#include <unistd.h>

#include "fuzz_common.h"

static sl_model *model(void) {
  static sl_model *m;
  if (m) return m;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  m = sl_model_create("profile", 12, abc, 1);
  if (!m) abort();
  for (int64_t i = 0; i < m->L; i++) { m->focus[i] = (uint8_t)(1 + i % 20); m->pos[i] = 5 + i; }
  sl_error err;
  if (sl_model_prepare(m, &err)) abort();
  return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/seqloop-fuzz-csv.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  ssize_t w = write(fd, data, size);
  close(fd);
  if (w != (ssize_t)size) { unlink(path); return 0; }
  sl_error err;
  sl_csv *c = NULL;
  int st = sl_csv_read(path, &c, &err);
  unlink(path);
  if (st) { fuzz_check_error(st, &err); return 0; }
  if (c->ncols < 1) __builtin_trap();
  const sl_model *m = model();
  sl_mutation mut[SL_MAX_MUTATIONS];
  for (int64_t r = 0; r < c->nrows && r < 200; r++) {
    if (!c->cell[r] || !c->raw[r]) __builtin_trap();
    int n = 0;
    st = sl_mutant_parse(m, c->cell[r][0], 0, mut, &n, &err);
    if (st) { fuzz_check_error(st, &err); continue; }
    if (n < 0 || n > SL_MAX_MUTATIONS) __builtin_trap();
    for (int k = 0; k < n; k++)
      if (mut[k].col < 0 || mut[k].col >= m->L || mut[k].wt != m->focus[mut[k].col]) __builtin_trap();
  }
  sl_csv_destroy(c);
  return 0;
}
