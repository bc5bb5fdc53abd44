// workbench: the ImGui + GLFW + Vulkan application.
//
//   workbench                                  first run: the sample project (or "open a model")
//   workbench --project novel.wbstory [--model m.pth] [--tokenizer vocab]
//   workbench --script demo.txt --screenshot out.png [--tree-json tree.json] [--measure-frames]
//
// With no display it says so in one line and exits 1.
#include <imgui.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/fonts.hpp"
#include "app/frame_stats.hpp"
#include "app/render_boost.hpp"
#include "app/renderer.hpp"
#include "app/script.hpp"
#include "app/views.hpp"
#include "core/tree/tree_json.hpp"

namespace fs = std::filesystem;
using namespace wb;
using namespace wb::app;

namespace {

struct Args {
  std::string script, screenshot, project, model, tokenizer, tree_json, frame_stats, frame_log;
  bool print_tree = false, measure_frames = false, verbose = false, offscreen = false;
  int width = 1280, height = 800;
};

const char* kUsage =
    "usage: workbench [--project FILE] [--model FILE] [--tokenizer SPEC]\n"
    "                 [--script FILE] [--screenshot OUT.png] [--tree-json OUT.json] [--print-tree]\n"
    "                 [--measure-frames] [--frame-stats OUT.txt] [--size WxH] [--offscreen] [--verbose]\n"
    "  --script FILE      replay UI actions (one per line, see app/script.hpp), then exit\n"
    "  --screenshot PNG   after the script, save the whole window as PNG\n"
    "  --tree-json FILE   after the script, write the story tree (and current node) as JSON\n"
    "  --print-tree       the same JSON on stdout\n"
    "  --measure-frames   print frame times (median, p95, max; while generating and not) as key value lines\n"
    "  --frame-stats FILE write the same lines to FILE\n"
    "  --frame-log FILE   one line per frame (time, phases, render steps, vertices, tokens) to FILE\n"
    "  --offscreen        draw frames into images of our own, show nothing (no swapchain: GPU machines\n"
    "                     without a display; the window still needs an X display, e.g. Xvfb)\n";

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (s == "--script") ok = value(a.script);
    else if (s == "--screenshot") ok = value(a.screenshot);
    else if (s == "--project") ok = value(a.project);
    else if (s == "--model") ok = value(a.model);
    else if (s == "--tokenizer") ok = value(a.tokenizer);
    else if (s == "--tree-json") ok = value(a.tree_json);
    else if (s == "--frame-stats") ok = value(a.frame_stats);
    else if (s == "--frame-log") ok = value(a.frame_log);
    else if (s == "--print-tree") a.print_tree = true;
    else if (s == "--measure-frames") a.measure_frames = true;
    else if (s == "--verbose") a.verbose = true;
    else if (s == "--offscreen") a.offscreen = true;
    else if (s == "--size") {
      std::string v;
      ok = value(v) && std::sscanf(v.c_str(), "%dx%d", &a.width, &a.height) == 2 && a.width >= 200 && a.height >= 150 &&
           a.width <= 8192 && a.height <= 8192;
    } else if (s == "--help" || s == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "workbench: unknown option '%s'\n%s", s.c_str(), kUsage);
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "workbench: option %s needs a (valid) value\n%s", s.c_str(), kUsage);
      return std::nullopt;
    }
  }
  return a;
}

std::string tree_state_json(const App& app) {
  nlohmann::json j;
  j["open_panels"] = app.open_panels;
  j["canvas_views"] = nlohmann::json::object();
  for (const auto& [key, v] : app.canvas_views) j["canvas_views"][key] = {{"zoom", v.zoom}, {"x", v.x}, {"y", v.y}};
  if (!app.story) {
    j["project"] = nullptr;
    j["first_run"] = app.first_run;
    j["error"] = app.error;
    return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  j["project"] = app.story->project().path();
  j["current"] = app.current();
  j["selected"] = app.selected;
  // Model text can be any bytes (byte-level models), so the path is given in hex.
  std::string text = app.tree.path_text(app.current()), hex;
  for (unsigned char c : text) hex += fmt::format("{:02x}", c);
  j["current_text_hex"] = hex;
  j["model"] = app.model_path;
  j["error"] = app.error;
  j["first_run"] = app.first_run;
  j["editor_shows_end"] = app.editor_shows_end;
  j["tree"] = nlohmann::json::parse(tree::to_json(app.tree), nullptr, false);
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The frame-rate cap while generating: 30 on a CPU renderer (each frame
// costs ~10-20 ms of CPU there), 60 on a GPU. WB_GENERATING_FPS (5..240)
// overrides it, for measuring.
double frames_per_second_while_generating(bool cpu_renderer) {
  const char* v = std::getenv("WB_GENERATING_FPS");
  if (v && *v) return std::clamp(std::atof(v), 5.0, 240.0);
  return cpu_renderer ? 30.0 : 60.0;
}

// First run: the sample project on the shipped default model, or the
// "open a model" state when the model has not been shipped yet.
void first_run(App& app) {
  auto [model, tokenizer] = default_model();
  if (model.empty()) {
    app.first_run = true;
    app.first_run_note = "No default model yet: open a model file (Model > Open model...), then create a project.";
    app.log.info("no default model yet (assets/models/prose-rwkv7.pth not found); open a model to start");
    return;
  }
  std::string sample = data_dir() + "/sample.wbstory";
  // The model loads on a worker; until then (or if it fails) the welcome window shows.
  app.first_run = true;
  std::error_code ec;
  if (fs::exists(sample, ec)) {
    app.open_project(sample);
  } else {
    app.new_project(sample, model, tokenizer, [&app] {
      app.append_user_text("The lighthouse keeper had not spoken to anyone in three weeks when the letter arrived.");
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) return 2;
  const char* x11 = std::getenv("DISPLAY");
  const char* wl = std::getenv("WAYLAND_DISPLAY");
  if ((x11 == nullptr || *x11 == '\0') && (wl == nullptr || *wl == '\0')) {
    std::fprintf(stderr, "workbench: no display found (DISPLAY and WAYLAND_DISPLAY are unset); "
                         "use the command-line tool `wb` instead\n");
    return 1;
  }
  std::optional<Script> script;
  if (!args->script.empty()) {
    auto s = Script::load(args->script);
    if (!s) {
      std::fprintf(stderr, "workbench: %s\n", s.error().message.c_str());
      return 2;
    }
    script = std::move(*s);
  }

  App app;
  app.echo_log = script.has_value() || args->verbose;
  if (args->verbose) app.log.set_level(LogLevel::debug);
  app.load_settings();
  RendererOptions ro;
  ro.width = args->width;
  ro.height = args->height;
  ro.offscreen = args->offscreen;
  auto renderer = Renderer::create(ro, app.log, [&] { setup_fonts(app.settings.font_size, app.log); });
  if (!renderer) {
    std::fprintf(stderr, "workbench: cannot open the window: %s\n", renderer.error().message.c_str());
    return 1;
  }
  Renderer& r = **renderer;
  // Short time slices for the UI thread and Mesa's threads (render_boost.hpp),
  // only when asked (WB_RENDER_SLICE_US=100..100000): meant to let a waking
  // rasteriser thread take its CPU from a model thread at once, but on the
  // shared build machine neither frame times nor the rasteriser threads'
  // waits changed beyond the noise (README, "Frame time while generating").
  if (const char* v = std::getenv("WB_RENDER_SLICE_US"); v && *v) {
    const int slice_us = std::atoi(v);
    const int n = shorten_time_slices(slice_us);
    app.log.debug("{} threads run with {} us time slices", n, slice_us);
  }
  // WB_FRAME_GATE=1: on a CPU renderer the model pauses between its steps
  // while a frame renders (App::frame_gate). Off by default: on the 2-vCPU
  // build machine it lowered the median frame while generating by 2-3 ms but
  // not the frames over 50 ms (three batches, 3,523 frames against 2,610),
  // and cost 20-25% of the generation speed (workbench/app/README.md).
  {
    const char* v = std::getenv("WB_FRAME_GATE");
    app.gate_model_for_frames = r.cpu_device() && v && *v == '1';
  }
  app.start_plugins();

  auto open_project_arg = [&app, &args] {
    std::error_code ec;
    if (fs::exists(args->project, ec)) app.open_project(args->project);
    else app.new_project(args->project, "", args->tokenizer);
  };
  if (!args->model.empty()) {
    app.first_run = true;
    app.first_run_note = "Model loaded: create a project (Project > New project...) or open one.";
    // The project (if any) opens once the model has loaded.
    if (!args->project.empty()) app.open_model(args->model, open_project_arg);
    else app.open_model(args->model);
  } else if (!args->project.empty()) {
    open_project_arg();
  } else {
    first_run(app);  // an empty script shows exactly what a first start shows
  }

  FrameStats stats;
  // Off unless WB_RENDER_BOOST=1 (and then only on a CPU renderer): on the
  // shared build machine it showed no consistent frame-time gain, and by
  // design it hands the model's CPU to any other program during every frame
  // (workbench/app/README.md, "Frame time while generating").
  RenderBoost boost;
  boost.enabled = false;
  if (const char* v = std::getenv("WB_RENDER_BOOST"); v && *v == '1') boost.enabled = r.cpu_device();
  auto last_boost_refresh = std::chrono::steady_clock::now() - std::chrono::hours(1);
  r.measure_fill(!args->frame_log.empty());
  if (!args->frame_log.empty())
    stats.enable_log({"acquire_ms", "fence_ms", "record_ms", "submit_ms", "present_ms", "vertices", "indices",
                      "draw_lists", "tokens", "poll_wait_ms", "model_holds", "model_stop_ms", "fill_kpx", "damage_kpx",
                      "drawn_kpx"});
  int settle = 3;  // frames drawn after the script so auto-sized windows settle
  int script_errors = 0;
  int last_w = 0, last_h = 0;
  auto last_refresh = std::chrono::steady_clock::now();
  auto last_frame_start = last_refresh;
  const double generating_fps = frames_per_second_while_generating(r.cpu_device());
  while (!r.should_close()) {
    // Waiting for input is not part of a frame's time.
    const auto poll_t0 = std::chrono::steady_clock::now();
    double wait_s = 0;
    if (!script && !app.generating() && !app.loading()) {
      wait_s = 0.1;
    } else if (app.generating()) {
      // While the model writes, frames come at most `generating_fps` times a
      // second (any input event still wakes the loop at once): text arriving
      // faster gains nothing, and each frame rasterised on a CPU renderer takes
      // CPU time from the model.
      const double since = std::chrono::duration<double>(poll_t0 - last_frame_start).count();
      wait_s = std::max(0.0, 1.0 / generating_fps - since);
    }
    r.poll_events(wait_s);
    const double poll_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - poll_t0).count();
    last_frame_start = std::chrono::steady_clock::now();
    stats.begin_frame();
    const bool gen_before = app.generating(), load_before = app.loading();
    app.poll();
    if (app.plugins) {
      app.plugins->ui_tick();  // plugins poll their own running work (wb_plugin_ui.on_frame)
      // Plugins change the tree through wb.tree/1; pick their changes up twice
      // a second (a copy of the tree, so not every frame).
      auto now = std::chrono::steady_clock::now();
      if (now - last_refresh > std::chrono::milliseconds(500) && !app.generating()) {
        app.refresh_if_changed();
        last_refresh = now;
      }
    }
    if (script && script->ready(app)) {
      if (auto st = script->step(app, r); !st) {
        std::fprintf(stderr, "workbench: %s\n", st.error().message.c_str());
        ++script_errors;
        break;
      }
    }
    stats.mark(FrameStats::Phase::app);
    r.begin_frame();
    if (r.width() != last_w || r.height() != last_h) {
      app.relayout = true;
      last_w = r.width();
      last_h = r.height();
    }
    app.panes_tiled = app.panes_tiled_next;  // decided by last frame's pane positions
    app.panes_tiled_next = true;
    handle_shortcuts(app);
    draw_main_menu(app);
    draw_editor(app);
    draw_tree(app);
    draw_generation(app);
    draw_log(app);
    draw_model_manager(app);
    draw_plugins(app);
    draw_project_dialogs(app);
    draw_first_run(app);
    draw_status_bar(app);
    draw_loading(app);
    draw_error_modal(app);
    app.relayout = false;
    const bool last = script && script->done() && !app.generating() && !app.loading() && --settle < 0;
    const std::string* shot = (last && !args->screenshot.empty()) ? &args->screenshot : nullptr;
    stats.mark(FrameStats::Phase::ui);
    // While the model generates, its threads step aside for the length of
    // the render (see render_boost.hpp); their list is re-read each second
    // (a generation's worker is new; plugins start their own).
    const bool boosting = boost.enabled && app.generating() && !shot;
    if (boosting) {
      const auto now = std::chrono::steady_clock::now();
      if (!gen_before || now - last_boost_refresh > std::chrono::seconds(1)) {
        boost.refresh();
        last_boost_refresh = now;
      }
      boost.begin();
    }
    // The model waits at its next step until the frame is on screen (a
    // no-op unless the model was opened behind the gate: CPU renderers).
    const uint64_t holds_before = app.frame_gate.holds();
    if (app.gate_model_for_frames) app.frame_gate.close();
    const Status end_st = r.end_frame(shot);
    if (app.gate_model_for_frames) app.frame_gate.open();
    boost.end();
    if (!end_st) {
      std::fprintf(stderr, "workbench: %s\n", end_st.error().message.c_str());
      return 1;
    }
    stats.mark(FrameStats::Phase::render);
    // A screenshot frame also reads the image back and writes a PNG: not a frame a person waits for.
    if (!shot) {
      stats.end_frame(gen_before && app.generating(), !gen_before && !app.generating(), load_before && app.loading());
      const auto& rt = r.last_timings();
      stats.log_frame({rt.acquire, rt.fence, rt.record, rt.submit, rt.present, double(rt.vertices), double(rt.indices),
                       double(rt.draw_lists), double(app.progress.tokens), poll_ms,
                       double(app.frame_gate.holds() - holds_before),
                       app.frame_gate.holds() != holds_before ? app.frame_gate.last_stop_ms() : 0.0,
                       rt.fill_px / 1000.0, rt.damage_px / 1000.0,
                       rt.drawn_px / 1000.0});
    }
    if (last) break;
  }
  app.wait_load();
  app.wait_generation();
  if (script && !args->screenshot.empty()) app.log.info("screenshot written to {}", args->screenshot);
  if (!args->tree_json.empty()) {
    std::ofstream out(args->tree_json, std::ios::trunc);
    out << tree_state_json(app) << "\n";
    if (!out) {
      std::fprintf(stderr, "workbench: cannot write %s\n", args->tree_json.c_str());
      return 1;
    }
  }
  if (args->print_tree) std::printf("%s\n", tree_state_json(app).c_str());
  if (args->measure_frames || !args->frame_stats.empty()) {
    std::string report = stats.report(r.device_name());
    if (args->measure_frames) std::fputs(report.c_str(), stdout);
    if (!args->frame_stats.empty()) {
      std::ofstream out(args->frame_stats, std::ios::trunc);
      out << report;
      if (!out) {
        std::fprintf(stderr, "workbench: cannot write %s\n", args->frame_stats.c_str());
        return 1;
      }
    }
  }
  if (!args->frame_log.empty()) {
    std::ofstream out(args->frame_log, std::ios::trunc);
    out << stats.log_table();
    if (!out) {
      std::fprintf(stderr, "workbench: cannot write %s\n", args->frame_log.c_str());
      return 1;
    }
  }
  app.save_settings();
  return script_errors ? 3 : 0;
}
