#!/usr/bin/env bash
# bench/design_poelwijk.sh: the design loop's own intervals under feedback on
# the Poelwijk et al. 2019 landscape (all 2^13 genotypes, blue brightness),
# with --conformal weighted (docs/design.md, "Conformal intervals"): the
# loop's analogue of Fannjiang et al. (PNAS 2022, Fig. 3), whose design
# draws one sequence from exp(lambda * ridge prediction).
#
# Per condition (n, lambda): a campaign per seed with a uniform first batch of
# n (--init-random n: half trains, half is held out to calibrate) and then
# designed rounds of 96 draws from exp(lambda * mean) (--acquisition greedy:
# the paper's design is the prediction itself; the cal half from
# exp(lambda/2 * mean)); lambda 0 is the exchangeable case (uniform draws).
# Reports the realised coverage of nominal 90% intervals per draw of round 2
# (the first designed round: the paper's setting), the mean width of the
# bounded intervals and the unbounded share, mean over seeds; and, for
# ROUNDS > 2, the same for every later round (the multi-round case).
#
# CONF=batch (session 9) runs the top-k loop instead: every round the batch
# of 96 best by UCB over the whole space (--proposer all --acquisition ucb),
# intervals by --conformal batch (a random half of each batch, measured
# first, calibrates the rest's); lambda is unused and reported as 0.
#
# Usage: bench/design_poelwijk.sh [SEEDS]   (default 50)
# Env:   NS ("96 192 384"), LAMBDAS ("0 2 4 6"), ROUNDS (2), SEEDS_FROM (1), CONF (weighted), SEQLOOP_DATA
# Output: bench/results/design_poelwijk${SUFFIX}.csv (n,lambda,seed,round,coverage,width,unbounded,draws)
#         and a Markdown summary on stdout. Not a test: never timed in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SEQLOOP_BIN:-./seqloop}
DATA=${SEQLOOP_DATA:-../shared/data}
PW=$DATA/poelwijk2019/supp_data_3.csv
SEEDS=${1:-50}
[ -e "$PW" ] || { echo "design_poelwijk: skipped: data absent ($PW)"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
OUT=bench/results/design_poelwijk${SUFFIX:-}.csv
/usr/bin/python3 tools/poelwijk_table.py "$PW" "$TMP/pw.csv"
echo "n,lambda,seed,round,coverage,width,unbounded,draws" > "$OUT"
echo "# load before: $(uptime)" >&2
start=$(date +%s)
if [ "${CONF:-weighted}" = batch ]; then LAMBDAS=0; fi
for n in ${NS:-96 192 384}; do
  for lam in ${LAMBDAS:-0 2 4 6}; do
    if [ "${CONF:-weighted}" = batch ]; then
      how=(--proposer all --acquisition ucb --pairwise --conformal batch)
    else
      how=(--proposer all --acquisition greedy --pairwise --conformal weighted --query-lambda "$lam"
           --cal-lambda "$(awk -v l="$lam" 'BEGIN { print l / 2 }')")
    fi
    for s in $(seq "${SEEDS_FROM:-1}" "$SEEDS"); do
      db=$TMP/c.db
      rm -f "$db"
      "$BIN" design run -q --ledger "$db" --oracle "table:$TMP/pw.csv,seq=genotype,value=brightness,symbols=01" \
        --start 0000000000000 --rounds "${ROUNDS:-2}" --seed "$s" --init-random "$n" --batch 96 "${how[@]}" \
        -o "$TMP/r.csv" || { echo "design_poelwijk: n $n lambda $lam seed $s failed" >&2; continue; }
      /usr/bin/python3 - "$db" "$n" "$lam" "$s" >> "$OUT" <<'PY'
import sqlite3, sys
db, n, lam, s = sys.argv[1:]
d = sqlite3.connect(db)
st = {}
for k, name, v in d.execute("SELECT k, name, value FROM round_stats"):
    st.setdefault(k, {})[name] = v
for k in sorted(st):
    if k < 2 or "conformal_coverage" not in st[k]: continue
    r = st[k]
    w = r.get("conformal_width")
    print(f"{n},{lam},{s},{k},{r['conformal_coverage']:.6f},{'' if w is None else f'{w:.6f}'},"
          f"{r.get('conformal_unbounded', 0):.6f},{int(r['conformal_n'])}")
PY
    done
  done
done
echo "# $(( $(date +%s) - start )) s; load after: $(uptime)" >&2
/usr/bin/python3 - "$OUT" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
g = collections.defaultdict(list)
for r in rows: g[(int(r["n"]), float(r["lambda"]), int(r["round"]))].append(r)
print("| n (first batch) | lambda | round | seeds | coverage (per draw, mean over seeds) | seeds covering < 0.85 | mean width (bounded) | unbounded share |")
print("|---|---|---|---|---|---|---|---|")
for (n, lam, k), rs in sorted(g.items()):
    c = [float(r["coverage"]) for r in rs]
    w = [float(r["width"]) for r in rs if r["width"]]
    u = [float(r["unbounded"]) for r in rs]
    fmt = lambda v: f"{sum(v)/len(v):.3f}" if v else "-"
    print(f"| {n} | {lam:g} | {k} | {len(rs)} | {fmt(c)} | {sum(x < 0.85 for x in c)} | {fmt(w)} | {fmt(u)} |")
PY
