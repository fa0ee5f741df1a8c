#!/usr/bin/env bash
# bench/design_weighted_density.sh: --conformal weighted with the proposers'
# own densities (session 8; docs/design.md, "Sampled batches with a
# guarantee"): each batch drawn from CbAS's search distribution (cbas: a
# product of site probabilities; cbas-ar: an ar model), the held-out half from
# its tempered version, the intervals weighted by the ratio of the two. Three
# spaces, from enumerable to far past it:
#   poelwijk   the 2^13 genotypes of Poelwijk et al. 2019 (blue brightness;
#              normalised by enumeration), --proposer cbas
#   ehrlich    an Ehrlich function on 8^12 = 6.9e10 sequences (v=8, c=2, k=4,
#              L=12, q=4, seed 1; drawn by rejection, normaliser from a pilot),
#              --proposer cbas
#   pdz        a profile of the PDZ seed alignment (PF00595, 82 columns) as the
#              oracle: 20^82 sequences from poly-A, the profile as CbAS's prior,
#              --proposer cbas and cbas-ar (SEEDS_AR seeds: an ar fit per CbAS
#              iteration makes it ~25 s a campaign)
# Every campaign: --init-random 96, batches of 96, UCB, 30 members; the
# default inverse temperatures (10 and 2: the cal half from Q^0.2, or the ar
# at temperature 5) unless CAL="..." lists other --cal-lambda values.
# Reports, per space, method and round, the realised coverage of nominal 90%
# intervals per draw (mean over seeds), the seeds below 0.85, the mean width
# of the bounded intervals and the unbounded share; and the best value found.
#
# Usage: bench/design_weighted_density.sh [SEEDS]   (default 50)
# Env:   CASES ("poelwijk ehrlich pdz"), SEEDS_AR (20), CAL ("2"), SUFFIX, SEQLOOP_DATA
# Output: bench/results/design_weighted_density${SUFFIX}.csv
#         (case,method,cal_lambda,seed,round,coverage,width,unbounded,draws,best)
#         and a Markdown summary on stdout. Not a test: never timed in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SEQLOOP_BIN:-./seqloop}
DATA=${SEQLOOP_DATA:-../shared/data}
SEEDS=${1:-50}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqloop-bench.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
OUT=bench/results/design_weighted_density${SUFFIX:-}.csv
echo "case,method,cal_lambda,seed,round,coverage,width,unbounded,draws,best" > "$OUT"
COMMON=(--init-random 96 --batch 96 --acquisition ucb --members 30 --conformal weighted --rounds 100)

camp() { # camp CASE METHOD CAL SEED ARGS...
  local c=$1 m=$2 cal=$3 s=$4; shift 4
  rm -f "$TMP/c.db"
  "$BIN" design run -q --ledger "$TMP/c.db" --seed "$s" --proposer "$m" --cal-lambda "$cal" "${COMMON[@]}" "$@" \
    -o "$TMP/r.csv" || { echo "design_weighted_density: $c $m seed $s failed" >&2; return; }
  /usr/bin/python3 - "$TMP/c.db" "$c" "$m" "$cal" "$s" >> "$OUT" <<'PY'
import sqlite3, sys
db, c, m, cal, s = sys.argv[1:]
d = sqlite3.connect(db)
st = {}
for k, name, v in d.execute("SELECT k, name, value FROM round_stats"):
    st.setdefault(k, {})[name] = v
for k in sorted(st):
    r = st[k]
    if k < 2 or r.get("conformal_coverage") is None: continue
    w = r.get("conformal_width")
    print(f"{c},{m},{cal},{s},{k},{r['conformal_coverage']:.6f},{'' if w is None else f'{w:.6f}'},"
          f"{r.get('conformal_unbounded', 0):.6f},{int(r['conformal_n'])},{r['best']:.6f}")
PY
}

echo "# load before: $(uptime)" >&2
start=$(date +%s)
CASES=" ${CASES:-poelwijk ehrlich pdz} "
for cal in ${CAL:-2}; do
  case "$CASES" in *" poelwijk "*)
    PW=$DATA/poelwijk2019/supp_data_3.csv
    if [ -e "$PW" ]; then
      /usr/bin/python3 tools/poelwijk_table.py "$PW" "$TMP/pw.csv"
      for s in $(seq 1 "$SEEDS"); do
        camp poelwijk cbas "$cal" "$s" --oracle "table:$TMP/pw.csv,seq=genotype,value=brightness,symbols=01" \
          --start 0000000000000 --pairwise --budget 577
      done
    else echo "design_weighted_density: poelwijk skipped: data absent ($PW)" >&2; fi ;;
  esac
  case "$CASES" in *" ehrlich "*)
    for s in $(seq 1 "$SEEDS"); do
      camp ehrlich cbas "$cal" "$s" --oracle "ehrlich:v=8,c=2,k=4,L=12,q=4,seed=1" --budget 577
    done ;;
  esac
  case "$CASES" in *" pdz "*)
    PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
    if [ -e "$PDZ" ]; then
      "$BIN" fit -q --model profile -o "$TMP/pdz.prof" "$PDZ"
      polyA=$(printf 'A%.0s' $(seq 82))
      P=(--oracle "model:$TMP/pdz.prof" --start "$polyA" --prior "$TMP/pdz.prof" --budget 481)
      for s in $(seq 1 "$SEEDS"); do camp pdz cbas "$cal" "$s" "${P[@]}"; done
      for s in $(seq 1 "${SEEDS_AR:-20}"); do camp pdz cbas-ar "$cal" "$s" "${P[@]}"; done
    else echo "design_weighted_density: pdz skipped: data absent ($PDZ)" >&2; fi ;;
  esac
done
echo "# $(( $(date +%s) - start )) s; load after: $(uptime)" >&2
/usr/bin/python3 - "$OUT" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
g = collections.defaultdict(list)
for r in rows: g[(r["case"], r["method"], float(r["cal_lambda"]), int(r["round"]))].append(r)
print("| space | proposer | cal-lambda | round | seeds | coverage (per draw, mean over seeds) | seeds < 0.85 | mean width (bounded) | unbounded share | best (mean) |")
print("|---|---|---|---|---|---|---|---|---|---|")
fmt = lambda v: f"{sum(v)/len(v):.3f}" if v else "-"
for (c, m, cal, k), rs in sorted(g.items()):
    if k > 6: continue
    cv = [float(r["coverage"]) for r in rs]
    w = [float(r["width"]) for r in rs if r["width"]]
    u = [float(r["unbounded"]) for r in rs]
    b = [float(r["best"]) for r in rs]
    print(f"| {c} | {m} | {cal:g} | {k} | {len(rs)} | {fmt(cv)} | {sum(x < 0.85 for x in cv)} | {fmt(w)} | {fmt(u)} | {sum(b)/len(b):.4g} |")
allc = collections.defaultdict(list)
for (c, m, cal, k), rs in g.items():
    allc[(c, m, cal)] += [(float(r["coverage"]), float(r["unbounded"])) for r in rs]
print()
for key, v in sorted(allc.items()):
    print(f"{key[0]} {key[1]} cal-lambda {key[2]:g}: coverage over all rounds >= 2 {sum(x for x, _ in v)/len(v):.3f}, "
          f"unbounded {sum(u for _, u in v)/len(v):.3f} ({len(v)} round-batches)")
PY
