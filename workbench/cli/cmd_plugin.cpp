// wb plugin run ID [ARGS...]: drives a plugin headless through its
// "wb.headless/1" entry. Every word after the id goes to the plugin as is;
// what it writes goes to stdout/stderr and its return value is the exit code.
// The plugin must be enabled (`wb plugins enable ID`).
#include <cstdio>

#include "cli/verbs.hpp"
#include "host/plugin_host.hpp"

namespace wb::cli {

int cmd_plugin(Args& args) {
  auto words = args.positionals();  // raw: the plugin parses its own options
  if (words.size() < 2 || words[0] != "run")
    return fail(make_error(Errc::invalid_argument, "usage: wb plugin run ID [ARGS...]"));
  std::string id = words[1];
  std::vector<std::string> plugin_args(words.begin() + 2, words.end());

  Log log;
  log.set_level(LogLevel::warn);
  log.set_sink([](LogLevel l, std::string_view m) {
    std::fprintf(stderr, "wb: %s: %.*s\n", log_level_name(l), static_cast<int>(m.size()), m.data());
  });
  host::PluginHost host(host::PluginPaths::defaults(), log);
  host.scan();
  auto rc = host.run_headless(id, plugin_args, [](bool is_error, std::string_view bytes) {
    std::fwrite(bytes.data(), 1, bytes.size(), is_error ? stderr : stdout);
  });
  std::fflush(stdout);
  if (!rc) return fail(rc.error());
  return *rc < 0 ? 1 : (*rc > 255 ? 1 : *rc);
}

}  // namespace wb::cli
