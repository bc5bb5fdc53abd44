// wb plugins list [--paths] [--no-load] [--verbose] | enable FILE-OR-ID | disable FILE-OR-ID
//
// `list` prints one line per plugin, tab-separated:
//   FILE  ID  STATE  REASON
// STATE is "loaded", "enabled" (with --no-load), "not enabled" or "refused";
// REASON is "-" when there is nothing to say. Listing loads the enabled
// plugins (that is when refusals show); --no-load runs no plugin code at all.
// --paths first prints the searched folders as "folder KIND PATH [(missing)]"
// and "settings PATH".
#include <cstdio>
#include <filesystem>

#include "cli/verbs.hpp"
#include "host/plugin_host.hpp"

namespace wb::cli {
namespace {

void print_folder(const char* kind, const std::filesystem::path& p) {
  std::error_code ec;
  bool there = !p.empty() && std::filesystem::is_directory(p, ec);
  std::printf("folder %s %s%s\n", kind, p.empty() ? "(none)" : p.c_str(), there ? "" : " (missing)");
}

}  // namespace

int cmd_plugins(Args& args) {
  bool paths = args.flag("--paths");
  bool no_load = args.flag("--no-load");
  bool verbose = args.flag("--verbose");
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  auto words = args.positionals();
  std::string action = words.empty() ? "list" : words[0];

  Log log;
  log.set_level(verbose ? LogLevel::debug : LogLevel::error);
  log.set_sink([](LogLevel l, std::string_view m) {
    std::fprintf(stderr, "wb: %s: %.*s\n", log_level_name(l), static_cast<int>(m.size()), m.data());
  });
  host::PluginHost host(host::PluginPaths::defaults(), log);

  if (action == "list") {
    if (words.size() > 1) return fail(make_error(Errc::invalid_argument, "plugins list takes no arguments"));
    if (paths) {
      const auto& p = host.paths();
      print_folder("build", p.build_dir);
      print_folder("system", p.system_dir);
      print_folder("user", p.user_dir);
      std::printf("settings %s\n", p.settings_file.empty() ? "(none)" : p.settings_file.c_str());
    }
    host.scan();
    if (!no_load) host.load_enabled();
    for (const auto& r : host.plugins())
      std::printf("%s\t%s\t%s\t%s\n", r.file_name.c_str(), r.id.c_str(), host::state_name(r.state),
                  r.reason.empty() ? "-" : r.reason.c_str());
    std::fflush(stdout);
    return 0;
  }
  if (action == "enable" || action == "disable") {
    if (words.size() != 2)
      return fail(make_error(Errc::invalid_argument, "usage: wb plugins {} FILE-OR-ID", action));
    auto st = action == "enable" ? host.enable(words[1]) : host.disable(words[1]);
    if (!st) return fail(st.error());
    if (const auto* r = [&]() -> const host::PluginRecord* {
          for (const auto& p : host.plugins())
            if (p.id == words[1] || p.file_name == words[1]) return &p;
          return nullptr;
        }())
      std::printf("%s\t%s\t%s\n", r->file_name.c_str(), r->id.c_str(), host::state_name(r->state));
    return 0;
  }
  return fail(make_error(Errc::invalid_argument, "unknown action '{}' (list, enable, disable)", action));
}

}  // namespace wb::cli
