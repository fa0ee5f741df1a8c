/* tap.h: a minimal test harness for the unit drivers. Each check prints
 * "ok N - what" or "not ok N - what"; the driver exits 1 if any failed.
 * tests/run.sh counts the lines.
 */
#ifndef SL_TAP_H
#define SL_TAP_H
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0;

#define CHECK(cond, ...)                                        \
  do {                                                          \
    int ok_ = (cond) ? 1 : 0;                                   \
    tap_n++;                                                    \
    if (!ok_) tap_failed++;                                     \
    printf("%s %d - ", ok_ ? "ok" : "not ok", tap_n);           \
    printf(__VA_ARGS__);                                        \
    printf("%s\n", ok_ ? "" : "  <-- FAILED");                  \
    if (!ok_) printf("#   at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_NEAR(a, b, tol, what)                                                   \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s (%.10g vs %.10g)", what, (double)(a), \
        (double)(b))

#define TAP_DONE() (printf("# %d checks, %d failed\n", tap_n, tap_failed), tap_failed ? 1 : 0)

/* Path of the shared data directory (env SEQLOOP_DATA or ../shared/data). */
static inline const char *tap_data(void) {
  const char *d = getenv("SEQLOOP_DATA");
  return d ? d : "../shared/data";
}
#endif
