# tests/e2e/split.sh: homology-aware splits and the leakage audit on a real
# family (kunitz, 13,600 x 53): a cluster split passes the audit it must
# pass, a random split is flagged, an assay is recognised as near-copies of
# the focus; bad inputs and options.
. "$(dirname "$0")/lib.sh"

K=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
CASE="split kunitz"
if need "$K"; then
  for m in cluster cobalt random; do
    "$BIN" split -q --method $m --identity 0.8 --seed 3 -t 2 -o "$TMP/k_$m" "$K"
    check "split --method $m writes train, test and a report" test -s "$TMP/k_$m.train.fa" -a -s "$TMP/k_$m.test.fa" -a -s "$TMP/k_$m.split.json"
    "$BIN" audit -q --json --train "$TMP/k_$m.train.fa" --test "$TMP/k_$m.test.fa" > "$TMP/leak_$m.json"
    r=$(json_get "$TMP/leak_$m.json" "'%d %d %.4f' % (d['held_out'], d['n_above_threshold'], d['max'])")
    s=$(json_get "$TMP/k_$m.split.json" "'%d %d %.4f' % (d['held_out'], d['n_test_above_identity'], d['max_test_train_identity'])")
    check "$m: the split's own check ($s) equals the independent audit ($r)" [ "$r" = "$s" ]
    nt=$(grep -c '^>' "$TMP/k_$m.test.fa"); ntr=$(grep -c '^>' "$TMP/k_$m.train.fa")
    if [ $m = random ]; then
      check "random split: audit says NOT held out (held_out n_above max: $r)" [ "${r%% *}" = 0 ]
      check "random split: 2720 test + 10880 train rows ($nt + $ntr)" [ "$nt" = 2720 -a "$ntr" = 10880 ]
    else
      check "$m split: audit says held out at 0.8 ($r)" [ "${r%% *}" = 1 ]
      check "$m split: a test set of at least 1000 rows ($nt; train $ntr)" [ "$nt" -ge 1000 -a "$ntr" -ge 8000 ]
    fi
  done
  "$BIN" split -q --method cluster --identity 0.8 --seed 3 -t 1 -o "$TMP/again" "$K"
  check "the same seed gives byte-identical sets (1 vs 2 threads)" cmp -s "$TMP/again.test.fa" "$TMP/k_cluster.test.fa"
  "$BIN" audit --train "$TMP/k_random.train.fa" --test "$TMP/k_random.test.fa" -q --per-sequence "$TMP/per.csv" > "$TMP/leak.txt"
  check "text report gives the verdict" grep -q "^verdict *NOT HELD OUT at identity 0.8" "$TMP/leak.txt"
  check "per-sequence CSV: one line per test row" [ "$(grep -vc '^#\|^test,' "$TMP/per.csv")" = 2720 ]
  CASE="split bad options"
  expect_error 2 "expected one ALIGNMENT and -o PREFIX" split "$K"
  expect_error 2 "--method: expected cluster, cobalt or random, not 'kmeans'" split --method kmeans -o "$TMP/x" "$K"
  expect_error 2 "expected a number in \[0, 1\]" split --identity 1.5 -o "$TMP/x" "$K"
  check "no output left by refused splits" [ ! -e "$TMP/x.train.fa" ]
fi

BLAT=$DATA/blat_ecolx
CASE="leakage of an assay"
if need "$BLAT/BLAT_ECOLX.a2m"; then
  "$BIN" audit -q --json --skip-invalid -f BLAT_ECOLX --train "$BLAT/BLAT_ECOLX.a2m" --test "$BLAT/BLAT_ECOLX_Ranganathan2015.csv" > "$TMP/blat.json"
  r=$(json_get "$TMP/blat.json" "'%d %d %d' % (d['held_out'], d['n_test'], d['n_test_skipped'])")
  check "assay variants of the focus are not held out; 4807 in columns, 190 outside ($r)" [ "$r" = "0 4807 190" ]
  CASE="assay without focus"; expect_error 2 "needs the training alignment's focus" audit --train "$BLAT/BLAT_ECOLX.a2m" --test "$BLAT/BLAT_ECOLX_Ranganathan2015.csv"
fi

# No data needed: mismatched columns, a malformed mutant, a wrong wild type.
CASE="leakage bad inputs"
printf '>a\nACDEFG\n>b\nACDEFH\n' > "$TMP/tr.fa"
printf '>t\nACDE\n' > "$TMP/te.fa"
expect_error 1 "te.fa has 4 columns but the training alignment has 6" audit --train "$TMP/tr.fa" --test "$TMP/te.fa"
printf 'mutant,score\nA1G,1\nC2,3\n' > "$TMP/bad.csv"
expect_error 1 "bad.csv, line 3: mutation 'C2' is not of the form A42G" audit --focus-first --train "$TMP/tr.fa" --test "$TMP/bad.csv"
printf 'mutant,score\nD1G,1\n' > "$TMP/wt.csv"
expect_error 1 "wt.csv, line 2: mutation 'D1G': the wild type at residue 1 is 'A', not 'D'" audit --focus-first --train "$TMP/tr.fa" --test "$TMP/wt.csv"
"$BIN" audit -q --json --skip-invalid --focus-first --train "$TMP/tr.fa" --test "$TMP/bad.csv" > "$TMP/skip.json"
check "--skip-invalid skips and counts the malformed variant" [ "$(json_get "$TMP/skip.json" "'%d %d' % (d['n_test'], d['n_test_skipped'])")" = "1 1" ]
printf 'x,score\nA1G,1\n' > "$TMP/nomut.csv"
expect_error 1 "no 'mutant' column" audit --focus-first --train "$TMP/tr.fa" --test "$TMP/nomut.csv"
expect_error 2 "takes --train ALIGNMENT and --test FILE" audit --train "$TMP/tr.fa"
expect_error 2 "leak-threshold: expected a number" audit --train "$TMP/tr.fa" --test "$TMP/te.fa" --leak-threshold 2
printf '>t\nACDEFG\n' > "$TMP/same.fa"
"$BIN" audit -q --json --train "$TMP/tr.fa" --test "$TMP/same.fa" > "$TMP/same.json"
check "a copy of a training row is found (identity 1)" [ "$(json_get "$TMP/same.json" "'%.3f' % d['max']")" = "1.000" ]
finish
