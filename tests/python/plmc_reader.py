"""A small numpy reader of plmc's binary parameter file (format v2), written
for these tests from the layout EVcouplings' CouplingsModel reads (float32):

    int32  L, q, N_valid, N_invalid, num_iter
    float  theta, lambda_h, lambda_J, lambda_group, N_eff
    char   alphabet[q]
    float  weights[N_valid + N_invalid]
    char   target_seq[L]
    int32  index_list[L]
    float  f_i[L][q], h_i[L][q]
    float  f_ij[i<j][q][q]   (pairs in order i = 0.., j = i+1..)
    float  J_ij[i<j][q][q]
"""
import numpy as np


def read_plmc(path):
    with open(path, "rb") as f:
        buf = f.read()
    off = 0

    def take(dtype, n):
        nonlocal off
        a = np.frombuffer(buf, dtype, n, off)
        off += a.nbytes
        return a

    L, q, nv, ni, it = (int(v) for v in take("<i4", 5))
    theta, lh, lj, lg, neff = (float(v) for v in take("<f4", 5))
    alphabet = take("S1", q).astype("U1")
    weights = take("<f4", nv + ni)
    target = take("S1", L).astype("U1")
    index = take("<i4", L)
    f_i = take("<f4", L * q).reshape(L, q)
    h_i = take("<f4", L * q).reshape(L, q)
    npairs = L * (L - 1) // 2
    blocks_f = take("<f4", npairs * q * q).reshape(npairs, q, q)
    blocks_j = take("<f4", npairs * q * q).reshape(npairs, q, q)
    if off != len(buf):
        raise ValueError("%d bytes after the couplings" % (len(buf) - off))
    f_ij = np.zeros((L, L, q, q), np.float32)
    J_ij = np.zeros((L, L, q, q), np.float32)
    k = 0
    for i in range(L - 1):
        for j in range(i + 1, L):
            f_ij[i, j], f_ij[j, i] = blocks_f[k], blocks_f[k].T
            J_ij[i, j], J_ij[j, i] = blocks_j[k], blocks_j[k].T
            k += 1
    return dict(L=L, num_symbols=q, N_valid=nv, N_invalid=ni, num_iter=it, theta=theta, lambda_h=lh,
                lambda_J=lj, lambda_group=lg, N_eff=neff, alphabet="".join(alphabet), weights=weights,
                target_seq="".join(target), index_list=index, f_i=f_i, h_i=h_i, f_ij=f_ij, J_ij=J_ij)
