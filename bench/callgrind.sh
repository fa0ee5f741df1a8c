#!/usr/bin/env bash
# bench/callgrind.sh - instruction counts (valgrind's callgrind) for the hot
# kernels, beside the seconds of the other bench/ scripts. Why: instruction
# counts do not depend on the load of the machine or on its clock, so they
# compare two versions (or seqloop and plmc) repeatably on a shared machine;
# they do not see cache misses or vector width, so they complement timings
# and never replace them. Not a test.
#
# Usage: PLMC_BIN=/path/to/plmc-builds bench/callgrind.sh
# Inputs are cut down so that each run takes a minute or two under valgrind
# (about 50x slower than native): the first ROWS (400) sequences of DHFR for
# the Potts fit (ITER 3 iterations, 1 thread), of kunitz for the ar fit, and
# 20,000 samples from the ar model. One thread everywhere (callgrind
# serialises threads anyway).
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
command -v valgrind > /dev/null || { echo "skipped: valgrind absent"; exit 0; }
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
ROWS=${ROWS:-400} ITER=${ITER:-3}
OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/seqloop-bench-callgrind}
mkdir -p "$OUT"
[ -x ./seqloop ] || { echo "build seqloop first (make)"; exit 1; }
first_rows() { # first_rows FILE N: the first N records of an alignment (plain or gzip)
  zcat -f "$1" | awk -v n="$2" '/^>/{k++} k<=n' ; }
# count NAME CMD...: total instructions and the five functions with the most (inclusive of nothing: self cost)
count() {
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.cg" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" \
    || { echo "| $name | failed (see $OUT/$name.err) | |"; return; }
  local total top
  total=$(callgrind_annotate "$OUT/$name.cg" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",", "", $1); print $1; exit}')
  top=$(callgrind_annotate "$OUT/$name.cg" 2>/dev/null | awk '/file:function/{on=1; next}
          on && /%\)/ && n < 4 { c = $1; gsub(",", "", c); f = $0; sub(/^[^)]*\) */, "", f); sub(/ \[.*/, "", f);
            sub(/.*:/, "", f); printf "%s%s %.2fG", (n ? ", " : ""), f, c / 1e9; n++ }')
  awk -v n="$name" -v t="$total" -v top="$top" 'BEGIN{printf "| %s | %.3f | %s |\n", n, t / 1e9, top}'
}
echo "| run | G instructions | top functions (self, G instructions) |"
echo "|---|---|---|"
if [ -e "$DATA/dhfr/DHFR.a2m" ]; then
  first_rows "$DATA/dhfr/DHFR.a2m" "$ROWS" > "$OUT/dhfr_$ROWS.a2m"
  count "seqloop potts fit, DHFR $ROWS rows, $ITER iterations" \
    ./seqloop fit --model potts -f DYR_ECOLI -g --lambda-h 0.01 --lambda-j 16 -m "$ITER" -t 1 -o "$OUT/p.model" "$OUT/dhfr_$ROWS.a2m"
  for prec in float double; do
    P=${PLMC_BIN:-}/plmc-omp-$prec
    [ -n "${PLMC_BIN:-}" ] && [ -x "$P" ] || continue
    OMP_NUM_THREADS=1 count "plmc $prec, DHFR $ROWS rows, $ITER iterations" \
      "$P" -le 16.0 -lh 0.01 -m "$ITER" -g -f DYR_ECOLI -o "$OUT/plmc-$prec.params" "$OUT/dhfr_$ROWS.a2m"
  done
else
  echo "| potts | skipped: data absent | |"
fi
if [ -e "$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz" ]; then
  first_rows "$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz" "$ROWS" > "$OUT/kunitz_$ROWS.fa"
  count "seqloop ar fit, kunitz $ROWS rows" ./seqloop fit --model ar -t 1 -o "$OUT/k.ar" "$OUT/kunitz_$ROWS.fa"
  [ -e "$OUT/k.ar" ] && count "seqloop sample, 20,000 from that ar model" \
    ./seqloop sample -m "$OUT/k.ar" -n 20000 --seed 1 -t 1 -o "$OUT/s.fa"
else
  echo "| ar | skipped: data absent | |"
fi
echo
echo "valgrind $(valgrind --version | sed 's/valgrind-//'); $(cut -d' ' -f1-3 /proc/loadavg) load (irrelevant to counts)"
