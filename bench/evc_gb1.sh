#!/usr/bin/env bash
# bench/evc_gb1.sh: the GB1 rows of docs/benchmarks.md ("ProteinGym's GB1
# alignment and the proteingym preset"): ProteinGym's SPG1_STRSG alignment
# (44 rows) and the Olson 2014 singles, Potts and profile fitted with
# `--preset evmutation`, `--preset proteingym` and plain, Spearman of each.
# The two Potts fits have 36.8 M and 33.4 M parameters (about 5 GB of L-BFGS
# state each, minutes to tens of minutes); SKIP_POTTS=1 leaves them out.
# usage: bench/evc_gb1.sh [OUTDIR]   (default bench/results/evc_gb1)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-bench/results/evc_gb1}
G=${SEQLOOP_DATA:-../shared/data}/gb1
A=$G/SPG1_STRSG_full_11-26-2021_b07.a2m
T=${THREADS:-2}
mkdir -p "$OUT"
/usr/bin/python3 bench/potts_helper.py gb1csv "$G/olson2014_gb1_single_mutants_counts.csv" \
  "$G/olson2014_gb1_wild_type_counts.csv" "$OUT/gb1.csv" > /dev/null
fit() { # name model [options]
  local n=$1 m=$2; shift 2
  [ -s "$OUT/$n.model" ] || ./seqloop fit -q --model "$m" -f SPG1_STRSG -t "$T" "$@" -o "$OUT/$n.model" "$A"
  ./seqloop score -q -m "$OUT/$n.model" --dms-score-column fitness --metrics-json "$OUT/$n.json" \
    -o "$OUT/$n.csv" "$OUT/gb1.csv"
  printf '| %s | %s |\n' "$n" "$(/usr/bin/python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["spearman"])' "$OUT/$n.json")"
}
echo "| model | Spearman (1,045 singles) |"
echo "|---|---|"
fit profile profile
fit profile_g profile -g
fit profile_proteingym profile --preset proteingym
if [ "${SKIP_POTTS:-0}" != 1 ]; then
  fit potts_evmutation potts --preset evmutation
  fit potts_proteingym potts --preset proteingym
fi
