// StepGate (core/util/step_gate.hpp): a closed gate holds model work between
// steps until it opens; the GUI closes it while a CPU renderer draws a frame.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "core/util/step_gate.hpp"
#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;
using namespace std::chrono_literals;

namespace {

// True when `f` is still running after `wait`.
template <class T>
bool still_running(std::future<T>& f, std::chrono::milliseconds wait) {
  return f.wait_for(wait) == std::future_status::timeout;
}

}  // namespace

TEST_CASE("an open step gate lets every step through, a closed one holds it until opened", "[rwkv][gate]") {
  StepGate gate(10s);
  gate.pass();
  CHECK(gate.holds() == 0);

  gate.close();
  CHECK(gate.closed());
  auto waiter = std::async(std::launch::async, [&] { gate.pass(); });
  CHECK(still_running(waiter, 200ms));
  gate.open();
  CHECK(waiter.wait_for(10s) == std::future_status::ready);
  CHECK(gate.holds() == 1);
  CHECK(gate.held_ms() >= 150);
}

TEST_CASE("a step gate left closed holds a step for at most its limit", "[rwkv][gate]") {
  StepGate gate(50ms);
  gate.close();
  const auto t0 = std::chrono::steady_clock::now();
  gate.pass();
  CHECK(std::chrono::steady_clock::now() - t0 >= 45ms);
  CHECK(gate.holds() == 1);
}

TEST_CASE("a CPU model behind a closed gate pauses and then gives the same logits", "[rwkv][gate]") {
  const std::string path = tiny_path(tiny_models()[4], "FP32");  // RWKV-7
  LoadOptions opt;
  opt.threads = 2;  // the pool's worker thread sleeps while the gate is closed
  auto reference = must_load(path, opt);
  const std::vector<float> want = run_sequence(*reference, kPrompt);

  auto model = must_load(path, opt);
  StepGate gate(10s);
  model->set_step_gate(&gate);
  CHECK(model->step_gate() == &gate);
  CHECK(run_sequence(*model, kPrompt) == want);  // an open gate changes nothing
  CHECK(gate.holds() == 0);

  gate.close();
  auto run = std::async(std::launch::async, [&] { return run_sequence(*model, kPrompt); });
  CHECK(still_running(run, 200ms));
  CHECK(gate.holds() >= 1);
  gate.open();
  REQUIRE(run.wait_for(30s) == std::future_status::ready);
  CHECK(run.get() == want);  // bit for bit

  model->set_step_gate(nullptr);
  gate.close();  // no longer consulted
  CHECK(run_sequence(*model, kPrompt) == want);
}
