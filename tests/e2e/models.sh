# tests/e2e/models.sh: the model interface seen from the command line (issue
# 11): one numbering rule for mutants across kinds, progress only on a
# terminal, clamped sampling of a tfm model through the interface, and the
# check that no file outside src/models tests a model's kind.
. "$(dirname "$0")/lib.sh"

PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
KUN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
TFM="-q --model tfm -t 1 --layers 1 --width 16 --heads 2 --context 128 --steps 3 --batch 4"
singles() { "$BIN" score -q -m "$1" --all-singles | grep -v '^#' | cut -d, -f1-4; }

CASE="numbering"
if need "$PDZ" "$KUN"; then
  for f in "$PDZ" "$KUN"; do
    b=$(basename "$f")
    "$BIN" fit -q --model ar -t 2 -o "$TMP/n.ar" "$f"
    "$BIN" fit $TFM -o "$TMP/n.tfm" "$f"
    cp "$TMP/n.tfm" "$TMP/$b.tfm"
    singles "$TMP/n.ar" > "$TMP/a.txt"
    singles "$TMP/n.tfm" > "$TMP/t.txt"
    check "without -f, ar and tfm fitted to $b list the same positions and wild types ($(wc -l < "$TMP/a.txt") singles)" \
      cmp -s "$TMP/a.txt" "$TMP/t.txt"
    first=$(sed -n 2p "$TMP/a.txt" | cut -d, -f1)
    check "without -f the first single is numbered in columns 1..L ($first, not the record's start-end)" \
      test "$(sed -n 2p "$TMP/a.txt" | cut -d, -f2)" -le 2
    va=$("$BIN" score -q -m "$TMP/n.ar" --mutants "$first" | grep -c "^$first,")
    vt=$("$BIN" score -q -m "$TMP/n.tfm" --mutants "$first" | grep -c "^$first,")
    check "the mutant $first is accepted by both kinds (same wild type at that number)" test "$va$vt" = 11
  done
  # With a focus every kind numbers by NAME/start-end.
  "$BIN" fit -q --model ar -t 2 -f LIMK1_HUMAN -o "$TMP/f.ar" "$PDZ"
  "$BIN" fit $TFM -f LIMK1_HUMAN -o "$TMP/f.tfm" "$PDZ"
  singles "$TMP/f.ar" > "$TMP/fa.txt"
  singles "$TMP/f.tfm" > "$TMP/ft.txt"
  check "with -f LIMK1_HUMAN both kinds number from 165 (first single $(sed -n 2p "$TMP/fa.txt" | cut -d, -f1))" \
    test "$(sed -n 2p "$TMP/fa.txt" | cut -d, -f2)" = "$(sed -n 2p "$TMP/ft.txt" | cut -d, -f2)" -a \
         "$(sed -n 2p "$TMP/fa.txt" | cut -d, -f2)" -ge 165
  check "with -f every ar single is a tfm single (same number, same wild type)" \
    test -z "$(comm -23 <(sort "$TMP/fa.txt") <(sort "$TMP/ft.txt"))"
  expect_error 1 "E5A.*wild type at residue 5 is 'P'" score -m "$TMP/$(basename "$PDZ").tfm" --mutants E5A
fi

CASE="progress"
if need "$PDZ"; then
  "$BIN" fit --model ar -t 2 -o "$TMP/p.ar" "$PDZ" 2> "$TMP/pipe.err" > /dev/null
  check "ar fit with stderr piped: no progress line" test "$(grep -c 'sites/s' "$TMP/pipe.err")" = 0
  if command -v script > /dev/null; then
    script -qc "'$BIN' fit --model ar -t 2 -o '$TMP/p2.ar' '$PDZ'" /dev/null > "$TMP/tty.out" 2>&1 < /dev/null
    check "ar fit on a terminal: progress with rate and count of sites" grep -q 'seqloop fit: ar: [0-9]*/82 sites.*sites/s' "$TMP/tty.out"
    script -qc "'$BIN' fit -q --model ar -t 2 -o '$TMP/p3.ar' '$PDZ'" /dev/null > "$TMP/ttyq.out" 2>&1 < /dev/null
    check "ar fit on a terminal with -q: no progress" test "$(grep -c 'sites/s' "$TMP/ttyq.out")" = 0
    script -qc "'$BIN' fit --model potts -m 5 -o '$TMP/p.potts' '$PDZ'" /dev/null > "$TMP/tty3.out" 2>&1 < /dev/null
    check "Potts fit on a terminal: progress in iterations with the objective" \
      grep -q 'seqloop fit: potts: [0-9]/5 iterations.*, f [0-9.]*, |g|/|x|' "$TMP/tty3.out"
    script -qc "'$BIN' sample -m '$TMP/p.potts' -n 20 --burnin 5 --thin 2 -o '$TMP/g.fa'" /dev/null > "$TMP/tty2.out" 2>&1 < /dev/null
    check "Gibbs sampling on a terminal: progress in sweeps" grep -q 'seqloop sample: Gibbs: [0-9]*/60 sweeps' "$TMP/tty2.out"
    "$BIN" sample -m "$TMP/p.potts" -n 20 --burnin 5 --thin 2 -o "$TMP/g2.fa" 2> "$TMP/pipe2.err"
    check "Gibbs sampling piped: no progress, same samples" test "$(grep -c 'sweeps/s' "$TMP/pipe2.err")" = 0 -a -z "$(cmp "$TMP/g.fa" "$TMP/g2.fa")"
  else
    skip "progress on a terminal: no script(1)"
  fi
fi

CASE="tfm clamped sampling"
if need "$PDZ"; then
  "$BIN" fit $TFM -f LIMK1_HUMAN -o "$TMP/c.tfm" "$PDZ"
  "$BIN" sample -q -m "$TMP/c.tfm" -n 4 --seed 3 --infill 170-175 --burnin 1 --thin 1 -t 1 -o "$TMP/c1.fa"
  "$BIN" sample -q -m "$TMP/c.tfm" -n 4 --seed 3 --infill 170-175 --burnin 1 --thin 1 -t 2 -o "$TMP/c2.fa"
  check "tfm --infill: 4 samples of the reference's length" test "$(grep -c '^>sample[0-9] logp=.* free=6 ' "$TMP/c1.fa")" = 4
  ref=$(grep -v '^>' "$TMP/c1.fa" | head -1)
  check "tfm --infill: the residues outside 170-175 are the reference's" \
    test -n "$ref" -a "${ref:0:5}" = "$(singles "$TMP/c.tfm" | awk -F, 'NR>1 && !s[$2]++ {printf "%s", $3}' | cut -c1-5)"
  check "tfm --infill: the same samples with 1 and 2 threads" cmp -s "$TMP/c1.fa" "$TMP/c2.fa"
fi

CASE="adding a kind"
LIB=${SEQLOOP_UNIT_DIR:-build/tests}/../libseqloop.a
if [ -f "$LIB" ] && command -v gcc > /dev/null; then
  # docs/architecture.md's worked example: one new file plus one line in the registry.
  /usr/bin/python3 - "$TMP" << 'PY'
import re, sys
t = sys.argv[1]
doc = open('docs/architecture.md').read()
open(t + '/ipm.c', 'w').write(re.findall(r'```c\n(/\* ipm\.c.*?)```', doc, re.S)[0])
reg = open('src/models/registry.c').read().replace('  X(tfm)\n', '  X(tfm)         \\\n  X(ipm)\n')
open(t + '/registry.c', 'w').write(reg)
open(t + '/main.c', 'w').write(r"""#include <stdio.h>
#include "seqloop/model.h"
int main(void) {
  sl_error e;
  sl_model *m = sl_model_create("ipm", 3, sl_alphabet_get(SL_ABC_DNA), 0);
  for (int k = 0; k < 3 * m->q; k++) m->h[k] = -(float)k / 10;
  uint8_t s[3] = {1, 2, 3};
  double v = 0, lg[8], d = 0;
  int64_t col = 1;
  uint8_t mt = 4;
  int st = sl_model_logp(m, NULL, s, &v, &e) | sl_model_conditional(m, s, 1, lg, &e) |
           sl_model_delta_cols(m, NULL, s, &col, &mt, 1, &d, &e);
  printf("%s %d %.3f %.3f %d\n", sl_model_name(m), st, v, d, sl_model_has(m, SL_CAP_CONDITIONALS));
  sl_model_destroy(m);
  return st;
}
""")
PY
  san=""
  nm "$LIB" 2> /dev/null | grep -q __asan_ && san="-fsanitize=address,undefined" # make check's library
  if gcc -std=c11 -fopenmp $san -D_GNU_SOURCE -Iinclude -Isrc/models -o "$TMP/ipm" "$TMP/main.c" "$TMP/ipm.c" "$TMP/registry.c" \
       "$LIB" -llbfgs -lz -lcjson -lnettle -lsqlite3 -lopenblas -lm 2> "$TMP/cc.err"; then
    out=$("$TMP/ipm")
    check "the worked example of docs/architecture.md (one file + one registry line) scores: $out" \
      test "$out" = "ipm 0 -2.100 -0.200 1"
  else
    nok "the worked example of docs/architecture.md does not build: $(head -c 300 "$TMP/cc.err")"
  fi
else
  skip "adding a kind: no library or compiler"
fi

CASE="kinds"
check "tools/check_kinds.sh: no file outside src/models tests a model's kind" bash tools/check_kinds.sh
mkdir -p "$TMP/repo/cli" "$TMP/repo/tools" "$TMP/repo/src/models"
cp tools/check_kinds.sh "$TMP/repo/tools/"
printf 'int f(const sl_model *m) { return m->kind == 3; }\n' > "$TMP/repo/cli/probe.c"
printf 'int g(const sl_model *m) { return m->kind == 3; }\n' > "$TMP/repo/src/models/ok.c"
check "tools/check_kinds.sh fails on a kind test in cli/ and names the line" \
  bash -c "! bash '$TMP/repo/tools/check_kinds.sh' > '$TMP/ck.out' && grep -q 'cli/probe.c:1' '$TMP/ck.out' && ! grep -q 'src/models/ok.c' '$TMP/ck.out'"
finish
