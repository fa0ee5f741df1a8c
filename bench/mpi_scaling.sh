#!/usr/bin/env bash
# bench/mpi_scaling.sh - one Potts fit across MPI ranks (make MPI=1;
# docs/scale.md, docs/performance.md "Scaling across ranks"): DHFR with
# bench/potts_speed.sh's settings (-f DYR_ECOLI -g --lambda-h 0.01
# --lambda-j 16), MPI_ITER iterations, one thread per rank, for each rank count
# of RANKS. Reports the seconds per iteration (iterations 2..MPI_ITER, from
# rank 0's progress lines: the optimiser's loop, without reading, weights and
# the row chain), the whole run and the peak memory of the largest rank, and
# checks that every rank count wrote the same model file. Not a test.
# Env: RANKS ("1 2"), MPI_ITER (10), BENCH_REPS (3), BENCH_OUT, and bench/lib.sh's.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. bench/lib.sh
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
ALN=$DATA/dhfr/DHFR.a2m
RANKS=${RANKS:-1 2}
ITER=${MPI_ITER:-10}
BENCH_OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/seqloop-bench-mpi}
mkdir -p "$BENCH_OUT"
[ -e "$ALN" ] || { echo "mpi_scaling: skipped: data absent ($ALN)"; exit 0; }
command -v mpirun > /dev/null || { echo "mpi_scaling: skipped: OpenMPI absent"; exit 0; }
make -s MPI=1 build/mpi/seqloop || exit 1
# Open MPI's defaults otherwise (shared memory with cross-memory attach: on
# this machine the exchange took 0.13 s per iteration with it and 0.4-0.75 s
# without, OMPI_MCA_btl_vader_single_copy_mechanism=none).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
tsv=$BENCH_OUT/mpi.tsv; : > "$tsv"
bench_wait_idle
tools=(); for k in $RANKS; do tools+=("np$k"); done
for rep in $(seq 1 "$BENCH_REPS"); do
  for tool in $(bench_rotate "$rep" "${tools[@]}"); do
    k=${tool#np}
    OMP_NUM_THREADS=1 bench_time "$tsv" "$tool" "$rep" mpirun --bind-to none -np "$k" -x OMP_NUM_THREADS build/mpi/seqloop fit \
      --model potts -f DYR_ECOLI -g --lambda-h 0.01 --lambda-j 16 -m "$ITER" -o "$BENCH_OUT/model" "$ALN"
    mv "$BENCH_OUT/model" "$BENCH_OUT/$tool.$rep.model" 2> /dev/null
    awk -F'\t' -v n="$ITER" '$1 ~ /^[0-9]+$/ { s[$1] = $3 } END { if (n > 1 && (n in s)) printf "%.3f\n", (s[n] - s[1]) / (n - 1); else print "-" }' \
      "$BENCH_OUT/$tool.$rep.err" > "$BENCH_OUT/$tool.$rep.periter"
  done
done
echo
echo "### DHFR Potts ($(basename "$ALN"), focus DYR_ECOLI, -g, lambda_J 16, $ITER iterations, 1 thread per rank, $BENCH_REPS repetitions)"
echo
echo "| ranks | s per iteration (median, range) | whole run s (median, range) | peak MiB (largest rank) | busy% before (max) | failures |"
echo "|---|---|---|---|---|---|"
for tool in "${tools[@]}"; do
  read -r m lo hi mib busy n f <<< "$(bench_stats "$tsv" "$tool")"
  pi=$(cat "$BENCH_OUT/$tool".*.periter | sort -n | awk '{a[NR] = $1} END { printf "%s (%s-%s)", a[int((NR + 1) / 2)], a[1], a[NR] }')
  echo "| ${tool#np} | $pi | $m ($lo-$hi) | $mib | $busy | $f of $n |"
done
same=yes
for f in "$BENCH_OUT"/np*.model; do cmp -s "$f" "$BENCH_OUT/${tools[0]}.1.model" || same=no; done
echo
echo "every run wrote the same model file: $same"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_machine
