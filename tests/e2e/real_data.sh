# tests/e2e/real_data.sh: seqloop on the real alignments of ../shared/data.
# Weights are checked against plmc's published Neff and against the
# independent numpy reference (tools/weights_ref.py) in both conventions.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
have_numpy=0
$PY -c 'import numpy' 2>/dev/null && have_numpy=1

# compare_ref NAME ALN "seqloop-opts" "ref-opts": weights equal to 1e-9.
compare_ref() {
  local name=$1 aln=$2 sopts=$3 ropts=$4
  CASE=$name
  need "$aln" || return 0
  if [ $have_numpy -eq 0 ]; then skip "$name: numpy absent (/usr/bin/python3 -c 'import numpy')"; return 0; fi
  # shellcheck disable=SC2086
  "$BIN" weights -q $sopts --plmc-format -o "$TMP/s.w" "$aln" || { nok "$name: seqloop failed"; return 0; }
  # shellcheck disable=SC2086
  $PY tools/weights_ref.py "$aln" $ropts > "$TMP/r.w" || { nok "$name: reference failed"; return 0; }
  local res
  res=$(paste "$TMP/s.w" "$TMP/r.w" | awk '{d=$1-$2; if(d<0)d=-d; if(d>m)m=d; s+=$1; r+=$2; n++}
        END{printf "%d %.6f %.6f %.3g", n, s, r, m}')
  set -- $res
  local nref
  nref=$(wc -l < "$TMP/r.w")
  if [ "$1" = "$nref" ] && awk -v m="$4" 'BEGIN{exit !(m < 1e-9)}'; then
    ok "$name: $1 weights equal the numpy reference (Neff $2 vs $3, max |dw| $4)"
  else
    nok "$name: weights differ from the numpy reference (rows $1/$nref, Neff $2 vs $3, max |dw| $4)"
  fi
}

D=$DATA
compare_ref "dhfr plmc focus" "$D/dhfr/DHFR.a2m" "-f DYR_ECOLI" "--focus DYR_ECOLI"
compare_ref "dhfr eve focus" "$D/dhfr/DHFR.a2m" "-f DYR_ECOLI --convention eve" "--focus DYR_ECOLI --convention eve"
compare_ref "blat eve focus" "$D/blat_ecolx/BLAT_ECOLX.a2m" "-f BLAT_ECOLX --convention eve" "--focus BLAT_ECOLX --convention eve"
compare_ref "gb1 plmc focus filters" "$D/gb1/SPG1_STRSG_full_b0.1.a2m" "--focus-first --max-gap-frac 0.3 --min-coverage 0.5" "--focus SPG1_STRSG --max-gap-frac 0.3 --min-coverage 0.5"
compare_ref "a3m eve" "$D/a3m_examples/1xcr_1_A.a3m" "--convention eve" "--convention eve"
compare_ref "pdz seed theta 0.3" "$D/dlg4_pdz3/PF00595_PDZ_seed_hmmalign_no_inserts.fasta" "--theta 0.3" "--theta 0.3"

# plmc's own number: DHFR, -f DYR_ECOLI, theta 0.2 -> 3616 valid sequences, 159 sites, Neff 1568.1.
CASE="dhfr audit json"
if need "$D/dhfr/DHFR.a2m"; then
  run_sl audit --json -f DYR_ECOLI "$D/dhfr/DHFR.a2m"
  if [ $RC -eq 0 ] && [ "$(json_get "$TMP/out" "'%d %d %.1f %s' % (d['N'], d['L'], d['neff'], d['depth_class'])")" = "3616 159 1568.1 medium" ]; then
    ok "dhfr: audit --json gives N 3616, L 159, Neff 1568.1 (plmc), depth medium"
  else
    nok "dhfr: audit --json: rc $RC, $(json_get "$TMP/out" "(d['N'], d['L'], d['neff'])")"
  fi
  # Same data on stdin and through gzip: same numbers, same input hash.
  gzip -c "$D/dhfr/DHFR.a2m" > "$TMP/dhfr.gz"
  "$BIN" audit --json -q -f DYR_ECOLI - < "$TMP/dhfr.gz" > "$TMP/out2" 2>/dev/null
  check "dhfr: gzip on stdin gives the same Neff and input hash" \
    [ "$(json_get "$TMP/out" "(d['neff'], d['provenance']['input_sha256'])")" = "$(json_get "$TMP/out2" "(d['neff'], d['provenance']['input_sha256'])")" ]
  # Thread count and kernel do not change any weight.
  "$BIN" weights -q -f DYR_ECOLI -t 1 --kernel plain --plmc-format -o "$TMP/w1" "$D/dhfr/DHFR.a2m"
  "$BIN" weights -q -f DYR_ECOLI -t 2 --plmc-format -o "$TMP/w2" "$D/dhfr/DHFR.a2m"
  check "dhfr: weights identical for 1 thread plain kernel and 2 threads SIMD" cmp -s "$TMP/w1" "$TMP/w2"
  # Weights exported and imported give the same audit.
  "$BIN" weights -q -f DYR_ECOLI -o "$TMP/w.tsv" "$D/dhfr/DHFR.a2m"
  run_sl audit --json -q -f DYR_ECOLI --weights-in "$TMP/w.tsv" "$D/dhfr/DHFR.a2m"
  check "dhfr: --weights-in reproduces Neff" [ "$(json_get "$TMP/out" "'%.6f' % d['neff']")" = "1568.104283" ]
  # ingest writes the preprocessed alignment; re-reading it gives the same Neff.
  "$BIN" ingest -q -f DYR_ECOLI -o "$TMP/dhfr.fa" "$D/dhfr/DHFR.a2m"
  run_sl audit --json -q "$TMP/dhfr.fa"
  check "dhfr: ingest output re-reads to 3616 x 159 with the same Neff" \
    [ "$(json_get "$TMP/out" "'%d %d %.6f' % (d['N'], d['L'], d['neff'])")" = "3616 159 1568.104283" ]
fi

# Every real alignment loads and audits (no focus; plmc convention).
for f in "$D"/*/*.a2m "$D"/*/*.a3m "$D"/*/*.sto "$D"/kunitz_pf00014/*.gz "$D"/pfam_seeds_contacts/*.fasta \
         "$D"/ww_pf00397/*.fasta "$D"/blat_ecolx/PF13354*.fasta; do
  [ -e "$f" ] || continue
  run_sl audit --json -q "$f"
  n=$(json_get "$TMP/out" "'%d %d %.1f' % (d['N'], d['L'], d['neff'])")
  if [ $RC -eq 0 ] && [ -n "$n" ]; then ok "audit $(basename "$f"): N L Neff = $n"; else nok "audit $(basename "$f"): rc $RC $(head -c 200 "$TMP/err")"; fi
done

# The README's default: a Pfam Stockholm file from Debian's hmmer-examples, gzipped.
CASE="hmmer-examples RRM_1"
RRM=/usr/share/doc/hmmer/examples/testsuite/RRM_1.sto.gz
if need "$RRM"; then
  run_sl audit "$RRM"
  check "RRM_1.sto.gz: audit prints Neff and the entropy tables" grep -q "lowest-entropy columns" "$TMP/out"
  check "RRM_1.sto.gz: detected as gzip Stockholm with RF columns" grep -q "stockholm layout" "$TMP/err"
fi
finish
