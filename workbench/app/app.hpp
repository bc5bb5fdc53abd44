// The workbench's application state and the actions the views and the
// script runner share. Views only read this and call actions; every model or
// tree operation goes through core (Story, GenerationSession, PluginHost).
//
//   wb::app::App app(log_lines_sink);
//   app.load_settings();
//   app.open_project("novel.wbstory");              // errors land in app.error (a modal);
//   while (app.loading()) { app.poll(); draw(app); } // its model loads on a worker thread
//   app.continue_generation(64, 1);                  // on a worker thread
//   while (app.generating()) { app.poll(); draw(app); }
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <filesystem>
#include <vector>

#include "core/model/load.hpp"
#include "core/session/story.hpp"
#include "core/util/step_gate.hpp"
#include "core/util/log.hpp"
#include "host/plugin_host.hpp"

namespace wb::app {

using tree::NodeId;

struct LogLine {
  LogLevel level;
  std::string text;
};

struct Settings {
  std::vector<std::string> recent_projects;
  std::vector<std::string> recent_models;
  std::string preset = "default";
  std::string backend = "auto";  // a GPU when there is one, else the CPU backend (LoadOptions)
  int threads = 0;
  int length = 64;
  int alternatives = 1;
  float font_size = 17.0f;
  bool shade_probability = false;  // editor: model tokens tinted red where the model found them unlikely
  std::string browse_dir;
};

struct GenProgress {
  NodeId from = tree::kNoNode;
  int alternatives = 1;
  int max_tokens = 0;
  int tokens = 0;          // all alternatives together
  double tokens_per_s = 0;
  std::size_t read = 0, to_read = 0;  // the story's text read before generating (a deferred switch)
  std::vector<std::string> preview;  // text so far, per alternative
  std::chrono::steady_clock::time_point started;
};

// The host's pan and zoom of a plugin canvas (WB_UI_CANVAS_HOST_VIEW): the
// visible part starts at canvas point (x, y) and is 1/zoom of the canvas.
struct CanvasView {
  float zoom = 1, x = 0, y = 0;
};

// A model file being opened on a worker thread; `then` finishes the action
// that asked for it (open model, open/new project) on the UI thread.
struct ModelLoad {
  std::string path, fail_title;
  std::uintmax_t bytes = 0;
  std::chrono::steady_clock::time_point started;
  std::future<Result<std::unique_ptr<Model>>> result;
  std::function<void(std::unique_ptr<Model>)> then;
};

class App {
 public:
  App();
  ~App();

  Log log;
  std::deque<LogLine> log_lines;  // shown in the log view (newest last)
  std::mutex log_mu;

  Settings settings;
  std::string settings_path;  // $XDG_CONFIG_HOME/rwkv-workbench/workbench.json
  void load_settings();
  void save_settings();

  // ---- model and project ----
  // Closed by the frame loop while a frame renders on a CPU renderer, so the
  // model pauses between its steps instead of taking the rasteriser's CPUs
  // (core/util/step_gate.hpp; README "Frame time while generating"). Declared
  // before `model`, which holds a pointer to it.
  StepGate frame_gate;
  bool gate_model_for_frames = false;  // set before a model is opened
  std::unique_ptr<Model> model;
  std::unique_ptr<session::Story> story;
  std::unique_ptr<host::PluginHost> plugins;
  std::string model_path;
  // How the model decodes on a Vulkan device, read once when it is installed
  // (decode_variant() waits for a running decode step, so no frame asks it):
  // "persistent (measured at load: chain 0.770 ms, persistent 0.310 ms)". Empty on the CPU backend.
  std::string model_decode_facts;

  // Model files load on a worker thread (the UI keeps drawing; see loading());
  // these return false when refused at once, and call `after` once the action
  // has succeeded. Failures become the error modal; the open project stays.
  bool open_model(const std::string& path, std::function<void()> after = {});  // keeps the current model on failure
  bool new_project(const std::string& path, const std::string& model_file, const std::string& tokenizer,
                   std::function<void()> after = {});
  bool open_project(const std::string& path, std::function<void()> after = {});
  bool loading() const { return load_ != nullptr; }
  const ModelLoad* model_load() const { return load_.get(); }
  void wait_load();  // blocks (scripts, shutdown)
  bool save_project_as(const std::string& path);
  void close_project();
  void start_plugins();

  // ---- tree (refreshed after every change) ----
  tree::Tree tree;        // a copy of the story's tree
  uint64_t tree_version = 0;  // grows with every copy: views cache what they derive from `tree`
  NodeId selected = tree::kNoNode;
  NodeId current() const { return story ? story->current() : tree::kNoNode; }
  void refresh();
  void refresh_if_changed();  // copies the tree only if the story changed (plugins edit it too)
  // Switches that would read more tokens than switch_replay_limit() run later,
  // on the generation's worker: the limit is what this model reads in 20 ms, so
  // a switch fits one frame (measured on earlier switches and reads; 32-16,384
  // tokens), 0 until measured.
  std::size_t switch_replay_limit() const;
  double replay_tokens_per_s = 0;  // the model's reading speed seen in switches and reads (0: not yet)
  void note_reading_speed(std::size_t tokens, double seconds);
  bool select(NodeId id);         // selects and makes current (restores its state); copies the tree
  bool select_changed(NodeId id); // select after a change to the story: the tree is copied either way
  bool append_user_text(const std::string& text);  // as a child of the current node
  bool fork(const std::string& text);              // a sibling of the current node
  bool remove_node(NodeId id);
  bool undo();
  bool redo();
  bool set_label(NodeId id, const std::string& label);
  bool toggle_bookmark(NodeId id);
  bool edit_path_text(const std::string& new_text);  // non-destructive edit of the active path
  void navigate(int dx, int dy);
  // Replaces generated token `index` of node `id` (and what followed it) by
  // `token`, as a new branch that becomes current; then continues from it.
  bool branch_at_token(NodeId id, std::size_t index, int32_t token);  // dy: -1 parent, +1 first child; dx: previous/next sibling

  // ---- generation ----
  session::GenerateOptions gen_opts;
  std::vector<std::string> preset_names;
  void load_presets();
  std::vector<std::filesystem::path> preset_dirs() const;
  bool apply_preset(const std::string& name);
  bool continue_generation(int tokens, int alternatives);  // from the current node
  bool generating() const { return gen != nullptr; }
  void cancel_generation();
  void poll();             // events from the worker; accepts the result when done; finishes a model load
  void wait_generation();  // blocks (scripts, shutdown)
  GenProgress progress;
  double last_tokens_per_s = 0;
  std::unique_ptr<session::GenerationSession> gen;

  // ---- UI state ----
  std::string input;           // what the user typed below the story
  std::string error_title, error;  // non-empty: the error modal is open
  void fail(const std::string& title, const std::string& message);
  bool show_tree = true, show_generation = true, show_log = true, show_model = false, show_plugins = false;
  bool show_new_project = false, show_open_project = false, show_save_as = false;
  bool first_run = false;      // no project: the welcome window
  std::string first_run_note;  // why (no default model, ...)
  bool relayout = true;        // place the main panes again (first frame, window resized)
  // The main panes sit where the layout put them (last frame): they then tile
  // the window without overlapping, so they skip drawing their backgrounds
  // (the renderer clears to the same colour) and stay below floating windows.
  // See place_window. `panes_tiled_next` collects this frame's answer.
  bool panes_tiled = false, panes_tiled_next = true;
  bool echo_log = false;       // also print log lines to stderr (scripted runs)
  std::set<std::string> open_panels;  // plugin panels shown, as "plugin/panel"
  std::string focus_panel;            // "plugin/panel" to bring to front next frame
  std::map<std::string, CanvasView> canvas_views;  // "plugin/panel/canvas"
  // The story pane showed the end of the text at the last frame (set by the
  // editor; --tree-json reports it, for tests of following a generation).
  bool editor_shows_end = false;
  std::string backend_name() const;

 private:
  std::unique_ptr<ModelLoad> load_;
  uint64_t story_revision_ = 0;
  bool busy(const char* title);  // a generation or a model load in flight: says so and returns true
  bool start_load(const std::string& path, const std::string& fail_title, std::function<void(std::unique_ptr<Model>)> then);
  void poll_load();
  bool finish_open_model(const std::string& path, std::unique_ptr<Model> m);
  bool finish_new_project(const std::string& path, std::unique_ptr<Model> m, const std::string& mpath,
                          const std::string& tokenizer);
  bool finish_open_project(const std::string& path, std::unique_ptr<project::Project> project, std::unique_ptr<Model> m,
                           const std::string& mpath);
  void attach_story(std::unique_ptr<session::Story> s, std::unique_ptr<Model> m, const std::string& mpath);
  void install_model(std::unique_ptr<Model> m, const std::string& path);  // becomes `model`, behind frame_gate
  void remember(std::vector<std::string>& list, const std::string& item);
};

// Default sample-project locations (first run).
std::string data_dir();    // $XDG_DATA_HOME/rwkv-workbench
std::string config_dir();  // $XDG_CONFIG_HOME/rwkv-workbench
// The shipped default model and its tokenizer, or empty strings.
std::pair<std::string, std::string> default_model();

}  // namespace wb::app
