#!/usr/bin/env bash
# tests/e2e/audit_fixes.sh: ingestion and audit fixes of the renovation
# (issue 11): ColabFold's A3M '#' superheader, "most conserved" columns that
# are never columns of gaps, and ingestion warnings that -q does not hide.
. "$(dirname "$0")/lib.sh"

# 1. ColabFold A3M: one '#lengths<TAB>cardinalities' line before the first record.
CASE="colabfold a3m"
a3m="$DATA/a3m_examples/1a3a_1_A.a3m"
if need "$a3m"; then
  L=$(awk '/^>/{n++; next} n==1{printf "%s", $0}' "$a3m" | tr -d 'a-z.' | wc -c)
  { printf '#%d\t1\n' "$L"; cat "$a3m"; } > "$TMP/cf.a3m"
  run_sl audit --json -o "$TMP/plain.json" "$a3m"
  run_sl audit --json -o "$TMP/cf.json" "$TMP/cf.a3m"
  check "$CASE: accepted (exit $RC)" [ "$RC" -eq 0 ]
  n1=$(json_get "$TMP/plain.json" "d['N']"); n2=$(json_get "$TMP/cf.json" "d['N']")
  e1=$(json_get "$TMP/plain.json" "d['neff']"); e2=$(json_get "$TMP/cf.json" "d['neff']")
  check "$CASE: same N ($n1 = $n2) and Neff ($e1 = $e2) as without the superheader" \
    [ -n "$n1" -a "$n1" = "$n2" -a "$e1" = "$e2" ]
  { printf '#259,78\t1,1\n'; cat "$a3m"; } > "$TMP/cf2.a3m"
  run_sl audit -q "$TMP/cf2.a3m"
  check "$CASE: complex superheader (#259,78<TAB>1,1) accepted" [ "$RC" -eq 0 ]
fi
CASE="colabfold-like junk"
printf '#101 1\n>q\nACDEF\n' > "$TMP/bad.a3m"
expect_error 1 "line 1: expected a FASTA header" audit "$TMP/bad.a3m"
printf '#101\t1\n' > "$TMP/only.a3m"
expect_error 1 "only a ColabFold" audit "$TMP/only.a3m"
printf '# STOCKHOLM 1.0\n' > "$TMP/x.sto"
printf '#5\t1\n>q\nACDEF\n' > "$TMP/fmt.a3m"
expect_error 1 "expected '# STOCKHOLM 1.0' header" audit --format stockholm "$TMP/fmt.a3m"

# 2. Most conserved columns are not columns of gaps (RRM_1, the README's demo).
CASE="conserved columns"
rrm=/usr/share/doc/hmmer/examples/testsuite/RRM_1.sto.gz
[ -e "$rrm" ] || rrm="$DATA/pfam_seeds_stockholm/RRM_1.sto"
if need "$rrm"; then
  run_sl audit --json -o "$TMP/rrm.json" "$rrm"
  bad=$(/usr/bin/python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); c=d['columns']
ids=d['lowest_entropy_columns']+d['highest_entropy_columns']
print(sum(1 for k in ids if c[k-1]['gap_frac']>0.3), len(ids), d['ranked_columns'], sum(1 for x in c if x['gap_frac']<=0.3))" "$TMP/rrm.json")
  set -- $bad none none none none
  check "$CASE: no listed column has > 30% gaps ($1 of $2), ranked = columns with <= 30% gaps ($3 = $4)" \
    [ "$1" = 0 -a "$2" = 10 -a "$3" = "$4" ]
  run_sl audit "$rrm"
  gappy=$(awk '/most conserved/{f=1; getline; next} /^$/{f=0} f && $6+0 > 0.3' "$TMP/out" | wc -l)
  check "$CASE: text table lists no gappy column as most conserved" [ "$gappy" -eq 0 ]
  check "$CASE: text says how many gappy columns are not ranked" grep -q "columns with more than 30% gaps are not ranked" "$TMP/out"
fi

# 3. A focus name that matches several records: a warning even with -q.
CASE="ambiguous focus"
if need "$DATA/blat_ecolx/BLAT_ECOLX.a2m"; then
  run_sl audit -q -f up "$DATA/blat_ecolx/BLAT_ECOLX.a2m"
  check "$CASE: -q still warns that 'up' matches 5113 records (exit $RC)" \
    grep -q "warning: focus 'up' matches 5113 records" "$TMP/err"
  run_sl audit -q -f BLAT_ECOLX "$DATA/blat_ecolx/BLAT_ECOLX.a2m"
  check "$CASE: an exact name is quiet under -q" [ ! -s "$TMP/err" ]
fi
# 4. Sequence weighting shows progress on a terminal only (the other long
#    steps are checked in models.sh).
CASE="weights progress"
if need "$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz" && command -v script > /dev/null; then
  script -qc "'$BIN' weights -t 1 -o '$TMP/k.w' '$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz'" "$TMP/tty" > /dev/null 2>&1
  n=$(tr '\r' '\n' < "$TMP/tty" | grep -ac "weights: .*row pairs")
  check "$CASE: drawn on a terminal ($n progress lines)" [ "$n" -ge 1 ]
  run_sl weights -t 1 -o "$TMP/k2.w" "$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz"
  check "$CASE: silent when stderr is piped" eval '! grep -q "row pairs" "$TMP/err"'
  script -qc "'$BIN' weights -q -t 1 -o '$TMP/k3.w' '$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz'" "$TMP/tty2" > /dev/null 2>&1
  check "$CASE: silent with -q on a terminal" eval '! grep -aq "row pairs" "$TMP/tty2"'
  check "$CASE: the weights are the same with and without progress" cmp -s "$TMP/k.w" "$TMP/k2.w"
fi
finish
