/* state.c: what the ledger knows at the start of a round.
 *
 * Every input of a round is read back from the ledger in id order: the
 * sequences of the run (encoded in the oracle's space), which of them were
 * measured, the training set (finite values, best first; ties broken by
 * ledger order so the order is total) and each sequence's prior log P. The
 * loop keeps nothing else between rounds, so a run killed at any point and
 * resumed sees exactly what an uninterrupted one saw.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop_impl.h"


void sl_design_state_free(sl_design_state *st) {
  sl_ledger_seqs_free(&st->s);
  free(st->x); free(st->train); free(st->prior);
  memset(st, 0, sizeof *st);
}

static const double *cmp_vals;
static int cmp_desc(const void *a, const void *b) {
  int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
  if (cmp_vals[i] > cmp_vals[j]) return -1;
  if (cmp_vals[i] < cmp_vals[j]) return 1;
  return i < j ? -1 : i > j; /* ties: earlier first, so the order is total */
}

int sl_design_state_load(sl_ledger *l, int64_t run, sl_oracle *o, const sl_design_prior *prior, sl_design_state *st,
                      sl_error *err) {
  memset(st, 0, sizeof *st);
  st->L = o->L;
  int status = sl_ledger_seqs_get(l, run, o->name, &st->s, err);
  if (status) return status;
  int64_t n = st->s.n;
  st->x = malloc((size_t)(n * o->L) + 1);
  st->train = malloc((size_t)(n + 1) * sizeof *st->train);
  st->prior = malloc((size_t)(n + 1) * sizeof *st->prior);
  uint8_t *work = prior && prior->m ? malloc((size_t)prior->m->L) : NULL;
  if (!st->x || !st->train || !st->prior || (prior && prior->m && !work)) {
    free(work);
    sl_design_state_free(st);
    return sl_fail(err, SL_ENOMEM, "out of memory");
  }
  st->start = -1;
  for (int64_t k = 0; k < n; k++) {
    if ((status = sl_design_encode(o, st->s.seq[k], st->x + k * o->L, err))) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      status = sl_fail(err, SL_EINPUT, "ledger sequence %lld does not fit the oracle: %s", (long long)st->s.id[k], msg);
      break;
    }
    if (st->start < 0 && st->s.origin[k] == SL_ORIGIN_NATURAL) st->start = k;
    st->n_measured += st->s.measured[k];
    /* A value beyond SL_DESIGN_MAX_VALUE (stored by a version that accepted
     * ±1e308) would overflow the predictor's sums of squares and block the
     * campaign forever; it trains nothing, like a failed measurement. */
    if (st->s.measured[k] && isfinite(st->s.value[k]) && fabs(st->s.value[k]) <= SL_DESIGN_MAX_VALUE)
      st->train[st->ntrain++] = k;
    st->prior[k] = sl_design_prior_logp(prior, o->L, st->x + k * o->L, work);
  }
  free(work);
  if (status) { sl_design_state_free(st); return status; }
  cmp_vals = st->s.value;
  qsort(st->train, (size_t)st->ntrain, sizeof *st->train, cmp_desc);
  return SL_OK;
}
