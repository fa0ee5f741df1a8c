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
