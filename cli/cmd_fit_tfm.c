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

enum { T_MODEL = OPT_CMD_BASE, T_LAYERS, T_WIDTH, T_HEADS, T_CTX, T_STEPS, T_BATCH, T_LR, T_WARMUP,
       T_MINLR, T_WD, T_CLIP, T_SEED, T_EVAL, T_CKPT, T_CKPT_EVERY, T_RESUME, T_INIT, T_HOLDOUT,
       T_SPLITID, T_LOG, T_STOP, T_SPLITOUT };

static void help(void) {
  printf("usage: seqloop fit --model tfm -o MODEL [options] SEQUENCES\n\n"
         "Trains a causal transformer language model (docs/tfm.md) on the rows of a\n"
         "sequence or alignment file, gaps removed; rows with non-standard residues\n"
         "(X B Z U O J) are skipped. Aligned input: rows weighted (--theta) and the\n"
         "held-out split keeps whole identity clusters out of training.\n"
         "model (ignored with --init / --resume, which take the model's shape):\n"
         "  --layers N              depth (default 2)\n"
         "  --width C               model width (default 64)\n"
         "  --heads H               attention heads (default 4; C must be a multiple)\n"
         "  --context T             context in tokens (default: longest row + 2, at most 512);\n"
         "                          longer rows train on random windows of T tokens\n"
         "training:\n"
         "  --steps N               AdamW steps (default 1000)\n"
         "  --batch B               sequences per step, drawn by weight (default 16)\n"
         "  --lr X                  peak learning rate (default 1e-3)\n"
         "  --warmup N              linear warm-up steps (default steps/20), then cosine decay\n"
         "  --min-lr-frac X         final learning rate / peak (default 0.1)\n"
         "  --weight-decay X        AdamW decoupled weight decay on matrices (default 0.1)\n"
         "  --clip X                clip the gradient norm to X (default 1; 0: off)\n"
         "  --seed N                initialisation, data order and split (default 1)\n"
         "  --holdout X             fraction of rows held out, by cluster (default 0.1; 0: none)\n"
         "  --split-identity X      no held-out row more than X identical to a training row\n"
         "                          (seqloop split's cluster method; default 0.8)\n"
         "  --split-out PREFIX      write the split: PREFIX.train.fa and PREFIX.heldout.fa (rows as\n"
         "                          read, gaps kept), e.g. to fit other models on the same split\n"
         "  --eval-every N          held-out evaluation every N steps (default 100)\n"
         "  --log-every N           progress line every N steps (default 10)\n"
         "  --checkpoint FILE       checkpoint path (default MODEL.ckpt)\n"
         "  --checkpoint-every N    checkpoint every N steps (default 100; always at the end)\n"
         "  --resume                continue from the checkpoint (same data and options); the\n"
         "                          result is identical to an uninterrupted run (same threads)\n"
         "  --stop-after N          stop after step N with a checkpoint, as a kill would (tests)\n"
         "  --init MODEL            start from a trained tfm model's weights (fine-tuning)\n"
         "  --theta X, --convention C, -t N, -q   as for every command\n");
}

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
  static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"model", required_argument, 0, T_MODEL}, {"layers", required_argument, 0, T_LAYERS},
    {"width", required_argument, 0, T_WIDTH}, {"heads", required_argument, 0, T_HEADS},
    {"context", required_argument, 0, T_CTX}, {"steps", required_argument, 0, T_STEPS},
    {"batch", required_argument, 0, T_BATCH}, {"lr", required_argument, 0, T_LR},
    {"warmup", required_argument, 0, T_WARMUP}, {"min-lr-frac", required_argument, 0, T_MINLR},
    {"weight-decay", required_argument, 0, T_WD}, {"clip", required_argument, 0, T_CLIP},
    {"seed", required_argument, 0, T_SEED}, {"eval-every", required_argument, 0, T_EVAL},
    {"checkpoint", required_argument, 0, T_CKPT}, {"checkpoint-every", required_argument, 0, T_CKPT_EVERY},
    {"resume", no_argument, 0, T_RESUME}, {"init", required_argument, 0, T_INIT},
    {"holdout", required_argument, 0, T_HOLDOUT}, {"split-identity", required_argument, 0, T_SPLITID},
    {"log-every", required_argument, 0, T_LOG}, {"stop-after", required_argument, 0, T_STOP},
    {"split-out", required_argument, 0, T_SPLITOUT}, {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
    if (opt == 'h') { help(); return 0; }
    int r = cli_common_opt(&c, opt, optarg);
    if (r < 0) return 2;
    if (r > 0) continue;
    char *e = NULL;
    long long iv = 0;
    double dv = 0;
    if (optarg) { iv = strtoll(optarg, &e, 10); }
    int int_bad = optarg && (*e || e == optarg);
    if (optarg) { dv = strtod(optarg, &e); }
    int dbl_bad = optarg && (*e || e == optarg || !isfinite(dv));
    switch (opt) {
      case T_MODEL: if (strcmp(optarg, "tfm") != 0) goto BADVAL; break;
      case T_LAYERS: if (int_bad || iv < 1) goto BADVAL; cfg.n_layer = (int)iv; shape_given = 1; break;
      case T_WIDTH: if (int_bad || iv < 1) goto BADVAL; cfg.d_model = (int)iv; shape_given = 1; break;
      case T_HEADS: if (int_bad || iv < 1) goto BADVAL; cfg.n_head = (int)iv; shape_given = 1; break;
      case T_CTX: if (int_bad || iv < 2) goto BADVAL; cfg.n_ctx = (int)iv; shape_given = 1; break;
      case T_STEPS: if (int_bad || iv < 0) goto BADVAL; o.steps = iv; break;
      case T_BATCH: if (int_bad || iv < 1) goto BADVAL; o.batch = (int)iv; break;
      case T_LR: if (dbl_bad || !(dv > 0)) goto BADVAL; o.lr = dv; break;
      case T_WARMUP: if (int_bad || iv < 0) goto BADVAL; o.warmup = iv; break;
      case T_MINLR: if (dbl_bad || dv < 0 || dv > 1) goto BADVAL; o.min_lr_frac = dv; break;
      case T_WD: if (dbl_bad || dv < 0) goto BADVAL; o.weight_decay = dv; break;
      case T_CLIP: if (dbl_bad || dv < 0) goto BADVAL; o.clip = dv; break;
      case T_SEED: if (int_bad) goto BADVAL; o.seed = (uint64_t)iv; break;
      case T_EVAL: if (int_bad || iv < 0) goto BADVAL; o.eval_every = iv; break;
      case T_LOG: if (int_bad || iv < 1) goto BADVAL; log_every = (int)iv; break;
      case T_STOP: if (int_bad || iv < 1) goto BADVAL; stop_after = iv; break;
      case T_CKPT: ckpt = optarg; break;
      case T_SPLITOUT: split_out = optarg; break;
      case T_CKPT_EVERY: if (int_bad || iv < 0) goto BADVAL; o.ckpt_every = iv; break;
      case T_RESUME: resume = 1; break;
      case T_INIT: init = optarg; break;
      case T_HOLDOUT: if (dbl_bad || dv < 0 || dv >= 1) goto BADVAL; holdout = dv; break;
      case T_SPLITID: if (dbl_bad || dv <= 0 || dv > 1) goto BADVAL; split_id = dv; break;
      default: fprintf(stderr, "seqloop fit: see 'seqloop fit --model tfm -h'\n"); return 2;
    }
    continue;
  BADVAL:
    fprintf(stderr, "seqloop fit: bad value '%s' for option %s\n", optarg, argv[optind - 1]);
    return 2;
  }
  if (optind != argc - 1 || !c.out) {
    fprintf(stderr, "seqloop fit: expected -o MODEL and one sequence file, see 'seqloop fit --model tfm -h'\n");
    return 2;
  }
  if (resume && init) {
    fprintf(stderr, "seqloop fit: --resume and --init exclude each other (a checkpoint holds its weights)\n");
    return 2;
  }
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
  if (split_out) {
    char path[4096];
    for (int part = 0; part < 2 && !status; part++) {
      snprintf(path, sizeof path, "%s.%s.fa", split_out, part ? "heldout" : "train");
      sl_outfile *of = NULL;
      if ((status = sl_outfile_open(path, &of, &err))) break;
      FILE *fp = sl_outfile_fp(of);
      for (int64_t i = 0; i < r.n; i++)
        if (held[i] == (part ? SL_SET_TEST : SL_SET_TRAIN)) fprintf(fp, ">%s\n%s\n", r.name[i], r.raw[i]);
      status = sl_outfile_commit(of, &err);
    }
  }
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
  {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "input_sha256", sha);
    cJSON_AddNumberToObject(j, "n_layer", cfg.n_layer);
    cJSON_AddNumberToObject(j, "d_model", cfg.d_model);
    cJSON_AddNumberToObject(j, "n_head", cfg.n_head);
    cJSON_AddNumberToObject(j, "n_ctx", cfg.n_ctx);
    cJSON_AddNumberToObject(j, "steps", (double)o.steps);
    cJSON_AddNumberToObject(j, "batch", o.batch);
    cJSON_AddNumberToObject(j, "lr", o.lr);
    cJSON_AddNumberToObject(j, "warmup", (double)o.warmup);
    cJSON_AddNumberToObject(j, "min_lr_frac", o.min_lr_frac);
    cJSON_AddNumberToObject(j, "weight_decay", o.weight_decay);
    cJSON_AddNumberToObject(j, "clip", o.clip);
    cJSON_AddNumberToObject(j, "seed", (double)o.seed);
    cJSON_AddNumberToObject(j, "holdout", holdout);
    cJSON_AddNumberToObject(j, "split_identity", split_id);
    cJSON_AddNumberToObject(j, "theta", c.w.theta);
    cJSON_AddStringToObject(j, "weights", r.x ? sl_weights_convention_name(c.w.convention) : "uniform");
    cJSON_AddStringToObject(j, "init", init ? init : "");
    train_json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!train_json) { status = sl_fail(&err, SL_ENOMEM, "out of memory"); goto DONE; }
  }
  if (resume) {
    /* "init" is not known on resume; compare everything else */
    cJSON *a = cJSON_Parse(train_json), *b = saved_json ? cJSON_Parse(saved_json) : NULL;
    if (a && b) {
      cJSON_ReplaceItemInObject(a, "init", cJSON_CreateString(""));
      cJSON *bi = cJSON_GetObjectItem(b, "init");
      if (bi) cJSON_ReplaceItemInObject(b, "init", cJSON_CreateString(""));
    }
    int same = a && b && cJSON_Compare(a, b, 1);
    if (!same) {
      char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
      status = sl_fail(&err, SL_EUSAGE, "--resume: the checkpoint %s was made with other data or options:\n"
                       "  checkpoint: %s\n  now:        %s", ckpt, sb ? sb : "(none)", sa ? sa : "(none)");
      free(sa); free(sb);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    if (status) goto DONE;
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
  {
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
    cJSON_AddNumberToObject(res, "steps", (double)st->step);
    cJSON_AddNumberToObject(res, "train_rows", (double)ntr);
    cJSON_AddNumberToObject(res, "heldout_rows", (double)nho);
    if (ev >= 0) {
      cJSON_AddNumberToObject(res, "heldout_nll_per_token", ev);
      cJSON_AddNumberToObject(res, "heldout_perplexity", exp(ev));
    }
    free(m->meta);
    m->meta = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
  }
  if ((status = sl_model_write(c.out, m, &err))) goto DONE;
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
