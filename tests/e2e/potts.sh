# tests/e2e/potts.sh: fit, model files, score, contacts and convert on real
# data; the objective checked against the numpy reference (tools/plm_ref.py).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
CASE="potts on the PDZ seed"
if need "$PDZ"; then
  "$BIN" ingest -q -o "$TMP/pdz.fa" "$PDZ"
  "$BIN" weights -q --plmc-format -o "$TMP/pdz.w" "$PDZ"
  for g in "" "-g"; do
    "$BIN" fit -q --model potts $g --lambda-j 0.5 -m 15 -t 2 -o "$TMP/m$g.slm" --plmc-out "$TMP/m$g.params" "$PDZ"
    check "fit potts $g writes a model and a plmc file" test -s "$TMP/m$g.slm" -a -s "$TMP/m$g.params"
    ours=$("$BIN" fit --init "$TMP/m$g.params" --evaluate $g --lambda-j 0.5 -q "$PDZ" | awk '$1=="objective"{print $2}')
    if $PY -c 'import numpy' 2>/dev/null; then
      ref=$($PY tools/plm_ref.py "$TMP/pdz.fa" "$TMP/pdz.w" "$TMP/m$g.params" --lambda-j 0.5 ${g:+--gaps-missing})
      check "objective ${g:-(gaps as state)} equals the numpy reference to 1e-6 ($ours vs $ref)" \
        awk -v a="$ours" -v b="$ref" 'BEGIN{d=(a-b)/b; if(d<0)d=-d; exit !(d < 1e-6)}'
    else
      skip "objective vs numpy reference: numpy absent"
    fi
  done
  # Determinism: the same command twice gives the same bytes (no time stamps in the model).
  "$BIN" fit -q --model potts --lambda-j 0.5 -m 15 -t 1 -o "$TMP/a.slm" "$PDZ"
  "$BIN" fit -q --model potts --lambda-j 0.5 -m 15 -t 2 -o "$TMP/b.slm" "$PDZ"
  "$BIN" score -q -m "$TMP/a.slm" --all-singles -o "$TMP/a.csv"
  "$BIN" score -q -m "$TMP/b.slm" --all-singles -o "$TMP/b.csv"
  check "fits with 1 and 2 threads score every single mutant identically" cmp -s <(grep -v '^#' "$TMP/a.csv") <(grep -v '^#' "$TMP/b.csv")
  # Round trip through plmc's format keeps every parameter.
  "$BIN" convert "$TMP/m.slm" -o "$TMP/rt.params" && "$BIN" convert "$TMP/rt.params" -o "$TMP/rt.slm"
  "$BIN" score -q -m "$TMP/m.slm" --all-singles -o "$TMP/s1.csv"
  "$BIN" score -q -m "$TMP/rt.slm" --all-singles -o "$TMP/s2.csv"
  check "seqloop -> plmc -> seqloop round trip scores all singles identically" cmp -s <(grep -v '^#' "$TMP/s1.csv") <(grep -v '^#' "$TMP/s2.csv")
  n=$(grep -vc '^#' "$TMP/s1.csv")
  check "--all-singles writes 19 mutants per focus residue (+ header): $n lines" [ "$n" -gt 1000 ]

  # Exact multi-mutant scores: --mutants equals the energy difference of the mutated sequence.
  focus=$(sed -n 2p "$TMP/pdz.fa")
  first=$(awk -F, '!/^#/ && NR>1 && $1!="mutant" {print $1; exit}' "$TMP/s1.csv")
  p1=$(echo "$first" | sed 's/^.\([0-9]*\).*/\1/')
  w1=${focus:$((p1-1)):1}
  m1=$( [ "$w1" = A ] && echo C || echo A )
  p2=$((p1 + 7)); w2=${focus:$((p2-1)):1}; m2=$( [ "$w2" = W ] && echo Y || echo W )
  p3=$((p1 + 8)); w3=${focus:$((p3-1)):1}; m3=$( [ "$w3" = K ] && echo R || echo K )
  mut="$w1$p1$m1:$w2$p2$m2:$w3$p3$m3"
  mseq=$(echo "$focus" | awk -v p1=$p1 -v p2=$p2 -v p3=$p3 -v a=$m1 -v b=$m2 -v c=$m3 \
    '{s=$0; s=substr(s,1,p1-1) a substr(s,p1+1); s=substr(s,1,p2-1) b substr(s,p2+1); s=substr(s,1,p3-1) c substr(s,p3+1); print s}')
  printf '>triple\n%s\n' "$mseq" > "$TMP/triple.fa"
  v1=$("$BIN" score -q -m "$TMP/m.slm" --mutants "$mut" | awk -F, '!/^#/ && $1!="mutant"{print $2}')
  v2=$("$BIN" score -q -m "$TMP/m.slm" --sequences "$TMP/triple.fa" | awk -F, '!/^#/ && $1!="name"{print $2}')
  check "triple mutant $mut: local delta ($v1) equals full energy difference ($v2)" \
    awk -v a="$v1" -v b="$v2" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d < 1e-4 && a != "")}'

  # Errors: wrong wild type, outside the model, skip-invalid.
  wrong=$( [ "$w1" = A ] && echo C || echo A )
  CASE="wrong wild type"; expect_error 1 "wild type at residue $p1 is '$w1', not '$wrong'" score -m "$TMP/m.slm" --mutants "$wrong$p1$m1"
  CASE="position outside"; expect_error 1 "residue 9999 is not a column of the model" score -m "$TMP/m.slm" --mutants "A9999C"
  printf 'mutant,y\n%s,1.5\nA9999C,2\n%s,0.5\n' "$w1$p1$m1" "$w2$p2$m2" > "$TMP/assay.csv"
  CASE="assay row error names the line"; expect_error 1 "assay.csv line 3 \('A9999C'\)" score -m "$TMP/m.slm" "$TMP/assay.csv"
  run_sl score -m "$TMP/m.slm" --skip-invalid --dms-score-column y -o "$TMP/out.csv" "$TMP/assay.csv"
  check "--skip-invalid skips one row and keeps every input column" \
    [ "$RC" = 0 -a "$(grep -c ',y,seqloop_score$\|^mutant,y,seqloop_score$' "$TMP/out.csv")" = 1 -a "$(grep -c '^A9999C,2,$' "$TMP/out.csv")" = 1 ]
  check "metrics printed: Spearman over 2 variants" grep -q "against y (2 variants): Spearman" "$TMP/err"

  # Model files: truncated, corrupted, foreign.
  head -c 1000 "$TMP/m.slm" > "$TMP/trunc.slm"
  CASE="truncated model"; expect_error 1 "truncated|checksum mismatch" score -m "$TMP/trunc.slm" --all-singles
  cp "$TMP/m.slm" "$TMP/flip.slm"; printf '\x55' | dd of="$TMP/flip.slm" bs=1 seek=3000 conv=notrunc 2>/dev/null
  CASE="corrupted model"; expect_error 1 "checksum mismatch" score -m "$TMP/flip.slm" --all-singles
  CASE="foreign file as model"; expect_error 1 "not a seqloop model file" score -m "$PDZ" --all-singles
  head -c 5000 "$TMP/m.params" > "$TMP/trunc.params"
  CASE="truncated plmc file"; expect_error 1 "plmc parameter file of 5000 bytes" convert "$TMP/trunc.params" -o "$TMP/x.slm"
  check "no output left by the failed convert" [ ! -e "$TMP/x.slm" ]

  # Contacts: every pair once, sorted; APC makes the mean of the scores zero.
  "$BIN" contacts -q -m "$TMP/m.slm" -o "$TMP/ecs.csv"
  L=82; np=$((L*(L-1)/2))
  check "contacts lists all $np pairs" [ "$(grep -vc '^#\|^i,' "$TMP/ecs.csv")" = "$np" ]
  check "contacts sorted by score" awk -F, '!/^#/ && $1!="i"{ if (NR>5 && $5 > prev + 1e-9) bad=1; prev=$5 } END{exit bad}' "$TMP/ecs.csv"
  check "APC scores average to ~0 (raw norms do not)" awk -F, '!/^#/ && $1!="i"{s+=$5; r+=$6; n++} END{exit !((s/n)^2 < 1e-6 && r/n > 0.01)}' "$TMP/ecs.csv"
  # Profile model.
  "$BIN" fit -q --model profile -o "$TMP/p.slm" "$PDZ"
  CASE="contacts on a profile"; expect_error 2 "need a Potts model" contacts -m "$TMP/p.slm"
fi

PDB=$DATA/pfam_seeds_contacts/1be9.cif
CASE="contacts against 1be9"
if need "$PDZ" "$PDB" && [ -s "$TMP/m.slm" ]; then
  run_sl contacts -m "$TMP/m.slm" --structure "$PDB" --chain A --json "$TMP/prec.json" -o "$TMP/ecs2.csv"
  p=$(json_get "$TMP/prec.json" "'%.3f' % d['precision_L/5']")
  check "precision at L/5 against 1be9 chain A is reported and in [0,1] ($p)" \
    awk -v p="$p" 'BEGIN{exit !(p != "" && p >= 0 && p <= 1)}'
fi

BLAT=$DATA/blat_ecolx
CASE="profile on BLAT_ECOLX"
if need "$BLAT/BLAT_ECOLX.a2m" "$BLAT/BLAT_ECOLX_Ranganathan2015.csv"; then
  "$BIN" fit -q --model profile -f BLAT_ECOLX -o "$TMP/blat.prof" "$BLAT/BLAT_ECOLX.a2m"
  run_sl score -m "$TMP/blat.prof" --skip-invalid --dms-score-column 2500 --metrics-json "$TMP/met.json" -o "$TMP/blat.csv" "$BLAT/BLAT_ECOLX_Ranganathan2015.csv"
  rho=$(json_get "$TMP/met.json" "'%.4f %d' % (d['spearman'], d['n'])")
  check "BLAT_ECOLX profile: Spearman with the 2500 column is 0.59-0.61 on 4807 variants ($rho)" \
    awk -v r="${rho% *}" -v n="${rho#* }" 'BEGIN{exit !(r > 0.59 && r < 0.61 && n == 4807)}'
fi
# Numbering warnings (no data needed): a focus with a lowercase (insert) residue
# gives a column map with a hole; a plmc file with holes warns on convert/--init.
CASE="plmc numbering and focus warnings"
printf '>f/1-7\nACdEFGH\n>f/20-26\nACdEFGA\n>g\nACeEFGH\n>h\nSCeEYGH\n' > "$TMP/hole.fa"
"$BIN" fit -q --model potts -f f -m 3 -o "$TMP/hole.slm" --plmc-out "$TMP/hole.params" "$TMP/hole.fa"
"$BIN" convert "$TMP/hole.params" -o "$TMP/hole2.slm" 2> "$TMP/hole.err"
check "convert warns that a plmc index map with a hole is not residue numbering" grep -q "numbers its 6 columns 1..7 with 1 gap(s) (first after 2)" "$TMP/hole.err"
"$BIN" fit -f f --init "$TMP/hole.params" --evaluate --json -q "$TMP/hole.fa" > "$TMP/eval.json" 2> "$TMP/eval.err"
check "fit --init warns about the same hole" grep -q "with 1 gap(s)" "$TMP/eval.err"
check "fit --evaluate --json writes JSON with the objective" /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["objective"] > 0 and d["L"] == 6' "$TMP/eval.json"
"$BIN" convert "$TMP/hole.slm" -o "$TMP/nohole.params" 2> "$TMP/nohole.err"
check "a seqloop file converts without the warning" [ ! -s "$TMP/nohole.err" ]
"$BIN" audit -f f "$TMP/hole.fa" 2> "$TMP/amb.err" > /dev/null
check "an ambiguous focus name warns and names the first two matches" grep -q "focus 'f' matches 2 records (f/1-7, f/20-26); using the first" "$TMP/amb.err"
finish
