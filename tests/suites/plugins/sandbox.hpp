// A private plugin world for one test: user plugin folder, settings file and
// user presets under the build's test-tmp, the build's shipped plugins, the
// repository's presets, and a captured log.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/util/log.hpp"
#include "host/plugin_host.hpp"
#include "support/fixtures.hpp"

namespace wb::test {

namespace fs = std::filesystem;

struct Sandbox {
  fs::path root, data, config, user_plugins;
  Log log;
  std::vector<std::string> lines;

  explicit Sandbox(const std::string& name) {
    root = temp_dir("plugins-" + name);
    data = root / "data";
    config = root / "config";
    user_plugins = data / "rwkv-workbench" / "plugins";
    fs::create_directories(user_plugins);
    log.set_level(LogLevel::debug);
    log.set_sink([this](LogLevel l, std::string_view m) { lines.push_back(std::string(log_level_name(l)) + ": " + std::string(m)); });
  }

  // Copies test plugin `variant` (library + manifest) into the user folder.
  fs::path add(const std::string& variant) {
    fs::path dir = WB_TEST_PLUGIN_DIR;
    std::string stem = "wbtest_" + variant;
    fs::copy_file(dir / (stem + ".so"), user_plugins / (stem + ".so"), fs::copy_options::overwrite_existing);
    fs::copy_file(dir / (stem + ".wbplugin.json"), user_plugins / (stem + ".wbplugin.json"),
                  fs::copy_options::overwrite_existing);
    return user_plugins / (stem + ".so");
  }

  host::PluginPaths paths() const {
    host::PluginPaths p;
    p.build_dir = WB_SHIPPED_PLUGIN_DIR;
    p.user_dir = user_plugins;
    p.settings_file = config / "rwkv-workbench" / "plugins.json";
    p.preset_dirs = {fs::path(WB_REPO_DIR) / "presets"};
    p.user_preset_dir = data / "rwkv-workbench" / "presets";
    return p;
  }

  bool logged(const std::string& needle) const {
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

inline const host::PluginRecord& record(const host::PluginHost& h, const std::string& id) {
  const host::PluginRecord* r = h.find(id);
  INFO("plugin " << id);
  REQUIRE(r != nullptr);
  return *r;
}

}  // namespace wb::test
