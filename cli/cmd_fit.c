/* cmd_fit.c: `seqloop fit --model potts|profile|ar -o MODEL ALIGNMENT`;
 * --model tfm is handed to cmd_fit_tfm.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "seqloop/progress.h"
#include "seqloop/ar.h"
#include "seqloop/potts.h"
#include "seqloop/zeroshot.h"
#include "seqloop/sasa.h"

static const cli_cmdinfo info = {
  "fit", "seqloop fit --model potts|profile|ar|lor|gemme -o MODEL [options] ALIGNMENT\n"
  "       seqloop fit --model tfm -o MODEL [options] SEQUENCES  (see --model tfm -h)",
  "Fits a model to a weighted alignment and writes a seqloop model file (and its\n"
  "provenance, MODEL.prov.json).\n", NULL};

typedef struct {
  int tty, quiet;
  int max_iter;
  sl_progress *bar; /* on a terminal without -q (seqloop/progress.h) */
} progress_ctx;

static int progress(void *ctx, int iter, int n_evals, double fx, double gnorm, double xnorm,
                    double seconds) {
  progress_ctx *p = ctx;
  if (p->quiet) return 0;
  double cond = gnorm / (xnorm > 1 ? xnorm : 1);
  if (p->tty) {
    char note[96];
    snprintf(note, sizeof note, "f %.1f, |g|/|x| %.2e", fx, cond);
    sl_progress_note(p->bar, note);
    sl_progress_update(p->bar, iter);
  } else {
    if (iter == 1) fprintf(stderr, "iter\tevals\tseconds\tobjective\tgnorm\t|g|/max(1,|x|)\n");
    fprintf(stderr, "%d\t%d\t%.2f\t%.4f\t%.4e\t%.4e\n", iter, n_evals, seconds, fx, gnorm, cond);
  }
  return 0;
}

/* --structure FILE[:CHAIN] (fit and score, lor/gemme/profile models): RSA
 * per column from the chain (Shrake-Rupley, sasa.h), RSALOR's factor
 * 1 - min(RSA, 100)/100 multiplies the column's fields. The chain follows the
 * last ':' when what follows is a short id without '/' (default A). The
 * returned JSON says what was done; the fit records it in the model. */
static int structure_factors(const char *cmd, const char *spec, const sl_model *m, int quiet, double *fac,
                             cJSON **ret, sl_error *err);

int cli_structure_scale(const char *cmd, const char *spec, sl_model *m, int quiet, cJSON **ret,
                        sl_error *err) {
  *ret = NULL;
  if (m->J)
    return sl_fail(err, SL_EUSAGE, "--structure scales field-only models (lor, gemme, profile); "
                   "the %s model has couplings", sl_model_name(m));
  /* A stab model (fit --structure, or benchmark's) records its burial here too. */
  if (m->meta && (strstr(m->meta, "\"rsa\":{") || strstr(m->meta, "\"rsa_factor\": {")))
    return sl_fail(err, SL_EUSAGE, "--structure: the model is already scaled by RSA (its metadata "
                   "records it); scale an unscaled model");
  double *fac = malloc((size_t)(m->L ? m->L : 1) * sizeof *fac);
  if (!fac) return sl_fail(err, SL_ENOMEM, "out of memory");
  int status = structure_factors(cmd, spec, m, quiet, fac, ret, err);
  if (!status && (status = sl_model_scale_columns(m, fac, err))) { cJSON_Delete(*ret); *ret = NULL; }
  free(fac);
  return status;
}

/* --structure for --model stab: the burial of each column, 1 - min(RSA,100)/100
 * (the same factors), is the stab term's input, not a scale of its fields:
 * a first stab model with zero burial carries the focus that the chain is
 * aligned to, the second is the fit. */
static int fit_stab(const sl_msa *msa, const char *spec, int quiet, sl_model **ret_m, cJSON **ret, sl_error *err) {
  *ret_m = NULL;
  *ret = NULL;
  double *b = calloc((size_t)(msa->L ? msa->L : 1), sizeof *b);
  sl_model *m0 = NULL;
  if (!b) return sl_fail(err, SL_ENOMEM, "out of memory");
  int status = sl_stab_fit(msa, b, &m0, err);
  if (!status) status = structure_factors("fit", spec, m0, quiet, b, ret, err);
  if (!status) status = sl_stab_fit(msa, b, ret_m, err);
  if (status) { cJSON_Delete(*ret); *ret = NULL; }
  sl_model_destroy(m0);
  free(b);
  return status;
}

/* The RSA factor of each column of m (its focus aligned to the chain), and
 * the JSON that records what was done. */
static int structure_factors(const char *cmd, const char *spec, const sl_model *m, int quiet, double *fac,
                             cJSON **ret, sl_error *err) {
  *ret = NULL;
  char path[4096], chain[16] = "A";
  snprintf(path, sizeof path, "%s", spec);
  char *colon = strrchr(path, ':');
  if (colon && colon[1] && strlen(colon + 1) < sizeof chain && !strchr(colon + 1, '/')) {
    snprintf(chain, sizeof chain, "%s", colon + 1);
    *colon = 0;
  }
  sl_rsa_map rm;
  int status = sl_rsa_model_factors(m, path, chain, 100, 0.5, fac, &rm, err);
  if (status) return status;
  if (!quiet)
    fprintf(stderr, "seqloop %s: %s chain %s: %lld residues; %lld of %lld model columns aligned "
            "(identity %.1f%%), %lld weighted by RSA (the rest keep factor 1)\n", cmd, path, chain,
            (long long)rm.n_res, (long long)rm.aligned, (long long)m->L, 100 * rm.identity,
            (long long)rm.mapped);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "structure", path);
  cJSON_AddStringToObject(j, "chain", chain);
  cJSON_AddStringToObject(j, "method", "Shrake-Rupley, 100 points, probe 1.4 A; max ASA Tien 2013");
  cJSON_AddStringToObject(j, "formula", "1 - min(RSA,100)/100");
  cJSON_AddNumberToObject(j, "residues", (double)rm.n_res);
  cJSON_AddNumberToObject(j, "aligned", (double)rm.aligned);
  cJSON_AddNumberToObject(j, "weighted", (double)rm.mapped);
  cJSON_AddNumberToObject(j, "identity", rm.identity);
  cJSON *f = cJSON_AddArrayToObject(j, "factors");
  for (int64_t i = 0; i < m->L; i++) cJSON_AddItemToArray(f, cJSON_CreateNumber(fac[i]));
  *ret = j;
  return SL_OK;
}

static char *meta_json(const cli_common *c, const sl_msa *msa, const char *model, const char *preset,
                       const sl_plm_opts *o, const sl_plm_report *rep, int64_t seed, cJSON *rsa) {
  cJSON *root = cJSON_CreateObject();
  cJSON *fit = cJSON_AddObjectToObject(root, "fit");
  cJSON_AddStringToObject(fit, "model", model);
  int zs = strcmp(model, "lor") == 0 || strcmp(model, "gemme") == 0;
  if (zs) {
    cJSON_AddStringToObject(fit, "constants", strcmp(model, "lor") == 0 ? "r=0.01" : "alpha=0.6 r=0.01");
  } else {
    cJSON_AddStringToObject(fit, "preset", preset);
    cJSON_AddNumberToObject(fit, "lambda_h", o->lambda_h);
  }
  if (!zs && strcmp(model, "profile") != 0) cJSON_AddNumberToObject(fit, "lambda_J", o->lambda_J);
  if (strcmp(model, "potts") == 0) {
    cJSON_AddNumberToObject(fit, "max_iter", o->max_iter);
    cJSON_AddNumberToObject(fit, "epsilon", o->epsilon);
    cJSON_AddNumberToObject(fit, "lbfgs_m", o->lbfgs_m);
  }
  cJSON_AddBoolToObject(fit, "gap_missing", o->gap_missing);
  cJSON_AddStringToObject(fit, "weights", c->weights_in ? c->weights_in : sl_weights_convention_name(c->w.convention));
  cJSON_AddNumberToObject(fit, "theta", c->w.theta);
  if (c->msa.evc_min_seq_cov > 0) cJSON_AddNumberToObject(fit, "min_sequence_coverage", c->msa.evc_min_seq_cov);
  if (c->msa.evc_min_col_cov > 0) cJSON_AddNumberToObject(fit, "min_column_coverage", c->msa.evc_min_col_cov);
  cJSON_AddNumberToObject(fit, "seed", (double)seed);
  if (rsa) cJSON_AddItemToObject(fit, "rsa", rsa);
  else cJSON_AddNullToObject(fit, "rsa");
  cJSON_AddItemToObject(root, "provenance", cli_json_provenance(c, msa));
  cJSON_AddItemToObject(root, "ingest", cli_json_ingest(msa));
  if (rep) {
    cJSON *r = cJSON_AddObjectToObject(root, "result");
    cJSON_AddNumberToObject(r, "objective", rep->fx);
    cJSON_AddNumberToObject(r, "neg_log_pseudolikelihood", rep->neg_loglk);
    cJSON_AddNumberToObject(r, "iterations", rep->iterations);
    cJSON_AddNumberToObject(r, "evaluations", rep->evaluations);
    cJSON_AddStringToObject(r, "lbfgs", rep->lbfgs_message);
    cJSON_AddNumberToObject(r, "parameters", (double)rep->n_params);
  }
  char *s = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return s;
}

int cmd_fit(int argc, char **argv) {
  /* the transformer trains by SGD with its own options: its own parser */
  for (int k = 1; k < argc; k++)
    if ((strcmp(argv[k], "--model") == 0 && k + 1 < argc && strcmp(argv[k + 1], "tfm") == 0) ||
        strcmp(argv[k], "--model=tfm") == 0)
      return cmd_fit_tfm(argc, argv);
  cli_common c;
  cli_common_init(&c, "fit", argc, argv);
  const char *model = NULL, *preset = "evcouplings", *plmc_out = NULL, *init = NULL, *structure = NULL;
  cJSON *rsa = NULL;
  int eval_only = 0;
  const char *order = "entropy";
  double *init_x = NULL;
  int64_t *ar_order = NULL;
  double lh = NAN, lj = NAN, eps = NAN, seq_cov = NAN, col_cov = NAN;
  int64_t seed = 0;
  sl_plm_opts o;
  sl_plm_opts_init(&o);
  c.out = NULL;
  cli_opt opts[] = {
    CLI_STRING("model", 0, &model, "M", "potts (pseudo-likelihood, plmc's objective), profile\n"
               "(site-independent, L2-regularised maximum likelihood), ar\n"
               "(autoregressive DCA: exact likelihood and sampling), lor or gemme\n"
               "(zero-shot scorers, docs/scoring.md), stab (a physical stability\n"
               "term; needs --structure); tfm: see --model tfm -h", "options"),
    CLI_STRING("structure", 0, &structure, "FILE[:CHAIN]", "lor, gemme, profile: weight each column's fields\n"
               "by 1 - min(RSA,100)/100 from the chain's Shrake-Rupley RSA\n"
               "(RSALOR; chain default A), recorded in the model; stab: the\n"
               "columns' burial, the same factor", NULL),
    CLI_STRING("order", 0, &order, "O", "ar site order: entropy (increasing column entropy),\n"
               "natural, or a comma-separated permutation of 1..L", NULL),
    CLI_STRING("preset", 0, &preset, "P", "regularisation convention: evcouplings (lambda_h 0.01,\n"
               "lambda_J 0.01 (q-1)(L-1)), evmutation (lambda_J 0.2 (L-1)), plmc\n"
               "(lambda_J 100), plmc-readme (16); proteingym: EVcouplings'\n"
               "whole pipeline as ProteinGym ran it (coverage filters 0.5 and\n"
               "0.7, gaps missing, evcouplings lambdas, 100 iterations; the\n"
               "profile refitted as EVcouplings' independent model)", NULL),
    CLI_DOUBLE("evc-seq-coverage", 0, &seq_cov, 0, 1, "X", "drop rows covering less than X of the focus\n"
               "residues, counted as EVcouplings does (proteingym: 0.5)", NULL),
    CLI_DOUBLE("evc-col-coverage", 0, &col_cov, 0, 1, "X", "exclude focus columns with residues in less\n"
               "than X of the rows, as EVcouplings (proteingym: 0.7)", NULL),
    CLI_DOUBLE("lambda-h", 0, &lh, 0, HUGE_VAL, "X", "override the preset's lambda_h", NULL),
    CLI_DOUBLE("lambda-j", 0, &lj, 0, HUGE_VAL, "X", "override the preset's lambda_J", NULL),
    CLI_FLAG("gaps-missing", 'g', &o.gap_missing, "gaps are missing data, not a state (plmc -g)", NULL),
    CLI_INT("max-iter", 'm', &o.max_iter, 0, INT32_MAX, "N", "L-BFGS iterations (0: until converged)", NULL),
    CLI_OPT_("epsilon", 0, CLI_T_DOUBLE, &eps, 0, HUGE_VAL, NULL, "X", "L-BFGS convergence |g|/max(1,|x|) < X\n"
             "(default: potts 1e-3 as plmc; ar 1e-4 at each site)", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_INT("lbfgs-m", 0, &o.lbfgs_m, 1, 1000, "N", "L-BFGS memory (pairs); the potts fit needs\n"
            "about (3 + 2m) x 4 + 4 bytes per parameter", NULL),
    CLI_OPT_("stop-at", 0, CLI_T_DOUBLE, &o.stop_at, -HUGE_VAL, HUGE_VAL, NULL, "F",
             "stop once the objective is <= F (benchmarks)", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_STRING("plmc-out", 0, &plmc_out, "FILE", "also write plmc's binary parameter file", NULL),
    CLI_INT64("seed", 0, &seed, -HUGE_VAL, HUGE_VAL, "N", "recorded in the model (the fit itself is deterministic)", NULL),
    CLI_STRING("init", 0, &init, "MODEL", "start from a model's parameters (seqloop or plmc file)", NULL),
    CLI_FLAG("evaluate", 0, &eval_only, "with --init: print the objective at those parameters and exit", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c), CLI_OPTS_JSON(&c), CLI_OPTS_GENERAL(&c),
    CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind);
  if (rc >= 0) return rc;
  if (!isnan(eps)) o.epsilon = eps; /* potts; the ar branch applies it to its own options */
  cli_input(&c, "alignment", optind < argc ? argv[optind] : NULL);
  cli_input(&c, "init", init);
  if (eval_only && (!init || (model && strcmp(model, "potts") != 0)))
    return cli_usage_error(&info, "--evaluate needs --init MODEL (a Potts model)");
  if (eval_only && !model) model = "potts";
  if (optind != argc - 1 || !model || (!c.out && !eval_only))
    return cli_usage_error(&info, "expected --model, -o MODEL and one alignment");
  int is_potts = strcmp(model, "potts") == 0, is_ar = strcmp(model, "ar") == 0;
  int is_lor = strcmp(model, "lor") == 0, is_gemme = strcmp(model, "gemme") == 0, is_stab = strcmp(model, "stab") == 0;
  if (!is_potts && !is_ar && !is_lor && !is_gemme && !is_stab && strcmp(model, "profile") != 0)
    return cli_usage_error(&info, "--model: expected potts, profile, ar, lor, gemme, stab or tfm, not '%s'", model);
  if (is_stab && !structure)
    return cli_usage_error(&info, "--model stab needs --structure FILE[:CHAIN] (the burial of each column)");
  if (structure && (is_potts || is_ar))
    return cli_usage_error(&info, "--structure weights field-only models (lor, gemme, profile), not %s", model);
  if ((is_lor || is_gemme || is_stab) && (o.gap_missing || strcmp(preset, "evcouplings") != 0 || !isnan(lh) || !isnan(lj)))
    return cli_usage_error(&info, "--model %s has fixed constants (docs/scoring.md): no --preset, "
                           "--lambda-h, --lambda-j or -g", model);
  cli_input(&c, "structure", structure);
  if ((plmc_out || init) && !is_potts) return cli_usage_error(&info, "--plmc-out and --init need --model potts");
  /* proteingym: EVcouplings' defaults (config/sample_config_monomer.txt) as
   * ProteinGym ran EVmutation and its Site-Independent model; docs/potts.md
   * lists the steps. Explicit options still win. */
  int pgym = strcmp(preset, "proteingym") == 0;
  if (pgym) {
    if (is_ar) return cli_usage_error(&info, "--preset proteingym is for --model potts and profile");
    if (isnan(seq_cov)) seq_cov = 0.5;
    if (isnan(col_cov)) col_cov = 0.7;
    o.gap_missing = 1;
    if (!cli_opt_find(opts, "max-iter")->given) o.max_iter = 100; /* an explicit -m wins, 0 too */
  }
  if (!isnan(seq_cov)) c.msa.evc_min_seq_cov = seq_cov;
  if (!isnan(col_cov)) c.msa.evc_min_col_cov = col_cov;
  /* Across MPI ranks (cli/dist.c, docs/scale.md): every rank reads the
   * input and fits its share; rank 0 alone writes, after the last exchange. */
  const int launched = cli_dist_launched();
  if (launched > 1 && !cli_dist_mpi())
    return cli_usage_error(&info, "started as %d ranks (mpirun or srun), but this seqloop was built "
                           "without MPI: build it with make MPI=1 (docs/scale.md)", launched);
  if (launched > 1 && (eval_only || (!is_potts && !is_ar && strcmp(model, "profile") != 0)))
    return cli_usage_error(&info, "%s runs in one process; fits across ranks: --model potts, ar "
                           "or profile", eval_only ? "--evaluate" : model);
  const sl_dist *dist = cli_dist_start();
  char rank_cmd[64];
  if (sl_dist_rank(dist) > 0) { /* ranks > 0: no progress, errors named by rank */
    c.quiet = 1;
    snprintf(rank_cmd, sizeof rank_cmd, "fit (rank %d of %d)", dist->rank, dist->size);
    c.cmd = rank_cmd;
  }
  c.w.dist = dist;
  o.dist = dist;
  sl_error err;
  sl_error_clear(&err);
  sl_msa *msa = NULL;
  sl_model *m = NULL;
  double *w = NULL, neff = 0;
  sl_plm_report rep;
  memset(&rep, 0, sizeof rep);
  int status = SL_OK;
  if (sl_dist_ranks(dist) > 1) { /* ranks must run one fit: the same arguments, then the same input */
    size_t n = 1;
    for (int k = 0; k < argc; k++) n += strlen(argv[k]) + 1;
    char *all = calloc(n, 1);
    if (!all) status = sl_fail(&err, SL_ENOMEM, "out of memory");
    for (int k = 0; all && k < argc; k++) strcat(strcat(all, argv[k]), "\x1f");
    if (!status) status = cli_dist_same(dist, "command lines", all, &err);
    free(all);
    if (status) goto DONE;
  }
  status = cli_load(&c, argv[optind], &msa, &w, &neff, &err);
  if (!status) status = cli_dist_same(dist, "alignments (SHA-256)", msa->sha256, &err);
  if (status) goto DONE;
  int q = msa->abc->q - o.gap_missing;
  if ((status = sl_plm_preset(pgym ? "evcouplings" : preset, msa->L, q, &o, &err))) goto DONE;
  if (!isnan(lh)) o.lambda_h = lh;
  if (!isnan(lj)) o.lambda_J = lj;
  o.threads = c.w.threads;
  progress_ctx pc = {isatty(2), c.quiet, o.max_iter, NULL};
  o.progress = progress;
  o.progress_ctx = &pc;
  if (init) {
    sl_model *im = NULL;
    status = cli_read_any_model("fit", init, &im, &err);
    if (status) goto DONE;
    if (!sl_model_has(im, SL_CAP_COUPLINGS) || im->L != msa->L || im->q != q || im->abc != msa->abc) {
      status = sl_fail(&err, SL_EINPUT, "%s: a %s model with L %lld and q %d does not fit this "
                       "alignment and options (L %lld, q %d)", init, sl_model_name(im),
                       (long long)im->L, im->q, (long long)msa->L, q);
      sl_model_destroy(im);
      goto DONE;
    }
    init_x = malloc((size_t)sl_potts_nparams(msa->L, q) * sizeof *init_x);
    if (!init_x) { sl_model_destroy(im); status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    sl_potts_pack(im, init_x);
    sl_model_destroy(im);
    o.init = init_x;
    if (eval_only) {
      double fx = 0;
      if ((status = sl_plm_objective(msa, w, &o, o.init, &fx, NULL, &err))) goto DONE;
      if (c.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "provenance", cli_json_provenance(&c, msa));
        cJSON_AddStringToObject(j, "init", init);
        cJSON_AddNumberToObject(j, "objective", fx);
        cJSON_AddNumberToObject(j, "lambda_h", o.lambda_h);
        cJSON_AddNumberToObject(j, "lambda_J", o.lambda_J);
        cJSON_AddNumberToObject(j, "N", (double)msa->N);
        cJSON_AddNumberToObject(j, "L", (double)msa->L);
        cJSON_AddNumberToObject(j, "q", q);
        status = cli_write_json("-", j, &err);
        cJSON_Delete(j);
      } else {
        printf("objective\t%.6f\nlambda_h\t%g\nlambda_J\t%g\nN\t%lld\nL\t%lld\nq\t%d\n", fx,
               o.lambda_h, o.lambda_J, (long long)msa->N, (long long)msa->L, q);
      }
      goto DONE;
    }
  }
  if (is_potts) {
    if (!c.quiet)
      fprintf(stderr, "seqloop fit: potts, %lld parameters, lambda_h %g, lambda_J %g (%s), gaps %s, "
              "%d threads\n", (long long)sl_potts_nparams(msa->L, q), o.lambda_h, o.lambda_J, preset,
              o.gap_missing ? "missing" : "a state", o.threads);
    pc.bar = pc.tty && !c.quiet ? sl_progress_create(stderr, "seqloop fit: potts", "iterations") : NULL;
    sl_progress_start(pc.bar, NULL, o.max_iter); /* 0 (until converged): no total, no ETA */
    status = sl_potts_fit_plm(msa, w, &o, &m, &rep, &err);
    sl_progress_destroy(pc.bar);
    if (!status && !c.quiet)
      fprintf(stderr, "seqloop fit: %s after %d iterations (%d evaluations, %.2f s): objective %.4f\n",
              rep.lbfgs_message, rep.iterations, rep.evaluations, rep.seconds, rep.fx);
  } else if (is_ar) {
    sl_ar_opts ao;
    sl_ar_opts_init(&ao);
    if (!isnan(lh)) ao.lambda_h = lh;
    if (!isnan(lj)) ao.lambda_J = lj;
    ao.threads = c.w.threads;
    ao.dist = dist;
    ao.max_iter = o.max_iter;
    if (!isnan(eps)) ao.epsilon = eps;
    if (o.gap_missing) { status = sl_fail(&err, SL_EUSAGE, "ar models treat gaps as a state (no -g)"); goto DONE; }
    if (strcmp(order, "natural") == 0) ao.order_kind = SL_ORDER_NATURAL;
    else if (strcmp(order, "entropy") != 0) {
      ao.order_kind = SL_ORDER_GIVEN;
      ar_order = malloc((size_t)msa->L * sizeof *ar_order);
      int64_t k = 0;
      char *p = (char *)order;
      while (ar_order && *p && k < msa->L) {
        char *e = NULL;
        long long v = strtoll(p, &e, 10);
        if (e == p) break;
        ar_order[k++] = v - 1;
        p = *e == ',' ? e + 1 : e;
      }
      if (!ar_order || k != msa->L || *p) {
        status = sl_fail(&err, SL_EUSAGE, "--order: expected entropy, natural or a comma-separated "
                         "permutation of 1..%lld", (long long)msa->L);
        goto DONE;
      }
      ao.order = ar_order;
    }
    sl_ar_report ar;
    if (!c.quiet)
      fprintf(stderr, "seqloop fit: ar, %lld parameters, lambda_h %g, lambda_J %g, order %s, %d threads\n",
              (long long)sl_potts_nparams(msa->L, q), ao.lambda_h, ao.lambda_J, order, ao.threads);
    ao.progress = isatty(2) && !c.quiet ? sl_progress_create(stderr, "seqloop fit: ar", "sites") : NULL;
    status = sl_ar_fit(msa, w, &ao, &m, &ar, &err);
    sl_progress_destroy(ao.progress);
    if (!status && !c.quiet)
      fprintf(stderr, "seqloop fit: %lld sites fitted in %.2f s (%lld evaluations; %d sites stopped "
              "before convergence): training NLL %.4f nats per sequence (weights sum to 1)\n",
              (long long)msa->L, ar.seconds, (long long)ar.evaluations, ar.n_not_converged, ar.neg_loglk);
    o.lambda_h = ao.lambda_h;
    o.lambda_J = ao.lambda_J;
    preset = "ardca";
  } else if (is_lor) {
    status = sl_lor_fit(msa, w, 0.01, &m, &err);
  } else if (is_gemme) {
    status = sl_gemme_fit(msa, w, 0.6, &m, &err);
  } else if (is_stab) {
    status = fit_stab(msa, structure, c.quiet, &m, &rsa, &err);
  } else {
    status = pgym ? sl_profile_fit_evc(msa, w, o.lambda_h, o.gap_missing, &m, &err)
                  : sl_profile_fit(msa, w, o.lambda_h, o.gap_missing, &m, &err);
  }
  if (status) goto DONE;
  memcpy(m->focus, msa->focus >= 0 ? sl_msa_row(msa, msa->focus) : sl_msa_row(msa, 0), (size_t)msa->L);
  memcpy(m->pos, msa->pos, (size_t)msa->L * sizeof *m->pos);
  if (msa->focus < 0)
    for (int64_t i = 0; i < msa->L; i++) m->pos[i] = i + 1;
  free(m->focus_name); /* some kinds' fits (lor, gemme) set it already */
  m->focus_name = NULL;
  if (msa->focus >= 0 && !(m->focus_name = sl_strdup(msa->name[msa->focus]))) {
    status = sl_fail(&err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if (structure && !is_stab && (status = cli_structure_scale("fit", structure, m, c.quiet, &rsa, &err))) goto DONE;
  m->meta = meta_json(&c, msa, model, preset, &o, is_potts ? &rep : NULL, seed, rsa);
  rsa = NULL; /* owned by the meta's JSON, freed there */
  if (sl_dist_rank(dist) > 0) goto DONE; /* rank 0 writes */
  if ((status = sl_model_write(c.out, m, &err)) || (status = cli_prov_write(&c, c.out, NULL, &err))) goto DONE;
  if (plmc_out) /* complete: weights, f_i and f_ij as plmc writes them (src/models/modelfile.c) */
    status = sl_model_write_plmc_msa(plmc_out, m, msa, w, c.w.theta, o.lambda_h, o.lambda_J, o.max_iter, &err);
DONE:
  cJSON_Delete(rsa);
  free(init_x);
  free(ar_order);
  sl_model_destroy(m);
  free(w);
  sl_msa_destroy(msa);
  return cli_dist_finish(dist, status ? cli_error(&c, status, &err) : 0);
}
