// The plugin host: refusals, consent before code, hash checks, guarded host
// services, UI storage. Uses the deliberately broken plugins of tests/plugins.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "sandbox.hpp"

using namespace wb;
using namespace wb::test;
using host::PluginHost;
using host::PluginState;

namespace {

const char* kTextStats = "org.rwkv.workbench.text-stats";

// Runs a plugin headless and returns its stdout; REQUIREs success.
std::string run_ok(PluginHost& h, const std::string& id, const std::vector<std::string>& args) {
  std::string out, err;
  auto rc = h.run_headless(id, args, [&](bool is_err, std::string_view b) { (is_err ? err : out).append(b); });
  INFO((rc ? std::string() : rc.error().message) << err);
  REQUIRE(rc);
  REQUIRE(*rc == 0);
  return out;
}

std::map<std::string, std::string> key_values(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (auto eq = line.find('='); eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  return kv;
}

}  // namespace

TEST_CASE("each broken plugin is refused with its reason while the others load", "[plugin]") {
  Sandbox box("refusals");
  const std::map<std::string, std::string> expected = {
      {"no-entry", "missing entry symbol wb_get_plugin_entry"},
      {"abi-major", "(other major version)"},
      {"abi-minor", "newer than this host's"},
      {"init-fails", "init failed: needs a license file that is not there"},
      {"bad-descriptor", "malformed descriptor #0: id 'Not A Reverse DNS Id'"},
      {"misuse", "called host services wrongly during init (1x), first: log: message is NULL"},
  };
  for (const auto& [id, _] : expected) {
    std::string variant = id;
    std::replace(variant.begin(), variant.end(), '-', '_');
    box.add(variant);
  }
  box.add("good");
  {
    PluginHost h(box.paths(), box.log);
    h.scan();
    for (const auto& [id, _] : expected) REQUIRE(h.enable("org.wbtest." + id));
    REQUIRE(h.enable("org.wbtest.good"));
  }
  PluginHost h(box.paths(), box.log);
  h.scan();
  h.load_enabled();
  for (const auto& [id, why] : expected) {
    const auto& r = record(h, "org.wbtest." + id);
    INFO(r.id << ": " << r.reason);
    CHECK(r.state == PluginState::refused);
    CHECK(r.reason.find(why) != std::string::npos);
    CHECK(box.logged("plugin org.wbtest." + id));
  }
  CHECK(record(h, "org.wbtest.good").state == PluginState::loaded);
  CHECK(record(h, kTextStats).state == PluginState::loaded);
  // The host still works after six refusals.
  CHECK(run_ok(h, kTextStats, {"--text", "one two three"}).find("words 3\n") != std::string::npos);
  CHECK(key_values(run_ok(h, "org.wbtest.good", {}))["ui_ok"] == "0");
  // Asking a refused plugin to run is an error, not a crash.
  auto rc = h.run_headless("org.wbtest.init-fails", {}, [](bool, std::string_view) {});
  REQUIRE_FALSE(rc);
  CHECK(rc.error().message.find("refused") != std::string::npos);
}

TEST_CASE("a plugin found for the first time runs no code until enabled", "[plugin][consent]") {
  Sandbox box("consent");
  box.add("ctor_mark");
  auto mark = box.root / "constructor-ran";
  ::setenv("WB_TEST_PLUGIN_MARK", mark.c_str(), 1);
  {
    PluginHost h(box.paths(), box.log);
    h.scan();
    h.load_enabled();
    const auto& r = record(h, "org.wbtest.ctor-mark");
    CHECK(r.state == PluginState::not_enabled);
    CHECK(r.reason.find("wb plugins enable org.wbtest.ctor-mark") != std::string::npos);
    CHECK(r.description == "host test plugin: ctor_mark");  // listed from its manifest
    auto st = h.load("org.wbtest.ctor-mark");
    CHECK_FALSE(st);
    auto rc = h.run_headless("org.wbtest.ctor-mark", {}, [](bool, std::string_view) {});
    CHECK_FALSE(rc);
    CHECK_FALSE(fs::exists(mark));  // dlopen would have run the constructor
    REQUIRE(h.enable("org.wbtest.ctor-mark"));
    CHECK_FALSE(fs::exists(mark));  // enabling records consent, it does not load
    h.load_enabled();
    CHECK(record(h, "org.wbtest.ctor-mark").state == PluginState::loaded);
  }
  CHECK(fs::exists(mark));
  // The consent file names the library and its SHA-256.
  std::ifstream f(box.config / "rwkv-workbench" / "plugins.json");
  std::string settings((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(settings.find("wbtest_ctor_mark.so") != std::string::npos);
  CHECK(settings.find("\"sha256\"") != std::string::npos);
  ::unsetenv("WB_TEST_PLUGIN_MARK");
}

TEST_CASE("a library that changed after it was enabled needs enabling again", "[plugin][consent]") {
  Sandbox box("hash");
  auto lib = box.add("good");
  {
    PluginHost h(box.paths(), box.log);
    h.scan();
    REQUIRE(h.enable("wbtest_good.so"));  // by file name this time
    CHECK(record(h, "org.wbtest.good").state == PluginState::enabled);
  }
  {
    std::ofstream f(lib, std::ios::binary | std::ios::app);  // still a loadable ELF file
    f << "appended by the test";
  }
  PluginHost h(box.paths(), box.log);
  h.scan();
  h.load_enabled();
  const auto& r = record(h, "org.wbtest.good");
  CHECK(r.state == PluginState::not_enabled);
  CHECK(r.reason.find("changed since it was enabled") != std::string::npos);
  REQUIRE_FALSE(h.load("org.wbtest.good"));
  REQUIRE(h.enable("org.wbtest.good"));
  h.load_enabled();
  CHECK(record(h, "org.wbtest.good").state == PluginState::loaded);
  CHECK(key_values(run_ok(h, "org.wbtest.good", {}))["log_ok"] == "0");
}

TEST_CASE("host services called wrongly return errors, are logged, and the host keeps working", "[plugin]") {
  Sandbox box("misuse");
  box.add("good");
  PluginHost h(box.paths(), box.log);
  h.scan();
  REQUIRE(h.enable("org.wbtest.good"));
  h.load_enabled();
  auto kv = key_values(run_ok(h, "org.wbtest.good", {}));
  const std::map<std::string, std::string> want = {
      {"has_log", "1"}, {"has_presets", "1"}, {"has_ui", "1"},
      {"ext_null_id", "0"}, {"ext_unknown", "0"}, {"ext_null_host", "0"},
      {"log_null_host", "-1"}, {"log_fake_host", "-1"}, {"log_null_message", "-1"}, {"log_bad_level", "-1"},
      {"preset_escape", "-1"}, {"preset_slash", "-1"}, {"preset_null_len", "-1"},
      {"preset_missing", "-2"}, {"preset_small", "-3"}, {"preset_list_null_fn", "-1"},
      {"ui_null_panel", "-1"}, {"ui_unknown_widget", "-2"}, {"ui_bad_kind", "-1"}, {"ui_too_many", "-1"},
      {"ui_ok", "0"}, {"ui_set_text_ok", "0"}, {"log_ok", "0"}, {"preset_ok", "0"}, {"preset_list_ok", "0"},
      {"output_null_data", "-1"}, {"preset_write_ok", "0"}, {"preset_write_escape", "-1"},
      {"preset_names", "read-aloud.txt,silent-reading.txt,"},
  };
  for (const auto& [k, v] : want) {
    INFO(k);
    CHECK(kv[k] == v);
  }
  auto preset = fs::path(WB_REPO_DIR) / "presets" / "text-stats" / "read-aloud.txt";
  CHECK(kv["preset_len"] == std::to_string(fs::file_size(preset)));
  // Misuse is attributed even when the host pointer is NULL (the host knows whom it called).
  CHECK(box.logged("plugin org.wbtest.good: host service misuse: log: host is NULL"));
  CHECK(box.logged("plugin org.wbtest.good: host service misuse: presets.read: category '..'"));
  CHECK(box.logged("plugin org.wbtest.good: host service misuse: ui.set_panel: panel 'p' widget #0: unknown kind 99"));
  CHECK(box.logged("[org.wbtest.good] still alive"));
  // The preset the test plugin saved is the user's, and other plugins read it.
  CHECK(fs::exists(box.data / "rwkv-workbench" / "presets" / "text-stats" / "mine.txt"));
  CHECK(run_ok(h, "org.rwkv.workbench.text-stats", {"--json", "--preset", "mine", "--text", "a b"})
            .find("\"words_per_minute\": 300,") != std::string::npos);
  // The valid panel the plugin published survived the invalid ones.
  auto panels = h.ui().panels("org.wbtest.good");
  REQUIRE(panels.size() == 1);
  CHECK(panels[0]->widgets.at(0).text == "still alive");
}

TEST_CASE("manifest problems are reported without loading anything", "[plugin]") {
  Sandbox box("manifests");
  auto lib = box.add("good");
  {
    std::ofstream(box.user_plugins / "broken.wbplugin.json") << "{ this is not json";
    std::ofstream(box.user_plugins / "missing.wbplugin.json")
        << R"({"id":"org.wbtest.missing","version":"1.0.0","abi_version":"0.1.0","library":"nothere.so"})";
    std::ofstream(box.user_plugins / "future.wbplugin.json")
        << R"({"id":"org.wbtest.future","version":"1.0.0","abi_version":"7.0.0","library":"wbtest_good.so"})";
  }
  PluginHost h(box.paths(), box.log);
  h.scan();
  REQUIRE(h.enable("org.wbtest.future"));
  h.load_enabled();
  bool saw_broken = false;
  for (const auto& r : h.plugins())
    if (r.file_name == "broken.wbplugin.json") {
      saw_broken = true;
      CHECK(r.state == PluginState::refused);
      CHECK(r.reason.find("not valid JSON") != std::string::npos);
    }
  CHECK(saw_broken);
  CHECK(record(h, "org.wbtest.missing").state == PluginState::refused);
  CHECK(record(h, "org.wbtest.missing").reason.find("nothere.so named by the manifest is missing") != std::string::npos);
  const auto& fut = record(h, "org.wbtest.future");
  CHECK(fut.state == PluginState::refused);
  CHECK(fut.reason.find("manifest: built for plugin ABI 7.0.0") != std::string::npos);
  CHECK(record(h, kTextStats).state == PluginState::loaded);
}

TEST_CASE("a corrupt settings file trusts nothing", "[plugin][consent]") {
  Sandbox box("bad-settings");
  box.add("good");
  {
    PluginHost h(box.paths(), box.log);
    h.scan();
    REQUIRE(h.enable("org.wbtest.good"));
  }
  std::ofstream(box.config / "rwkv-workbench" / "plugins.json", std::ios::trunc) << "[1, 2";
  PluginHost h(box.paths(), box.log);
  h.scan();
  CHECK(record(h, "org.wbtest.good").state == PluginState::not_enabled);
  CHECK(record(h, kTextStats).state == PluginState::enabled);  // shipped: on by default
  CHECK(box.logged("plugin settings are not a JSON object"));
}

TEST_CASE("shipped plugins are on by default and can be disabled", "[plugin][consent]") {
  Sandbox box("shipped");
  {
    PluginHost h(box.paths(), box.log);
    h.scan();
    CHECK(record(h, kTextStats).shipped);
    CHECK(record(h, kTextStats).state == PluginState::enabled);
    h.load_enabled();
    CHECK(record(h, kTextStats).state == PluginState::loaded);
    REQUIRE(h.disable(kTextStats));
    CHECK(record(h, kTextStats).state == PluginState::not_enabled);
    CHECK(h.ui().panels(kTextStats).empty());  // unloaded with its panels
  }
  PluginHost h(box.paths(), box.log);
  h.scan();
  CHECK(record(h, kTextStats).reason == "disabled by the user");
  REQUIRE(h.enable("text_stats.so"));
  CHECK(record(h, kTextStats).state == PluginState::enabled);
  CHECK_FALSE(h.enable("org.nobody.nothing"));
}

TEST_CASE("text statistics publishes a panel and answers UI events", "[plugin][ui]") {
  Sandbox box("ui");
  PluginHost h(box.paths(), box.log);
  h.scan();
  REQUIRE(h.load(kTextStats));
  auto panels = h.ui().panels(kTextStats);
  REQUIRE(panels.size() == 1);
  const host::UiPanel& p = *panels[0];
  CHECK(p.title == "Text statistics");
  REQUIRE(p.widgets.size() == 5);
  CHECK(p.widgets[1].kind == WB_UI_SLIDER);
  CHECK(p.widgets[4].kind == WB_UI_CANVAS);
  std::string text = "One two three. Four five!";
  REQUIRE(h.ui_change(kTextStats, "main", "input", &text, nullptr));
  const auto* result = p.find("result");
  REQUIRE(result);
  CHECK(result->text.find("words 5\n") != std::string::npos);
  CHECK(result->text.find("sentences 2\n") != std::string::npos);
  // Histogram: two words of 3 letters, two of 4, one of 5; the tallest bar is 100 units.
  const auto* canvas = p.find("histogram");
  REQUIRE(canvas);
  REQUIRE(canvas->draw.size() >= 15);
  auto height = [&](int bin) { return canvas->draw[bin].y1 - canvas->draw[bin].y0; };
  CHECK(height(0) == Approx(0));
  CHECK(height(2) == Approx(100));
  CHECK(height(3) == Approx(100));
  CHECK(height(4) == Approx(50));
  // The slider changes the reading speed used in the label.
  double wpm = 100;
  REQUIRE(h.ui_change(kTextStats, "main", "wpm", nullptr, &wpm));
  CHECK(result->text.find("at 100 words/min") != std::string::npos);
  CHECK_FALSE(h.ui_press(kTextStats, "main", "input"));  // not a button
  CHECK(h.ui_press(kTextStats, "main", "count"));
  CHECK_FALSE(h.ui_change(kTextStats, "main", "nope", &text, nullptr));
  // ABI 0.2 canvas input: the histogram asks for the host's pan/zoom but not
  // for wheel events, so a wheel turn reaches no plugin code (and succeeds);
  // drags and wheels on widgets that are not canvases are refused.
  CHECK(static_cast<int>(canvas->value) == WB_UI_CANVAS_HOST_VIEW);
  CHECK(h.ui_canvas_wheel(kTextStats, "main", "histogram", 10, 10, 1, 0, WB_UI_MOD_CTRL));
  CHECK(h.ui_canvas_drag(kTextStats, "main", "histogram", 20, 20, 10, 10, 0));
  CHECK_FALSE(h.ui_canvas_wheel(kTextStats, "main", "input", 10, 10, 1, 0, 0));
  CHECK_FALSE(h.ui_canvas_drag(kTextStats, "main", "count", 1, 1, 0, 0, 0));
  CHECK(result->text.find("at 100 words/min") != std::string::npos);  // the panel is as it was
}

TEST_CASE("text statistics counts files and reads reading-speed presets", "[plugin]") {
  Sandbox box("text-stats");
  auto file = box.root / "story.txt";
  std::ofstream(file) << "The night was dark... Who was there? Nobody answered.\n\nShe slept.\n";
  PluginHost h(box.paths(), box.log);
  h.scan();
  std::string out = run_ok(h, kTextStats, {"--json", "--preset", "read-aloud", file.string()});
  CHECK(out.find("\"words\": 11,") != std::string::npos);
  CHECK(out.find("\"sentences\": 4,") != std::string::npos);
  CHECK(out.find("\"paragraphs\": 2,") != std::string::npos);
  CHECK(out.find("\"words_per_minute\": 150,") != std::string::npos);
  std::string err;
  auto rc = h.run_headless(kTextStats, {"--preset", "../secret", file.string()},
                           [&](bool e, std::string_view b) { if (e) err.append(b); });
  REQUIRE(rc);
  CHECK(*rc == 1);
  CHECK(err.find("not a single name") != std::string::npos);
}
