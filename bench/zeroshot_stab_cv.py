#!/usr/bin/python3
"""bench/zeroshot_stab_cv.py: leave-one-assay-out cross-validation of the
design choices around the stab kind (docs/scoring.md, docs/benchmarks.md).
Reads a `seqloop benchmark --models gemme@rsa+lor@rsa+stab` output folder
(per-variant component scores) and the assays' RSA column, re-implements the
stab term in numpy with the same literature tables (checked against the C
column: the default variant must reproduce it to 1e-5), and over a grid of
variants (hydrophobicity scale, burial power, cavity term, backbone term,
backbone scaled by burial or not, weight of the physical term in the rank
ensemble) chooses, for each held-out assay, the variant with the best mean
Spearman on the other 19 and scores the held-out assay with it. The mean of
those held-out Spearmans is the honest number for "a recipe chosen on these
assays". usage: zeroshot_stab_cv.py DATADIR OUTDIR"""
import glob, itertools, os, sys
import numpy as np, pandas as pd
from scipy.stats import rankdata, spearmanr

AA = 'ACDEFGHIKLMNPQRSTVWY'
FP = dict(zip(AA, [0.31, 1.54, -0.77, -0.64, 1.79, 0.00, 0.13, 1.80, -0.99, 1.70, 1.23, -0.60, 0.72, -0.22, -1.01, -0.04, 0.26, 1.22, 2.25, 0.96]))
KD = dict(zip(AA, [1.8, 2.5, -3.5, -3.5, 2.8, -0.4, -3.2, 4.5, -3.9, 3.8, 1.9, -3.5, -1.6, -3.5, -4.5, -0.8, -0.7, 4.2, -0.9, -1.3]))  # Kyte & Doolittle 1982
VOL = dict(zip(AA, [88.6, 108.5, 111.1, 138.4, 189.9, 60.1, 153.2, 166.7, 168.6, 166.7, 162.9, 114.1, 112.7, 143.8, 173.4, 89.0, 116.1, 140.0, 227.8, 193.6]))
PS = dict(zip(AA, [0.00, 0.68, 0.69, 0.40, 0.54, 1.00, 0.61, 0.41, 0.26, 0.21, 0.24, 0.65, 3.16, 0.39, 0.21, 0.50, 0.66, 0.61, 0.49, 0.53]))
PG = {a: (3.0 if a == 'P' else 1.0 if a == 'G' else 0.0) for a in AA}  # Pro 3, Gly 1, else 0
# the KD scale in kcal/mol-like units: its range (9.0) mapped onto FP's (3.26 x 1.36)
KDK = 1.36 * 3.26 / 9.0

def stab(df, scale, p, cav, bb, bb_buried):
    b = (1 - np.minimum(df.rsa.values, 100) / 100) ** p
    S, k = (FP, 1.36) if scale == 'FP' else (KD, KDK)
    hyd = k * np.maximum(0, df.wt.map(S).values - df.mt.map(S).values)
    cv = 0.024 * np.maximum(0, df.wt.map(VOL).values - df.mt.map(VOL).values) if cav else 0
    B = {'none': None, 'PS': PS, 'PG': PG}[bb]
    back = np.maximum(0, df.mt.map(B).values - df.wt.map(B).values) if B else 0
    return -(b * (hyd + cv + back)) if bb_buried else -(b * (hyd + cv) + back)

data, out = sys.argv[1], sys.argv[2]
grid = list(itertools.product(['FP', 'KD'], [1, 2], [1, 0], ['PS', 'PG', 'none'], [0, 1], [1.0, 0.5, 2.0]))
default = ('FP', 1, 1, 'PS', 0, 1.0)
rows = {}
for f in sorted(glob.glob(f'{out}/*.scores.csv')):
    a = os.path.basename(f)[:-len('.scores.csv')]
    sc = pd.read_csv(f)
    csv = pd.read_csv(f'{data}/{a}/{a}.csv')
    assert (sc.mutant.values == csv.mutant.values).all()
    df = pd.DataFrame({'y': csv.DMS_score, 'rsa': csv.RSA, 'wt': csv.mutant.str[0], 'mt': csv.mutant.str[-1]})
    base = rankdata(sc['gemme@rsa']) + rankdata(sc['lor@rsa'])
    s0 = stab(df, *default[:5])
    assert np.abs(s0 - sc.stab.values).max() < 1e-5, a
    rows[a] = [spearmanr(df.y, base + c[5] * rankdata(stab(df, *c[:5])))[0] for c in grid]
R = pd.DataFrame(rows).T
R.columns = [str(c) for c in grid]
loo = {}
for a in R.index:
    best = R.drop(a).mean().idxmax()
    loo[a] = (best, R.loc[a, best])
d = str(default)
print(f'assays: {len(R)}; grid: {len(grid)} variants (scale, burial power, cavity, backbone, backbone x burial, weight)')
print(f'default (the stab kind, equal weights): mean {R[d].mean():.4f}')
print(f'best variant in hindsight: {R.mean().idxmax()} mean {R.mean().max():.4f}; worst {R.mean().idxmin()} {R.mean().min():.4f}')
print(f'leave-one-assay-out CV: mean {np.mean([v for _, v in loo.values()]):.4f}')
for a, (b, v) in loo.items():
    print(f'  {a}: chose {b}, held-out {v:.3f} (default {R.loc[a, d]:.3f})')
print('ablation (equal weight, Fauchere-Pliska, burial^1; mean over the assays):')
for name, c in [('hydrophobic only', ('FP', 1, 0, 'none', 0, 1.0)), ('+ cavity', ('FP', 1, 1, 'none', 0, 1.0)),
                ('+ cavity + Pace-Scholtz backbone (the kind)', default), ('hydrophobic + backbone, no cavity', ('FP', 1, 0, 'PS', 0, 1.0))]:
    print(f'  {name}: {R[str(c)].mean():.4f}')
