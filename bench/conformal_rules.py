#!/usr/bin/python3
"""bench/conformal_rules.py: calibration rules for the loop's 'recent' intervals,
evaluated offline on kept ledgers (KEEP=DIR bench/design_alde.sh ...).

For every designed batch of round k >= 3 it rebuilds a nominal 90% interval
for each design from the designed batches of earlier rounds (their
measurements and the predictions of the round that proposed them, as stored
in the ledger), and reports the share of the batch inside it and the mean
width, per rule and round. Rules (score s = |y - mean| / g(mean, sd); the
interval is mean +- q g, q the split-conformal quantile of the calibration
scores):
  g = sd, batch k-1            the loop's 'recent' (docs/design.md)
  g = sd, max over batches     q = the largest per-batch quantile of rounds 2..k-1
  g = sd, pooled               all designed batches of rounds 2..k-1 together
  g = 1 (raw errors), batch k-1
  g = sd + abs(mean), batch k-1  errors taken to grow with the predicted fitness
  g = sqrt(sd^2 + mean^2), batch k-1
  g = sd, batch k-1, adaptive alpha  (session 9) adaptive conformal inference
                               (Gibbs & Candes, NeurIPS 2021) across rounds: round 3
                               at alpha 0.1, then alpha_{k+1} = alpha_k + gamma (0.1 -
                               the miscoverage of batch k), gamma 0.5 and 1; alpha <= 0
                               gives an unbounded interval. Its guarantee is on the
                               long-run average over rounds, not per round.
It also prints, per round, the mean prediction and the mean measurement of the
designed batch: the selection bias the intervals must absorb.
Usage: bench/conformal_rules.py 'DIR/new-*.db'. Not a test.
"""
import collections, glob, math, sqlite3, sys
import numpy as np

def load(db):
    c = sqlite3.connect(db)
    rows = c.execute("""SELECT s.round, m.value, p.mean, p.sd FROM sequences s
        JOIN measurements m ON m.seq = s.id JOIN predictions p ON p.seq = s.id AND p.round = s.round
        WHERE s.origin = 'designed' AND m.value IS NOT NULL""").fetchall()
    d = collections.defaultdict(list)
    for r in rows: d[r[0]].append(r[1:])
    return {k: np.array(v, dtype=float) for k, v in d.items()}

def cq(sc, alpha=0.1):  # the ceil((1 - alpha)(n + 1))-th smallest score, inf if beyond n
    if alpha <= 0: return math.inf
    n = len(sc); k = math.ceil((1 - alpha) * (n + 1))
    return math.inf if k > n else float(np.sort(sc)[k - 1])

G = {"sd": lambda mu, sd: np.maximum(sd, 1e-9), "raw": lambda mu, sd: np.ones_like(sd),
     "sd+abs(mean)": lambda mu, sd: sd + np.abs(mu), "hypot": lambda mu, sd: np.maximum(np.hypot(sd, mu), 1e-9)}
RULES = [("sd", "last"), ("sd", "max"), ("sd", "pooled"), ("raw", "last"), ("sd+abs(mean)", "last"), ("hypot", "last"),
         ("sd", "aci0.5"), ("sd", "aci1")]
res = collections.defaultdict(list)
bias = collections.defaultdict(list)
files = sorted(glob.glob(sys.argv[1]))
for f in files:
    d = load(f)
    alpha = {how: 0.1 for _, how in RULES}  # the adaptive rules' alpha for the next round
    for k in sorted(d):
        bias[k].append((d[k][:, 1].mean(), d[k][:, 0].mean()))
        if k < 3 or (k - 1) not in d: continue
        y, mu, sd = d[k].T
        prev = [d[r] for r in range(2, k) if r in d]
        for gname, how in RULES:
            g = G[gname]
            sc = lambda b: np.abs(b[:, 0] - b[:, 1]) / g(b[:, 1], b[:, 2])
            q = (cq(sc(d[k - 1]), alpha[how]) if how == "last" or how.startswith("aci")
                 else max(cq(sc(b)) for b in prev) if how == "max" else cq(np.concatenate([sc(b) for b in prev])))
            cov = np.mean(np.abs(y - mu) <= q * g(mu, sd))
            if how.startswith("aci"): alpha[how] += float(how[3:]) * (0.1 - (1 - cov))
            # width: mean over the seeds whose interval is bounded (an alpha <= 0 gives none)
            res[(gname, how, k)].append((cov, np.mean(2 * q * g(mu, sd)) if q < math.inf else np.nan))
rounds = sorted({k for (_, _, k) in res})
print(f"{len(files)} ledgers\n")
print("| g | calibration | " + " | ".join(f"round {k}: coverage | width" for k in rounds) + " |")
print("|---|---|" + "---|---|" * len(rounds))
for gname, how in RULES:
    cells = []
    for k in rounds:
        v = np.array(res[(gname, how, k)])
        cells += [f"{v[:, 0].mean():.3f}", f"{np.nanmean(v[:, 1]):.2f}" if np.isfinite(v[:, 1]).any() else "-"]
    print(f"| {gname} | {how} | " + " | ".join(cells) + " |")
print("\n| round | designed batch: mean prediction | mean measurement |\n|---|---|---|")
for k in sorted(bias):
    b = np.array(bias[k]).mean(0)
    print(f"| {k} | {b[0]:.2f} | {b[1]:.2f} |")
