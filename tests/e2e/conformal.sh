# tests/e2e/conformal.sh: conformal sets under feedback covariate shift on the
# Poelwijk 2019 landscape (bench/conformal_poelwijk.c, the paper's protocol)
# with a few trials: the feedback-corrected sets cover near 1 - alpha where
# the design shift is mild (n = 96, lambda = 2), and with no shift (lambda =
# 0) every method is the plain full conformal set. Seeds are fixed, so the
# numbers are too; the bounds allow for 150 trials' binomial spread (sd 0.025
# at 0.9), not for timing.
. "$(dirname "$0")/lib.sh"

CSV=$DATA/poelwijk2019/supp_data_3.csv
CASE="conformal ridge on Poelwijk"
if need "$CSV" && need build/libseqloop.a; then
  cc -std=c11 -O2 -fopenmp -Iinclude -o "$TMP/cp" bench/conformal_poelwijk.c build/libseqloop.a \
    -llbfgs -lz -lcjson -lnettle -lsqlite3 -lopenblas -lm 2> "$TMP/cc.err"
  check "the bench driver builds against the library" test -x "$TMP/cp"
  OPENBLAS_NUM_THREADS=1 "$TMP/cp" "$CSV" -t 150 -n 96 -l 0,2 -s 7 > "$TMP/out.csv" 2> "$TMP/err"
  check "two conditions reported: $(tr '\n' ' ' < "$TMP/out.csv")" test "$(tail -n +2 "$TMP/out.csv" | wc -l)" = 2
  row0=$(grep '^96,0,' "$TMP/out.csv"); row2=$(grep '^96,2,' "$TMP/out.csv")
  check "lambda 0: the three methods agree (no shift, no weights): $row0" \
    awk -F, '{ exit !($4 == $5 && $5 == $6 && $7 == $8 && $8 == $9) }' <<< "$row0"
  check "lambda 0: coverage near 0.9 ($row0)" awk -F, '{ exit !($6 >= 0.84 && $6 <= 0.97) }' <<< "$row0"
  check "lambda 2: feedback-corrected coverage near 0.9 ($row2)" awk -F, '{ exit !($6 >= 0.84 && $6 <= 0.97) }' <<< "$row2"
  check "lambda 2: the feedback-corrected sets are wider than the exchangeable ones ($row2)" \
    awk -F, '{ exit !($9 > $7) }' <<< "$row2"
  "$TMP/cp" "$TMP/nosuch.csv" -t 1 > /dev/null 2> "$TMP/err"; rc=$?
  check "a missing landscape is an error naming it (exit $rc)" bash -c '[ "$1" = 1 ] && grep -q nosuch.csv "$2"' _ "$rc" "$TMP/err"
fi
finish
