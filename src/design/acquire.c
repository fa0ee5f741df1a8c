/* acquire.c: acquisition functions and the choice of a diverse batch.
 *
 * Scores from the predictor's mean and sd: greedy (mean), UCB (mean + beta
 * sd), EI (expected improvement over the best measured, Gaussian
 * predictive), Thompson (per batch slot, one ensemble member drawn at
 * random ranks the candidates: the bootstrap members are the posterior
 * samples). The batch takes the best-scoring candidates at Hamming distance
 * >= min_distance from those already chosen, then fills any remaining slots
 * by score alone: diversity is a preference, the batch size is a promise.
 * O(B * n * L) per batch.
 */
#include <math.h>
#include <stdlib.h>

#include "loop_impl.h"

static double norm_cdf(double z) { return 0.5 * erfc(-z / M_SQRT2); }
static double norm_pdf(double z) { return exp(-0.5 * z * z) / sqrt(2 * M_PI); }

void sl_design_acquire(sl_design_cands *c, const sl_design_opts *op, double best) {
  for (int64_t k = 0; k < c->n; k++) {
    double mu = c->mean[k], sd = c->sd[k];
    switch (op->acquisition) {
      case SL_ACQ_GREEDY: c->score[k] = mu; break;
      case SL_ACQ_UCB: c->score[k] = mu + op->beta * sd; break;
      case SL_ACQ_EI:
        if (sd > 0) {
          double z = (mu - best) / sd;
          c->score[k] = (mu - best) * norm_cdf(z) + sd * norm_pdf(z);
        } else {
          c->score[k] = mu > best ? mu - best : 0.0;
        }
        break;
      default: c->score[k] = mu; break; /* Thompson: per slot, below */
    }
  }
}

/* Choose up to B candidates: best score first, at least min_distance from
 * those already chosen; if too few qualify, the rest are filled by score
 * (documented: diversity is a preference, the batch size is a promise). */
int64_t sl_design_select_batch(sl_design_cands *c, const sl_design_opts *op, int64_t B, sl_rng *r, int64_t *chosen) {
  int64_t nb = 0;
  uint8_t *taken = calloc((size_t)c->n + 1, 1);
  if (!taken) return -1;
  for (int pass = 0; pass < 2 && nb < B; pass++) {
    int mind = pass == 0 ? op->min_distance : 0;
    while (nb < B) {
      int member = op->acquisition == SL_ACQ_THOMPSON && c->B > 0 ? (int)sl_design_rnd(r, c->B) : -1;
      int64_t pick = -1;
      double bs = -INFINITY;
      for (int64_t k = 0; k < c->n; k++) {
        if (taken[k]) continue;
        double s = member >= 0 ? c->member[k * c->B + member] : c->score[k];
        if (pick >= 0 && !(s > bs)) continue;
        int ok = 1;
        for (int64_t j = 0; j < nb && ok; j++) ok = sl_design_hamming(c->x + k * c->L, c->x + chosen[j] * c->L, c->L) >= mind;
        if (!ok) continue;
        pick = k;
        bs = s;
      }
      if (pick < 0) break;
      taken[pick] = 1;
      chosen[nb++] = pick;
    }
  }
  free(taken);
  return nb;
}
