#include "core/util/step_gate.hpp"

namespace wb {

void StepGate::close() {
  std::lock_guard lk(mu_);
  closed_at_ = std::chrono::steady_clock::now();
  closed_.store(true, std::memory_order_release);
}

void StepGate::open() {
  {
    std::lock_guard lk(mu_);
    closed_.store(false, std::memory_order_release);
  }
  cv_.notify_all();
}

void StepGate::pass() const {
  if (!closed_.load(std::memory_order_acquire)) return;
  const auto t0 = std::chrono::steady_clock::now();
  holds_.fetch_add(1, std::memory_order_relaxed);
  {
    std::unique_lock lk(mu_);
    if (closed_.load(std::memory_order_relaxed))
      last_stop_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(t0 - closed_at_).count(),
                          std::memory_order_relaxed);
    cv_.wait_for(lk, max_hold_, [this] { return !closed_.load(std::memory_order_acquire); });
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  held_us_.fetch_add(static_cast<uint64_t>(us.count()), std::memory_order_relaxed);
}

}  // namespace wb
