// Timing of the Vulkan RWKV-7 model (hidden: run `test_vulkan "[.bench]"`), the
// stand-in for `wb bench --backend vulkan` until that verb exists. Prints
// pp<P> and tg<N> tokens/s for a random-weight model of the RWKV-7 0.19B shape
// (12 layers, C 768, vocab 65536) and for the tiny fixture.
// Environment: WB_BENCH_LAYERS, WB_BENCH_P, WB_BENCH_N, WB_BENCH_F16 (0/1), WB_BENCH_CPU (1: also time the CPU runtime).
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "core/backend/vulkan/rwkv7_vulkan.hpp"
#include "core/model/load.hpp"
#include "synth_rwkv7.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;

namespace {

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

// Process CPU time (every thread), seconds.
double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void bench(Model& m, int P, int N, const char* label) {
  const int V = m.info().n_vocab;
  std::vector<int32_t> prompt(P);
  for (int i = 0; i < P; ++i) prompt[i] = (i * 7919) % V;
  State s = m.new_state();
  std::vector<float> logits(V);
  // Warm-up: pipelines and first-touch of buffers.
  {
    State w = m.new_state();
    std::vector<int32_t> one = {1};
    REQUIRE(m.prefill(one, w, logits).ok());
  }
  double t0 = now_s();
  REQUIRE(m.prefill(prompt, s, logits).ok());
  double t1 = now_s();
  int32_t tok = 0;
  for (int i = 0; i < N; ++i) {
    State* sp = &s;
    REQUIRE(m.decode(std::span<const int32_t>(&tok, 1), std::span<State* const>(&sp, 1), logits).ok());
    tok = (tok + 31) % V;
  }
  double t2 = now_s();
  std::printf("%s [%s]: pp%d %.2f tokens/s, tg%d %.2f tokens/s\n", label, std::string(m.backend()).c_str(), P,
              P / (t1 - t0), N, N / (t2 - t1));
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("bench: RWKV-7 0.19B shape on Vulkan", "[.bench]") {
  SynthShape s;
  s.n_layer = env_int("WB_BENCH_LAYERS", 12);
  s.n_vocab = 65536;
  s.f16 = env_int("WB_BENCH_F16", 1) != 0;
  TensorFile tf = synth_rwkv7(s);
  const int P = env_int("WB_BENCH_P", 128), N = env_int("WB_BENCH_N", 32);
  {
    auto m = vk::load_rwkv7_vulkan(tf, {});
    REQUIRE(m.ok());
    bench(**m, P, N, s.f16 ? "rwkv7-0.19B-shape F16" : "rwkv7-0.19B-shape F32");
  }
  if (env_int("WB_BENCH_CPU", 0)) {
    auto c = build_model(tf, {});
    REQUIRE(c.ok());
    bench(**c, P, N, s.f16 ? "rwkv7-0.19B-shape F16" : "rwkv7-0.19B-shape F32");
  }
}

TEST_CASE("bench: tiny RWKV-7 fixture on Vulkan", "[.bench]") {
  LoadOptions o;
  o.backend = "vulkan";
  auto m = load_model(fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"), o);
  REQUIRE(m.ok());
  bench(**m, 128, 64, "tiny-7v0 FP32");
}

// What a GPU decode step is made of: the cost of one dependent step (a tiny
// dispatch behind a barrier) against the same dispatches without barriers, and
// the per-row matmul's time and bandwidth at the decode shapes of RWKV-7 0.19B
// and 1.5B (a decode step is ~90-170 dependent steps of mostly such matmuls).
// `matmul ... GB/s` counts the weight bytes only.
TEST_CASE("bench: kernel micro-timings", "[.bench]") {
  auto& ctx = vk_ctx();
  vk::Ops ops(ctx);
  // Returns the run time per op in microseconds. `grouped`: the reps form one
  // group of independent dispatches (no barriers between them).
  auto time_it = [&](const char* label, int reps, bool grouped, auto&& record) {
    vk::CommandStream cs(ctx);
    auto record_all = [&] {
      REQUIRE(cs.begin().ok());
      if (grouped) cs.begin_independent();
      for (int i = 0; i < reps; ++i) REQUIRE(record(cs, i).ok());
      if (grouped) cs.end_independent();
    };
    record_all();
    REQUIRE(cs.submit_and_wait().ok());  // warm
    double t0 = now_s();
    record_all();
    double t1 = now_s();
    const double c1 = cpu_s();
    REQUIRE(cs.submit_and_wait().ok());
    double t2 = now_s();
    const double c2 = cpu_s();
    // CPU time (all threads, lavapipe's included) is steadier than wall time on a shared machine.
    std::printf("%-44s record %.1f us, run %.1f us, cpu %.1f us per op\n", label, 1e6 * (t1 - t0) / reps,
                1e6 * (t2 - t1) / reps, 1e6 * (c2 - c1) / reps);
    std::fflush(stdout);
    return 1e6 * (t2 - t1) / reps;
  };
  std::vector<vk::Buffer> tiny;
  for (int i = 0; i < 300; ++i) tiny.push_back(device_zeros(64));
  const double chained = time_it("fill n=64 (dispatch + barrier)", 300, false,
                                 [&](vk::CommandStream& cs, int i) { return ops.fill(cs, tiny[i], 64, 1.0f); });
  const double grouped = time_it("fill n=64, no barriers (one group)", 300, true,
                                 [&](vk::CommandStream& cs, int i) { return ops.fill(cs, tiny[i], 64, 1.0f); });
  std::printf("dependent_step_us %.2f\nindependent_dispatch_us %.2f\n", chained, grouped);
  // WB_BENCH_MM=ROWSxCOLSxN times one shape only (for A/B runs under perf stat).
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> shapes = {
      {768u, 768u, 1u},   {3072u, 768u, 1u},  {768u, 3072u, 1u}, {65536u, 768u, 1u}, {2048u, 2048u, 1u},
      {8192u, 2048u, 1u}, {2048u, 8192u, 1u}, {768u, 768u, 64u}, {3072u, 768u, 64u}};
  if (const char* mm = std::getenv("WB_BENCH_MM")) {
    unsigned r = 0, c = 0, n = 0;
    if (std::sscanf(mm, "%ux%ux%u", &r, &c, &n) == 3) shapes = {{r, c, n}};
  }
  for (auto [rows, cols, nv] : shapes) {
    const auto wt = std::getenv("WB_BENCH_F32") ? vk::WeightType::f32 : vk::WeightType::f16;
    auto W = vk::upload_matrix_f32(ctx, random_floats(size_t{rows} * cols, 1), rows, cols, wt, {});
    REQUIRE(W.ok());
    vk::Buffer x = device_zeros(size_t{cols} * nv), y = device_zeros(size_t{rows} * nv);
    char label[96];
    std::snprintf(label, sizeof label, "matmul %s %ux%u x %u vectors", wt == vk::WeightType::f32 ? "f32" : "f16", rows, cols, nv);
    const int reps = rows > 10000 ? 3 : 20;
    const double us = time_it(label, reps, false, [&](vk::CommandStream& cs, int) {
      return ops.matmul(cs, *W, x, 0, cols, y, 0, rows, nv);
    });
    const double bytes = static_cast<double>(rows) * cols * (wt == vk::WeightType::f32 ? 4 : 2);
    std::printf("matmul_%ux%ux%u_GBps %.0f\n", rows, cols, nv, bytes / (us * 1e3));
  }
}
