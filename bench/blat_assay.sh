# bench/blat_assay.sh (sourced): blat_assay_folder OUT lays out BLAT_ECOLX as an
# assay folder of `seqloop benchmark` in OUT/blat/BLAT_ECOLX_Stiffler_2015: the
# alignment linked, the Stiffler 2015 singles (column `2500`, stop codons
# removed) as mutant,DMS_score. Needs DATA. Used by zeroshot_run.sh and
# zeroshot_potts.sh, so both score the same 4,997 variants.
blat_assay_folder() {
  local b=$1/blat/BLAT_ECOLX_Stiffler_2015
  mkdir -p "$b"
  ln -sf "$(realpath "$DATA/blat_ecolx/BLAT_ECOLX.a2m")" "$b/BLAT_ECOLX_Stiffler_2015.a2m"
  /usr/bin/python3 -c "
import pandas as pd, sys
d = pd.read_csv(sys.argv[1]); d = d[d.mutant.str[-1] != '*']
d[['mutant']].assign(DMS_score=d['2500']).to_csv(sys.argv[2], index=False)" \
    "$DATA/blat_ecolx/BLAT_ECOLX_Ranganathan2015.csv" "$b/BLAT_ECOLX_Stiffler_2015.csv"
}
