#!/usr/bin/env bash
# tests/e2e/readme.sh: the README stays true by construction. Checks that the
# README starts with exactly the two set-up commands and that .ci/run calls
# the second, then runs the README's tour (the ```sh block under "## A tour")
# top to bottom, as written, in a scratch checkout layout (./seqloop beside
# ../shared/data), failing on the first command that fails.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
readme="$root/README.md"

CASE="readme head"
first=$(awk '/^```sh/{f=1; next} f && /^```/{exit} f' "$readme")
check "$CASE: the first block holds exactly two commands" [ "$(printf '%s\n' "$first" | grep -c .)" -eq 2 ]
cmd1=$(printf '%s\n' "$first" | sed -n 1p); cmd2=$(printf '%s\n' "$first" | sed -n 2p)
check "$CASE: the first installs the dependencies, builds, installs seqloop and runs the demo ($cmd1)" \
  [ "$cmd1" = "bash scripts/setup.sh && make -j2 && make install && make demo" ]
check "$CASE: .ci/run calls the second ($cmd2)" grep -qxF "$cmd2" "$root/.ci/run"
check "$CASE: make demo runs the main job on an embedded default" \
  grep -qE '^demo:' "$root/Makefile"
demo_report() {
  grep -qxF 'DEMO_DIR ?= build/demo' "$root/Makefile" &&
    grep -qE '^[[:space:]]+\$\(SL\) report ' "$root/Makefile" &&
    grep -qF -- '-o $(DEMO_DIR)/report.html' "$root/Makefile" &&
    grep -qF 'build/demo/report.html' "$readme"
}
check "$CASE: make demo ends with the report the README points to (build/demo/report.html)" demo_report
# tests/e2e/report.sh runs `make demo-run` and checks the report's numbers and a browser's view.

CASE="readme tour"
case "$BIN" in
  *build-san*) skip "$CASE: not run under sanitizers (minutes; the same commands run in the other e2e tests)"; finish ;;
esac
need "$DATA/dhfr/DHFR.a2m" "$DATA/blat_ecolx/BLAT_ECOLX.a2m" "$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz" \
  "$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv" || finish
tour=$(awk '/^## A tour/{t=1} t && /^```sh/{f=1; next} f && /^```/{exit} f' "$readme")
check "$CASE: found ($(printf '%s\n' "$tour" | grep -c '^\./seqloop') seqloop commands)" \
  [ "$(printf '%s\n' "$tour" | grep -c '^\./seqloop')" -ge 15 ]
mkdir -p "$TMP/shared" "$TMP/checkout"
ln -s "$DATA" "$TMP/shared/data"
ln -s "$BIN" "$TMP/checkout/seqloop"
printf '%s\n' "$tour" > "$TMP/tour.sh"
# Run line by line so that a failure names its command.
n=0; failed=""
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  if ! (cd "$TMP/checkout" && bash -o pipefail -c "$line") > "$TMP/tour.out" 2> "$TMP/tour.err"; then
    failed="$line: $(tail -c 300 "$TMP/tour.err")"; break
  fi
done < "$TMP/tour.sh"
check "$CASE: all $n commands succeeded${failed:+ (failed: $failed)}" [ -z "$failed" ]
c="$TMP/checkout"
check "$CASE: outputs exist (model, contacts, scores, samples, cycle, ledger, report)" \
  test -s "$c/dhfr.model" -a -s "$c/dhfr.ecs" -a -s "$c/scored.csv" -a -s "$c/samples.fa" \
  -a -s "$c/cycle.csv" -a -s "$c/gb1.db" -a -s "$c/kunitz.tfm" -a -s "$c/tour.html" -a -s "$c/tour.json"
nm=$(grep -c '^>' "$c/samples.fa" 2>/dev/null)
check "$CASE: 10000 samples ($nm)" [ "${nm:-0}" -eq 10000 ]
nmeas=$(($(wc -l < "$c/gb1_ledger.measurements.csv" 2>/dev/null || echo 1) - 1))
check "$CASE: design run --budget 96 spent the whole budget ($nmeas measurements)" [ "$nmeas" -eq 96 ]
finish
