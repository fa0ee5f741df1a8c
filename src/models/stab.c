/* stab.c: the stab kind: a burial-weighted physical stability term from the
 * focus sequence and a per-column burial b_i = 1 - min(RSA, 100) / 100 (the
 * RSALOR factor), for ensembles with the alignment models on stability
 * assays (docs/scoring.md, "stab"). For wt -> a at column i, a ddG-like
 * destabilisation in kcal/mol, with every constant from the literature and
 * none fitted to an assay:
 *   hydrophobic  2.303 RT (1.36 kcal/mol at 25 C) per unit of Fauchere &
 *                Pliska's (1983) octanol/water pi lost: max(0, pi_wt - pi_a)
 *   cavity       0.024 kcal/mol per A^3 of side-chain volume lost (Eriksson
 *                et al. 1992, T4 lysozyme large-to-small cavities), volumes
 *                of Zamyatnin (1972): max(0, V_wt - V_a)
 *   backbone     Pace & Scholtz (1998) helix propensity (kcal/mol relative
 *                to Ala; Pro 3.16, Gly 1.00) gained: max(0, P_a - P_wt)
 * and h_i(a) = -(b_i (hydrophobic + cavity) + backbone), h_i(wt) = 0: the
 * first two matter where the side chain is buried, the backbone term
 * anywhere in a folded chain (we have no secondary structure, so the helix
 * scale stands for "Pro and Gly cost backbone entropy"). The gap state and a
 * non-amino-acid focus residue: the gap gets the matrix's lowest value (as
 * gemme), a column whose focus residue is not one of the 20 gets zeros.
 * A field-only model; multi-mutants score as sums. */
#include <math.h>

#include "seqloop/aaprops.h"
#include "seqloop/zeroshot.h"

#include "kinds.h"

double sl_stab_ddg(char wt, char mt, double burial) {
  int w = sl_aa20_index(wt), a = sl_aa20_index(mt);
  if (w < 0 || a < 0) return NAN;
  double hyd = 1.36 * fmax(0, sl_aa_hydrophobicity_fp[w] - sl_aa_hydrophobicity_fp[a]);
  double cav = 0.024 * fmax(0, sl_aa_volume[w] - sl_aa_volume[a]);
  return burial * (hyd + cav) + fmax(0, sl_aa_helix[a] - sl_aa_helix[w]);
}

int sl_stab_fit(const sl_msa *msa, const double *burial, sl_model **ret_m, sl_error *err) {
  *ret_m = NULL;
  if (msa->focus < 0)
    return sl_fail(err, SL_EUSAGE, "stab: the alignment needs a focus sequence (--focus or --focus-first)");
  if (msa->abc->type != SL_ABC_PROTEIN)
    return sl_fail(err, SL_EUSAGE, "stab: the physical tables are for proteins only");
  if (!burial) return sl_fail(err, SL_EUSAGE, "stab: needs a burial factor per column (RSA)");
  for (int64_t i = 0; i < msa->L; i++)
    if (!(burial[i] >= 0 && burial[i] <= 1))
      return sl_fail(err, SL_EINPUT, "stab: column %lld: burial %g outside [0, 1]", (long long)i + 1, burial[i]);
  sl_model *m = sl_model_create("stab", msa->L, msa->abc, 0);
  if (!m) return sl_fail(err, SL_ENOMEM, "out of memory");
  const int q = m->q;
  const uint8_t *fx = sl_msa_row(msa, msa->focus);
  double lo = 0;
  for (int64_t i = 0; i < msa->L; i++) {
    char wt = msa->abc->symbols[fx[i]];
    for (int a = 1; a < q; a++) {
      double d = sl_stab_ddg(wt, msa->abc->symbols[a], burial[i]);
      double s = isfinite(d) ? -d : 0;
      m->h[i * q + a] = (float)s;
      if (s < lo) lo = s;
    }
  }
  for (int64_t i = 0; i < msa->L; i++) m->h[i * q] = (float)lo;
  m->neff = 0;
  m->n_train = msa->N;
  int status = sl_model_focus_from_msa(m, msa, err);
  if (!status) status = sl_model_prepare(m, err);
  if (status) { sl_model_destroy(m); return status; }
  *ret_m = m;
  return SL_OK;
}

const sl_model_ops sl_stab_ops = {
  .name = "stab",
  .caps = SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
  .summary = "burial-weighted physical stability term (hydrophobicity, cavity, Pro/Gly)",
  .energy = sl_pairwise_energy,
  .delta = sl_pairwise_delta,
  .conditional = sl_pairwise_conditional,
};
