#!/usr/bin/env bash
# bench/ar_speed.sh - arDCA fit and sampling speed on kunitz_pf00014
# (13,600 x 53, default regularisation) and DHFR; THREADS threads (default 2).
# Protocol: bench/lib.sh (idle machine, quiet interval before each timing,
# BENCH_REPS repetitions, medians). Env: SETS ("kunitz dhfr"). Not a test.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. bench/lib.sh
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
BENCH_OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/seqloop-bench-ar}
mkdir -p "$BENCH_OUT"
[ -x ./seqloop ] || { echo "build seqloop first (make)"; exit 1; }
bench_wait_idle
tsv=$BENCH_OUT/ar.tsv; : > "$tsv"
echo
echo "| job | median s | range s | peak MiB | busy% before (max) | notes |"
echo "|---|---|---|---|---|---|"
for set in ${SETS:-kunitz dhfr}; do
  case $set in
    kunitz) ALN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz; F=() ;;
    dhfr) ALN=$DATA/dhfr/DHFR.a2m; F=(-f DYR_ECOLI) ;;
  esac
  [ -e "$ALN" ] || { echo "| fit ar $set | skipped: data absent | | | | |"; continue; }
  for rep in $(seq 1 "$BENCH_REPS"); do
    bench_time "$tsv" "fit-$set" "$rep" ./seqloop fit -q --model ar "${F[@]}" -t "$THREADS" -o "$BENCH_OUT/$set.ar" "$ALN"
  done
  read -r m lo hi mib busy n f <<< "$(bench_stats "$tsv" "fit-$set")"
  echo "| fit ar $set, $THREADS threads | $m | $lo–$hi | $mib | $busy | $f of $n failed |"
done
if [ -e "$BENCH_OUT/kunitz.ar" ]; then
  for t in 1 "$THREADS"; do
    for rep in $(seq 1 "$BENCH_REPS"); do
      bench_time "$tsv" "sample-$t" "$rep" ./seqloop sample -q -m "$BENCH_OUT/kunitz.ar" -n 200000 --seed 1 -t "$t" -o "$BENCH_OUT/samples.fa"
    done
    read -r m lo hi mib busy n f <<< "$(bench_stats "$tsv" "sample-$t")"
    awk -v m="$m" -v lo="$lo" -v hi="$hi" -v mib="$mib" -v b="$busy" -v t="$t" \
      'BEGIN{printf "| sample 200,000 from kunitz ar (FASTA written), %d thread(s) | %s | %s–%s | %s | %s | %.0f sequences/s |\n", t, m, lo, hi, mib, b, 200000 / m}'
  done
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_machine
