/* couplings.c: coupling scores for contact prediction.
 *
 * F_ij = ||J_ij||_F over the q x q block, then APC (Dunn et al. 2008):
 * F_ij - F_i. F_.j / F_.. with the means over all pairs i != j, which is
 * plmc's OutputCouplingScores. The zero-sum gauge (EVcouplings) first
 * removes row and column means from J_ij, J'(a,b) = J(a,b) - J(.,b) - J(a,.)
 * + J(.,.), over the residue states only (the gap state is excluded), then
 * takes the norm.
 */
#include <math.h>
#include <stdlib.h>

#include "seqloop/score.h"

int sl_coupling_scores(const sl_model *m, int gauge, double *fn, double *raw, sl_error *err) {
  if (!sl_model_has(m, SL_CAP_COUPLINGS) || !m->J)
    return sl_fail(err, SL_EUSAGE, "coupling scores need a Potts model (this is a %s model)",
                   sl_model_name(m));
  const int64_t L = m->L;
  const int q = m->q;
  const int a0 = (gauge == SL_GAUGE_ZEROSUM && !m->gap_missing) ? 1 : 0; /* skip the gap state */
  const int qr = q - a0;
  double *rowm = malloc((size_t)q * sizeof *rowm), *colm = malloc((size_t)q * sizeof *colm);
  double *mi = calloc((size_t)L, sizeof *mi);
  if (!rowm || !colm || !mi) { free(rowm); free(colm); free(mi); return sl_fail(err, SL_ENOMEM, "out of memory"); }
  double total = 0.0;
  for (int64_t i = 0; i < L; i++) {
    fn[i * L + i] = 0.0;
    for (int64_t j = i + 1; j < L; j++) {
      const float *J = sl_model_J(m, i, j);
      double s = 0.0;
      if (gauge == SL_GAUGE_ZEROSUM) {
        double all = 0.0;
        for (int a = a0; a < q; a++) { rowm[a] = 0; colm[a] = 0; }
        for (int a = a0; a < q; a++)
          for (int b = a0; b < q; b++) {
            rowm[a] += J[a * q + b] / qr;
            colm[b] += J[a * q + b] / qr;
            all += J[a * q + b];
          }
        all /= (double)qr * qr;
        for (int a = a0; a < q; a++)
          for (int b = a0; b < q; b++) {
            double v = J[a * q + b] - rowm[a] - colm[b] + all;
            s += v * v;
          }
      } else {
        for (int k = 0; k < q * q; k++) s += (double)J[k] * J[k];
      }
      s = sqrt(s);
      fn[i * L + j] = fn[j * L + i] = s;
      mi[i] += s;
      mi[j] += s;
      total += s;
    }
  }
  if (raw)
    for (int64_t k = 0; k < L * L; k++) raw[k] = fn[k];
  double npairs = (double)L * (double)(L - 1) / 2.0;
  for (int64_t i = 0; i < L; i++) mi[i] /= (double)(L - 1);
  double mean = total / npairs;
  for (int64_t i = 0; i < L; i++)
    for (int64_t j = 0; j < L; j++)
      if (i != j) fn[i * L + j] -= mean > 0 ? mi[i] * mi[j] / mean : 0.0;
  free(rowm); free(colm); free(mi);
  return SL_OK;
}
