#!/usr/bin/env bash
# bench/cycle.sh - the perpetual-motion test (seqloop audit cycle) on two real
# families: kunitz_pf00014 (13,600 x 53) and ww_pf00397 (39,041 x 31).
# Not a test: about 25 + 15 minutes on 2 cores. Results go to
# $OUT/<family>_cycle.{txt,csv}; docs/information.md quotes them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
OUT=${OUT:-${TMPDIR:-/tmp}/seqloop-bench-cycle}
mkdir -p "$OUT"
for fam in kunitz ww; do
  case $fam in
    kunitz) ALN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz ;;
    ww) ALN=$DATA/ww_pf00397/PF00397_WW_pfam_full.fasta ;;
  esac
  [ -e "$ALN" ] || { echo "$fam: skipped: data absent"; continue; }
  ./seqloop audit cycle --generations 5 --samples 5000 --seed 1 -t "$THREADS" \
    -o "$OUT/${fam}_cycle.csv" "$ALN" | tee "$OUT/${fam}_cycle.txt"
done
