#include "core/model/default_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/util/data_dirs.hpp"

namespace wb {

std::optional<DefaultModel> find_default_model() {
  namespace fs = std::filesystem;
  std::vector<fs::path> bases;
  if (const char* env = std::getenv("WB_ASSETS_DIR"); env && *env) bases.push_back(fs::path(env) / "models");
  for (const fs::path& dir : shared_data_dirs()) bases.push_back(dir / "models");
  for (const fs::path& base : bases) {
    std::error_code ec;
    if (fs::exists(base / "prose-rwkv7.pth", ec) && fs::exists(base / "prose.model", ec))
      return DefaultModel{(base / "prose-rwkv7.pth").string(), (base / "prose.model").string()};
  }
  return std::nullopt;
}

}  // namespace wb
