#!/usr/bin/env bash
# bench/design_ehrlich.sh: the design loop against a plain genetic algorithm
# on Ehrlich functions (Stanton et al. 2024; holo-bench's construction with
# seqloop's generator), the same oracle budget for both.
#   instance   ehrlich:v=32,c=4,k=4,L=32,q=4,seed=S, S = 1..10 (one instance per seed)
#   start      the instance's initial solution (a feasible DMP trajectory)
#   budget     BUDGET measurements (round 0 included), batches of BUDGET/20
#   ga         --proposer ga --no-predictor: parents from the best 32 measured
#              (2-way tournaments), uniform crossover, 1..2 mutations with
#              probability 1/2; children chosen at random
#   loop-ga    the same children, chosen by the bootstrap ridge ensemble (UCB)
#   loop-mut   mutate-and-select around the best 5 measured, UCB
# Usage: bench/design_ehrlich.sh [SEEDS] [L] [BUDGET] [K]  (default 10, 32, 500, 4). Not a test.
# Curves: bench/results/design_ehrlich_L<L>_b<BUDGET>[_k<K>]_curves.csv (method,seed,n_measured,best).
set -u
cd "$(dirname "$0")/.."
BIN=${SEQLOOP_BIN:-./seqloop}
SEEDS=${1:-10}
L=${2:-32}
BUDGET=${3:-500}
K=${4:-4}
BATCH=$((BUDGET / 20))
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
OUT=bench/results/design_ehrlich_L${L}_b${BUDGET}$([ "$K" = 4 ] || echo "_k$K")_curves.csv
echo "method,seed,n_measured,best" > "$OUT"
run() {
  local m=$1 s=$2; shift 2
  "$BIN" design run -q --ledger "$TMP/$m-$s.db" --oracle "ehrlich:v=32,c=4,k=$K,L=$L,q=$K,seed=$s" --budget "$BUDGET" \
    --rounds 1000 --batch "$BATCH" --members 5 --seed "$s" "$@" -o "$TMP/$m-$s.csv" || { echo "design_ehrlich: $m seed $s failed" >&2; return; }
  grep -v '^#' "$TMP/$m-$s.csv" | tail -n +2 | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $2 "," $3}' >> "$OUT"
}
start=$(date +%s)
for s in $(seq 1 "$SEEDS"); do
  run ga "$s" --proposer ga --no-predictor
  run loop-ga "$s" --proposer ga
  run loop-mut "$s" --proposer mutate
done
echo "design_ehrlich: L=$L, $SEEDS seeds in $(( $(date +%s) - start )) s; curves in $OUT"
/usr/bin/python3 - "$OUT" "$BUDGET" <<'PY'
import csv, sys, collections
best = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    best[(r["method"], int(r["seed"]))][int(r["n_measured"])] = float(r["best"]) if r["best"] else 0.0
B = int(sys.argv[2])
print(f"| method | seeds | mean best f, {B // 5} measurements | mean best f, {B} measurements | runs reaching f = 1 |")
print("|---|---|---|---|---|")
for m in ["ga", "loop-ga", "loop-mut"]:
    rows = [c for (mm, s), c in best.items() if mm == m]
    if not rows: continue
    def at(c, b): return max(v for n, v in c.items() if n <= b)
    f1 = [at(c, B // 5) for c in rows]; f5 = [at(c, B) for c in rows]
    print(f"| {m} | {len(rows)} | {sum(f1)/len(f1):.3f} | {sum(f5)/len(f5):.3f} | {sum(f >= 1 for f in f5)}/{len(rows)} |")
PY
