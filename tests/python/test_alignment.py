"""Alignments from Python: codes, names, weights and Neff equal the CLI's."""
import json

import numpy as np
import pytest

from conftest import PDZ, PDZ_FOCUS, WW, cli, need


def test_version(sl, tmp_path):
    v = cli("--version").split()[1]
    assert sl.version() == v and sl.__version__ == v
    for cmd in ("fit", "score", "sample", "contacts", "split", "design", "ledger", "weights"):
        assert cli(cmd, "--version").split()[1] == v
    need(PDZ)
    # the version is in the provenance of what the CLI writes: model files, sidecars, the ledger
    cli("fit", "--model", "profile", "-f", PDZ_FOCUS, "-o", tmp_path / "m", PDZ)
    assert sl.read_model(tmp_path / "m").meta["provenance"]["version"] == v
    assert json.loads((tmp_path / "m.prov.json").read_text())["version"] == v


def test_pdz_matches_audit(sl, pdz):
    d = json.loads(cli("audit", "--json", "-f", PDZ_FOCUS, PDZ))
    assert (pdz.N, pdz.L) == (d["N"], d["L"]) == (44, 75)
    assert pdz.neff == pytest.approx(d["neff"], abs=1e-9)
    assert pdz.codes.shape == (44, 75) and pdz.codes.dtype == np.uint8
    assert pdz.names[pdz.focus] == PDZ_FOCUS
    assert pdz.pos[0] == 313 and pdz.pos[-1] == 387
    # the codes decode to the FASTA rows that `seqloop ingest` writes
    fasta = cli("ingest", "-f", PDZ_FOCUS, "-o", "-", PDZ).split(">")[1:]
    rows = ["".join(r.split("\n")[1:]).upper().replace(".", "-") for r in fasta]
    assert pdz.sequences() == rows


def test_weights_equal_cli(sl, tmp_path):
    need(WW)
    a = sl.read_alignment(WW, threads=2)
    cli("weights", "-t", 2, "-o", tmp_path / "w", WW)
    rows = [l.split("\t") for l in open(tmp_path / "w").read().splitlines()[1:]]
    w = np.array([float(r[0]) for r in rows if r[1] != "-"])  # '-': a record ingestion dropped (weight 0)
    assert [r[1] for r in rows if r[1] != "-"] == a.names
    assert a.N == 39041 and a.L == 31
    assert np.allclose(a.weights, w, rtol=1e-15, atol=0)
    assert a.neff == pytest.approx(w.sum(), rel=1e-12)
    assert round(a.neff, 1) == 3360.9
    a.write_weights(tmp_path / "w.py")
    body = lambda f: [l for l in open(f).read().splitlines() if not l.startswith("#")]  # noqa: E731
    assert body(tmp_path / "w.py") == body(tmp_path / "w")
    b = a.reweight(theta=0.0)  # theta 0: only identical rows share weight
    assert b.neff > 3360.9


def test_encode_decode(sl, pdz):
    s = pdz.sequences()[:3]
    assert np.array_equal(sl.encode(s), pdz.codes[:3])
    assert sl.decode(sl.encode("ACD-Y")) == "ACD-Y"
    with pytest.raises(sl.InputError, match="'J' at column 3"):
        sl.encode("ACJ")


def test_errors_carry_the_c_message(sl, tmp_path):
    with pytest.raises(sl.InputError) as e:
        sl.read_alignment(tmp_path / "missing.fa")
    assert "missing.fa" in str(e.value) and e.value.status in (1, 3)
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nACDE\n>b\nACD\n")
    with pytest.raises(sl.InputError, match="bad.fa"):
        sl.read_alignment(bad)
    good = tmp_path / "good.fa"  # a valid alignment, so that the option is what fails
    good.write_text(">a\nACDE\n>b\nACDF\n")
    with pytest.raises(sl.UsageError, match="theta|convention"):
        sl.read_alignment(good, convention="nope")
