#!/usr/bin/python3
"""tfm_torch_train.py: the same transformer trained by PyTorch on the CPU, for
bench/tfm_vs_torch.sh: identical model (tools/tfm_ref.py's TFM, float32),
batch shape, AdamW settings (decay on the same matrices) and thread count, on
synthetic token batches of the shape seqloop trains on (B rows of T tokens).
Prints one line: 'torch_tokens_per_s <value>' (tokens with a loss per second,
after warm-up steps that are not timed).

usage: tfm_torch_train.py --layers N --width C --heads H --context T --batch B
                          --steps S --threads K [--warmup W]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfm_ref import TFM, NAMES  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    m = TFM(a.layers, a.width, a.heads, a.context)
    with torch.no_grad():
        for n in NAMES:
            p = getattr(m, n)
            if n in ("ln1w", "ln2w", "lnfw"):
                p.fill_(1.0)
            elif n in ("wte", "wpe", "qkvw", "fcw", "attprojw", "fcprojw"):
                p.normal_(0, 0.02)
    decay = [getattr(m, n) for n in ("wte", "qkvw", "attprojw", "fcw", "fcprojw")]
    other = [getattr(m, n) for n in NAMES if n not in ("wte", "qkvw", "attprojw", "fcw", "fcprojw")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    B, T = a.batch, a.context
    g = torch.Generator().manual_seed(2)
    ntok = 0
    t0 = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t0 = time.perf_counter()
            ntok = 0
        x = torch.randint(0, 20, (B, T + 1), generator=g)
        inp, tgt = x[:, :T], x[:, 1:]
        _, loss = m(inp, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        ntok += B * T
    dt = time.perf_counter() - t0
    print(f"torch_tokens_per_s {ntok / dt:.1f}")
    print(f"torch {torch.__version__}, {a.threads} threads, {a.steps} timed steps of {B}x{T} tokens, "
          f"{sum(p.numel() for p in m.parameters())} parameters, final loss {float(loss):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
