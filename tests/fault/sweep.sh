#!/usr/bin/env bash
# tests/fault/sweep.sh: the allocation-failure sweep (issue 18; see fault.c).
#   tests/fault/sweep.sh FAULT_BIN [MAX_RUNS_PER_SCENARIO]
# For each scenario (a seqloop command on a small alignment), counts the
# allocations of a clean run, then reruns it with SEQLOOP_FAULT_ALLOC=n for
# every n (or MAX evenly spaced n, always including the first 50) and checks
# each run: no signal, no sanitizer or leak report; exit 0 only with output
# identical to the clean run's; otherwise exit 3 with "out of memory" on
# stderr and neither the output nor a temporary left behind (the ledger
# scenario: the ledger, if any, still opens and exports).
# Prints "ok - ..."/"not ok - ..." lines and a summary per scenario.
# FAULT_ONLY=REGEX limits the sweep to the scenarios whose name matches.
set -u
FB=$(readlink -f "$1"); MAX=${2:-0}
here=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${SEQLOOP_DATA:-$here/../shared/data}
W=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-fault.XXXXXX")
trap 'rm -rf "$W"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=98
export OMP_NUM_THREADS=1
FAILED=0

aln="$DATA/dlg4_pdz3/PF00595_PDZ_seed_hmmalign_no_inserts.fasta"
if [ ! -e "$aln" ]; then # a small alignment made here, so the sweep runs without the data
  aln="$W/small.fa"
  awk 'BEGIN { srand(7); a = "ACDEFGHIKLMNPQRSTVWY-"; for (n = 0; n < 30; n++) { s = "";
       for (i = 0; i < 24; i++) s = s substr(a, 1 + int(rand() * 21), 1); printf(">s%d\n%s\n", n, s) } }' > "$aln"
fi
"$FB" fit --model profile -q -t 1 -o "$W/p.model" "$aln" 2> /dev/null
"$FB" fit --model ar -q -t 1 --lambda-j 0.01 --lambda-h 0.01 -o "$W/a.model" "$aln" 2> /dev/null

# name|output file (relative to the run dir)|arguments (OUT is replaced by the output path)
scenarios=(
  "audit|out.txt|audit -q -t 1 -o OUT $aln"
  "weights|out.w|weights -q -t 1 -o OUT $aln"
  "ingest|out.fa|ingest -q -t 1 --max-gap-frac 0.5 -o OUT $aln"
  "fit profile|out.model|fit --model profile -q -t 1 -o OUT $aln"
  "fit potts|out.model|fit --model potts -q -t 1 -m 3 -o OUT $aln"
  "fit ar|out.model|fit --model ar -q -t 1 --lambda-j 0.01 --lambda-h 0.01 -o OUT $aln"
  "score all singles|out.csv|score -q -t 1 -m $W/p.model --all-singles -o OUT"
  "sample ar|out.fa|sample -q -t 1 -m $W/a.model -n 20 --seed 3 -o OUT"
  "split|out.train.fa|split -q -t 1 --identity 0.8 --seed 1 -o $W/RUN/out $aln"
  "design round|out.db|design run -q -t 1 --ledger OUT --oracle ehrlich:v=32,c=4,k=4,L=16,q=4,seed=1 --rounds 1 --batch 4 --seed 1"
)
for sc in "${scenarios[@]}"; do
  IFS='|' read -r name out args <<< "$sc"
  # FAULT_ONLY=REGEX: only the scenarios whose name matches (rerunning one after a fix)
  if [ -n "${FAULT_ONLY:-}" ] && ! [[ $name =~ $FAULT_ONLY ]]; then continue; fi
  ref="$W/ref"; rm -rf "$ref"; mkdir -p "$ref"
  a=${args//OUT/$ref/$out}; a=${a//RUN/ref}
  (cd "$ref" && SEQLOOP_FAULT_COUNT="$W/count" "$FB" $a > /dev/null 2> "$W/ref.err"); rc=$?
  N=$(cat "$W/count" 2>/dev/null || echo 0)
  if [ $rc -ne 0 ] || [ "$N" -eq 0 ]; then echo "not ok - $name: clean run failed (exit $rc): $(head -c 300 "$W/ref.err")"; FAILED=1; continue; fi
  ns=$(seq 1 "$N")
  if [ "$MAX" -gt 0 ] && [ "$N" -gt "$MAX" ]; then
    ns=$( { seq 1 50; awk -v N="$N" -v M="$MAX" 'BEGIN { for (k = 0; k < M; k++) print 1 + int(k * (N - 1) / (M - 1)) }'; } | sort -nu)
  fi
  runs=0; clean=0; oom=0; bad=0; first_bad=""
  for n in $ns; do
    d="$W/run"; rm -rf "$d"; mkdir -p "$d"
    a=${args//OUT/$d/$out}; a=${a//RUN/run}
    (cd "$d" && SEQLOOP_FAULT_ALLOC=$n "$FB" $a > /dev/null 2> "$W/err"); rc=$?
    runs=$((runs + 1)); why=""
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error|Segmentation" "$W/err" || [ $rc -ge 90 ]; then
      why="crash or sanitizer report (exit $rc): $(grep -m1 -E 'ERROR|runtime error' "$W/err" | head -c 200)"
    elif [ $rc -eq 0 ]; then
      if [ "$name" = "design round" ]; then
        "$FB" ledger export --ledger "$d/$out" --json > "$W/a.json" 2>/dev/null && "$FB" ledger export --ledger "$ref/$out" --json > "$W/b.json" 2>/dev/null \
          && cmp -s "$W/a.json" "$W/b.json" || why="exit 0 but a different ledger"
      elif ! cmp -s "$d/$out" "$ref/$out"; then why="exit 0 but a different output"; fi
      [ -z "$why" ] && clean=$((clean + 1))
    elif [ $rc -ne 3 ] || ! grep -q "out of memory" "$W/err"; then
      why="exit $rc without 'out of memory': $(head -c 200 "$W/err")"
    elif [ "$name" = "design round" ]; then
      if [ -e "$d/$out" ] && ! "$FB" ledger export --ledger "$d/$out" --json > /dev/null 2> "$W/e2"; then
        grep -q "out of memory" "$W/e2" || why="the ledger left behind does not export: $(head -c 200 "$W/e2")"
      fi
      [ -z "$why" ] && oom=$((oom + 1))
    elif [ -n "$(ls -A "$d" | grep -v '\.prov\.json$')" ]; then
      why="partial output left: $(ls -A "$d" | tr '\n' ' ')"
    else
      oom=$((oom + 1))
    fi
    if [ -n "$why" ]; then bad=$((bad + 1)); [ -z "$first_bad" ] && first_bad="n=$n: $why"; fi
  done
  if [ $bad -eq 0 ]; then
    echo "ok - $name: $N allocations, $runs failure points: $oom clean 'out of memory' exits, $clean unaffected runs, 0 crashes, leaks or partial outputs"
  else
    echo "not ok - $name: $bad of $runs failure points misbehaved (first: $first_bad)"; FAILED=1
  fi
done
exit $FAILED
