// Turns an rwkv.cpp FP32 fixture into the `official` value convention in memory
// (undoing the converter's transforms, fixtures README §3.6), so the builders
// of every backend can be held to rwkv.cpp's expected logits on official names
// and shapes. Shared by the rwkv and vulkan suites.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/model/cpu/matmul.hpp"
#include "core/model/load.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::test {

struct Builder {
  TensorFile out;
  void add(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
    auto buf = std::make_shared<std::vector<float>>(std::move(v));
    TensorView t;
    t.name = name;
    t.dtype = DType::f32;
    t.shape = std::move(shape);
    t.data = reinterpret_cast<const uint8_t*>(buf->data());
    t.nbytes = buf->size() * 4;
    REQUIRE(t.numel() == buf->size());
    out.tensors.push_back(std::move(t));
    out.owners.push_back(buf);
  }
};

inline std::vector<float> f32_of(const TensorView& t) {
  std::vector<float> v(t.numel());
  cpu::dequantize_row(t.dtype, t.data, v.data(), int64_t(v.size()));
  return v;
}

// (a, b) row-major -> (b, a) row-major.
inline std::vector<float> transpose(const std::vector<float>& v, int64_t a, int64_t b) {
  std::vector<float> t(v.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j) t[j * a + i] = v[i * b + j];
  return t;
}

inline bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

// rwkv.cpp FP32 file -> official-convention TensorFile.
inline TensorFile to_official(const TensorFile& src, Arch arch) {
  Builder b;
  b.out.path = src.path + " (as official)";
  b.out.format = "test-official";
  b.out.convention = ValueConvention::official;
  const int64_t C = src.find("emb.weight")->shape[1];
  for (const TensorView& t : src.tensors) {
    std::vector<float> v = f32_of(t);
    const std::string& n = t.name;
    std::vector<int64_t> shape = t.shape;
    if (arch == Arch::v4 && ends_with(n, "att.time_decay")) {
      for (float& x : v) x = float(std::log(-double(x)));
    } else if ((arch == Arch::v5_1 || arch == Arch::v5_2) && ends_with(n, "att.time_decay")) {
      for (float& x : v) x = float(std::log(-std::log(double(x))));
      if (arch == Arch::v5_2) shape = {shape[0], shape[1]};  // (H, N)
      else shape = {shape[0]};                               // (H,)
    } else if (arch == Arch::v5_1 && ends_with(n, "att.time_first")) {
      for (float& x : v) x = float(std::log(double(x)));
      shape = {shape[0]};
    } else if (arch == Arch::v5_2 && ends_with(n, "att.time_faaaa")) {
      shape = {shape[0], shape[1]};
    } else if (arch == Arch::v6) {
      if (ends_with(n, "time_maa_w1") || ends_with(n, "time_decay_w1") || ends_with(n, "time_decay_w2")) {
        v = transpose(v, shape[0], shape[1]);
        shape = {shape[1], shape[0]};
      } else if (ends_with(n, "time_maa_w2")) {  // (5, C, D) -> (5, D, C)
        std::vector<float> o(v.size());
        const int64_t D = shape[2];
        for (int64_t s = 0; s < 5; ++s) {
          auto part = transpose(std::vector<float>(v.begin() + s * C * D, v.begin() + (s + 1) * C * D), C, D);
          std::copy(part.begin(), part.end(), o.begin() + s * C * D);
        }
        v = o;
        shape = {5, D, C};
      } else if (ends_with(n, "time_faaaa")) {
        shape = {shape[0], shape[1]};  // (H, N)
      } else if (n.find(".time_") != std::string::npos) {
        shape = {1, 1, C};  // official vectors keep (1, 1, C)
      }
    } else if (arch == Arch::v7) {
      if (ends_with(n, "att.x_rwkvag")) {
        const std::string p = n.substr(0, n.size() - std::string("x_rwkvag").size());
        const char* names[6] = {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"};
        for (int s = 0; s < 6; ++s)
          b.add(p + names[s], {1, 1, C}, std::vector<float>(v.begin() + s * C, v.begin() + (s + 1) * C));
        continue;
      }
      for (const char* lora : {"att.w1", "att.w2", "att.a1", "att.a2", "att.v1", "att.v2", "att.g1", "att.g2"})
        if (ends_with(n, lora)) {
          v = transpose(v, shape[0], shape[1]);
          shape = {shape[1], shape[0]};
        }
    }
    b.add(n, shape, std::move(v));
  }
  return std::move(b.out);
}

}  // namespace wb::test
