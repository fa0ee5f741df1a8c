/* seqloop/sasa.h: solvent accessibility per residue from a structure
 * (Shrake & Rupley 1973), and relative solvent accessibility (RSA) against
 * the theoretical maximum of Tien et al. 2013 (PLoS ONE 8:e80635).
 * docs/scoring.md: method, radii, what is and is not counted.
 */
#ifndef SEQLOOP_SASA_H
#define SEQLOOP_SASA_H

#include <stdint.h>

#include "seqloop/base.h"

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

/* sl_max_asa(): Tien et al. 2013 theoretical maximum ASA of a residue
 * (one-letter code), NaN if unknown. */
double sl_max_asa(char aa);

#ifdef __cplusplus
}
#endif
#endif
