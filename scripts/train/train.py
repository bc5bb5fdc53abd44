#!/usr/bin/python3
"""Trains the project's RWKV-7 model on a prepared text corpus (CPU, resumable).

Usage (the prose model; see assets/models/README.md for the full recipe):
  nice -n 19 /usr/bin/python3 scripts/train/train.py --run scripts/train/runs/prose \
      --text-dir scripts/train/runs/prose/text --tokenizer scripts/train/runs/prose/prose.model \
      --n-layer 6 --n-embd 256 --ctx 256 --batch 16 --max-steps 3000 --time-budget 5400
  ... --resume            # continue from RUN/last.pt (model, optimizer, schedule, data position, RNG)

Writes into --run: tokens-train.npy / tokens-val.npy (the encoded corpus, cached), last.pt (checkpoint
with optimizer state, every --ckpt-minutes and at the end), log.jsonl (one JSON object per logged step
and per validation), config.json. The run stops on its own at --max-steps or after --time-budget
seconds of wall time (counted across resumes) and always writes a final checkpoint.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rwkv7 import RWKV7, RWKV7Config, count_params  # noqa: E402


def load_ready_tokens(run, vocab):
    """Token files already written into the run (scripts/train/prepare_midi.py): no tokenizer here."""
    out = {}
    for split in ("train", "val"):
        path = os.path.join(run, f"tokens-{split}.npy")
        if not os.path.exists(path):
            sys.exit(f"train: --tokens-ready needs {path} (run prepare_midi.py first)")
        out[split] = np.load(path, mmap_mode="r")
    with open(os.path.join(run, "tokens-val.json")) as f:
        val_meta = json.load(f)
    return out["train"], out["val"], val_meta, vocab


def encode_corpus(run, text_dir, tokenizer):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=tokenizer)
    out = {}
    for split in ("train", "val"):
        path = os.path.join(run, f"tokens-{split}.npy")
        if not os.path.exists(path):
            with open(os.path.join(text_dir, f"{split}.txt"), encoding="utf-8") as f:
                text = f.read()
            ids = np.asarray(sp.encode(text), dtype=np.uint16 if sp.get_piece_size() < 65536 else np.int32)
            np.save(path, ids)
            meta = {"chars": len(text), "tokens": int(ids.size)}
            with open(os.path.join(run, f"tokens-{split}.json"), "w") as f:
                json.dump(meta, f)
        out[split] = np.load(path, mmap_mode="r")
    with open(os.path.join(run, "tokens-val.json")) as f:
        val_meta = json.load(f)
    return out["train"], out["val"], val_meta, sp.get_piece_size()


def progress(step, elapsed, args):
    """Fraction of the run done: by steps, or by wall time when a time budget ends it sooner, so the
    learning rate has fully decayed when the budget runs out."""
    p = step / max(1, args.max_steps)
    if args.time_budget:
        p = max(p, elapsed / args.time_budget)
    return min(1.0, p)


def lr_at(step, elapsed, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p0 = args.warmup / max(1, args.max_steps)
    p = max(0.0, (progress(step, elapsed, args) - p0) / max(1e-9, 1.0 - p0))
    return args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * p))


def make_optimizer(model, args):
    # BlinkDL's grouping: weight decay only on the big matrices, 2x learning rate on the decay base w0.
    decay, plain, fast = [], [], []
    for n, p in model.named_parameters():
        if n.endswith("att.w0"):
            fast.append(p)
        elif p.squeeze().dim() >= 2 and n.endswith(".weight"):
            decay.append(p)
        else:
            plain.append(p)
    groups = [{"params": plain, "weight_decay": 0.0, "lr_scale": 1.0},
              {"params": fast, "weight_decay": 0.0, "lr_scale": 2.0},
              {"params": decay, "weight_decay": args.weight_decay, "lr_scale": 1.0}]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99), eps=1e-8)


@torch.no_grad()
def evaluate(model, val, args):
    """Mean cross-entropy (nats/token) over the first --val-tokens tokens of the held-out split,
    in non-overlapping windows of --ctx tokens, each starting from the zero state."""
    model.eval()
    n = min(len(val) - 1, args.val_tokens)
    n = (n // args.ctx) * args.ctx
    x = torch.from_numpy(np.asarray(val[:n], dtype=np.int64)).view(-1, args.ctx)
    y = torch.from_numpy(np.asarray(val[1:n + 1], dtype=np.int64)).view(-1, args.ctx)
    total, count = 0.0, 0
    for i in range(0, x.shape[0], args.batch):
        logits = model(x[i:i + args.batch])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[i:i + args.batch].reshape(-1),
                                 reduction="sum").item()
        count += y[i:i + args.batch].numel()
    model.train()
    return total / count, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--text-dir", default="", help="prepared text (prepare_corpus.py); with --tokenizer")
    ap.add_argument("--tokenizer", default="", help="SentencePiece model for --text-dir")
    ap.add_argument("--tokens-ready", type=int, default=0, metavar="VOCAB",
                    help="the run already holds tokens-{train,val}.npy (prepare_midi.py) of this vocabulary size")
    ap.add_argument("--n-layer", type=int, default=6)
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--head-size", type=int, default=64)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-final", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=3000)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds of training wall time, 0 = none")
    ap.add_argument("--deadline", type=float, default=0,
                    help="unix time at which to stop regardless (the run still validates and saves)")
    ap.add_argument("--ckpt-minutes", type=float, default=10)
    ap.add_argument("--val-every", type=int, default=200)
    ap.add_argument("--val-tokens", type=int, default=32768)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    if args.tokens_ready:
        train, val, val_meta, vocab = load_ready_tokens(args.run, args.tokens_ready)
    elif args.text_dir and args.tokenizer:
        train, val, val_meta, vocab = encode_corpus(args.run, args.text_dir, args.tokenizer)
    else:
        sys.exit("train: give --text-dir and --tokenizer, or --tokens-ready VOCAB")
    ckpt_path = os.path.join(args.run, "last.pt")

    cfg = RWKV7Config(n_layer=args.n_layer, n_embd=args.n_embd, vocab_size=vocab, head_size=args.head_size)
    torch.manual_seed(args.seed)
    model = RWKV7(cfg)
    opt = make_optimizer(model, args)
    step, elapsed, rng_state = 0, 0.0, None
    data_rng = np.random.default_rng(args.seed)
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck["config"] != cfg.to_dict():
            sys.exit(f"train: {ckpt_path} was made with {ck['config']}, not {cfg.to_dict()}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, elapsed = ck["step"], ck["elapsed"]
        data_rng.bit_generator.state = ck["data_rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"train: resumed from {ckpt_path} at step {step} ({elapsed:.0f} s trained)", flush=True)
    elif args.resume:
        print(f"train: no {ckpt_path}, starting fresh", flush=True)

    with open(os.path.join(args.run, "config.json"), "w") as f:
        json.dump({"model": cfg.to_dict(), "train": vars(args), "params": count_params(model),
                   "train_tokens": int(len(train)), "val_tokens": int(len(val)), "val_chars": val_meta.get("chars")},
                  f, indent=1)
    print(f"train: {count_params(model)/1e6:.2f} M params, {len(train)} train tokens, {len(val)} val tokens, "
          f"vocab {vocab}, blas={torch.__config__.show().count('BLAS')>0}", flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")
    # Bits per character only means something for text; token-only corpora (MIDI) report bits per token.
    chars_per_token = val_meta["chars"] / val_meta["tokens"] if "chars" in val_meta else None

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "config": cfg.to_dict(), "data_rng": data_rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "args": vars(args)}, tmp)
        os.replace(tmp, ckpt_path)

    def validate():
        loss, n = evaluate(model, val, args)
        rec = {"step": step, "val_loss": loss, "val_tokens": n, "elapsed": round(elapsed, 1)}
        if chars_per_token:
            rec["val_bpc"] = loss / math.log(2) / chars_per_token
        else:
            rec["val_bits_per_token"] = loss / math.log(2)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(f"val step {step}: loss {loss:.4f} " +
              (f"bpc {rec['val_bpc']:.4f}" if chars_per_token else f"bits/token {rec['val_bits_per_token']:.4f}"),
              flush=True)

    last_ckpt = time.time()
    t_prev = time.time()
    acc_loss, acc_n = 0.0, 0
    model.train()
    while (step < args.max_steps and not (args.time_budget and elapsed >= args.time_budget)
           and not (args.deadline and time.time() >= args.deadline)):
        starts = data_rng.integers(0, len(train) - args.ctx - 1, size=args.batch)
        seq = np.stack([np.asarray(train[s:s + args.ctx + 1], dtype=np.int64) for s in starts])
        x = torch.from_numpy(seq[:, :-1])
        y = torch.from_numpy(seq[:, 1:])
        lr = lr_at(step, elapsed, args)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip).item()
        opt.step()
        step += 1
        now = time.time()
        elapsed += now - t_prev
        t_prev = now
        acc_loss += loss.item()
        acc_n += 1
        if step % args.log_every == 0 or step == 1:
            rec = {"step": step, "loss": acc_loss / acc_n, "lr": lr, "gnorm": gnorm, "elapsed": round(elapsed, 1),
                   "tokens": step * args.batch * args.ctx}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(f"step {step}: loss {rec['loss']:.4f} lr {lr:.2e} gnorm {gnorm:.2f} "
                  f"{elapsed:.0f}s", flush=True)
            acc_loss, acc_n = 0.0, 0
        if step % args.val_every == 0:
            validate()
            t_prev = time.time()  # validation time does not count against the budget
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
            t_prev = time.time()
    if step % args.val_every != 0:
        validate()
    save()
    print(f"train: done at step {step}, {elapsed:.0f} s; checkpoint {ckpt_path}", flush=True)


if __name__ == "__main__":
    main()
