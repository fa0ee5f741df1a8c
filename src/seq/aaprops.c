/* aaprops.c: published per-residue scales (seqloop/aaprops.h has the
 * citations), amino acids in the order ACDEFGHIKLMNPQRSTVWY. */
#include <string.h>

#include "seqloop/aaprops.h"

int sl_aa20_index(char c) {
  const char *p = c ? strchr(SL_AA20, c) : NULL;
  return p ? (int)(p - SL_AA20) : -1;
}

const double sl_aa_hydropathy_kd[20] = {1.8, 2.5, -3.5, -3.5, 2.8, -0.4, -3.2, 4.5, -3.9, 3.8,
                                        1.9, -3.5, -1.6, -3.5, -4.5, -0.8, -0.7, 4.2, -0.9, -1.3};
const double sl_aa_hydrophobicity_fp[20] = {0.31, 1.54, -0.77, -0.64, 1.79, 0.00, 0.13, 1.80, -0.99, 1.70,
                                            1.23, -0.60, 0.72, -0.22, -1.01, -0.04, 0.26, 1.22, 2.25, 0.96};
const double sl_aa_volume[20] = {88.6, 108.5, 111.1, 138.4, 189.9, 60.1, 153.2, 166.7, 168.6, 166.7,
                                 162.9, 114.1, 112.7, 143.8, 173.4, 89.0, 116.1, 140.0, 227.8, 193.6};
const double sl_aa_charge[20] = {0, 0, -1, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
const double sl_aa_polarity[20] = {8.1, 5.5, 13.0, 12.3, 5.2, 9.0, 10.4, 5.2, 11.3, 4.9,
                                   5.7, 11.6, 8.0, 10.5, 10.5, 9.2, 8.6, 5.9, 5.4, 6.2};
const double sl_aa_helix[20] = {0.00, 0.68, 0.69, 0.40, 0.54, 1.00, 0.61, 0.41, 0.26, 0.21,
                                0.24, 0.65, 3.16, 0.39, 0.21, 0.50, 0.66, 0.61, 0.49, 0.53};
