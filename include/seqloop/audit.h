/* seqloop/audit.h: information accounting for an alignment (the data side).
 *
 * For a weighted alignment: N, L, Neff, Neff/L, ProteinGym's Neff/L and depth
 * class, duplicate rows, and per column the weighted entropy (bits, over the
 * q states including the gap), gap fraction and consensus. Later modules add
 * model entropy, perplexity and leakage to the same report.
 */
#ifndef SEQLOOP_AUDIT_H
#define SEQLOOP_AUDIT_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/msa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ProteinGym: L counts columns with at most this gap fraction. */
#define SL_PG_MAX_GAP 0.3

typedef struct sl_colstat {
  int64_t col;         /* column index in the alignment (0-based) */
  int64_t pos;         /* focus residue number, 0 without focus */
  double entropy;      /* bits, weighted, gap included as a state */
  double gap_frac;     /* unweighted fraction of gaps */
  double gap_frac_w;   /* weighted fraction of gaps */
  int consensus;       /* most frequent non-gap state (weighted), 0 if all gaps */
  double consensus_f;  /* its weighted frequency */
} sl_colstat;

typedef struct sl_audit {
  int64_t N, L;
  double neff, neff_per_L;
  int64_t L_pg;             /* columns with gap fraction <= SL_PG_MAX_GAP */
  double neff_per_L_pg;     /* Neff / L_pg (ProteinGym) */
  const char *depth_class;  /* "low" (< 1), "medium" (1..100), "high" (> 100) */
  int64_t n_distinct;       /* distinct rows */
  int64_t n_duplicates;     /* rows identical to an earlier row */
  double mean_entropy;      /* mean over columns, bits */
  double max_entropy;       /* log2(q) */
  sl_colstat *col;          /* L entries in column order */
  int64_t *by_entropy;      /* L column indices: first the n_ranked columns with at
                             * most SL_PG_MAX_GAP gaps by increasing entropy, then the
                             * gappier ones by increasing entropy */
  int64_t n_ranked;         /* columns that may be called conserved or variable: a
                             * column of gaps has low entropy but is not conserved */
} sl_audit;

/* sl_audit_compute()
 * Purpose:  Column and depth statistics of msa under weights w (N entries).
 * Returns:  SL_OK or SL_ENOMEM.
 */
SL_MUSTCHECK int sl_audit_compute(const sl_msa *msa, const double *w, sl_audit **ret_a,
                                  sl_error *err);
void sl_audit_destroy(sl_audit *a);

/* sl_depth_class(): ProteinGym's class of a Neff/L value. */
const char *sl_depth_class(double neff_per_L);

#ifdef __cplusplus
}
#endif
#endif
