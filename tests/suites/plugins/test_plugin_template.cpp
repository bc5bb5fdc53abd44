// The plugin template builds OUT OF TREE against the SDK installed from this
// build (`cmake --install --component wb_plugin_sdk`), and the result loads
// and runs through the host like any community plugin.
#include <cstdlib>

#include "sandbox.hpp"

using namespace wb::test;

namespace {

int sh(const std::string& cmd, const fs::path& log) {
  std::string full = cmd + " > '" + log.string() + "' 2>&1";
  int st = std::system(full.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string slurp(const fs::path& p) {
  auto bytes = read_bytes(p.string());
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("the plugin template builds out of tree against the installed SDK and runs", "[plugin][template]") {
  Sandbox box("template");
  fs::path prefix = box.root / "sdk", build = box.root / "template-build", log = box.root / "log.txt";
  std::string cmake = std::string("'") + WB_CMAKE_COMMAND + "'";

  INFO("install");
  REQUIRE(sh(cmake + " --install '" + WB_BUILD_DIR + "' --component wb_plugin_sdk --prefix '" + prefix.string() + "'",
             log) == 0);
  CHECK(fs::exists(prefix / "include" / "wb" / "plugin.h"));
  CHECK(fs::exists(prefix / "include" / "wb" / "ext" / "ui.h"));

  INFO("configure: " << slurp(log));
  REQUIRE(sh(cmake + " -S '" + WB_REPO_DIR + "/plugins/template' -B '" + build.string() + "' -G '" +
                 WB_CMAKE_GENERATOR + "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER='" + WB_C_COMPILER +
                 "' -DCMAKE_PREFIX_PATH='" + prefix.string() + "'",
             log) == 0);
  INFO("build: " << slurp(log));
  REQUIRE(sh(cmake + " --build '" + build.string() + "'", log) == 0);
  REQUIRE(fs::exists(build / "hello_plugin.so"));
  REQUIRE(fs::exists(build / "hello_plugin.wbplugin.json"));
  CHECK(slurp(log).find("warning") == std::string::npos);

  fs::copy_file(build / "hello_plugin.so", box.user_plugins / "hello_plugin.so");
  fs::copy_file(build / "hello_plugin.wbplugin.json", box.user_plugins / "hello_plugin.wbplugin.json");
  wb::host::PluginHost h(box.paths(), box.log);
  h.scan();
  CHECK(record(h, "org.example.hello").state == wb::host::PluginState::not_enabled);
  REQUIRE(h.enable("org.example.hello"));
  std::string out;
  auto rc = h.run_headless("org.example.hello", {"Ada", "Lovelace"}, [&](bool, std::string_view b) { out.append(b); });
  REQUIRE(rc);
  CHECK(*rc == 0);
  CHECK(out == "Hello, Ada! (2 arguments)\n");
  CHECK(box.logged("[org.example.hello] said hello"));
}

TEST_CASE("cmake --install puts the tools, presets, default models and shipped plugins where they are looked up",
          "[plugin][install]") {
  Sandbox box("install");
  fs::path prefix = box.root / "prefix", log = box.root / "log.txt";
  std::string cmake = std::string("'") + WB_CMAKE_COMMAND + "'";
  for (const char* component : {"app", "plugins"}) {
    int rc = sh(cmake + " --install '" + WB_BUILD_DIR + "' --component " + component + " --prefix '" +
                    prefix.string() + "'",
                log);
    INFO("install " << component << ": " << slurp(log));
    REQUIRE(rc == 0);
  }
  // The layout core/util/data_dirs and the host's system folders expect.
  fs::path data = prefix / "share" / "rwkv-workbench";
  CHECK(fs::exists(prefix / "bin" / "wb"));
  CHECK(fs::exists(data / "presets" / "sampling" / "default.txt"));
  CHECK(fs::exists(data / "presets" / "sampling" / "creative.txt"));
  CHECK(fs::exists(data / "models" / "prose-rwkv7.pth"));
  CHECK(fs::exists(data / "models" / "prose.model"));
  CHECK_FALSE(fs::exists(data / "models" / "prose-parity.json"));  // test data, not shipped
  bool novel = false;
  for (const auto& e : fs::recursive_directory_iterator(prefix))
    if (e.path().filename() == "novel.so" && e.path().parent_path().filename() == "plugins" &&
        fs::exists(e.path().parent_path() / "novel.wbplugin.json"))
      novel = true;
  CHECK(novel);

  // The installed data folder, named through WB_DATA_DIR, serves `wb generate` its default model and
  // a preset by name.
  std::string cmd = "WB_DATA_DIR='" + data.string() + "' '" + (prefix / "bin" / "wb").string() +
                    "' generate --prompt 'The rain' -n 4 --preset creative --seed 1";
  int rc = sh(cmd, log);
  INFO(slurp(log));
  REQUIRE(rc == 0);
  CHECK(slurp(log).find("generated 4 tokens") != std::string::npos);
}
