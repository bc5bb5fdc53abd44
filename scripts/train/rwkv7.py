#!/usr/bin/python3
"""RWKV-7 ("x070") language model in plain PyTorch (CPU), written for this project's training recipe.

Usage:
    from rwkv7 import RWKV7, RWKV7Config
    model = RWKV7(RWKV7Config(n_layer=6, n_embd=256, vocab_size=4096))
    logits = model(ids)                          # ids: (B, T) int64 -> (B, T, vocab) float32
    logits, state = model(ids, state=None, return_state=True)   # recurrent use (generation)
    torch.save(model.state_dict(), "x.pth")      # IS a BlinkDL-layout RWKV-7 checkpoint

The parameter names and shapes are those of BlinkDL's RWKV-7 trainer (RWKV-LM, RWKV-v7/train_temp), so the
state dict loads in any RWKV-7 runtime, including this project's C++ `.pth` loader:
    emb.weight (V,C); blocks.0.ln0.{weight,bias}; blocks.i.ln1/ln2.{weight,bias};
    blocks.i.att.x_r/x_w/x_k/x_v/x_a/x_g (1,1,C); att.w0 (1,1,C) w1 (C,Dw) w2 (Dw,C); a0/a1/a2; v0/v1/v2
    (not in layer 0); g1 (C,Dg) g2 (Dg,C); k_k, k_a (1,1,C); r_k (H,N);
    att.receptance/key/value/output.weight (C,C); att.ln_x.{weight,bias} (C);
    ffn.x_k (1,1,C); ffn.key.weight (F,C); ffn.value.weight (C,F); ln_out.{weight,bias}; head.weight (V,C).

The WKV-7 state update, per head (S is N x N, rows = value channels, columns = key channels):
    S_t = S_{t-1} (diag(w_t) + a_t b_t^T) + v_t k_t^T,   y_t = S_t r_t
with w_t = exp(-exp(w_raw)) (w_raw soft-clamped below -0.5), a_t = -kk_t, b_t = kk_t * iclr_t.
Training evaluates it in chunks of CHUNK tokens: inside a chunk the rank-1 terms form a unit lower-
triangular system that is solved in one batched triangular solve, and only the N x N state is carried
from chunk to chunk. `wkv7_sequential` is the plain per-token loop; the tests check the two agree.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

CHUNK = 16


def _lora_dim(c, factor, power):
    # BlinkDL's suggested LoRA widths, rounded to a multiple of 32 (at least 32).
    return max(32, int(round((factor * (c ** power)) / 32) * 32))


@dataclass
class RWKV7Config:
    n_layer: int = 6
    n_embd: int = 256
    vocab_size: int = 4096
    head_size: int = 64
    dim_ffn: int = 0  # 0 -> 4 * n_embd (the official x070 checkpoints use 4x)

    def __post_init__(self):
        if self.dim_ffn == 0:
            self.dim_ffn = 4 * self.n_embd
        assert self.n_embd % self.head_size == 0, "n_embd must be a multiple of head_size"

    def to_dict(self):
        return asdict(self)


# --------------------------------------------------------------------------------------------------
# WKV-7 kernels
# --------------------------------------------------------------------------------------------------

def wkv7_sequential(r, logw, k, v, a, b, state):
    """Reference per-token recurrence. All inputs (B,T,H,N); logw = log of the decay (<= 0);
    state (B,H,N,N) [value, key]. Returns y (B,T,H,N) and the final state."""
    B, T, H, N = r.shape
    S = state
    ys = []
    w = torch.exp(logw)
    for t in range(T):
        sa = torch.einsum("bhij,bhj->bhi", S, a[:, t])
        S = S * w[:, t, :, None, :] + sa[..., None] * b[:, t, :, None, :] + v[:, t, :, :, None] * k[:, t, :, None, :]
        ys.append(torch.einsum("bhij,bhj->bhi", S, r[:, t]))
    return torch.stack(ys, dim=1), S


def wkv7_chunked(r, logw, k, v, a, b, state, chunk=CHUNK):
    """Same result as wkv7_sequential, evaluated chunk-parallel. T need not be a multiple of chunk:
    the tail is padded with steps that leave the state unchanged (decay 1, zero k, v, a, b, r)."""
    B, T, H, N = r.shape
    pad = (-T) % chunk
    if pad:
        zp = lambda x: F.pad(x, (0, 0, 0, 0, 0, pad))
        r, logw, k, v, a, b = map(zp, (r, logw, k, v, a, b))
    Tp = T + pad
    nc = Tp // chunk
    L = chunk
    # (B,H,nc,L,N)
    shp = lambda x: x.view(B, nc, L, H, N).permute(0, 3, 1, 2, 4)
    r, logw, k, v, a, b = map(shp, (r, logw, k, v, a, b))
    cum = torch.cumsum(logw, dim=3)             # log D_t (inclusive)
    cum_ex = cum - logw                          # log D_{t-1}
    inv_d = torch.exp(-cum)                      # 1 / D_s   (<= exp(0.61 * L))
    qa = a * torch.exp(cum_ex)                   # a_t * D_{t-1}
    rq = r * torch.exp(cum)                      # r_t * D_t
    kb = b * inv_d                               # b_s / D_s
    kk = k * inv_d                               # k_s / D_s
    strict = torch.ones(L, L, dtype=torch.bool, device=r.device).tril(-1)
    incl = torch.ones(L, L, dtype=torch.bool, device=r.device).tril(0)
    A = (qa @ kb.transpose(-1, -2)).masked_fill(~strict, 0.0)
    Bm = (qa @ kk.transpose(-1, -2)).masked_fill(~strict, 0.0)
    eye = torch.eye(L, dtype=r.dtype, device=r.device)
    I_minus_A = eye - A
    # z = (I-A)^-1 (qa S^T + Bm v) = W1 S^T + U
    rhs = torch.cat([qa, Bm @ v], dim=-1)
    sol = torch.linalg.solve_triangular(I_minus_A, rhs, upper=False, unitriangular=True)
    W1, U = sol[..., :N], sol[..., N:]
    Pb = (rq @ kb.transpose(-1, -2)).masked_fill(~incl, 0.0)
    Pk = (rq @ kk.transpose(-1, -2)).masked_fill(~incl, 0.0)
    G = rq + Pb @ W1                             # y = G S^T + Y0
    Y0 = Pb @ U + Pk @ v
    d_last = torch.exp(cum[..., -1:, :])         # D_L, (B,H,nc,1,N)
    Kb = kb * d_last                             # b_s D_L / D_s
    Kk = kk * d_last
    M = torch.diag_embed(d_last.squeeze(-2)) + W1.transpose(-1, -2) @ Kb     # S_next = S M + E
    E = U.transpose(-1, -2) @ Kb + v.transpose(-1, -2) @ Kk
    S = state
    starts = []
    # unbind (not M[:, :, c]): the backward of one unbind is a single stack, while the backward of
    # nc separate selects would zero-fill a full-size gradient nc times.
    for Mc, Ec in zip(M.unbind(2), E.unbind(2)):
        starts.append(S)
        S = torch.baddbmm(Ec.reshape(-1, N, N), S.reshape(-1, N, N), Mc.reshape(-1, N, N)).view(B, H, N, N)
    S0 = torch.stack(starts, dim=2)              # (B,H,nc,N,N)
    y = G @ S0.transpose(-1, -2) + Y0            # (B,H,nc,L,N)
    y = y.permute(0, 2, 3, 1, 4).reshape(B, Tp, H, N)[:, :T]
    return y, S


# --------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------

def _ortho_(x, scale):
    with torch.no_grad():
        gain = math.sqrt(x.shape[0] / x.shape[1]) if x.shape[0] > x.shape[1] else 1.0
        nn.init.orthogonal_(x, gain=gain * scale)
    return x


class TimeMix(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        C, N = cfg.n_embd, cfg.head_size
        H = C // N
        self.layer_id, self.n_head, self.head_size = layer_id, H, N
        L = cfg.n_layer
        r01 = layer_id / max(1, L - 1)
        r10 = 1.0 - layer_id / L
        with torch.no_grad():
            ddd = (torch.arange(C, dtype=torch.float32) / C).view(1, 1, C)
            self.x_r = nn.Parameter(1.0 - ddd ** (0.2 * r10))
            self.x_w = nn.Parameter(1.0 - ddd ** (0.9 * r10))
            self.x_k = nn.Parameter(1.0 - ddd ** (0.7 * r10))
            self.x_v = nn.Parameter(1.0 - ddd ** (0.7 * r10))
            self.x_a = nn.Parameter(1.0 - ddd ** (0.9 * r10))
            self.x_g = nn.Parameter(1.0 - ddd ** (0.2 * r10))
            n = torch.arange(C, dtype=torch.float32)
            linear = n / (C - 1) - 0.5
            zig = ((n % N) - (N - 1) / 2) / ((N - 1) / 2)
            zig = zig * zig.abs()
            www = -6 + 6 * (n / (C - 1)) ** (1 + 1 * r01 ** 0.3)
            dw, da, dv, dg = (_lora_dim(C, 2.5, 0.5), _lora_dim(C, 2.5, 0.5),
                              _lora_dim(C, 1.7, 0.5), _lora_dim(C, 5.0, 0.5))
            self.w0 = nn.Parameter((www + 0.5 + zig * 2.5).view(1, 1, C))
            self.w1 = nn.Parameter(torch.zeros(C, dw))
            self.w2 = nn.Parameter(_ortho_(torch.zeros(dw, C), 0.1))
            self.a0 = nn.Parameter((torch.zeros(C) - 0.19 + zig * 0.3 + linear * 0.4).view(1, 1, C))
            self.a1 = nn.Parameter(torch.zeros(C, da))
            self.a2 = nn.Parameter(_ortho_(torch.zeros(da, C), 0.1))
            if layer_id > 0:
                self.v0 = nn.Parameter((torch.zeros(C) + 0.73 - linear * 0.4).view(1, 1, C))
                self.v1 = nn.Parameter(torch.zeros(C, dv))
                self.v2 = nn.Parameter(_ortho_(torch.zeros(dv, C), 0.1))
            self.g1 = nn.Parameter(torch.zeros(C, dg))
            self.g2 = nn.Parameter(_ortho_(torch.zeros(dg, C), 0.1))
            self.k_k = nn.Parameter((torch.zeros(C) + 0.71 - linear * 0.1).view(1, 1, C))
            self.k_a = nn.Parameter(torch.zeros(1, 1, C) + 1.02)
            self.r_k = nn.Parameter(torch.zeros(H, N) - 0.04)
        self.receptance = nn.Linear(C, C, bias=False)
        self.key = nn.Linear(C, C, bias=False)
        self.value = nn.Linear(C, C, bias=False)
        self.output = nn.Linear(C, C, bias=False)
        self.ln_x = nn.GroupNorm(H, C, eps=64e-5)

    def forward(self, x, v_first, shift, wkv_state, kernel):
        B, T, C = x.shape
        H, N = self.n_head, self.head_size
        prev = torch.cat([shift.unsqueeze(1), x[:, :-1]], dim=1)
        xx = prev - x
        xr, xw, xk = x + xx * self.x_r, x + xx * self.x_w, x + xx * self.x_k
        xv, xa, xg = x + xx * self.x_v, x + xx * self.x_a, x + xx * self.x_g
        r = self.receptance(xr)
        w_raw = -F.softplus(-(self.w0 + torch.tanh(xw @ self.w1) @ self.w2)) - 0.5
        logw = -torch.exp(w_raw)                        # log decay, in (-exp(-0.5), 0)
        k = self.key(xk)
        v = self.value(xv)
        if self.layer_id == 0:
            v_first = v
        else:
            v = v + (v_first - v) * torch.sigmoid(self.v0 + (xv @ self.v1) @ self.v2)
        iclr = torch.sigmoid(self.a0 + (xa @ self.a1) @ self.a2)
        g = torch.sigmoid(xg @ self.g1) @ self.g2
        kk = F.normalize((k * self.k_k).view(B, T, H, N), dim=-1, p=2.0).view(B, T, C)
        k = k * (1 + (iclr - 1) * self.k_a)
        hv = lambda t: t.view(B, T, H, N)
        y, wkv_state = kernel(hv(r), hv(logw), hv(k), hv(v), hv(-kk), hv(kk * iclr), wkv_state)
        y = self.ln_x(y.reshape(B * T, C)).view(B, T, C)
        bonus = (hv(r) * hv(k) * self.r_k).sum(dim=-1, keepdim=True) * hv(v)
        y = y + bonus.reshape(B, T, C)
        return self.output(y * g), v_first, x[:, -1], wkv_state


class ChannelMix(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        C = cfg.n_embd
        r10 = 1.0 - layer_id / cfg.n_layer
        with torch.no_grad():
            ddd = (torch.arange(C, dtype=torch.float32) / C).view(1, 1, C)
            self.x_k = nn.Parameter(1.0 - ddd ** (r10 ** 4))
        self.key = nn.Linear(C, cfg.dim_ffn, bias=False)
        self.value = nn.Linear(cfg.dim_ffn, C, bias=False)

    def forward(self, x, shift):
        prev = torch.cat([shift.unsqueeze(1), x[:, :-1]], dim=1)
        h = x + (prev - x) * self.x_k
        return self.value(torch.relu(self.key(h)) ** 2), x[:, -1]


class Block(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        C = cfg.n_embd
        self.layer_id = layer_id
        if layer_id == 0:
            self.ln0 = nn.LayerNorm(C)
        self.ln1 = nn.LayerNorm(C)
        self.ln2 = nn.LayerNorm(C)
        self.att = TimeMix(cfg, layer_id)
        self.ffn = ChannelMix(cfg, layer_id)

    def forward(self, x, v_first, st, kernel):
        if self.layer_id == 0:
            x = self.ln0(x)
        a, v_first, s_att, wkv = self.att(self.ln1(x), v_first, st[0], st[1], kernel)
        x = x + a
        f, s_ffn = self.ffn(self.ln2(x), st[2])
        x = x + f
        return x, v_first, (s_att, wkv, s_ffn)


class RWKV7(nn.Module):
    def __init__(self, cfg: RWKV7Config):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.blocks = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layer)])
        self.ln_out = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.reset_weights()

    @torch.no_grad()
    def reset_weights(self):
        """BlinkDL's generate_init_weight rules: tiny uniform embedding, orthogonal head with gain
        0.5*sqrt(V/C), orthogonal square/rectangular matrices (att.key 0.1, att.output and ffn.value zero),
        ln_x weight growing with depth; the vectors and LoRAs keep the values set in the constructors."""
        cfg = self.cfg
        nn.init.uniform_(self.emb.weight, -1e-4, 1e-4)
        gain = 0.5 * math.sqrt(cfg.vocab_size / cfg.n_embd) if cfg.vocab_size > cfg.n_embd else 0.5
        nn.init.orthogonal_(self.head.weight, gain=gain)
        for i, blk in enumerate(self.blocks):
            att, ffn = blk.att, blk.ffn
            nn.init.orthogonal_(att.receptance.weight, gain=1.0)
            nn.init.orthogonal_(att.key.weight, gain=0.1)
            nn.init.orthogonal_(att.value.weight, gain=1.0)
            nn.init.zeros_(att.output.weight)
            nn.init.orthogonal_(ffn.key.weight, gain=1.0)
            nn.init.zeros_(ffn.value.weight)
            att.ln_x.weight.fill_(((1 + i) / cfg.n_layer) ** 0.7)
            att.ln_x.bias.zero_()

    def zero_state(self, batch, dtype=torch.float32):
        C, N = self.cfg.n_embd, self.cfg.head_size
        H = C // N
        return [(torch.zeros(batch, C, dtype=dtype), torch.zeros(batch, H, N, N, dtype=dtype),
                 torch.zeros(batch, C, dtype=dtype)) for _ in range(self.cfg.n_layer)]

    def forward(self, idx, state=None, return_state=False, sequential=False):
        B, T = idx.shape
        x = self.emb(idx)
        if state is None:
            state = self.zero_state(B, x.dtype)
        kernel = wkv7_sequential if sequential else wkv7_chunked
        v_first = None
        new_state = []
        for i, blk in enumerate(self.blocks):
            x, v_first, st = blk(x, v_first, state[i], kernel)
            new_state.append(st)
        logits = self.head(self.ln_out(x))
        return (logits, new_state) if return_state else logits


def count_params(model):
    return sum(p.numel() for p in model.parameters())
