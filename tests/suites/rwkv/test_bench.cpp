// Hidden timing check (not run by default: tag [.bench]). Set WB_BENCH_MODEL
// to a model file and run `test_rwkv "[.bench]"`; it prints prefill and decode
// tokens per second. Speed is a later issue; this only gives a quick figure.
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;

TEST_CASE("prefill and decode speed", "[.bench]") {
  const char* path = std::getenv("WB_BENCH_MODEL");
  if (!path) {
    WARN("set WB_BENCH_MODEL");
    return;
  }
  auto model = must_load(path);
  const int V = model->info().n_vocab;
  std::vector<int32_t> toks(128);
  for (size_t i = 0; i < toks.size(); ++i) toks[i] = int32_t((i * 7919) % V);
  std::vector<float> logits(V);
  State s = model->new_state();
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  REQUIRE(model->prefill(toks, s, logits).ok());
  auto t1 = clock::now();
  const int n_dec = 16;
  for (int i = 0; i < n_dec; ++i) {
    State* sp = &s;
    REQUIRE(model->decode(std::span<const int32_t>(&toks[i], 1), std::span<State* const>(&sp, 1), logits).ok());
  }
  auto t2 = clock::now();
  std::vector<State> lanes(8, s);
  std::vector<State*> ptrs;
  for (auto& l : lanes) ptrs.push_back(&l);
  std::vector<float> bl(8 * size_t(V));
  for (int i = 0; i < 4; ++i) REQUIRE(model->decode(std::vector<int32_t>(8, toks[i]), ptrs, bl).ok());
  auto t3 = clock::now();
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::cout << path << ": prefill " << toks.size() / secs(t0, t1) << " tok/s, decode " << n_dec / secs(t1, t2)
            << " tok/s, batch-8 decode " << 32 / secs(t2, t3) << " tok/s\n";
}
