/* fuzz_common.h: what the libFuzzer targets share (included, not linked;
 * the Makefile builds each tests/fuzz/fuzz_*.c as its own program).
 *
 * fuzz_run_msa() takes parsed records through every later stage a command
 * would run (preprocessing under several option sets, both weight
 * conventions, the audit) and checks the invariants a caller relies on:
 *   - a failing call returns a known status and fills a non-empty message;
 *   - a built alignment is non-empty, its states are < q, its bookkeeping
 *     (source rows/columns, focus) points inside the input;
 *   - weights lie in [0, 1] and Neff in [0, N].
 * A violated invariant calls __builtin_trap(), which libFuzzer reports as a
 * crash with the input that caused it.
 */
#ifndef SL_FUZZ_COMMON_H
#define SL_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/seqloop.h"

#define FUZZ_MAX_WEIGHT_ROWS 2000

static void fuzz_check_error(int status, const sl_error *err) {
  if (status < SL_EINPUT || status > SL_EINTERNAL) __builtin_trap();
  if (err->msg[0] == '\0') __builtin_trap();
  if (memchr(err->msg, '\0', sizeof err->msg) == NULL) __builtin_trap();
}

static void fuzz_check_msa(const sl_seqset *ss, const sl_msa *m) {
  if (m->N <= 0 || m->L <= 0) __builtin_trap();
  if (m->N > ss->n) __builtin_trap();
  if (m->focus < -1 || m->focus >= m->N) __builtin_trap();
  for (int64_t i = 0; i < m->N * m->L; i++)
    if (m->x[i] >= m->abc->q) __builtin_trap();
  for (int64_t n = 0; n < m->N; n++) {
    if (m->src_row[n] < 0 || m->src_row[n] >= ss->n) __builtin_trap();
    if (n > 0 && m->src_row[n] <= m->src_row[n - 1]) __builtin_trap();
    if (!m->name[n] || m->name[n][0] == '\0') __builtin_trap();
  }
  for (int64_t j = 0; j < m->L; j++) {
    if (m->src_col[j] < 0 || m->src_col[j] >= m->rep.cols_in) __builtin_trap();
    if (j > 0 && m->src_col[j] <= m->src_col[j - 1]) __builtin_trap();
  }
  if (m->rep.n_kept != m->N || m->rep.cols_kept != m->L) __builtin_trap();
}

static void fuzz_weights_and_audit(const sl_msa *m) {
  if (m->N > FUZZ_MAX_WEIGHT_ROWS) return;
  double *w = malloc((size_t)m->N * sizeof *w);
  if (!w) return;
  static const int conv[2] = {SL_WEIGHTS_PLMC, SL_WEIGHTS_EVE};
  for (int c = 0; c < 2; c++) {
    sl_weights_opts wo;
    sl_error err;
    double neff = -1.0;
    sl_weights_opts_init(&wo);
    wo.threads = 1;
    wo.convention = conv[c];
    sl_error_clear(&err);
    int status = sl_weights_compute(m, &wo, w, &neff, &err);
    if (status) { fuzz_check_error(status, &err); continue; }
    for (int64_t n = 0; n < m->N; n++)
      if (!(w[n] >= 0.0 && w[n] <= 1.0)) __builtin_trap();
    if (!(neff >= 0.0 && neff <= (double)m->N + 1e-9)) __builtin_trap();
    sl_audit *a = NULL;
    status = sl_audit_compute(m, w, &a, &err);
    if (status) { fuzz_check_error(status, &err); continue; }
    if (a->N != m->N || a->L != m->L) __builtin_trap();
    if (a->n_distinct + a->n_duplicates != a->N) __builtin_trap();
    sl_audit_destroy(a);
  }
  free(w);
}

static void fuzz_build(const sl_seqset *ss, const sl_msa_opts *o) {
  sl_msa *m = NULL;
  sl_error err;
  sl_error_clear(&err);
  int status = sl_msa_build(ss, o, &m, &err);
  if (status) {
    fuzz_check_error(status, &err);
    if (m) __builtin_trap(); /* no result on failure */
    return;
  }
  fuzz_check_msa(ss, m);
  fuzz_weights_and_audit(m);
  sl_msa_destroy(m);
}

/* Preprocess ss under the option sets the commands use most. */
static void fuzz_run_msa(const sl_seqset *ss) {
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  fuzz_build(ss, &o); /* defaults: plmc without -f */

  sl_msa_opts_init(&o);
  o.focus_first = 1;
  o.max_gap_frac = 0.5;
  o.min_coverage = 0.5;
  fuzz_build(ss, &o); /* focus mode with both filters */

  sl_msa_opts_init(&o);
  o.format = ss->format == SL_FMT_STOCKHOLM ? SL_FMT_AUTO : SL_FMT_A3M;
  o.nonstd = SL_NONSTD_GAP;
  o.allow_dup_names = 1;
  if (ss->n > 1) o.focus = ss->name[ss->n - 1]; /* focus by name, last record */
  fuzz_build(ss, &o);
}

static void fuzz_check_seqset(const sl_seqset *ss) {
  if (ss->n <= 0) __builtin_trap();
  for (int64_t k = 0; k < ss->n; k++)
    if ((int64_t)strlen(ss->seq[k]) != ss->len[k]) __builtin_trap();
}

#endif
