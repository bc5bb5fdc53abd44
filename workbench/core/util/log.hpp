// One logging sink with levels. Libraries never print: they log to a Log that
// the application owns (the GUI shows it in its log view, the CLI prints it to
// stderr, tests capture it, plugins reach it through a host service).
//
//   wb::Log log;                                  // discards below `info`
//   log.set_sink([](wb::LogLevel l, std::string_view m) { ... });
//   log.info("loaded {} ({} MB)", path, mb);
#pragma once
#include <fmt/format.h>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace wb {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
const char* log_level_name(LogLevel l);

class Log {
 public:
  using Sink = std::function<void(LogLevel, std::string_view)>;

  void set_sink(Sink sink);
  void set_level(LogLevel l) { level_ = l; }
  LogLevel level() const { return level_; }

  // Thread-safe: the sink is called under a lock, one message at a time.
  void write(LogLevel l, std::string_view msg);

  template <class... A> void debug(fmt::format_string<A...> f, A&&... a) { emit(LogLevel::debug, f, std::forward<A>(a)...); }
  template <class... A> void info(fmt::format_string<A...> f, A&&... a) { emit(LogLevel::info, f, std::forward<A>(a)...); }
  template <class... A> void warn(fmt::format_string<A...> f, A&&... a) { emit(LogLevel::warn, f, std::forward<A>(a)...); }
  template <class... A> void error(fmt::format_string<A...> f, A&&... a) { emit(LogLevel::error, f, std::forward<A>(a)...); }

 private:
  template <class... A> void emit(LogLevel l, fmt::format_string<A...> f, A&&... a) {
    if (l < level_) return;
    write(l, fmt::format(f, std::forward<A>(a)...));
  }
  std::mutex mu_;
  Sink sink_;
  LogLevel level_ = LogLevel::info;
};

}  // namespace wb
