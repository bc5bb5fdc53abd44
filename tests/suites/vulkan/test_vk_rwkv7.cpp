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
#include "core/model/load.hpp"
#include "core/model/read_tensor_file.hpp"
#include "core/util/log.hpp"
#include "synth_rwkv7.hpp"
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

TensorFile read_rwkv_cpp(const std::string& path) {
  auto tf = read_tensor_file(path);
  INFO((tf ? std::string() : tf.error().message));
  REQUIRE(tf.ok());
  return std::move(*tf);
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
  // Both matmul paths: texel-buffer kernels (CPU devices) and storage-buffer kernels
  // (GPUs), the latter also with unmapped device memory as on a discrete GPU; decode
  // unfused, fully fused and partly fused (wkv7_step.comp), on both paths; on the
  // storage path also with the norms done by the residual matmuls (6: full, unmapped; 7: partial),
  // and with each decode layer as one dispatch of persistent workgroups (8: one; 9: 64, unmapped;
  // 10: 64 with the up-projections a phase of their own; CPU devices run one, see grid_sync.glsl).
  auto config = GENERATE(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  INFO("config " << config);
  vk::VulkanModelOptions opt;
  opt.kernels = config == 0 || config == 3 ? vk::KernelPath::texel : vk::KernelPath::storage;
  opt.map_device_memory = config != 2 && config != 6 && config != 9;
  opt.fused_decode = config == 3 || config == 5 || config == 6 || config >= 8 ? vk::Fusion::full
                     : config == 4 || config == 7              ? vk::Fusion::partial
                                                               : vk::Fusion::off;
  opt.layer_norm_tails = config == 6 || config == 7 ? vk::Switch::on : vk::Switch::off;
  opt.persistent_groups = config == 8 ? 1 : config >= 9 ? 64 : 0;
  opt.persistent_split_up = config == 10;
  auto m = load(tf, opt);
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

TEST_CASE("vulkan rwkv7: chunked prefill equals one chunk, batched decode equals single decodes",
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

namespace {

// The FP32 fixture on the storage-buffer kernels with the fused decode step,
// `persistent` workgroups per decode layer (0: off).
std::unique_ptr<vk::VulkanModel> fused_fixture_model(uint32_t persistent = 0) {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  vk::VulkanModelOptions opt;
  opt.kernels = vk::KernelPath::storage;
  opt.fused_decode = vk::Fusion::full;
  opt.persistent_groups = persistent;
  return load(tf, opt);
}

// Decodes one token on `s`; the recording that ran.
vk::VulkanModel::RecordingSize decode_recording(vk::VulkanModel& m, State& s) {
  std::vector<float> lg(m.info().n_vocab);
  State* sp = &s;
  const int32_t tok = 84;
  WB_REQUIRE_OK(m.decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&sp, 1), lg));
  return m.last_recording();
}

}  // namespace

TEST_CASE("vulkan rwkv7: a fused decode step is a chain of seven dependent steps per layer",
          "[gpu][vulkan][rwkv]") {
  // A GPU's decode step costs about one dispatch latency per dependent step
  // (README, "Vulkan backend"), so a change that adds steps is a slowdown there.
  // Per layer: norm+mix, projections, wkv7_step, output, norm+mix, FFN key, FFN
  // value; at most two more for ln0 with the states' gather, the final norm and the head.
  auto m = fused_fixture_model();
  State s = m->new_state();
  const auto rec = decode_recording(*m, s);
  const int layers = m->info().n_layer;
  INFO("barriers " << rec.barriers << ", dispatches " << rec.dispatches);
  CHECK(rec.barriers <= 7u * layers + 2u);
  CHECK(rec.dispatches > rec.barriers);  // groups of independent dispatches share a step
}

TEST_CASE("vulkan rwkv7: a persistent decode layer is one dispatch with its grid barriers inside",
          "[gpu][vulkan][rwkv]") {
  // rwkv7_layer_*.comp: each layer of a one-state decode step is one dispatch
  // (ln0 with the gather, and the final norm with the scatter and the head, stay
  // as before); batches of states and sequences keep the usual recording.
  auto m = fused_fixture_model(8);
  const int layers = m->info().n_layer;
  State s = m->new_state();
  const auto rec = decode_recording(*m, s);
  INFO("barriers " << rec.barriers << ", dispatches " << rec.dispatches);
  CHECK(rec.barriers == layers + 2u);  // before each layer, the scatter with ln_out, and the head
  State t = s;
  std::vector<State*> two = {&s, &t};
  std::vector<float> lg2(512);
  const std::vector<int32_t> toks = {84, 85};
  WB_REQUIRE_OK(m->decode(toks, two, lg2));
  CHECK(m->last_recording().barriers > 7u * layers);
}

TEST_CASE("vulkan rwkv7: a persistent decode layer that gives up leaves the state as it was and runs again",
          "[gpu][vulkan][rwkv]") {
  // On a device that does not run all its workgroups at once, a grid barrier
  // gives up waiting (grid_sync.glsl). The states must then stay as they were
  // (they go back to their slots only if nothing gave up), the same call must
  // run again through the usual recording, and the kernel must stay off.
  const bool want_logits = GENERATE(true, false);
  INFO("logits wanted " << want_logits);
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  vk::VulkanModelOptions opt;
  opt.kernels = vk::KernelPath::storage;
  opt.fused_decode = vk::Fusion::full;
  WarningLog wl;
  opt.log = &wl.log;
  auto usual = load(tf, opt);
  opt.persistent_groups = 8;  // a CPU device runs one (see persistent_groups)
  const uint32_t groups = vk_ctx().device().type == "cpu" ? 1 : 8;
  auto m = load(tf, opt);
  const int layers = m->info().n_layer;
  State s, r;
  const std::vector<float> p0 = prefill_logits(*m, kPrompt, &s), p1 = prefill_logits(*usual, kPrompt, &r);
  REQUIRE(max_abs_diff(p0, p1) <= 1e-4);

  auto step = [](vk::VulkanModel& model, State& st, int32_t tok, std::vector<float>& lg) {
    State* sp = &st;
    WB_REQUIRE_OK(model.decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&sp, 1), lg));
  };
  std::vector<float> lg(256), want(256), none;
  step(*m, s, 84, lg);  // a persistent step that went well, whose recording the next one reuses
  step(*usual, r, 84, want);
  REQUIRE(m->last_recording().barriers == layers + 2u);
  REQUIRE(max_abs_diff(lg, want) <= 1e-4);

  REQUIRE(m->inject_give_up());
  step(*m, s, 101, want_logits ? lg : none);
  step(*usual, r, 101, want_logits ? want : none);
  CHECK(m->last_recording().barriers > layers + 2u);  // it ran again through the usual recording
  if (want_logits) CHECK(max_abs_diff(lg, want) <= 1e-4);
  const State& cs = s;
  const State& cr = r;
  const std::vector<float> got_state(cs.data().begin(), cs.data().end()), want_state(cr.data().begin(), cr.data().end());
  CHECK(max_abs_diff(got_state, want_state) <= 1e-4);
  REQUIRE(wl.warnings.size() == 1);
  CHECK(wl.warnings[0].find("did not run the " + std::to_string(groups) + " workgroups") != std::string::npos);

  // The kernel stays off; the story goes on as with the usual recording.
  CHECK(!m->inject_give_up());
  step(*m, s, 32, lg);
  step(*usual, r, 32, want);
  CHECK(m->last_recording().barriers > layers + 2u);
  CHECK(max_abs_diff(lg, want) <= 1e-4);
}

TEST_CASE("vulkan rwkv7: norms done by the residual matmuls remove two dependent steps per layer but the last",
          "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  const auto fusion = GENERATE(vk::Fusion::full, vk::Fusion::partial, vk::Fusion::off);
  INFO("fusion " << static_cast<int>(fusion));
  vk::VulkanModelOptions plain, tails;
  for (auto* o : {&plain, &tails}) o->kernels = vk::KernelPath::storage, o->fused_decode = fusion;
  plain.layer_norm_tails = vk::Switch::off;
  tails.layer_norm_tails = vk::Switch::on;
  auto a = load(tf, plain), b = load(tf, tails);
  State sa, sb;
  prefill_logits(*a, kPrompt, &sa);
  prefill_logits(*b, kPrompt, &sb);
  CHECK(a->last_recording().barriers == b->last_recording().barriers);  // sequences: unchanged
  // Two states, then one: the tails cover every vector of a batch.
  std::vector<State> pa = {sa, sa}, pb = {sb, sb};
  for (int32_t tok : {32, 116, 104}) {
    std::vector<float> la(512), lb(512);
    std::vector<State*> ra = {&pa[0], &pa[1]}, rb = {&pb[0], &pb[1]};
    const std::vector<int32_t> toks = {tok, 65};
    WB_REQUIRE_OK(a->decode(toks, ra, la));
    WB_REQUIRE_OK(b->decode(toks, rb, lb));
    CHECK(max_abs_diff(la, lb) <= 1e-5f);
  }
  const int layers = a->info().n_layer;
  CHECK(b->last_recording().barriers + 2 * layers - 1 == a->last_recording().barriers);
  for (int i = 0; i < 2; ++i) {
    std::vector<float> ha(pa[i].data().begin(), pa[i].data().end()), hb(pb[i].data().begin(), pb[i].data().end());
    CHECK(max_abs_diff(ha, hb) <= 1e-5f);
  }
}

TEST_CASE("vulkan rwkv7: a decode like the last one resubmits its recording, with the same results",
          "[gpu][vulkan][rwkv]") {
  TensorFile tf = read_rwkv_cpp(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"));
  // On both kernel paths (the device's own, then the storage-buffer kernels GPUs
  // run), the latter also with the norms done by the residual matmuls (their
  // counter must be back at 0 for each resubmit).
  const int path = GENERATE(0, 1, 2);
  INFO("path " << path);
  vk::VulkanModelOptions reuse, fresh;
  if (path > 0) reuse.kernels = fresh.kernels = vk::KernelPath::storage;
  if (path == 2) reuse.layer_norm_tails = fresh.layer_norm_tails = vk::Switch::on;
  fresh.reuse_recordings = false;
  auto reusing = load(tf, reuse);
  auto recording = load(tf, fresh);
  const std::vector<int32_t> text = {84, 104, 105, 115, 32, 105, 115};
  State a1, b1;
  prefill_logits(*reusing, text, &a1);
  prefill_logits(*recording, text, &b1);
  State a2 = reusing->new_state(), b2 = recording->new_state();

  // (state, with logits) per step; a step like the one before may reuse.
  struct Step {
    int state;
    bool logits;
  };
  const std::vector<Step> steps = {{1, true}, {1, true}, {1, true}, {2, true}, {2, true}, {1, true},
                                   {1, false}, {1, false}, {1, true}, {2, true}};
  uint64_t expect_reused = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (i > 0 && steps[i].state == steps[i - 1].state && steps[i].logits == steps[i - 1].logits) ++expect_reused;
    const int32_t tok = static_cast<int32_t>(40 + 7 * i);
    std::vector<float> la(steps[i].logits ? 256 : 0), lb(la.size());
    State* sa = steps[i].state == 1 ? &a1 : &a2;
    State* sb = steps[i].state == 1 ? &b1 : &b2;
    WB_REQUIRE_OK(reusing->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&sa, 1), la));
    WB_REQUIRE_OK(recording->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&sb, 1), lb));
    INFO("step " << i);
    CHECK(max_abs_diff(la, lb) <= 1e-6);
    CHECK(reusing->reused_submits() == expect_reused);
  }
  CHECK(expect_reused == 4);
  CHECK(recording->reused_submits() == 0);
  // The states the reused recordings advanced equal the freshly recorded ones
  // (read through const references: they stay on the device, in their slots).
  auto host = [](const State& s) { return std::vector<float>(s.data().begin(), s.data().end()); };
  CHECK(max_abs_diff(host(a1), host(b1)) <= 1e-6);
  CHECK(max_abs_diff(host(a2), host(b2)) <= 1e-6);

  // A fork gets a slot of its own: its first step records anew.
  State fork = a1;
  const uint64_t before = reusing->reused_submits();
  std::vector<float> lf(256), l1(256);
  const int32_t tok = 99;
  State* fp = &fork;
  WB_REQUIRE_OK(reusing->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&fp, 1), lf));
  CHECK(reusing->reused_submits() == before);
  State* bp = &b1;
  WB_REQUIRE_OK(recording->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&bp, 1), l1));
  CHECK(max_abs_diff(lf, l1) <= 1e-6);

  // A slot given back and taken by another state: the recording reads whatever
  // the slot holds, so reusing it is right. a2 (last recorded, above) leaves the
  // device through a non-const data(); `other` is uploaded into the freed slot.
  State* a2p = &a2;
  State* b2p = &b2;
  WB_REQUIRE_OK(reusing->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&a2p, 1), lf));
  WB_REQUIRE_OK(recording->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&b2p, 1), l1));
  a2.data();
  State other = fork;
  other.data();  // host only, like a state loaded from the project file
  State other_b = other;
  State* op = &other;
  State* obp = &other_b;
  const uint64_t before_other = reusing->reused_submits();
  WB_REQUIRE_OK(reusing->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&op, 1), lf));
  WB_REQUIRE_OK(recording->decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&obp, 1), l1));
  CHECK(reusing->reused_submits() == before_other + 1);
  CHECK(max_abs_diff(lf, l1) <= 1e-6);
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
  // texel kernels; storage kernels with unmapped device memory, decode unfused,
  // fully fused and partly fused (wkv7_step.comp); fully fused with the norms
  // done by the residual matmuls (an atomic counter, coherent reads)
  // fully fused with each layer one dispatch of persistent workgroups (one state)
  const int config = GENERATE(0, 1, 2, 3, 4, 5);
  INFO("config " << config);
  opt.persistent_groups = config == 5 ? 8 : 0;
  opt.kernels = config == 0 ? vk::KernelPath::texel : vk::KernelPath::storage;
  opt.map_device_memory = config == 0;
  opt.fused_decode = config == 2 || config >= 4 ? vk::Fusion::full
                     : config == 3              ? vk::Fusion::partial
                                                : vk::Fusion::off;
  opt.layer_norm_tails = config == 4 ? vk::Switch::on : vk::Switch::off;
  auto m = load(tf, opt);
  State s;
  prefill_logits(*m, kPrompt, &s);
  const size_t n = config == 5 ? 1 : 2;
  std::vector<State> st(n, s);
  std::vector<State*> ptrs = {&st[0], &st[n - 1]};
  ptrs.resize(n);
  std::vector<int32_t> toks = {32, 116};
  toks.resize(n);
  std::vector<float> lg(n * 256);
  WB_REQUIRE_OK(m->decode(toks, ptrs, lg));
  // Steps like the last one resubmit its recording: the layer checks those too.
  for (int i = 0; i < 3; ++i) WB_REQUIRE_OK(m->decode(toks, ptrs, lg));
  // (one state: the prompt's last 1-token chunk has a decode step's shape, so the first decode reuses it too)
  CHECK(m->reused_submits() == (config == 5 ? 4u : 3u));
  if (config == 5) CHECK(m->last_recording().barriers == m->info().n_layer + 2u);  // the persistent layers ran
  CHECK(m->memory().validation_errors == 0);
}

TEST_CASE("vulkan rwkv7: same logits and states as the CPU runtime on the tiny fixtures", "[gpu][vulkan][rwkv]") {
  for (const char* file : {"FP32", "FP16", "Q5_1"}) {
    INFO(file);
    const std::string path = fixture(std::string("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-") + file + ".bin");
    auto cpu = load_model(path, {});
    REQUIRE(cpu.ok());
    LoadOptions vo;
    vo.backend = "vulkan";
    auto gpu = load_model(path, vo);
    INFO((gpu ? std::string() : gpu.error().message));
    REQUIRE(gpu.ok());
    CHECK((*gpu)->backend() == "vulkan");
    CHECK((*gpu)->info().model_key == (*cpu)->info().model_key);
    State sc = (*cpu)->new_state(), sg = (*gpu)->new_state();
    REQUIRE(sc.data().size() == sg.data().size());
    std::vector<float> lc(256), lg(256);
    const std::vector<int32_t> text = {72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100};
    WB_REQUIRE_OK((*cpu)->prefill(text, sc, lc));
    WB_REQUIRE_OK((*gpu)->prefill(text, sg, lg));
    CHECK(max_abs_diff(lc, lg) <= 1e-4f);
    // States are interchangeable: continue the CPU's state on the GPU.
    State from_cpu = sc;
    for (int step = 0; step < 8; ++step) {
      int32_t t = static_cast<int32_t>(std::max_element(lc.begin(), lc.end()) - lc.begin());
      State* pc = &sc;
      State* pg = &from_cpu;
      WB_REQUIRE_OK((*cpu)->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&pc, 1), lc));
      WB_REQUIRE_OK((*gpu)->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&pg, 1), lg));
      CHECK(max_abs_diff(lc, lg) <= 1e-4f);
    }
    std::vector<float> a(sc.data().begin(), sc.data().end()), b(from_cpu.data().begin(), from_cpu.data().end());
    CHECK(max_abs_diff(a, b) <= 1e-4f);
  }
}

namespace {

// 64 decode steps of B states on both backends (16 for one persistent workgroup on a CPU
// device); logits within `tol` each step.
// `storage`: on the storage-buffer kernels (what GPUs run) whatever the device;
// `tails`: there with the norms done by the residual matmuls; `persistent`: each
// state decoded alone, each layer one dispatch of persistent workgroups (`split_up`:
// their LoRA up-projections a phase of their own).
void synth_parity(const SynthShape& shape, float tol, vk::Fusion fused = vk::Fusion::off, bool storage = false,
                  bool tails = false, uint32_t persistent = 0, bool split_up = false) {
  TensorFile tf = synth_rwkv7(shape);
  LoadOptions co;
  co.threads = 2;
  auto cpu = build_model(tf, co);
  INFO((cpu ? std::string() : cpu.error().message));
  REQUIRE(cpu.ok());
  vk::VulkanModelOptions opt;
  opt.fused_decode = fused;
  if (storage) opt.kernels = vk::KernelPath::storage;
  if (tails) opt.layer_norm_tails = vk::Switch::on;
  opt.persistent_groups = persistent;
  opt.persistent_split_up = split_up;
  auto gpu = load(tf, opt);
  const int V = shape.n_vocab, B = 2;
  std::mt19937 rng(shape.seed);
  std::uniform_int_distribution<int32_t> tok(0, V - 1);
  std::vector<int32_t> prompt(10);
  for (auto& t : prompt) t = tok(rng);
  State c0 = (*cpu)->new_state(), g0 = gpu->new_state();
  std::vector<float> lc(V), lg(V);
  WB_REQUIRE_OK((*cpu)->prefill(prompt, c0, lc));
  WB_REQUIRE_OK(gpu->prefill(prompt, g0, lg));
  double worst = max_abs_diff(lc, lg);
  std::vector<State> cs = {c0, c0}, gs = {g0, g0};
  std::vector<State*> cp = {&cs[0], &cs[1]}, gp = {&gs[0], &gs[1]};
  std::vector<float> bc(B * V), bg(B * V);
  // One persistent workgroup on a CPU device runs a layer on one thread (5x slower
  // there): 16 steps keep CI's time; on GPUs, and on every other path, 64.
  const int steps = persistent && vk_ctx().device().type == "cpu" ? 16 : 64;
  for (int step = 0; step < steps; ++step) {
    std::vector<int32_t> toks = {tok(rng), tok(rng)};
    WB_REQUIRE_OK((*cpu)->decode(toks, cp, bc));
    if (persistent) {
      for (int b = 0; b < B; ++b)
        WB_REQUIRE_OK(gpu->decode(std::span<const int32_t>(&toks[b], 1), std::span<State* const>(&gp[b], 1),
                                  std::span<float>(bg).subspan(b * V, V)));
    } else {
      WB_REQUIRE_OK(gpu->decode(toks, gp, bg));
    }
    worst = std::max(worst, max_abs_diff(bc, bg));
  }
  float scale = 0;
  for (float v : bc) scale = std::max(scale, std::fabs(v));
  INFO("max |logit| " << scale << ", worst max abs diff over " << steps << " steps " << worst << ", fusion "
                       << static_cast<int>(fused) << ", storage kernels " << storage << ", tails " << tails
                       << ", persistent " << persistent << (split_up ? " (split up-projections)" : ""));
  CHECK(scale > 0.5f);  // the logits are not trivially small
  CHECK(worst <= tol);
}

}  // namespace

TEST_CASE("vulkan rwkv7: random-weight model of RWKV-7 0.1B layer shape, 64 decode steps vs CPU",
          "[gpu][vulkan][rwkv]") {
  SynthShape s;  // C 768, 12 heads of 64, FFN 3072, 0.1B LoRA widths; 2 layers, vocab 2048 to keep CI fast
  synth_parity(s, 1e-2f);
  synth_parity(s, 1e-2f, vk::Fusion::full);  // decode through wkv7_step.comp
  synth_parity(s, 1e-2f, vk::Fusion::partial);
  synth_parity(s, 1e-2f, vk::Fusion::full, true);  // the storage-buffer kernels GPUs run
  synth_parity(s, 1e-2f, vk::Fusion::full, true, true);  // norms done by the residual matmuls
  synth_parity(s, 1e-2f, vk::Fusion::full, true, false, 64);  // layers as persistent dispatches
  synth_parity(s, 1e-2f, vk::Fusion::full, true, false, 64, true);  // with the up-projections split
  s.f16 = true;
  s.seed = 2;
  synth_parity(s, 1e-2f);
  synth_parity(s, 1e-2f, vk::Fusion::full);
  synth_parity(s, 1e-2f, vk::Fusion::off, true);
  synth_parity(s, 1e-2f, vk::Fusion::partial, true, true);
  synth_parity(s, 1e-2f, vk::Fusion::full, true, false, 64);  // f16 weights in the persistent layer
}

