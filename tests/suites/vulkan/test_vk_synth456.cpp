// Random-weight RWKV-4 / 5.1 / 5.2 / 6 models of real layer shapes (2 layers,
// vocab 2048 to keep CI fast): Vulkan logits match the CPU runtime within 1e-2
// max absolute error at every one of 64 decode steps of a batch of 2 states
// (the bar), after a 10-token prefill.
#include <catch2/catch.hpp>

#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/model/load.hpp"
#include "synth_rwkv456.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;

namespace {

void synth_parity(const SynthRkvShape& shape, float tol) {
  TensorFile tf = synth_rkv(shape);
  auto arch = detect_arch(tf);
  REQUIRE(arch.ok());
  REQUIRE(*arch == shape.arch);
  LoadOptions co;
  co.threads = 2;
  auto cpu = build_model(tf, co);
  INFO((cpu ? std::string() : cpu.error().message));
  REQUIRE(cpu.ok());
  auto gpu = vk::build_vulkan_model(tf, *arch, {});
  INFO((gpu ? std::string() : gpu.error().message));
  REQUIRE(gpu.ok());
  const int V = shape.n_vocab, B = 2;
  std::mt19937 rng(shape.seed);
  std::uniform_int_distribution<int32_t> tok(0, V - 1);
  std::vector<int32_t> prompt(10);
  for (auto& t : prompt) t = tok(rng);
  State c0 = (*cpu)->new_state(), g0 = (*gpu)->new_state();
  std::vector<float> lc(V), lg(V);
  WB_REQUIRE_OK((*cpu)->prefill(prompt, c0, lc));
  WB_REQUIRE_OK((*gpu)->prefill(prompt, g0, lg));
  double worst = max_abs_diff(lc, lg);
  std::vector<State> cs = {c0, c0}, gs = {g0, g0};
  std::vector<State*> cp = {&cs[0], &cs[1]}, gp = {&gs[0], &gs[1]};
  std::vector<float> bc(B * V), bg(B * V);
  for (int step = 0; step < 64; ++step) {
    std::vector<int32_t> toks = {tok(rng), tok(rng)};
    WB_REQUIRE_OK((*cpu)->decode(toks, cp, bc));
    WB_REQUIRE_OK((*gpu)->decode(toks, gp, bg));
    worst = std::max(worst, max_abs_diff(bc, bg));
  }
  float scale = 0;
  for (float v : bc) scale = std::max(scale, std::fabs(v));
  INFO(arch_name(shape.arch) << (shape.f16 ? " f16" : " f32") << ": max |logit| " << scale
                             << ", worst max abs diff over 64 steps " << worst);
  CHECK(scale > 0.5f);  // the logits are not trivially small
  CHECK(worst <= tol);
}

}  // namespace

TEST_CASE("vulkan: random-weight RWKV-4 (169M layer shape), 64 decode steps vs CPU", "[gpu][vulkan][rwkv]") {
  SynthRkvShape s;
  s.arch = Arch::v4;
  s.n_embd = 768;
  s.n_ffn = 3072;
  synth_parity(s, 1e-2f);
}

TEST_CASE("vulkan: random-weight RWKV-5.1 and 5.2 (0.4B layer shape), 64 decode steps vs CPU",
          "[gpu][vulkan][rwkv]") {
  SynthRkvShape s;  // C 1024, 16 heads of 64, FFN 3584
  s.arch = Arch::v5_1;
  synth_parity(s, 1e-2f);
  s.arch = Arch::v5_2;
  s.f16 = true;
  s.seed = 2;
  synth_parity(s, 1e-2f);
}

TEST_CASE("vulkan: random-weight RWKV-6 (768-wide layer shape, LoRA 32 / 64), 64 decode steps vs CPU",
          "[gpu][vulkan][rwkv]") {
  SynthRkvShape s;
  s.arch = Arch::v6;
  s.n_embd = 768;
  s.n_ffn = 2688;
  synth_parity(s, 1e-2f);
  s.f16 = true;
  s.seed = 3;
  synth_parity(s, 1e-2f);
}
