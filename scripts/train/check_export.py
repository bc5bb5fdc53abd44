#!/usr/bin/python3
"""Reloads an exported model with plain torch.load and checks it against its parity file.

Usage: /usr/bin/python3 scripts/train/check_export.py OUT_DIR NAME
Checks: the file holds only float16 tensors with the official RWKV-7 key names and shapes (derived from
the shapes themselves, not from our model class), the tokenizer re-encodes each parity prompt to the
stored ids, and a freshly built model fed the loaded weights reproduces the stored logits and argmax.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rwkv7 import RWKV7, RWKV7Config  # noqa: E402


def main():
    out, name = sys.argv[1], sys.argv[2]
    sd = torch.load(os.path.join(out, f"{name}-rwkv7.pth"), map_location="cpu")
    with open(os.path.join(out, f"{name}-parity.json")) as f:
        parity = json.load(f)
    bad = [k for k, v in sd.items() if v.dtype != torch.float16]
    assert not bad, f"non-f16 tensors: {bad}"
    V, C = sd["emb.weight"].shape
    L = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    H, N = sd["blocks.0.att.r_k"].shape
    assert H * N == C, (H, N, C)
    expect = {"emb.weight": (V, C), "head.weight": (V, C), "ln_out.weight": (C,), "blocks.0.ln0.weight": (C,)}
    for i in range(L):
        p = f"blocks.{i}.att."
        for v in ("x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "k_k", "k_a"):
            expect[p + v] = (1, 1, C)
        for m in ("receptance", "key", "value", "output"):
            expect[p + m + ".weight"] = (C, C)
        expect[p + "ln_x.weight"] = (C,)
        expect[p + "r_k"] = (H, N)
        assert (p + "v0" in sd) == (i > 0), f"v0/v1/v2 must exist exactly in layers > 0 (layer {i})"
    for k, shp in expect.items():
        assert k in sd, f"missing {k}"
        assert tuple(sd[k].shape) == shp, f"{k}: {tuple(sd[k].shape)} != {shp}"
    cfg = RWKV7Config(**parity["config"])
    model = RWKV7(cfg)
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    model.eval()
    sp = None
    if parity["tokenizer"] != "midi":  # MIDI models use the runtime's built-in music vocabulary
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=os.path.join(out, parity["tokenizer"]))
    worst = 0.0
    with torch.no_grad():
        for p in parity["prompts"]:
            if sp is not None:
                assert sp.encode(p["text"]) == p["tokens"], "tokenizer does not reproduce the stored ids"
            else:
                assert len(p["text"].split()) == len(p["tokens"]), "one music token per id"
            lo = model(torch.tensor([p["tokens"]]), sequential=True)[0, -1]
            ref = torch.tensor(p["logits"])
            assert lo.shape == ref.shape
            worst = max(worst, (lo - ref).abs().max().item())
            assert int(lo.argmax()) == p["argmax"] or (lo.max() - lo[p["argmax"]]).item() < 1e-4
    assert worst < 1e-4, f"reloaded model differs from parity logits by {worst}"
    print(f"check_export: {L} layers, C={C}, V={V}: keys/shapes OK, parity max abs diff {worst:.2e}")


if __name__ == "__main__":
    main()
