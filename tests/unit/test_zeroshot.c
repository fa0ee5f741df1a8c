/* test_zeroshot.c: the zero-shot kinds (lor, gemme, stab), the column scaling
 * (RSA), the benchmark's recipe parser and ProteinGym aggregation, and
 * Shrake-Rupley SASA, on hand-computed cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqloop/benchmark.h"
#include "seqloop/msa.h"
#include "seqloop/potts.h"
#include "seqloop/sasa.h"
#include "seqloop/score.h"
#include "seqloop/zeroshot.h"
#include "tap.h"

static sl_msa *mk(const char *text) {
  sl_seqset *ss = NULL;
  sl_msa *m = NULL;
  sl_error err;
  sl_msa_opts o;
  sl_msa_opts_init(&o);
  o.focus_first = 1;
  if (sl_seqset_read_mem(text, strlen(text), "mem", SL_FMT_AUTO, &ss, &err) ||
      sl_msa_build(ss, &o, &m, &err)) { printf("# %s\n", err.msg); exit(1); }
  sl_seqset_destroy(ss);
  return m;
}

static double delta(const sl_model *m, const char *mut) {
  sl_mutation mm[8];
  int n;
  double d = NAN;
  sl_error err;
  if (sl_mutant_parse(m, mut, 0, mm, &n, &err) || sl_mutant_delta(m, NULL, m->focus, mm, n, &d, &err))
    printf("# %s: %s\n", mut, err.msg);
  return d;
}

static void test_lor(void) {
  /* column 1: A A A C (weights 1,1,1,1); column 2: D D - E */
  sl_msa *a = mk(">f/1-2\nAD\n>b\nAD\n>c\nA-\n>d\nCE\n");
  double w[4] = {1, 1, 1, 1};
  sl_model *m;
  sl_error err;
  CHECK(sl_lor_fit(a, w, 0.01, &m, &err) == SL_OK, "lor fit");
  double fA = 0.99 * 3 / 4 + 0.01 / 21, fC = 0.99 * 1 / 4 + 0.01 / 21, fG = 0.01 / 21;
  double lo = log(fC / (1 - fC)) - log(fA / (1 - fA));
  CHECK_NEAR(delta(m, "A1C"), lo, 1e-5, "A1C = LOR(C) - LOR(A) from the regularised frequencies");
  CHECK_NEAR(delta(m, "A1G"), log(fG / (1 - fG)) - log(fA / (1 - fA)), 1e-5, "A1G (unseen)");
  CHECK_NEAR(delta(m, "A1C:D2E"), delta(m, "A1C") + delta(m, "D2E"), 1e-6, "double = sum of singles");
  CHECK(strcmp(sl_model_name(m), "lor") == 0 && m->J == NULL, "a field-only lor model");
  double f[2] = {0.5, 0};
  CHECK(sl_model_scale_columns(m, f, &err) == SL_OK, "scale columns");
  CHECK_NEAR(delta(m, "A1C"), 0.5 * lo, 1e-5, "RSA factor 0.5 halves column 1");
  CHECK_NEAR(delta(m, "D2E"), 0, 1e-12, "factor 0 zeroes column 2");
  double bad[2] = {-1, 1};
  CHECK(sl_model_scale_columns(m, bad, &err) == SL_EINPUT, "a negative factor is refused");
  CHECK_NEAR(sl_rsa_factor(30), 0.7, 1e-12, "RSA factor 1 - 30/100");
  CHECK_NEAR(sl_rsa_factor(130), 0.0, 1e-12, "RSA above 100 clamps to factor 0");
  sl_model *m0;
  CHECK(sl_lor_fit(a, w, 0, &m0, &err) == SL_EUSAGE && m0 == NULL, "regularisation 0 refused");
  sl_model_destroy(m);
  sl_msa_destroy(a);
}

static void test_gemme(void) {
  /* focus LLLL; C at column 1 appears in a near row (1 other difference) and
   * W at column 1 only in a far row (3 other differences): the near carrier
   * gives the milder epistatic score. */
  sl_msa *a = mk(">f/1-4\nLLLL\n>n\nCLLK\n>far\nWKKK\n>x\nLLLL\n>y\nLLLL\n");
  double w[5] = {1, 1, 1, 1, 1};
  sl_model *m;
  sl_error err;
  int st_ = sl_gemme_fit(a, w, 0.6, &m, &err);
  CHECK(st_ == SL_OK, "gemme fit%s%s", st_ ? ": " : "", st_ ? err.msg : "");
  if (st_) return;
  CHECK_NEAR(m->h[0 * m->q + m->focus[0]], 0, 1e-12, "h(wt) = 0");
  double c = delta(m, "L1C"), wd = delta(m, "L1W"), d = delta(m, "L1D");
  CHECK(c > wd, "near carrier scores higher than a far one (%g > %g)", c, wd);
  CHECK(wd > d, "a seen residue scores higher than an unseen one (%g > %g)", wd, d);
  CHECK(c < 0, "a substitution at a conserved column scores below the wild type");
  CHECK_NEAR(delta(m, "L1C:L4K"), delta(m, "L1C") + delta(m, "L4K"), 1e-6, "additive over mutations");
  sl_model *m1;
  CHECK(sl_gemme_fit(a, w, 1.0, &m1, &err) == SL_OK, "gemme fit, alpha 1 (epistatic only)");
  /* alpha 1: epi / max|epi|; the far carrier of W at column 1 is 3 conserved
   * columns away, the near carrier of C one (column 4 is less conserved). */
  CHECK(delta(m1, "L1D") == delta(m1, "L1E"), "alpha 1: unseen residues tie");
  sl_model_destroy(m1);
  CHECK(sl_gemme_fit(a, w, 1.5, &m1, &err) == SL_EUSAGE, "alpha outside [0,1] refused");
  sl_model_destroy(m);
  sl_msa_destroy(a);
}

static void test_stab(void) {
  /* the table values, by hand: L -> A fully buried loses Fauchere-Pliska
   * 1.70 - 0.31 = 1.39 (x 1.36) and Zamyatnin 166.7 - 88.6 = 78.1 A^3 (x
   * 0.024); its helix propensity improves (0.21 -> 0), so no backbone term */
  CHECK_NEAR(sl_stab_ddg('L', 'A', 1.0), 1.36 * 1.39 + 0.024 * 78.1, 1e-9, "L->A buried: 3.7648 kcal/mol");
  CHECK_NEAR(sl_stab_ddg('L', 'A', 0.5), 0.5 * (1.36 * 1.39 + 0.024 * 78.1), 1e-9, "half buried: half");
  CHECK_NEAR(sl_stab_ddg('L', 'A', 0.0), 0, 1e-12, "exposed L->A: 0");
  CHECK_NEAR(sl_stab_ddg('A', 'P', 0.0), 3.16, 1e-12, "A->P exposed: Pace-Scholtz 3.16");
  CHECK_NEAR(sl_stab_ddg('A', 'L', 1.0), 0.21, 1e-12, "A->L buried: gains hydrophobicity and volume; helix 0.21 only");
  CHECK_NEAR(sl_stab_ddg('Y', 'C', 0.0), 0.68 - 0.53, 1e-12, "Y->C exposed: helix 0.68 - 0.53");
  CHECK_NEAR(sl_stab_ddg('K', 'E', 1.0), 0.024 * (168.6 - 138.4) + (0.40 - 0.26), 1e-9,
             "K->E buried: cavity and helix; E (-0.64) is not less hydrophobic than K (-0.99)");
  CHECK_NEAR(sl_stab_ddg('E', 'K', 1.0), 1.36 * (-0.64 + 0.99), 1e-9, "E->K buried: hydrophobic term only");
  CHECK_NEAR(sl_stab_ddg('G', 'G', 1.0), 0, 1e-12, "wild type: 0");
  CHECK(isnan(sl_stab_ddg('X', 'A', 1.0)) && isnan(sl_stab_ddg('A', '-', 1.0)), "not an amino acid: NAN");
  sl_msa *a = mk(">f/1-2\nLA\n>b\nLA\n>c\nIS\n");
  double bur[2] = {1.0, 0.25};
  sl_model *m;
  sl_error err;
  CHECK(sl_stab_fit(a, bur, &m, &err) == SL_OK, "stab fit");
  CHECK(strcmp(sl_model_name(m), "stab") == 0 && m->J == NULL, "a field-only stab model");
  CHECK_NEAR(delta(m, "L1A"), -(1.36 * 1.39 + 0.024 * 78.1), 1e-5, "L1A = -ddg (column 1 buried)");
  CHECK_NEAR(delta(m, "A2P"), -3.16, 1e-5, "A2P: backbone term, burial-independent");
  CHECK_NEAR(delta(m, "A2G"), -(0.25 * (1.36 * 0.31 + 0.024 * 28.5) + 1.0), 1e-5, "A2G at burial 0.25");
  CHECK_NEAR(delta(m, "L1A:A2P"), delta(m, "L1A") + delta(m, "A2P"), 1e-6, "additive");
  double lo = 0;
  for (int64_t k = 0; k < 2 * m->q; k++) lo = fmin(lo, m->h[k]);
  CHECK(m->h[0] == (float)lo && m->h[m->q] == (float)lo, "the gap gets the matrix's lowest value");
  sl_model_destroy(m);
  double bad[2] = {1.0, 1.5};
  CHECK(sl_stab_fit(a, bad, &m, &err) == SL_EINPUT && strstr(err.msg, "column 2"), "burial > 1 refused, naming the column");
  CHECK(sl_stab_fit(a, NULL, &m, &err) == SL_EUSAGE, "no burial refused");
  sl_msa_destroy(a);
}

static void test_recipe(void) {
  sl_bench_recipe r;
  sl_error err;
  CHECK(sl_bench_recipe_parse("gemme:0.6+lor:0.4", "z", 1, &r, &err) == SL_OK && r.n == 2 &&
        strcmp(r.comp[0], "gemme") == 0 && r.weight[1] == 0.4 && r.ensemble == SL_ENS_Z && r.rsa,
        "recipe gemme:0.6+lor:0.4, z, rsa");
  CHECK(sl_bench_recipe_parse("lor+nope", NULL, 0, &r, &err) == SL_EUSAGE && strstr(err.msg, "nope"),
        "unknown model named in the error");
  CHECK(sl_bench_recipe_parse("lor:-1", NULL, 0, &r, &err) == SL_EUSAGE, "negative weight refused");
  CHECK(sl_bench_recipe_parse("potts", NULL, 1, &r, &err) == SL_EUSAGE, "RSA with couplings refused");
  CHECK(sl_bench_recipe_parse("lor", "mean", 0, &r, &err) == SL_EUSAGE, "unknown ensemble refused");
  CHECK(sl_bench_recipe_parse("gemme@rsa+lor+stab", NULL, 0, &r, &err) == SL_OK && r.n == 3 && r.rsa &&
        r.comp_rsa[0] && !r.comp_rsa[1] && !r.comp_rsa[2] && strcmp(r.comp[2], "stab") == 0,
        "gemme@rsa+lor+stab: stab needs RSA, is not scaled");
  CHECK(sl_bench_recipe_parse("lor+stab", NULL, 1, &r, &err) == SL_OK && r.comp_rsa[0] && !r.comp_rsa[1],
        "--rsa scales lor but not stab");
  CHECK(sl_bench_recipe_parse("stab", NULL, 0, &r, &err) == SL_OK && r.rsa, "stab alone needs the RSA column");
  CHECK(sl_bench_recipe_parse("stab@rsa", NULL, 0, &r, &err) == SL_EUSAGE && strstr(err.msg, "already"),
        "stab@rsa refused (would scale twice)");
}

static void test_aggregate(void) {
  /* two Stability assays of protein P (0.2, 0.4), one of Q (0.9), one
   * OrganismalFitness assay of R (0.1): P 0.3, Q 0.9 -> Stability 0.6;
   * fitness 0.1; mean of types 0.35; plain mean 0.4. */
  double v[4] = {0.2, 0.4, 0.9, 0.1}, v2[4] = {0.1, 0.1, 0.1, 0.1};
  const char *uni[4] = {"P", "P", "Q", "R"}, *sel[4] = {"Stability", "Stability", "Stability", "Fit"};
  double se, plain;
  CHECK_NEAR(sl_bench_aggregate(v, NULL, 4, uni, sel, 0, 1, &se, &plain), 0.35, 1e-12,
             "UniProt -> selection type -> mean of types");
  CHECK_NEAR(plain, 0.4, 1e-12, "plain mean");
  CHECK(isnan(se), "no SE without resamples");
  CHECK_NEAR(sl_bench_aggregate(v, v2, 4, uni, sel, 200, 7, &se, NULL), 0.25, 1e-12, "paired difference");
  CHECK(se >= 0 && se < 1, "bootstrap SE finite (%g)", se);
  double se2;
  sl_bench_aggregate(v, v2, 4, uni, sel, 200, 7, &se2, NULL);
  CHECK(se == se2, "bootstrap deterministic for a seed");
  double c[4] = {0.5, 0.5, 0.5, 0.5};
  sl_bench_aggregate(c, NULL, 4, uni, sel, 100, 3, &se, NULL);
  CHECK_NEAR(se, 0, 1e-12, "constant values: SE 0");
  double n1[4] = {NAN, 0.4, 0.9, 0.1};
  CHECK_NEAR(sl_bench_aggregate(n1, NULL, 4, uni, sel, 0, 1, NULL, NULL), (0.65 + 0.1) / 2, 1e-12,
             "NaN assays left out");
}

static void test_sasa(void) {
  char path[] = "/tmp/seqloop-sasa-XXXXXX";
  int fd = mkstemp(path);
  FILE *fp = fdopen(fd, "w");
  /* one isolated glycine CA, a far pair of overlapping atoms, chain B ignored */
  fprintf(fp,
          "ATOM      1  CA  GLY A   1       0.000   0.000   0.000  1.00  0.00           C\n"
          "ATOM      2  N   ALA A   2      50.000   0.000   0.000  1.00  0.00           N\n"
          "ATOM      3  CA  ALA A   2      51.000   0.000   0.000  1.00  0.00           C\n"
          "ATOM      4  H   ALA A   2      51.000   1.000   0.000  1.00  0.00           H\n"
          "ATOM      5  CA  GLY B   1       1.000   0.000   0.000  1.00  0.00           C\n");
  fclose(fp);
  sl_sasa_res *r;
  int64_t n;
  sl_error err;
  CHECK(sl_rsa_compute(path, "A", 100, &r, &n, &err) == SL_OK && n == 2, "two residues in chain A");
  double full = 4 * M_PI * 3.1 * 3.1;
  CHECK_NEAR(r[0].sasa, full, 1e-9, "isolated C: 4 pi (1.7 + 1.4)^2 (chain B does not occlude)");
  CHECK_NEAR(r[0].rsa, 100 * full / 104, 1e-9, "RSA against Tien 2013 max (Gly 104)");
  CHECK(r[1].n_atoms == 2, "hydrogen skipped");
  double both = 4 * M_PI * (2.95 * 2.95 + 3.1 * 3.1);
  CHECK(r[1].sasa < 0.8 * both && r[1].sasa > 0.3 * both, "overlapping atoms occlude each other (%g)", r[1].sasa);
  free(r);
  CHECK(sl_rsa_compute(path, "C", 100, &r, &n, &err) == SL_EINPUT && strstr(err.msg, "chain 'C'"),
        "absent chain named in the error");
  remove(path);
  /* real structure: GB1 (2qmt) core residues are buried, surface ones exposed */
  char p2[4096];
  snprintf(p2, sizeof p2, "%s/gb1/2qmt.pdb", tap_data());
  if (fopen(p2, "r") == NULL) { printf("skip - 2qmt.pdb absent\n"); return; }
  CHECK(sl_rsa_compute(p2, "A", 100, &r, &n, &err) == SL_OK && n == 56, "2qmt chain A: 56 residues");
  CHECK(r[2].aa == 'Y' && r[2].rsa < 10, "Y3 buried (RSA %.1f%%)", r[2].rsa);
  CHECK(r[51].aa == 'F' && r[51].rsa < 10, "F52 buried (RSA %.1f%%)", r[51].rsa);
  CHECK(r[0].rsa > 40, "M1 exposed (RSA %.1f%%)", r[0].rsa);
  free(r);
}

int main(void) {
  test_lor();
  test_gemme();
  test_stab();
  test_recipe();
  test_aggregate();
  test_sasa();
  return TAP_DONE();
}
