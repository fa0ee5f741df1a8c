#!/usr/bin/env bash
# bench/conformal_poelwijk.sh - coverage and set size of conformal ridge sets
# on the Poelwijk 2019 fluorescence landscape, standard vs feedback-corrected
# (Fannjiang et al., PNAS 2022, Fig. 3). docs/benchmarks.md, "Conformal".
#
# Usage: bench/conformal_poelwijk.sh [TRIALS] [OUT.csv]     (default 500, stdout)
# Env:   SEQLOOP_DATA (default ../shared/data), NS (96,192,384), LAMBDAS (0,2,4,6),
#        FITNESS (blue|red, default blue), SEED (1)
# Builds bench/conformal_poelwijk.c against build/libseqloop.a (make first)
# into a scratch directory, one thread (OPENBLAS_NUM_THREADS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-500}
OUT=${2:-/dev/stdout}
DATA=${SEQLOOP_DATA:-../shared/data}
CSV=$DATA/poelwijk2019/supp_data_3.csv
[ -f "$CSV" ] || { echo "conformal_poelwijk.sh: $CSV not found" >&2; exit 1; }
[ -f build/libseqloop.a ] || { echo "conformal_poelwijk.sh: run make first" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench-conformal.XXXXXX"); trap 'rm -rf "$TMP"' EXIT

cc -std=c11 -O2 -fopenmp -Iinclude -o "$TMP/conformal_poelwijk" bench/conformal_poelwijk.c build/libseqloop.a \
  -llbfgs -lz -lcjson -lnettle -lsqlite3 -lopenblas -lm
echo "# load before: $(uptime)" >&2
OPENBLAS_NUM_THREADS=1 "$TMP/conformal_poelwijk" "$CSV" -t "$TRIALS" -n "${NS:-96,192,384}" -l "${LAMBDAS:-0,2,4,6}" \
  -c "${FITNESS:-blue}" -s "${SEED:-1}" > "$OUT"
echo "# load after: $(uptime)" >&2
