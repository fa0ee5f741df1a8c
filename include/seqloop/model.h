/* seqloop/model.h: the generative models seqloop learns: one container, one
 * table of operations per kind (the model interface), one file format.
 *
 * Kinds so far (registry.c; each defined in its own file):
 *   profile  site-independent: P(s) = prod_i softmax(h_i)(s_i)
 *   potts    pairwise: H(s) = sum_i h_i(s_i) + sum_{i<j} J_ij(s_i, s_j)
 *   ar       autoregressive (arDCA): P(s) = prod_k P(s_{p_k} | s_{p_1..p_{k-1}}),
 *                     each a softmax over h_i + sum_{earlier j} J_ij(., s_j), with
 *                     i = p_k; J_ij is used only for j earlier than i in the
 *                     order (not symmetric); see ar.h
 *   tfm      causal transformer language model over ungapped sequences
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


struct sl_tfm;       /* tfm.h */
struct sl_tfm_state; /* tfm.h */
struct sl_rng;       /* rng.h */
struct sl_model_ops;
struct sl_model_file; /* src/models/modelfile.h (private) */

typedef struct sl_model {
  const struct sl_model_ops *ops; /* the kind's operations (src/models/registry.c) */
  int64_t L;               /* columns (sites) */
  int q;                   /* states per site */
  int gap_missing;         /* 1: gaps are missing data (see above) */
  const sl_alphabet *abc;
  float *h;                /* L*q fields */
  float *J;                /* L*L*q*q couplings (potts, ar), NULL otherwise */
  char *focus_name;        /* focus header, or NULL */
  uint8_t *focus;          /* L alphabet codes of the focus/reference row (0 = gap) */
  int64_t *pos;            /* L residue numbers of the columns (0 = none) */
  int64_t *order;          /* ar: the site order p (L sites), NULL otherwise */
  void *cache;             /* derived layout built by sl_model_prepare (ar); owned */
  double neff;             /* Neff of the training alignment */
  int64_t n_train;         /* rows of the training alignment */
  char *meta;              /* JSON text: fit options and provenance (may be NULL) */
  struct sl_tfm *tfm;      /* tfm: the transformer (owned), NULL otherwise */
} sl_model;

/* ---- the model interface ---------------------------------------------------
 * Every kind is one table of operations (sl_model_ops) defined in the kind's
 * own file (profile.c, potts.c, ar.c, tfm.c) and listed once in registry.c.
 * Code outside src/models/ never asks which kind a model is: it asks what the
 * model can do (sl_model_caps) and calls the sl_model_* functions below,
 * which dispatch through m->ops. docs/architecture.md shows how to add a kind.
 *
 * Capabilities (bit flags of ops->caps):
 */
enum {
  SL_CAP_NORMALISED   = 1u << 0, /* sl_model_logp is an exact, normalised log P */
  SL_CAP_EXACT_SAMPLE = 1u << 1, /* sl_model_sample draws exact i.i.d. samples (ancestral) */
  SL_CAP_COUPLINGS    = 1u << 2, /* symmetric pairwise couplings J_ij (contacts, plmc export) */
  SL_CAP_CONDITIONALS = 1u << 3, /* sl_model_conditional: site conditionals, for Gibbs sampling */
  SL_CAP_ALIGNED      = 1u << 4, /* sequences are L aligned columns (gaps a state or missing);
                                    without it the model reads ungapped residues of any length */
  SL_CAP_INDEPENDENT  = 1u << 5  /* sites are independent: sl_model_conditional does not depend
                                    on the other sites, so its logits are the whole model of a
                                    site (site-independent search distributions, CbAS) */
};

/* Per-thread scratch space of a model (e.g. transformer activations). Created
 * and destroyed by the caller, one per thread: the model itself is read-only
 * after sl_model_prepare, so any number of threads may score with one model
 * and their own workspaces. Every function taking a workspace accepts NULL
 * and then makes (and frees) a temporary one. */
typedef struct sl_model_ws sl_model_ws;

/* Options of one ancestral draw (sl_model_sample). */
typedef struct sl_draw_opts {
  double T;               /* temperature (> 0): logits / T */
  double top_p;           /* nucleus sampling (1 = off); kinds without it refuse != 1 */
  const uint8_t *fixed;   /* L alphabet codes to clamp (0xFF = free), or NULL */
  const uint8_t *prefix;  /* alphabet codes every sample starts with (ungapped kinds), or NULL */
  int64_t n_prefix;
} sl_draw_opts;

void sl_draw_opts_init(sl_draw_opts *o);

/* Result of an entropy estimate. */
typedef struct sl_entropy {
  double bits;            /* S = -E[log2 P(x)] */
  double se;              /* standard error (0 when exact) */
  int64_t n;              /* samples used (0 when exact) */
  int64_t truncated;      /* samples that filled a finite context (ungapped kinds) */
} sl_entropy;

/* One model kind. Functions a kind lacks are NULL (and its caps say so). All
 * return SL_OK or a status with a message in err: SL_ENOMEM for memory,
 * SL_EINPUT for a sequence the model cannot score (e.g. one that does not fit
 * a transformer's context), SL_EUSAGE for a request the kind cannot serve. */
typedef struct sl_model_ops {
  const char *name;       /* "potts": the kind's name in files and on the command line */
  unsigned caps;          /* SL_CAP_* */
  const char *summary;    /* one line for help texts */
  /* Allocate the kind's parameters beyond h, focus and pos (J, order, ...). */
  int (*create)(sl_model *m, sl_error *err);
  /* Read the kind's own header fields and tensors from a model file, after
   * the common ones (L, q, h, focus, positions) are in m; NULL: none. */
  int (*read)(sl_model *m, const struct sl_model_file *f, sl_error *err);
  /* Free what create, prepare or read attached (J, order, cache, tfm). */
  void (*destroy)(sl_model *m);
  /* Build derived layouts once the parameters are final (after a fit, a read,
   * or a caller's edits): afterwards the model is read-only. May be NULL. */
  int (*prepare)(sl_model *m, sl_error *err);
  /* Per-thread workspace (NULL create: the kind needs none). */
  int (*ws_create)(const sl_model *m, void **ret_ws, sl_error *err);
  void (*ws_destroy)(void *ws);
  /* The model's score of L alphabet codes: log P up to a constant (the
   * energy H for potts; sum of fields for a profile; log P when normalised). */
  int (*energy)(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err);
  /* Normalised log P (SL_CAP_NORMALISED). */
  int (*logp)(const sl_model *m, void *ws, const uint8_t *s, double *ret, sl_error *err);
  /* log P of B sequences of L codes at once (optional: faster, same numbers as
   * the kind's batched evaluation; NULL: B calls of logp). */
  int (*logp_many)(const sl_model *m, void *ws, const uint8_t *x, int64_t B, double *ret,
                   sl_error *err);
  /* energy(s with cols[k] set to mt[k]) - energy(s) (optional; NULL: two
   * energies). */
  int (*delta)(const sl_model *m, void *ws, const uint8_t *s, const int64_t *cols,
               const uint8_t *mt, int n, double *ret, sl_error *err);
  /* Logits (q doubles) of site i given every other site of s
   * (SL_CAP_CONDITIONALS). */
  void (*conditional)(const sl_model *m, const uint8_t *s, int64_t i, double *lg);
  /* B ancestral draws from rng (SL_CAP_EXACT_SAMPLE), each a row of
   * sl_model_row_len(m) codes in out (gaps pad an ungapped sample), its
   * length in ret_len (may be NULL) and log P at T = 1 in ret_logp (may be
   * NULL). How draws are taken from rng for B > 1 is the kind's. */
  int (*sample)(const sl_model *m, void *ws, struct sl_rng *rng, const sl_draw_opts *o, int64_t B,
                uint8_t *out, int64_t *ret_len, double *ret_logp, sl_error *err);
  /* Samples per generator stream when sampling in parallel: chunk c of this
   * many draws uses the seed's generator jumped c times. 0: draws made in order,
   * draw k from the seed's generator jumped k times (threads then work inside
   * each draw). */
  int64_t sample_chunk;
  /* Entropy S in bits (exact, or the kind's own Monte Carlo over n samples);
   * NULL: the generic Monte Carlo estimate if the kind samples exactly, else
   * none. */
  int (*entropy)(const sl_model *m, int64_t n, uint64_t seed, int threads, sl_entropy *ret,
                 sl_error *err);
  /* Longest sequence (residues) the model scores, or 0 for L aligned columns. */
  int64_t (*max_len)(const sl_model *m);
  /* Threads the kind may use inside one evaluation (e.g. transformer matmuls). */
  void (*set_threads)(sl_model *m, int threads);
} sl_model_ops;

/* ---- the registry (registry.c) -------------------------------------------- */

/* sl_model_kind(): the kind named `name` ("profile", "potts", "ar", "tfm"),
 * or NULL. sl_model_kind_at(k): the k-th registered kind, NULL past the end. */
const sl_model_ops *sl_model_kind(const char *name);
const sl_model_ops *sl_model_kind_at(int k);

/* sl_model_create()
 * Purpose:  Allocate a model of the named kind with zero parameters, an
 *           all-gap focus and positions 1..L.
 * Returns:  the model, or NULL for an unknown kind or out of memory.
 */
sl_model *sl_model_create(const char *kind, int64_t L, const sl_alphabet *abc, int gap_missing);
void sl_model_destroy(sl_model *m);

/* The model's kind name and capabilities; sl_model_has(m, caps): all of caps. */
const char *sl_model_name(const sl_model *m);
unsigned sl_model_caps(const sl_model *m);
static inline int sl_model_has(const sl_model *m, unsigned caps) {
  return (sl_model_caps(m) & caps) == caps;
}

/* sl_model_prepare()
 * Purpose:  Build the kind's derived layouts (once; again after editing the
 *           parameters). sl_model_read and the fits call it; a model built
 *           by hand must be prepared before it is scored or sampled.
 * Returns:  SL_OK, SL_ENOMEM.
 */
SL_MUSTCHECK int sl_model_prepare(sl_model *m, sl_error *err);

/* sl_model_ws_create(), sl_model_ws_destroy()
 * Purpose:  One thread's workspace for m (see sl_model_ws). A workspace
 *           belongs to one model; destroy(NULL) is a no-op.
 */
SL_MUSTCHECK int sl_model_ws_create(const sl_model *m, sl_model_ws **ret_ws, sl_error *err);
void sl_model_ws_destroy(sl_model_ws *ws);

/* sl_model_set_threads(): threads one evaluation may use inside itself
 * (transformer matmuls; a no-op for the other kinds). */
void sl_model_set_threads(sl_model *m, int threads);

/* sl_model_score()
 * Purpose:  The model's score of L alphabet codes: log P up to a constant
 *           (the energy H(s) for potts, the sum of fields for a profile, the
 *           exact log P for normalised kinds). Higher = more probable.
 * Args:     ws - the calling thread's workspace (NULL: a temporary one)
 * Returns:  SL_OK; SL_EINPUT if the sequence cannot be scored (a
 *           transformer's context); SL_ENOMEM.
 */
SL_MUSTCHECK int sl_model_score(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret,
                                sl_error *err);

/* sl_model_logp()
 * Purpose:  The exact normalised natural log P of L alphabet codes
 *           (missing sites and, for ungapped kinds, gaps skipped).
 * Returns:  SL_OK; SL_EUSAGE for a kind without SL_CAP_NORMALISED (potts);
 *           SL_EINPUT (does not fit), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_model_logp(const sl_model *m, sl_model_ws *ws, const uint8_t *s, double *ret,
                               sl_error *err);

/* sl_model_logp_many(): sl_model_logp of B sequences (x: B*L codes); the
 * kind may evaluate them in one batch. */
SL_MUSTCHECK int sl_model_logp_many(const sl_model *m, sl_model_ws *ws, const uint8_t *x, int64_t B,
                                    double *ret, sl_error *err);

/* sl_model_delta_cols()
 * Purpose:  score(s with column cols[k] set to code mt[k], k < n) - score(s):
 *           exact; O(n L) for pairwise kinds, two evaluations otherwise.
 * Returns:  as sl_model_score.
 */
SL_MUSTCHECK int sl_model_delta_cols(const sl_model *m, sl_model_ws *ws, const uint8_t *s,
                                     const int64_t *cols, const uint8_t *mt, int n, double *ret,
                                     sl_error *err);

/* sl_model_conditional(): logits of site i (q doubles: lg[a] for state a)
 * given the rest of s; SL_EUSAGE for a kind without SL_CAP_CONDITIONALS. */
SL_MUSTCHECK int sl_model_conditional(const sl_model *m, const uint8_t *s, int64_t i, double *lg,
                                      sl_error *err);

/* sl_model_row_len(): codes per sampled row: L for aligned kinds, the
 * longest sequence for ungapped ones. */
int64_t sl_model_row_len(const sl_model *m);

/* sl_model_sample()
 * Purpose:  B exact ancestral draws from rng (see sl_model_ops.sample); the
 *           parallel, seed-reproducible form is sl_sample_ancestral
 *           (sample.h).
 * Returns:  SL_OK; SL_EUSAGE for a kind without exact sampling or a clamp
 *           the kind cannot honour exactly (message says why); SL_ENOMEM.
 */
SL_MUSTCHECK int sl_model_sample(const sl_model *m, sl_model_ws *ws, struct sl_rng *rng,
                                 const sl_draw_opts *o, int64_t B, uint8_t *out, int64_t *ret_len,
                                 double *ret_logp, sl_error *err);

/* sl_model_entropy()
 * Purpose:  The model's entropy in bits: exact where the kind knows it
 *           (profile: the sum of its sites' entropies; se = 0, n = 0), else
 *           the kind's own Monte Carlo estimate (ar, tfm), else a generic
 *           one for kinds with exact sampling (-mean log2 P over n draws from
 *           one stream seeded with seed), with its standard error;
 *           deterministic for a seed.
 * Returns:  SL_OK; SL_EUSAGE for a kind without a normaliser (potts).
 */
SL_MUSTCHECK int sl_model_entropy(const sl_model *m, int64_t n, uint64_t seed, int threads,
                                  sl_entropy *ret, sl_error *err);

/* Alphabet code -> model state (-1: a gap that the model treats as missing). */
static inline int sl_model_state(const sl_model *m, int code) {
  return m->gap_missing ? code - 1 : code;
}

static inline float *sl_model_J(const sl_model *m, int64_t i, int64_t j) {
  return m->J + ((size_t)i * (size_t)m->L + (size_t)j) * (size_t)m->q * (size_t)m->q;
}

/* sl_model_energy(): sl_model_score with a temporary workspace, NAN on any
 * error (for callers that cannot fail; prefer sl_model_score). */
double sl_model_energy(const sl_model *m, const uint8_t *s);

/* The largest parameter magnitude a model file may hold (readers refuse
 * larger ones): fitted parameters are O(1)-O(100); 1e6 keeps every float sum
 * and activation of every kind far from overflow. */
#define SL_MODEL_MAX_PARAM 1e6

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
/* sl_model_write_plmc_msa()
 * Purpose:  The complete plmc file, as plmc itself writes it after fitting
 *           msa with weights w: N_valid (rows used) and N_invalid (records
 *           ingestion dropped), num_iter (plmc writes its maxIter option),
 *           the per-record weights (as neighbour counts, 0 when dropped),
 *           f_i and f_ij (weighted marginals over the model's states: by
 *           Neff, or per pair over ungapped rows when gaps are missing). The
 *           pair marginals are computed pair by pair while writing, O(N L^2)
 *           time and no L^2 q^2 buffer.
 * Returns:  SL_OK; SL_EUSAGE (not a protein Potts model, or msa not the
 *           model's columns); SL_EIO; SL_ENOMEM.
 */
struct sl_msa;
SL_MUSTCHECK int sl_model_write_plmc_msa(const char *path, const sl_model *m, const struct sl_msa *msa,
                                         const double *w, double theta, double lambda_h, double lambda_J,
                                         int max_iter, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
