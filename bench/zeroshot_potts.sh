#!/usr/bin/env bash
# bench/zeroshot_potts.sh: seqloop's Potts (`--models potts`: preset evcouplings,
# gaps a state, theta 0.2, L-BFGS to convergence) over the 21 assays of
# proteingym_subset and the BLAT_ECOLX assay folder (as bench/zeroshot_run.sh
# lays it out), one assay per `seqloop benchmark --only` call so that the
# order is ours: LANES workers (default 2, one thread each) take assays from a
# shared queue, cheapest (N x L^2) first, so that a deadline leaves only the
# deepest alignments undone. Resumable: a finished assay's
# result file makes benchmark skip it, so rerunning picks up where a killed
# run stopped.
# usage: bench/zeroshot_potts.sh OUTDIR [SEQLOOP_BIN]
set -eu
OUT=$1; BIN=${2:-./seqloop}
DATA=${SEQLOOP_DATA:-../shared/data}
P=$DATA/proteingym_subset
LANES=${LANES:-2}
mkdir -p "$OUT/potts" "$OUT/blat_potts"
. "$(dirname "$0")/blat_assay.sh"
blat_assay_folder "$OUT"
B=$OUT/blat/BLAT_ECOLX_Stiffler_2015
# queue: "datadir outdir id", by N * L^2 (rows x focus columns squared), cheapest first
Q=$OUT/potts.queue
{
  for d in "$P"/*/; do id=$(basename "$d"); echo "$P $OUT/potts $id $d$id.a2m"; done
  echo "$OUT/blat $OUT/blat_potts BLAT_ECOLX_Stiffler_2015 $B/BLAT_ECOLX_Stiffler_2015.a2m"
} | while read -r dd od id a; do
  n=$(grep -c '>' "$a"); l=$(awk '/^>/{if(s!="")exit; next}{s=s $0}END{gsub(/[^A-Z]/,"",s); print length(s)}' "$a")
  echo "$((n * l * l)) $dd $od $id"
done | sort -n | cut -d' ' -f2- > "$Q"
lane() {
  local line dd od id
  while :; do
    line=$(flock "$Q.lock" sh -c 'head -1 "$1"; sed -i 1d "$1"' _ "$Q")
    [ -n "$line" ] || break
    read -r dd od id <<< "$line"
    echo "$(date -u +%T) start $id"
    "$BIN" benchmark -q -t 1 --boot 0 --models potts --only "$id" -o "$od" "$dd" || echo "$(date -u +%T) $id FAILED"
    echo "$(date -u +%T) done $id: $(tail -1 "$od/$id.result.csv" 2>/dev/null | cut -d, -f4,9)"
  done
}
for k in $(seq "$LANES"); do lane "$k" & done
wait
