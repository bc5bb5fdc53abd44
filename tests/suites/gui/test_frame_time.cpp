// What keeps frames short while the model generates: the per-frame log
// (--frame-log), the frame-rate cap while generating, the main panes drawn
// without their own backgrounds (same pixels), and the model's threads
// stepping aside while a frame is rasterised (RenderBoost), short time slices.
#include <png.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/render_boost.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;

namespace {

const char* kTiny = "rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin";

std::string quote(const std::string& s) { return "'" + s + "'"; }

int run_gui(const fs::path& dir, const std::string& args, const std::string& env = "") {
  REQUIRE(fs::exists(WB_GUI_PATH));
  const std::string cmd = "xvfb-run -a -s '-screen 0 1600x1200x24' env XDG_CONFIG_HOME=" + quote((dir / "c").string()) +
                          " XDG_DATA_HOME=" + quote((dir / "d").string()) + " " + env + " " + quote(WB_GUI_PATH) + " " +
                          args + " > " + quote((dir / "out.txt").string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Row {
  std::string kind;
  double t = 0, total = 0, app = 0, ui = 0, render = 0, steps = 0, vertices = 0;
  double model_holds = 0;  // model steps that waited for this frame's render (App::frame_gate)
};

std::vector<Row> read_frame_log(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line.rfind("# t0_monotonic_s ", 0) == 0);
  REQUIRE(std::getline(in, line));
  CHECK(line.rfind("frame\tt_ms\ttotal_ms\tkind\tapp_ms\tui_ms\trender_ms\tacquire_ms\tfence_ms\trecord_ms\tsubmit_ms\tpresent_ms"
                   "\tvertices",
                   0) == 0);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    Row r;
    double frame, acquire, fence, record, submit, present, indices, lists, tokens, poll, stop;
    s >> frame >> r.t >> r.total >> r.kind >> r.app >> r.ui >> r.render >> acquire >> fence >> record >> submit >> present >>
        r.vertices >> indices >> lists >> tokens >> poll >> r.model_holds >> stop;
    REQUIRE(s);
    CHECK(frame == static_cast<double>(rows.size()));
    r.steps = acquire + fence + record + submit + present;
    rows.push_back(r);
  }
  return rows;
}

double median(std::vector<double> v) {
  REQUIRE(!v.empty());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int policy_of(pid_t tid) { return sched_getscheduler(tid); }

// Runs the script `lines` after "new-project DIR/p.wbstory <tiny model>" under
// Xvfb with `args`, `env` and a frame log (DIR/<tag>.tsv); returns its rows.
std::vector<Row> run_with_frame_log(const fs::path& dir, const std::string& lines, const std::string& args = "",
                                    const std::string& env = "", const std::string& tag = "frames") {
  std::ofstream(dir / "s.txt") << "new-project " << (dir / "p.wbstory").string() << " " << wb::test::fixture(kTiny)
                               << "\n" << lines;
  const fs::path log = dir / (tag + ".tsv");
  REQUIRE(run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " " + args + " --frame-log " +
                           quote(log.string()),
                  env) == 0);
  return read_frame_log(log);
}

}  // namespace

TEST_CASE("frame log: one row per frame, its phases and render steps add up", "[gui]") {
  auto dir = wb::test::temp_dir("gui-frame-log");
  auto rows =
      run_with_frame_log(dir, "type Once upon a time\nframes 5\ncontinue 300\nwait-generation\nframes 5\n");
  REQUIRE(rows.size() >= 10);
  int gen = 0, idle = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    INFO("frame " << i);
    gen += r.kind == "gen";
    idle += r.kind == "idle";
    CHECK(r.app + r.ui + r.render <= r.total + 0.05);
    CHECK(r.steps <= r.render + 0.05);  // the render steps are parts of the render phase
    CHECK(r.vertices > 0);             // every frame drew the panes
    if (i > 0) CHECK(r.t >= rows[i - 1].t + rows[i - 1].total - 0.05);  // in order, not overlapping
  }
  CHECK(gen >= 1);
  CHECK(idle >= 5);
}

TEST_CASE("frames are paced while the model generates (WB_GENERATING_FPS)", "[gui]") {
  auto dir = wb::test::temp_dir("gui-frame-pace");
  auto rows =
      run_with_frame_log(dir, "type Once upon a time\ncontinue 1500\nwait-generation\n", "", "WB_GENERATING_FPS=8");
  std::vector<double> gaps;
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (rows[i].kind == "gen" && rows[i - 1].kind == "gen") gaps.push_back(rows[i].t - rows[i - 1].t);
  INFO("frame starts while generating, apart (ms): median of " << gaps.size());
  REQUIRE(gaps.size() >= 2);
  // 8 frames a second: 125 ms apart (the loop wakes early only for input, and
  // Xvfb sends none). Drawn as fast as it can, a frame here takes 10-40 ms.
  CHECK(median(gaps) >= 120.0);
}

TEST_CASE("with WB_FRAME_GATE=1 on a CPU renderer the model waits while a frame renders, by default it does not", "[gui]") {
  auto dir = wb::test::temp_dir("gui-frame-gate");
  auto holds_while_generating = [&](const std::string& env, const std::string& tag) {
    fs::remove(dir / "p.wbstory");
    const fs::path stats = dir / (tag + ".stats");
    auto rows = run_with_frame_log(dir, "type Once upon a time\ncontinue 3000\nwait-generation\n",
                                   "--frame-stats " + quote(stats.string()), env, tag);
    std::ifstream in(stats);
    std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(report);
    // Xvfb gives no GPU: the device is lavapipe, a CPU renderer.
    REQUIRE(report.find("llvmpipe") != std::string::npos);
    int gen = 0;
    double holds = 0;
    for (const Row& r : rows) {
      if (r.kind != "gen") continue;
      ++gen;
      holds += r.model_holds;
    }
    REQUIRE(gen >= 3);
    return holds;
  };
  CHECK(holds_while_generating("WB_FRAME_GATE=1", "gated") >= 1);
  CHECK(holds_while_generating("", "ungated") == 0);
}

TEST_CASE("the tiled panes look as they did with their own backgrounds", "[gui]") {
  auto dir = wb::test::temp_dir("gui-pane-bg");
  const std::string model = wb::test::fixture(kTiny);
  std::ofstream(dir / "s.txt") << "new-project " << (dir / "p.wbstory").string() << " " << model << "\nframes 3\n";
  REQUIRE(run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --size 1000x700 --screenshot " +
                           quote((dir / "s.png").string())) == 0);
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&img, (dir / "s.png").c_str()) != 0);
  img.format = PNG_FORMAT_RGBA;
  std::vector<unsigned char> px(PNG_IMAGE_SIZE(img));
  REQUIRE(png_image_finish_read(&img, nullptr, px.data(), 0, nullptr) != 0);
  // An empty spot low in the story-tree pane (left quarter): ImGui's dark
  // window background (0.06 grey at 94%) over the old backdrop (0.10, 0.10,
  // 0.12) gave 16,16,16; the clear colour now gives the same within rounding.
  const std::size_t at = (std::size_t(600) * img.width + 100) * 4;
  INFO("pixel " << int(px[at]) << "," << int(px[at + 1]) << "," << int(px[at + 2]));
  for (int c = 0; c < 3; ++c) {
    CHECK(px[at + c] >= 14);
    CHECK(px[at + c] <= 17);
  }
}

TEST_CASE("the tiled panes draw no backgrounds of their own: fewer vertices than with WB_PANE_BACKGROUNDS=1", "[gui]") {
  auto dir = wb::test::temp_dir("gui-pane-vertices");
  auto last_vertices = [&](const std::string& env, const std::string& tag) {
    auto rows = run_with_frame_log(dir, "frames 8\n", "--size 1000x700", env, tag);
    fs::remove(dir / "p.wbstory");
    REQUIRE(rows.size() >= 5);
    return rows.back().vertices;  // settled: the panes tiled for several frames
  };
  const double with_bg = last_vertices("WB_PANE_BACKGROUNDS=1", "bg");
  const double without = last_vertices("", "nobg");
  INFO("vertices with backgrounds " << with_bg << ", without " << without);
  // Four panes, a filled rectangle each (4 vertices at least); the text is the same.
  CHECK(without <= with_bg - 16);
}

TEST_CASE("render boost: threads lowered below this one step aside while a frame renders, then return", "[gui]") {
  std::atomic<pid_t> low_tid{0}, same_tid{0};
  std::atomic<bool> stop{false};
  std::thread low([&] {
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    REQUIRE(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(19, now + 5)) == 0);
    low_tid = gettid();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  std::thread same([&] {
    same_tid = gettid();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (low_tid == 0 || same_tid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  errno = 0;
  const int low_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(low_tid.load()));

  wb::app::RenderBoost boost;
  boost.refresh();
  // Only the lowered thread (this process may run others at its own priority).
  CHECK(boost.threads() >= 1);
  boost.begin();
  CHECK(policy_of(low_tid) == SCHED_IDLE);
  CHECK(policy_of(same_tid) == SCHED_OTHER);
  boost.end();
  CHECK(policy_of(low_tid) == SCHED_OTHER);
  CHECK(getpriority(PRIO_PROCESS, static_cast<id_t>(low_tid.load())) == low_nice);

  boost.enabled = false;  // WB_RENDER_BOOST=0
  boost.begin();
  CHECK(policy_of(low_tid) == SCHED_OTHER);
  boost.end();

  stop = true;
  low.join();
  same.join();
}

TEST_CASE("short time slices: every normal thread of the process asks for them, model work resets its own", "[gui]") {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> reset_rc{-2};
  std::thread t([&] {
    tid = gettid();
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    reset_rc = wb::app::reset_this_thread_slice();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (tid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  errno = 0;
  const int nice_before = getpriority(PRIO_PROCESS, static_cast<id_t>(tid.load()));
  const int n = wb::app::shorten_time_slices(300);
  // Slices are a Linux 6.12+ setting; older kernels take none (the app then runs as before).
  if (n == 0) {
    WARN("this kernel has no per-thread time slices (sched_attr.sched_runtime for SCHED_OTHER)");
  } else {
    CHECK(n >= 2);  // this thread and `t`, at least
    struct Attr {
      uint32_t size, policy;
      uint64_t flags;
      int32_t nice;
      uint32_t prio;
      uint64_t runtime, deadline, period;
      uint32_t umin, umax;
    } a{};
    REQUIRE(syscall(SYS_sched_getattr, tid.load(), &a, sizeof a, 0) == 0);
    CHECK(a.runtime == 300000);
    CHECK(a.policy == SCHED_OTHER);
    CHECK(getpriority(PRIO_PROCESS, static_cast<id_t>(tid.load())) == nice_before);  // nice kept
    go = true;
    while (reset_rc == -2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(reset_rc == 0);
    Attr b{};
    REQUIRE(syscall(SYS_sched_getattr, tid.load(), &b, sizeof b, 0) == 0);
    CHECK(b.runtime != 300000);  // the kernel's default again
    // Out of range: nothing changes.
    CHECK(wb::app::shorten_time_slices(5) == 0);
  }
  // This (test) thread back to the default, as it was.
  CHECK(wb::app::reset_this_thread_slice() == 0);
  go = true;
  stop = true;
  t.join();
}
