/* seqloop/tfm.h: a small causal (decoder-only) transformer protein language
 * model: exact, normalised likelihood of ungapped sequences and i.i.d.
 * sampling, trained by AdamW on weighted sequence sets.
 *
 * Architecture (GPT-2 style, as llm.c's train_gpt2.c; docs/tfm.md):
 *   tokens: 20 amino acids (0..19 in the order ACDEFGHIKLMNPQRSTVWY, i.e.
 *   protein alphabet code - 1), BOS = 20, EOS = 21, PAD = 22 (V = 23).
 *   A sequence a_1..a_n is read as BOS a_1 .. a_n EOS and
 *     log P(a) = sum_{k=1..n} log P(a_k | BOS a_<k) + log P(EOS | BOS a_1..a_n)
 *   x_0 = wte[token] + wpe[position]                 learned absolute positions
 *   per layer: x += attn(LN1(x)); x += mlp(LN2(x))   pre-norm LayerNorm (eps 1e-5)
 *     attn: causal multi-head softmax attention, scale 1/sqrt(head size)
 *     mlp:  fc (C -> 4C), GELU (tanh approximation), proj (4C -> C)
 *   logits = LNf(x) wte^T                            output tied to the embedding
 * Parameters are one flat float block; sl_tfm_params gives named views.
 * Dense matmuls go through OpenBLAS cblas_sgemm; attention, LayerNorm and the
 * rest are plain loops threaded with OpenMP over independent (row | head).
 * With a fixed thread count the results are identical run to run.
 */
#ifndef SEQLOOP_TFM_H
#define SEQLOOP_TFM_H

#include <stddef.h>
#include <stdint.h>

#include "seqloop/base.h"
#include "seqloop/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SL_TFM_NAA = 20, SL_TFM_BOS = 20, SL_TFM_EOS = 21, SL_TFM_PAD = 22, SL_TFM_VOCAB = 23 };

/* Model shape. n_ctx counts tokens, so the longest sequence whose exact
 * log-probability can be computed has n_ctx - 1 residues. */
typedef struct sl_tfm_config {
  int n_layer;  /* depth (>= 1) */
  int d_model;  /* width C (a multiple of n_head) */
  int n_head;   /* heads */
  int n_ctx;    /* context T in tokens */
  int vocab;    /* SL_TFM_VOCAB */
} sl_tfm_config;

/* Named views into the flat parameter block, in file order. Shapes are
 * row-major; W (out, in) is applied as y = x W^T + b, as torch.nn.Linear. */
#define SL_TFM_NTENSORS 16
typedef struct sl_tfm_params {
  float *wte;      /* (V, C)    token embedding, tied output layer */
  float *wpe;      /* (T, C)    position embedding */
  float *ln1w;     /* (NL, C) */
  float *ln1b;     /* (NL, C) */
  float *qkvw;     /* (NL, 3C, C)  rows: q heads, then k heads, then v heads */
  float *qkvb;     /* (NL, 3C) */
  float *attprojw; /* (NL, C, C) */
  float *attprojb; /* (NL, C) */
  float *ln2w;     /* (NL, C) */
  float *ln2b;     /* (NL, C) */
  float *fcw;      /* (NL, 4C, C) */
  float *fcb;      /* (NL, 4C) */
  float *fcprojw;  /* (NL, C, 4C) */
  float *fcprojb;  /* (NL, C) */
  float *lnfw;     /* (C) */
  float *lnfb;     /* (C) */
} sl_tfm_params;

typedef struct sl_tfm {
  sl_tfm_config cfg;
  size_t n_params;
  size_t sizes[SL_TFM_NTENSORS]; /* floats per tensor, in sl_tfm_params order */
  float *mem;                    /* n_params floats */
  sl_tfm_params p;               /* views into mem */
  int threads;                   /* OpenMP/BLAS threads for the calls below (>= 1) */
  struct sl_tfm_ws *ws;          /* private: the trainer's forward/backward workspace */
} sl_tfm;

/* Names of the tensors ("wte", "wpe", ...) in sl_tfm_params order. */
extern const char *const sl_tfm_tensor_names[SL_TFM_NTENSORS];

/* sl_tfm_config_check(): SL_OK or SL_EUSAGE with a message for a bad shape. */
SL_MUSTCHECK int sl_tfm_config_check(const sl_tfm_config *c, sl_error *err);

/* sl_tfm_create()
 * Purpose:  Allocate a model with zero parameters.
 * Returns:  SL_OK, SL_EUSAGE (bad config), SL_ENOMEM.
 */
SL_MUSTCHECK int sl_tfm_create(const sl_tfm_config *c, sl_tfm **ret_t, sl_error *err);
void sl_tfm_destroy(sl_tfm *t);

/* sl_tfm_init_random(): GPT-2's initialisation (normal std 0.02, residual
 * projections 0.02/sqrt(2 NL), LayerNorm weights 1, biases 0). */
void sl_tfm_init_random(sl_tfm *t, uint64_t seed);

/* sl_tfm_copy_params(): dst's parameters = src's (same config). */
SL_MUSTCHECK int sl_tfm_copy_params(sl_tfm *dst, const sl_tfm *src, sl_error *err);

/* sl_tfm_forward()
 * Purpose:  Forward pass over a batch of B token rows of length T (T <= n_ctx).
 * Args:     inputs  - B*T token ids (0..V-1)
 *           targets - B*T next-token ids, or -1 where no loss is taken
 *                     (padding); may be NULL (logits only)
 *           ret_loss- RETURN: mean negative log-likelihood over the targets
 *                     that are not -1, in nats (may be NULL)
 *           ret_ntok- RETURN: that number of targets (may be NULL)
 * Returns:  SL_OK, SL_EUSAGE (B < 1, T out of range, a bad token), SL_ENOMEM.
 *           The activations stay in the workspace for sl_tfm_backward();
 *           sl_tfm_logits() points at the (B, T, V) logits.
 */
SL_MUSTCHECK int sl_tfm_forward(sl_tfm *t, const int *inputs, const int *targets, int B, int T,
                                double *ret_loss, int64_t *ret_ntok, sl_error *err);
const float *sl_tfm_logits(const sl_tfm *t);

/* sl_tfm_backward()
 * Purpose:  Gradient of the mean loss of the last forward (which must have
 *           had targets) with respect to every parameter, into grad
 *           (n_params floats, overwritten).
 */
SL_MUSTCHECK int sl_tfm_backward(sl_tfm *t, float *grad, sl_error *err);

/* sl_tfm_tokenize()
 * Purpose:  Residue letters -> tokens 0..19, ignoring gaps ('-', '.'),
 *           whitespace and case. Non-standard letters (X, B, Z, U, O, J, ...)
 *           are refused: the model has no token for them (docs/tfm.md).
 * Args:     out   - room for strlen(s) tokens (RETURN)
 *           ret_n - RETURN: number of residues
 * Returns:  SL_OK, or SL_EINPUT naming the first bad letter and its position.
 */
SL_MUSTCHECK int sl_tfm_tokenize(const char *s, int *out, int *ret_n, sl_error *err);

/* sl_tfm_logp()
 * Purpose:  Exact natural log P(a) of n residue tokens (0..19), EOS included.
 * Returns:  SL_OK; SL_EUSAGE if n + 1 > n_ctx; SL_ENOMEM.
 */
SL_MUSTCHECK int sl_tfm_logp(sl_tfm *t, const int *a, int n, double *ret_logp, sl_error *err);

/* sl_tfm_logp_batch(): the same for B sequences at once (seqs[b], lens[b]);
 * ret_logp has B values. Sequences of one length share forward passes (up
 * to 32, unpadded), and each value is the same bits as sl_tfm_logp of that
 * sequence alone, whatever the batch, its order or the thread count. */
SL_MUSTCHECK int sl_tfm_logp_batch(sl_tfm *t, const int *const *seqs, const int *lens, int B,
                                   double *ret_logp, sl_error *err);

/* ---- caller-owned workspaces -----------------------------------------
 * The functions above that take a bare sl_tfm use the model's own workspace
 * (t->ws: the trainer's), so two threads must not call them on one model.
 * The _ws twins below read the model only and keep their activations in the
 * caller's workspace: one per thread, and any number of threads may score or
 * sample with one model. Same numbers as the twins. */
typedef struct sl_tfm_ws sl_tfm_ws;

/* sl_tfm_ws_create(): an empty workspace (grows on first use); NULL if out
 * of memory. sl_tfm_ws_destroy(NULL) is a no-op. */
sl_tfm_ws *sl_tfm_ws_create(void);
void sl_tfm_ws_destroy(sl_tfm_ws *w);

SL_MUSTCHECK int sl_tfm_logp_batch_ws(const sl_tfm *t, sl_tfm_ws *w, const int *const *seqs,
                                      const int *lens, int B, double *ret_logp, sl_error *err);
SL_MUSTCHECK int sl_tfm_sample_ws(const sl_tfm *t, sl_tfm_ws *w, sl_rng *rng, double T, double top_p,
                                  const int *prefix, int n_prefix, int *out, int *ret_n,
                                  double *ret_logp, sl_error *err);

/* sl_tfm_sample()
 * Purpose:  Draw one sequence token by token until EOS or the context is full.
 * Args:     T        - temperature (> 0): logits / T
 *           top_p    - nucleus sampling: draw from the smallest set of tokens
 *                      whose probability reaches top_p (1 = plain sampling)
 *           prefix   - n_prefix residue tokens the sequence starts with (may be NULL)
 *           out      - room for n_ctx - 1 tokens (RETURN)
 *           ret_n    - RETURN: residues drawn (including the prefix)
 *           ret_logp - RETURN: log P(out) under the model at T = 1, top_p = 1
 *                      (EOS included only if it was drawn); may be NULL. It
 *                      equals sl_tfm_logp's to float rounding (~1e-7 relative):
 *                      its forwards are shorter, and some BLAS kernels round a
 *                      row by the height of the product it sits in.
 * Returns:  SL_OK, SL_EUSAGE (bad T, top_p or prefix), SL_ENOMEM.
 * Cost:     one forward pass over the prefix per new token (no KV cache).
 */
SL_MUSTCHECK int sl_tfm_sample(sl_tfm *t, sl_rng *rng, double T, double top_p, const int *prefix,
                               int n_prefix, int *out, int *ret_n, double *ret_logp, sl_error *err);

/* sl_tfm_gibbs()
 * Purpose:  Gibbs sampling under the model's exact likelihood with some
 *           residues clamped (--fix, --infill): each sweep visits the free
 *           sites in order and redraws site i from
 *           P(x_i = a | x_-i) = P(x with a at i)^(1/T) / sum_b P(x with b at i)^(1/T),
 *           the 20 full log-probabilities coming from one batched forward pass.
 *           The length is fixed (no insertions or deletions).
 * Args:     x        - n residue tokens: the start, updated in place (RETURN)
 *           is_free  - n flags: 1 = the site is resampled, 0 = clamped
 *           sweeps   - number of sweeps over the free sites
 *           ret_logp - RETURN: log P(x) at T = 1 after the last sweep (may be NULL)
 * Returns:  SL_OK, SL_EUSAGE (bad T, n + 1 > n_ctx), SL_ENOMEM.
 * Cost:     per free site one forward pass over 20 x (n + 1) tokens.
 */
SL_MUSTCHECK int sl_tfm_gibbs(sl_tfm *t, sl_rng *rng, double T, int *x, int n, const uint8_t *is_free,
                              int64_t sweeps, double *ret_logp, sl_error *err);

/* sl_tfm_entropy()
 * Purpose:  Monte Carlo entropy S = -E[log2 P(x)] over n samples (T = 1,
 *           top_p = 1), with its standard error; in bits. Deterministic for a
 *           seed. Samples that fill the context without drawing EOS (count in
 *           ret_truncated) contribute log P of their residues only, which
 *           biases S upwards by at most their share; 0 for a model whose
 *           context exceeds every sequence it learnt.
 */
SL_MUSTCHECK int sl_tfm_entropy(sl_tfm *t, int64_t n, uint64_t seed, double *ret_bits, double *ret_se,
                                int64_t *ret_truncated, sl_error *err);

/* ---- training -------------------------------------------------------- */

typedef struct sl_tfm_state sl_tfm_state;

typedef struct sl_tfm_train_opts {
  int64_t steps;        /* optimiser steps (1000) */
  int batch;            /* sequences per step (16) */
  double lr;            /* peak learning rate (1e-3) */
  double min_lr_frac;   /* cosine decays to lr * this (0.1) */
  int64_t warmup;       /* linear warm-up steps (-1, the default: steps / 20) */
  double beta1, beta2;  /* 0.9, 0.95 */
  double eps;           /* 1e-8 */
  double weight_decay;  /* 0.1, on matrices only (not biases, LayerNorm, wpe) */
  double clip;          /* global gradient-norm clip (1.0; 0 = off) */
  uint64_t seed;        /* data order and initialisation */
  int64_t eval_every;   /* steps between held-out evaluations (100; 0 = end only) */
  int64_t ckpt_every;   /* steps between checkpoints (0 = end only) */
  int threads;
  /* Called after each step: the step's loss, its tokens with a loss, and
   * the seconds its forward, backward and update took (evaluation and
   * checkpoints excluded); eval_nll >= 0 when the step ended with a held-out
   * evaluation (is_eval). Returning non-zero stops training cleanly (the
   * state is checkpointed). */
  int (*progress)(void *ctx, int64_t step, double lr, double loss, int64_t ntok, double seconds,
                  double eval_nll, int is_eval);
  void *progress_ctx;
  /* Called with the trainer state to write a checkpoint (may be NULL). */
  int (*checkpoint)(void *ctx, const sl_tfm_state *st, sl_error *err);
  void *checkpoint_ctx;
} sl_tfm_train_opts;

void sl_tfm_train_opts_init(sl_tfm_train_opts *o);

/* Everything needed to resume: the model, AdamW moments, the step and the
 * data-order generator. */
struct sl_tfm_state {
  sl_tfm *model;
  float *m, *v;         /* n_params AdamW moments */
  int64_t step;         /* steps done */
  sl_rng rng;           /* data order generator after `step` steps */
  double last_eval;     /* last held-out NLL per token (nats), -1 if none */
};

/* A training set: n sequences of tokens with sampling weights. */
typedef struct sl_tfm_data {
  int64_t n;
  const int *const *seq; /* residue tokens */
  const int *len;
  const double *w;       /* sampling weight of each (NULL: uniform) */
} sl_tfm_data;

/* sl_tfm_state_create(): a state around model (zero moments, step 0,
 * generator seeded with seed); the state does not own the model. */
SL_MUSTCHECK int sl_tfm_state_create(sl_tfm *model, uint64_t seed, sl_tfm_state **ret_st, sl_error *err);
void sl_tfm_state_destroy(sl_tfm_state *st);

/* sl_tfm_train()
 * Purpose:  Run AdamW from st->step to o->steps. Each step draws o->batch
 *           sequences with probability proportional to their weight (with
 *           replacement, from st->rng); a sequence longer than n_ctx - 1
 *           residues contributes a window of n_ctx + 1 tokens of
 *           BOS a_1..a_n EOS starting at a uniform offset. Learning rate:
 *           linear warm-up, then cosine decay to lr * min_lr_frac.
 * Args:     heldout - evaluation set (may be NULL)
 *           ret_eval- RETURN: final held-out NLL per token in nats (-1 if none)
 * Returns:  SL_OK, SL_EUSAGE, SL_ENOMEM, or what a callback returned.
 */
SL_MUSTCHECK int sl_tfm_train(sl_tfm_state *st, const sl_tfm_data *train, const sl_tfm_data *heldout,
                              const sl_tfm_train_opts *o, double *ret_eval, sl_error *err);

/* sl_tfm_eval(): mean NLL per token (nats, EOS counted) of a data set, exact
 * for sequences that fit the context, windows of n_ctx tokens otherwise. */
SL_MUSTCHECK int sl_tfm_eval(sl_tfm *t, const sl_tfm_data *d, double *ret_nll, int64_t *ret_ntok,
                             sl_error *err);

/* ---- files ------------------------------------------------------------
 * A tfm model lives in the seqloop model file (kind "tfm", see model.h and
 * docs/model-format.md); a checkpoint is the same file with the tensors
 * "adam_m" and "adam_v" and the trainer's step and generator in the header. */

#ifdef __cplusplus
}
#endif
#endif
