/* test_model.c: the model interface (model.h, sample.h): the registry and
 * capabilities, status-returning log P and deltas, per-thread workspaces
 * (a transformer scored from several threads gives the serial numbers),
 * prepared layouts, ancestral sampling through the interface (the same
 * draws as sl_ar_sample_many at any thread count), likelihood Gibbs (the
 * same chain as sl_tfm_gibbs), and progress (silent unless enabled). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/ar.h"
#include "seqloop/sample.h"
#include "seqloop/tfm.h"
#include "tap.h"

#include "seqloop/progress.h"

static uint64_t st = 12345;
static float rnd(float scale) {
  st = st * 6364136223846793005ULL + 1442695040888963407ULL;
  return scale * ((float)((st >> 40) % 2001) / 1000.0f - 1.0f);
}

static void check_registry(void) {
  const char *names[] = {"profile", "potts", "ar", "tfm", "lor", "gemme", "stab"};
  unsigned want[] = {SL_CAP_NORMALISED | SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
                     SL_CAP_COUPLINGS | SL_CAP_CONDITIONALS | SL_CAP_ALIGNED,
                     SL_CAP_NORMALISED | SL_CAP_EXACT_SAMPLE | SL_CAP_ALIGNED,
                     SL_CAP_NORMALISED | SL_CAP_EXACT_SAMPLE,
                     SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
                     SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT,
                     SL_CAP_CONDITIONALS | SL_CAP_ALIGNED | SL_CAP_INDEPENDENT};
  int n = 0;
  while (sl_model_kind_at(n)) n++;
  CHECK(n == 7, "registry: seven kinds (%d)", n);
  for (int k = 0; k < 7; k++) {
    const sl_model_ops *o = sl_model_kind(names[k]);
    CHECK(o && !strcmp(o->name, names[k]) && o->caps == want[k] && o->energy,
          "registry: '%s' found by name, its capabilities %#x", names[k], o ? o->caps : 0);
    CHECK(!(o->caps & SL_CAP_NORMALISED) == !o->logp && !(o->caps & SL_CAP_EXACT_SAMPLE) == !o->sample &&
          !(o->caps & SL_CAP_CONDITIONALS) == !o->conditional,
          "registry: '%s' has exactly the operations its capabilities promise", names[k]);
  }
  CHECK(sl_model_kind("hmm") == NULL && sl_model_create("hmm", 3, sl_alphabet_get(SL_ABC_DNA), 0) == NULL,
        "registry: an unknown kind is refused");
}

static sl_model *random_model(const char *kind, int64_t L) {
  sl_model *m = sl_model_create(kind, L, sl_alphabet_get(SL_ABC_PROTEIN), 0);
  const int q = m->q;
  for (int64_t v = 0; v < L * q; v++) m->h[v] = rnd(1.5f);
  if (m->J)
    for (int64_t i = 0; i < L; i++)
      for (int64_t j = i + 1; j < L; j++)
        for (int a = 0; a < q; a++)
          for (int b = 0; b < q; b++) {
            float v = rnd(0.6f);
            sl_model_J(m, i, j)[a * q + b] = v;
            sl_model_J(m, j, i)[b * q + a] = v;
          }
  return m;
}

static void check_status_and_deltas(void) {
  sl_error err;
  const int64_t L = 9;
  sl_model *p = random_model("potts", L), *a = random_model("ar", L), *f = random_model("profile", L);
  uint8_t s[9], x[9];
  for (int i = 0; i < L; i++) s[i] = (uint8_t)(1 + (i * 7) % 20);
  double v = 0;
  int r = sl_model_logp(p, NULL, s, &v, &err);
  CHECK(r == SL_EUSAGE && strstr(err.msg, "potts"), "logp: a Potts model has none, said with a status (%s)", err.msg);
  r = sl_model_logp(a, NULL, s, &v, &err);
  CHECK(r == SL_EINTERNAL && strstr(err.msg, "prepare"), "logp: an ar model built by hand must be prepared (%s)", err.msg);
  CHECK(isnan(sl_ar_logp(a, s)), "sl_ar_logp: NAN before the layout is built (no lazy cache)");
  CHECK(sl_model_prepare(a, &err) == SL_OK && sl_model_logp(a, NULL, s, &v, &err) == SL_OK && v < 0 &&
        v == sl_ar_logp(a, s), "logp: after sl_model_prepare the ar log P is returned (%.6f)", v);
  /* Deltas: the same as two scores, for every kind. */
  int64_t cols[3] = {1, 4, 7};
  uint8_t mt[3] = {5, 18, 2};
  memcpy(x, s, sizeof x);
  for (int k = 0; k < 3; k++) x[cols[k]] = mt[k];
  sl_model *ms[3] = {p, a, f};
  for (int k = 0; k < 3; k++) {
    double d = 0, e1 = 0, e0 = 0;
    int ok = sl_model_delta_cols(ms[k], NULL, s, cols, mt, 3, &d, &err) == SL_OK &&
             sl_model_score(ms[k], NULL, x, &e1, &err) == SL_OK && sl_model_score(ms[k], NULL, s, &e0, &err) == SL_OK;
    CHECK(ok && fabs(d - (e1 - e0)) < 1e-9 * (1 + fabs(d)), "delta (%s): %.6f equals score(mutant) - score(wt) %.6f",
          sl_model_name(ms[k]), d, e1 - e0);
  }
  /* Profile: normalised log P differs from the unnormalised score by a constant. */
  double l1 = 0, l0 = 0, e1 = 0, e0 = 0;
  r = sl_model_logp(f, NULL, x, &l1, &err) | sl_model_logp(f, NULL, s, &l0, &err) |
      sl_model_score(f, NULL, x, &e1, &err) | sl_model_score(f, NULL, s, &e0, &err);
  CHECK(r == SL_OK && fabs((l1 - l0) - (e1 - e0)) < 1e-9, "profile: log P and score differ by the normaliser only");
  /* Entropy: exact for a profile (sum of the sites'), refused for a Potts model. */
  sl_entropy H;
  double S = 0;
  for (int64_t i = 0; i < L; i++) {
    double z = 0;
    for (int b = 0; b < f->q; b++) z += exp(f->h[i * f->q + b]);
    for (int b = 0; b < f->q; b++) {
      double pb = exp(f->h[i * f->q + b]) / z;
      S -= pb * log2(pb);
    }
  }
  CHECK(sl_model_entropy(f, 0, 1, 1, &H, &err) == SL_OK && fabs(H.bits - S) < 1e-9 && H.se == 0,
        "entropy (profile): exact, the sum of the sites' entropies (%.6f bits)", H.bits);
  CHECK(sl_model_entropy(p, 100, 1, 1, &H, &err) == SL_EUSAGE, "entropy (potts): refused with a status");
  /* Conditionals: softmax of the logits equals the ratio of exp(scores). */
  double lg[32], z = 0, e[32], mx = -INFINITY;
  CHECK(sl_model_conditional(p, s, 3, lg, &err) == SL_OK, "conditional: a Potts model has them");
  for (int b = 0; b < p->q; b++) {
    memcpy(x, s, sizeof x);
    x[3] = (uint8_t)b;
    e[b] = sl_model_energy(p, x);
    mx = e[b] > mx ? e[b] : mx;
  }
  double worst = 0, zl = 0, mxl = -INFINITY;
  for (int b = 0; b < p->q; b++) { z += exp(e[b] - mx); mxl = lg[b] > mxl ? lg[b] : mxl; }
  for (int b = 0; b < p->q; b++) zl += exp(lg[b] - mxl);
  for (int b = 0; b < p->q; b++) {
    double d = fabs(exp(e[b] - mx) / z - exp(lg[b] - mxl) / zl);
    worst = d > worst ? d : worst;
  }
  CHECK(worst < 1e-12, "conditional: P(s_i | rest) from the logits equals the energy ratios (worst %.2e)", worst);
  CHECK(sl_model_conditional(a, s, 3, lg, &err) == SL_EUSAGE, "conditional: an ar model has none (status)");
  /* Independent sites: the profile's conditional is its fields, whatever the rest. */
  double lg2[32];
  memcpy(x, s, sizeof x);
  x[0] = 9; x[8] = 3;
  int same = sl_model_conditional(f, s, 5, lg, &err) == SL_OK && sl_model_conditional(f, x, 5, lg2, &err) == SL_OK;
  for (int b = 0; b < f->q && same; b++) same = lg[b] == lg2[b] && lg[b] == (double)f->h[5 * f->q + b];
  CHECK(same && sl_model_has(f, SL_CAP_INDEPENDENT) && !sl_model_has(p, SL_CAP_INDEPENDENT),
        "conditional: a profile's (SL_CAP_INDEPENDENT) are its fields, whatever the other sites");
  sl_model_destroy(p);
  sl_model_destroy(a);
  sl_model_destroy(f);
}

static void check_ancestral(void) {
  sl_error err;
  const int64_t L = 11, n = 2500; /* three chunks of 1024 */
  sl_model *a = random_model("ar", L);
  int ok = sl_model_prepare(a, &err) == SL_OK;
  uint8_t *x1 = malloc((size_t)(n * L)), *x2 = malloc((size_t)(n * L));
  double *l1 = malloc((size_t)n * sizeof *l1), *l2 = malloc((size_t)n * sizeof *l2);
  int64_t *len = malloc((size_t)n * sizeof *len);
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  d.T = 0.9;
  ok = ok && sl_ar_sample_many(a, n, 77, 1, 0.9, NULL, x1, l1, &err) == SL_OK;
  ok = ok && sl_sample_ancestral(a, &d, n, 77, 3, NULL, x2, len, l2, &err) == SL_OK;
  CHECK(ok && !memcmp(x1, x2, (size_t)(n * L)) && !memcmp(l1, l2, (size_t)n * sizeof *l1) && len[n - 1] == L,
        "ancestral: through the interface with 3 threads, the draws of sl_ar_sample_many with 1");
  /* clamps: exact only for the first sites of the order */
  uint8_t fixed[11];
  memset(fixed, 0xFF, sizeof fixed);
  fixed[a->order[L - 1]] = 3;
  d.fixed = fixed;
  CHECK(sl_sample_ancestral(a, &d, 10, 1, 1, NULL, x2, NULL, NULL, &err) == SL_EUSAGE && strstr(err.msg, "order"),
        "ancestral: an ar clamp after a free site is refused (%s)", err.msg);
  memset(fixed, 0xFF, sizeof fixed);
  fixed[a->order[0]] = 3;
  ok = sl_sample_ancestral(a, &d, 50, 1, 2, NULL, x2, NULL, NULL, &err) == SL_OK;
  for (int64_t k = 0; k < 50 && ok; k++) ok = x2[k * L + a->order[0]] == 3;
  CHECK(ok, "ancestral: a clamp on the first site of the order holds in every draw");
  /* The generic Monte Carlo entropy (a kind with exact sampling and no
   * entropy of its own) against the exact one by enumeration (L = 3). */
  sl_model *t = random_model("ar", 3);
  ok = t && sl_model_prepare(t, &err) == SL_OK;
  double S = 0;
  uint8_t s3[3];
  for (int c = 0; c < 21 * 21 * 21 && ok; c++) {
    s3[0] = (uint8_t)(c % 21); s3[1] = (uint8_t)(c / 21 % 21); s3[2] = (uint8_t)(c / 441);
    double lp = 0;
    ok = sl_model_logp(t, NULL, s3, &lp, &err) == SL_OK;
    S -= exp(lp) * lp / log(2.0);
  }
  sl_model_ops generic = *t->ops;
  generic.entropy = NULL;
  t->ops = &generic;
  sl_entropy H;
  ok = ok && sl_model_entropy(t, 20000, 3, 1, &H, &err) == SL_OK;
  CHECK(ok && H.n == 20000 && H.se > 0 && fabs(H.bits - S) < 4 * H.se,
        "entropy (generic Monte Carlo): %.4f +- %.4f bits vs exact %.4f by enumeration", H.bits, H.se, S);
  t->ops = sl_model_kind("ar");
  sl_model_destroy(t);
  sl_model *p = random_model("potts", L);
  CHECK(sl_sample_ancestral(p, &d, 5, 1, 1, NULL, x2, NULL, NULL, &err) == SL_EUSAGE,
        "ancestral: a Potts model has no exact sampler (status, not a crash)");
  sl_model_destroy(p);
  sl_model_destroy(a);
  free(x1); free(x2); free(l1); free(l2); free(len);
}

static sl_model *tiny_tfm(int ctx) {
  sl_error err;
  sl_model *m = sl_model_create("tfm", 8, sl_alphabet_get(SL_ABC_PROTEIN), 1);
  sl_tfm_config c = {1, 16, 2, ctx, SL_TFM_VOCAB};
  if (!m || sl_tfm_create(&c, &m->tfm, &err)) { sl_model_destroy(m); return NULL; }
  sl_tfm_init_random(m->tfm, 3);
  for (size_t i = 0; i < m->tfm->n_params; i++) m->tfm->mem[i] *= 10.0f;
  for (int i = 0; i < 8; i++) m->focus[i] = (uint8_t)(1 + (i * 5) % 20);
  return m;
}

static void check_tfm(void) {
  sl_error err;
  sl_model *m = tiny_tfm(12);
  if (!m) { CHECK(0, "tfm: create"); return; }
  const int64_t L = m->L, B = 40;
  uint8_t *x = malloc((size_t)(B * L));
  for (int64_t k = 0; k < B * L; k++) x[k] = (uint8_t)((k * 7 + k / 5) % 21); /* some gaps */
  double ser[40], par[40];
  int ok = 1;
  for (int64_t b = 0; b < B && ok; b++) ok = sl_model_logp(m, NULL, x + b * L, &ser[b], &err) == SL_OK;
  int fails = 0;
#pragma omp parallel num_threads(4) reduction(+ : fails)
  {
    sl_model_ws *ws = NULL;
    sl_error e2;
    if (sl_model_ws_create(m, &ws, &e2)) fails++;
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < B; b++)
      if (ws && sl_model_logp(m, ws, x + b * L, &par[b], &e2)) fails++;
    sl_model_ws_destroy(ws);
  }
  CHECK(ok && !fails && !memcmp(ser, par, sizeof ser), "tfm: 4 threads with their own workspaces score as one thread");
  double many[40];
  CHECK(sl_model_logp_many(m, NULL, x, B, many, &err) == SL_OK, "tfm: log P of 40 sequences in batches");
  double worst = 0;
  for (int b = 0; b < B; b++) {
    double rel = fabs(many[b] - ser[b]) / (1 + fabs(ser[b])); /* float matmuls of other shapes */
    worst = rel > worst ? rel : worst;
  }
  CHECK(worst < 1e-6, "tfm: batched log P equals one by one (worst relative %.2e)", worst);
  /* does not fit: a distinct status with a message */
  sl_model *small = tiny_tfm(6);
  double v = 0;
  int r = small ? sl_model_logp(small, NULL, small->focus, &v, &err) : -1;
  CHECK(r == SL_EINPUT && strstr(err.msg, "context"), "tfm: a sequence longer than the context is SL_EINPUT (%s)", err.msg);
  int64_t col = 2;
  uint8_t mt = 4;
  r = small ? sl_model_delta_cols(small, NULL, small->focus, &col, &mt, 1, &v, &err) : -1;
  CHECK(r == SL_EINPUT, "tfm: a delta on a reference that does not fit is SL_EINPUT, not NAN");
  sl_model_destroy(small);
  /* likelihood Gibbs through the interface = sl_tfm_gibbs */
  uint8_t s[8], is_free[8];
  int tok[8], tfree[8], n = 0;
  for (int i = 0; i < 8; i++) {
    s[i] = m->focus[i];
    is_free[i] = i % 3 != 0;
    tok[n] = s[i] - 1;
    tfree[n++] = is_free[i];
  }
  uint8_t tf[8];
  for (int i = 0; i < 8; i++) tf[i] = (uint8_t)tfree[i];
  sl_rng r1, r2;
  sl_rng_seed(&r1, 5);
  sl_rng_seed(&r2, 5);
  double lp1 = 0, lp2 = 0;
  ok = sl_tfm_gibbs(m->tfm, &r1, 0.8, tok, n, tf, 4, &lp1, &err) == SL_OK &&
       sl_gibbs_likelihood(m, NULL, &r2, 0.8, s, is_free, 4, &lp2, &err) == SL_OK;
  for (int i = 0; i < 8 && ok; i++) ok = s[i] == tok[i] + 1;
  CHECK(ok && lp1 == lp2, "likelihood Gibbs: the chain and log P of sl_tfm_gibbs (%.6f)", lp2);
  /* ancestral through the interface = sl_tfm_sample, draw k from the seed's stream jumped k times */
  int64_t R = sl_model_row_len(m), lens[5];
  uint8_t *out = calloc((size_t)(5 * R), 1);
  double lps[5];
  sl_draw_opts d;
  sl_draw_opts_init(&d);
  ok = R == 11 && sl_sample_ancestral(m, &d, 5, 9, 2, NULL, out, lens, lps, &err) == SL_OK;
  sl_rng_seed(&r2, 9);
  for (int k = 0; k < 5 && ok; k++) {
    int o[16], len = 0;
    double l = 0;
    r1 = r2;
    sl_rng_jump(&r2);
    ok = sl_tfm_sample(m->tfm, &r1, 1.0, 1.0, NULL, 0, o, &len, &l, &err) == SL_OK && len == lens[k] && l == lps[k];
    for (int i = 0; i < len && ok; i++) ok = out[k * R + i] == o[i] + 1;
  }
  CHECK(ok, "ancestral (tfm): the samples of sl_tfm_sample, draw k from the seed's stream jumped k times");
  sl_entropy H;
  CHECK(sl_model_entropy(m, 30, 4, 1, &H, &err) == SL_OK && H.bits > 0 && H.n == 30,
        "entropy (tfm): a Monte Carlo estimate (%.3f bits)", H.bits);
  double b2 = 0, se2 = 0;
  int64_t tr = 0;
  CHECK(sl_tfm_entropy(m->tfm, 30, 4, &b2, &se2, &tr, &err) == SL_OK && b2 == H.bits && se2 == H.se && tr == H.truncated,
        "entropy (tfm): the same numbers as sl_tfm_entropy");
  free(out);
  free(x);
  sl_model_destroy(m);
}

static void check_progress(void) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  sl_progress *p = sl_progress_create(fp, "test", "sites");
  sl_progress_start(p, NULL, 10);
  for (int k = 1; k <= 10; k++) sl_progress_update(p, k);
  sl_progress_end(p);
  fflush(fp);
  CHECK(sl_progress_lines(p) >= 1 && strstr(buf, "test: 10/10 sites (100%)") && strstr(buf, "sites/s"),
        "progress: the final line shows count, percentage and rate");
  sl_progress_destroy(p);
  fclose(fp);
  free(buf);
  fp = open_memstream(&buf, &len);
  p = sl_progress_create(fp, "fit", "iterations");
  sl_progress_start(p, NULL, 0);
  sl_progress_note(p, "f 12.5");
  sl_progress_update(p, 3);
  fflush(fp);
  CHECK(strstr(buf, "fit: 3 iterations, ") && strstr(buf, ", f 12.5") && !strstr(buf, "ETA") && !strstr(buf, "%"),
        "progress: an unknown total shows the count, rate and note, no percentage or ETA");
  sl_progress_destroy(p);
  fclose(fp);
  free(buf);
  sl_progress_update(NULL, 5); /* NULL: silent no-ops */
  sl_progress_end(NULL);
  CHECK(sl_progress_lines(NULL) == 0, "progress: a NULL progress prints nothing");
}

int main(void) {
  check_registry();
  check_status_and_deltas();
  check_ancestral();
  check_tfm();
  check_progress();
  return TAP_DONE();
}
