// The RWKV-7 Vulkan model against rwkv.cpp's expected logits and against a
// float64 CPU reference (rwkv7_ref_model.hpp), on lavapipe in CI.
// Tolerances (fixtures/rwkv-cpp-tiny/README.md §7):
//   FP32 file: max |diff| <= 1e-4 and rwkv.cpp's signed sum |S| <= 0.00105.
//   FP16 file (f16 weights, f32 arithmetic): <= 1.1e-3 (the FP16 tolerance; its
//     weights are exactly f16 so the expected logits are the float64 answer).
//   Q5_0 / Q5_1 (dequantised to f32 at load): vs the float64 reference on the same
//     dequantised weights, <= 4.9e-3 / 3.2e-3.
// Measured on lavapipe: FP32 2.4e-7 (S = 1.9e-6), FP16 7.2e-7, Q5_0 4.8e-7, Q5_1 2.4e-7:
// every kernel computes in f32, so none of them needs the FP16 tolerance; only
// `f16_weights` (rounding f32 weights to f16 at load) does.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/backend/vulkan/half.hpp"
#include "core/backend/vulkan/rwkv7_vulkan.hpp"
#include "rwkv7_ref_model.hpp"
#include "rwkv_cpp_reader.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;

namespace {

const std::vector<int32_t> kPrompt = {34, 105, 110};  // "in

std::vector<float> expected_7v0() {
  auto bytes = read_bytes(fixture("rwkv-cpp-tiny/expected-logits-7v0-834K.bin"));
  REQUIRE(bytes.size() == 256 * 4);
  std::vector<float> v(256);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

std::unique_ptr<vk::VulkanModel> load(const TensorFile& tf, vk::VulkanModelOptions opt = {}) {
  auto m = vk::load_rwkv7_vulkan(tf, opt);
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  return std::move(*m);
}

std::vector<float> prefill_logits(vk::VulkanModel& m, const std::vector<int32_t>& toks, State* out_state = nullptr) {
  State s = m.new_state();
  std::vector<float> logits(m.info().n_vocab);
  WB_REQUIRE_OK(m.prefill(toks, s, logits));
  if (out_state) *out_state = s;
  return logits;
}

double signed_sum(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double{a[i]} - b[i];
  return s;
}

}  // namespace

TEST_CASE("vulkan rwkv7: FP32 fixture matches rwkv.cpp's expected logits", "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  auto m = load(tf);
  CHECK(m->info().n_layer == 12);
  CHECK(m->info().n_embd == 64);
  CHECK(m->info().head_size == 64);
  CHECK(m->backend() == "vulkan");
  const auto want = expected_7v0();

  // Sequence mode (one prefill chunk).
  State seq_state;
  auto got = prefill_logits(*m, kPrompt, &seq_state);
  CHECK(max_abs_diff(got, want) <= 1e-4f);
  CHECK(std::fabs(signed_sum(got, want)) <= 0.00105);

  // Serial mode (three single-token decodes) reaches the same state and logits.
  State s = m->new_state();
  std::vector<float> lg(256);
  for (int32_t t : kPrompt) {
    State* sp = &s;
    WB_REQUIRE_OK(m->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&sp, 1), lg));
  }
  CHECK(max_abs_diff(lg, want) <= 1e-4f);
  CHECK(std::fabs(signed_sum(lg, want)) <= 0.00105);
  std::vector<float> a(seq_state.data().begin(), seq_state.data().end()), b(s.data().begin(), s.data().end());
  CHECK(max_abs_diff(a, b) <= 1e-5f);
}

TEST_CASE("vulkan rwkv7: chunked prefill equals one chunk; batched decode equals single decodes",
          "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  vk::VulkanModelOptions small;
  small.max_chunk = 3;
  small.max_batch = 2;
  auto m1 = load(tf);
  auto m2 = load(tf, small);
  const std::vector<int32_t> text = {84, 104, 105, 115, 32, 105, 115, 32, 97, 32, 116, 101, 115, 116, 46};
  State s1, s2;
  auto l1 = prefill_logits(*m1, text, &s1);
  auto l2 = prefill_logits(*m2, text, &s2);
  CHECK(max_abs_diff(l1, l2) <= 1e-5f);
  std::vector<float> a(s1.data().begin(), s1.data().end()), b(s2.data().begin(), s2.data().end());
  CHECK(max_abs_diff(a, b) <= 1e-5f);

  // Three different states advanced together (m2 splits them into batches of 2).
  std::vector<State> st = {s1, m1->new_state(), s1};
  const std::vector<int32_t> toks = {101, 65, 10};
  std::vector<State*> ptrs = {&st[0], &st[1], &st[2]};
  std::vector<float> batch(3 * 256);
  WB_REQUIRE_OK(m2->decode(toks, ptrs, batch));
  for (int i = 0; i < 3; ++i) {
    State one = i == 1 ? m1->new_state() : s1;
    State* op = &one;
    std::vector<float> lg(256);
    WB_REQUIRE_OK(m1->decode(std::span<const int32_t>(&toks[i], 1), std::span<State* const>(&op, 1), lg));
    std::vector<float> bi(batch.begin() + i * 256, batch.begin() + (i + 1) * 256);
    INFO("state " << i);
    CHECK(max_abs_diff(bi, lg) <= 1e-5f);
    CHECK(one == st[i]);
  }
}

TEST_CASE("vulkan rwkv7: FP16 fixture within the FP16 tolerance", "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP16.bin"));
  auto m = load(tf);
  CHECK(m->info().dtype == "f16");
  // f16 weights, f32 arithmetic: measured 7e-7, far inside the FP16 tolerance.
  CHECK(max_abs_diff(prefill_logits(*m, kPrompt), expected_7v0()) <= 1.1e-3f);
}

TEST_CASE("vulkan rwkv7: FP32 weights stored as f16 stay within the FP16 tolerance", "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  vk::VulkanModelOptions opt;
  opt.f16_weights = true;
  auto m = load(tf, opt);
  CHECK(max_abs_diff(prefill_logits(*m, kPrompt), expected_7v0()) <= 1.1e-3f);
}

TEST_CASE("vulkan rwkv7: Q5_0 and Q5_1 fixtures match the float64 reference", "[gpu][vulkan][rwkv]") {
  for (auto [file, tol] : {std::pair{"Q5_0", 4.9e-3f}, std::pair{"Q5_1", 3.2e-3f}}) {
    INFO(file);
    TensorFile tf = read_rwkv_cpp(fixture(std::string("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-") + file + ".bin"));
    auto m = load(tf);
    RefRwkv7 ref(tf);
    auto st = ref.new_state();
    std::vector<float> want;
    for (int32_t t : kPrompt) want = ref.step(t, st);
    auto got = prefill_logits(*m, kPrompt);
    CHECK(max_abs_diff(got, want) <= tol);
    // The dequantised model is still the same model: near the FP32 logits.
    CHECK(max_abs_diff(got, expected_7v0()) <= 0.2f);
  }
}

TEST_CASE("vulkan rwkv7: the float64 reference itself reproduces the FP32 fixture", "[vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  RefRwkv7 ref(tf);
  auto st = ref.new_state();
  std::vector<float> got;
  for (int32_t t : kPrompt) got = ref.step(t, st);
  CHECK(max_abs_diff(got, expected_7v0()) <= 1e-4f);
}

TEST_CASE("vulkan rwkv7: bad tokens and states are errors", "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  auto m = load(tf);
  State s = m->new_state();
  std::vector<float> lg(256);
  const std::vector<int32_t> bad = {1, 256};
  auto r = m->prefill(bad, s, lg);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::out_of_range);
  State wrong(10);
  const std::vector<int32_t> one = {1};
  CHECK(!m->prefill(one, wrong, lg).ok());
  std::vector<float> short_logits(100);
  CHECK(!m->prefill(one, s, short_logits).ok());
  // Still usable afterwards.
  CHECK(max_abs_diff(prefill_logits(*m, kPrompt), expected_7v0()) <= 1e-4f);
  auto mem = m->memory();
  CHECK(mem.weights > 3000000);  // ~830K f32 parameters on the device (the embedding stays on the host)
  CHECK(mem.states > 0);
  CHECK(mem.scratch > 0);
}

TEST_CASE("vulkan rwkv7: a full model run raises no validation-layer errors", "[gpu][vulkan][validation]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP16.bin"));
  vk::VulkanModelOptions opt;
  opt.validation = true;
  opt.max_chunk = 2;
  auto m = load(tf, opt);
  State s;
  prefill_logits(*m, kPrompt, &s);
  std::vector<State> st = {s, s};
  std::vector<State*> ptrs = {&st[0], &st[1]};
  std::vector<int32_t> toks = {32, 116};
  std::vector<float> lg(2 * 256);
  WB_REQUIRE_OK(m->decode(toks, ptrs, lg));
  CHECK(m->memory().validation_errors == 0);
}
