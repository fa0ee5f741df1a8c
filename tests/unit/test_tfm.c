/* test_tfm.c: the transformer against PyTorch (golden files written by
 * tools/tfm_ref.py in float64: logits, loss, per-sequence log-probabilities
 * and the gradient of every parameter tensor), against finite differences,
 * thread-count invariance, the tokenizer, and sampling (exact log-probability
 * of what is drawn, frequencies, greedy top-p, reproducibility). */
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "seqloop/model.h"
#include "seqloop/tfm.h"
#include "tap.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

typedef struct {
  int32_t cfg[6]; /* n_layer, d_model, n_head, n_ctx, B, T */
  int32_t *inp, *tgt;
  float *params, *logits, *grads;
  double loss, *row_logp;
  size_t P;
} golden;

static void golden_free(golden *g) {
  free(g->inp); free(g->tgt); free(g->params); free(g->logits); free(g->grads); free(g->row_logp);
}

static int rd(FILE *fp, void *p, size_t n) { return fread(p, 1, n, fp) == n ? 0 : -1; }

static int golden_read(const char *path, size_t P, golden *g) {
  memset(g, 0, sizeof *g);
  FILE *fp = fopen(path, "rb");
  char magic[8];
  if (!fp) return -1;
  int bad = rd(fp, magic, 8) || memcmp(magic, "TFMGOLD1", 8) || rd(fp, g->cfg, sizeof g->cfg);
  if (bad) { fclose(fp); return -1; }
  size_t BT = (size_t)g->cfg[4] * (size_t)g->cfg[5];
  g->P = P;
  g->inp = malloc(BT * 4); g->tgt = malloc(BT * 4); g->params = malloc(P * 4);
  g->row_logp = malloc((size_t)g->cfg[4] * 8); g->logits = malloc(BT * SL_TFM_VOCAB * 4);
  g->grads = malloc(P * 4);
  bad = !g->inp || !g->tgt || !g->params || !g->row_logp || !g->logits || !g->grads ||
        rd(fp, g->inp, BT * 4) || rd(fp, g->tgt, BT * 4) || rd(fp, g->params, P * 4) ||
        rd(fp, &g->loss, 8) || rd(fp, g->row_logp, (size_t)g->cfg[4] * 8) ||
        rd(fp, g->logits, BT * SL_TFM_VOCAB * 4) || rd(fp, g->grads, P * 4) || fgetc(fp) != EOF;
  fclose(fp);
  return bad ? -1 : 0;
}

/* max |a - b| / max |b| over n values */
static double relmax(const float *a, const float *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    num = d > num ? d : num;
    den = fabs(b[i]) > den ? fabs(b[i]) : den;
  }
  return den > 0 ? num / den : num;
}

static void check_golden(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
  FILE *probe = fopen(path, "rb");
  int32_t hdr[6];
  char magic[8];
  int ok = probe && fread(magic, 1, 8, probe) == 8 && fread(hdr, 4, 6, probe) == 6;
  if (probe) fclose(probe);
  CHECK(ok, "%s: golden file readable", name);
  if (!ok) return;
  sl_tfm_config c = {hdr[0], hdr[1], hdr[2], hdr[3], SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  CHECK(sl_tfm_create(&c, &t, &err) == SL_OK, "%s: create (%d layers, width %d, %d heads, context %d)",
        name, c.n_layer, c.d_model, c.n_head, c.n_ctx);
  if (!t) return;
  golden g;
  CHECK(golden_read(path, t->n_params, &g) == 0, "%s: golden file has %zu parameters and ends exactly", name, t->n_params);
  memcpy(t->mem, g.params, t->n_params * 4);
  const int B = g.cfg[4], T = g.cfg[5];
  double loss = 0;
  int64_t ntok = 0;
  CHECK(sl_tfm_forward(t, g.inp, g.tgt, B, T, &loss, &ntok, &err) == SL_OK, "%s: forward", name);
  CHECK(fabs(loss - g.loss) <= 1e-5 * fabs(g.loss), "%s: loss %.8f vs PyTorch %.8f (rel 1e-5)", name, loss, g.loss);
  double el = relmax(sl_tfm_logits(t), g.logits, (size_t)B * T * SL_TFM_VOCAB);
  CHECK(el <= 1e-5, "%s: logits max error / max |logit| = %.2e (<= 1e-5)", name, el);
  float *grad = malloc(t->n_params * 4);
  CHECK(sl_tfm_backward(t, grad, &err) == SL_OK, "%s: backward", name);
  size_t off = 0;
  double worst = 0;
  for (int k = 0; k < SL_TFM_NTENSORS; k++) {
    double e = relmax(grad + off, g.grads + off, t->sizes[k]);
    CHECK(e <= 1e-5, "%s: d loss / d %s: max error / max |g| = %.2e (<= 1e-5)", name, sl_tfm_tensor_names[k], e);
    worst = e > worst ? e : worst;
    off += t->sizes[k];
  }
  printf("# %s: worst gradient error %.2e\n", name, worst);
  /* exact per-sequence log-probabilities through the public call */
  for (int b = 0; b < B; b++) {
    int n = 0;
    int seq[64];
    while (n < T && g.tgt[b * T + n] >= 0 && g.tgt[b * T + n] != SL_TFM_EOS) { seq[n] = g.tgt[b * T + n]; n++; }
    double lp = 0;
    int st = sl_tfm_logp(t, seq, n, &lp, &err);
    CHECK(st == SL_OK && fabs(lp - g.row_logp[b]) <= 1e-5 * fabs(g.row_logp[b]),
          "%s: log P(row %d, %d residues) = %.7f vs PyTorch %.7f", name, b, n, lp, g.row_logp[b]);
  }
  /* two threads give the same numbers bit for bit */
  float *grad2 = malloc(t->n_params * 4);
  t->threads = 2;
  double loss2 = 0;
  int st = sl_tfm_forward(t, g.inp, g.tgt, B, T, &loss2, NULL, &err);
  st = st ? st : sl_tfm_backward(t, grad2, &err);
  CHECK(st == SL_OK && loss2 == loss && memcmp(grad, grad2, t->n_params * 4) == 0,
        "%s: two threads reproduce one thread bit for bit", name);
  free(grad);
  free(grad2);
  golden_free(&g);
  sl_tfm_destroy(t);
}

/* Central differences on a micro model with random weights of a useful scale. */
static void check_finite_differences(void) {
  sl_tfm_config c = {2, 8, 2, 6, SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  if (sl_tfm_create(&c, &t, &err)) { CHECK(0, "fd: create"); return; }
  sl_rng r;
  sl_rng_seed(&r, 3);
  for (size_t i = 0; i < t->n_params; i++) t->mem[i] = (float)(0.5 * (sl_rng_uniform(&r) - 0.5));
  for (int l = 0; l < c.n_layer * c.d_model; l++) { t->p.ln1w[l] += 1.0f; t->p.ln2w[l] += 1.0f; }
  for (int i = 0; i < c.d_model; i++) t->p.lnfw[i] += 1.0f;
  int inp[2 * 5] = {SL_TFM_BOS, 3, 7, 1, 19, SL_TFM_BOS, 0, 0, SL_TFM_PAD, SL_TFM_PAD};
  int tgt[2 * 5] = {3, 7, 1, 19, SL_TFM_EOS, 0, 0, SL_TFM_EOS, -1, -1};
  float *g = malloc(t->n_params * 4);
  double f0 = 0;
  int st = sl_tfm_forward(t, inp, tgt, 2, 5, &f0, NULL, &err);
  st = st ? st : sl_tfm_backward(t, g, &err);
  CHECK(st == SL_OK, "fd: forward and backward");
  int bad = 0, tested = 0;
  double worst = 0;
  for (size_t i = 0; i < t->n_params; i += 7) { /* every 7th parameter: all tensors are hit */
    float keep = t->mem[i];
    const float h = 1e-2f;
    double fp = 0, fm = 0;
    t->mem[i] = keep + h;
    st |= sl_tfm_forward(t, inp, tgt, 2, 5, &fp, NULL, &err);
    t->mem[i] = keep - h;
    st |= sl_tfm_forward(t, inp, tgt, 2, 5, &fm, NULL, &err);
    t->mem[i] = keep;
    double num = (fp - fm) / (2.0 * h), e = fabs(num - g[i]) / (1e-3 + fabs(num));
    worst = e > worst ? e : worst;
    bad += e > 2e-2;
    tested++;
  }
  CHECK(st == SL_OK && bad == 0, "fd: %d parameters, central differences agree (worst relative error %.2e, tol 2e-2)",
        tested, worst);
  free(g);
  sl_tfm_destroy(t);
}

static void check_tokenizer(void) {
  int out[16], n = 0;
  sl_error err;
  CHECK(sl_tfm_tokenize("ac-D.y\n", out, &n, &err) == SL_OK && n == 4 && out[0] == 0 && out[1] == 1 &&
        out[2] == 2 && out[3] == 19, "tokenize: case and gaps ignored (A C D Y -> 0 1 2 19)");
  CHECK(sl_tfm_tokenize("ACXD", out, &n, &err) == SL_EINPUT && strstr(err.msg, "'X' at position 3"),
        "tokenize: a non-standard residue is refused with its position (%s)", err.msg);
}

static void check_sampling(void) {
  sl_tfm_config c = {1, 16, 2, 12, SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  if (sl_tfm_create(&c, &t, &err)) { CHECK(0, "sample: create"); return; }
  sl_tfm_init_random(t, 5);
  for (size_t i = 0; i < t->n_params; i++) t->mem[i] *= 20.0f; /* a peaked, non-uniform model */
  for (int i = 0; i < c.d_model; i++) { t->p.ln1w[i] = t->p.ln2w[i] = t->p.lnfw[i] = 1.0f; }
  sl_rng r;
  sl_rng_seed(&r, 9);
  int out[16], n = 0, prefix[2] = {4, 9};
  double lp = 0, lp2 = 0;
  int ok = 1, nfull = 0;
  for (int k = 0; k < 50 && ok; k++) {
    ok = sl_tfm_sample(t, &r, 1.0, 1.0, prefix, 2, out, &n, &lp, &err) == SL_OK && n >= 2 &&
         out[0] == 4 && out[1] == 9 && n <= c.n_ctx - 1;
    for (int i = 0; i < n && ok; i++) ok = out[i] >= 0 && out[i] < SL_TFM_NAA; /* never BOS or PAD */
    if (ok && n < c.n_ctx - 1) { /* ended with EOS: ret_logp is log P, to float rounding (the sampler's
                                    * forwards are shorter than logp's, and some BLAS kernels, OpenBLAS's
                                    * Haswell ones among them, round a row by the height of its sgemm:
                                    * 4e-8 relative seen on AMD Zen, 0 on Skylake-X) */
      ok = sl_tfm_logp(t, out, n, &lp2, &err) == SL_OK && fabs(lp - lp2) < 1e-6 * (1 + fabs(lp2));
    } else nfull++;
  }
  CHECK(ok, "sample: prefix kept, only residues drawn, returned log P equals sl_tfm_logp to 1e-6 (%d of 50 hit the context)", nfull);
  int bos[1] = {SL_TFM_BOS};
  CHECK(sl_tfm_logp(t, bos, 1, &lp, &err) == SL_EUSAGE, "logp: a non-residue token is refused");
  /* frequency of the empty sequence vs its probability */
  int emp = 0;
  const int ns = 4000;
  for (int k = 0; k < ns; k++) {
    if (sl_tfm_sample(t, &r, 1.0, 1.0, NULL, 0, out, &n, NULL, &err)) break;
    emp += n == 0;
  }
  double p0 = 0;
  CHECK(sl_tfm_logp(t, out, 0, &p0, &err) == SL_OK, "sample: log P(empty)");
  p0 = exp(p0);
  double se = sqrt(p0 * (1 - p0) / ns);
  CHECK(fabs((double)emp / ns - p0) <= 4 * se + 1e-3, "sample: empty-sequence frequency %.4f vs P = %.4f (4 SE = %.4f)",
        (double)emp / ns, p0, 4 * se);
  /* top-p tiny = greedy: every draw the same */
  int first[16], nf = 0, same = 1;
  for (int k = 0; k < 5; k++) {
    int st = sl_tfm_sample(t, &r, 1.0, 1e-9, NULL, 0, out, &n, NULL, &err);
    if (k == 0) { memcpy(first, out, sizeof out); nf = n; }
    same &= st == SL_OK && n == nf && memcmp(first, out, (size_t)n * sizeof *out) == 0;
  }
  CHECK(same, "sample: top-p -> 0 is greedy decoding (5 identical draws of %d residues)", nf);
  sl_rng a, b;
  sl_rng_seed(&a, 42);
  sl_rng_seed(&b, 42);
  int o1[16], o2[16], n1 = 0, n2 = 0;
  int s1 = sl_tfm_sample(t, &a, 0.7, 0.9, NULL, 0, o1, &n1, NULL, &err);
  int s2 = sl_tfm_sample(t, &b, 0.7, 0.9, NULL, 0, o2, &n2, NULL, &err);
  CHECK(!s1 && !s2 && n1 == n2 && memcmp(o1, o2, (size_t)n1 * sizeof *o1) == 0, "sample: same seed, same sequence");
  CHECK(sl_tfm_sample(t, &a, 0.0, 1.0, NULL, 0, o1, &n1, NULL, &err) == SL_EUSAGE, "sample: temperature 0 refused");
  int longseq[12] = {0};
  CHECK(sl_tfm_logp(t, longseq, 12, &lp, &err) == SL_EUSAGE && strstr(err.msg, "context"),
        "logp: a sequence longer than the context is refused (%s)", err.msg);
  /* Gibbs: one update of a single free site draws exactly from its
   * conditional, which enumeration gives: P(x_1 = a | x_0, x_2) ∝ P(x_0 a x_2) */
  int x0[3] = {4, 0, 9}, xs[3];
  uint8_t is_free[3] = {0, 1, 0};
  double cond[SL_TFM_NAA], zc = 0;
  for (int v = 0; v < SL_TFM_NAA; v++) {
    int y[3] = {4, v, 9};
    int st = sl_tfm_logp(t, y, 3, &cond[v], &err);
    cond[v] = st ? 0 : exp(cond[v]);
    zc += cond[v];
  }
  int cnt[SL_TFM_NAA] = {0}, clamped = 1;
  const int ng = 3000;
  for (int k = 0; k < ng; k++) {
    memcpy(xs, x0, sizeof xs);
    if (sl_tfm_gibbs(t, &r, 1.0, xs, 3, is_free, 1, NULL, &err)) break;
    cnt[xs[1]]++;
    clamped &= xs[0] == 4 && xs[2] == 9;
  }
  double worst = 0;
  int gbad = 0;
  for (int v = 0; v < SL_TFM_NAA; v++) {
    double p = cond[v] / zc, f = (double)cnt[v] / ng, sev = sqrt(p * (1 - p) / ng);
    worst = fabs(f - p) > worst ? fabs(f - p) : worst;
    gbad += fabs(f - p) > 4 * sev + 2e-3;
  }
  CHECK(clamped && gbad == 0, "gibbs: clamped sites held; one update draws the exact conditional "
        "(20 frequencies within 4 SE; worst |f - p| = %.4f)", worst);
  CHECK(sl_tfm_gibbs(t, &r, 0.0, xs, 3, is_free, 1, NULL, &err) == SL_EUSAGE, "gibbs: temperature 0 refused");
  sl_tfm_destroy(t);
}

/* Read a file, replace `from` by `to` (same length) in its JSON header,
 * re-seal the SHA-256 and write it to out: a well-formed file with a bad
 * header, which only the header checks can refuse. */
static int patch_file(const char *in, const char *out, const char *from, const char *to) {
  FILE *fp = fopen(in, "rb");
  if (!fp) return -1;
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  uint8_t *hit = memmem(buf, n, from, strlen(from));
  if (!hit || strlen(from) != strlen(to) || n < 48) return -1;
  memcpy(hit, to, strlen(to));
  struct sha256_ctx sha;
  sha256_init(&sha);
  sha256_update(&sha, n - 32, buf);
  sha256_digest(&sha, 32, buf + n - 32);
  fp = fopen(out, "wb");
  if (!fp) return -1;
  int bad = fwrite(buf, 1, n, fp) != n;
  return fclose(fp) || bad ? -1 : 0;
}

static void check_files(void) {
  char dir[] = "/tmp/seqloop-test-tfm.XXXXXX";
  if (!mkdtemp(dir)) { CHECK(0, "files: temporary directory"); return; }
  char path[256], ck[256], bad[256];
  snprintf(path, sizeof path, "%s/m.tfm", dir);
  snprintf(ck, sizeof ck, "%s/m.ckpt", dir);
  snprintf(bad, sizeof bad, "%s/bad.tfm", dir);
  sl_error err;
  sl_model *m = sl_model_create("tfm", 3, sl_alphabet_get(SL_ABC_PROTEIN), 1), *r = NULL;
  sl_tfm_config c = {1, 8, 2, 12, SL_TFM_VOCAB};
  int st = m ? sl_tfm_create(&c, &m->tfm, &err) : SL_ENOMEM;
  CHECK(st == SL_OK, "files: a tfm model in the container");
  if (st) { sl_model_destroy(m); return; }
  sl_tfm_init_random(m->tfm, 17);
  m->focus[0] = 11; m->focus[1] = 9; m->focus[2] = 18; /* M K V */
  st = sl_model_write(path, m, &err);
  st = st ? st : sl_model_read(path, &r, &err);
  CHECK(st == SL_OK && r->ops == sl_model_kind("tfm") && r->tfm && !memcmp(&r->tfm->cfg, &c, sizeof c) &&
        !memcmp(r->tfm->mem, m->tfm->mem, m->tfm->n_params * 4),
        "files: a tfm model round-trips bit for bit (%s)", st ? err.msg : "ok");
  double e1 = sl_model_energy(m, m->focus), e2 = r ? sl_model_energy(r, r->focus) : 0;
  CHECK(r && e1 == e2 && e1 < 0, "files: the read model scores its reference the same (%.6f)", e1);
  sl_tfm_state *ts = NULL, *ts2 = NULL;
  char *tj = NULL;
  sl_model_destroy(r);
  r = NULL;
  CHECK(sl_model_read_checkpoint(path, &r, &ts2, &tj, &err) == SL_EINPUT && strstr(err.msg, "not a tfm training checkpoint"),
        "files: a plain model is not a checkpoint (%s)", err.msg);
  sl_model_destroy(r);
  r = NULL;
  st = sl_tfm_state_create(m->tfm, 99, &ts, &err);
  if (!st) {
    ts->step = 7;
    ts->last_eval = 1.25;
    for (size_t i = 0; i < m->tfm->n_params; i++) { ts->m[i] = (float)i * 1e-3f; ts->v[i] = (float)i * 1e-6f; }
    sl_rng_u64(&ts->rng);
    st = sl_model_write_checkpoint(ck, m, ts, "{\"seed\":5}", &err);
  }
  st = st ? st : sl_model_read_checkpoint(ck, &r, &ts2, &tj, &err);
  CHECK(st == SL_OK && ts2->step == 7 && ts2->last_eval == 1.25 && !memcmp(&ts2->rng, &ts->rng, sizeof ts->rng) &&
        !memcmp(ts2->m, ts->m, m->tfm->n_params * 4) && !memcmp(ts2->v, ts->v, m->tfm->n_params * 4) &&
        ts2->model == r->tfm && tj && !strcmp(tj, "{\"seed\":5}"),
        "files: a checkpoint restores step, generator, moments and options (%s)", st ? err.msg : "ok");
  sl_tfm_state_destroy(ts2);
  free(tj);
  sl_model_destroy(r);
  r = NULL;
  /* headers that pass the checksum but not the checks */
  static const char *const cases[][3] = {
    {"\"n_head\":2", "\"n_head\":3", "multiple of heads"},
    {"\"n_layer\":1", "\"n_layer\":0", "needs a 'tfm' object"},
    {"\"n_ctx\":12", "\"n_ctx\":13", "tensor 'wpe' has"},
    {"\"vocab\":23", "\"vocab\":24", "vocabulary"},
    {"\"alphabet\":\"protein\"", "\"alphabet\":\"dna\"    ", "q = 20 does not fit"},
    {"\"name\":\"fcw\"", "\"name\":\"fcx\"", "tensor 'fcw' missing"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int pst = patch_file(path, bad, cases[k][0], cases[k][1]);
    st = pst ? -1 : sl_model_read(bad, &r, &err);
    CHECK(st == SL_EINPUT && !r && strstr(err.msg, cases[k][2]), "files: %s -> refused (%s)", cases[k][1],
          pst ? "patch failed" : err.msg);
    sl_model_destroy(r);
    r = NULL;
  }
  sl_tfm_state_destroy(ts);
  sl_model_destroy(m);
  unlink(path); unlink(ck); unlink(bad);
  rmdir(dir);
}

/* A sequence's log P is the same bits whatever batch it is scored in (with
 * sequences of other lengths, alone, in another order, on 1 or 2 threads):
 * `score --shard` and any process count give the unsharded file. Lengths up
 * to 150 tokens span three 64-row pieces of the matmuls; width 64 takes
 * OpenBLAS's blocked kernels, whose rounding of a row depended on the height
 * of the sgemm it sat in before the pieces were aligned to sequences. */
static void check_batch_independence(void) {
  sl_tfm_config c = {2, 64, 4, 160, SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  if (sl_tfm_create(&c, &t, &err)) { CHECK(0, "batch: create"); return; }
  sl_tfm_init_random(t, 31);
  enum { B = 40 };
  static int buf[B * 150];
  const int *seqs[B], *rev[B];
  int lens[B], rlens[B];
  double all[B], alone[B], back[B], two[B];
  sl_rng r;
  sl_rng_seed(&r, 8);
  for (int b = 0; b < B; b++) {
    lens[b] = b % 3 == 0 ? 110 : 20 + (int)(sl_rng_uniform(&r) * 130); /* some lengths repeat */
    for (int k = 0; k < lens[b]; k++) buf[b * 150 + k] = (int)(sl_rng_uniform(&r) * 20);
    seqs[b] = buf + b * 150;
    rev[B - 1 - b] = seqs[b];
    rlens[B - 1 - b] = lens[b];
  }
  int st = sl_tfm_logp_batch(t, seqs, lens, B, all, &err);
  for (int b = 0; b < B && !st; b++) st = sl_tfm_logp(t, seqs[b], lens[b], &alone[b], &err);
  st = st ? st : sl_tfm_logp_batch(t, rev, rlens, B, back, &err);
  t->threads = 2;
  st = st ? st : sl_tfm_logp_batch(t, seqs, lens, B, two, &err);
  int same = st == SL_OK;
  for (int b = 0; b < B && same; b++)
    same = all[b] == alone[b] && all[b] == back[B - 1 - b] && all[b] == two[b] && isfinite(all[b]);
  CHECK(same, "logp: 40 sequences of 20-149 residues in one batch, each alone, in reverse order and on 2 threads: "
        "the same bits");
  sl_tfm_destroy(t);
}

/* A model big enough that every threaded loop really splits (the golden
 * models are below the thresholds): 1 and 2 threads must agree bit for bit. */
static void check_threads(void) {
  sl_tfm_config c = {2, 64, 4, 32, SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  if (sl_tfm_create(&c, &t, &err)) { CHECK(0, "threads: create"); return; }
  sl_tfm_init_random(t, 23);
  enum { B = 16, T = 32 };
  static int inp[B * T], tgt[B * T];
  sl_rng r;
  sl_rng_seed(&r, 4);
  for (int k = 0; k < B * T; k++) {
    inp[k] = k % T == 0 ? SL_TFM_BOS : (int)(sl_rng_uniform(&r) * 20);
    tgt[k] = (k % T) > 28 - (k / T) ? -1 : (int)(sl_rng_uniform(&r) * 20);
  }
  float *g1 = malloc(t->n_params * 4), *g2 = malloc(t->n_params * 4);
  double l1 = 0, l2 = 0;
  t->threads = 1;
  int st = sl_tfm_forward(t, inp, tgt, B, T, &l1, NULL, &err);
  st = st ? st : sl_tfm_backward(t, g1, &err);
  t->threads = 2;
  st = st ? st : sl_tfm_forward(t, inp, tgt, B, T, &l2, NULL, &err);
  st = st ? st : sl_tfm_backward(t, g2, &err);
  CHECK(st == SL_OK && l1 == l2 && !memcmp(g1, g2, t->n_params * 4),
        "threads: 16 x 32 tokens, width 64: loss and all %zu gradients identical on 1 and 2 threads", t->n_params);
  free(g1);
  free(g2);
  sl_tfm_destroy(t);
}

int main(void) {
  check_threads();
  check_batch_independence();
  check_golden("tfm_tiny.bin");
  check_golden("tfm_heads.bin");
  check_finite_differences();
  check_tokenizer();
  check_sampling();
  check_files();
  sl_tfm_config bad = {1, 10, 3, 8, SL_TFM_VOCAB};
  sl_tfm *t = NULL;
  sl_error err;
  CHECK(sl_tfm_create(&bad, &t, &err) == SL_EUSAGE && !t, "create: width not a multiple of heads refused");
  return TAP_DONE();
}
