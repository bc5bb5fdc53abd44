// Frame-time recorder: per-frame milliseconds, split into frames drawn while a
// generation runs and the others, with the time spent in each phase of the
// frame (app work, building the UI, rendering + presenting), so a slow frame
// can be traced to its cause.
//
//   wb::app::FrameStats stats;
//   stats.begin_frame();   ... app.poll() ...   stats.mark(FrameStats::Phase::app);
//   ... views ...          stats.mark(FrameStats::Phase::ui);
//   r.end_frame();         stats.mark(FrameStats::Phase::render);
//   stats.end_frame(generating_during_the_whole_frame, idle_during_the_whole_frame);
//   std::string text = stats.report("llvmpipe");   // "key value" lines
//   stats.enable_log({"acquire_ms", ...});  stats.log_frame({...});  stats.log_table();  // one row per frame
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace wb::app {

class FrameStats {
 public:
  enum class Phase { app = 0, ui = 1, render = 2 };
  static constexpr std::size_t kPhases = 3;

  FrameStats();
  void begin_frame();
  void mark(Phase p);  // the time since the previous mark (or begin) is phase p's
  // `generating`: a generation ran for the whole frame; `idle`: none ran at all.
  // Frames where one started or ended count only in "all". `loading`: a model
  // was loading on the worker for the whole frame (counted on its own too).
  void end_frame(bool generating, bool idle, bool loading = false);

  struct Summary {
    std::size_t count = 0;
    double median = 0, p95 = 0, max = 0, over_50 = 0;  // over_50: frames above 50 ms
  };
  static Summary summarize(std::vector<double> ms);  // by value: sorted inside
  Summary generating() const { return summarize(gen_); }
  Summary idle() const { return summarize(idle_); }
  Summary all() const { return summarize(all_); }
  Summary loading() const { return summarize(loading_); }
  Summary phase(Phase p) const { return summarize(phase_[static_cast<std::size_t>(p)]); }

  // "key value" lines: frames_generating, generating_median_ms, ..., load_average.
  std::string report(const std::string& device) const;

  // Per-frame log (--frame-log): one row per frame, so a slow frame can be
  // lined up with what happened in it. `detail` columns are named once by
  // enable_log and given per frame (after end_frame) by log_frame.
  static constexpr std::size_t kDetail = 15;
  void enable_log(const std::array<const char*, kDetail>& detail_names);
  void log_frame(const std::array<double, kDetail>& detail);
  // "# t0_monotonic_s S" (the first frame's start), a header line, then one
  // tab-separated row per frame: frame, t_ms, total_ms, kind, app/ui/render ms, details.
  std::string log_table() const;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_, last_mark_;
  std::array<double, kPhases> current_{};
  std::vector<double> gen_, idle_, all_, loading_;
  std::array<std::vector<double>, kPhases> phase_;

  struct Row {
    double t_ms, total_ms;
    std::array<double, kPhases> phase;
    int kind;  // 0 other, 1 generating, 2 idle
    std::array<double, kDetail> detail;
  };
  bool log_ = false;
  Clock::time_point first_{};
  bool have_first_ = false;
  std::array<const char*, kDetail> detail_names_{};
  std::vector<Row> rows_;
  Row pending_{};
};

}  // namespace wb::app
