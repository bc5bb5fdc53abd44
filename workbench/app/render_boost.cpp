// See render_boost.hpp.
#include "app/render_boost.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace wb::app {

namespace {

// The nice value of thread `tid` of this process (field 19 of its stat line),
// or a value no thread has when it cannot be read.
int thread_nice(int tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return 1000;
  // The name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return 1000;
  const char* p = line.c_str() + close + 1;
  // Fields 3.. follow; nice is field 19, i.e. the 17th after the name.
  for (int field = 3; field < 19; ++field) {
    while (*p == ' ') ++p;
    while (*p && *p != ' ') ++p;
  }
  return static_cast<int>(std::strtol(p, nullptr, 10));
}

}  // namespace

void RenderBoost::refresh() {
  if (boosted_) end();
  threads_.clear();
  std::error_code ec;
  const int self = static_cast<int>(gettid());
  const int ui_nice = thread_nice(self);
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const int tid = std::atoi(e.path().filename().c_str());
    if (tid <= 0 || tid == self) continue;
    const int n = thread_nice(tid);
    if (n > ui_nice && n <= 19) threads_.push_back({tid, n});
  }
}

void RenderBoost::begin() {
  if (!enabled || threads_.empty()) return;
  sched_param sp{};
  // A thread that has ended since refresh() fails with ESRCH: harmless.
  for (const Thread& t : threads_) (void)sched_setscheduler(t.tid, SCHED_IDLE, &sp);
  boosted_ = true;
}

void RenderBoost::end() {
  if (!boosted_) return;
  sched_param sp{};
  for (const Thread& t : threads_) {
    (void)sched_setscheduler(t.tid, SCHED_OTHER, &sp);
    // Leaving SCHED_IDLE keeps the nice value on Linux; set it again all the same.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(t.tid), t.nice);
  }
  boosted_ = false;
}

}  // namespace wb::app
