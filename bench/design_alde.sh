#!/usr/bin/env bash
# bench/design_alde.sh: ALDE's protocol on the GB1 four-site landscape (Wu et
# al. 2016; Yang et al., Nat Commun 2025): a random first batch of 96, then
# batches of 96, against random choice and the small-batch loop, all on the
# same seeds, through `seqloop design run`. Reports the fraction of the
# global maximum (8.762) and the share of seeds that found it after 96, 192,
# 384 and 480 measurements (the wild type, measured in round 0, comes on
# top: --budget 481), the share finding it within the first 470 designed
# measurements (ftMLDE's budget; measurement order within a batch is the
# acquisition order), and the realised coverage and width of nominal 90%
# conformal intervals per round (docs/design.md, "Conformal intervals").
#
# Methods:
#   random     uniform random variants, batches of 96 (--proposer random --no-predictor)
#   loop8      the loop's defaults in batches of 8 (mutate-and-select, bootstrap ridge, UCB)
#   alde       --init-random 96 --batch 96 --proposer mutate --mutations 2 --candidates 5000
#              --acquisition ei --pairwise, intervals by --conformal recent
#   alde-jab   the same campaign with --conformal jab: intervals never change a choice
#              (no random draw), so its curve must equal alde's (checked) and only the
#              intervals differ
#   new        the stronger loop of session 4 (NEW="..." replaces its options; default
#              below), intervals by --conformal recent
#   new-desc   new + --descriptors 1: residue-descriptor features and their site-pair
#              products (session 5; docs/design.md, "Predictor"); DESC="..." replaces its options
#   new-ord    new-desc + --order-weight 0.3: the all-orders kernel (every interaction order k
#              of the one-hot sites and of the descriptors weighted 0.3^(k-1); session 6;
#              docs/design.md, "Predictor"); ORD="..." replaces its options
#   weighted   --conformal weighted (session 7): each batch drawn from exp(10 UCB) over the
#              160,000 variants, half of it (cal draws, from exp(2 UCB)) held out one round to
#              calibrate intervals with a coverage guarantee (docs/design.md, "Conformal
#              intervals"); WTD="..." replaces its options
#   w-cbas     --conformal weighted with CbAS's search distribution as the query density (session
#              8): each batch drawn from the site-independent Q of --proposer cbas (cal draws from
#              Q^(2/10)), normalised over the variants not yet measured; WCB="..." replaces its options
#   w-cbas-ar  the same with cbas-ar's ar search distribution (cal draws at temperature 5)
#   new-batch  new-desc with --conformal batch (session 9): the same campaigns (intervals change no
#              choice), each batch's intervals calibrated on a random half of that batch, measured
#              first (docs/design.md, "Conformal intervals"); DESC="..." replaces its options
#   new-zs     new-desc + a zero-shot trust region (session 7): GEMME fitted with GB1's structure
#              (2QMT) on ProteinGym's alignment is the --prior (sites 265-267, 280 in SPG1 numbering;
#              also a predictor feature), and --min-prior ZS_D (default 2.87) keeps only variants
#              whose GEMME log P is within ZS_D of the wild type's: 41% of the space. The threshold
#              was chosen knowing where the maximum falls (docs/benchmarks.md, session 7); ZS="..."
#              replaces its options
# Usage: bench/design_alde.sh [SEEDS]   (default 50); METHODS="..." runs a subset
#        (default: random loop8 alde alde-jab new);
#        ALDE="..." replaces alde's options; SUFFIX=_x names other output files;
#        SEED_FROM=K runs seeds K..SEEDS only. KEEP=DIR keeps each campaign's ledger there
#        (DIR/METHOD-SEED.db; bench/conformal_rules.py reads them).
#        SUMMARY="_a _b" runs nothing and summarises the files of those suffixes together
#        (two halves run at once on a 2-core machine: METHODS=alde SUFFIX=_a ... &
#        METHODS="random new" SUFFIX=_b ...; then SUMMARY="_a _b" SUFFIX=_ab merges them).
# Output: bench/results/design_alde_curves.csv (method,seed,n_measured,best),
#         bench/results/design_alde_coverage.csv (method,seed,round,coverage90,conformal_coverage,conformal_width,
#         conformal_unbounded),
#         bench/results/design_alde_hit470.csv (method,seed,best within the first 470 designed),
#         a Markdown summary on stdout. Not a test: never timed in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SEQLOOP_BIN:-./seqloop}
DATA=${SEQLOOP_DATA:-../shared/data}
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
SEEDS=${1:-50}
[ -e "$GB1" ] || { echo "design_alde: skipped: data absent ($GB1)"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
METHODS=" ${METHODS:-random loop8 alde alde-jab new} "
want() { case "$METHODS" in *" $1 "*) return 0 ;; esac; return 1; }
CUR=bench/results/design_alde_curves${SUFFIX:-}.csv
COV=bench/results/design_alde_coverage${SUFFIX:-}.csv
HIT=bench/results/design_alde_hit470${SUFFIX:-}.csv
HEAD_CUR="method,seed,n_measured,best"
HEAD_COV="method,seed,round,coverage90,conformal_coverage,conformal_width,conformal_unbounded"
HEAD_HIT="method,seed,best470"
if [ -n "${SUMMARY:-}" ]; then # merge the files of several suffixes, run nothing
  echo "$HEAD_CUR" > "$TMP/curves.csv"; echo "$HEAD_COV" > "$TMP/coverage.csv"; echo "$HEAD_HIT" > "$TMP/hit470.csv"
  for x in $SUMMARY; do
    tail -n +2 "bench/results/design_alde_curves$x.csv" >> "$TMP/curves.csv"
    tail -n +2 "bench/results/design_alde_hit470$x.csv" >> "$TMP/hit470.csv"
    # coverage files before session 7 lack conformal_unbounded: an empty cell
    tail -n +2 "bench/results/design_alde_coverage$x.csv" | awk -F, '{print $0 (NF == 6 ? "," : "")}' >> "$TMP/coverage.csv"
  done
  mv "$TMP/curves.csv" "$CUR"; mv "$TMP/coverage.csv" "$COV"; mv "$TMP/hit470.csv" "$HIT"
else
echo "$HEAD_CUR" > "$CUR"; echo "$HEAD_COV" > "$COV"; echo "$HEAD_HIT" > "$HIT"
ALDE=${ALDE:-"--init-random 96 --batch 96 --proposer mutate --mutations 2 --candidates 5000 --acquisition ei --pairwise"}
WTD=${WTD:-"--init-random 96 --batch 96 --proposer all --acquisition ucb --pairwise --members 30 --query-lambda 10 --cal-lambda 2"}
WCB=${WCB:-"--init-random 96 --batch 96 --acquisition ucb --pairwise --members 30 --query-lambda 10 --cal-lambda 2"}
if want new-zs; then
  "$BIN" fit -q --model gemme --nonstandard gap --focus-first --structure "$DATA/gb1/2qmt.pdb:A" \
    -o "$TMP/gemme.model" "$DATA/gb1/SPG1_STRSG_full_11-26-2021_b07.a2m"
fi
ZS=${ZS:-"--prior $TMP/gemme.model --prior-sites 265,266,267,280 --min-prior ${ZS_D:-2.87}"}
NEW=${NEW:-"--init-random 96 --batch 96 --proposer mutate --mutations 2 --candidates 5000 --acquisition ucb --pairwise --members 30"}
run() { # run METHOD SEED ARGS...
  local m=$1 s=$2; shift 2
  "$BIN" design run -q --ledger "$TMP/$m-$s.db" --oracle "table:$GB1" --start VDGV --budget 481 --rounds 1000 \
    --seed "$s" "$@" -o "$TMP/$m-$s.csv" || { echo "design_alde: $m seed $s failed" >&2; return; }
  tail -n +2 "$TMP/$m-$s.csv" | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $2 "," $3}' >> "$CUR"
  tail -n +2 "$TMP/$m-$s.csv" | awk -F, -v m="$m" -v s="$s" '{print m "," s "," $1 "," $9 "," $12 "," $13 "," $14}' >> "$COV"
  # measurements in id order (round 0's wild type first): the best within the first 470 designed
  "$BIN" ledger export --ledger "$TMP/$m-$s.db" --table measurements | tail -n +2 |
    awk -F, -v m="$m" -v s="$s" 'NR >= 2 && NR <= 471 && $4 != "" && (b == "" || $4 + 0 > b + 0) {b = $4}
      END {print m "," s "," b}' >> "$HIT"
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && mv "$TMP/$m-$s.db" "$KEEP/"; else rm -f "$TMP/$m-$s.db"; fi
}
echo "# load before: $(uptime)" >&2
start=$(date +%s)
for s in $(seq "${SEED_FROM:-1}" "$SEEDS"); do
  want random && run random "$s" --proposer random --no-predictor --batch 96
  want loop8 && run loop8 "$s" --batch 8
  # shellcheck disable=SC2086
  want alde && run alde "$s" $ALDE --conformal recent
  # shellcheck disable=SC2086
  want alde-jab && run alde-jab "$s" $ALDE --conformal jab
  # shellcheck disable=SC2086
  want new && run new "$s" $NEW --conformal recent
  # shellcheck disable=SC2086
  want new-desc && run new-desc "$s" ${DESC:-$NEW --descriptors 1} --conformal recent
  # shellcheck disable=SC2086
  want new-ord && run new-ord "$s" ${ORD:-$NEW --descriptors 1 --order-weight 0.3} --conformal recent
  # shellcheck disable=SC2086
  want new-zs && run new-zs "$s" ${DESC:-$NEW --descriptors 1} $ZS --conformal recent
  # shellcheck disable=SC2086
  want new-batch && run new-batch "$s" ${DESC:-$NEW --descriptors 1} --conformal batch
  # shellcheck disable=SC2086
  want weighted && run weighted "$s" $WTD --conformal weighted
  # shellcheck disable=SC2086
  want w-cbas && run w-cbas "$s" $WCB --proposer cbas --conformal weighted
  # shellcheck disable=SC2086
  want w-cbas-ar && run w-cbas-ar "$s" $WCB --proposer cbas-ar --conformal weighted
done
echo "# $SEEDS seeds in $(( $(date +%s) - start )) s; load after: $(uptime)" >&2
fi
/usr/bin/python3 - "$CUR" "$COV" "$HIT" <<'PY'
import csv, sys, collections
GMAX = 8.761965656
cur = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    cur[(r["method"], int(r["seed"]))][int(r["n_measured"])] = float(r["best"]) if r["best"] else 0.0
b470 = {(r["method"], int(r["seed"])): float(r["best470"]) if r["best470"] else 0.0
        for r in csv.DictReader(open(sys.argv[3]))}
methods = [m for m in ["random", "loop8", "alde", "alde-jab", "new", "new-desc", "new-ord", "new-zs", "new-batch", "weighted", "w-cbas", "w-cbas-ar"] if any(k[0] == m for k in cur)]
if "alde" in methods and "alde-jab" in methods:
    same = all(cur[("alde", s)] == cur[("alde-jab", s)] for (m, s) in cur if m == "alde" and ("alde-jab", s) in cur)
    print(f"alde and alde-jab curves identical (intervals change no choice): {same}\n")
print("| method | seeds | best/max @96 | @192 | @384 | @480 | found max @384 | @480 | within 470 designed |")
print("|---|---|---|---|---|---|---|---|---|")
for m in methods:
    rows = {s: c for (mm, s), c in cur.items() if mm == m}
    def at(c, b): return max(v for n, v in c.items() if n <= b + 1) / GMAX  # + 1: the wild type
    f = {b: [at(c, b) for c in rows.values()] for b in (96, 192, 384, 480)}
    hit = {b: sum(x > 0.9999 for x in f[b]) for b in (384, 480)}
    h470 = sum(v / GMAX > 0.9999 for (mm, s), v in b470.items() if mm == m)
    n = len(rows)
    print(f"| {m} | {n} | " + " | ".join(f"{sum(f[b])/n:.3f}" for b in (96, 192, 384, 480)) +
          f" | {hit[384]}/{n} | {hit[480]}/{n} | {h470}/{n} |")
print("\nRealised coverage of nominal 90% intervals per round (mean over seeds; width: mean over bounded intervals):\n")
print("| method | round | seeds with intervals | conformal coverage | conformal width | unbounded share | bootstrap Gaussian 90% coverage |")
print("|---|---|---|---|---|---|---|")
cov = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[2])):
    cov[(r["method"], int(r["round"]))].append(r)
for (m, k), rs in sorted(cov.items()):
    if m not in ("alde", "alde-jab", "loop8", "new", "new-desc", "new-ord", "new-zs", "new-batch", "weighted", "w-cbas", "w-cbas-ar") or k == 0: continue
    cc = [float(r["conformal_coverage"]) for r in rs if r["conformal_coverage"]]
    ww = [float(r["conformal_width"]) for r in rs if r["conformal_width"]]
    g = [float(r["coverage90"]) for r in rs if r["coverage90"]]
    ub = [float(r["conformal_unbounded"]) for r in rs if r.get("conformal_unbounded")]
    if not cc and not g: continue
    if m == "loop8" and k % 8: continue
    if m in ("weighted", "w-cbas", "w-cbas-ar") and k > 8: continue  # rounds of few new draws at the end: see the all-rounds line
    fmt = lambda v: f"{sum(v)/len(v):.3f}" if v else "-"
    print(f"| {m} | {k} | {len(cc)} | {fmt(cc)} | {fmt(ww)} | {fmt(ub)} | {fmt(g)} |")
allc = collections.defaultdict(list)
for (m, k), rs in cov.items():
    if k >= 2: allc[m] += [float(r["conformal_coverage"]) for r in rs if r["conformal_coverage"]]
for m, v in allc.items():
    if v: print(f"\n{m}: coverage over all rounds >= 2 and seeds: {sum(v)/len(v):.3f} ({len(v)} round-batches)")
PY
