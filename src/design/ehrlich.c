/* ehrlich.c: Ehrlich functions (Stanton et al. 2024, "Closed-form test
 * functions for biophysical sequence design"), following holo-bench's
 * holo/test_functions/closed_form/_ehrlich.py and elemental/_discrete_markov_process.py,
 * elemental/_motif.py step by step:
 *
 *   1. T = softmax(randn(v, v) / 0.5) row-wise, masked by a banded 0/1 matrix
 *      (row i allows i-b..i+b modulo v, b = floor(0.4 v)) whose rows are
 *      shuffled by a random permutation, the diagonal always allowed, rows
 *      renormalised. holo-bench then checks P^m > 0 (m = (v-1)^2 + 1); with
 *      the diagonal allowed that is the same as strong connectivity, which is
 *      what we check (BFS forwards and backwards).
 *   2. Motifs: one DMP trajectory of length c*k from the stationary
 *      distribution (holo-bench solves a QR least-squares system; we iterate
 *      the chain to convergence), cut into c motifs of length k.
 *   3. Spacings: for each motif, w ~ U(0,1)^(k-1) normalised to sum 1,
 *      spacing = 1 + floor((slack / c) * w) with slack = L - c k (integer
 *      division), offsets = cumulative sums with a leading 0.
 *   4. f(x) = prod over motifs of max over positions l of
 *      floor(h / ceil(k/q)) / (k / ceil(k/q)), h = number of motif elements
 *      present at l + offset; f(x) = 0 (holo-bench: -inf) if x uses a banned
 *      transition. The initial state distribution is uniform, so the first
 *      symbol is always allowed.
 *
 * The random draws use seqloop's xoshiro256** generator (normals by
 * Box-Muller), so a seed names a different instance than the same torch seed
 * would; the construction and the invariants are the same. Cost of f: O(c L k).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "seqloop/design.h"

static double randn(sl_rng *r) {
  double u1 = sl_rng_uniform(r), u2 = sl_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int categorical(sl_rng *r, const double *p, int n) {
  double u = sl_rng_uniform(r), acc = 0.0;
  int last = 0;
  for (int a = 0; a < n; a++) {
    if (p[a] <= 0) continue;
    acc += p[a];
    last = a;
    if (u < acc) return a;
  }
  return last; /* rounding: the last allowed state */
}

/* Every state reaches every other (forwards and backwards from state 0):
 * 1 yes, 0 no, -1 out of memory (which must not read as "not ergodic", a
 * property of the seed: the fault sweep found that). */
static int strongly_connected(const double *T, int v) {
  int *seen = calloc((size_t)v, sizeof *seen), *stack = malloc((size_t)v * sizeof *stack);
  if (!seen || !stack) {
    free(seen);
    free(stack);
    return -1;
  }
  int ok = 1;
  for (int dir = 0; dir < 2 && ok; dir++) {
    memset(seen, 0, (size_t)v * sizeof *seen);
    int top = 0, nseen = 1;
    stack[top++] = 0;
    seen[0] = 1;
    while (top) {
      int a = stack[--top];
      for (int b = 0; b < v; b++) {
        double t = dir == 0 ? T[a * v + b] : T[b * v + a];
        if (t > 0 && !seen[b]) { seen[b] = 1; nseen++; stack[top++] = b; }
      }
    }
    ok = nseen == v;
  }
  free(seen);
  free(stack);
  return ok;
}

void sl_ehrlich_destroy(sl_ehrlich *e) {
  if (!e) return;
  free(e->T); free(e->stat); free(e->motif); free(e->spacing);
  free(e);
}

int sl_ehrlich_create(int v, int c, int k, int L, int q, uint64_t seed, sl_ehrlich **ret_e, sl_error *err) {
  *ret_e = NULL;
  if (v < 2 || v > 62) return sl_fail(err, SL_EUSAGE, "ehrlich: v = %d states: expected 2..62", v);
  if (c < 1 || k < 2) return sl_fail(err, SL_EUSAGE, "ehrlich: expected c >= 1 motifs of length k >= 2");
  if (q < 1 || q > k) return sl_fail(err, SL_EUSAGE, "ehrlich: quantisation q = %d: expected 1..k (%d)", q, k);
  if (L < c * k || L > 100000)
    return sl_fail(err, SL_EUSAGE, "ehrlich: length L = %d cannot hold c*k = %d motif elements", L, c * k);
  sl_ehrlich *e = calloc(1, sizeof *e);
  if (!e) return sl_fail(err, SL_ENOMEM, "out of memory");
  e->v = v; e->c = c; e->k = k; e->L = L; e->q = q; e->seed = seed;
  e->T = calloc((size_t)v * v, sizeof *e->T);
  e->stat = calloc((size_t)v, sizeof *e->stat);
  e->motif = calloc((size_t)c * k, sizeof *e->motif);
  e->spacing = calloc((size_t)c * k, sizeof *e->spacing);
  double *next = calloc((size_t)v, sizeof *next), *w = calloc((size_t)k, sizeof *w);
  int *perm = calloc((size_t)v, sizeof *perm);
  uint8_t *mask = calloc((size_t)v * v, 1);
  int status = SL_OK;
  if (!e->T || !e->stat || !e->motif || !e->spacing || !next || !w || !perm || !mask) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  sl_rng rng;
  sl_rng_seed(&rng, seed);
  /* 1. dense softmax(randn / 0.5) rows */
  for (int a = 0; a < v; a++) {
    double mx = -INFINITY;
    for (int b = 0; b < v; b++) { e->T[a * v + b] = randn(&rng) / 0.5; if (e->T[a * v + b] > mx) mx = e->T[a * v + b]; }
    double z = 0;
    for (int b = 0; b < v; b++) { e->T[a * v + b] = exp(e->T[a * v + b] - mx); z += e->T[a * v + b]; }
    for (int b = 0; b < v; b++) e->T[a * v + b] /= z;
  }
  /* banded mask with shuffled rows, diagonal allowed */
  int bw = (int)(v * 0.4);
  for (int a = 0; a < v; a++) perm[a] = a;
  for (int a = v - 1; a > 0; a--) {
    int j = (int)(sl_rng_u64(&rng) % (uint64_t)(a + 1));
    int t = perm[a]; perm[a] = perm[j]; perm[j] = t;
  }
  for (int a = 0; a < v; a++) {
    int src = perm[a];
    for (int d = -bw; d <= bw; d++) mask[a * v + (((src + d) % v) + v) % v] = 1;
    mask[a * v + a] = 1;
  }
  for (int a = 0; a < v; a++) {
    double z = 0;
    for (int b = 0; b < v; b++) { if (!mask[a * v + b]) e->T[a * v + b] = 0; z += e->T[a * v + b]; }
    for (int b = 0; b < v; b++) e->T[a * v + b] /= z;
  }
  int connected = strongly_connected(e->T, v);
  if (connected < 0) {
    status = sl_fail(err, SL_ENOMEM, "out of memory");
    goto DONE;
  }
  if (!connected) {
    status = sl_fail(err, SL_EINPUT, "ehrlich: seed %llu gives a transition matrix that is not "
                     "ergodic (holo-bench raises here too); try another seed", (unsigned long long)seed);
    goto DONE;
  }
  /* 2. stationary distribution by iterating the (aperiodic) chain */
  for (int a = 0; a < v; a++) e->stat[a] = 1.0 / v;
  for (int it = 0; it < 100000; it++) {
    double diff = 0;
    memset(next, 0, (size_t)v * sizeof *next);
    for (int a = 0; a < v; a++)
      for (int b = 0; b < v; b++) next[b] += e->stat[a] * e->T[a * v + b];
    for (int a = 0; a < v; a++) { diff += fabs(next[a] - e->stat[a]); e->stat[a] = next[a]; }
    if (diff < 1e-14) break;
  }
  /* motifs: one trajectory of length c*k */
  e->motif[0] = categorical(&rng, e->stat, v);
  for (int t = 1; t < c * k; t++) e->motif[t] = categorical(&rng, e->T + e->motif[t - 1] * v, v);
  /* 3. spacings */
  int slack = L - c * k;
  for (int m = 0; m < c; m++) {
    double z = 0;
    for (int j = 0; j < k - 1; j++) { w[j] = sl_rng_uniform(&rng); z += w[j]; }
    e->spacing[m * k] = 0;
    for (int j = 0; j < k - 1; j++) {
      int s = 1 + (int)floor((double)(slack / c) * (w[j] / z));
      e->spacing[m * k + j + 1] = e->spacing[m * k + j] + s;
    }
  }
  *ret_e = e;
  e = NULL;
DONE:
  sl_ehrlich_destroy(e);
  free(next); free(w); free(perm); free(mask);
  return status;
}

int sl_ehrlich_feasible(const sl_ehrlich *e, const uint8_t *x) {
  for (int t = 0; t < e->L; t++) if (x[t] >= e->v) return 0;
  for (int t = 1; t < e->L; t++)
    if (e->T[x[t - 1] * e->v + x[t]] <= 0) return 0;
  return 1;
}

double sl_ehrlich_eval(const sl_ehrlich *e, const uint8_t *x) {
  if (!sl_ehrlich_feasible(e, x)) return 0.0;
  int k = e->k;
  int f1 = (k + e->q - 1) / e->q;        /* ceil(k / q) */
  double f2 = (double)k / f1;
  double prod = 1.0;
  for (int m = 0; m < e->c; m++) {
    const int *off = e->spacing + m * k, *mot = e->motif + m * k;
    int best = 0;
    for (int l = 0; l + off[k - 1] < e->L; l++) {
      int h = 0;
      for (int j = 0; j < k; j++) h += x[l + off[j]] == mot[j];
      if (h > best) best = h;
    }
    prod *= floor((double)(best / f1)) / f2;
  }
  return prod;
}

void sl_ehrlich_optimum(const sl_ehrlich *e, uint8_t *x) {
  int pos = 0, state = 0;
  for (int m = 0; m < e->c; m++) {
    const int *off = e->spacing + m * e->k;
    int j = 0;
    for (int idx = 0; idx <= off[e->k - 1]; idx++) {
      if (j < e->k && idx == off[j]) state = e->motif[m * e->k + j++];
      x[pos++] = (uint8_t)state;
    }
  }
  for (; pos < e->L; pos++) x[pos] = (uint8_t)state;
}

void sl_ehrlich_initial(const sl_ehrlich *e, uint8_t *x) {
  sl_rng rng;
  sl_rng_seed(&rng, e->seed + 1);
  x[0] = (uint8_t)categorical(&rng, e->stat, e->v);
  for (int t = 1; t < e->L; t++) x[t] = (uint8_t)categorical(&rng, e->T + x[t - 1] * e->v, e->v);
}

char *sl_ehrlich_json(const sl_ehrlich *e) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "function", "ehrlich");
  cJSON_AddStringToObject(o, "construction", "holo-bench Ehrlich algorithm, seqloop xoshiro256** draws");
  cJSON_AddNumberToObject(o, "v", e->v);
  cJSON_AddNumberToObject(o, "c", e->c);
  cJSON_AddNumberToObject(o, "k", e->k);
  cJSON_AddNumberToObject(o, "L", e->L);
  cJSON_AddNumberToObject(o, "q", e->q);
  cJSON_AddNumberToObject(o, "seed", (double)e->seed);
  cJSON *motifs = cJSON_AddArrayToObject(o, "motifs"), *spac = cJSON_AddArrayToObject(o, "offsets");
  for (int m = 0; m < e->c; m++) {
    cJSON_AddItemToArray(motifs, cJSON_CreateIntArray(e->motif + m * e->k, e->k));
    cJSON_AddItemToArray(spac, cJSON_CreateIntArray(e->spacing + m * e->k, e->k));
  }
  cJSON *T = cJSON_AddArrayToObject(o, "transition_matrix");
  for (int a = 0; a < e->v; a++) cJSON_AddItemToArray(T, cJSON_CreateDoubleArray(e->T + a * e->v, e->v));
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}
