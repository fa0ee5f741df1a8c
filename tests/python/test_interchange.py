"""Interchange: plmc's parameter file complete (read back with a numpy reader
of EVcouplings' layout), EVcouplings' _ECs.txt, ProteinGym's mutated_sequence
and a mutant separator on `seqloop score`."""
import csv
import io
import os

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, PDZ, PDZ_FOCUS, WW, cli, need
from plmc_reader import read_plmc


def marginals(codes, w, q, gap_missing):
    """plmc's f_i and f_ij from the alignment, in numpy."""
    N, L = codes.shape
    s = codes.astype(int) - (1 if gap_missing else 0)
    X = np.zeros((N, L, q))
    ok = s >= 0
    X[np.nonzero(ok)[0], np.nonzero(ok)[1], s[ok]] = 1
    fi = np.einsum("n,nia->ia", w, X)
    fi = fi / fi.sum(1, keepdims=True)
    fij = np.einsum("n,nia,njb->ijab", w, X, X)
    tot = fij.sum((2, 3), keepdims=True)
    fij = np.where(tot > 0, fij / np.where(tot > 0, tot, 1), 1.0 / (q * q))
    return fi, fij


@pytest.mark.parametrize("gaps", [False, True])
def test_plmc_file_complete(sl, tmp_path, gaps):
    need(PDZ)
    g = ["-g"] if gaps else []
    cli("fit", "--model", "potts", "-f", PDZ_FOCUS, "-m", 7, "-t", 2, *g, "--lambda-j", 0.5, "-o", tmp_path / "m",
        "--plmc-out", tmp_path / "m.params", PDZ)
    p = read_plmc(tmp_path / "m.params")
    a = sl.read_alignment(PDZ, focus=PDZ_FOCUS)
    m = sl.read_model(tmp_path / "m")
    q = 20 if gaps else 21
    assert (p["L"], p["num_symbols"], p["N_valid"], p["N_invalid"], p["num_iter"]) == (75, q, 44, 0, 7)
    assert p["alphabet"] == m.symbols[1:] if gaps else p["alphabet"] == m.symbols
    assert p["theta"] == pytest.approx(0.2) and p["lambda_J"] == pytest.approx(0.5)
    assert p["N_eff"] == pytest.approx(a.neff, rel=1e-6)
    assert np.allclose(p["weights"], 1 / a.weights, rtol=1e-6)
    assert p["target_seq"] == "".join(m.symbols[c] for c in m.focus)
    assert np.array_equal(p["index_list"], m.pos)
    fi, fij = marginals(a.codes, a.weights, q, gaps)
    assert np.allclose(p["f_i"], fi, atol=1e-6) and np.allclose(p["f_i"].sum(1), 1, atol=1e-5)
    iu = np.triu_indices(75, 1)
    assert np.allclose(p["f_ij"][iu], fij[iu], atol=1e-6)
    assert p["f_ij"][iu].max() > 0.1
    if not gaps:  # without -g the pair marginals sum to the single-site ones
        assert np.allclose(p["f_ij"][0, 5].sum(1), p["f_i"][0], atol=1e-6)
    assert np.array_equal(p["h_i"], m.fields)
    assert np.array_equal(p["J_ij"][iu], m.couplings[iu])
    # convert --alignment writes the same file; without the alignment the statistics are zero
    cli("convert", tmp_path / "m", "--alignment", PDZ, "-f", PDZ_FOCUS, *(["--theta", 0.2]), "-o", tmp_path / "c.params")
    assert (tmp_path / "c.params").read_bytes() == (tmp_path / "m.params").read_bytes()
    cli("convert", tmp_path / "m", "-o", tmp_path / "z.params")
    z = read_plmc(tmp_path / "z.params")
    assert z["N_valid"] == 0 and not z["f_i"].any() and z["num_iter"] == 7
    # Python writes the same file
    m.write_plmc(tmp_path / "py.params", a)
    assert (tmp_path / "py.params").read_bytes() == (tmp_path / "m.params").read_bytes()
    # and seqloop reads it back
    cli("convert", tmp_path / "m.params", "-o", tmp_path / "back.slm")
    assert np.array_equal(sl.read_model(tmp_path / "back.slm").couplings, m.couplings)


def test_plmc_weights_per_record_with_dropped_rows(sl, tmp_path):
    need(WW)
    cli("fit", "--model", "potts", "-m", 1, "-t", 2, "-o", tmp_path / "ww", "--plmc-out", tmp_path / "ww.params", WW)
    p = read_plmc(tmp_path / "ww.params")
    assert (p["N_valid"], p["N_invalid"], p["num_iter"]) == (39041, 4, 1)
    cli("weights", "-t", 2, "-o", tmp_path / "w", WW)
    rows = [l.split("\t") for l in (tmp_path / "w").read_text().splitlines()[1:]]
    w = np.array([float(r[0]) for r in rows])
    assert len(p["weights"]) == len(w) == 39045
    assert np.array_equal(p["weights"] == 0, w == 0) and (w == 0).sum() == 4
    assert np.allclose(p["weights"][w > 0], 1 / w[w > 0], rtol=1e-6)


def test_ecs_file_reads_as_evcouplings_does(sl, tmp_path):
    need(PDZ)
    cli("fit", "--model", "potts", "-f", PDZ_FOCUS, "-m", 7, "-o", tmp_path / "m", "--plmc-out", tmp_path / "m.params", PDZ)
    cli("contacts", "-m", tmp_path / "m", "-o", tmp_path / "pdz_ECs.txt")
    cli("contacts", "-m", tmp_path / "m", "-o", tmp_path / "pdz.csv")
    # as evcouplings.couplings.read_raw_ec_file reads it
    ecs = pd.read_csv(tmp_path / "pdz_ECs.txt", sep=" ", names=["i", "A_i", "j", "A_j", "fn", "cn"])
    table = pd.read_csv(tmp_path / "pdz.csv")
    assert len(ecs) == 75 * 74 // 2
    assert (ecs[["i", "A_i", "j", "A_j"]].values == table[["i", "A_i", "j", "A_j"]].values).all()
    assert np.allclose(ecs["cn"], table["score"]) and np.allclose(ecs["fn"], table["raw"])
    assert ecs["cn"].is_monotonic_decreasing
    # fn and cn from the plmc file's J_ij, in numpy: Frobenius norms and the APC
    p = read_plmc(tmp_path / "m.params")
    L = p["L"]
    fn = np.linalg.norm(p["J_ij"].astype(np.float64), axis=(2, 3))
    np.fill_diagonal(fn, 0)
    col = fn.sum(0) / (L - 1)
    cn = fn - np.outer(col, col) / (fn.sum() / (L * (L - 1)))
    idx = {v: k for k, v in enumerate(p["index_list"])}
    for r in ecs.itertuples():
        i, j = idx[r.i], idx[r.j]
        assert r.fn == pytest.approx(fn[i, j], abs=2e-6) and r.cn == pytest.approx(cn[i, j], abs=2e-6)
    # --format ecs to stdout, and --top
    out = cli("contacts", "-m", tmp_path / "m", "--format", "ecs", "--top", 5, "-o", "-")
    assert out.splitlines() == (tmp_path / "pdz_ECs.txt").read_text().splitlines()[:5]


def test_proteingym_mutated_sequence_and_separator(sl, tmp_path):
    d = os.path.join(DATA, "proteingym_subset", "AMFR_HUMAN_Tsuboyama_2023_4G3O")
    aln = os.path.join(d, "AMFR_HUMAN_Tsuboyama_2023_4G3O.a2m")
    assay = os.path.join(d, "AMFR_HUMAN_Rocklin_2023_4G3O_ProteinGym_v1.0_processed.csv")
    need(aln, assay)
    cli("fit", "--model", "profile", "-o", tmp_path / "m", aln)
    by_seq = cli("score", "-m", tmp_path / "m", "--sequence-column", "mutated_sequence", "-o", "-", assay)
    by_mut = cli("score", "-m", tmp_path / "m", "-o", "-", assay)
    assert by_seq == by_mut
    rows = list(csv.DictReader(io.StringIO(by_seq)))
    assert len(rows) == 2972 and sum(":" in r["mutant"] for r in rows) == 2152
    # the same doubles written with ';' and scored with --mutant-separator ';'
    semi = tmp_path / "semi.csv"
    with open(semi, "w") as f:
        f.write("mutant,DMS_score\n")
        for r in rows:
            f.write("%s,%s\n" % (r["mutant"].replace(":", ";"), r["DMS_score"]))
    out = list(csv.DictReader(io.StringIO(cli("score", "-m", tmp_path / "m", "--mutant-separator", ";", "-o", "-",
                                               semi))))
    assert [o["seqloop_score"] for o in out] == [r["seqloop_score"] for r in rows]
    m = sl.read_model(tmp_path / "m")
    got = m.delta([o["mutant"] for o in out], sep=";")
    assert np.allclose(got, [float(r["seqloop_score"]) for r in rows], atol=6e-7)
    # a wrong residue in mutated_sequence's place is an error naming the row
    bad = tmp_path / "bad.csv"
    bad.write_text("mutated_sequence\nYFQGQLNAMAHQIQEMFPQVPYHLVLQDLQLTRSVEITTDNILEG\n")
    r = __import__("subprocess").run([__import__("conftest").BIN, "score", "-m", str(tmp_path / "m"),
                                      "--sequence-column", "mutated_sequence", "-o", "-", str(bad)],
                                     capture_output=True, text=True)
    assert r.returncode == 1 and "has no residue 46" in r.stderr and "bad.csv line 2" in r.stderr
