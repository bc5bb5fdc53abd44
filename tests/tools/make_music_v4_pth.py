#!/usr/bin/python3
"""A BlinkDL-layout RWKV-4 .pth with the music vocabulary (20096 ids), made at
test time: the tiny rwkv.cpp v4 fixture converted to the official state dict
(convert_fixture.py), its embedding and head widened to 20096 rows with
deterministic values. It stands in for BlinkDL's RWKV-4 MIDI 120M/560M files,
which share the layout and the vocabulary size.

usage: make_music_v4_pth.py FIXTURES OUT.pth
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_fixture import official_state_dict, read_rwkv_cpp, write_pth  # noqa: E402

VOCAB = 20096


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    raw, C, _ = read_rwkv_cpp(os.path.join(fixtures, "rwkv-cpp-tiny/tiny-rwkv-4v0-660K-FP32.bin"))
    sd = official_state_dict(raw, "4", C)
    rng = np.random.default_rng(20096)
    for name in ("emb.weight", "head.weight"):
        old = sd[name]
        wide = rng.standard_normal((VOCAB, old.shape[1])).astype(np.float32) * float(old.std())
        wide[: old.shape[0]] = old
        sd[name] = np.ascontiguousarray(wide)
    write_pth(out, sd, "f32")


if __name__ == "__main__":
    main()
