// Self-consistency of the CPU runtime (ideas from rwkv.cpp's tests, README §5):
// chunked prefill equals token-by-token, batched decode equals separate
// calls, copying a State forks it.
#include <cstring>

#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;

namespace {

std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> t;
  for (unsigned char c : s) t.push_back(c);
  return t;
}

double state_diff(const State& a, const State& b) {
  REQUIRE(a.data().size() == b.data().size());
  double d = 0;
  for (size_t i = 0; i < a.data().size(); ++i) {
    const float x = a.data()[i], y = b.data()[i];
    if (x == y) continue;  // also covers v4's -1e30 entries
    d = std::max(d, std::fabs(double(x) - double(y)) / std::max(1.0, std::fabs(double(y))));
  }
  return d;
}

const std::string kLong = "This is a port of [BlinkDL/RWKV-LM](https://github.com/BlinkDL/RWKV-LM";

}  // namespace

TEST_CASE("chunked prefill equals token-by-token evaluation", "[rwkv][state]") {
  REQUIRE(kLong.size() == 70);
  for (const TinyModel& tm : tiny_models()) {
    SECTION(tm.id) {
      auto model = must_load(tiny_path(tm, "FP32"));
      for (const std::string& prompt : {kLong, std::string("T")}) {
        const auto toks = bytes_of(prompt);
        State serial_state;
        const auto serial = run_serial(*model, toks, &serial_state);
        for (int chunk : {1, 2, 8, 10, 70}) {
          State s = model->new_state();
          std::vector<float> logits(model->info().n_vocab);
          for (size_t at = 0; at < toks.size(); at += chunk) {
            const size_t n = std::min<size_t>(chunk, toks.size() - at);
            const bool last = at + n == toks.size();
            auto st = model->prefill(std::span<const int32_t>(toks).subspan(at, n), s,
                                     last ? std::span<float>(logits) : std::span<float>());
            REQUIRE(st.ok());
          }
          INFO(tm.id << " prompt of " << toks.size() << " in chunks of " << chunk);
          CHECK(max_abs_diff(logits, serial) <= 1e-5);
          CHECK(state_diff(s, serial_state) <= 1e-5);
        }
      }
    }
  }
}

TEST_CASE("state after a prompt does not depend on whether logits were requested", "[rwkv][state]") {
  for (const TinyModel& tm : tiny_models()) {
    auto model = must_load(tiny_path(tm, "FP32"));
    const auto toks = bytes_of("hello world");
    State a = model->new_state(), b = model->new_state();
    std::vector<float> logits(model->info().n_vocab);
    REQUIRE(model->prefill(toks, a, logits).ok());
    REQUIRE(model->prefill(toks, b, {}).ok());
    INFO(tm.id);
    CHECK(a == b);
  }
}

TEST_CASE("batched decode of 4 different states equals 4 single calls", "[rwkv][state]") {
  for (const TinyModel& tm : tiny_models()) {
    SECTION(tm.id) {
      auto model = must_load(tiny_path(tm, "Q5_1"));  // quantised weights: the common case
      const int V = model->info().n_vocab;
      const std::string prompts[4] = {"Once upon", "in", "The cat sat on the mat", "{\"input\": "};
      std::vector<State> base(4);
      for (int i = 0; i < 4; ++i) {
        base[i] = model->new_state();
        REQUIRE(model->prefill(bytes_of(prompts[i]), base[i], {}).ok());
      }
      const std::vector<int32_t> next = {32, 116, 101, 10};
      // Batched, two steps.
      std::vector<State> batch = base;
      std::vector<State*> ptrs;
      for (State& s : batch) ptrs.push_back(&s);
      std::vector<float> bl(4 * size_t(V));
      REQUIRE(model->decode(next, ptrs, bl).ok());
      REQUIRE(model->decode(std::vector<int32_t>{97, 98, 99, 100}, ptrs, bl).ok());
      for (int i = 0; i < 4; ++i) {
        State s = base[i];
        State* sp = &s;
        std::vector<float> l(V);
        REQUIRE(model->decode(std::span<const int32_t>(&next[i], 1), std::span<State* const>(&sp, 1), l).ok());
        const int32_t t2 = 97 + i;
        REQUIRE(model->decode(std::span<const int32_t>(&t2, 1), std::span<State* const>(&sp, 1), l).ok());
        INFO(tm.id << " lane " << i);
        CHECK(max_abs_diff(std::vector<float>(bl.begin() + size_t(i) * V, bl.begin() + size_t(i + 1) * V), l) <= 1e-5);
        CHECK(state_diff(batch[i], s) <= 1e-5);  // batched products sum in another order
      }
      // The lanes really differ (the test would be vacuous otherwise).
      CHECK(max_abs_diff(std::vector<float>(bl.begin(), bl.begin() + V),
                         std::vector<float>(bl.begin() + V, bl.begin() + 2 * V)) > 1e-3);
    }
  }
}

TEST_CASE("copying a State forks the text", "[rwkv][state]") {
  for (const TinyModel& tm : tiny_models()) {
    auto model = must_load(tiny_path(tm, "FP32"));
    const int V = model->info().n_vocab;
    State s = model->new_state();
    REQUIRE(model->prefill(bytes_of("Once upon a"), s, {}).ok());
    State fork = s;  // fork = copy
    REQUIRE(fork == s);
    REQUIRE(fork.byte_size() == s.byte_size());
    std::vector<float> la(V), lb(V), lc(V);
    REQUIRE(model->prefill(bytes_of(" time"), s, la).ok());
    REQUIRE(!(fork == s));                              // the original moved on, the copy did not
    State fork2 = fork;
    REQUIRE(model->prefill(bytes_of(" time"), fork, lb).ok());
    REQUIRE(model->prefill(bytes_of(" tree"), fork2, lc).ok());
    INFO(tm.id);
    CHECK(la == lb);        // same text from the same state: same logits
    CHECK(s == fork);
    CHECK(max_abs_diff(la, lc) > 1e-4);  // different continuation: different logits
  }
}

TEST_CASE("v4's initial state has its max-exponent vectors at -1e30", "[rwkv][state]") {
  auto model = must_load(tiny_path(tiny_models()[0], "FP32"));
  const State s = model->new_state();
  const int C = model->info().n_embd;
  for (int l = 0; l < model->info().n_layer; ++l)
    for (int k = 0; k < 5; ++k) {
      const float v = s.data()[size_t(l) * 5 * C + size_t(k) * C];
      CHECK(v == (k == 4 ? -1e30f : 0.0f));
    }
}

TEST_CASE("model calls reject bad arguments with errors", "[rwkv]") {
  auto model = must_load(tiny_path(tiny_models()[4], "FP32"));
  const int V = model->info().n_vocab;
  State s = model->new_state();
  std::vector<float> l(V);
  CHECK_FALSE(model->prefill(std::vector<int32_t>{256}, s, l).ok());   // token outside the vocabulary
  CHECK_FALSE(model->prefill(std::vector<int32_t>{-1}, s, l).ok());
  CHECK_FALSE(model->prefill(std::vector<int32_t>{}, s, l).ok());      // no tokens, logits wanted
  std::vector<float> short_logits(V - 1);
  CHECK_FALSE(model->prefill(std::vector<int32_t>{1}, s, short_logits).ok());
  State wrong(10);
  CHECK_FALSE(model->prefill(std::vector<int32_t>{1}, wrong, l).ok());
  State* twice[2] = {&s, &s};
  std::vector<float> l2(2 * size_t(V));
  CHECK_FALSE(model->decode(std::vector<int32_t>{1, 2}, twice, l2).ok());
  State* one[1] = {&s};
  CHECK_FALSE(model->decode(std::vector<int32_t>{1, 2}, one, l2).ok());
}
