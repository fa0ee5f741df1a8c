#!/usr/bin/python3
"""plm_ref.py: an independent numpy reference for the Potts pseudo-likelihood
objective (plmc's symmetric PLM), used by tests/e2e/potts.sh.

  /usr/bin/python3 tools/plm_ref.py ALIGNED.fa WEIGHTS PARAMS [--gaps-missing]
      [--lambda-h 0.01] [--lambda-j 16]

ALIGNED.fa  aligned FASTA over the model's columns (as `seqloop ingest` writes it)
WEIGHTS     one weight per record of ALIGNED.fa (as `seqloop weights --plmc-format`)
PARAMS      plmc's binary parameter file (int32 L, q, nSeqs, nSkipped, iters;
            float theta, lh, le, lg, Neff; q alphabet bytes; nSeqs+nSkipped
            floats; L focus bytes; L int32 offsets; L*q fi; L*q h;
            pairs*q*q fij; pairs*q*q J, pairs i<j lexicographic, J_ij(a,b) a-major)

Objective (science.md): f = - sum_n w_n sum_i log P(s_i | s_-i)
  + lambda_h sum h^2 + lambda_J sum_{i<j} J^2,
  P(s_i = a | rest) = softmax_a(h_i(a) + sum_{j != i} J_ij(a, s_j)).
With --gaps-missing the states are the 20 residues; a conditional is taken only
where s_i is a residue, and gapped neighbours contribute nothing.
Prints the objective with 10 significant decimals.
"""
import argparse
import struct
import sys

import numpy as np

AA = "ACDEFGHIKLMNPQRSTVWY"


def read_fasta(path):
    names, seqs, cur = [], [], []
    for line in open(path):
        line = line.strip()
        if line.startswith(">"):
            if names:
                seqs.append("".join(cur))
            names.append(line[1:])
            cur = []
        elif line:
            cur.append(line)
    seqs.append("".join(cur))
    return names, seqs


def read_params(path):
    buf = open(path, "rb").read()
    L, q, nseq, nskip, _ = struct.unpack_from("<5i", buf, 0)
    off = 40 + q + 4 * (nseq + nskip) + L + 4 * L + 4 * L * q
    h = np.frombuffer(buf, "<f4", L * q, off).astype(np.float64).reshape(L, q)
    off += 4 * L * q
    npair = L * (L - 1) // 2
    off += 4 * npair * q * q
    J = np.frombuffer(buf, "<f4", npair * q * q, off).astype(np.float64).reshape(npair, q, q)
    alpha = buf[40:40 + q].decode()
    return L, q, alpha, h, J


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aln")
    ap.add_argument("weights")
    ap.add_argument("params")
    ap.add_argument("--gaps-missing", action="store_true")
    ap.add_argument("--lambda-h", type=float, default=0.01)
    ap.add_argument("--lambda-j", type=float, default=16.0)
    a = ap.parse_args()
    _, seqs = read_fasta(a.aln)
    w = np.array([float(x) for x in open(a.weights) if x.strip() and not x.startswith("#")])
    if len(w) != len(seqs):
        sys.exit("weights: %d lines for %d sequences" % (len(w), len(seqs)))
    L, q, alpha, h, Jp = read_params(a.params)
    if a.gaps_missing != (q == 20):
        sys.exit("parameter file has q = %d, which does not match --gaps-missing" % q)
    # Full symmetric coupling tensor J[i, j, a, b] = J_ij(a, b).
    J = np.zeros((L, L, q, q))
    k = 0
    for i in range(L):
        for j in range(i + 1, L):
            J[i, j] = Jp[k]
            J[j, i] = Jp[k].T
            k += 1
    idx = {c: n for n, c in enumerate(alpha)}
    # States: -1 = missing (a gap when gaps are missing data).
    S = np.array([[idx.get(c, -1) if c != "-" or not a.gaps_missing else -1 for c in s]
                  for s in seqs], dtype=np.int64)
    if S.shape[1] != L:
        sys.exit("alignment has %d columns, parameters %d" % (S.shape[1], L))
    f = 0.0
    for i in range(L):
        # logits[n, a] = h_i(a) + sum_{j != i, s_j present} J[i, j, a, s_nj]
        logits = np.tile(h[i], (len(seqs), 1))
        for j in range(L):
            if j == i:
                continue
            sj = S[:, j]
            present = sj >= 0
            logits[present] += J[i, j][:, sj[present]].T
        si = S[:, i]
        use = si >= 0
        mx = logits.max(axis=1, keepdims=True)
        lse = (mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1)))
        f -= np.sum(w[use] * (logits[use, si[use]] - lse[use]))
    f += a.lambda_h * np.sum(h * h) + a.lambda_j * np.sum(Jp * Jp)
    print("%.10f" % f)


if __name__ == "__main__":
    main()
