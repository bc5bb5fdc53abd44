#!/usr/bin/python3
"""Builds the plain-text training corpus for the prose + dialogue model.

Usage:
  /usr/bin/python3 scripts/train/prepare_corpus.py --corpora /work/shared/corpora --out runs/prose/text

Writes `train.txt`, `val.txt` (and `tokenizer-input.txt`, one paragraph per line) under --out.

Why the text is reshaped:
* Gutenberg texts are hard-wrapped at ~70 columns. A wrapped newline inside a sentence is noise for a
  language model, so each paragraph is joined into one line; paragraphs are separated by a blank line.
* Dialogue is normalised to the product's `Name: speech` form (the plays file already is; the Shakespeare
  file has the name on its own line, which is joined to the speech here).
* `[Illustration...]` lines are dropped.
The held-out split is the last `--val-frac` of every document (by paragraph), so validation covers every
author and never overlaps training text.
"""
import argparse
import os
import re
import sys

DIALOGUE_FILES = ["dialogue/plays-speaker-lines.txt", "dialogue/tinyshakespeare.txt"]


def paragraphs_of(text):
    paras = []
    for block in re.split(r"\n\s*\n", text):
        lines = [l.strip() for l in block.split("\n") if l.strip()]
        lines = [l for l in lines if not l.startswith("[Illustration")]
        if not lines:
            continue
        paras.append(" ".join(lines))
    return paras


def shakespeare_paragraphs(text):
    paras = []
    for block in re.split(r"\n\s*\n", text):
        lines = [l.strip() for l in block.split("\n") if l.strip()]
        if not lines:
            continue
        if len(lines) >= 2 and lines[0].endswith(":"):
            paras.append(lines[0] + " " + " ".join(lines[1:]))
        else:
            paras.append(" ".join(lines))
    return paras


def documents(corpora, max_docs=None):
    prose_dir = os.path.join(corpora, "prose")
    names = sorted(os.listdir(prose_dir))
    if max_docs:
        names = names[:max_docs]
    for name in names:
        if name.endswith(".txt"):
            with open(os.path.join(prose_dir, name), encoding="utf-8") as f:
                yield "prose/" + name, paragraphs_of(f.read())
    for rel in DIALOGUE_FILES:
        path = os.path.join(corpora, rel)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if rel.endswith("tinyshakespeare.txt"):
            yield rel, shakespeare_paragraphs(text)
        else:
            yield rel, paragraphs_of(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--val-frac", type=float, default=0.02)
    ap.add_argument("--max-docs", type=int, default=0, help="only the first N prose files (smoke tests)")
    ap.add_argument("--max-chars", type=int, default=0, help="truncate each document (smoke tests)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train, val, listing = [], [], []
    for rel, paras in documents(args.corpora, args.max_docs or None):
        if args.max_chars:
            kept, n = [], 0
            for p in paras:
                if n > args.max_chars:
                    break
                kept.append(p)
                n += len(p)
            paras = kept
        n_val = max(1, int(len(paras) * args.val_frac))
        train.append("\n\n".join(paras[:-n_val]))
        val.append("\n\n".join(paras[-n_val:]))
        listing.append((rel, sum(len(p) for p in paras)))
    with open(os.path.join(args.out, "train.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n\n".join(train) + "\n")
    with open(os.path.join(args.out, "val.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n\n".join(val) + "\n")
    with open(os.path.join(args.out, "tokenizer-input.txt"), "w", encoding="utf-8") as f:
        for doc in train:
            f.write(doc.replace("\n\n", "\n"))
            f.write("\n")
    with open(os.path.join(args.out, "documents.txt"), "w", encoding="utf-8") as f:
        for rel, n in listing:
            f.write(f"{rel}\t{n}\n")
    print(f"prepare_corpus: {len(listing)} documents, train {sum(map(len, train))} chars, "
          f"val {sum(map(len, val))} chars -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
