#!/usr/bin/env bash
# tests/e2e/zeroshot_weights.sh: sequence weights computed over the distinct
# rows with multiplicities (src/seq/weights.c, sl_neighbours_count_mult)
# equal the independent numpy reference (tools/weights_ref.py, every row
# compared with every row) on alignments full of repeated rows: a made-up
# one (repeats, an all-gap row, rows at the threshold) with every kernel in
# both conventions, and MYO3's deep ProteinGym alignment (92,471 rows,
# 35,458 distinct).
. "$(dirname "$0")/lib.sh"
CASE=zeroshot_weights
PY=/usr/bin/python3
if ! $PY -c 'import numpy' 2> /dev/null; then skip "$CASE: numpy absent"; exit 0; fi
# 300 rows over 24 columns drawn from 40 parents with a few mutations each,
# many rows repeated exactly; row 5 all gaps (EVE weight 0); seeded
$PY - > $TMP/dup.fa <<'PY'
import random
rng = random.Random(7)
aa = "ACDEFGHIKLMNPQRSTVWY-"
parents = ["".join(rng.choice(aa) for _ in range(24)) for _ in range(40)]
for k in range(300):
    s = list(rng.choice(parents[:8] if k % 3 else parents))
    for _ in range(rng.choice([0, 0, 0, 1, 2, 5])):
        s[rng.randrange(24)] = rng.choice(aa)
    if k == 5:
        s = ["-"] * 24
    print(">r%d\n%s" % (k, "".join(s)))
PY
check "the made-up alignment repeats rows" bash -c '[ "$(grep -v ">" "$1" | sort -u | wc -l)" -lt 200 ]' _ $TMP/dup.fa
cmp_ref() { # cmp_ref LABEL ALN "seqloop opts" "reference opts"
  # shellcheck disable=SC2086
  "$BIN" weights -q $3 --plmc-format -o $TMP/s.w "$2" || { nok "$1: seqloop failed"; return; }
  # shellcheck disable=SC2086
  $PY tools/weights_ref.py "$2" $4 > $TMP/r.w || { nok "$1: reference failed"; return; }
  local m
  m=$(paste $TMP/s.w $TMP/r.w | awk '{d=$1-$2; if(d<0)d=-d; if(d>m)m=d; n++} END{printf "%d %.3g", n, m}')
  set -- "$1" $m
  if [ "$2" = "$(wc -l < $TMP/r.w)" ] && awk -v m="$3" 'BEGIN{exit !(m < 1e-9)}'; then ok "$1: $2 weights equal the reference (max |dw| $3)"
  else nok "$1: weights differ from the reference (rows $2, max |dw| $3)"; fi
}
for k in plain avx2 avx512; do
  if ! "$BIN" weights -q --kernel $k -o /dev/null $TMP/dup.fa 2> /dev/null; then skip "$CASE: kernel $k not supported here"; continue; fi
  for conv in plmc eve; do
    for th in 0.2 0.35; do
      cmp_ref "$k $conv theta $th" $TMP/dup.fa "--kernel $k --convention $conv --theta $th -t 2" "--convention $conv --theta $th"
    done
  done
done
M=$DATA/proteingym_subset/MYO3_YEAST_Tsuboyama_2023_2BTT/MYO3_YEAST_Tsuboyama_2023_2BTT.a2m
if [ "${SEQLOOP_SLOW:-0}" = 1 ] && need "$M"; then
  # the reference is O(N^2) in numpy: minutes
  cmp_ref "MYO3 (92,471 rows) plmc" "$M" "--focus-first -t 2" "--focus MYO3_YEAST"
else
  skip "$CASE: MYO3 against the numpy reference (minutes): set SEQLOOP_SLOW=1"
fi
finish
