/* seqloop/progress.h: progress of long steps (rate, ETA) on a terminal.
 *
 * The library never prints on its own: a long step takes an sl_progress
 * pointer and reports to it; NULL (the default everywhere) means silence.
 * The CLI creates one only when stderr is a terminal and -q is not given
 * (cli_progress), so piped runs stay quiet. One line, redrawn in place at
 * most every 0.25 s and cleared when the step ends.
 */
#ifndef SEQLOOP_PROGRESS_H
#define SEQLOOP_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_progress sl_progress;

/* sl_progress_create()
 * Purpose:  A progress line on fp counting `unit` ("sites", "sweeps",
 *           "iterations"), labelled `label`; sl_progress_start gives the
 *           total (0: unknown, then no percentage and no ETA).
 * Returns:  the object, or NULL if out of memory (then nothing is shown).
 */
sl_progress *sl_progress_create(FILE *fp, const char *label, const char *unit);

/* sl_progress_start(): begin a step of `total` units (a label of NULL
 * keeps the one given at creation). NULL p: no-op. */
void sl_progress_start(sl_progress *p, const char *label, int64_t total);

/* sl_progress_update(): `done` units so far (monotone per step). Safe from
 * several threads; NULL p: no-op. */
void sl_progress_update(sl_progress *p, int64_t done);

/* sl_progress_add(): `n` more units done (threads may call it together). */
void sl_progress_add(sl_progress *p, int64_t n);

/* sl_progress_note(): a short text shown after the count (e.g. the
 * objective of an optimiser); NULL clears it. NULL p: no-op. */
void sl_progress_note(sl_progress *p, const char *note);

/* sl_progress_end(): clear the line of the current step. NULL: no-op. */
void sl_progress_end(sl_progress *p);

/* sl_progress_lines(): lines drawn so far (for tests). */
int64_t sl_progress_lines(const sl_progress *p);

void sl_progress_destroy(sl_progress *p);

#ifdef __cplusplus
}
#endif
#endif
