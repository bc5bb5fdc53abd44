#!/usr/bin/python3
"""Exports a trained run as the shipped model: weights, tokenizer, report and parity data.

Usage:
  /usr/bin/python3 scripts/train/export.py --run scripts/train/runs/prose --out assets/models --name prose

Writes into --out:
  NAME-rwkv7.pth       torch.save of the BlinkDL-layout state dict, every tensor float16 (as BlinkDL's
                       releases store every tensor in one 16-bit type); loads in any RWKV-7 runtime.
  NAME.model           the SentencePiece tokenizer the model was trained with.
  NAME-parity.json     for 3 held-out prompts: token ids and the full logits after the last token, from
                       the exported (f16-rounded) weights evaluated in float32 by scripts/train/rwkv7.py;
                       also the float64 evaluation's max deviation from them, to size test tolerances.
  NAME-report.md       loss curve summary, final validation loss, bits per character, samples, corpus.

MIDI runs (made by prepare_midi.py + train.py --tokens-ready) are exported with --midi-dir DIR --wb WB:
there is no tokenizer file (the runtime builds the RWKV music vocabulary in code); the parity prompts
are the first tokens of three held-out tunes, and the samples are written as NAME-sample-K.mid and
described by their note counts (`wb midi info`).
"""
import argparse
import datetime
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rwkv7 import RWKV7, RWKV7Config, count_params  # noqa: E402


def load_run(run):
    ck = torch.load(os.path.join(run, "last.pt"))
    cfg = RWKV7Config(**ck["config"])
    model = RWKV7(cfg)
    model.load_state_dict(ck["model"])
    return model, cfg, ck


def f16_model(model, cfg, dtype=torch.float32):
    """The exported weights (rounded to f16), as a model evaluated in `dtype`."""
    sd = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    m = RWKV7(cfg).to(dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in sd.items()})
    m.eval()
    return m, sd


@torch.no_grad()
def sample(model, sp, prompt, n_tokens, temperature, top_p, seed):
    gen = torch.Generator().manual_seed(seed)
    ids = sp.encode(prompt)
    logits, state = model(torch.tensor([ids]), return_state=True)
    out = []
    last = logits[0, -1]
    for _ in range(n_tokens):
        probs = torch.softmax(last.double() / temperature, dim=-1)
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < top_p   # smallest set with mass >= top_p
        sorted_p = sorted_p * keep
        tok = int(order[torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)])
        out.append(tok)
        logits, state = model(torch.tensor([[tok]]), state=state, return_state=True)
        last = logits[0, -1]
    return sp.decode(out)


@torch.no_grad()
def full_val_loss(model, run, ctx, batch, limit=0):
    val = np.load(os.path.join(run, "tokens-val.npy"))
    if limit:
        val = val[:limit + 1]
    n = ((len(val) - 1) // ctx) * ctx
    x = torch.from_numpy(val[:n].astype(np.int64)).view(-1, ctx)
    y = torch.from_numpy(val[1:n + 1].astype(np.int64)).view(-1, ctx)
    total = 0.0
    for i in range(0, x.shape[0], batch):
        lo = model(x[i:i + batch])
        total += F.cross_entropy(lo.reshape(-1, lo.shape[-1]), y[i:i + batch].reshape(-1), reduction="sum").item()
    return total / y.numel(), y.numel()


def pick_prompts(text_dir):
    """Three held-out prompts from the validation split: a prose paragraph opening, a play speech
    opening (`Name: ...`), and a Shakespeare speech opening."""
    with open(os.path.join(text_dir, "val.txt"), encoding="utf-8") as f:
        docs = f.read().split("\n\n\n")
    paras = [p for d in docs for p in d.split("\n\n")]
    prose = next(p for p in paras if len(p) > 200 and ":" not in p[:30])
    speech = [p for p in paras if ": " in p[:25] and len(p) > 80]
    play = speech[0]
    verse = speech[-1]
    cut = lambda p, n: p[:n].rsplit(" ", 1)[0]
    return [cut(prose, 160), cut(play, 90), cut(verse, 70)]


def wb_tokens(wb, path, ids):
    r = subprocess.run([wb, "midi", "tokenize", path] + (["--ids"] if ids else []), capture_output=True,
                       text=True, check=True)
    return r.stdout.split()


def midi_prompts(wb, midi_dir, run, lengths=(48, 96, 160)):
    """The first N tokens of three held-out tunes, as (text, ids)."""
    with open(os.path.join(run, "files-val.txt")) as f:
        files = [l.strip() for l in f if l.strip()]
    out = []
    for f, n in zip(files, lengths):
        path = os.path.join(midi_dir, f)
        words, ids = wb_tokens(wb, path, False), [int(t) for t in wb_tokens(wb, path, True)]
        assert len(words) == len(ids)
        out.append((" ".join(words[:n]), ids[:n], f))
    return out


@torch.no_grad()
def sample_ids(model, ids, n_tokens, temperature, top_p, seed, stop_id=None):
    gen = torch.Generator().manual_seed(seed)
    logits, state = model(torch.tensor([ids]), return_state=True)
    out = []
    last = logits[0, -1]
    for _ in range(n_tokens):
        probs = torch.softmax(last.double() / temperature, dim=-1)
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < top_p
        sorted_p = sorted_p * keep
        tok = int(order[torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)])
        out.append(tok)
        if tok == stop_id:
            break
        logits, state = model(torch.tensor([[tok]]), state=state, return_state=True)
        last = logits[0, -1]
    return out


def midi_sample(wb, out_dir, name, k, ids):
    """Writes the ids as NAME-sample-K.mid and returns `wb midi info`'s note count and duration."""
    ids_path = os.path.join(out_dir, f"{name}-sample-{k}.ids")
    mid = os.path.join(out_dir, f"{name}-sample-{k}.mid")
    with open(ids_path, "w") as f:
        f.write(" ".join(map(str, ids)) + "\n")
    subprocess.run([wb, "midi", "detokenize", ids_path, mid, "--ids"], check=True, capture_output=True)
    os.remove(ids_path)
    info = json.loads(subprocess.run([wb, "midi", "info", mid], check=True, capture_output=True, text=True).stdout)
    return mid, info


def summarise_log(run):
    train, val = [], []
    with open(os.path.join(run, "log.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            (val if "val_loss" in rec else train).append(rec)
    return train, val


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="prose")
    ap.add_argument("--tokenizer", default="", help="default: RUN/<name>.model")
    ap.add_argument("--text-dir", default="", help="default: RUN/text")
    ap.add_argument("--sample-tokens", type=int, default=120)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-p", type=float, default=0.9)
    ap.add_argument("--skip-samples", action="store_true")
    ap.add_argument("--val-tokens", type=int, default=0, help="final validation on the first N held-out tokens (0 = all)")
    ap.add_argument("--parity-only", action="store_true", help="write only the .pth, tokenizer and parity file")
    ap.add_argument("--machine", default="2 shared vCPUs (AMD EPYC, AVX2), Debian 12, torch 1.13.1 CPU + OpenBLAS")
    ap.add_argument("--midi-dir", default="", help="MIDI run: the corpus folder prepare_midi.py read")
    ap.add_argument("--wb", default="", help="MIDI run: the built wb tool (tokenize, detokenize, info)")
    ap.add_argument("--corpus-name", default="", help="MIDI run: what the report calls the corpus")
    args = ap.parse_args()
    if args.midi_dir:
        return export_midi(args)
    import sentencepiece as spm
    tok_path = args.tokenizer or os.path.join(args.run, f"{args.name}.model")
    text_dir = args.text_dir or os.path.join(args.run, "text")
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    torch.set_num_threads(2)

    model, cfg, ck = load_run(args.run)
    m32, sd16 = f16_model(model, cfg, torch.float32)
    m64, _ = f16_model(model, cfg, torch.float64)
    os.makedirs(args.out, exist_ok=True)
    pth = os.path.join(args.out, f"{args.name}-rwkv7.pth")
    torch.save(sd16, pth)
    shutil.copyfile(tok_path, os.path.join(args.out, f"{args.name}.model"))

    # Parity data.
    prompts = pick_prompts(text_dir)
    parity = {"model": os.path.basename(pth), "tokenizer": f"{args.name}.model",
              "weights": "float16 (every tensor)", "evaluated_in": "float32, scripts/train/rwkv7.py, sequence mode from the zero state",
              "config": cfg.to_dict(), "prompts": []}
    worst64 = 0.0
    with torch.no_grad():
        for text in prompts:
            ids = sp.encode(text)
            lo32 = m32(torch.tensor([ids]))[0, -1]
            lo64 = m64(torch.tensor([ids]))[0, -1]
            seq32 = m32(torch.tensor([ids]), sequential=True)[0, -1]
            worst64 = max(worst64, (lo32.double() - lo64).abs().max().item(), (seq32.double() - lo64).abs().max().item())
            parity["prompts"].append({"text": text, "tokens": ids, "argmax": int(lo32.argmax()),
                                      "logits": [float(f"{v:.7g}") for v in lo32.tolist()]})
    parity["float32_vs_float64_max_abs"] = worst64
    with open(os.path.join(args.out, f"{args.name}-parity.json"), "w") as f:
        json.dump(parity, f)

    if args.parity_only:
        print(f"export: {pth} and parity data written (f32-vs-f64 {worst64:.2e})", flush=True)
        return

    # Report.
    ctx = ck["args"]["ctx"]
    val_loss, val_n = full_val_loss(m32, args.run, ctx, 16, args.val_tokens)
    with open(os.path.join(args.run, "tokens-val.json")) as f:
        vmeta = json.load(f)
    cpt = vmeta["chars"] / vmeta["tokens"]
    bpc = val_loss / math.log(2) / cpt
    train_log, val_log = summarise_log(args.run)
    samples = []
    if not args.skip_samples:
        sample_prompts = ["It was a dark and stormy night, and",
                          "Lady Bracknell: I am afraid that",
                          "CHAPTER I\n\nThe house stood at the end of the lane,"]
        for i, p in enumerate(sample_prompts):
            samples.append((p, sample(m32, sp, p, args.sample_tokens, args.temperature, args.top_p, args.seed + i)))
    with open(os.path.join(text_dir, "documents.txt")) as f:
        docs = [line.split("\t")[0] for line in f if line.strip()]
    a = ck["args"]
    lines = [f"# Default model `{args.name}-rwkv7.pth`: training report", "",
             f"Generated by `scripts/train/export.py` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC.", "",
             "## Model", "",
             f"RWKV-7 (x070), {cfg.n_layer} layers, width {cfg.n_embd}, head size {cfg.head_size} "
             f"({cfg.n_embd // cfg.head_size} heads), FFN {cfg.dim_ffn}, vocabulary {cfg.vocab_size} "
             f"(SentencePiece unigram, byte fallback). {count_params(model):,} parameters. "
             f"Weights stored as float16: {os.path.getsize(pth):,} bytes.", "",
             "## Training", "",
             f"{ck['step']} optimizer steps of {a['batch']} x {a['ctx']} tokens "
             f"({ck['step'] * a['batch'] * a['ctx']:,} tokens, {ck['step'] * a['batch'] * a['ctx'] / ck_train_tokens(args.run):.2f} epochs) "
             f"in {ck['elapsed'] / 60:.0f} min of training on {args.machine}. AdamW (betas 0.9/0.99, weight decay "
             f"{a['weight_decay']} on matrices), peak LR {a['lr']} after {a['warmup']} warm-up steps, cosine decay to "
             f"{a['lr_final']} over the run, gradient clipping {a['grad_clip']}.", "",
             "| step | tokens | train loss (nats/token, mean of last logged steps) | val loss | val bits/char |",
             "|---|---|---|---|---|"]
    by_step = {r["step"]: r for r in train_log}
    for v in val_log:
        t = by_step.get(v["step"]) or min(train_log, key=lambda r: abs(r["step"] - v["step"]))
        lines.append(f"| {v['step']} | {v['step'] * a['batch'] * a['ctx']:,} | {t['loss']:.3f} | {v['val_loss']:.3f} | {v['val_bpc']:.3f} |")
    lines += ["", f"(Validation during training used the first {a['val_tokens']:,} held-out tokens.)", "",
              "## Final validation", "",
              f"On {'the whole held-out split' if not args.val_tokens else 'the first part of the held-out split'} "
              f"({val_n:,} of {vmeta['tokens']:,} tokens; the split is the last 2% of "
              f"every document, {vmeta['chars']:,} characters), exported f16 weights: **{val_loss:.4f} nats/token, {bpc:.3f} bits per character** "
              f"({cpt:.2f} characters per token; windows of {ctx} tokens from the zero state).", "",
              "## Samples", "",
              f"Each sample is the FIRST and only draw for its prompt (not picked from several tries): seed "
              f"{args.seed}+i, temperature {args.temperature}, top-p {args.top_p}, {args.sample_tokens} tokens, "
              f"exported f16 weights evaluated in float32 by `scripts/train/rwkv7.py`.", ""]
    for i, (p, s) in enumerate(samples):
        lines += [f"### Sample {i + 1} (seed {args.seed + i})", "", "Prompt:", "", "```", p, "```", "",
                  "Continuation:", "", "```", s, "```", ""]
    lines += ["## Parity prompts (held-out text)", ""]
    for pr in parity["prompts"]:
        lines.append(f"- {json.dumps(pr['text'])} ({len(pr['tokens'])} tokens)")
    lines += ["", f"float32 vs float64 evaluation of the same f16 weights: max abs logit difference {worst64:.2e}.", "",
              "## Training texts", "", "From `/work/shared/corpora` (see its README for sources and licences; all public domain):", ""]
    lines += [f"- `{d}`" for d in docs]
    with open(os.path.join(args.out, f"{args.name}-report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"export: {pth} ({os.path.getsize(pth):,} bytes), val loss {val_loss:.4f} nats/token, {bpc:.3f} bpc, "
          f"f32-vs-f64 {worst64:.2e}", flush=True)


def loss_table(run, a):
    train_log, val_log = summarise_log(run)
    unit = "val bits/char" if val_log and "val_bpc" in val_log[0] else "val bits/token"
    key = "val_bpc" if unit == "val bits/char" else "val_bits_per_token"
    lines = [f"| step | tokens | train loss (nats/token, mean of last logged steps) | val loss | {unit} |",
             "|---|---|---|---|---|"]
    by_step = {r["step"]: r for r in train_log}
    for v in val_log:
        t = by_step.get(v["step"]) or min(train_log, key=lambda r: abs(r["step"] - v["step"]))
        lines.append(f"| {v['step']} | {v['step'] * a['batch'] * a['ctx']:,} | {t['loss']:.3f} | {v['val_loss']:.3f} | {v[key]:.3f} |")
    return lines


def export_midi(args):
    torch.set_num_threads(2)
    wb = args.wb or sys.exit("export: --midi-dir needs --wb")
    model, cfg, ck = load_run(args.run)
    m32, sd16 = f16_model(model, cfg, torch.float32)
    m64, _ = f16_model(model, cfg, torch.float64)
    os.makedirs(args.out, exist_ok=True)
    pth = os.path.join(args.out, f"{args.name}-rwkv7.pth")
    torch.save(sd16, pth)

    prompts = midi_prompts(wb, args.midi_dir, args.run)
    parity = {"model": os.path.basename(pth), "tokenizer": "midi",
              "weights": "float16 (every tensor)", "evaluated_in": "float32, scripts/train/rwkv7.py, sequence mode from the zero state",
              "config": cfg.to_dict(), "prompts": []}
    worst64 = 0.0
    with torch.no_grad():
        for text, ids, f in prompts:
            lo32 = m32(torch.tensor([ids]))[0, -1]
            lo64 = m64(torch.tensor([ids]))[0, -1]
            seq32 = m32(torch.tensor([ids]), sequential=True)[0, -1]
            worst64 = max(worst64, (lo32.double() - lo64).abs().max().item(), (seq32.double() - lo64).abs().max().item())
            parity["prompts"].append({"text": text, "tokens": ids, "source": f, "argmax": int(lo32.argmax()),
                                      "logits": [float(f"{v:.7g}") for v in lo32.tolist()]})
    parity["float32_vs_float64_max_abs"] = worst64
    with open(os.path.join(args.out, f"{args.name}-parity.json"), "w") as f:
        json.dump(parity, f)
    if args.parity_only:
        print(f"export: {pth} and parity data written (f32-vs-f64 {worst64:.2e})", flush=True)
        return

    a = ck["args"]
    ctx = a["ctx"]
    val_loss, val_n = full_val_loss(m32, args.run, ctx, 16, args.val_tokens)
    with open(os.path.join(args.run, "tokens-val.json")) as f:
        vmeta = json.load(f)
    with open(os.path.join(args.run, "tokens-train.json")) as f:
        tmeta = json.load(f)
    tok_per_s = vmeta["tokens"] / max(1e-9, vmeta["seconds"])
    samples = []
    if not args.skip_samples:
        # Prompts: <start> alone, then the opening 64 tokens of two held-out tunes.
        starts = [("`<start>` only", [1])] + [(f"first 64 tokens of held-out `{f}`", ids[:64]) for _, ids, f in prompts[:2]]
        for k, (what, ids) in enumerate(starts):
            gen = sample_ids(m32, ids, args.sample_tokens, args.temperature, args.top_p, args.seed + k, stop_id=2)
            mid, info = midi_sample(wb, args.out, args.name, k + 1, ids + gen)
            samples.append((what, len(gen), os.path.basename(mid), info))
    corpus = args.corpus_name or args.midi_dir
    lines = [f"# Default model `{args.name}-rwkv7.pth`: training report", "",
             f"Generated by `scripts/train/export.py` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC.", "",
             "## Model", "",
             f"RWKV-7 (x070), {cfg.n_layer} layers, width {cfg.n_embd}, head size {cfg.head_size} "
             f"({cfg.n_embd // cfg.head_size} heads), FFN {cfg.dim_ffn}, vocabulary {cfg.vocab_size} "
             f"(the RWKV music scheme of BlinkDL's MIDI models, built in code by the runtime; no tokenizer file). "
             f"{count_params(model):,} parameters. Weights stored as float16: {os.path.getsize(pth):,} bytes.", "",
             "## Training", "",
             f"Corpus: {corpus}: {tmeta['files']} tunes for training ({tmeta['tokens']:,} tokens, "
             f"{tmeta['seconds'] / 3600:.1f} h of music), {vmeta['files']} held out ({vmeta['tokens']:,} tokens); "
             f"tokenized by `wb midi tokenize --ids` (scripts/train/prepare_midi.py).", "",
             f"{ck['step']} optimizer steps of {a['batch']} x {a['ctx']} tokens "
             f"({ck['step'] * a['batch'] * a['ctx']:,} tokens, {ck['step'] * a['batch'] * a['ctx'] / tmeta['tokens']:.2f} epochs) "
             f"in {ck['elapsed'] / 60:.0f} min of training on {args.machine}. AdamW (betas 0.9/0.99, weight decay "
             f"{a['weight_decay']} on matrices), peak LR {a['lr']} after {a['warmup']} warm-up steps, cosine decay to "
             f"{a['lr_final']} over the run, gradient clipping {a['grad_clip']}.", ""]
    lines += loss_table(args.run, a)
    lines += ["", f"(Validation during training used the first {a['val_tokens']:,} held-out tokens.)", "",
              "## Final validation", "",
              f"On {'all' if not args.val_tokens else 'the first'} {val_n:,} of {vmeta['tokens']:,} held-out tokens "
              f"({vmeta['files']} tunes never seen in training), exported f16 weights: **{val_loss:.4f} nats/token, "
              f"{val_loss / math.log(2):.3f} bits per token** ({tok_per_s:.1f} tokens per second of music, so "
              f"{val_loss / math.log(2) * tok_per_s:.1f} bits per second; windows of {ctx} tokens from the zero state).", "",
              "## Samples", "",
              f"Each sample is the FIRST and only draw for its prompt (not picked from several tries): seed "
              f"{args.seed}+i, temperature {args.temperature}, top-p {args.top_p}, up to {args.sample_tokens} tokens "
              f"(stopping at `<end>`), exported f16 weights evaluated in float32 by `scripts/train/rwkv7.py`, "
              f"prompt + continuation written to MIDI by `wb midi detokenize` and described by `wb midi info`.", ""]
    for k, (what, n, mid, info) in enumerate(samples):
        progs = ", ".join(f"channel {c}" for c in info.get("channels", [])) or "no channels"
        lines.append(f"- Sample {k + 1} (seed {args.seed + k}), prompt {what}: {n} generated tokens; `{mid}` has "
                     f"{info['notes']} notes over {info['duration_seconds']:.1f} s on {progs}.")
    lines += ["", "## Parity prompts (held-out tunes)", ""]
    for pr in parity["prompts"]:
        lines.append(f"- first {len(pr['tokens'])} tokens of `{pr['source']}`")
    lines += ["", f"float32 vs float64 evaluation of the same f16 weights: max abs logit difference {worst64:.2e}.", ""]
    with open(os.path.join(args.out, f"{args.name}-report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"export: {pth} ({os.path.getsize(pth):,} bytes), val loss {val_loss:.4f} nats/token, "
          f"{val_loss / math.log(2):.3f} bits/token, f32-vs-f64 {worst64:.2e}", flush=True)


def ck_train_tokens(run):
    with open(os.path.join(run, "tokens-train.json")) as f:
        return json.load(f)["tokens"]


if __name__ == "__main__":
    main()
