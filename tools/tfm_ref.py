#!/usr/bin/python3
"""tfm_ref.py: the PyTorch reference for seqloop's transformer (src/models/tfm.c).

Writes golden files that tests/unit/test_tfm.c compares against: the same
model, the same weights and the same batch, evaluated in float64 by PyTorch
(torch.nn.LayerNorm, torch.nn.functional.gelu(approximate='tanh'), explicit
masked softmax attention, cross_entropy with ignore_index=-1), so the C
float32 code is checked against an independent implementation whose own
rounding error is negligible.

Run with Debian's python3-torch (/usr/bin/python3 tools/tfm_ref.py); the
golden files are committed, so the tests need no torch.

Golden file layout (little-endian):
  b"TFMGOLD1"
  int32 n_layer, d_model, n_head, n_ctx, B, T
  int32 inputs[B*T], int32 targets[B*T]           (-1 = no loss)
  float32 params[P]                                (seqloop's flat order)
  float64 loss                                      (mean NLL over targets)
  float64 row_logp[B]                               (sum of log-probabilities per row)
  float32 logits[B*T*V]
  float32 grads[P]
"""
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

V, BOS, EOS, PAD = 23, 20, 21, 22
NAMES = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
         "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]


def shapes(NL, C, T):
    return {"wte": (V, C), "wpe": (T, C), "ln1w": (NL, C), "ln1b": (NL, C),
            "qkvw": (NL, 3 * C, C), "qkvb": (NL, 3 * C), "attprojw": (NL, C, C),
            "attprojb": (NL, C), "ln2w": (NL, C), "ln2b": (NL, C), "fcw": (NL, 4 * C, C),
            "fcb": (NL, 4 * C), "fcprojw": (NL, C, 4 * C), "fcprojb": (NL, C),
            "lnfw": (C,), "lnfb": (C,)}


class TFM(torch.nn.Module):
    """GPT-2 style pre-norm decoder with tied output, seqloop's parameter names."""

    def __init__(self, NL, C, H, T, dtype=torch.float32):
        super().__init__()
        self.NL, self.C, self.H, self.T = NL, C, H, T
        for n, s in shapes(NL, C, T).items():
            setattr(self, n, torch.nn.Parameter(torch.zeros(s, dtype=dtype)))

    def flat_names(self):
        return NAMES

    def forward(self, idx, targets=None):
        B, T = idx.shape
        C, H, hs = self.C, self.H, self.C // self.H
        x = self.wte[idx] + self.wpe[:T][None]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for l in range(self.NL):
            h = F.layer_norm(x, (C,), self.ln1w[l], self.ln1b[l], eps=1e-5)
            qkv = h @ self.qkvw[l].T + self.qkvb[l]
            q, k, v = qkv.split(C, dim=2)
            q = q.view(B, T, H, hs).transpose(1, 2)
            k = k.view(B, T, H, hs).transpose(1, 2)
            v = v.view(B, T, H, hs).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ self.attprojw[l].T + self.attprojb[l]
            h = F.layer_norm(x, (C,), self.ln2w[l], self.ln2b[l], eps=1e-5)
            h = F.gelu(h @ self.fcw[l].T + self.fcb[l], approximate="tanh")
            x = x + h @ self.fcprojw[l].T + self.fcprojb[l]
        x = F.layer_norm(x, (C,), self.lnfw, self.lnfb, eps=1e-5)
        logits = x @ self.wte.T
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1)
        return logits, loss


def batch_rows(seqs, T):
    """BOS a_1..a_n as inputs, a_1..a_n EOS as targets, padded to T."""
    B = len(seqs)
    inp = np.full((B, T), PAD, dtype=np.int32)
    tgt = np.full((B, T), -1, dtype=np.int32)
    for b, s in enumerate(seqs):
        toks = [BOS] + list(s) + [EOS]
        n = min(len(toks) - 1, T)
        inp[b, :n] = toks[:n]
        tgt[b, :n] = toks[1:n + 1]
    return inp, tgt


def golden(path, NL, C, H, Tctx, seqs, seed):
    rng = np.random.default_rng(seed)
    m = TFM(NL, C, H, Tctx, dtype=torch.float64)
    flat = []
    with torch.no_grad():
        for n in NAMES:
            p = getattr(m, n)
            if n in ("ln1w", "ln2w", "lnfw"):
                a = 1.0 + 0.2 * rng.standard_normal(p.shape)
            elif n.endswith("b"):
                a = 0.1 * rng.standard_normal(p.shape)
            else:
                a = 0.3 * rng.standard_normal(p.shape)
            a = a.astype(np.float32)  # the C side stores float32: use exactly those values
            p.copy_(torch.from_numpy(a.astype(np.float64)))
            flat.append(a.ravel())
    T = max(len(s) + 1 for s in seqs)
    assert T <= Tctx
    inp, tgt = batch_rows(seqs, T)
    logits, loss = m(torch.from_numpy(inp).long(), torch.from_numpy(tgt).long())
    loss.backward()
    lp = torch.log_softmax(logits, dim=-1)
    t = torch.from_numpy(tgt).long()
    row = torch.where(t >= 0, lp.gather(2, t.clamp(min=0)[..., None])[..., 0], torch.zeros(()))
    row_logp = row.sum(dim=1).detach().numpy()
    grads = np.concatenate([getattr(m, n).grad.numpy().astype(np.float32).ravel() for n in NAMES])
    B = len(seqs)
    with open(path, "wb") as f:
        f.write(b"TFMGOLD1")
        f.write(struct.pack("<6i", NL, C, H, Tctx, B, T))
        f.write(inp.astype("<i4").tobytes())
        f.write(tgt.astype("<i4").tobytes())
        f.write(np.concatenate(flat).astype("<f4").tobytes())
        f.write(struct.pack("<d", float(loss)))
        f.write(row_logp.astype("<f8").tobytes())
        f.write(logits.detach().numpy().astype("<f4").tobytes())
        f.write(grads.astype("<f4").tobytes())
    print(f"{path}: {NL} layers, width {C}, {H} heads, context {Tctx}, batch {B}x{T}, "
          f"{sum(x.size for x in flat)} parameters, loss {float(loss):.6f}", file=sys.stderr)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "golden")
    os.makedirs(out, exist_ok=True)
    aa = "ACDEFGHIKLMNPQRSTVWY"
    tok = lambda s: [aa.index(c) for c in s]
    # Three rows of different lengths: one fills the context (15 residues +
    # BOS = 16 inputs), the others are padded, so the ignore path is covered.
    seqs = [tok("MKTAYIAKQRQISFV"), tok("GSHMLE"), tok("WYCPDNRRK")]
    golden(os.path.join(out, "tfm_tiny.bin"), 2, 32, 2, 16, seqs, 7)
    # One layer with four heads of size 2: awkward sizes.
    seqs2 = [tok("ACDEFG"), tok("HIK"), tok("LMNPQ"), tok("R")]
    golden(os.path.join(out, "tfm_heads.bin"), 1, 8, 4, 8, seqs2, 11)


if __name__ == "__main__":
    main()
