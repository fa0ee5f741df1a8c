#!/usr/bin/python3
"""bench/potts_helper.py - small helpers for bench/potts_validate.sh.

Independent of seqloop's code: plain Python + numpy/scipy.

  potts_helper.py fx ERRFILE
      plmc's last iteration line -> 'iter fx' (fx as plmc prints it, one decimal)
  potts_helper.py slfinal ERRFILE
      seqloop fit's final line -> 'iterations objective'
  potts_helper.py plmcmap A2M FOCUS
      focus-residue number -> plmc index ('res plmc_index letter' per kept column).
      plmc numbers a kept column by its raw alignment column (1-based) + start - 1;
      seqloop (EVcouplings' rule) by the count of focus residues, upper + lower case.
  potts_helper.py topl PLMC_COUPLINGS SEQLOOP_CONTACTS A2M FOCUS L [plmc|seqloop]
      fraction of plmc's top-L pairs (by its score column) that are in seqloop's
      top-L. The last argument says in which numbering the seqloop table is
      (seqloop: focus residues, so plmc's indices are mapped; plmc: as in plmc).
  potts_helper.py topl2 PLMC_COUPLINGS_A PLMC_COUPLINGS_B L
      the same between two plmc couplings files (reference: double vs float)
  potts_helper.py toplsl CONTACTS_A CONTACTS_B L
      fraction of A's top-L pairs in B's top-L, for two seqloop contact tables
  potts_helper.py cmpcoup PLMC_COUPLINGS SEQLOOP_CONTACTS
      max |score difference| over pairs (same numbering), pairs compared, and the
      Spearman rank correlation of the two score lists
  potts_helper.py renumber CSV A2M FOCUS OUT
      rewrites the 'mutant' column from focus-residue numbering to plmc's
      column numbering (to score with a model converted from a plmc file);
      mutants at focus positions plmc does not keep are left unchanged
  potts_helper.py gb1csv SINGLES WT OUT
      Olson 2014 singles -> CSV mutant,fitness (mutant = WT + (pos + 226) + Mut,
      fitness = ln((sel/in)/(sel_wt/in_wt))); rows with a zero count are dropped;
      prints 'kept N dropped M'
  potts_helper.py chainseq CIF CHAIN
      one-letter sequence of the chain's residues with a CA atom (first model)
  potts_helper.py precision CONTACTS CIF CHAIN [MINSEP]
      independent contact precision of a seqloop contacts table against a structure
  potts_helper.py bestfocus ALN CIF CHAIN
      the alignment row with the highest local-alignment identity to the chain
      -> 'name identity aligned_length'
  potts_helper.py scorecorr CSV_A COL_A CSV_B COL_B
      Spearman between two score columns, joined on 'mutant' (rows in both)
  potts_helper.py json KEY FILE
      value of a top-level key of a flat JSON file
"""
import csv
import json
import math
import sys

import numpy as np
from scipy.stats import spearmanr


def read_fasta(path):
    name, seq, out = None, [], []
    with open(path) as fh:
        for line in fh:
            line = line.rstrip("\n\r")
            if line.startswith(">"):
                if name is not None:
                    out.append((name, "".join(seq)))
                name, seq = line[1:].split()[0] if line[1:].split() else "", []
            else:
                seq.append(line.strip())
    if name is not None:
        out.append((name, "".join(seq)))
    return out


def focus_row(a2m, focus):
    rows = read_fasta(a2m)
    for n, s in rows:
        if n == focus or n.split("/")[0] == focus:
            return n, s
    for n, s in rows:
        if n.startswith(focus):
            return n, s
    raise SystemExit("focus %s not found in %s" % (focus, a2m))


def plmc_map(a2m, focus):
    """list of (residue_number, plmc_index, letter) for the kept focus columns"""
    name, s = focus_row(a2m, focus)
    start = 1
    if "/" in name:
        try:
            start = int(name.split("/")[1].split("-")[0])
        except ValueError:
            start = 1
    res = start
    out = []
    for c, ch in enumerate(s):
        if ch.isalpha():
            if ch.isupper():
                out.append((res, c + start, ch))
            res += 1
    return out


def read_plmc_couplings(path):
    d = {}
    with open(path) as fh:
        for line in fh:
            f = line.split()
            if len(f) < 6:
                continue
            d[(int(f[0]), int(f[2]))] = float(f[5])
    return d


def read_sl_contacts(path):
    d = {}
    with open(path) as fh:
        rows = [l for l in fh if not l.startswith("#")]
    rd = csv.DictReader(rows)
    for r in rd:
        i, j = int(r["i"]), int(r["j"])
        d[(min(i, j), max(i, j))] = float(r["score"])
    return d


def topset(d, L):
    items = sorted(d.items(), key=lambda kv: -kv[1])
    return set(k for k, _ in items[:L])


def cmd_fx(path):
    last = None
    with open(path) as fh:
        for line in fh:
            f = line.split("\t")
            if len(f) >= 7 and f[0].strip().isdigit():
                last = f
    if last is None:
        raise SystemExit("no iteration line in " + path)
    print(last[0], last[3])


def cmd_slfinal(path):
    last_iter = None
    obj = None
    with open(path) as fh:
        for line in fh:
            f = line.split("\t")
            if len(f) >= 4 and f[0].strip().isdigit():
                last_iter = f
            if "objective" in line and ("converged" in line or "stopped" in line
                                        or "after" in line):
                obj = line.strip().split("objective")[-1].strip().rstrip(")")
    if last_iter is None:
        raise SystemExit("no iteration line in " + path)
    print(last_iter[0], obj if obj is not None else last_iter[3])


def cmd_plmcmap(a2m, focus):
    for r, p, ch in plmc_map(a2m, focus):
        print(r, p, ch)


def cmd_topl(plmc_c, sl_c, a2m, focus, L, numbering="seqloop"):
    L = int(L)
    p = read_plmc_couplings(plmc_c)
    s = read_sl_contacts(sl_c)
    if numbering == "seqloop":
        m = {pl: r for r, pl, _ in plmc_map(a2m, focus)}
        p = {(m[i], m[j]): v for (i, j), v in p.items()}
    ps, ss = topset(p, L), topset(s, L)
    common = set(p) & set(s)
    keys = sorted(common)
    rho = spearmanr([p[k] for k in keys], [s[k] for k in keys]).correlation
    print("%.4f %d %d %d %.6f" % (len(ps & ss) / L, len(ps & ss), L, len(common), rho))


def cmd_topl2(a, b, L):
    L = int(L)
    pa, pb = read_plmc_couplings(a), read_plmc_couplings(b)
    sa, sb = topset(pa, L), topset(pb, L)
    print("%.4f %d %d" % (len(sa & sb) / L, len(sa & sb), L))


def cmd_toplsl(a, b, L):
    """top-L overlap and Spearman between two seqloop contact tables (same numbering)"""
    L = int(L)
    da, db = read_sl_contacts(a), read_sl_contacts(b)
    sa, sb = topset(da, L), topset(db, L)
    keys = sorted(set(da) & set(db))
    rho = spearmanr([da[k] for k in keys], [db[k] for k in keys]).correlation
    print("%.4f %d %d %d %.6f" % (len(sa & sb) / L, len(sa & sb), L, len(keys), rho))


def cmd_cmpcoup(plmc_c, sl_c):
    p = read_plmc_couplings(plmc_c)
    s = read_sl_contacts(sl_c)
    common = sorted(set(p) & set(s))
    diff = max(abs(p[k] - s[k]) for k in common)
    rho = spearmanr([p[k] for k in common], [s[k] for k in common]).correlation
    print("%.3g %d %d %d %.8f" % (diff, len(common), len(p), len(s), rho))


def cmd_renumber(csvin, a2m, focus, out):
    m = {r: (pl, ch) for r, pl, ch in plmc_map(a2m, focus)}
    with open(csvin, newline="", encoding="utf-8-sig") as fh:
        rd = csv.reader(fh)
        header = next(rd)
        k = header.index("mutant")
        rows = list(rd)
    changed = 0
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header + ["mutant_focus"])
        for r in rows:
            orig = r[k]
            muts = []
            for mu in r[k].split(":"):
                wt, pos, mt = mu[0], int(mu[1:-1]), mu[-1]
                if pos in m:
                    if m[pos][1] != wt:
                        raise SystemExit("wild type mismatch %s (focus has %s)" % (mu, m[pos][1]))
                    if m[pos][0] != pos:
                        changed += 1
                    pos = m[pos][0]
                muts.append("%s%d%s" % (wt, pos, mt))
            r[k] = ":".join(muts)
            w.writerow(r + [orig])
    print("rows %d renumbered_mutations %d" % (len(rows), changed))


def cmd_gb1csv(singles, wt, out):
    with open(wt, newline="", encoding="utf-8-sig") as fh:
        r = next(csv.DictReader(fh))
    in_wt = float(r["Input Count"])
    sel_wt = float(r["Selection Count"])
    kept = dropped = 0
    with open(singles, newline="", encoding="utf-8-sig") as fh, \
            open(out, "w", newline="") as fo:
        w = csv.writer(fo, lineterminator="\n")
        w.writerow(["mutant", "fitness"])
        for r in csv.DictReader(fh):
            a = float(r["Input Count"])
            b = float(r["Selection Count"])
            if a <= 0 or b <= 0:
                dropped += 1
                continue
            pos = int(r["Position"]) + 226
            fit = math.log((b / a) / (sel_wt / in_wt))
            w.writerow(["%s%d%s" % (r["WT amino acid"], pos, r["Mutation"]), "%.6f" % fit])
            kept += 1
    print("kept %d dropped %d in_wt %g sel_wt %g" % (kept, dropped, in_wt, sel_wt))


THREE = {"ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q",
         "GLU": "E", "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K",
         "MET": "M", "PHE": "F", "PRO": "P", "SER": "S", "THR": "T", "TRP": "W",
         "TYR": "Y", "VAL": "V", "MSE": "M", "SEC": "U"}


def chain_seq(cif, chain):
    cols, rows, inloop = [], [], False
    seq, seen = [], set()
    with open(cif) as fh:
        for line in fh:
            if line.startswith("_atom_site."):
                cols.append(line.strip())
                inloop = True
                continue
            if inloop and (line.startswith("ATOM") or line.startswith("HETATM")):
                f = line.split()
                d = dict(zip(cols, f))
                if d.get("_atom_site.pdbx_PDB_model_num", "1") != "1":
                    continue
                if d["_atom_site.auth_asym_id"] != chain:
                    continue
                if d["_atom_site.label_atom_id"] != "CA":
                    continue
                key = (d["_atom_site.auth_seq_id"], d.get("_atom_site.pdbx_PDB_ins_code", "?"))
                if key in seen:
                    continue
                aa = THREE.get(d["_atom_site.label_comp_id"])
                if aa is None:
                    continue
                seen.add(key)
                seq.append(aa)
            elif inloop and cols and not line.startswith(("ATOM", "HETATM")):
                if seq:
                    break
    return "".join(seq)


def chain_residues(cif, chain):
    """[(letter, xyz of CB, or CA for Gly / when CB is missing)] for the chain (model 1)"""
    cols, res, order = [], {}, []
    with open(cif) as fh:
        for line in fh:
            if line.startswith("_atom_site."):
                cols.append(line.strip())
                continue
            if not (cols and (line.startswith("ATOM") or line.startswith("HETATM"))):
                continue
            d = dict(zip(cols, line.split()))
            if d.get("_atom_site.pdbx_PDB_model_num", "1") != "1" or d["_atom_site.auth_asym_id"] != chain:
                continue
            aa = THREE.get(d["_atom_site.label_comp_id"])
            if aa is None:
                continue
            key = (d["_atom_site.auth_seq_id"], d.get("_atom_site.pdbx_PDB_ins_code", "?"))
            if key not in res:
                res[key] = [aa, None, None]
                order.append(key)
            xyz = np.array([float(d["_atom_site.Cartn_x"]), float(d["_atom_site.Cartn_y"]),
                            float(d["_atom_site.Cartn_z"])])
            atom = d["_atom_site.label_atom_id"]
            if atom == "CA" and res[key][1] is None:
                res[key][1] = xyz
            if atom == "CB" and res[key][2] is None:
                res[key][2] = xyz
    out = []
    for k in order:
        aa, ca, cb = res[k]
        if ca is None:
            continue
        out.append((aa, cb if (cb is not None and aa != "G") else ca))
    return out


def sw_align(a, b):
    """local alignment (match +2, mismatch -1, gap -4): list of (i, j) aligned index pairs"""
    n, m = len(a), len(b)
    H = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            s = 2 if a[i - 1] == b[j - 1] else -1
            H[i, j] = max(0, H[i - 1, j - 1] + s, H[i - 1, j] - 4, H[i, j - 1] - 4)
    i, j = np.unravel_index(int(np.argmax(H)), H.shape)
    pairs = []
    while i > 0 and j > 0 and H[i, j] > 0:
        s = 2 if a[i - 1] == b[j - 1] else -1
        if H[i, j] == H[i - 1, j - 1] + s:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif H[i, j] == H[i - 1, j] - 4:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def cmd_precision(contacts, cif, chain, minsep="6"):
    """independent contact precision: focus sequence (from the contacts table) aligned
    to the chain; C-beta (C-alpha for Gly) < 8 A; pairs |i-j| >= minsep; pairs with a
    residue that has no structure position are skipped (not counted)"""
    minsep = int(minsep)
    with open(contacts) as fh:
        rows = list(csv.DictReader([l for l in fh if not l.startswith("#")]))
    letter = {}
    for r in rows:
        letter[int(r["i"])] = r["A_i"]
        letter[int(r["j"])] = r["A_j"]
    nums = sorted(letter)
    fseq = "".join(letter[k] for k in nums)
    cres = chain_residues(cif, chain)
    cseq = "".join(a for a, _ in cres)
    pairs = sw_align(fseq, cseq)
    pos = {nums[i]: cres[j][1] for i, j in pairs}
    ident = sum(fseq[i] == cseq[j] for i, j in pairs)
    L = len(nums)
    ranked = []
    for r in sorted(rows, key=lambda r: -float(r["score"])):
        i, j = int(r["i"]), int(r["j"])
        if abs(i - j) < minsep or i not in pos or j not in pos:
            continue
        ranked.append(np.linalg.norm(pos[i] - pos[j]) < 8.0)
    out = ["L %d aligned %d identity %.3f" % (L, len(pairs), ident / max(1, len(pairs)))]
    for lab, k in (("L/10", max(1, L // 10)), ("L/5", max(1, L // 5)), ("L/2", max(1, L // 2)), ("L", L)):
        top = ranked[:k]
        out.append("%s %.3f" % (lab, sum(top) / len(top) if top else float("nan")))
    print(" ".join(out))


def sw_identity(a, b):
    """local alignment, match +2 / mismatch -1 / gap -2; returns (identities, aligned cols)"""
    n, m = len(a), len(b)
    H = np.zeros((n + 1, m + 1), dtype=np.int32)
    bb = np.frombuffer(b.encode(), dtype=np.uint8)
    best, bi, bj = 0, 0, 0
    for i in range(1, n + 1):
        s = np.where(bb == ord(a[i - 1]), 2, -1).astype(np.int32)
        diag = H[i - 1, :-1] + s
        up = H[i - 1, 1:] - 2
        row = np.maximum(np.maximum(diag, up), 0)
        # left moves: sequential scan
        out = np.empty(m + 1, dtype=np.int32)
        out[0] = 0
        prev = 0
        for j in range(1, m + 1):
            v = row[j - 1]
            if prev - 2 > v:
                v = prev - 2
            out[j] = v
            prev = v
        H[i] = out
        j = int(np.argmax(out))
        if out[j] > best:
            best, bi, bj = int(out[j]), i, j
    # traceback
    i, j, ident, cols = bi, bj, 0, 0
    while i > 0 and j > 0 and H[i, j] > 0:
        s = 2 if a[i - 1] == b[j - 1] else -1
        if H[i, j] == H[i - 1, j - 1] + s:
            ident += a[i - 1] == b[j - 1]
            cols += 1
            i, j = i - 1, j - 1
        elif H[i, j] == H[i - 1, j] - 2:
            i -= 1
        else:
            j -= 1
    return ident, cols


def cmd_chainseq(cif, chain):
    print(chain_seq(cif, chain))


def cmd_bestfocus(aln, cif, chain):
    cs = chain_seq(cif, chain)
    best = None
    for name, s in read_fasta(aln):
        u = "".join(ch.upper() for ch in s if ch.isalpha())
        if not u:
            continue
        ident, cols = sw_identity(u, cs)
        frac = ident / max(1, len(u))
        key = (frac, ident)
        if best is None or key > best[0]:
            best = (key, name, ident, cols, len(u))
    (frac, _), name, ident, cols, n = best
    print(name, "%.3f" % frac, ident, n)


def read_scores(path, col):
    with open(path, newline="") as fh:
        rows = [l for l in fh if not l.startswith("#")]
    d = {}
    for r in csv.DictReader(rows):
        try:
            d[r.get("mutant_focus") or r["mutant"]] = float(r[col])
        except (ValueError, KeyError):
            pass
    return d


def cmd_scorecorr(a, ca, b, cb):
    da, db = read_scores(a, ca), read_scores(b, cb)
    keys = sorted(set(da) & set(db))
    rho = spearmanr([da[k] for k in keys], [db[k] for k in keys]).correlation
    print("%.6f %d" % (rho, len(keys)))


def cmd_json(key, path):
    with open(path) as fh:
        print(json.load(fh)[key])


if __name__ == "__main__":
    cmd = sys.argv[1]
    fn = globals().get("cmd_" + cmd)
    if fn is None:
        raise SystemExit(__doc__)
    fn(*sys.argv[2:])
