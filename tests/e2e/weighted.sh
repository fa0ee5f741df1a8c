# tests/e2e/weighted.sh: --conformal weighted end to end (docs/design.md,
# "Conformal intervals"): batches drawn from a known density, the draws
# table, intervals for every drawn sequence from round 2 on, the held-out
# calibration draws kept out of the next fit, refusals, determinism and
# kill -9 then resume; then a GB1 campaign in ALDE's protocol.
. "$(dirname "$0")/lib.sh"

ES="ehrlich:v=4,c=2,k=2,L=6,q=2,seed=1" # 4^6 = 4,096 sequences
export_of() { "$BIN" ledger export --ledger "$1" --json -o "$2"; }
# kill_resume DIR ARGS...: a campaign killed by SIGKILL inside round 3, then resumed with --ledger
# alone; prints the killed run's exit status; the resumed ledger's export goes to DIR.json.
kill_resume() {
  local dir=$1 rc
  shift
  mkdir -p "$dir"
  (cd "$dir" && SEQLOOP_TEST_CRASH_ROUND=3 exec "$BIN" design run -q --ledger l.db "$@" -o rounds.csv) 2>/dev/null
  rc=$?
  (cd "$dir" && exec "$BIN" design run -q --ledger l.db -o rounds.csv)
  export_of "$dir/l.db" "$dir.json"
  echo "$rc"
}
sql() { /usr/bin/python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())" "$@"; }
# What every sampled campaign is checked against, round by round: its
# stats, its draw totals (all, cal part), E_{k-1} (the sequences new in
# round k-1 with cal draws only) and the earlier sequences it drew again.
DRAWS_PY='
import sqlite3
def rounds(db):
    d = sqlite3.connect(db)
    for (k,) in d.execute("SELECT DISTINCT round FROM draws ORDER BY round").fetchall():
        st = dict(d.execute("SELECT name, value FROM round_stats WHERE k = ?", (k,)).fetchall())
        tot, cal = d.execute("SELECT sum(count), sum(CASE WHEN part = \"cal\" THEN count ELSE 0 END) FROM draws WHERE round = ?", (k,)).fetchone()
        E = {s for (s,) in d.execute("SELECT s.id FROM sequences s WHERE s.round = ? AND s.origin = \"designed\" AND NOT EXISTS (SELECT 1 FROM draws t WHERE t.seq = s.id AND t.round = ? AND t.part = \"train\")", (k - 1, k - 1))}
        old = {s for (s,) in d.execute("SELECT d.seq FROM draws d JOIN sequences s ON s.id = d.seq WHERE d.round = ? AND s.round < ?", (k, k))}
        before = d.execute("SELECT count(*) FROM sequences WHERE round < ?", (k,)).fetchone()[0]
        yield k, st, tot, cal, E, old, before
'
W=(--oracle "$ES" --proposer all --pairwise --conformal weighted --init-random 16 --batch 16 --budget 81 --rounds 100)

CASE="weighted: a sampled campaign on an Ehrlich function"
mkdir -p "$TMP/a" "$TMP/b" "$TMP/k"
for d in a b; do
  (cd "$TMP/$d" && exec "$BIN" design run -q --ledger l.db "${W[@]}" --seed 3 -o rounds.csv)
  export_of "$TMP/$d/l.db" "$TMP/$d.json"
done
check "it runs to the budget (81 measurements or a few past it: a round measures about 16 new sequences)" \
  awk -F, 'END { exit !($2 >= 81 && $2 <= 100) }' "$TMP/a/rounds.csv"
check "the same seed gives the same ledger" cmp -s "$TMP/a.json" "$TMP/b.json"
check "options stored: conformal weighted with its inverse temperatures and calibration share" \
  test "$(sql "$TMP/a/l.db" "SELECT json_extract(options, '\$.conformal'), json_extract(options, '\$.query_lambda'), json_extract(options, '\$.cal_lambda'), json_extract(options, '\$.cal_fraction') FROM runs")" = "('weighted', 10, 2, 0.5)"
check "round 1 is uniform (lambda 0, every log q = -log 4095: the space less the start; log Z = log(4095/4096), the uniform product's mass there)" \
  /usr/bin/python3 -c "
import sqlite3, math
d = sqlite3.connect('$TMP/a/l.db')
st = dict(d.execute('SELECT name, value FROM round_stats WHERE k = 1').fetchall())
assert st['query_lambda'] == 0 and st['query_model'] == 0 and abs(st['query_logz'] - math.log(4095 / 4096)) < 1e-12, st
lq = d.execute('SELECT min(logq), max(logq) FROM draws WHERE round = 1').fetchone()
assert abs(lq[0] + math.log(4095)) < 1e-12 and lq[0] == lq[1], lq
"
check "every round's draws: counts sum to query_draws, the cal part to query_draws_cal; later rounds at lambda 10 and 2" \
  /usr/bin/python3 -c "$DRAWS_PY
r = list(rounds('$TMP/a/l.db'))
assert len(r) >= 4, r
for k, st, tot, cal, E, old, before in r:
    assert tot == st['query_draws'] and cal == st['query_draws_cal'], (k, tot, cal, st)
    if k >= 2: assert st['query_lambda'] == 10 and st['query_lambda_cal'] == 2 and st['query_model'] == 1, st
"
check "from round 2 on, a weighted interval for every drawn sequence (and none before)" \
  test "$(sql "$TMP/a/l.db" "SELECT sum(d.round >= 2 AND i.seq IS NULL), sum(d.round = 1 AND i.seq IS NOT NULL), sum(d.round = 1), (SELECT count(*) FROM intervals) = sum(d.round >= 2) FROM (SELECT DISTINCT seq, round FROM draws) d LEFT JOIN intervals i USING (seq, round)")" = "(0, 0, 16, 1)"
check "each round with intervals records coverage, width and the unbounded share" \
  test "$(sql "$TMP/a/l.db" "SELECT count(DISTINCT k) >= 3 FROM round_stats WHERE name = 'conformal_unbounded'")" = "(1,)"
"$BIN" report -o "$TMP/a/rep.html" --ledger "$TMP/a/l.db" 2>/dev/null
check "the report shows each round's conformal coverage with its unbounded share (the rounds CSV's values)" \
  /usr/bin/python3 -c "
import csv, json, math, re
rows = list(csv.DictReader(open('$TMP/a/rounds.csv')))
j = json.load(open('$TMP/a/rep.json'))
def find(o):
    if isinstance(o, dict):
        if 'conformal_unbounded_per_round' in o: return o
        for v in o.values():
            r = find(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r: return r
d = find(j)
ub, cv = d['conformal_unbounded_per_round'], d['conformal_coverage_per_round']
n = 0
for r in rows:
    k = int(r['round'])
    if r['conformal_unbounded']:
        assert abs(ub[k] - float(r['conformal_unbounded'])) < 1e-9 and abs(cv[k] - float(r['conformal_coverage'])) < 1e-9, (k, r)
        n += 1
    else: assert ub[k] is None, (k, ub)
html = open('$TMP/a/rep.html').read()
assert n >= 3 and re.search(r'conformal coverage</th><td>round 2: [0-9.]+ \\((width [0-9.e+-]+|none bounded), [0-9.e+-]+ unbounded\\)', html), (n, html[:0])
"
# The held-out split: E_{k-1}, the sequences new in round k-1 with only
# cal draws, stay in round k's support (the space less every other ledger
# sequence), and only they may be drawn again.
check "round k's support is the space less the ledger's sequences but E_{k-1}; only E_{k-1} is drawn again" \
  /usr/bin/python3 -c "$DRAWS_PY
for k, st, tot, cal, E, old, before in rounds('$TMP/a/l.db'):
    if k < 2: continue
    assert st['query_support'] == 4096 - (before - len(E)), (k, st['query_support'], before, len(E))
    assert old <= E, (k, old - E)
"

CASE="weighted: kill -9 inside round 3, then resume"
rc=$(kill_resume "$TMP/k" "${W[@]}" --seed 3)
check "killed by SIGKILL (status $rc) and resumed with --ledger alone: the uninterrupted ledger, draws and intervals included" \
  test "$rc" = 137 -a "$(md5sum < "$TMP/k.json")" = "$(md5sum < "$TMP/a.json")"

CASE="weighted: refusals"
expect_error 2 "draws each batch from a density over the whole design space: use --proposer all, prior, cbas or cbas-ar" \
  design run --ledger "$TMP/r1.db" --oracle "$ES" --conformal weighted --proposer mutate --rounds 1
expect_error 2 "Thompson sampling has no such density" \
  design run --ledger "$TMP/r2.db" --oracle "$ES" --conformal weighted --proposer all --acquisition thompson --rounds 1
expect_error 2 "with --proposer all needs a design space of at most 4194304 sequences \\(this one has 4\\^32\\); cbas and cbas-ar sample any space" \
  design run --ledger "$TMP/r3.db" --oracle "ehrlich:v=4,c=4,k=4,L=32,q=4,seed=1" --conformal weighted --proposer all --rounds 1
expect_error 2 "cannot normalise a trust region \\(--min-prior, --prior-top, --max-edits\\) over a design space of 4\\^32" \
  design run --ledger "$TMP/r5.db" --oracle "ehrlich:v=4,c=4,k=4,L=32,q=4,seed=1" --conformal weighted --proposer cbas \
  --max-edits 3 --rounds 2 --init-random 8 --batch 8
expect_error 2 "cbas-ar needs a protein design space" \
  design run --ledger "$TMP/r6.db" --oracle "$ES" --conformal weighted --proposer cbas-ar --rounds 1
expect_error 2 "--query-lambda: expected a number in \\[0," \
  design run --ledger "$TMP/r4.db" --oracle "$ES" --conformal weighted --proposer all --query-lambda -1 --rounds 1
check "a refused option creates no ledger, also where the check needs the oracle's space" \
  test ! -e "$TMP/r1.db" -a ! -e "$TMP/r2.db" -a ! -e "$TMP/r3.db" -a ! -e "$TMP/r5.db" -a ! -e "$TMP/r6.db"
expect_error 2 "--query-lambda: the ledger's run used 10, this command line says 3" \
  design run --ledger "$TMP/a/l.db" "${W[@]}" --seed 3 --query-lambda 3

# A space too large to enumerate (8^12 = 6.9e10): CbAS's search
# distribution, a product of site probabilities, is drawn from by rejection
# (the ledger less E_{k-1} redrawn), its normaliser estimated by a pilot.
CASE="weighted: CbAS over a space too large to enumerate"
EB="ehrlich:v=8,c=2,k=4,L=12,q=4,seed=1"
WB=(--oracle "$EB" --proposer cbas --conformal weighted --init-random 48 --batch 48 --budget 240 --rounds 100 --members 10)
mkdir -p "$TMP/c1" "$TMP/c2" "$TMP/ck"
for d in c1 c2; do
  (cd "$TMP/$d" && exec "$BIN" design run -q --ledger l.db "${WB[@]}" --seed 5 -o rounds.csv)
  export_of "$TMP/$d/l.db" "$TMP/$d.json"
done
check "cbas on 8^12 runs to its budget; the same seed gives the same ledger" \
  sh -c "awk -F, 'END { exit !(\$2 >= 240 && \$2 <= 270) }' '$TMP/c1/rounds.csv' && cmp -s '$TMP/c1.json' '$TMP/c2.json'"
check "no draw repeats a sequence measured before its round but E_{k-1}; counts sum to the stored totals; no query_support" \
  /usr/bin/python3 -c "$DRAWS_PY
r = list(rounds('$TMP/c1/l.db'))
assert len(r) >= 4, r
for k, st, tot, cal, E, old, before in r:
    assert tot == st['query_draws'] and cal == st['query_draws_cal'] and 'query_support' not in st, (k, st)
    assert st['query_logz'] <= 0 and st['query_logz_cal'] <= 0, st  # log Q(S_k): a share of Q's mass
    assert old <= E, (k, old - E)
"
check "round 1 (--init-random) is uniform: every draw's log q is -12 log 8 less the pilot's log Z (0: no ledger mass)" \
  /usr/bin/python3 -c "
import sqlite3, math
d = sqlite3.connect('$TMP/c1/l.db')
lz = d.execute('SELECT value FROM round_stats WHERE k = 1 AND name = \"query_logz\"').fetchone()[0]
lq = d.execute('SELECT min(logq), max(logq) FROM draws WHERE round = 1').fetchone()
assert lz == 0 and abs(lq[0] + 12 * math.log(8)) < 1e-9 and abs(lq[1] - lq[0]) < 1e-9, (lz, lq)
"
check "from round 2 on, an interval for every drawn sequence; coverage recorded per round" \
  test "$(sql "$TMP/c1/l.db" "SELECT sum(d.round >= 2 AND i.seq IS NULL), sum(d.round = 1 AND i.seq IS NOT NULL), (SELECT count(DISTINCT k) >= 3 FROM round_stats WHERE name = 'conformal_coverage') FROM (SELECT DISTINCT seq, round FROM draws) d LEFT JOIN intervals i USING (seq, round)")" = "(0, 0, 1)"
rc=$(kill_resume "$TMP/ck" "${WB[@]}" --seed 5)
check "kill -9 inside round 3, resumed: the uninterrupted ledger (CbAS refitted, pilot and draws the same bits)" \
  test "$rc" = 137 -a "$(md5sum < "$TMP/ck.json")" = "$(md5sum < "$TMP/c1.json")"

# The ar search distribution over 20^82 (a profile of the PDZ seed as the oracle): its draws
# and its cal half (each conditional at temperature 5) are rejected when they hold a gap.
CASE="weighted: cbas-ar over 20^82 (a PDZ profile as the oracle)"
PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
if need "$PDZ"; then
  "$BIN" fit -q --model profile -o "$TMP/pdz.prof" "$PDZ"
  polyA=$(printf 'A%.0s' $(seq 82))
  run_sl design run --ledger "$TMP/pz.db" --oracle "model:$TMP/pdz.prof" --start "$polyA" --prior "$TMP/pdz.prof" \
    --budget 49 --batch 16 --init-random 16 --rounds 100 --seed 1 --proposer cbas-ar --members 5 \
    --conformal weighted -o "$TMP/pz.csv"
  check "cbas-ar over 20^82 runs (exit $RC) to the budget; every designed sequence 82 of the 20 residues; an interval for every drawn sequence of rounds 2 and 3 (the refitted ar densities matched); the tempered cal density loses more mass to gaps (log Z below the query's, both < 0)" \
    /usr/bin/python3 -c "$DRAWS_PY
import re
assert $RC == 0
d = sqlite3.connect('$TMP/pz.db')
seqs = [s for (s,) in d.execute('SELECT seq FROM sequences WHERE origin = \"designed\"')]
assert len(seqs) == 48 and all(re.fullmatch('[ACDEFGHIKLMNPQRSTVWY]{82}', s) for s in seqs), seqs[:2]
miss = d.execute('SELECT count(*) FROM (SELECT DISTINCT seq, round FROM draws WHERE round >= 2) x LEFT JOIN intervals i USING (seq, round) WHERE i.seq IS NULL').fetchone()[0]
assert miss == 0, miss
for k, st, tot, cal, E, old, before in rounds('$TMP/pz.db'):
    assert tot == st['query_draws'] and old <= E, (k, st)
    if k >= 2: assert st['query_logz_cal'] < st['query_logz'] < 0, (k, st)
"
fi

CASE="table oracle with symbols= (a binary landscape)"
printf 's,v\n000,0.1\n001,0.2\n010,0.3\n011,0.4\n100,0.5\n101,0.6\n110,0.7\n111,0.9\n' > "$TMP/bin.csv"
run_sl design oracle --oracle "table:$TMP/bin.csv,seq=s,value=v,symbols=01" -o "$TMP/bin.json"
check "design oracle: L 3, symbols 01, optimum 0.9 at 111 (exit $RC)" \
  test "$RC" = 0 -a "$(json_get "$TMP/bin.json" "(d['L'], d['symbols'], d['optimum'], d['optimum_sequence'])")" = "(3, '01', 0.9, '111')"
expect_error 2 "symbols=001: '0' is repeated" design oracle --oracle "table:$TMP/bin.csv,seq=s,value=v,symbols=001"
expect_error 2 "symbols=0: expected 2..62 characters" design oracle --oracle "table:$TMP/bin.csv,seq=s,value=v,symbols=0"
printf 's,v\n000,0.1\n021,0.2\n' > "$TMP/bad.csv"
expect_error 1 "bad.csv line 3: .*'2'" design oracle --oracle "table:$TMP/bad.csv,seq=s,value=v,symbols=01"

CASE="weighted: Poelwijk 2019 (2^13 genotypes, blue brightness)"
PW=$DATA/poelwijk2019/supp_data_3.csv
if need "$PW"; then
  # genotype and combined blue brightness, as bench/design_poelwijk.sh uses
  /usr/bin/python3 tools/poelwijk_table.py "$PW" "$TMP/pw.csv"
  run_sl design run --ledger "$TMP/pw.db" --oracle "table:$TMP/pw.csv,seq=genotype,value=brightness,symbols=01" \
    --start 0000000000000 --budget 193 --rounds 100 --seed 2 --init-random 48 --batch 48 --proposer all --pairwise \
    --conformal weighted -o "$TMP/pw.out"
  check "the campaign runs (exit $RC) on the 8,192 genotypes; rounds 2.. record coverage and bounded widths" \
    /usr/bin/python3 -c "
import csv
r = [x for x in csv.DictReader(open('$TMP/pw.out')) if int(x['round']) >= 2 and x['conformal_coverage']]
assert $RC == 0 and len(r) >= 2 and all(0 < float(x['conformal_coverage']) <= 1 for x in r), r
assert any(x['conformal_width'] for x in r), r
"
fi

CASE="weighted: GB1 in ALDE's protocol"
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
if need "$GB1"; then
  run_sl design run --ledger "$TMP/g.db" --oracle "table:$GB1" --start VDGV --budget 193 --rounds 100 --seed 1 \
    --init-random 48 --batch 48 --proposer all --acquisition ucb --pairwise --conformal weighted -o "$TMP/g.csv"
  check "the campaign runs (exit $RC) over the 160,000 variants to the budget" \
    awk -F, -v rc="$RC" 'END { exit !(rc == 0 && $2 >= 193 && $2 <= 230) }' "$TMP/g.csv"
  check "round 2's support is the space less the 24 sequences of round 1 that trained (and the start)" \
    /usr/bin/python3 -c "
import sqlite3
d = sqlite3.connect('$TMP/g.db')
trained = d.execute('SELECT count(DISTINCT seq) FROM draws WHERE round = 1 AND part = \"train\"').fetchone()[0]
sup = d.execute('SELECT value FROM round_stats WHERE k = 2 AND name = \"query_support\"').fetchone()[0]
assert sup == 160000 - 1 - trained, (sup, trained)
"
  check "rounds 2.. have intervals; realised coverage and width recorded" \
    /usr/bin/python3 -c "
import csv
r = [x for x in csv.DictReader(open('$TMP/g.csv')) if int(x['round']) >= 2 and x['conformal_coverage']]
assert len(r) >= 2 and all(0 <= float(x['conformal_coverage']) <= 1 for x in r), r
"
  # The proposers' own densities on GB1 (normalised over the 160,000 variants by enumeration).
  CASE="weighted: GB1 with CbAS's ar search distribution (--proposer cbas-ar)"
  run_sl design run --ledger "$TMP/gc.db" --oracle "table:$GB1" --start VDGV --budget 145 --rounds 100 --seed 2 \
    --init-random 48 --batch 48 --proposer cbas-ar --acquisition ucb --pairwise --conformal weighted -o "$TMP/gc.csv"
  # rounds 2 and 3 refit round k-1's ar search distribution and check it against the stored log q
  check "cbas-ar runs (exit $RC) to the budget; an interval for every drawn sequence of rounds 2 and 3 (the refitted densities matched)" \
    test "$RC" = 0 -a "$(sql "$TMP/gc.db" "SELECT sum(d.round >= 2 AND i.seq IS NULL), count(DISTINCT d.round), max(d.round) FROM (SELECT DISTINCT seq, round FROM draws) d LEFT JOIN intervals i USING (seq, round)")" = "(0, 3, 3)"
  CASE="weighted: GB1 with prior samples tilted by the acquisition (--proposer prior)"
  GA=$DATA/gb1/SPG1_STRSG_full_11-26-2021_b07.a2m
  if need "$GA"; then
    "$BIN" fit -q --model profile --nonstandard gap --focus-first -o "$TMP/gb1.prof" "$GA"
    run_sl design run --ledger "$TMP/gp.db" --oracle "table:$GB1" --start VDGV --budget 145 --rounds 100 --seed 1 \
      --batch 48 --proposer prior --prior "$TMP/gb1.prof" --prior-sites 265,266,267,280 --acquisition ucb \
      --conformal weighted -o "$TMP/gp.csv"
    check "prior runs (exit $RC) to the budget with intervals from round 2" \
      test "$RC" = 0 -a "$(sql "$TMP/gp.db" "SELECT sum(d.round >= 2 AND i.seq IS NULL), max(d.round) >= 3 FROM (SELECT DISTINCT seq, round FROM draws) d LEFT JOIN intervals i USING (seq, round)")" = "(0, 1)"
    # Round 1 has no predictor: both parts draw from the profile itself, so log q differs
    # between two draws exactly as the profile's log P does under `seqloop score`.
    /usr/bin/python3 -c "
import sqlite3, sys
pos = [265, 266, 267, 280]
rows = sqlite3.connect(sys.argv[1]).execute('SELECT s.seq, d.logq, d.part FROM draws d JOIN sequences s ON s.id = d.seq WHERE d.round = 1 ORDER BY d.seq, d.part').fetchall()
with open(sys.argv[2], 'w') as f:
    f.write('mutant,logq,part\\n')
    for s, lq, part in rows:
        m = ':'.join('%s%d%s' % (w, p, v) for w, p, v in zip('VDGV', pos, s) if v != w)
        f.write('%s,%.17g,%s\\n' % (m, lq, part))
" "$TMP/gp.db" "$TMP/gp_r1.csv"
    "$BIN" score -q -m "$TMP/gb1.prof" -o "$TMP/gp_r1_score.csv" "$TMP/gp_r1.csv"
    check "round 1 draws from the profile: log q - log P (seqloop score, 6 decimals) is one constant over its draws, both parts" \
      /usr/bin/python3 -c "
import pandas as pd
d = pd.read_csv('$TMP/gp_r1_score.csv')
diff = d['logq'] - d[d.columns[-1]]
assert len(d) >= 30 and set(d['part']) == {'train', 'cal'} and diff.max() - diff.min() < 1e-5, (len(d), diff.describe())  # score: 6 decimals
"
  fi
fi
finish
