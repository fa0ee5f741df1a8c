#!/usr/bin/env bash
# tests/e2e/zeroshot_structure.sh: `seqloop fit --model lor|gemme` writes a
# model that `seqloop score` uses, and `--structure FILE[:CHAIN]` (fit and
# score) weights its columns by RSALOR's 1 - min(RSA,100)/100, recorded in
# the model. Values: the singles of GB1's Olson assay equal what `seqloop
# benchmark` computes for the same alignment with the same RSA (given there
# as the CSV's RSA column, from `benchmark --rsa-of` on the same structure).
. "$(dirname "$0")/lib.sh"
CASE=zeroshot_structure
PY=/usr/bin/python3
cat > $TMP/toy.a2m <<'A2M'
>T/1-5
MKVEW
>a
MRIDW
>b
LKIDW
A2M
expect_error 2 "fixed constants" fit --model lor -g --focus-first -o $TMP/x.model $TMP/toy.a2m
expect_error 2 "field-only models \(lor, gemme, profile\), not potts" fit --model potts --structure x.pdb --focus-first -o $TMP/x.model $TMP/toy.a2m
expect_error 2 "needs a focus|focus sequence" fit --model gemme -o $TMP/x.model $TMP/toy.a2m
expect_error 2 "--model stab needs --structure FILE\[:CHAIN\]" fit --model stab --focus-first -o $TMP/x.model $TMP/toy.a2m
run_sl fit -q --model lor --focus-first -o $TMP/toy.lor $TMP/toy.a2m
run_sl score -q -m $TMP/toy.lor --mutants K2R,V3I -o $TMP/toy.csv
# lor by hand: weights 1 each (no two rows 80% identical), Neff 3; column 2 has K K R:
# f(K) = 0.99 x 2/3 + 0.01/21, f(R) = 0.99/3 + 0.01/21, score = logit f(R) - logit f(K)
check "fit --model lor, score: K2R = logit f(R) - logit f(K)" $PY - $TMP/toy.csv <<'PY'
import csv, math, sys
f = lambda c: 0.99 * c / 3 + 0.01 / 21
lo = lambda x: math.log(x / (1 - x))
d = {r["mutant"]: float(r["seqloop_score"]) for r in csv.DictReader(open(sys.argv[1]))}
assert abs(d["K2R"] - (lo(f(1)) - lo(f(2)))) < 1e-5, d
PY

G=$DATA/gb1
A=$G/SPG1_STRSG_full_11-26-2021_b07.a2m
P=$G/2qmt.pdb
if need "$A" "$P" "$G/olson2014_gb1_single_mutants_counts.csv"; then
  $PY bench/potts_helper.py gb1csv "$G/olson2014_gb1_single_mutants_counts.csv" "$G/olson2014_gb1_wild_type_counts.csv" $TMP/gb1.csv > /dev/null
  "$BIN" benchmark --rsa-of "$P" --chain A -o $TMP/rsa.csv
  mkdir -p $TMP/b/GB1OL
  cp "$A" $TMP/b/GB1OL/GB1OL.a2m
  # the assay with an RSA column: 2QMT numbers GB1 from 1, the alignment from SPG1 (GB1 + 226)
  $PY - $TMP/rsa.csv $TMP/gb1.csv $TMP/b/GB1OL/GB1OL.csv <<'PY'
import csv, sys
rsa = {int(r["num"]): r["rsa"] for r in csv.DictReader(open(sys.argv[1]))}
with open(sys.argv[3], "w", newline="") as fo:
    w = csv.writer(fo, lineterminator="\n")
    w.writerow(["mutant", "DMS_score", "RSA"])
    for r in csv.DictReader(open(sys.argv[2])):
        w.writerow([r["mutant"], r["fitness"], rsa[int(r["mutant"][1:-1]) - 226]])
PY
  run_sl benchmark -q -t 2 --models lor@rsa+gemme@rsa+lor+gemme --boot 10 -o $TMP/bres $TMP/b
  check "benchmark on the GB1 assay (exit $RC)" [ "$RC" -eq 0 ]
  for k in lor gemme; do
    run_sl fit --model $k --nonstandard gap --focus-first --structure "$P:A" -o $TMP/$k.rsa.model $TMP/b/GB1OL/GB1OL.a2m
    check "fit --model $k --structure (exit $RC)" [ "$RC" -eq 0 ]
    check "$k: 56 of 409 columns aligned to 2QMT, all weighted" grep -q '56 residues; 56 of 409 model columns aligned (identity 98.2%), 56 weighted' $TMP/err
    run_sl fit -q --model $k --nonstandard gap --focus-first -o $TMP/$k.model $TMP/b/GB1OL/GB1OL.a2m
    "$BIN" score -q -m $TMP/$k.rsa.model -o $TMP/$k.rsa.csv $TMP/b/GB1OL/GB1OL.csv
    "$BIN" score -q -m $TMP/$k.model -o $TMP/$k.csv $TMP/b/GB1OL/GB1OL.csv
    run_sl score -q -m $TMP/$k.model --structure "$P" -o $TMP/$k.score_rsa.csv $TMP/b/GB1OL/GB1OL.csv
    check "$k: score --structure gives the fit --structure scores" cmp -s $TMP/$k.score_rsa.csv $TMP/$k.rsa.csv
    check "$k: singles (plain and RSA-weighted) equal the benchmark's (RSA from the CSV, 3 decimals)" \
      $PY - $TMP/bres/GB1OL.scores.csv $TMP/$k.csv $TMP/$k.rsa.csv $k <<'PY'
import csv, sys
b = list(csv.DictReader(open(sys.argv[1])))
k = sys.argv[4]
for path, col in ((sys.argv[2], k), (sys.argv[3], k + "@rsa")):
    d = list(csv.DictReader(open(path)))
    assert len(d) == len(b) == 1045
    worst = max(abs(float(x["seqloop_score"]) - float(y[col])) for x, y in zip(d, b))
    assert worst < 2e-4, (col, worst)
    # not trivially equal: RSA weighting changes the scores
assert any(abs(float(y[k]) - float(y[k + "@rsa"])) > 0.1 for y in b)
PY
  done
  check "the model records the RSA weighting (structure, chain, 409 factors)" $PY - $TMP/lor.rsa.model <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
i = raw.index(b"{")
hdr, _ = json.JSONDecoder().raw_decode(raw[i:].decode("latin-1"))
r = hdr["meta"]["fit"]["rsa"]
assert r["chain"] == "A" and r["structure"].endswith("2qmt.pdb") and len(r["factors"]) == 409, r.keys()
assert r["weighted"] == 56 and sum(f < 1 for f in r["factors"]) > 30
PY
  expect_error 2 "already scaled" score -m $TMP/lor.rsa.model --structure "$P" -o $TMP/x.csv $TMP/b/GB1OL/GB1OL.csv
  # stab: the burial of each column from the structure (fit --model stab --structure) gives
  # the benchmark's stab scores (burial from the CSV's RSA column, from the same structure)
  run_sl benchmark -q -t 1 --models stab --boot 0 -o $TMP/bstab $TMP/b
  check "benchmark --models stab on the GB1 assay (exit $RC)" [ "$RC" -eq 0 ]
  run_sl fit --model stab --nonstandard gap --focus-first --structure "$P:A" -o $TMP/stab.model $TMP/b/GB1OL/GB1OL.a2m
  check "fit --model stab --structure (exit $RC): 56 columns from 2QMT" \
    bash -c '[ "$1" -eq 0 ] && grep -q "56 of 409 model columns aligned (identity 98.2%), 56 weighted" "$2"' _ "$RC" $TMP/err
  "$BIN" score -q -m $TMP/stab.model -o $TMP/stab.csv $TMP/b/GB1OL/GB1OL.csv
  check "stab from the structure: the benchmark's stab singles (RSA from the CSV, 3 decimals)" \
    $PY - $TMP/bstab/GB1OL.scores.csv $TMP/stab.csv <<'PY'
import csv, sys
b = list(csv.DictReader(open(sys.argv[1])))
d = list(csv.DictReader(open(sys.argv[2])))
assert len(d) == len(b) == 1045
worst = max(abs(float(x["seqloop_score"]) - float(y["stab"])) for x, y in zip(d, b))
assert worst < 2e-4, worst
assert len({round(float(x["seqloop_score"]), 3) for x in d}) > 100  # not constant
PY
  expect_error 2 "already scaled" score -m $TMP/stab.model --structure "$P" -o $TMP/x.csv $TMP/b/GB1OL/GB1OL.csv
  if need "$DATA/dlg4_pdz3/1be9.cif"; then
    expect_error 1 "identity \(at least 50% expected\)" score -m $TMP/lor.model --structure "$DATA/dlg4_pdz3/1be9.cif:A" -o $TMP/x.csv $TMP/b/GB1OL/GB1OL.csv
  fi
fi
finish
