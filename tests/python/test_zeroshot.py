"""The zero-shot kinds (lor, gemme), RSA weighting and the proteingym preset
from Python equal `seqloop fit` with the same options."""
import os
import subprocess

import numpy as np
import pytest

from conftest import BIN, DATA, PDZ, PDZ_FOCUS, THREADS, cli, need

PDZ_CIF = os.path.join(DATA, "dlg4_pdz3", "1be9.cif")
GB1 = os.path.join(DATA, "gb1", "SPG1_STRSG_full_11-26-2021_b07.a2m")


@pytest.mark.parametrize("kind", ["lor", "gemme"])
def test_zeroshot_kinds_equal_cli(sl, pdz, kind, tmp_path):
    path = tmp_path / ("pdz." + kind)
    cli("fit", "--model", kind, "-f", PDZ_FOCUS, "-t", THREADS, "-q", "-o", path, PDZ)
    py, c = sl.fit(pdz, kind, threads=THREADS), sl.read_model(path)
    assert py.name == c.name == kind and (py.L, py.q) == (75, 21)
    assert np.array_equal(py.fields, c.fields) and np.abs(py.fields).max() > 0.5
    assert py.meta["fit"]["constants"].startswith("r=" if kind == "lor" else "alpha=")
    d = py.delta(["V314A", "V314A:I315G"])
    assert abs(d[1] - (d[0] + py.delta("I315G"))) < 1e-9  # additive over mutations
    with pytest.raises(sl.UsageError, match="fixed constants"):
        sl.fit(pdz, kind, gaps_missing=True)


def test_weight_by_rsa_equals_cli(sl, pdz, tmp_path):
    need(PDZ_CIF)
    path = tmp_path / "pdz.lor"
    cli("fit", "--model", "lor", "-f", PDZ_FOCUS, "-q", "--structure", PDZ_CIF + ":A", "-o", path, PDZ)
    m = sl.fit(pdz, "lor")
    plain = m.fields
    fac = m.weight_by_rsa(PDZ_CIF, "A")
    c = sl.read_model(path)
    assert np.array_equal(m.fields, c.fields)
    assert np.allclose(m.fields, plain * fac[:, None].astype(np.float32), atol=1e-6)
    r = m.meta["fit"]["rsa"]
    assert r["chain"] == "A" and len(r["factors"]) == 75 and r["weighted"] > 60 and r["identity"] > 0.9
    assert np.allclose(r["factors"], c.meta["fit"]["rsa"]["factors"])
    assert fac.max() > 0.95 and fac.min() < 0.5  # buried (factor near 1) and exposed columns
    with pytest.raises(sl.UsageError, match="already scaled"):
        m.weight_by_rsa(PDZ_CIF)
    m.write(tmp_path / "again.lor")  # the record survives the file: score --structure refuses it
    r2 = subprocess.run([BIN, "score", "-m", str(tmp_path / "again.lor"), "--structure", PDZ_CIF, "--mutants", "V314A"],
                        capture_output=True, text=True)
    assert r2.returncode == 2 and "already scaled" in r2.stderr


def test_proteingym_preset_equals_cli(sl, tmp_path):
    toy = tmp_path / "toy.a2m"
    toy.write_text(">F/1-6\nMKVEWA\n>r1\nMKVEWA\n>r2\nM--EWA\n>r3\n---EW-\n>r4\nMK-..A\n>r5\n-K-EWA\n>r6\nLRVDYA\n")
    aln = sl.read_alignment(toy, focus_first=True, evc_seq_coverage=0.5, evc_col_coverage=0.7)
    assert (aln.N, aln.L) == (6, 5) and list(aln.pos) == [1, 2, 4, 5, 6]
    for kind in ("profile", "potts"):
        path = tmp_path / ("toy." + kind)
        cli("fit", "--model", kind, "--preset", "proteingym", "--focus-first", "-t", THREADS, "-q", "-o", path, toy)
        py, c = sl.fit(aln, kind, preset="proteingym", threads=THREADS), sl.read_model(path)
        assert py.q == c.q == 20  # gaps missing
        assert np.array_equal(py.fields, c.fields)
        if kind == "potts":
            assert np.array_equal(py.couplings, c.couplings)
    with pytest.raises(sl.UsageError, match="proteingym"):
        sl.fit(aln, "ar", preset="proteingym")


def test_proteingym_preset_gb1(sl, tmp_path):
    need(GB1)
    aln = sl.read_alignment(GB1, focus="SPG1_STRSG", evc_seq_coverage=0.5, evc_col_coverage=0.7)
    assert (aln.N, aln.L) == (44, 409)
    path = tmp_path / "gb1.prof"
    cli("fit", "--model", "profile", "--preset", "proteingym", "-f", "SPG1_STRSG", "-q", "-o", path, GB1)
    assert np.array_equal(sl.fit(aln, "profile", preset="proteingym").fields, sl.read_model(path).fields)
