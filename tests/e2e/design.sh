# tests/e2e/design.sh: the design loop and its ledger end to end: determinism,
# kill -9 and resume, the lab round trip (propose/ingest) with a catalogue of
# bad results files, oracle failures, and a GB1 four-site campaign.
. "$(dirname "$0")/lib.sh"

EH="ehrlich:v=8,c=2,k=3,L=12,q=3,seed=4"
# The whole ledger as one JSON document (it names no path, so exports of one
# campaign run in two directories compare equal), and one table as CSV.
export_of() { "$BIN" ledger export --ledger "$1" --json -o "$2"; }
table_of() { "$BIN" ledger export --ledger "$1" --table "$2"; }

# ---- the option table: -h, --version, --options-json, errors naming the option ------
for cmd in "design run" "design propose" "design ingest" "design oracle" "ledger export"; do
  CASE="$cmd"
  # shellcheck disable=SC2086
  "$BIN" $cmd -h > "$TMP/h" 2> "$TMP/err"; RC=$?
  check "$CASE -h: exit 0, usage first, -t listed" bash -c '[ "$1" -eq 0 ] && head -1 "$2" | grep -q "^usage: seqloop " && grep -q -- "-t, --threads N" "$2"' _ "$RC" "$TMP/h"
  # shellcheck disable=SC2086
  check "$CASE --version prints the version" test "$("$BIN" $cmd --version)" = "$("$BIN" --version)"
  # shellcheck disable=SC2086
  "$BIN" $cmd --options-json > "$TMP/oj" 2>&1
  check "$CASE --options-json: a table with threads, help and typed entries" \
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n={o["name"]: o for o in d["options"]}
assert n["threads"]["type"] == "int" and n["help"]["type"] == "builtin" and "ledger" in n' "$TMP/oj"
done
check "design -h: the live defaults (--batch 8, --candidates 1000, --proposer mutate, --rounds' rule)" \
  bash -c 'h=$("$1" design -h); grep -Eq -- "--batch N .*\(default 8\)" <<< "$h" && grep -Eq -- "--candidates N .*\(default 1000\)" <<< "$h" &&
    grep -Eq -- "--proposer P" <<< "$h" && grep -q "(default mutate)" <<< "$h" && grep -q "(default 10; none with --budget alone)" <<< "$h"' _ "$BIN"
CASE="design --batch abc"; expect_error 2 "^seqloop design: --batch: expected an integer in \[1, 1000000\], not 'abc'$" design run --ledger "$TMP/never.db" --batch abc
check "a bad option creates no ledger" test ! -e "$TMP/never.db"
CASE="design --proposer nosuch"; expect_error 2 "^seqloop design: --proposer: expected .*mutate.*cbas-ar.*not 'nosuch'" design run --ledger "$TMP/never.db" --proposer nosuch
CASE="ledger export --table"; expect_error 2 "--table: needs a value \\(NAME\\)" ledger export --ledger "$TMP/never.db" --table

CASE="ehrlich oracle"
run_sl design oracle --oracle "$EH" -o "$TMP/eh.json"
check "design oracle describes an Ehrlich instance with optimum 1" \
  test "$(json_get "$TMP/eh.json" "d['optimum'] == 1")" = "True"
check "the described optimum sequence has length L = 12" \
  test "$(json_get "$TMP/eh.json" "len(d['optimum_sequence'])")" = "12"

CASE="same seed, same ledger"
# Each campaign runs in its own directory with the same ledger name, so the
# recorded command lines agree too and whole exports can be compared.
mkdir -p "$TMP/a" "$TMP/b" "$TMP/c" "$TMP/k" "$TMP/xr" "$TMP/x"
# (exec: the subshell becomes seqloop, so a kill reaches seqloop itself.)
design_in() { local d=$1; shift; (cd "$TMP/$d" && exec "$BIN" design run -q --ledger l.db "$@" -o rounds.csv); }
design_in a --oracle "$EH" --rounds 6 --batch 4 --seed 3 --conformal jab
design_in b --oracle "$EH" --rounds 6 --batch 4 --seed 3 --conformal jab
export_of "$TMP/a/l.db" "$TMP/a.csv"; export_of "$TMP/b/l.db" "$TMP/b.csv"
check "two runs with one seed export identical ledgers" cmp -s "$TMP/a.csv" "$TMP/b.csv"
check "the export has 25 measurements (1 start + 6 rounds x 4)" \
  test "$(table_of "$TMP/a/l.db" measurements | tail -n +2 | wc -l)" = 25
check "the round table has rounds 0..6" test "$(grep -c '^[0-9]' "$TMP/a/rounds.csv")" = 7
design_in c --oracle "$EH" --rounds 6 --batch 4 --seed 4
export_of "$TMP/c/l.db" "$TMP/c.csv"
check "another seed gives another ledger" test "$(md5sum < "$TMP/a.csv")" != "$(md5sum < "$TMP/c.csv")"

CASE="kill -9 inside a round, then resume"
SEQLOOP_TEST_CRASH_ROUND=3 design_in k --oracle "$EH" --rounds 6 --batch 4 --seed 3 --conformal jab 2>/dev/null; rc=$?
check "the run died by SIGKILL (status $rc)" test "$rc" = 137
export_of "$TMP/k/l.db" "$TMP/k_mid.csv"
check "after the kill the ledger holds rounds 0..2 only (round 3 rolled back)" \
  test "$(table_of "$TMP/k/l.db" rounds | tail -n +2 | cut -d, -f2 | tr '\n' ' ')" = "0 1 2 "
design_in k
export_of "$TMP/k/l.db" "$TMP/k.csv"
check "resumed with only --ledger: identical export to the uninterrupted run" cmp -s "$TMP/a.csv" "$TMP/k.csv"
nint=$(table_of "$TMP/a/l.db" intervals | tail -n +2 | wc -l)
check "that export holds a conformal interval for every prediction ($nint), intervals included in the comparison" \
  test "$nint" = "$(table_of "$TMP/a/l.db" predictions | tail -n +2 | wc -l)" -a "$nint" -gt 0
check "rounds with intervals record their realised coverage and width" \
  test "$(table_of "$TMP/a/l.db" round_stats | grep -c ',conformal_coverage,')" -ge 4

CASE="oracle noise"
mkdir -p "$TMP/n1" "$TMP/n2" "$TMP/n0"
design_in n0 --oracle "$EH" --rounds 1 --batch 40 --seed 5
design_in n1 --oracle "$EH" --rounds 4 --batch 40 --seed 5 --oracle-noise 0.1 --conformal jab
SEQLOOP_TEST_CRASH_ROUND=2 design_in n2 --oracle "$EH" --rounds 4 --batch 40 --seed 5 --oracle-noise 0.1 --conformal jab 2>/dev/null
design_in n2
export_of "$TMP/n1/l.db" "$TMP/n1.json"; export_of "$TMP/n2/l.db" "$TMP/n2.json"
check "a noisy campaign killed inside round 2 and resumed: identical export (same noise draws)" cmp -s "$TMP/n1.json" "$TMP/n2.json"
noise=$(/usr/bin/python3 - "$TMP/n0/l.db" "$TMP/n1/l.db" <<'PY'
import sqlite3, sys, statistics
def vals(p):
    db = sqlite3.connect(p)
    return dict(db.execute("SELECT s.seq, m.value FROM measurements m JOIN sequences s ON s.id = m.seq WHERE m.round = 1"))
a, b = vals(sys.argv[1]), vals(sys.argv[2])
d = [b[k] - a[k] for k in a if k in b]
print(len(d), round(statistics.mean(d), 3), round(statistics.stdev(d), 3))
PY
)
check "round 1 (no model yet) measures the same 40 sequences, each off by N(0, 0.1^2): n, mean, sd = $noise" \
  awk -v s="$noise" 'BEGIN{split(s, a, " "); exit !(a[1] == 40 && a[2] > -0.05 && a[2] < 0.05 && a[3] > 0.07 && a[3] < 0.13)}'

CASE="real kill -9 from outside, at an arbitrary moment"
cat > "$TMP/slow.py" <<'EOF'
import json, sys, time
for line in sys.stdin:
    seqs = json.loads(line)["sequences"]
    time.sleep(0.05)
    try:
        print(json.dumps({"values": [float(s.count("A") + 2 * s.count("W") - s.count("P")) for s in seqs]}), flush=True)
    except BrokenPipeError:  # seqloop was killed: nobody is listening
        sys.exit(0)
EOF
EXT="external:/usr/bin/python3 $TMP/slow.py"
design_in xr --oracle "$EXT" --start MKTAYIAKQR --rounds 8 --batch 3 --seed 9 --conformal recent
design_in x --oracle "$EXT" --start MKTAYIAKQR --rounds 8 --batch 3 --seed 9 --conformal recent &
pid=$!
sleep 0.35
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
export_of "$TMP/x/l.db" "$TMP/x_mid.csv"
ndone=$(table_of "$TMP/x/l.db" rounds | grep -c ',done,')
check "the kill came mid-campaign ($ndone of 9 rounds committed)" test "$ndone" -lt 9
design_in x --trust-ledger-oracle  # the stored oracle is an external command (issue 18)
export_of "$TMP/xr/l.db" "$TMP/x_ref.csv"; export_of "$TMP/x/l.db" "$TMP/x.csv"
check "killed with SIGKILL mid-campaign and resumed: identical export" cmp -s "$TMP/x_ref.csv" "$TMP/x.csv"

CASE="every acquisition and proposer with a predictor"
for acq in greedy ucb ei thompson; do
  for prop in mutate ga; do
    run_sl design run --ledger "$TMP/acq-$acq-$prop.db" --oracle "$EH" --rounds 4 --batch 4 --acquisition $acq \
      --proposer $prop --pairwise --min-distance 2 -o "$TMP/acq.csv"
    np=$(table_of "$TMP/acq-$acq-$prop.db" predictions | tail -n +2 | wc -l)
    check "$acq + $prop (+ pairwise features): 4 rounds, predictions recorded for rounds 2-4 ($np)" \
      test "$RC" = 0 -a "$np" = 12
  done
done

CASE="--descriptors (residue descriptors) on a non-protein oracle"
expect_error 2 "residue descriptors need a protein alphabet; symbol '0' of the oracle's '01234567' is not one of the 20 amino acids" \
  design run --ledger "$TMP/desc.db" --oracle "$EH" --rounds 3 --batch 4 --descriptors 1
check "a check that needs the oracle refuses before the ledger file exists" test ! -e "$TMP/desc.db"

CASE="resume with other options"
expect_error 2 "other options.*--batch: the ledger's run used 4, this command line says 5" \
  design run --ledger "$TMP/a/l.db" --oracle "$EH" --batch 5 --seed 3
check "the refusal names the option, not two JSON dumps" test -z "$(grep -F '{' "$TMP/err")"
expect_error 2 "--seed: the ledger's run used 3, this command line says 1; --batch: the ledger's run used 4, this command line says 8; --pairwise: the ledger's run did not use it, this command line does" \
  design run --ledger "$TMP/a/l.db" --oracle "$EH" --pairwise
expect_error 2 "--oracle: the ledger's run used '$EH', this command line says 'ehrlich:v=8,c=2,k=3,L=12,q=3,seed=5'" \
  design run --ledger "$TMP/a/l.db" --oracle "ehrlich:v=8,c=2,k=3,L=12,q=3,seed=5" --batch 4 --seed 3
run_sl design run -q --ledger "$TMP/a/l.db" --oracle "$EH" --batch 4 --seed 3 --conformal jab --rounds 6 -o "$TMP/a_again.csv"
check "the same options (and other limits) resume without complaint (exit $RC)" test "$RC" = 0

# ---- limits: --budget alone, --rounds alone, both ----------------------------------
CASE="--budget alone runs until the budget is spent"
# 1 + 15 x 4 = 61 measurements take 15 rounds: more than the 10 of --rounds' default.
run_sl design run --ledger "$TMP/bud.db" --oracle "$EH" --budget 61 --batch 4 -o "$TMP/bud.csv"
check "--budget 61 --batch 4 (no --rounds): 61 measurements in rounds 0..15 ($(tail -1 "$TMP/bud.csv" | cut -d, -f1,2))" \
  test "$(tail -1 "$TMP/bud.csv" | cut -d, -f1,2)" = "15,61"
check "stderr says the budget ended it" grep -q "stopped: --budget 61 reached (61 measurements) at round 15$" "$TMP/err"
check "the stored options say: no round limit" \
  test "$(json_get <("$BIN" ledger export --ledger "$TMP/bud.db" --json) "d['runs'][0]['options']['rounds']")" = None
run_sl design run --ledger "$TMP/bud.db" --budget 70 -o "$TMP/bud2.csv"
check "resumed with a larger --budget alone: on to 70 measurements" test "$(tail -1 "$TMP/bud2.csv" | cut -d, -f2)" = 70
CASE="--rounds before --budget"
run_sl design run --ledger "$TMP/rb.db" --oracle "$EH" --budget 61 --rounds 5 --batch 4 -o "$TMP/rb.csv"
check "--rounds 5 --budget 61: 21 measurements" test "$(tail -1 "$TMP/rb.csv" | cut -d, -f1,2)" = "5,21"
check "stderr names --rounds as the limit reached first" \
  grep -q "stopped: --rounds 5 reached (21 measurements), before --budget 61 was spent" "$TMP/err"
CASE="--budget before --rounds"
run_sl design run --ledger "$TMP/br.db" --oracle "$EH" --budget 15 --rounds 20 --batch 4 -o "$TMP/br.csv"
check "--budget 15 --rounds 20: 15 measurements (the last batch shrunk to 2)" test "$(tail -1 "$TMP/br.csv" | cut -d, -f1,2)" = "4,15"
check "stderr names --budget as the limit reached first" \
  grep -q "stopped: --budget 15 reached (15 measurements) at round 4, before the --rounds limit" "$TMP/err"
CASE="design takes -t"
run_sl design run -t 3 -q --ledger "$TMP/t3.db" --oracle "$EH" --rounds 2 --batch 4 --seed 3 -o "$TMP/t3.csv"
check "design run -t 3 runs (exit $RC; the loop is single-threaded, the ledger is the same as without -t)" \
  test "$RC" = 0 -a "$(sed -n 3p "$TMP/t3.csv")" = "$(sed -n 3p "$TMP/a/rounds.csv")"
CASE="neither: 10 rounds"
run_sl design run --ledger "$TMP/nn.db" --oracle "$EH" --batch 2 -o "$TMP/nn.csv"
check "no limit given: rounds 0..10 (21 measurements)" test "$(tail -1 "$TMP/nn.csv" | cut -d, -f1,2)" = "10,21"
# ---- --proposer all: every unmeasured sequence of a small design space ------------
CASE="--proposer all"
ES="ehrlich:v=4,c=2,k=2,L=6,q=2,seed=1" # 4^6 = 4,096 sequences
run_sl design run --ledger "$TMP/pa.db" --oracle "$ES" --proposer all --max-edits 1 --batch 8 --budget 40 \
  --rounds 100 -o "$TMP/pa.csv"
# The Hamming ball of radius 1 around the start holds 1 + 6 x 3 = 19 sequences:
# all of them are measured, each once, and then nothing new passes the filter.
check "all + --max-edits 1: the whole ball of 19 measured in rounds 0..3 ($(tail -1 "$TMP/pa.csv" | cut -d, -f1,2))" \
  test "$(tail -1 "$TMP/pa.csv" | cut -d, -f1,2)" = "3,19"
check "all: 19 distinct sequences, each within 1 edit of the start" \
  test "$(/usr/bin/python3 -c "
import sqlite3
d = sqlite3.connect('$TMP/pa.db'); s = [r[0] for r in d.execute('SELECT seq FROM sequences ORDER BY id')]; st = s[0]
print(len(s), len(set(s)), max(sum(a != b for a, b in zip(x, st)) for x in s))")" = "19 19 1"
check "all: every round generated the whole space (4,096) and accepted 18/4,095 in round 1" \
  test "$(table_of "$TMP/pa.db" round_stats | awk -F, '$3 == "generated" && $2 >= 1 {print $4}' | sort -u)" = 4096 -a \
  "$(table_of "$TMP/pa.db" round_stats | awk -F, '$2 == 1 && $3 == "acceptance" {printf "%.9f", $4}')" = "$(awk 'BEGIN{printf "%.9f", 18/4095}')"
check "stderr says the campaign is stuck: nothing new passes the filters" grep -q "no new candidate passed the filters" "$TMP/err"
# With a model: the same seed gives the same ledger for 1 and 2 threads (the
# exports compared without the recorded command line, which names -t).
for t in 1 2; do
  mkdir -p "$TMP/pall$t"
  (cd "$TMP/pall$t" && exec "$BIN" design run -q -t $t --ledger l.db --oracle "$ES" --proposer all --pairwise \
    --acquisition thompson --init-random 8 --batch 8 --budget 33 --rounds 100 --seed 5 -o rounds.csv)
  export_of "$TMP/pall$t/l.db" "$TMP/pall$t.export"
done
check "all + thompson: 33 measurements, the same ledger with -t 1 and -t 2" \
  test "$(tail -1 "$TMP/pall1/rounds.csv" | cut -d, -f2)" = 33 -a -s "$TMP/pall1.export" -a \
  "$(grep -v '"cmdline"' "$TMP/pall1.export" | md5sum)" = "$(grep -v '"cmdline"' "$TMP/pall2.export" | md5sum)"
# kill -9 inside round 3 of the 1-thread campaign above, then resume with --ledger alone
mkdir -p "$TMP/pallk"
(cd "$TMP/pallk" && SEQLOOP_TEST_CRASH_ROUND=3 exec "$BIN" design run -q -t 1 --ledger l.db --oracle "$ES" --proposer all \
  --pairwise --acquisition thompson --init-random 8 --batch 8 --budget 33 --rounds 100 --seed 5 -o rounds.csv) 2>/dev/null
rc=$?
(cd "$TMP/pallk" && exec "$BIN" design run -q -t 1 --ledger l.db -o rounds.csv)
export_of "$TMP/pallk/l.db" "$TMP/pallk.export"
check "all + thompson killed by SIGKILL in round 3 (status $rc) and resumed: identical export" \
  test "$rc" = 137 -a "$(grep -v '"cmdline"' "$TMP/pallk.export" | md5sum)" = "$(grep -v '"cmdline"' "$TMP/pall1.export" | md5sum)"
expect_error 2 "--proposer all needs a design space of at most 4194304 sequences \\(this one has 4\\^32\\)" \
  design run --ledger "$TMP/pbig.db" --oracle "ehrlich:v=4,c=4,k=4,L=32,q=4,seed=1" --proposer all --rounds 1

CASE="unknown oracle"; expect_error 2 "expected ehrlich" design run --ledger "$TMP/u.db" --oracle "nosuch:1"
CASE="bad ehrlich parameter"; expect_error 2 "unknown parameter 'z'" design oracle --oracle "ehrlich:z=3"

# ---- oracle failures ----------------------------------------------------------
CASE="external oracle crashes"
expect_error 1 "exited with status 3 without answering" design run --ledger "$TMP/o1.db" --start ACDE \
  --oracle "external:read l; exit 3"
CASE="external oracle hangs"
expect_error 1 "no answer within 1 s" design run --ledger "$TMP/o2.db" --start ACDE --oracle-timeout 1 \
  --oracle "external:sleep 30"
CASE="external oracle answers garbage"
expect_error 1 "expected a line .*got 'hello'" design run --ledger "$TMP/o3.db" --start ACDE \
  --oracle "external:read l; echo hello; sleep 5"
CASE="external oracle answers the wrong count"
expect_error 1 "2 values for 1 sequences" design run --ledger "$TMP/o4.db" --start ACDE \
  --oracle "external:read l; echo '{\"values\": [1, 2]}'; sleep 5"
CASE="external oracle answers a string"
expect_error 1 "value 1 is not a finite number" design run --ledger "$TMP/o5.db" --start ACDE \
  --oracle "external:read l; echo '{\"values\": [\"x\"]}'; sleep 5"
check "a failed oracle in round 0 leaves no run behind" \
  test "$(table_of "$TMP/o1.db" runs | wc -l)" = 1

# ---- the lab: propose, ingest, and a catalogue of bad results -------------------
CASE="lab round trip"
"$BIN" design propose -q --ledger "$TMP/lab.db" --oracle lab --start MKTAYIAKQR --batch 4 --seed 2 -o "$TMP/batch0.csv"
check "the first proposal is round 0: the start alone, the header on line 1 (no '#' lines)" \
  test "$(tail -n +2 "$TMP/batch0.csv" | cut -d, -f1,2)" = "0,MKTAYIAKQR" -a "$(head -1 "$TMP/batch0.csv")" = "round,sequence,predicted_mean,predicted_sd,value"
check "its provenance is a JSON sidecar naming the ledger and the round" \
  test "$(json_get "$TMP/batch0.csv.prov.json" "(d['extra']['ledger'] == '$TMP/lab.db', d['extra']['round'], d['command'])")" = "(True, 0, 'design')"
CASE="propose before ingest"; expect_error 2 "awaits measurements" design propose --ledger "$TMP/lab.db" -o "$TMP/batch_again.csv"
printf 'sequence,value\nMKTAYIAKQR,1.0\n' > "$TMP/res0.csv"
run_sl design ingest --ledger "$TMP/lab.db" "$TMP/res0.csv"
check "ingest of round 0 (the start) succeeds (exit $RC)" test "$RC" = 0
"$BIN" design propose -q --ledger "$TMP/lab.db" -o "$TMP/batch1.csv"
check "round 1: 4 proposals" test "$(grep -c '^1,' "$TMP/batch1.csv")" = 4
grep -v '^#' "$TMP/batch1.csv" | awk -F, 'NR==1{print "sequence,value"; next} {print $2 "," (NR * 0.5)}' > "$TMP/res1.csv"
export_of "$TMP/lab.db" "$TMP/lab0.csv"
bad() { # bad NAME PATTERN CONTENT: ingest must fail with PATTERN and change nothing
  printf '%b' "$3" > "$TMP/bad.csv"
  CASE="bad results: $1"; expect_error 1 "$2" design ingest --ledger "$TMP/lab.db" "$TMP/bad.csv"
  export_of "$TMP/lab.db" "$TMP/lab_after.csv"
  check "bad results: $1: ledger unchanged" cmp -s "$TMP/lab0.csv" "$TMP/lab_after.csv"
}
S1=$(sed -n 2p "$TMP/res1.csv" | cut -d, -f1); S2=$(sed -n 3p "$TMP/res1.csv" | cut -d, -f1)
bad "no value column" "expected columns 'sequence' and 'value'" "sequence,fitness\n$S1,1\n"
bad "value not a number" "line 3: value 'high' is not a finite number" "sequence,value\n$S1,1\n$S2,high\n"
bad "value NaN" "value 'nan' is not a finite number" "sequence,value\n$S1,nan\n"
bad "value inf" "value 'inf' is not a finite number" "sequence,value\n$S1,inf\n"
bad "empty value" "value '' is not a finite number" "sequence,value\n$S1,\n"
bad "trailing junk after the number" "value '1.5x' is not a finite number" "sequence,value\n$S1,1.5x\n"
bad "wrong length" "line 2: sequence 'MKT' has length 3" "sequence,value\nMKT,1\n"
bad "bad symbol" "symbol 'Z' at position 1" "sequence,value\nZKTAYIAKQR,1\n"
bad "repeated sequence" "line 3: sequence $S1 is repeated" "sequence,value\n$S1,1\n$S1,2\n"
bad "never proposed" "was never proposed.*nothing was recorded" "sequence,value\n$S1,1\nWWWWWWWWWW,2\n"
bad "the start, measured in round 0" "not proposed in the open round 1" "sequence,value\n$S1,1\nMKTAYIAKQR,1\n"
bad "ragged row" "line 2" "sequence,value\n$S1,1,3\n"
bad "empty file" "." ""
bad "header only" "no results" "sequence,value\n"
run_sl design ingest --ledger "$TMP/lab.db" "$TMP/res1.csv"
check "ingest of the filled batch succeeds (exit $RC)" test "$RC" = 0
export_of "$TMP/lab.db" "$TMP/lab1.csv"
CASE="duplicate ingest"; expect_error 2 "not awaiting measurements" design ingest --ledger "$TMP/lab.db" "$TMP/res1.csv"
export_of "$TMP/lab.db" "$TMP/lab1b.csv"
check "a repeated ingest leaves the ledger unchanged" cmp -s "$TMP/lab1.csv" "$TMP/lab1b.csv"
"$BIN" design propose -q --ledger "$TMP/lab.db" -o "$TMP/batch2.csv"
check "the next proposal is round 2 and avoids measured sequences" \
  test "$(grep -c '^2,' "$TMP/batch2.csv")" = 4 -a -z "$(grep '^2,' "$TMP/batch2.csv" | cut -d, -f2 | grep -xFf <(tail -n +2 "$TMP/res1.csv" | cut -d, -f1))"
check "round 2 carries predictions (mean and sd)" \
  awk -F, '/^2,/{ if ($3 == "" || $4 == "") bad = 1 } END { exit bad }' "$TMP/batch2.csv"
# A round-1 sequence in round 2's results is refused: it would be counted twice.
{ echo "sequence,value"; sed -n 2p "$TMP/res1.csv"; } > "$TMP/dup.csv"
export_of "$TMP/lab.db" "$TMP/lab2.csv"
CASE="a sequence measured in an earlier round"; expect_error 1 "not proposed in the open round 2" design ingest --ledger "$TMP/lab.db" "$TMP/dup.csv"
export_of "$TMP/lab.db" "$TMP/lab2b.csv"
check "refused, ledger unchanged" cmp -s "$TMP/lab2.csv" "$TMP/lab2b.csv"

CASE="ledger export: one CSV per table"
"$BIN" ledger export --ledger "$TMP/lab.db" -o "$TMP/exp"
check "eight files PREFIX.TABLE.csv" test "$(ls "$TMP"/exp.*.csv | wc -l)" = 8
cat > "$TMP/readall.py" <<'EOF'
import json, sys
import pandas as pd
prefix, js = sys.argv[1], json.load(open(sys.argv[2]))
for t in ["runs", "rounds", "sequences", "predictions", "measurements", "round_stats", "intervals", "draws"]:
    df = pd.read_csv(f"{prefix}.{t}.csv")  # no options
    assert len(df) == len(js[t]), (t, len(df), len(js[t]))
    if len(js[t]): assert list(df.columns) == list(js[t][0].keys()), (t, list(df.columns))
    print(t, len(df))
m = pd.read_csv(f"{prefix}.measurements.csv")
r = pd.read_csv(f"{prefix}.runs.csv")
print("values", ",".join(f"{v:g}" for v in m["value"]), "options", json.loads(r["options"][0])["batch"])
EOF
"$BIN" ledger export --ledger "$TMP/lab.db" --json -o "$TMP/exp.json"
/usr/bin/python3 "$TMP/readall.py" "$TMP/exp" "$TMP/exp.json" > "$TMP/readall.out" 2>&1
check "pandas.read_csv reads every table with no options; rows and columns as in the JSON export: $(head -8 "$TMP/readall.out" | tr '\n' ' ')" \
  test "$(head -8 "$TMP/readall.out" | tr '\n' ' ')" = "runs 1 rounds 3 sequences 9 predictions 4 measurements 5 round_stats 27 intervals 0 draws 0 "
check "the measurements and the stored options (a JSON cell) read back: $(tail -1 "$TMP/readall.out")" \
  test "$(tail -1 "$TMP/readall.out")" = "values 1,1,1.5,2,2.5 options 4"
"$BIN" ledger export --ledger "$TMP/lab.db" -o "$TMP/exp2.csv"
check "-o PREFIX.csv drops the .csv: exp2.runs.csv" test -s "$TMP/exp2.runs.csv" -a ! -e "$TMP/exp2.csv.runs.csv"
check "the same tables either way" cmp -s "$TMP/exp.rounds.csv" "$TMP/exp2.rounds.csv"
check "the export's provenance: PREFIX.prov.json names the eight files and the ledger's SHA-256" \
  test "$(json_get "$TMP/exp.prov.json" "(len(d['extra']['files']), d['extra']['files'][0].endswith('exp.runs.csv'), d['inputs'][0]['role'], len(d['inputs'][0]['sha256']))")" = "(8, True, 'ledger', 64)"
run_sl ledger export -t 2 --ledger "$TMP/lab.db" --table rounds -o "$TMP/exp_t.csv"
check "ledger export takes -t (exit $RC) and --table writes one table" cmp -s "$TMP/exp_t.csv" "$TMP/exp.rounds.csv"
CASE="ledger export CSV to stdout"; expect_error 2 "every table's CSV needs -o PREFIX" ledger export --ledger "$TMP/lab.db"
CASE="ledger export of an unknown table"; expect_error 2 "no table 'nosuch'" ledger export --ledger "$TMP/lab.db" --table nosuch

CASE="ledger export JSON"
"$BIN" ledger export --ledger "$TMP/lab.db" --json -o "$TMP/lab.json"
check "JSON export: schema 5, 5 measurements (start + round 1), none NULL" \
  test "$(json_get "$TMP/lab.json" "(d['schema_version'], len(d['measurements']), sum(m['value'] is None for m in d['measurements']))")" = "(5, 5, 0)"
CASE="export of a missing ledger"; expect_error 1 "cannot open the ledger" ledger export --ledger "$TMP/none.db" -o "$TMP/none"

# ---- a seqloop model as ground truth ----------------------------------------------
PDZ=$DATA/pfam_seeds_contacts/PF00595_seed_hmmalign_no_inserts.fasta
CASE="model oracle (a profile of the PDZ seed)"
if need "$PDZ"; then
  "$BIN" fit -q --model profile -o "$TMP/pdz.prof" "$PDZ"
  polyA=$(printf 'A%.0s' $(seq 82))
  run_sl design run --ledger "$TMP/m.db" --oracle "model:$TMP/pdz.prof" --start "$polyA" --budget 41 --batch 8 -o "$TMP/m.csv"
  first=$(grep '^0,' "$TMP/m.csv" | cut -d, -f3); last=$(tail -1 "$TMP/m.csv" | cut -d, -f3)
  check "model oracle: log P rises from the start ($first) to $last in 40 measurements" \
    awk -v a="$first" -v b="$last" 'BEGIN{exit !(a != "" && b > a + 1)}'
  CASE="prior as the proposal distribution"
  run_sl design run --ledger "$TMP/pp.db" --oracle "model:$TMP/pdz.prof" --start "$polyA" --prior "$TMP/pdz.prof" \
    --proposer prior --budget 17 --batch 8 -o "$TMP/pp.csv"
  first=$(grep '^0,' "$TMP/pp.csv" | cut -d, -f3); last=$(tail -1 "$TMP/pp.csv" | cut -d, -f3)
  plp=$(tail -1 "$TMP/pp.csv" | cut -d, -f7)
  check "--proposer prior: samples of the profile score far above poly-A ($first -> $last); mean prior log P of the batch ($plp) below the best" \
    awk -v a="$first" -v b="$last" -v p="$plp" 'BEGIN{exit !(a != "" && b > a + 50 && p < b)}'
  "$BIN" fit -q --model ar -o "$TMP/pdz.ar" "$PDZ"
  run_sl design run --ledger "$TMP/pa.db" --oracle "model:$TMP/pdz.prof" --start "$polyA" --prior "$TMP/pdz.ar" \
    --proposer prior --budget 9 --batch 8 -o "$TMP/pa.csv"
  acc=$(tail -1 "$TMP/pa.csv" | cut -d, -f10)
  check "--proposer prior with an ar prior: gapped samples rejected (acceptance $acc < 1)" \
    awk -v a="$acc" 'BEGIN{exit !(a != "" && a > 0 && a < 1)}'
  CASE="--proposer prior with a Potts prior"
  "$BIN" fit -q --model potts -m 5 -o "$TMP/pdz.potts" "$PDZ"
  expect_error 2 "needs a --prior that is a profile" design run --ledger "$TMP/pq.db" --oracle "model:$TMP/pdz.prof" \
    --start "$polyA" --prior "$TMP/pdz.potts" --proposer prior --budget 9
  CASE="CbAS within rounds"
  run_sl design run --ledger "$TMP/cb.db" --oracle "model:$TMP/pdz.prof" --start "$polyA" --prior "$TMP/pdz.prof" \
    --proposer cbas --budget 25 --batch 8 -o "$TMP/cb.csv"
  first=$(grep '^0,' "$TMP/cb.csv" | cut -d, -f3); last=$(tail -1 "$TMP/cb.csv" | cut -d, -f3)
  check "--proposer cbas: best log P rises from poly-A ($first) to $last" \
    awk -v a="$first" -v b="$last" 'BEGIN{exit !(a != "" && b > a + 50)}'
  expect_error 2 "cbas needs no prior or a profile" design run --ledger "$TMP/cq.db" --oracle "model:$TMP/pdz.prof" \
    --start "$polyA" --prior "$TMP/pdz.potts" --proposer cbas --budget 9
  CASE="model oracle with a wrong start length"; expect_error 1 "has length 3, expected 82" design run --ledger "$TMP/m2.db" \
    --oracle "model:$TMP/pdz.prof" --start AAA
fi

# ---- GB1 four-site landscape (Wu et al. 2016) ------------------------------------
GB1=$DATA/gb1/wu2016_four_site_fitness.DERIVED.csv
CASE="GB1 four-site campaign"
if need "$GB1"; then
  run_sl design run --ledger "$TMP/gb1.db" --oracle "table:$GB1" --start VDGV --budget 96 --batch 8 --rounds 100 \
    --seed 1 -o "$TMP/gb1_rounds.csv"
  check "GB1 campaign runs (exit $RC)" test "$RC" = 0
  last=$(tail -1 "$TMP/gb1_rounds.csv")
  n=$(echo "$last" | cut -d, -f2); best=$(echo "$last" | cut -d, -f3); regret=$(echo "$last" | cut -d, -f4)
  check "GB1: exactly 96 measurements used ($n)" test "$n" = 96
  check "GB1: the round table starts with its header (no '#' lines)" test "$(head -c 13 "$TMP/gb1_rounds.csv")" = "round,n_measu"
  check "GB1: the round table's sidecar records the table's SHA-256 and the ledger" \
    test "$(json_get "$TMP/gb1_rounds.csv.prov.json" "(d['inputs'][0]['role'], d['inputs'][0]['sha256'] == '$(sha256sum "$GB1" | cut -c1-64)', d['extra']['n_measured'])")" = "('oracle', True, 96)"
  check "GB1: best after 96 ($best) beats the wild type (1.0); regret against the max 8.76 ($regret)" \
    awk -v b="$best" -v r="$regret" 'BEGIN{exit !(b > 1.0 && (8.7620 - b - r)^2 < 1e-6)}'
  sha=$(sha256sum "$GB1" | cut -c1-64)
  check "GB1: the run records the table's SHA-256 among its inputs" \
    test "$("$BIN" ledger export --ledger "$TMP/gb1.db" --json | json_get /dev/stdin "d['runs'][0]['inputs']['$GB1']")" = "$sha"
  CASE="GB1 ALDE protocol with conformal intervals"
  run_sl design run --ledger "$TMP/galde.db" --oracle "table:$GB1" --start VDGV --budget 97 --rounds 100 --seed 1 \
    --init-random 24 --batch 24 --proposer mutate --acquisition ei --pairwise --conformal recent -o "$TMP/galde.csv"
  check "the campaign runs (exit $RC): rounds 0-4, round 1 is 24 random variants with no predictions" \
    test "$RC" = 0 -a "$(tail -1 "$TMP/galde.csv" | cut -d, -f1,2)" = "4,97" -a \
    "$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$TMP/galde.db').execute('SELECT count(*) FROM sequences s LEFT JOIN predictions p ON p.seq = s.id WHERE s.round = 1 AND p.seq IS NULL').fetchone()[0])")" = 24
  cw=$(awk -F, 'NR > 1 { printf "%s:%s:%s ", $1, $12, $13 }' "$TMP/galde.csv")
  check "recent: round 2 has no designed calibration data (unbounded intervals: coverage 1, no width); rounds 3-4 are bounded ($cw)" \
    /usr/bin/python3 -c "
import csv, sys
r = {int(x['round']): x for x in csv.DictReader(open('$TMP/galde.csv'))}
assert r[2]['conformal_coverage'] == '1' and r[2]['conformal_width'] == '', r[2]
for k in (3, 4): assert 0 <= float(r[k]['conformal_coverage']) <= 1 and float(r[k]['conformal_width']) > 0, r[k]
"
  check "an interval for each of the 72 predictions, unbounded exactly in round 2" \
    test "$(/usr/bin/python3 -c "import sqlite3; d = sqlite3.connect('$TMP/galde.db'); print(d.execute('SELECT count(*), sum(lower IS NULL AND round = 2), sum(lower IS NULL) FROM intervals WHERE method = \"recent\" AND alpha = 0.1').fetchone())")" = "(72, 24, 24)"
  # gb1_option_case NAME CASE FLAG VALUE OTHER KEY REF OPTION...: a GB1 campaign in ALDE's
  # protocol with OPTION... and FLAG VALUE runs to 97 measurements and stores KEY = VALUE among
  # its options; its round 1 is REF's random batch and its round-2 predictions differ from
  # REF's (REF: the same campaign without FLAG, which stores no KEY, so older ledgers resume
  # unchanged); resuming with FLAG OTHER is refused.
  gb1_option_case() {
    local name=$1 flag=$3 val=$4 other=$5 key=$6 ref=$7
    CASE=$2
    shift 7
    local base=(--oracle "table:$GB1" --start VDGV --rounds 100 --seed 1 --init-random 24 --batch 24
      --proposer mutate --acquisition ei --pairwise --conformal recent "$@")
    run_sl design run --ledger "$TMP/$name.db" "${base[@]}" "$flag" "$val" --budget 97 -o "$TMP/$name.csv"
    check "the campaign runs (exit $RC) to 97 measurements and stores $key $val among its options" \
      test "$RC" = 0 -a "$(tail -1 "$TMP/$name.csv" | cut -d, -f1,2)" = "4,97" -a \
      "$(/usr/bin/python3 -c "import sqlite3, json; print(json.loads(sqlite3.connect('$TMP/$name.db').execute('SELECT options FROM runs').fetchone()[0])['$key'])")" = "$val"
    local q='SELECT group_concat(mean) FROM (SELECT mean FROM predictions WHERE round = 2 ORDER BY seq)' pn pr
    pn=$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$TMP/$name.db').execute('$q').fetchone()[0])")
    pr=$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$TMP/$ref.db').execute('$q').fetchone()[0])")
    check "round 1 is the same random batch, round 2's predictions differ from those without $flag" \
      test -n "$pn" -a "$pn" != "$pr" -a "$(sed -n 2,3p "$TMP/$name.csv")" = "$(sed -n 2,3p "$TMP/$ref.csv")"
    check "a campaign without $flag stores no $key key (older ledgers resume unchanged)" \
      test "$(/usr/bin/python3 -c "import sqlite3, json; print('$key' in json.loads(sqlite3.connect('$TMP/$ref.db').execute('SELECT options FROM runs').fetchone()[0]))")" = False
    expect_error 2 "$flag: the ledger's run used $val, this command line says $other" \
      design run --ledger "$TMP/$name.db" "${base[@]}" "$flag" "$other" --budget 121
  }
  gb1_option_case gdesc "GB1 with residue descriptors (--descriptors)" --descriptors 1 2 descriptors galde
  gb1_option_case gord "GB1 with the all-orders kernel (--order-weight)" --order-weight 0.3 1 order_weight gdesc \
    --descriptors 1
  CASE="GB1 CbAS with an ar search distribution"
  for k in 1 2; do # same ledger name in two directories, so that whole exports compare
    mkdir -p "$TMP/gca$k"
    (cd "$TMP/gca$k" && exec "$BIN" design run -q --ledger l.db --oracle "table:$GB1" --start VDGV --budget 49 \
      --batch 8 --rounds 100 --seed 2 --proposer cbas-ar -o rounds.csv)
    export_of "$TMP/gca$k/l.db" "$TMP/gca$k.export"
  done
  check "cbas-ar: the same seed gives the same ledger" cmp -s "$TMP/gca1.export" "$TMP/gca2.export"
  b=$(tail -1 "$TMP/gca1/rounds.csv" | cut -d, -f3)
  check "cbas-ar: best after 49 measurements ($b) beats the wild type" awk -v b="$b" 'BEGIN{exit !(b > 1.0)}'
  expect_error 2 "cbas-ar needs a protein design space" design run --ledger "$TMP/gce.db" \
    --oracle "ehrlich:v=32,c=4,k=4,L=32,q=4,seed=1" --proposer cbas-ar --budget 40 --batch 8
  # The trust region of a zero-shot prior (docs/design.md, "Filters"; docs/benchmarks.md, session 7):
  # GEMME with GB1's structure, fitted on ProteinGym's alignment; the loop keeps only variants whose
  # prior log P is within --min-prior of the wild type's, on the scale `seqloop score` reports.
  CASE="GB1 with a zero-shot trust region (--prior gemme, --min-prior)"
  GA=$DATA/gb1/SPG1_STRSG_full_11-26-2021_b07.a2m GP=$DATA/gb1/2qmt.pdb
  if need "$GA" "$GP"; then
    "$BIN" fit -q --model gemme --nonstandard gap --focus-first --structure "$GP:A" -o "$TMP/gemme.model" "$GA"
    run_sl design run --ledger "$TMP/gzs.db" --oracle "table:$GB1" --start VDGV --rounds 100 --seed 1 \
      --init-random 48 --batch 48 --proposer mutate --pairwise --prior "$TMP/gemme.model" \
      --prior-sites 265,266,267,280 --min-prior 2.87 --budget 145 -o "$TMP/gzs.csv"
    check "the campaign runs (exit $RC) to 145 measurements" test "$RC" = 0 -a "$(tail -1 "$TMP/gzs.csv" | cut -d, -f2)" = 145
    # every designed variant as a mutant of VDGV in SPG1 numbering (sites 265-267, 280)
    /usr/bin/python3 -c "
import sqlite3, sys
pos = [265, 266, 267, 280]
rows = sqlite3.connect(sys.argv[1]).execute(\"SELECT seq FROM sequences WHERE origin = 'designed'\").fetchall()
with open(sys.argv[2], 'w') as f:
    f.write('mutant\\n')
    for (s,) in rows: f.write(':'.join('%s%d%s' % (w, p, v) for w, p, v in zip('VDGV', pos, s) if v != w) + '\\n')
" "$TMP/gzs.db" "$TMP/gzs_mut.csv"
    "$BIN" score -q -m "$TMP/gemme.model" -o "$TMP/gzs_score.csv" "$TMP/gzs_mut.csv"
    check "every one of the 144 designed variants scores >= -2.87 under the prior (seqloop score)" \
      awk -F, 'NR > 1 { n++; if ($NF + 0 < -2.87) bad++ } END { exit !(n == 144 && !bad) }' "$TMP/gzs_score.csv"
    check "the filter rejects candidates in every round; round 1's uniform ones kept at 0.35-0.47 (GEMME puts 41% of the space within 2.87)" \
      awk -F, 'NR > 2 { n++; if ($10 >= 1 || (NR == 3 && ($10 < 0.35 || $10 > 0.47))) bad++ } END { exit !(n == 3 && !bad) }' "$TMP/gzs.csv"
    # --prior-top: the same region as a share of the 160,000 variants (GEMME's tie block at
    # -2.862 ends at 40.8% of them), resolved to the same cut: the same campaign
    CASE="GB1 with the trust region as a share (--prior-top)"
    zs=(--oracle "table:$GB1" --start VDGV --rounds 100 --seed 1 --init-random 48 --batch 48 --proposer mutate
      --pairwise --prior "$TMP/gemme.model" --prior-sites 265,266,267,280)
    run_sl design run --ledger "$TMP/gtop.db" "${zs[@]}" --prior-top 0.4 --budget 145 -o "$TMP/gtop.csv"
    for t in sequences measurements; do
      "$BIN" ledger export --ledger "$TMP/gzs.db" --table $t -o "$TMP/gzs.$t.csv"
      "$BIN" ledger export --ledger "$TMP/gtop.db" --table $t -o "$TMP/gtop.$t.csv"
    done
    check "--prior-top 0.4 runs (exit $RC) the campaign of --min-prior 2.87: the same sequences and measurements" \
      bash -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' _ "$TMP/gzs.sequences.csv" "$TMP/gtop.sequences.csv" \
      "$TMP/gzs.measurements.csv" "$TMP/gtop.measurements.csv"
    check "rounds 1-3 record the cut the share resolved to (2.8622, the block's distance to the wild type)" \
      test "$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$TMP/gtop.db').execute(\"SELECT count(*), min(round(value, 4)), max(round(value, 4)) FROM round_stats WHERE name = 'prior_top_cut'\").fetchone())")" = "(3, 2.8622, 2.8622)"
    expect_error 2 "--prior-top: the ledger's run used 0.4, this command line says 0.5" \
      design run --ledger "$TMP/gtop.db" "${zs[@]}" --prior-top 0.5 --budget 193
    expect_error 2 "--prior-top keeps a share of the design space by the prior's log P: give --prior" \
      design run --ledger "$TMP/gtop2.db" --oracle "table:$GB1" --start VDGV --prior-top 0.4 --budget 20
    check "refused before a ledger exists" test ! -e "$TMP/gtop2.db"
  fi
  CASE="GB1 unmeasured variant with missing=error"
  expect_error 1 "was not measured \\(missing=error\\)" design run --ledger "$TMP/gb1e.db" --oracle "table:$GB1,missing=error" \
    --start VDGV --proposer random --budget 400 --batch 200 --rounds 2
fi
finish
