#!/usr/bin/env bash
# bench/ar_validate.sh - arDCA on real data (issue 4's validation), not a test:
#   1. held-out log-likelihood on kunitz_pf00014 with a homology-aware split
#      (seqloop split, cluster at 0.8, seed 1): ar against profile;
#   2. zero-shot Spearman of ar on BLAT_ECOLX (Stiffler 2015, column 2500) and
#      GB1 (Olson 2014 singles), next to the profile (potts numbers are in
#      bench/potts_validate.sh);
#   3. fit times (seconds, and per site) for every fit, THREADS threads.
# Results: $OUT/results.txt (a markdown table); docs/benchmarks.md quotes them.
# LAMBDA="lj lh" overrides the ar regularisation (default seqloop's 1e-4 1e-6);
# STAGES="kunitz blat gb1 dhfr" (default all) picks the parts.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
OUT=${OUT:-${TMPDIR:-/tmp}/seqloop-bench-ar-validate}
PY=/usr/bin/python3
read -r LJ LH <<< "${LAMBDA:-0.0001 0.000001}"
STAGES=" ${STAGES:-kunitz blat gb1 dhfr} "
want() { case "$STAGES" in *" $1 "*) return 0 ;; esac; return 1; }
mkdir -p "$OUT"
R=$OUT/results.txt
: >> "$R"
row() { echo "$*" | tee -a "$R"; }
timed() { # timed TAG CMD...: run, record wall seconds in $OUT/TAG.s
  local t0=$EPOCHREALTIME
  "${@:2}" || { echo "failed: ${*:2}" >&2; return 1; }
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f\n", b - a}' > "$OUT/$1.s"
}
row "| job | result | fit wall (s) | per site (s) |"
row "|---|---|---|---|"

K=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
if want kunitz && [ -e "$K" ]; then
  ./seqloop split -q --identity 0.8 --seed 1 -t "$THREADS" -o "$OUT/k" "$K"
  timed k_ar ./seqloop fit -q --model ar --lambda-j "$LJ" --lambda-h "$LH" -t "$THREADS" -o "$OUT/k.ar" "$OUT/k.train.fa"
  timed k_prof ./seqloop fit -q --model profile -t "$THREADS" -o "$OUT/k.prof" "$OUT/k.train.fa"
  for m in ar prof; do
    b=$(./seqloop score -m "$OUT/k.$m" --perplexity "$OUT/k.test.fa" -o /dev/null 2>&1 | sed -n 's/.* sites: \([0-9.]*\) bits per site, perplexity \([0-9.]*\).*/\1 \2/p')
    row "| kunitz held-out ($(grep -c '>' "$OUT/k.test.fa") seqs, cluster split 0.8), $m | bits/site, perplexity: $b | $(cat "$OUT/k_$m.s") | $(awk -v s="$(cat "$OUT/k_$m.s")" 'BEGIN{printf "%.2f", s/53}') |"
  done
fi

zs() { # zs TAG ALN FOCUS CSV COLUMN
  local tag=$1 aln=$2 focus=$3 csv=$4 col=$5
  local L
  timed ${tag}_ar ./seqloop fit -q --model ar -f "$focus" --lambda-j "$LJ" --lambda-h "$LH" -t "$THREADS" -o "$OUT/$tag.ar" "$aln"
  timed ${tag}_prof ./seqloop fit -q --model profile -f "$focus" -t "$THREADS" -o "$OUT/$tag.prof" "$aln"
  L=$(./seqloop audit -q --json -f "$focus" "$aln" | $PY -c 'import json,sys; print(json.load(sys.stdin)["L"])')
  for m in ar prof; do
    ./seqloop score -q -m "$OUT/$tag.$m" --dms-score-column "$col" --skip-invalid --metrics-json "$OUT/$tag.$m.json" -o "$OUT/$tag.$m.csv" "$csv"
    rho=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.4f (n %d)" % (d["spearman"], d["n"]))' "$OUT/$tag.$m.json")
    row "| $tag zero-shot Spearman, $m (L $L) | $rho | $(cat "$OUT/${tag}_$m.s") | $(awk -v s="$(cat "$OUT/${tag}_$m.s")" -v L="$L" 'BEGIN{printf "%.2f", s/L}') |"
  done
}
B=$DATA/blat_ecolx
want blat && [ -e "$B/BLAT_ECOLX.a2m" ] && zs blat "$B/BLAT_ECOLX.a2m" BLAT_ECOLX "$B/BLAT_ECOLX_Ranganathan2015.csv" 2500
G=$DATA/gb1
if want gb1 && [ -e "$G/SPG1_STRSG_full_b0.1.a2m" ]; then
  $PY bench/potts_helper.py gb1csv "$G/olson2014_gb1_single_mutants_counts.csv" "$G/olson2014_gb1_wild_type_counts.csv" "$OUT/gb1.csv" > /dev/null
  zs gb1 "$G/SPG1_STRSG_full_b0.1.a2m" SPG1_STRSG "$OUT/gb1.csv" fitness
fi
D=$DATA/dhfr/DHFR.a2m
if want dhfr && [ -e "$D" ]; then
  timed dhfr_ar ./seqloop fit -q --model ar -f DYR_ECOLI --lambda-j "$LJ" --lambda-h "$LH" -t "$THREADS" -o "$OUT/dhfr.ar" "$D"
  row "| fit ar on dhfr (3,616 x 159) | | $(cat "$OUT/dhfr_ar.s") | $(awk -v s="$(cat "$OUT/dhfr_ar.s")" 'BEGIN{printf "%.2f", s/159}') |"
fi
row ""
row "λJ $LJ, λh $LH; $THREADS threads; $(date -u +%F); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
