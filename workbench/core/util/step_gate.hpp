// A point where background model work waits while another part of the
// program needs the CPUs for a moment.
//
//   wb::StepGate gate;
//   model->set_step_gate(&gate);          // the model calls gate.pass() between its steps
//   gate.close(); render_frame(); gate.open();   // UI thread: the model pauses meanwhile
//
// Why: the GUI rasterises its frames on the CPU when its Vulkan device is a
// software one (lavapipe). The model's threads then compete with Mesa's
// rasteriser threads for the same cores, and a frame that loses that race
// runs long (workbench/app/README.md, "Frame time while generating"); lower
// priorities did not prevent it, because a running thread keeps its CPU for
// its time slice whatever its nice value. Pausing the model at its next step
// (a CPU matrix product is tens of microseconds; a Vulkan submit one token)
// hands the frame the whole machine.
//
// A closed gate holds a step for at most `max_hold` (a safety net: a gate left
// closed by mistake slows the model down but cannot stop it).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace wb {

class StepGate {
 public:
  explicit StepGate(std::chrono::milliseconds max_hold = std::chrono::milliseconds(250)) : max_hold_(max_hold) {}
  StepGate(const StepGate&) = delete;
  StepGate& operator=(const StepGate&) = delete;

  void close();
  void open();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // Model side: returns at once while open (one atomic load); while closed
  // waits for open() or max_hold.
  void pass() const;
  // Steps that waited (counted as they start waiting), and for how long in
  // all (added as they leave): for measuring.
  uint64_t holds() const { return holds_.load(std::memory_order_relaxed); }
  double held_ms() const { return held_us_.load(std::memory_order_relaxed) / 1000.0; }
  // How long the last hold's step took to reach the gate after close().
  double last_stop_ms() const { return last_stop_us_.load(std::memory_order_relaxed) / 1000.0; }

 private:
  std::chrono::milliseconds max_hold_;
  std::atomic<bool> closed_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::atomic<uint64_t> holds_{0}, held_us_{0};
  mutable std::atomic<int64_t> last_stop_us_{0};
  std::chrono::steady_clock::time_point closed_at_;
};

}  // namespace wb
