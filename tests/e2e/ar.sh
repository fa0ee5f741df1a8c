# tests/e2e/ar.sh: autoregressive DCA on a real (small) family: fit, exact
# likelihood in score, sampling, entropy and sample statistics in audit.
. "$(dirname "$0")/lib.sh"

PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
CASE="ar on the PDZ seed"
if need "$PDZ"; then
  "$BIN" fit -q --model ar -t 2 -o "$TMP/pdz.ar" "$PDZ"
  check "fit --model ar writes a model" test -s "$TMP/pdz.ar"
  "$BIN" fit -q --model ar -t 1 -o "$TMP/pdz1.ar" "$PDZ"
  "$BIN" score -q -m "$TMP/pdz.ar" --all-singles -o "$TMP/a1.csv"
  "$BIN" score -q -m "$TMP/pdz1.ar" --all-singles -o "$TMP/a2.csv"
  check "ar fits with 1 and 2 threads score all singles identically" cmp -s <(grep -v '^#' "$TMP/a1.csv") <(grep -v '^#' "$TMP/a2.csv")
  "$BIN" sample -q -m "$TMP/pdz.ar" -n 3000 --seed 5 -t 2 -o "$TMP/s1.fa"
  "$BIN" sample -q -m "$TMP/pdz.ar" -n 3000 --seed 5 -t 1 -o "$TMP/s2.fa"
  check "sampling is reproducible for a seed, any thread count" cmp -s "$TMP/s1.fa" "$TMP/s2.fa"
  check "3000 samples written with log P in the header" [ "$(grep -c '^>sample[0-9]* logp=-' "$TMP/s1.fa")" = 3000 ]
  "$BIN" sample -q -m "$TMP/pdz.ar" -n 100 --seed 6 -o "$TMP/s3.fa"
  check "another seed gives other samples" test "$(sed -n 2p "$TMP/s1.fa")" != "$(sed -n 2p "$TMP/s3.fa")"
  # score of an ar model is log P(mutant) - log P(wild type): check against --sequences.
  "$BIN" ingest -q -o "$TMP/pdz.fa" "$PDZ"
  v1=$("$BIN" score -q -m "$TMP/pdz.ar" --mutants V2A | awk -F, '$1=="V2A"{print $2}')
  focus=$(sed -n 2p "$TMP/pdz.fa")
  printf '>m\n%s\n' "${focus:0:1}A${focus:2}" > "$TMP/m.fa"
  v2=$("$BIN" score -q -m "$TMP/pdz.ar" --sequences "$TMP/m.fa" | awk -F, '$1=="m"{print $2}')
  check "ar score of V2A ($v1) equals log P difference of the sequences ($v2)" \
    awk -v a="$v1" -v b="$v2" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(a != "" && d < 1e-4)}'
  run_sl audit --json --model "$TMP/pdz.ar" --entropy-samples 4000 --samples "$TMP/s1.fa" --against "$PDZ"
  e=$(json_get "$TMP/out" "'%.3f %.3f %.3f' % (d['model']['entropy_bits'], d['samples']['r_one_point'], d['samples']['novelty_hamming_to_nearest_natural']['mean'])")
  check "audit --model/--samples: entropy (bits), one-point r, novelty: $e" \
    awk -v e="$e" 'BEGIN{split(e, v, " "); exit !(v[1] > 0 && v[2] > 0.9 && v[3] > 0 && v[3] < 1)}'
  "$BIN" fit -q --model potts --lambda-j 0.5 -m 20 -o "$TMP/p.slm" "$PDZ"
  run_sl sample -m "$TMP/p.slm" -n 200 --seed 3 --fix 10A --infill 30-40 -t 2 -o "$TMP/g.fa"
  check "Gibbs sampling of a Potts model reports R-hat" grep -q "R-hat of the energy" "$TMP/err"
  check "Gibbs: 200 samples with energies" [ "$(grep -c '^>sample[0-9]* energy=' "$TMP/g.fa")" = 200 ]
  "$BIN" sample -q -m "$TMP/p.slm" -n 50 --seed 3 -t 1 -o "$TMP/g1.fa"
  "$BIN" sample -q -m "$TMP/p.slm" -n 50 --seed 3 -t 2 -o "$TMP/g2.fa"
  check "Gibbs sampling reproducible across thread counts" cmp -s "$TMP/g1.fa" "$TMP/g2.fa"
  "$BIN" score -q -m "$TMP/pdz.ar" --perplexity "$TMP/pdz.fa" --metrics-json "$TMP/pp.json" -o "$TMP/pp.csv"
  "$BIN" fit -q --model profile -o "$TMP/prof.slm" "$PDZ"
  "$BIN" score -q -m "$TMP/prof.slm" --perplexity "$TMP/pdz.fa" --metrics-json "$TMP/pp2.json" -o "$TMP/pp2.csv"
  a=$(json_get "$TMP/pp.json" "'%.4f' % d['bits_per_site']"); b=$(json_get "$TMP/pp2.json" "'%.4f' % d['bits_per_site']")
  check "training-set bits per site: ar ($a) below profile ($b), both in [0, log2 21]" \
    awk -v a="$a" -v b="$b" 'BEGIN{exit !(a != "" && b != "" && a >= 0 && a < b && b < 4.40)}'
  CASE="perplexity of a Potts model"; expect_error 2 "needs a normalised model" score -m "$TMP/p.slm" --perplexity "$TMP/pdz.fa"
  CASE="--fix on a late site is refused"; expect_error 2 "not among the first sites" sample -m "$TMP/pdz.ar" -n 5 --fix 40A
fi
finish
