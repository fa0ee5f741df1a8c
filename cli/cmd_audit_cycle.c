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
#include "shard.h"
#include "seqloop/info.h"
#include "seqloop/split.h"

static const cli_cmdinfo info = {
  "audit cycle", "seqloop audit cycle [options] ALIGNMENT",
  "The perpetual-motion test. Splits ALIGNMENT (cluster split, seqloop split) into real\n"
  "training and held-out sequences, fits an ar model on the training side (generation 0),\n"
  "then for each generation samples from the current model and refits on:\n"
  "  self    the samples alone (same objective and weighting, no filter)\n"
  "  filter  samples whose oracle score reaches the --filter-quantile of the real training\n"
  "          sequences' scores (at most log2(1/acceptance) bits enter per kept sample)\n"
  "  mix     the samples plus the real training sequences (--mix of the weight)\n"
  "and reports, per generation: held-out log P (mean, and the 5% quantile: the tail),\n"
  "bits per site, entropy, two-point correlation of samples with the real data, and\n"
  "support (share of the real (site, state) pairs the samples still produce).\n"
  "A table on stdout as generations finish; -o writes the same rows as CSV.\n", NULL};

static const cli_choice filter_choices[] = {{"threshold", SL_FILTER_THRESHOLD}, {"ratio", SL_FILTER_RATIO},
                                            {NULL, 0}};

/* --arms self,filter,mix into a bit set. */
static int parse_arms(void *target, const char *arg, char *why, size_t n) {
  int arms = 0;
  const char *p = arg;
  while (*p) {
    size_t len = strcspn(p, ",");
    int a = len == 4 && !strncmp(p, "self", 4) ? SL_CYCLE_SELF : len == 6 && !strncmp(p, "filter", 6)
          ? SL_CYCLE_FILTER : len == 3 && !strncmp(p, "mix", 3) ? SL_CYCLE_MIX : -1;
    if (a < 0) {
      snprintf(why, n, "a comma-separated list of self, filter and mix");
      return -1;
    }
    arms |= 1 << a;
    p += len + (p[len] == ',');
  }
  if (!arms) {
    snprintf(why, n, "a comma-separated list of self, filter and mix");
    return -1;
  }
  *(int *)target = arms;
  return 0;
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
  sl_shard shard = {0, 0};
  int optind_;
  cli_opt opts[] = {
    CLI_INT("generations", 0, &co.generations, 0, 1000000, "K", "generations after 0", "options"),
    CLI_OPT_("samples", 0, CLI_T_INT64, &co.n_samples, 0, INT64_MAX, NULL, "N",
             "sequences per refit (0: the training set's size)", NULL, 0, NULL, NULL),
    CLI_FUNC("arms", 0, &co.arms, parse_arms, "LIST", "any of self,filter,mix (default all three)", NULL),
    CLI_STRING("oracle", 0, &oracle_path, "MODEL", "the filter's scorer (default: the generation-0 model)", NULL),
    CLI_CHOICE("filter", 0, &co.filter_mode, filter_choices, "MODE",
               "threshold: keep samples scoring at least the --filter-quantile of the real\n"
               "training scores; ratio: keep x with probability min(1, O(x)/(c M(x))),\n"
               "rejection sampling toward the oracle O (ar or profile)", NULL),
    CLI_DOUBLE("filter-quantile", 0, &co.filter_quantile, 0, 1, "Q", "the threshold filter's quantile", NULL),
    CLI_DOUBLE("mix", 0, &co.mix_frac, 0, 1, "F", "weight share of the real rows in mix", NULL),
    CLI_STRING("test", 0, &test_path, "FILE", "held-out sequences aligned to ALIGNMENT's kept columns (no split)", NULL),
    CLI_DOUBLE("identity", 0, &so.t1, 0, 1, "T", "the split's identity threshold", NULL),
    CLI_DOUBLE("test-frac", 0, &so.test_frac, 0, 1, "F", "the split's held-out share", NULL),
    CLI_DOUBLE("lambda-j", 0, &co.ar.lambda_J, 0, HUGE_VAL, "X", "the ar fit's coupling penalty", NULL),
    CLI_DOUBLE("lambda-h", 0, &co.ar.lambda_h, 0, HUGE_VAL, "X", "the ar fit's field penalty", NULL),
    CLI_DOUBLE_POS("epsilon", 0, &co.ar.epsilon, HUGE_VAL, "X", "the ar fit's convergence threshold", NULL),
    CLI_INT("max-iter", 0, &co.ar.max_iter, 0, INT32_MAX, "N", "the ar fit's iterations per site (0: until converged)", NULL),
    CLI_INT64("entropy-samples", 0, &co.n_entropy, 1, INT64_MAX, "N", "per entropy estimate", NULL),
    CLI_UINT64("seed", 0, &co.seed, 0, HUGE_VAL, "S", "split, samples and estimates: same seed, same table", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c),
    CLI_STRING("output", 'o', &c.out, "FILE", "the rows as CSV (atomically)", "output"),
    CLI_STRING("provenance", 0, &c.prov, "FILE", "provenance JSON (default: OUTPUT.prov.json)", NULL),
    CLI_SHARD(&shard, "arms (self, filter, mix,\n"
              "in that order; each piece repeats generation 0)"),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (optind_ != argc - 1) return cli_usage_error(&info, "expected one ALIGNMENT");
  if ((rc = cli_shard_need_file(&info, &shard, c.out)) >= 0) return rc;
  /* --shard: the arms are independent (each draws from its own streams, draw_seed(seed, arm, ...)),
     so a piece runs a block of the selected arms, in the order the table lists them */
  int arm_list[SL_CYCLE_NARMS], narms = 0;
  for (int a = 0; a < SL_CYCLE_NARMS; a++)
    if ((co.arms >> a) & 1) arm_list[narms++] = a;
  int64_t lo, hi;
  sl_shard_range(&shard, narms, &lo, &hi);
  cli_piece pc = {shard, "arms", narms, lo, hi, 1, 1, "concat"};
  co.arms = 0;
  for (int64_t k = lo; k < hi; k++) co.arms |= 1 << arm_list[k];
  so.seed = co.seed;
  cli_input(&c, "alignment", argv[optind_]);
  cli_input(&c, "oracle", oracle_path);
  cli_input(&c, "test", test_path);
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
  int status = SL_OK;
  if (hi == lo) { /* an empty piece: the header alone; the alignment is read for its SHA-256 as
                     cli_load records it (of the content, decompressed), which merge compares */
    if ((status = sl_msa_read(argv[optind_], &c.msa, &all, &err))) goto DONE;
    for (int k = 0; k < c.n_in; k++)
      if (strcmp(c.in[k].path, argv[optind_]) == 0) memcpy(c.in[k].sha256, all->sha256, SL_SHA256_HEX);
    goto WRITE;
  }
  if ((status = cli_load(&c, argv[optind], &all, &w, &neff, &err))) goto DONE;
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
  printf("# training %lld (Neff %.1f), held-out %lld, L %lld; %lld samples per refit; filter %s "
         "(quantile %g; oracle %s); mix %g\n", (long long)train->N, neff, (long long)test->N,
         (long long)train->L, (long long)(co.n_samples > 0 ? co.n_samples : train->N),
         co.filter_mode == SL_FILTER_RATIO ? "ratio" : "threshold", co.filter_quantile,
         oracle_path ? oracle_path : "generation-0 model", co.mix_frac);
  fputs(header, stdout);
  fflush(stdout);
  if ((status = sl_cycle_run(train, wt, test, oracle, &co, print_row, stdout, &rows, &nrows, &err))) goto DONE;
WRITE:
  if (c.out) {
    sl_outfile *of = NULL;
    if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
    FILE *fp = sl_outfile_fp(of);
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
    if ((status = cli_piece_prov_write(&c, c.out, NULL, &pc, &err))) goto DONE;
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
