// See render_boost.hpp.
#include "app/render_boost.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <cerrno>
#include <cstdint>

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

// struct sched_attr of sched_setattr(2); glibc 2.36 has no wrapper and
// <linux/sched/types.h> clashes with <sched.h>.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // SCHED_OTHER: the requested slice in ns (Linux 6.12+), 0 = default
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

int set_slice(int tid, uint64_t slice_ns) {
  SchedAttr a{};
  a.size = sizeof a;
  a.sched_policy = SCHED_OTHER;
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno != 0) return -1;
  a.sched_nice = nice;  // sched_setattr sets the nice value too: keep it
  a.sched_runtime = slice_ns;
  if (syscall(SYS_sched_setattr, tid, &a, 0) != 0) return -1;
  if (slice_ns == 0) return 0;  // the default: reads back as the kernel's base slice
  // A kernel without slices accepts the call and ignores sched_runtime: read it back.
  SchedAttr b{};
  if (syscall(SYS_sched_getattr, tid, &b, sizeof b, 0) != 0) return -1;
  return b.sched_runtime == slice_ns ? 0 : -1;
}

}  // namespace

int shorten_time_slices(int slice_us) {
  if (slice_us < 100 || slice_us > 100000) return 0;
  int n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const int tid = std::atoi(e.path().filename().c_str());
    // Only normal threads: a thread already lowered to SCHED_IDLE/BATCH keeps its policy.
    if (tid > 0 && sched_getscheduler(tid) == SCHED_OTHER && set_slice(tid, uint64_t(slice_us) * 1000) == 0) ++n;
  }
  return n;
}

int reset_this_thread_slice() { return set_slice(static_cast<int>(gettid()), 0) == 0 ? 0 : -1; }

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
