#!/usr/bin/python3
"""bench/zeroshot_table.py: the per-assay Markdown table of docs/benchmarks.md
(zero-shot section) from `seqloop benchmark` output folders, with the
same-alignment references of EvoStability (*_EvoStability_raw.csv: Spearman
of DMS_score with the negated score, per assay) and ProteinGym's published
numbers (INDEX.csv: SI, EVm, GEMME on ProteinGym's own alignments).
usage: zeroshot_table.py [--refs=COL,COL] [--only-stability] DATADIR NAME=OUTDIR ...
(prints Markdown; --no-pg drops ProteinGym's columns; --refs picks the EvoStability reference columns, default all)"""
import glob, os, sys
import pandas as pd
from scipy.stats import spearmanr

opts = [a for a in sys.argv[1:] if a.startswith('--')]
args = [a for a in sys.argv[1:] if not a.startswith('--')]
data = args[0]
runs = [a.split('=', 1) for a in args[1:]]
idx = pd.read_csv(f'{data}/INDEX.csv').set_index('dataset')
refcols = ['LORw', 'GEMME_ind', 'GEMME_epi', 'ArDCA', 'EVCouplings_epi', 'RSA*LORw', 'RSA*GEMME_ind', 'PoPMuSiC']
for o in opts:
    if o.startswith('--refs='):
        refcols = [c for c in o[len('--refs='):].split(',') if c]
    if o == '--only-stability':
        idx = idx[idx.selection == 'Stability']
rows = []
for a in idx.index:
    row = {'assay': a.split('_Tsuboyama')[0], 'n': idx.loc[a, 'variants'], 'sel': idx.loc[a, 'selection']}
    for name, out in runs:
        p = f'{out}/{a}.result.csv'
        row[name] = pd.read_csv(p).spearman[0] if os.path.exists(p) else float('nan')
    raw = glob.glob(f'{data}/{a}/*EvoStability_raw.csv')
    if raw:
        r = pd.read_csv(raw[0]).set_index('mutation_fasta')
        csv = pd.read_csv(f'{data}/{a}/{a}.csv')
        for c in refcols:
            row[c] = spearmanr(csv.DMS_score, -r.loc[csv.mutant, c].values)[0]
    for c in ['SI', 'EVm', 'GEMME']:
        row['PG ' + c] = idx.loc[a, c]
    rows.append(row)
df = pd.DataFrame(rows)
cols = ['assay', 'n'] + [n for n, _ in runs] + refcols + ([] if '--no-pg' in opts else ['PG SI', 'PG EVm', 'PG GEMME'])
def fmt(v):
    return '' if isinstance(v, float) and v != v else (f'{v:.3f}' if isinstance(v, float) else str(v))
print('| ' + ' | '.join(cols) + ' |')
print('|' + '---|' * len(cols))
for _, r in df.iterrows():
    print('| ' + ' | '.join(fmt(r.get(c, float('nan'))) for c in cols) + ' |')
st = df[df.sel == 'Stability']
print('| **mean, 20 stability** | | ' + ' | '.join(fmt(st[c].mean()) for c in cols[2:]) + ' |')
if '--only-stability' not in opts:
  print('| **mean, all 21** | | ' + ' | '.join(fmt(df[c].mean()) if c not in refcols and df[c].notna().all() else '' for c in cols[2:]) + ' |')
