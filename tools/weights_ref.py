#!/usr/bin/python3
"""Independent numpy reference for sequence weighting (seqloop test oracle).

Usage:
    /usr/bin/python3 tools/weights_ref.py ALIGNMENT [--convention plmc|eve]
        [--theta 0.2] [--focus NAME] [--max-gap-frac 1.0]
        [--min-coverage 0.0] [--summary]

Output (stdout): one line per INPUT record, in file order, with the weight
formatted '%.10e'; rows dropped by preprocessing print 0.0000000000e+00.
With --summary, a single JSON object instead:
    {"n_records", "n_kept", "L", "neff", "dropped_invalid",
     "dropped_coverage", "cols_kept": [original 0-based column indices]}
"cols_kept" indexes the columns of the alignment after A3M insert removal
(for A2M / aligned FASTA: the raw columns).

Input
-----
FASTA-like text (A2M, aligned FASTA, A3M), plain or gzip; gzip is detected
by the magic bytes 1f 8b, never by the file name.  A record is a '>' header
line followed by sequence lines (all whitespace inside them is removed).
The record name is the header text up to the first whitespace (it may be
empty: A3M files often have bare '>' headers).  Blank lines are ignored;
non-blank text before the first header is an error.  Stockholm is not
supported.

Preprocessing (mirrors plmc / EVcouplings)
------------------------------------------
1. Row lengths.  "Stripped" row = raw row minus lowercase letters and '.'.
   * all raw lengths equal           -> A2M / aligned FASTA, used as is;
   * raw lengths differ, stripped
     lengths all equal               -> A3M: lowercase letters and '.' are
                                        inserts and are deleted from every
                                        row (validity, step 2, is still
                                        judged on the raw row);
   * otherwise                       -> malformed, exit 1.
2. Validity (plmc): a row is dropped as "invalid" if ANY character of its
   raw row is outside '-', '.', ACDEFGHIKLMNPQRSTVWY and the lowercase forms
   of those 20 letters (so X, B, Z, U, O, J, '*' anywhere drop the row).
3. Columns.
   * --focus NAME: the focus row is the FIRST record (among all records)
     whose name starts with NAME (prefix match, like plmc's strncmp).  Keep
     exactly the columns where the focus row has an uppercase letter A-Z.
     Focus not found -> exit 1; focus row invalid -> exit 1.
   * no focus: keep every column except those where EVERY record (all
     records, valid or not) has a lowercase letter or '.' (A2M insert
     columns).
4. In kept columns a lowercase letter counts as its uppercase residue and
   '.' counts as the gap '-'.
5. --max-gap-frac g: drop kept columns whose gap fraction over the valid
   rows is > g (strictly).  Default 1.0 keeps every column.
6. --min-coverage c: drop valid rows whose fraction of non-gap characters
   over the final kept columns is < c (strictly); these are counted in
   "dropped_coverage".  Default 0.0 keeps every row.  (With L == 0 the
   coverage of every row is taken as 0.)

Weights on the final N x L matrix (kept rows only)
--------------------------------------------------
* plmc (src/weights.c): identity(n, m) = number of the L columns where the
  two characters are equal, gap == gap counting as a match.  m != n is a
  neighbour of n iff identity >= (1 - theta) * L, the right-hand side
  computed in double precision exactly as written.
  w_n = 1 / (1 + number of neighbours).
* eve (EVE / DeepSequence / ProteinGym proteingym/utils/weights.py): gaps
  never match.  identity(n, m) = (number of columns where both characters
  are equal AND not a gap) / (number of non-gap columns of n), asymmetric,
  a double division.  m != n is a neighbour of n iff identity > 1 - theta
  (strictly).  An all-gap row gets weight 0 and is never anyone's
  neighbour.  w_n = 1 / (1 + number of neighbours).
Neff = sum of the weights (summed in input order, in double).

Match counts are exact integers (one-hot float32 matrix products: every
partial sum is an integer < 2**24, hence exact); only the final threshold
comparison is done in floating point, as specified above.
"""

import argparse
import gzip
import json
import sys

import numpy as np

AMINO = b"ACDEFGHIKLMNPQRSTVWY"
GAP = ord("-")
DOT = ord(".")
BLOCK = 512  # rows per block of the identity computation


class AlignmentError(Exception):
    pass


# ---------------------------------------------------------------- parsing --

def read_records(path):
    """Return a list of (name, raw_sequence_bytes) in file order."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    records = []
    name = None
    chunks = None
    for line in data.splitlines():
        if line.startswith(b">"):
            if name is not None:
                records.append((name, b"".join(chunks)))
            fields = line[1:].split(None, 1)
            name = fields[0].decode("utf-8", "replace") if fields else ""
            chunks = []
        else:
            seq = b"".join(line.split())
            if not seq:
                continue
            if name is None:
                raise AlignmentError("sequence data before the first '>' header")
            chunks.append(seq)
    if name is not None:
        records.append((name, b"".join(chunks)))
    return records


# ---------------------------------------------------------- preprocessing --

def _table(chars):
    t = np.zeros(256, dtype=bool)
    t[np.frombuffer(bytes(chars), dtype=np.uint8)] = True
    return t


IS_LOWER = _table(range(ord("a"), ord("z") + 1))
IS_UPPER = _table(range(ord("A"), ord("Z") + 1))
IS_INSERT = IS_LOWER | _table(b".")
IS_VALID = _table(AMINO + AMINO.lower() + b"-.")

# Final encoding: residue index 0..19, gap = 20.
CODE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(AMINO):
    CODE[_c] = _i
    CODE[_c + 32] = _i          # lowercase -> same residue
CODE[GAP] = 20
CODE[DOT] = 20                  # '.' -> gap
GAP_CODE = 20


def preprocess(records, focus=None, max_gap_frac=1.0, min_coverage=0.0):
    """Apply steps 1-6.  Returns a dict with the encoded matrix and stats."""
    n_records = len(records)
    raws = [np.frombuffer(s, dtype=np.uint8) for _, s in records]
    valid = np.array([bool(IS_VALID[r].all()) for r in raws], dtype=bool)

    # Step 1: A2M/aligned vs A3M vs malformed.
    raw_lens = {len(r) for r in raws}
    if len(raw_lens) <= 1:
        rows = raws
    else:
        stripped = [r[~IS_INSERT[r]] for r in raws]
        if len({len(r) for r in stripped}) != 1:
            raise AlignmentError(
                "malformed alignment: rows have unequal lengths even after "
                "removing lowercase letters and '.'")
        rows = stripped
    ncols = len(rows[0]) if rows else 0
    mat = (np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.uint8))

    # Step 3: column selection.
    if focus is not None:
        idx = next((i for i, (nm, _) in enumerate(records)
                    if nm.startswith(focus)), None)
        if idx is None:
            raise AlignmentError("focus sequence %r not found" % focus)
        if not valid[idx]:
            raise AlignmentError(
                "focus sequence %r (record %d) contains characters outside "
                "the alphabet" % (records[idx][0], idx))
        colmask = IS_UPPER[mat[idx]]
    else:
        if n_records:
            colmask = ~IS_INSERT[mat].all(axis=0)
        else:
            colmask = np.zeros(0, dtype=bool)
    cols = np.nonzero(colmask)[0]

    # Step 4: encode valid rows over kept columns (lowercase->upper, '.'->'-').
    valid_idx = np.nonzero(valid)[0]
    enc = CODE[mat[np.ix_(valid_idx, cols)]] if len(cols) else \
        np.zeros((len(valid_idx), 0), dtype=np.uint8)
    assert not (enc == 255).any()

    # Step 5: gap-fraction column filter over the valid rows.
    if len(valid_idx) and len(cols):
        gapfrac = (enc == GAP_CODE).sum(axis=0) / float(len(valid_idx))
        keep_c = ~(gapfrac > max_gap_frac)
        cols = cols[keep_c]
        enc = enc[:, keep_c]
    L = len(cols)

    # Step 6: coverage row filter.
    if L:
        coverage = (enc != GAP_CODE).sum(axis=1) / float(L)
    else:
        coverage = np.zeros(len(valid_idx))
    keep_r = ~(coverage < min_coverage)
    kept_idx = valid_idx[keep_r]
    enc = np.ascontiguousarray(enc[keep_r])

    return {
        "n_records": n_records,
        "matrix": enc,
        "kept_idx": kept_idx,
        "cols_kept": cols,
        "dropped_invalid": int(n_records - len(valid_idx)),
        "dropped_coverage": int(len(valid_idx) - len(kept_idx)),
    }


# ---------------------------------------------------------------- weights --

def _one_hot(enc, nstates):
    """N x L codes -> N x (nstates*L) float32 one-hot (codes >= nstates -> 0)."""
    n, L = enc.shape
    oh = np.zeros((n, L, nstates), dtype=np.float32)
    r, c = np.nonzero(enc < nstates)
    oh[r, c, enc[r, c]] = 1.0
    return oh.reshape(n, L * nstates)


def compute_weights(enc, theta=0.2, convention="plmc"):
    """Weights of the rows of an N x L code matrix (gap code = 20)."""
    n, L = enc.shape
    if n == 0:
        return np.zeros(0)
    if L >= 2 ** 24:
        raise AlignmentError("too many columns for exact float32 counts")
    if convention == "plmc":
        oh = _one_hot(enc, 21)              # gap is a state: gap-gap matches
        thr = (1.0 - theta) * L             # double, exactly as written
        neighbours = np.zeros(n, dtype=np.int64)
        for i0 in range(0, n, BLOCK):
            i1 = min(n, i0 + BLOCK)
            ids = np.rint(oh[i0:i1] @ oh.T).astype(np.int64)
            hit = ids >= thr
            hit[np.arange(i1 - i0), np.arange(i0, i1)] = False   # m != n
            neighbours[i0:i1] = hit.sum(axis=1)
        return 1.0 / (1.0 + neighbours)
    if convention == "eve":
        oh = _one_hot(enc, 20)              # gaps are all-zero: never match
        nongap = (enc != GAP_CODE).sum(axis=1).astype(np.int64)
        cutoff = 1.0 - theta
        w = np.zeros(n)
        for i0 in range(0, n, BLOCK):
            i1 = min(n, i0 + BLOCK)
            ids = np.rint(oh[i0:i1] @ oh.T).astype(np.int64)
            denom = nongap[i0:i1]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = ids / denom[:, None].astype(np.float64)
            hit = ratio > cutoff
            hit[:, nongap == 0] = False                         # all-gap: nobody's neighbour
            hit[np.arange(i1 - i0), np.arange(i0, i1)] = False  # m != n
            nb = hit.sum(axis=1)
            blk = 1.0 / (1.0 + nb)
            blk[denom == 0] = 0.0                               # all-gap row: weight 0
            w[i0:i1] = blk
        return w
    raise ValueError("unknown convention %r" % convention)


def neff_of(w):
    s = 0.0
    for x in w.tolist():
        s += x
    return s


# -------------------------------------------------------------------- CLI --

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("alignment")
    ap.add_argument("--convention", choices=("plmc", "eve"), default="plmc")
    ap.add_argument("--theta", type=float, default=0.2)
    ap.add_argument("--focus", default=None)
    ap.add_argument("--max-gap-frac", type=float, default=1.0)
    ap.add_argument("--min-coverage", type=float, default=0.0)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args(argv)

    try:
        records = read_records(args.alignment)
        pre = preprocess(records, args.focus, args.max_gap_frac,
                         args.min_coverage)
        w = compute_weights(pre["matrix"], args.theta, args.convention)
    except (AlignmentError, OSError) as e:
        print("weights_ref: error: %s" % e, file=sys.stderr)
        return 1

    if args.summary:
        out = {
            "n_records": pre["n_records"],
            "n_kept": int(len(pre["kept_idx"])),
            "L": int(len(pre["cols_kept"])),
            "neff": neff_of(w),
            "dropped_invalid": pre["dropped_invalid"],
            "dropped_coverage": pre["dropped_coverage"],
            "cols_kept": [int(c) for c in pre["cols_kept"]],
        }
        print(json.dumps(out))
    else:
        full = np.zeros(pre["n_records"])
        full[pre["kept_idx"]] = w
        sys.stdout.write("".join("%.10e\n" % x for x in full.tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
