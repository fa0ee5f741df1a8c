# tests/e2e/lib.sh: helpers for end-to-end tests, sourced by each script.
# Each check prints "ok - ...", "not ok - ..." or "skip - ..."; tests/run.sh counts them.
set -u
BIN=${SEQLOOP_BIN:-./seqloop}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
DATA=${SEQLOOP_DATA:-../shared/data}
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILED=0

ok()   { echo "ok - $*"; }
nok()  { echo "not ok - $*"; FAILED=1; }
skip() { echo "skip - $*"; }
check() { # check "description" condition-command...
  local d=$1; shift
  if "$@"; then ok "$d"; else nok "$d"; fi
}
# need FILE...: true if every data file exists, else prints a skip line.
need() {
  local f
  for f in "$@"; do
    if [ ! -e "$f" ]; then skip "${CASE:-test}: data absent ($f)"; return 1; fi
  done
}
# run_sl ARGS...: run seqloop, capturing stdout/stderr/status in $TMP/{out,err} and $RC.
run_sl() {
  "$BIN" "$@" > "$TMP/out" 2> "$TMP/err"; RC=$?
}
# expect_error CODE PATTERN ARGS...: seqloop must exit CODE and print PATTERN (ERE) on stderr.
expect_error() {
  local code=$1 pat=$2; shift 2
  run_sl "$@"
  if [ "$RC" -eq "$code" ] && grep -Eq -- "$pat" "$TMP/err"; then
    ok "${CASE:-error}: exit $code, message matches /$pat/"
  else
    nok "${CASE:-error}: expected exit $code and /$pat/, got exit $RC: $(head -c 300 "$TMP/err")"
  fi
}
# json_get FILE EXPR: a value from a JSON file via Debian's python3 (or empty).
json_get() {
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2" 2>/dev/null
}
finish() { exit $FAILED; }
