// Plain CPU references of the Vulkan kernels (double accumulation), used by
// the parity tests: each kernel's output is held to its reference.
//
//   std::vector<float> y = wb::vk::ref::matmul(W, rows, cols, x, n_vec, wb::vk::Act::tanh);
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/backend/vulkan/vk_ops.hpp"

namespace wb::vk::ref {

// y[v*rows + r] = act(sum_k W[r*cols + k] * x[v*cols + k])
std::vector<float> matmul(std::span<const float> W, uint32_t rows, uint32_t cols, std::span<const float> x,
                          uint32_t n_vec, Act act);
std::vector<float> layer_norm(std::span<const float> x, std::span<const float> w, std::span<const float> b,
                              uint32_t C, float eps);
std::vector<float> group_norm(std::span<const float> x, std::span<const float> w, std::span<const float> b,
                              uint32_t C, uint32_t G, float eps);
// out[m][v][c]; prev of the first token of sequence s is state[s*stride + off + c].
std::vector<float> token_mix(std::span<const float> x, std::span<const float> state, std::span<const float> mix,
                             const TokenMixPush& p);
// ln_mix_shift.comp: layer norm, then token_mix with T == 1; advances the
// shift slots of `state` to the normed vectors. Returns out[m][v][c].
std::vector<float> ln_mix_shift(std::span<const float> x, std::vector<float>& state, std::span<const float> w,
                                std::span<const float> b, std::span<const float> mix, const LnMixShiftPush& p);
// read_sum.comp: the partial sums of `groups` workgroups over words (4 per
// uvec4) of `data`, invocation g reading uvec4 g, g + groups*256, ...
std::vector<uint32_t> read_sum(std::span<const uint32_t> data, uint32_t groups);
// copy_unless.comp: dst[dst_off + i] = src[src_off + i] for i < n unless flag != 0.
void copy_unless(std::span<const uint32_t> src, uint32_t src_off, std::vector<uint32_t>& dst, uint32_t dst_off,
                 uint32_t n, uint32_t flag);
// `y0`: y before the op (read by add_sigmoid_mul only).
std::vector<float> eltwise(std::span<const float> a, std::span<const float> b, EltOp op,
                           std::span<const float> y0 = {});
// out[m][v][c] with mix offsets mix[m][c] + delta[m][v][c] (token_mix_dd.comp).
std::vector<float> token_mix_dd(std::span<const float> x, std::span<const float> state, std::span<const float> mix,
                                std::span<const float> delta, const TokenMixPush& p);
// RWKV-4 WKV over n_seq sequences of T tokens; advances `state`; returns out[n_vec*C] (wkv4.comp).
std::vector<float> wkv4(std::span<const float> k, std::span<const float> v, std::span<const float> r,
                        std::vector<float>& state, std::span<const float> params, const Wkv4Push& p,
                        uint32_t n_seq);
// RWKV-5/6 WKV + per-head group norm (+ silu gate); advances `state` (wkv5.comp).
struct Wkv5Vectors {
  std::vector<float> r, k, v, wd, g;  // n_vec*C each; wd / g only for the modes that read them
};
std::vector<float> wkv5(const Wkv5Vectors& in, std::vector<float>& state, std::span<const float> params,
                        const Wkv5Push& p, uint32_t n_seq);

struct Rwkv7Vectors {
  std::vector<float> r, w, k, v, kk, a, g;  // n_vec*C each, as wkv7 reads them
};
// In place on k, v, w, a, v_first; writes kk (see rwkv7_prep.comp).
void rwkv7_prep(Rwkv7Vectors& io, std::span<const float> vl, std::vector<float>& v_first,
                std::span<const float> params, uint32_t C, bool layer0);
// Advances `state` (n_seq slots) and returns out[n_vec*C] (see wkv7_sg.comp and wkv7_out.comp).
std::vector<float> wkv7(const Rwkv7Vectors& in, std::vector<float>& state, std::span<const float> params,
                        const Wkv7Push& p, uint32_t n_seq);

// wkv7_step.comp: the unfused chain it replaces, for one token of n_vec states:
// io.w / io.a / io.g are overwritten by the up-projections up[m] (C x d[m], row-major) of
// lora (vector s of LoRA m at lora_off[m] + s*d[m]), vl likewise (unless layer0), then
// rwkv7_prep and wkv7 with T = 1. `params`: p (5*C) then q (3*C).
std::vector<float> wkv7_step(Rwkv7Vectors& io, std::span<const float> lora,
                             const std::vector<float> (&up)[4], std::vector<float>& v_first,
                             std::vector<float>& state, std::span<const float> p, std::span<const float> q,
                             const Wkv7StepPush& pc);

}  // namespace wb::vk::ref
