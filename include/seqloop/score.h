/* seqloop/score.h: variant effects under a model, mutant strings, CSV, and
 * coupling scores (contacts).
 *
 * Mutant strings follow ProteinGym: "A42G" (wild type, residue number,
 * mutant), multi-mutants joined by ':' ("A42G:C50D"), numbered in the
 * model's focus numbering (NAME/start-end of the focus header), optionally
 * shifted by an offset (number in the model = number in the string + offset).
 * A wrong wild-type letter, a position outside the model, a repeated
 * position or a letter outside the alphabet is an error, never silently
 * scored.
 *
 * Score = H(mutant) - H(wild type), higher means fitter (EVmutation); for a
 * profile this is log P(mutant) - log P(wild type). It is computed exactly
 * for any number of mutations from the terms that touch a mutated site.
 */
#ifndef SEQLOOP_SCORE_H
#define SEQLOOP_SCORE_H

#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/model.h"
#include "seqloop/seqfile.h" /* sl_csv: assay tables */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_mutation {
  int64_t col;   /* model column */
  int64_t pos;   /* residue number in the model's numbering */
  uint8_t wt;    /* alphabet codes */
  uint8_t mt;
} sl_mutation;

#define SL_MAX_MUTATIONS 4096

/* sl_mutant_parse()
 * Purpose:  Parse "A42G:C50D" against model m (its focus and numbering).
 * Args:     ret_mut - caller array of SL_MAX_MUTATIONS entries (RETURN)
 *           ret_n   - number of mutations; 0 for the wild type ("", "WT", "_wt")
 * Returns:  SL_OK, or SL_EINPUT with a message saying what is wrong with
 *           which mutation (the caller adds file and row).
 */
SL_MUSTCHECK int sl_mutant_parse(const sl_model *m, const char *text, int64_t offset,
                                 sl_mutation *ret_mut, int *ret_n, sl_error *err);

/* sl_mutant_delta()
 * Purpose:  score(s with mutations) - score(s) under any model kind
 *           (sl_model_score: the energy H for potts, the sum of fields for a
 *           profile, log P for ar and tfm); exact; O(n L) for pairwise
 *           kinds. s is the wild type (L alphabet codes); mutations must be
 *           at distinct columns.
 * Args:     ws - the calling thread's workspace (sl_model_ws_create), or NULL
 * Returns:  SL_OK; SL_EINPUT if the sequence does not fit the model (a
 *           transformer's context; the message says so); SL_ENOMEM.
 */
SL_MUSTCHECK int sl_mutant_delta(const sl_model *m, sl_model_ws *ws, const uint8_t *s,
                                 const sl_mutation *mut, int n, double *ret, sl_error *err);

/* sl_model_delta(): sl_mutant_delta as a double, NAN on any error (for
 * callers that cannot fail). */
double sl_model_delta(const sl_model *m, const uint8_t *s, const sl_mutation *mut, int n);

/* ---- couplings ------------------------------------------------------------ */

enum { SL_GAUGE_RAW = 0, SL_GAUGE_ZEROSUM = 1 };

/* sl_coupling_scores()
 * Purpose:  F_ij = Frobenius norm of J_ij, then the average product
 *           correction F_ij - mean_i mean_j / mean (over all pairs i != j).
 *           SL_GAUGE_RAW: the parameters as fitted (plmc); SL_GAUGE_ZEROSUM:
 *           J_ij shifted to zero row and column sums, gap state excluded
 *           (EVcouplings).
 * Args:     ret_fn  - L*L symmetric APC-corrected scores (RETURN, caller allocates)
 *           ret_raw - L*L uncorrected norms (may be NULL)
 */
SL_MUSTCHECK int sl_coupling_scores(const sl_model *m, int gauge, double *ret_fn, double *ret_raw,
                                    sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
