// Plugin discovery, consent, loading and guarded calls. No UI: the GUI's
// plugin manager and `wb plugins` are two consumers of this class.
//
//   wb::Log log;
//   wb::host::PluginHost host(wb::host::PluginPaths::defaults(), log);
//   host.scan();                        // manifests only: no plugin code runs
//   host.load_enabled();                // dlopen + init of consented plugins
//   for (const auto& p : host.plugins()) print(p.file_name, p.id, state_name(p.state), p.reason);
//   WB_CHECK(host.enable("org.example.hello"));   // remembers the file's SHA-256
//   WB_TRY(code, host.run_headless("org.example.hello", {"--x"}, sink));
//
// Consent before code: a plugin found for the first time (or whose library
// changed since it was enabled) is listed from its manifest and never
// dlopen'ed until the user enables it. Plugins from the build's plugin folder
// and the system folder are shipped with the app and on unless disabled.
// One plugin failing (missing symbol, other ABI, failing init, malformed
// descriptors, misused host services during init) is refused with a reason;
// the others carry on.
#pragma once
#include <wb/plugin_all.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/log.hpp"
#include "core/util/result.hpp"
#include "host/consent.hpp"
#include "host/manifest.hpp"
#include "host/services.hpp"

namespace wb::host {

inline constexpr const char* kAppDirName = "rwkv-workbench";

struct PluginPaths {
  std::filesystem::path build_dir;   // plugins built with this binary (shipped)
  std::filesystem::path system_dir;  // installed with the app (shipped)
  std::filesystem::path user_dir;    // $XDG_DATA_HOME/rwkv-workbench/plugins
  std::filesystem::path settings_file;  // $XDG_CONFIG_HOME/rwkv-workbench/plugins.json
  std::vector<std::filesystem::path> preset_dirs;  // shipped presets, lowest priority first
  std::filesystem::path user_preset_dir;           // $XDG_DATA_HOME/rwkv-workbench/presets

  // From the environment (XDG_DATA_HOME, XDG_CONFIG_HOME, HOME) and the
  // folders fixed at build time.
  static PluginPaths defaults();
};

enum class PluginState { not_enabled, enabled, loaded, refused };
const char* state_name(PluginState s);  // "not enabled", "enabled", "loaded", "refused"

struct PluginRecord {
  std::filesystem::path manifest_path;
  std::filesystem::path library_path;  // empty when the manifest is unreadable
  std::string file_name;               // library file name (or the manifest's when unreadable)
  std::string id;                      // from the manifest; "-" when unreadable
  std::string version, description, name;
  wb_version abi_version{};
  bool shipped = false;
  PluginState state = PluginState::not_enabled;
  std::string reason;                  // why not enabled / refused; misuse notes when loaded
};

class PluginHost {
 public:
  PluginHost(PluginPaths paths, Log& log);
  ~PluginHost();  // destroys instances, deinits and unloads every library
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Reads manifests and consent; runs no plugin code. Unloads nothing that
  // is loaded. A malformed settings file is logged and trusted for nothing.
  void scan();
  // Loads every enabled plugin not yet loaded; refusals land in the records.
  void load_enabled();
  // Loads one plugin by id (must be enabled).
  Status load(const std::string& id);

  const std::vector<PluginRecord>& plugins() const { return records_; }
  const PluginRecord* find(const std::string& id) const;
  const PluginPaths& paths() const { return paths_; }

  // FILE-OR-ID: a plugin id, a library or manifest file name, or a path.
  // Enabling stores the library's SHA-256; both rescan.
  Status enable(const std::string& file_or_id);
  Status disable(const std::string& file_or_id);

  // Runs the plugin's "wb.headless/1" entry (loading it when needed) and
  // returns its exit status. `sink(is_error, bytes)` receives its output.
  Result<int> run_headless(const std::string& id, const std::vector<std::string>& args,
                           const std::function<void(bool, std::string_view)>& sink);
  // The plugin's headless usage line ("" when it has none).
  Result<std::string> headless_usage(const std::string& id);

  // UI: panels published by loaded plugins, and user actions sent back.
  const UiStore& ui() const { return services_.ui; }
  // Stores a user edit (text or number) and tells the plugin (CHANGED).
  Status ui_change(const std::string& plugin_id, const std::string& panel, const std::string& widget,
                   const std::string* text, const double* value);
  Status ui_press(const std::string& plugin_id, const std::string& panel, const std::string& widget);
  // One GUI frame: lets every loaded plugin poll its running work (on_frame).
  void ui_tick();
  Status ui_canvas_click(const std::string& plugin_id, const std::string& panel, const std::string& canvas, float x,
                         float y, int button);
  // A drag on a canvas: (x, y) now, (x0, y0) where it started, canvas units.
  Status ui_canvas_drag(const std::string& plugin_id, const std::string& panel, const std::string& canvas, float x,
                        float y, float x0, float y0, int button);
  // A wheel turn over a canvas (ABI 0.2): sent only when the canvas asked for
  // it (WB_UI_CANVAS_WHEEL_EVENTS), otherwise nothing happens.
  Status ui_canvas_wheel(const std::string& plugin_id, const std::string& panel, const std::string& canvas, float x,
                         float y, float steps, float sideways, int mods);

  // How host services are offered; the app adds extensions (tree, generation) here.
  HostServices& services() { return services_; }

 private:
  struct Loaded;
  Loaded* loaded(const std::string& id);
  Status load_record(PluginRecord& rec);
  Result<PluginRecord*> match(const std::string& file_or_id);
  Status send_event(const std::string& plugin_id, const wb_ui_event& ev);

  PluginPaths paths_;
  Log& log_;
  HostServices services_;
  ConsentStore consent_;
  std::vector<PluginRecord> records_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
};

}  // namespace wb::host
