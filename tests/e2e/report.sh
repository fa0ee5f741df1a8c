#!/usr/bin/env bash
# tests/e2e/report.sh: `seqloop report` on real data, checked by value against
# the commands that compute the same numbers, for the same bytes on a second
# run (and another thread count), and in a real browser (Debian's chromium,
# headless, network off: tests/e2e/report_browser.py) with a screenshot per
# report under build/e2e-report/ (or $SEQLOOP_REPORT_SHOTS).
#   - the README's demo (make demo-run) on RRM_1 from hmmer-examples;
#   - contacts against a structure (PDZ seed, 1be9), held-out perplexity,
#     an assay (BLAT_ECOLX) with Spearman;
#   - design: a GB1 four-site campaign (design run, small budget);
#   - the perpetual-motion cycle on kunitz (audit cycle, small sizes);
#   - errors, and a hostile page the browser check must reject.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
SHOTS=${SEQLOOP_REPORT_SHOTS:-$root/build/e2e-report}
mkdir -p "$SHOTS"
BROWSER=1
if ! command -v chromium > /dev/null; then
  BROWSER=0; skip "report browser: chromium is not installed (bash scripts/setup.sh installs it)"
fi
# browse HTML NAME SECTION...: the browser checks, one line each.
browse() {
  local html=$1 name=$2; shift 2
  [ "$BROWSER" = 1 ] || return 0
  $PY "$root/tests/e2e/report_browser.py" "$html" "$SHOTS/$name.png" "$@" | sed "s/^\(ok\|not ok\) - browser:/\1 - $name: browser:/" > "$TMP/browse.out"
  cat "$TMP/browse.out"
  grep -q '^not ok' "$TMP/browse.out" && FAILED=1
  return 0
}
# same_bytes A B DESC
same_bytes() { check "$3" cmp -s "$1" "$2"; }

CASE="report errors"
expect_error 2 "expected -o REPORT.html" report -a /dev/null
expect_error 2 "nothing to report" report -o "$TMP/x.html"
expect_error 2 "--samples needs --alignment" report --samples "$TMP/x.fa" -o "$TMP/x.html"
printf 'a,b\n1,2\n' > "$TMP/bad.csv"
expect_error 1 "no column 'arm'" report --cycle "$TMP/bad.csv" -o "$TMP/x.html"
expect_error 1 "no column 'mutant'" report --scores "$TMP/bad.csv" -o "$TMP/x.html"
expect_error 1 "no such ledger" report --ledger "$TMP/none.db" -o "$TMP/x.html"
check "$CASE: a missing ledger is not created, no report written" test ! -e "$TMP/none.db" -a ! -e "$TMP/x.html"

CASE="report browser check can fail"
if [ "$BROWSER" = 1 ]; then
  cat > "$TMP/hostile.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>hostile</title></head><body>
<section id="alignment"><svg class="plot" width="100" height="100"></svg></section>
<img src="http://example.invalid/x.png"><script>console.error("boom")</script></body></html>
HTML
  $PY "$root/tests/e2e/report_browser.py" "$TMP/hostile.html" "$TMP/hostile.png" alignment model > "$TMP/h.out"; rc=$?
  check "$CASE: exit 1 on a hostile page" [ "$rc" -eq 1 ]
  check "$CASE: it names the console error" grep -q '^not ok - browser: no console error.*boom' "$TMP/h.out"
  check "$CASE: it names the network request" grep -q '^not ok - browser: no request but the file itself.*example.invalid' "$TMP/h.out"
  check "$CASE: it names the empty plot and the missing section" \
    sh -c "grep -q '^not ok - browser: section alignment has 1 non-empty' '$TMP/h.out' && grep -q '^not ok - browser: section model has 0' '$TMP/h.out'"
fi

CASE="report demo (RRM_1)"
RRM=/usr/share/doc/hmmer/examples/testsuite/RRM_1.sto.gz
if need "$RRM"; then
  D="$TMP/demo"
  make -s -C "$root" demo-run SL="$BIN" DEMO_DIR="$D" > "$TMP/demo.out" 2> "$TMP/demo.err"; rc=$?
  check "$CASE: make demo-run succeeds${rc:+ (exit $rc)}" [ "$rc" -eq 0 ]
  check "$CASE: it writes report.html, report.json and the provenance sidecar" \
    test -s "$D/report.html" -a -s "$D/report.json" -a -s "$D/report.html.prov.json"
  J="$D/report.json"
  "$BIN" audit --json --focus-first "$RRM" > "$TMP/audit.json" 2>/dev/null
  v=$(json_get "$J" "(d['alignment']['N'], d['alignment']['L'], d['alignment']['dropped']['columns_insert'])")
  check "$CASE: alignment N 79, L 71, 9 insert columns dropped ($v)" [ "$v" = "(79, 71, 9)" ]
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1])); a=json.load(open(sys.argv[2]))
e=[c['entropy_bits'] for c in a['columns']]; g=[1-c['gap_frac'] for c in a['columns']]
print(max(abs(x-y) for x,y in zip(e,r['alignment']['column_entropy_bits']))<1e-12 and
      max(abs(x-y) for x,y in zip(g,r['alignment']['column_coverage']))<1e-12 and
      abs(a['neff']-r['alignment']['neff'])<1e-9 and len(e)==71)" "$J" "$TMP/audit.json")
check "$CASE: column entropies, coverage and Neff equal seqloop audit --json's ($v)" [ "$v" = "True" ]
  v=$($PY -c "
import csv,json,sys
r=json.load(open(sys.argv[1]))['variants']; rows=list(csv.DictReader(open(sys.argv[2])))
wt={int(x['pos']): x['wt'] for x in rows}
print(r['singles'], len(r['positions']), r['positions'][0], all(wt[p]==w for p,w in zip(r['positions'], r['wild_type'])))" "$J" "$D/singles.csv")
  check "$CASE: 1349 singles (71 x 19) at positions 221.. with the focus as wild type ($v)" \
    [ "$v" = "1349 71 221 True" ]
  v=$($PY -c "
import csv,json,sys
r=json.load(open(sys.argv[1]))['variants']; AA=r['amino_acids']; P=r['positions']; g=r['scores_position_by_amino_acid']
rows=list(csv.DictReader(open(sys.argv[2])))
print(all(abs(g[P.index(int(x['pos']))*20+AA.index(x['mt'])]-float(x['seqloop_score']))<1e-12 for x in rows) and
      sum(v is not None for v in g)==len(rows))" "$J" "$D/singles.csv")
  check "$CASE: every heat-map cell is the score of seqloop score --all-singles ($v)" [ "$v" = "True" ]
  "$BIN" audit --model "$D/rrm.ar" --samples "$D/samples.fa" --against "$RRM" --focus-first --json > "$TMP/sa.json" 2>/dev/null
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1]))['samples']; a=json.load(open(sys.argv[2]))['samples']
print(r['n']==1000 and abs(r['r_one_point']-a['r_one_point'])<1e-12 and abs(r['r_two_point_connected']-a['r_two_point_connected'])<1e-12
      and abs(r['novelty_mean']-a['novelty_hamming_to_nearest_natural']['mean'])<1e-12)" "$J" "$TMP/sa.json")
  check "$CASE: sample statistics equal seqloop audit --samples's ($v)" [ "$v" = "True" ]
  v=$(json_get "$J" "(d['model']['kind'], d['model']['L'], len(d['contacts']['top_pairs']), d['model']['entropy_bits'] > 0)")
  check "$CASE: model ar over 71 columns with an entropy; 71 top contact pairs ($v)" [ "$v" = "('ar', 71, 71, True)" ]
  check "$CASE: no time stamp and no address but the SVG namespace in the page" \
    sh -c "! grep -Eq '20[0-9]{2}-[0-9]{2}-[0-9]{2}|[0-9]{2}:[0-9]{2}:[0-9]{2}' '$D/report.html' && ! grep -o 'https\?://[^\" ]*' '$D/report.html' | grep -qv '^http://www.w3.org/2000/svg$'"
  check "$CASE: the page has no script, no external style, no image" \
    sh -c "! grep -Eiq '<script|<link|<img|@import|url\\(' '$D/report.html'"
  # Same inputs, same bytes (and another thread count).
  "$BIN" report -q -t 1 --focus-first -a "$RRM" -m "$D/rrm.ar" --contacts-model "$D/rrm.potts" -s "$D/singles.csv" \
    --samples "$D/samples.fa" --title "RRM_1 (Pfam PF00076), seqloop demo" -o "$TMP/again.html"
  same_bytes "$D/report.html" "$TMP/again.html" "$CASE: the same inputs give the same HTML bytes (-t 1 against -t 2)"
  same_bytes "$D/report.json" "$TMP/again.json" "$CASE: and the same JSON bytes"
  browse "$D/report.html" demo alignment model contacts variants samples
  # Held-out perplexity equals score --perplexity's.
  "$BIN" ingest -q --focus-first -o "$TMP/rrm.fa" "$RRM"
  "$BIN" score -q -m "$D/rrm.ar" --perplexity "$TMP/rrm.fa" --metrics-json "$TMP/ppl.json" -o "$TMP/ppl.csv" 2>/dev/null
  "$BIN" report -q -m "$D/rrm.ar" --heldout "$TMP/rrm.fa" --entropy-samples 0 -o "$TMP/held.html"
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1]))['model']; s=json.load(open(sys.argv[2]))
print(abs(r['heldout_bits_per_site']-s['bits_per_site'])<1e-9 and abs(r['heldout_perplexity']-s['perplexity'])<1e-9, round(r['heldout_perplexity'],4))" "$TMP/held.json" "$TMP/ppl.json")
  check "$CASE: held-out bits per site and perplexity equal score --perplexity's ($v)" [ "${v%% *}" = "True" ]
  CASE="report errors"
  expect_error 2 "a potts model has no normalised log P" report -m "$D/rrm.potts" --heldout "$TMP/rrm.fa" -o "$TMP/x.html"
  expect_error 2 "a ar model has no couplings|an ar model has no couplings" report -m "$D/rrm.ar" --contacts-model "$D/rrm.ar" -o "$TMP/x.html"
fi

CASE="report contacts against 1be9"
PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
PDB=$DATA/pfam_seeds_contacts/1be9.cif
if need "$PDZ" "$PDB"; then
  "$BIN" fit -q --model potts --lambda-j 0.5 -m 15 -t 2 -o "$TMP/pdz.slm" "$PDZ"
  "$BIN" contacts -q -m "$TMP/pdz.slm" --structure "$PDB" --chain A --json "$TMP/prec.json" -o "$TMP/pdz.ecs"
  run_sl report -a "$PDZ" -m "$TMP/pdz.slm" --structure "$PDB" --chain A -o "$TMP/pdz.html"
  check "$CASE: exit $RC$([ "$RC" -eq 0 ] || echo ": $(head -c 300 "$TMP/err")")" [ "$RC" -eq 0 ]
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1]))['contacts']; c=json.load(open(sys.argv[2]))
print(abs(r['precision_at_L']-c['precision_L'])<1e-12 and r['aligned_columns']==c['aligned_columns'], round(r['precision_at_L'],3))" "$TMP/pdz.json" "$TMP/prec.json")
  check "$CASE: precision at L equals seqloop contacts --structure's ($v)" [ "${v%% *}" = "True" ]
  browse "$TMP/pdz.html" contacts-1be9 alignment model contacts
fi

CASE="report assay (BLAT_ECOLX)"
BLAT=$DATA/blat_ecolx
if need "$BLAT/BLAT_ECOLX.a2m" "$BLAT/BLAT_ECOLX_Ranganathan2015.csv"; then
  "$BIN" fit -q --model profile -f BLAT_ECOLX -o "$TMP/blat.prof" "$BLAT/BLAT_ECOLX.a2m"
  "$BIN" score -q -m "$TMP/blat.prof" --skip-invalid --dms-score-column 2500 --metrics-json "$TMP/met.json" \
    -o "$TMP/blat.csv" "$BLAT/BLAT_ECOLX_Ranganathan2015.csv" 2>/dev/null
  run_sl report -m "$TMP/blat.prof" -s "$TMP/blat.csv" --measured-column 2500 -o "$TMP/blat.html"
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1])); c=json.load(open(sys.argv[2]))
# the CSV holds scores to 6 decimals (ties the exact scores do not have): 1e-5
print(abs(r['variants']['spearman']-c['spearman'])<1e-5 and r['variants']['assay_n']==c['n'], round(r['variants']['spearman'],4), r['model']['site_entropy_from'])" "$TMP/blat.json" "$TMP/met.json")
  check "$CASE: Spearman (to 1e-5) and n equal seqloop score --dms-score-column's; profile site entropies exact ($v)" \
    [ "$v" = "True $(json_get "$TMP/met.json" "round(d['spearman'],4)") exact (independent sites)" ]
  browse "$TMP/blat.html" assay-blat model variants
fi

CASE="report design (GB1 four-site)"
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
if need "$GB1"; then
  "$BIN" design run -q --ledger "$TMP/gb1.db" --oracle "table:$GB1" --start VDGV --budget 32 --batch 8 > /dev/null 2>&1
  "$BIN" ledger export -q --ledger "$TMP/gb1.db" --json -o "$TMP/gb1.export.json"
  run_sl report --ledger "$TMP/gb1.db" -o "$TMP/gb1.html"
  check "$CASE: exit $RC$([ "$RC" -eq 0 ] || echo ": $(head -c 300 "$TMP/err")")" [ "$RC" -eq 0 ]
  v=$($PY -c "
import json,sys
r=json.load(open(sys.argv[1]))['design']; e=json.load(open(sys.argv[2]))
meas=[m['value'] for m in sorted(e['measurements'], key=lambda m: m['id'])]
best=[max(meas[:k+1]) for k in range(len(meas))]
last=[x['summary'] for x in e['rounds'] if x['summary'].get('regret') is not None][-1]
val={m['seq']: m['value'] for m in e['measurements']}
np=sum(1 for p in e['predictions'] if val.get(p['seq']) is not None)
print(r['measured']==meas and r['best_so_far']==best and abs(r['global_max']-(last['best']+last['regret']))<1e-12
      and len(r['predictions']['mean'])==np and np>0 and len(meas)==32, len(meas), round(r['global_max'],3))" "$TMP/gb1.json" "$TMP/gb1.export.json" 2>&1)
  check "$CASE: measurements, best so far, global maximum and predictions agree with ledger export ($v)" [ "${v%% *}" = "True" ]
  check "$CASE: the global maximum is GB1's best variant in the table (8.762)" [ "${v##* }" = "8.762" ]
  "$BIN" report -q --ledger "$TMP/gb1.db" -o "$TMP/gb1b.html"
  same_bytes "$TMP/gb1.html" "$TMP/gb1b.html" "$CASE: the same ledger gives the same bytes"
  browse "$TMP/gb1.html" design-gb1 design
fi

CASE="report cycle (kunitz)"
KUN=$DATA/kunitz_pf00014/PF00014_mgap6.fasta.gz
if need "$KUN"; then
  "$BIN" audit cycle -q --generations 2 --samples 300 --max-iter 10 --entropy-samples 500 --lambda-j 0.01 --lambda-h 0.01 \
    -o "$TMP/cycle.csv" "$KUN" > /dev/null
  run_sl report --cycle "$TMP/cycle.csv" -o "$TMP/cycle.html"
  check "$CASE: exit $RC$([ "$RC" -eq 0 ] || echo ": $(head -c 300 "$TMP/err")")" [ "$RC" -eq 0 ]
  v=$($PY -c "
import csv,json,sys
r=json.load(open(sys.argv[1]))['cycle']['arms']; rows=list(csv.DictReader(open(sys.argv[2])))
ok=all(r[x['arm']]['heldout_logp'][[int(g) for g in r[x['arm']]['generation']].index(int(x['generation']))]==float(x['heldout_logp'])
       and r[x['arm']]['entropy_bits'][[int(g) for g in r[x['arm']]['generation']].index(int(x['generation']))]==float(x['entropy_bits']) for x in rows)
print(ok and sorted(r)==['filter','mix','real','self'], len(rows))" "$TMP/cycle.json" "$TMP/cycle.csv")
  check "$CASE: every arm's held-out log P and entropy per generation as in the CSV ($v)" [ "$v" = "True 7" ]
  browse "$TMP/cycle.html" cycle-kunitz cycle
fi
finish
