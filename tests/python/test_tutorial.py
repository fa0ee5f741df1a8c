"""docs/python.md's tutorial runs as written (data path aside) and prints what
the text says; it stays under 20 lines."""
import os
import re
import subprocess
import sys

from conftest import DATA, PDZ, ROOT, need


def test_tutorial_runs(tmp_path):
    need(PDZ)
    doc = open(os.path.join(ROOT, "docs", "python.md")).read()
    code = re.search(r"<!-- tutorial:begin -->\n```python\n(.*?)```\n<!-- tutorial:end -->", doc, re.S).group(1)
    lines = [l for l in code.splitlines() if l.strip()]
    assert len(lines) < 20, len(lines)
    assert "../shared/data/" in code
    (tmp_path / "tutorial.py").write_text(code.replace("../shared/data", DATA))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "tutorial.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "(44, 75) 44.0"
    assert out[3] == "True"
    n, best = out[4].split()
    assert n == "40" and float(best) > -10
    assert (tmp_path / "pdz.db").exists()
