#!/usr/bin/env bash
# tests/e2e/python.sh: the Python bindings' tests (tests/python, Debian's
# python3-pytest under /usr/bin/python3), one ok/not ok/skip line per test
# for tests/run.sh. Needs the extension built (`make python`, which `make
# test` does). pytest's exit codes: 0 all passed, 1 some failed, 5 nothing
# collected (reported as a failure: the tests exist), others: pytest broke.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
if ! $PY -c 'import pytest' 2> /dev/null; then skip "python: python3-pytest absent (scripts/setup.sh installs it)"; exit 0; fi
if ! ls "$ROOT"/python/seqloop/_seqloop_cffi*.so > /dev/null 2>&1; then
  nok "python: the extension is not built (make python)"; exit 1
fi
cd "$ROOT"
SEQLOOP_BIN="$BIN" SEQLOOP_DATA="$DATA" $PY -m pytest -p no:cacheprovider -q -rA tests/python > "$TMP/pytest.out" 2>&1
rc=$?
# -rA's summary: "PASSED tests/python/x.py::test_y", "FAILED ... - why", "SKIPPED [1] file:line: why", "ERROR ..."
awk '
  /^PASSED /  { print "ok - python: " $2; next }
  /^FAILED /  { sub(/^FAILED /, ""); print "not ok - python: " $0; next }
  /^ERROR /   { sub(/^ERROR /, ""); print "not ok - python: error: " $0; next }
  /^SKIPPED / { sub(/^SKIPPED \[[0-9]+\] /, ""); print "skip - python: " $0; next }
' "$TMP/pytest.out"
case $rc in
  0) ;;
  1) FAILED=1; grep -E '^(E |>|tests/python/.*Error)' "$TMP/pytest.out" | head -40 | sed 's/^/# /' ;;
  5) nok "python: pytest collected no tests in tests/python"; ;;
  *) nok "python: pytest exited with status $rc: $(tail -c 600 "$TMP/pytest.out")" ;;
esac
exit $FAILED
