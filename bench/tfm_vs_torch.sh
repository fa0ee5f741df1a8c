#!/usr/bin/env bash
# bench/tfm_vs_torch.sh - transformer training throughput, seqloop vs PyTorch
# (CPU), same model, batch, optimiser and thread count; the two take turns
# (seqloop, torch, seqloop, torch, ...) so load from other jobs hits both.
# Protocol: bench/lib.sh (idle machine, quiet interval before each run, the
# order alternating between rounds, medians).
# Not a test. Env: THREADS (2), ROUNDS (4), STEPS (40), and the shape:
# LAYERS (2) WIDTH (64) HEADS (4) CONTEXT (64) BATCH (16).
# seqloop fit enables OpenMP dynamic teams unless OMP_DYNAMIC is set; export
# OMP_DYNAMIC=true to give PyTorch the same (it is passed through).
# Rows: synthetic random residues longer than the context, so every row of
# every batch is a full window of CONTEXT tokens in both programs.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-4} STEPS=${STEPS:-40}
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
. bench/lib.sh
bench_wait_idle
echo
echo "| round | order | seqloop tokens/s | torch tokens/s | ratio | busy% before (seqloop, torch) |"
echo "|---|---|---|---|---|---|"
: > "$OUT/rates"
run_sl() {
  local b; b=$(bench_quiet)
  ./seqloop fit --model tfm -t "$THREADS" --layers "$LAYERS" --width "$WIDTH" --heads "$HEADS" \
    --context "$CONTEXT" --batch "$BATCH" --steps $((STEPS + 5)) --holdout 0 --checkpoint-every 0 \
    --log-every 1000 -o "$OUT/m.tfm" "$OUT/rand.fa" 2> "$OUT/sl.err"
  echo "$(sed -n 's/.*training throughput \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/sl.err") $b"
}
run_torch() {
  local b; b=$(bench_quiet)
  echo "$(OMP_NUM_THREADS=$THREADS /usr/bin/python3 tools/tfm_torch_train.py --layers "$LAYERS" --width "$WIDTH" \
      --heads "$HEADS" --context "$CONTEXT" --batch "$BATCH" --steps "$STEPS" --warmup 5 \
      --threads "$THREADS" 2> "$OUT/torch.err" | awk '{print $2}') $b"
}
for r in $(seq 1 "$ROUNDS"); do
  # the order alternates between rounds (bench/lib.sh's protocol)
  if [ $((r % 2)) -eq 1 ]; then read -r s bs <<< "$(run_sl)"; read -r t bt <<< "$(run_torch)"; o="seqloop first"
  else read -r t bt <<< "$(run_torch)"; read -r s bs <<< "$(run_sl)"; o="torch first"; fi
  awk -v r="$r" -v o="$o" -v s="$s" -v t="$t" -v bs="$bs" -v bt="$bt" \
    'BEGIN{printf "| %d | %s | %.0f | %.0f | %.2f | %s, %s |\n", r, o, s, t, s / t, bs, bt}'
  echo "$s $t" >> "$OUT/rates"
done
sort -n -k1,1 "$OUT/rates" | awk '{a[NR]=$1} END{m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m}' > "$OUT/ms"
sort -n -k2,2 "$OUT/rates" | awk '{a[NR]=$2} END{m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m}' > "$OUT/mt"
awk -v s="$(cat "$OUT/ms")" -v t="$(cat "$OUT/mt")" 'BEGIN{printf "| median | | %.0f | %.0f | %.2f | |\n", s, t, s / t}'
echo
echo "shape: $LAYERS layers, width $WIDTH, $HEADS heads, context $CONTEXT, batch $BATCH; $THREADS threads;" \
  "$STEPS timed steps after 5 untimed; OMP_DYNAMIC=${OMP_DYNAMIC:-unset}; load average at the end $(cut -d" " -f1-3 /proc/loadavg);" \
  "$(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
bench_machine
