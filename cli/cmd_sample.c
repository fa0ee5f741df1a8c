/* cmd_sample.c: `seqloop sample -m MODEL -n N` - exact ancestral samples from
 * an ar or tfm model (Gibbs for Potts/profile, and for tfm with clamps), as
 * FASTA with the log-probability (and, given the natural alignment, the
 * identity to the nearest natural sequence) in each header. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "../src/base/progress.h"
#include "seqloop/sample.h"
#include "seqloop/score.h"

enum { X_N = OPT_CMD_BASE, X_T, X_SEED, X_NAT, X_FIX, X_INFILL, X_BURN, X_THIN, X_CHAINS, X_TOPP, X_PREFIX };

static void help(void) {
  printf("usage: seqloop sample -m MODEL -n N [options]\n\n"
         "Draws N sequences: from an ar or tfm model by exact ancestral sampling (i.i.d.); from a\n"
         "Potts or profile model (or a tfm model with --fix/--infill) by Gibbs sampling (burn-in;\n"
         "thinning).\n"
         "  -m, --model FILE        a seqloop ar model\n"
         "  -n N                    number of sequences\n"
         "  --temperature T         sample from P^(1/T) site by site (default 1)\n"
         "  --seed S                random seed (default 1); the same seed gives the same samples\n"
         "                          for any thread count\n"
         "  --fix LIST              clamp residues, e.g. 12A,40W (focus numbering). Potts: exact\n"
         "                          (Gibbs never updates them). ar: exact only if the clamped sites\n"
         "                          come first in the model's order (refit with --order); else refused\n"
         "  --infill A-B            regenerate residues A..B, every other site clamped to the focus\n"
         "                          (Potts: Gibbs on the fragment; ar: only if A..B come last in the\n"
         "                          order)\n"
         "  --burnin N, --thin N, --chains N   Gibbs settings (default 200, 10, 4); R-hat of the\n"
         "                          energy across chains is printed\n"
         "  --naturals ALN          add the identity to the nearest sequence of ALN (aligned to\n"
         "                          the model's columns, e.g. the training alignment after ingest)\n"
         "  --top-p P               tfm: nucleus sampling, draw from the most probable tokens\n"
         "                          whose probability reaches P (default 1: off)\n"
         "  --prefix SEQ            tfm: every sample starts with these residues\n"
         "                          tfm with --fix/--infill: one Gibbs chain under the exact\n"
         "                          likelihood from the reference, its length kept (--burnin,\n"
         "                          --thin; each site update costs a forward pass of 20 sequences)\n"
         "  -t N                    threads\n"
         "  -o FILE                 FASTA output (default stdout), written atomically\n");
}

/* Residues of row x (len codes; gaps skipped) as one FASTA line. */
static void put_residues(FILE *fp, const sl_model *m, const uint8_t *x, int64_t len) {
  for (int64_t i = 0; i < len; i++)
    if (sl_model_state(m, x[i]) >= 0) fputc(m->abc->symbols[x[i]], fp);
  fputc('\n', fp);
}

/* i.i.d. samples from an ungapped model (tfm), token by token
 * (sl_sample_ancestral: one generator, so a seed gives the same samples for
 * any thread count; threads split the work inside each draw). */
static int sample_ungapped(cli_common *c, sl_model *m, long long n, unsigned long long seed, double T,
                           double top_p, const char *prefix, sl_error *err) {
#ifdef _OPENMP
  if (!getenv("OMP_DYNAMIC")) omp_set_dynamic(1); /* as in cmd_fit_tfm.c */
#endif
  const int64_t R = sl_model_row_len(m);
  uint8_t *pre = NULL, *X = malloc((size_t)(n * R) + 1);
  int64_t *len = malloc((size_t)n * sizeof *len);
  double *lp = malloc((size_t)n * sizeof *lp);
  sl_outfile *of = NULL;
  int status = SL_OK;
  double mean = 0, mlen = 0;
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  d.T = T;
  d.top_p = top_p;
  if (!X || !len || !lp) { status = sl_fail(err, SL_ENOMEM, "out of memory for %lld samples", n); goto DONE; }
  if (prefix) {
    if (!(pre = malloc(strlen(prefix) + 1))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    for (const char *p = prefix; *p; p++) {
      unsigned char ch = (unsigned char)*p;
      if (ch == '-' || ch == '.' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
      ch = (unsigned char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
      if (m->abc->cls[ch] != SL_CH_RESIDUE) {
        status = sl_fail(err, SL_EUSAGE, "--prefix: '%c' at position %lld is not one of the 20 standard "
                         "residues", *p, (long long)(p - prefix) + 1);
        goto DONE;
      }
      pre[d.n_prefix++] = m->abc->code[ch];
    }
    d.prefix = pre;
  }
  if ((status = sl_sample_ancestral(m, &d, n, seed, c->w.threads, NULL, X, len, lp, err))) goto DONE;
  if ((status = sl_outfile_open(c->out, &of, err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  for (long long k = 0; k < n; k++) {
    fprintf(fp, ">sample%lld logp=%.4f length=%lld%s seed=%llu T=%g top_p=%g\n", k + 1, lp[k], (long long)len[k],
            len[k] == R ? " truncated=context" : "", seed, T, top_p);
    put_residues(fp, m, X + k * R, len[k]);
    mean += lp[k];
    mlen += (double)len[k];
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (!status && !c->quiet)
    fprintf(stderr, "seqloop sample: %lld sequences, mean length %.1f, mean log P %.3f nats\n", n, mlen / n, mean / n);
DONE:
  sl_outfile_abort(of);
  free(pre);
  free(X);
  free(len);
  free(lp);
  return status;
}

/* --fix/--infill under a model without site conditionals or clamped exact
 * sampling (tfm): one Gibbs chain under the exact likelihood
 * (sl_gibbs_likelihood) from the reference sequence, clamped sites held;
 * burn-in, then one sample every `thin` sweeps. The length stays the
 * reference's. */
static int gibbs_likelihood(cli_common *c, sl_model *m, long long n, unsigned long long seed, double T,
                            const uint8_t *fixed, const sl_gibbs_opts *go, sl_error *err) {
#ifdef _OPENMP
  if (!getenv("OMP_DYNAMIC")) omp_set_dynamic(1); /* as in cmd_fit_tfm.c */
#endif
  uint8_t *x = malloc((size_t)m->L), *is_free = malloc((size_t)m->L);
  sl_outfile *of = NULL;
  sl_model_ws *ws = NULL;
  int status = SL_OK, nfree = 0, len = 0;
  if (!x || !is_free) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t i = 0; i < m->L; i++) {
    x[i] = fixed[i] != 0xFF ? fixed[i] : m->focus[i];
    int in = sl_model_state(m, x[i]) >= 0; /* a gap in the reference: not part of the sequence */
    is_free[i] = in && fixed[i] == 0xFF;
    nfree += is_free[i];
    len += in;
  }
  if (nfree == 0) { status = sl_fail(err, SL_EUSAGE, "every residue is clamped: nothing to sample"); goto DONE; }
  if ((status = sl_model_ws_create(m, &ws, err))) goto DONE;
  if ((status = sl_outfile_open(c->out, &of, err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  sl_rng r;
  sl_rng_seed(&r, seed);
  double lp = 0, mean = 0;
  if ((status = sl_gibbs_likelihood(m, ws, &r, T, x, is_free, go->burnin, &lp, err))) goto DONE;
  for (long long k = 0; k < n; k++) {
    if ((status = sl_gibbs_likelihood(m, ws, &r, T, x, is_free, go->thin, &lp, err))) goto DONE;
    fprintf(fp, ">sample%lld logp=%.4f length=%d free=%d seed=%llu T=%g burnin=%lld thin=%lld\n", k + 1, lp, len,
            nfree, seed, T, (long long)go->burnin, (long long)go->thin);
    put_residues(fp, m, x, m->L);
    mean += lp;
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (!status && !c->quiet)
    fprintf(stderr, "seqloop sample: %lld sequences from one Gibbs chain under the %s likelihood (%d free "
            "sites, burn-in %lld, thinning %lld sweeps), mean log P %.3f nats\n", n, sl_model_name(m), nfree,
            (long long)go->burnin, (long long)go->thin, mean / n);
DONE:
  sl_outfile_abort(of);
  sl_model_ws_destroy(ws);
  free(x);
  free(is_free);
  return status;
}

int cmd_sample(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "sample", argc, argv);
  const char *model_path = NULL, *naturals = NULL, *fix = NULL, *infill = NULL, *prefix = NULL;
  double top_p = 1.0;
  sl_gibbs_opts go;
  sl_gibbs_opts_init(&go);
  long long n = -1;
  unsigned long long seed = 1;
  double T = 1.0;
  static const struct option longopts[] = {
    {"model", required_argument, 0, 'm'}, {"temperature", required_argument, 0, X_T},
    {"seed", required_argument, 0, X_SEED}, {"naturals", required_argument, 0, X_NAT},
    {"fix", required_argument, 0, X_FIX}, {"threads", required_argument, 0, 't'},
    {"infill", required_argument, 0, X_INFILL}, {"burnin", required_argument, 0, X_BURN},
    {"thin", required_argument, 0, X_THIN}, {"chains", required_argument, 0, X_CHAINS},
    {"output", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'},
    {"top-p", required_argument, 0, X_TOPP}, {"prefix", required_argument, 0, X_PREFIX},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "m:n:t:o:qh", longopts, NULL)) != -1) {
    char *e = NULL;
    switch (opt) {
      case 'h': help(); return 0;
      case 'm': model_path = optarg; break;
      case 'n': n = strtoll(optarg, &e, 10); if (*e || n < 1) goto BAD; break;
      case X_T: T = strtod(optarg, &e); if (*e || !(T > 0)) goto BAD; break;
      case X_SEED: seed = strtoull(optarg, &e, 10); if (*e) goto BAD; break;
      case X_NAT: naturals = optarg; break;
      case X_FIX: fix = optarg; break;
      case X_TOPP: top_p = strtod(optarg, &e); if (*e || !(top_p > 0 && top_p <= 1)) goto BAD; break;
      case X_PREFIX: prefix = optarg; break;
      case X_INFILL: infill = optarg; break;
      case X_BURN: go.burnin = strtoll(optarg, &e, 10); if (*e || go.burnin < 0) goto BAD; break;
      case X_THIN: go.thin = strtoll(optarg, &e, 10); if (*e || go.thin < 1) goto BAD; break;
      case X_CHAINS: go.chains = (int)strtol(optarg, &e, 10); if (*e || go.chains < 1) goto BAD; break;
      case 't': if (cli_common_opt(&c, opt, optarg) < 0) return 2; break;
      case 'o': c.out = optarg; break;
      case 'q': c.quiet = 1; break;
      default: fprintf(stderr, "seqloop sample: see 'seqloop sample -h'\n"); return 2;
    }
    continue;
  BAD:
    fprintf(stderr, "seqloop sample: bad value '%s' for %s\n", optarg, argv[optind - 1]);
    return 2;
  }
  if (!model_path || n < 1 || optind != argc) {
    fprintf(stderr, "seqloop sample: expected -m MODEL and -n N, see 'seqloop sample -h'\n");
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_model *m = NULL;
  sl_msa *nat = NULL;
  uint8_t *X = NULL, *fixed = NULL;
  double *lp = NULL, *ident = NULL;
  sl_outfile *of = NULL;
  int status = sl_model_read(model_path, &m, &err);
  if (status) goto DONE;
  sl_model_set_threads(m, c.w.threads);
  const int aligned = sl_model_has(m, SL_CAP_ALIGNED), exact = sl_model_has(m, SL_CAP_EXACT_SAMPLE);
  if (!aligned && (naturals || ((fix || infill) && (prefix || top_p != 1.0)))) {
    status = sl_fail(&err, SL_EUSAGE, naturals ? "--naturals needs aligned samples; tfm samples are ungapped"
                     : "--fix/--infill (Gibbs sampling) take neither --prefix nor --top-p");
    goto DONE;
  }
  if (!aligned && !fix && !infill) {
    status = sample_ungapped(&c, m, n, seed, T, top_p, prefix, &err);
    goto DONE;
  }
  if (top_p != 1.0 || prefix) {
    status = sl_fail(&err, SL_EUSAGE, "--top-p and --prefix need a tfm model");
    goto DONE;
  }
  const int64_t L = m->L;
  if (fix || infill) {
    fixed = malloc((size_t)L);
    if (!fixed) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    memset(fixed, 0xFF, (size_t)L);
  }
  if (infill) {
    char *e = NULL;
    long long a = strtoll(infill, &e, 10), b = (*e == '-') ? strtoll(e + 1, &e, 10) : -1;
    if (*e || b < a) { status = sl_fail(&err, SL_EUSAGE, "--infill: expected A-B (residue numbers), not '%s'", infill); goto DONE; }
    int64_t inside = 0;
    for (int64_t i = 0; i < L; i++) {
      if (m->pos[i] >= a && m->pos[i] <= b) { inside++; continue; }
      fixed[i] = m->focus[i];
      if (m->gap_missing && m->focus[i] == 0) fixed[i] = 0xFF; /* a gap is not a state there */
    }
    if (inside == 0) { status = sl_fail(&err, SL_EINPUT, "--infill %s: no model column in that range", infill); goto DONE; }
  }
  if (fix) {
    sl_mutation *mu = malloc(SL_MAX_MUTATIONS * sizeof *mu);
    if (!mu) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    /* "12A" means residue 12 becomes A: parse as "<wt>12A" with the focus letter. */
    char *list = sl_strdup(fix), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t && !status; t = strtok_r(NULL, ",", &save)) {
      char buf[64];
      long long pos = strtoll(t, NULL, 10);
      int64_t col = -1;
      for (int64_t i = 0; i < L; i++) if (m->pos[i] == pos) col = i;
      if (col < 0 || strlen(t) < 2) { status = sl_fail(&err, SL_EINPUT, "--fix '%s': no such residue in the model", t); break; }
      snprintf(buf, sizeof buf, "%c%s", m->abc->symbols[m->focus[col]], t);
      int nm = 0;
      if (m->abc->symbols[m->focus[col]] == buf[strlen(buf) - 1]) { fixed[col] = m->focus[col]; continue; }
      if ((status = sl_mutant_parse(m, buf, 0, mu, &nm, &err))) break;
      fixed[col] = mu[0].mt;
    }
    free(list);
    free(mu);
    if (status) goto DONE;
  }
  if (!sl_model_has(m, SL_CAP_CONDITIONALS) && !(exact && aligned)) {
    status = gibbs_likelihood(&c, m, n, seed, T, fixed, &go, &err);
    goto DONE;
  }
  X = malloc((size_t)(n * L));
  lp = malloc((size_t)n * sizeof *lp);
  ident = malloc((size_t)n * sizeof *ident);
  if (!X || !lp || !ident) { status = sl_fail(&err, SL_ENOMEM, "out of memory for %lld samples", n); goto DONE; }
  double rhat = NAN;
  if (exact) { /* ancestral (ar): the kind refuses clamps it cannot honour exactly */
    sl_draw_opts d;
    sl_draw_opts_init(&d);
    d.T = T;
    d.fixed = fixed;
    sl_progress *pr = isatty(2) && !c.quiet ? sl_progress_create(stderr, "seqloop sample", "samples") : NULL;
    sl_progress_start(pr, NULL, n);
    status = sl_sample_ancestral(m, &d, n, seed, c.w.threads, pr, X, NULL, lp, &err);
    sl_progress_destroy(pr);
    if (status) goto DONE;
  } else {
    go.T = T;
    go.seed = seed;
    go.fixed = fixed;
    go.threads = c.w.threads;
    go.progress = isatty(2) && !c.quiet ? sl_progress_create(stderr, "seqloop sample: Gibbs", "sweeps") : NULL;
    status = sl_gibbs_sample(m, &go, n, X, lp, &rhat, &err);
    sl_progress_destroy(go.progress);
    if (status) goto DONE;
  }
  if (naturals) {
    sl_msa_opts mo;
    sl_msa_opts_init(&mo);
    if ((status = sl_msa_read(naturals, &mo, &nat, &err))) goto DONE;
    if (nat->L != L || nat->abc != m->abc) {
      status = sl_fail(&err, SL_EINPUT, "%s: %lld columns; the model has %lld (give the alignment over "
                       "the model's columns, e.g. `seqloop ingest` output)", naturals, (long long)nat->L, (long long)L);
      goto DONE;
    }
#pragma omp parallel for schedule(dynamic, 64) num_threads(c.w.threads)
    for (int64_t t = 0; t < n; t++) {
      int64_t best = 0;
      for (int64_t r = 0; r < nat->N; r++) {
        const uint8_t *a = X + t * L, *b = sl_msa_row(nat, r);
        int64_t same = 0;
        for (int64_t i = 0; i < L; i++) same += a[i] == b[i];
        if (same > best) best = same;
      }
      ident[t] = (double)best / (double)L;
    }
  }
  if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  char *line = malloc((size_t)L + 2); /* one fwrite per sequence: fputc per residue was a third of the time */
  if (!line) { sl_outfile_abort(of); of = NULL; status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t t = 0; t < n; t++) {
    if (naturals)
      fprintf(fp, exact ? ">sample%lld logp=%.4f nearest_identity=%.4f seed=%llu T=%g\n"
                        : ">sample%lld energy=%.4f nearest_identity=%.4f seed=%llu T=%g\n",
              (long long)t + 1, lp[t], ident[t], seed, T);
    else
      fprintf(fp, exact ? ">sample%lld logp=%.4f seed=%llu T=%g\n" : ">sample%lld energy=%.4f seed=%llu T=%g\n",
              (long long)t + 1, lp[t], seed, T);
    for (int64_t i = 0; i < L; i++) line[i] = m->abc->symbols[X[t * L + i]];
    line[L] = '\n';
    fwrite(line, 1, (size_t)L + 1, fp);
  }
  free(line);
  status = sl_outfile_commit(of, &err);
  of = NULL;
  if (!status && !c.quiet) {
    double mean = 0;
    for (int64_t t = 0; t < n; t++) mean += lp[t];
    if (exact)
      fprintf(stderr, "seqloop sample: %lld sequences, mean log P %.3f nats (%.3f bits per site)\n", n,
              mean / n, -mean / n / log(2.0) / L);
    else
      fprintf(stderr, "seqloop sample: %lld sequences from %d Gibbs chains (burn-in %lld, thinning %lld), "
              "mean energy %.3f, R-hat of the energy %.3f\n", n, go.chains, (long long)go.burnin,
              (long long)go.thin, mean / n, rhat);
  }
DONE:
  sl_outfile_abort(of);
  sl_model_destroy(m);
  sl_msa_destroy(nat);
  free(X); free(lp); free(ident); free(fixed);
  return status ? cli_error(&c, status, &err) : 0;
}
