"""Every model kind fitted, scored and mutated from Python equals the CLI."""
import csv
import os
import io

import numpy as np
import pytest

from conftest import PDZ, PDZ_DMS, PDZ_FOCUS, THREADS, cli, need


@pytest.mark.parametrize("kind", ["profile", "ar", "potts"])
def test_fit_equals_cli(pdz_models, kind):
    py, c, _ = pdz_models[kind]
    assert py.name == c.name == kind
    assert (py.L, py.q) == (c.L, c.q) == (75, 21)
    assert np.array_equal(py.fields, c.fields)
    if kind != "profile":
        assert np.array_equal(py.couplings, c.couplings)
        assert np.abs(py.couplings).max() > 0
    else:
        assert py.couplings is None
    assert np.array_equal(py.focus, c.focus) and np.array_equal(py.pos, c.pos)


def test_caps(pdz_models):
    assert pdz_models["ar"][0].caps >= {"normalised", "exact_sample", "aligned"}
    assert "normalised" not in pdz_models["potts"][0].caps
    assert "couplings" in pdz_models["potts"][0].caps


def _csv(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("kind", ["profile", "ar", "potts"])
def test_scores_of_sequences_equal_cli(pdz, pdz_models, kind, tmp_path):
    py, _, path = pdz_models[kind]
    fa = tmp_path / "rows.fa"
    fa.write_text("".join(">r%d\n%s\n" % (k, s) for k, s in enumerate(pdz.sequences())))
    rows = _csv(cli("score", "-m", path, "--sequences", fa, "-o", "-"))
    col = [k for k in rows[0] if k != "name"][0]
    want = np.array([float(r[col]) for r in rows])
    got = py.score(pdz.codes, threads=THREADS)
    assert got.shape == (44,)
    # the CLI prints 6 decimals; its sequence score is relative to the focus
    ref = py.score(py.focus)
    assert np.allclose(got - ref, want, atol=6e-6) or np.allclose(got, want, atol=6e-6)
    assert np.array_equal(py.score(pdz.sequences()), got)  # strings or codes
    if kind in ("profile", "ar"):
        lp = py.logp(pdz.codes)
        assert np.all(lp < 0) and np.all(np.isfinite(lp))
        if kind == "ar":
            assert np.allclose(lp, got)
    else:
        with pytest.raises(py.__class__.__module__ and __import__("seqloop").UsageError, match="partition function"):
            py.logp(pdz.codes)


@pytest.mark.parametrize("kind", ["profile", "ar", "potts"])
def test_deltas_of_assay_equal_cli(pdz_models, kind):
    need(PDZ_DMS)
    py, _, path = pdz_models[kind]
    rows = _csv(cli("score", "-m", path, "--skip-invalid", "-o", "-", PDZ_DMS))
    col = list(rows[0])[-1]
    muts = [r["mutant"] for r in rows]
    got = py.delta(muts, skip_invalid=True, threads=THREADS)
    want = np.array([float(r[col]) if r[col] else np.nan for r in rows])
    assert len(muts) > 1000
    assert np.array_equal(np.isnan(got), np.isnan(want)) and (~np.isnan(got)).sum() >= 80
    ok = ~np.isnan(got)
    assert np.allclose(got[ok], want[ok], atol=6e-7)
    with pytest.raises(__import__("seqloop").InputError, match="P311A.*not a column"):
        py.delta(muts)  # the first row is outside the model (311 < 313)


def test_multi_mutants_and_separator(pdz_models):
    py = pdz_models["potts"][0]
    def mut(i):
        w = py.symbols[py.focus[i]]
        return "%s%d%s" % (w, py.pos[i], "A" if w != "A" else "C")
    a, b = mut(0), mut(5)
    both = py.delta([a + ":" + b])[0]
    assert py.delta([a + ";" + b], sep=";")[0] == both
    assert py.delta(a + "," + b, sep=",") == both
    assert py.delta("") == 0.0 and py.delta("WT") == 0.0
    # pairwise: the double is not the sum of singles (the coupling term)
    assert both != pytest.approx(py.delta(a) + py.delta(b), abs=1e-9)


@pytest.mark.parametrize("kind", ["profile", "potts"])
def test_all_singles_matrix_equals_cli(pdz_models, kind):
    py, _, path = pdz_models[kind]
    M = py.all_singles()
    assert M.shape == (75, 21)
    rows = _csv(cli("score", "-m", path, "--all-singles", "-o", "-"))
    col = list(rows[0])[-1]
    pos = list(py.pos)
    n = 0
    for r in rows:
        i, a = pos.index(int(r["pos"])), py.symbols.index(r["mt"])
        assert M[i, a] == pytest.approx(float(r[col]), abs=6e-7)
        n += 1
    assert n == np.isfinite(M).sum() - 75 + np.isnan(M[:, 1:]).all(axis=1).sum()  # minus the wild types
    assert np.all(M[np.arange(75), py.focus] == 0)
    assert np.isnan(M[:, 0]).all()


def test_write_read_round_trip(sl, pdz_models, tmp_path):
    py = pdz_models["ar"][0]
    py.write(tmp_path / "m.ar")
    back = sl.read_model(tmp_path / "m.ar")
    prov = back.meta["provenance"]  # the version is in the provenance of what Python writes
    assert prov["version"] == sl.version() and prov["api"] == "python" and len(prov["input_sha256"]) == 64
    assert back.meta["fit"]["model"] == "ar"
    assert np.array_equal(back.couplings, py.couplings)
    out = _csv(cli("score", "-m", tmp_path / "m.ar", "--mutants", "A313G", "--skip-invalid", "-o", "-"))
    assert len(out) == 1
    with pytest.raises(sl.InputError, match="nope"):
        sl.read_model(tmp_path / "nope")


def test_fit_rejects_unknown_kind(sl, pdz):
    with pytest.raises(sl.UsageError, match="unknown model kind"):
        sl.fit(pdz, "hmm")


def test_ctrl_c_stops_a_potts_fit(tmp_path):
    """SIGINT during a Potts fit: KeyboardInterrupt in Python (the L-BFGS
    callback stops the optimiser), and a model file written before is intact."""
    import subprocess
    import sys
    import textwrap

    from conftest import ROOT
    need(PDZ)
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent('''
        import os, signal, sys, threading
        # as at a terminal, whatever the test was started from (a shell's background job
        # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, %r)
        import seqloop as sl
        a = sl.read_alignment(%r, focus=%r)
        sl.fit(a, "profile").write(sys.argv[1])
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            sl.fit(a, "potts", max_iter=0)     # until converged: far longer than 0.5 s
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
    ''' % (os.path.join(ROOT, "python"), PDZ, PDZ_FOCUS)))
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "p.model")], capture_output=True, text=True,
                         timeout=600)
    assert out.stdout.strip() == "interrupted", out.stdout + out.stderr
    import seqloop
    assert seqloop.read_model(tmp_path / "p.model").name == "profile"
    assert sorted(os.listdir(tmp_path)) == ["fit.py", "p.model"]
