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
                    int64_t offset, int threads, double *ret, sl_error *err);
int slpy_all_singles(const sl_model *m, const uint8_t *ref, double *ret, sl_error *err);
#endif
