// A float64-accumulating CPU RWKV-7, built from the kernels' CPU references
// (core/backend/vulkan/kernel_ref), one token at a time. It is the yardstick
// for the Vulkan model where no expected logits exist (quantised fixtures,
// random-weight models) until the CPU runtime is merged.
#pragma once
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/backend/vulkan/kernel_ref.hpp"
#include "core/backend/vulkan/rwkv7_vulkan.hpp"

namespace wb::test {

class RefRwkv7 {
 public:
  explicit RefRwkv7(const TensorFile& tf) : tf_(tf) {
    auto i = vk::rwkv7_info(tf);
    REQUIRE(i.ok());
    info_ = *i;
  }
  const ModelInfo& info() const { return info_; }
  size_t layer_stride() const { return 2 * C() + C() * N(); }
  std::vector<float> new_state() const { return std::vector<float>(info_.n_layer * layer_stride(), 0.0f); }

  // Feeds one token; returns its logits.
  std::vector<float> step(int32_t token, std::vector<float>& state) {
    const uint32_t C = this->C(), slot = static_cast<uint32_t>(state.size());
    std::vector<float> x = row("emb.weight", token);
    x = vk::ref::layer_norm(x, get("blocks.0.ln0.weight"), get("blocks.0.ln0.bias"), C, 1e-5f);
    std::vector<float> v_first(C);
    for (int l = 0; l < info_.n_layer; ++l) {
      const std::string a = "blocks." + std::to_string(l) + ".att.", f = "blocks." + std::to_string(l) + ".ffn.";
      const std::string p = "blocks." + std::to_string(l) + ".";
      const uint32_t base = static_cast<uint32_t>(l * layer_stride());
      auto xln = vk::ref::layer_norm(x, get(p + "ln1.weight"), get(p + "ln1.bias"), C, 1e-5f);
      auto mix = vk::ref::token_mix(xln, state, get(a + "x_rwkvag"), {C, 1, 1, 6, base + C, slot});
      std::copy(xln.begin(), xln.end(), state.begin() + base + C);
      auto slice = [&](int m) { return std::vector<float>(mix.begin() + m * C, mix.begin() + (m + 1) * C); };
      vk::ref::Rwkv7Vectors io;
      io.r = mat(a + "receptance.weight", slice(0));
      io.k = mat(a + "key.weight", slice(2));
      io.v = mat(a + "value.weight", slice(3));
      io.w = mat(a + "w2", mat(a + "w1", slice(1), vk::Act::tanh));
      io.a = mat(a + "a2", mat(a + "a1", slice(4)));
      io.g = mat(a + "g2", mat(a + "g1", slice(5), vk::Act::sigmoid));
      std::vector<float> vl(C);
      if (l > 0) vl = mat(a + "v2", mat(a + "v1", slice(3)));
      std::vector<float> prep;
      for (const char* n : {"w0", "a0", "v0", "k_k", "k_a"}) {
        auto v = (l == 0 && std::string(n) == "v0") ? std::vector<float>(C) : get(a + n);
        prep.insert(prep.end(), v.begin(), v.end());
      }
      vk::ref::rwkv7_prep(io, vl, v_first, prep, C, l == 0);
      std::vector<float> wp;
      for (const char* n : {"r_k", "ln_x.weight", "ln_x.bias"}) {
        auto v = get(a + n);
        wp.insert(wp.end(), v.begin(), v.end());
      }
      auto att = vk::ref::wkv7(io, state, wp, {C, N(), 1, 1, base + 2 * C, slot, 64e-5f, 0}, 1);
      auto o = mat(a + "output.weight", att);
      for (uint32_t c = 0; c < C; ++c) x[c] += o[c];
      xln = vk::ref::layer_norm(x, get(p + "ln2.weight"), get(p + "ln2.bias"), C, 1e-5f);
      auto fm = vk::ref::token_mix(xln, state, get(f + "x_k"), {C, 1, 1, 1, base, slot});
      std::copy(xln.begin(), xln.end(), state.begin() + base);
      auto fo = mat(f + "value.weight", mat(f + "key.weight", fm, vk::Act::relu_sq));
      for (uint32_t c = 0; c < C; ++c) x[c] += fo[c];
    }
    x = vk::ref::layer_norm(x, get("ln_out.weight"), get("ln_out.bias"), C, 1e-5f);
    return mat("head.weight", x);
  }

 private:
  uint32_t C() const { return static_cast<uint32_t>(info_.n_embd); }
  uint32_t N() const { return static_cast<uint32_t>(info_.head_size); }

  const std::vector<float>& get(const std::string& name) {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    const TensorView* t = tf_.find(name);
    INFO("tensor " << name);
    REQUIRE(t != nullptr);
    auto v = vk::tensor_to_f32(*t);
    REQUIRE(v.ok());
    return cache_[name] = std::move(*v);
  }
  std::vector<float> row(const std::string& name, int32_t r) {
    const auto& m = get(name);
    return std::vector<float>(m.begin() + size_t(r) * C(), m.begin() + size_t(r + 1) * C());
  }
  // (out, in) matrices as rwkv.cpp stores them (LoRA already transposed).
  std::vector<float> mat(const std::string& name, const std::vector<float>& x, vk::Act act = vk::Act::none) {
    const TensorView* t = tf_.find(name);
    REQUIRE(t != nullptr);
    REQUIRE(t->shape.size() == 2);
    REQUIRE(static_cast<size_t>(t->shape[1]) == x.size());
    return vk::ref::matmul(get(name), static_cast<uint32_t>(t->shape[0]), static_cast<uint32_t>(t->shape[1]), x, 1,
                           act);
  }

  const TensorFile& tf_;
  ModelInfo info_;
  std::map<std::string, std::vector<float>> cache_;
};

}  // namespace wb::test
