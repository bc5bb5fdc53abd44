#!/usr/bin/python3
"""Test-side converter: rwkv.cpp tiny fixtures -> the containers real users have.

Run with Debian's /usr/bin/python3 (torch, numpy). Reads the FP32 rwkv.cpp
files under FIXTURES/rwkv-cpp-tiny, undoes the converter's stored transforms
(fixtures README sections 3.6 and 7) to get the state dict exactly as BlinkDL's
trainer saves it, then writes into OUT:

  <m>.ref                 the official tensors as plain f32 (a trivial dump the
                          C++ tests compare every container against)
  <m>-{f32,f16,bf16}.pth  torch.save of the official state dict
  <m>-{f32,f16,bf16}.safetensors   written by hand (no Debian package)
  <m>-{f32,f16,q8_0,q4_0}.gguf     v6 and v7 only, laid out as llama.cpp's
                          convert_hf_to_gguf.py (f32/f16/q8_0) and llama-quantize
                          --pure (q4_0, from the f32 file) write them
  world-vocab.gguf        a vocab-only GGUF holding the RWKV World tokenizer
  hostile-*.pth, bad-*.pth   refused inputs for the loader tests

Nothing here is committed; ctest runs it as a fixture-setup test into the build tree.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

MODELS = {
    # name: (file, version)
    "4v0": ("rwkv-cpp-tiny/tiny-rwkv-4v0-660K-FP32.bin", "4"),
    "5v1": ("rwkv-cpp-tiny/tiny-rwkv-5v1-730K-FP32.bin", "5.1"),
    "5v2": ("rwkv-cpp-tiny/tiny-rwkv-5v2-730K-FP32.bin", "5.2"),
    "6v0": ("rwkv-cpp-tiny/history-6v0-1m/tiny-rwkv-6v0-1m-FP32.bin", "6"),
    "7v0": ("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin", "7"),
}


# ---------------------------------------------------------------- rwkv.cpp .bin
def read_rwkv_cpp(path):
    data = open(path, "rb").read()
    magic, version, n_vocab, n_embd, n_layer, dtype = struct.unpack_from("<6I", data, 0)
    assert magic == 0x67676D66, path
    pos = 24
    tensors = collections.OrderedDict()
    while pos < len(data):
        n_dims, name_len, t = struct.unpack_from("<3i", data, pos)
        pos += 12
        ne = struct.unpack_from("<%di" % n_dims, data, pos)
        pos += 4 * n_dims
        name = data[pos:pos + name_len].decode()
        pos += name_len
        assert t == 0, "FP32 files only"
        n = int(np.prod(ne))
        arr = np.frombuffer(data, dtype="<f4", count=n, offset=pos).reshape(tuple(reversed(ne)))
        pos += 4 * n
        tensors[name] = arr.astype(np.float64)
    return tensors, n_embd, n_layer


def official_state_dict(raw, version, C):
    """Undo rwkv.cpp's converter transforms (README 3.6) -> BlinkDL's layout."""
    out = collections.OrderedDict()
    vec = lambda a: a.reshape(1, 1, -1)
    for name, a in raw.items():
        if version == "7" and name.endswith("att.x_rwkvag"):
            p = name[: -len("x_rwkvag")]
            for i, s in enumerate("rwkvag"):
                out[p + "x_" + s] = a.reshape(6, C)[i].reshape(1, 1, C)
            continue
        if version == "7" and any(name.endswith("att." + s) for s in ("w1", "w2", "a1", "a2", "v1", "v2", "g1", "g2")):
            out[name] = a.T
            continue
        if version == "7":
            out[name] = a  # w0, k_k, x_k ... keep (1,1,C); r_k is (H,N)
            continue
        if ".time_" not in name:
            out[name] = a
            continue
        if version == "4":
            if name.endswith("time_decay"):
                out[name] = np.log(-a).reshape(C)
            elif name.endswith("time_first"):
                out[name] = a.reshape(C)
            else:
                out[name] = vec(a)
        elif version in ("5.1", "5.2"):
            H = a.shape[0] if name.endswith(("time_decay", "time_first", "time_faaaa")) else None
            if name.endswith("time_decay"):
                w = np.log(-np.log(a))
                out[name] = w.reshape(H) if version == "5.1" else w.reshape(H, -1)
            elif name.endswith("time_first"):
                out[name] = np.log(a).reshape(H)
            elif name.endswith("time_faaaa"):
                out[name] = a.reshape(H, -1)
            else:
                out[name] = vec(a)
        elif version == "6":
            if name.endswith("time_decay"):
                out[name] = vec(a)
            elif name.endswith("time_faaaa"):
                out[name] = a.reshape(a.shape[0], -1)
            elif name.endswith(("time_maa_w1", "time_decay_w1", "time_decay_w2")):
                out[name] = a.T
            elif name.endswith("time_maa_w2"):
                out[name] = np.ascontiguousarray(a.transpose(0, 2, 1))
            else:
                out[name] = vec(a)
    return collections.OrderedDict((k, np.ascontiguousarray(v, dtype=np.float32)) for k, v in out.items())


# ---------------------------------------------------------------- writers
def write_ref(path, sd):
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(sd)))
        for k, v in sd.items():
            kb = k.encode()
            f.write(struct.pack("<II", len(kb), v.ndim) + kb)
            f.write(struct.pack("<%dq" % v.ndim, *v.shape))
            f.write(v.astype("<f4").tobytes())


TORCH_DT = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def write_pth(path, sd, dt):
    torch.save(collections.OrderedDict((k, torch.from_numpy(v.copy()).to(TORCH_DT[dt])) for k, v in sd.items()), path)


def write_safetensors(path, sd, dt):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = torch.from_numpy(v.copy()).to(TORCH_DT[dt]).contiguous().view(torch.uint8).numpy().tobytes()
        header[k] = {"dtype": {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dt], "shape": list(v.shape),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # what the reference writer does: data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# GGUF ------------------------------------------------------------------------
GGML = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8}


def np_roundf(x):  # ggml's round-half-away-from-zero
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quant_q8_0(a):
    blocks = a.reshape(-1, 32).astype(np.float32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / 127
    with np.errstate(divide="ignore"):
        idv = np.where(d == 0, 0, 1 / d)
    qs = np_roundf(blocks * idv).astype(np.int8)
    return np.concatenate([d.astype(np.float16).view(np.uint8), qs.view(np.uint8)], axis=1).tobytes()


def quant_q4_0(a):
    # quantize_row_q4_0_ref: d = signed value of largest magnitude / -8
    blocks = a.reshape(-1, 32).astype(np.float32)
    idx = np.abs(blocks).argmax(axis=1)
    mx = blocks[np.arange(len(blocks)), idx][:, None]
    d = mx / -8
    with np.errstate(divide="ignore"):
        idv = np.where(d == 0, 0, 1 / d)
    q = np.minimum(15, (blocks * idv + 8.5).astype(np.int8)).astype(np.uint8)
    qs = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([d.astype(np.float16).view(np.uint8), qs], axis=1).tobytes()


def gguf_str(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, val):
    out = gguf_str(key)
    if isinstance(val, bool):
        return out + struct.pack("<IB", 7, val)
    if isinstance(val, int):
        return out + struct.pack("<II", 4, val)
    if isinstance(val, float):
        return out + struct.pack("<If", 6, val)
    if isinstance(val, (str, bytes)):
        return out + struct.pack("<I", 8) + gguf_str(val)
    if isinstance(val, tuple) and val[0] == "i32[]":
        return out + struct.pack("<IIQ", 9, 5, len(val[1])) + struct.pack("<%di" % len(val[1]), *val[1])
    if isinstance(val, list):
        return out + struct.pack("<IIQ", 9, 8, len(val)) + b"".join(gguf_str(s) for s in val)
    raise TypeError(val)


def write_gguf(path, kvs, tensors, alignment=32):
    """tensors: list of (name, numpy array in numpy order, ggml type name)."""
    infos, blobs, off = [], [], 0
    for name, a, t in tensors:
        a = np.ascontiguousarray(a, dtype=np.float32)
        data = {"f32": lambda: a.astype("<f4").tobytes(), "f16": lambda: a.astype("<f2").tobytes(),
                "q8_0": lambda: quant_q8_0(a), "q4_0": lambda: quant_q4_0(a)}[t]()
        ne = list(reversed(a.shape))
        infos.append(gguf_str(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne) +
                     struct.pack("<IQ", GGML[t], off))
        pad = (alignment - len(data) % alignment) % alignment
        blobs.append(data + b"\0" * pad)
        off += len(data) + pad
    head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kvs)) + b"".join(gguf_kv(k, v) for k, v in kvs)
    head += b"".join(infos)
    head += b"\0" * ((alignment - len(head) % alignment) % alignment)
    with open(path, "wb") as f:
        f.write(head + b"".join(blobs))


def byte_vocab_kvs():
    # A byte-level "rwkv" vocab: id = byte, each token escaped like the converter does.
    toks = [repr(bytes([i]))[2:-1] for i in range(256)]
    return [("tokenizer.ggml.model", "rwkv"), ("tokenizer.ggml.tokens", toks),
            ("tokenizer.ggml.token_type", ("i32[]", [1] * 256))]


def gguf_tensors_rwkv6(sd, L, rescale):
    t = []
    sq = lambda a: a.reshape(-1)
    t.append(("token_embd.weight", sd["emb.weight"]))
    t.append(("token_embd_norm.weight", sd["blocks.0.ln0.weight"]))
    t.append(("token_embd_norm.bias", sd["blocks.0.ln0.bias"]))
    for i in range(L):
        p, g = f"blocks.{i}.", f"blk.{i}."
        scale = 2.0 ** (i // rescale)
        t += [(g + "attn_norm.weight", sd[p + "ln1.weight"]), (g + "attn_norm.bias", sd[p + "ln1.bias"]),
              (g + "attn_norm_2.weight", sd[p + "ln2.weight"]), (g + "attn_norm_2.bias", sd[p + "ln2.bias"]),
              (g + "time_mix_lerp_x.weight", sq(sd[p + "att.time_maa_x"])),
              (g + "time_mix_w1.weight", sd[p + "att.time_maa_w1"].T),
              (g + "time_mix_w2.weight", sd[p + "att.time_maa_w2"].transpose(0, 2, 1)),
              (g + "time_mix_first.weight", sd[p + "att.time_faaaa"]),
              (g + "time_mix_decay.weight", sq(sd[p + "att.time_decay"])),
              (g + "time_mix_decay_w1.weight", sd[p + "att.time_decay_w1"].T),
              (g + "time_mix_decay_w2.weight", sd[p + "att.time_decay_w2"].T),
              (g + "time_mix_key.weight", sd[p + "att.key.weight"]),
              (g + "time_mix_value.weight", sd[p + "att.value.weight"]),
              (g + "time_mix_receptance.weight", sd[p + "att.receptance.weight"]),
              (g + "time_mix_gate.weight", sd[p + "att.gate.weight"]),
              (g + "time_mix_ln.weight", sd[p + "att.ln_x.weight"]), (g + "time_mix_ln.bias", sd[p + "att.ln_x.bias"]),
              (g + "time_mix_output.weight", sd[p + "att.output.weight"] / scale),
              (g + "channel_mix_lerp_k.weight", sq(sd[p + "ffn.time_maa_k"])),
              (g + "channel_mix_lerp_r.weight", sq(sd[p + "ffn.time_maa_r"])),
              (g + "channel_mix_key.weight", sd[p + "ffn.key.weight"]),
              (g + "channel_mix_receptance.weight", sd[p + "ffn.receptance.weight"]),
              (g + "channel_mix_value.weight", sd[p + "ffn.value.weight"] / scale)]
        lerp = np.stack([sq(sd[p + "att.time_maa_" + s])[None] for s in "wkvrg"], axis=0)[:, None]
        t.append((g + "time_mix_lerp_fused.weight", lerp))  # (5,1,1,C)
    t += [("output_norm.weight", sd["ln_out.weight"]), ("output_norm.bias", sd["ln_out.bias"]),
          ("output.weight", sd["head.weight"])]
    return t


def gguf_tensors_rwkv7(sd, L):
    t = []
    sq = lambda a: a.reshape(-1)
    t.append(("token_embd.weight", sd["emb.weight"]))
    t.append(("token_embd_norm.weight", sd["blocks.0.ln0.weight"]))
    t.append(("token_embd_norm.bias", sd["blocks.0.ln0.bias"]))
    for i in range(L):
        p, g = f"blocks.{i}.", f"blk.{i}."
        t += [(g + "attn_norm.weight", sd[p + "ln1.weight"]), (g + "attn_norm.bias", sd[p + "ln1.bias"]),
              (g + "attn_norm_2.weight", sd[p + "ln2.weight"]), (g + "attn_norm_2.bias", sd[p + "ln2.bias"])]
        t.append((g + "time_mix_lerp_fused.weight", np.stack([sd[p + "att.x_" + s] for s in "rwkvag"], axis=0)))
        for s in ("w", "a", "v", "g"):
            if s in ("w", "a", "v") and (p + f"att.{s}0") in sd:
                t.append((g + f"time_mix_{s}0.weight", sq(sd[p + f"att.{s}0"])))
            if (p + f"att.{s}1") in sd:
                # converter input is the fla layout (LoRA already as Linear weights = official.T)
                t.append((g + f"time_mix_{s}1.weight", sd[p + f"att.{s}1"].T))
                t.append((g + f"time_mix_{s}2.weight", sd[p + f"att.{s}2"].T))
        if i == 0:  # placeholder value-residual LoRA on layer 0 = copies of a0/a1/a2
            t += [(g + "time_mix_v0.weight", sq(sd[p + "att.a0"])), (g + "time_mix_v1.weight", sd[p + "att.a1"].T),
                  (g + "time_mix_v2.weight", sd[p + "att.a2"].T)]
        t += [(g + "time_mix_k_k.weight", sq(sd[p + "att.k_k"])), (g + "time_mix_k_a.weight", sq(sd[p + "att.k_a"])),
              (g + "time_mix_r_k.weight", sq(sd[p + "att.r_k"])),
              (g + "time_mix_key.weight", sd[p + "att.key.weight"]),
              (g + "time_mix_value.weight", sd[p + "att.value.weight"]),
              (g + "time_mix_receptance.weight", sd[p + "att.receptance.weight"]),
              (g + "time_mix_output.weight", sd[p + "att.output.weight"]),
              (g + "time_mix_ln.weight", sd[p + "att.ln_x.weight"]), (g + "time_mix_ln.bias", sd[p + "att.ln_x.bias"]),
              (g + "channel_mix_lerp_k.weight", sq(sd[p + "ffn.x_k"])),
              (g + "channel_mix_key.weight", sd[p + "ffn.key.weight"]),
              (g + "channel_mix_value.weight", sd[p + "ffn.value.weight"])]
    t += [("output_norm.weight", sd["ln_out.weight"]), ("output_norm.bias", sd["ln_out.bias"]),
          ("output.weight", sd["head.weight"])]
    return t


# convert_hf_to_gguf.py: always-f32 tensors (besides 1-D ones and biases)
FORCE_F32 = ("time_mix_first", "time_mix_w1", "time_mix_w2", "time_mix_decay_w1", "time_mix_decay_w2",
             "time_mix_lerp_fused")
# llama-quant.cpp: RWKV's small 2-D weights are never quantised
NO_QUANT = ("time_mix_first", "time_mix_w0", "time_mix_w1", "time_mix_w2", "time_mix_v0", "time_mix_v1",
            "time_mix_v2", "time_mix_a0", "time_mix_a1", "time_mix_a2", "time_mix_g1", "time_mix_g2",
            "time_mix_decay_w1", "time_mix_decay_w2", "time_mix_lerp_fused")


def gguf_type(name, a, outtype):
    if outtype == "f32" or a.ndim <= 1 or name.endswith("_norm.weight") or not name.endswith(".weight"):
        return "f32"
    if any(name.endswith(f + ".weight") for f in FORCE_F32):
        return "f32"
    if outtype == "q4_0":  # llama-quantize --pure from the f32 file
        return "f32" if any(f + ".weight" in name for f in NO_QUANT) or a.shape[-1] % 32 else "q4_0"
    if outtype == "q8_0" and a.shape[-1] % 32:
        return "f16"  # the converter's QuantError fallback
    return outtype


def write_model_gguf(path, arch, sd, C, L, outtype, head_size, ffn, rescale=6):
    kvs = [("general.architecture", arch), ("general.name", os.path.basename(path)),
           (f"{arch}.context_length", 1048576), (f"{arch}.embedding_length", C), (f"{arch}.block_count", L),
           (f"{arch}.attention.layer_norm_epsilon", 1e-5), (f"{arch}.wkv.head_size", head_size),
           (f"{arch}.feed_forward_length", ffn), (f"{arch}.attention.head_count", 0),
           ("general.file_type", {"f32": 0, "f16": 1, "q8_0": 7, "q4_0": 2}[outtype])]
    if arch == "rwkv6":
        kvs += [("rwkv6.rescale_every_n_layers", rescale), ("rwkv6.time_mix_extra_dim", 32),
                ("rwkv6.time_decay_extra_dim", 64)]
        tensors = gguf_tensors_rwkv6(sd, L, rescale)
    else:
        kvs += [("rwkv7.attention.decay_lora_rank", 32), ("rwkv7.attention.iclr_lora_rank", 32),
                ("rwkv7.attention.value_residual_mix_lora_rank", 32), ("rwkv7.attention.gate_lora_rank", 32)]
        tensors = gguf_tensors_rwkv7(sd, L)
    kvs += byte_vocab_kvs()
    write_gguf(path, kvs, [(n, a, gguf_type(n, a, outtype)) for n, a in tensors])


def write_world_vocab_gguf(path, vocab_txt):
    import ast
    toks, types = ["<s>"], [3]
    for line in open(vocab_txt, encoding="utf-8"):
        parts = line.rstrip("\n").split(" ")
        tok = ast.literal_eval(" ".join(parts[1:-1]))
        tok = tok.encode() if isinstance(tok, str) else tok
        assert len(tok) == int(parts[-1])
        toks.append(repr(tok)[2:-1])
        types.append(1)
    while len(toks) < 65536:
        toks.append(f"[PAD{len(toks)}]")
        types.append(5)
    kvs = [("general.architecture", "rwkv7"), ("tokenizer.ggml.model", "rwkv"), ("tokenizer.ggml.tokens", toks),
           ("tokenizer.ggml.token_type", ("i32[]", types))]
    write_gguf(path, kvs, [])


# ---------------------------------------------------------------- hostile / broken .pth
def zip_pth(path, pkl, storages):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")
        for k, b in storages.items():
            z.writestr(f"archive/data/{k}", b)


class _Storage:
    def __init__(self, key, numel, typ="FloatStorage"):
        self.key, self.numel, self.typ = key, numel, typ


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        s, o, size, stride = self.args
        return (torch._utils._rebuild_tensor_v2, (s, o, size, stride, False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", getattr(torch, obj.typ), obj.key, "cpu", obj.numel)
        return None


def torch_like_pickle(entries):
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(collections.OrderedDict(entries))
    return buf.getvalue()


def write_hostile(out):
    target = os.path.join(out, "hostile-was-run")
    control = os.path.join(out, "hostile-control-was-run")
    for p in (target, control):
        if os.path.exists(p):
            os.remove(p)

    def os_system(path):
        cmd = f"touch '{path}'".encode()
        return b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."

    zip_pth(os.path.join(out, "hostile-os-system.pth"), os_system(target), {})
    # Prove the payload is live: Python's own unpickler runs it (on the control path only).
    pickle.loads(os_system(control))
    assert os.path.exists(control), "the hostile payload should be live"
    # Protocol-4 STACK_GLOBAL naming builtins.eval
    code = b"open('%s','w')" % target.encode()
    p4 = (b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94" + b"X" + struct.pack("<I", len(code)) + code +
          b"\x85R.")
    zip_pth(os.path.join(out, "hostile-builtins-eval.pth"), p4, {})

    good = np.arange(16, dtype=np.float32).tobytes()
    zip_pth(os.path.join(out, "bad-missing-storage.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("7", 16), 0, (4, 4), (4, 1)))]), {"0": good})
    zip_pth(os.path.join(out, "bad-shape-beyond-storage.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 16), 0, (5, 4), (4, 1)))]), {"0": good})
    zip_pth(os.path.join(out, "bad-storage-claims.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 10 ** 12), 0, (10 ** 6, 10 ** 6), (10 ** 6, 1)))]),
            {"0": good})
    zip_pth(os.path.join(out, "bad-huge-shape.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 16), 0, (10 ** 6, 10 ** 6), (10 ** 6, 1)))]), {"0": good})
    zip_pth(os.path.join(out, "bad-non-contiguous.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 16), 0, (4, 4), (1, 4)))]), {"0": good})
    zip_pth(os.path.join(out, "bad-int64.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 2, "LongStorage"), 0, (2,), (1,)))]), {"0": good})
    # A valid tiny file for comparisons
    zip_pth(os.path.join(out, "good-tiny.pth"),
            torch_like_pickle([("w", _Tensor(_Storage("0", 16), 4, (3, 4), (4, 1)))]), {"0": good})
    # What torch.save writes for a Module's state_dict (OrderedDict + _metadata,
    # applied with BUILD) and for a dict of nn.Parameters (_rebuild_parameter).
    torch.manual_seed(0)
    mod = torch.nn.Sequential(torch.nn.Linear(32, 16), torch.nn.LayerNorm(16))
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(torch.arange(p.numel(), dtype=torch.float32).reshape(p.shape) * 0.5)
    torch.save(mod.state_dict(), os.path.join(out, "module-state-dict.pth"))
    torch.save(dict(mod.named_parameters()), os.path.join(out, "parameters.pth"))
    # A shared storage: two tensors viewing one buffer (rows of one matrix).
    base = torch.arange(64, dtype=torch.float16).reshape(8, 8)
    torch.save({"a": base[2], "b": base[5:7]}, os.path.join(out, "shared-storage.pth"))
    full = open(os.path.join(out, "7v0-f32.pth"), "rb").read()
    open(os.path.join(out, "bad-truncated.pth"), "wb").write(full[: len(full) // 2])


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for m, (rel, version) in MODELS.items():
        raw, C, L = read_rwkv_cpp(os.path.join(fixtures, rel))
        sd = official_state_dict(raw, version, C)
        write_ref(os.path.join(out, f"{m}.ref"), sd)
        for dt in ("f32", "f16", "bf16"):
            write_pth(os.path.join(out, f"{m}-{dt}.pth"), sd, dt)
            write_safetensors(os.path.join(out, f"{m}-{dt}.safetensors"), sd, dt)
        if version in ("6", "7"):
            arch = "rwkv6" if version == "6" else "rwkv7"
            head_size = 8 if version == "6" else 64
            ffn = sd["blocks.0.ffn.key.weight"].shape[0]
            for outtype in ("f32", "f16", "q8_0", "q4_0"):
                write_model_gguf(os.path.join(out, f"{m}-{outtype}.gguf"), arch, sd, C, L, outtype, head_size, ffn)
    write_world_vocab_gguf(os.path.join(out, "world-vocab.gguf"),
                           os.path.join(fixtures, "tokenizers/rwkv_vocab_v20230424.txt"))
    write_hostile(out)
    open(os.path.join(out, "STAMP"), "w").write("ok\n")


if __name__ == "__main__":
    main()
