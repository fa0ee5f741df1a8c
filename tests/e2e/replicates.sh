# tests/e2e/replicates.sh: replicate measurements (issue 13, item 3): a lab
# campaign created with --replicates R takes up to R rows of a sequence in
# design ingest (numbered 0.. in file order, their mean trains the
# predictor); design run measures each designed sequence R times (with
# --oracle-noise, R different values); the budget counts measurements;
# kill -9 and resume give the ledger of an uninterrupted run.
. "$(dirname "$0")/lib.sh"

EH="ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4"
export_of() { "$BIN" ledger export --ledger "$1" --json -o "$2"; }
table_of() { "$BIN" ledger export --ledger "$1" --table "$2"; }

# ---- the lab -----------------------------------------------------------------------
CASE="lab campaign with --replicates 3"
"$BIN" design propose -q --ledger "$TMP/lab.db" --oracle lab --start MKTAYIAKQR --batch 4 --seed 2 --replicates 3 \
  -o "$TMP/b0.csv"
printf 'sequence,value\nMKTAYIAKQR,1.0\nMKTAYIAKQR,2.0\n' > "$TMP/r0.csv"
run_sl design ingest --ledger "$TMP/lab.db" "$TMP/r0.csv"
check "round 0: the start measured twice (exit $RC)" test "$RC" = 0
"$BIN" design propose -q --ledger "$TMP/lab.db" -o "$TMP/b1.csv"
mapfile -t S < <(grep '^1,' "$TMP/b1.csv" | cut -d, -f2)
check "round 1 proposes 4 sequences" test "${#S[@]}" = 4
# S0 three times, S1 twice (interleaved with others), S2 and S3 once.
printf 'sequence,value\n%s,1\n%s,2\n%s,3\n%s,4\n%s,5\n%s,6\n%s,7\n' "${S[0]}" "${S[1]}" "${S[0]}" "${S[2]}" "${S[1]}" \
  "${S[0]}" "${S[3]}" > "$TMP/r1.csv"
printf 'sequence,value\n%s,1\n%s,2\n%s,3\n%s,4\n' "${S[0]}" "${S[0]}" "${S[0]}" "${S[0]}" > "$TMP/r1bad.csv"
export_of "$TMP/lab.db" "$TMP/lab_before.json"
CASE="a fourth row of one sequence"
expect_error 1 "line 5: sequence ${S[0]} has more than 3 rows \\(first on line 2; the campaign takes --replicates 3\\)" \
  design ingest --ledger "$TMP/lab.db" "$TMP/r1bad.csv"
export_of "$TMP/lab.db" "$TMP/lab_after.json"
check "refused, the ledger unchanged" cmp -s "$TMP/lab_before.json" "$TMP/lab_after.json"
run_sl design ingest --ledger "$TMP/lab.db" "$TMP/r1.csv"
check "round 1 with replicates is ingested (exit $RC)" test "$RC" = 0
table_of "$TMP/lab.db" measurements > "$TMP/m.csv"
check "measurements: 9 rows (2 + 7), replicates numbered in file order" \
  test "$(tail -n +2 "$TMP/m.csv" | cut -d, -f2,4,6 | tr '\n' ' ')" = "1,1,0 1,2,1 2,1,0 3,2,0 2,3,1 4,4,0 3,5,1 2,6,2 5,7,0 "
table_of "$TMP/lab.db" round_stats > "$TMP/rs.csv"
check "round 1: n_measured counts every replicate (9), measured_this_round 7, batch_mean over rows (4)" \
  test "$(grep -E '^1,1,(n_measured|measured_this_round|batch_mean),' "$TMP/rs.csv" | cut -d, -f3,4 | tr '\n' ' ')" = \
       "batch_mean,4 measured_this_round,7 n_measured,9 "
# The best is over sequences' means: S0 (1+3+6)/3 = 3.33, S1 3.5, S2 4, S3 7.
check "round 1: the best is the best sequence mean (7), not a single replicate" \
  test "$(grep -E '^1,1,(best|batch_best),' "$TMP/rs.csv" | cut -d, -f3,4 | tr '\n' ' ')" = "batch_best,7 best,7 "
"$BIN" design propose -q --ledger "$TMP/lab.db" -o "$TMP/b2.csv"
check "round 2 is proposed with predictions from the replicate means" \
  awk -F, '/^2,/{ n++; if ($3 == "" || $4 == "") bad = 1 } END { exit bad || n != 4 }' "$TMP/b2.csv"
CASE="a plain campaign still refuses a repeated row"
"$BIN" design propose -q --ledger "$TMP/plain.db" --oracle lab --start MKTAYIAKQR --seed 2 -o "$TMP/p0.csv"
expect_error 1 "line 3: sequence MKTAYIAKQR is repeated \\(first on line 2; a campaign created with --replicates R" \
  design ingest --ledger "$TMP/plain.db" "$TMP/r0.csv"
CASE="--replicates out of range"; expect_error 2 "--replicates: expected an integer in \\[1, 100\\]" \
  design run --ledger "$TMP/never.db" --oracle "$EH" --replicates 0

# ---- design run: R measurements of each designed sequence ------------------------------
CASE="design run --replicates 2 --oracle-noise 0.05"
mkdir -p "$TMP/a" "$TMP/b" "$TMP/k"
design_in() { local d=$1; shift; (cd "$TMP/$d" && exec "$BIN" design run -q --ledger l.db "$@" -o rounds.csv); }
OPTS=(--oracle "$EH" --rounds 3 --batch 4 --seed 3 --replicates 2 --oracle-noise 0.05 --conformal jab)
design_in a "${OPTS[@]}"
table_of "$TMP/a/l.db" measurements > "$TMP/am.csv"
check "1 start + 3 rounds x 4 sequences x 2 replicates = 25 measurements" test "$(tail -n +2 "$TMP/am.csv" | wc -l)" = 25
check "every designed sequence has replicates 0 and 1" \
  test "$(tail -n +2 "$TMP/am.csv" | awk -F, '$5 > 0 { c[$2] += 1; r[$2] += $6 } END { for (s in c) if (c[s] != 2 || r[s] != 1) bad++; print bad + 0 }')" = 0
check "the noise gives each replicate its own value" \
  test "$(tail -n +2 "$TMP/am.csv" | awk -F, '$5 > 0 { if ($6 == 0) v[$2] = $4; else if ($4 == v[$2]) same++ } END { print same + 0 }')" = 0
design_in b "${OPTS[@]}"
export_of "$TMP/a/l.db" "$TMP/a.json"; export_of "$TMP/b/l.db" "$TMP/b.json"
check "the same seed gives the same ledger" cmp -s "$TMP/a.json" "$TMP/b.json"
SEQLOOP_TEST_CRASH_ROUND=2 design_in k "${OPTS[@]}" 2>/dev/null; rc=$?
check "kill -9 inside round 2 (status $rc)" test "$rc" = 137
design_in k "${OPTS[@]}"
export_of "$TMP/k/l.db" "$TMP/k.json"
check "resumed after kill -9: the ledger of the uninterrupted run, replicates and intervals included" \
  cmp -s "$TMP/a.json" "$TMP/k.json"

CASE="report of a campaign with replicates"
run_sl report --ledger "$TMP/a/l.db" -o "$TMP/a.html"
check "the report is written (exit $RC) with the design section" \
  bash -c '[ "$1" = 0 ] && grep -q "Best so far against measurements" "$2"' _ "$RC" "$TMP/a.html"

CASE="the budget counts replicates"
run_sl design run -q --ledger "$TMP/bud.db" --oracle "$EH" --budget 10 --batch 4 --seed 3 --replicates 2 -o "$TMP/bud.csv"
# 1 (start) + 4 x 2 = 9 after round 1; 1 left: one more sequence, measured twice (the
# last batch may pass the budget by up to R - 1 rather than measure a sequence once).
check "budget 10: 1 + 8 + 2 = 11 measurements, 2 rounds" \
  test "$(table_of "$TMP/bud.db" measurements | tail -n +2 | wc -l),$(tail -1 "$TMP/bud.csv" | cut -d, -f1)" = "11,2"
finish
