#!/usr/bin/python3
"""Independent reference for src/score/metrics.c (seqloop test oracle).

Usage:
    /usr/bin/python3 tools/metrics_ref.py          # C constants for tests/unit/test_metrics.c
    /usr/bin/python3 tools/metrics_ref.py --table  # a readable table, plus diagnostics

It builds a few fixed pseudo-random data sets from a 64-bit LCG that
tests/unit/test_metrics.c implements identically (every value is an integer
divided by a power of two, so both sides hold bit-identical doubles), computes
each metric with the libraries ProteinGym itself relies on where they are
installed, and prints the values with 17 significant digits.

Definitions (OATML-Markslab/ProteinGym, proteingym/performance_DMS_benchmarks.py):
  Spearman   scipy.stats.spearmanr(truth, score)[0]
  Pearson    scipy.stats.pearsonr(truth, score)[0]   (not a ProteinGym metric)
  AUC        sklearn.metrics.roc_auc_score(label, score); sklearn is not a
             dependency, so its binary algorithm is re-implemented below
             (roc_curve with distinct thresholds, then the trapezoidal area):
             a different algorithm from the C code's rank sum.
  MCC        sklearn.metrics.matthews_corrcoef(label, score >= median(score)),
             the median as pandas' Series.median (== numpy.median here);
             sklearn's formula is re-implemented below.
  NDCG       calc_ndcg(truth, score) with top=10, re-implemented with numpy;
             ranks use np.argsort(kind="stable") (ProteinGym: the default,
             unstable quicksort; see --table for where that matters).
  Top recall calc_toprecall(truth, score) with numpy.percentile and strict '>'.
Pairs with a NaN value (or an invalid label) are dropped first, as the C
library does.

Needs numpy; scipy (Debian: python3-scipy) for Spearman and Pearson, else a
numpy fallback is used and a note is printed on stderr.
"""
import math
import sys

import numpy as np

try:
    import scipy.stats as sps
except ImportError:  # pragma: no cover
    sps = None

MASK64 = (1 << 64) - 1


class Lcg:
    """x <- x * 6364136223846793005 + 1442695040888963407 (mod 2^64); out: x >> 33."""

    def __init__(self, seed):
        self.x = seed & MASK64

    def next(self):
        self.x = (self.x * 6364136223846793005 + 1442695040888963407) & MASK64
        return self.x >> 33


def dataset(name):
    """Returns (truth, score, label) as float64, float64, int arrays."""
    if name in ("A", "C"):  # n = 1000, moderate ties in both
        g = Lcg(12345)
        t, s, lab = [], [], []
        for _ in range(1000):
            a = g.next() % 1000
            b = g.next() % 700
            t.append(a / 16.0 - 20.0)
            s.append((a + b) / 32.0)
            lab.append(1 if a >= 700 else 0)
        t, s, lab = np.array(t), np.array(s), np.array(lab)
        if name == "C":  # NaNs and invalid labels
            for i in range(1000):
                if i % 97 == 5:
                    s[i] = np.nan
                if i % 89 == 3:
                    t[i] = np.nan
                    lab[i] = -1
        return t, s, lab
    if name == "B":  # n = 1000, heavy ties (7 truth values, 17 score values)
        g = Lcg(777)
        t, s, lab = [], [], []
        for _ in range(1000):
            a = g.next() % 7
            b = g.next() % 5
            t.append(a - 3.0)
            s.append((2 * a + b) - 8.0)
            lab.append(1 if a >= 5 else 0)
        return np.array(t), np.array(s), np.array(lab)
    if name == "D":  # n = 37, no ties, anticorrelated-ish
        g = Lcg(2024)
        t, s, lab = [], [], []
        for _ in range(37):
            a = g.next() % 100000
            b = g.next() % 100000
            t.append(a / 1024.0)
            s.append((b - a) / 4096.0)
            lab.append(1 if a >= 50000 else 0)
        return np.array(t), np.array(s), np.array(lab)
    raise ValueError(name)


def rank_average(x):
    if sps is not None:
        return sps.rankdata(x, method="average")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    r = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        r[order[i:j + 1]] = (i + j + 2) / 2.0
        i = j + 1
    return r


def pearson(x, y):
    if sps is not None:
        return float(sps.pearsonr(x, y)[0])
    xm, ym = x - x.mean(), y - y.mean()
    return float(np.dot(xm, ym) / math.sqrt(np.dot(xm, xm) * np.dot(ym, ym)))


def spearman(x, y):
    if sps is not None:
        return float(sps.spearmanr(x, y)[0])
    return pearson(rank_average(x), rank_average(y))


def auc_sklearn(label, score):
    """sklearn's binary roc_auc_score: ROC points at distinct thresholds, trapezoids."""
    order = np.argsort(score, kind="mergesort")[::-1]
    s, y = score[order], label[order].astype(float)
    distinct = np.where(np.diff(s))[0]
    thr_idx = np.r_[distinct, y.size - 1]
    tps = np.cumsum(y)[thr_idx]
    fps = 1 + thr_idx - tps
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return float(np.trapz(tpr, fpr))


def mcc_sklearn(label, pred):
    c = np.zeros((2, 2))
    for t, p in zip(label, pred):
        c[t, p] += 1
    t_sum, p_sum = c.sum(axis=1), c.sum(axis=0)
    n_correct, n = np.trace(c), p_sum.sum()
    cov_ytyp = n_correct * n - np.dot(t_sum, p_sum)
    cov_ypyp = n**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n**2 - np.dot(t_sum, t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def ndcg_pg(y_true, y_score, top=10, kind="stable"):
    """ProteinGym calc_ndcg(quantile=True, top=top); ranks by np.argsort(kind=kind)."""
    k = int(np.floor(y_true.shape[0] * (top / 100)))
    gains = (y_true - np.min(y_true)) / (np.max(y_true) - np.min(y_true))
    ranks = np.argsort(np.argsort(-y_score, kind=kind), kind=kind) + 1
    sel = (ranks <= k) & (gains != 0)
    if not sel.any():
        return 0.0
    dcg = np.sum(gains[sel] / np.log2(ranks[sel] + 1))
    ideal = np.sort(gains)[::-1][:k]
    r = np.arange(1, len(ideal) + 1)
    nz = ideal != 0
    idcg = np.sum(ideal[nz] / np.log2(r[nz] + 1))
    return float(dcg / idcg)


def toprecall_pg(true_scores, model_scores, top=10):
    """ProteinGym calc_toprecall(top_true=top_model=top), current version."""
    top_true = true_scores > np.percentile(true_scores, 100 - top)
    top_model = model_scores > np.percentile(model_scores, 100 - top)
    tp = (top_true & top_model).sum()
    return float(tp / top_true.sum()) if top_true.sum() > 0 else 0.0


# The fixed cut-off of the "mcc_thr" column, per data set.
THRESHOLD = {"A": 30.0, "B": 1.0, "C": 30.0, "D": 0.0}


def metrics(name):
    t, s, lab = dataset(name)
    keep = ~(np.isnan(t) | np.isnan(s))
    kl = ~np.isnan(s) & ((lab == 0) | (lab == 1))
    tt, ss = t[keep], s[keep]
    ls, ll = s[kl], lab[kl]
    med = float(np.median(ls))
    out = [
        ("pearson", pearson(tt, ss)),
        ("spearman", spearman(tt, ss)),
        ("auc", auc_sklearn(ll, ls)),
        ("mcc_median", mcc_sklearn(ll, (ls >= med).astype(int))),
        ("mcc_thr", mcc_sklearn(ll, (ls >= THRESHOLD[name]).astype(int))),
        ("ndcg10", ndcg_pg(tt, ss, 10)),
        ("ndcg25", ndcg_pg(tt, ss, 25)),
        ("recall10", toprecall_pg(tt, ss, 10)),
        ("recall25", toprecall_pg(tt, ss, 25)),
        ("median", med),
    ]
    return out, (tt, ss)


def main():
    table = "--table" in sys.argv[1:]
    if sps is None:
        print("note: scipy not installed; numpy fallbacks for Spearman/Pearson", file=sys.stderr)
    for name in "ABCD":
        out, (tt, ss) = metrics(name)
        if table:
            print("dataset %s (kept pairs %d)" % (name, len(tt)))
            for key, v in out:
                print("  %-10s %.17g" % (key, v))
            q = ndcg_pg(tt, ss, 10, kind="quicksort")
            print("  ndcg10 with numpy's default argsort: %.17g" % q)
        else:
            vals = ", ".join("%.17g" % v for _, v in out)
            print("  /* %s */ {%s}," % (name, vals))
    if not table:
        print("  /* columns: %s */" % ", ".join(k for k, _ in metrics("D")[0]))


if __name__ == "__main__":
    main()
