// Frame-time recorder (see frame_stats.hpp).
#include "app/frame_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace wb::app {

namespace {
// Room for ten minutes at 60 fps before a vector grows: no allocation inside
// the frame loop in any run a benchmark makes.
constexpr std::size_t kReserve = 36000;

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}
}  // namespace

FrameStats::FrameStats() {
  gen_.reserve(kReserve);
  idle_.reserve(kReserve);
  all_.reserve(kReserve);
  loading_.reserve(kReserve);
  for (auto& v : phase_) v.reserve(kReserve);
}

void FrameStats::begin_frame() {
  start_ = last_mark_ = Clock::now();
  if (!have_first_) {
    first_ = start_;
    have_first_ = true;
  }
  current_.fill(0);
}

void FrameStats::mark(Phase p) {
  auto now = Clock::now();
  current_[static_cast<std::size_t>(p)] += std::chrono::duration<double, std::milli>(now - last_mark_).count();
  last_mark_ = now;
}

void FrameStats::end_frame(bool generating, bool idle, bool loading) {
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  all_.push_back(ms);
  if (loading) loading_.push_back(ms);
  if (generating) gen_.push_back(ms);
  else if (idle) idle_.push_back(ms);
  for (std::size_t i = 0; i < kPhases; ++i) phase_[i].push_back(current_[i]);
  if (log_) {
    pending_.t_ms = std::chrono::duration<double, std::milli>(start_ - first_).count();
    pending_.total_ms = ms;
    pending_.phase = current_;
    pending_.kind = generating ? 1 : idle ? 2 : 0;
  }
}

void FrameStats::enable_log(const std::array<const char*, kDetail>& detail_names) {
  log_ = true;
  detail_names_ = detail_names;
  rows_.reserve(kReserve);
}

void FrameStats::log_frame(const std::array<double, kDetail>& detail) {
  if (!log_) return;
  pending_.detail = detail;
  rows_.push_back(pending_);
}

std::string FrameStats::log_table() const {
  // The first frame's start on CLOCK_MONOTONIC (steady_clock here), so the rows
  // can be lined up with a system trace (perf record -k CLOCK_MONOTONIC).
  std::string out = fmt::format("# t0_monotonic_s {:.6f}\n",
                                std::chrono::duration<double>(first_.time_since_epoch()).count());
  out += "frame\tt_ms\ttotal_ms\tkind\tapp_ms\tui_ms\trender_ms";
  for (const char* n : detail_names_) out += fmt::format("\t{}", n ? n : "-");
  out += "\n";
  const char* kinds[] = {"other", "gen", "idle"};
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const Row& r = rows_[i];
    out += fmt::format("{}\t{:.2f}\t{:.2f}\t{}\t{:.2f}\t{:.2f}\t{:.2f}", i, r.t_ms, r.total_ms, kinds[r.kind], r.phase[0],
                       r.phase[1], r.phase[2]);
    for (double d : r.detail) out += fmt::format("\t{:.2f}", d);
    out += "\n";
  }
  return out;
}

FrameStats::Summary FrameStats::summarize(std::vector<double> ms) {
  Summary s;
  s.count = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.median = percentile(ms, 0.5);
  s.p95 = percentile(ms, 0.95);
  s.max = ms.back();
  s.over_50 = static_cast<double>(ms.end() - std::upper_bound(ms.begin(), ms.end(), 50.0));
  return s;
}

std::string FrameStats::report(const std::string& device) const {
  std::string out = fmt::format("device {}\n", device);
  auto add = [&](const char* name, const Summary& s) {
    out += fmt::format("frames_{} {}\n{}_median_ms {:.2f}\n{}_p95_ms {:.2f}\n{}_max_ms {:.2f}\n{}_over_50ms {}\n", name,
                       s.count, name, s.median, name, s.p95, name, s.max, name, static_cast<long>(s.over_50));
  };
  add("generating", generating());
  add("idle", idle());
  add("all", all());
  add("loading", loading());
  const char* names[] = {"app", "ui", "render"};
  for (std::size_t i = 0; i < kPhases; ++i) {
    Summary s = phase(static_cast<Phase>(i));
    out += fmt::format("phase_{}_median_ms {:.2f}\nphase_{}_p95_ms {:.2f}\nphase_{}_max_ms {:.2f}\n", names[i], s.median,
                       names[i], s.p95, names[i], s.max);
  }
  // The machine's load when the run ended: frame times on a shared machine
  // mean little without it.
  std::ifstream la("/proc/loadavg");
  double l1 = 0;
  if (la >> l1) out += fmt::format("load_average {:.2f}\n", l1);
  return out;
}

}  // namespace wb::app
