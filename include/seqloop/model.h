/* seqloop/model.h: the generative models seqloop learns, one container and
 * one file format for all of them.
 *
 * Kinds so far:
 *   SL_MODEL_PROFILE  site-independent: P(s) = prod_i softmax(h_i)(s_i)
 *   SL_MODEL_POTTS    pairwise: H(s) = sum_i h_i(s_i) + sum_{i<j} J_ij(s_i, s_j)
 *   SL_MODEL_AR       autoregressive (arDCA): P(s) = prod_k P(s_{p_k} | s_{p_1..p_{k-1}}),
 *                     each a softmax over h_i + sum_{earlier j} J_ij(., s_j), with
 *                     i = p_k; J_ij is used only for j earlier than i in the
 *                     order (not symmetric); see ar.h
 *   SL_MODEL_TFM      causal transformer language model over ungapped sequences
 *                     (tfm.h): m->tfm holds it; L, focus and pos describe the
 *                     reference (wild-type) sequence used for mutant scoring,
 *                     with gaps (missing) where it has none; h is unused
 *
 * States. A model over an alignment with alphabet abc has q states:
 *   gap_missing = 0: q = abc->q, state a = alphabet code a (0 = gap);
 *   gap_missing = 1: q = abc->q - 1, state a = alphabet code a + 1, and a gap
 *                    is missing data: it has no parameters and contributes 0
 *                    (plmc -g).
 * sl_model_state() maps an alphabet code to a state (-1 for a missing gap).
 *
 * Parameters are float (architecture.md: float parameters, double sums).
 * J is stored in full, J[((i*L + j)*q + a)*q + b] = J_ij(a, b), symmetric
 * (J_ji(b, a) = J_ij(a, b)) with zero diagonal blocks: twice the memory of a
 * triangle, but every look-up is one multiply-add of indices.
 */
#ifndef SEQLOOP_MODEL_H
#define SEQLOOP_MODEL_H

#include <stdint.h>

#include "seqloop/alphabet.h"
#include "seqloop/base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_MODEL_PROFILE = 1, SL_MODEL_POTTS = 2, SL_MODEL_AR = 3, SL_MODEL_TFM = 4 };

struct sl_tfm;       /* tfm.h */
struct sl_tfm_state; /* tfm.h */

typedef struct sl_model {
  int kind;                /* SL_MODEL_* */
  int64_t L;               /* columns (sites) */
  int q;                   /* states per site */
  int gap_missing;         /* 1: gaps are missing data (see above) */
  const sl_alphabet *abc;
  float *h;                /* L*q fields */
  float *J;                /* L*L*q*q couplings (POTTS), NULL otherwise */
  char *focus_name;        /* focus header, or NULL */
  uint8_t *focus;          /* L alphabet codes of the focus/reference row (0 = gap) */
  int64_t *pos;            /* L residue numbers of the columns (0 = none) */
  int64_t *order;          /* AR: the site order p (L sites), NULL otherwise */
  void *cache;             /* derived data (AR kernel layout); freed with the model */
  double neff;             /* Neff of the training alignment */
  int64_t n_train;         /* rows of the training alignment */
  char *meta;              /* JSON text: fit options and provenance (may be NULL) */
  struct sl_tfm *tfm;      /* TFM: the transformer (owned), NULL otherwise */
} sl_model;

/* sl_model_create()
 * Purpose:  Allocate a model with zero parameters (J only for POTTS), an
 *           all-gap focus and positions 1..L. Returns NULL if out of memory.
 */
sl_model *sl_model_create(int kind, int64_t L, const sl_alphabet *abc, int gap_missing);
void sl_model_destroy(sl_model *m);
const char *sl_model_kind_name(int kind);

/* Alphabet code -> model state (-1: a gap that the model treats as missing). */
static inline int sl_model_state(const sl_model *m, int code) {
  return m->gap_missing ? code - 1 : code;
}

static inline float *sl_model_J(const sl_model *m, int64_t i, int64_t j) {
  return m->J + ((size_t)i * (size_t)m->L + (size_t)j) * (size_t)m->q * (size_t)m->q;
}

/* sl_model_energy()
 * Purpose:  H(s) of a sequence of L alphabet codes: sum of fields plus
 *           couplings (POTTS) over the sites that are not missing. For a
 *           profile this is the unnormalised log-probability; for an ar
 *           model the exact log-probability (it builds the model's cache on
 *           first use, so do that once before sharing a model across threads);
 *           for a tfm model the exact log-probability of its residues
 *           (sl_model_logp_tfm; not thread-safe).
 */
double sl_model_energy(const sl_model *m, const uint8_t *s);

/* sl_model_logp_profile(): the normalised log-probability under a profile
 * (sum over non-missing sites of log softmax(h_i)(s_i)). */
double sl_model_logp_profile(const sl_model *m, const uint8_t *s);

/* sl_model_logp_tfm(): log P of the residues among L alphabet codes (gaps
 * skipped) under a tfm model; NAN if it does not fit the context. Not
 * thread-safe (the transformer's workspace is shared). */
double sl_model_logp_tfm(const sl_model *m, const uint8_t *s);

/* ---- files ---------------------------------------------------------------
 * The seqloop model file (docs/model-format.md): magic "SEQLOOP\0", format
 * version, a JSON header (kind, alphabet, shapes, focus, numbering, fit
 * options, provenance, tensor table), 64-byte aligned little-endian float32
 * tensors, and a trailing SHA-256 of everything before it. Written
 * atomically; any truncation, corruption or foreign file is an error.
 */
SL_MUSTCHECK int sl_model_write(const char *path, const sl_model *m, sl_error *err);
SL_MUSTCHECK int sl_model_read(const char *path, sl_model **ret_m, sl_error *err);

/* sl_model_write_checkpoint(), sl_model_read_checkpoint()
 * Purpose:  A tfm training checkpoint: the model file plus the AdamW moments
 *           ("adam_m", "adam_v" tensors) and a "trainer" header object (step,
 *           generator state, last held-out NLL, and train_json: the options
 *           the run was started with, so --resume can check them). A
 *           checkpoint is also a valid model file for every other command.
 * Args:     st         - the trainer state (its model must be m->tfm)
 *           ret_st     - RETURN: a state around (*ret_m)->tfm
 *           ret_train  - RETURN: train_json as written (caller frees; may be NULL)
 * Returns:  as sl_model_write / sl_model_read; SL_EINPUT for a model file
 *           that is not a checkpoint.
 */
SL_MUSTCHECK int sl_model_write_checkpoint(const char *path, const sl_model *m,
                                           const struct sl_tfm_state *st, const char *train_json,
                                           sl_error *err);
SL_MUSTCHECK int sl_model_read_checkpoint(const char *path, sl_model **ret_m,
                                          struct sl_tfm_state **ret_st, char **ret_train,
                                          sl_error *err);

/* plmc's binary parameter file (plmc -o; read by EVcouplings CouplingsModel).
 * Import needs nothing else; export writes the fields plmc writes, with the
 * training weights (if given, one per training row; else zeros), and
 * marginals computed from the model's own training statistics if provided
 * (fi: L*q, fij: L*L*q*q full) or zeros. */
SL_MUSTCHECK int sl_model_read_plmc(const char *path, sl_model **ret_m, sl_error *err);
SL_MUSTCHECK int sl_model_write_plmc(const char *path, const sl_model *m, const double *weights,
                                     int64_t n_weights, const float *fi, const float *fij,
                                     double theta, double lambda_h, double lambda_J,
                                     int iterations, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
