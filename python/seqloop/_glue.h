/* _glue.h: loops the Python bindings run in C (private to python/seqloop;
 * not part of the C API): batched scoring over numpy buffers with one model
 * workspace per thread, mutant lists, the all-singles matrix. */
#ifndef SLPY_GLUE_H
#define SLPY_GLUE_H
#include <stdint.h>
#include "seqloop/seqloop.h"

int slpy_score_many(const sl_model *m, const uint8_t *x, int64_t n, int normalised, int threads,
                    double *ret, sl_error *err);
int slpy_delta_many(const sl_model *m, const uint8_t *ref, const char *const *mutants, int64_t n,
                    int64_t offset, int skip_invalid, int threads, double *ret, sl_error *err);
int slpy_all_singles(const sl_model *m, const uint8_t *ref, double *ret, sl_error *err);
#endif

/* One design campaign run to its limits (sl_design_campaign_open + _run) with
 * the strings copied into the campaign's options; NULL strings are absent. */
int slpy_design_run(const char *ledger, const char *oracle, const char *start, const char *symbols,
                    const char *prior, const char *prior_sites, const char *naturals, const sl_design_opts *o,
                    int rounds_given, int budget_given, sl_design_end *ret_end, sl_error *err);
/* One ledger table as CSV text in *ret (caller frees with free()). */
int slpy_ledger_csv(const char *path, const char *table, int with_times, char **ret, sl_error *err);
void slpy_free(void *p);
/* What `seqloop fit` sets after a fit: the focus row (or row 0), its residue
 * numbers (1..L without a focus), the focus name, and meta (JSON, copied). */
int slpy_model_finish(sl_model *m, const sl_msa *msa, const char *meta, sl_error *err);
/* The transformer: train on Python's rows (weights w, NULL = 1 each) with
 * the CLI's steps (sl_tfm_init_random, sl_tfm_state_create, sl_tfm_train,
 * seeded by o->seed); ref (letters, '-' allowed) is the model's focus,
 * numbered ref_pos (NULL: 1..). cfg0->n_ctx 0: longest row + 2, at most 512. */
int slpy_tfm_fit(const char *const *seqs, const double *w, int64_t n, const char *ref, const int64_t *ref_pos,
                 const char *ref_name, const sl_tfm_config *cfg0, const sl_tfm_train_opts *o, const char *meta,
                 sl_model **ret, int64_t *ret_skipped, sl_error *err);
/* log P of unaligned sequences (gaps ignored) under a tfm model. */
int slpy_tfm_logp(sl_model *m, const char *const *seqs, int64_t n, int threads, double *ret, sl_error *err);
/* Replace a model's meta (JSON, copied). */
int slpy_model_set_meta(sl_model *m, const char *meta, sl_error *err);
