/* cmd_design.c: `seqloop design run|propose|ingest|oracle` - glue over the
 * design loop (src/design) and the ledger (src/ledger).
 *
 * The options that define a campaign are written to the ledger as JSON on
 * the first call; later calls with only --ledger reuse them, and calls that
 * give options must give the same ones (--rounds and --budget excepted), so
 * a resumed campaign cannot silently change course.
 */
#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { D_LEDGER = OPT_CMD_BASE, D_ORACLE, D_START, D_NATURALS, D_PRIOR, D_PRIOR_SITES, D_SYMBOLS, D_TIMEOUT,
       D_SEED, D_ROUNDS, D_BATCH, D_BUDGET, D_PROPOSER, D_ACQ, D_BETA, D_NOPRED, D_CANDS, D_MUTS, D_EDITS,
       D_MINPRIOR, D_MINDIST, D_POP, D_MEMBERS, D_LAMBDA, D_PAIRWISE, D_PRIORW, D_CURVE };

static void help(void) {
  printf("usage: seqloop design run     --ledger FILE --oracle SPEC [options]\n"
         "       seqloop design propose --ledger FILE [--oracle lab --start SEQ ...] -o batch.csv\n"
         "       seqloop design ingest  --ledger FILE results.csv\n"
         "       seqloop design oracle  --oracle SPEC [-o FILE]   (describe an oracle instance as JSON)\n\n"
         "A closed design loop: each round fits a bootstrap ridge ensemble to every measurement in\n"
         "the ledger, proposes candidates, picks a diverse batch by an acquisition function, and\n"
         "measures it; each round is one ledger transaction (kill -9 safe; rerun to resume).\n"
         "campaign (stored in the ledger; later calls may omit them):\n"
         "  --oracle SPEC           ehrlich:v=32,c=4,k=4,L=32,q=4,seed=1 | table:FILE[,seq=COL,value=COL,\n"
         "                          missing=na|error] | model:FILE | external:COMMAND | lab\n"
         "  --oracle-timeout S      external: seconds per answer (default 60)\n"
         "  --start SEQ             starting (wild-type) sequence (default: the oracle's; required for\n"
         "                          table, external and lab)\n"
         "  --symbols S             alphabet of external/lab sequences (default the 20 amino acids)\n"
         "  --naturals FASTA        natural sequences in the design space (distance-to-natural statistic)\n"
         "  --prior MODEL           a seqloop model: a predictor feature and the trust region\n"
         "  --prior-sites LIST      residue numbers of the design sites in the prior's numbering\n"
         "                          (e.g. 265,266,267,280 for GB1 four-site in SPG1_STRSG numbering);\n"
         "                          default: the design sequence is the whole model\n"
         "  --seed S                (default 1)\n"
         "  --batch N               measurements per round (default 8)\n"
         "  --proposer P            mutate|ga|random|walk|prior|cbas|cbas-ar (default mutate; prior:\n"
         "                          samples of a profile --prior, or of an ar --prior covering the\n"
         "                          whole design; cbas: CbAS in each round from a profile prior or\n"
         "                          uniform; cbas-ar: CbAS refitting an ar model (protein designs))\n"
         "  --acquisition A         greedy|ucb|ei|thompson (default ucb)\n"
         "  --beta B                UCB: mean + B sd (default 2)\n"
         "  --no-predictor          choose candidates at random (baselines: plain GA, random, walk)\n"
         "  --candidates N          candidates per round (default 1000)\n"
         "  --mutations N           1..N substitutions per child (default 2)\n"
         "  --max-edits N           trust region: at most N differences from the start (default: none)\n"
         "  --min-prior D           trust region: prior log P >= log P(start) - D (default: none)\n"
         "  --min-distance N        diversity: Hamming distance >= N within a batch (default 1)\n"
         "  --population N          GA parents: the best N measured (default 32)\n"
         "  --members B, --lambda X, --pairwise, --prior-weight W   predictor (default 10, 1, off, 1)\n"
         "limits (may change between calls):\n"
         "  --rounds N              last round number (default 10)\n"
         "  --budget N              stop at N measurements, round 0 included (default: none)\n"
         "output:\n"
         "  -o FILE                 propose: the batch CSV; run: the per-round table (CSV)\n"
         "  -q                      no per-round lines on stderr\n"
         "exit codes: 0 ok, 1 bad input (also oracle failures), 2 usage, 3 internal\n");
}

static int parse_i(const char *s, long long lo, long long hi, long long *ret) {
  char *e = NULL;
  long long v = strtoll(s, &e, 10);
  if (e == s || *e || v < lo || v > hi) return -1;
  *ret = v;
  return 0;
}
static int parse_d(const char *s, double *ret) {
  char *e = NULL;
  double v = strtod(s, &e);
  if (e == s || *e || !isfinite(v)) return -1;
  *ret = v;
  return 0;
}

static void print_round(const sl_design_round *R, void *arg) {
  (void)arg;
  fprintf(stderr, "seqloop design: round %lld: measured %lld, best %.4g, batch mean %.4g", (long long)R->k,
          (long long)R->n_measured, R->best, R->batch_mean);
  if (isfinite(R->regret)) fprintf(stderr, ", regret %.4g", R->regret);
  if (isfinite(R->prior_logp)) fprintf(stderr, ", prior logP %.2f", R->prior_logp);
  if (isfinite(R->dist_natural)) fprintf(stderr, ", dist to natural %.2f", R->dist_natural);
  if (isfinite(R->coverage90)) fprintf(stderr, ", 90%% coverage %.2f", R->coverage90);
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
  const char *out, *ledger, *cmd;
} batch_dest;

static int write_batch(void *arg, int64_t k, char *const *seqs, const double *mean, const double *sd, int64_t n,
                       sl_error *err) {
  const batch_dest *d = arg;
  sl_outfile *of = NULL;
  int status = sl_outfile_open(d->out, &of, err);
  if (status) return status;
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "# seqloop %s design propose: round %lld of %s\n# command: %s\n"
          "# fill in 'value' (a finite number) and give this file to 'seqloop design ingest'\n"
          "round,sequence,predicted_mean,predicted_sd,value\n", SL_VERSION, (long long)k, d->ledger, d->cmd);
  for (int64_t j = 0; j < n; j++) {
    fprintf(fp, "%lld,%s,", (long long)k, seqs[j]);
    if (isfinite(mean[j])) fprintf(fp, "%.6g,%.6g,\n", mean[j], sd[j]);
    else fprintf(fp, ",,\n");
  }
  return sl_outfile_commit(of, err);
}

static int write_rounds(sl_ledger *l, const char *path, const char *cmd, sl_error *err) {
  sl_outfile *of = NULL;
  int status = sl_outfile_open(path, &of, err);
  if (status) return status;
  fprintf(sl_outfile_fp(of), "# seqloop %s design rounds\n# command: %s\n", SL_VERSION, cmd);
  if ((status = sl_design_rounds_write(l, sl_outfile_fp(of), err))) { sl_outfile_abort(of); return status; }
  return sl_outfile_commit(of, err);
}

int cmd_design(int argc, char **argv) {
  cli_common cc;
  cli_common_init(&cc, "design", argc, argv);
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { help(); return argc < 2 ? 2 : 0; }
  const char *sub = argv[1];
  if (strcmp(sub, "run") && strcmp(sub, "propose") && strcmp(sub, "ingest") && strcmp(sub, "oracle")) {
    fprintf(stderr, "seqloop design: unknown subcommand '%s' (run, propose, ingest, oracle)\n", sub);
    return 2;
  }
  argc--;
  argv++;
  sl_design_campaign_opts c;
  sl_design_campaign_opts_init(&c);
  const char *ledger_path = NULL;
  int given = 0;
  static const struct option longopts[] = {
    {"ledger", required_argument, 0, D_LEDGER}, {"oracle", required_argument, 0, D_ORACLE},
    {"start", required_argument, 0, D_START}, {"naturals", required_argument, 0, D_NATURALS},
    {"prior", required_argument, 0, D_PRIOR}, {"prior-sites", required_argument, 0, D_PRIOR_SITES},
    {"symbols", required_argument, 0, D_SYMBOLS}, {"oracle-timeout", required_argument, 0, D_TIMEOUT},
    {"seed", required_argument, 0, D_SEED}, {"rounds", required_argument, 0, D_ROUNDS},
    {"batch", required_argument, 0, D_BATCH}, {"budget", required_argument, 0, D_BUDGET},
    {"proposer", required_argument, 0, D_PROPOSER}, {"acquisition", required_argument, 0, D_ACQ},
    {"beta", required_argument, 0, D_BETA}, {"no-predictor", no_argument, 0, D_NOPRED},
    {"candidates", required_argument, 0, D_CANDS}, {"mutations", required_argument, 0, D_MUTS},
    {"max-edits", required_argument, 0, D_EDITS}, {"min-prior", required_argument, 0, D_MINPRIOR},
    {"min-distance", required_argument, 0, D_MINDIST}, {"population", required_argument, 0, D_POP},
    {"members", required_argument, 0, D_MEMBERS}, {"lambda", required_argument, 0, D_LAMBDA},
    {"pairwise", no_argument, 0, D_PAIRWISE}, {"prior-weight", required_argument, 0, D_PRIORW},
    {"output", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};
  int opt;
  long long v;
  double d;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
    int is_cfg = 1;
    switch (opt) {
      case 'h': help(); sl_design_campaign_opts_free(&c); return 0;
      case 'o': cc.out = optarg; is_cfg = 0; break;
      case 'q': cc.quiet = 1; is_cfg = 0; break;
      case D_LEDGER: ledger_path = optarg; is_cfg = 0; break;
      case D_ORACLE: free(c.oracle); c.oracle = sl_strdup(optarg); break;
      case D_START: free(c.start); c.start = sl_strdup(optarg); break;
      case D_NATURALS: free(c.naturals); c.naturals = sl_strdup(optarg); break;
      case D_PRIOR: free(c.prior); c.prior = sl_strdup(optarg); break;
      case D_PRIOR_SITES: free(c.prior_sites); c.prior_sites = sl_strdup(optarg); break;
      case D_SYMBOLS: free(c.symbols); c.symbols = sl_strdup(optarg); break;
      case D_TIMEOUT: if (parse_d(optarg, &c.oracle_timeout) || c.oracle_timeout <= 0) goto BAD; break;
      case D_SEED: if (parse_i(optarg, 0, INT64_MAX, &v)) goto BAD; c.o.seed = (uint64_t)v; break;
      case D_ROUNDS: if (parse_i(optarg, 0, 1000000, &v)) goto BAD; c.o.rounds = (int)v; is_cfg = 0; c.rounds_given = 1; break;
      case D_BATCH: if (parse_i(optarg, 1, 1000000, &v)) goto BAD; c.o.batch = (int)v; break;
      case D_BUDGET: if (parse_i(optarg, 1, INT64_MAX, &v)) goto BAD; c.o.budget = v; is_cfg = 0; c.budget_given = 1; break;
      case D_PROPOSER: if ((c.o.proposer = sl_design_proposer_parse(optarg)) < 0) goto BAD; break;
      case D_ACQ: if ((c.o.acquisition = sl_design_acquisition_parse(optarg)) < 0) goto BAD; break;
      case D_BETA: if (parse_d(optarg, &c.o.beta)) goto BAD; break;
      case D_NOPRED: c.o.use_predictor = 0; break;
      case D_CANDS: if (parse_i(optarg, 1, 10000000, &v)) goto BAD; c.o.candidates = (int)v; break;
      case D_MUTS: if (parse_i(optarg, 1, 1000, &v)) goto BAD; c.o.mutations = (int)v; break;
      case D_EDITS: if (parse_i(optarg, 0, 1000000, &v)) goto BAD; c.o.max_edits = (int)v; break;
      case D_MINPRIOR: if (parse_d(optarg, &d) || d < 0) goto BAD; c.o.min_prior = d; break;
      case D_MINDIST: if (parse_i(optarg, 0, 1000000, &v)) goto BAD; c.o.min_distance = (int)v; break;
      case D_POP: if (parse_i(optarg, 2, 10000000, &v)) goto BAD; c.o.population = (int)v; break;
      case D_MEMBERS: if (parse_i(optarg, 1, 1000, &v)) goto BAD; c.o.pred.members = (int)v; break;
      case D_LAMBDA: if (parse_d(optarg, &d) || !(d > 0)) goto BAD; c.o.pred.lambda = d; break;
      case D_PAIRWISE: c.o.pred.pairwise = 1; break;
      case D_PRIORW: if (parse_d(optarg, &c.o.pred.prior_weight)) goto BAD; break;
      default: fprintf(stderr, "seqloop design: see 'seqloop design -h'\n"); sl_design_campaign_opts_free(&c); return 2;
    }
    given |= is_cfg;
    continue;
  BAD:
    fprintf(stderr, "seqloop design: bad value '%s' for %s\n", optarg, argv[optind - 1]);
    sl_design_campaign_opts_free(&c);
    return 2;
  }
  /* Test-only fault injection (tests/e2e/design.sh): SIGKILL inside round N's transaction. */
  const char *crash = getenv("SEQLOOP_TEST_CRASH_ROUND");
  if (crash && parse_i(crash, 0, 1000000, &v) == 0) c.o.crash_after = (int)v;

  c.given = given;
  sl_error err;
  sl_error_clear(&err);
  int status = SL_OK;
  sl_design_campaign *camp = NULL;
  char *cmd = cmdline_of(argc, argv);

  if (!strcmp(sub, "oracle")) {
    sl_oracle *o = NULL;
    if (!c.oracle) {
      fprintf(stderr, "seqloop design oracle: --oracle SPEC is required\n");
      sl_design_campaign_opts_free(&c);
      free(cmd);
      return 2;
    }
    if (!(status = sl_oracle_create(c.oracle, c.oracle_timeout, c.start ? (int64_t)strlen(c.start) : 0, c.symbols,
                                    &o, &err))) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "spec", c.oracle);
      cJSON_AddItemToObject(j, "instance", cJSON_Parse(o->spec_json));
      cJSON_AddNumberToObject(j, "L", (double)o->L);
      cJSON_AddStringToObject(j, "symbols", o->symbols);
      if (isfinite(o->optimum)) cJSON_AddNumberToObject(j, "optimum", o->optimum);
      if (o->optimum_seq) cJSON_AddStringToObject(j, "optimum_sequence", o->optimum_seq);
      else cJSON_AddNullToObject(j, "optimum_sequence");
      if (o->start_seq) cJSON_AddStringToObject(j, "start_sequence", o->start_seq);
      else cJSON_AddNullToObject(j, "start_sequence");
      status = cli_write_json(cc.out, j, &err);
      cJSON_Delete(j);
    }
    sl_oracle_destroy(o);
    goto DONE;
  }
  if (!ledger_path) {
    fprintf(stderr, "seqloop design %s: --ledger FILE is required\n", sub);
    sl_design_campaign_opts_free(&c);
    free(cmd);
    return 2;
  }
  if (!strcmp(sub, "ingest") && optind != argc - 1) {
    status = sl_fail(&err, SL_EUSAGE, "ingest: expected one results CSV");
    goto DONE;
  }
  int mode = !strcmp(sub, "run") ? SL_CAMPAIGN_RUN : !strcmp(sub, "propose") ? SL_CAMPAIGN_PROPOSE : SL_CAMPAIGN_INGEST;
  if ((status = sl_design_campaign_open(ledger_path, &c, mode, cmd, &camp, &err))) goto DONE;
  if (mode == SL_CAMPAIGN_RUN) {
    sl_design_end e;
    if ((status = sl_design_campaign_run(camp, cc.quiet ? NULL : print_round, NULL, &e, &err))) goto DONE;
    if (!cc.quiet) print_end(camp, &e);
    status = write_rounds(camp->ledger, cc.out, cmd, &err);
  } else if (mode == SL_CAMPAIGN_PROPOSE) {
    batch_dest dest = {cc.out, ledger_path, cmd};
    int64_t k, n;
    if ((status = sl_design_campaign_propose(camp, write_batch, &dest, &k, &n, &err))) goto DONE;
    if (!cc.quiet) fprintf(stderr, "seqloop design: round %lld: %lld sequences proposed\n", (long long)k, (long long)n);
  } else {
    sl_design_round R;
    if ((status = sl_design_campaign_ingest(camp, argv[optind], &R, &err))) goto DONE;
    if (!cc.quiet) print_round(&R, NULL);
  }
DONE:
  free(cmd);
  sl_design_campaign_close(camp);
  sl_design_campaign_opts_free(&c);
  return status ? cli_error(&cc, status, &err) : 0;
}
