#!/usr/bin/env bash
# bench/potts_speed.sh - Potts fitting speed and peak memory against plmc, on
# DHFR and BLAT_ECOLX, with plmc's README settings (-le 16.0 -lh 0.01 -g,
# focus sequence, ITER iterations), THREADS threads each. Not a test.
#
# Usage: PLMC_BIN=/path/to/plmc-builds bench/potts_speed.sh [dhfr] [blat]
#   PLMC_BIN holds plmc-omp-float (plmc `make all-openmp32`) and plmc-omp-double
#   (`make all-openmp`), built outside this repository. Without it only seqloop runs.
# Env: THREADS (2), BENCH_REPS (3), DHFR_ITER (100), BLAT_ITER (100), BENCH_OUT.
#
# Protocol (bench/lib.sh): idle machine before the first timing and a quiet
# interval before each; plmc float, plmc double and seqloop take turns, the
# order rotating between repetitions; medians and ranges. The objective each
# tool reached is evaluated exactly (double) at its final parameters by the
# same function (`seqloop fit --init P --evaluate`): plmc's float build sums
# its printed objective in float, which misreports it by ~0.7% on DHFR.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. bench/lib.sh
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
BENCH_OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/seqloop-bench-potts}
mkdir -p "$BENCH_OUT"
[ -x ./seqloop ] || { echo "build seqloop first (make)"; exit 1; }
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(dhfr blat)
bench_wait_idle
for set in "${sets[@]}"; do
  case $set in
    dhfr) ALN=$DATA/dhfr/DHFR.a2m; FOCUS=DYR_ECOLI; ITER=${DHFR_ITER:-100} ;;
    blat) ALN=$DATA/blat_ecolx/BLAT_ECOLX.a2m; FOCUS=BLAT_ECOLX; ITER=${BLAT_ITER:-100} ;;
    *) echo "unknown set $set (dhfr, blat)"; exit 2 ;;
  esac
  [ -e "$ALN" ] || { echo "$set: skipped: data absent ($ALN)"; continue; }
  tsv=$BENCH_OUT/$set.tsv; : > "$tsv"
  tools=(seqloop)
  for prec in float double; do
    [ -n "${PLMC_BIN:-}" ] && [ -x "$PLMC_BIN/plmc-omp-$prec" ] && tools+=("plmc-$prec")
  done
  for rep in $(seq 1 "$BENCH_REPS"); do
    for tool in $(bench_rotate "$rep" "${tools[@]}"); do
      case $tool in
        seqloop) bench_time "$tsv" "$set.$tool" "$rep" ./seqloop fit --model potts -f "$FOCUS" -g --lambda-h 0.01 \
                   --lambda-j 16 -m "$ITER" -t "$THREADS" -o "$BENCH_OUT/$set.seqloop.model" "$ALN" ;;
        plmc-*) OMP_NUM_THREADS=$THREADS bench_time "$tsv" "$set.$tool" "$rep" "$PLMC_BIN/plmc-omp-${tool#plmc-}" \
                   -le 16.0 -lh 0.01 -m "$ITER" -g -f "$FOCUS" -o "$BENCH_OUT/$set.$tool.params" "$ALN" ;;
      esac
    done
  done
  echo
  echo "### $set ($(basename "$ALN"), focus $FOCUS, $ITER iterations, $THREADS threads, $BENCH_REPS repetitions)"
  echo
  echo "| tool | median s | range s | peak MiB | objective after $ITER iterations (exact) | busy% before (max) | failures |"
  echo "|---|---|---|---|---|---|---|"
  declare -A med=()
  for tool in "${tools[@]}"; do
    read -r m lo hi mib busy n f <<< "$(bench_stats "$tsv" "$set.$tool")"
    med[$tool]=$m
    case $tool in
      seqloop) fx=$(awk -F'\t' '$1 ~ /^[0-9]+$/ {f=$4} END{print f}' "$BENCH_OUT/$set.$tool.1.err") ;;
      plmc-*) fx=$(./seqloop fit --init "$BENCH_OUT/$set.$tool.params" --evaluate -q -f "$FOCUS" -g --lambda-h 0.01 \
                   --lambda-j 16 "$ALN" 2>/dev/null | awk '$1=="objective"{print $2}') ;;
    esac
    echo "| $tool | $m | $lo–$hi | $mib | $fx | $busy | $f of $n |"
  done
  for prec in float double; do
    [ -n "${med[plmc-$prec]:-}" ] && awk -v a="${med[plmc-$prec]}" -v b="${med[seqloop]}" -v p="$prec" \
      'BEGIN{printf "\nratio plmc %s / seqloop (medians): %.2fx\n", p, a / b}'
  done
  unset med
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_machine
