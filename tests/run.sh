#!/usr/bin/env bash
# tests/run.sh: run every unit driver and end-to-end script; print one
# result line per check and end with "N passed, N failed, N skipped".
# Env: SEQLOOP_BIN (default ./seqloop), SEQLOOP_UNIT_DIR (default build/tests),
#      SEQLOOP_DATA (default ../shared/data), TESTS (a glob to run a subset).
set -u
cd "$(dirname "$0")/.."
export SEQLOOP_BIN=${SEQLOOP_BIN:-./seqloop}
export SEQLOOP_UNIT_DIR=${SEQLOOP_UNIT_DIR:-build/tests}
export SEQLOOP_DATA=${SEQLOOP_DATA:-../shared/data}
pattern=${TESTS:-*}
log=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-tests.XXXXXX")
trap 'rm -rf "$log"' EXIT
pass=0; fail=0; skip=0

count() { # $1: output file of one test program, $2: its exit code, $3: its name
  local p f s
  p=$(grep -c '^ok ' "$1"); f=$(grep -c '^not ok ' "$1"); s=$(grep -c '^skip ' "$1")
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $3 exited with status $2 without reporting a failed check"; f=1
  fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

for t in "$SEQLOOP_UNIT_DIR"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case "$name" in $pattern) ;; *) continue ;; esac
  echo "# unit: $name"
  "$t" > "$log/out" 2>&1; rc=$?
  grep -E '^(ok|not ok|skip|#)' "$log/out" | grep -v '^# [0-9]* checks'
  count "$log/out" "$rc" "$name"
done

for t in tests/e2e/*.sh; do
  name=$(basename "$t" .sh)
  case "$name" in lib) continue ;; esac
  case "$name" in $pattern) ;; *) continue ;; esac
  echo "# e2e: $name"
  bash "$t" > "$log/out" 2>&1; rc=$?
  cat "$log/out"
  count "$log/out" "$rc" "$name"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
