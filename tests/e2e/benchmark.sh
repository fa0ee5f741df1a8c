#!/usr/bin/env bash
# tests/e2e/benchmark.sh: `seqloop benchmark` on a made-up folder (every
# variant scored, the outside-the-model fallback and flag, resuming, the
# summary's aggregate) and on one real assay of proteingym_subset (lor
# reproduces EvoStability's LORw Spearman on the same alignment).
. "$(dirname "$0")/lib.sh"
CASE=benchmark
D=$TMP/data
mkdir -p $D/TOY_ONE $D/TOY_TWO
# focus MKlVEW: the lowercase l (residue 3) is an insert, outside the model
cat > $D/TOY_ONE/TOY_ONE.a2m <<'A2M'
>TOY_ONE/1-6
MKlVEW
>s1
MKiVEW
>s2
MR-VDW
>s3
MKaIEF
>s4
LK-VEW
A2M
cat > $D/TOY_ONE/TOY_ONE.csv <<'CSV'
mutant,DMS_score,DMS_score_bin
K2R,-0.1,1
K2A,-2.0,0
L3A,-0.5,0
V4I,-0.2,1
E5D,-0.3,1
W6F,-0.4,1
K2R:V4I,-0.5,1
M1L,0.1,1
CSV
cp $D/TOY_ONE/TOY_ONE.a2m $D/TOY_TWO/TOY_TWO.a2m
sed 's/TOY_ONE/TOY_TWO/' $D/TOY_ONE/TOY_ONE.a2m > $D/TOY_TWO/TOY_TWO.a2m
printf 'mutant,DMS_score\nK2R,1\nV4I,2\nE5D,0.5\nW6F,0.1\n_wt,0.3\n' > $D/TOY_TWO/TOY_TWO.csv
mkdir -p $D/not_an_assay
run_sl benchmark -h
check "-h: exit 0, usage first, recipe options listed" bash -c '[ "$1" -eq 0 ] && head -1 "$2" | grep -q "^usage: seqloop benchmark" && grep -q -- "--models RECIPE" "$2" && grep -q -- "--rsa-of FILE" "$2"' _ "$RC" "$TMP/out"
"$BIN" benchmark --options-json > $TMP/oj 2>&1
check "--options-json lists models, ensemble, boot" /usr/bin/python3 -c 'import json,sys; n={o["name"] for o in json.load(open(sys.argv[1]))["options"]}; assert {"models","ensemble","boot","compare","rsa-of"} <= n' $TMP/oj
run_sl benchmark -q -t 2 --models gemme+lor --boot 50 -o $TMP/res $D
check "benchmark runs (exit $RC)" [ "$RC" -eq 0 ]
check "one scores file per assay" test -s $TMP/res/TOY_TWO.scores.csv
check "every variant scored (8 rows + header)" [ "$(wc -l < $TMP/res/TOY_ONE.scores.csv)" -eq 9 ]
check "header: components, ensemble score, flag" grep -q '^mutant,DMS_score,gemme,lor,score,n_outside$' $TMP/res/TOY_ONE.scores.csv
check "L3A (an insert) flagged, scored as the wild type (0)" grep -q '^L3A,-0.5,0,0,[0-9.e-]*,1$' $TMP/res/TOY_ONE.scores.csv
check "the wild type (_wt) scores 0 and is not flagged" grep -q '^_wt,0.3,0,0,[0-9.e-]*,0$' $TMP/res/TOY_TWO.scores.csv
check "result counts the flagged variant" grep -q '^TOY_ONE,8,1,' $TMP/res/TOY_ONE.result.csv
check "AUC and MCC with DMS_score_bin" awk -F, 'NR==2 && $7!="nan" && $8!="nan"{f=1} END{exit !f}' $TMP/res/TOY_ONE.result.csv
check "no AUC without DMS_score_bin" awk -F, 'NR==2 && $7=="nan"{f=1} END{exit !f}' $TMP/res/TOY_TWO.result.csv
check "summary has the aggregate with an SE" grep -q '^spearman,ProteinGym-aggregate,' $TMP/res/summary.csv
check "provenance sidecar" [ -s $TMP/res/summary.csv.prov.json ]
# the toy scores: lor of K2R = log-odds(R) - log-odds(K) at column 2 (s2 has R): negative
check "K2R scored below the wild type by lor" awk -F, '$1=="K2R" && $4<0{f=1} END{exit !f}' $TMP/res/TOY_ONE.scores.csv
# resume: a second run recomputes nothing; a removed result is redone
run_sl benchmark -t 2 --models gemme+lor --boot 50 -o $TMP/res $D
check "rerun resumes both assays" grep -q '2 assays (2 resumed, 0 failed' $TMP/err
rm $TMP/res/TOY_TWO.result.csv
run_sl benchmark -t 2 --models gemme+lor --boot 50 -o $TMP/res $D
check "a missing result is recomputed" grep -q '2 assays (1 resumed, 0 failed' $TMP/err
# paired comparison with another recipe
run_sl benchmark -q --models lor --boot 50 --compare $TMP/res -o $TMP/out2 $D
check "paired difference row" grep -q '^spearman,paired-difference,' $TMP/out2/summary.csv
# every model of a recipe: potts and profile fit through the same path; @rsa per component
run_sl benchmark -q --models potts+profile:0.5 --ensemble z --boot 0 -o $TMP/pp $D
check "potts+profile recipe runs (exit $RC)" [ "$RC" -eq 0 ]
check "  both columns in the scores" grep -q '^mutant,DMS_score,potts,profile,score,n_outside$' $TMP/pp/TOY_ONE.scores.csv
# saved models score through `seqloop score` exactly as inside the benchmark
run_sl benchmark -q --save-models --models gemme+lor --boot 0 -o $TMP/sv $D
check "--save-models writes one model per component" test -s $TMP/sv/TOY_ONE.gemme.model -a -s $TMP/sv/TOY_ONE.lor.model
run_sl score -q -m $TMP/sv/TOY_ONE.lor.model --dms-score-column DMS_score --skip-invalid -o $TMP/sv/s.csv $D/TOY_ONE/TOY_ONE.csv
check "seqloop score with the saved lor model: same K2R score" awk -v a="$(grep ^K2R, $TMP/sv/s.csv | cut -d, -f4)" -v b="$(grep ^K2R, $TMP/sv/TOY_ONE.scores.csv | cut -d, -f4)" 'BEGIN{d=a-b; exit !(a!="" && d<1e-5 && d>-1e-5)}' 
# errors
run_sl benchmark -q --models lor@xyz -o $TMP/x $D
check "unknown @suffix: usage error" [ "$RC" -eq 2 ]
run_sl benchmark -q --models lor+bogus -o $TMP/x $D
check "unknown model: usage error (2)" [ "$RC" -eq 2 ]
check "  names it" grep -q bogus $TMP/err
run_sl benchmark -q --models lor --rsa -o $TMP/x $D
check "--rsa without an RSA column: assay fails, exit 1" [ "$RC" -eq 1 ]
check "  message names the column" grep -q 'no RSA column' $TMP/err
# RSA of a structure (Shrake-Rupley)
if need $DATA/gb1/2qmt.pdb; then
  run_sl benchmark --rsa-of $DATA/gb1/2qmt.pdb --chain A -o $TMP/rsa.csv
  check "--rsa-of writes 56 residues" [ "$(wc -l < $TMP/rsa.csv)" -eq 57 ]
  check "  Y3 buried" awk -F, '$1==3 && $3=="Y" && $5<10{f=1} END{exit !f}' $TMP/rsa.csv
fi
# real data: lor on AMFR reproduces EvoStability's LORw Spearman (0.535)
P=$DATA/proteingym_subset
if need $P/AMFR_HUMAN_Tsuboyama_2023_4G3O/AMFR_HUMAN_Tsuboyama_2023_4G3O.a2m; then
  run_sl benchmark -q --models lor --only AMFR_HUMAN_Tsuboyama_2023_4G3O --boot 0 -o $TMP/real $P
  check "AMFR lor Spearman 0.536 (LORw on the same alignment: 0.535)" \
    awk -F, 'NR==2 && $4>0.530 && $4<0.542{f=1} END{exit !f}' $TMP/real/AMFR_HUMAN_Tsuboyama_2023_4G3O.result.csv
  run_sl benchmark -q --save-models --models gemme --rsa --only AMFR_HUMAN_Tsuboyama_2023_4G3O --boot 0 -o $TMP/real2 $P
  check "the RSA factors are recorded in the saved model" grep -aq '"source": *"CSV column RSA"' $TMP/real2/AMFR_HUMAN_Tsuboyama_2023_4G3O.gemme@rsa.model
  check "AMFR gemme x RSA runs and improves on gemme alone" \
    awk -F, 'NR==2 && $4>0.55{f=1} END{exit !f}' $TMP/real2/AMFR_HUMAN_Tsuboyama_2023_4G3O.result.csv
  # stab: the physical term from the RSA column; with gemme@rsa+lor@rsa
  # (equal-weight ranks) AMFR goes from 0.630 to 0.719 (docs/benchmarks.md)
  run_sl benchmark -q --save-models --models gemme@rsa+lor@rsa+stab --only AMFR_HUMAN_Tsuboyama_2023_4G3O --boot 0 -o $TMP/real3 $P
  check "AMFR gemme@rsa+lor@rsa+stab Spearman 0.719" \
    awk -F, 'NR==2 && $4>0.714 && $4<0.724{f=1} END{exit !f}' $TMP/real3/AMFR_HUMAN_Tsuboyama_2023_4G3O.result.csv
  check "stab's saved model records its burial" grep -aq '"burial": *\[' $TMP/real3/AMFR_HUMAN_Tsuboyama_2023_4G3O.stab.model
  run_sl score -m $TMP/real3/AMFR_HUMAN_Tsuboyama_2023_4G3O.stab.model -o $TMP/real3/s.csv $P/AMFR_HUMAN_Tsuboyama_2023_4G3O/AMFR_HUMAN_Tsuboyama_2023_4G3O.csv
  check "the saved stab model scores as the benchmark did" /usr/bin/python3 -c "
import pandas as pd, sys
a = pd.read_csv(sys.argv[1]); b = pd.read_csv(sys.argv[2])
sys.exit(not (abs(a.stab.values - b[b.columns[-1]].values).max() < 1e-5))" $TMP/real3/AMFR_HUMAN_Tsuboyama_2023_4G3O.scores.csv $TMP/real3/s.csv
  set +e; $SEQLOOP_BIN benchmark -q --models stab@rsa --boot 0 -o $TMP/real4 $P 2>/dev/null; rc=$?; set -e
  check "stab@rsa is a usage error (exit 2)" [ $rc -eq 2 ]
fi
exit $FAILED
