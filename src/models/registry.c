/* registry.c: the list of model kinds. Adding a kind is one new file that
 * defines its sl_model_ops (see docs/architecture.md) and one line here. The
 * order is the order of `seqloop -h` listings; names are unique. */
#include <string.h>

#include "seqloop/model.h"

#include "kinds.h"

static const sl_model_ops *const kinds[] = {
  &sl_profile_ops,
  &sl_potts_ops,
  &sl_ar_ops,
  &sl_tfm_ops,
};

const sl_model_ops *sl_model_kind_at(int k) {
  return k >= 0 && k < (int)(sizeof kinds / sizeof *kinds) ? kinds[k] : NULL;
}

const sl_model_ops *sl_model_kind(const char *name) {
  for (int k = 0; sl_model_kind_at(k); k++)
    if (strcmp(kinds[k]->name, name) == 0) return kinds[k];
  return NULL;
}
