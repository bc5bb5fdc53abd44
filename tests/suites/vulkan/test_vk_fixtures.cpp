// The CPU runtime's fixture tests (tests/suites/rwkv: test_fixtures,
// test_consistency, test_official) run again on the Vulkan backend, lavapipe in
// CI, for every architecture, with the same tolerances (fixtures README §7):
//   FP32 files: max |diff| <= 1e-4 and rwkv.cpp's signed sum |S| <= 0.00105.
//   FP16 / Q5_0 / Q5_1 files: rwkv.cpp's signed-sum rule or the max-abs tolerance
//     against the dequantised-weights reference (here the CPU runtime with
//     dequantize_to_f32). The Vulkan kernels keep f16 weights as f16 and
//     compute in f32, so FP16 files pass with the CPU's FP16 tolerance; none
//     needs more. Only `f16_weights` (f32 rounded to f16 at load) would.
// Each case runs both matmul families: texel-buffer kernels (CPU devices) and
// storage-buffer kernels with unmapped device memory (the discrete-GPU path).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <utility>

#include "../rwkv/official_convention.hpp"
#include "../rwkv/rwkv_helpers.hpp"
#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/model/read_tensor_file.hpp"

using namespace wb;
using namespace wb::test;

namespace {

vk::VulkanModelOptions config_options(int config) {
  vk::VulkanModelOptions opt;
  opt.kernels = config == 0 ? vk::KernelPath::texel : vk::KernelPath::storage;
  opt.map_device_memory = config == 0;
  return opt;
}

std::unique_ptr<Model> vk_build(const TensorFile& tf, const vk::VulkanModelOptions& opt) {
  auto arch = detect_arch(tf);
  REQUIRE(arch.ok());
  auto m = vk::build_vulkan_model(tf, *arch, opt);
  INFO(tf.path << ": " << (m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  REQUIRE((*m)->backend() == "vulkan");
  return std::move(*m);
}

std::unique_ptr<Model> vk_load(const std::string& path, const vk::VulkanModelOptions& opt) {
  auto tf = read_tensor_file(path);
  INFO(path << ": " << (tf ? std::string() : tf.error().message));
  REQUIRE(tf.ok());
  return vk_build(*tf, opt);
}

std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> t;
  for (unsigned char c : s) t.push_back(c);
  return t;
}

// Relative state difference; equal entries (v4's -1e30) count as 0.
double state_diff(const State& a, const State& b) {
  REQUIRE(a.data().size() == b.data().size());
  double d = 0;
  for (size_t i = 0; i < a.data().size(); ++i) {
    const float x = a.data()[i], y = b.data()[i];
    if (x == y) continue;
    d = std::max(d, std::fabs(double(x) - double(y)) / std::max(1.0, std::fabs(double(y))));
  }
  return d;
}

}  // namespace

TEST_CASE("vulkan: FP32 tiny models of every architecture match rwkv.cpp's expected logits",
          "[gpu][vulkan][rwkv]") {
  for (const TinyModel& tm : tiny_models()) {
    for (int config : {0, 1}) {
      auto model = vk_load(tiny_path(tm, "FP32"), config_options(config));
      const auto expected = expected_logits(tm);
      for (int mode = 0; mode < 2; ++mode) {
        const auto got = mode == 0 ? run_sequence(*model, kPrompt) : run_serial(*model, kPrompt);
        const double s = signed_sum_diff(got, expected), d = max_abs_diff(got, expected);
        INFO(tm.id << " config " << config << (mode == 0 ? " sequence" : " token-by-token") << ": S = " << s
                   << ", max abs = " << d);
        CHECK(std::fabs(s) <= 0.00105);
        CHECK(d <= 1e-4);
      }
    }
  }
}

TEST_CASE("vulkan: FP16 and Q5 tiny models meet rwkv.cpp's rule or the dequantised-reference tolerance",
          "[gpu][vulkan][rwkv]") {
  for (const TinyModel& tm : tiny_models()) {
    const auto expected = expected_logits(tm);
    struct Q { const char* name; double e, tol; } qs[] = {
        {"FP16", tm.e_fp16, tm.tol_fp16}, {"Q5_0", tm.e_q5_0, tm.tol_q5_0}, {"Q5_1", tm.e_q5_1, tm.tol_q5_1}};
    for (const Q& q : qs) {
      const std::string path = tiny_path(tm, q.name);
      LoadOptions ref_opt;
      ref_opt.dequantize_to_f32 = true;
      const auto ref = run_sequence(*must_load(path, ref_opt), kPrompt);
      const int config = q.name == std::string("Q5_0") ? 1 : 0;  // both paths, without doubling the time
      auto model = vk_load(path, config_options(config));
      for (int mode = 0; mode < 2; ++mode) {
        const auto got = mode == 0 ? run_sequence(*model, kPrompt) : run_serial(*model, kPrompt);
        const double s = signed_sum_diff(got, expected);
        const double d_ref = max_abs_diff(got, ref);
        INFO(tm.id << " " << q.name << (mode == 0 ? " sequence" : " token-by-token") << ": S = " << s << " (bound "
                   << 1.05 * std::fabs(q.e) << "), max abs vs dequantised reference = " << d_ref << " (tol "
                   << q.tol << ")");
        CHECK((std::fabs(s) <= 1.05 * std::fabs(q.e) || d_ref <= q.tol));
      }
    }
  }
}

TEST_CASE("vulkan: chunked prefill, batched decode and states agree with the CPU runtime on every architecture",
          "[gpu][vulkan][rwkv][state]") {
  const auto toks = bytes_of("This is a port of [BlinkDL/RWKV-LM](https://github.com/BlinkDL/RWKV-LM");
  for (const TinyModel& tm : tiny_models()) {
    INFO(tm.id);
    const std::string path = tiny_path(tm, "FP32");
    auto cpu = must_load(path);
    vk::VulkanModelOptions small;
    small.max_chunk = 8;  // 70 tokens: 8 full chunks and a tail of 6
    small.max_batch = 2;  // 3 states: a batch of 2 and one of 1
    auto gpu = vk_load(path, small);
    CHECK(gpu->info().arch == cpu->info().arch);
    CHECK(gpu->info().n_head == cpu->info().n_head);
    CHECK(gpu->info().group_norm_eps == cpu->info().group_norm_eps);
    CHECK(gpu->info().dtype == cpu->info().dtype);

    // Chunked prefill (Vulkan) against token-by-token (CPU): logits and state.
    State sc;
    const auto serial = run_serial(*cpu, toks, &sc);
    State sg = gpu->new_state();
    REQUIRE(sg == cpu->new_state());  // same initial state (v4: -1e30 max exponents)
    std::vector<float> lg(256);
    REQUIRE(gpu->prefill(toks, sg, lg).ok());
    CHECK(max_abs_diff(lg, serial) <= 1e-4);
    CHECK(state_diff(sg, sc) <= 1e-4);

    // Three states (two forks of one text and a fresh one) advanced together
    // equal single decodes on the CPU, and the states stay interchangeable.
    std::vector<State> g = {sc, gpu->new_state(), sc};
    std::vector<State*> gp = {&g[0], &g[1], &g[2]};
    const std::vector<int32_t> next = {101, 65, 10};
    std::vector<float> batch(3 * 256);
    REQUIRE(gpu->decode(next, gp, batch).ok());
    for (int i = 0; i < 3; ++i) {
      State one = i == 1 ? cpu->new_state() : sc;
      State* op = &one;
      std::vector<float> lc(256);
      REQUIRE(cpu->decode(std::span<const int32_t>(&next[i], 1), std::span<State* const>(&op, 1), lc).ok());
      INFO("state " << i);
      CHECK(max_abs_diff(std::vector<float>(batch.begin() + i * 256, batch.begin() + (i + 1) * 256), lc) <= 1e-4);
      CHECK(state_diff(g[i], one) <= 1e-4);
    }
    // The same state twice in one batch is refused, as on the CPU.
    std::vector<State*> twice = {&g[0], &g[0]};
    CHECK(!gpu->decode(std::vector<int32_t>{1, 2}, twice, {}).ok());
  }
}

TEST_CASE("vulkan: official-convention tensors reproduce the expected logits", "[gpu][vulkan][rwkv][official]") {
  for (const TinyModel& tm : tiny_models()) {
    auto src = read_tensor_file(tiny_path(tm, "FP32"));
    REQUIRE(src.ok());
    auto arch = detect_arch(*src);
    REQUIRE(arch.ok());
    TensorFile off = to_official(*src, *arch);
    const bool v5 = *arch == Arch::v5_1 || *arch == Arch::v5_2;
    if (v5) off.meta["group_norm_eps"] = "1e-5";  // the expected logits embody rwkv.cpp's eps (README §7)
    auto model = vk_build(off, {});
    const auto expected = expected_logits(tm);
    const double tol = v5 ? 1e-3 : 1e-4;  // undoing exp(-exp(w)) in float costs a little on v5
    INFO(tm.id);
    CHECK(max_abs_diff(run_sequence(*model, kPrompt), expected) <= tol);
    CHECK(max_abs_diff(run_serial(*model, kPrompt), expected) <= tol);
    if (v5) {  // without the override: BlinkDL's eps, visibly different (README §6)
      off.meta.erase("group_norm_eps");
      auto m64 = vk_build(off, {});
      CHECK(m64->info().group_norm_eps == 64e-5f);
      CHECK(max_abs_diff(run_sequence(*m64, kPrompt), expected) > 0.1);
    }
  }
}

TEST_CASE("vulkan: v6 honours rescale_every_n_layers", "[gpu][vulkan][rwkv][official]") {
  const TinyModel& tm = tiny_models()[3];
  auto src = read_tensor_file(tiny_path(tm, "FP32"));
  REQUIRE(src.ok());
  const int n = 3;
  auto make = [&](bool with_meta) {
    TensorFile off = to_official(*src, Arch::v6);
    for (TensorView& t : off.tensors) {
      int layer = -1;
      if (std::sscanf(t.name.c_str(), "blocks.%d.", &layer) != 1) continue;
      if (!ends_with(t.name, "att.output.weight") && !ends_with(t.name, "ffn.value.weight")) continue;
      auto* f = const_cast<float*>(reinterpret_cast<const float*>(t.data));  // owned by the test
      const float scale = float(1 << (layer / n));
      for (uint64_t i = 0; i < t.numel(); ++i) f[i] /= scale;
    }
    if (with_meta) off.meta["rescale_every_n_layers"] = std::to_string(n);
    return run_sequence(*vk_build(off, {}), kPrompt);
  };
  const auto expected = expected_logits(tm);
  CHECK(max_abs_diff(make(true), expected) <= 2e-3);
  CHECK(max_abs_diff(make(false), expected) > 0.05);
}

TEST_CASE("vulkan: states stay on the device, forks copy device memory, the host copy comes on request",
          "[gpu][vulkan][state]") {
  for (const TinyModel& tm : tiny_models()) {
    INFO(tm.id);
    const std::string path = tiny_path(tm, "FP32");
    auto cpu = must_load(path);
    State sc;
    const std::vector<int32_t> more = {105, 110, 32};
    const auto want = run_serial(*cpu, {34, 105, 110, 32}, &sc);

    auto gpu = vk_load(path, {});
    const auto* vm = vk::as_vulkan(*gpu);
    REQUIRE(vm);
    State s = gpu->new_state();
    CHECK(s.store() == nullptr);
    std::vector<float> lg(256);
    REQUIRE(gpu->prefill(std::vector<int32_t>{34}, s, lg).ok());
    CHECK(s.store() != nullptr);  // resident in the model's state pool
    CHECK(s.host_stale());        // nothing was copied back to the host
    State fork = s;               // a device-side copy
    CHECK(fork.store() != nullptr);
    CHECK(fork.store() != s.store());
    CHECK(fork.host_stale());
    for (State* st : {&s, &fork}) {
      State* sp = st;
      for (int32_t t : more) REQUIRE(gpu->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&sp, 1), lg).ok());
      CHECK(max_abs_diff(lg, want) <= 1e-4);
      CHECK(st->host_stale());
      const State& view = *st;
      CHECK(state_diff(view, sc) <= 1e-4);  // read back on request (const: stays resident)
      CHECK(st->store() != nullptr);
    }
    // Two pool slots for two live states (plus the arena).
    CHECK(vm->memory().states > 0);
    // Writing through data() hands the state back to the host; the next call uploads it.
    State edited = s;
    std::span<float> d = edited.data();
    CHECK(edited.store() == nullptr);
    std::fill(d.begin(), d.end(), 0.0f);
    const State fresh = gpu->new_state();
    std::copy(fresh.data().begin(), fresh.data().end(), d.begin());  // v4: -1e30 max exponents
    State* ep = &edited;
    const int32_t t0 = 34;
    REQUIRE(gpu->decode(std::span<const int32_t>(&t0, 1), std::span<State* const>(&ep, 1), lg).ok());
    CHECK(max_abs_diff(lg, run_serial(*cpu, {34})) <= 1e-4);
    // The CPU backend takes a device-resident state as it is.
    State to_cpu = s;
    State* cp = &to_cpu;
    const int32_t t1 = 10;
    std::vector<float> lc(256);
    REQUIRE(cpu->decode(std::span<const int32_t>(&t1, 1), std::span<State* const>(&cp, 1), lc).ok());
    CHECK(to_cpu.store() == nullptr);
    State sc2 = sc;
    State* cp2 = &sc2;
    REQUIRE(cpu->decode(std::span<const int32_t>(&t1, 1), std::span<State* const>(&cp2, 1), lg).ok());
    CHECK(max_abs_diff(lc, lg) <= 1e-4);
    // A state outliving its model is still readable.
    gpu.reset();
    CHECK(state_diff(fork, sc) <= 1e-4);
  }
}

TEST_CASE("vulkan: an absurd allocation is a recoverable error", "[gpu][vulkan]") {
  const std::string path = tiny_path(tiny_models()[4], "FP32");
  vk::VulkanModelOptions huge;
  huge.max_batch = 1u << 22;  // a state arena of ~800 GB
  auto tf = read_tensor_file(path);
  REQUIRE(tf.ok());
  auto m = vk::build_vulkan_model(*tf, Arch::v7, huge);
  REQUIRE(!m.ok());
  INFO(m.error().message);
  CHECK((m.error().code == Errc::device || m.error().code == Errc::unsupported || m.error().code == Errc::limit));
  // The process and the device are fine afterwards.
  auto ok = vk_load(path, {});
  CHECK(max_abs_diff(run_sequence(*ok, kPrompt), expected_logits(tiny_models()[4])) <= 1e-4);
}

TEST_CASE("vulkan: a lost device is an error the caller recovers from", "[gpu][vulkan]") {
  const TinyModel& tm = tiny_models()[4];
  const std::string path = tiny_path(tm, "FP32");
  auto m = vk_load(path, {});
  State s = m->new_state();
  std::vector<float> lg(static_cast<size_t>(m->info().n_vocab));
  REQUIRE(m->prefill(kPrompt, s, lg).ok());
  const State& cs = s;
  const std::vector<float> before(cs.data().begin(), cs.data().end());

  auto* vm = dynamic_cast<vk::VulkanModel*>(m.get());
  REQUIRE(vm != nullptr);
  vm->inject_device_loss();
  const std::vector<int32_t> rest = {32, 116, 104};
  auto st = m->prefill(rest, s, lg);
  REQUIRE(!st.ok());
  CHECK(st.error().code == Errc::device);
  CHECK(st.error().message.find("lost") != std::string::npos);
  std::vector<int32_t> one = {101};
  std::vector<State*> ptrs = {&s};
  CHECK(!m->decode(one, ptrs, lg).ok());  // still an error, not an abort
  CHECK(std::vector<float>(cs.data().begin(), cs.data().end()) == before);  // the state was not touched
  m.reset();                              // tearing the lost backend down is fine too

  // The caller recovers with a fresh backend and the same text.
  auto again = vk_load(path, {});
  CHECK(max_abs_diff(run_sequence(*again, kPrompt), expected_logits(tm)) <= 1e-4);
}

TEST_CASE("vulkan: a model behind a closed step gate pauses before its next submit", "[gpu][vulkan][gate]") {
  const TinyModel& tm = tiny_models()[4];
  auto m = vk_load(tiny_path(tm, "FP32"), {});
  StepGate gate(std::chrono::seconds(10));
  m->set_step_gate(&gate);
  gate.close();
  auto run = std::async(std::launch::async, [&] { return run_sequence(*m, kPrompt); });
  CHECK(run.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
  CHECK(gate.holds() >= 1);
  gate.open();
  REQUIRE(run.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  CHECK(max_abs_diff(run.get(), expected_logits(tm)) <= 1e-4);
  m->set_step_gate(nullptr);
}

TEST_CASE("vulkan: RWKV-4/5/6 runs raise no validation-layer errors", "[gpu][vulkan][validation]") {
  for (const TinyModel& tm : tiny_models()) {
    if (std::string(tm.id) == "7v0-834K") continue;  // test_vk_rwkv7.cpp covers v7
    for (int config : {0, 1}) {
      INFO(tm.id << " config " << config);
      vk::VulkanModelOptions opt = config_options(config);
      opt.validation = true;
      opt.max_chunk = 2;
      auto m = vk_load(tiny_path(tm, "FP16"), opt);
      State s = m->new_state();
      std::vector<float> lg(256);
      REQUIRE(m->prefill(kPrompt, s, lg).ok());
      State fork = s;  // a device copy
      std::vector<State*> ptrs = {&s, &fork};
      std::vector<int32_t> toks = {32, 116};
      std::vector<float> lg2(2 * 256);
      REQUIRE(m->decode(toks, ptrs, lg2).ok());
      (void)std::as_const(fork).data();  // read back
      const auto* vm = vk::as_vulkan(*m);
      REQUIRE(vm);
      CHECK(vm->memory().validation_errors == 0);
    }
  }
}
