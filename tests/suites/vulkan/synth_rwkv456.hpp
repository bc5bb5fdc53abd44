// Random-weight RWKV-4 / 5.1 / 5.2 / 6 models of chosen shapes, in rwkv.cpp's
// convention (its stored transforms of the decay and bonus, its LoRA
// orientation), for Vulkan-vs-CPU parity. Values are scaled like trained
// weights: unit-variance projections, mixes in (0, 1), decays in their usual range.
//
//   TensorFile tf = wb::test::synth_rkv({.arch = wb::Arch::v6, .n_embd = 768});
#pragma once
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend/vulkan/half.hpp"
#include "core/model/model.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::test {

struct SynthRkvShape {
  Arch arch = Arch::v5_2;
  int n_layer = 2, n_embd = 1024, head_size = 64, n_ffn = 3584, n_vocab = 2048;
  int d_mix = 32, d_decay = 64;  // RWKV-6 LoRA widths
  bool f16 = false;              // matrices in f16 (vectors stay f32)
  uint32_t seed = 1;
};

inline TensorFile synth_rkv(const SynthRkvShape& s) {
  TensorFile tf;
  tf.path = std::string("synthetic-") + arch_name(s.arch);
  tf.format = "synthetic";
  tf.convention = ValueConvention::rwkv_cpp;
  std::mt19937 rng(s.seed);
  const int64_t C = s.n_embd, H = C / s.head_size, N = s.head_size;
  // Adds a tensor whose values come from `gen` (called once per element).
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool matrix, auto gen) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const bool half = matrix && s.f16;
    auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * (half ? 2 : 4));
    for (int64_t i = 0; i < n; ++i) {
      const float v = gen();
      if (half) {
        const uint16_t h = vk::float_to_half(v);
        std::memcpy(buf->data() + 2 * i, &h, 2);
      } else {
        std::memcpy(buf->data() + 4 * i, &v, 4);
      }
    }
    TensorView t;
    t.name = name;
    t.dtype = half ? DType::f16 : DType::f32;
    t.shape = std::move(shape);
    t.data = buf->data();
    t.nbytes = buf->size();
    tf.tensors.push_back(std::move(t));
    tf.owners.push_back(buf);
  };
  auto uni = [&](float lo, float hi) {
    return [&rng, lo, hi] { return std::uniform_real_distribution<float>(lo, hi)(rng); };
  };
  auto mat = [&](const std::string& name, std::vector<int64_t> shape, int64_t in, float gain = 1.0f) {
    const float a = gain * std::sqrt(3.0f / static_cast<float>(in));
    add(name, std::move(shape), true, uni(-a, a));
  };
  auto vec = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi) {
    add(name, std::move(shape), false, uni(lo, hi));
  };
  const bool v5 = s.arch == Arch::v5_1 || s.arch == Arch::v5_2, v6 = s.arch == Arch::v6;
  const bool gate = s.arch == Arch::v5_2 || v6;
  mat("emb.weight", {s.n_vocab, C}, C, 0.3f);
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".", a = p + "att.", f = p + "ffn.";
    if (l == 0) {
      vec(p + "ln0.weight", {C}, 0.8f, 1.2f);
      vec(p + "ln0.bias", {C}, -0.1f, 0.1f);
    }
    for (const char* ln : {"ln1", "ln2"}) {
      vec(p + ln + ".weight", {C}, 0.8f, 1.2f);
      vec(p + ln + ".bias", {C}, -0.1f, 0.1f);
    }
    if (v6) {
      for (const char* m : {"x", "w", "k", "v", "r", "g"}) vec(a + "time_maa_" + m, {1, 1, C}, 0.0f, 1.0f);
      mat(a + "time_maa_w1", {5 * s.d_mix, C}, C, 0.5f);
      mat(a + "time_maa_w2", {5, C, s.d_mix}, s.d_mix, 0.3f);
      mat(a + "time_decay_w1", {s.d_decay, C}, C, 0.5f);
      mat(a + "time_decay_w2", {C, s.d_decay}, s.d_decay, 0.5f);
      vec(a + "time_decay", {1, 1, C}, -4.0f, 0.0f);
      vec(a + "time_faaaa", {H, N}, -1.0f, 1.0f);
      vec(f + "time_maa_k", {1, 1, C}, 0.0f, 1.0f);
      vec(f + "time_maa_r", {1, 1, C}, 0.0f, 1.0f);
    } else {
      for (const char* m : {"k", "v", "r"}) vec(a + "time_mix_" + m, {1, 1, C}, 0.0f, 1.0f);
      if (gate) vec(a + "time_mix_g", {1, 1, C}, 0.0f, 1.0f);
      vec(f + "time_mix_k", {1, 1, C}, 0.0f, 1.0f);
      vec(f + "time_mix_r", {1, 1, C}, 0.0f, 1.0f);
    }
    if (s.arch == Arch::v4) {
      add(a + "time_decay", {C}, false, [&] { return -std::exp(uni(-1.0f, 2.0f)()); });  // -exp(w)
      vec(a + "time_first", {C}, -1.0f, 1.0f);
    } else if (s.arch == Arch::v5_1) {
      add(a + "time_decay", {H}, false, [&] { return std::exp(-std::exp(uni(-4.0f, 0.5f)())); });
      add(a + "time_first", {H}, false, [&] { return std::exp(uni(-1.0f, 1.0f)()); });
    } else if (s.arch == Arch::v5_2) {
      add(a + "time_decay", {H, N}, false, [&] { return std::exp(-std::exp(uni(-4.0f, 0.5f)())); });
      vec(a + "time_faaaa", {H, N}, -1.0f, 1.0f);
    }
    mat(a + "receptance.weight", {C, C}, C);
    mat(a + "key.weight", {C, C}, C);
    mat(a + "value.weight", {C, C}, C);
    mat(a + "output.weight", {C, C}, C, 0.5f);
    if (gate) mat(a + "gate.weight", {C, C}, C);
    if (v5 || v6) {
      vec(a + "ln_x.weight", {C}, 0.5f, 1.5f);
      vec(a + "ln_x.bias", {C}, -0.1f, 0.1f);
    }
    mat(f + "key.weight", {s.n_ffn, C}, C);
    mat(f + "value.weight", {C, s.n_ffn}, s.n_ffn, 0.5f);
    mat(f + "receptance.weight", {C, C}, C);
  }
  vec("ln_out.weight", {C}, 0.8f, 1.2f);
  vec("ln_out.bias", {C}, -0.1f, 0.1f);
  mat("head.weight", {s.n_vocab, C}, C);
  return tf;
}

}  // namespace wb::test
