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
# The issue's item 4 (random, the current loop, the new loop on the same seeds;
# the GB1 configurations of bench/design_alde.sh, ALDE's protocol: a random
# first batch of 96, then batches of 96, conformal intervals by 'recent'):
#   random     --proposer random --no-predictor, batches of 96
#   alde       the current loop: --init-random 96 --batch 96 --proposer mutate --mutations 2
#              --candidates 5000 --acquisition ei --pairwise (10 members)
#   new        the new loop: the same with --acquisition ucb --members 30
# Usage: bench/design_ehrlich.sh [SEEDS] [L] [BUDGET] [K]  (default 10, 32, 500, 4). Not a test.
#        METHODS="..." picks methods (default: ga loop-ga loop-mut); SUFFIX=_x names the output files;
#        SEED_FROM=K runs seeds K..SEEDS only (halves in parallel, then concatenate the CSVs).
# Curves: bench/results/design_ehrlich_L<L>_b<BUDGET>[_k<K>]<SUFFIX>_curves.csv (method,seed,n_measured,best);
#         per-round conformal coverage of alde/new: ..._coverage.csv (method,seed,round,conformal_coverage,conformal_width).
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
METHODS=" ${METHODS:-ga loop-ga loop-mut} "
want() { case "$METHODS" in *" $1 "*) return 0 ;; esac; return 1; }
OUT=bench/results/design_ehrlich_L${L}_b${BUDGET}$([ "$K" = 4 ] || echo "_k$K")${SUFFIX:-}_curves.csv
COV=${OUT%_curves.csv}_coverage.csv
echo "method,seed,n_measured,best" > "$OUT"
echo "method,seed,round,conformal_coverage,conformal_width" > "$COV"
run() {
  local m=$1 s=$2; shift 2
  "$BIN" design run -q --ledger "$TMP/$m-$s.db" --oracle "ehrlich:v=32,c=4,k=$K,L=$L,q=$K,seed=$s" --budget "$BUDGET" \
    --rounds 1000 --batch "$BATCH" --members 5 --seed "$s" "$@" -o "$TMP/$m-$s.csv" || { echo "design_ehrlich: $m seed $s failed" >&2; return; }
  grep -v '^#' "$TMP/$m-$s.csv" | tail -n +2 | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $2 "," $3}' >> "$OUT"
}
# item 4: the batch and members of ALDE's protocol, not the GA comparison's
run96() {
  local m=$1 s=$2; shift 2
  "$BIN" design run -q --ledger "$TMP/$m-$s.db" --oracle "ehrlich:v=32,c=4,k=$K,L=$L,q=$K,seed=$s" --budget "$BUDGET" \
    --rounds 1000 --seed "$s" "$@" -o "$TMP/$m-$s.csv" || { echo "design_ehrlich: $m seed $s failed" >&2; return; }
  grep -v '^#' "$TMP/$m-$s.csv" | tail -n +2 | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $2 "," $3}' >> "$OUT"
  grep -v '^#' "$TMP/$m-$s.csv" | tail -n +2 | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $1 "," $12 "," $13}' >> "$COV"
}
A96="--init-random 96 --batch 96 --proposer mutate --mutations 2 --candidates 5000 --pairwise --conformal recent"
echo "# load before: $(uptime)" >&2
start=$(date +%s)
for s in $(seq "${SEED_FROM:-1}" "$SEEDS"); do
  want ga && run ga "$s" --proposer ga --no-predictor
  want loop-ga && run loop-ga "$s" --proposer ga
  want loop-mut && run loop-mut "$s" --proposer mutate
  want random && run96 random "$s" --proposer random --no-predictor --batch 96
  # shellcheck disable=SC2086
  want alde && run96 alde "$s" $A96 --acquisition ei
  # shellcheck disable=SC2086
  want new && run96 new "$s" $A96 --acquisition ucb --members 30
done
echo "design_ehrlich: L=$L, $SEEDS seeds in $(( $(date +%s) - start )) s; curves in $OUT; load after: $(uptime)"
/usr/bin/python3 - "$OUT" "$BUDGET" "$COV" <<'PY'
import csv, sys, collections
best = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    best[(r["method"], int(r["seed"]))][int(r["n_measured"])] = float(r["best"]) if r["best"] else 0.0
B = int(sys.argv[2])
print(f"| method | seeds | mean best f, {B // 5} measurements | mean best f, {B} measurements | runs reaching f = 1 |")
print("|---|---|---|---|---|")
for m in ["ga", "loop-ga", "loop-mut", "random", "alde", "new"]:
    rows = [c for (mm, s), c in best.items() if mm == m]
    if not rows: continue
    def at(c, b): return max(v for n, v in c.items() if n <= b)
    f1 = [at(c, B // 5) for c in rows]; f5 = [at(c, B) for c in rows]
    print(f"| {m} | {len(rows)} | {sum(f1)/len(f1):.3f} | {sum(f5)/len(f5):.3f} | {sum(f >= 1 for f in f5)}/{len(rows)} |")
cov = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[3])):
    if r["conformal_coverage"]: cov[(r["method"], int(r["round"]))].append(r)
if cov:
    print("\n| method | round | seeds with intervals | conformal coverage | conformal width |")
    print("|---|---|---|---|---|")
    for (m, k), rs in sorted(cov.items()):
        if k < 2: continue
        ww = [float(r["conformal_width"]) for r in rs if r["conformal_width"]]
        print(f"| {m} | {k} | {len(rs)} | {sum(float(r['conformal_coverage']) for r in rs)/len(rs):.3f} | "
              + (f"{sum(ww)/len(ww):.3f}" if ww else "-") + " |")
PY
