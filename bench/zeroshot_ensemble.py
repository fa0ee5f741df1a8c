#!/usr/bin/python3
"""bench/zeroshot_ensemble.py: an equal-weight rank ensemble (what `seqloop
benchmark --models a+b` computes: each component's scores -> average ranks / n
within the assay, then the mean) from the per-variant scores of single-model
runs that already exist, so that an ensemble with an expensive component
(potts) does not refit it. Writes OUTDIR/<id>.result.csv in the benchmark's
format for every assay that all component runs finished (Spearman only; NDCG
and recall left nan), so that `seqloop benchmark` over OUTDIR aggregates them
and `--compare` pairs them. Checked against the command itself on CUE1 and
HCP: gemme+potts the same Spearman to 1e-6, gemme+lor+potts to 1e-4
(the score files hold 9 significant digits, which ties a few values that the
command ranks apart).
usage: zeroshot_ensemble.py OUTDIR RUNDIR[:COLUMN] RUNDIR[:COLUMN] ...
(COLUMN: the component column of that run's scores.csv; default `score`)"""
import glob, os, sys
import numpy as np, pandas as pd
from scipy.stats import rankdata, spearmanr

out = sys.argv[1]
comps = [(a.split(':') + ['score'])[:2] for a in sys.argv[2:]]
os.makedirs(out, exist_ok=True)
ids = sorted(os.path.basename(f)[:-len('.result.csv')] for f in glob.glob(f'{comps[0][0]}/*.result.csv'))
for a in ids:
    if not all(os.path.exists(f'{d}/{a}.result.csv') for d, _ in comps):
        continue
    S = [pd.read_csv(f'{d}/{a}.scores.csv') for d, _ in comps]
    for s in S[1:]:
        assert (s.mutant.values == S[0].mutant.values).all(), a
    n = len(S[0])
    ens = np.mean([rankdata(s[c].values) / n for s, (_, c) in zip(S, comps)], axis=0)
    y = S[0].DMS_score.values
    rho = spearmanr(y, ens)[0]
    nout = int((np.max([s.n_outside.values for s in S], axis=0) > 0).sum())
    tmp = f'{out}/{a}.result.csv.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write('dms_id,n,n_outside,spearman,ndcg,top10_recall,auc,mcc,seconds\n')
        f.write(f'{a},{n},{nout},{rho:.17g},nan,nan,nan,nan,0\n')
    os.replace(tmp, f'{out}/{a}.result.csv')
    print(f'{a},{rho:.6f}')
