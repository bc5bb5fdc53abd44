// `wb plugins` and `wb plugin run` end to end, in a private XDG world.
#include <cstdlib>
#include <sstream>

#include "sandbox.hpp"

using namespace wb::test;

namespace {

// Points the per-user folders of the `wb` processes this test starts at the sandbox.
struct XdgEnv {
  explicit XdgEnv(const Sandbox& box) {
    ::setenv("XDG_DATA_HOME", box.data.c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", box.config.c_str(), 1);
  }
  ~XdgEnv() {
    ::unsetenv("XDG_DATA_HOME");
    ::unsetenv("XDG_CONFIG_HOME");
  }
};

// The list line of `file`, split at tabs; empty when absent.
std::vector<std::string> list_line(const std::string& out, const std::string& file) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(file + "\t", 0) != 0) continue;
    std::vector<std::string> fields;
    std::size_t start = 0, tab;
    while ((tab = line.find('\t', start)) != std::string::npos) {
      fields.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    fields.push_back(line.substr(start));
    return fields;
  }
  return {};
}

}  // namespace

TEST_CASE("wb plugins list, enable, disable and plugin run", "[plugin][cli]") {
  Sandbox box("cli");
  box.add("good");
  box.add("no_entry");
  XdgEnv env(box);

  auto r = run_wb("plugins list --paths");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("folder user " + box.user_plugins.string() + "\n") != std::string::npos);
  CHECK(r.out.find("settings " + (box.config / "rwkv-workbench" / "plugins.json").string()) != std::string::npos);
  auto stats = list_line(r.out, "text_stats.so");
  REQUIRE(stats.size() == 4);
  CHECK(stats[1] == "org.rwkv.workbench.text-stats");
  CHECK(stats[2] == "loaded");
  CHECK(stats[3] == "-");
  auto good = list_line(r.out, "wbtest_good.so");
  REQUIRE(good.size() == 4);
  CHECK(good[2] == "not enabled");

  r = run_wb("plugin run org.wbtest.good");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("not enabled") != std::string::npos);

  REQUIRE(run_wb("plugins enable org.wbtest.good").exit_code == 0);
  REQUIRE(run_wb("plugins enable wbtest_no_entry.so").exit_code == 0);
  r = run_wb("plugins list");
  CHECK(list_line(r.out, "wbtest_good.so").at(2) == "loaded");
  auto bad = list_line(r.out, "wbtest_no_entry.so");
  REQUIRE(bad.size() == 4);
  CHECK(bad[2] == "refused");
  CHECK(bad[3].find("missing entry symbol") != std::string::npos);
  r = run_wb("plugins list --no-load");
  CHECK(list_line(r.out, "wbtest_no_entry.so").at(2) == "enabled");

  r = run_wb("plugin run org.wbtest.good");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("ui_ok=0\n") != std::string::npos);
  r = run_wb("plugin run org.rwkv.workbench.text-stats --text 'Ready, steady. Go!'");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("words 3\n") != std::string::npos);
  CHECK(r.out.find("sentences 2\n") != std::string::npos);
  r = run_wb("plugin run org.rwkv.workbench.text-stats --bogus");
  CHECK(r.exit_code == 2);
  r = run_wb("plugin run org.wbtest.no-entry");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("missing entry symbol") != std::string::npos);
  r = run_wb("plugin run org.nobody.nothing");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("no plugin with id") != std::string::npos);

  REQUIRE(run_wb("plugins disable org.wbtest.good").exit_code == 0);
  CHECK(list_line(run_wb("plugins list").out, "wbtest_good.so").at(2) == "not enabled");
  CHECK(run_wb("plugins enable org.nobody.nothing").exit_code == 1);
  CHECK(run_wb("plugins frobnicate").exit_code == 1);
  CHECK(run_wb("plugin").exit_code == 1);
}
