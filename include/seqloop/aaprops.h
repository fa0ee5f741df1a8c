/* seqloop/aaprops.h: published per-residue scales of the 20 amino acids, in
 * one place for every model that uses physical residue properties (the stab
 * kind, src/models/stab.c; the design predictor's residue descriptors,
 * src/design/predictor.c). Each table is indexed by sl_aa20_index(), the
 * order of SL_AA20; the values are typed in from the cited tables and the
 * unit tests check entries. */
#ifndef SEQLOOP_AAPROPS_H
#define SEQLOOP_AAPROPS_H

#ifdef __cplusplus
extern "C" {
#endif

#define SL_AA20 "ACDEFGHIKLMNPQRSTVWY"

/* sl_aa20_index(): 0..19 for one of the 20 amino acids (upper case), else -1. */
int sl_aa20_index(char c);

/* Hydropathy: Kyte & Doolittle, J Mol Biol 157:105 (1982). */
extern const double sl_aa_hydropathy_kd[20];
/* Octanol/water pi = log10 P: Fauchere & Pliska, Eur J Med Chem 18:369 (1983). */
extern const double sl_aa_hydrophobicity_fp[20];
/* Residue volume (A^3): Zamyatnin, Prog Biophys Mol Biol 24:107 (1972). */
extern const double sl_aa_volume[20];
/* Charge at pH 7: +1 K R, -1 D E, 0 otherwise (H taken as neutral). */
extern const double sl_aa_charge[20];
/* Polarity: Grantham, Science 185:862 (1974). */
extern const double sl_aa_polarity[20];
/* Helix propensity (kcal/mol relative to Ala): Pace & Scholtz, Biophys J 75:422 (1998). */
extern const double sl_aa_helix[20];

#ifdef __cplusplus
}
#endif
#endif
