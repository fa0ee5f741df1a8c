"""A design campaign whose oracle is a Python callable: the loop runs in C and
calls back; the ledger reads as pandas tables; failures and Ctrl-C roll the
round back and leave a ledger that resumes."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT, cli

START = "MKVLAAGGEW"


def frac_a(seqs):
    return [s.count("A") / len(s) + 0.01 * s.count("W") for s in seqs]


def test_callable_oracle_campaign(sl, tmp_path):
    db = tmp_path / "l.db"
    calls = []

    def oracle(seqs):
        calls.append(list(seqs))
        return frac_a(seqs)

    r = sl.design(db, oracle, start=START, budget=25, batch=4, seed=3)
    assert r["n_measured"] == 25 and r["why"] == ["budget"]
    t = sl.ledger_tables(db)
    assert set(t) >= {"runs", "rounds", "sequences", "predictions", "measurements", "round_stats"}
    seqs = t["sequences"][["id", "seq"]].rename(columns={"id": "sid", "seq": "text"})
    m = t["measurements"].merge(seqs, left_on="seq", right_on="sid")
    assert len(m) == 25 and (m["oracle"] == "callback").all()
    want = dict(zip([s for b in calls for s in b], [v for b in calls for v in frac_a(b)]))
    assert len(want) == 25 and sum(len(b) for b in calls) == 25
    for s, v in zip(m["text"], m["value"]):
        assert v == pytest.approx(want[s], abs=1e-12)
    assert t["runs"]["options"].str.contains("callback:python").all()
    assert (t["runs"]["version"] == sl.version()).all()
    # the CSV through Python is the CSV of `seqloop ledger export`
    cli("ledger", "export", "--ledger", db, "--table", "measurements", "-o", tmp_path / "m.csv")
    assert sl.ledger_csv(db, "measurements") == (tmp_path / "m.csv").read_text()


def test_same_campaign_as_cli_external_oracle(sl, tmp_path):
    """The callable and an external program computing the same function give
    the same campaign: the loop is the C loop either way."""
    prog = tmp_path / "oracle.py"
    prog.write_text(textwrap.dedent('''
        import json, sys
        for line in sys.stdin:
            seqs = json.loads(line)["sequences"]
            print(json.dumps({"values": [s.count("A") / len(s) + 0.01 * s.count("W") for s in seqs]}), flush=True)
    '''))
    cli("design", "run", "--ledger", tmp_path / "cli.db", "--oracle", "external:/usr/bin/python3 %s" % prog,
        "--start", START, "--budget", 21, "--batch", 4, "--seed", 9)
    sl.design(tmp_path / "py.db", frac_a, start=START, budget=21, batch=4, seed=9)
    a, b = sl.ledger_tables(tmp_path / "cli.db"), sl.ledger_tables(tmp_path / "py.db")
    for name in ("sequences", "measurements", "predictions"):
        x, y = a[name].drop(columns=["oracle"], errors="ignore"), b[name].drop(columns=["oracle"], errors="ignore")
        assert x.equals(y), name


def test_oracle_exception_rolls_back_and_resume(sl, tmp_path):
    db = tmp_path / "l.db"
    sl.design(db, frac_a, start=START, budget=9, batch=4, seed=1)
    n0 = len(sl.ledger_tables(db)["measurements"])

    def broken(seqs):
        raise RuntimeError("the plate reader caught fire")
    with pytest.raises(RuntimeError, match="plate reader"):
        sl.design(db, broken, start=START, budget=17, batch=4, seed=1)
    t = sl.ledger_tables(db)
    assert len(t["measurements"]) == n0 == 9
    assert (t["rounds"]["status"] == "done").all()

    def short(seqs):
        return [0.5]
    with pytest.raises(ValueError, match="returned 1 values for 4"):
        sl.design(db, short, start=START, budget=17, batch=4, seed=1)
    r = sl.design(db, frac_a, start=START, budget=17, batch=4, seed=1)
    assert r["n_measured"] == 17
    with pytest.raises(sl.UsageError, match="--batch"):  # the stored options are checked
        sl.design(db, frac_a, start=START, budget=30, batch=5, seed=1)
    nan = sl.design(tmp_path / "n.db", lambda s: [None] * len(s), start=START, budget=5, batch=4, seed=1)
    assert nan["n_measured"] == 5
    assert sl.ledger_tables(tmp_path / "n.db")["measurements"]["value"].isna().all()


def test_spec_oracle_and_errors(sl, tmp_path):
    r = sl.design(tmp_path / "e.db", "ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4", budget=20, batch=4, seed=2)
    assert r["n_measured"] == 20
    with pytest.raises(sl.UsageError, match="oracle"):
        sl.design(tmp_path / "x.db", "nonsense:1", start=START, budget=5)
    with pytest.raises(sl.UsageError, match="proposer"):
        sl.design(tmp_path / "x.db", frac_a, start=START, budget=5, proposer="magic")


def test_campaign_options_as_the_cli(sl, tmp_path):
    """The command line's campaign options by their stored names: a sampled
    campaign with weighted conformal intervals gives the CLI's ledger."""
    es = "ehrlich:v=4,c=2,k=2,L=6,q=2,seed=1"
    r = sl.design(tmp_path / "py.db", es, budget=81, batch=16, seed=3, proposer="all", pairwise=True,
                  conformal="weighted", init_random=16, **{"lambda": 0.5})
    assert r["n_measured"] == 81
    cli("design", "run", "-q", "--ledger", tmp_path / "cli.db", "--oracle", es, "--budget", 81, "--batch", 16,
        "--seed", 3, "--proposer", "all", "--pairwise", "--conformal", "weighted", "--init-random", 16,
        "--lambda", 0.5, "-o", tmp_path / "rounds.csv")
    py, cl = sl.ledger_tables(tmp_path / "py.db"), sl.ledger_tables(tmp_path / "cli.db")
    assert py["runs"]["options"][0] == cl["runs"]["options"][0]
    for t in ("sequences", "predictions", "measurements", "round_stats", "intervals", "draws"):
        assert py[t].equals(cl[t]), t
    assert len(py["intervals"]) > 0 and (py["intervals"]["method"] == "weighted").all()
    # refused before a ledger exists, naming the option
    for kw, msg in [({"members": 0}, "--members: expected an integer in \\[1, 1000\\], not 0"),
                    ({"alpha": 1.5}, "--alpha"), ({"lambda": 0}, "--lambda: expected a finite number > 0"),
                    ({"members": 2.5}, "members: expected an integer"), ({"pairwise": 1}, "pairwise: expected True"),
                    ({"conformal": "split"}, "conformal 'split'"), ({"nosuch": 1}, "unknown option 'nosuch'"),
                    ({"prior_top": 1.5}, "--prior-top: expected a finite number in \\[0, 1\\]"),
                    ({"conformal": "weighted"}, "--proposer all")]:
        with pytest.raises(sl.UsageError, match=msg):
            sl.design(tmp_path / "bad.db", es, budget=20, **kw)
        assert not (tmp_path / "bad.db").exists()
    with pytest.raises(sl.UsageError, match="--batch: expected an integer"):
        sl.design(tmp_path / "bad.db", es, budget=20, batch=0)


def test_weighted_cbas_as_the_cli(sl, tmp_path):
    """A sampled campaign drawn from CbAS's search distribution over a space
    too large to enumerate (8^12): Python's ledger is the CLI's, draws and
    weighted intervals included."""
    es = "ehrlich:v=8,c=2,k=4,L=12,q=4,seed=1"
    kw = dict(budget=97, batch=24, seed=2, proposer="cbas", conformal="weighted", init_random=24, members=5)
    r = sl.design(tmp_path / "py.db", es, **kw)
    assert r["n_measured"] >= 97
    cli("design", "run", "-q", "--ledger", tmp_path / "cli.db", "--oracle", es, "--budget", 97, "--batch", 24,
        "--seed", 2, "--proposer", "cbas", "--conformal", "weighted", "--init-random", 24, "--members", 5,
        "-o", tmp_path / "rounds.csv")
    py, cl = sl.ledger_tables(tmp_path / "py.db"), sl.ledger_tables(tmp_path / "cli.db")
    assert py["runs"]["options"][0] == cl["runs"]["options"][0]
    for t in ("sequences", "predictions", "measurements", "round_stats", "intervals", "draws"):
        assert py[t].equals(cl[t]), t
    assert len(py["intervals"]) > 0 and (py["intervals"]["method"] == "weighted").all()
    with pytest.raises(sl.UsageError, match="--proposer all needs a design space of at most 4194304"):
        sl.design(tmp_path / "bad.db", es, budget=20, proposer="all", conformal="weighted")


def test_conformal_batch_as_the_cli(sl, tmp_path):
    """--conformal batch from Python: the CLI's ledger, intervals included,
    for the part of each batch that did not calibrate them; replicates are
    refused before a ledger exists."""
    es = "ehrlich:v=4,c=2,k=2,L=6,q=2,seed=1"
    kw = dict(budget=121, batch=40, seed=5, pairwise=True, conformal="batch", init_random=40)
    r = sl.design(tmp_path / "py.db", es, **kw)
    assert r["n_measured"] == 121
    cli("design", "run", "-q", "--ledger", tmp_path / "cli.db", "--oracle", es, "--budget", 121, "--batch", 40,
        "--seed", 5, "--pairwise", "--conformal", "batch", "--init-random", 40, "-o", tmp_path / "rounds.csv")
    py, cl = sl.ledger_tables(tmp_path / "py.db"), sl.ledger_tables(tmp_path / "cli.db")
    assert py["runs"]["options"][0] == cl["runs"]["options"][0]
    for t in ("sequences", "predictions", "measurements", "round_stats", "intervals"):
        assert py[t].equals(cl[t]), t
    assert len(py["intervals"]) == 40 and (py["intervals"]["method"] == "batch").all()  # rounds 2, 3: 20 each
    with pytest.raises(sl.UsageError, match="--conformal batch calibrates on one measurement per sequence"):
        sl.design(tmp_path / "bad.db", es, budget=20, conformal="batch", replicates=2)
    assert not (tmp_path / "bad.db").exists()


def test_ctrl_c_interrupts_and_ledger_stays_consistent(tmp_path):
    """SIGINT while the C loop runs: KeyboardInterrupt reaches Python, the
    round in progress is rolled back, the ledger resumes to the budget."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent('''
        import os, signal, sys
        # as at a terminal, whatever the test was started from (a shell's background job
        # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, %r)
        import seqloop as sl
        n = [0]
        def oracle(seqs):
            n[0] += 1
            if n[0] == 3:
                os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C during the third batch
            return [s.count("A") / len(s) for s in seqs]
        try:
            sl.design(sys.argv[1], oracle, start="MKVLAAGGEW", budget=200, batch=4, seed=1)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted", n[0])
    ''' % os.path.join(ROOT, "python")))
    db = tmp_path / "c.db"
    out = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("interrupted"), out.stdout + out.stderr
    import seqloop as sl
    t = sl.ledger_tables(db)
    assert (t["rounds"]["status"] == "done").all()
    k = len(t["rounds"]) - 1                      # rounds after round 0
    assert len(t["measurements"]) == 1 + 4 * k    # whole rounds only
    assert k < 50
    r = sl.design(db, lambda s: [x.count("A") / len(x) for x in s], start="MKVLAAGGEW", budget=40, batch=4, seed=1)
    assert r["n_measured"] == 40
