#!/usr/bin/env bash
# tests/validate.sh (`make validate`): long validations on real data, run by
# hand and recorded in docs/benchmarks.md; not part of `make test`.
#   1. weights of every alignment in ../shared/data against the numpy
#      reference (tools/weights_ref.py), both conventions, every weight;
#   2. a synthetic 100,000 x 1,000 alignment loads (time, peak memory);
#   3. the Potts validation against plmc (bench/potts_validate.sh) when
#      PLMC_BIN names a directory of plmc binaries.
set -u
cd "$(dirname "$0")/.."
. tests/e2e/lib.sh
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || { echo "validate: needs Debian's python3-numpy"; exit 1; }

for f in "$DATA"/*/*.a2m "$DATA"/*/*.a3m "$DATA"/kunitz_pf00014/*.gz "$DATA"/pfam_seeds_contacts/*.fasta \
         "$DATA"/ww_pf00397/*.fasta "$DATA"/blat_ecolx/PF13354*.fasta "$DATA"/dlg4_pdz3/*no_inserts.fasta; do
  [ -e "$f" ] || continue
  for conv in plmc eve; do
    "$BIN" weights -q --convention $conv --plmc-format -o "$TMP/s.w" "$f"
    $PY tools/weights_ref.py "$f" --convention $conv > "$TMP/r.w"
    res=$(paste "$TMP/s.w" "$TMP/r.w" | awk '{d=$1-$2; if(d<0)d=-d; if(d>m)m=d; s+=$1; r+=$2; n++} END{printf "%d %.4f %.4f %.3g", n, s, r, m}')
    set -- $res
    if awk -v m="$4" 'BEGIN{exit !(m < 1e-9)}'; then
      ok "$(basename "$f") $conv: $1 weights equal the numpy reference (Neff $2 / $3, max |dw| $4)"
    else
      nok "$(basename "$f") $conv: weights differ (Neff $2 / $3, max |dw| $4)"
    fi
  done
done

echo "# generating a 100,000 x 1,000 alignment"
$PY - "$TMP/big.fa" <<'PYEOF'
import sys, random
random.seed(7)
aa = "ACDEFGHIKLMNPQRSTVWY-"
base = [random.choice(aa[:-1]) for _ in range(1000)]
with open(sys.argv[1], "w") as f:
    for n in range(100000):
        s = list(base)
        for k in random.sample(range(1000), 300):
            s[k] = random.choice(aa)
        f.write(">s%d\n%s\n" % (n, "".join(s)))
PYEOF
/usr/bin/time -f "%e %M" -o "$TMP/time" "$BIN" ingest --theta -1 --json -o "$TMP/big.out" "$TMP/big.fa" > "$TMP/big.json" 2>/dev/null
read -r secs kb < "$TMP/time"
n=$(json_get "$TMP/big.json" "'%d %d' % (d['ingest']['rows_kept'], d['ingest']['columns_kept'])")
check "100,000 x 1,000 alignment loads: $n in ${secs} s, peak $((kb / 1024)) MiB" [ "$n" = "100000 1000" -a "$kb" -lt 4000000 ]

if [ -n "${PLMC_BIN:-}" ] && [ -x bench/potts_validate.sh ]; then
  bench/potts_validate.sh
else
  skip "Potts validation against plmc: set PLMC_BIN to a directory of plmc builds"
fi
finish
