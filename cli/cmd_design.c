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

/* SHA-256 of a file's bytes into hex (SL_SHA256_HEX); -1 if unreadable. */
static int hash_file(const char *path, char *hex) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return -1;
  struct sha256_ctx ctx;
  uint8_t buf[65536], dig[32];
  size_t n;
  sha256_init(&ctx);
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sha256_update(&ctx, n, buf);
  int bad = ferror(fp);
  fclose(fp);
  if (bad) return -1;
  sha256_digest(&ctx, sizeof dig, dig);
  sl_sha256_hex(dig, hex);
  return 0;
}

/* Record an input file's hash in the run's inputs (path -> SHA-256). */
static void add_input(cJSON *inputs, const char *path) {
  char hex[SL_SHA256_HEX];
  if (path && hash_file(path, hex) == 0) cJSON_AddStringToObject(inputs, path, hex);
}

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

typedef struct {
  char *oracle, *start, *naturals, *prior, *prior_sites, *symbols;
  double timeout;
  sl_design_opts o;
} cfg;

static void cfg_init(cfg *c) {
  memset(c, 0, sizeof *c);
  c->timeout = 60;
  sl_design_opts_init(&c->o);
}

static void cfg_free(cfg *c) {
  free(c->oracle); free(c->start); free(c->naturals); free(c->prior); free(c->prior_sites); free(c->symbols);
}

static void add_str(cJSON *j, const char *k, const char *v) {
  if (v) cJSON_AddStringToObject(j, k, v);
  else cJSON_AddNullToObject(j, k);
}

/* The canonical JSON of a campaign's options (fixed key order). */
static char *cfg_json(const cfg *c) {
  cJSON *j = cJSON_CreateObject();
  add_str(j, "oracle", c->oracle);
  cJSON_AddNumberToObject(j, "oracle_timeout", c->timeout);
  add_str(j, "start", c->start);
  add_str(j, "symbols", c->symbols);
  add_str(j, "naturals", c->naturals);
  add_str(j, "prior", c->prior);
  add_str(j, "prior_sites", c->prior_sites);
  cJSON_AddNumberToObject(j, "seed", (double)c->o.seed);
  cJSON_AddNumberToObject(j, "batch", c->o.batch);
  cJSON_AddStringToObject(j, "proposer", sl_design_proposer_name(c->o.proposer));
  cJSON_AddStringToObject(j, "acquisition", sl_design_acquisition_name(c->o.acquisition));
  cJSON_AddNumberToObject(j, "beta", c->o.beta);
  cJSON_AddBoolToObject(j, "predictor", c->o.use_predictor);
  cJSON_AddNumberToObject(j, "candidates", c->o.candidates);
  cJSON_AddNumberToObject(j, "mutations", c->o.mutations);
  cJSON_AddNumberToObject(j, "max_edits", c->o.max_edits);
  if (isfinite(c->o.min_prior)) cJSON_AddNumberToObject(j, "min_prior", c->o.min_prior);
  else cJSON_AddNullToObject(j, "min_prior");
  cJSON_AddNumberToObject(j, "min_distance", c->o.min_distance);
  cJSON_AddNumberToObject(j, "population", c->o.population);
  cJSON_AddNumberToObject(j, "members", c->o.pred.members);
  cJSON_AddNumberToObject(j, "lambda", c->o.pred.lambda);
  cJSON_AddBoolToObject(j, "pairwise", c->o.pred.pairwise);
  cJSON_AddNumberToObject(j, "prior_weight", c->o.pred.prior_weight);
  cJSON_AddNumberToObject(j, "rounds", c->o.rounds);
  cJSON_AddNumberToObject(j, "budget", (double)c->o.budget);
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  return s;
}

static char *get_str(const cJSON *j, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsString(v) ? sl_strdup(v->valuestring) : NULL;
}
static double get_num(const cJSON *j, const char *k, double def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : def;
}

/* Options stored in a ledger back into a cfg (the crash hook is kept). */
static int cfg_from_json(const char *text, cfg *c) {
  cJSON *j = cJSON_Parse(text);
  if (!j) return -1;
  cfg n;
  cfg_init(&n);
  n.o.rounds = (int)get_num(j, "rounds", 10);
  n.o.budget = (int64_t)get_num(j, "budget", 0);
  n.o.crash_after = c->o.crash_after;
  n.oracle = get_str(j, "oracle");
  n.start = get_str(j, "start");
  n.symbols = get_str(j, "symbols");
  n.naturals = get_str(j, "naturals");
  n.prior = get_str(j, "prior");
  n.prior_sites = get_str(j, "prior_sites");
  n.timeout = get_num(j, "oracle_timeout", 60);
  n.o.seed = (uint64_t)get_num(j, "seed", 1);
  n.o.batch = (int)get_num(j, "batch", 8);
  char *p = get_str(j, "proposer"), *a = get_str(j, "acquisition");
  n.o.proposer = p ? sl_design_proposer_parse(p) : 0;
  n.o.acquisition = a ? sl_design_acquisition_parse(a) : 1;
  free(p);
  free(a);
  n.o.beta = get_num(j, "beta", 2);
  n.o.use_predictor = (int)get_num(j, "predictor", 1);
  n.o.candidates = (int)get_num(j, "candidates", 1000);
  n.o.mutations = (int)get_num(j, "mutations", 2);
  n.o.max_edits = (int)get_num(j, "max_edits", 0);
  n.o.min_prior = get_num(j, "min_prior", INFINITY);
  n.o.min_distance = (int)get_num(j, "min_distance", 1);
  n.o.population = (int)get_num(j, "population", 32);
  n.o.pred.members = (int)get_num(j, "members", 10);
  n.o.pred.lambda = get_num(j, "lambda", 1);
  n.o.pred.pairwise = (int)get_num(j, "pairwise", 0);
  n.o.pred.prior_weight = get_num(j, "prior_weight", 1);
  cJSON_Delete(j);
  cfg_free(c);
  *c = n;
  return (c->o.proposer < 0 || c->o.acquisition < 0) ? -1 : 0;
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

/* The prior: read the model, map the design sites to its columns. */
static int load_prior(const cfg *c, const sl_oracle *o, sl_design_prior *p, sl_error *err) {
  memset(p, 0, sizeof *p);
  if (!c->prior) return SL_OK;
  int status = sl_model_read(c->prior, &p->m, err);
  if (status) return status;
  if (!(p->cols = malloc((size_t)o->L * sizeof *p->cols))) return sl_fail(err, SL_ENOMEM, "out of memory");
  if (!c->prior_sites) {
    if (p->m->L != o->L)
      return sl_fail(err, SL_EUSAGE, "--prior %s has %lld columns but designs have length %lld: give "
                     "--prior-sites", c->prior, (long long)p->m->L, (long long)o->L);
    for (int64_t i = 0; i < o->L; i++) p->cols[i] = i;
  } else {
    char *list = sl_strdup(c->prior_sites), *save = NULL;
    int64_t n = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      long long num;
      int64_t col = -1;
      if (parse_i(t, -1000000000, 1000000000, &num) == 0)
        for (int64_t j = 0; j < p->m->L; j++) if (p->m->pos[j] == num) col = j;
      if (col < 0 || n >= o->L) {
        free(list);
        return sl_fail(err, SL_EUSAGE, "--prior-sites: '%s' is not a residue number of %s (or too many sites)",
                       t, c->prior);
      }
      p->cols[n++] = col;
    }
    free(list);
    if (n != o->L)
      return sl_fail(err, SL_EUSAGE, "--prior-sites lists %lld sites, designs have length %lld", (long long)n,
                     (long long)o->L);
  }
  /* Memoise log P: up to 2^20 sequences, or 256 MB of keys for long designs. */
  int64_t max_entries = (int64_t)1 << 20;
  if (o->L * max_entries > ((int64_t)1 << 28)) max_entries = ((int64_t)1 << 28) / o->L;
  if ((status = sl_design_prior_cache_create(p, o->L, max_entries, err))) return status;
  /* Design symbols must be the model's residues in the model's order. */
  if (strncmp(o->symbols, p->m->abc->symbols + 1, (size_t)o->q) != 0 || o->q != p->m->abc->q - 1)
    return sl_fail(err, SL_EUSAGE, "--prior %s: its alphabet (%s) differs from the design symbols (%s)", c->prior,
                   p->m->abc->symbols + 1, o->symbols);
  return SL_OK;
}

static void prior_free(sl_design_prior *p) {
  sl_design_prior_cache_destroy(p);
  sl_model_destroy(p->m);
  free(p->cols);
}

static void print_round(const sl_design_round *R) {
  fprintf(stderr, "seqloop design: round %lld: measured %lld, best %.4g, batch mean %.4g", (long long)R->k,
          (long long)R->n_measured, R->best, R->batch_mean);
  if (isfinite(R->regret)) fprintf(stderr, ", regret %.4g", R->regret);
  if (isfinite(R->prior_logp)) fprintf(stderr, ", prior logP %.2f", R->prior_logp);
  if (isfinite(R->dist_natural)) fprintf(stderr, ", dist to natural %.2f", R->dist_natural);
  if (isfinite(R->coverage90)) fprintf(stderr, ", 90%% coverage %.2f", R->coverage90);
  fprintf(stderr, ", acceptance %.3g (%.2f bits)\n", R->acceptance, R->bits_injected);
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

/* Sequences of a FASTA file (design space). */
static int read_naturals(const char *path, sl_seqset **ret, sl_error *err) {
  return sl_seqset_read(path, SL_FMT_FASTA, ret, err);
}

static int write_rounds(sl_ledger *l, const char *path, const char *cmd, sl_error *err) {
  /* The per-round table comes from the ledger export's round_stats section,
   * reshaped to one row per round: what benchmarks plot. */
  char *json = NULL;
  int status = sl_ledger_export_json(l, &json, 0, err);
  if (status) return status;
  cJSON *j = cJSON_Parse(json);
  free(json);
  cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "round_stats");
  static const char *cols[] = {"n_measured", "best", "regret", "batch_mean", "batch_best", "prior_logp",
                               "dist_natural", "coverage90", "acceptance", "bits_injected"};
  enum { NC = sizeof cols / sizeof *cols };
  sl_outfile *of = NULL;
  if ((status = sl_outfile_open(path, &of, err))) { cJSON_Delete(j); return status; }
  FILE *fp = sl_outfile_fp(of);
  fprintf(fp, "# seqloop %s design rounds\n# command: %s\nround", SL_VERSION, cmd);
  for (int c = 0; c < NC; c++) fprintf(fp, ",%s", cols[c]);
  fprintf(fp, "\n");
  long long cur = -1;
  double row[NC];
  const cJSON *it;
  int n = cJSON_GetArraySize(rs), idx = 0;
  cJSON_ArrayForEach(it, rs) {
    long long k = (long long)get_num(it, "k", -1);
    if (k != cur) {
      if (cur >= 0) {
        fprintf(fp, "%lld", cur);
        for (int c = 0; c < NC; c++) isfinite(row[c]) ? fprintf(fp, ",%.10g", row[c]) : fprintf(fp, ",");
        fprintf(fp, "\n");
      }
      cur = k;
      for (int c = 0; c < NC; c++) row[c] = NAN;
    }
    char *name = get_str(it, "name");
    for (int c = 0; c < NC && name; c++) if (!strcmp(name, cols[c])) row[c] = get_num(it, "value", NAN);
    free(name);
    if (++idx == n) {
      fprintf(fp, "%lld", cur);
      for (int c = 0; c < NC; c++) isfinite(row[c]) ? fprintf(fp, ",%.10g", row[c]) : fprintf(fp, ",");
      fprintf(fp, "\n");
    }
  }
  cJSON_Delete(j);
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
  cfg c;
  cfg_init(&c);
  const char *ledger_path = NULL;
  int given = 0, rounds_given = 0, budget_given = 0;
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
      case 'h': help(); cfg_free(&c); return 0;
      case 'o': cc.out = optarg; is_cfg = 0; break;
      case 'q': cc.quiet = 1; is_cfg = 0; break;
      case D_LEDGER: ledger_path = optarg; is_cfg = 0; break;
      case D_ORACLE: free(c.oracle); c.oracle = sl_strdup(optarg); break;
      case D_START: free(c.start); c.start = sl_strdup(optarg); break;
      case D_NATURALS: free(c.naturals); c.naturals = sl_strdup(optarg); break;
      case D_PRIOR: free(c.prior); c.prior = sl_strdup(optarg); break;
      case D_PRIOR_SITES: free(c.prior_sites); c.prior_sites = sl_strdup(optarg); break;
      case D_SYMBOLS: free(c.symbols); c.symbols = sl_strdup(optarg); break;
      case D_TIMEOUT: if (parse_d(optarg, &c.timeout) || c.timeout <= 0) goto BAD; break;
      case D_SEED: if (parse_i(optarg, 0, INT64_MAX, &v)) goto BAD; c.o.seed = (uint64_t)v; break;
      case D_ROUNDS: if (parse_i(optarg, 0, 1000000, &v)) goto BAD; c.o.rounds = (int)v; is_cfg = 0; rounds_given = 1; break;
      case D_BATCH: if (parse_i(optarg, 1, 1000000, &v)) goto BAD; c.o.batch = (int)v; break;
      case D_BUDGET: if (parse_i(optarg, 1, INT64_MAX, &v)) goto BAD; c.o.budget = v; is_cfg = 0; budget_given = 1; break;
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
      default: fprintf(stderr, "seqloop design: see 'seqloop design -h'\n"); cfg_free(&c); return 2;
    }
    given |= is_cfg;
    continue;
  BAD:
    fprintf(stderr, "seqloop design: bad value '%s' for %s\n", optarg, argv[optind - 1]);
    cfg_free(&c);
    return 2;
  }
  /* Test-only fault injection (tests/e2e/design.sh): SIGKILL inside round N's transaction. */
  const char *crash = getenv("SEQLOOP_TEST_CRASH_ROUND");
  if (crash && parse_i(crash, 0, 1000000, &v) == 0) c.o.crash_after = (int)v;

  sl_error err;
  sl_error_clear(&err);
  int status = SL_OK;
  sl_ledger *l = NULL;
  sl_oracle *o = NULL;
  sl_seqset *nat = NULL;
  sl_design_prior prior = {0};
  char *opts_json = NULL, *cmd = cmdline_of(argc, argv), **seqs = NULL;
  double *vals = NULL, *mean = NULL, *sd = NULL;
  int64_t nseq = 0, run = -1, limit_budget = c.o.budget;
  int created = 0, limit_rounds = c.o.rounds;

  if (!strcmp(sub, "oracle")) {
    if (!c.oracle) { fprintf(stderr, "seqloop design oracle: --oracle SPEC is required\n"); cfg_free(&c); free(cmd); return 2; }
    if ((status = sl_oracle_create(c.oracle, c.timeout, c.start ? (int64_t)strlen(c.start) : 0, c.symbols, &o, &err))) goto DONE;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "spec", c.oracle);
    cJSON_AddItemToObject(j, "instance", cJSON_Parse(o->spec_json));
    cJSON_AddNumberToObject(j, "L", (double)o->L);
    cJSON_AddStringToObject(j, "symbols", o->symbols);
    if (isfinite(o->optimum)) cJSON_AddNumberToObject(j, "optimum", o->optimum);
    add_str(j, "optimum_sequence", o->optimum_seq);
    add_str(j, "start_sequence", o->start_seq);
    status = cli_write_json(cc.out, j, &err);
    cJSON_Delete(j);
    goto DONE;
  }
  if (!ledger_path) { fprintf(stderr, "seqloop design %s: --ledger FILE is required\n", sub); cfg_free(&c); free(cmd); return 2; }
  if ((status = sl_ledger_open(ledger_path, &l, &err))) goto DONE;
  {
    /* With no campaign options, take the stored ones. */
    sl_ledger_run r;
    int found = 0;
    if ((status = sl_ledger_run_last(l, &r, &found, &err))) goto DONE;
    if (found) {
      /* --rounds and --budget given now override the stored limits; the
       * comparison of the campaign options ignores them. */
      cfg stored;
      cfg_init(&stored);
      stored.o.crash_after = c.o.crash_after;
      if (cfg_from_json(r.options_json, &stored)) {
        cfg_free(&stored);
        status = sl_fail(&err, SL_EINPUT, "%s: the stored options are not valid JSON", ledger_path);
        sl_ledger_run_free(&r);
        goto DONE;
      }
      limit_rounds = rounds_given ? c.o.rounds : stored.o.rounds;
      limit_budget = budget_given ? c.o.budget : stored.o.budget;
      /* The JSON compared with the stored one carries the stored limits. */
      c.o.rounds = stored.o.rounds;
      c.o.budget = stored.o.budget;
      if (!given) {
        cfg_free(&c);
        c = stored;
      } else {
        cfg_free(&stored);
      }
    }
    sl_ledger_run_free(&r);
    if (!found && !strcmp(sub, "ingest")) {
      status = sl_fail(&err, SL_EUSAGE, "%s: no campaign in this ledger (run 'seqloop design propose' first)", ledger_path);
      goto DONE;
    }
  }
  if (!c.oracle) {
    status = sl_fail(&err, SL_EUSAGE, "--oracle SPEC is required to start a campaign (propose/ingest: --oracle lab)");
    goto DONE;
  }
  if (strcmp(sub, "run") == 0 && strcmp(c.oracle, "lab") == 0) {
    status = sl_fail(&err, SL_EUSAGE, "the lab oracle runs through 'design propose' and 'design ingest', not 'design run'");
    goto DONE;
  }
  if ((status = sl_oracle_create(c.oracle, c.timeout, c.start ? (int64_t)strlen(c.start) : 0, c.symbols, &o, &err))) goto DONE;
  if (!c.start && o->start_seq) c.start = sl_strdup(o->start_seq);
  if (!c.start) { status = sl_fail(&err, SL_EUSAGE, "--start SEQ is required with oracle '%s'", o->name); goto DONE; }
  if ((status = load_prior(&c, o, &prior, &err))) goto DONE;
  if (!(opts_json = cfg_json(&c))) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  {
    const char **names = NULL;
    cJSON *inputs = cJSON_CreateObject();
    if (c.naturals) {
      if ((status = read_naturals(c.naturals, &nat, &err))) { cJSON_Delete(inputs); goto DONE; }
      char hex[SL_SHA256_HEX];
      sl_sha256_hex(nat->sha256, hex);
      cJSON_AddStringToObject(inputs, c.naturals, hex);
      names = (const char **)nat->seq;
    }
    /* The oracle's file (table:FILE[,...], model:FILE) and the prior. */
    if (!strncmp(c.oracle, "table:", 6) || !strncmp(c.oracle, "model:", 6)) {
      char file[4096];
      snprintf(file, sizeof file, "%s", c.oracle + 6);
      if (!strncmp(c.oracle, "table:", 6)) { char *comma = strchr(file, ','); if (comma) *comma = '\0'; }
      add_input(inputs, file);
    }
    add_input(inputs, c.prior);
    char *inputs_json = cJSON_PrintUnformatted(inputs);
    cJSON_Delete(inputs);
    c.o.rounds = limit_rounds;
    c.o.budget = limit_budget;
    status = sl_design_setup(l, o, &c.o, c.start, names, nat ? nat->n : 0, &prior, cmd, opts_json,
                             inputs_json ? inputs_json : "{}", &run, &created, &err);
    free(inputs_json);
    if (status) goto DONE;
  }

  if (!strcmp(sub, "run")) {
    for (;;) {
      sl_design_round R;
      if ((status = sl_design_step(l, run, o, &c.o, &prior, &R, &err))) goto DONE;
      if (R.k == -2 && !cc.quiet)
        fprintf(stderr, "seqloop design: stopped: no new candidate passed the filters (a walk at a local "
                "optimum, or a trust region too tight: --max-edits, --min-prior, --candidates)\n");
      if (R.k < 0) break;
      if (!cc.quiet) print_round(&R);
    }
    status = write_rounds(l, cc.out, cmd, &err);
  } else if (!strcmp(sub, "propose")) {
    int64_t k = -1;
    if ((status = sl_ledger_begin(l, &err))) goto DONE;
    if (created && !strcmp(o->name, "lab")) k = 0; /* the new campaign's round 0: measure the start */
    else if ((status = sl_design_propose(l, run, o, &c.o, &prior, &k, &err))) { sl_ledger_rollback(l); goto DONE; }
    if (k < 0) {
      sl_ledger_rollback(l);
      if (k == -2)
        status = sl_fail(&err, SL_EINPUT, "no new candidate passed the filters; loosen --max-edits or --min-prior, "
                         "or raise --candidates");
      else
        status = sl_fail(&err, SL_EUSAGE, "the campaign is complete (--rounds %d%s); nothing proposed", c.o.rounds,
                         c.o.budget ? " or --budget reached" : "");
      goto DONE;
    }
    if ((status = sl_design_batch(l, run, k, &seqs, &mean, &sd, &nseq, &err))) { sl_ledger_rollback(l); goto DONE; }
    /* The batch file is written before the commit: if writing fails the round is not opened. */
    sl_outfile *of = NULL;
    if ((status = sl_outfile_open(cc.out, &of, &err))) { sl_ledger_rollback(l); goto DONE; }
    FILE *fp = sl_outfile_fp(of);
    fprintf(fp, "# seqloop %s design propose: round %lld of %s\n# command: %s\n"
            "# fill in 'value' (a finite number) and give this file to 'seqloop design ingest'\n"
            "round,sequence,predicted_mean,predicted_sd,value\n", SL_VERSION, (long long)k, ledger_path, cmd);
    for (int64_t j = 0; j < nseq; j++) {
      fprintf(fp, "%lld,%s,", (long long)k, seqs[j]);
      if (isfinite(mean[j])) fprintf(fp, "%.6g,%.6g,\n", mean[j], sd[j]);
      else fprintf(fp, ",,\n");
    }
    if ((status = sl_outfile_commit(of, &err))) { sl_ledger_rollback(l); goto DONE; }
    if ((status = sl_ledger_commit(l, &err))) goto DONE;
    if (!cc.quiet) fprintf(stderr, "seqloop design: round %lld: %lld sequences proposed\n", (long long)k, (long long)nseq);
  } else { /* ingest */
    if (optind != argc - 1) { status = sl_fail(&err, SL_EUSAGE, "ingest: expected one results CSV"); goto DONE; }
    const char *path = argv[optind];
    int64_t k;
    char rs[16];
    if ((status = sl_design_results_read(path, o, &seqs, &vals, &nseq, &err))) goto DONE;
    if ((status = sl_ledger_round_last(l, run, &k, rs, &err))) goto DONE;
    sl_design_round R;
    if ((status = sl_ledger_begin(l, &err))) goto DONE;
    if ((status = sl_design_record(l, run, o, &c.o, k, (const char *const *)seqs, vals, nseq, &prior, &R, &err))) {
      char msg[sizeof err.msg];
      snprintf(msg, sizeof msg, "%s", err.msg);
      status = sl_fail(&err, status, "%s: %s (nothing was recorded)", path, msg);
      sl_ledger_rollback(l);
      goto DONE;
    }
    if ((status = sl_ledger_commit(l, &err))) goto DONE;
    if (!cc.quiet) print_round(&R);
  }
DONE:
  if (seqs) for (int64_t j = 0; j < nseq; j++) free(seqs[j]);
  free(seqs); free(vals); free(mean); free(sd);
  free(opts_json);
  free(cmd);
  prior_free(&prior);
  sl_seqset_destroy(nat);
  sl_oracle_destroy(o);
  sl_ledger_close(l);
  cfg_free(&c);
  return status ? cli_error(&cc, status, &err) : 0;
}
