#!/usr/bin/env bash
# bench/design_gb1.sh: design campaigns on the GB1 four-site landscape (Wu et
# al. 2016; 149,361 measured of 160,000 variants at V39 D40 G41 V54), starting
# from the wild type VDGV. For each method and seed, the fraction of the
# global maximum (8.762, Fitness column) reached with 96 and 384
# measurements (round 0's wild type included).
#
# Methods (all through `seqloop design run`, so all share one oracle, one
# ledger and one budget rule; unmeasured variants count as failed
# measurements that used budget, docs/design.md):
#   random       uniform random variants (--proposer random --no-predictor)
#   walk         greedy single-mutant walk: all 76 singles of the best so far
#                per round (--proposer walk --no-predictor --batch 76)
#   loop         mutate-and-select + bootstrap ridge + UCB, batch 8
#   loop+prior   the same with a zero-shot profile prior fitted to the
#                SPG1_STRSG b0.1 alignment (3,109 rows) as a predictor feature
#                (the ar of the 44-row b07 alignment charges every substitution at
#                these sites about 12.7 nats, a prior that only says "do not move";
#                loop+arprior uses the ar of the 3,109-row alignment)
#   cbas+prior   CbAS inside each round (--proposer cbas): a site-independent
#                search distribution started at the same profile prior,
#                reweighted by prior/q * P(y >= gamma) under the predictor
#   cbas-ar+prior  the same with an ar search distribution refitted by weighted
#                maximum likelihood each iteration (--proposer cbas-ar)
#   loop+arprior the loop with an ar prior of the same alignment (ARPRIOR=FILE, a
#                model from `seqloop fit --model ar -f SPG1_STRSG --lambda-j 0.01
#                --lambda-h 0.01`, about 11 minutes on 2 threads; skipped without it)
# Usage: bench/design_gb1.sh [SEEDS]   (default 20); METHODS="..." runs a subset.
# Not a test: never timed in CI.
# Curves: bench/results/design_gb1_curves.csv (method,seed,n_measured,best).
set -u
cd "$(dirname "$0")/.."
BIN=${SEQLOOP_BIN:-./seqloop}
DATA=${SEQLOOP_DATA:-../shared/data}
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
ALN=$DATA/gb1/SPG1_STRSG_full_b0.1.a2m
SEEDS=${1:-20}
[ -e "$GB1" ] || { echo "design_gb1: skipped: data absent ($GB1)"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
METHODS=" ${METHODS:-random walk loop loop+prior cbas+prior cbas-ar+prior loop+arprior} "
ARPRIOR=${ARPRIOR:-}
want() { case "$METHODS" in *" $1 "*) return 0 ;; esac; return 1; }
OUT=bench/results/design_gb1_curves${SUFFIX:-}.csv
PRIOR=""
if [ -e "$ALN" ]; then
  "$BIN" fit -q --model profile -f SPG1_STRSG -o "$TMP/spg1.prof" "$ALN" && PRIOR="$TMP/spg1.prof"
fi
echo "method,seed,n_measured,best" > "$OUT"
run() { # run METHOD SEED ARGS...
  local m=$1 s=$2; shift 2
  "$BIN" design run -q --ledger "$TMP/$m-$s.db" --oracle "table:$GB1" --start VDGV --budget 384 --rounds 1000 \
    --seed "$s" "$@" -o "$TMP/$m-$s.csv" || { echo "design_gb1: $m seed $s failed" >&2; return; }
  grep -v '^#' "$TMP/$m-$s.csv" | tail -n +2 | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $2 "," $3}' >> "$OUT"
}
start=$(date +%s)
for s in $(seq 1 "$SEEDS"); do
  want random && run random "$s" --proposer random --no-predictor --batch 8
  want walk && run walk "$s" --proposer walk --no-predictor --batch 76
  want loop && run loop "$s" --batch 8
  [ -n "$PRIOR" ] && want loop+prior && run loop+prior "$s" --batch 8 --prior "$PRIOR" --prior-sites 265,266,267,280
  [ -n "$PRIOR" ] && want cbas+prior && run cbas+prior "$s" --batch 8 --prior "$PRIOR" --prior-sites 265,266,267,280 --proposer cbas
  [ -n "$PRIOR" ] && want cbas-ar+prior && run cbas-ar+prior "$s" --batch 8 --prior "$PRIOR" --prior-sites 265,266,267,280 --proposer cbas-ar
  [ -n "$ARPRIOR" ] && want loop+arprior && run loop+arprior "$s" --batch 8 --prior "$ARPRIOR" --prior-sites 265,266,267,280
done
echo "design_gb1: $SEEDS seeds in $(( $(date +%s) - start )) s; curves in $OUT"
# Best at a budget = the best of the last round with n_measured <= budget.
/usr/bin/python3 - "$OUT" <<'PY'
import csv, sys, collections
best = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    best[(r["method"], int(r["seed"]))][int(r["n_measured"])] = float(r["best"]) if r["best"] else 0.0
GMAX = 8.761965656
print("| method | seeds | fraction of max, 96 measurements | fraction of max, 384 measurements | runs reaching max (384) |")
print("|---|---|---|---|---|")
for m in ["random", "walk", "loop", "loop+prior", "cbas+prior", "cbas-ar+prior", "loop+arprior"]:
    rows = {s: c for (mm, s), c in best.items() if mm == m}
    if not rows: continue
    def at(c, b): return max(v for n, v in c.items() if n <= b) / GMAX
    f96 = [at(c, 96) for c in rows.values()]; f384 = [at(c, 384) for c in rows.values()]
    hit = sum(f > 0.9999 for f in f384)
    print(f"| {m} | {len(rows)} | {sum(f96)/len(f96):.3f} | {sum(f384)/len(f384):.3f} | {hit}/{len(rows)} |")
PY
