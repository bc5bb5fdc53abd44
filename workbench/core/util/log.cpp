#include "core/util/log.hpp"

namespace wb {

const char* log_level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "?";
}

void Log::set_sink(Sink sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
}

void Log::write(LogLevel l, std::string_view msg) {
  if (l < level_) return;
  std::lock_guard lock(mu_);
  if (sink_) sink_(l, msg);
}

}  // namespace wb
