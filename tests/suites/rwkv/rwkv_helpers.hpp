// Shared helpers for the RWKV runtime tests: the tiny rwkv.cpp fixture set
// (fixtures/rwkv-cpp-tiny, README §5-§7) and small numeric comparisons.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/model/load.hpp"
#include "support/compare.hpp"
#include "support/fixtures.hpp"

namespace wb::test {

struct TinyModel {
  const char* id;        // "4v0-660K"
  const char* dir;       // sub-folder ("" or "history-6v0-1m/")
  const char* expected;  // expected-logits file name
  // rwkv.cpp's signed-sum constants for the shipped files (README §5).
  double e_fp16, e_q5_0, e_q5_1;
  // Max-abs tolerance against the dequantised-weights reference (README §7).
  double tol_fp16, tol_q5_0, tol_q5_1;
};

inline const std::vector<TinyModel>& tiny_models() {
  static const std::vector<TinyModel> m = {
      {"4v0-660K", "", "expected-logits-4v0-660K.bin", -0.013652, -0.170404, 0.278034, 6e-3, 0.11, 0.073},
      {"5v1-730K", "", "expected-logits-5v1-730K.bin", -0.289921, -163.439407, -18.017435, 7e-3, 0.28, 0.27},
      {"5v2-730K", "", "expected-logits-5v2-730K.bin", 0.455912, 25.273308, 48.068733, 1.5e-2, 0.31, 0.31},
      {"6v0-1m", "history-6v0-1m/", "expected-logits-6v0-1m.bin", -0.184410, -5.441267, -17.046452, 3.9e-3, 0.14,
       0.10},
      // 7v0 has no shipped-Q5 constant; these are rwkv.cpp's FP32->Q5 ones (README §7).
      {"7v0-834K", "", "expected-logits-7v0-834K.bin", 0.005766, -0.063645, -0.064663, 1.1e-3, 4.9e-3, 3.2e-3},
  };
  return m;
}

inline std::string tiny_path(const TinyModel& m, const std::string& quant) {
  return fixture(std::string("rwkv-cpp-tiny/") + m.dir + "tiny-rwkv-" + m.id + "-" + quant + ".bin");
}

inline std::vector<float> read_f32(const std::string& path) {
  auto b = read_bytes(path);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

inline std::vector<float> expected_logits(const TinyModel& m) {
  return read_f32(fixture(std::string("rwkv-cpp-tiny/") + m.dir + m.expected));
}

inline double signed_sum_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) - double(b[i]);
  return s;
}

inline std::unique_ptr<Model> must_load(const std::string& path, LoadOptions opt = {}) {
  auto m = load_model(path, opt);
  INFO(path << ": " << (m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  return std::move(*m);
}

// Logits after `tokens` from the initial state, all at once (sequence mode).
inline std::vector<float> run_sequence(Model& m, const std::vector<int32_t>& tokens) {
  State s = m.new_state();
  std::vector<float> logits(m.info().n_vocab);
  auto st = m.prefill(tokens, s, logits);
  INFO((st ? std::string() : st.error().message));
  REQUIRE(st.ok());
  return logits;
}

// The same, one token per call through decode (token-by-token mode).
inline std::vector<float> run_serial(Model& m, const std::vector<int32_t>& tokens, State* out_state = nullptr) {
  State s = m.new_state();
  std::vector<float> logits(m.info().n_vocab);
  for (int32_t t : tokens) {
    State* sp = &s;
    auto st = m.decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&sp, 1), logits);
    REQUIRE(st.ok());
  }
  if (out_state) *out_state = s;
  return logits;
}

inline const std::vector<int32_t> kPrompt = {34, 105, 110};  // "in (README §4)

}  // namespace wb::test
