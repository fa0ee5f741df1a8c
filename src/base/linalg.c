/* linalg.c: Cholesky solve for small dense SPD systems (linalg.h). O(n^3/3). */
#include "seqloop/base.h"

#include <math.h>

int sl_cholesky_factor(double *A, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    double d = A[j * n + j];
    for (int64_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 0)) return -1;
    d = sqrt(d);
    A[j * n + j] = d;
    for (int64_t i = j + 1; i < n; i++) {
      double s = A[i * n + j];
      for (int64_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
  }
  return 0;
}

int sl_cholesky_solve(double *A, double *b, int64_t n) {
  if (sl_cholesky_factor(A, n)) return -1;
  for (int64_t i = 0; i < n; i++) { /* L y = b */
    double s = b[i];
    for (int64_t k = 0; k < i; k++) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; i--) { /* L^T x = y */
    double s = b[i];
    for (int64_t k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
  return 0;
}
