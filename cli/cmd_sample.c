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
#include "shard.h"
#include "seqloop/progress.h"
#include "seqloop/sample.h"
#include "seqloop/score.h"

/* Every sample's log P (or energy) must be finite: a model whose numbers
 * overflow gives an error (exit 3), never "logp=-nan" with exit 0. */
static int finite_or_fail(const double *v, int64_t n, sl_error *err) {
  for (int64_t k = 0; k < n; k++)
    if (!isfinite(v[k]))
      return sl_fail(err, SL_EINTERNAL, "sample %lld has a non-finite log-probability (%g): the "
                     "model's parameters overflow", (long long)k + 1, v[k]);
  return SL_OK;
}

static const cli_cmdinfo info = {
  "sample", "seqloop sample -m MODEL -n N [options]",
  "Draws N sequences: from an ar or tfm model by exact ancestral sampling (i.i.d.); from a\n"
  "Potts or profile model (or a tfm model with --fix/--infill) by Gibbs sampling (burn-in;\n"
  "thinning). FASTA with log P in each header; provenance to OUTPUT.prov.json.\n", NULL};

/* Residues of row x (len codes; gaps skipped) as one FASTA line. */
static void put_residues(FILE *fp, const sl_model *m, const uint8_t *x, int64_t len) {
  for (int64_t i = 0; i < len; i++)
    if (sl_model_state(m, x[i]) >= 0) fputc(m->abc->symbols[x[i]], fp);
  fputc('\n', fp);
}

/* i.i.d. samples from an ungapped model (tfm), token by token
 * (sl_sample_ancestral: one generator, so a seed gives the same samples for
 * any thread count; threads split the work inside each draw). */
static int sample_ungapped(cli_common *c, sl_model *m, long long n, long long lo, long long hi,
                           unsigned long long seed, double T, double top_p, const char *prefix, sl_error *err) {
#ifdef _OPENMP
  if (!getenv("OMP_DYNAMIC")) omp_set_dynamic(1); /* as in cmd_fit_tfm.c */
#endif
  const int64_t R = sl_model_row_len(m);
  const long long nk = hi - lo; /* --shard: draws lo..hi-1 of the n */
  uint8_t *pre = NULL, *X = malloc((size_t)(nk * R) + 1);
  int64_t *len = malloc((size_t)(nk + 1) * sizeof *len);
  double *lp = malloc((size_t)(nk + 1) * sizeof *lp);
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
  if ((status = sl_sample_ancestral_range(m, &d, n, lo, hi, seed, c->w.threads, NULL, X, len, lp, err))) goto DONE;
  if ((status = finite_or_fail(lp, nk, err))) goto DONE;
  if ((status = sl_outfile_open(c->out, &of, err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  for (long long k = 0; k < nk; k++) {
    fprintf(fp, ">sample%lld logp=%.4f length=%lld%s seed=%llu T=%g top_p=%g\n", lo + k + 1, lp[k], (long long)len[k],
            len[k] == R ? " truncated=context" : "", seed, T, top_p);
    put_residues(fp, m, X + k * R, len[k]);
    mean += lp[k];
    mlen += (double)len[k];
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (!status && !c->quiet && nk > 0)
    fprintf(stderr, "seqloop sample: %lld sequences, mean length %.1f, mean log P %.3f nats\n", nk, mlen / nk, mean / nk);
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
static int gibbs_likelihood(cli_common *c, sl_model *m, long long lo, long long hi, unsigned long long seed,
                            double T, const uint8_t *fixed, const sl_gibbs_opts *go, sl_error *err) {
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
  for (long long k = 0; k < hi; k++) { /* --shard: one chain, so the samples before lo are drawn and dropped */
    if ((status = sl_gibbs_likelihood(m, ws, &r, T, x, is_free, go->thin, &lp, err))) goto DONE;
    if (k < lo) continue;
    if ((status = finite_or_fail(&lp, 1, err))) goto DONE;
    fprintf(fp, ">sample%lld logp=%.4f length=%d free=%d seed=%llu T=%g burnin=%lld thin=%lld\n", k + 1, lp, len,
            nfree, seed, T, (long long)go->burnin, (long long)go->thin);
    put_residues(fp, m, x, m->L);
    mean += lp;
  }
  status = sl_outfile_commit(of, err);
  of = NULL;
  if (!status && !c->quiet && hi > lo)
    fprintf(stderr, "seqloop sample: %lld sequences from one Gibbs chain under the %s likelihood (%d free "
            "sites, burn-in %lld, thinning %lld sweeps), mean log P %.3f nats\n", hi - lo, sl_model_name(m), nfree,
            (long long)go->burnin, (long long)go->thin, mean / (double)(hi - lo));
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
  int64_t nsamp = 0;
  uint64_t seed64 = seed;
  sl_shard shard = {0, 0};
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("model", 'm', &model_path, "FILE", "a seqloop model (ar, tfm, potts, profile)", "options"),
    CLI_OPT_("number", 'n', CLI_T_INT64, &nsamp, 1, INT64_MAX, NULL, "N", "number of sequences (required)",
             NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_DOUBLE_POS("temperature", 0, &T, HUGE_VAL, "T", "sample from P^(1/T) site by site", NULL),
    CLI_UINT64("seed", 0, &seed64, 0, HUGE_VAL, "S", "random seed; the same seed gives the same samples\n"
               "for any thread count", NULL),
    CLI_STRING("fix", 0, &fix, "LIST", "clamp residues, e.g. 12A,40W (focus numbering). Potts: exact\n"
               "(Gibbs never updates them). ar: exact only if the clamped sites\n"
               "come first in the model's order (refit with --order); else refused", NULL),
    CLI_STRING("infill", 0, &infill, "A-B", "regenerate residues A..B, every other site clamped to the focus\n"
               "(Potts: Gibbs on the fragment; ar: only if A..B come last in the order)", NULL),
    CLI_INT64("burnin", 0, &go.burnin, 0, INT64_MAX, "N", "Gibbs: sweeps discarded at the start of each chain", NULL),
    CLI_INT64("thin", 0, &go.thin, 1, INT64_MAX, "N", "Gibbs: sweeps between kept samples", NULL),
    CLI_INT("chains", 0, &go.chains, 1, 1000000, "N", "Gibbs: independent chains (R-hat of the energy\n"
            "across chains is printed)", NULL),
    CLI_STRING("naturals", 0, &naturals, "ALN", "add the identity to the nearest sequence of ALN (aligned to\n"
               "the model's columns, e.g. the training alignment after ingest)", NULL),
    CLI_OPT_("top-p", 0, CLI_T_DOUBLE, &top_p, 0, 1, NULL, "P", "tfm: nucleus sampling, draw from the most\n"
             "probable tokens whose probability reaches P (1: off)", NULL, CLI_F_MIN_OPEN, NULL, NULL),
    CLI_STRING("prefix", 0, &prefix, "SEQ", "tfm: every sample starts with these residues\n"
               "tfm with --fix/--infill: one Gibbs chain under the exact likelihood\n"
               "from the reference, its length kept (--burnin, --thin; each site\n"
               "update costs a forward pass of 20 sequences)", NULL),
    CLI_OPTS_OUTPUT(&c), CLI_SHARD(&shard, "N sequences\n(sample k is the same in every split)"),
    CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (!model_path || !nsamp || optind_ != argc) return cli_usage_error(&info, "expected -m MODEL and -n N");
  if ((rc = cli_shard_need_file(&info, &shard, c.out)) >= 0) return rc;
  n = (long long)nsamp;
  int64_t lo, hi; /* --shard: this piece writes samples lo+1..hi */
  sl_shard_range(&shard, nsamp, &lo, &hi);
  const int64_t nk = hi - lo;
  seed = (unsigned long long)seed64;
  cli_input(&c, "model", model_path);
  cli_input(&c, "naturals", naturals);
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
    status = sample_ungapped(&c, m, n, lo, hi, seed, T, top_p, prefix, &err);
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
    status = gibbs_likelihood(&c, m, lo, hi, seed, T, fixed, &go, &err);
    goto DONE;
  }
  /* ancestral draws only this piece's rows. Gibbs chains interleave (sample k from chain k mod C,
     after k / C of its thinning intervals), so samples 0..hi-1 of an hi-sample run are those of the
     n-sample run: a piece runs every chain up to its last row and keeps its rows */
  const int64_t nx = exact ? nk : hi;
  X = malloc((size_t)(nx * L) + 1);
  lp = malloc((size_t)(nx + 1) * sizeof *lp);
  ident = malloc((size_t)(nx + 1) * sizeof *ident);
  if (!X || !lp || !ident) { status = sl_fail(&err, SL_ENOMEM, "out of memory for %lld samples", n); goto DONE; }
  double rhat = NAN;
  if (exact) { /* ancestral (ar): the kind refuses clamps it cannot honour exactly */
    sl_draw_opts d;
    sl_draw_opts_init(&d);
    d.T = T;
    d.fixed = fixed;
    sl_progress *pr = isatty(2) && !c.quiet ? sl_progress_create(stderr, "seqloop sample", "samples") : NULL;
    sl_progress_start(pr, NULL, nk);
    status = sl_sample_ancestral_range(m, &d, n, lo, hi, seed, c.w.threads, pr, X, NULL, lp, &err);
    sl_progress_destroy(pr);
    if (status) goto DONE;
  } else {
    go.T = T;
    go.seed = seed;
    go.fixed = fixed;
    go.threads = c.w.threads;
    go.progress = isatty(2) && !c.quiet ? sl_progress_create(stderr, "seqloop sample: Gibbs", "sweeps") : NULL;
    status = sl_gibbs_sample(m, &go, hi, X, lp, &rhat, &err);
    sl_progress_destroy(go.progress);
    if (status) goto DONE;
    if (lo > 0) { /* this piece's rows first */
      memmove(X, X + lo * L, (size_t)(nk * L));
      memmove(lp, lp + lo, (size_t)nk * sizeof *lp);
    }
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
    for (int64_t t = 0; t < nk; t++) {
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
  if ((status = finite_or_fail(lp, nk, &err))) goto DONE;
  if ((status = sl_outfile_open(c.out, &of, &err))) goto DONE;
  FILE *fp = sl_outfile_fp(of);
  char *line = malloc((size_t)L + 2); /* one fwrite per sequence: fputc per residue was a third of the time */
  if (!line) { sl_outfile_abort(of); of = NULL; status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t t = 0; t < nk; t++) {
    if (naturals)
      fprintf(fp, exact ? ">sample%lld logp=%.4f nearest_identity=%.4f seed=%llu T=%g\n"
                        : ">sample%lld energy=%.4f nearest_identity=%.4f seed=%llu T=%g\n",
              (long long)(lo + t) + 1, lp[t], ident[t], seed, T);
    else
      fprintf(fp, exact ? ">sample%lld logp=%.4f seed=%llu T=%g\n" : ">sample%lld energy=%.4f seed=%llu T=%g\n",
              (long long)(lo + t) + 1, lp[t], seed, T);
    for (int64_t i = 0; i < L; i++) line[i] = m->abc->symbols[X[t * L + i]];
    line[L] = '\n';
    fwrite(line, 1, (size_t)L + 1, fp);
  }
  free(line);
  status = sl_outfile_commit(of, &err);
  of = NULL;
  if (!status && !c.quiet && nk > 0) {
    const long long n_all = n;
    n = nk; /* the summary is over this piece's samples */
    double mean = 0;
    for (int64_t t = 0; t < n; t++) mean += lp[t];
    if (exact)
      fprintf(stderr, "seqloop sample: %lld sequences, mean log P %.3f nats (%.3f bits per site)\n", n,
              mean / n, -mean / n / log(2.0) / L);
    else
      fprintf(stderr, "seqloop sample: %lld sequences from %d Gibbs chains (burn-in %lld, thinning %lld), "
              "mean energy %.3f, R-hat of the energy %.3f\n", n, go.chains, (long long)go.burnin,
              (long long)go.thin, mean / n, rhat);
    n = n_all;
  }
DONE:
  sl_outfile_abort(of);
  sl_model_destroy(m);
  sl_msa_destroy(nat);
  free(X); free(lp); free(ident); free(fixed);
  if (!status) {
    cli_piece pc = {shard, "sequences", nsamp, lo, hi, 0, 0, "concat"};
    status = cli_piece_prov_write(&c, c.out, NULL, &pc, &err);
  }
  return status ? cli_error(&c, status, &err) : 0;
}
