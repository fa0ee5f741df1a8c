/* test_metrics.c: the evaluation metrics (src/score/metrics.c) on
 * hand-computed cases (perfect, reversed, ties, constant input, NaN
 * skipping, edge sizes) and against golden values from an independent
 * reference, tools/metrics_ref.py (scipy / numpy, ProteinGym's definitions),
 * on fixed pseudo-random data sets that both sides build from the same LCG.
 */
#include <stdint.h>
#include <stdlib.h>

#include "seqloop/metrics.h"
#include "tap.h"

#define TOL 1e-12
#define GOLD_TOL 1e-9

/* ---- The data sets of tools/metrics_ref.py ------------------------------ */
typedef struct { uint64_t x; } lcg;
static uint64_t lcg_next(lcg *g) {
  g->x = g->x * 6364136223846793005ULL + 1442695040888963407ULL;
  return g->x >> 33;
}

/* Fills truth, score, label (capacity 1000); returns n. Every value is an
 * integer over a power of two, so it is the same double in Python. */
static int64_t dataset(char name, double *t, double *s, int *lab) {
  lcg g;
  int64_t n = 0;
  if (name == 'A' || name == 'C') {
    g.x = 12345;
    for (n = 0; n < 1000; n++) {
      uint64_t a = lcg_next(&g) % 1000, b = lcg_next(&g) % 700;
      t[n] = (double)a / 16.0 - 20.0;
      s[n] = (double)(a + b) / 32.0;
      lab[n] = a >= 700;
    }
    if (name == 'C')
      for (int64_t i = 0; i < n; i++) {
        if (i % 97 == 5) s[i] = NAN;
        if (i % 89 == 3) {
          t[i] = NAN;
          lab[i] = -1;
        }
      }
  } else if (name == 'B') {
    g.x = 777;
    for (n = 0; n < 1000; n++) {
      uint64_t a = lcg_next(&g) % 7, b = lcg_next(&g) % 5;
      t[n] = (double)a - 3.0;
      s[n] = (double)(2 * a + b) - 8.0;
      lab[n] = a >= 5;
    }
  } else if (name == 'D') {
    g.x = 2024;
    for (n = 0; n < 37; n++) {
      int64_t a = (int64_t)(lcg_next(&g) % 100000), b = (int64_t)(lcg_next(&g) % 100000);
      t[n] = (double)a / 1024.0;
      s[n] = (double)(b - a) / 4096.0;
      lab[n] = a >= 50000;
    }
  }
  return n;
}

/* Golden values. Regenerate with:  /usr/bin/python3 tools/metrics_ref.py
 * (numpy 1.24.2, scipy 1.10.1 when they were produced). Columns: */
enum { G_PEARSON, G_SPEARMAN, G_AUC, G_MCC_MEDIAN, G_MCC_THR, G_NDCG10, G_NDCG25, G_RECALL10,
       G_RECALL25, G_MEDIAN, G_N };
static const double gold[4][G_N] = {
  /* A */ {0.80765687887800086, 0.81135627941509192, 0.91670925009368354, 0.57450632810195623, 0.60529577950688751, 0.9295553457715483, 0.92352778750692777, 0.51000000000000001, 0.68799999999999994, 26.71875},
  /* B */ {0.94249918619187845, 0.94652531721086597, 0.97210780536952535, 0.58075396289851677, 0.68313124072797204, 0.9775088452430517, 0.97774137897457403, 0, 1, 0},
  /* C */ {0.80864315105012607, 0.81254970034018636, 0.91640523008106212, 0.57838751444131487, 0.60734749837422664, 0.93066869567024779, 0.92270203608649293, 0.5, 0.67901234567901236, 26.71875},
  /* D */ {-0.55471076918202966, -0.49170222854433371, 0.21428571428571427, -0.31339520717850766, -0.41720932101509722, 0.12323778571236881, 0.34566989182634095, 0, 0, 1.6318359375},
};
/* The fixed cut-off of the mcc_thr column (THRESHOLD in the script). */
static const double gold_thr[4] = {30.0, 1.0, 30.0, 0.0};

static void golden(void) {
  static double t[1000], s[1000];
  static int lab[1000];
  const char names[4] = {'A', 'B', 'C', 'D'};
  for (int d = 0; d < 4; d++) {
    int64_t n = dataset(names[d], t, s, lab);
    const double *G = gold[d];
    char what[128];
#define GOLD(col, expr, label)                                                  \
    do {                                                                        \
      snprintf(what, sizeof what, "golden %c: %s", names[d], label);            \
      CHECK_NEAR((expr), G[col], GOLD_TOL, what);                               \
    } while (0)
    GOLD(G_PEARSON, sl_pearson(t, s, n), "pearson");
    GOLD(G_SPEARMAN, sl_spearman(t, s, n), "spearman");
    GOLD(G_AUC, sl_auc(s, lab, n), "auc");
    GOLD(G_MCC_MEDIAN, sl_mcc(s, lab, n, NAN), "mcc at the median (ProteinGym)");
    GOLD(G_MCC_THR, sl_mcc(s, lab, n, gold_thr[d]), "mcc at a fixed threshold");
    GOLD(G_NDCG10, sl_ndcg(s, t, n, 0.1), "ndcg top 10%");
    GOLD(G_NDCG25, sl_ndcg(s, t, n, 0.25), "ndcg top 25%");
    GOLD(G_RECALL10, sl_topk_recall(s, t, n, 0.1), "top recall 10%");
    GOLD(G_RECALL25, sl_topk_recall(s, t, n, 0.25), "top recall 25%");
    /* The median of the scores of the pairs the labelled metrics keep. */
    int64_t m = 0;
    static double ks[1000];
    for (int64_t i = 0; i < n; i++)
      if (!isnan(s[i]) && (lab[i] == 0 || lab[i] == 1)) ks[m++] = s[i];
    GOLD(G_MEDIAN, sl_median(ks, m), "median");
#undef GOLD
  }
}

static int all_nan(const double *x, int n) {
  for (int i = 0; i < n; i++)
    if (!isnan(x[i])) return 0;
  return 1;
}

int main(void) {
  /* ---- Pearson / Spearman -------------------------------------------- */
  const double x5[] = {1, 2, 3, 4, 5}, y5[] = {2, 4, 6, 8, 10}, r5[] = {10, 8, 6, 4, 2};
  CHECK_NEAR(sl_pearson(x5, y5, 5), 1.0, TOL, "pearson perfect");
  CHECK_NEAR(sl_pearson(x5, r5, 5), -1.0, TOL, "pearson reversed");
  CHECK_NEAR(sl_spearman(x5, y5, 5), 1.0, TOL, "spearman perfect");
  CHECK_NEAR(sl_spearman(x5, r5, 5), -1.0, TOL, "spearman reversed");
  const double xm[] = {1, 2, 3, 4, 100}; /* monotone, not linear */
  CHECK_NEAR(sl_spearman(xm, y5, 5), 1.0, TOL, "spearman of a monotone map is 1");
  CHECK(sl_pearson(xm, y5, 5) < 0.9, "pearson of it is not");
  /* Ties: ranks x = 1, 2.5, 2.5, 4 vs 1..4: rho = 4.5 / sqrt(4.5 * 5) = 3/sqrt(10). */
  const double xt[] = {1, 2, 2, 3}, yt[] = {1, 2, 3, 4};
  CHECK_NEAR(sl_spearman(xt, yt, 4), 3.0 / sqrt(10.0), TOL, "spearman with ties (average ranks)");
  /* Hand Pearson: x = 1,2,3, y = 1,3,2: sxy = 1, sxx = syy = 2, r = 0.5. */
  const double xa[] = {1, 2, 3}, ya[] = {1, 3, 2};
  CHECK_NEAR(sl_pearson(xa, ya, 3), 0.5, TOL, "pearson hand case");
  const double c5[] = {0.1, 0.1, 0.1, 0.1, 0.1};
  CHECK(isnan(sl_pearson(c5, y5, 5)) && isnan(sl_pearson(y5, c5, 5)), "pearson of constant input is NaN");
  CHECK(isnan(sl_spearman(c5, y5, 5)) && isnan(sl_spearman(y5, c5, 5)), "spearman of constant input is NaN");
  CHECK(isnan(sl_pearson(x5, y5, 1)) && isnan(sl_spearman(x5, y5, 1)) && isnan(sl_pearson(x5, y5, 0)) &&
            isnan(sl_spearman(x5, y5, -3)) && isnan(sl_pearson(NULL, y5, 5)),
        "n < 2, negative n or NULL gives NaN");
  /* NaN skipping: the NaN pairs drop out; what is left is perfect / the hand case. */
  const double xn[] = {1, NAN, 2, 3, 7, 4, 5}, yn[] = {2, 5, 4, 6, NAN, 8, 10};
  CHECK_NEAR(sl_pearson(xn, yn, 7), 1.0, TOL, "pearson skips pairs with a NaN");
  CHECK_NEAR(sl_spearman(xn, yn, 7), 1.0, TOL, "spearman skips pairs with a NaN");
  const double xn2[] = {NAN, 1, 2, 3}, yn2[] = {0, 1, 3, 2};
  CHECK_NEAR(sl_pearson(xn2, yn2, 4), 0.5, TOL, "pearson after skipping equals the hand case");
  const double xn3[] = {NAN, 1, 2}, yn3[] = {1, 2, NAN};
  CHECK(isnan(sl_pearson(xn3, yn3, 3)) && isnan(sl_spearman(xn3, yn3, 3)), "one kept pair gives NaN");
  const double xn4[] = {1, 1, 2}, yn4[] = {5, 6, NAN};
  CHECK(isnan(sl_pearson(xn4, yn4, 3)), "constant after skipping gives NaN");

  /* ---- Ranks and median ------------------------------------------------ */
  const double xr[] = {3, 1, 4, 1, 5, NAN, 9, 2, 6, 5};
  const double want[] = {4, 1.5, 5, 1.5, 6.5, NAN, 9, 3, 8, 6.5};
  double rk[10];
  sl_rank_average(xr, 10, rk);
  int same = 1;
  for (int i = 0; i < 10; i++)
    if (isnan(want[i]) ? !isnan(rk[i]) : rk[i] != want[i]) same = 0;
  CHECK(same, "average ranks with ties and a NaN (scipy rankdata 'average')");
  const double allnan[] = {NAN, NAN};
  sl_rank_average(allnan, 2, rk);
  CHECK(all_nan(rk, 2), "ranks of all-NaN input are NaN");
  CHECK(sl_median(xr, 10) == 4.0, "median of 9 kept values (1 1 2 3 4 5 5 6 9)");
  CHECK(sl_median(x5, 4) == 2.5 && sl_median(x5, 1) == 1.0, "median of an even count is the mean of the middle two");
  CHECK(isnan(sl_median(allnan, 2)) && isnan(sl_median(x5, 0)), "median of nothing is NaN");

  /* ---- AUC ---------------------------------------------------------------- */
  const double s4[] = {1, 2, 3, 4};
  const int l0011[] = {0, 0, 1, 1}, l1100[] = {1, 1, 0, 0}, l0101[] = {0, 1, 0, 1};
  CHECK_NEAR(sl_auc(s4, l0011, 4), 1.0, TOL, "auc perfect");
  CHECK_NEAR(sl_auc(s4, l1100, 4), 0.0, TOL, "auc reversed");
  const double sk[] = {0.1, 0.4, 0.35, 0.8}; /* sklearn's documentation example */
  CHECK_NEAR(sl_auc(sk, l0011, 4), 0.75, TOL, "auc of sklearn's example");
  const double st[] = {1, 2, 2, 3}; /* pos {2, 3} vs neg {1, 2}: 1 + 1/2 + 1 + 1 of 4 */
  CHECK_NEAR(sl_auc(st, l0101, 4), 0.875, TOL, "auc counts a tie as 1/2");
  CHECK_NEAR(sl_auc(c5, l0101, 4), 0.5, TOL, "auc of constant scores is 1/2");
  const int l1111[] = {1, 1, 1, 1};
  CHECK(isnan(sl_auc(s4, l1111, 4)), "auc with one class is NaN");
  const double sn[] = {1, NAN, 2, 3, 0, 4};
  const int ln[] = {0, 1, 0, 1, 7, 1}; /* NaN score and label 7 drop out */
  CHECK_NEAR(sl_auc(sn, ln, 6), 1.0, TOL, "auc skips NaN scores and labels other than 0/1");
  CHECK(isnan(sl_auc(s4, l0011, 1)), "auc of one pair is NaN");

  /* ---- MCC ---------------------------------------------------------------- */
  CHECK_NEAR(sl_mcc(s4, l0011, 4, NAN), 1.0, TOL, "mcc at the median (2.5): perfect");
  CHECK_NEAR(sl_mcc(s4, l1100, 4, NAN), -1.0, TOL, "mcc at the median: reversed");
  /* threshold 2: pred 0 1 1 1 vs 0 0 1 1: tp 2, tn 1, fp 1, fn 0: 2 / sqrt(3*2*2*1). */
  CHECK_NEAR(sl_mcc(s4, l0011, 4, 2.0), 2.0 / sqrt(12.0), TOL, "mcc at threshold 2 (score >= threshold)");
  CHECK(sl_mcc(c5, l0101, 4, NAN) == 0.0, "mcc of constant scores is 0 (sklearn: degenerate -> 0)");
  CHECK(sl_mcc(s4, l1111, 4, NAN) == 0.0, "mcc with one label class is 0 (sklearn)");
  const double sm[] = {1, 1, 1, 2}; /* median 1: all >= median, all predicted 1 */
  CHECK(sl_mcc(sm, l0011, 4, NAN) == 0.0, "mcc median tie: x >= median puts all in class 1");
  CHECK_NEAR(sl_mcc(sn, ln, 6, NAN), 1.0, TOL, "mcc skips NaN scores and invalid labels (median 2.5 of 1 2 3 4)");
  CHECK(isnan(sl_mcc(s4, l0011, 1, NAN)), "mcc of one pair is NaN");

  /* ---- NDCG ----------------------------------------------------------------- */
  double t10[10], r10[10], z10[10], d10[10], sw[10];
  for (int i = 0; i < 10; i++) {
    t10[i] = i;       /* gains i/9 */
    r10[i] = 9 - i;   /* reversed scores */
    z10[i] = 0.5;     /* constant scores: ties broken by position */
    d10[i] = 9 - i;   /* truth decreasing with position */
    sw[i] = i;
  }
  sw[8] = 20; /* scores: item 8 best, then item 9 */
  CHECK_NEAR(sl_ndcg(t10, t10, 10, 0.1), 1.0, TOL, "ndcg perfect (k = 1)");
  CHECK_NEAR(sl_ndcg(t10, t10, 10, 0.5), 1.0, TOL, "ndcg perfect (k = 5)");
  CHECK(sl_ndcg(r10, t10, 10, 0.1) == 0.0, "ndcg reversed, k = 1: only a zero gain: 0");
  double l3 = log2(3.0);
  CHECK_NEAR(sl_ndcg(sw, t10, 10, 0.2), (8.0 / 9.0 + 1.0 / l3) / (1.0 + (8.0 / 9.0) / l3), TOL,
             "ndcg hand case k = 2 (items 8, 9 swapped)");
  CHECK_NEAR(sl_ndcg(z10, d10, 10, 0.2), 1.0, TOL, "ndcg tied scores: earlier pair ranks first (best gains)");
  CHECK_NEAR(sl_ndcg(z10, t10, 10, 0.2), ((1.0 / 9.0) / l3) / (1.0 + (8.0 / 9.0) / l3), TOL,
             "ndcg tied scores: earlier pair ranks first (worst gains)");
  CHECK(sl_ndcg(x5, y5, 5, 0.1) == 0.0, "ndcg with k = floor(5 * 0.1) = 0 is 0 (calc_ndcg)");
  CHECK(isnan(sl_ndcg(t10, z10, 10, 0.1)), "ndcg of constant truth is NaN");
  CHECK(isnan(sl_ndcg(t10, t10, 10, 0.0)) && isnan(sl_ndcg(t10, t10, 10, 1.5)) &&
            isnan(sl_ndcg(t10, t10, 10, NAN)) && isnan(sl_ndcg(t10, t10, 1, 0.5)),
        "ndcg with top_frac outside (0, 1] or n < 2 is NaN");
  double tn10[11], sn10[11];
  for (int i = 0; i < 10; i++) {
    tn10[i + 1] = t10[i];
    sn10[i + 1] = sw[i];
  }
  tn10[0] = 100; sn10[0] = NAN; /* would be the best of both if kept */
  CHECK_NEAR(sl_ndcg(sn10, tn10, 11, 0.2), sl_ndcg(sw, t10, 10, 0.2), TOL, "ndcg skips a NaN pair");

  /* ---- Top-k recall -------------------------------------------------------- */
  CHECK(sl_topk_recall(t10, t10, 10, 0.1) == 1.0, "top recall perfect (90th percentile 8.1: {9})");
  CHECK(sl_topk_recall(r10, t10, 10, 0.1) == 0.0, "top recall reversed");
  /* 80th percentile 7.2: top = {8, 9}; scores sw: top {8, 9} too. */
  CHECK(sl_topk_recall(sw, t10, 10, 0.2) == 1.0, "top recall k = 2, order inside the top irrelevant");
  /* 75th percentile of 0..9: 6.75 (numpy's upper-neighbour form): top {7, 8, 9};
   * reversed scores 9 - i: top model = {0, 1, 2}: recall 0. */
  CHECK(sl_topk_recall(r10, t10, 10, 0.25) == 0.0, "top recall at 25%%");
  const double h[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 8};
  CHECK_NEAR(sl_topk_recall(h, t10, 10, 0.3), 1.0, TOL, "top recall at 30%% (percentile 6.3: {7, 8, 9})");
  const double hh[] = {0, 1, 2, 3, 4, 5, 9, 7, 6, 8}; /* model top {6, 7, 9} vs true {7, 8, 9} */
  CHECK_NEAR(sl_topk_recall(hh, t10, 10, 0.3), 2.0 / 3.0, TOL, "top recall 2 of 3");
  /* Strict '>': with ties at the percentile nobody is above it: 0, not NaN. */
  const double tie[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  CHECK(sl_topk_recall(t10, tie, 10, 0.1) == 0.0, "top recall: truth tied at its percentile: empty: 0");
  CHECK(sl_topk_recall(t10, z10, 10, 0.1) == 0.0, "top recall of constant truth is 0 (calc_toprecall)");
  CHECK(isnan(sl_topk_recall(t10, t10, 10, 0.0)) && isnan(sl_topk_recall(t10, t10, 1, 0.1)),
        "top recall with top_frac 0 or n < 2 is NaN");
  CHECK(sl_topk_recall(sn10, tn10, 11, 0.2) == sl_topk_recall(sw, t10, 10, 0.2), "top recall skips a NaN pair");

  golden();
  return TAP_DONE();
}
