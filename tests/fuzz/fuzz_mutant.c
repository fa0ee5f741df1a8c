/* fuzz_mutant.c: libFuzzer target for the variant parser that `score` and
 * the leakage audit share (sl_mutant_parse), against a small model whose
 * numbering has a hole and an offset. A variant that parses must name
 * distinct columns inside the model with the focus's wild type. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sl_model *m = NULL;
  static sl_mutation mut[SL_MAX_MUTATIONS];
  if (!m) {
    const char *focus = "ACDEFGHIKLMNPQRSTVWY";
    m = sl_model_create("profile", 20, sl_alphabet_get(SL_ABC_PROTEIN), 0);
    if (!m) return 0;
    for (int i = 0; i < 20; i++) {
      m->focus[i] = m->abc->code[(unsigned char)focus[i]];
      m->pos[i] = 24 + i + (i >= 10 ? 3 : 0); /* 24..33, 37..46 */
    }
  }
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  sl_error err;
  int n = 0;
  for (int64_t offset = 0; offset <= 1; offset++) {
    int st = sl_mutant_parse(m, text, offset, mut, &n, &err);
    if (st) { fuzz_check_error(st, &err); continue; }
    for (int k = 0; k < n; k++) {
      if (mut[k].col < 0 || mut[k].col >= m->L || mut[k].wt != m->focus[mut[k].col]) __builtin_trap();
      for (int j = 0; j < k; j++) if (mut[j].col == mut[k].col) __builtin_trap();
    }
  }
  free(text);
  return 0;
}
