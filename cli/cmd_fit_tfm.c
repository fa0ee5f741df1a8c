/* cmd_fit_tfm.c: `seqloop fit --model tfm -o MODEL SEQUENCES` - train (or
 * fine-tune, or resume) the transformer language model (docs/tfm.md).
 *
 * Input: any sequence or alignment file. Rows are read with gaps removed
 * (lowercase insert states are residues too). If every row has the same
 * length the file is treated as an alignment: rows are weighted as
 * everywhere in seqloop (--theta, --convention) and the held-out split is
 * homology-aware (seqloop split's cluster method: no held-out row more than
 * --split-identity identical to a training row). Otherwise (unaligned
 * sequences) every row has weight 1 and rows are held out at random.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "seqloop/split.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include "seqloop/tfm.h"

static const cli_cmdinfo info = {
  "fit", "seqloop fit --model tfm -o MODEL [options] SEQUENCES",
  "Trains a causal transformer language model (docs/tfm.md) on the rows of a\n"
  "sequence or alignment file, gaps removed; rows with non-standard residues\n"
  "(X B Z U O J) are skipped. Aligned input: rows weighted (--theta) and the\n"
  "held-out split keeps whole identity clusters out of training.\n", NULL};

typedef struct {
  int64_t n;
  int **seq;
  int *len;
  double *w;
  char **raw, **name; /* each row as read (gaps kept) and its name, for --split-out */
  int64_t n_skipped;
  uint8_t *x;      /* aligned: N*L alphabet codes (for the split), else NULL */
  int64_t L;
  char *first;     /* the reference for mutant scoring, as letters (set_reference) */
  int64_t first_start;
  char *first_name;
  int64_t *first_pos; /* residue numbers of its positions */
} rows;

static void rows_free(rows *r) {
  for (int64_t i = 0; i < r->n; i++) { free(r->seq[i]); free(r->raw[i]); free(r->name[i]); }
  free(r->seq); free(r->raw); free(r->name); free(r->len); free(r->w); free(r->x); free(r->first); free(r->first_name); free(r->first_pos);
}

/* The reference (the model's focus) and its numbering: one rule for every
 * model kind (docs/formats.md, Numbering). With a focus (-f NAME,
 * --focus-first) it is the focus record, its residues numbered from
 * NAME/start-end; without, the first row over the model's columns numbered
 * 1..L: the alignment's columns for aligned input (gaps as missing), as the
 * aligned kinds number them, else the first record's residues. */
static int set_reference(const cli_common *c, const sl_seqset *ss, const sl_msa *msa, rows *r, sl_error *err) {
  const int focused = c->msa.focus || c->msa.focus_first;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  const char *src = NULL, *name = NULL;
  free(r->first); free(r->first_name); free(r->first_pos);
  r->first = r->first_name = NULL;
  r->first_pos = NULL;
  if (msa && !focused) {
    if (!(r->first = malloc((size_t)msa->L + 1)) || !(r->first_pos = malloc((size_t)msa->L * sizeof *r->first_pos)) ||
        !(r->first_name = sl_strdup(ss->name[msa->src_row[0]])))
      return sl_fail(err, SL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < msa->L; i++) {
      r->first[i] = abc->symbols[sl_msa_row(msa, 0)[i]];
      r->first_pos[i] = i + 1;
    }
    r->first[msa->L] = 0;
    r->first_start = 1;
    return SL_OK;
  }
  if (msa && msa->focus >= 0) {
    src = ss->seq[msa->src_row[msa->focus]];
    name = ss->name[msa->src_row[msa->focus]];
  } else if (c->msa.focus) {
    for (int64_t k = 0; k < ss->n && !src; k++)
      if (strncmp(ss->name[k], c->msa.focus, strlen(c->msa.focus)) == 0) { src = ss->seq[k]; name = ss->name[k]; }
    if (!src) return sl_fail(err, SL_EINPUT, "%s: no record named '%s' (--focus)", ss->path, c->msa.focus);
  } else {
    src = r->raw[0];
    name = r->name[0];
  }
  int *tok = malloc((strlen(src) + 1) * sizeof *tok), n = 0;
  if (!tok) return sl_fail(err, SL_ENOMEM, "out of memory");
  int status = sl_tfm_tokenize(src, tok, &n, err);
  if (!status && (!(r->first = malloc((size_t)n + 1)) || !(r->first_pos = malloc(((size_t)n + 1) * sizeof *r->first_pos)) ||
                  !(r->first_name = sl_strdup(name))))
    status = sl_fail(err, SL_ENOMEM, "out of memory");
  if (!status) {
    r->first_start = 1;
    const char *sl = strrchr(name, '/');
    if (focused && sl && sl[1] >= '0' && sl[1] <= '9') r->first_start = strtoll(sl + 1, NULL, 10);
    for (int i = 0; i < n; i++) {
      r->first[i] = "ACDEFGHIKLMNPQRSTVWY"[tok[i]];
      r->first_pos[i] = r->first_start + i;
    }
    r->first[n] = 0;
  }
  free(tok);
  return status;
}

static int load_rows(cli_common *c, const char *path, rows *r, char *sha, sl_error *err) {
  sl_seqset *ss = NULL;
  sl_msa *msa = NULL;
  memset(r, 0, sizeof *r);
  int status = sl_seqset_read(path, c->msa.format, &ss, err);
  if (status) return status;
  sl_sha256_hex(ss->sha256, sha);
  int aligned = ss->n > 1;
  for (int64_t k = 1; k < ss->n && aligned; k++) aligned = ss->len[k] == ss->len[0];
  int64_t N = ss->n;
  int64_t *src = NULL;
  if (aligned) {
    c->msa.alphabet = SL_ABC_PROTEIN;
    if ((status = sl_msa_build(ss, &c->msa, &msa, err))) goto DONE;
    N = msa->N;
    r->w = malloc((size_t)N * sizeof *r->w);
    if (!r->w) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = sl_weights_compute(msa, &c->w, r->w, NULL, err))) goto DONE;
    src = msa->src_row;
    r->L = msa->L;
    r->n_skipped = msa->rep.n_records - msa->N; /* rows the alignment reader dropped (non-standard) */
  }
  r->seq = calloc((size_t)N, sizeof *r->seq);
  r->raw = calloc((size_t)N, sizeof *r->raw);
  r->name = calloc((size_t)N, sizeof *r->name);
  r->len = malloc((size_t)N * sizeof *r->len);
  if (aligned) r->x = malloc((size_t)N * (size_t)r->L);
  if (!r->w) r->w = malloc((size_t)N * sizeof *r->w);
  if (!r->seq || !r->raw || !r->name || !r->len || !r->w || (aligned && !r->x)) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
  for (int64_t k = 0; k < N; k++) {
    int64_t rec = src ? src[k] : k;
    int *tok = malloc(((size_t)ss->len[rec] + 1) * sizeof *tok);
    int n = 0;
    sl_error e2;
    if (!tok) { status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    if (sl_tfm_tokenize(ss->seq[rec], tok, &n, &e2)) { free(tok); r->n_skipped++; continue; }
    if (!r->first) {
      r->first = malloc((size_t)n + 1);
      if (!r->first || !(r->first_name = sl_strdup(ss->name[rec]))) { free(tok); status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
      for (int i = 0; i < n; i++) r->first[i] = "ACDEFGHIKLMNPQRSTVWY"[tok[i]];
      r->first[n] = 0;
      r->first_start = 1;
      const char *sl = strrchr(ss->name[rec], '/');
      if (sl && sl[1] >= '0' && sl[1] <= '9') r->first_start = strtoll(sl + 1, NULL, 10);
    }
    if (aligned) {
      memcpy(r->x + r->n * r->L, sl_msa_row(msa, k), (size_t)r->L);
      r->w[r->n] = r->w[k];
    } else {
      r->w[r->n] = 1.0;
    }
    r->seq[r->n] = tok;
    r->len[r->n] = n;
    r->raw[r->n] = sl_strdup(ss->seq[rec]);
    r->name[r->n] = sl_strdup(ss->name[rec]);
    if (!r->raw[r->n] || !r->name[r->n]) { r->n++; status = sl_fail(err, SL_ENOMEM, "out of memory"); goto DONE; }
    r->n++;
  }
  if (r->n == 0) status = sl_fail(err, SL_EINPUT, "%s: no row of standard amino acids to train on", path);
  else status = set_reference(c, ss, aligned ? msa : NULL, r, err);
DONE:
  sl_msa_destroy(msa);
  sl_seqset_destroy(ss);
  return status;
}

/* The held-out split: aligned input goes through `seqloop split`'s cluster
 * method (sl_split: greedy clusters, whole clusters held out, and training
 * rows too close to a held-out row dropped, so that no held-out row is more
 * than split_id identical to a training row); unaligned rows are held out at
 * random. Labels SL_SET_*; 0 held-out rows when holdout is 0. */
static int split_rows(const rows *r, double split_id, double holdout, uint64_t seed, int kernel,
                      int8_t *lab, sl_error *err) {
  for (int64_t i = 0; i < r->n; i++) lab[i] = SL_SET_TRAIN;
  if (holdout <= 0) return SL_OK;
  sl_split_opts so;
  sl_split_opts_init(&so);
  so.t1 = split_id;
  so.test_frac = holdout;
  so.seed = seed;
  so.kernel = kernel;
  if (!r->x) so.method = SL_SPLIT_RANDOM;
  sl_split_report rep;
  /* unaligned rows: the random method only looks at the count (L 0) */
  return sl_split(r->x ? r->x : (const uint8_t *)"", r->n, r->x ? r->L : 0, -1, &so, lab, &rep, err);
}

typedef struct {
  int quiet, log_every;
  int64_t steps, stop_after;
  double tok_acc, sec_acc, loss_acc;
  int n_acc;
  int64_t first_step, tok_all;  /* totals after the first 5 steps (warm-up) */
  double sec_all;
  const char *ckpt;
  sl_model *m;
  const char *train_json;
} fit_ctx;

static int progress(void *vctx, int64_t step, double lr, double loss, int64_t ntok, double secs, double ev,
                    int is_eval) {
  fit_ctx *p = vctx;
  if (p->first_step < 0) p->first_step = step;
  if (step >= p->first_step + 5) { p->tok_all += ntok; p->sec_all += secs; }
  p->tok_acc += (double)ntok;
  p->sec_acc += secs;
  p->loss_acc += loss;
  p->n_acc++;
  const int stop = p->stop_after > 0 && step >= p->stop_after;
  if (p->quiet) return stop;
  if (step % p->log_every == 0 || step == p->steps) {
    fprintf(stderr, "step %lld/%lld  lr %.2e  loss %.4f  %.0f tok/s\n", (long long)step, (long long)p->steps,
            lr, p->loss_acc / p->n_acc, p->tok_acc / (p->sec_acc + 1e-12));
    p->tok_acc = p->sec_acc = p->loss_acc = 0;
    p->n_acc = 0;
  }
  if (is_eval)
    fprintf(stderr, "step %lld/%lld  held-out NLL %.4f nats/token  perplexity %.3f\n", (long long)step,
            (long long)p->steps, ev, exp(ev));
  return stop;
}

static int checkpoint(void *vctx, const sl_tfm_state *st, sl_error *err) {
  fit_ctx *p = vctx;
  return sl_model_write_checkpoint(p->ckpt, p->m, st, p->train_json, err);
}

/* --split-out PREFIX: PREFIX.train.fa and PREFIX.heldout.fa, rows as read. */
static int write_split(const char *prefix, const rows *r, const int8_t *held, sl_error *err) {
  char path[4096];
  int status = SL_OK;
  for (int part = 0; part < 2 && !status; part++) {
    snprintf(path, sizeof path, "%s.%s.fa", prefix, part ? "heldout" : "train");
    sl_outfile *of = NULL;
    if ((status = sl_outfile_open(path, &of, err))) break;
    FILE *fp = sl_outfile_fp(of);
    for (int64_t i = 0; i < r->n; i++)
      if (held[i] == (part ? SL_SET_TEST : SL_SET_TRAIN)) fprintf(fp, ">%s\n%s\n", r->name[i], r->raw[i]);
    status = sl_outfile_commit(of, err);
  }
  return status;
}

/* The training options as compact JSON: kept in checkpoints (a resume must
 * match them) and in the model's meta. Caller frees; NULL: out of memory. */
static char *train_options_json(const cli_common *c, const rows *r, const char *sha, const sl_tfm_config *cfg,
                                const sl_tfm_train_opts *o, double holdout, double split_id, const char *init) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "input_sha256", sha);
  cJSON_AddNumberToObject(j, "n_layer", cfg->n_layer);
  cJSON_AddNumberToObject(j, "d_model", cfg->d_model);
  cJSON_AddNumberToObject(j, "n_head", cfg->n_head);
  cJSON_AddNumberToObject(j, "n_ctx", cfg->n_ctx);
  cJSON_AddNumberToObject(j, "steps", (double)o->steps);
  cJSON_AddNumberToObject(j, "batch", o->batch);
  cJSON_AddNumberToObject(j, "lr", o->lr);
  cJSON_AddNumberToObject(j, "warmup", (double)o->warmup);
  cJSON_AddNumberToObject(j, "min_lr_frac", o->min_lr_frac);
  cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
  cJSON_AddNumberToObject(j, "clip", o->clip);
  cJSON_AddNumberToObject(j, "seed", (double)o->seed);
  cJSON_AddNumberToObject(j, "holdout", holdout);
  cJSON_AddNumberToObject(j, "split_identity", split_id);
  cJSON_AddNumberToObject(j, "theta", c->w.theta);
  cJSON_AddStringToObject(j, "weights", r->x ? sl_weights_convention_name(c->w.convention) : "uniform");
  cJSON_AddStringToObject(j, "init", init ? init : "");
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  return s;
}

/* --resume: the checkpoint's options must equal today's ("init" is not
 * known on resume; everything else is compared). */
static int check_resume(const char *ckpt, const char *train_json, const char *saved_json, sl_error *err) {
  int status = SL_OK;
  cJSON *a = cJSON_Parse(train_json), *b = saved_json ? cJSON_Parse(saved_json) : NULL;
  if (a && b) {
    cJSON_ReplaceItemInObject(a, "init", cJSON_CreateString(""));
    cJSON *bi = cJSON_GetObjectItem(b, "init");
    if (bi) cJSON_ReplaceItemInObject(b, "init", cJSON_CreateString(""));
  }
  int same = a && b && cJSON_Compare(a, b, 1);
  if (!same) {
    char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
    status = sl_fail(err, SL_EUSAGE, "--resume: the checkpoint %s was made with other data or options:\n"
                     "  checkpoint: %s\n  now:        %s", ckpt, sb ? sb : "(none)", sa ? sa : "(none)");
    free(sa); free(sb);
  }
  cJSON_Delete(a);
  cJSON_Delete(b);
  return status;
}

/* The model file's meta: fit options, provenance, result. Caller frees. */
static char *model_meta(const char *train_json, int argc, char **argv, const char *sha, int64_t steps,
                        int64_t ntr, int64_t nho, double ev) {
  cJSON *meta = cJSON_CreateObject();
  cJSON *fit = cJSON_AddObjectToObject(meta, "fit");
  cJSON_AddStringToObject(fit, "model", "tfm");
  cJSON *tj = cJSON_Parse(train_json);
  if (tj) cJSON_AddItemToObject(fit, "options", tj);
  cJSON *pv = cJSON_AddObjectToObject(meta, "provenance");
  cJSON_AddStringToObject(pv, "program", "seqloop");
  cJSON_AddStringToObject(pv, "version", SL_VERSION);
  cJSON_AddStringToObject(pv, "command", "fit");
  cJSON *args = cJSON_AddArrayToObject(pv, "argv");
  for (int k = 0; k < argc; k++) cJSON_AddItemToArray(args, cJSON_CreateString(argv[k]));
  cJSON_AddStringToObject(pv, "input", argv[argc - 1]);
  cJSON_AddStringToObject(pv, "input_sha256", sha);
  cJSON *res = cJSON_AddObjectToObject(meta, "result");
  cJSON_AddNumberToObject(res, "steps", (double)steps);
  cJSON_AddNumberToObject(res, "train_rows", (double)ntr);
  cJSON_AddNumberToObject(res, "heldout_rows", (double)nho);
  if (ev >= 0) {
    cJSON_AddNumberToObject(res, "heldout_nll_per_token", ev);
    cJSON_AddNumberToObject(res, "heldout_perplexity", exp(ev));
  }
  char *s = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  return s;
}

int cmd_fit_tfm(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c, "fit", argc, argv);
  c.out = NULL;
  sl_tfm_config cfg = {2, 64, 4, 0, SL_TFM_VOCAB};
  sl_tfm_train_opts o;
  sl_tfm_train_opts_init(&o);
  o.seed = 1;
  o.ckpt_every = 100;
  double holdout = 0.1, split_id = 0.8;
  int resume = 0, log_every = 10, shape_given = 0;
  int64_t stop_after = -1;
  const char *ckpt = NULL, *init = NULL, *split_out = NULL;
  const char *model = "tfm";
  int optind_;
  cli_opt opts[] = {
    CLI_STRING("model", 0, &model, "tfm", "the transformer (other models: seqloop fit -h)", "model (ignored with --init / --resume, which take the model's shape)"),
    CLI_INT("layers", 0, &cfg.n_layer, 1, 1024, "N", "depth", NULL),
    CLI_INT("width", 0, &cfg.d_model, 1, 1 << 20, "C", "model width", NULL),
    CLI_INT("heads", 0, &cfg.n_head, 1, 1024, "H", "attention heads (C must be a multiple)", NULL),
    CLI_OPT_("context", 0, CLI_T_INT, &cfg.n_ctx, 2, 1 << 20, NULL, "T", "context in tokens (default: longest row + 2,\n"
             "at most 512); longer rows train on random windows of T tokens", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_INT64("steps", 0, &o.steps, 0, INT64_MAX, "N", "AdamW steps", "training"),
    CLI_INT("batch", 0, &o.batch, 1, INT32_MAX, "B", "sequences per step, drawn by weight", NULL),
    CLI_DOUBLE_POS("lr", 0, &o.lr, HUGE_VAL, "X", "peak learning rate", NULL),
    CLI_OPT_("warmup", 0, CLI_T_INT64, &o.warmup, 0, INT64_MAX, NULL, "N",
             "linear warm-up steps (default steps/20), then cosine decay", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_DOUBLE("min-lr-frac", 0, &o.min_lr_frac, 0, 1, "X", "final learning rate / peak", NULL),
    CLI_DOUBLE("weight-decay", 0, &o.weight_decay, 0, HUGE_VAL, "X", "AdamW decoupled weight decay on matrices", NULL),
    CLI_DOUBLE("clip", 0, &o.clip, 0, HUGE_VAL, "X", "clip the gradient norm to X (0: off)", NULL),
    CLI_UINT64("seed", 0, &o.seed, 0, HUGE_VAL, "N", "initialisation, data order and split", NULL),
    CLI_OPT_("holdout", 0, CLI_T_DOUBLE, &holdout, 0, 1, NULL, "X", "fraction of rows held out, by cluster (0: none)",
             NULL, CLI_F_MAX_OPEN, NULL, NULL),
    CLI_OPT_("split-identity", 0, CLI_T_DOUBLE, &split_id, 0, 1, NULL, "X", "no held-out row more than X identical to a\n"
             "training row (seqloop split's cluster method)", NULL, CLI_F_MIN_OPEN, NULL, NULL),
    CLI_STRING("split-out", 0, &split_out, "PREFIX", "write the split: PREFIX.train.fa and PREFIX.heldout.fa (rows\n"
               "as read, gaps kept), e.g. to fit other models on the same split", NULL),
    CLI_INT64("eval-every", 0, &o.eval_every, 0, INT64_MAX, "N", "held-out evaluation every N steps", NULL),
    CLI_INT("log-every", 0, &log_every, 1, INT32_MAX, "N", "progress line every N steps", NULL),
    CLI_STRING("checkpoint", 0, &ckpt, "FILE", "checkpoint path (default MODEL.ckpt)", NULL),
    CLI_INT64("checkpoint-every", 0, &o.ckpt_every, 0, INT64_MAX, "N", "checkpoint every N steps (always at the end)", NULL),
    CLI_FLAG("resume", 0, &resume, "continue from the checkpoint (same data and options); the\n"
             "result is identical to an uninterrupted run (same threads)", NULL),
    CLI_OPT_("stop-after", 0, CLI_T_INT64, &stop_after, 1, INT64_MAX, NULL, "N",
             "stop after step N with a checkpoint, as a kill would (tests)", NULL, CLI_F_NODEFAULT, NULL, NULL),
    CLI_STRING("init", 0, &init, "MODEL", "start from a trained tfm model's weights (fine-tuning)", NULL),
    CLI_OPTS_INGEST(&c), CLI_OPTS_WEIGHTS(&c), CLI_OPTS_OUTPUT(&c), CLI_OPTS_GENERAL(&c), CLI_END};
  int rc = cli_common_parse(&c, &info, opts, &optind_);
  if (rc >= 0) return rc;
  if (strcmp(model, "tfm") != 0) return cli_usage_error(&info, "--model: expected tfm here, not '%s'", model);
  if (optind_ != argc - 1 || !c.out) return cli_usage_error(&info, "expected -o MODEL and one sequence file");
  for (const char *const *n = (const char *const[]){"layers", "width", "heads", "context", NULL}; *n; n++)
    shape_given |= cli_opt_find(opts, *n)->given > 0;
  cli_input(&c, "sequences", argv[optind_]);
  cli_input(&c, "init", init);
  if (resume && init) return cli_usage_error(&info, "--resume and --init exclude each other (a checkpoint holds its weights)");
  if ((resume || init) && shape_given)
    fprintf(stderr, "seqloop fit: note: --layers/--width/--heads/--context are taken from the %s model\n",
            resume ? "checkpoint" : "--init");
  char ckpt_buf[4096];
  if (!ckpt) {
    snprintf(ckpt_buf, sizeof ckpt_buf, "%s.ckpt", c.out);
    ckpt = ckpt_buf;
  }
  o.threads = c.w.threads;
#ifdef _OPENMP
  /* Let OpenMP shrink a team when the machine is busy (libgomp consults the
   * load average): a team of 2 spinning threads on 2 cores shared with other
   * jobs ran 2-7x slower than 1 thread (docs/performance.md). Safe for
   * reproducibility: the transformer's results do not depend on the team
   * size (test_tfm.c). OMP_DYNAMIC in the environment still decides. */
  if (!getenv("OMP_DYNAMIC")) omp_set_dynamic(1);
#endif
  sl_error err;
  sl_error_clear(&err);
  rows r;
  char sha[SL_SHA256_HEX];
  sl_model *m = NULL, *im = NULL;
  sl_tfm_state *st = NULL;
  char *train_json = NULL, *saved_json = NULL;
  int **trs = NULL, **hos = NULL;
  int *trl = NULL, *hol = NULL;
  double *trw = NULL;
  int status = load_rows(&c, argv[optind], &r, sha, &err);
  if (status) goto DONE;
  /* split */
  int8_t *held = malloc((size_t)r.n + 1);
  trs = malloc((size_t)r.n * sizeof *trs); hos = malloc((size_t)r.n * sizeof *hos);
  trl = malloc((size_t)r.n * sizeof *trl); hol = malloc((size_t)r.n * sizeof *hol);
  trw = malloc((size_t)r.n * sizeof *trw);
  if (!held || !trs || !hos || !trl || !hol || !trw) {
    free(held);
    status = sl_fail(&err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if ((status = split_rows(&r, split_id, holdout, o.seed, c.w.kernel, held, &err))) { free(held); goto DONE; }
  int64_t ntr = 0, nho = 0, maxlen = 0;
  for (int64_t i = 0; i < r.n; i++) {
    maxlen = r.len[i] > maxlen ? r.len[i] : maxlen;
    if (held[i] == SL_SET_TEST) { hos[nho] = r.seq[i]; hol[nho++] = r.len[i]; }
    else if (held[i] == SL_SET_TRAIN) { trs[ntr] = r.seq[i]; trl[ntr] = r.len[i]; trw[ntr++] = r.w[i]; }
  }
  if (split_out) status = write_split(split_out, &r, held, &err);
  int64_t ndrop = 0;
  for (int64_t i = 0; i < r.n; i++) ndrop += held[i] == SL_SET_DROPPED;
  free(held);
  if (status) goto DONE;
  if (ntr == 0) { status = sl_fail(&err, SL_EUSAGE, "the held-out split left no training rows (lower --holdout)"); goto DONE; }
  if (cfg.n_ctx == 0) cfg.n_ctx = (int)(maxlen + 2 < 512 ? maxlen + 2 : 512);
  if (!c.quiet)
    fprintf(stderr, "seqloop fit: tfm: %lld rows (%lld skipped for non-standard residues), %s at identity "
            "%.2f: %lld training rows, %lld held out, %lld dropped\n", (long long)r.n, (long long)r.n_skipped,
            r.x ? "aligned: weighted, homology-aware cluster split (seqloop split)"
                : "unaligned: uniform weights, rows held out at random",
            split_id, (long long)ntr, (long long)nho, (long long)ndrop);
  /* model */
  if (resume) {
    if ((status = sl_model_read_checkpoint(ckpt, &m, &st, &saved_json, &err))) goto DONE;
    if (!m->tfm) { status = sl_fail(&err, SL_EINPUT, "%s: not a tfm checkpoint", ckpt); goto DONE; }
    cfg = m->tfm->cfg;
  } else if (init) {
    if ((status = sl_model_read(init, &im, &err))) goto DONE;
    if (!im->tfm) {
      status = sl_fail(&err, SL_EINPUT, "%s: --init needs a tfm model, not a %s model", init, sl_model_name(im));
      goto DONE;
    }
    cfg = im->tfm->cfg;
  }
  if (!(train_json = train_options_json(&c, &r, sha, &cfg, &o, holdout, split_id, init))) {
    status = sl_fail(&err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if (resume) {
    if ((status = check_resume(ckpt, train_json, saved_json, &err))) goto DONE;
    if (!c.quiet) fprintf(stderr, "seqloop fit: resuming %s at step %lld of %lld\n", ckpt, (long long)st->step, (long long)o.steps);
  } else {
    int64_t L = (int64_t)strlen(r.first);
    m = sl_model_create("tfm", L > 0 ? L : 1, sl_alphabet_get(SL_ABC_PROTEIN), 1);
    if (!m) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = sl_tfm_create(&cfg, &m->tfm, &err))) goto DONE;
    if (im) {
      if ((status = sl_tfm_copy_params(m->tfm, im->tfm, &err))) goto DONE;
    } else {
      sl_tfm_init_random(m->tfm, o.seed);
    }
    for (int64_t i = 0; i < L; i++) { m->focus[i] = m->abc->code[(unsigned char)r.first[i]]; m->pos[i] = r.first_pos[i]; }
    if (!(m->focus_name = sl_strdup(r.first_name))) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
    if ((status = sl_tfm_state_create(m->tfm, o.seed, &st, &err))) goto DONE;
  }
  m->n_train = ntr;
  {
    double ne = 0;
    for (int64_t i = 0; i < ntr; i++) ne += trw[i];
    m->neff = ne;
  }
  if (!c.quiet)
    fprintf(stderr, "seqloop fit: tfm: %d layers, width %d, %d heads, context %d: %zu parameters; %lld steps "
            "of %d sequences, lr %g, %d threads\n", cfg.n_layer, cfg.d_model, cfg.n_head, cfg.n_ctx,
            m->tfm->n_params, (long long)o.steps, o.batch, o.lr, o.threads);
  sl_tfm_data dtr = {ntr, (const int *const *)trs, trl, trw};
  sl_tfm_data dho = {nho, (const int *const *)hos, hol, NULL};
  fit_ctx pc = {c.quiet, log_every, o.steps, stop_after, 0, 0, 0, 0, -1, 0, 0, ckpt, m, train_json};
  o.progress = progress;
  o.progress_ctx = &pc;
  o.checkpoint = checkpoint;
  o.checkpoint_ctx = &pc;
  double ev = -1;
  if ((status = sl_tfm_train(st, &dtr, nho > 0 ? &dho : NULL, &o, &ev, &err))) goto DONE;
  if (!c.quiet && pc.sec_all > 0)
    fprintf(stderr, "seqloop fit: training throughput %.0f tokens/s (%lld tokens in %.2f s, steps after the "
            "first 5; evaluation and checkpoints excluded)\n", (double)pc.tok_all / pc.sec_all,
            (long long)pc.tok_all, pc.sec_all);
  if (st->step < o.steps) { /* --stop-after: the checkpoint is the only output */
    if (!c.quiet) fprintf(stderr, "seqloop fit: stopped after step %lld; checkpoint %s\n", (long long)st->step, ckpt);
    goto DONE;
  }
  free(m->meta);
  m->meta = model_meta(train_json, argc, argv, sha, st->step, ntr, nho, ev);
  if ((status = sl_model_write(c.out, m, &err)) || (status = cli_prov_write(&c, c.out, NULL, &err))) goto DONE;
  if (!c.quiet && ev >= 0)
    fprintf(stderr, "seqloop fit: held-out NLL %.4f nats/token, perplexity %.3f (%lld rows)\n", ev, exp(ev), (long long)nho);
DONE:
  free(trs); free(hos); free(trl); free(hol); free(trw);
  free(train_json);
  free(saved_json);
  sl_tfm_state_destroy(st);
  sl_model_destroy(im);
  sl_model_destroy(m);
  rows_free(&r);
  return status ? cli_error(&c, status, &err) : 0;
}
