# tests/e2e/conformal_batch.sh: --conformal batch end to end (docs/design.md,
# "Conformal intervals"): split conformal inside each designed batch, a
# random part of it calibrating the rest. The intervals are recomputed here
# from the ledger (which sequences calibrated, their signed errors, the
# conformal order statistics), the split is reproducible (same seed, kill -9
# then resume, a lab file in another row order) and changes no choice.
. "$(dirname "$0")/lib.sh"

ES="ehrlich:v=4,c=2,k=2,L=6,q=2,seed=1" # 4^6 = 4,096 sequences
export_of() { "$BIN" ledger export --ledger "$1" --json -o "$2"; }
B=(--oracle "$ES" --pairwise --init-random 40 --batch 40 --budget 201 --rounds 100)
# CHECK_PY DB [ALPHA]: every round's intervals against a recomputation; prints
# the number of intervals and the covered share over all rounds
CHECK_PY='
import math, sqlite3, sys
d = sqlite3.connect(sys.argv[1]); alpha = 0.1
frac = d.execute("SELECT json_extract(options, \"$.cal_fraction\") FROM runs").fetchone()[0]
meas = dict(d.execute("SELECT seq, value FROM measurements").fetchall())
nint = cov = nmeas = 0
for (k,) in d.execute("SELECT DISTINCT round FROM predictions WHERE round >= 1 ORDER BY round").fetchall():
    rows = d.execute("SELECT s.id, p.mean, i.lower, i.upper, i.method, i.alpha FROM sequences s "
                     "JOIN predictions p ON p.seq = s.id AND p.round = s.round "
                     "LEFT JOIN intervals i ON i.seq = s.id AND i.round = s.round "
                     "WHERE s.round = ? AND s.origin = \"designed\" ORDER BY s.id", (k,)).fetchall()
    cal = [r for r in rows if r[4] is None]
    test = [r for r in rows if r[4] is not None]
    assert len(cal) == math.floor(frac * len(rows) + 0.5), (k, len(cal), len(rows))
    e = sorted(meas[r[0]] - r[1] for r in cal if meas.get(r[0]) is not None)
    m = len(e); j = math.ceil((1 - alpha / 2) * (m + 1)) - 1
    hi = e[j] if j < m else math.inf
    lo = -sorted(-x for x in e)[j] if j < m else -math.inf
    stat = dict(d.execute("SELECT name, value FROM round_stats WHERE k = ?", (k,)).fetchall())
    assert stat["conformal_cal_n"] == m, (k, stat, m)
    inside = measured = 0
    for sid, mean, lower, upper, method, a in test:
        assert method == "batch" and a == alpha, (method, a)
        L = -math.inf if lower is None else lower; U = math.inf if upper is None else upper
        assert abs(L - (mean + lo)) < 1e-9 * max(1, abs(L)) or L == mean + lo, (k, L, mean + lo)
        assert abs(U - (mean + hi)) < 1e-9 * max(1, abs(U)) or U == mean + hi, (k, U, mean + hi)
        if meas.get(sid) is not None:  # an unmeasurable variant counts in no coverage
            inside += L <= meas[sid] <= U; measured += 1
    assert abs(stat["conformal_coverage"] - inside / measured) < 1e-12, (k, stat["conformal_coverage"], inside)
    nint += len(test); cov += inside; nmeas += measured
print(nint, round(cov / nmeas, 3))
'

CASE="batch: a campaign on an Ehrlich function"
mkdir -p "$TMP/a" "$TMP/b" "$TMP/r" "$TMP/k"
for d in a b; do
  (cd "$TMP/$d" && exec "$BIN" design run -q --ledger l.db "${B[@]}" --conformal batch --seed 3 -o rounds.csv)
  export_of "$TMP/$d/l.db" "$TMP/$d.json"
done
check "it runs to the budget (201 measurements)" awk -F, 'END { exit !($2 == 201) }' "$TMP/a/rounds.csv"
check "the same seed gives the same ledger, intervals included" cmp -s "$TMP/a.json" "$TMP/b.json"
check "options stored: conformal batch with its calibration share" \
  test "$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$TMP/a/l.db').execute(\"SELECT json_extract(options, '\$.conformal'), json_extract(options, '\$.cal_fraction') FROM runs\").fetchone())")" = "('batch', 0.5)"
out=$(/usr/bin/python3 -c "$CHECK_PY" "$TMP/a/l.db" 2>&1)
check "rounds 2-5: half of each batch calibrates (20 of 40), the other half's intervals are the mean plus the conformal 0.05 quantiles of the calibration errors from below and above, coverage as recorded ($out)" \
  test "$(cut -d' ' -f1 <<< "$out")" = 80
(cd "$TMP/r" && exec "$BIN" design run -q --ledger l.db "${B[@]}" --conformal recent --seed 3 -o rounds.csv)
check "the intervals change no choice: the same sequences and measurements as with --conformal recent" \
  bash -c 'cmp -s <("$1" ledger export --ledger "$2" --table measurements | cut -d, -f2-4) <("$1" ledger export --ledger "$3" --table measurements | cut -d, -f2-4)' \
  _ "$BIN" "$TMP/a/l.db" "$TMP/r/l.db"
killed() { (cd "$TMP/k" && SEQLOOP_TEST_CRASH_ROUND=3 exec "$BIN" design run -q --ledger l.db "$@" -o rounds.csv); echo $?; }
rc=$(killed "${B[@]}" --conformal batch --seed 3 2>/dev/null)
(cd "$TMP/k" && exec "$BIN" design run -q --ledger l.db -o rounds.csv)
export_of "$TMP/k/l.db" "$TMP/k.json"
check "killed by SIGKILL inside round 3 (status $rc) and resumed with --ledger alone: the uninterrupted ledger" \
  test "$rc" = 137 -a "$(md5sum < "$TMP/k.json")" = "$(md5sum < "$TMP/a.json")"

CASE="batch: coverage over seeds"
tot=0; covd=0
for s in 1 2 3 4 5 6; do
  "$BIN" design run -q --ledger "$TMP/s$s.db" "${B[@]}" --conformal batch --seed "$s" -o "$TMP/s$s.csv"
  read -r n c <<< "$(/usr/bin/python3 -c "$CHECK_PY" "$TMP/s$s.db")"
  tot=$((tot + n)); covd=$(awk -v a="$covd" -v n="$n" -v c="$c" 'BEGIN { print a + n * c }')
done
share=$(awk -v c="$covd" -v t="$tot" 'BEGIN { printf "%.3f", c / t }')
check "6 campaigns, $tot intervals: covered share $share >= 0.85 (nominal 0.9; every round recomputed)" \
  awk -v s="$share" -v t="$tot" 'BEGIN { exit !(t == 480 && s >= 0.85) }'

CASE="batch: refusals"
expect_error 2 "--conformal batch calibrates on one measurement per sequence: it does not take --replicates 2" \
  design run --ledger "$TMP/x1.db" "${B[@]}" --conformal batch --replicates 2
check "a refused option creates no ledger" test ! -e "$TMP/x1.db"
expect_error 2 "--cal-fraction: the ledger's run used 0.5, this command line says 0.25" \
  design run --ledger "$TMP/a/l.db" "${B[@]}" --conformal batch --seed 3 --cal-fraction 0.25

CASE="batch: a lab campaign, its results file in two row orders"
L=(--oracle lab --start AAAAAA --symbols ACDE --batch 30 --init-random 30 --pairwise --conformal batch --cal-fraction 0.8 --seed 4)
"$BIN" design propose -q --ledger "$TMP/lab.db" "${L[@]}" -o "$TMP/p0.csv"
printf 'sequence,value\nAAAAAA,0\n' > "$TMP/v0.csv"
"$BIN" design ingest -q --ledger "$TMP/lab.db" "$TMP/v0.csv"
# a made-up assay: the number of C and E, plus the position of the first D
value_of() { awk -F, 'NR > 1 && $1 >= 1 { s = $2; v = gsub(/[CE]/, "&", s) + index(s, "D") / 10; print s "," v }' "$1"; }
for k in 1 2; do
  "$BIN" design propose -q --ledger "$TMP/lab.db" -o "$TMP/p$k.csv"
  { echo "sequence,value"; value_of "$TMP/p$k.csv"; } > "$TMP/v$k.csv"
  if [ "$k" = 2 ]; then
    cp "$TMP/lab.db" "$TMP/lab2.db"
    { echo "sequence,value"; value_of "$TMP/p$k.csv" | sort -r; } > "$TMP/v2r.csv"
    "$BIN" design ingest -q --ledger "$TMP/lab2.db" "$TMP/v2r.csv"
    # the staged plate: which to measure first, then the rest's intervals from their values
    export_of "$TMP/lab.db" "$TMP/plate_before.json"
    "$BIN" design plate -q --ledger "$TMP/lab.db" -o "$TMP/plate0.csv"
    check "plate: the open round's 30 sequences, 24 marked calibrate, 6 rest with no bounds yet" \
      test "$(grep -c ',calibrate,' "$TMP/plate0.csv") $(grep -c ',rest,[^,]*,,$' "$TMP/plate0.csv")" = "24 6"
    { echo "sequence,value"; value_of "$TMP/p$k.csv" | grep -F -f <(grep ',calibrate,' "$TMP/plate0.csv" | cut -d, -f2); } > "$TMP/cal.csv"
    "$BIN" design plate -q --ledger "$TMP/lab.db" "$TMP/cal.csv" -o "$TMP/plate1.csv"
    { echo "sequence,value"; value_of "$TMP/p$k.csv" | grep -F -f <(grep ',rest,' "$TMP/plate0.csv" | cut -d, -f2 | head -1); } > "$TMP/notcal.csv"
    expect_error 1 "notcal.csv: sequence [ACDE]* is not in the calibration part of round 2 \\(measure the rows marked 'calibrate' first\\)" \
      design plate --ledger "$TMP/lab.db" "$TMP/notcal.csv" -o "$TMP/plate2.csv"
    export_of "$TMP/lab.db" "$TMP/plate_after.json"
    check "plate records nothing: the ledger is unchanged" cmp -s "$TMP/plate_before.json" "$TMP/plate_after.json"
  fi
  "$BIN" design ingest -q --ledger "$TMP/lab.db" "$TMP/v$k.csv"
done
check "the plate's intervals from the calibration values alone are the ones recorded with the whole round" \
  /usr/bin/python3 -c "
import csv, sqlite3
d = sqlite3.connect('$TMP/lab.db')
rec = {s: (lo, hi) for s, lo, hi in d.execute('SELECT s.seq, i.lower, i.upper FROM intervals i JOIN sequences s ON s.id = i.seq')}
rows = [r for r in csv.DictReader(open('$TMP/plate1.csv')) if r['part'] == 'rest']
assert len(rows) == 6 == len(rec), (len(rows), len(rec))
for r in rows:
    lo, hi = rec[r['sequence']]
    assert float(r['lower']) == float('%.6g' % lo) and float(r['upper']) == float('%.6g' % hi), (r, lo, hi)
"
expect_error 2 "no designed round awaits measurements" design plate --ledger "$TMP/lab.db" -o "$TMP/plate3.csv"
expect_error 2 "the plate is for --conformal batch campaigns \\(this one: --conformal recent\\)" \
  design plate --ledger "$TMP/r/l.db" -o "$TMP/plate4.csv"
out=$(/usr/bin/python3 -c "$CHECK_PY" "$TMP/lab.db" 2>&1)
check "round 2: 24 of 30 calibrate, 6 intervals recomputed ($out)" test "$(cut -d' ' -f1 <<< "$out")" = 6
check "the rows in reverse order give the same intervals (the split is the batch's, not the file's)" \
  cmp -s <("$BIN" ledger export --ledger "$TMP/lab.db" --table intervals) <("$BIN" ledger export --ledger "$TMP/lab2.db" --table intervals)

CASE="batch: GB1, ALDE's protocol"
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
if need "$GB1"; then
  "$BIN" design run -q --ledger "$TMP/gb1.db" --oracle "table:$GB1" --start VDGV --budget 289 --rounds 100 --seed 2 \
    --init-random 96 --batch 96 --proposer mutate --mutations 2 --candidates 2000 --acquisition ucb --pairwise \
    --descriptors 1 --conformal batch -o "$TMP/gb1.csv"
  out=$(/usr/bin/python3 -c "$CHECK_PY" "$TMP/gb1.db" 2>&1)
  check "rounds 2-3: 48 intervals each, recomputed, unmeasurable variants left out of the calibration ($out)" \
    test "$(cut -d' ' -f1 <<< "$out")" = 96
  check "every interval bounded (at least 19 measurable calibration variants a round)" \
    awk -F, 'NR > 1 && $1 >= 2 { if ($14 != 0) bad = 1; n++ } END { exit bad || n != 2 }' "$TMP/gb1.csv"
fi
finish
