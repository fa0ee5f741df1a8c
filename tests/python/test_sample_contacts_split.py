"""Sampling, contacts, splits and the leakage audit from Python equal the CLI."""
import csv
import io
import json

import numpy as np
import pytest

from conftest import PDZ, PDZ_FOCUS, THREADS, cli


def test_ar_samples_equal_cli(sl, pdz_models):
    py, _, path = pdz_models["ar"]
    x, lp = py.sample(40, temperature=1.5, seed=11, threads=THREADS)
    assert x.shape == (40, 75) and x.dtype == np.uint8
    fa = cli("sample", "-m", path, "-n", 40, "--temperature", 1.5, "--seed", 11, "-t", THREADS, "-o", "-")
    recs = [r.split("\n", 1) for r in fa.split(">")[1:]]
    assert sl.decode(x) == [r[1].replace("\n", "") for r in recs]
    want = np.array([float(r[0].split("logp=")[1].split()[0]) for r in recs])
    assert np.allclose(lp, want, atol=6e-5)
    assert np.allclose(lp, py.logp(x))  # log P at T = 1 of the draws


def test_temperature_and_fixed_sites(sl, pdz_models):
    py = pdz_models["ar"][0]
    cold, lp_cold = py.sample(200, temperature=0.5, seed=3)
    hot, lp_hot = py.sample(200, temperature=2.0, seed=3)
    assert lp_cold.mean() > lp_hot.mean()
    assert len({r.tobytes() for r in cold}) < len({r.tobytes() for r in hot})
    # clamps: the first three columns fixed to the focus (ar: exact only for a prefix in its order,
    # so clamp with the Gibbs sampler of the profile and potts kinds, and the ar order's first sites)
    for kind in ("profile", "potts"):
        m = pdz_models[kind][0]
        fixed = {5: "W", 9: "G"}
        x, _ = m.sample(30, temperature=1.0, fixed=fixed, seed=5, burnin=20, thin=2)
        assert x.shape == (30, 75)
        assert (x[:, 5] == m.symbols.index("W")).all() and (x[:, 9] == m.symbols.index("G")).all()
        assert len({r.tobytes() for r in x}) > 1
        # the same chains as `seqloop sample --fix` (residue numbers of the focus)
        fix = "%d%s,%d%s" % (m.pos[5], "W", m.pos[9], "G")
        fa = cli("sample", "-m", pdz_models[kind][2], "-n", 30, "--fix", fix, "--seed", 5, "--burnin", 20,
                 "--thin", 2, "-t", THREADS, "-o", "-")
        seqs = ["".join(r.split("\n")[1:]) for r in fa.split(">")[1:]]
        x2, _ = m.sample(30, fixed=fixed, seed=5, burnin=20, thin=2, threads=THREADS)
        assert sl.decode(x2) == seqs


def test_contacts_equal_cli(sl, pdz_models):
    py, _, path = pdz_models["potts"]
    C = py.contacts(gauge="raw")
    assert C.shape == (75, 75) and np.allclose(C, C.T)
    rows = list(csv.DictReader(io.StringIO(cli("contacts", "-m", path, "-o", "-"))))
    pos = list(py.pos)
    raw = py.contacts(gauge="raw", apc=False)
    assert len(rows) == 75 * 74 // 2
    for r in rows:
        i, j = pos.index(int(r["i"])), pos.index(int(r["j"]))
        assert C[i, j] == pytest.approx(float(r["score"]), abs=6e-7)
        assert raw[i, j] == pytest.approx(float(r["raw"]), abs=6e-7)
        assert r["A_i"] == py.symbols[py.focus[i]]
    ez = py.contacts(gauge="zerosum")
    assert not np.allclose(ez, C)
    with pytest.raises(sl.UsageError):
        pdz_models["profile"][0].contacts()


def test_split_and_leakage_equal_cli(sl, pdz, tmp_path):
    labels, rep = sl.split(pdz, identity=0.8, test_frac=0.2, seed=1)
    cli("split", "-f", PDZ_FOCUS, "--identity", 0.8, "--test-frac", 0.2, "--seed", 1, "-o", tmp_path / "s", PDZ)
    d = json.loads((tmp_path / "s.split.json").read_text())
    assert (rep["n_train"], rep["n_test"], rep["n_dropped"]) == (d["n_train"], d["n_test"], d["n_dropped"])
    names = lambda f: [l[1:] for l in (tmp_path / f).read_text().splitlines() if l.startswith(">")]  # noqa: E731
    assert [pdz.names[k] for k in np.flatnonzero(labels == 1)] == names("s.test.fa")
    assert labels[pdz.focus] == 0
    lk = sl.leakage(pdz.codes[labels == 0], pdz.codes[labels == 1], threshold=0.8)
    assert lk["held_out"] and lk["n_leaky"] == 0
    assert lk["max"] == pytest.approx(d["max_test_train_identity"], abs=1e-12)
    assert lk["median"] == pytest.approx(d["median_test_train_identity"], abs=1e-12)
    assert lk["max_id"].shape == (rep["n_test"],) and lk["hist"].sum() == rep["n_test"]
    # a random split of near-duplicates leaks, and the audit says so
    rl, _ = sl.split(pdz, method="random", test_frac=0.5, seed=2)
    lk2 = sl.leakage(pdz.codes[rl == 0], pdz.codes[rl == 1], threshold=0.5)
    assert not lk2["held_out"] and lk2["n_leaky"] > 0
    with pytest.raises(sl.UsageError, match="method"):
        sl.split(pdz, method="kmeans")
