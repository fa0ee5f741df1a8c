#!/usr/bin/env bash
# bench/tfm_vs_torch.sh - transformer training throughput, seqloop vs PyTorch
# (CPU), same model, batch, optimiser and thread count; the two take turns
# (seqloop, torch, seqloop, torch, ...) so load from other jobs hits both.
# Not a test. Env: THREADS (2), ROUNDS (2), STEPS (40), and the shape:
# LAYERS (2) WIDTH (64) HEADS (4) CONTEXT (64) BATCH (16).
# seqloop fit enables OpenMP dynamic teams unless OMP_DYNAMIC is set; export
# OMP_DYNAMIC=true to give PyTorch the same (it is passed through).
# Rows: synthetic random residues longer than the context, so every row of
# every batch is a full window of CONTEXT tokens in both programs.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-2} STEPS=${STEPS:-40}
LAYERS=${LAYERS:-2} WIDTH=${WIDTH:-64} HEADS=${HEADS:-4} CONTEXT=${CONTEXT:-64} BATCH=${BATCH:-16}
OUT=${TMPDIR:-/tmp}/seqloop-bench-tfm
mkdir -p "$OUT"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "| tfm vs torch | skipped: python3-torch absent | |"; exit 0
fi
# 200 random sequences of CONTEXT+20..CONTEXT+59 residues (unequal: read as unaligned)
awk -v n=200 -v T="$CONTEXT" 'BEGIN{srand(7); a="ACDEFGHIKLMNPQRSTVWY";
  for(i=1;i<=n;i++){printf ">r%d\n", i; L=T+20+int(rand()*40); s="";
    for(k=0;k<L;k++) s=s substr(a, 1+int(rand()*20), 1); print s}}' > "$OUT/rand.fa"
echo "| round | seqloop tokens/s | torch tokens/s | ratio |"
echo "|---|---|---|---|"
sum_s=0; sum_t=0
for r in $(seq 1 "$ROUNDS"); do
  ./seqloop fit --model tfm -t "$THREADS" --layers "$LAYERS" --width "$WIDTH" --heads "$HEADS" \
    --context "$CONTEXT" --batch "$BATCH" --steps $((STEPS + 5)) --holdout 0 --checkpoint-every 0 \
    --log-every 1000 -o "$OUT/m.tfm" "$OUT/rand.fa" 2> "$OUT/sl.err"
  s=$(sed -n 's/.*training throughput \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/sl.err")
  t=$(OMP_NUM_THREADS=$THREADS /usr/bin/python3 tools/tfm_torch_train.py --layers "$LAYERS" --width "$WIDTH" \
      --heads "$HEADS" --context "$CONTEXT" --batch "$BATCH" --steps "$STEPS" --warmup 5 \
      --threads "$THREADS" 2> "$OUT/torch.err" | awk '{print $2}')
  awk -v r="$r" -v s="$s" -v t="$t" 'BEGIN{printf "| %d | %.0f | %.0f | %.2f |\n", r, s, t, s / t}'
  sum_s=$(awk -v a="$sum_s" -v b="$s" 'BEGIN{print a + b}')
  sum_t=$(awk -v a="$sum_t" -v b="$t" 'BEGIN{print a + b}')
done
awk -v s="$sum_s" -v t="$sum_t" -v n="$ROUNDS" 'BEGIN{printf "| mean | %.0f | %.0f | %.2f |\n", s / n, t / n, s / t}'
echo
echo "shape: $LAYERS layers, width $WIDTH, $HEADS heads, context $CONTEXT, batch $BATCH; $THREADS threads;" \
  "$STEPS timed steps after 5 untimed; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'));" \
  "OMP_DYNAMIC=${OMP_DYNAMIC:-unset}; load average $(cut -d" " -f1-3 /proc/loadavg);" \
  "$(date -u +%Y-%m-%d); $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
