/* kinds.h: the operation tables of the model kinds (private to src/models).
 * Each is defined in the kind's own file; registry.c lists them. */
#ifndef SEQLOOP_MODELS_KINDS_H
#define SEQLOOP_MODELS_KINDS_H

#include "seqloop/model.h"

extern const sl_model_ops sl_profile_ops; /* profile.c */
extern const sl_model_ops sl_potts_ops;   /* potts.c */
extern const sl_model_ops sl_ar_ops;      /* ar.c */
extern const sl_model_ops sl_tfm_ops;     /* tfm_model.c */

/* Pairwise (potts) and site-independent (profile, J NULL) models share the
 * energy, the mutant delta and the conditionals (potts.c). */
int sl_pairwise_energy(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err);
int sl_pairwise_delta(const sl_model *m, void *ws, const uint8_t *s, const int64_t *cols,
                      const uint8_t *mt, int n, double *ret, sl_error *err);
void sl_pairwise_conditional(const sl_model *m, const uint8_t *s, int64_t i, double *lg);

/* Copy the focus row, its residue numbers (column number where it has none)
 * and its name from a preprocessed alignment into a model of msa->L sites:
 * what a kind fitted inside the library (lor, gemme) records, as `seqloop
 * fit` does for the others (potts.c). */
struct sl_msa;
int sl_model_focus_from_msa(sl_model *m, const struct sl_msa *msa, sl_error *err);

#endif
