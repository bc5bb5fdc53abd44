#!/usr/bin/python3
"""Self-checks of rwkv7.py, run by smoke_test.sh (seconds, CPU).

1. The chunked WKV-7 equals the per-token recurrence (float64, random inputs with decays over the whole
   allowed range, a non-zero initial state, T not a multiple of the chunk).
2. The whole model agrees between chunked and sequential kernels, and running a sequence in two halves
   with the carried state gives the same logits as running it at once (after randomising the matrices
   that the official init leaves at zero, so every path contributes).
3. The state dict has BlinkDL's key names and shapes (v0/v1/v2 only after layer 0).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rwkv7 import RWKV7, RWKV7Config, wkv7_chunked, wkv7_sequential  # noqa: E402


def main():
    torch.manual_seed(0)
    B, T, H, N = 2, 45, 2, 64
    d = torch.float64
    r, k, v = (torch.randn(B, T, H, N, dtype=d) for _ in range(3))
    logw = -torch.exp(-F.softplus(-3 * torch.randn(B, T, H, N, dtype=d)) - 0.5)
    kk = F.normalize(torch.randn(B, T, H, N, dtype=d), dim=-1)
    iclr = torch.rand(B, T, H, N, dtype=d)
    s0 = torch.randn(B, H, N, N, dtype=d)
    y1, s1 = wkv7_sequential(r, logw, k, v, -kk, kk * iclr, s0)
    y2, s2 = wkv7_chunked(r, logw, k, v, -kk, kk * iclr, s0)
    err = max((y1 - y2).abs().max().item(), (s1 - s2).abs().max().item())
    assert err < 1e-9, f"chunked WKV differs from the recurrence by {err}"

    cfg = RWKV7Config(n_layer=3, n_embd=128, vocab_size=300)
    m = RWKV7(cfg).double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * torch.randn_like(p))
    idx = torch.randint(0, cfg.vocab_size, (2, 37))
    a = m(idx)
    b = m(idx, sequential=True)
    la, st = m(idx[:, :20], return_state=True)
    lb = m(idx[:, 20:], state=st)
    e1 = (a - b).abs().max().item()
    e2 = (torch.cat([la, lb], 1) - a).abs().max().item()
    assert e1 < 1e-9 and e2 < 1e-9, (e1, e2)

    sd = m.state_dict()
    C, V = cfg.n_embd, cfg.vocab_size
    assert sd["emb.weight"].shape == (V, C) and sd["head.weight"].shape == (V, C)
    assert "blocks.0.ln0.weight" in sd and "blocks.1.ln0.weight" not in sd
    assert "blocks.0.att.v0" not in sd and sd["blocks.1.att.v0"].shape == (1, 1, C)
    assert sd["blocks.2.att.r_k"].shape == (C // 64, 64)
    assert sd["blocks.1.ffn.key.weight"].shape == (4 * C, C)
    for name in ("x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "k_k", "k_a"):
        assert sd[f"blocks.1.att.{name}"].shape == (1, 1, C), name
    print(f"test_rwkv7: chunked vs recurrence {err:.1e}, model {e1:.1e}, state split {e2:.1e}: OK")


if __name__ == "__main__":
    main()
