#!/usr/bin/env bash
# tests/e2e/shard.sh: sharded runs (--shard I/N) and `seqloop merge`
# (docs/scale.md). For each sharded command - score, sample, audit cycle,
# benchmark - shard-then-merge must equal the unsharded run byte for byte
# (N = 1, an uneven split, N larger than the number of items), on real data
# (../shared/data/proteingym_subset: three small assays). merge must refuse
# pieces of different runs, a missing, repeated or edited piece, and write
# nothing then; bad --shard values are usage errors naming the option.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
ROOT=$PWD
cd "$TMP" || exit 1

# ---- usage errors (no data needed) ---------------------------------------------------
printf '>a\nMKVEW\n>b\nMKIEW\n' > tiny.fa
for v in 0/2 3/2 1/0 x/y 1/2/3 "" " 1/2" -1/2; do
  CASE="score --shard '$v'"
  expect_error 2 "^seqloop score: --shard: expected I/N.*not '$v'" score -m none.model --mutants K2R --shard "$v" -o x.csv
done
CASE="sample --shard 0/2"; expect_error 2 "^seqloop sample: --shard: expected I/N, piece I of N \(I must be in 1..N" sample -m none.model -n 5 --shard 0/2 -o x.fa
CASE="audit cycle --shard 3/2"; expect_error 2 "^seqloop audit cycle: --shard: expected I/N.*not '3/2'" audit cycle --shard 3/2 -o x.csv tiny.fa
CASE="benchmark --shard 1/0"; expect_error 2 "^seqloop benchmark: --shard: expected I/N.*N must be in 1\.\." benchmark --shard 1/0 -o out .
CASE="score --shard without -o"; expect_error 2 "^seqloop score: --shard needs -o FILE" score -m none.model --mutants K2R --shard 1/2
CASE="audit cycle --shard without -o"; expect_error 2 "^seqloop audit cycle: --shard needs -o FILE" audit cycle --shard 1/2 tiny.fa
CASE="merge without -o"; expect_error 2 "^seqloop merge: -o OUTPUT is required" merge a.csv
CASE="merge without pieces"; expect_error 2 "^seqloop merge: expected one or more PIECE" merge -o x.csv
CASE="merge of a file that is no piece"; printf 'x\n' > plain.csv; echo '{"program":"seqloop"}' > plain.csv.prov.json
expect_error 1 "plain.csv: not a piece of a sharded run" merge -o x.csv plain.csv
CASE="merge without a sidecar"; expect_error 1 "nosidecar.csv: no provenance sidecar" merge -o x.csv nosidecar.csv
check "docs/cli.md holds 'seqloop merge -h' as the binary prints it" "$PY" - "$ROOT/docs/cli.md" "$("$BIN" merge -h)" <<'EOF'
import sys
doc, text = open(sys.argv[1]).read(), sys.argv[2]
marker = "<!-- seqloop merge -h -->\n```\n"
i = doc.find(marker)
assert i >= 0 and doc[i + len(marker):].startswith(text + "\n```"), "block differs"
EOF

P=$DATA/proteingym_subset
A1=CUE1_YEAST_Tsuboyama_2023_2MYX A2=HCP_LAMBD_Tsuboyama_2023_2L6Q A3=RBP1_HUMAN_Tsuboyama_2023_2KWH
CASE=shard
need "$P/$A1/$A1.a2m" "$P/$A1/$A1.csv" "$P/$A2/$A2.a2m" "$P/$A3/$A3.a2m" "$P/INDEX.csv" || finish
ALN=$P/$A1/$A1.a2m

# run_pieces N OUTPREFIX ARGS...: run ARGS with --shard i/N -o OUTPREFIX.i for i = 1..N;
# PIECES holds the piece files. Fails the check if any piece fails.
run_pieces() {
  local n=$1 pre=$2 i rc=0; shift 2
  PIECES=""
  for i in $(seq 1 "$n"); do
    "$BIN" "$@" --shard "$i/$n" -o "$pre.$i" > /dev/null 2> "$pre.$i.err" || rc=1
    PIECES="$PIECES $pre.$i"
  done
  return $rc
}
# same_after_merge WHAT FULL N ARGS...: shard ARGS N ways, merge, compare with FULL byte for byte.
same_after_merge() {
  local what=$1 full=$2 n=$3; shift 3
  local pre="$TMP/p_$(printf %s "$what" | tr -c 'a-zA-Z0-9' _)_$n"
  if ! run_pieces "$n" "$pre" "$@"; then nok "$what, N=$n: a piece failed: $(cat "$pre".*.err | head -c 300)"; return; fi
  # shellcheck disable=SC2086
  "$BIN" merge -q -o "$pre.merged" $PIECES 2> "$pre.merr"
  if cmp -s "$pre.merged" "$full"; then ok "$what: $n pieces merged = the unsharded output, byte for byte"
  else nok "$what: $n pieces merged differ from the unsharded output: $(head -c 300 "$pre.merr")"; fi
}

# ---- score: rows of an assay CSV, --mutants, --all-singles, --sequences ----------------
"$BIN" fit -q -t 1 --model profile --focus-first -o prof.model "$ALN"
"$BIN" score -q -m prof.model -o score_full.csv "$P/$A1/$A1.csv"
rows=$(($(wc -l < score_full.csv) - 1))
check "score: the assay has rows to split ($rows)" test "$rows" -gt 900
for n in 1 2 3; do same_after_merge "score (assay CSV)" score_full.csv $n score -q -t 1 -m prof.model "$P/$A1/$A1.csv"; done
MUT=$(head -6 "$P/$A1/$A1.csv" | tail -5 | cut -d, -f1 | paste -sd,)
"$BIN" score -q -m prof.model --mutants "$MUT" -o mut_full.csv
same_after_merge "score --mutants (5 variants)" mut_full.csv 8 score -q -m prof.model --mutants "$MUT"
"$BIN" score -q -m prof.model --all-singles -o singles_full.csv
same_after_merge "score --all-singles" singles_full.csv 3 score -q -m prof.model --all-singles
"$BIN" ingest -q --focus-first -o aln.fa "$ALN"
head -40 aln.fa > seqs.fa
"$BIN" score -q -m prof.model --sequences seqs.fa -o seqs_full.csv
same_after_merge "score --sequences (20 records)" seqs_full.csv 3 score -q -m prof.model --sequences seqs.fa
# the pieces' sidecars
pre="$TMP/p_score__assay_CSV__3"
check "score piece 2/3: its sidecar records the shard (items, first, count) and its SHA-256" "$PY" - "$pre.2" "$rows" <<'EOF'
import hashlib, json, sys
p, rows = sys.argv[1], int(sys.argv[2])
s = json.load(open(p + ".prov.json"))["shard"]
q, r = divmod(rows, 3)
assert (s["i"], s["N"], s["items"], s["first"], s["count"]) == (2, 3, rows, q + (r > 0), q + (r > 1)), s
assert s["output_sha256"] == hashlib.sha256(open(p, "rb").read()).hexdigest()
assert s["unit"] == "rows" and s["header_lines"] == 1
EOF
check "merged sidecar: says merged, lists every piece with its SHA-256 and the inputs" "$PY" - "$pre" <<'EOF'
import hashlib, json, sys
pre = sys.argv[1]
j = json.load(open(pre + ".merged.prov.json"))
m = j["merged"]
assert m["N"] == 3 and [p["i"] for p in m["pieces"]] == [1, 2, 3], m
for k, p in enumerate(m["pieces"]):
    assert p["path"] == "%s.%d" % (pre, k + 1)
    assert p["sha256"] == hashlib.sha256(open(p["path"], "rb").read()).hexdigest()
    assert any(i["role"] == "assay" and i["sha256"] for i in p["inputs"])
assert "shard" not in j and j["output"] == pre + ".merged" and j["command"] == "score"
assert [i["role"] for i in j["inputs"]] == ["model", "assay"]
EOF

mkdir -p side
for i in 1 2; do "$BIN" score -q -m prof.model --mutants "$MUT" --shard $i/2 -o mutside.$i --provenance side/mutside.$i.json; done
"$BIN" merge -q -o mutside.csv side/mutside.2.json side/mutside.1.json 2> /dev/null
check "merge: pieces given by sidecars that --provenance put elsewhere" cmp -s mutside.csv mut_full.csv

# ---- merge refuses what is not one run -----------------------------------------------
"$BIN" score -q -m prof.model --skip-invalid --shard 2/3 -o other.2 "$P/$A1/$A1.csv"
p="$TMP/p_score__assay_CSV__3"
CASE="merge: an option differs"; expect_error 1 "pieces of different runs: option --skip-invalid differs" merge -o refused.csv "$p.1" other.2 "$p.3"
CASE="merge: a missing shard"; expect_error 1 "missing shard 2/3 \(2 of 3 pieces given\)" merge -o refused.csv "$p.1" "$p.3"
CASE="merge: a repeated shard"; expect_error 1 "shard 1/3 given twice" merge -o refused.csv "$p.1" "$p.2" "$p.1" "$p.3"
CASE="merge: pieces of splits into 2 and 3"; expect_error 1 "pieces of different runs: .* has shard N 3, .* has 2" merge -o refused.csv "$p.1" "$TMP/p_score__assay_CSV__2.2" "$p.3"
"$BIN" score -q -m prof.model --shard 1/2 -o in_a.1 "$P/$A1/$A1.csv"
sed '2s/,[^,]*,/,0.5,/' "$P/$A1/$A1.csv" > assay_b.csv # the same rows, one measurement changed
"$BIN" score -q -m prof.model --shard 2/2 -o in_b.2 assay_b.csv
CASE="merge: different inputs"; expect_error 1 "pieces of different runs: input 'assay' differs" merge -o refused.csv in_a.1 in_b.2
cp "$p.2" edited.2; cp "$p.2.prov.json" edited.2.prov.json; sed -i '2s/,[^,]*$/,0.000001/' edited.2
CASE="merge: a piece edited after it was written"; expect_error 1 "edited.2: changed since it was written" merge -o refused.csv "$p.1" edited.2 "$p.3"
check "merge: nothing written after a refusal" test ! -e refused.csv -a ! -e refused.csv.prov.json

# ---- sample: sequences; ar (chunks of 1024 draws), Gibbs (profile), empty pieces --------
"$BIN" fit -q -t 1 --model ar --focus-first -o ar.model "$ALN"
"$BIN" sample -q -t 2 -m ar.model -n 2500 --seed 7 -o ar_full.fa
for n in 1 2 3; do same_after_merge "sample ar -n 2500" ar_full.fa $n sample -q -t 2 -m ar.model -n 2500 --seed 7; done
"$BIN" sample -q -m ar.model -n 5 --seed 3 -o ar5_full.fa
same_after_merge "sample ar -n 5 (N > sequences)" ar5_full.fa 7 sample -q -m ar.model -n 5 --seed 3
check "sample: an empty piece is an empty file with a sidecar" bash -c '[ ! -s "$1" ] && grep -q "\"count\":.0" "$1.prov.json"' _ "$TMP/p_sample_ar__n_5__N___sequences__7.7"
"$BIN" sample -q -m prof.model -n 60 --seed 5 --burnin 5 --chains 3 -o gibbs_full.fa
same_after_merge "sample Gibbs (3 chains, interleaved)" gibbs_full.fa 4 sample -q -m prof.model -n 60 --seed 5 --burnin 5 --chains 3
"$BIN" fit --model tfm -q -t 1 --layers 1 --width 16 --heads 2 --context 64 --steps 20 --batch 8 --seed 5 -o k.tfm aln.fa
"$BIN" sample -q -m k.tfm -n 30 --seed 2 -o tfm_full.fa
check "sample tfm: 30 ungapped samples" test "$(grep -c '^>sample' tfm_full.fa)" -eq 30
for n in 1 4; do same_after_merge "sample tfm (one stream per draw)" tfm_full.fa $n sample -q -m k.tfm -n 30 --seed 2; done
"$BIN" sample -q -m k.tfm -n 6 --fix 3W --infill 2-6 --burnin 2 --thin 1 --seed 2 -o tfmchain_full.fa
same_after_merge "sample tfm --fix (one chain)" tfmchain_full.fa 3 sample -q -m k.tfm -n 6 --fix 3W --infill 2-6 --burnin 2 --thin 1 --seed 2
tr -d '-' < seqs.fa > ungapped.fa
"$BIN" score -q -m k.tfm --perplexity ungapped.fa -o tfmppl_full.csv 2> /dev/null
same_after_merge "score tfm --perplexity (20 records)" tfmppl_full.csv 25 score -q -m k.tfm --perplexity ungapped.fa
run_pieces 2 seed_a sample -q -m ar.model -n 10 --seed 1
run_pieces 2 seed_b sample -q -m ar.model -n 10 --seed 2
CASE="merge: pieces with different seeds"; expect_error 1 "option --seed differs \(seed_a.1: \"1\", seed_b.2: \"2\"\)" merge -o refused.fa seed_a.1 seed_b.2

# ---- audit cycle: arms (self, filter, mix); generation 0 once ------------------------
head -240 aln.fa > cyc.fa
CYC=(audit cycle -q -t 1 --generations 1 --samples 30 --entropy-samples 100 --max-iter 10 --seed 4)
"$BIN" "${CYC[@]}" -o cyc_full.csv cyc.fa > /dev/null
check "audit cycle: the unsharded table has generation 0 and three arms" test "$(cut -d, -f1 cyc_full.csv | paste -sd' ')" = "arm real self filter mix"
for n in 1 2 4; do
  pre="$TMP/cyc_$n"
  if run_pieces $n "$pre" "${CYC[@]}" cyc.fa; then
    # shellcheck disable=SC2086
    "$BIN" merge -q -o "$pre.merged" $PIECES
    # the last column is wall-clock seconds: never identical between two runs
    check "audit cycle: $n pieces merged = the unsharded table (all but the seconds column)" \
      cmp -s <(cut -d, -f1-15 "$pre.merged") <(cut -d, -f1-15 cyc_full.csv)
  else nok "audit cycle, N=$n: a piece failed"; fi
done

# ---- benchmark: assays; pieces in separate folders and in one shared folder -----------
mkdir -p bdata
for a in $A1 $A2 $A3; do ln -s "$P/$a" "bdata/$a"; done
ln -s "$P/INDEX.csv" bdata/INDEX.csv
BEN=(benchmark -q -t 1 --models lor --boot 50 --seed 3)
"$BIN" "${BEN[@]}" -o bfull bdata 2> /dev/null
check "benchmark: the unsharded summary has the three assays" test "$(grep -c '^assay,' bfull/summary.csv)" -eq 3
mkdir -p bsep
for i in 1 2; do "$BIN" "${BEN[@]}" --shard $i/2 -o bsep/p$i bdata 2> /dev/null; done
"$BIN" merge -q -o bmerged bsep/p1/shard-1-of-2.csv bsep/p2/shard-2-of-2.csv 2> /dev/null
check "benchmark, 2 pieces in their own folders (2 + 1 assays): summary.csv identical" cmp -s bmerged/summary.csv bfull/summary.csv
check "benchmark: every assay's scores gathered, identical" bash -c 'for a in "$@"; do cmp -s bmerged/$a.scores.csv bfull/$a.scores.csv || exit 1; done' _ $A1 $A2 $A3
check "benchmark: every result file gathered (identical but for its seconds column)" bash -c 'for a in "$@"; do cmp -s <(cut -d, -f1-8 bmerged/$a.result.csv) <(cut -d, -f1-8 bfull/$a.result.csv) || exit 1; done' _ $A1 $A2 $A3
for i in 1 2 3 4; do "$BIN" "${BEN[@]}" --shard $i/4 -o bshared bdata 2> /dev/null; done
check "benchmark, 4 pieces for 3 assays: piece 4 is empty" test "$(grep -c '^assay,' bshared/shard-4-of-4.csv)" -eq 0
"$BIN" merge -q -o bshared bshared/shard-4-of-4.csv bshared/shard-2-of-4.csv bshared/shard-1-of-4.csv bshared/shard-3-of-4.csv 2> /dev/null
check "benchmark, 4 pieces in one shared folder: summary.csv identical" cmp -s bshared/summary.csv bfull/summary.csv
check "benchmark: the merged summary's sidecar says merged (4 pieces)" test "$(json_get bshared/summary.csv.prov.json 'd["merged"]["N"]')" = 4
finish
