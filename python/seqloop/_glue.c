/* _glue.c: the loops of the Python bindings (see _glue.h). Each runs with the
 * GIL released (cffi API mode), in parallel over sequences with one
 * sl_model_ws per thread as docs/architecture.md prescribes; the first
 * failure (lowest index) is the one reported, so the message does not depend
 * on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "_glue.h"

/* The error of the lowest failing index wins. */
static void keep_first(int64_t k, int status, const sl_error *e, int64_t *first, int *ret_status, sl_error *err) {
#pragma omp critical(slpy_err)
  if (*first < 0 || k < *first) {
    *first = k;
    *ret_status = status;
    *err = *e;
  }
}

int slpy_score_many(const sl_model *m, const uint8_t *x, int64_t n, int normalised, int threads,
                    double *ret, sl_error *err) {
  int status = SL_OK;
  int64_t first = -1;
  if (normalised && !sl_model_has(m, SL_CAP_NORMALISED))
    return sl_fail(err, SL_EUSAGE, "a %s model has no normalised log P (its likelihood is known only up to "
                   "the partition function); use score() for the energy", sl_model_name(m));
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
  {
    sl_model_ws *ws = NULL;
    sl_error e;
    int st = sl_model_ws_create(m, &ws, &e);
    if (st) keep_first(0, st, &e, &first, &status, err);
#pragma omp for schedule(dynamic, 16)
    for (int64_t k = 0; k < n; k++) {
      if (st) continue;
      int s = normalised ? sl_model_logp(m, ws, x + k * m->L, &ret[k], &e)
                         : sl_model_score(m, ws, x + k * m->L, &ret[k], &e);
      if (s) {
        char msg[sizeof e.msg];
        snprintf(msg, sizeof msg, "%s", e.msg);
        sl_fail(&e, s, "sequence %lld: %s", (long long)k, msg);
        keep_first(k, s, &e, &first, &status, err);
      }
    }
    sl_model_ws_destroy(ws);
  }
  return status;
}

int slpy_delta_many(const sl_model *m, const uint8_t *ref, const char *const *mutants, int64_t n,
                    int64_t offset, int skip_invalid, int threads, double *ret, sl_error *err) {
  int status = SL_OK;
  int64_t first = -1;
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
  {
    sl_model_ws *ws = NULL;
    sl_error e;
    sl_mutation *mut = malloc(SL_MAX_MUTATIONS * sizeof *mut);
    int st = mut ? sl_model_ws_create(m, &ws, &e) : sl_fail(&e, SL_ENOMEM, "out of memory");
    if (st) keep_first(0, st, &e, &first, &status, err);
#pragma omp for schedule(dynamic, 64)
    for (int64_t k = 0; k < n; k++) {
      if (st) continue;
      int nm = 0;
      int s = sl_mutant_parse(m, mutants[k], offset, mut, &nm, &e);
      if (s && skip_invalid) { ret[k] = NAN; continue; } /* as `seqloop score --skip-invalid` */
      if (!s) s = sl_mutant_delta(m, ws, ref, mut, nm, &ret[k], &e);
      if (s) {
        char msg[sizeof e.msg];
        snprintf(msg, sizeof msg, "%s", e.msg);
        sl_fail(&e, s, "mutant %lld ('%.100s'): %s", (long long)k, mutants[k], msg);
        keep_first(k, s, &e, &first, &status, err);
      }
    }
    sl_model_ws_destroy(ws);
    free(mut);
  }
  return status;
}

/* ret: L*q; ret[i*q+a] = delta of the single mutant ref_i -> a; 0 at the
 * reference state; NaN for the gap state and at columns whose reference is
 * not a residue (as `seqloop score --all-singles`, which skips them). */
int slpy_all_singles(const sl_model *m, const uint8_t *ref, double *ret, sl_error *err) {
  int status = SL_OK, q = m->abc->q;
  sl_model_ws *ws = NULL;
  if ((status = sl_model_ws_create(m, &ws, err))) return status;
  for (int64_t i = 0; i < m->L && !status; i++) {
    uint8_t wt = ref[i];
    int residue = m->abc->cls[(unsigned char)m->abc->symbols[wt]] == SL_CH_RESIDUE;
    for (int a = 0; a < q && !status; a++) {
      double *v = &ret[i * q + a];
      if (!residue || a == 0) { *v = NAN; continue; }
      if (a == wt) { *v = 0; continue; }
      sl_mutation mu = {i, m->pos[i], wt, (uint8_t)a};
      status = sl_mutant_delta(m, ws, ref, &mu, 1, v, err);
    }
  }
  sl_model_ws_destroy(ws);
  return status;
}

static int dup_opt(char **dst, const char *s) {
  if (!s) return 0;
  return (*dst = sl_strdup(s)) ? 0 : -1;
}

int slpy_design_run(const char *ledger, const char *oracle, const char *start, const char *symbols,
                    const char *prior, const char *prior_sites, const char *naturals, const sl_design_opts *o,
                    int rounds_given, int budget_given, sl_design_end *ret_end, sl_error *err) {
  sl_design_campaign_opts g;
  sl_design_campaign *c = NULL;
  sl_design_campaign_opts_init(&g);
  int status = SL_OK;
  if (dup_opt(&g.oracle, oracle) || dup_opt(&g.start, start) || dup_opt(&g.symbols, symbols) ||
      dup_opt(&g.prior, prior) || dup_opt(&g.prior_sites, prior_sites) || dup_opt(&g.naturals, naturals))
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  if (!status) {
    g.o = *o;
    g.given = 1;
    g.rounds_given = rounds_given;
    g.budget_given = budget_given;
    status = sl_design_campaign_open(ledger, &g, SL_CAMPAIGN_RUN, "python: seqloop.design()", &c, err);
  }
  if (!status) status = sl_design_campaign_run(c, NULL, NULL, ret_end, err);
  sl_design_campaign_close(c);
  sl_design_campaign_opts_free(&g);
  return status;
}

int slpy_ledger_csv(const char *path, const char *table, int with_times, char **ret, sl_error *err) {
  sl_ledger *l = NULL;
  char *buf = NULL;
  size_t len = 0;
  *ret = NULL;
  int status = sl_ledger_open(path, &l, err);
  if (status) return status;
  FILE *fp = open_memstream(&buf, &len);
  if (!fp) status = sl_fail(err, SL_ENOMEM, "out of memory");
  else {
    status = sl_ledger_export_table_csv(l, table, fp, with_times, err);
    if (fclose(fp) && !status) status = sl_fail(err, SL_ENOMEM, "out of memory");
  }
  sl_ledger_close(l);
  if (status) free(buf);
  else *ret = buf;
  return status;
}

void slpy_free(void *p) { free(p); }

int slpy_model_finish(sl_model *m, const sl_msa *msa, const char *meta, sl_error *err) {
  memcpy(m->focus, msa->focus >= 0 ? sl_msa_row(msa, msa->focus) : sl_msa_row(msa, 0), (size_t)msa->L);
  memcpy(m->pos, msa->pos, (size_t)msa->L * sizeof *m->pos);
  if (msa->focus < 0)
    for (int64_t i = 0; i < msa->L; i++) m->pos[i] = i + 1;
  free(m->focus_name);
  free(m->meta);
  m->focus_name = msa->focus >= 0 ? sl_strdup(msa->name[msa->focus]) : NULL;
  m->meta = meta ? sl_strdup(meta) : NULL;
  if ((msa->focus >= 0 && !m->focus_name) || (meta && !m->meta)) return sl_fail(err, SL_ENOMEM, "out of memory");
  return SL_OK;
}

/* ---- the transformer (tfm) ------------------------------------------------
 * What `seqloop fit --model tfm` does after reading and splitting its rows
 * (cli/cmd_fit_tfm.c), for rows given by Python: every row used for
 * training (no held-out split here: the caller chooses the rows), rows the
 * tokenizer refuses skipped and counted, as the CLI does. */
int slpy_tfm_fit(const char *const *seqs, const double *w, int64_t n, const char *ref, const int64_t *ref_pos,
                 const char *ref_name, const sl_tfm_config *cfg0, const sl_tfm_train_opts *o, const char *meta,
                 sl_model **ret, int64_t *ret_skipped, sl_error *err) {
  *ret = NULL;
  *ret_skipped = 0;
  sl_tfm_config cfg = *cfg0;
  int **tok = calloc((size_t)(n ? n : 1), sizeof *tok);
  int *len = calloc((size_t)(n ? n : 1), sizeof *len);
  double *tw = calloc((size_t)(n ? n : 1), sizeof *tw);
  sl_model *m = NULL;
  sl_tfm_state *st = NULL;
  int status = SL_OK;
  int64_t nt = 0, maxlen = 0;
  if (!tok || !len || !tw) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < n; k++) {
    sl_error e2;
    if (!(tok[nt] = malloc((strlen(seqs[k]) + 1) * sizeof **tok))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    if (sl_tfm_tokenize(seqs[k], tok[nt], &len[nt], &e2) || len[nt] == 0) {
      free(tok[nt]);
      tok[nt] = NULL;
      (*ret_skipped)++;
      continue;
    }
    tw[nt] = w ? w[k] : 1.0;
    if (len[nt] > maxlen) maxlen = len[nt];
    nt++;
  }
  if (nt == 0) { status = sl_fail(err, SL_EINPUT, "no sequence to train on (%lld skipped for non-standard residues)", (long long)*ret_skipped); goto DONE; }
  if (cfg.n_ctx == 0) cfg.n_ctx = (int)(maxlen + 2 < 512 ? maxlen + 2 : 512);
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  const int64_t L = (int64_t)strlen(ref);
  if (!(m = sl_model_create("tfm", L > 0 ? L : 1, abc, 1))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  if ((status = sl_tfm_create(&cfg, &m->tfm, err))) goto DONE;
  sl_tfm_init_random(m->tfm, o->seed);
  for (int64_t i = 0; i < L; i++) {
    m->focus[i] = abc->code[(unsigned char)ref[i]];
    m->pos[i] = ref_pos ? ref_pos[i] : i + 1;
  }
  if ((ref_name && !(m->focus_name = sl_strdup(ref_name))) || (meta && !(m->meta = sl_strdup(meta)))) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if ((status = sl_tfm_state_create(m->tfm, o->seed, &st, err))) goto DONE;
  double ne = 0;
  for (int64_t k = 0; k < nt; k++) ne += tw[k];
  m->n_train = nt;
  m->neff = ne;
  sl_tfm_data d = {nt, (const int *const *)tok, len, tw};
  double ev = -1;
  status = sl_tfm_train(st, &d, NULL, o, &ev, err);
  if (status && !err->msg[0]) sl_fail(err, SL_EUSAGE, "training stopped (interrupted)");
DONE:
  sl_tfm_state_destroy(st);
  if (tok)
    for (int64_t k = 0; k < n; k++) free(tok[k]);
  free(tok); free(len); free(tw);
  if (status) sl_model_destroy(m);
  else *ret = m;
  return status;
}

/* log P (nats, end token included) of unaligned sequences under a tfm model,
 * as `seqloop score --perplexity` prints it (logp_nats). */
int slpy_tfm_logp(sl_model *m, const char *const *seqs, int64_t n, int threads, double *ret, sl_error *err) {
  if (!m->tfm) return sl_fail(err, SL_EUSAGE, "a %s model is not a transformer: score aligned sequences "
                              "with score() or logp()", sl_model_name(m));
  if (n > INT32_MAX) return sl_fail(err, SL_EUSAGE, "too many sequences in one call");
  int **tok = calloc((size_t)(n ? n : 1), sizeof *tok);
  int *len = calloc((size_t)(n ? n : 1), sizeof *len);
  int status = SL_OK;
  if (!tok || !len) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < n && !status; k++) {
    sl_error e2;
    if (!(tok[k] = malloc((strlen(seqs[k]) + 1) * sizeof **tok))) { status = sl_fail(err, SL_ENOMEM, "out of memory"); break; }
    if (sl_tfm_tokenize(seqs[k], tok[k], &len[k], &e2))
      status = sl_fail(err, SL_EINPUT, "sequence %lld: %s", (long long)k, e2.msg);
    else if (len[k] + 1 > m->tfm->cfg.n_ctx)
      status = sl_fail(err, SL_EINPUT, "sequence %lld has %d residues; the model's context holds %d",
                       (long long)k, len[k], m->tfm->cfg.n_ctx - 1);
  }
  if (status) goto DONE;
  int saved = m->tfm->threads;
  m->tfm->threads = threads > 0 ? threads : 1;
  status = sl_tfm_logp_batch(m->tfm, (const int *const *)tok, len, (int)n, ret, err);
  m->tfm->threads = saved;
DONE:
  if (tok)
    for (int64_t k = 0; k < n; k++) free(tok[k]);
  free(tok); free(len);
  return status;
}

int slpy_model_set_meta(sl_model *m, const char *meta, sl_error *err) {
  char *s = sl_strdup(meta);
  if (!s) return sl_fail(err, SL_ENOMEM, "out of memory");
  free(m->meta);
  m->meta = s;
  return SL_OK;
}
