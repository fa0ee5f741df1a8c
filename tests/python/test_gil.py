"""Long C calls release the GIL: cffi's API mode wraps each call of the
generated module in Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS. Checked
on the C source cffi generated for this build (python/build_tmp), for every
long call the package makes; and two Python threads scoring at once agree
with one."""
import os
import re
import threading

import numpy as np
import pytest

from conftest import ROOT

LONG_CALLS = ["sl_msa_read", "sl_weights_compute", "sl_potts_fit_plm", "sl_profile_fit", "sl_ar_fit",
              "slpy_score_many", "slpy_delta_many", "slpy_all_singles", "sl_sample_ancestral", "sl_gibbs_sample",
              "sl_coupling_scores", "sl_split", "sl_leakage_compute", "slpy_design_run", "slpy_ledger_csv",
              "sl_model_read", "sl_model_write", "sl_model_write_plmc_msa"]


def test_generated_wrappers_release_the_gil():
    src = os.path.join(ROOT, "python", "build_tmp", "seqloop", "_seqloop_cffi.c")
    if not os.path.exists(src):
        pytest.skip("the generated C source is absent (make python writes it)")
    text = open(src).read()
    for name in LONG_CALLS:
        call = re.search(r"Py_BEGIN_ALLOW_THREADS\s+_cffi_restore_errno\(\);\s+\{ result = %s\(" % name, text)
        assert call, "%s is not called with the GIL released" % name


def test_threads_score_concurrently(pdz_models):
    m = pdz_models["potts"][0]
    rng = np.random.default_rng(1)
    x = rng.integers(0, 21, size=(3000, 75), dtype=np.uint8)
    want = m.score(x, threads=1)
    out = [None] * 4

    def work(k):
        out[k] = m.score(x, threads=1)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        assert np.array_equal(o, want)
