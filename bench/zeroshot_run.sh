#!/usr/bin/env bash
# bench/zeroshot_run.sh: the zero-shot numbers of docs/benchmarks.md (issue 12):
# every recipe over ../shared/data/proteingym_subset, BLAT_ECOLX (Stiffler
# 2015, column 2500) laid out as an assay folder, paired differences, and the
# per-assay table. Resumable (seqloop benchmark skips finished assays).
# usage: bench/zeroshot_run.sh [OUTDIR]   (default bench/results/zeroshot)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-bench/results/zeroshot}
DATA=${SEQLOOP_DATA:-../shared/data}
P=$DATA/proteingym_subset
REF=$DATA/proteingym_reference/DMS_substitutions.csv
T=${THREADS:-2}
mkdir -p "$OUT"
run() { # name recipe [extra options]
  local n=$1 r=$2; shift 2
  ./seqloop benchmark -q -t "$T" --models "$r" --reference "$REF" "$@" -o "$OUT/$n" "$P" || true
}
run profile profile
run lor lor
run gemme gemme
run gl gemme+lor
run lor_rsa lor@rsa
run gemme_rsa gemme@rsa
run gl_rsa gemme@rsa+lor@rsa
run stab stab
run gS gemme@rsa+stab
run glS gemme@rsa+lor@rsa+stab
# seqloop's Potts over the 21 + BLAT (the long pole; resumable), then the
# Potts ensembles from the runs' scores (no refit)
LANES=$T bench/zeroshot_potts.sh "$OUT" ./seqloop
PY=/usr/bin/python3
$PY bench/zeroshot_ensemble.py "$OUT/gp" "$OUT/gemme" "$OUT/potts" > /dev/null
$PY bench/zeroshot_ensemble.py "$OUT/glp" "$OUT/gemme" "$OUT/lor" "$OUT/potts" > /dev/null
# summaries over the assays each finished (benchmark skips them all: nothing is refitted)
for nr in potts:potts gp:gemme+potts glp:gemme+lor+potts; do
  n=${nr%%:*}; ids=$(ls "$OUT/$n" | sed -n 's/\.result\.csv$//p' | paste -sd,)
  [ -n "$ids" ] && ./seqloop benchmark -q --only "$ids" --models "${nr#*:}" --reference "$REF" -o "$OUT/$n" "$P" || true
done
STAB=$(ls "$P" | grep Tsuboyama | paste -sd,)
for pair in gemme:lor gemme:profile gl_rsa:lor_rsa gemme_rsa:lor_rsa gl_rsa:gemme glS:gl_rsa glS:gemme_rsa glS:gemme; do
  a=${pair%%:*}; b=${pair##*:}
  r=$(head -1 "$(ls "$OUT/$a"/*.scores.csv | head -1)" | cut -d, -f3- | sed 's/,score,n_outside//; s/,/+/g')
  mkdir -p "$OUT/cmp_$a-$b"; cp "$OUT/$a"/*.result.csv "$OUT/cmp_$a-$b/"
  ./seqloop benchmark -q --only "$STAB" --models "$r" --compare "$OUT/$b" --reference "$REF" -o "$OUT/cmp_$a-$b" "$P"
  echo "$a - $b (20 stability): $(grep '^spearman,paired' "$OUT/cmp_$a-$b/summary.csv" | cut -d, -f7,12)"
done
# BLAT_ECOLX as an assay folder
. "$(dirname "$0")/blat_assay.sh"
blat_assay_folder "$OUT"
B=$OUT/blat/BLAT_ECOLX_Stiffler_2015
for r in profile lor gemme gemme+lor; do
  ./seqloop benchmark -q -t "$T" --boot 0 --models "$r" -o "$OUT/blat_$r" "$OUT/blat"
  echo "BLAT $r: $(tail -1 "$OUT/blat_$r/BLAT_ECOLX_Stiffler_2015.result.csv" | cut -d, -f4)"
done
$PY bench/zeroshot_ensemble.py "$OUT/blat_gp" "$OUT/blat_gemme" "$OUT/blat_potts"
$PY bench/zeroshot_ensemble.py "$OUT/blat_glp" "$OUT/blat_gemme" "$OUT/blat_lor" "$OUT/blat_potts"
# BLAT's converged Potts fit takes hours here: the same preset stopped at 100
# iterations, scored with the benchmark's fallback (outside variants 0, flagged)
B100=$OUT/blat_potts100; mkdir -p "$B100"
./seqloop fit -q --model potts --preset evcouplings --focus-first --nonstandard gap --theta 0.2 -m 100 -t "$T" \
  -o "$B100/potts100.model" "$DATA/blat_ecolx/BLAT_ECOLX.a2m"
./seqloop score -q -m "$B100/potts100.model" --skip-invalid -o "$B100/raw.csv" "$B/BLAT_ECOLX_Stiffler_2015.csv"
$PY - "$B100" <<'PY'
import sys, pandas as pd
from scipy.stats import spearmanr
d = sys.argv[1]; s = pd.read_csv(f'{d}/raw.csv'); out = s.seqloop_score.isna(); sc = s.seqloop_score.fillna(0.0)
pd.DataFrame({'mutant': s.mutant, 'DMS_score': s.DMS_score, 'potts': sc, 'score': sc, 'n_outside': out.astype(int)}).to_csv(
    f'{d}/BLAT_ECOLX_Stiffler_2015.scores.csv', index=False, float_format='%.9g')
open(f'{d}/BLAT_ECOLX_Stiffler_2015.result.csv', 'w').write('dms_id,n,n_outside,spearman,ndcg,top10_recall,auc,mcc,seconds\n'
    f'BLAT_ECOLX_Stiffler_2015,{len(s)},{int(out.sum())},{spearmanr(s.DMS_score, sc)[0]:.17g},nan,nan,nan,nan,0\n')
PY
$PY bench/zeroshot_ensemble.py "$OUT/blat100_gp" "$OUT/blat_gemme" "$B100"
$PY bench/zeroshot_ensemble.py "$OUT/blat100_glp" "$OUT/blat_gemme" "$OUT/blat_lor" "$B100"
$PY bench/zeroshot_stab_cv.py "$P" "$OUT/glS" > "$OUT/stab_cv.txt"
$PY bench/zeroshot_goals.py "$OUT" potts="$B100" gemme+potts="$OUT/blat100_gp" gemme+lor+potts="$OUT/blat100_glp" > "$OUT/goals.md"
/usr/bin/python3 bench/zeroshot_table.py "$P" profile="$OUT/profile" lor="$OUT/lor" gemme="$OUT/gemme" \
  gemme+lor="$OUT/gl" potts="$OUT/potts" gemme+potts="$OUT/gp" gemme+lor+potts="$OUT/glp" \
  --refs=LORw,GEMME_ind,GEMME_epi,ArDCA,EVCouplings_epi > "$OUT/table.md"
/usr/bin/python3 bench/zeroshot_table.py --only-stability --no-pg --refs=RSA*LORw,RSA*GEMME_ind,PoPMuSiC "$P" \
  lor@rsa="$OUT/lor_rsa" gemme@rsa="$OUT/gemme_rsa" gemme@rsa+lor@rsa="$OUT/gl_rsa" stab="$OUT/stab" \
  gemme@rsa+stab="$OUT/gS" gemme@rsa+lor@rsa+stab="$OUT/glS" > "$OUT/table_rsa.md"
echo "table: $OUT/table.md"
