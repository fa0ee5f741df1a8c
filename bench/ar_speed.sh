#!/usr/bin/env bash
# bench/ar_speed.sh - arDCA training and sampling speed on kunitz_pf00014
# (13,600 x 53) and dhfr; THREADS threads (default 2). Not a test.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
OUT=${TMPDIR:-/tmp}/seqloop-bench-ar
mkdir -p "$OUT"
echo "| job | seconds | notes |"
echo "|---|---|---|"
for set in kunitz dhfr; do
  case $set in
    kunitz) ALN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz; F=() ;;
    dhfr) ALN=$DATA/dhfr/DHFR.a2m; F=(-f DYR_ECOLI) ;;
  esac
  [ -e "$ALN" ] || { echo "| $set | skipped: data absent | |"; continue; }
  t0=$EPOCHREALTIME
  ./seqloop fit -q --model ar "${F[@]}" -t "$THREADS" -o "$OUT/$set.ar" "$ALN"
  t1=$EPOCHREALTIME
  L=$(./seqloop audit -q --json "${F[@]}" --theta -1 "$ALN" | awk -F': ' '/"L":/{gsub(",","",$2); print $2; exit}')
  awk -v a="$t0" -v b="$t1" -v L="$L" -v s="$set" 'BEGIN{printf "| fit ar %s (L %d) | %.1f | %.2f s per site |\n", s, L, b - a, (b - a) / L}'
done
if [ -e "$OUT/kunitz.ar" ]; then
  for t in 1 "$THREADS"; do
    t0=$EPOCHREALTIME
    ./seqloop sample -q -m "$OUT/kunitz.ar" -n 100000 --seed 1 -t "$t" -o "$OUT/samples.fa"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" -v t="$t" 'BEGIN{printf "| sample 100,000 from kunitz ar, %d thread(s) | %.2f | %.0f sequences/s |\n", t, b - a, 100000 / (b - a)}'
  done
fi
