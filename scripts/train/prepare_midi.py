#!/usr/bin/python3
"""Tokenizes a MIDI corpus with the project's own MIDI tokenizer (`wb midi tokenize --ids`, the RWKV
music scheme, 20096 ids) into the token files train.py reads with --tokens-ready.

Usage (the shipped MIDI model: cre-irish-dance ONLY, it is CC BY 4.0; nottingham is GPL-3.0 and must
not go into shipped weights):
  /usr/bin/python3 scripts/train/prepare_midi.py --wb build/workbench/wb \
      --midi-dir ../shared/corpora/midi/cre-irish-dance/mid --run scripts/train/runs/midi

Writes into --run: tokens-train.npy / tokens-val.npy (uint16 ids; each file is one `<start> ... <end>`
piece, pieces concatenated in file-name order), tokens-train.json / tokens-val.json ({"tokens", "files",
"seconds"}) and files-val.txt. Every --val-every-th file (by sorted name) is held out, so validation
tunes never appear in training. Files the tokenizer rejects are listed and skipped.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

VOCAB = 20096
WAIT_BASE = 3  # ids 3..127 are t1..t125 (8 ms each), see core/midi/music_vocab


def tokenize(wb, path):
    r = subprocess.run([wb, "midi", "tokenize", path, "--ids"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    ids = [int(t) for t in r.stdout.split()]
    return ids, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wb", required=True, help="the built wb tool")
    ap.add_argument("--midi-dir", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--val-every", type=int, default=30)
    ap.add_argument("--max-files", type=int, default=0, help="only the first N files (smoke tests)")
    args = ap.parse_args()
    os.makedirs(args.run, exist_ok=True)
    files = sorted(f for f in os.listdir(args.midi_dir) if f.lower().endswith((".mid", ".midi")))
    if args.max_files:
        files = files[:args.max_files]
    split = {"train": [], "val": []}
    names = {"train": [], "val": []}
    skipped = []
    for i, f in enumerate(files):
        ids, err = tokenize(args.wb, os.path.join(args.midi_dir, f))
        if ids is None or len(ids) < 3:
            skipped.append(f"{f}: {err or 'no notes'}")
            continue
        if max(ids) >= VOCAB or min(ids) < 0:
            sys.exit(f"prepare_midi: {f}: token id out of range")
        part = "val" if (i % args.val_every) == args.val_every // 2 else "train"
        split[part].extend(ids)
        names[part].append(f)
    for part in ("train", "val"):
        ids = np.asarray(split[part], dtype=np.uint16)
        np.save(os.path.join(args.run, f"tokens-{part}.npy"), ids)
        waits = ids[(ids >= WAIT_BASE) & (ids < WAIT_BASE + 125)]
        seconds = float((waits.astype(np.int64) - WAIT_BASE + 1).sum()) * 0.008
        with open(os.path.join(args.run, f"tokens-{part}.json"), "w") as f:
            json.dump({"tokens": int(ids.size), "files": len(names[part]), "seconds": round(seconds, 1),
                       "vocab": VOCAB, "tokenizer": "midi (RWKV music scheme, wb midi tokenize --ids)"}, f)
    with open(os.path.join(args.run, "files-val.txt"), "w") as f:
        f.write("\n".join(names["val"]) + "\n")
    with open(os.path.join(args.run, "files-train.txt"), "w") as f:
        f.write("\n".join(names["train"]) + "\n")
    print(f"prepare_midi: {len(names['train'])} train files ({len(split['train'])} tokens), "
          f"{len(names['val'])} val files ({len(split['val'])} tokens), {len(skipped)} skipped", flush=True)
    for s in skipped:
        print(f"prepare_midi: skipped {s}", flush=True)


if __name__ == "__main__":
    main()
