#!/usr/bin/env bash
# tools/check_layers.sh: check the module graph of docs/dependencies.md.
# A module may include only the public headers of the modules below it:
#   base <- kern <- seq <- models <- struct <- score <- audit <- cli
#   ledger: base only (+ SQLite); design: base, rng, seq, models, sample, score, ledger
# (cli may include anything; nothing includes cli). Prints violations; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
declare -A allowed=(
  [base]="base rng"
  [kern]="base rng kern"
  [seq]="base rng kern alphabet seqfile msa weights"
  [models]="base rng kern alphabet seqfile msa weights model potts ar tfm"
  [sample]="base rng kern alphabet seqfile msa weights model potts ar tfm gibbs sample"
  [struct]="base rng kern alphabet seqfile msa weights model potts ar tfm structure"
  [score]="base rng kern alphabet seqfile msa weights model potts ar tfm structure metrics score"
  [audit]="base rng kern alphabet seqfile msa weights model potts ar tfm gibbs sample structure metrics score audit samplestats split info"
  [ledger]="base ledger"
  [design]="base rng kern alphabet seqfile msa weights model potts ar tfm gibbs sample metrics score ledger design"
)
declare -A module_of=(
  [base]=base [rng]=base [ar]=models [gibbs]=sample [sample]=sample [kern]=kern [alphabet]=seq [seqfile]=seq [msa]=seq [weights]=seq [model]=models
  [potts]=models [tfm]=models [structure]=struct [metrics]=score [score]=score [audit]=audit [samplestats]=audit [split]=audit [info]=audit [ledger]=ledger [design]=design [seqloop]=all
)
bad=0
for dir in base kern seq models sample struct score audit ledger design; do
  for f in src/$dir/*.c src/$dir/*.h include/seqloop/*.h; do
    [ -e "$f" ] || continue
    case "$f" in include/*) h=$(basename "$f" .h); [ "${module_of[$h]:-}" = "$dir" ] || [ "$dir" = "$h" ] || continue ;; esac
    while read -r inc; do
      hdr=${inc#seqloop/}; hdr=${hdr%.h}
      case " ${allowed[$dir]} " in *" $hdr "*) ;; *) echo "layer violation: $f includes seqloop/$hdr.h"; bad=1 ;; esac
    done < <(grep -oE '#include "seqloop/[a-z]+\.h"' "$f" | sed -E 's/#include "(.*)"/\1/')
  done
done
if grep -rqE '#include "(\.\./)*cli/' src include 2>/dev/null; then echo "layer violation: library includes cli/"; bad=1; fi
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
