#include "core/util/data_dirs.hpp"

#include <cstdlib>

#ifndef WB_INSTALL_DATA_DIR
#define WB_INSTALL_DATA_DIR "/usr/local/share/rwkv-workbench"
#endif

namespace wb {

std::vector<std::filesystem::path> shared_data_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("WB_DATA_DIR"); env && *env) dirs.emplace_back(env);
  // The source tree holds presets/ and assets/models/; the install puts both
  // under one folder, so the source tree's assets/ is listed as well.
  dirs.emplace_back(WB_SOURCE_DIR);
  dirs.emplace_back(std::filesystem::path(WB_SOURCE_DIR) / "assets");
  dirs.emplace_back(WB_INSTALL_DATA_DIR);
  return dirs;
}

std::optional<std::filesystem::path> find_shared_data(std::string_view relative) {
  for (const auto& dir : shared_data_dirs()) {
    std::error_code ec;
    auto p = dir / std::filesystem::path(relative);
    if (std::filesystem::exists(p, ec)) return p;
  }
  return std::nullopt;
}

}  // namespace wb
