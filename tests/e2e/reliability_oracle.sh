#!/usr/bin/env bash
# tests/e2e/reliability_oracle.sh: issue 18's design-loop items, each
# reproduced on the old code first: a ledger that runs its stored external
# command on resume (item 1), oracle processes that outlive seqloop (2), an
# unsolicited line that shifted answers onto later rounds (3), extreme
# measurements that blocked a campaign forever (4), a long answer (7), and
# two campaigns created at once on one ledger (10).
. "$(dirname "$0")/lib.sh"

# alive PID: the process exists and is not a zombie (a killed orphan may stay
# a zombie where PID 1 does not reap, so kill -0 alone would say "alive").
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
  [ "$state" != Z ] && [ "$state" != X ]
}
# wait_gone PID: up to 5 s for the kernel to finish the kill (no timing gate:
# a correct run is gone at once, the loop only absorbs scheduling delay).
wait_gone() {
  local i
  for i in $(seq 50); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

# An oracle that echoes the request ids (protocol v2).
cat > "$TMP/echo.py" <<'PY'
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    print(json.dumps({"id": req["id"], "values": [float(s.count("A")) for s in req["sequences"]]}), flush=True)
PY

# ---- item 1: a ledger's stored command does not run by itself ---------------
CASE="stored external oracle"
# The oracle records each start in a file: the proof of whether it ran.
EXTS="external:echo started >> $TMP/starts; exec /usr/bin/python3 $TMP/echo.py"
run_sl design run -q --ledger "$TMP/t.db" --start ACDEAAKLMN --rounds 1 --batch 2 --seed 4 --oracle "$EXTS"
check "$CASE: the campaign starts (exit $RC: $(head -c 300 "$TMP/err"))" [ "$RC" = 0 ]
expect_error 2 "does not run commands by itself.*--trust-ledger-oracle" design run --ledger "$TMP/t.db" --rounds 2
check "$CASE: resuming with --ledger alone did not start the command" [ "$(wc -l < "$TMP/starts")" = 1 ]
expect_error 2 "other options.*--batch: the ledger's run used 2, this command line says 3" \
  design run --ledger "$TMP/t.db" --start ACDEAAKLMN --rounds 2 --batch 3 --seed 4 --oracle "$EXTS"
check "$CASE: a refused command line did not start the command either (options checked first)" \
  [ "$(wc -l < "$TMP/starts")" = 1 ]
run_sl design run -q --ledger "$TMP/t.db" --rounds 2 --trust-ledger-oracle
check "$CASE: --trust-ledger-oracle resumes from the ledger alone (exit $RC: $(head -c 200 "$TMP/err"))" \
  eval '[ "$RC" = 0 ] && [ "$(wc -l < "$TMP/starts")" = 2 ]'
run_sl design run -q --ledger "$TMP/t.db" --start ACDEAAKLMN --rounds 3 --batch 2 --seed 4 --oracle "$EXTS"
check "$CASE: the command given again resumes (exit $RC: $(head -c 200 "$TMP/err"))" \
  eval '[ "$RC" = 0 ] && [ "$(wc -l < "$TMP/starts")" = 3 ]'
check "$CASE: 1 + 3 rounds x 2 measurements" \
  [ "$("$BIN" ledger export --ledger "$TMP/t.db" --table measurements | tail -n +2 | wc -l)" = 7 ]

# ---- item 2: the oracle's whole process group ends with it --------------------
for how in timeout garbage exit; do
  CASE="oracle grandchild ($how)"
  rm -f "$TMP/gpid"
  case $how in
    timeout) spec="external:sleep 100000 & echo \$! > $TMP/gpid; sleep 100000"; extra="--oracle-timeout 1" ;;
    garbage) spec="external:sleep 100000 & echo \$! > $TMP/gpid; read l; echo hello; sleep 100000"; extra="" ;;
    # answers every request, then seqloop ends normally with its helper still running
    exit) spec="external:sleep 100000 & echo \$! > $TMP/gpid; exec /usr/bin/python3 $TMP/echo.py"; extra="--rounds 1 --batch 2" ;;
  esac
  # shellcheck disable=SC2086
  run_sl design run -q --ledger "$TMP/g-$how.db" --start ACDE $extra --oracle "$spec"
  gp=$(cat "$TMP/gpid" 2>/dev/null)
  if [ "$how" = exit ]; then want=0; else want=1; fi
  check "$CASE: exit $want (got $RC: $(head -c 200 "$TMP/err"))" [ "$RC" = "$want" ]
  check "$CASE: the oracle's background child ($gp) is gone afterwards" eval '[ -n "$gp" ] && wait_gone "$gp"'
  [ -n "$gp" ] && alive "$gp" && kill -9 "$gp" 2>/dev/null
done

# ---- item 3: request ids; output nobody asked for ----------------------------
CASE="unsolicited line"
# Prints one extra line with its first answer: the old reader took it as round
# 1's answer, and every later round got the previous round's values.
cat > "$TMP/extra.py" <<'PY'
import json, sys
first = True
for line in sys.stdin:
    seqs = json.loads(line)["sequences"]
    print(json.dumps({"values": [float(s.count("A")) for s in seqs]}), flush=True)
    if first:
        print(json.dumps({"values": [-1.0]}), flush=True)
        first = False
PY
expect_error 1 "wrote output nobody asked for|bytes after its answer" \
  design run -q --ledger "$TMP/x1.db" --start ACDEAAKLMN --rounds 3 --batch 1 --oracle "external:/usr/bin/python3 $TMP/extra.py"
check "$CASE: round 0 was not committed with a wrong value, or the run stopped there" \
  eval '[ "$("$BIN" ledger export --ledger "$TMP/x1.db" --table measurements 2>/dev/null | grep -c -- ",-1," )" = 0 ]'
CASE="answer for another id"
expect_error 1 "answered id 5 to request 1" design run -q --ledger "$TMP/x2.db" --start ACDE \
  --oracle "external:read l; echo '{\"id\": 5, \"values\": [1]}'; sleep 5"
CASE="an oracle answering 1e308"
expect_error 1 "value 1 is not a finite number of magnitude at most 1e\\+100" design run -q --ledger "$TMP/x4.db" \
  --start ACDE --oracle "external:read l; echo '{\"values\": [1e308]}'; sleep 5"
CASE="ids echoed"
run_sl design run -q --ledger "$TMP/x3.db" --start ACDEAAKLMN --rounds 2 --batch 2 --seed 4 \
  --oracle "external:/usr/bin/python3 $TMP/echo.py"
check "$CASE: a program echoing ids runs (exit $RC: $(head -c 200 "$TMP/err"))" [ "$RC" = 0 ]
check "$CASE: ids count requests from 1 (the oracle saw 1, 2, 3)" \
  eval '"$BIN" ledger export --ledger "$TMP/x3.db" --table measurements 2>/dev/null | awk -F, "NR>1" | wc -l | grep -qx 5'

# ---- item 4: extreme measurements; item 10: strict results CSVs -------------
CASE="extreme measurement"
"$BIN" design propose -q --ledger "$TMP/v.db" --oracle lab --start MKTAYIAKQR --batch 4 --seed 2 -o "$TMP/v0.csv"
for v in 1e308 -1e101 0x1p3 1e-400 nan; do
  printf 'sequence,value\nMKTAYIAKQR,%s\n' "$v" > "$TMP/vr.csv"
  case $v in
    0x1p3) pat="'0x1p3' is hexadecimal" ;;
    1e-400) pat="'1e-400' underflows" ;;
    nan) pat="'nan' is not a finite number" ;;
    *) pat="'$v' is larger in magnitude than 1e100" ;;
  esac
  CASE="results value $v"
  expect_error 1 "vr.csv line 2: value $pat" design ingest --ledger "$TMP/v.db" "$TMP/vr.csv"
done
CASE="two value columns"
printf 'sequence,value,value\nMKTAYIAKQR,1,2\n' > "$TMP/vr.csv"
expect_error 1 "names column 'value' twice \\(columns 2 and 3\\)" design ingest --ledger "$TMP/v.db" "$TMP/vr.csv"
CASE="a ledger holding 1e308 from an older version"
printf 'sequence,value\nMKTAYIAKQR,1.0\n' > "$TMP/vr.csv"
"$BIN" design ingest -q --ledger "$TMP/v.db" "$TMP/vr.csv"
"$BIN" design propose -q --ledger "$TMP/v.db" -o "$TMP/v1.csv"
tail -n +2 "$TMP/v1.csv" | cut -d, -f2 | awk -v OFS=, 'BEGIN { print "sequence,value" } { print $1, NR }' > "$TMP/v1r.csv"
"$BIN" design ingest -q --ledger "$TMP/v.db" "$TMP/v1r.csv"
# What an older seqloop let in: two of round 1's values become +-1e308.
/usr/bin/python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute('UPDATE measurements SET value = 1e308 WHERE round = 1 AND value = 2')
c.execute('UPDATE measurements SET value = -1e308 WHERE round = 1 AND value = 3')
c.commit()" "$TMP/v.db"
run_sl design propose -q --ledger "$TMP/v.db" -o "$TMP/v2.csv"
check "$CASE: the campaign still proposes (exit $RC: $(head -c 200 "$TMP/err"))" [ "$RC" = 0 ]
check "$CASE: 4 sequences with finite predictions" \
  [ "$(tail -n +2 "$TMP/v2.csv" | awk -F, '$3 != "" && $3 + 0 == $3 && $3 < 1e100 && $3 > -1e100' | wc -l)" = 4 ]

# ---- item 10: two campaigns created at once; a read-only ledger ------------
CASE="two campaigns created at once"
EH="ehrlich:v=8,c=2,k=3,L=12,q=3,seed=5"
bad=0
for i in 1 2 3 4; do
  rm -f "$TMP/cc.db"*
  "$BIN" design run -q --ledger "$TMP/cc.db" --oracle "$EH" --rounds 2 --batch 2 --seed 1 -o /dev/null 2> "$TMP/cc1" &
  p1=$!
  "$BIN" design run -q --ledger "$TMP/cc.db" --oracle "$EH" --rounds 2 --batch 2 --seed 1 -o /dev/null 2> "$TMP/cc2"
  r2=$?; wait $p1; r1=$?
  n=$("$BIN" ledger export --ledger "$TMP/cc.db" --table measurements | tail -n +2 | wc -l)
  nr=$("$BIN" ledger export --ledger "$TMP/cc.db" --table runs | tail -n +2 | wc -l)
  if [ "$r1$r2" != 00 ] || [ "$n" != 5 ] || [ "$nr" != 1 ]; then
    bad=1; echo "# try $i: exits $r1 $r2, $nr runs, $n measurements: $(cat "$TMP/cc1" "$TMP/cc2" | head -c 300)"
  fi
done
check "$CASE: both exit 0, one run, 5 measurements, in 4 tries (the old code: 'table runs already exists')" [ "$bad" = 0 ]

CASE="export of a read-only ledger"
RO=$(mktemp -d /tmp/seqloop-ro.XXXXXX)
chmod 755 "$RO"
"$BIN" design run -q --ledger "$RO/l.db" --oracle "$EH" --rounds 1 --batch 2 -o /dev/null
chmod a-w "$RO/l.db" "$RO"
if [ "$(id -u)" = 0 ]; then
  # root writes through chmod: run the export as an unprivileged user instead
  if command -v setpriv > /dev/null; then RUNAS="setpriv --reuid=65534 --regid=65534 --clear-groups"; else RUNAS=none; fi
else
  RUNAS=""
fi
if [ "$RUNAS" = none ]; then
  skip "$CASE: running as root without setpriv, so the file cannot be made read-only for the test"
else
  $RUNAS "$BIN" ledger export --ledger "$RO/l.db" --table measurements > "$TMP/ro.csv" 2> "$TMP/ro.err"; RC=$?
  check "$CASE: exit 0 ($RC: $(head -c 200 "$TMP/ro.err"))" [ "$RC" = 0 ]
  check "$CASE: the 3 measurements exported" [ "$(tail -n +2 "$TMP/ro.csv" | wc -l)" = 3 ]
  check "$CASE: nothing was created beside the ledger" [ "$(ls -A "$RO")" = l.db ]
fi
chmod u+w "$RO"; rm -rf "$RO"

# ---- item 7: a long answer is read whole (the reader is linear: each byte is
# examined once, asserted structurally in tests/unit/test_reliab.c) ----------
CASE="long answer"
cat > "$TMP/long.py" <<'PY'
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    vals = ", ".join("%.1f" % s.count("A") for s in req["sequences"])
    # 50 MB of blanks inside the JSON object: valid, and one line
    sys.stdout.write('{"id": %d, "values": [%s' % (req["id"], vals) + " " * 50_000_000 + "]}\n")
    sys.stdout.flush()
PY
run_sl design run -q --ledger "$TMP/long.db" --start ACDEAAKLMN --rounds 1 --batch 2 --seed 4 \
  --oracle "external:/usr/bin/python3 $TMP/long.py"
check "$CASE: a 50 MB answer line is accepted (exit $RC: $(head -c 200 "$TMP/err"))" [ "$RC" = 0 ]
check "$CASE: its values are recorded (start: 2 A)" \
  eval '"$BIN" ledger export --ledger "$TMP/long.db" --table measurements 2>/dev/null | grep -q ",2,"'

finish
