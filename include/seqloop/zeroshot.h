/* seqloop/zeroshot.h: fits of the zero-shot scoring kinds (docs/scoring.md).
 *
 *   lor    weighted site-independent log-odds ratios (RSALOR / EvoStability
 *          "LORw"): h_i(a) = log(f_i(a) / (1 - f_i(a))), f the weighted
 *          21-state (gap included) column frequencies mixed with a uniform
 *          (1 - r) f + r / 21; the score of wt -> mt is h_i(mt) - h_i(wt)
 *          (higher = fitter; EvoStability's LORw is its negative).
 *   gemme  an evolutionary-distance model in the spirit of GEMME (Laine,
 *          Karami & Carbone 2019): conservation per column, an epistatic term
 *          from the conservation-weighted distance of the focus to the
 *          nearest sequence carrying the mutant residue, an independent term
 *          over residues and residue classes, combined 0.6 / 0.4 as GEMME
 *          does. Additive over multi-mutants.
 *   stab   a burial-weighted physical stability term (no alignment
 *          statistics): hydrophobicity and cavity loss scaled by burial,
 *          plus the Pro/Gly backbone cost (sl_stab_fit below).
 * All are field-only kinds (J NULL, q = 21 with the gap a state) whose
 * fields are the single-mutant scores, so sl_mutant_delta scores any number
 * of mutations as a sum. An optional per-column factor (RSA: 1 - min(RSA,
 * 100) / 100, as RSALOR) multiplies the fields; the model's meta records it.
 */
#ifndef SEQLOOP_ZEROSHOT_H
#define SEQLOOP_ZEROSHOT_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/model.h"
#include "seqloop/msa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sl_lor_fit()
 * Purpose:  The lor kind from an alignment with a focus and row weights w
 *           (ProteinGym/RSALOR: plmc-convention weights at theta 0.2).
 * Args:     reg - frequency regularisation r in (0, 1) (RSALOR: 0.01)
 * Returns:  SL_OK; SL_EUSAGE (reg out of range, no focus), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_lor_fit(const sl_msa *msa, const double *w, double reg, sl_model **ret_m,
                            sl_error *err);

/* sl_gemme_fit()
 * Purpose:  The gemme kind (docs/scoring.md gives every formula).
 * Args:     alpha - weight of the epistatic term (GEMME: 0.6)
 * Returns:  SL_OK; SL_EUSAGE (no focus, alpha outside [0,1]), SL_ENOMEM.
 * Cost:     O(N L) after the weights: one pass for the distances, one for
 *           the nearest carriers.
 */
SL_MUSTCHECK int sl_gemme_fit(const sl_msa *msa, const double *w, double alpha, sl_model **ret_m,
                              sl_error *err);

/* sl_stab_fit()
 * Purpose:  The stab kind (stab.c, docs/scoring.md): a physical stability
 *           term from the focus sequence alone and a burial factor per
 *           column, burial[i] in [0, 1] (the RSA factor 1 - min(RSA,100)/100):
 *           h_i(a) = -sl_stab_ddg(wt_i, a, burial[i]). Literature constants
 *           only (nothing fitted). The weights are not needed; the alignment
 *           gives the focus and the columns.
 * Returns:  SL_OK; SL_EUSAGE (no focus, not protein, burial NULL),
 *           SL_EINPUT (a burial outside [0, 1]), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_stab_fit(const sl_msa *msa, const double *burial, sl_model **ret_m,
                             sl_error *err);

/* sl_stab_ddg(): the stab kind's destabilisation (kcal/mol, >= 0) of wt -> mt
 * at a column of burial b in [0, 1]: b (1.36 max(0, pi_wt - pi_mt) + 0.024
 * max(0, V_wt - V_mt)) + max(0, P_mt - P_wt), pi Fauchere-Pliska, V
 * Zamyatnin, P Pace-Scholtz helix propensity; NAN if a letter is not one of
 * the 20 amino acids. */
double sl_stab_ddg(char wt, char mt, double burial);

/* sl_profile_fit_evc()
 * Purpose:  The site-independent model as EVcouplings' to_independent_model
 *           (couplings/model.py) refits it, which is what ProteinGym reports
 *           as "Site-Independent": per column, h_i = argmin Neff (logZ(h_i) -
 *           f_i . h_i) + lambda_h |h_i|^2, with f_i the weighted frequencies
 *           among the rows with a residue there (plmc's f_i with -g) and
 *           Neff the whole alignment's. sl_profile_fit (potts.h) weighs each
 *           column by its own non-missing weight instead; the two agree when
 *           gaps are a state. Implemented in profile.c.
 */
SL_MUSTCHECK int sl_profile_fit_evc(const sl_msa *msa, const double *w, double lambda_h,
                                    int gap_missing, sl_model **ret_m, sl_error *err);

/* sl_model_scale_columns()
 * Purpose:  Multiply every field of column i by f[i] (f: L factors >= 0),
 *           e.g. the RSA factor 1 - min(RSA, 100) / 100 (RSALOR). Only for
 *           field-only models (no couplings): SL_EUSAGE otherwise.
 */
SL_MUSTCHECK int sl_model_scale_columns(sl_model *m, const double *f, sl_error *err);

/* sl_rsa_factor(): RSALOR's weight 1 - min(rsa, 100) / 100 of an RSA in %. */
static inline double sl_rsa_factor(double rsa_percent) {
  return 1.0 - (rsa_percent < 100.0 ? (rsa_percent > 0.0 ? rsa_percent : 0.0) : 100.0) / 100.0;
}

#ifdef __cplusplus
}
#endif
#endif
