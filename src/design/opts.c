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
