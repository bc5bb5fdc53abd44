#include "host/plugin_host.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "host/abi.hpp"
#include "host/file_hash.hpp"
#include "host/story_service.hpp"

#ifndef WB_BUILD_PLUGIN_DIR
#define WB_BUILD_PLUGIN_DIR ""
#endif
#ifndef WB_SYSTEM_PLUGIN_DIR
#define WB_SYSTEM_PLUGIN_DIR "/usr/local/lib/rwkv-workbench/plugins"
#endif
#ifndef WB_SYSTEM_PRESET_DIR
#define WB_SYSTEM_PRESET_DIR "/usr/local/share/rwkv-workbench/presets"
#endif

namespace wb::host {

namespace fs = std::filesystem;

// One loaded library and its plugin instance. Destruction runs the plugin's
// teardown in ABI order: destroy the instance, deinit the entry, unload.
struct PluginHost::Loaded {
  std::string id;
  void* handle = nullptr;
  const wb_plugin_entry* entry = nullptr;
  bool entry_inited = false;
  std::unique_ptr<HostContext> lib_ctx, inst_ctx;
  const wb_plugin* plugin = nullptr;
  const wb_plugin_ui* ui = nullptr;

  ~Loaded() {
    if (plugin) {
      CallScope scope(inst_ctx.get());
      plugin->destroy(plugin);
    }
    if (entry_inited) {
      CallScope scope(lib_ctx.get());
      entry->deinit();
    }
    if (handle) dlclose(handle);
  }
};

namespace {

std::string env_or(const char* name) {
  const char* v = std::getenv(name);
  return v && *v == '/' ? std::string(v) : std::string();  // XDG: relative paths are ignored
}

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

// Checks a plugin-provided string without reading past `limit`.
bool bounded_string(const char* s, std::size_t limit, bool allow_empty, std::string& out) {
  if (!s) return false;
  std::size_t n = strnlen(s, limit + 1);
  if (n > limit || (!allow_empty && n == 0)) return false;
  out.assign(s, n);
  return true;
}

Result<std::string> check_descriptor(const wb_plugin_descriptor* d, uint32_t index) {
  if (!d) return make_error(Errc::format, "malformed descriptor #{}: NULL", index);
  std::string id, s;
  if (!bounded_string(d->id, WB_MAX_ID_LENGTH, false, id) || !valid_plugin_id(id))
    return make_error(Errc::format, "malformed descriptor #{}: id {} is not a reverse-DNS id", index,
                      d->id ? fmt::format("'{}'", id.empty() ? std::string(d->id, strnlen(d->id, 64)) : id) : "NULL");
  if (!abi_compatible(d->abi_version))
    return make_error(Errc::unsupported, "descriptor '{}': {}", id, abi_mismatch(d->abi_version));
  if (!bounded_string(d->name, WB_MAX_TEXT_LENGTH, false, s))
    return make_error(Errc::format, "malformed descriptor '{}': name is NULL, empty or too long", id);
  if (!bounded_string(d->version, WB_MAX_ID_LENGTH, false, s))
    return make_error(Errc::format, "malformed descriptor '{}': version is NULL, empty or too long", id);
  if (!bounded_string(d->vendor, WB_MAX_TEXT_LENGTH, true, s))
    return make_error(Errc::format, "malformed descriptor '{}': vendor is NULL or too long", id);
  if (!bounded_string(d->description, WB_MAX_TEXT_LENGTH, true, s))
    return make_error(Errc::format, "malformed descriptor '{}': description is NULL or too long", id);
  if (d->features) {
    uint32_t n = 0;
    for (; d->features[n]; ++n) {
      if (n >= WB_MAX_FEATURES)
        return make_error(Errc::format, "malformed descriptor '{}': more than {} features (missing NULL terminator?)",
                          id, WB_MAX_FEATURES);
      if (!bounded_string(d->features[n], WB_MAX_ID_LENGTH, false, s))
        return make_error(Errc::format, "malformed descriptor '{}': feature #{} is empty or too long", id, n);
    }
  }
  return id;
}

}  // namespace

const char* state_name(PluginState s) {
  switch (s) {
    case PluginState::not_enabled: return "not enabled";
    case PluginState::enabled: return "enabled";
    case PluginState::loaded: return "loaded";
    case PluginState::refused: return "refused";
  }
  return "?";
}

PluginPaths PluginPaths::defaults() {
  PluginPaths p;
  fs::path home = env_or("HOME");
  fs::path data = env_or("XDG_DATA_HOME");
  if (data.empty() && !home.empty()) data = home / ".local" / "share";
  fs::path config = env_or("XDG_CONFIG_HOME");
  if (config.empty() && !home.empty()) config = home / ".config";
  p.build_dir = WB_BUILD_PLUGIN_DIR;
  p.system_dir = WB_SYSTEM_PLUGIN_DIR;
  if (!data.empty()) {
    p.user_dir = data / kAppDirName / "plugins";
    p.user_preset_dir = data / kAppDirName / "presets";
  }
  if (!config.empty()) p.settings_file = config / kAppDirName / "plugins.json";
  p.preset_dirs = {WB_SYSTEM_PRESET_DIR};
#ifdef WB_SOURCE_DIR
  p.preset_dirs.push_back(fs::path(WB_SOURCE_DIR) / "presets");
#endif
  return p;
}

PluginHost::PluginHost(PluginPaths paths, Log& log)
    : paths_(std::move(paths)),
      log_(log),
      services_(log, paths_.preset_dirs, paths_.user_preset_dir),
      consent_(paths_.settings_file) {}

PluginHost::~PluginHost() {
  // Newest first, so a library loaded later never outlives one it might use.
  while (!loaded_.empty()) {
    drop_plugin_sessions(services_, loaded_.back()->id);
    services_.ui.remove_plugin(loaded_.back()->id);
    loaded_.pop_back();
  }
}

void PluginHost::scan() {
  records_.clear();
  if (paths_.settings_file.empty()) {
    log_.warn("plugins: no settings file (HOME and XDG_CONFIG_HOME unset): only shipped plugins can be enabled");
  } else if (auto st = consent_.load(); !st) {
    log_.warn("plugins: {}; treating every plugin as not enabled", st.error().message);
  }
  struct Folder {
    fs::path dir;
    bool shipped;
  };
  std::vector<Folder> folders = {{paths_.build_dir, true}, {paths_.system_dir, true}, {paths_.user_dir, false}};
  std::set<fs::path> seen_dirs;
  std::map<std::string, std::string> id_owner;  // id -> manifest path
  for (const Folder& f : folders) {
    std::error_code ec;
    if (f.dir.empty() || !fs::is_directory(f.dir, ec)) continue;
    fs::path dir = canonical_or_self(f.dir);
    if (!seen_dirs.insert(dir).second) continue;
    std::vector<fs::path> manifests;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string n = it->path().filename().string();
      if (n.size() > kManifestSuffix.size() && n.ends_with(kManifestSuffix)) manifests.push_back(it->path());
    }
    std::sort(manifests.begin(), manifests.end());
    for (const fs::path& mp : manifests) {
      PluginRecord rec;
      rec.manifest_path = mp;
      rec.shipped = f.shipped;
      rec.file_name = mp.filename().string();
      rec.id = "-";
      auto m = read_manifest(mp);
      if (!m) {
        rec.state = PluginState::refused;
        rec.reason = m.error().message;
        records_.push_back(std::move(rec));
        continue;
      }
      rec.id = m->id;
      rec.name = m->name;
      rec.version = m->version;
      rec.description = m->description;
      rec.abi_version = m->abi_version;
      rec.file_name = m->library;
      rec.library_path = dir / m->library;
      if (auto [it, fresh] = id_owner.emplace(rec.id, mp.string()); !fresh) {
        rec.state = PluginState::refused;
        rec.reason = fmt::format("id already provided by {}", it->second);
      } else if (!fs::is_regular_file(rec.library_path, ec)) {
        rec.state = PluginState::refused;
        rec.reason = fmt::format("library {} named by the manifest is missing", rec.library_path.string());
      } else if (rec.shipped) {
        bool off = consent_.shipped_disabled(rec.library_path.string());
        rec.state = off ? PluginState::not_enabled : PluginState::enabled;
        if (off) rec.reason = "disabled by the user";
      } else {
        auto sha = sha256_file(rec.library_path);
        if (!sha) {
          rec.state = PluginState::refused;
          rec.reason = sha.error().message;
        } else {
          switch (consent_.consent(rec.library_path.string(), *sha)) {
            case Consent::enabled: rec.state = PluginState::enabled; break;
            case Consent::changed:
              rec.state = PluginState::not_enabled;
              rec.reason = fmt::format("library changed since it was enabled (SHA-256 differs): enable it again with "
                                       "`wb plugins enable {}`", rec.id);
              break;
            case Consent::unknown:
              rec.state = PluginState::not_enabled;
              rec.reason = fmt::format("new plugin, not loaded until enabled: `wb plugins enable {}`", rec.id);
              break;
          }
        }
      }
      if (rec.state == PluginState::enabled && !abi_compatible(rec.abi_version)) {
        rec.state = PluginState::refused;
        rec.reason = "manifest: " + abi_mismatch(rec.abi_version);
      }
      records_.push_back(std::move(rec));
    }
  }
  for (const auto& l : loaded_)
    for (auto& r : records_)
      if (r.id == l->id && r.state == PluginState::enabled) r.state = PluginState::loaded;
}

void PluginHost::load_enabled() {
  for (auto& rec : records_)
    if (rec.state == PluginState::enabled) (void)load_record(rec);
}

Status PluginHost::load(const std::string& id) {
  for (auto& rec : records_)
    if (rec.id == id && rec.state != PluginState::refused) return load_record(rec);
  if (const PluginRecord* r = find(id))
    return make_error(Errc::security, "plugin {} is {}: {}", id, state_name(r->state), r->reason);
  return make_error(Errc::out_of_range, "no plugin with id '{}' (see `wb plugins list`)", id);
}

const PluginRecord* PluginHost::find(const std::string& id) const {
  for (const auto& r : records_)
    if (r.id == id) return &r;
  return nullptr;
}

PluginHost::Loaded* PluginHost::loaded(const std::string& id) {
  for (auto& l : loaded_)
    if (l->id == id) return l.get();
  return nullptr;
}

Status PluginHost::load_record(PluginRecord& rec) {
  if (rec.state == PluginState::loaded) return {};
  if (rec.state != PluginState::enabled)
    return make_error(Errc::security, "plugin {} is {}: {}", rec.id, state_name(rec.state), rec.reason);
  auto refuse = [&](std::string why) -> Status {
    rec.state = PluginState::refused;
    rec.reason = why;
    services_.ui.remove_plugin(rec.id);  // panels published before the refusal
    drop_plugin_sessions(services_, rec.id);
    log_.warn("plugin {} ({}) refused: {}", rec.id, rec.library_path.string(), why);
    return make_error(Errc::security, "plugin {} refused: {}", rec.id, why);
  };
  // The file may have changed since the scan; consent covers only the bytes
  // the user enabled.
  if (!rec.shipped) {
    auto sha = sha256_file(rec.library_path);
    if (!sha) return refuse(sha.error().message);
    if (consent_.consent(rec.library_path.string(), *sha) != Consent::enabled) {
      rec.state = PluginState::not_enabled;
      rec.reason = "library changed since it was enabled (SHA-256 differs): enable it again";
      return make_error(Errc::security, "plugin {}: {}", rec.id, rec.reason);
    }
  }

  auto l = std::make_unique<Loaded>();
  l->id = rec.id;
  dlerror();
  l->handle = dlopen(rec.library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!l->handle) {
    const char* e = dlerror();
    return refuse(fmt::format("cannot load library: {}", e ? e : "unknown dlopen error"));
  }
  void* sym = dlsym(l->handle, WB_PLUGIN_ENTRY_SYMBOL);
  if (!sym) return refuse(fmt::format("missing entry symbol {} (not a workbench plugin?)", WB_PLUGIN_ENTRY_SYMBOL));
  wb_get_plugin_entry_fn get_entry = nullptr;
  static_assert(sizeof(get_entry) == sizeof(sym));
  std::memcpy(&get_entry, &sym, sizeof(sym));  // object -> function pointer, as POSIX allows
  l->lib_ctx = make_host_context(services_, rec.id, false);
  {
    CallScope scope(l->lib_ctx.get());
    l->entry = get_entry();
  }
  if (!l->entry) return refuse(fmt::format("{} returned NULL", WB_PLUGIN_ENTRY_SYMBOL));
  if (!abi_compatible(l->entry->abi_version)) return refuse(abi_mismatch(l->entry->abi_version));
  if (!l->entry->init || !l->entry->deinit || !l->entry->get_factory)
    return refuse("malformed entry: init, deinit or get_factory is NULL");

  bool init_ok;
  {
    CallScope scope(l->lib_ctx.get());
    init_ok = l->entry->init(&l->lib_ctx->table, rec.library_path.c_str());
  }
  if (!init_ok) {
    std::string why = "init failed";
    if (!l->lib_ctx->last_logged_error.empty()) why += ": " + l->lib_ctx->last_logged_error;
    return refuse(why);
  }
  l->entry_inited = true;
  if (l->lib_ctx->misuse_count > 0)
    return refuse(fmt::format("called host services wrongly during init ({}x), first: {}", l->lib_ctx->misuse_count,
                              l->lib_ctx->first_misuse));

  const wb_plugin_factory* factory;
  {
    CallScope scope(l->lib_ctx.get());
    factory = static_cast<const wb_plugin_factory*>(l->entry->get_factory(WB_PLUGIN_FACTORY_ID));
  }
  if (!factory) return refuse(fmt::format("no plugin factory ({})", WB_PLUGIN_FACTORY_ID));
  if (!factory->get_plugin_count || !factory->get_plugin_descriptor || !factory->create_plugin)
    return refuse("malformed plugin factory: a function pointer is NULL");
  bool found = false;
  {
    CallScope scope(l->lib_ctx.get());
    uint32_t count = factory->get_plugin_count(factory);
    if (count == 0 || count > WB_MAX_PLUGINS_PER_LIBRARY)
      return refuse(fmt::format("malformed factory: {} plugins (want 1..{})", count, WB_MAX_PLUGINS_PER_LIBRARY));
    std::set<std::string> ids;
    for (uint32_t i = 0; i < count; ++i) {
      auto id = check_descriptor(factory->get_plugin_descriptor(factory, i), i);
      if (!id) return refuse(id.error().message);
      if (!ids.insert(*id).second) return refuse(fmt::format("malformed factory: duplicate plugin id '{}'", *id));
      found = found || *id == rec.id;
    }
  }
  if (!found) return refuse(fmt::format("manifest id '{}' is not among the library's plugins", rec.id));

  l->inst_ctx = make_host_context(services_, rec.id, true);
  {
    CallScope scope(l->inst_ctx.get());
    const wb_plugin* p = factory->create_plugin(factory, &l->inst_ctx->table, rec.id.c_str());
    if (!p) return refuse("create_plugin returned NULL");
    if (!p->init || !p->destroy || !p->get_extension)
      return refuse("malformed plugin: init, destroy or get_extension is NULL");  // cannot even destroy it
    l->plugin = p;
    if (!p->init(p)) {
      std::string why = "plugin init failed";
      if (!l->inst_ctx->last_logged_error.empty()) why += ": " + l->inst_ctx->last_logged_error;
      return refuse(why);
    }
    if (l->inst_ctx->misuse_count > 0)
      return refuse(fmt::format("called host services wrongly during init ({}x), first: {}",
                                l->inst_ctx->misuse_count, l->inst_ctx->first_misuse));
    l->ui = static_cast<const wb_plugin_ui*>(p->get_extension(p, WB_EXT_UI));
    if (l->ui && l->ui->build) l->ui->build(p);
  }
  rec.state = PluginState::loaded;
  rec.reason.clear();
  log_.info("plugin {} loaded from {}", rec.id, rec.library_path.string());
  loaded_.push_back(std::move(l));
  return {};
}

Result<PluginRecord*> PluginHost::match(const std::string& key) {
  std::vector<PluginRecord*> hits;
  fs::path as_path = canonical_or_self(fs::path(key));
  for (auto& r : records_) {
    if (r.id == key || r.file_name == key || r.manifest_path.filename() == key ||
        (!r.library_path.empty() && r.library_path == as_path) || r.manifest_path == as_path)
      hits.push_back(&r);
  }
  if (hits.empty()) return make_error(Errc::out_of_range, "no plugin matches '{}' (see `wb plugins list`)", key);
  if (hits.size() > 1)
    return make_error(Errc::invalid_argument, "'{}' matches {} plugins; give the full path of the library", key,
                      hits.size());
  return hits[0];
}

Status PluginHost::enable(const std::string& file_or_id) {
  scan();
  WB_TRY(rec, match(file_or_id));
  if (rec->library_path.empty() || rec->id == "-")
    return make_error(Errc::format, "cannot enable {}: {}", rec->manifest_path.string(), rec->reason);
  if (rec->shipped) {
    consent_.set_shipped_disabled(rec->library_path.string(), false);
  } else {
    WB_TRY(sha, sha256_file(rec->library_path));
    consent_.enable(rec->library_path.string(), rec->id, sha);
  }
  if (paths_.settings_file.empty()) return make_error(Errc::io, "no settings file to remember the choice (HOME unset)");
  WB_CHECK(consent_.save());
  log_.info("plugin {} enabled ({})", rec->id, rec->library_path.string());
  scan();
  return {};
}

Status PluginHost::disable(const std::string& file_or_id) {
  scan();
  WB_TRY(rec, match(file_or_id));
  if (rec->library_path.empty()) return make_error(Errc::format, "cannot disable {}: {}", rec->manifest_path.string(), rec->reason);
  if (rec->shipped)
    consent_.set_shipped_disabled(rec->library_path.string(), true);
  else
    consent_.forget(rec->library_path.string());
  if (paths_.settings_file.empty()) return make_error(Errc::io, "no settings file to remember the choice (HOME unset)");
  WB_CHECK(consent_.save());
  std::string id = rec->id;
  for (auto it = loaded_.begin(); it != loaded_.end(); ++it)
    if ((*it)->id == id) {
      drop_plugin_sessions(services_, id);
      services_.ui.remove_plugin(id);
      loaded_.erase(it);
      break;
    }
  log_.info("plugin {} disabled", id);
  scan();
  return {};
}

Result<int> PluginHost::run_headless(const std::string& id, const std::vector<std::string>& args,
                                     const std::function<void(bool, std::string_view)>& sink) {
  WB_CHECK(load(id));
  Loaded* l = loaded(id);
  if (!l) return make_error(Errc::internal, "plugin {} not loaded", id);
  const wb_plugin_headless* h;
  {
    CallScope scope(l->inst_ctx.get());
    h = static_cast<const wb_plugin_headless*>(l->plugin->get_extension(l->plugin, WB_EXT_HEADLESS));
  }
  if (!h || !h->run) return make_error(Errc::unsupported, "plugin {} has no headless entry ({})", id, WB_EXT_HEADLESS);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  OutputContext out;
  init_output(out, l->inst_ctx.get(), sink);
  CallScope scope(l->inst_ctx.get());
  int32_t rc = h->run(l->plugin, static_cast<uint32_t>(args.size()), argv.data(), &out.table);
  return static_cast<int>(rc);
}

Result<std::string> PluginHost::headless_usage(const std::string& id) {
  WB_CHECK(load(id));
  Loaded* l = loaded(id);
  if (!l) return make_error(Errc::internal, "plugin {} not loaded", id);
  CallScope scope(l->inst_ctx.get());
  auto* h = static_cast<const wb_plugin_headless*>(l->plugin->get_extension(l->plugin, WB_EXT_HEADLESS));
  if (!h) return make_error(Errc::unsupported, "plugin {} has no headless entry ({})", id, WB_EXT_HEADLESS);
  std::string usage;
  if (!bounded_string(h->usage, WB_MAX_TEXT_LENGTH, true, usage)) usage.clear();
  return usage;
}

Status PluginHost::send_event(const std::string& plugin_id, const wb_ui_event& ev) {
  Loaded* l = loaded(plugin_id);
  if (!l) return make_error(Errc::out_of_range, "plugin {} is not loaded", plugin_id);
  if (!l->ui || !l->ui->on_event) return make_error(Errc::unsupported, "plugin {} takes no UI events", plugin_id);
  CallScope scope(l->inst_ctx.get());
  l->ui->on_event(l->plugin, &ev);
  return {};
}

Status PluginHost::ui_change(const std::string& plugin_id, const std::string& panel, const std::string& widget,
                             const std::string* text, const double* value) {
  WB_TRY(w, services_.ui.widget(plugin_id, panel, widget));
  if (text) w->text = *text;
  if (value) w->value = w->kind == WB_UI_SLIDER ? std::clamp(*value, w->min, w->max) : *value;
  wb_ui_event ev{};
  ev.kind = WB_UI_EVENT_CHANGED;
  ev.panel_id = panel.c_str();
  ev.widget_id = widget.c_str();
  std::string text_copy = w->text;  // the plugin may replace the widget while handling the event
  ev.text = text ? text_copy.c_str() : nullptr;
  ev.value = w->value;
  return send_event(plugin_id, ev);
}

Status PluginHost::ui_press(const std::string& plugin_id, const std::string& panel, const std::string& widget) {
  WB_TRY(w, services_.ui.widget(plugin_id, panel, widget));
  if (w->kind != WB_UI_BUTTON) return make_error(Errc::invalid_argument, "widget '{}' is not a button", widget);
  wb_ui_event ev{};
  ev.kind = WB_UI_EVENT_PRESSED;
  ev.panel_id = panel.c_str();
  ev.widget_id = widget.c_str();
  return send_event(plugin_id, ev);
}

void PluginHost::ui_tick() {
  for (auto& l : loaded_) {
    if (!l->ui || !l->ui->on_frame) continue;
    CallScope scope(l->inst_ctx.get());
    l->ui->on_frame(l->plugin);
  }
}

namespace {

// The canvas widget an event goes to (refusing other widgets) and an event
// addressed to it; the three canvas events differ only in the fields after.
Result<UiWidget*> find_canvas(UiStore& ui, const std::string& plugin_id, const std::string& panel,
                              const std::string& canvas) {
  WB_TRY(w, ui.widget(plugin_id, panel, canvas));
  if (w->kind != WB_UI_CANVAS) return make_error(Errc::invalid_argument, "widget '{}' is not a canvas", canvas);
  return w;
}

wb_ui_event canvas_event(int32_t kind, const std::string& panel, const std::string& canvas, float x, float y,
                         int button) {
  wb_ui_event ev{};
  ev.kind = kind;
  ev.panel_id = panel.c_str();
  ev.widget_id = canvas.c_str();
  ev.x = x;
  ev.y = y;
  ev.button = button;
  return ev;
}

}  // namespace

Status PluginHost::ui_canvas_click(const std::string& plugin_id, const std::string& panel, const std::string& canvas,
                                   float x, float y, int button) {
  WB_TRY(w, find_canvas(services_.ui, plugin_id, panel, canvas));
  (void)w;
  return send_event(plugin_id, canvas_event(WB_UI_EVENT_CANVAS_CLICK, panel, canvas, x, y, button));
}

Status PluginHost::ui_canvas_drag(const std::string& plugin_id, const std::string& panel, const std::string& canvas,
                                  float x, float y, float x0, float y0, int button) {
  WB_TRY(w, find_canvas(services_.ui, plugin_id, panel, canvas));
  (void)w;
  wb_ui_event ev = canvas_event(WB_UI_EVENT_CANVAS_DRAG, panel, canvas, x, y, button);
  ev.x1 = x0;
  ev.y1 = y0;
  return send_event(plugin_id, ev);
}

Status PluginHost::ui_canvas_wheel(const std::string& plugin_id, const std::string& panel, const std::string& canvas,
                                   float x, float y, float steps, float sideways, int mods) {
  WB_TRY(w, find_canvas(services_.ui, plugin_id, panel, canvas));
  // A plugin built for 0.1 never asked and never gets this event kind.
  if (!(static_cast<int64_t>(w->value) & WB_UI_CANVAS_WHEEL_EVENTS)) return {};
  wb_ui_event ev = canvas_event(WB_UI_EVENT_CANVAS_WHEEL, panel, canvas, x, y, mods);
  ev.value = steps;
  ev.x1 = sideways;
  return send_event(plugin_id, ev);
}

}  // namespace wb::host
