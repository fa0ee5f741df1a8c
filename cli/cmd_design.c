/* cmd_design.c: `seqloop design run|propose|ingest|oracle` - glue over the
 * design loop (src/design) and the ledger (src/ledger).
 *
 * The options that define a campaign are written to the ledger as JSON on
 * the first call; later calls with only --ledger reuse them, and calls that
 * give options must give the same ones (--rounds and --budget excepted), so
 * a resumed campaign cannot silently change course.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_round(const sl_design_round *R, void *arg) {
  (void)arg;
  fprintf(stderr, "seqloop design: round %lld: measured %lld, best %.4g, batch mean %.4g", (long long)R->k,
          (long long)R->n_measured, R->best, R->batch_mean);
  if (isfinite(R->regret)) fprintf(stderr, ", regret %.4g", R->regret);
  if (isfinite(R->prior_logp)) fprintf(stderr, ", prior logP %.2f", R->prior_logp);
  if (isfinite(R->dist_natural)) fprintf(stderr, ", dist to natural %.2f", R->dist_natural);
  if (isfinite(R->coverage90)) fprintf(stderr, ", 90%% coverage %.2f", R->coverage90);
  if (isfinite(R->conformal_coverage))
    fprintf(stderr, ", conformal coverage %.2f width %.3g", R->conformal_coverage, R->conformal_width);
  if (isfinite(R->conformal_unbounded)) fprintf(stderr, " (%.2f unbounded)", R->conformal_unbounded);
  fprintf(stderr, ", acceptance %.3g (%.2f bits)\n", R->acceptance, R->bits_injected);
}

/* Why `design run` stopped, in words: which limit (both named when both
 * were in force), or that it is stuck. */
static void print_end(const sl_design_campaign *c, const sl_design_end *e) {
  const sl_design_opts *o = &c->opts.o;
  if (e->why & SL_DESIGN_END_STUCK) {
    fprintf(stderr, "seqloop design: stopped: no new candidate passed the filters (a walk at a local "
            "optimum, or a trust region too tight: --max-edits, --min-prior, --candidates)\n");
    return;
  }
  int both = o->rounds >= 0 && o->budget > 0;
  if ((e->why & SL_DESIGN_END_BUDGET) && (e->why & SL_DESIGN_END_ROUNDS))
    fprintf(stderr, "seqloop design: stopped: --budget %lld and --rounds %d both reached (%lld measurements, "
            "round %lld)\n", (long long)o->budget, o->rounds, (long long)e->n_measured, (long long)e->last_round);
  else if (e->why & SL_DESIGN_END_BUDGET)
    fprintf(stderr, "seqloop design: stopped: --budget %lld reached (%lld measurements) at round %lld%s\n",
            (long long)o->budget, (long long)e->n_measured, (long long)e->last_round,
            both ? ", before the --rounds limit" : "");
  else if (e->why & SL_DESIGN_END_ROUNDS) {
    fprintf(stderr, "seqloop design: stopped: --rounds %d reached (%lld measurements)", o->rounds,
            (long long)e->n_measured);
    if (both) fprintf(stderr, ", before --budget %lld was spent", (long long)o->budget);
    fprintf(stderr, "\n");
  }
}

static char *cmdline_of(int argc, char **argv) {
  size_t n = 32;
  for (int k = 0; k < argc; k++) n += strlen(argv[k]) + 1;
  char *s = malloc(n);
  if (!s) return NULL;
  strcpy(s, "seqloop design");
  for (int k = 0; k < argc; k++) { strcat(s, " "); strcat(s, argv[k]); }
  return s;
}

/* The batch CSV of `design propose` (the campaign's writer callback). */
typedef struct {
  const char *out;
} batch_dest;

static int write_batch(void *arg, int64_t k, char *const *seqs, const double *mean, const double *sd, int64_t n,
                       sl_error *err) {
  const batch_dest *d = arg;
  sl_outfile *of = NULL;
  int status = sl_outfile_open(d->out, &of, err);
  if (status) return status;
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "round,sequence,predicted_mean,predicted_sd,value\n");
  for (int64_t j = 0; j < n; j++) {
    fprintf(fp, "%lld,%s,", (long long)k, seqs[j]);
    if (isfinite(mean[j])) fprintf(fp, "%.6g,%.6g,\n", mean[j], sd[j]);
    else fprintf(fp, ",,\n");
  }
  return sl_outfile_commit(of, err);
}

static int write_rounds(sl_ledger *l, const char *path, sl_error *err) {
  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (status) return status;
  if ((status = sl_design_rounds_write(l, sl_outfile_fp(of), err))) { sl_outfile_abort(of); return status; }
  return sl_outfile_commit(of, err);
}

/* `design oracle`: an oracle instance as JSON. */
static int describe_oracle(const sl_design_campaign_opts *c, const char *out, sl_error *err) {
  sl_oracle *o = NULL;
  int status = sl_oracle_create(c->oracle, c->oracle_timeout, c->start ? (int64_t)strlen(c->start) : 0, c->symbols,
                                &o, err);
  if (status) return status;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "spec", c->oracle);
  cJSON_AddItemToObject(j, "instance", cJSON_Parse(o->spec_json));
  cJSON_AddNumberToObject(j, "L", (double)o->L);
  cJSON_AddStringToObject(j, "symbols", o->symbols);
  if (isfinite(o->optimum)) cJSON_AddNumberToObject(j, "optimum", o->optimum);
  if (o->optimum_seq) cJSON_AddStringToObject(j, "optimum_sequence", o->optimum_seq);
  else cJSON_AddNullToObject(j, "optimum_sequence");
  if (o->start_seq) cJSON_AddStringToObject(j, "start_sequence", o->start_seq);
  else cJSON_AddNullToObject(j, "start_sequence");
  status = cli_write_json(out, j, err);
  cJSON_Delete(j);
  sl_oracle_destroy(o);
  return status;
}

/* The sidecar records the campaign's inputs, as the ledger's run does: the
 * oracle's file (table:FILE[,...], model:FILE; copied into buf, which must
 * outlive cc), the prior and the naturals. */
static void record_inputs(cli_common *cc, const sl_design_campaign_opts *in, char *buf, size_t n) {
  if (!strncmp(in->oracle, "table:", 6) || !strncmp(in->oracle, "model:", 6)) {
    snprintf(buf, n, "%s", in->oracle + 6);
    char *comma = !strncmp(in->oracle, "table:", 6) ? strchr(buf, ',') : NULL;
    if (comma) *comma = '\0';
    cli_input(cc, "oracle", buf);
  }
  cli_input(cc, "prior", in->prior);
  cli_input(cc, "naturals", in->naturals);
}

static const cli_choice proposer_choices[] = {
  {"mutate", SL_PROPOSE_MUTATE}, {"ga", SL_PROPOSE_GA}, {"random", SL_PROPOSE_RANDOM}, {"walk", SL_PROPOSE_WALK},
  {"prior", SL_PROPOSE_PRIOR}, {"cbas", SL_PROPOSE_CBAS}, {"cbas-ar", SL_PROPOSE_CBAS_AR},
  {"all", SL_PROPOSE_ALL}, {NULL, 0}};
static const cli_choice acq_choices[] = {
  {"greedy", SL_ACQ_GREEDY}, {"ucb", SL_ACQ_UCB}, {"ei", SL_ACQ_EI}, {"thompson", SL_ACQ_THOMPSON}, {NULL, 0}};

static const cli_choice conf_choices[] = {{"none", SL_CONF_NONE}, {"jab", SL_CONF_JAB}, {"recent", SL_CONF_RECENT},
                                          {"weighted", SL_CONF_WEIGHTED}, {"batch", SL_CONF_BATCH}, {NULL, 0}};

static const cli_cmdinfo info = {
  "design",
  "seqloop design run     --ledger FILE --oracle SPEC [options]\n"
  "       seqloop design propose --ledger FILE [--oracle lab --start SEQ ...] -o batch.csv\n"
  "       seqloop design ingest  --ledger FILE results.csv\n"
  "       seqloop design plate   --ledger FILE [calibration.csv] -o plate.csv   (--conformal batch)\n"
  "       seqloop design oracle  --oracle SPEC [-o FILE]   (describe an oracle instance as JSON)",
  "A closed design loop: each round fits a bootstrap ridge ensemble to every measurement in\n"
  "the ledger, proposes candidates, picks a diverse batch by an acquisition function, and\n"
  "measures it; each round is one ledger transaction (kill -9 safe; rerun to resume).\n"
  "The campaign options are stored in the ledger: later calls may omit them all; calls that\n"
  "give some must give the same ones (each that differs is named). Limits may change.",
  "Limits: --budget alone runs until the budget is spent; --rounds alone stops after that\n"
  "round; both: whichever comes first (stderr says which); neither: 10 rounds.\n"
  "-o: run: the per-round table; propose: the batch to fill in; plate: the open round's\n"
  "batch marked 'calibrate' (measure these first) or 'rest', with the rest's intervals once\n"
  "calibration.csv (sequence,value) holds the calibration values (records nothing); each with\n"
  "a provenance sidecar OUT.prov.json. The design loop is single-threaded (-t is accepted, for\n"
  "uniformity).\n"
  "exit codes: 0 ok, 1 bad input (also oracle failures), 2 usage, 3 internal\n"};

int cmd_design(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s\n(see 'seqloop design -h')\n", info.usage);
    return 2;
  }
  /* `design -h` is the help of every subcommand (they share one table). */
  const char *sub = strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? argv[1] : "run";
  if (strcmp(sub, "run") && strcmp(sub, "propose") && strcmp(sub, "ingest") && strcmp(sub, "oracle") &&
      strcmp(sub, "plate")) {
    fprintf(stderr, "seqloop design: unknown subcommand '%s' (run, propose, ingest, plate, oracle)\n", sub);
    return 2;
  }
  if (sub == argv[1]) { /* "design -h" keeps its -h as the first option */
    argc--;
    argv++;
  }
  /* The command line as given (before option parsing may permute argv):
   * recorded in a new run, so it must not change between versions. */
  char *cmd = cmdline_of(argc, argv);
  cli_common cc;
  cli_common_init(&cc, "design", argc, argv);
  sl_design_campaign_opts c;
  sl_design_campaign_opts_init(&c);
  const char *ledger_path = NULL, *oracle = NULL, *start = NULL, *naturals = NULL, *prior = NULL,
             *prior_sites = NULL, *symbols = NULL;
  int no_pred = 0, trust_oracle = 0, optind_;
  char oracle_file[4096] = ""; /* the oracle's file, an input of the provenance */
  cli_opt opts[] = {
    /* campaign options first: any of them given means "compare with the stored ones" */
    CLI_STRING("oracle", 0, &oracle, "SPEC", "ehrlich:v=32,c=4,k=4,L=32,q=4,seed=1 | table:FILE[,seq=COL,value=COL,\n"
               "missing=na|error] | model:FILE | external:COMMAND | lab", "campaign (stored in the ledger)"),
    CLI_DOUBLE_POS("oracle-timeout", 0, &c.oracle_timeout, HUGE_VAL, "S", "external: seconds per answer", NULL),
    CLI_STRING("start", 0, &start, "SEQ", "starting (wild-type) sequence (default: the oracle's; required for\n"
               "table, external and lab)", NULL),
    CLI_STRING("symbols", 0, &symbols, "S", "alphabet of external/lab sequences (default the 20 amino acids)", NULL),
    CLI_STRING("naturals", 0, &naturals, "FASTA", "natural sequences in the design space (distance-to-natural)", NULL),
    CLI_STRING("prior", 0, &prior, "MODEL", "a seqloop model: a predictor feature and the trust region", NULL),
    CLI_STRING("prior-sites", 0, &prior_sites, "LIST", "residue numbers of the design sites in the prior's numbering\n"
               "(e.g. 265,266,267,280 for GB1 four-site in SPG1_STRSG numbering);\n"
               "default: the design sequence is the whole model", NULL),
    CLI_UINT64("seed", 0, &c.o.seed, 0, 9223372036854775807.0, "S", "random seed", NULL),
    CLI_INT("batch", 0, &c.o.batch, 1, SL_DESIGN_BATCH_MAX, "N", "measurements per round", NULL),
    CLI_CHOICE("proposer", 0, &c.o.proposer, proposer_choices, "P",
               "mutate|ga|random|walk|prior|cbas|cbas-ar|all (prior: samples of a profile\n"
               "--prior, or of an ar --prior covering the whole design; cbas: CbAS in\n"
               "each round from a profile prior or uniform; cbas-ar: CbAS refitting\n"
               "an ar model (protein designs); all: every unmeasured sequence of a\n"
               "design space of at most 4,194,304 (GB1 four-site: 160,000))", NULL),
    CLI_CHOICE("acquisition", 0, &c.o.acquisition, acq_choices, "A", "greedy|ucb|ei|thompson", NULL),
    CLI_DOUBLE("beta", 0, &c.o.beta, -HUGE_VAL, HUGE_VAL, "B", "UCB: mean + B sd", NULL),
    CLI_FLAG("no-predictor", 0, &no_pred, "choose candidates at random (baselines: plain GA, random, walk)", NULL),
    CLI_INT("candidates", 0, &c.o.candidates, 1, SL_DESIGN_CANDIDATES_MAX, "N", "candidates per round", NULL),
    CLI_INT("mutations", 0, &c.o.mutations, 1, SL_DESIGN_MUTATIONS_MAX, "N", "1..N substitutions per child", NULL),
    CLI_INT("max-edits", 0, &c.o.max_edits, 0, SL_DESIGN_SITES_MAX, "N", "trust region: at most N differences from the start (0: none)", NULL),
    CLI_OPT_("min-prior", 0, CLI_T_DOUBLE, &c.o.min_prior, 0, HUGE_VAL, NULL, "D",
             "trust region: prior log P >= log P(start) - D", NULL, 0, "none", NULL),
    CLI_DOUBLE("prior-top", 0, &c.o.prior_top, 0, 1, "F",
               "trust region as a share: keep the top F of the design space by the prior's log P\n"
               "(ties included; needs --prior and a space of at most 4,194,304 sequences; the tighter\n"
               "of this and --min-prior holds; 0: off)", NULL),
    CLI_INT("min-distance", 0, &c.o.min_distance, 0, SL_DESIGN_SITES_MAX, "N", "diversity: Hamming distance >= N within a batch", NULL),
    CLI_INT("population", 0, &c.o.population, 2, SL_DESIGN_POPULATION_MAX, "N", "GA parents: the best N measured", NULL),
    CLI_INT("members", 0, &c.o.pred.members, 1, SL_DESIGN_MEMBERS_MAX, "B", "predictor: bootstrap members", NULL),
    CLI_DOUBLE_POS("lambda", 0, &c.o.pred.lambda, HUGE_VAL, "X", "predictor: ridge penalty", NULL),
    CLI_FLAG("pairwise", 0, &c.o.pred.pairwise, "predictor: add one-hot site pairs", NULL),
    CLI_DOUBLE("prior-weight", 0, &c.o.pred.prior_weight, -HUGE_VAL, HUGE_VAL, "W",
               "predictor: weight of the standardised prior feature", NULL),
    CLI_DOUBLE("descriptors", 0, &c.o.pred.descriptors, 0, HUGE_VAL, "W",
               "predictor: weight of residue-descriptor features (5 published scales per site,\n"
               "their products across site pairs with --pairwise; protein only; 0: off)", NULL),
    CLI_DOUBLE("order-weight", 0, &c.o.pred.order_weight, 0, HUGE_VAL, "C",
               "predictor: the all-orders kernel ((1 + C)^m - 1) / C over m agreeing sites:\n"
               "every interaction order k weighted C^(k-1), pairs included (0: off)", NULL),
    CLI_CHOICE("conformal", 0, &c.o.conformal, conf_choices, "M",
               "none|jab|recent|weighted|batch: a conformal interval for every prediction, in the\n"
               "ledger (jab: jackknife+-after-bootstrap on the ensemble's out-of-bag residuals;\n"
               "recent: calibrated on the latest designed batches' errors; weighted: each batch\n"
               "drawn from a known density (--proposer all: a softmax of the acquisition; prior:\n"
               "the prior tilted by it; cbas, cbas-ar: CbAS's search distribution, any space),\n"
               "intervals weighted by the query densities: coverage >= 1 - alpha per draw;\n"
               "batch: a random --cal-fraction of each batch, measured first, calibrates\n"
               "intervals for the rest: coverage >= 1 - alpha over the split, any proposer)", NULL),
    CLI_DOUBLE("alpha", 0, &c.o.alpha, SL_DESIGN_SHARE_MIN, 1 - SL_DESIGN_SHARE_MIN, "A", "conformal: miscoverage (intervals of nominal 1 - A)", NULL),
    CLI_DOUBLE("query-lambda", 0, &c.o.query_lambda, 0, SL_DESIGN_QUERY_LAMBDA_MAX, "X",
               "--conformal weighted: each batch drawn from exp(X * acquisition) over the\n"
               "design space (X in 1 / the measurement's units; larger: greedier)", NULL),
    CLI_DOUBLE("cal-lambda", 0, &c.o.cal_lambda, 0, SL_DESIGN_QUERY_LAMBDA_MAX, "X",
               "--conformal weighted: the held-out (cal) draws from exp(X * acquisition),\n"
               "broader, so that the next round's draws find calibration points nearby\n"
               "(cbas, cbas-ar: from the search distribution tempered to the power\n"
               "X / --query-lambda)", NULL),
    CLI_DOUBLE("cal-fraction", 0, &c.o.cal_fraction, SL_DESIGN_SHARE_MIN, 1 - SL_DESIGN_SHARE_MIN, "F",
               "--conformal weighted: share of each batch's draws held out of the next fit\n"
               "to calibrate the next round's intervals; batch: share of each batch that\n"
               "calibrates the intervals of the rest", NULL),
    CLI_DOUBLE("oracle-noise", 0, &c.o.oracle_noise, 0, HUGE_VAL, "SD",
               "design run: add Gaussian noise of sd SD to every measurement (a simulated assay)", NULL),
    CLI_INT("replicates", 0, &c.o.replicates, 1, SL_DESIGN_REPLICATES_MAX, "R",
            "measurements per designed sequence: design run measures each R times;\n"
            "design ingest takes up to R rows of one sequence (their mean trains the predictor)", NULL),
    CLI_INT("init-random", 0, &c.o.init_random, 0, SL_DESIGN_SITES_MAX, "N",
            "round 1: N uniform random sequences, no model (ALDE's first batch; 0: off)", NULL),
    /* limits, then the rest */
    CLI_OPT_("rounds", 0, CLI_T_INT, &c.o.rounds, 0, SL_DESIGN_ROUNDS_MAX, NULL, "N", "last round number", "limits (may change between calls)",
             0, "10; none with --budget alone", NULL),
    CLI_OPT_("budget", 0, CLI_T_INT64, &c.o.budget, 1, 9223372036854775807.0, NULL, "N",
             "stop at N measurements, round 0 included", NULL, 0, "none", NULL),
    CLI_STRING("ledger", 0, &ledger_path, "FILE", "the campaign's ledger (SQLite; created if absent)", "ledger"),
    CLI_FLAG("trust-ledger-oracle", 0, &trust_oracle, "resume with --ledger alone even when the stored oracle is\n"
             "an external command (started from the ledger: trust its origin)", NULL),
    CLI_OPTS_OUTPUT(&cc), CLI_OPTS_GENERAL(&cc), CLI_END};
  int rc = cli_common_parse(&cc, &info, opts, &optind_);
  if (rc >= 0) { sl_design_campaign_opts_free(&c); free(cmd); return rc; }
  for (const cli_opt *o = opts; strcmp(o->name, "rounds") != 0; o++) c.given |= o->given > 0;
  c.rounds_given = cli_opt_find(opts, "rounds")->given > 0;
  c.budget_given = cli_opt_find(opts, "budget")->given > 0;
  c.o.use_predictor = !no_pred;
  c.trust_ledger_oracle = trust_oracle;
  if ((oracle && !(c.oracle = sl_strdup(oracle))) || (start && !(c.start = sl_strdup(start))) ||
      (naturals && !(c.naturals = sl_strdup(naturals))) || (prior && !(c.prior = sl_strdup(prior))) ||
      (prior_sites && !(c.prior_sites = sl_strdup(prior_sites))) || (symbols && !(c.symbols = sl_strdup(symbols)))) {
    fprintf(stderr, "seqloop design: out of memory\n");
    sl_design_campaign_opts_free(&c);
    free(cmd);
    return 3;
  }
  /* Test-only fault injection (tests/e2e/design.sh): SIGKILL inside round N's transaction. */
  const char *crash = getenv("SEQLOOP_TEST_CRASH_ROUND");
  if (crash) c.o.crash_after = atoi(crash);
  sl_error err;
  sl_error_clear(&err);
  int status = SL_OK;
  sl_design_campaign *camp = NULL;
  cJSON *extra = NULL;

  if (!strcmp(sub, "oracle")) {
    if (!c.oracle) {
      sl_design_campaign_opts_free(&c);
      free(cmd);
      return cli_usage_error(&info, "design oracle: --oracle SPEC is required");
    }
    status = describe_oracle(&c, cc.out, &err);
    goto DONE;
  }
  if (!ledger_path) {
    sl_design_campaign_opts_free(&c);
    free(cmd);
    return cli_usage_error(&info, "design %s: --ledger FILE is required", sub);
  }
  if (!strcmp(sub, "ingest") && optind_ != argc - 1) {
    status = sl_fail(&err, SL_EUSAGE, "ingest: expected one results CSV");
    goto DONE;
  }
  if (!strcmp(sub, "plate") && optind_ < argc - 1) {
    status = sl_fail(&err, SL_EUSAGE, "plate: expected at most one CSV of calibration values");
    goto DONE;
  }
  /* plate: an existing campaign, as ingest */
  int mode = !strcmp(sub, "run") ? SL_CAMPAIGN_RUN : !strcmp(sub, "propose") ? SL_CAMPAIGN_PROPOSE : SL_CAMPAIGN_INGEST;
  if ((status = sl_design_campaign_open(ledger_path, &c, mode, cmd, &camp, &err))) goto DONE;
  record_inputs(&cc, &camp->opts, oracle_file, sizeof oracle_file);
  if (!(extra = cJSON_CreateObject())) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  cJSON_AddStringToObject(extra, "ledger", ledger_path);
  cJSON_AddNumberToObject(extra, "run", (double)camp->run);
  if (mode == SL_CAMPAIGN_RUN) {
    sl_design_end e;
    if ((status = sl_design_campaign_run(camp, cc.quiet ? NULL : print_round, NULL, &e, &err))) goto DONE;
    if (!cc.quiet) print_end(camp, &e);
    if ((status = write_rounds(camp->ledger, cc.out, &err))) goto DONE;
    cJSON_AddNumberToObject(extra, "last_round", (double)e.last_round);
    cJSON_AddNumberToObject(extra, "n_measured", (double)e.n_measured);
    status = cli_prov_write(&cc, cc.out, extra, &err);
  } else if (mode == SL_CAMPAIGN_PROPOSE) {
    batch_dest dest = {cc.out};
    int64_t k, n;
    if ((status = sl_design_campaign_propose(camp, write_batch, &dest, &k, &n, &err))) goto DONE;
    cJSON_AddNumberToObject(extra, "round", (double)k);
    cJSON_AddStringToObject(extra, "next", "fill in 'value' (a finite number) and give this file to "
                            "'seqloop design ingest'");
    if ((status = cli_prov_write(&cc, cc.out, extra, &err))) goto DONE;
    if (!cc.quiet) fprintf(stderr, "seqloop design: round %lld: %lld sequences proposed\n", (long long)k, (long long)n);
  } else if (!strcmp(sub, "plate")) {
    const char *cal = optind_ < argc ? argv[optind_] : NULL;
    sl_outfile *of = NULL;
    if (cal) cli_input(&cc, "calibration", cal);
    if ((status = sl_outfile_open(cc.out, &of, &err))) goto DONE;
    if ((status = sl_design_campaign_plate(camp, cal, sl_outfile_fp(of), &err))) {
      sl_outfile_abort(of);
      goto DONE;
    }
    if ((status = sl_outfile_commit(of, &err))) goto DONE;
    status = cli_prov_write(&cc, cc.out, extra, &err);
  } else {
    sl_design_round R;
    cli_input(&cc, "results", argv[optind_]);
    if ((status = sl_design_campaign_ingest(camp, argv[optind_], &R, &err))) goto DONE;
    if (!cc.quiet) print_round(&R, NULL);
  }
DONE:
  cJSON_Delete(extra);
  free(cmd);
  sl_design_campaign_close(camp);
  sl_design_campaign_opts_free(&c);
  return status ? cli_error(&cc, status, &err) : 0;
}
