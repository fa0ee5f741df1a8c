# tests/e2e/info.sh: the information report between models (entropy, KL,
# held-out perplexity, data bits) and the perpetual-motion test, on a small
# real family (the PDZ Pfam seed, 44 x 82) so that it runs in seconds.
. "$(dirname "$0")/lib.sh"

P=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
CASE="information report"
if need "$P"; then
  "$BIN" split -q --identity 0.8 --seed 1 -o "$TMP/pdz" "$P"
  "$BIN" fit -q --model ar -o "$TMP/a.ar" "$TMP/pdz.train.fa"
  "$BIN" fit -q --model ar --lambda-j 0.01 -o "$TMP/b.ar" "$TMP/pdz.train.fa"
  "$BIN" fit -q --model profile -o "$TMP/p.prof" "$TMP/pdz.train.fa"
  "$BIN" audit -q --json --model "$TMP/a.ar" --compare "$TMP/a.ar" --entropy-samples 2000 > "$TMP/self.json"
  check "KL of a model to itself is exactly 0" [ "$(json_get "$TMP/self.json" "'%.6f %.6f' % (d['kl_model_to_compare_bits'], d['kl_compare_to_model_bits'])")" = "0.000000 0.000000" ]
  "$BIN" audit -q --json --model "$TMP/a.ar" --compare "$TMP/b.ar" --heldout "$TMP/pdz.test.fa" --data "$TMP/pdz.train.fa" --entropy-samples 2000 > "$TMP/ab.json"
  r=$(json_get "$TMP/ab.json" "'%.2f %.2f %.2f %.2f %.2f' % (d['kl_model_to_compare_bits'], d['kl_compare_to_model_bits'], d['model']['entropy_bits'], d['compare']['entropy_bits'], d['data']['sum_column_entropy_bits'])")
  check "KL both ways positive; the stronger-regularised model has more entropy; both below the column-entropy sum ($r)" \
    awk -v s="$r" 'BEGIN{split(s,v," "); exit !(v[1] > 0.5 && v[2] > 0.5 && v[4] > v[3] && v[4] < v[5])}'
  h=$(json_get "$TMP/ab.json" "'%.4f %.4f' % (d['heldout']['model']['bits_per_site'], d['heldout']['compare']['bits_per_site'])")
  check "held-out bits per site for both models ($h); 44 sequences overfit the weakly regularised one" \
    awk -v s="$h" 'BEGIN{split(s,v," "); exit !(v[2] < v[1] && v[2] > 1 && v[1] < 6)}'
  # Cross-check: held-out bits per site equals score --perplexity on the same file.
  pp=$("$BIN" score -m "$TMP/b.ar" --perplexity "$TMP/pdz.test.fa" 2>&1 >/dev/null | sed -n 's/.* sites: \([0-9.]*\) bits per site.*/\1/p')
  check "audit --heldout agrees with score --perplexity (${h#* } vs $pp)" [ "${h#* }" = "$pp" ]
  CASE="information report usage"
  expect_error 2 "use --model M" audit --compare "$TMP/a.ar"
  expect_error 1 "has 3 columns, the model 82" audit --model "$TMP/a.ar" --heldout <(printf '>x\nACD\n')
fi

CASE="perpetual-motion test"
if need "$P"; then
  "$BIN" audit cycle -q --generations 2 --entropy-samples 1000 --seed 3 -t 2 -o "$TMP/c1.csv" "$P" > "$TMP/c1.txt"
  "$BIN" audit cycle -q --generations 2 --entropy-samples 1000 --seed 3 -t 1 -o "$TMP/c2.csv" "$P" > /dev/null
  check "the cycle table has generation 0 and 2 generations x 3 arms" [ "$(grep -vc '^#\|^arm' "$TMP/c1.csv")" = 7 ]
  check "same seed, any thread count: identical numbers" cmp -s <(cut -d, -f1-15 "$TMP/c1.csv" | grep -v '^#') <(cut -d, -f1-15 "$TMP/c2.csv" | grep -v '^#')
  v=$(awk -F, '$1=="real"{r=$8; s0=$15} $1=="self"&&$2==2{s=$8; ss=$15} $1=="mix"&&$2==2{m=$8} END{printf "%.3f %.3f %.3f %.4f %.4f", r, s, m, s0, ss}' "$TMP/c1.csv")
  check "self-retraining loses held-out likelihood and support; mixing in real data keeps more (real self mix; support: $v)" \
    awk -v s="$v" 'BEGIN{split(s,x," "); exit !(x[2] < x[1] && x[3] > x[2] && x[5] < x[4])}'
  f=$(awk -F, '$1=="filter"&&$2==1{print $5, $6}' "$TMP/c1.csv")
  check "the filter accepts a fraction p and books log2(1/p) bits per kept sample ($f)" \
    awk -v s="$f" 'BEGIN{split(s,x," "); d=x[2]+log(x[1])/log(2); if(d<0)d=-d; exit !(x[1] > 0 && x[1] < 1 && d < 1e-3)}'
  "$BIN" audit cycle -q --arms filter --filter ratio --generations 2 --entropy-samples 500 --seed 3 -o "$TMP/r.csv" "$P" > /dev/null
  r=$(awk -F, '$1=="filter"{printf "%s %s ", $5, $7}' "$TMP/r.csv")
  check "ratio filter toward the generation-0 model: generation 1 accepts all (0 bits), generation 2 rejects some ($r)" \
    awk -v s="$r" 'BEGIN{split(s,x," "); exit !(x[1] == 1 && x[2] == 0 && x[3] < 1 && x[4] > 0)}'
  CASE="cycle usage"
  expect_error 2 "--filter: expected threshold or ratio, not 'magic'" audit cycle --filter magic "$P"
  expect_error 2 "--arms: expected a comma-separated list of self, filter and mix, not 'magic'" audit cycle --arms magic "$P"
  expect_error 2 "expected one ALIGNMENT" audit cycle
fi
finish
