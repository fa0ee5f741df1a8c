/* fuzz_structure.c: the structure readers, the aligner and contact precision.
 *
 * The input is written to a mkstemp() file and read three times through
 * sl_structure_read() (the file path, so the gzip/plain reader is in play):
 * as SL_STRUCT_AUTO with the first chain, as SL_STRUCT_PDB with chain "A",
 * as SL_STRUCT_MMCIF with chain "A". A failure must return a known status,
 * a non-empty message and no structure. A structure must be consistent:
 *   - n > 0, seq has n letters (A-Z) and matches res[k].aa;
 *   - each residue has exactly one of REP_CB, REP_CA, NO_COORD, with finite
 *     coordinates unless NO_COORD; NO_CB only with REP_CA; the counters agree.
 * Then (n <= 2000) the sequence is aligned to itself (a monotone map into
 * [-1, n); without X, every position to itself with identity 1: BLOSUM62's
 * diagonal is the strict maximum of each row for the 20 letters) and the contact
 * precision of pairs scored from the input bytes must lie in [0, 1] with
 * n_true <= n_eval <= k.
 *
 *   make fuzz                            (every target, FUZZ_SECONDS each)
 *   build-fuzz/fuzz_structure CRASHFILE  (replay one input)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqloop/structure.h"

static void check_error(int status, const sl_error *err, const sl_structure *s) {
  if (status < SL_EINPUT || status > SL_EINTERNAL) __builtin_trap();
  if (err->msg[0] == '\0' || memchr(err->msg, '\0', sizeof err->msg) == NULL) __builtin_trap();
  if (s) __builtin_trap(); /* no result on failure */
}

static void check_structure(const sl_structure *s) {
  if (s->n <= 0 || (int64_t)strlen(s->seq) != s->n || !s->chain || !s->model || !s->path) __builtin_trap();
  int64_t no_cb = 0, no_coord = 0, nonstd = 0;
  for (int64_t k = 0; k < s->n; k++) {
    const sl_residue *r = &s->res[k];
    if (r->aa < 'A' || r->aa > 'Z' || r->aa != s->seq[k]) __builtin_trap();
    unsigned rep = r->flags & (SL_RES_REP_CB | SL_RES_REP_CA | SL_RES_NO_COORD);
    if (rep != SL_RES_REP_CB && rep != SL_RES_REP_CA && rep != SL_RES_NO_COORD) __builtin_trap();
    if ((r->flags & SL_RES_NO_CB) && !(r->flags & SL_RES_REP_CA)) __builtin_trap();
    for (int d = 0; d < 3; d++)
      if ((rep == SL_RES_NO_COORD) != (isnan(r->xyz[d]) != 0) || isinf(r->xyz[d])) __builtin_trap();
    if (memchr(r->name, '\0', sizeof r->name) == NULL) __builtin_trap();
    no_cb += (r->flags & SL_RES_NO_CB) != 0;
    no_coord += rep == SL_RES_NO_COORD;
    nonstd += (r->flags & SL_RES_NONSTD) != 0;
  }
  if (no_cb != s->n_no_cb || no_coord != s->n_no_coord || nonstd != s->n_nonstd) __builtin_trap();
}

static void check_align_and_precision(const sl_structure *s, const uint8_t *data, size_t size) {
  if (s->n > 2000) return;
  int64_t *map = malloc((size_t)s->n * sizeof *map);
  if (!map) return;
  sl_error err;
  double id = -1.0;
  int status = sl_align_global(s->seq, s->seq, map, &id, &err);
  if (status) __builtin_trap(); /* letters only: must align */
  int has_x = 0;
  for (int64_t k = 0; k < s->n; k++) has_x |= s->seq[k] == 'X';
  int64_t last = -1;
  for (int64_t k = 0; k < s->n; k++) {
    if (!has_x && map[k] != k) __builtin_trap(); /* the diagonal is the unique optimum */
    if (map[k] < -1 || map[k] >= s->n) __builtin_trap();
    if (map[k] >= 0) {
      if (map[k] <= last) __builtin_trap(); /* an alignment is monotone */
      last = map[k];
    }
  }
  if (!has_x && id != 1.0) __builtin_trap();
  if (!(id >= 0.0 && id <= 1.0)) __builtin_trap();

  /* Pairs from the input bytes: positions and scores. */
  size_t np = size / 3 < 512 ? size / 3 : 512;
  sl_pair *pairs = malloc((np ? np : 1) * sizeof *pairs);
  if (!pairs) { free(map); return; }
  for (size_t k = 0; k < np; k++) {
    pairs[k].i = data[3 * k] % s->n;
    pairs[k].j = data[3 * k + 1] % s->n;
    pairs[k].score = (double)(data[3 * k + 2] % 7);
  }
  for (int64_t k = 0; k < s->n; k += 3) map[k] = -1; /* some positions unmapped */
  sl_precision pr;
  status = sl_contact_precision(pairs, (int64_t)np, s->n, map, s, SL_CONTACT_MIN_SEP,
                                SL_CONTACT_CUTOFF, &pr, &err);
  if (status) __builtin_trap();
  if (pr.n_near + pr.n_unmapped + pr.n_duplicate + pr.n_qualify != (int64_t)np) __builtin_trap();
  for (int t = 0; t < SL_PREC_NK; t++) {
    if (pr.k[t] < 1 || pr.n_eval[t] > pr.k[t] || pr.n_true[t] > pr.n_eval[t]) __builtin_trap();
    if (pr.n_eval[t] > 0 && !(pr.precision[t] >= 0.0 && pr.precision[t] <= 1.0)) __builtin_trap();
    if (pr.n_eval[t] == 0 && !isnan(pr.precision[t])) __builtin_trap();
  }
  free(pairs);
  free(map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/seqloop-fuzz-structure.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  close(fd);
  static const int formats[3] = {SL_STRUCT_AUTO, SL_STRUCT_PDB, SL_STRUCT_MMCIF};
  static const char *const chains[3] = {NULL, "A", "A"};
  for (int f = 0; f < 3; f++) {
    sl_structure *s = NULL;
    sl_error err;
    sl_error_clear(&err);
    int status = sl_structure_read(path, formats[f], chains[f], &s, &err);
    if (status) {
      check_error(status, &err, s);
      continue;
    }
    check_structure(s);
    check_align_and_precision(s, data, size);
    sl_structure_destroy(s);
  }
  unlink(path);
  return 0;
}
