"""Shared fixtures of the Python tests: the package from the build tree, the
seqloop executable (SEQLOOP_BIN) to compare with, and real data
(SEQLOOP_DATA, default ../shared/data; a test whose data is absent skips with
"data absent")."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))


def _abs(p):
    return p if os.path.isabs(p) else os.path.join(ROOT, p)


BIN = _abs(os.environ.get("SEQLOOP_BIN", "seqloop"))
DATA = _abs(os.environ.get("SEQLOOP_DATA", os.path.join("..", "shared", "data")))
PDZ = os.path.join(DATA, "dlg4_pdz3", "PF00595_PDZ_seed_hmmalign_no_inserts.fasta")
PDZ_DMS = os.path.join(DATA, "dlg4_pdz3", "DLG4_RAT_Ranganathan2012.csv")
PDZ_FOCUS = "DLG4_RAT/313-391"
WW = os.path.join(DATA, "ww_pf00397", "PF00397_WW_pfam_full.fasta")
THREADS = 2


def need(*paths):
    for p in paths:
        if not os.path.exists(p):
            pytest.skip("data absent (%s)" % p)


def cli(*args, check=True):
    """Run the seqloop executable; returns stdout (text)."""
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("seqloop %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode, r.stderr[-800:]))
    return r.stdout


@pytest.fixture(scope="session")
def sl():
    import seqloop
    return seqloop


@pytest.fixture(scope="session")
def pdz(sl):
    need(PDZ)
    return sl.read_alignment(PDZ, focus=PDZ_FOCUS)


@pytest.fixture(scope="session")
def pdz_models(sl, pdz, tmp_path_factory):
    """Each kind fitted twice on the PDZ seed: by Python and by the CLI (same
    options and threads); potts limited to 25 iterations to stay quick."""
    d = tmp_path_factory.mktemp("models")
    out = {}
    for kind, extra in (("profile", []), ("ar", []), ("potts", ["-m", 25])):
        path = d / ("pdz." + kind)
        cli("fit", "--model", kind, "-f", PDZ_FOCUS, "-t", THREADS, *extra, "-o", path, PDZ)
        kw = {"max_iter": 25} if kind == "potts" else {}
        out[kind] = (sl.fit(pdz, kind, threads=THREADS, **kw), sl.read_model(path), path)
    return out
