/* progress.c: see progress.h. Redraws are rate-limited by a monotonic clock
 * (never part of a result), and serialised by an OpenMP critical section so
 * that threads of a parallel loop can report together. */
#include "seqloop/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sl_progress {
  FILE *fp;
  char label[64];
  char unit[24];
  char note[96];
  int64_t total, done;
  double t0, last;
  int drawn;     /* a line is on the terminal */
  int64_t lines; /* redraws so far */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sl_progress *sl_progress_create(FILE *fp, const char *label, const char *unit) {
  sl_progress *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->fp = fp;
  snprintf(p->label, sizeof p->label, "%s", label ? label : "");
  snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
  return p;
}

void sl_progress_start(sl_progress *p, const char *label, int64_t total) {
  if (!p) return;
  if (label) snprintf(p->label, sizeof p->label, "%s", label);
  p->total = total;
  p->done = 0;
  p->t0 = now();
  p->last = 0;
}

static void draw(sl_progress *p) {
  double t = now(), el = t - p->t0;
  if ((p->total <= 0 || p->done < p->total) && t - p->last < 0.25) return;
  p->last = t;
  double rate = el > 0 ? (double)p->done / el : 0;
  if (p->total > 0)
    fprintf(p->fp, "\r%s: %lld/%lld %s (%.0f%%), %.1f %s/s", p->label, (long long)p->done, (long long)p->total,
            p->unit, 100.0 * (double)p->done / (double)p->total, rate, p->unit);
  else
    fprintf(p->fp, "\r%s: %lld %s, %.1f %s/s", p->label, (long long)p->done, p->unit, rate, p->unit);
  if (p->note[0]) fprintf(p->fp, ", %s", p->note);
  if (rate > 0 && p->done < p->total) {
    long long eta = (long long)((double)(p->total - p->done) / rate + 0.5);
    fprintf(p->fp, ", ETA %lld:%02lld", eta / 60, eta % 60);
  }
  fprintf(p->fp, "\033[K");
  fflush(p->fp);
  p->drawn = 1;
  p->lines++;
}

void sl_progress_update(sl_progress *p, int64_t done) {
  if (!p) return;
#pragma omp critical(sl_progress)
  {
    if (done > p->done) p->done = done;
    draw(p);
  }
}

void sl_progress_add(sl_progress *p, int64_t n) {
  if (!p) return;
#pragma omp critical(sl_progress)
  {
    p->done += n;
    draw(p);
  }
}

void sl_progress_note(sl_progress *p, const char *note) {
  if (!p) return;
#pragma omp critical(sl_progress)
  snprintf(p->note, sizeof p->note, "%s", note ? note : "");
}

void sl_progress_end(sl_progress *p) {
  if (!p || !p->drawn) return;
  fprintf(p->fp, "\r\033[K");
  fflush(p->fp);
  p->drawn = 0;
}

int64_t sl_progress_lines(const sl_progress *p) { return p ? p->lines : 0; }

void sl_progress_destroy(sl_progress *p) {
  if (!p) return;
  sl_progress_end(p);
  free(p);
}
