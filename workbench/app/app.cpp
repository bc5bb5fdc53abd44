// App actions: project and model handling, tree changes, generation. Errors
// are shown in plain words (App::fail) and leave the open project untouched:
// every "open" builds the new story fully before replacing the old one.
#include "app/app.hpp"
#include "core/model/default_model.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/sampling/sampler.hpp"
#include "core/session/codec.hpp"
#include "core/util/data_dirs.hpp"
#include "app/render_boost.hpp"
#include "host/story_service.hpp"

namespace fs = std::filesystem;

namespace wb::app {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

std::string home() { return env_or("HOME", "/tmp"); }

// Model work runs at a lower priority than the UI thread (Linux nice values
// are per thread and inherited by threads created later, so the model's
// thread pool, made while loading, and the generation worker both get it).
// On a busy machine the frames stay smooth and the generation slows down,
// rather than the other way round; on an idle one nothing changes. Not too
// low either: other programs' work would then starve the generation.
// WB_BACKGROUND_NICE (0..19) overrides the default, for measuring.
int background_nice() {
  const char* v = std::getenv("WB_BACKGROUND_NICE");
  if (v && *v) return std::clamp(std::atoi(v), 0, 19);
  return 5;
}

void lower_this_thread_priority() {
  // Model work takes the kernel's default time slice back (the UI thread
  // asks for short ones: see render_boost.hpp; threads inherit them).
  (void)reset_this_thread_slice();
  const int delta = background_nice();
  if (delta == 0) return;
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(19, now + delta));
}

}  // namespace

std::string data_dir() { return env_or("XDG_DATA_HOME", home() + "/.local/share") + "/rwkv-workbench"; }
std::string config_dir() { return env_or("XDG_CONFIG_HOME", home() + "/.config") + "/rwkv-workbench"; }

std::pair<std::string, std::string> default_model() {
  if (auto d = find_default_model()) return {d->model, d->tokenizer};
  return {};
}

App::App() {
  log.set_sink([this](LogLevel l, std::string_view m) {
    std::lock_guard<std::mutex> lk(log_mu);
    if (echo_log) std::fprintf(stderr, "[%s] %.*s\n", log_level_name(l), static_cast<int>(m.size()), m.data());
    log_lines.push_back({l, std::string(m)});
    if (log_lines.size() > 2000) log_lines.pop_front();
  });
  settings_path = config_dir() + "/workbench.json";
  load_presets();
}

App::~App() {
  if (load_ && load_->result.valid()) load_->result.wait();  // the worker must not outlive the log
  if (gen) gen->cancel();
  gen.reset();
  if (plugins) host::attach_story(plugins->services(), nullptr);
  plugins.reset();
  story.reset();
  model.reset();
}

void App::fail(const std::string& title, const std::string& message) {
  log.error("{}: {}", title, message);
  error_title = title;
  error = message;
}

// ---- settings ----------------------------------------------------------------

void App::load_settings() {
  std::ifstream in(settings_path);
  if (!in) return;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    log.warn("settings file {} is not valid JSON; using defaults", settings_path);
    return;
  }
  auto str_list = [&](const char* key, std::vector<std::string>& out) {
    if (!j.contains(key) || !j[key].is_array()) return;
    out.clear();
    for (auto& e : j[key])
      if (e.is_string() && out.size() < 20) out.push_back(e.get<std::string>());
  };
  str_list("recent_projects", settings.recent_projects);
  str_list("recent_models", settings.recent_models);
  if (j.value("preset", nlohmann::json()).is_string()) settings.preset = j["preset"].get<std::string>();
  if (j.value("backend", nlohmann::json()).is_string()) settings.backend = j["backend"].get<std::string>();
  if (j.value("browse_dir", nlohmann::json()).is_string()) settings.browse_dir = j["browse_dir"].get<std::string>();
  if (j.value("threads", nlohmann::json()).is_number_integer()) settings.threads = std::clamp(j["threads"].get<int>(), 0, 256);
  if (j.value("length", nlohmann::json()).is_number_integer()) settings.length = std::clamp(j["length"].get<int>(), 1, 4096);
  if (j.value("alternatives", nlohmann::json()).is_number_integer())
    settings.alternatives = std::clamp(j["alternatives"].get<int>(), 1, 16);
  if (j.value("shade_probability", nlohmann::json()).is_boolean()) settings.shade_probability = j["shade_probability"].get<bool>();
  if (j.value("font_size", nlohmann::json()).is_number()) settings.font_size = std::clamp(j["font_size"].get<float>(), 10.0f, 40.0f);
  apply_preset(settings.preset);
}

void App::save_settings() {
  nlohmann::json j = {{"recent_projects", settings.recent_projects},
                      {"recent_models", settings.recent_models},
                      {"preset", settings.preset},
                      {"backend", settings.backend},
                      {"threads", settings.threads},
                      {"length", settings.length},
                      {"alternatives", settings.alternatives},
                      {"font_size", settings.font_size},
                      {"shade_probability", settings.shade_probability},
                      {"browse_dir", settings.browse_dir}};
  std::error_code ec;
  fs::create_directories(fs::path(settings_path).parent_path(), ec);
  // Write then rename, so a crash never leaves half a settings file.
  const std::string tmp = settings_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      log.warn("cannot write settings {}", tmp);
      return;
    }
    out << j.dump(2) << "\n";
  }
  fs::rename(tmp, settings_path, ec);
  if (ec) log.warn("cannot save settings {}: {}", settings_path, ec.message());
}

void App::remember(std::vector<std::string>& list, const std::string& item) {
  std::error_code ec;
  auto abs = fs::absolute(item, ec);
  std::string s = ec ? item : abs.lexically_normal().string();
  list.erase(std::remove(list.begin(), list.end(), s), list.end());
  list.insert(list.begin(), s);
  if (list.size() > 10) list.resize(10);
  save_settings();
}

// ---- presets -------------------------------------------------------------------

// The user's presets first (they shadow shipped ones of the same name), then
// the shipped ones (source tree or installed data folder, core/util/data_dirs).
std::vector<fs::path> App::preset_dirs() const {
  std::vector<fs::path> dirs{fs::path(data_dir()) / "presets/sampling"};
  for (const fs::path& d : shared_data_dirs()) dirs.push_back(d / "presets/sampling");
  return dirs;
}

void App::load_presets() {
  preset_names.clear();
  std::error_code ec;
  for (const fs::path& dir : preset_dirs()) {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() != ".txt") continue;
      std::string name = it->path().stem().string();
      if (std::find(preset_names.begin(), preset_names.end(), name) == preset_names.end()) preset_names.push_back(name);
    }
    ec.clear();
  }
  std::sort(preset_names.begin(), preset_names.end());
}

bool App::apply_preset(const std::string& name) {
  for (const fs::path& dir : preset_dirs()) {
    fs::path p = dir / (name + ".txt");
    std::error_code ec;
    if (!fs::exists(p, ec)) continue;
    auto s = sampling::load_preset(p.string());
    if (!s) {
      fail("Preset not loaded", s.error().message);
      return false;
    }
    uint64_t seed = gen_opts.settings.seed;
    gen_opts.settings = *s;
    gen_opts.settings.seed = seed;
    settings.preset = name;
    return true;
  }
  log.warn("preset '{}' not found; keeping the current settings", name);
  return false;
}

// ---- model and project -----------------------------------------------------------

std::string App::backend_name() const { return model ? std::string(model->backend()) : std::string("-"); }

bool App::busy(const char* title) {
  if (generating()) {
    fail(title, "A generation is running; cancel it first.");
    return true;
  }
  if (loading()) {
    fail(title, fmt::format("A model is still loading ({}); wait for it.", load_->path));
    return true;
  }
  return false;
}

bool App::start_load(const std::string& path, const std::string& fail_title,
                     std::function<void(std::unique_ptr<Model>)> then) {
  LoadOptions opt;
  opt.backend = settings.backend;
  opt.threads = settings.threads;
  opt.log = &log;  // declared before `model`: outlives every model it loads
  auto l = std::make_unique<ModelLoad>();
  l->path = path;
  l->fail_title = fail_title;
  std::error_code ec;
  l->bytes = fs::file_size(path, ec);
  if (ec) l->bytes = 0;
  l->started = std::chrono::steady_clock::now();
  l->then = std::move(then);
  // Reading and checking a large model takes seconds: off the UI thread.
  // Tests make a small model load slowly, to see the UI keep drawing meanwhile.
  const char* delay = std::getenv("WB_TEST_MODEL_LOAD_DELAY_MS");
  const int delay_ms = delay ? std::clamp(std::atoi(delay), 0, 60000) : 0;
  l->result = std::async(std::launch::async, [path, opt, delay_ms]() {
    lower_this_thread_priority();
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    return load_model(path, opt);
  });
  log.info("loading model {} ({:.1f} MiB)", path, static_cast<double>(l->bytes) / 1048576.0);
  load_ = std::move(l);
  return true;
}

void App::poll_load() {
  if (!load_ || load_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  std::unique_ptr<ModelLoad> l = std::move(load_);  // loading() is false while `then` runs
  auto m = l->result.get();
  if (!m) {
    fail(l->fail_title, m.error().message);
    return;
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - l->started).count();
  log.info("model {} loaded in {:.0f} ms ({} backend, {} layers, vocabulary {})", l->path, ms, (*m)->backend(),
           (*m)->info().n_layer, (*m)->info().n_vocab);
  l->then(std::move(*m));
}

void App::wait_load() {
  while (load_) {
    load_->result.wait();
    poll_load();
  }
}

bool App::open_model(const std::string& path, std::function<void()> after) {
  if (busy("Model not opened")) return false;
  return start_load(path, "This file could not be opened as a model", [this, path, after](std::unique_ptr<Model> m) {
    if (finish_open_model(path, std::move(m)) && after) after();
  });
}

bool App::finish_open_model(const std::string& path, std::unique_ptr<Model> m) {
  if (story) {
    // Re-attach the open project to the new model; the project itself is not changed
    // unless that works.
    std::string ppath = story->project().path();
    auto project = project::Project::open(ppath);
    if (!project) {
      fail("Model not opened", project.error().message);
      return false;
    }
    auto tok = (*project)->meta("tokenizer");
    session::TextCodec codec = session::byte_codec();
    if (tok && *tok && !(*tok)->empty()) {
      auto c = session::load_codec(**tok);
      if (!c) {
        fail("The project's tokenizer is missing", c.error().message);
        return false;
      }
      codec = std::move(*c);
    } else if (auto implicit = session::implicit_codec_spec(m->info().n_vocab); implicit == "midi") {
      codec = *session::load_codec(implicit);  // music models need no tokenizer file
    } else if (m->info().n_vocab != 256) {
      fail("Model not opened",
           fmt::format("The model has {} tokens but the project names no tokenizer, so its text cannot be encoded.",
                       m->info().n_vocab));
      return false;
    }
    std::error_code ec;
    if (auto st = (*project)->set_meta("model", fs::absolute(path, ec).string()); !st) {
      fail("Model not opened", st.error().message);
      return false;
    }
    if (gen) gen.reset();
    if (plugins) host::attach_story(plugins->services(), nullptr);
    story.reset();
    auto s = session::Story::attach(std::move(*project), m.get(), std::move(codec), {});
    if (!s) {
      fail("Model not opened", s.error().message);
      return false;
    }
    attach_story(std::move(*s), std::move(m), path);
  } else {
    install_model(std::move(m), path);
  }
  remember(settings.recent_models, path);
  return true;
}

void App::install_model(std::unique_ptr<Model> m, const std::string& path) {
  if (m && gate_model_for_frames) m->set_step_gate(&frame_gate);
  model = std::move(m);
  model_path = path;
  replay_tokens_per_s = 0;  // another model reads at another speed
  model_decode_facts.clear();
  if (const vk::VulkanModel* vm = model ? vk::as_vulkan(*model) : nullptr) {
    model_decode_facts = vm->decode_variant();
    if (const vk::DecodeTuning* t = vm->decode_tuning())
      model_decode_facts += " (measured at load: " + vk::summarize(*t) + ")";
  }
}

void App::attach_story(std::unique_ptr<session::Story> s, std::unique_ptr<Model> m, const std::string& mpath) {
  if (plugins) host::attach_story(plugins->services(), nullptr);
  story = std::move(s);
  if (m) install_model(std::move(m), mpath);
  if (plugins) host::attach_story(plugins->services(), story.get());
  selected = story->current();
  first_run = false;
  refresh();
}

bool App::new_project(const std::string& path, const std::string& model_file, const std::string& tokenizer,
                      std::function<void()> after) {
  if (busy("Project not created")) return false;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    fail("Project not created", fmt::format("{} already exists; open it instead or pick another name.", path));
    return false;
  }
  // Check the model and tokenizer before creating anything on disk.
  if (model_file.empty()) {
    bool ok = finish_new_project(path, nullptr, model_path, tokenizer);
    if (ok && after) after();
    return ok;
  }
  return start_load(model_file, "This file could not be opened as a model",
                    [this, path, model_file, tokenizer, after](std::unique_ptr<Model> m) {
                      if (finish_new_project(path, std::move(m), model_file, tokenizer) && after) after();
                    });
}

bool App::finish_new_project(const std::string& path, std::unique_ptr<Model> m, const std::string& mpath,
                             const std::string& tokenizer) {
  std::error_code ec;
  if (fs::exists(path, ec)) {  // made while the model loaded
    fail("Project not created", fmt::format("{} already exists; open it instead or pick another name.", path));
    return false;
  }
  Model* use = m ? m.get() : model.get();
  session::TextCodec codec = session::byte_codec();
  if (!tokenizer.empty()) {
    auto c = session::load_codec(tokenizer);
    if (!c) {
      fail("The tokenizer could not be loaded", c.error().message);
      return false;
    }
    codec = std::move(*c);
  } else if (use && session::implicit_codec_spec(use->info().n_vocab) == "midi") {
    codec = *session::load_codec("midi");  // music models need no tokenizer file
  } else if (use && use->info().n_vocab != 256) {
    fail("Project not created", fmt::format("The model has {} tokens; choose its tokenizer file (the byte tokenizer "
                                            "only fits 256-token models).",
                                            use->info().n_vocab));
    return false;
  }
  fs::create_directories(fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path(), ec);
  auto project = project::Project::create(path);
  if (!project) {
    fail("Project not created", project.error().message);
    return false;
  }
  if (!mpath.empty()) (void)(*project)->set_meta("model", fs::absolute(mpath, ec).string());
  if (!tokenizer.empty() && tokenizer != "byte" && codec.name != "midi")
    (void)(*project)->set_meta("tokenizer", fs::absolute(tokenizer, ec).string());
  else if (codec.name == "midi")
    (void)(*project)->set_meta("tokenizer", "midi");
  (void)(*project)->set_meta("title", fs::path(path).stem().string());
  if (gen) gen.reset();
  if (plugins) host::attach_story(plugins->services(), nullptr);
  story.reset();
  auto s = session::Story::attach(std::move(*project), use, std::move(codec), {});
  if (!s) {
    fail("Project not created", s.error().message);
    return false;
  }
  attach_story(std::move(*s), std::move(m), mpath);
  log.info("created project {}", path);
  remember(settings.recent_projects, path);
  return true;
}

bool App::open_project(const std::string& path, std::function<void()> after) {
  if (busy("Project not opened")) return false;
  auto project = project::Project::open(path);
  if (!project) {
    fail("This project could not be opened", project.error().message);
    return false;
  }
  // The project's model (meta "model"), unless the open model is the same file.
  std::string mpath;
  auto remembered = (*project)->meta("model");
  if (remembered && *remembered && !(*remembered)->empty()) {
    mpath = **remembered;
    std::error_code ec;
    bool same = model && !model_path.empty() && fs::equivalent(mpath, model_path, ec);
    if (!same) {
      // std::function needs a copyable callable: the project travels in a shared_ptr.
      auto held = std::make_shared<std::unique_ptr<project::Project>>(std::move(*project));
      return start_load(mpath, "This project's model could not be opened",
                        [this, path, held, mpath, after](std::unique_ptr<Model> m) {
                          if (finish_open_project(path, std::move(*held), std::move(m), mpath) && after) after();
                        });
    }
  }
  bool ok = finish_open_project(path, std::move(*project), nullptr, mpath);
  if (ok && after) after();
  return ok;
}

bool App::finish_open_project(const std::string& path, std::unique_ptr<project::Project> project,
                              std::unique_ptr<Model> m, const std::string& mpath) {
  Model* use = m ? m.get() : model.get();
  session::TextCodec codec = session::byte_codec();
  auto tok = project->meta("tokenizer");
  if (tok && *tok && !(*tok)->empty()) {
    auto c = session::load_codec(**tok);
    if (!c) {
      fail("This project's tokenizer is missing", c.error().message);
      return false;
    }
    codec = std::move(*c);
  } else if (use && session::implicit_codec_spec(use->info().n_vocab) == "midi") {
    codec = *session::load_codec("midi");  // music models need no tokenizer file
  } else if (use && use->info().n_vocab != 256) {
    fail("This project could not be opened",
         fmt::format("Its model has {} tokens but the project names no tokenizer.", use->info().n_vocab));
    return false;
  }
  if (gen) gen.reset();
  if (plugins) host::attach_story(plugins->services(), nullptr);
  auto old = std::move(story);
  auto s = session::Story::attach(std::move(project), use, std::move(codec), {});
  if (!s) {
    story = std::move(old);
    if (plugins && story) host::attach_story(plugins->services(), story.get());
    fail("This project could not be opened", s.error().message);
    return false;
  }
  old.reset();
  attach_story(std::move(*s), std::move(m), mpath);
  log.info("opened project {} ({} nodes)", path, tree.size());
  remember(settings.recent_projects, path);
  return true;
}

bool App::save_project_as(const std::string& path) {
  if (!story) return false;
  if (busy("Project not saved")) return false;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    fail("Project not saved", fmt::format("{} already exists.", path));
    return false;
  }
  // Every change is already committed, so a copy of the file (with its WAL
  // checkpointed by the copy's reader) is the project as it is now.
  (void)story->store_snapshots();
  std::string from = story->project().path();
  std::string model_file = model_path;
  if (gen) gen.reset();
  if (plugins) host::attach_story(plugins->services(), nullptr);
  story.reset();  // closes the database so the WAL is folded in
  fs::copy_file(from, path, ec);
  if (ec) {
    fail("Project not saved", fmt::format("cannot copy {} to {}: {}", from, path, ec.message()));
    open_project(from);
    return false;
  }
  return open_project(path);
}

void App::close_project() {
  if (gen) gen.reset();
  if (plugins) host::attach_story(plugins->services(), nullptr);
  story.reset();
  tree = tree::Tree();
  ++tree_version;
  selected = tree::kNoNode;
}

void App::start_plugins() {
  plugins = std::make_unique<host::PluginHost>(host::PluginPaths::defaults(), log);
  plugins->scan();
  plugins->load_enabled();
  if (story) host::attach_story(plugins->services(), story.get());
}

// ---- tree --------------------------------------------------------------------------

void App::refresh() {
  if (!story) return;
  story_revision_ = story->revision();  // before the copy: a change during it is seen next time
  tree = story->tree_copy();
  ++tree_version;
  if (!tree.contains(selected)) selected = story->current();
}

std::size_t App::switch_replay_limit() const {
  // Until a read has been timed, nothing is read inside a frame: a model's first
  // computation also pays one-time costs (on an H100, creating the Vulkan
  // pipelines made the first 16-18 token switch take 191-553 ms of one frame).
  // After that, what fits in 20 ms, so the frame stays well under 50 ms.
  if (replay_tokens_per_s <= 0) return 0;
  return std::clamp(static_cast<std::size_t>(replay_tokens_per_s * 0.02), std::size_t{32}, std::size_t{16384});
}

void App::note_reading_speed(std::size_t tokens, double seconds) {
  if (tokens < 64 || seconds <= 0.001) return;  // too short to time
  const double rate = static_cast<double>(tokens) / seconds;
  replay_tokens_per_s = replay_tokens_per_s > 0 ? 0.7 * replay_tokens_per_s + 0.3 * rate : rate;
}

bool App::select_changed(NodeId id) {
  if (select(id)) return true;  // select copies the tree once it has switched
  refresh();
  return false;
}

void App::refresh_if_changed() {
  if (story && story->revision() != story_revision_) refresh();
}

bool App::select(NodeId id) {
  if (!story) {
    fail("No such node", fmt::format("node {} is not in this story", id));
    return false;
  }
  if (generating()) {
    fail("Node not selected", "A generation is running; wait for it or cancel it first.");
    return false;
  }
  // A switch that would read many tokens is deferred: the node becomes current
  // at once and the next generation reads them on its worker, while the window
  // keeps drawing (pasting a 22,431-token chapter froze it for 7.5 s with the
  // prose model). The story itself says whether the node exists, so callers that
  // just changed the tree need not copy it first: the one copy is taken below.
  const std::size_t replay = story->replay_estimate(id);
  auto r = story->switch_to(id, /*compute=*/replay <= switch_replay_limit());
  if (!r) {
    fail(r.error().code == Errc::out_of_range ? "No such node" : "Could not switch to this node", r.error().message);
    return false;
  }
  selected = id;
  if (r->deferred && switch_replay_limit() == 0)
    log.info("switched to node {}: its {} tokens are read when you continue (on the worker; the model's reading "
             "speed is not known yet)",
             id, replay);
  else if (r->deferred)
    log.info("switched to node {}: its {} tokens are read when you continue (on the worker; switches read up to {} at once)",
             id, replay, switch_replay_limit());
  else if (r->recomputed_tokens)
    log.info("switched to node {}: {} tokens recomputed in {:.1f} ms", id, r->recomputed_tokens, r->ms);
  if (!r->deferred) note_reading_speed(r->recomputed_tokens, r->ms / 1000.0);
  refresh();
  return true;
}

bool App::append_user_text(const std::string& text) {
  if (!story || text.empty()) return false;
  auto id = story->append(story->current(), text, "user");
  if (!id) {
    fail("Text not added", id.error().message);
    return false;
  }
  return select_changed(*id);
}

bool App::fork(const std::string& text) {
  if (!story) return false;
  NodeId cur = story->current();
  const tree::Node* n = tree.find(cur);
  if (!n || n->parent == tree::kNoNode) {
    fail("Cannot fork", "The root has no parent to branch from; select a node first.");
    return false;
  }
  if (text.empty()) {
    fail("Cannot fork", "Type the text of the new branch first.");
    return false;
  }
  auto id = story->append(n->parent, text, "user");
  if (!id) {
    fail("Branch not created", id.error().message);
    return false;
  }
  return select_changed(*id);
}

bool App::remove_node(NodeId id) {
  if (!story) return false;
  if (generating()) {
    fail("Node not deleted", "A generation is running; wait for it or cancel it first.");
    return false;
  }
  const tree::Node* n = tree.find(id);
  if (!n || n->parent == tree::kNoNode) {
    fail("Node not deleted", "The root cannot be deleted.");
    return false;
  }
  NodeId parent = n->parent;
  auto path = tree.path_to_root(story->current());
  bool current_inside = std::find(path.begin(), path.end(), id) != path.end();
  if (auto st = story->remove(id); !st) {
    fail("Node not deleted", st.error().message);
    return false;
  }
  log.info("deleted node {} and its subtree (Ctrl+Z brings it back)", id);
  if (current_inside) return select_changed(parent);
  refresh();
  return true;
}

bool App::undo() {
  if (!story || generating()) return false;
  if (auto st = story->undo(); !st) {
    log.info("nothing to undo ({})", st.error().message);
    return false;
  }
  refresh();
  if (!tree.contains(story->current())) select(tree::kRootId);
  return true;
}

bool App::redo() {
  if (!story || generating()) return false;
  if (auto st = story->redo(); !st) {
    log.info("nothing to redo ({})", st.error().message);
    return false;
  }
  refresh();
  return true;
}

bool App::set_label(NodeId id, const std::string& label) {
  if (!story) return false;
  if (auto st = story->set_label(id, label); !st) {
    fail("Label not set", st.error().message);
    return false;
  }
  refresh();
  return true;
}

bool App::toggle_bookmark(NodeId id) {
  if (!story) return false;
  const tree::Node* n = tree.find(id);
  if (!n) return false;
  if (auto st = story->set_bookmark(id, !n->bookmark); !st) {
    fail("Bookmark not set", st.error().message);
    return false;
  }
  refresh();
  return true;
}

bool App::edit_path_text(const std::string& new_text) {
  if (!story || generating()) return false;
  NodeId cur = story->current();
  std::string old = tree.path_text(cur);
  if (old == new_text) return true;
  std::size_t common = 0;
  while (common < old.size() && common < new_text.size() && old[common] == new_text[common]) ++common;
  if (common == old.size()) return append_user_text(new_text.substr(common));  // only added text at the end
  // Find the node on the path holding byte `common`; the edit branches there.
  std::size_t start = 0;
  for (NodeId id : tree.path_to_root(cur)) {
    const tree::Node* n = tree.find(id);
    if (common < start + n->text.size()) {
      auto r = story->edit(id, common - start, new_text.substr(common));
      if (!r) {
        fail("Edit not applied", r.error().message);
        return false;
      }
      return select_changed(*r);
    }
    start += n->text.size();
  }
  return false;
}

void App::navigate(int dx, int dy) {
  if (!story) return;
  const tree::Node* n = tree.find(selected ? selected : story->current());
  if (!n) return;
  NodeId target = tree::kNoNode;
  if (dy < 0) target = n->parent;
  else if (dy > 0 && !n->children.empty()) target = n->children.front();
  else if (dx != 0 && n->parent) {
    const tree::Node* p = tree.find(n->parent);
    auto it = std::find(p->children.begin(), p->children.end(), n->id);
    long i = (it - p->children.begin()) + dx;
    if (i >= 0 && i < static_cast<long>(p->children.size())) target = p->children[static_cast<std::size_t>(i)];
  }
  if (target != tree::kNoNode) select(target);
}

bool App::branch_at_token(NodeId id, std::size_t index, int32_t token) {
  if (!story || generating()) return false;
  const tree::Node* n = tree.find(id);
  if (!n || index >= n->tokens.size()) return false;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < index; ++i) offset += story->codec().piece(n->tokens[i]).size();
  std::string piece = story->codec().piece(token);
  if (piece.empty()) {
    fail("Cannot branch here", "That token has no text of its own.");
    return false;
  }
  auto r = story->edit(id, offset, piece);
  if (!r) {
    fail("Branch not created", r.error().message);
    return false;
  }
  if (!select_changed(*r)) return false;
  return continue_generation(settings.length, 1);
}

// ---- generation -------------------------------------------------------------------------

bool App::continue_generation(int tokens, int alternatives) {
  if (!story) {
    fail("Nothing to continue", "Open or create a project first.");
    return false;
  }
  if (!model) {
    fail("No model", "Open a model first (Model > Open model...).");
    return false;
  }
  if (generating()) return false;
  if (loading()) {
    fail("Not continued", fmt::format("A model is still loading ({}); wait for it.", load_->path));
    return false;
  }
  session::GenerateOptions opt = gen_opts;
  opt.settings.max_tokens = std::clamp(tokens, 1, 1 << 16);
  opt.alternatives = std::clamp(alternatives, 1, 64);
  progress = GenProgress{};
  progress.from = story->current();
  progress.alternatives = opt.alternatives;
  progress.max_tokens = opt.settings.max_tokens * opt.alternatives;
  progress.preview.assign(static_cast<std::size_t>(opt.alternatives), std::string());
  progress.started = std::chrono::steady_clock::now();
  const std::size_t to_read = story->replay_estimate(progress.from);  // for the log; the worker reports its reading
  // Started from a short-lived lowered thread, so the worker inherits its priority.
  std::thread([&] {
    lower_this_thread_priority();
    gen = session::GenerationSession::start(*story, progress.from, opt);
  }).join();
  if (to_read > 0) log.info("reading {} tokens of the story first", to_read);
  log.info("generating {} x {} tokens from node {}", opt.alternatives, opt.settings.max_tokens, progress.from);
  // A new seed for the next press, so pressing again gives new text.
  gen_opts.settings.seed += static_cast<uint64_t>(opt.alternatives);
  return true;
}

void App::cancel_generation() {
  if (gen) gen->cancel();
}

void App::poll() {
  poll_load();
  if (!gen) return;
  for (const auto& e : gen->poll()) {
    if (e.kind == session::Event::Kind::token) {
      ++progress.tokens;
      progress.tokens_per_s = e.tokens_per_s;
      if (e.alt >= 0 && static_cast<std::size_t>(e.alt) < progress.preview.size()) progress.preview[e.alt] += e.piece;
    } else if (e.kind == session::Event::Kind::reading) {
      progress.read = e.read;
      progress.to_read = e.to_read;
      if (e.read == e.to_read)  // a deferred read is done: its speed sets the next switches' limit
        note_reading_speed(e.to_read, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                                    progress.started).count());
    } else if (e.kind == session::Event::Kind::error) {
      log.error("generation: {}", e.message);
    }
  }
  if (!gen->finished()) return;
  auto r = gen->join();
  gen.reset();
  last_tokens_per_s = progress.tokens_per_s;
  if (!r) {
    if (r.error().code != Errc::cancelled) fail("Generation failed", r.error().message);
    else log.info("generation cancelled: {}", r.error().message);
    refresh();
    return;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - progress.started).count();
  log.info("generated {} tokens in {:.2f} s ({:.1f} tokens/s)", progress.tokens, s, progress.tokens_per_s);
  // Accepting the result runs on the UI thread: its cost is logged, as it is one
  // frame's. Selecting the first result copies the tree once (not a copy, then another).
  auto t0 = std::chrono::steady_clock::now();
  if (r->empty()) refresh();
  else select_changed(r->front());
  log.debug("result accepted: switch and tree copy {:.1f} ms",
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

void App::wait_generation() {
  while (gen) {
    session::Event e;
    (void)e;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    poll();
  }
}

}  // namespace wb::app
