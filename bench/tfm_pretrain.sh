#!/usr/bin/env bash
# bench/tfm_pretrain.sh - does pre-training on generic proteins help a small
# transformer on one family? Pre-train on uniprot20k (unaligned, 20,000
# UniProtKB sequences), fine-tune on Kunitz (PF00014, gaps removed), and
# compare held-out perplexity with the same model trained from scratch on the
# family with the same step budget; ar and profile models fitted on the same
# training rows are scored on the same held-out rows. Not a test; a few
# minutes on one core. Env: THREADS (1), PRE_STEPS (3000), FT_STEPS (600).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DATA=${SEQLOOP_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-1} PRE_STEPS=${PRE_STEPS:-3000} FT_STEPS=${FT_STEPS:-600}
OUT=${TMPDIR:-/tmp}/seqloop-bench-tfm-pretrain
mkdir -p "$OUT"
UNI=$DATA/uniprot20k/DB.fasta.gz
KUN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
for f in "$UNI" "$KUN"; do [ -e "$f" ] || { echo "skipped: data absent ($f)"; exit 0; }; done
SHAPE="--layers 3 --width 64 --heads 4 --context 64"
SL=./seqloop
t0=$EPOCHREALTIME
$SL fit --model tfm -t "$THREADS" $SHAPE --batch 32 --steps "$PRE_STEPS" --lr 2e-3 --holdout 0.02 \
  --eval-every 500 --log-every 250 --checkpoint-every 500 --seed 1 -o "$OUT/pre.tfm" "$UNI" 2> "$OUT/pre.err"
t1=$EPOCHREALTIME
FT="-t $THREADS --batch 32 --steps $FT_STEPS --lr 1e-3 --warmup 30 --eval-every 100 --log-every 100 --seed 1"
$SL fit --model tfm $FT --init "$OUT/pre.tfm" --split-out "$OUT/kunitz" -o "$OUT/ft.tfm" "$KUN" 2> "$OUT/ft.err"
$SL fit --model tfm $FT $SHAPE -o "$OUT/scratch.tfm" "$KUN" 2> "$OUT/scratch.err"
t2=$EPOCHREALTIME
$SL fit -q --model ar -t "$THREADS" -o "$OUT/ar.slm" "$OUT/kunitz.train.fa"
$SL fit -q --model profile -o "$OUT/profile.slm" "$OUT/kunitz.train.fa"
# Pre-training alone (zero-shot on the family) as well
for m in pre ft scratch; do
  $SL score -m "$OUT/$m.tfm" --perplexity "$OUT/kunitz.heldout.fa" -o "$OUT/$m.csv" 2> "$OUT/$m.score"
done
for m in ar profile; do
  $SL score -m "$OUT/$m.slm" --perplexity "$OUT/kunitz.heldout.fa" -o "$OUT/$m.csv" 2> "$OUT/$m.score"
done
mean_lp() { grep -v '^#' "$1" | awk -F, 'NR>1{s+=$2; n++} END{printf "%.2f", s/n}'; }
echo "| model | held-out perplexity | unit | mean log P per held-out sequence (nats) |"
echo "|---|---|---|---|"
for m in pre ft scratch; do
  p=$(sed -n 's/.*perplexity \([0-9.]*\);.*/\1/p' "$OUT/$m.score")
  case $m in pre) d="tfm pre-trained on uniprot20k only ($PRE_STEPS steps)";; ft) d="tfm pre-trained + fine-tuned ($FT_STEPS steps)";; scratch) d="tfm from scratch ($FT_STEPS steps)";; esac
  echo "| $d | $p | per token (residues + end) | $(mean_lp "$OUT/$m.csv") |"
done
for m in ar profile; do
  p=$(sed -n 's/.*perplexity \([0-9.]*\) .*/\1/p' "$OUT/$m.score")
  echo "| $m (same training rows) | $p | per aligned column (gap = a state) | $(mean_lp "$OUT/$m.csv") |"
done
echo
echo "pre-training: $(grep -c '^>' <(zcat "$UNI")) sequences; $(tail -1 "$OUT/pre.err")"
grep 'throughput' "$OUT/pre.err" | sed 's/^/pre-training /'
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "wall time: pre-training %.0f s, fine-tune + scratch %.0f s\n", b - a, c - b}'
echo "held-out: $(grep -c '^>' "$OUT/kunitz.heldout.fa") Kunitz rows (whole clusters at 80% identity), training: $(grep -c '^>' "$OUT/kunitz.train.fa")"
echo "shape: $SHAPE; $THREADS thread(s); $(date -u +%Y-%m-%d)"
