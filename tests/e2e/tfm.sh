# tests/e2e/tfm.sh: the transformer language model end to end - fit on
# unaligned sequences, kill-and-resume gives the uninterrupted result,
# fine-tuning from --init, exact log P in score, sampling, entropy, errors.
# Tiny models and few steps: this must stay fast on 2 cores.
. "$(dirname "$0")/lib.sh"

CASE="tfm"
# 40 short unaligned sequences (derived from real domains, lengths 20-40)
cat > "$TMP/seqs.fa" <<'EOF'
>s1
MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILS
>s2
MKVLAAGIVGLLLAAPAASAQEVQLQESGGGLVQ
>s3
GSHMLEDPVDAFQLGPLKSLLEEGKIYVG
>s4
MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERS
>s5
MADQLTEEQIAEFKEAFSLFDKDGDGTITTKELG
>s6
MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEG
>s7
MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEG
>s8
MGSSHHHHHHSSGLVPRGSHMASMTGGQQMGRGS
>s9
MAEGEITTFTALTEKFNLPPGNYKKPKLLYCSNG
>s10
MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMF
>s11
MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLV
>s12
MTEYKLVVVGAGGVGKSALTIQLIQNHFVDEYDP
>s13
MKALIVLGLVLLSVTVQGKVFERCELARTLKRLG
>s14
MNIFEMLRIDEGLRLKIYKDTEGYYTIGIGHLL
>s15
MAHHHHHHVDDDDKMSDSEVNQEAKPEVKPEVK
>s16
MSLFDFFKNKGSAAATATDRDGNAASEGSEA
>s17
MTMDKSELVQKAKLAEQAERYDDMAAAMKAVT
>s18
MDPNCSCAAGDSCTCAGSCKCKECKCTSCKKS
>s19
MGLSDGEWQLVLNVWGKVEADIPGHGQEVLIRL
>s20
MKFLVNVALVFMVVYISYIYAAPEPEPAPEPEAE
>s21
MAVKKIAIFGATGQTGLTTLAQAVQAGYEVTVLV
>s22
MSEQNNTEMTFQIQRIYTKDISFEAPNAPHVFQ
>s23
MRPLRPRAALLALLASLLAAPPVAPAEAPHLVH
>s24
MGDVEKGKKIFVQKCAQCHTVEKGGKHKTGPNL
>s25
MAKEDNIEMQGTVLETLPNTMFRVELENGHVVT
>s26
MSIIGKIFGSKTEKQEPEEHHHHHH
>s27
MQYKLILNGKTLKGETTTEAVDAATAEKVFKQY
>s28
MTKIKADPDGPEAQAEACSGERTYQELLVNQNP
>s29
MKRISTTITTTITITTGNGAG
>s30
MENFQKVEKIGEGTYGVVYKARNKLTGEVVALKK
>s31
MSHHWGYGKHNGPEHWHKDFPIAKGERQSPVDI
>s32
MDLSALRVEEVQNVINAMQKILECPICLELIKEP
>s33
MSEKKQPVDLGLLEEDDEFEEFPAEDWAGLDEDE
>s34
MPKRGKKGAVAEDGDELRTEPEAKKSKTAAKKND
>s35
MASNDYTQQATQSYGAYPTQPGQGYSQQSSQPYG
>s36
MVKVGVNGFGRIGRLVTRAAFNSGKVDIVAIND
>s37
MSKIRVLIVDDHPLMRRGLAQLLSNEEDIEVVGEA
>s38
MTEQMTLRGTLKGHNGWVTQIATTPQFPDMILSA
>s39
MAQVINTNSLSLLTQNNLNKSQSALGTAIERLSS
>s40
MSFKVLAIDGGGTRGAMTAHLLKHLFERGVKGPS
EOF
F="-q -t 1 --layers 1 --width 16 --heads 2 --context 48 --batch 4 --holdout 0.2 --eval-every 5"
"$BIN" fit --model tfm $F --steps 12 --checkpoint-every 4 -o "$TMP/full.tfm" "$TMP/seqs.fa" 2> "$TMP/fit.err"
check "$CASE: fit --model tfm writes a model and a checkpoint" test -s "$TMP/full.tfm" -a -s "$TMP/full.tfm.ckpt"
"$BIN" fit --model tfm $F --steps 12 --checkpoint-every 4 --stop-after 5 -o "$TMP/res.tfm" "$TMP/seqs.fa"
check "$CASE: --stop-after leaves a checkpoint and no model" test -s "$TMP/res.tfm.ckpt" -a ! -e "$TMP/res.tfm"
"$BIN" fit --model tfm ${F#-q } --steps 12 --checkpoint-every 4 --resume -o "$TMP/res.tfm" "$TMP/seqs.fa" \
  2> "$TMP/res.err"
check "$CASE: --resume continues the checkpoint at step 5" grep -q "resuming .* at step 5 of 12" "$TMP/res.err"
"$BIN" score -q -m "$TMP/full.tfm" --perplexity "$TMP/seqs.fa" -o "$TMP/p1.csv"
"$BIN" score -q -m "$TMP/res.tfm" --perplexity "$TMP/seqs.fa" -o "$TMP/p2.csv"
check "$CASE: killed at step 5 and resumed = uninterrupted (same log P of 40 sequences)" \
  cmp -s <(grep -v '^#' "$TMP/p1.csv") <(grep -v '^#' "$TMP/p2.csv")
check "$CASE: per-sequence log P are negative numbers" \
  awk -F, 'NR>1 && !/^#/ {n++; if (!($2 < 0)) bad=1} END {exit !(n == 40 && !bad)}' <(grep -v '^#' "$TMP/p1.csv")
expect_error 2 "other data or options" fit --model tfm $F --steps 13 --resume -o "$TMP/res.tfm" "$TMP/seqs.fa"
# score: a mutant's score is the difference of the two sequences' log P
"$BIN" score -q -m "$TMP/full.tfm" --mutants K2A -o "$TMP/m.csv"
v1=$(awk -F, '$1=="K2A"{print $2}' "$TMP/m.csv")
printf '>wt\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILS\n>mt\nMATAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILS\n' > "$TMP/wm.fa"
"$BIN" score -q -m "$TMP/full.tfm" --perplexity "$TMP/wm.fa" -o "$TMP/wm.csv"
v2=$(awk -F, '$1=="mt"{m=$2} $1=="wt"{w=$2} END{printf "%.6f", m-w}' "$TMP/wm.csv")
check "$CASE: score K2A ($v1) = log P(mt) - log P(wt) ($v2)" \
  awk -v a="$v1" -v b="$v2" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(a != "" && d < 1e-5)}'
# fine-tuning from a pre-trained model keeps its shape
"$BIN" fit --model tfm -q -t 1 --steps 3 --batch 4 --init "$TMP/full.tfm" -o "$TMP/ft.tfm" "$TMP/seqs.fa"
check "$CASE: --init fine-tunes (model written)" test -s "$TMP/ft.tfm"
# sampling
"$BIN" sample -q -m "$TMP/full.tfm" -n 20 --seed 3 --top-p 0.95 --prefix MK -o "$TMP/s1.fa"
"$BIN" sample -q -m "$TMP/full.tfm" -n 20 --seed 3 --top-p 0.95 --prefix MK -t 2 -o "$TMP/s2.fa"
check "$CASE: sampling reproducible for a seed, any thread count" cmp -s "$TMP/s1.fa" "$TMP/s2.fa"
check "$CASE: 20 samples, all starting with the prefix" [ "$(grep -v '^>' "$TMP/s1.fa" | grep -c '^MK')" = 20 ]
"$BIN" sample -q -m "$TMP/full.tfm" -n 4 --fix 3W --infill 2-6 --burnin 2 --thin 1 --seed 2 -o "$TMP/g.fa"
check "$CASE: --fix/--infill: Gibbs under the likelihood keeps the clamped residues (MK..W...AKQRQ...)" \
  awk '!/^>/ {n++; if (substr($0, 1, 1) != "M" || substr($0, 3, 1) != "W" || substr($0, 7) != "AKQRQISFVKSHFSRQLEERLGLIEVQAPILS") bad=1} END {exit !(n == 4 && !bad)}' "$TMP/g.fa"
expect_error 2 "take neither --prefix" sample -m "$TMP/full.tfm" -n 2 --fix 3A --prefix M
run_sl audit --json --model "$TMP/full.tfm" --entropy-samples 50
e=$(json_get "$TMP/out" "d['model']['entropy_bits']")
check "$CASE: audit --model estimates the entropy ($e bits)" awk -v e="$e" 'BEGIN{exit !(e > 0)}'
# errors
printf '>a\nMKXLV\n' > "$TMP/x.fa"
expect_error 1 "is not one of the 20 standard amino acids" score -m "$TMP/full.tfm" --perplexity "$TMP/x.fa"
expect_error 2 "multiple of heads" fit --model tfm -q --width 10 --heads 3 -o "$TMP/bad.tfm" "$TMP/seqs.fa"
head -c 3000 "$TMP/full.tfm" > "$TMP/trunc.tfm"
expect_error 1 "truncated|checksum" score -m "$TMP/trunc.tfm" --mutants K2A

# real data: a short run on the Kunitz family (homology-aware split)
KUN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
CASE="tfm on kunitz"
if need "$KUN"; then
  "$BIN" fit --model tfm -t 2 --layers 1 --width 16 --heads 2 --steps 30 --batch 8 --eval-every 30 \
    -o "$TMP/k.tfm" "$KUN" 2> "$TMP/k.err"
  ppl=$(sed -n 's/.*held-out NLL .* perplexity \([0-9.]*\) .*/\1/p' "$TMP/k.err" | tail -1)
  check "$CASE: held-out perplexity after 30 steps ($ppl) is below the uniform 21" \
    awk -v p="$ppl" 'BEGIN{exit !(p != "" && p < 21)}'
  check "$CASE: the split is seqloop split's cluster split" grep -q "homology-aware cluster split (seqloop split) at identity 0.80" "$TMP/k.err"
  "$BIN" fit --model tfm -t 2 --layers 1 --width 8 --heads 2 --steps 1 --batch 2 --split-out "$TMP/ks" -o "$TMP/k1.tfm" "$KUN" 2> /dev/null
  "$BIN" audit -q --json --train "$TMP/ks.train.fa" --test "$TMP/ks.heldout.fa" > "$TMP/ks.json"
  check "$CASE: the leakage audit passes the trainer's held-out rows at 0.8" [ "$(json_get "$TMP/ks.json" "d['held_out']")" = True ]
fi
finish
