#!/usr/bin/python3
"""bench/zeroshot_sasa_check.py: compare `seqloop benchmark --rsa-of STRUCTURE --chain C -o mine.csv`
with Biopython ShrakeRupley (Debian python3-biopython; same probe, 100 points), per residue.
usage: zeroshot_sasa_check.py STRUCTURE CHAIN mine.csv"""
import sys, numpy as np, pandas as pd
from Bio.PDB import PDBParser, MMCIFParser
from Bio.PDB.SASA import ShrakeRupley
path, chain, mine = sys.argv[1], sys.argv[2], sys.argv[3]
p = MMCIFParser(QUIET=True) if path.endswith('.cif') else PDBParser(QUIET=True)
s = p.get_structure('x', path)
ch = s[0][chain]
# the chain alone, heavy atoms, first altloc (Biopython's default disorder handling)
for res in list(ch):
    if res.id[0] != ' ' and res.get_resname() != 'MSE': ch.detach_child(res.id)
    else:
        for a in list(res):
            if a.element in ('H', 'D'): res.detach_child(a.id)
sr = ShrakeRupley(probe_radius=1.40, n_points=100)
sr.compute(ch, level='R')
b = {res.id[1]: res.sasa for res in ch}
m = pd.read_csv(mine)
x = np.array([b[k] for k in m.num]); y = m.sasa.values
print(f'{path}: {len(m)} residues, pearson {np.corrcoef(x,y)[0,1]:.4f}, mean |diff| {np.mean(np.abs(x-y)):.2f} A^2, max |diff| {np.max(np.abs(x-y)):.2f} A^2, mean SASA {x.mean():.1f}')
