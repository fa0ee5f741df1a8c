/* cmd_audit_cycle.c: `seqloop audit cycle ALIGNMENT` - the perpetual-motion
 * test (seqloop/info.h, docs/information.md): a homology-aware split of the
 * real sequences, an ar model fitted on the training side, then generations
 * of refitting on the model's own samples (self), on samples that passed an
 * oracle's filter (filter), and on samples mixed with the real training
 * sequences (mix), each measured on the held-out real sequences. A table on
 * stdout as generations finish; -o writes the same rows as CSV. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqloop/info.h"
#include "seqloop/split.h"

enum { C_GEN = OPT_CMD_BASE, C_NSAMP, C_FQ, C_MIX, C_ARMS, C_ORACLE, C_IDENT, C_FRAC, C_SEED,
       C_ENTN, C_TEST, C_LJ, C_LH, C_EPS, C_MAXIT, C_FMODE };

static void help(void) {
  printf("usage: seqloop audit cycle [options] ALIGNMENT\n\n"
         "The perpetual-motion test. Splits ALIGNMENT (cluster split, seqloop split) into real\n"
         "training and held-out sequences, fits an ar model on the training side (generation 0),\n"
         "then for each generation samples from the current model and refits on:\n"
         "  self    the samples alone (same objective and weighting, no filter)\n"
         "  filter  samples whose oracle score reaches the --filter-quantile of the real training\n"
         "          sequences' scores (at most log2(1/acceptance) bits enter per kept sample)\n"
         "  mix     the samples plus the real training sequences (--mix of the weight)\n"
         "and reports, per generation: held-out log P (mean, and the 5%% quantile: the tail),\n"
         "bits per site, entropy, two-point correlation of samples with the real data, and\n"
         "support (share of the real (site, state) pairs the samples still produce).\n\n"
         "  --generations K         generations after 0 (default 5)\n"
         "  --samples N             sequences per refit (default: the training set's size)\n"
         "  --arms LIST             any of self,filter,mix (default all three)\n"
         "  --oracle MODEL          the filter's scorer (default: the generation-0 model)\n"
         "  --filter MODE           threshold (default): keep samples scoring at least the\n"
         "                          --filter-quantile (0.5) of the real training scores; ratio: keep\n"
         "                          x with probability min(1, O(x)/(c M(x))), rejection sampling\n"
         "                          toward the oracle O (ar or profile)\n"
         "  --filter-quantile Q     (default 0.5)\n"
         "  --mix F                 weight share of the real rows in mix (default 0.5)\n"
         "  --test FILE             held-out sequences aligned to ALIGNMENT's kept columns (no split)\n"
         "  --identity T, --test-frac F   the split (default 0.8, 0.2)\n"
         "  --lambda-j X, --lambda-h X, --epsilon X, --max-iter N   the ar fit (ar defaults)\n"
         "  --entropy-samples N     per entropy estimate (default 5000)\n"
         "  --seed S                (default 1): split, samples and estimates; same seed, same table\n"
         "  -o FILE                 the rows as CSV (atomically)\n\n%s", cli_common_help);
}

static void print_row(const sl_cycle_row *r, void *ctx) {
  FILE *fp = ctx;
  fprintf(fp, "%-7s %3d %7lld %6lld %7.4f %8.2f %9.3f %8.4f %9.3f %8.2f %6.2f %7.4f %7.4f %6.2f\n",
          r->arm < 0 ? "real" : sl_cycle_arm_name(r->arm), r->generation, (long long)r->n_fit,
          (long long)r->n_real, r->accept, r->bits_total, r->heldout_logp, r->heldout_bits_per_site,
          r->heldout_q05, r->entropy_bits, r->entropy_se, r->r_two, r->support, r->seconds);
  fflush(fp);
}

static const char *header =
    "arm     gen   n_fit n_real  accept bits_in  heldout_lp bits/site  heldout_q05 entropy    se   r_two support  secs\n";

int cmd_audit_cycle(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "audit cycle", argc, argv);
  c.out = NULL;
  sl_cycle_opts co;
  sl_cycle_opts_init(&co);
  sl_split_opts so;
  sl_split_opts_init(&so);
  const char *oracle_path = NULL, *test_path = NULL;
  static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS, {"generations", required_argument, 0, C_GEN},
    {"samples", required_argument, 0, C_NSAMP}, {"filter-quantile", required_argument, 0, C_FQ},
    {"mix", required_argument, 0, C_MIX}, {"arms", required_argument, 0, C_ARMS},
    {"oracle", required_argument, 0, C_ORACLE}, {"identity", required_argument, 0, C_IDENT},
    {"test-frac", required_argument, 0, C_FRAC}, {"seed", required_argument, 0, C_SEED},
    {"entropy-samples", required_argument, 0, C_ENTN}, {"test", required_argument, 0, C_TEST},
    {"lambda-j", required_argument, 0, C_LJ}, {"lambda-h", required_argument, 0, C_LH},
    {"epsilon", required_argument, 0, C_EPS}, {"max-iter", required_argument, 0, C_MAXIT},
    {"filter", required_argument, 0, C_FMODE},
    {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
    int r = cli_common_opt(&c, opt, optarg);
    if (r == 1) continue;
    if (r == -1) return 2;
    char *e = NULL;
    double v = 0;
    if (opt != 'h' && opt != C_ARMS && opt != C_ORACLE && opt != C_TEST && opt != C_FMODE && optarg) {
      v = strtod(optarg, &e);
      if (e == optarg || *e || !isfinite(v) || v < 0) {
        fprintf(stderr, "seqloop audit cycle: bad value '%s' for %s\n", optarg, argv[optind - 1]);
        return 2;
      }
    }
    switch (opt) {
      case 'h': help(); return 0;
      case C_GEN: co.generations = (int)v; break;
      case C_NSAMP: co.n_samples = (int64_t)v; break;
      case C_FQ: co.filter_quantile = v; break;
      case C_MIX: co.mix_frac = v; break;
      case C_ORACLE: oracle_path = optarg; break;
      case C_TEST: test_path = optarg; break;
      case C_FMODE:
        if (!strcmp(optarg, "threshold")) co.filter_mode = SL_FILTER_THRESHOLD;
        else if (!strcmp(optarg, "ratio")) co.filter_mode = SL_FILTER_RATIO;
        else {
          fprintf(stderr, "seqloop audit cycle: --filter must be threshold or ratio (got '%s')\n", optarg);
          return 2;
        }
        break;
      case C_IDENT: so.t1 = v; break;
      case C_FRAC: so.test_frac = v; break;
      case C_SEED: co.seed = so.seed = (uint64_t)v; break;
      case C_ENTN: co.n_entropy = (int64_t)v; break;
      case C_LJ: co.ar.lambda_J = v; break;
      case C_LH: co.ar.lambda_h = v; break;
      case C_EPS: co.ar.epsilon = v; break;
      case C_MAXIT: co.ar.max_iter = (int)v; break;
      case C_ARMS: {
        co.arms = 0;
        char *list = strdup(optarg), *save = NULL;
        for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
          int a = !strcmp(t, "self") ? SL_CYCLE_SELF : !strcmp(t, "filter") ? SL_CYCLE_FILTER
                : !strcmp(t, "mix") ? SL_CYCLE_MIX : -1;
          if (a < 0) {
            fprintf(stderr, "seqloop audit cycle: --arms: unknown arm '%s' (self, filter, mix)\n", t);
            free(list);
            return 2;
          }
          co.arms |= 1 << a;
        }
        free(list);
        break;
      }
      default: fprintf(stderr, "seqloop audit cycle: see 'seqloop audit cycle -h'\n"); return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "seqloop audit cycle: expected one ALIGNMENT (see 'seqloop audit cycle -h')\n");
    return 2;
  }
  co.threads = c.w.threads;
  co.w = c.w;
  so.kernel = c.w.kernel;
  sl_error err;
  sl_error_clear(&err);
  sl_msa *all = NULL, *train = NULL, *test = NULL;
  sl_model *oracle = NULL;
  double *w = NULL, *wt = NULL, neff = 0;
  int8_t *set = NULL;
  sl_cycle_row *rows = NULL;
  int nrows = 0;
  int status = cli_load(&c, argv[optind], &all, &w, &neff, &err);
  if (status) goto DONE;
  if (test_path) {
    sl_msa_opts mo;
    sl_msa_opts_init(&mo);
    mo.alphabet = all->abc->type;
    if ((status = sl_msa_read(test_path, &mo, &test, &err))) goto DONE;
    train = all;
    all = NULL;
    wt = w;
    w = NULL;
  } else {
    sl_split_report sr;
    if (!(set = malloc((size_t)all->N))) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = sl_split(all->x, all->N, all->L, all->focus, &so, set, &sr, &err)) ||
        (status = sl_msa_subset(all, set, SL_SET_TRAIN, &train, &err)) ||
        (status = sl_msa_subset(all, set, SL_SET_TEST, &test, &err)))
      goto DONE;
    if (!(wt = malloc((size_t)train->N * sizeof *wt))) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = sl_weights_compute(train, &c.w, wt, &neff, &err))) goto DONE;
    if (!c.quiet)
      fprintf(stderr, "seqloop audit cycle: %s split at identity %g: %lld training, %lld held-out, "
              "%lld dropped (seed %llu)\n", sl_split_method_name(so.method), so.t1,
              (long long)sr.n_train, (long long)sr.n_test, (long long)sr.n_dropped,
              (unsigned long long)so.seed);
  }
  if (oracle_path && (status = cli_read_any_model("audit cycle", oracle_path, &oracle, &err))) goto DONE;
  if (oracle && (oracle->L != train->L || oracle->abc != train->abc)) {
    status = sl_fail(&err, SL_EINPUT, "%s: the oracle has %lld columns, the alignment %lld", oracle_path,
                     (long long)oracle->L, (long long)train->L);
    goto DONE;
  }
  char *prov = cli_provenance(&c, train);
  if (prov) fputs(prov, stdout);
  free(prov);
  printf("# training %lld (Neff %.1f), held-out %lld, L %lld; %lld samples per refit; filter %s "
         "(quantile %g; oracle %s); mix %g\n", (long long)train->N, neff, (long long)test->N,
         (long long)train->L, (long long)(co.n_samples > 0 ? co.n_samples : train->N),
         co.filter_mode == SL_FILTER_RATIO ? "ratio" : "threshold", co.filter_quantile,
         oracle_path ? oracle_path : "generation-0 model", co.mix_frac);
  fputs(header, stdout);
  fflush(stdout);
  if ((status = sl_cycle_run(train, wt, test, oracle, &co, print_row, stdout, &rows, &nrows, &err))) goto DONE;
  if (c.out) {
    sl_outfile *of = NULL;
    if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
    FILE *fp = sl_outfile_fp(of);
    prov = cli_provenance(&c, train);
    if (prov) fputs(prov, fp);
    free(prov);
    fprintf(fp, "arm,generation,n_fit,n_real,accept,bits_per_kept,bits_total,heldout_logp,"
            "heldout_bits_per_site,heldout_q05,entropy_bits,entropy_se,r_one,r_two,support,seconds\n");
    for (int k = 0; k < nrows; k++) {
      const sl_cycle_row *r = &rows[k];
      fprintf(fp, "%s,%d,%lld,%lld,%.6f,%.4f,%.2f,%.6f,%.6f,%.6f,%.4f,%.4f,%.6f,%.6f,%.6f,%.2f\n",
              r->arm < 0 ? "real" : sl_cycle_arm_name(r->arm), r->generation, (long long)r->n_fit,
              (long long)r->n_real, r->accept, r->bits_per_kept, r->bits_total, r->heldout_logp,
              r->heldout_bits_per_site, r->heldout_q05, r->entropy_bits, r->entropy_se, r->r_one,
              r->r_two, r->support, r->seconds);
    }
    if ((status = sl_outfile_commit(of, &err))) goto DONE;
  }
DONE:
  free(rows);
  free(set);
  free(w);
  free(wt);
  sl_model_destroy(oracle);
  sl_msa_destroy(all);
  sl_msa_destroy(train);
  sl_msa_destroy(test);
  return status ? cli_error(&c, status, &err) : 0;
}
