/* test_score.c: mutant strings, exact deltas, CSV parsing, coupling scores. */
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "seqloop/score.h"
#include "tap.h"

static uint64_t rs = 12345;
static double urand(void) {
  rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0 - 0.5;
}

int main(void) {
  sl_error err;
  const sl_alphabet *abc = sl_alphabet_get(SL_ABC_PROTEIN);
  sl_model *m = sl_model_create("potts", 5, abc, 0);
  const char *focus = "MKV-L";
  for (int i = 0; i < 5; i++) { m->focus[i] = abc->code[(unsigned char)focus[i]]; m->pos[i] = 10 + i; }
  int q = m->q;
  for (int64_t k = 0; k < 5 * q; k++) m->h[k] = (float)urand();
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
          float v = (float)urand();
          sl_model_J(m, i, j)[a * q + b] = v;
          sl_model_J(m, j, i)[b * q + a] = v;
        }
  sl_mutation mut[SL_MAX_MUTATIONS];
  int n = 0;
  int st = sl_mutant_parse(m, "K11A:L14W", 0, mut, &n, &err);
  CHECK(st == SL_OK && n == 2 && mut[0].col == 1 && mut[1].col == 4, "double mutant parsed");
  uint8_t s2[5];
  memcpy(s2, m->focus, 5);
  s2[1] = abc->code['A'];
  s2[4] = abc->code['W'];
  double full = sl_model_energy(m, s2) - sl_model_energy(m, m->focus);
  double d = sl_model_delta(m, m->focus, mut, n);
  CHECK_NEAR(d, full, 1e-9, "delta equals the full energy difference for a double mutant");
  st = sl_mutant_parse(m, "K1A", 10, mut, &n, &err);
  CHECK(st == SL_OK && n == 1 && mut[0].col == 1, "offset shifts the numbering");
  st = sl_mutant_parse(m, "WT", 0, mut, &n, &err);
  CHECK(st == SL_OK && n == 0, "wild type is zero mutations");
  st = sl_mutant_parse(m, "A11K", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "wild type at residue 11 is 'K', not 'A'"), "wrong wt: %s", err.msg);
  st = sl_mutant_parse(m, "K11A:K11C", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "twice"), "same site twice: %s", err.msg);
  st = sl_mutant_parse(m, "K11B", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "'B' is not a protein residue"), "nonstandard target: %s", err.msg);
  st = sl_mutant_parse(m, "K99A", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "not a column"), "outside: %s", err.msg);
  st = sl_mutant_parse(m, "11A", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "form A42G"), "malformed: %s", err.msg);
  st = sl_mutant_parse(m, "X13A", 0, mut, &n, &err);
  CHECK(st == SL_EINPUT, "a gap column of the focus cannot be mutated");

  /* Coupling scores against a direct computation. */
  double fn[25], raw[25];
  st = sl_coupling_scores(m, SL_GAUGE_RAW, fn, raw, &err);
  double norms[5][5] = {{0}}, mi[5] = {0}, tot = 0;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++) {
      if (i == j) continue;
      double s = 0;
      for (int k = 0; k < q * q; k++) s += (double)sl_model_J(m, i, j)[k] * sl_model_J(m, i, j)[k];
      norms[i][j] = sqrt(s);
      mi[i] += norms[i][j] / 4;
      if (i < j) tot += norms[i][j];
    }
  double mean = tot / 10, worst = 0;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++)
      if (i != j) worst = fmax(worst, fabs(fn[i * 5 + j] - (norms[i][j] - mi[i] * mi[j] / mean)));
  CHECK(st == SL_OK && worst < 1e-9, "APC-corrected Frobenius norms (max err %.2g)", worst);
  st = sl_coupling_scores(m, SL_GAUGE_ZEROSUM, fn, raw, &err);
  /* In the zero-sum gauge the norm is at most the raw norm. */
  int ok = st == SL_OK;
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++) ok &= raw[i * 5 + j] <= norms[i][j] + 1e-9;
  CHECK(ok, "zero-sum gauge norms do not exceed raw norms");
  sl_model_destroy(m);

  /* CSV: BOM, quotes, doubled quotes, comments, blank lines, ragged rows. */
  char path[] = "/tmp/seqloop-csv.XXXXXX";
  int fd = mkstemp(path);
  const char *text = "\xEF\xBB\xBF# comment\nmutant,\"a,b\",c\nA1C,\"x,\"\"y\"\"\",3\n\nD2E,,4\n";
  if (write(fd, text, strlen(text)) < 0) return 1;
  close(fd);
  sl_csv *csv = NULL;
  st = sl_csv_read(path, &csv, &err);
  CHECK(st == SL_OK && csv && csv->ncols == 3 && csv->nrows == 2, "csv parsed (%s)", st ? err.msg : "");
  if (csv) {
    CHECK(strcmp(csv->header[1], "a,b") == 0 && sl_csv_col(csv, "c") == 2, "quoted header field");
    CHECK(strcmp(csv->cell[0][1], "x,\"y\"") == 0, "doubled quotes unescaped");
    CHECK(strcmp(csv->cell[1][1], "") == 0 && csv->line[1] == 5, "empty field; line numbers");
    CHECK(strcmp(csv->raw[0], "A1C,\"x,\"\"y\"\"\",3") == 0, "raw line kept verbatim");
  }
  sl_csv_destroy(csv);
  fd = open(path, O_WRONLY | O_TRUNC);
  const char *bad = "a,b\n1,2\n3\n";
  if (write(fd, bad, strlen(bad)) < 0) return 1;
  close(fd);
  st = sl_csv_read(path, &csv, &err);
  CHECK(st == SL_EINPUT && strstr(err.msg, "line 3: 1 fields, but the header has 2"), "ragged csv: %s", err.msg);
  sl_csv_destroy(csv);
  unlink(path);
  return TAP_DONE();
}
