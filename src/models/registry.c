/* registry.c: the list of model kinds. Adding a kind is one new file that
 * defines `const sl_model_ops sl_<name>_ops` (docs/architecture.md) and one
 * line in KINDS below. The order is the order of listings; names are
 * unique (tests/unit/test_model.c). */
#include <string.h>

#include "seqloop/model.h"

#define KINDS(X) \
  X(profile)     \
  X(potts)       \
  X(ar)          \
  X(lor)         \
  X(gemme)       \
  X(stab)        \
  X(tfm)

#define DECLARE(k) extern const sl_model_ops sl_##k##_ops;
#define ENTRY(k) &sl_##k##_ops,
KINDS(DECLARE)
static const sl_model_ops *const kinds[] = {KINDS(ENTRY)};

const sl_model_ops *sl_model_kind_at(int k) {
  return k >= 0 && k < (int)(sizeof kinds / sizeof *kinds) ? kinds[k] : NULL;
}

const sl_model_ops *sl_model_kind(const char *name) {
  for (int k = 0; sl_model_kind_at(k); k++)
    if (strcmp(kinds[k]->name, name) == 0) return kinds[k];
  return NULL;
}
