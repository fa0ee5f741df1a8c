/* linalg.h (private): the one small dense solver the library needs (the
 * profile's per-column Newton steps, the design predictor's kernel ridge).
 * Dense math of any size goes through OpenBLAS (the transformer); these
 * systems are q x q or a few hundred rows, where a plain loop is enough.
 */
#ifndef SL_LINALG_H
#define SL_LINALG_H

#include <stdint.h>

/* sl_cholesky_solve(): solve A x = b for symmetric positive definite A
 * (n x n, row-major), by Cholesky in place: A is overwritten by its lower
 * factor, b by x. Returns 0, or -1 when A is not positive definite. */
int sl_cholesky_solve(double *A, double *b, int64_t n);

#endif
