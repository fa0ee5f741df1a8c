#!/usr/bin/env bash
# tests/e2e/cli.sh: the command line as a contract (cli/opt.h, issue 11).
#   - every command answers -h, --version and --options-json from its table;
#   - option errors name the option ("seqloop fit: --lambda-j: expected a
#     number >= 0, not 'abc'"), exit 2;
#   - every command takes -t/--threads; the default follows OMP_NUM_THREADS,
#     then SLURM_CPUS_PER_TASK;
#   - every CSV seqloop writes reads in pandas (and R, when installed) with no
#     options, and its provenance sits beside it in OUT.prov.json (version,
#     argv, SHA-256 of every input, every option, the seed);
#   - score --skip-invalid summarises skipped rows in one line (none with -q);
#   - docs/cli.md holds every command's -h text as the binary prints it.
# The data are generated here (a 40 x 30 alignment from a fixed generator).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3

# ---- data: 40 rows x 30 columns around a focus, deterministic ----------------
awk 'BEGIN { s = 777; aa = "ACDEFGHIKLMNPQRSTVWY"; f = "MKTAYIAKQRQISFVKSHFSRQLEERLGLI";
  for (n = 1; n <= 40; n++) { printf ">s%d%s\n", n, n == 1 ? "/1-30" : ""; row = "";
    for (i = 1; i <= 30; i++) { s = (s * 75 + 74) % 65537;
      c = (n == 1 || s % 100 < 70) ? substr(f, i, 1) : substr(aa, s % 20 + 1, 1);
      row = row c }
    print row } }' > "$TMP/aln.fa"
head -40 "$TMP/aln.fa" > "$TMP/train.fa"
tail -40 "$TMP/aln.fa" | head -20 > "$TMP/test.fa"
# an assay: 6 valid variants of the focus and 2 invalid ones (wrong wild type, position)
printf 'mutant,DMS_score\nM1A,0.1\nK2R,0.5\nT3S,0.2\nA4G,-0.3\nY5F,0.9\nK2R:A4G,0.4\nW2A,0\nA99G,1\n' > "$TMP/assay.csv"

# ---- -h, --version, --options-json for every command ---------------------------
for cmd in audit "audit cycle" weights ingest fit "fit --model tfm" score contacts sample convert split; do
  CASE="$cmd"
  # shellcheck disable=SC2086
  "$BIN" $cmd -h > "$TMP/h" 2> "$TMP/err"; RC=$?
  check "$CASE -h: exit 0, usage first, -t listed" bash -c '[ "$1" -eq 0 ] && head -1 "$2" | grep -q "^usage: seqloop " && grep -q -- "-t, --threads N" "$2"' _ "$RC" "$TMP/h"
  # shellcheck disable=SC2086
  check "$CASE --version prints the version" test "$("$BIN" $cmd --version)" = "$("$BIN" --version)"
  # shellcheck disable=SC2086
  "$BIN" $cmd --options-json > "$TMP/oj" 2>&1
  check "$CASE --options-json: a table with threads, help and typed entries" \
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); n={o["name"]: o for o in d["options"]}
assert n["threads"]["type"] == "int" and n["threads"]["min"] == 1 and n["help"]["type"] == "builtin"
assert all("help" in o for o in d["options"])' "$TMP/oj"
done
check "-h shows the live default from the code (fit --max-iter 0, --lbfgs-m 6); --epsilon names both kinds' defaults" \
  bash -c '"$1" fit -h | grep -Eq -- "--max-iter N .*\(default 0\)" && "$1" fit -h | grep -A1 -- "--lbfgs-m N" | grep -q "(default 6)" &&
           "$1" fit -h | grep -A1 -- "--epsilon X" | grep -q "potts 1e-3 as plmc; ar 1e-4"' _ "$BIN"
check "fit -h: --preset's default is the code's (evcouplings)" bash -c '"$1" fit -h | grep -q "(default evcouplings)"' _ "$BIN"

# ---- option errors name the option --------------------------------------------
CASE="fit --lambda-j abc"
expect_error 2 "^seqloop fit: --lambda-j: expected a number >= 0, not 'abc'$" fit --model potts --lambda-j abc -o "$TMP/x" "$TMP/aln.fa"
CASE="fit --model tfm --steps x"
expect_error 2 "^seqloop fit: --steps: expected an integer >= 0, not 'x'$" fit --model tfm --steps x -o "$TMP/x" "$TMP/aln.fa"
CASE="sample -n 0"
expect_error 2 "^seqloop sample: --number: expected an integer >= 1, not '0'$" sample -m "$TMP/x" -n 0
CASE="sample --temperature 0"
expect_error 2 "^seqloop sample: --temperature: expected a number > 0, not '0'$" sample -m "$TMP/x" -n 1 --temperature 0
CASE="score --offset 1.5"
expect_error 2 "^seqloop score: --offset: expected an integer, not '1.5'$" score -m "$TMP/x" --offset 1.5 --all-singles
CASE="contacts --gauge foo"
expect_error 2 "^seqloop contacts: --gauge: expected raw or zerosum, not 'foo'$" contacts -m "$TMP/x" --gauge foo
CASE="convert --to xml"
expect_error 2 "^seqloop convert: --to: expected seqloop or plmc, not 'xml'$" convert "$TMP/x" -o "$TMP/y" --to xml
CASE="unknown option"
expect_error 2 "^seqloop weights: unknown or ambiguous option '--thetaa' \(see 'seqloop weights -h'\)$" weights --thetaa=1 "$TMP/aln.fa"
CASE="missing value"
expect_error 2 "^seqloop audit: --top: needs a value \(N\)" audit "$TMP/aln.fa" --top
CASE="flag given a value"
expect_error 2 "^seqloop ingest: --focus-first takes no value" ingest --focus-first=1 "$TMP/aln.fa"
CASE="audit cycle --mix 2"
expect_error 2 "^seqloop audit cycle: --mix: expected a number in \[0, 1\], not '2'$" audit cycle --mix 2 "$TMP/aln.fa"

# ---- every command runs with -t, writes readable CSV and a provenance sidecar -----
cd "$TMP" || exit 1
run() { # run NAME ARGS...: seqloop ARGS must exit 0
  local name=$1; shift
  "$BIN" "$@" > "$TMP/$name.stdout" 2> "$TMP/$name.stderr"; RC=$?
  check "$name: seqloop $* exits 0 ($(head -c 200 "$TMP/$name.stderr" | tr '\n' ' '))" test "$RC" -eq 0
}
run weights weights -t 1 -q --focus-first -o w.tsv aln.fa
run ingest ingest -t 1 -q --focus-first -o ing.fa aln.fa
run audit audit -t 2 -q --focus-first -o audit.txt aln.fa
run fit_prof fit -t 1 -q --model profile --focus-first -o m.prof aln.fa
run fit_potts fit -t 2 -q --model potts --focus-first -m 3 --seed 42 -o m.potts aln.fa
run fit_ar fit -t 1 -q --model ar --focus-first -o m.ar train.fa
run convert convert -t 1 m.potts -o m.params
run contacts contacts -t 1 -q -m m.potts -o contacts.csv
run singles score -t 1 -q -m m.potts --all-singles -o singles.csv
run mutants score -t 1 -q -m m.potts --mutants M1A,K2R:A4G -o mutants.csv
run assay score -t 1 -q -m m.prof --skip-invalid --dms-score-column DMS_score -o assay_scored.csv assay.csv
run perplexity score -t 1 -q -m m.ar --perplexity test.fa -o ppl.csv
run sample sample -t 2 -q -m m.ar -n 20 --seed 5 -o samples.fa
run split split -t 1 -q --identity 0.9 -o sp aln.fa
run leak audit -t 1 -q --train train.fa --test test.fa --per-sequence per.csv -o leak.txt
run cycle audit cycle -t 1 -q --generations 1 --samples 40 --entropy-samples 200 --max-iter 20 -o cycle.csv aln.fa

csvs="contacts.csv singles.csv mutants.csv assay_scored.csv ppl.csv per.csv cycle.csv"
for f in $csvs; do
  check "$f: no '#' line" bash -c '! grep -q "^#" "$1"' _ "$f"
done
check "every CSV reads in pandas with no options (columns and rows as written)" "$PY" - $csvs <<'EOF'
import sys, pandas as pd
want = {"contacts.csv": (["i", "A_i", "j", "A_j", "score", "raw"], 435),
        "singles.csv": (["mutant", "pos", "wt", "mt", "seqloop_score"], 570),
        "mutants.csv": (["mutant", "seqloop_score"], 2),
        "assay_scored.csv": (["mutant", "DMS_score", "seqloop_score"], 8),
        "ppl.csv": (["name", "logp_nats", "bits_per_site"], 10),
        "per.csv": (["test", "max_identity", "nearest_train"], 10),
        "cycle.csv": (None, 4)}
for f in sys.argv[1:]:
    d = pd.read_csv(f)
    cols, n = want[f]
    assert cols is None or list(d.columns) == cols, (f, list(d.columns))
    assert len(d) == n, (f, len(d))
d = pd.read_csv("assay_scored.csv")
assert d["seqloop_score"].isna().sum() == 2  # the two invalid rows, kept with an empty score
assert abs(d.loc[d.mutant == "M1A", "seqloop_score"].iloc[0]) > 0
EOF
check "the weights table reads with pandas.read_table (TSV): 40 rows, weight and name" \
  "$PY" -c 'import pandas as pd; d = pd.read_table("w.tsv"); assert list(d.columns) == ["weight", "name"] and len(d) == 40' 
if command -v Rscript > /dev/null 2>&1; then
  check "every CSV reads in R's read.csv with no options" Rscript -e \
    'for (f in commandArgs(TRUE)) { d <- read.csv(f); stopifnot(nrow(d) > 0) }' $csvs
else
  skip "R's read.csv: Rscript is not installed (r-base-core is not a dependency)"
fi
check "--weights-in still reads an old weights file with '#' provenance lines" bash -c '
  { printf "# seqloop 0.1.0 weights\n# command: seqloop weights\n"; cat w.tsv; } > old.tsv &&
  "$1" weights -q --focus-first --weights-in old.tsv -o w2.tsv aln.fa && cmp -s w.tsv w2.tsv' _ "$BIN"

# provenance sidecars
for f in w.tsv ing.fa audit.txt m.prof m.potts m.ar m.params contacts.csv singles.csv mutants.csv \
         assay_scored.csv ppl.csv samples.fa sp cycle.csv per.csv leak.txt; do
  check "$f.prov.json: valid JSON naming seqloop, its version and argv" \
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]+".prov.json")); assert d["program"]=="seqloop" and d["version"] and d["argv"][0]=="seqloop" and "options" in d and d["inputs"]' "$f"
done
check "fit's sidecar: the alignment's SHA-256, the seed and the thread count" "$PY" -c '
import json, hashlib
d = json.load(open("m.potts.prov.json"))
assert d["inputs"][0]["sha256"] == hashlib.sha256(open("aln.fa", "rb").read()).hexdigest()
assert d["options"]["seed"] == 42 and d["options"]["threads"] == 2 and d["options"]["max-iter"] == 3'
check "score's sidecar: model and assay hashed (file bytes)" "$PY" -c '
import json, hashlib
d = json.load(open("assay_scored.csv.prov.json"))
h = {i["role"]: i["sha256"] for i in d["inputs"]}
assert h["model"] == hashlib.sha256(open("m.prof", "rb").read()).hexdigest()
assert h["assay"] == hashlib.sha256(open("assay.csv", "rb").read()).hexdigest()
assert d["options"]["skip-invalid"] is True and d["options"]["dms-score-column"] == "DMS_score"'
check "sample's sidecar records the seed" "$PY" -c '
import json; d = json.load(open("samples.fa.prov.json")); assert d["options"]["seed"] == "5"'
rm -f ./*.prov.json
"$BIN" score -q -m m.potts --mutants M1A > stdout.csv 2> /dev/null
check "output on stdout: no sidecar is written" bash -c '! ls ./*.prov.json > /dev/null 2>&1'
"$BIN" score -q -m m.potts --mutants M1A --provenance p.json > stdout.csv 2> /dev/null
check "output on stdout: --provenance FILE writes it there" "$PY" -c '
import json; d = json.load(open("p.json")); assert d["output"] == "-" and d["options"]["mutants"] == "M1A"'

# ---- outputs that are not regular files are written in place ---------------------
# (a fifo and a symbolic link stand in for /dev/null and /dev/stdout, which an
# atomic rename would replace by regular files)
mkfifo fifo.out
cat fifo.out > fifo.got & reader=$!
"$BIN" weights -q --focus-first -o fifo.out aln.fa; RC=$?
wait $reader
check "-o FIFO: exit 0, the data went through, the fifo is still a fifo, no sidecar" \
  bash -c '[ "$1" -eq 0 ] && [ -p fifo.out ] && cmp -s fifo.got w.tsv && [ ! -e fifo.out.prov.json ]' _ "$RC"
ln -s target.tsv link.tsv
"$BIN" weights -q --focus-first -o link.tsv aln.fa; RC=$?
check "-o SYMLINK: the link stays a link and its target holds the output" \
  bash -c '[ "$1" -eq 0 ] && [ -L link.tsv ] && cmp -s target.tsv w.tsv && [ ! -e link.tsv.prov.json ]' _ "$RC"

# ---- threads: the default's precedence -------------------------------------------
threads_of() { # env... : the thread count recorded by a run under that environment
  env -u OMP_NUM_THREADS -u SLURM_CPUS_PER_TASK "$@" "$BIN" weights -q --focus-first -o tw.tsv aln.fa &&
    json_get tw.tsv.prov.json 'd["options"]["threads"]'
}
check "OMP_NUM_THREADS sets the default" test "$(threads_of OMP_NUM_THREADS=3)" = 3
check "SLURM_CPUS_PER_TASK sets it without OMP_NUM_THREADS" test "$(threads_of SLURM_CPUS_PER_TASK=5)" = 5
check "OMP_NUM_THREADS wins over SLURM_CPUS_PER_TASK" test "$(threads_of OMP_NUM_THREADS=3 SLURM_CPUS_PER_TASK=5)" = 3
check "-t wins over both" bash -c 'OMP_NUM_THREADS=3 "$1" weights -q -t 1 --focus-first -o tw.tsv aln.fa && grep -q "\"threads\":	1" tw.tsv.prov.json' _ "$BIN"
check "without either: every core ($(nproc))" test "$(threads_of)" = "$(nproc)"

# ---- score --skip-invalid: one summary line, nothing with -q -----------------------
"$BIN" score -m m.prof --skip-invalid assay.csv > /dev/null 2> skip.err
check "--skip-invalid: one line names the count and the first skipped rows" \
  bash -c '[ "$(grep -c skipped "$1")" = 1 ] && grep -q "6 variants scored, 2 skipped (first: assay.csv line 8 ..W2A..: .*; assay.csv line 9 ..A99G..: .*)$" "$1"' _ skip.err
"$BIN" score -q -m m.prof --skip-invalid assay.csv > /dev/null 2> skipq.err
check "--skip-invalid -q: nothing on stderr" test ! -s skipq.err

BLAT=$DATA/blat_ecolx
CASE="BLAT --skip-invalid"
if need "$BLAT/BLAT_ECOLX.a2m" "$BLAT/BLAT_ECOLX_Ranganathan2015.csv"; then
  "$BIN" fit -q --model profile -f BLAT_ECOLX -o blat.prof "$BLAT/BLAT_ECOLX.a2m"
  "$BIN" score -m blat.prof --skip-invalid -o blat.csv "$BLAT/BLAT_ECOLX_Ranganathan2015.csv" 2> blat.err
  check "$CASE: one stderr line for all skipped rows, its count that of the empty scores in the CSV" "$PY" -c '
import re, pandas as pd
err = open("blat.err").read().splitlines()
d = pd.read_csv("blat.csv")
m = re.match(r"seqloop score: (\d+) variants scored, (\d+) skipped \(first: .*H24A.*; \.\.\.\)$", err[-1])
assert len(err) == 1 and m, err[:3]
assert int(m.group(2)) == d["seqloop_score"].isna().sum() > 100 and int(m.group(1)) == d["seqloop_score"].notna().sum()'
  "$BIN" score -q -m blat.prof --skip-invalid -o blat_q.csv "$BLAT/BLAT_ECOLX_Ranganathan2015.csv" 2> blat_q.err
  check "$CASE -q: nothing on stderr, the same CSV" bash -c '[ ! -s blat_q.err ] && cmp -s blat.csv blat_q.csv'
fi

# ---- docs/cli.md holds each command's -h as printed ---------------------------------
for cmd in audit "audit cycle" weights ingest fit "fit --model tfm" score contacts sample convert split; do
  # shellcheck disable=SC2086
  check "docs/cli.md: the -h block of 'seqloop $cmd' matches the binary" "$PY" - "$ROOT/docs/cli.md" "$cmd" \
    "$("$BIN" $cmd -h)" <<'EOF'
import sys
doc, cmd, text = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
marker = "<!-- seqloop %s -h -->\n```\n" % cmd
i = doc.find(marker)
assert i >= 0, "no block for " + cmd
j = doc.find("\n```", i + len(marker))
assert doc[i + len(marker):j] == text.rstrip("\n"), "docs/cli.md is out of date for " + cmd + " (tests/e2e/cli.sh --write-docs)"
EOF
done
check "docs/cli.md: the shared-options table shows the defaults the code has" "$PY" - "$ROOT/docs/cli.md" \
  "$("$BIN" audit --options-json)" <<'EOF'
import json, re, sys
doc, table = open(sys.argv[1]).read(), json.loads(sys.argv[2])
opts = {o["name"]: o for o in table["options"]}
sec = doc.split("## Options shared by every command that reads an alignment")[1].split("\n## ")[0]
seen = 0
for row in sec.splitlines():
    m = re.match(r"\| `(?:-\w, )?--([\w-]+)[^`]*` \| ([^|]*) \|", row)
    if not m or m.group(1) not in opts:
        continue
    seen += 1
    doc_default, o = m.group(2).replace("`", "").strip(), opts[m.group(1)]
    if "default" in o:
        assert doc_default == o["default"], (m.group(1), doc_default, o["default"])
    else:
        assert doc_default in ("off", "none", "") or "prov.json" in doc_default, (m.group(1), doc_default)
assert seen >= 15, seen
EOF
finish
