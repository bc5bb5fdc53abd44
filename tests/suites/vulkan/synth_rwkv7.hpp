// Random-weight RWKV-7 models of chosen shapes, in rwkv.cpp's convention, for
// Vulkan-vs-CPU parity and timing. Values are scaled like trained weights
// (unit-variance projections, decays and mixes in their usual ranges).
#pragma once
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend/vulkan/half.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::test {

struct SynthShape {
  int n_layer = 2, n_embd = 768, head_size = 64, n_ffn = 3072, n_vocab = 2048;
  int d_w = 64, d_a = 64, d_v = 32, d_g = 128;  // RWKV-7 0.1B LoRA widths
  bool f16 = false;                               // matrices in f16 (vectors stay f32)
  uint32_t seed = 1;
};

inline TensorFile synth_rwkv7(const SynthShape& s) {
  TensorFile tf;
  tf.path = "synthetic-rwkv7";
  tf.format = "synthetic";
  tf.convention = ValueConvention::rwkv_cpp;
  std::mt19937 rng(s.seed);
  const int64_t C = s.n_embd;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi, bool matrix) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::uniform_real_distribution<float> dist(lo, hi);
    const bool half = matrix && s.f16;
    auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * (half ? 2 : 4));
    for (int64_t i = 0; i < n; ++i) {
      float v = dist(rng);
      if (half) {
        uint16_t h = vk::float_to_half(v);
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
  // A (out, in) matrix with unit-variance outputs for unit-variance inputs.
  auto mat = [&](const std::string& name, int64_t out, int64_t in, float gain = 1.0f) {
    const float a = gain * std::sqrt(3.0f / static_cast<float>(in));
    add(name, {out, in}, -a, a, true);
  };
  auto vec = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi) {
    add(name, std::move(shape), lo, hi, false);
  };
  mat("emb.weight", s.n_vocab, C, 0.3f);
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".", a = p + "att.", f = p + "ffn.";
    if (l == 0) {
      vec(p + "ln0.weight", {C}, 0.8f, 1.2f);
      vec(p + "ln0.bias", {C}, -0.1f, 0.1f);
    }
    vec(p + "ln1.weight", {C}, 0.8f, 1.2f);
    vec(p + "ln1.bias", {C}, -0.1f, 0.1f);
    vec(p + "ln2.weight", {C}, 0.8f, 1.2f);
    vec(p + "ln2.bias", {C}, -0.1f, 0.1f);
    vec(a + "x_rwkvag", {6, 1, C}, 0.0f, 1.0f);
    vec(a + "w0", {1, 1, C}, -3.0f, 1.0f);
    vec(a + "a0", {1, 1, C}, -1.0f, 1.0f);
    vec(a + "k_k", {1, 1, C}, 0.5f, 1.5f);
    vec(a + "k_a", {1, 1, C}, 0.5f, 1.5f);
    vec(a + "r_k", {C / s.head_size, s.head_size}, -0.5f, 0.5f);
    mat(a + "w1", s.d_w, C);
    mat(a + "w2", C, s.d_w, 0.5f);
    mat(a + "a1", s.d_a, C);
    mat(a + "a2", C, s.d_a, 0.5f);
    mat(a + "g1", s.d_g, C);
    mat(a + "g2", C, s.d_g);
    if (l > 0) {
      vec(a + "v0", {1, 1, C}, -1.0f, 1.0f);
      mat(a + "v1", s.d_v, C);
      mat(a + "v2", C, s.d_v, 0.5f);
    }
    mat(a + "receptance.weight", C, C);
    mat(a + "key.weight", C, C);
    mat(a + "value.weight", C, C);
    mat(a + "output.weight", C, C, 0.5f);
    vec(a + "ln_x.weight", {C}, 0.5f, 1.5f);
    vec(a + "ln_x.bias", {C}, -0.1f, 0.1f);
    vec(f + "x_k", {1, 1, C}, 0.0f, 1.0f);
    mat(f + "key.weight", s.n_ffn, C);
    mat(f + "value.weight", C, s.n_ffn, 0.5f);
  }
  vec("ln_out.weight", {C}, 0.8f, 1.2f);
  vec("ln_out.bias", {C}, -0.1f, 0.1f);
  mat("head.weight", s.n_vocab, C);
  return tf;
}

}  // namespace wb::test
