#!/usr/bin/env bash
# tests/e2e/bad_inputs.sh: the bad-input catalogue.
#
# For every malformed input, `seqloop audit` (and `seqloop weights -o FILE`
# where the input is an alignment) must
#   - exit 1 for bad input (2 for bad options), exactly;
#   - print on stderr a message naming the file, the line where a line makes
#     sense, and what was expected (a specific regex per case);
#   - leave nothing behind: no -o file and no .out.w.tmp.* temporary.
# A few valid inputs at the edges (stdin, gzip on stdin, a 10 MB sequence
# line) must be read fine.
#
# Every input is generated here, inside $TMP, deterministically (fixed bytes,
# fixed seeds); nothing is read from ../shared/data.
. "$(dirname "$0")/lib.sh"

IN=$TMP/in
mkdir -p "$IN"
OUT=$TMP/out.w

# no_leftovers: the -o file and its temporaries must not exist.
no_leftovers() {
  local left="" f
  for f in "$TMP/out.w" "$TMP"/.out.w.tmp.*; do
    [ -e "$f" ] && left+="${f##*/} "
  done
  if [ -z "$left" ]; then
    ok "$CASE: no output file or temporary left"
  else
    nok "$CASE: left behind in \$TMP: $left"
  fi
  rm -f "$TMP/out.w" "$TMP"/.out.w.tmp.*
}

# errsnip: the start of the last stderr, on one line (for check descriptions).
errsnip() { head -c 200 "$TMP/err" | tr '\n' ' '; }

# bad CMD CODE PATTERN ARGS...: `seqloop CMD -o $OUT ARGS` exits CODE with
# PATTERN (ERE) on stderr and leaves no output behind.
bad() {
  local cmd=$1 code=$2 pat=$3 base=$CASE
  shift 3
  CASE="$base [$cmd]"
  expect_error "$code" "$pat" "$cmd" -o "$OUT" "$@"
  no_leftovers
  CASE=$base
}
# both CODE PATTERN ARGS...: the same for audit and for weights.
both() { bad audit "$@"; bad weights "$@"; }

# A small valid protein alignment (3 rows, 20 columns) used by several cases.
printf '>a\nACDEFGHIKLMNPQRSTVWY\n>b\nACDEFGHIKLMNPQRSTVWY\n>c\nACDEFGHIKLMNPQRSTVWA\n' > "$IN/good.fa"

# A larger valid alignment for the gzip cases: 60 rows of 80 columns drawn
# from a fixed linear congruential generator (small enough to be exact in
# awk's doubles), so the gzip stream is a few KB and cutting or corrupting
# its middle hits compressed data.
awk 'BEGIN { s = 4242; aa = "ACDEFGHIKLMNPQRSTVWY";
  for (n = 1; n <= 60; n++) { printf ">seq%d\n", n; row = "";
    for (i = 1; i <= 80; i++) { s = (s * 75 + 74) % 65537;
      row = row substr(aa, s % 20 + 1, 1) }
    print row } }' > "$IN/fam.fa"
gzip -9 -n -c "$IN/fam.fa" > "$IN/fam.fa.gz"

# ---- empty and binary input ----------------------------------------------
: > "$IN/empty.fa"
CASE="empty file"
both 1 'in/empty\.fa: empty file; expected sequences in FASTA, A2M, A3M or Stockholm format' "$IN/empty.fa"

printf '\n\n   \n\t\n\r\n\n' > "$IN/blank.fa"
CASE="only blank lines"
both 1 'in/blank\.fa: empty file; expected sequences' "$IN/blank.fa"

# 4096 bytes of junk: a NUL, then 4095 bytes of a fixed LCG (printf escapes).
junk='\000' x=20240601
for ((i = 1; i < 4096; i++)); do
  x=$(( (x * 1103515245 + 12345) % 2147483648 ))
  printf -v e '\\%03o' $(( (x >> 16) & 255 ))
  junk+=$e
done
printf "$junk" > "$IN/junk.bin"
CASE="binary junk: generated size"
check "$CASE is 4096 bytes" test "$(wc -c < "$IN/junk.bin")" -eq 4096
CASE="binary junk"
both 1 'in/junk\.bin line 1: binary data \(byte 0x00\); expected a text sequence file' "$IN/junk.bin"

printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000>\000' > "$IN/elf.bin"
CASE="binary: ELF header"
bad audit 1 'in/elf\.bin line 1: binary data \(byte 0x7f\)' "$IN/elf.bin"

printf '>a\nACDEF\n>b\nAC\000EF\n>c\nACDEF\n' > "$IN/nul4.fa"
CASE="NUL byte inside line 4"
both 1 'in/nul4\.fa line 4: binary data \(byte 0x00\)' "$IN/nul4.fa"

# ---- structure of FASTA --------------------------------------------------
printf 'ACDEFGHIK\n>a\nACDEFGHIK\n' > "$IN/nostart.fa"
CASE="does not start with '>' or '# STOCKHOLM'"
both 1 "in/nostart\\.fa line 1: expected a FASTA header starting with '>' or a '# STOCKHOLM 1\\.0' line" "$IN/nostart.fa"

printf '\n\nCLUSTAL W (1.83) multiple sequence alignment\n\na ACDEF\n' > "$IN/clustal.aln"
CASE="CLUSTAL file after blank lines"
bad audit 1 "in/clustal\\.aln line 3: expected a FASTA header starting with '>'" "$IN/clustal.aln"

printf '>a\nACDEF\n>b\n>c\nACDEF\n' > "$IN/nohdrseq.fa"
CASE="header without sequence (middle)"
both 1 "in/nohdrseq\\.fa line 3: record 'b' has no sequence; expected sequence lines after its header" "$IN/nohdrseq.fa"

printf '>a\nACDEF\n>b\nACDEF\n>c\n\n' > "$IN/nohdrseq_end.fa"
CASE="header without sequence (last record)"
both 1 "in/nohdrseq_end\\.fa line 5: record 'c' has no sequence" "$IN/nohdrseq_end.fa"

printf '>a\nACDEFG\n>b\nACDEF\n>c\nACDEFG\n' > "$IN/ragged.fa"
CASE="ragged aligned rows"
both 1 "in/ragged\\.fa line 3: row 'b' has 5 aligned columns \\(5 match columns\\), but the first row 'a' has 6 \\(6\\); rows of an alignment must have equal lengths" "$IN/ragged.fa"

printf '>a\nACDEFGHIKL\n>b\nACDEFGHIKL\n>c\nACDEF\n' > "$IN/ragged_last.fa"
CASE="ragged: last row short"
both 1 "in/ragged_last\\.fa line 5: row 'c' has 5 aligned columns" "$IN/ragged_last.fa"

# A row with the first row's raw length but a different number of match
# columns must not slip past the A3M check (row b has 10 match columns,
# rows a and c have 2).
printf '>a\nACgtwyklmn\n>b\nACGTWYKLMN\n>c\nACg\n' > "$IN/a3m_samelen.a3m"
CASE="A3M: equal raw length, different match columns"
both 1 "in/a3m_samelen\\.a3m line 3: row 'b' has 10 aligned columns \\(10 match columns\\)" "$IN/a3m_samelen.a3m"

printf '>a\nACDEFGH\n>b\nACdEFGH\n>c\nACDEFGHik\n' > "$IN/notafasta.a3m"
CASE="--format fasta refuses A3M-looking rows"
bad audit 1 "in/notafasta\\.a3m line 5: row 'c' has 9 aligned columns \\(7 match columns\\)" --format fasta "$IN/notafasta.a3m"

printf '>a\nACDEF\n>b\nACDEF\n>a\nACDEG\n' > "$IN/dup.fa"
CASE="duplicate names"
both 1 "in/dup\\.fa line 5: duplicate sequence name 'a' \\(first at line 1\\); names must be unique" "$IN/dup.fa"

# ---- characters ------------------------------------------------------------
printf '>a\nACDEFG\n>b\nAC1EFG\n' > "$IN/digit.fa"
CASE="unknown character '1'"
both 1 "in/digit\\.fa line 4, column 3: unexpected character '1' \\(0x31\\) in a sequence; expected residue letters, '-', '\\.' or '\\*'" "$IN/digit.fa"

printf '>a\nACDEFG\n>b\nACD\nE?G\n' > "$IN/qmark.fa"
CASE="unknown character '?' on a continuation line"
both 1 "in/qmark\\.fa line 5, column 2: unexpected character '\\?' \\(0x3f\\)" "$IN/qmark.fa"

printf '>a\nACDEFG\n>b\nACDEF#\n' > "$IN/hash.fa"
CASE="unknown character '#'"
both 1 "in/hash\\.fa line 4, column 6: unexpected character '#' \\(0x23\\)" "$IN/hash.fa"

printf '>a\nACGTACGT\n>b\nACGEACGT\n' > "$IN/dna_e.fa"
CASE="letter E with --alphabet dna"
both 1 "in/dna_e\\.fa line 3: record 'b' has 'E' at aligned position 4, which is not a dna residue" --alphabet dna "$IN/dna_e.fa"

printf '>a\nACDEFGHIKX\n>b\nACDEFGHIKL\n' > "$IN/focus_x.fa"
CASE="focus row with a nonstandard character"
bad audit 1 "in/focus_x\\.fa line 1: the focus sequence 'a' contains a nonstandard character" --focus a "$IN/focus_x.fa"

printf '>a\nACDEX\n>b\nACDBF\n' > "$IN/all_x.fa"
CASE="every row dropped for nonstandard characters"
both 1 "in/all_x\\.fa: nothing left after preprocessing \\(0 of 2 rows" "$IN/all_x.fa"

printf '>a\nAC\351EF\n>b\nACDEF\n' > "$IN/latin1.fa"
CASE="non-ASCII byte in a sequence"
bad audit 1 "in/latin1\\.fa line 2, column 3: unexpected character '\\?' \\(0xe9\\)" "$IN/latin1.fa"

# ---- focus -----------------------------------------------------------------
CASE="missing focus sequence"
both 1 "in/good\\.fa: focus sequence 'NOPE' not found among 3 records" --focus NOPE "$IN/good.fa"

printf '>gaps\n----------\n>b\nACDEFGHIKL\n' > "$IN/gapfocus.fa"
CASE="focus row of only gaps"
both 1 "in/gapfocus\\.fa line 1: the focus sequence 'gaps' has no uppercase residues \\(all gaps or inserts\\)" --focus gaps "$IN/gapfocus.fa"

CASE="focus row of only gaps (--focus-first)"
bad audit 1 "in/gapfocus\\.fa line 1: the focus sequence 'gaps' has no uppercase residues" --focus-first "$IN/gapfocus.fa"

# A focus range beyond int64 must not produce wrapped (negative) residue
# numbers: either refuse it (exit 1, naming the line) or ignore it.
printf '>a/9223372036854775807-9223372036854775811\nACDEF\n>b\nACDEF\n' > "$IN/bigrange.fa"
CASE="focus range near INT64_MAX"
run_sl audit -q --columns --focus-first "$IN/bigrange.fa"
if [ "$RC" -eq 1 ] && grep -Eq 'in/bigrange\.fa line 1' "$TMP/err"; then
  ok "$CASE: refused with a message naming the line"
elif [ "$RC" -eq 0 ] && ! awk '/^all columns/ { t = 1; next } t && $2 ~ /^-/ { bad = 1 } END { exit !bad }' "$TMP/out"; then
  ok "$CASE: read, and no residue number is negative"
else
  nok "$CASE: exit $RC, residue numbers: $(awk '/^all columns/ { t = 1; next } t && NF > 2 { printf "%s ", $2 }' "$TMP/out") $(errsnip)"
fi

# ---- Stockholm -------------------------------------------------------------
printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\n' > "$IN/noend.sto"
CASE="Stockholm without //"
both 1 "in/noend\\.sto line 3: end of file before the '//' that ends a Stockholm alignment" "$IN/noend.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\n\nseq1 GHIKL\nseq3 GHIKL\n//\n' > "$IN/newname.sto"
CASE="Stockholm: name missing from the first block"
both 1 "in/newname\\.sto line 6: sequence 'seq3' does not appear in the first block" "$IN/newname.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDE\n//\n' > "$IN/ragged.sto"
CASE="Stockholm rows of different lengths"
both 1 "in/ragged\\.sto line 3: sequence 'seq2' has 4 aligned columns, but 'seq1' has 5; all rows must have the same length" "$IN/ragged.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\n\nseq1 GHIKL\n//\n' > "$IN/missing_block2.sto"
CASE="Stockholm: row missing from the second block"
both 1 "in/missing_block2\\.sto line 3: sequence 'seq2' has 5 aligned columns, but 'seq1' has 10" "$IN/missing_block2.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\n//\n# STOCKHOLM 1.0\nseq1 ACDEF\n//\n' > "$IN/two.sto"
CASE="Stockholm: a second alignment after //"
both 1 "in/two\\.sto line 5: a second alignment follows '//'; seqloop reads one alignment per file" "$IN/two.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2\n//\n' > "$IN/onefield.sto"
CASE="Stockholm: row with one field"
bad audit 1 "in/onefield\\.sto line 3: expected '<name> <aligned sequence>' \\(two fields\\), found one field" "$IN/onefield.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\nseq1 ACDEF\n//\n' > "$IN/twice.sto"
CASE="Stockholm: name twice in one block"
bad audit 1 "in/twice\\.sto line 4: sequence 'seq1' appears twice in one block" "$IN/twice.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 AC1EF\n//\n' > "$IN/digit.sto"
CASE="Stockholm: unknown character"
bad audit 1 "in/digit\\.sto line 3, column 8: unexpected character '1' \\(0x31\\)" "$IN/digit.sto"

printf '# STOCKHOLM 1.0\nseq1 ACDEF\nseq2 ACDEF\n#=GC RF xxxx\n//\n' > "$IN/rf.sto"
CASE="Stockholm: #=GC RF of the wrong length"
bad audit 1 "in/rf\\.sto: the #=GC RF line has 4 columns, but the rows have 5" "$IN/rf.sto"

printf '# STOCKHOLM 1.0\n#=GF ID empty\n//\n' > "$IN/nosq.sto"
CASE="Stockholm with no sequences"
both 1 "in/nosq\\.sto: no sequences found" "$IN/nosq.sto"

CASE="Stockholm file read with --format a2m"
bad audit 1 "in/two\\.sto line 1: this is a Stockholm file, but format a2m was requested" --format a2m "$IN/two.sto"

CASE="FASTA file read with --format stockholm"
bad audit 1 "in/good\\.fa line 1: expected '# STOCKHOLM 1\\.0' header" --format stockholm "$IN/good.fa"

# ---- gzip ------------------------------------------------------------------
gz_size=$(wc -c < "$IN/fam.fa.gz")
head -c $((gz_size / 2)) "$IN/fam.fa.gz" > "$IN/cut.fa.gz"
CASE="truncated gzip (cut in the middle)"
both 1 "in/cut\\.fa\\.gz: truncated or corrupt gzip stream after line [0-9]+ \\(.*unexpected end of file\\)" "$IN/cut.fa.gz"

head -c $((gz_size - 4)) "$IN/fam.fa.gz" > "$IN/cut_trailer.fa.gz"
CASE="truncated gzip (trailer cut)"
bad audit 1 "in/cut_trailer\\.fa\\.gz: truncated or corrupt gzip stream after line 120" "$IN/cut_trailer.fa.gz"

cp "$IN/fam.fa.gz" "$IN/corrupt.fa.gz"
printf '\377\000\377\000\377\000\377\000' | dd of="$IN/corrupt.fa.gz" bs=1 seek=$((gz_size / 2)) conv=notrunc 2> /dev/null
CASE="corrupt gzip (bytes flipped in the middle)"
both 1 "in/corrupt\\.fa\\.gz: (corrupt gzip data near line [0-9]+|truncated or corrupt gzip stream after line [0-9]+) \\(" "$IN/corrupt.fa.gz"

printf '\037\213' > "$IN/magic_only.gz"
CASE="gzip magic and nothing else"
bad audit 1 "in/magic_only\\.gz: .*(gzip|empty file)" "$IN/magic_only.gz"

# ---- 10 MB lines -------------------------------------------------------------
MB10=10485760
{ printf '>'; head -c "$MB10" /dev/zero | tr '\0' 'H'; printf '\nACDEF\n'; } > "$IN/bighdr.fa"
CASE="10 MB header line"
both 1 "in/bighdr\\.fa line 1: header is 10485761 characters long; at most 1048576 are accepted" "$IN/bighdr.fa"

{ printf '>long\n'; yes ACDEFGHIKLMNPQRSTVWY | tr -d '\n' | head -c "$MB10"; printf '\n>short\nACDEFGHIKL\n'; } > "$IN/bigrow.fa"
CASE="10 MB sequence line beside a short row"
both 1 "in/bigrow\\.fa line 3: row 'short' has 10 aligned columns \\(10 match columns\\), but the first row 'long' has 10485760" "$IN/bigrow.fa"

{ printf '# STOCKHOLM 1.0\nlong '; head -c "$MB10" /dev/zero | tr '\0' 'A'; printf '\n//\n'; } > "$IN/bigline.sto"
CASE="10 MB Stockholm line"
bad audit 1 "in/bigline\\.sto line 2: line is 10485765 characters long; at most 1048576 are accepted in Stockholm" "$IN/bigline.sto"

{ printf '>long single record\n'; yes ACDEFGHIKLMNPQRSTVWY | tr -d '\n' | head -c "$MB10"; printf '\n'; } > "$IN/bigone.fa"
CASE="single record with a 10 MB sequence line (valid)"
run_sl ingest -o "$TMP/x.fa" "$IN/bigone.fa"
check "$CASE: ingest exits 0 (got $RC: $(errsnip))" test "$RC" -eq 0
check "$CASE: summary reports 1 record of 10485760 columns" \
  grep -Eq 'aligned layout, protein alphabet, 1 records, 10485760 columns' "$TMP/err"
check "$CASE: output is the record, 10485760 residues" \
  test "$(head -n 1 "$TMP/x.fa" 2> /dev/null)" = ">long" -a "$(tail -n 1 "$TMP/x.fa" 2> /dev/null | wc -c)" -eq $((MB10 + 1))
check "$CASE: output identical to the input sequence" \
  cmp -s <(tail -n 1 "$IN/bigone.fa") <(tail -n 1 "$TMP/x.fa")
rm -f "$TMP/x.fa"

# ---- files that are not files ------------------------------------------------
CASE="nonexistent file"
both 1 "cannot open $TMP/in/nope\\.fa: No such file or directory" "$IN/nope.fa"

mkdir -p "$IN/adir"
CASE="directory as input"
both 1 "in/adir.*([Ii]s a directory|not a regular file)" "$IN/adir"
run_sl audit "$IN/adir"
check "$CASE: message does not call a directory corrupt gzip data ($(errsnip))" \
  bash -c '! grep -qi gzip "$1"' _ "$TMP/err"

# ---- weights files ------------------------------------------------------------
printf '1\n1\n' > "$IN/w_short.w"
CASE="weights file with too few lines"
both 1 "in/w_short\\.w: 2 weights, but $TMP/in/good\\.fa has 3 records" --weights-in "$IN/w_short.w" "$IN/good.fa"

printf '1\n1\n1\n1\n' > "$IN/w_long.w"
CASE="weights file with too many lines"
both 1 "in/w_long\\.w line 4: more weights than the 3 records of" --weights-in "$IN/w_long.w" "$IN/good.fa"

printf '# a comment\n1\n-0.5\n1\n' > "$IN/w_neg.w"
CASE="weights file with a negative weight"
both 1 "in/w_neg\\.w line 3: expected a non-negative weight, found '-0\\.5'" --weights-in "$IN/w_neg.w" "$IN/good.fa"

printf '1\nnan\n1\n' > "$IN/w_nan.w"
CASE="weights file with NaN"
bad audit 1 "in/w_nan\\.w line 2: expected a non-negative weight, found 'nan'" --weights-in "$IN/w_nan.w" "$IN/good.fa"

printf 'weight\tname\n1\ta\n0.5\tzz\n1\tc\n' > "$IN/w_name.w"
CASE="weights file with a wrong name"
both 1 "in/w_name\\.w line 3: weight for 'zz', but record 2 of .*in/good\\.fa is 'b'" --weights-in "$IN/w_name.w" "$IN/good.fa"

CASE="weights file that does not exist"
bad audit 1 "cannot open $TMP/in/nope\\.w" --weights-in "$IN/nope.w" "$IN/good.fa"

CASE="weights file is binary"
bad audit 1 "in/junk\\.bin line 1: binary data" --weights-in "$IN/junk.bin" "$IN/good.fa"

# ---- options (usage errors: exit 2) ---------------------------------------------
CASE="--theta abc"
both 2 "--theta: expected a number, not 'abc'" --theta abc "$IN/good.fa"
CASE="--max-gap-frac 2"
both 2 "--max-gap-frac: expected a number in \\[0, 1\\], not '2'" --max-gap-frac 2 "$IN/good.fa"
CASE="--min-coverage -0.1"
bad audit 2 "--min-coverage: expected a number in \\[0, 1\\], not '-0\\.1'" --min-coverage -0.1 "$IN/good.fa"
CASE="--format xyz"
both 2 "--format: expected auto, fasta, a2m, a3m or stockholm, not 'xyz'" --format xyz "$IN/good.fa"
CASE="--alphabet xyz"
bad audit 2 "--alphabet: expected auto, protein, dna or rna, not 'xyz'" --alphabet xyz "$IN/good.fa"
CASE="--convention xyz"
bad audit 2 "--convention: expected plmc or eve, not 'xyz'" --convention xyz "$IN/good.fa"
CASE="--threads 0"
bad audit 2 "^seqloop audit: --threads: expected an integer in \\[1, 4096\\], not '0'" --threads 0 "$IN/good.fa"
CASE="--nonstandard keep"
bad audit 2 "--nonstandard: expected drop or gap, not 'keep'" --nonstandard keep "$IN/good.fa"
CASE="--top abc"
bad audit 2 "^seqloop audit: --top: expected an integer in \\[1, 1000000\\], not 'abc'" --top abc "$IN/good.fa"
CASE="--focus '' (empty name)"
bad audit 2 "^seqloop audit: --focus: expected a value \\(NAME\\), not an empty string" --focus '' "$IN/good.fa"
CASE="no input file"
bad audit 2 "expected one alignment file \\(or '-'\\)"
CASE="two input files"
bad audit 2 "expected one alignment file \\(or '-'\\)" "$IN/good.fa" "$IN/good.fa"

# ---- output paths ------------------------------------------------------------
CASE="unwritable output path (audit)"
expect_error 1 "cannot create output file /nonexistent/dir/x: No such file or directory" audit -o /nonexistent/dir/x "$IN/good.fa"
CASE="unwritable output path (weights)"
expect_error 1 "cannot create output file /nonexistent/dir/x: No such file or directory" weights -o /nonexistent/dir/x "$IN/good.fa"

mkdir -p "$TMP/outdir"
CASE="output path is an existing directory"
expect_error 1 "outdir.*[Ii]s a directory" weights -o "$TMP/outdir" "$IN/good.fa"
check "$CASE: directory untouched and no temporary left" \
  bash -c 'shopt -s nullglob dotglob; inside=("$1"/outdir/*) tmps=("$1"/.outdir.tmp.*)
           [ -d "$1/outdir" ] && [ ${#inside[@]} -eq 0 ] && [ ${#tmps[@]} -eq 0 ]' _ "$TMP"

# ---- valid inputs at the edges ------------------------------------------------
printf '>a\r\nACDEFGHIKL\r\n>b\r\nACDEFGHIKA\r\n' > "$IN/crlf.fa"
CASE="CRLF line endings (valid)"
run_sl audit "$IN/crlf.fa"
check "$CASE: exit 0, N 2 and L 10 (got $RC: $(errsnip))" \
  bash -c '[ "$1" -eq 0 ] && grep -Eq "^rows \(N\) +2 of 2" "$2" && grep -Eq "^columns \(L\) +10 of 10" "$2"' _ "$RC" "$TMP/out"

# ---- standard input ------------------------------------------------------------
CASE="stdin (plain)"
cat "$IN/fam.fa" | "$BIN" audit --provenance "$TMP/p1.json" - > "$TMP/out" 2> "$TMP/err"; RC=$?
check "$CASE: exit 0 (got $RC: $(errsnip))" test "$RC" -eq 0
check "$CASE: report names <stdin> and 60 rows" \
  grep -Eq '^alignment +<stdin> \(aligned, protein\)' "$TMP/out"
check "$CASE: rows (N) 60 of 60" grep -Eq '^rows \(N\) +60 of 60 records' "$TMP/out"
plain_sha=$(json_get "$TMP/p1.json" 'd["inputs"][0]["sha256"]')
check "$CASE: sha256 is that of the input" test "$plain_sha" = "$(sha256sum < "$IN/fam.fa" | cut -d' ' -f1)"

CASE="stdin (gzip)"
cat "$IN/fam.fa.gz" | "$BIN" audit --provenance "$TMP/p2.json" - > "$TMP/out" 2> "$TMP/err"; RC=$?
check "$CASE: exit 0 (got $RC: $(errsnip))" test "$RC" -eq 0
gz_sha=$(json_get "$TMP/p2.json" 'd["inputs"][0]["sha256"]')
check "$CASE: same sha256 (of the decompressed bytes) as plain stdin" \
  test -n "$gz_sha" -a "$gz_sha" = "$plain_sha"

CASE="stdin (weights, gzip)"
cat "$IN/fam.fa.gz" | "$BIN" weights -q -o "$OUT" - 2> "$TMP/err"; RC=$?
check "$CASE: exit 0 and 60 weight lines" \
  test "$RC" -eq 0 -a "$(grep -c $'^[0-9.e+-]*\tseq' "$OUT" 2> /dev/null)" -eq 60
rm -f "$OUT"

CASE="stdin (empty)"
: | "$BIN" audit - > "$TMP/out" 2> "$TMP/err"; RC=$?
check "$CASE: exit 1 with '<stdin>: empty file' (got $RC: $(errsnip))" \
  bash -c '[ "$1" -eq 1 ] && grep -Eq "<stdin>: empty file" "$2"' _ "$RC" "$TMP/err"

CASE="stdin (truncated gzip)"
cat "$IN/cut.fa.gz" | "$BIN" audit - > "$TMP/out" 2> "$TMP/err"; RC=$?
check "$CASE: exit 1 with '<stdin>: truncated or corrupt gzip stream' (got $RC: $(errsnip))" \
  bash -c '[ "$1" -eq 1 ] && grep -Eq "<stdin>: truncated or corrupt gzip stream" "$2"' _ "$RC" "$TMP/err"

CASE="stdin (ragged rows)"
cat "$IN/ragged.fa" | "$BIN" weights -o "$OUT" - > "$TMP/out" 2> "$TMP/err"; RC=$?
check "$CASE: exit 1 with '<stdin> line 3: row 'b'' (got $RC: $(errsnip))" \
  bash -c '[ "$1" -eq 1 ] && grep -Eq "<stdin> line 3: row .b. has 5 aligned columns" "$2"' _ "$RC" "$TMP/err"
no_leftovers

finish
