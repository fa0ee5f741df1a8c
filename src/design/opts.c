/* opts.c: the options of the design loop, their defaults, and the names of
 * the proposers and acquisition functions.
 *
 * The defaults live here and only here: the CLI's help and the campaign's
 * stored options (campaign.c) read them from sl_design_opts_init(), so a
 * default changed here changes everywhere. The names are the words of the
 * command line and of the ledger's stored options; their order is the
 * order of the SL_PROPOSE_* and SL_ACQ_* codes.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "seqloop/design.h"

void sl_design_opts_init(sl_design_opts *o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->rounds = 10;
  o->batch = 8;
  o->budget = 0;
  o->proposer = SL_PROPOSE_MUTATE;
  o->acquisition = SL_ACQ_UCB;
  o->beta = 2.0;
  o->use_predictor = 1;
  o->candidates = 1000;
  o->mutations = 2;
  o->max_edits = 0;
  o->min_prior = INFINITY;
  o->prior_top = 0;
  o->min_distance = 1;
  o->population = 32;
  sl_predictor_opts_init(&o->pred);
  o->crash_after = -1;
  o->conformal = SL_CONF_NONE;
  o->alpha = 0.1;
  o->init_random = 0;
  o->oracle_noise = 0;
  o->replicates = 1;
  o->query_lambda = 10.0;
  o->cal_lambda = 2.0;
  o->cal_fraction = 0.5;
}

/* Each numeric option, its command-line name and its range (the CLI's
 * parser uses the same SL_DESIGN_* limits). */
typedef struct {
  const char *name;
  size_t off;
  char type;         /* 'i' int, 'I' int64_t, 'd' double */
  double min, max;
  int min_open;      /* 1: the value must exceed min */
} opt_range;
#define R_(nm, field, t, mn, mx, op) {nm, offsetof(sl_design_opts, field), t, mn, mx, op}
static const opt_range ranges[] = {
  R_("--batch", batch, 'i', 1, SL_DESIGN_BATCH_MAX, 0),
  R_("--budget", budget, 'I', 0, 9223372036854775807.0, 0),
  R_("--beta", beta, 'd', -HUGE_VAL, HUGE_VAL, 0),
  R_("--candidates", candidates, 'i', 1, SL_DESIGN_CANDIDATES_MAX, 0),
  R_("--mutations", mutations, 'i', 1, SL_DESIGN_MUTATIONS_MAX, 0),
  R_("--max-edits", max_edits, 'i', 0, SL_DESIGN_SITES_MAX, 0),
  R_("--min-distance", min_distance, 'i', 0, SL_DESIGN_SITES_MAX, 0),
  R_("--population", population, 'i', 2, SL_DESIGN_POPULATION_MAX, 0),
  R_("--members", pred.members, 'i', 1, SL_DESIGN_MEMBERS_MAX, 0),
  R_("--lambda", pred.lambda, 'd', 0, HUGE_VAL, 1),
  R_("--prior-weight", pred.prior_weight, 'd', -HUGE_VAL, HUGE_VAL, 0),
  R_("--descriptors", pred.descriptors, 'd', 0, HUGE_VAL, 0),
  R_("--order-weight", pred.order_weight, 'd', 0, HUGE_VAL, 0),
  R_("--alpha", alpha, 'd', SL_DESIGN_SHARE_MIN, 1 - SL_DESIGN_SHARE_MIN, 0),
  R_("--query-lambda", query_lambda, 'd', 0, SL_DESIGN_QUERY_LAMBDA_MAX, 0),
  R_("--cal-lambda", cal_lambda, 'd', 0, SL_DESIGN_QUERY_LAMBDA_MAX, 0),
  R_("--cal-fraction", cal_fraction, 'd', SL_DESIGN_SHARE_MIN, 1 - SL_DESIGN_SHARE_MIN, 0),
  R_("--oracle-noise", oracle_noise, 'd', 0, HUGE_VAL, 0),
  R_("--replicates", replicates, 'i', 1, SL_DESIGN_REPLICATES_MAX, 0),
  R_("--init-random", init_random, 'i', 0, SL_DESIGN_SITES_MAX, 0),
  R_("--prior-top", prior_top, 'd', 0, 1, 0),
};
#undef R_

int sl_design_opts_check(const sl_design_opts *o, sl_error *err) {
  if (o->rounds > SL_DESIGN_ROUNDS_MAX)
    return sl_fail(err, SL_EUSAGE, "--rounds: expected an integer in [0, %d], not %d", SL_DESIGN_ROUNDS_MAX, o->rounds);
  for (size_t t = 0; t < sizeof ranges / sizeof *ranges; t++) {
    const opt_range *r = &ranges[t];
    const char *p = (const char *)o + r->off;
    double v;
    if (r->type == 'i') { int x; memcpy(&x, p, sizeof x); v = x; }
    else if (r->type == 'I') { int64_t x; memcpy(&x, p, sizeof x); v = (double)x; }
    else memcpy(&v, p, sizeof v);
    /* NaN fails both comparisons; infinities only where the range is open-ended */
    int ok = (r->min_open ? v > r->min : v >= r->min) && v <= r->max && (r->type != 'd' || isfinite(v));
    if (!ok) {
      const char *what = r->type == 'd' ? "a finite number" : "an integer";
      if (r->type != 'd')
        return sl_fail(err, SL_EUSAGE, "%s: expected %s in [%.0f, %.0f], not %.0f", r->name, what, r->min, r->max, v);
      if (isfinite(r->min) && isfinite(r->max))
        return sl_fail(err, SL_EUSAGE, "%s: expected %s in [%g, %g], not %g", r->name, what, r->min, r->max, v);
      if (isfinite(r->min))
        return sl_fail(err, SL_EUSAGE, "%s: expected %s %s %g, not %g", r->name, what, r->min_open ? ">" : ">=",
                       r->min, v);
      return sl_fail(err, SL_EUSAGE, "%s: expected %s, not %g", r->name, what, v);
    }
  }
  /* the trust region's prior bound may be infinite (off), not negative or NaN */
  if (!(o->min_prior >= 0))
    return sl_fail(err, SL_EUSAGE, "--min-prior: expected a number >= 0, not %g", o->min_prior);
  if (o->proposer < 0 || o->proposer > SL_PROPOSE_ALL)
    return sl_fail(err, SL_EUSAGE, "unknown proposer code %d", o->proposer);
  if (o->acquisition < 0 || o->acquisition > SL_ACQ_THOMPSON)
    return sl_fail(err, SL_EUSAGE, "unknown acquisition code %d", o->acquisition);
  if (o->conformal != SL_CONF_NONE && o->conformal != SL_CONF_JAB && o->conformal != SL_CONF_RECENT &&
      o->conformal != SL_CONF_WEIGHTED && o->conformal != SL_CONF_BATCH)
    return sl_fail(err, SL_EUSAGE, "unknown conformal method code %d", o->conformal);
  /* A batch's split is over sequences; replicates would make several
   * calibration scores of one sequence (not exchangeable with a test row). */
  if (o->conformal == SL_CONF_BATCH && o->replicates > 1)
    return sl_fail(err, SL_EUSAGE, "--conformal batch calibrates on one measurement per sequence: it does not take "
                   "--replicates %d", o->replicates);
  return SL_OK;
}

static const char *const proposer_names[] = {"mutate", "ga", "random", "walk", "prior", "cbas", "cbas-ar", "all"};
static const char *const acq_names[] = {"greedy", "ucb", "ei", "thompson"};

int sl_design_proposer_parse(const char *s) {
  for (int k = 0; k < 8; k++) if (strcmp(s, proposer_names[k]) == 0) return k;
  return -1;
}
int sl_design_acquisition_parse(const char *s) {
  for (int k = 0; k < 4; k++) if (strcmp(s, acq_names[k]) == 0) return k;
  return -1;
}
const char *sl_design_proposer_name(int p) { return p >= 0 && p < 8 ? proposer_names[p] : "?"; }
const char *sl_design_acquisition_name(int a) { return a >= 0 && a < 4 ? acq_names[a] : "?"; }
