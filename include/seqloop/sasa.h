/* seqloop/sasa.h: solvent accessibility per residue from a structure
 * (Shrake & Rupley 1973), and relative solvent accessibility (RSA) against
 * the theoretical maximum of Tien et al. 2013 (PLoS ONE 8:e80635).
 * docs/scoring.md: method, radii, what is and is not counted.
 */
#ifndef SEQLOOP_SASA_H
#define SEQLOOP_SASA_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_sasa_res {
  int64_t num;      /* author residue number */
  char icode;       /* insertion code, ' ' when none */
  char aa;          /* one-letter code ('X' for non-standard; MSE read as M) */
  int n_atoms;      /* heavy atoms of the residue that were read */
  double sasa;      /* solvent-accessible surface area, Angstrom^2 */
  double rsa;       /* 100 sasa / maxASA(aa) (%, may exceed 100); NaN for 'X' */
} sl_sasa_res;

/* sl_rsa_compute()
 * Purpose:  Per-residue SASA and RSA of one chain of a PDB or mmCIF file
 *           (format from the content: mmCIF if it has _atom_site. items):
 *           the heavy atoms of the first model, first alternate location,
 *           ATOM records and HETATM MSE; the chain alone (other chains,
 *           ligands and waters do not occlude). Shrake-Rupley with
 *           n_points golden-spiral points per atom (100 as Biopython's
 *           ShrakeRupley), probe 1.4 A, Bondi radii by element (C 1.70,
 *           N 1.55, O 1.52, S 1.80, Se 1.90; else 1.80).
 * Args:     chain  - author chain id (PDB column 22 / auth_asym_id)
 *           ret    - RETURN: residues in file order (caller frees)
 * Returns:  SL_OK; SL_EINPUT (unreadable, chain absent, no atoms), SL_ENOMEM.
 * Cost:     O(n^2) neighbour search + O(n k n_points), n atoms, k neighbours.
 */
SL_MUSTCHECK int sl_rsa_compute(const char *path, const char *chain, int n_points,
                                sl_sasa_res **ret, int64_t *ret_n, sl_error *err);

/* What sl_rsa_model_factors() matched. */
typedef struct sl_rsa_map {
  int64_t n_res;    /* residues read from the chain */
  int64_t aligned;  /* model columns aligned to a residue */
  int64_t mapped;   /* of those, with a finite RSA (a standard residue): factor from the structure */
  double identity;  /* identity of the focus-to-chain alignment (sl_align_global) */
} sl_rsa_map;

/* sl_rsa_model_factors()
 * Purpose:  RSALOR's per-column weights for a model from a structure: the
 *           RSA of one chain (sl_rsa_compute), the model's focus sequence
 *           aligned to the chain's sequence (sl_align_global: end gaps free,
 *           so the structure may cover part of the model or more), and for
 *           each column fac[i] = 1 - min(RSA, 100) / 100 of its residue;
 *           1 where the column has no residue in the chain (or an 'X' one),
 *           as the benchmark's CSV-RSA factors do for a column without an RSA.
 * Args:     m            - a model with a focus (columns' wild-type states)
 *           min_identity - below this alignment identity (or with nothing
 *                          aligned) the chain is taken for another protein:
 *                          SL_EINPUT naming the numbers
 *           fac          - RETURN: m->L factors (caller-allocated)
 *           rep          - RETURN: what matched
 * Returns:  SL_OK; SL_EINPUT (file, chain, identity), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_rsa_model_factors(const sl_model *m, const char *path, const char *chain,
                                      int n_points, double min_identity, double *fac,
                                      sl_rsa_map *rep, sl_error *err);

/* sl_max_asa(): Tien et al. 2013 theoretical maximum ASA of a residue
 * (one-letter code), NaN if unknown. */
double sl_max_asa(char aa);

#ifdef __cplusplus
}
#endif
#endif
