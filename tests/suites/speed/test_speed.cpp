// Speed paths held to the reference: the fused SIMD kernels (AVX-512, AVX2)
// against the scalar path, quantised weights (q8_0, q4_0) and f16 against the
// f32 model they were made from, and batched decode against single decodes.
// Models come from `wb synth`'s writer (small shape, fixed seed), so every
// dtype holds the same underlying weights.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/model/cpu/matmul.hpp"
#include "core/model/load.hpp"
#include "core/model/synth.hpp"
#include "support/fixtures.hpp"

using namespace wb;

namespace {

std::string synth_file(const std::string& dtype, int layers = 2, int embd = 128, int vocab = 512) {
  // One folder per process and call: ctest runs test cases as parallel
  // processes, and temp_dir() empties the folder it returns.
  static int calls = 0;
  const std::string dir =
      test::temp_dir("speed-synth-" + std::to_string(::getpid()) + "-" + std::to_string(calls++)).string();
  const std::string p = dir + "/r7-" + std::to_string(layers) + "-" + std::to_string(embd) + "-" + dtype + ".gguf";
  SynthSpec s;
  s.n_layer = layers, s.n_embd = embd, s.n_vocab = vocab, s.dtype = dtype, s.seed = 7;
  REQUIRE(write_synth_rwkv7_gguf(s, p).ok());
  return p;
}

const std::vector<int32_t> kPrompt = {3, 77, 501, 12, 256, 9, 130, 44, 200, 7, 1, 480, 66, 95, 311, 5, 42};

std::vector<float> run_logits(const std::string& path, const std::vector<int32_t>& toks, int threads = 2) {
  LoadOptions o;
  o.threads = threads;
  auto m = load_model(path, o);
  REQUIRE(m.ok());
  State s = (*m)->new_state();
  std::vector<float> lg((*m)->info().n_vocab);
  REQUIRE((*m)->prefill(toks, s, lg).ok());
  return lg;
}

// Largest |a - b| relative to the largest |a| (logits are O(1) here).
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(std::isfinite(b[i]));
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(a[i])));
  }
  return num / std::max(den, 1e-30);
}

struct SimdGuard {
  ~SimdGuard() { cpu::limit_simd_level(cpu::SimdLevel::avx512); }
};

}  // namespace

TEST_CASE("synth models load with the requested shape and give finite, varied logits", "[speed][synth]") {
  const std::string p = synth_file("f16", 2, 128, 512);
  auto m = load_model(p);
  REQUIRE(m.ok());
  CHECK((*m)->info().n_layer == 2);
  CHECK((*m)->info().n_embd == 128);
  CHECK((*m)->info().n_vocab == 512);
  CHECK((*m)->info().dtype == "f16");
  const auto lg = run_logits(p, kPrompt);
  const auto [lo, hi] = std::minmax_element(lg.begin(), lg.end());
  CHECK(std::isfinite(*lo));
  CHECK(std::isfinite(*hi));
  CHECK(*hi - *lo > 1e-3f);  // a forward that collapsed to a constant would be useless for timing
}

TEST_CASE("synth is deterministic in the seed", "[speed][synth]") {
  SynthSpec s;
  s.n_layer = 1, s.n_embd = 64, s.n_vocab = 256, s.seed = 3;
  const std::string dir = test::temp_dir("speed-seed").string();
  REQUIRE(write_synth_rwkv7_gguf(s, dir + "/a.gguf").ok());
  REQUIRE(write_synth_rwkv7_gguf(s, dir + "/b.gguf").ok());
  s.seed = 4;
  REQUIRE(write_synth_rwkv7_gguf(s, dir + "/c.gguf").ok());
  const std::vector<int32_t> t = {1, 2, 3};
  CHECK(run_logits(dir + "/a.gguf", t) == run_logits(dir + "/b.gguf", t));
  CHECK(run_logits(dir + "/a.gguf", t) != run_logits(dir + "/c.gguf", t));
  s.dtype = "q3_k";
  CHECK_FALSE(write_synth_rwkv7_gguf(s, dir + "/d.gguf").ok());
  s.dtype = "f16", s.n_embd = 100;  // not a multiple of 32
  CHECK_FALSE(write_synth_rwkv7_gguf(s, dir + "/e.gguf").ok());
}

TEST_CASE("fused SIMD kernels match the scalar path for every fused dtype", "[speed][simd]") {
  SimdGuard guard;
  for (const char* dt : {"f32", "f16", "q8_0", "q4_0"}) {
    INFO("dtype " << dt);
    const std::string p = synth_file(dt);
    cpu::limit_simd_level(cpu::SimdLevel::scalar);
    const auto ref = run_logits(p, kPrompt);
    for (cpu::SimdLevel l : {cpu::SimdLevel::avx2, cpu::SimdLevel::avx512}) {
      cpu::limit_simd_level(l);
      INFO("level " << cpu::simd_level_name(cpu::simd_level()));
      // Same weights, only the float summation order differs.
      CHECK(rel_err(ref, run_logits(p, kPrompt)) < 1e-4);
      CHECK(rel_err(ref, run_logits(p, kPrompt, 1)) < 1e-4);
    }
  }
}

TEST_CASE("quantised and f16 weights stay close to the f32 model", "[speed][quant]") {
  const auto ref = run_logits(synth_file("f32"), kPrompt);
  // Measured on this shape: f16 3e-4, q8_0 4.7e-3, q4_0 9.3e-2 (4 bits keep
  // ~1/16 of each block's range). Bounds are a few times those.
  CHECK(rel_err(ref, run_logits(synth_file("f16"), kPrompt)) < 5e-3);
  CHECK(rel_err(ref, run_logits(synth_file("q8_0"), kPrompt)) < 2e-2);
  const double e4 = rel_err(ref, run_logits(synth_file("q4_0"), kPrompt));
  CHECK(e4 < 0.25);
  CHECK(e4 > 0);  // q4_0 really is a different set of weights
}

TEST_CASE("batched decode of four states equals four single decodes", "[speed][batch]") {
  for (const char* dt : {"f16", "q8_0"}) {
    INFO("dtype " << dt);
    const std::string p = synth_file(dt);
    auto m = load_model(p);
    REQUIRE(m.ok());
    Model& model = **m;
    const int V = model.info().n_vocab;
    std::vector<State> batch(4, model.new_state()), single(4, model.new_state());
    for (int j = 0; j < 4; ++j) REQUIRE(model.prefill({kPrompt.data(), size_t(3 + j)}, batch[j], {}).ok());
    single = batch;
    std::vector<State*> ptrs;
    for (State& s : batch) ptrs.push_back(&s);
    std::vector<float> blog(4 * size_t(V)), slog(V);
    for (int step = 0; step < 3; ++step) {
      const std::vector<int32_t> toks = {int32_t(10 + step), int32_t(300 - step), 5, int32_t(400 + step)};
      REQUIRE(model.decode(toks, ptrs, blog).ok());
      for (int j = 0; j < 4; ++j) {
        State* sp = &single[j];
        REQUIRE(model.decode({&toks[j], 1}, {&sp, 1}, slog).ok());
        const std::vector<float> b(blog.begin() + j * V, blog.begin() + (j + 1) * V);
        CHECK(rel_err(slog, b) < 1e-5);
      }
    }
  }
}

TEST_CASE("a prefill longer than one chunk equals token-by-token decoding bit for bit", "[speed][batch]") {
  // 300 tokens: three full 96-token chunks (the GEMM path) and a 12-token tail.
  const std::string p = synth_file("f16");
  auto m = load_model(p);
  REQUIRE(m.ok());
  Model& model = **m;
  std::vector<int32_t> toks(300);
  for (size_t i = 0; i < toks.size(); ++i) toks[i] = int32_t((i * 37 + 11) % 512);
  State a = model.new_state(), b = model.new_state();
  std::vector<float> la(model.info().n_vocab), lb(model.info().n_vocab);
  REQUIRE(model.prefill(toks, a, la).ok());
  State* bp = &b;
  for (int32_t t : toks) REQUIRE(model.decode({&t, 1}, {&bp, 1}, lb).ok());
  // Bit-identical, not just close: the GEMM keeps the decode kernel's
  // per-output arithmetic, and the state tree compares snapshots exactly.
  CHECK(la == lb);
  CHECK(std::equal(a.data().begin(), a.data().end(), b.data().begin(), b.data().end()));
}

TEST_CASE("wb synth and wb bench run end to end", "[speed][cli]") {
  const std::string dir = test::temp_dir("speed-cli").string();
  auto r = test::run_wb("synth --arch rwkv7 --layers 1 --embd 64 --vocab 256 --dtype q8_0 --out " + dir + "/m.gguf");
  REQUIRE(r.exit_code == 0);
  r = test::run_wb("bench " + dir + "/m.gguf -p 8 -n 4 -r 1 -t 1 --batch 2 --bw-mib 8");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("read_bandwidth_gbs ") != std::string::npos);
  CHECK(r.out.find("bandwidth_fraction ") != std::string::npos);
  CHECK(r.out.find("pp8 ") != std::string::npos);
  CHECK(r.out.find("tg4 ") != std::string::npos);
  CHECK(r.out.find("tg4_batch2 ") != std::string::npos);
  r = test::run_wb("synth --arch rwkv6 --out " + dir + "/x.gguf");
  CHECK(r.exit_code != 0);
  r = test::run_wb("bench " + dir + "/missing.gguf");
  CHECK(r.exit_code != 0);
  r = test::run_wb("bench " + dir + "/m.gguf --bw-mib 99999");
  CHECK(r.exit_code != 0);
}

TEST_CASE("weights copied into huge-page memory give the same logits as the file map", "[speed][memory]") {
  const std::string p = synth_file("f16");
  std::vector<float> out[2];
  const LoadOptions::WeightMemory modes[2] = {LoadOptions::WeightMemory::map, LoadOptions::WeightMemory::resident};
  for (int i = 0; i < 2; ++i) {
    LoadOptions o;
    o.weight_memory = modes[i];
    auto m = load_model(p, o);
    REQUIRE(m.ok());
    CHECK((*m)->info().weight_memory == (i == 0 ? "mapped" : "resident"));
    State s = (*m)->new_state();
    out[i].resize((*m)->info().n_vocab);
    REQUIRE((*m)->prefill(kPrompt, s, out[i]).ok());
  }
  CHECK(out[0] == out[1]);
  // The default is the copy for a model this small, and wb bench says which.
  auto r = test::run_wb("bench " + p + " -p 4 -n 2 -r 1 --bw-mib 0");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("weight_memory resident") != std::string::npos);
  r = test::run_wb("bench " + p + " -p 4 -n 2 -r 1 --bw-mib 0 --mmap");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("weight_memory mapped") != std::string::npos);
}
