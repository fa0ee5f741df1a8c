#!/usr/bin/env bash
# bench/tfm_zeroshot.sh - the transformer on BLAT_ECOLX and GB1 (issue 7's
# benchmark): train on the family alignment's rows (gaps removed; 10% held
# out by seqloop split's cluster method), held-out perplexity, and zero-shot
# Spearman on the deep mutational scans (BLAT_ECOLX: Stiffler 2015 column
# 2500; GB1: Olson 2014 singles, fitness from counts as in potts_validate.sh).
# The profile model, fitted on the same training rows, is scored alongside.
# Not a test; STEPS (default 400) and THREADS (default 2).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
STEPS=${STEPS:-400}
OUT=${OUT:-${TMPDIR:-/tmp}/seqloop-bench-tfm-zeroshot}
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "| family | model | held-out | zero-shot Spearman (n) | fit wall (s) |"
echo "|---|---|---|---|---|"
run() { # run TAG ALN CSV COLUMN
  local tag=$1 aln=$2 csv=$3 col=$4 t0 t1 ppl rho
  t0=$EPOCHREALTIME
  ./seqloop fit --model tfm -q -t "$THREADS" --layers 3 --width 64 --heads 4 --steps "$STEPS" --batch 16 \
    --seed 1 --split-out "$OUT/$tag" -o "$OUT/$tag.tfm" "$aln" 2> "$OUT/$tag.fit.err" || { echo "| $tag | tfm | fit failed | | |"; return; }
  t1=$EPOCHREALTIME
  ppl=$(./seqloop score -m "$OUT/$tag.tfm" --perplexity "$OUT/$tag.heldout.fa" -o /dev/null 2>&1 | sed -n 's/.*perplexity \([0-9.]*\); mean log P \([-0-9.]*\).*/perplexity \1 per token, mean log P \2/p')
  ./seqloop score -q -m "$OUT/$tag.tfm" --dms-score-column "$col" --skip-invalid --metrics-json "$OUT/$tag.tfm.json" -o "$OUT/$tag.tfm.csv" "$csv"
  rho=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.4f (%d)" % (d["spearman"], d["n"]))' "$OUT/$tag.tfm.json")
  echo "| $tag | tfm 3x64, $STEPS steps x 16 | $ppl | $rho | $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}') |"
}
B=$DATA/blat_ecolx
[ -e "$B/BLAT_ECOLX.a2m" ] && run blat "$B/BLAT_ECOLX.a2m" "$B/BLAT_ECOLX_Ranganathan2015.csv" 2500
G=$DATA/gb1
if [ -e "$G/SPG1_STRSG_full_b0.1.a2m" ]; then
  $PY bench/potts_helper.py gb1csv "$G/olson2014_gb1_single_mutants_counts.csv" "$G/olson2014_gb1_wild_type_counts.csv" "$OUT/gb1.csv" > /dev/null
  run gb1 "$G/SPG1_STRSG_full_b0.1.a2m" "$OUT/gb1.csv" fitness
fi
echo
echo "$(date -u +%F), $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
